//! How healthy the stored tokens are: counts per status, judged exactly as `list` judges them
//! ([`crate::token_health`] over [`crate::token_list`]'s paged scan), so the two never disagree.
//!
//! A token Portworx refuses now (expired, not yet valid, signed with another key, from an
//! issuer it does not trust, malformed) fails the check: that tenant cannot provision. One about
//! to expire warns. Only counts and namespaces are kept, never a row, so memory stays flat.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::ControlFlow;

use super::Advice;
use super::check::{Check, Status};
use crate::connection::Connection;
use crate::discovery::SigningSetup;
use crate::message::one_line;
use crate::token_health::{Judge, KeyStamp, Verdict, VerifyKey, VerifyKeys};
use crate::token_list::{ListOptions, Scope, list_tokens};

const NAME: &str = "tokens";
/// Namespaces named on the line; the rest are counted.
const SHOWN_NAMESPACES: usize = 5;

/// The judge `list` would use with this setup: its key, its issuer, and its key record for
/// stale-key. Without a setup (key or issuer not found) tokens are judged by their claims alone.
fn judge_for(setup: Option<&SigningSetup>) -> Judge {
    let Some(setup) = setup else { return Judge::new(VerifyKeys::new(), Vec::new()) };
    let keys = VerifyKey::from_signing_key(&setup.key).map(|key| VerifyKeys::new().with(key)).unwrap_or_default();
    let mut judge = Judge::new(keys, vec![setup.issuer.clone()]);
    judge.current_key = Some(KeyStamp::of(&setup.key_source));
    judge
}

/// What the scan found: tokens per verdict, hand-made ones, and the namespaces with problems.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct TokenCounts {
    pub by_verdict: BTreeMap<Verdict, usize>,
    pub unmanaged: usize,
    /// Namespaces holding a token that is refused or about to expire.
    pub troubled: BTreeSet<String>,
    pub signature_checked: bool,
}

/// The `tokens` line. The key (in `setup`) is dropped when this returns.
pub async fn tokens_check(
    conn: &Connection,
    setup: Option<SigningSetup>,
    namespace: Option<&str>,
    advice: &dyn Advice,
) -> Check {
    let judge = judge_for(setup.as_ref());
    drop(setup);
    let scope = namespace.map_or(Scope::AllNamespaces, |ns| Scope::Namespaces(vec![ns.to_owned()]));
    let mut counts = TokenCounts { signature_checked: !judge.keys.is_empty(), ..TokenCounts::default() };
    let now = jiff::Timestamp::now().as_second();
    let listed = list_tokens(conn, &ListOptions::new(scope), &judge, now, |row| {
        *counts.by_verdict.entry(row.report.verdict).or_default() += 1;
        counts.unmanaged += usize::from(!row.managed);
        if row.report.verdict != Verdict::Valid {
            counts.troubled.insert(row.namespace);
        }
        ControlFlow::Continue(())
    })
    .await;
    match listed {
        Ok(_) => tokens_line(&counts, advice),
        Err(err) if err.is_forbidden() => Check::skip(NAME, one_line(&err)),
        Err(err) => Check::new(NAME, Status::Warn, one_line(&err)),
    }
}

/// The line for what the scan counted: pass when every token is valid (or there is none yet),
/// warn when some expire soon, fail when Portworx refuses some now.
pub fn tokens_line(counts: &TokenCounts, advice: &dyn Advice) -> Check {
    let total: usize = counts.by_verdict.values().sum();
    if total == 0 {
        return Check::pass(NAME, "no token Secrets yet");
    }
    let mut detail =
        counts.by_verdict.iter().map(|(verdict, n)| format!("{n} {verdict}")).collect::<Vec<_>>().join(", ");
    if counts.unmanaged > 0 {
        detail.push_str(&format!(" ({} not managed by kubectl-pxtoken)", counts.unmanaged));
    }
    if !counts.signature_checked {
        detail.push_str("; signatures not checked: no key");
    }
    let refused = counts.by_verdict.keys().any(|v| !v.accepted());
    let expiring = counts.by_verdict.contains_key(&Verdict::Expiring);
    if !refused && !expiring {
        return Check::pass(NAME, detail);
    }
    let namespaces: Vec<String> = counts.troubled.iter().cloned().collect();
    let mut shown = namespaces.iter().take(SHOWN_NAMESPACES).cloned().collect::<Vec<_>>().join(", ");
    if namespaces.len() > SHOWN_NAMESPACES {
        shown.push_str(&format!(" and {} more", namespaces.len() - SHOWN_NAMESPACES));
    }
    let status = if refused { Status::Fail } else { Status::Warn };
    Check::new(NAME, status, format!("{detail}; in {shown}")).with_fix(advice.rotate(&namespaces))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    struct Rotate;

    impl Advice for Rotate {
        fn hint(&self, _: &(dyn std::error::Error + 'static)) -> Option<String> {
            None
        }
        fn issuer(&self) -> String {
            String::new()
        }
        fn clock_skew(&self, _: Duration) -> String {
            String::new()
        }
        fn rotate(&self, namespaces: &[String]) -> String {
            format!("rotate {}", namespaces.join(" "))
        }
        fn one_namespace(&self) -> String {
            unreachable!()
        }
        fn storage_class(&self) -> String {
            String::new()
        }
    }

    fn counts(verdicts: &[(Verdict, usize)], troubled: &[&str]) -> TokenCounts {
        TokenCounts {
            by_verdict: verdicts.iter().copied().collect(),
            unmanaged: 0,
            troubled: troubled.iter().map(|s| s.to_string()).collect(),
            signature_checked: true,
        }
    }

    #[test]
    fn counts_per_status_decide_the_line() {
        let line = tokens_line(&counts(&[], &[]), &Rotate);
        assert_eq!((line.status, line.detail.as_str()), (Status::Pass, "no token Secrets yet"));
        let line = tokens_line(&counts(&[(Verdict::Valid, 3)], &[]), &Rotate);
        assert_eq!((line.status, line.detail.as_str(), line.fix), (Status::Pass, "3 valid", None));
        let line = tokens_line(&counts(&[(Verdict::Valid, 3), (Verdict::Expiring, 1)], &["team-b"]), &Rotate);
        assert_eq!((line.status, line.detail.as_str()), (Status::Warn, "3 valid, 1 expiring; in team-b"));
        assert_eq!(line.fix.as_deref(), Some("rotate team-b"));
        let line = tokens_line(
            &counts(&[(Verdict::Valid, 1), (Verdict::Expired, 1), (Verdict::StaleKey, 1)], &["a", "b"]),
            &Rotate,
        );
        assert_eq!((line.status, line.detail.as_str()), (Status::Fail, "1 valid, 1 expired, 1 stale-key; in a, b"));
    }

    #[test]
    fn many_namespaces_are_counted_not_listed_and_unchecked_signatures_are_said() {
        let many: Vec<String> = (0..7).map(|i| format!("ns-{i}")).collect();
        let mut c = counts(&[(Verdict::Expired, 7)], &many.iter().map(String::as_str).collect::<Vec<_>>());
        c.unmanaged = 2;
        c.signature_checked = false;
        let line = tokens_line(&c, &Rotate);
        assert_eq!(
            line.detail,
            "7 expired (2 not managed by kubectl-pxtoken); signatures not checked: no key; in ns-0, ns-1, ns-2, ns-3, ns-4 and 2 more"
        );
        assert_eq!(line.fix.as_deref(), Some("rotate ns-0 ns-1 ns-2 ns-3 ns-4 ns-5 ns-6"));
    }
}
