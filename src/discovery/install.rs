//! Finding the Portworx install in the cluster, and what it says about its key and issuer
//! (SPEC discovery steps 1 and 2): a StorageCluster with security on, else a DaemonSet whose
//! pods read the shared secret or pass `-jwt_issuer`.
//!
//! A list the user may not read is a finding, not a failure: they may still read the key Secret.

use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, ListParams};

use super::error::{DiscoveryError, NOT_ALLOWED_TO_LIST};
use super::lean_daemonset::LeanDaemonSet;
use super::reference::{OPERATOR_DEFAULT_SECRET, SHARED_SECRET_KEY, SharedSecretRef};
use super::setup::Install;
use crate::connection::{ApiAction, ApiError, Connection};
use crate::paging::list_pages;

/// Issuer the operator uses when `spec.security.auth.selfSigned.issuer` is empty.
pub const OPERATOR_DEFAULT_ISSUER: &str = "operator.portworx.io";
const SHARED_SECRET_ENV_IN_POD: &str = "PORTWORX_AUTH_JWT_SHAREDSECRET";
const ISSUER_ENV_IN_POD: &str = "PORTWORX_AUTH_JWT_ISSUER";
const STORAGE_CLUSTERS: &str = "storageclusters.core.libopenstorage.org";

/// Namespaces Portworx is installed in by its docs, operator and Helm chart: where discovery
/// looks when the user may not list across all namespaces.
const USUAL_PX_NAMESPACES: [&str; 2] = ["kube-system", "portworx"];

