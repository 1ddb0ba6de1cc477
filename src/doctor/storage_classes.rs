//! Whether a StorageClass hands tenant Secrets to Portworx: without one, a tenant's token is
//! stored and never used, and every PVC provisions as the guest (or is refused).

use std::collections::BTreeMap;

use k8s_openapi::api::storage::v1::StorageClass;
use kube::api::{Api, ListParams};

use super::check::Check;
use crate::connection::{ApiAction, ApiError, Connection};
use crate::paging::list_pages;
use crate::storage_class::{CSI_PROVISIONER, CSI_SECRET_PARAMETERS, IN_TREE_PROVISIONER, IN_TREE_SECRET_PARAMETERS};

/// Prefix of every CSI secret parameter (`…/<operation>-secret-name|namespace`); classes written
/// by hand may use operations the plugin does not write (`node-stage`, `controller-publish`).
const CSI_SECRET_PREFIX: &str = "csi.storage.k8s.io/";

/// A StorageClass whose volumes are provisioned with a tenant Secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WiredClass {
    pub name: String,
    pub in_tree: bool,
    /// `NAMESPACE/NAME` of the Secret, templates as written (`${pvc.namespace}/px-k8s-user`).
    pub secret: String,
}

/// The Secret a StorageClass hands to Portworx, if it is a Portworx class that hands one: CSI
/// `csi.storage.k8s.io/*-secret-name` (provisioner first), or the in-tree
/// `openstorage.io/auth-secret-name`.
pub fn wired_class(class: &StorageClass) -> Option<WiredClass> {
    let empty = BTreeMap::new();
    let params = class.parameters.as_ref().unwrap_or(&empty);
    let name = class.metadata.name.clone().unwrap_or_default();
    let (in_tree, secret_name, secret_namespace) = match class.provisioner.as_str() {
        CSI_PROVISIONER => {
            let other = params.keys().filter(|k| k.starts_with(CSI_SECRET_PREFIX) && k.ends_with("-secret-name"));
            let key = CSI_SECRET_PARAMETERS
                .iter()
                .map(|(name, _)| *name)
                .chain(other.map(String::as_str))
                .find(|k| params.contains_key(*k))?;
            let namespace_key = format!("{}-secret-namespace", key.trim_end_matches("-secret-name"));
            (false, params[key].clone(), params.get(&namespace_key).cloned())
        }
        IN_TREE_PROVISIONER => {
            let (name_key, namespace_key) = IN_TREE_SECRET_PARAMETERS;
            (true, params.get(name_key)?.clone(), params.get(namespace_key).cloned())
        }
        _ => return None,
    };
    let secret = match secret_namespace {
        Some(namespace) => format!("{namespace}/{secret_name}"),
        None => secret_name,
    };
    Some(WiredClass { name, in_tree, secret })
}

/// Every StorageClass that hands a tenant Secret to Portworx, a page at a time.
pub async fn wired_classes(conn: &Connection) -> Result<Vec<WiredClass>, ApiError> {
    let api: Api<StorageClass> = Api::all(conn.client.clone());
    let action = ApiAction::new("list", "storageclasses.storage.k8s.io", None, None);
    let mut found = Vec::new();
    list_pages(conn, &api, &ListParams::default(), action, |class| found.extend(wired_class(&class))).await?;
    Ok(found)
}

/// The `storageclass` line; `fix` is how to create one (the binary's command).
pub fn storage_class_check(found: Result<Vec<WiredClass>, ApiError>, fix: String) -> Check {
    const NAME: &str = "storageclass";
    match found {
        Ok(classes) if classes.is_empty() => Check::warn(
            NAME,
            "no StorageClass hands tenant Secrets to Portworx: tenants' PVCs will not use their tokens",
            fix,
        ),
        Ok(classes) => {
            let shown: Vec<String> = classes
                .iter()
                .take(3)
                .map(|c| format!("{} ({}, secret {})", c.name, if c.in_tree { "in-tree" } else { "CSI" }, c.secret))
                .collect();
            let more = classes.len().saturating_sub(3);
            let more = if more > 0 { format!(" and {more} more") } else { String::new() };
            Check::pass(NAME, format!("{}{more}", shown.join(", ")))
        }
        Err(err) if err.is_forbidden() => Check::skip(NAME, crate::message::one_line(&err)),
        Err(err) => Check::warn(NAME, crate::message::one_line(&err), fix),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(name: &str, provisioner: &str, params: &[(&str, &str)]) -> StorageClass {
        StorageClass {
            metadata: kube::api::ObjectMeta { name: Some(name.into()), ..Default::default() },
            provisioner: provisioner.into(),
            parameters: Some(params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()),
            ..Default::default()
        }
    }

    #[test]
    fn csi_classes_with_secret_parameters_are_wired() {
        let csi = class(
            "px-tenant",
            "pxd.portworx.com",
            &[
                ("repl", "3"),
                ("csi.storage.k8s.io/node-publish-secret-name", "px-k8s-user"),
                ("csi.storage.k8s.io/provisioner-secret-name", "px-k8s-user"),
                ("csi.storage.k8s.io/provisioner-secret-namespace", "${pvc.namespace}"),
            ],
        );
        assert_eq!(
            wired_class(&csi),
            Some(WiredClass {
                name: "px-tenant".into(),
                in_tree: false,
                secret: "${pvc.namespace}/px-k8s-user".into()
            })
        );
        let expand_only = class("x", "pxd.portworx.com", &[("csi.storage.k8s.io/controller-expand-secret-name", "s")]);
        assert_eq!(wired_class(&expand_only).map(|c| c.secret), Some("s".into()));
    }

    #[test]
    fn in_tree_classes_use_the_openstorage_parameters() {
        let in_tree = class(
            "px-legacy",
            "kubernetes.io/portworx-volume",
            &[("openstorage.io/auth-secret-name", "px-user-token"), ("openstorage.io/auth-secret-namespace", "team-a")],
        );
        assert_eq!(
            wired_class(&in_tree),
            Some(WiredClass { name: "px-legacy".into(), in_tree: true, secret: "team-a/px-user-token".into() })
        );
    }

    #[test]
    fn classes_without_a_secret_or_of_other_provisioners_are_not() {
        assert_eq!(wired_class(&class("plain", "pxd.portworx.com", &[("repl", "2")])), None);
        assert_eq!(
            wired_class(&class("ebs", "ebs.csi.aws.com", &[("csi.storage.k8s.io/provisioner-secret-name", "s")])),
            None
        );
        assert_eq!(wired_class(&class("mixed", "pxd.portworx.com", &[("openstorage.io/auth-secret-name", "s")])), None);
        let mut none = class("none", "pxd.portworx.com", &[]);
        none.parameters = None;
        assert_eq!(wired_class(&none), None);
    }

    #[test]
    fn the_line_names_the_classes_or_says_how_to_make_one() {
        let check = storage_class_check(Ok(vec![]), "kubectl pxtoken storageclass NAME --apply".into());
        assert_eq!(check.status, super::super::check::Status::Warn);
        assert_eq!(check.fix.as_deref(), Some("kubectl pxtoken storageclass NAME --apply"));
        let found =
            WiredClass { name: "px-tenant".into(), in_tree: false, secret: "${pvc.namespace}/px-k8s-user".into() };
        let check = storage_class_check(Ok(vec![found]), String::new());
        assert_eq!(check.detail, "px-tenant (CSI, secret ${pvc.namespace}/px-k8s-user)");
    }
}
