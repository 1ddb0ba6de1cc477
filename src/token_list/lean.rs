//! A Secret as the listing reads it: name, namespace, labels, annotations and data. Everything
//! else the API server sends, `managedFields` above all (a JSON tree per Secret), is skipped
//! while parsing instead of built and dropped, so a page of 500 Secrets costs about its tokens.
//! Fewer, smaller allocations per page also keep the heap from fragmenting as pages come and go:
//! memory stays flat however many pages a cluster has.

use std::borrow::Cow;
use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::{ByteString, NamespaceResourceScope};
use serde::{Deserialize, Deserializer};

/// The fields of a Secret that judging a token needs.
#[derive(Debug, Clone, Deserialize)]
pub(super) struct LeanSecret {
    #[serde(deserialize_with = "lean_metadata")]
    metadata: ObjectMeta,
    #[serde(default)]
    data: Option<BTreeMap<String, ByteString>>,
}

impl From<LeanSecret> for Secret {
    fn from(lean: LeanSecret) -> Secret {
        Secret { metadata: lean.metadata, data: lean.data, ..Secret::default() }
    }
}

#[derive(Deserialize)]
struct LeanMetadata {
    name: Option<String>,
    namespace: Option<String>,
    labels: Option<BTreeMap<String, String>>,
    annotations: Option<BTreeMap<String, String>>,
}

fn lean_metadata<'de, D: Deserializer<'de>>(deserializer: D) -> Result<ObjectMeta, D::Error> {
    let LeanMetadata { name, namespace, labels, annotations } = LeanMetadata::deserialize(deserializer)?;
    Ok(ObjectMeta { name, namespace, labels, annotations, ..ObjectMeta::default() })
}

/// Lists through the Secrets API (`/api/v1/…/secrets`) like `Secret` itself.
impl kube::Resource for LeanSecret {
    type DynamicType = ();
    type Scope = NamespaceResourceScope;

    fn kind(_: &()) -> Cow<'_, str> {
        "Secret".into()
    }
    fn group(_: &()) -> Cow<'_, str> {
        "".into()
    }
    fn version(_: &()) -> Cow<'_, str> {
        "v1".into()
    }
    fn plural(_: &()) -> Cow<'_, str> {
        "secrets".into()
    }
    fn meta(&self) -> &ObjectMeta {
        &self.metadata
    }
    fn meta_mut(&mut self) -> &mut ObjectMeta {
        &mut self.metadata
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_what_judging_needs_and_skips_the_rest() {
        let json = serde_json::json!({
            "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": "px-k8s-user", "namespace": "team-a", "uid": "u", "resourceVersion": "7",
                         "labels": {"app.kubernetes.io/managed-by": "kubectl-pxtoken"},
                         "annotations": {"kubectl-pxtoken/key-source": "env"},
                         "managedFields": [{"manager": "kubectl", "fieldsV1": {"f:data": {"f:auth-token": {}}}}]},
            "data": {"auth-token": "dG9rZW4="}
        });
        let secret = Secret::from(serde_json::from_value::<LeanSecret>(json).unwrap());
        assert_eq!(secret.metadata.name.as_deref(), Some("px-k8s-user"));
        assert_eq!(secret.metadata.namespace.as_deref(), Some("team-a"));
        assert_eq!(secret.metadata.labels.unwrap().len(), 1);
        assert_eq!(secret.metadata.annotations.unwrap()["kubectl-pxtoken/key-source"], "env");
        assert_eq!(secret.metadata.managed_fields, None);
        assert_eq!(secret.data.unwrap()["auth-token"].0, b"token");
        let bare: LeanSecret = serde_json::from_str(r#"{"metadata": {"name": "x"}}"#).unwrap();
        assert!(bare.data.is_none());
    }
}