/// What a Portworx install says about its key and issuer.
pub(super) struct InstallFacts {
    pub install: Install,
    pub secret: Option<SharedSecretRef>,
    /// The issuer and where in the install it was read.
    pub issuer: Option<(String, &'static str)>,
}

/// Step 1 and 2 of discovery: a StorageCluster with security on, else a Portworx DaemonSet.
/// Without `px_namespace` it lists across namespaces, and falls back to the usual Portworx
/// namespaces when that is forbidden (a namespace-scoped administrator).
pub(super) async fn find_install(
    conn: &Connection,
    px_namespace: Option<&str>,
    looked_at: &mut Vec<String>,
) -> Result<Option<InstallFacts>, DiscoveryError> {
    let mut found = Vec::new();
    for kind in [InstallKind::StorageCluster, InstallKind::DaemonSet] {
        let listed = list_installs(conn, kind, px_namespace, looked_at, &mut found).await?;
        if !listed && px_namespace.is_none() {
            for ns in USUAL_PX_NAMESPACES {
                list_installs(conn, kind, Some(ns), looked_at, &mut found).await?;
            }
        }
        if !found.is_empty() {
            break;
        }
    }
    if found.len() > 1 {
        return Err(DiscoveryError::Ambiguous { installs: found.into_iter().map(|f| f.install).collect() });
    }
    Ok(found.pop())
}

#[derive(Debug, Clone, Copy)]
enum InstallKind {
    StorageCluster,
    DaemonSet,
}

/// Lists one kind of install in one scope into `found`; false when the list was forbidden.
async fn list_installs(
    conn: &Connection,
    kind: InstallKind,
    scope: Option<&str>,
    looked_at: &mut Vec<String>,
    found: &mut Vec<InstallFacts>,
) -> Result<bool, DiscoveryError> {
    let listed = match kind {
        InstallKind::StorageCluster => find_storage_clusters(conn, scope, looked_at).await?,
        InstallKind::DaemonSet => find_daemonsets(conn, scope, looked_at).await?,
    };
    match listed {
        Some(mut installs) => {
            found.append(&mut installs);
            Ok(true)
        }
        None => Ok(false),
    }
}

fn where_(px_namespace: Option<&str>) -> String {
    px_namespace.map(|n| format!("in namespace {n}")).unwrap_or_else(|| "in all namespaces".into())
}

/// Reports a list that could not be read as a finding, not a failure: the user may lack rights
/// there and still have them on the Secret itself.
/// Returns `None` when the list was forbidden, `Some(empty)` when the API is not installed.
fn note_unlistable(
    err: ApiError,
    what: &str,
    looked_at: &mut Vec<String>,
) -> Result<Option<Vec<InstallFacts>>, DiscoveryError> {
    if err.is_forbidden() {
        looked_at.push(format!("{what}{NOT_ALLOWED_TO_LIST}"));
        Ok(None)
    } else if err.is_not_found() {
        looked_at.push(format!("{what}: API not installed"));
        Ok(Some(Vec::new()))
    } else {
        Err(err.into())
    }
}

async fn find_storage_clusters(
    conn: &Connection,
    px_namespace: Option<&str>,
    looked_at: &mut Vec<String>,
) -> Result<Option<Vec<InstallFacts>>, DiscoveryError> {
    let resource = ApiResource::from_gvk(&GroupVersionKind::gvk("core.libopenstorage.org", "v1", "StorageCluster"));
    let api: Api<DynamicObject> = match px_namespace {
        Some(ns) => Api::namespaced_with(conn.client.clone(), ns, &resource),
        None => Api::all_with(conn.client.clone(), &resource),
    };
    let what = format!("StorageClusters {}", where_(px_namespace));
    let mut found = Vec::new();
    let mut insecure = Vec::new();
    let action = ApiAction::new("list", STORAGE_CLUSTERS, px_namespace, None);
    let listed = list_pages(conn, &api, &ListParams::default(), action, |stc: DynamicObject| {
        let namespace = stc.metadata.namespace.clone().unwrap_or_default();
        let name = stc.metadata.name.clone().unwrap_or_default();
        let install = Install::StorageCluster { namespace: namespace.clone(), name };
        match storage_cluster_facts(&stc.data) {
            Some((secret_name, issuer)) => found.push(InstallFacts {
                secret: Some(SharedSecretRef::new(&namespace, &secret_name, SHARED_SECRET_KEY)),
                issuer: Some(issuer),
                install,
            }),
            None => insecure.push(install.to_string()),
        }
    })
    .await;
    if let Err(err) = listed {
        return note_unlistable(err, &what, looked_at);
    }
    let mut note = format!("{what}: {} with security enabled", found.len());
    if !insecure.is_empty() {
        note.push_str(&format!(" ({} without)", insecure.join(", ")));
    }
    tracing::debug!("{note}");
    looked_at.push(note);
    Ok(Some(found))
}

/// The shared-secret name and issuer of a StorageCluster with security enabled, as the
/// operator reads them (`spec.security.auth.selfSigned`, then `spec.env`, then its defaults).
fn storage_cluster_facts(data: &serde_json::Value) -> Option<(String, (String, &'static str))> {
    let security = data.pointer("/spec/security")?;
    if security.get("enabled").and_then(|v| v.as_bool()) != Some(true) {
        return None;
    }
    let self_signed = security.pointer("/auth/selfSigned");
    let text = |key: &str| {
        self_signed.and_then(|s| s.get(key)).and_then(|v| v.as_str()).filter(|s| !s.is_empty()).map(str::to_owned)
    };
    let secret = text("sharedSecret").unwrap_or_else(|| OPERATOR_DEFAULT_SECRET.into());
    let env_issuer = data.pointer("/spec/env").and_then(|v| v.as_array()).and_then(|env| {
        env.iter()
            .find(|e| e.get("name").and_then(|n| n.as_str()) == Some(ISSUER_ENV_IN_POD))
            .and_then(|e| e.get("value")?.as_str().filter(|s| !s.is_empty()).map(str::to_owned))
    });
    let issuer = match (text("issuer"), env_issuer) {
        (Some(issuer), _) => (issuer, "spec.security.auth.selfSigned.issuer"),
        (None, Some(issuer)) => (issuer, "spec.env PORTWORX_AUTH_JWT_ISSUER"),
        (None, None) => (OPERATOR_DEFAULT_ISSUER.to_owned(), "the operator's default issuer"),
    };
    Some((secret, issuer))
}

async fn find_daemonsets(
    conn: &Connection,
    px_namespace: Option<&str>,
    looked_at: &mut Vec<String>,
) -> Result<Option<Vec<InstallFacts>>, DiscoveryError> {
    let api: Api<LeanDaemonSet> = match px_namespace {
        Some(ns) => Api::namespaced(conn.client.clone(), ns),
        None => Api::all(conn.client.clone()),
    };
    let what = format!("DaemonSets {}", where_(px_namespace));
    let mut found = Vec::new();
    let action = ApiAction::new("list", "daemonsets.apps", px_namespace, None);
    let listed = list_pages(conn, &api, &ListParams::default(), action, |ds: LeanDaemonSet| {
        if let Some(facts) = daemonset_facts(&ds) {
            found.push(facts);
        }
    })
    .await;
    if let Err(err) = listed {
        return note_unlistable(err, &what, looked_at);
    }
    let note = format!("{what}: {} running Portworx with auth", found.len());
    tracing::debug!("{note}");
    looked_at.push(note);
    Ok(Some(found))
}

/// A DaemonSet is a Portworx install with auth when a container reads the shared secret
/// from a Secret or passes `-jwt_issuer`.
fn daemonset_facts(ds: &LeanDaemonSet) -> Option<InstallFacts> {
    let namespace = ds.metadata.namespace.clone().unwrap_or_default();
    let install =
        Install::DaemonSet { namespace: namespace.clone(), name: ds.metadata.name.clone().unwrap_or_default() };
    let containers = &ds.spec.template.spec.as_ref()?.containers;
    containers.iter().find_map(|container| {
        let env = container.env.as_deref().unwrap_or_default();
        let secret = env.iter().find(|e| e.name == SHARED_SECRET_ENV_IN_POD).and_then(|e| {
            let selector = e.value_from.as_ref()?.secret_key_ref.as_ref()?;
            Some(SharedSecretRef::new(&namespace, &selector.name, &selector.key))
        });
        let args = container.args.iter().chain(container.command.iter()).flatten().map(String::as_str);
        let issuer = jwt_issuer_arg(args).map(|i| (i, "container arg -jwt_issuer")).or_else(|| {
            env.iter()
                .find(|e| e.name == ISSUER_ENV_IN_POD)
                .and_then(|e| e.value.clone())
                .filter(|v| !v.is_empty())
                .map(|i| (i, "container env PORTWORX_AUTH_JWT_ISSUER"))
        });
        (secret.is_some() || issuer.is_some()).then(|| InstallFacts { install: install.clone(), secret, issuer })
    })
}

/// Finds `-jwt_issuer VALUE` (or `--jwt_issuer`, `=VALUE`) in a container's arguments.
fn jwt_issuer_arg<'a>(mut args: impl Iterator<Item = &'a str>) -> Option<String> {
    while let Some(arg) = args.next() {
        let flag = arg.trim_start_matches('-');
        if arg.starts_with('-') {
            if flag == "jwt_issuer" {
                return args.next().map(str::to_owned).filter(|v| !v.is_empty());
            }
            if let Some(value) = flag.strip_prefix("jwt_issuer=") {
                return Some(value.to_owned()).filter(|v| !v.is_empty());
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_cluster_issuer_follows_the_operator() {
        let stc = |spec: serde_json::Value| storage_cluster_facts(&serde_json::json!({ "spec": spec }));
        assert_eq!(stc(serde_json::json!({})), None);
        assert_eq!(stc(serde_json::json!({"security": {"enabled": false}})), None);
        let (secret, (issuer, _)) = stc(serde_json::json!({"security": {"enabled": true}})).unwrap();
        assert_eq!((secret.as_str(), issuer.as_str()), ("px-shared-secret", "operator.portworx.io"));
        let (secret, (issuer, _)) = stc(serde_json::json!({"security": {"enabled": true, "auth": {"selfSigned": {"issuer": "a.io", "sharedSecret": "mine"}}}})).unwrap();
        assert_eq!((secret.as_str(), issuer.as_str()), ("mine", "a.io"));
        let (_, (issuer, _)) =
            stc(serde_json::json!({"security": {"enabled": true, "auth": {"selfSigned": {"issuer": ""}}},
            "env": [{"name": "PORTWORX_AUTH_JWT_ISSUER", "value": "env.io"}]}))
            .unwrap();
        assert_eq!(issuer, "env.io");
    }

    #[test]
    fn jwt_issuer_is_read_from_args_in_every_spelling() {
        let find = |args: &[&str]| jwt_issuer_arg(args.iter().copied());
        assert_eq!(find(&["-c", "px", "-jwt_issuer", "portworx.com"]), Some("portworx.com".into()));
        assert_eq!(find(&["--jwt_issuer=example.io"]), Some("example.io".into()));
        assert_eq!(find(&["-jwt_issuer"]), None);
        assert_eq!(find(&["-c", "jwt_issuer"]), None);
    }

    /// Discovery in a cluster with both install styles (the operator's StorageCluster in
    /// `px-op`, the DaemonSet in kube-system), each with its own issuer and Secret.
    mod precedence {
        use serde_json::{Value, json};

        use super::*;
        use crate::fake_api::{self, block_on};

        const STORAGE_CLUSTERS: &str = "/apis/core.libopenstorage.org/v1/storageclusters";
        const DAEMONSETS: &str = "/apis/apps/v1/daemonsets";

        fn storage_cluster(security: bool) -> Value {
            json!({"apiVersion": "core.libopenstorage.org/v1", "kind": "StorageClusterList", "metadata": {},
                "items": [{"apiVersion": "core.libopenstorage.org/v1", "kind": "StorageCluster",
                    "metadata": {"name": "px-cluster", "namespace": "px-op"},
                    "spec": {"security": {"enabled": security,
                        "auth": {"selfSigned": {"issuer": "operator.io", "sharedSecret": "op-secret"}}}}}]})
        }

        fn daemonset() -> Value {
            let env = json!([{"name": SHARED_SECRET_ENV_IN_POD,
                "valueFrom": {"secretKeyRef": {"name": "pxkeys", "key": "shared-secret"}}}]);
            json!({"apiVersion": "apps/v1", "kind": "DaemonSetList", "metadata": {},
                "items": [{"metadata": {"name": "portworx", "namespace": "kube-system"},
                    "spec": {"selector": {}, "template": {"spec": {"containers": [{"name": "portworx",
                        "image": "portworx/oci-monitor", "args": ["-jwt_issuer", "daemonset.io"], "env": env}]}}}}]})
        }

        /// What discovery settles on: the install, its Secret and issuer.
        fn found(routes: Vec<(&'static str, &'static str, u16, Value)>) -> (Install, String, String) {
            block_on(async {
                let (conn, _) = fake_api::routed(routes);
                let facts = find_install(&conn, None, &mut Vec::new()).await.unwrap().expect("an install");
                (facts.install, facts.secret.unwrap().to_string(), facts.issuer.unwrap().0)
            })
        }

        #[test]
        fn a_storage_cluster_wins_over_a_daemonset() {
            let (install, secret, issuer) = found(vec![
                ("GET", STORAGE_CLUSTERS, 200, storage_cluster(true)),
                ("GET", DAEMONSETS, 200, daemonset()),
            ]);
            assert_eq!(install, Install::StorageCluster { namespace: "px-op".into(), name: "px-cluster".into() });
            assert_eq!((secret.as_str(), issuer.as_str()), ("px-op/op-secret:shared-secret", "operator.io"));
        }

        #[test]
        fn the_daemonset_is_used_when_no_storage_cluster_has_security_on() {
            let daemonset_install = Install::DaemonSet { namespace: "kube-system".into(), name: "portworx".into() };
            for storage_clusters in [(200, storage_cluster(false)), (404, fake_api::status(404, "NotFound", ""))] {
                let (code, body) = storage_clusters;
                let (install, secret, issuer) =
                    found(vec![("GET", STORAGE_CLUSTERS, code, body), ("GET", DAEMONSETS, 200, daemonset())]);
                assert_eq!(install, daemonset_install);
                assert_eq!((secret.as_str(), issuer.as_str()), ("kube-system/pxkeys:shared-secret", "daemonset.io"));
            }
        }
    }
}
