//! One line of the report: a named check, its verdict, what it saw and, when it did not pass,
//! what would fix it. The report blocks onboarding exactly when some check failed: a warning
//! is worth reading but does not stop `tenant` from working.

use serde::Serialize;

/// A check's verdict, worst last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Not run: something it depends on failed, or it does not apply.
    Skip,
    Pass,
    /// Onboarding works, but something will bite later (a token about to expire, no StorageClass).
    Warn,
    /// Onboarding will not work until this is fixed.
    Fail,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Skip => "skip",
            Status::Pass => "pass",
            Status::Warn => "warn",
            Status::Fail => "fail",
        }
    }
}

/// One check's result. `detail` and `fix` never hold a credential, key or token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    pub name: &'static str,
    pub status: Status,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

impl Check {
    pub fn new(name: &'static str, status: Status, detail: impl Into<String>) -> Check {
        Check { name, status, detail: detail.into(), fix: None }
    }
    pub fn pass(name: &'static str, detail: impl Into<String>) -> Check {
        Check::new(name, Status::Pass, detail)
    }
    pub fn warn(name: &'static str, detail: impl Into<String>, fix: impl Into<String>) -> Check {
        Check::new(name, Status::Warn, detail).with_fix(fix)
    }
    pub fn fail(name: &'static str, detail: impl Into<String>, fix: impl Into<String>) -> Check {
        Check::new(name, Status::Fail, detail).with_fix(fix)
    }
    pub fn skip(name: &'static str, detail: impl Into<String>) -> Check {
        Check::new(name, Status::Skip, detail)
    }
    pub fn with_fix(mut self, fix: impl Into<String>) -> Check {
        let fix = fix.into();
        self.fix = (!fix.is_empty()).then_some(fix);
        self
    }
}

/// How many checks ended in each status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub pass: usize,
    pub warn: usize,
    pub fail: usize,
    pub skip: usize,
}

/// Every check, in a fixed order, and whether anything blocks onboarding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// True when some check failed: `tenant` will not work until its fix is applied.
    pub blocked: bool,
    pub counts: Counts,
    pub checks: Vec<Check>,
}

impl Report {
    pub fn new(checks: Vec<Check>) -> Report {
        let mut counts = Counts::default();
        for check in &checks {
            *match check.status {
                Status::Pass => &mut counts.pass,
                Status::Warn => &mut counts.warn,
                Status::Fail => &mut counts.fail,
                Status::Skip => &mut counts.skip,
            } += 1;
        }
        Report { blocked: counts.fail > 0, counts, checks }
    }

    /// The names of the checks that failed, in report order.
    pub fn failed(&self) -> Vec<&'static str> {
        self.checks.iter().filter(|c| c.status == Status::Fail).map(|c| c.name).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_failure_blocks_onboarding() {
        let report = Report::new(vec![
            Check::pass("context", "ok"),
            Check::warn("storageclass", "none", "run storageclass"),
            Check::skip("tokens", "no rights"),
        ]);
        assert!(!report.blocked);
        assert_eq!(report.counts, Counts { pass: 1, warn: 1, fail: 0, skip: 1 });
        let report = Report::new(vec![Check::fail("issuer", "unknown", "pass --issuer"), Check::pass("a", "")]);
        assert!(report.blocked);
        assert_eq!(report.failed(), ["issuer"]);
    }

    #[test]
    fn json_has_a_stable_shape_for_scripts() {
        let report = Report::new(vec![
            Check::pass("context", "context c, server https://s"),
            Check::fail("issuer", "not found", "pass --issuer"),
        ]);
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "blocked": true,
                "counts": {"pass": 1, "warn": 0, "fail": 1, "skip": 0},
                "checks": [
                    {"name": "context", "status": "pass", "detail": "context c, server https://s"},
                    {"name": "issuer", "status": "fail", "detail": "not found", "fix": "pass --issuer"},
                ],
            })
        );
    }

    #[test]
    fn an_empty_fix_is_no_fix() {
        assert_eq!(Check::warn("x", "d", "").fix, None);
    }
}
