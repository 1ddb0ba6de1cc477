//! One token Secret: settled from its listing row, or read, judged again, re-issued and written
//! at the resourceVersion read, with its Event.

use k8s_openapi::api::core::v1::Secret;
use secrecy::SecretString;
use serde_json::{Map, Value};

use super::plan::{self, Decision};
use super::{MAX_ATTEMPTS, Outcome, RotateError, RotateOptions, Rotation, Rotator, Skip, TenantResult};
use crate::claims::TokenClaims;
use crate::events::{self, EventError, RotationFacts, TokenEventReason};
use crate::token_health::{KeyStamp, TokenReport};
use crate::token_list::TokenRow;
use crate::token_secret::{
    DryRun, ExistingSecret, SecretTarget, SecretWriteError, TokenRecord, desired_secret, read_existing, write_secret,
};

/// The result for a listed row that needs no request (accepted and outside the window, or
/// hand-made without `--adopt`), else the Secret to read and judge again.
pub(super) fn settle_row(row: &TokenRow, options: &RotateOptions) -> Result<TenantResult, SecretTarget> {
    let target = SecretTarget {
        namespace: row.namespace.clone(),
        name: row.secret.clone(),
        // The key the token was found under (a hand-made Secret with a single key may use another).
        key: row.key.clone().unwrap_or_else(|| options.list.secret_key.clone()),
    };
    let verdict = row.report.verdict;
    let outcome = match plan::decide(&row.report, None, row.managed, options.policy) {
        Decision::Unchanged => Outcome::Unchanged { verdict, valid_until: row.report.expires_at },
        Decision::SkipUnmanaged => Outcome::Skipped(Skip::Unmanaged { verdict }),
        Decision::Reissue { .. } | Decision::Refuse(_) => return Err(target),
    };
    Ok(TenantResult { target, result: Ok(outcome), event_warning: None })
}

pub(super) async fn rotate_one(rotator: &Rotator<'_>, target: SecretTarget) -> TenantResult {
    let mut event_warning = None;
    let result = attempts(rotator, &target, &mut event_warning).await;
    TenantResult { target, result, event_warning }
}

/// A token as judged now: against the trusted issuer, and, when that is the only complaint,
/// without it.
struct Judged {
    token: Option<String>,
    report: TokenReport,
    signature: Option<TokenReport>,
}

fn judge(rotator: &Rotator<'_>, secret: &Secret, key: &str, now: i64) -> Judged {
    let stamp = secret.metadata.annotations.as_ref().and_then(KeyStamp::from_annotations);
    let token = secret.data.as_ref().and_then(|d| d.get(key)).and_then(|b| String::from_utf8(b.0.clone()).ok());
    let Some(token) = token else {
        let reason = format!("no token under key {key:?}");
        return Judged {
            token: None,
            report: TokenReport { reason, ..rotator.judge.judge("", now, None) },
            signature: None,
        };
    };
    let report = rotator.judge.judge(&token, now, stamp.as_ref());
    let signature = (report.verdict == crate::token_health::Verdict::WrongIssuer)
        .then(|| rotator.signature_judge.judge(&token, now, stamp.as_ref()));
    Judged { token: Some(token), report, signature }
}

