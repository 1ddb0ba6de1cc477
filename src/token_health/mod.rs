//! The health of one token: a token plus the current verifying key and trusted issuers in, a
//! [`Verdict`] with its reason out. `inspect`, `list`, `rotate` and `doctor` all judge here, so
//! they never disagree with each other, and the checks run in openstorage's order so that
//! "accepted" here means accepted by a Portworx node (`tests/e2e/verdict_differential.rs` runs
//! openstorage's own verifier on the same tokens).
//!
//! openstorage's order (Portworx's SDK interceptor, then `JwtAuthenticator.AuthenticateToken`):
//! 1. `TokenIssuer`: at least three dot-separated parts, the payload base64url and JSON with
//!    openstorage's claim types, a non-empty `iss` → else **malformed**;
//! 2. `iss` equal, byte for byte, to a trusted issuer → else **wrong-issuer**;
//! 3. exactly three parts, header JSON with a known `alg` → else **malformed**; `alg` of the
//!    HS/RS/ES families only (`none`, `PS256`, `EdDSA` are refused) → else **malformed**;
//! 4. `exp`, `iat`, `nbf` (no leeway at all) and the signature are both checked; a bad
//!    signature wins over a time failure (golang-jwt reports the signature error) →
//!    **bad-signature** or **stale-key**; then `nbf`/`iat` in the future → **not-yet-valid**,
//!    else `exp` passed → **expired** (golang-jwt keeps the last failure of exp, iat, nbf);
//! 5. the required claims `iss, sub, exp, iat, name, email` present (any value) and `sub`
//!    non-empty → else **malformed**.
//!
//! An accepted token is **expiring** when it expires within the window, else **valid**.
//!
//! **stale-key** is a bad signature with evidence that the token was signed with another key:
//! the Secret's `kubectl-pxtoken/key-source` / `key-version` annotations (written when the
//! plugin stored the token) name a key source, or a version of the key Secret, other than the
//! key in use now. The signature check alone cannot tell an old key from a forged or foreign
//! token, so without that record (hand-made Secrets, `inspect` of a bare token) a failing
//! signature stays **bad-signature**. `rotate` re-issues stale-key tokens; bad-signature ones
//! need a person.

mod go_jwt;
mod keys;
mod setup;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

pub use keys::{KeyKind, VerifyKey, VerifyKeyError, VerifyKeys};
pub use setup::{JudgeSetup, JudgeSetupError, judge_setup};

use crate::discovery::KeySource;
use crate::token_secret::{KEY_SOURCE_ANNOTATION, KEY_VERSION_ANNOTATION, rfc3339};
use go_jwt::{ClaimsShape, TimeClaim};
use keys::SignatureCheck;

/// `--expiring-within` default: a month's notice before a token stops working.
pub const DEFAULT_EXPIRING_WITHIN: Duration = Duration::from_secs(30 * 24 * 3600);

/// What openstorage would do with a token, and why it matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Valid,
    Expiring,
    Expired,
    NotYetValid,
    BadSignature,
    WrongIssuer,
    StaleKey,
    Malformed,
}

impl Verdict {
    /// True when a Portworx node accepts the token now.
    pub fn accepted(self) -> bool {
        matches!(self, Verdict::Valid | Verdict::Expiring)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Valid => "valid",
            Verdict::Expiring => "expiring",
            Verdict::Expired => "expired",
            Verdict::NotYetValid => "not-yet-valid",
            Verdict::BadSignature => "bad-signature",
            Verdict::WrongIssuer => "wrong-issuer",
            Verdict::StaleKey => "stale-key",
            Verdict::Malformed => "malformed",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The claims openstorage reads (`auth.Claims`), as far as the token let them be read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReportClaims {
    pub iss: String,
    pub sub: String,
    pub name: String,
    pub email: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<String>>,
}

/// Everything known about a token except the token: it holds no signature and no raw text, so
/// printing, logging or serializing a report cannot leak a credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenReport {
    pub verdict: Verdict,
    /// One sentence for people, naming the check that decided.
    pub reason: String,
    /// The header's `alg`, when the header could be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub algorithm: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claims: Option<ReportClaims>,
    /// Unix seconds, as golang-jwt reads them (fractions floored); `None` when absent, zero or
    /// not a number. Serialized as RFC 3339, as Kubernetes writes times.
    #[serde(serialize_with = "serialize_time")]
    pub issued_at: Option<i64>,
    #[serde(serialize_with = "serialize_time")]
    pub expires_at: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "serialize_time")]
    pub not_before: Option<i64>,
    /// The instant judged at.
    #[serde(serialize_with = "serialize_instant")]
    pub checked_at: i64,
    /// False when no key was available: the verdict then rests on the claims alone.
    pub signature_checked: bool,
    /// False when no trusted issuer was known.
    pub issuer_checked: bool,
}

