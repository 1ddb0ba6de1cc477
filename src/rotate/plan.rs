//! What `rotate` does with one token, decided from its verdict alone (pure, no request), and
//! the claims of the token that replaces it.
//!
//! A token is re-issued when a node rejects it or soon will: expiring, expired, not yet valid
//! (its `iat` ahead of the clock), signed with a key or issuer that is no longer current — and
//! any token with `--all`. Its claims are carried over, so they must be trusted:
//! - a signature that verifies with the current key vouches for them;
//! - a **stale-key** token's signature cannot be checked (the old key is gone); the Secret's
//!   record says the plugin signed it with an earlier key, so it is re-signed on that record —
//!   but never when its claims grant administrator powers, which whoever can write a tenant's
//!   Secret could have put there;
//! - a **bad-signature** token has no such record: in a Secret the plugin manages it was
//!   changed by someone else (or by a key change the plugin cannot see), and a person decides.
//!   A hand-made Secret's token is re-signed only with `--adopt`, the user's word that its
//!   claims are theirs (keeping its `sub`, the tenant's identity), with the same admin guard;
//! - a **malformed** token has no claims to carry over.
//!
//! A hand-made Secret (no managed-by label) is never written without `--adopt`.

use std::time::Duration;

use serde_json::{Map, Value};

use crate::claims::{ADMIN_GROUP, ADMIN_ROLE};
use crate::token_health::{TokenReport, Verdict};

/// What to do with one token Secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Nothing to do: the token is accepted and not within the window (or `--all` not given).
    Unchanged,
    /// It should be re-issued, but the Secret is hand-made and `--adopt` was not given.
    SkipUnmanaged,
    /// Re-issue it. `verified`: the signature vouches for the claims (else see the module doc).
    Reissue { verified: bool, issuer_changed: bool },
    /// It cannot be re-issued safely; a person must look.
    Refuse(Refusal),
}

/// Why a token is not re-issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    Malformed { reason: String },
    BadSignature { reason: String },
    UnverifiedAdmin { reason: String },
}

/// The user's choices that bear on the decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Policy {
    /// `--all`: re-issue accepted tokens too.
    pub all: bool,
    /// `--adopt`: take hand-made Secrets over.
    pub adopt: bool,
}

/// Decides for a token judged against the trusted issuer (`report`) and, when that says
/// wrong-issuer, judged again with no issuer check (`signature`), which tells whether its
/// signature and times hold. `managed`: the Secret carries the managed-by label.
pub fn decide(report: &TokenReport, signature: Option<&TokenReport>, managed: bool, policy: Policy) -> Decision {
    let issuer_changed = report.verdict == Verdict::WrongIssuer;
    let judged = match (issuer_changed, signature) {
        (true, Some(signature)) => signature,
        _ => report,
    };
    let decision = match judged.verdict {
        Verdict::Valid if !policy.all && !issuer_changed => Decision::Unchanged,
        Verdict::Valid | Verdict::Expiring | Verdict::Expired | Verdict::NotYetValid => {
            Decision::Reissue { verified: true, issuer_changed }
        }
        Verdict::StaleKey => Decision::Reissue { verified: false, issuer_changed },
        Verdict::BadSignature if !managed => Decision::Reissue { verified: false, issuer_changed },
        Verdict::BadSignature => Decision::Refuse(Refusal::BadSignature { reason: judged.reason.clone() }),
        // Only a second opinion without an issuer check could say this; treat it as unknown.
        Verdict::WrongIssuer | Verdict::Malformed => {
            Decision::Refuse(Refusal::Malformed { reason: judged.reason.clone() })
        }
    };
    match decision {
        Decision::Reissue { .. } | Decision::Refuse(_) if !managed && !policy.adopt => Decision::SkipUnmanaged,
        Decision::Reissue { verified: false, .. } if grants_admin(judged) => {
            Decision::Refuse(Refusal::UnverifiedAdmin { reason: judged.reason.clone() })
        }
        decision => decision,
    }
}

fn grants_admin(report: &TokenReport) -> bool {
    let Some(claims) = &report.claims else { return false };
    let has = |list: &Option<Vec<String>>, wanted: &str| list.iter().flatten().any(|v| v == wanted);
    has(&claims.roles, ADMIN_ROLE) || has(&claims.groups, ADMIN_GROUP)
}

