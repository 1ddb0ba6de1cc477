//! Onboarding many tenants at once: bounded concurrency, one result per tenant (per namespace
//! for a tenant that owns several), every failure reported and none stopping the others (a
//! re-run finishes the job, keeping subjects).

use futures::StreamExt;

use super::TenantError;
use super::group::{NamespaceResult, TenantGroup, onboard_group};
use crate::connection::Connection;
use crate::discovery::SigningSetup;

/// How a bulk run went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BulkSummary {
    pub total: usize,
    pub failed: usize,
}

/// Some tenants of a bulk run failed (each was reported as it failed); the others were onboarded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{} of {} tenants failed (see above)", .0.failed, .0.total)]
pub struct BulkFailed(pub BulkSummary);

impl BulkSummary {
    /// `Err` when any tenant failed: a partly failed run is a failed command (exit 1).
    pub fn into_result(self) -> Result<BulkSummary, BulkFailed> {
        if self.failed > 0 { Err(BulkFailed(self)) } else { Ok(self) }
    }
}

/// Onboards every tenant, at most `concurrency` at a time, handing each tenant's result to
/// `on_result` as it completes (in completion order): `Err` when nothing was written for it, else
/// one result per namespace. A tenant fails when any of its namespaces does. An error from
/// `on_result` (say, stdout closed) stops launching new work and is returned once the writes in
/// flight are done. Groups are taken from `groups` only as work starts, so memory stays flat in
/// the number of tenants when they are built lazily (say, from a list's entries).
pub async fn onboard_many<E>(
    conn: &Connection,
    setup: &SigningSetup,
    groups: impl IntoIterator<Item = TenantGroup>,
    concurrency: usize,
    mut on_result: impl FnMut(&TenantGroup, Result<Vec<NamespaceResult>, TenantError>) -> Result<(), E>,
) -> Result<BulkSummary, E> {
    let mut results = futures::stream::iter(groups.into_iter().map(|group| async move {
        let result = onboard_group(conn, setup, &group).await;
        (group, result)
    }))
    .buffer_unordered(concurrency.max(1));
    let (mut total, mut failed) = (0, 0);
    while let Some((group, result)) = results.next().await {
        total += 1;
        let ok = result.as_ref().is_ok_and(|namespaces| namespaces.iter().all(|(_, r)| r.is_ok()));
        failed += usize::from(!ok);
        on_result(&group, result)?;
    }
    Ok(BulkSummary { total, failed })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claims::Identity;
    use crate::fake_api::{self, block_on};
    use crate::tenant::tests::{request, setup};

    #[test]
    fn every_tenant_is_reported_and_failures_are_counted() {
        let admin = Identity { roles: Some(vec!["system.admin".into()]), ..Identity::default() };
        // Two tenants refused locally (no request), so the fake server needs no script.
        let requests = vec![TenantGroup::single(request(admin.clone())), TenantGroup::single(request(admin))];
        let (summary, seen) = block_on(async {
            let (conn, _api) = fake_api::connection(vec![]);
            let mut seen = Vec::new();
            let summary = onboard_many(&conn, &setup(), requests, 4, |group, result| {
                seen.push((group.namespaces.clone(), result.is_err()));
                Ok::<_, ()>(())
            })
            .await
            .unwrap();
            (summary, seen)
        });
        assert_eq!(summary, BulkSummary { total: 2, failed: 2 });
        assert_eq!(summary.into_result().unwrap_err().to_string(), "2 of 2 tenants failed (see above)");
        assert!(BulkSummary { total: 2, failed: 0 }.into_result().is_ok());
        assert_eq!(seen.len(), 2);
    }

    #[test]
    fn a_failing_callback_stops_the_run() {
        let requests = vec![TenantGroup::single(request(Identity::default())); 3];
        let (result, sent) = block_on(async {
            let (conn, api) = fake_api::connection(vec![]);
            (onboard_many(&conn, &setup(), requests, 1, |_, _| Err("stdout closed")).await, api.lines())
        });
        assert_eq!(result, Err("stdout closed"));
        assert_eq!(sent.len(), 1, "no tenant started after the failure: {sent:?}");
    }

    #[test]
    fn groups_are_built_only_as_their_turn_comes() {
        let admin = Identity { roles: Some(vec!["system.admin".into()]), ..Identity::default() };
        let built = std::cell::Cell::new(0);
        // Refused locally (no request); each group is counted when the run takes it.
        let groups = (0..1000).map(|_| {
            built.set(built.get() + 1);
            TenantGroup::single(request(admin.clone()))
        });
        let result = block_on(async {
            let (conn, _api) = fake_api::connection(vec![]);
            onboard_many(&conn, &setup(), groups, 4, |_, _| Err("stop")).await
        });
        assert_eq!(result, Err("stop"));
        assert!(built.get() <= 5, "{} of 1000 groups built before the first result", built.get());
    }
}