impl TokenReport {
    /// Seconds left until `exp` (negative once passed); `None` without a usable `exp`.
    pub fn seconds_left(&self) -> Option<i64> {
        self.expires_at.map(|exp| exp.saturating_sub(self.checked_at))
    }
}

/// Which key signs (or signed) tokens: the `key-source` annotation's value and, for a key held
/// in a Kubernetes Secret, that Secret's resourceVersion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyStamp {
    pub source: String,
    pub version: Option<String>,
}

impl KeyStamp {
    /// The stamp of the key in use, as `tenant` records it on the Secrets it writes.
    pub fn of(source: &KeySource) -> KeyStamp {
        KeyStamp { source: source.annotation(), version: source.resource_version().map(str::to_owned) }
    }

    /// The stamp a stored token carries, from its Secret's annotations.
    pub fn from_annotations(annotations: &BTreeMap<String, String>) -> Option<KeyStamp> {
        let source = annotations.get(KEY_SOURCE_ANNOTATION)?.clone();
        Some(KeyStamp { source, version: annotations.get(KEY_VERSION_ANNOTATION).cloned() })
    }

    /// True when this record names a different key than `current`: another source, or another
    /// resourceVersion of the same Secret (unknown versions never count as different).
    fn differs_from(&self, current: &KeyStamp) -> bool {
        self.source != current.source || matches!((&self.version, &current.version), (Some(a), Some(b)) if a != b)
    }

    fn describe(&self) -> String {
        match &self.version {
            Some(version) => format!("{} at resourceVersion {version}", self.source),
            None => self.source.clone(),
        }
    }
}

/// The current verifying keys, trusted issuers and expiry window: judges any number of tokens.
#[derive(Debug, Clone)]
pub struct Judge {
    pub keys: VerifyKeys,
    /// Issuers a node trusts; empty when unknown (then `iss` is reported, not checked).
    pub issuers: Vec<String>,
    /// The key in use, to recognise stored tokens signed with an earlier one.
    pub current_key: Option<KeyStamp>,
    /// `expiring` when an accepted token has this long or less left.
    pub expiring_within: Duration,
}

impl Judge {
    pub fn new(keys: VerifyKeys, issuers: Vec<String>) -> Judge {
        Judge { keys, issuers, current_key: None, expiring_within: DEFAULT_EXPIRING_WITHIN }
    }

    /// Judges `token` at Unix time `now`. `stored` is the key record of the Secret the token
    /// came from, if any (see the module doc on stale-key).
    pub fn judge(&self, token: &str, now: i64, stored: Option<&KeyStamp>) -> TokenReport {
        let mut report = TokenReport {
            verdict: Verdict::Malformed,
            reason: String::new(),
            algorithm: None,
            claims: None,
            issued_at: None,
            expires_at: None,
            not_before: None,
            checked_at: now,
            signature_checked: !self.keys.is_empty(),
            issuer_checked: !self.issuers.is_empty(),
        };
        let (verdict, reason) = self.decide(token, now, stored, &mut report);
        report.verdict = verdict;
        report.reason = reason;
        report
    }