/// The lifetime the new token gets: `requested` (`--token-duration`) if given, else the old
/// token's. The plugin backdates `iat` by the clock skew, so a token it wrote spans
/// `lifetime + skew`; the skew is taken off again for Secrets it manages (hand-made tokens from
/// pxctl are not backdated). Without a usable `iat`/`exp`, `fallback`.
pub fn lifetime(
    requested: Option<Duration>,
    report: &TokenReport,
    managed: bool,
    clock_skew: Duration,
    fallback: Duration,
) -> Duration {
    if let Some(requested) = requested {
        return requested;
    }
    let (Some(iat), Some(exp)) = (report.issued_at, report.expires_at) else { return fallback };
    let span = exp.saturating_sub(iat);
    let skew = i64::try_from(clock_skew.as_secs()).unwrap_or(i64::MAX);
    let span = if managed && span > skew { span - skew } else { span };
    u64::try_from(span).ok().filter(|s| *s > 0).map(Duration::from_secs).unwrap_or(fallback)
}

/// Why a stored token's payload cannot be carried over.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the token's payload cannot be read as a JSON object")]
pub struct UnreadablePayload;

/// The payload of `token` as a JSON object, every claim as it was.
pub fn payload(token: &str) -> Result<Map<String, Value>, UnreadablePayload> {
    use base64::Engine as _;
    let segment = token.split('.').nth(1).ok_or(UnreadablePayload)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(segment.trim_end_matches('='))
        .map_err(|_| UnreadablePayload)?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(UnreadablePayload),
    }
}

