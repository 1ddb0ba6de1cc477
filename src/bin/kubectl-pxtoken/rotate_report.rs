//! What `rotate` prints: one line per token Secret on stdout, as each is known, then a closing
//! count (which also says when Events could not be recorded, and why). The only thing on stderr
//! is, from `main`, the `error:` line of a run that failed or was interrupted.

use std::io::Write;

use pxtoken::rotate::{Outcome, RunSummary, Skip, TenantResult};
use pxtoken::token_secret::{DryRun, rfc3339};

use crate::hints;
use crate::output::{self, dry_run_suffix};

/// One token Secret's line:
/// `secret/px-k8s-user rotated in team-a (was expiring, expires 2027-…)`.
pub fn rotate_line(result: &TenantResult) -> String {
    let target = &result.target;
    let (status, detail) = match &result.result {
        Ok(Outcome::Rotated(rotation)) => {
            let mut detail = format!(" (was {}, expires {}", rotation.verdict, rfc3339(rotation.expires_at));
            if let Some((old, new)) = &rotation.issuer_change {
                detail.push_str(&format!(", issuer {old} -> {new}"));
            }
            if rotation.adopted {
                detail.push_str(", adopted");
            }
            if rotation.renewed_every_run {
                detail.push_str(", lifetime within --expiring-within: renewed on every run");
            }
            detail.push(')');
            (format!("rotated{}", dry_run_suffix(rotation.dry_run)), detail)
        }
        Ok(Outcome::Unchanged { valid_until: Some(exp), .. }) => {
            ("unchanged".into(), format!(" (valid until {})", rfc3339(*exp)))
        }
        Ok(Outcome::Unchanged { valid_until: None, .. }) => ("unchanged".into(), " (valid, never expires)".into()),
        Ok(Outcome::Skipped(Skip::Unmanaged { verdict })) => {
            ("skipped".into(), format!(" (unmanaged, {verdict}: pass --adopt)"))
        }
        Ok(Outcome::Skipped(Skip::Gone)) => ("skipped".into(), " (deleted while rotating)".into()),
        Ok(Outcome::NotStarted) => return output::not_started_line(&target.name, &target.namespace),
        Err(err) => ("failed".into(), format!(": {}", hints::error_line(err))),
    };
    format!("secret/{} {status} in {}{detail}", target.name, target.namespace)
}

/// The closing count: `2 rotated, 5 unchanged, 1 skipped, 0 failed`, and why Events could not
/// be recorded (`first_event_warning`), if some could not.
pub fn summary_line(summary: &RunSummary, dry_run: DryRun, first_event_warning: Option<&str>) -> String {
    let mut line = format!(
        "{} rotated{}, {} unchanged, {} skipped, {} failed",
        summary.rotated,
        dry_run_suffix(dry_run),
        summary.unchanged,
        summary.skipped,
        summary.failed
    );
    if summary.not_started > 0 {
        line.push_str(&format!(", {} not started", summary.not_started));
    }
    if summary.event_warnings > 0 {
        line.push_str(&format!("; {} events not recorded", summary.event_warnings));
        if let Some(why) = first_event_warning {
            line.push_str(&format!(" (first: {why})"));
        }
    }
    line
}

/// The lines of one run.
pub struct RotateReport {
    dry_run: DryRun,
    first_event_warning: Option<String>,
}

impl RotateReport {
    pub fn new(dry_run: DryRun) -> RotateReport {
        RotateReport { dry_run, first_event_warning: None }
    }

    /// Reports one token Secret; keeps why its Event could not be recorded, if it is the first.
    pub fn one(&mut self, result: &TenantResult) -> std::io::Result<()> {
        writeln!(std::io::stdout(), "{}", rotate_line(result))?;
        if let Some(warning) = &result.event_warning {
            self.first_event_warning.get_or_insert_with(|| pxtoken::message::one_line(warning));
        }
        Ok(())
    }

    /// The closing count, when the run got as far as listing.
    pub fn finish(&self, summary: Option<RunSummary>) -> std::io::Result<()> {
        match summary {
            Some(summary) => writeln!(
                std::io::stdout(),
                "{}",
                summary_line(&summary, self.dry_run, self.first_event_warning.as_deref())
            ),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pxtoken::rotate::{RotateError, Rotation};
    use pxtoken::token_health::Verdict;
    use pxtoken::token_secret::SecretTarget;

    fn result(result: Result<Outcome, RotateError>) -> TenantResult {
        let target = SecretTarget { namespace: "team-a".into(), name: "px-k8s-user".into(), key: "auth-token".into() };
        TenantResult { target, result, event_warning: None }
    }

    #[test]
    fn one_line_per_secret_says_what_happened_and_why() {
        let rotation = Rotation {
            subject: "u".into(),
            verdict: Verdict::StaleKey,
            old_expiry: Some(0),
            expires_at: 86_400,
            issuer_change: Some(("old.io".into(), "new.io".into())),
            adopted: true,
            conflicts: 0,
            renewed_every_run: false,
            dry_run: DryRun::Server,
        };
        assert_eq!(
            rotate_line(&result(Ok(Outcome::Rotated(rotation)))),
            "secret/px-k8s-user rotated (server dry run) in team-a (was stale-key, expires 1970-01-02T00:00:00Z, issuer old.io -> new.io, adopted)"
        );
        assert_eq!(
            rotate_line(&result(Ok(Outcome::Unchanged { verdict: Verdict::Valid, valid_until: Some(0) }))),
            "secret/px-k8s-user unchanged in team-a (valid until 1970-01-01T00:00:00Z)"
        );
        assert_eq!(
            rotate_line(&result(Ok(Outcome::Skipped(Skip::Unmanaged { verdict: Verdict::Expired })))),
            "secret/px-k8s-user skipped in team-a (unmanaged, expired: pass --adopt)"
        );
        let failed = rotate_line(&result(Err(RotateError::UnverifiedAdmin { reason: "r".into() })));
        assert!(failed.starts_with("secret/px-k8s-user failed in team-a: the token grants administrator powers"));
        assert!(
            failed.ends_with(": re-issue it with 'kubectl pxtoken admin --save-secret NAMESPACE/NAME'"),
            "{failed}"
        );
        let summary = RunSummary { rotated: 2, unchanged: 5, not_started: 3, ..RunSummary::default() };
        assert_eq!(
            summary_line(&summary, DryRun::None, None),
            "2 rotated, 5 unchanged, 0 skipped, 0 failed, 3 not started"
        );
        let summary = RunSummary { rotated: 2, event_warnings: 2, ..RunSummary::default() };
        assert_eq!(
            summary_line(&summary, DryRun::Client, Some("forbidden")),
            "2 rotated (dry run), 0 unchanged, 0 skipped, 0 failed; 2 events not recorded (first: forbidden)"
        );
    }
}
