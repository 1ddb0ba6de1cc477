//! The API server refuses a write: a failing admission webhook.

use std::time::{Duration, Instant};

use serde_json::json;

use super::{shared_key, tenant_args};
use crate::support::*;

/// A ValidatingWebhookConfiguration on Secrets in `namespaces` whose endpoint does not exist
/// (nothing listens on 127.0.0.1:1), failurePolicy Fail: every write there fails with a 500
/// naming the webhook. Removed when dropped.
struct FailingWebhook {
    config: String,
    webhook: String,
}

impl FailingWebhook {
    fn install(namespaces: &[&str]) -> FailingWebhook {
        let suffix = random_name_suffix();
        let hook = FailingWebhook {
            config: format!("pxtoken-faults-{suffix}"),
            webhook: format!("secrets.{suffix}.faults.test"),
        };
        apply_json(&json!({
            "apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingWebhookConfiguration",
            "metadata": {"name": hook.config},
            "webhooks": [{
                "name": hook.webhook,
                "clientConfig": {"url": "https://127.0.0.1:1/"},
                "rules": [{"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE", "UPDATE"], "resources": ["secrets"]}],
                "namespaceSelector": {"matchExpressions": [
                    {"key": "kubernetes.io/metadata.name", "operator": "In", "values": namespaces},
                ]},
                "failurePolicy": "Fail", "sideEffects": "None", "admissionReviewVersions": ["v1"], "timeoutSeconds": 5,
            }],
        }));
        // The API server picks webhook configurations up from a watch: wait until it calls it.
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let probe = kubectl("admin")
                .args(["create", "secret", "generic", "probe", "--dry-run=server", "-n", namespaces[0]])
                .run();
            if probe.stderr.contains(&hook.webhook) {
                return hook;
            }
            assert!(Instant::now() < deadline, "the webhook is not called 30s after it was installed:\n{probe}");
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for FailingWebhook {
    fn drop(&mut self) {
        let _ = kubectl("admin")
            .args(["delete", "validatingwebhookconfiguration", &self.config, "--ignore-not-found"])
            .run();
    }
}

#[test]
fn failing_admission_webhook_is_named_and_nothing_is_written() {
    let (ns, px) = shared_key();
    let new_tenant = TestNamespace::new("webhook-new");
    pxtoken("admin").args(tenant_args(&ns, &px)).succeeds();
    let before = get_json("secret", Some(&ns), "px-k8s-user").unwrap();

    let hook = FailingWebhook::install(&[&ns, &new_tenant]);
    let failure = |verb: &str, namespace: &str| {
        format!(
            "error: cannot {verb} secrets \"px-k8s-user\" in namespace \"{namespace}\": Internal error occurred: failed calling webhook \"{}\": failed to call webhook: Post \"https://127.0.0.1:1/?timeout=5s\": dial tcp 127.0.0.1:1: connect: connection refused: an admission webhook of the cluster is failing: ask its owner (kubectl get validatingwebhookconfigurations,mutatingwebhookconfigurations)\n",
            hook.webhook
        )
    };

    let renew = pxtoken("admin").args(tenant_args(&ns, &px)).fails();
    assert_eq!((renew.code, renew.stderr.as_str()), (Some(1), failure("update", &ns).as_str()));
    let after = get_json("secret", Some(&ns), "px-k8s-user").unwrap();
    assert_eq!(after["metadata"]["resourceVersion"], before["metadata"]["resourceVersion"], "the Secret changed");

    let create = pxtoken("admin").args(tenant_args(&new_tenant, &px)).fails();
    assert_eq!((create.code, create.stderr.as_str()), (Some(1), failure("create", &new_tenant).as_str()));
    assert!(!secret_exists(&new_tenant, "px-k8s-user"));
}