/// The new token's claims: every claim of `old` kept as it was (unknown ones too), but `iat`
/// backdated by `clock_skew` from `now`, `exp` = `now + lifetime`, and `iss` the trusted one.
pub fn reissued_claims(
    mut old: Map<String, Value>,
    issuer: &str,
    now: i64,
    lifetime: Duration,
    clock_skew: Duration,
) -> Map<String, Value> {
    let validity = crate::claims::Validity::starting_at(now, lifetime, clock_skew);
    old.insert("iss".into(), Value::from(issuer));
    old.insert("iat".into(), Value::from(validity.issued_at));
    old.insert("exp".into(), Value::from(validity.expires_at));
    old
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token_health::ReportClaims;

    fn report(verdict: Verdict) -> TokenReport {
        TokenReport {
            verdict,
            reason: format!("because {verdict}"),
            algorithm: Some("HS256".into()),
            claims: Some(ReportClaims {
                iss: "px.io".into(),
                sub: "u-1".into(),
                name: "team-a".into(),
                email: "a@px.io".into(),
                roles: Some(vec!["system.user".into()]),
                groups: None,
            }),
            issued_at: Some(1_000 - 600),
            expires_at: Some(1_000 + 86_400),
            not_before: None,
            checked_at: 2_000,
            signature_checked: true,
            issuer_checked: true,
        }
    }

    fn admin(mut report: TokenReport) -> TokenReport {
        report.claims.as_mut().unwrap().groups = Some(vec!["*".into()]);
        report
    }

    const MANAGED: bool = true;
    const HAND_MADE: bool = false;
    const NONE: Policy = Policy { all: false, adopt: false };
    const ALL: Policy = Policy { all: true, adopt: false };
    const ADOPT: Policy = Policy { all: false, adopt: true };

    fn reissue(verified: bool) -> Decision {
        Decision::Reissue { verified, issuer_changed: false }
    }

    #[test]
    fn tokens_a_node_rejects_or_soon_will_are_reissued_and_valid_ones_only_with_all() {
        use Verdict::*;
        for verdict in [Expiring, Expired, NotYetValid] {
            assert_eq!(decide(&report(verdict), None, MANAGED, NONE), reissue(true), "{verdict}");
        }
        assert_eq!(decide(&report(Valid), None, MANAGED, NONE), Decision::Unchanged);
        assert_eq!(decide(&report(Valid), None, MANAGED, ALL), reissue(true));
        assert_eq!(decide(&report(StaleKey), None, MANAGED, NONE), reissue(false));
    }

    #[test]
    fn a_changed_issuer_is_reissued_on_the_strength_of_the_signature_underneath() {
        let wrong = report(Verdict::WrongIssuer);
        let changed = |verified| Decision::Reissue { verified, issuer_changed: true };
        assert_eq!(decide(&wrong, Some(&report(Verdict::Valid)), MANAGED, NONE), changed(true));
        assert_eq!(decide(&wrong, Some(&report(Verdict::Expired)), MANAGED, NONE), changed(true));
        assert_eq!(decide(&wrong, Some(&report(Verdict::StaleKey)), MANAGED, NONE), changed(false));
        assert!(matches!(
            decide(&wrong, Some(&report(Verdict::BadSignature)), MANAGED, NONE),
            Decision::Refuse(Refusal::BadSignature { .. })
        ));
    }

    #[test]
    fn claims_nobody_vouches_for_are_refused() {
        let refused = decide(&report(Verdict::BadSignature), None, MANAGED, ADOPT);
        assert_eq!(refused, Decision::Refuse(Refusal::BadSignature { reason: "because bad-signature".into() }));
        assert!(matches!(
            decide(&report(Verdict::Malformed), None, MANAGED, NONE),
            Decision::Refuse(Refusal::Malformed { .. })
        ));
        // Admin powers are never minted from claims the signature does not vouch for...
        assert!(matches!(
            decide(&admin(report(Verdict::StaleKey)), None, MANAGED, NONE),
            Decision::Refuse(Refusal::UnverifiedAdmin { .. })
        ));
        assert!(matches!(
            decide(&admin(report(Verdict::BadSignature)), None, HAND_MADE, ADOPT),
            Decision::Refuse(Refusal::UnverifiedAdmin { .. })
        ));
        // ...but a verified admin token is renewed as it is.
        assert_eq!(decide(&admin(report(Verdict::Expiring)), None, MANAGED, NONE), reissue(true));
    }

    #[test]
    fn hand_made_secrets_are_written_only_with_adopt() {
        use Verdict::*;
        for verdict in [Expiring, Expired, StaleKey, BadSignature, Malformed] {
            assert_eq!(decide(&report(verdict), None, HAND_MADE, NONE), Decision::SkipUnmanaged, "{verdict}");
        }
        assert_eq!(decide(&report(Valid), None, HAND_MADE, NONE), Decision::Unchanged);
        assert_eq!(decide(&report(Valid), None, HAND_MADE, ALL), Decision::SkipUnmanaged);
        assert_eq!(decide(&report(Expired), None, HAND_MADE, ADOPT), reissue(true));
        // The documented workflow's token after the shared secret changed: the user vouches.
        assert_eq!(decide(&report(BadSignature), None, HAND_MADE, ADOPT), reissue(false));
        assert!(matches!(decide(&report(Malformed), None, HAND_MADE, ADOPT), Decision::Refuse(_)));
    }

    #[test]
    fn the_old_lifetime_is_kept_without_the_skew_the_plugin_added() {
        let year = Duration::from_secs(365 * 86_400);
        let skew = Duration::from_secs(600);
        let mut token = report(Verdict::Expiring);
        token.issued_at = Some(1_000_000 - 600);
        token.expires_at = Some(1_000_000 + 86_400);
        let day = Duration::from_secs(86_400);
        assert_eq!(lifetime(None, &token, MANAGED, skew, year), day);
        assert_eq!(lifetime(None, &token, HAND_MADE, skew, year), day + skew, "pxctl does not backdate");
        assert_eq!(lifetime(Some(Duration::from_secs(5)), &token, MANAGED, skew, year), Duration::from_secs(5));
        token.expires_at = None;
        assert_eq!(lifetime(None, &token, MANAGED, skew, year), year);
        token.expires_at = Some(1_000_000 - 600);
        assert_eq!(lifetime(None, &token, MANAGED, skew, year), year, "a zero span is no lifetime");
        token.expires_at = Some(1_000_000 - 300);
        assert_eq!(lifetime(None, &token, MANAGED, skew, year), Duration::from_secs(300), "shorter than the skew");
    }

    #[test]
    fn every_claim_but_iss_iat_exp_is_carried_over_exactly() {
        use base64::Engine as _;
        let old = serde_json::json!({"iss": "old.io", "sub": "u-1", "name": "Team A", "email": "a@x",
            "roles": ["system.user", "custom"], "groups": ["g"], "iat": 1, "exp": 2, "nbf": 1, "extra": {"k": [1]}});
        let token = format!("e30.{}.sig", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(old.to_string()));
        let new = reissued_claims(
            payload(&token).unwrap(),
            "new.io",
            10_000,
            Duration::from_secs(100),
            Duration::from_secs(60),
        );
        let mut expected = old.as_object().unwrap().clone();
        expected.insert("iss".into(), "new.io".into());
        expected.insert("iat".into(), 9_940.into());
        expected.insert("exp".into(), 10_100.into());
        assert_eq!(new, expected);
        assert_eq!(payload("a.!!.c"), Err(UnreadablePayload));
        assert_eq!(payload("a.W10.c"), Err(UnreadablePayload), "an array is not a claim set");
    }
}