    fn decide(&self, token: &str, now: i64, stored: Option<&KeyStamp>, report: &mut TokenReport) -> (Verdict, String) {
        use Verdict::*;
        let malformed = |why: String| (Malformed, why);
        // 1. openstorage's TokenIssuer.
        let parts: Vec<&str> = token.split('.').collect();
        if token.is_empty() {
            return malformed("empty input: no token".into());
        }
        if parts.len() < 3 {
            return malformed(format!("not a JWT: {} dot-separated part(s), a JWT has 3", parts.len()));
        }
        let Some(payload) = go_jwt::decode_segment(parts[1]).as_deref().and_then(go_jwt::parse_json) else {
            return malformed("the payload is not base64url-encoded JSON".into());
        };
        let claims = match go_jwt::typed_claims(&payload) {
            Ok(claims) => claims,
            Err(ClaimsShape::NotAnObject(found)) => return malformed(format!("the payload is {found}, not an object")),
            Err(ClaimsShape::WrongType { claim, found, wanted }) => {
                return malformed(format!("claim {claim} is {found}, openstorage needs {wanted}"));
            }
        };
        let no_claims = serde_json::Map::new();
        let object = payload.as_object().unwrap_or(&no_claims); // an object: typed_claims checked
        let (iat, exp, nbf) =
            (TimeClaim::read(object, "iat"), TimeClaim::read(object, "exp"), TimeClaim::read(object, "nbf"));
        report.issued_at = iat.unix();
        report.expires_at = exp.unix();
        report.not_before = nbf.unix();
        let issuer = claims.iss.clone();
        let sub_empty = claims.sub.is_empty();
        report.claims = Some(ReportClaims {
            iss: claims.iss,
            sub: claims.sub,
            name: claims.name,
            email: claims.email,
            roles: claims.roles,
            groups: claims.groups,
        });
        if issuer.is_empty() {
            return malformed("no iss claim: openstorage cannot tell who issued it".into());
        }
        // 2. The trusted-issuer lookup (exact string). The header is not read yet in
        // openstorage's order; its alg is still worth showing next to the refusal.
        if report.issuer_checked && !self.issuers.contains(&issuer) {
            report.algorithm = go_jwt::decode_segment(parts[0])
                .as_deref()
                .and_then(go_jwt::parse_json)
                .and_then(|header| header.get("alg")?.as_str().map(str::to_owned));
            return (WrongIssuer, format!("issuer {issuer:?} is not trusted (trusted: {})", quoted(&self.issuers)));
        }
        // 3. golang-jwt's ParseUnverified and openstorage's key function.
        if parts.len() != 3 {
            return malformed(format!("not a JWT: {} dot-separated parts, a JWT has 3", parts.len()));
        }
        let header = go_jwt::decode_segment(parts[0]).as_deref().and_then(go_jwt::parse_json);
        let header = match header {
            Some(Value::Object(header)) => header,
            Some(Value::Null) => Default::default(),
            _ => return malformed("the header is not base64url-encoded JSON object".into()),
        };
        let Some(Value::String(alg)) = header.get("alg") else {
            return malformed("the header names no alg".into());
        };
        report.algorithm = Some(alg.clone());
        if !go_jwt::is_registered_alg(alg) {
            return malformed(format!("unknown algorithm {alg:?}"));
        }
        let Some(family) = go_jwt::alg_family(alg) else {
            return malformed(format!("algorithm {alg:?} is not accepted by openstorage (only HS*, RS*, ES*)"));
        };
        // 4. Time claims and signature; a signature failure is reported first.
        if report.signature_checked {
            let signing_input = &token[..parts[0].len() + 1 + parts[1].len()];
            let check = self.keys.verify(alg, family, signing_input, parts[2]);
            if check != SignatureCheck::Verified {
                let why = keys::describe(&check, alg);
                return match (stored, &self.current_key) {
                    (Some(stored), Some(current)) if stored.differs_from(current) => (
                        StaleKey,
                        format!(
                            "{why}: the token was signed with {}, the key in use is {}",
                            stored.describe(),
                            current.describe()
                        ),
                    ),
                    _ => (BadSignature, why),
                };
            }
        }
        for (claim, value) in [("nbf", nbf), ("iat", iat)] {
            if !value.reached(now) {
                return (NotYetValid, not_yet(claim, value, now));
            }
        }
        if !exp.exp_ok(now) {
            return match exp {
                TimeClaim::At { unix, .. } => {
                    (Expired, format!("expired {} ({})", crate::age::relative(unix, now), rfc3339(unix)))
                }
                _ => (Expired, "exp is not a number, so openstorage treats the token as expired".into()),
            };
        }
        // 5. Required claims, then the username claim.
        if let Some(missing) =
            ["iss", "sub", "exp", "iat", "name", "email"].into_iter().find(|c| !object.contains_key(*c))
        {
            return malformed(format!("required claim {missing} is missing"));
        }
        if sub_empty {
            return malformed("sub is empty: openstorage uses it as the user's identity".into());
        }
        self.accepted(exp, now, report.signature_checked)
    }

    fn accepted(&self, exp: TimeClaim, now: i64, signature_checked: bool) -> (Verdict, String) {
        let unchecked = if signature_checked { "" } else { "; signature not checked (no key)" };
        let Some(exp) = exp.unix() else {
            return (Verdict::Valid, format!("accepted, and exp is 0 so it never expires{unchecked}"));
        };
        let left = exp.saturating_sub(now);
        let when = format!("expires {} ({})", crate::age::relative(exp, now), rfc3339(exp));
        let window = i64::try_from(self.expiring_within.as_secs()).unwrap_or(i64::MAX);
        if left <= window {
            (Verdict::Expiring, format!("{when}, within the {} window{unchecked}", crate::age::human_duration(window)))
        } else {
            (Verdict::Valid, format!("accepted; {when}{unchecked}"))
        }
    }
}

fn not_yet(claim: &str, value: TimeClaim, now: i64) -> String {
    match value {
        TimeClaim::At { unix, .. } => format!(
            "{claim} is {} in the future ({}); openstorage allows no clock skew",
            crate::age::human_duration(unix.saturating_sub(now)),
            rfc3339(unix)
        ),
        _ => format!("{claim} is not a number, so openstorage treats the token as not yet valid"),
    }
}

fn serialize_time<S: serde::Serializer>(unix: &Option<i64>, serializer: S) -> Result<S::Ok, S::Error> {
    match unix {
        Some(unix) => serializer.serialize_str(&rfc3339(*unix)),
        None => serializer.serialize_none(),
    }
}

fn serialize_instant<S: serde::Serializer>(unix: &i64, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&rfc3339(*unix))
}

fn quoted(list: &[String]) -> String {
    list.iter().map(|s| format!("{s:?}")).collect::<Vec<_>>().join(", ")
}
