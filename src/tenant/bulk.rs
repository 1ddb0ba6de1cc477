//! Onboarding many tenants at once: bounded concurrency, one result per tenant (per namespace
//! for a tenant that owns several), every failure reported and none stopping the others (a
//! re-run finishes the job, keeping subjects). A SIGINT / SIGTERM ([`Cancellation`]) stops
//! launching; the tenants in flight finish and are reported, and every tenant never started is
//! reported as such ([`crate::bulk`]).

use futures::StreamExt;

use super::TenantError;
use super::group::{NamespaceResult, TenantGroup, onboard_group};
use crate::bulk::{self, BulkItem, Cancellation, Signal};
use crate::connection::Connection;
use crate::discovery::SigningSetup;

/// How a bulk run went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BulkSummary {
    pub total: usize,
    pub failed: usize,
    /// Never started: the run was interrupted first.
    pub not_started: usize,
}

/// What became of one tenant of a bulk run.
#[derive(Debug)]
pub enum TenantFate {
    /// `Err` when nothing was written for it, else one result per namespace.
    Onboarded(Result<Vec<NamespaceResult>, TenantError>),
    /// The run was interrupted before this tenant was started; a re-run does it.
    NotStarted,
}

/// Some tenants of a bulk run failed or were never started (each was reported as it was
/// known); the others were onboarded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BulkIncomplete {
    #[error("{} of {} tenants failed (see above)", .0.failed, .0.total)]
    Failed(BulkSummary),
    #[error("interrupted by {}: {} of {} tenants not started{}", .1.name(), .0.not_started, .0.total, failed_too(.0))]
    Interrupted(BulkSummary, Signal),
}

fn failed_too(summary: &BulkSummary) -> String {
    match summary.failed {
        0 => String::new(),
        failed => format!(", {failed} failed (see above)"),
    }
}

impl BulkIncomplete {
    /// The signal that interrupted the run, which decides the exit status (130 / 143).
    pub fn signal(&self) -> Option<Signal> {
        match self {
            BulkIncomplete::Interrupted(_, signal) => Some(*signal),
            BulkIncomplete::Failed(_) => None,
        }
    }
}

impl BulkSummary {
    /// `Err` when the run was interrupted by `signal` or any tenant failed: either way the
    /// command failed (exit 130 / 143, or 1).
    pub fn into_result(self, signal: Option<Signal>) -> Result<BulkSummary, BulkIncomplete> {
        match signal {
            Some(signal) => Err(BulkIncomplete::Interrupted(self, signal)),
            None if self.failed > 0 => Err(BulkIncomplete::Failed(self)),
            None => Ok(self),
        }
    }
}

