//! What each command needs from the API server, step by step, as RBAC names it. Kept next to
//! the checks, not the commands: a command that grows a request must grow a line here too, and
//! the end-to-end tests run each command as a user holding exactly these rights.

use super::access::{Permission, Scope, Step};
use crate::discovery::{DiscoverySurvey, Install, SharedSecretRef};

const SECRETS: &str = "secrets";
const STORAGE_CLUSTERS: &str = "storageclusters.core.libopenstorage.org";
const DAEMON_SETS: &str = "daemonsets.apps";

/// What finding the key and issuer takes: listing the install where it is (or everywhere, when
/// it is not found yet) and reading the key Secret by name.
pub fn discovery_steps(survey: &DiscoverySurvey, px_namespace: Option<&str>) -> Vec<Step> {
    let mut steps = Vec::new();
    if survey.install_needed {
        let lists: &[&'static str] = match &survey.install {
            Ok(Some(Install::StorageCluster { .. })) => &[STORAGE_CLUSTERS],
            // Discovery lists StorageClusters first; a refusal there is noted, not fatal.
            Ok(Some(Install::DaemonSet { .. })) => &[DAEMON_SETS],
            _ => &[STORAGE_CLUSTERS, DAEMON_SETS],
        };
        let namespace = match &survey.install {
            Ok(Some(Install::StorageCluster { namespace, .. } | Install::DaemonSet { namespace, .. })) => {
                Some(namespace.as_str())
            }
            _ => px_namespace,
        };
        for resource in lists {
            steps.push(Step { permission: Permission::new("list", resource, Scope::of(namespace)), required: true });
        }
    }
    if let Some(SharedSecretRef { namespace: Some(namespace), name, .. }) = &survey.key_secret {
        steps.push(Step { permission: Permission::named("get", SECRETS, namespace, name), required: true });
    }
    steps
}

/// `tenant`: find the key, read the tenant's Secret (its `sub`), create or update it; create
/// the namespace only with `--create-namespace`.
pub fn tenant_steps(scope: &Scope, discovery: &[Step]) -> Vec<Step> {
    let mut steps: Vec<Step> = ["get", "create", "update"]
        .into_iter()
        .map(|verb| Step { permission: Permission::new(verb, SECRETS, scope.clone()), required: true })
        .collect();
    steps.push(Step { permission: Permission::new("create", "namespaces", Scope::Cluster), required: false });
    steps.extend(discovery.iter().cloned());
    steps
}

/// `list`: page through Secrets. Reading the key is optional: without it, claims are judged
/// without their signature.
pub fn list_steps(scope: &Scope, discovery: &[Step]) -> Vec<Step> {
    let mut steps = vec![Step { permission: Permission::new("list", SECRETS, scope.clone()), required: true }];
    steps.extend(discovery.iter().map(|s| Step { required: false, ..s.clone() }));
    steps
}

/// `rotate`: list and read the token Secrets, write them back, and record an Event on each.
pub fn rotate_steps(scope: &Scope, discovery: &[Step]) -> Vec<Step> {
    let mut steps: Vec<Step> = [("list", SECRETS), ("get", SECRETS), ("update", SECRETS), ("create", "events")]
        .into_iter()
        .map(|(verb, resource)| Step { permission: Permission::new(verb, resource, scope.clone()), required: true })
        .collect();
    steps.extend(discovery.iter().cloned());
    steps
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discovery::DiscoveryError;

    fn survey(install: Option<Install>, key_secret: Option<SharedSecretRef>, install_needed: bool) -> DiscoverySurvey {
        DiscoverySurvey {
            looked_at: vec![],
            install_needed,
            install: Ok(install),
            key_secret,
            key: Some(Err(DiscoveryError::NoKeyOffline)),
            issuer: None,
        }
    }

    fn names(steps: &[Step]) -> Vec<String> {
        steps
            .iter()
            .map(|s| {
                let p = &s.permission;
                format!(
                    "{} {} {:?} {}{}",
                    p.verb,
                    p.resource,
                    p.scope,
                    p.name.as_deref().unwrap_or("-"),
                    if s.required { "" } else { " (optional)" }
                )
            })
            .collect()
    }

    #[test]
    fn discovery_lists_where_the_install_is_and_reads_the_key_by_name() {
        let found = Install::StorageCluster { namespace: "portworx".into(), name: "px".into() };
        let key = SharedSecretRef::new("portworx", "px-shared-secret", "shared-secret");
        assert_eq!(
            names(&discovery_steps(&survey(Some(found), Some(key.clone()), true), None)),
            [
                "list storageclusters.core.libopenstorage.org Namespace(\"portworx\") -",
                "get secrets Namespace(\"portworx\") px-shared-secret"
            ]
        );
        assert_eq!(
            names(&discovery_steps(&survey(None, None, true), Some("px"))),
            [
                "list storageclusters.core.libopenstorage.org Namespace(\"px\") -",
                "list daemonsets.apps Namespace(\"px\") -"
            ]
        );
        assert_eq!(
            names(&discovery_steps(&survey(None, Some(key), false), None)),
            ["get secrets Namespace(\"portworx\") px-shared-secret"],
            "key and issuer given: no install to find"
        );
    }

    #[test]
    fn each_command_needs_its_own_steps() {
        let scope = Scope::of(Some("team-a"));
        let key = [Step { permission: Permission::named("get", "secrets", "kube-system", "pxkeys"), required: true }];
        assert_eq!(
            names(&tenant_steps(&scope, &key)),
            [
                "get secrets Namespace(\"team-a\") -",
                "create secrets Namespace(\"team-a\") -",
                "update secrets Namespace(\"team-a\") -",
                "create namespaces Cluster - (optional)",
                "get secrets Namespace(\"kube-system\") pxkeys",
            ]
        );
        assert_eq!(
            names(&list_steps(&Scope::of(None), &key)),
            ["list secrets AllNamespaces -", "get secrets Namespace(\"kube-system\") pxkeys (optional)"]
        );
        assert_eq!(
            names(&rotate_steps(&scope, &[])),
            [
                "list secrets Namespace(\"team-a\") -",
                "get secrets Namespace(\"team-a\") -",
                "update secrets Namespace(\"team-a\") -",
                "create events Namespace(\"team-a\") -",
            ]
        );
    }
}
