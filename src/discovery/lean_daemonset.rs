//! A DaemonSet as discovery reads it: its metadata and its containers' arguments and
//! environment, which say whether it runs Portworx with auth. k8s-openapi's `DaemonSet` would
//! build the whole pod template (every volume source, probe, affinity…): its deserializer alone
//! is about 150 KB of the release binary, for fields discovery never looks at. Unknown fields are
//! skipped while parsing.

use std::borrow::Cow;

use k8s_openapi::NamespaceResourceScope;
use k8s_openapi::api::core::v1::EnvVar;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub(super) struct LeanDaemonSet {
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: Spec,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub(super) struct Spec {
    #[serde(default)]
    pub template: Template,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub(super) struct Template {
    pub spec: Option<PodSpec>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub(super) struct PodSpec {
    #[serde(default)]
    pub containers: Vec<Container>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub(super) struct Container {
    pub args: Option<Vec<String>>,
    pub command: Option<Vec<String>>,
    pub env: Option<Vec<EnvVar>>,
}

/// Lists through the DaemonSets API (`/apis/apps/v1/…/daemonsets`) like `DaemonSet` itself.
impl kube::Resource for LeanDaemonSet {
    type DynamicType = ();
    type Scope = NamespaceResourceScope;

    fn kind(_: &()) -> Cow<'_, str> {
        "DaemonSet".into()
    }
    fn group(_: &()) -> Cow<'_, str> {
        "apps".into()
    }
    fn version(_: &()) -> Cow<'_, str> {
        "v1".into()
    }
    fn plural(_: &()) -> Cow<'_, str> {
        "daemonsets".into()
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
    fn keeps_the_containers_arguments_and_environment() {
        let ds: LeanDaemonSet = serde_json::from_value(serde_json::json!({
            "apiVersion": "apps/v1", "kind": "DaemonSet",
            "metadata": {"name": "portworx", "namespace": "kube-system"},
            "spec": {"selector": {"matchLabels": {"name": "portworx"}}, "template": {
                "metadata": {"labels": {"name": "portworx"}},
                "spec": {"volumes": [{"name": "etc", "hostPath": {"path": "/etc/pwx"}}],
                    "containers": [{"name": "portworx", "image": "portworx/oci-monitor:3.1.0",
                        "args": ["-c", "px-cluster", "-jwt_issuer", "portworx.com"], "command": ["/start"],
                        "livenessProbe": {"httpGet": {"port": 9001}},
                        "env": [{"name": "PORTWORX_AUTH_JWT_SHAREDSECRET",
                            "valueFrom": {"secretKeyRef": {"name": "pxkeys", "key": "shared-secret"}}}]}]}}}
        }))
        .unwrap();
        assert_eq!(ds.metadata.name.as_deref(), Some("portworx"));
        let container = &ds.spec.template.spec.unwrap().containers[0];
        assert_eq!(container.args.as_deref().unwrap()[3], "portworx.com");
        assert_eq!(container.command.as_deref(), Some(&["/start".to_owned()][..]));
        let env = &container.env.as_deref().unwrap()[0];
        assert_eq!(env.value_from.as_ref().unwrap().secret_key_ref.as_ref().unwrap().name, "pxkeys");
    }

    #[test]
    fn a_daemonset_without_a_template_spec_has_no_containers() {
        let ds: LeanDaemonSet = serde_json::from_value(serde_json::json!({"metadata": {"name": "x"}})).unwrap();
        assert!(ds.spec.template.spec.is_none());
    }
}