/// Onboards every tenant, at most `concurrency` at a time, handing each tenant's fate to
/// `on_result` as it is known (in completion order). A tenant fails when any of its namespaces
/// does. When `cancel` fires, nothing new starts, the tenants in flight finish, and the rest are
/// handed over as [`TenantFate::NotStarted`], in list order. An error from `on_result` (say,
/// stdout closed) stops the run the same way and is returned once the writes in flight are done.
/// Groups are taken from `groups` only as work starts, so memory stays flat in the number of
/// tenants when they are built lazily (say, from a list's entries).
pub async fn onboard_many<E>(
    conn: &Connection,
    setup: &SigningSetup,
    groups: impl IntoIterator<Item = TenantGroup>,
    concurrency: usize,
    cancel: &Cancellation,
    mut on_result: impl FnMut(&TenantGroup, TenantFate) -> Result<(), E>,
) -> Result<BulkSummary, E> {
    let results = bulk::run(groups, concurrency, cancel.clone(), |group| async move {
        let result = onboard_group(conn, setup, &group).await;
        (group, result)
    });
    let mut results = std::pin::pin!(results);
    let mut summary = BulkSummary::default();
    let mut failure = None;
    while let Some(item) = results.next().await {
        let (group, fate) = match item {
            BulkItem::Finished((group, result)) => {
                let ok = result.as_ref().is_ok_and(|namespaces| namespaces.iter().all(|(_, r)| r.is_ok()));
                summary.failed += usize::from(!ok);
                (group, TenantFate::Onboarded(result))
            }
            // Stopped by the caller: the writes in flight are done, nothing is left to report.
            BulkItem::NotStarted(_) if failure.is_some() => break,
            BulkItem::NotStarted(group) => {
                summary.not_started += 1;
                (group, TenantFate::NotStarted)
            }
        };
        summary.total += 1;
        if failure.is_none()
            && let Err(err) = on_result(&group, fate)
        {
            failure = Some(err);
            cancel.stop();
        }
    }
    match failure {
        Some(err) => Err(err),
        None => Ok(summary),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claims::Identity;
    use crate::fake_api::{self, block_on};
    use crate::tenant::tests::{request, setup};

    fn admin() -> TenantGroup {
        let admin = Identity { roles: Some(vec!["system.admin".into()]), ..Identity::default() };
        TenantGroup::single(request(admin))
    }

    #[test]
    fn every_tenant_is_reported_and_failures_are_counted() {
        // Two tenants refused locally (no request), so the fake server needs no script.
        let (summary, seen) = block_on(async {
            let (conn, _api) = fake_api::connection(vec![]);
            let mut seen = Vec::new();
            let summary =
                onboard_many(&conn, &setup(), vec![admin(), admin()], 4, &Cancellation::new(), |group, fate| {
                    seen.push((group.namespaces.clone(), matches!(fate, TenantFate::Onboarded(Err(_)))));
                    Ok::<_, ()>(())
                })
                .await
                .unwrap();
            (summary, seen)
        });
        assert_eq!(summary, BulkSummary { total: 2, failed: 2, not_started: 0 });
        assert_eq!(summary.into_result(None).unwrap_err().to_string(), "2 of 2 tenants failed (see above)");
        assert!(BulkSummary { total: 2, ..BulkSummary::default() }.into_result(None).is_ok());
        assert_eq!(seen, vec![(vec!["team-a".to_owned()], true); 2]);
    }

    #[test]
    fn an_interrupted_run_reports_the_tenants_never_started_and_fails_with_the_signal() {
        let cancel = Cancellation::new();
        let (summary, fates) = block_on(async {
            let (conn, _api) = fake_api::connection(vec![]);
            let mut fates = Vec::new();
            let summary = onboard_many(&conn, &setup(), vec![admin(); 5], 1, &cancel, |_, fate| {
                // The signal arrives while the first tenant is being reported.
                cancel.cancel(Signal::Interrupt);
                fates.push(matches!(fate, TenantFate::NotStarted));
                Ok::<_, ()>(())
            })
            .await
            .unwrap();
            (summary, fates)
        });
        // The first tenant (refused locally, so it fails) was in flight: it finished and was
        // reported; no other was launched.
        assert_eq!(fates, [false, true, true, true, true]);
        assert_eq!(summary, BulkSummary { total: 5, failed: 1, not_started: 4 });
        let err = summary.into_result(Some(Signal::Interrupt)).unwrap_err();
        assert_eq!(err.signal(), Some(Signal::Interrupt));
        assert_eq!(err.to_string(), "interrupted by SIGINT: 4 of 5 tenants not started, 1 failed (see above)");
        let clean = BulkSummary { total: 5, failed: 0, not_started: 3 };
        assert_eq!(
            clean.into_result(Some(Signal::Terminate)).unwrap_err().to_string(),
            "interrupted by SIGTERM: 3 of 5 tenants not started"
        );
    }

    #[test]
    fn a_failing_callback_stops_the_run() {
        let requests = vec![TenantGroup::single(request(Identity::default())); 3];
        let (result, sent) = block_on(async {
            let (conn, api) = fake_api::connection(vec![]);
            let result =
                onboard_many(&conn, &setup(), requests, 1, &Cancellation::new(), |_, _| Err("stdout closed")).await;
            (result, api.lines())
        });
        assert_eq!(result, Err("stdout closed"));
        assert_eq!(sent.len(), 1, "no tenant started after the failure: {sent:?}");
    }

    #[test]
    fn groups_are_built_only_as_their_turn_comes() {
        let built = std::cell::Cell::new(0);
        // Refused locally (no request); each group is counted when the run takes it.
        let groups = (0..1000).map(|_| {
            built.set(built.get() + 1);
            admin()
        });
        let result = block_on(async {
            let (conn, _api) = fake_api::connection(vec![]);
            onboard_many(&conn, &setup(), groups, 4, &Cancellation::new(), |_, _| Err("stop")).await
        });
        assert_eq!(result, Err("stop"));
        assert!(built.get() <= 5, "{} of 1000 groups built before the first result", built.get());
    }
}