async fn attempts(
    rotator: &Rotator<'_>,
    target: &SecretTarget,
    event_warning: &mut Option<EventError>,
) -> Result<Outcome, RotateError> {
    let mut conflicts = 0;
    loop {
        let Some(existing) = read_existing(rotator.conn, target).await? else {
            return Ok(Outcome::Skipped(Skip::Gone));
        };
        let now = jiff::Timestamp::now().as_second();
        let judged = judge(rotator, &existing.secret, &target.key, now);
        let verdict = judged.report.verdict;
        let decision =
            plan::decide(&judged.report, judged.signature.as_ref(), existing.managed, rotator.options.policy);
        let issuer_changed = match decision {
            Decision::Unchanged => return Ok(Outcome::Unchanged { verdict, valid_until: judged.report.expires_at }),
            Decision::SkipUnmanaged => return Ok(Outcome::Skipped(Skip::Unmanaged { verdict })),
            Decision::Refuse(refusal) => {
                return Err(failed(rotator, &existing.secret, &judged.report, refusal.into(), event_warning).await);
            }
            Decision::Reissue { issuer_changed, .. } => issuer_changed,
        };
        let written = match reissue(rotator, target, &existing, &judged, now).await {
            Ok(written) => written,
            Err(RotateError::Write(SecretWriteError::Conflict { .. })) if conflicts + 1 < MAX_ATTEMPTS => {
                // Someone else wrote it since our read: read it again, judge it again.
                conflicts += 1;
                tracing::debug!(namespace = %target.namespace, name = %target.name, conflicts, "conflict, re-reading");
                continue;
            }
            Err(RotateError::Write(SecretWriteError::Conflict { namespace, name })) => {
                let err = RotateError::Contended { namespace, name, attempts: MAX_ATTEMPTS };
                return Err(failed(rotator, &existing.secret, &judged.report, err, event_warning).await);
            }
            Err(err) => return Err(failed(rotator, &existing.secret, &judged.report, err, event_warning).await),
        };
        let rotation = Rotation {
            subject: written.claims.sub.clone(),
            verdict,
            old_expiry: judged.report.expires_at,
            expires_at: written.claims.exp,
            issuer_change: written.old_issuer.filter(|_| issuer_changed).map(|old| (old, written.claims.iss.clone())),
            adopted: !existing.managed,
            conflicts,
            renewed_every_run: written.lifetime <= rotator.options.expiring_within,
            dry_run: rotator.options.dry_run,
        };
        if rotator.options.dry_run == DryRun::None {
            let facts = RotationFacts {
                subject: rotation.subject.clone(),
                old_expiry: rotation.old_expiry,
                new_expiry: Some(rotation.expires_at),
                key_source: key_source(rotator),
                old_issuer: rotation.issuer_change.as_ref().map(|(old, _)| old.clone()),
                new_issuer: rotation.issuer_change.as_ref().map(|(_, new)| new.clone()),
            };
            let message = events::rotated_message(&facts);
            *event_warning =
                events::record(rotator.conn, &written.secret, TokenEventReason::Rotated, message, &rotator.instance)
                    .await
                    .err();
        }
        return Ok(Outcome::Rotated(rotation));
    }
}

/// A re-issued token as stored.
struct Written {
    claims: TokenClaims,
    lifetime: std::time::Duration,
    old_issuer: Option<String>,
    secret: Secret,
}

/// Builds the new token from the old one's claims, signs it and writes it at the version read.
async fn reissue(
    rotator: &Rotator<'_>,
    target: &SecretTarget,
    existing: &ExistingSecret,
    judged: &Judged,
    now: i64,
) -> Result<Written, RotateError> {
    let options = &rotator.options;
    let old = plan::payload(judged.token.as_deref().unwrap_or_default())?;
    let old_issuer = old.get("iss").and_then(Value::as_str).map(str::to_owned);
    let lifetime = plan::lifetime(
        options.lifetime,
        &judged.report,
        existing.managed,
        options.clock_skew,
        options.fallback_lifetime,
    );
    let new: Map<String, Value> = plan::reissued_claims(old, &rotator.setup.issuer, now, lifetime, options.clock_skew);
    let claims: TokenClaims = serde_json::from_value(Value::Object(new.clone())).map_err(RotateError::Claims)?;
    let token: SecretString = rotator.setup.key.sign(&new)?;
    let record = TokenRecord::new(&token, &claims, &rotator.setup.key_source);
    let desired = desired_secret(target, &record, Some(&existing.secret));
    let (_, secret) = write_secret(rotator.conn, target, desired, Some(existing), options.dry_run).await?;
    Ok(Written { claims, lifetime, old_issuer, secret })
}

/// Records a `TokenRotationFailed` Event for `err` (not in a dry run) and hands `err` back.
async fn failed(
    rotator: &Rotator<'_>,
    secret: &Secret,
    report: &TokenReport,
    err: RotateError,
    event_warning: &mut Option<EventError>,
) -> RotateError {
    if rotator.options.dry_run == DryRun::None {
        let facts = RotationFacts {
            subject: report.claims.as_ref().map(|c| c.sub.clone()).unwrap_or_default(),
            old_expiry: report.expires_at,
            new_expiry: None,
            key_source: key_source(rotator),
            old_issuer: None,
            new_issuer: None,
        };
        let message = events::failed_message(&facts, &crate::message::one_line(&err));
        *event_warning =
            events::record(rotator.conn, secret, TokenEventReason::RotationFailed, message, &rotator.instance)
                .await
                .err();
    }
    err
}

/// Where the key in use came from, for Event messages: never the key.
fn key_source(rotator: &Rotator<'_>) -> String {
    let source = &rotator.setup.key_source;
    match source.resource_version() {
        Some(version) => format!("{} (resourceVersion {version})", source.annotation()),
        None => source.annotation(),
    }
}
