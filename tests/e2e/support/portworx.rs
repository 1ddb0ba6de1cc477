//! Portworx as each install style leaves it in a cluster (objects only: nothing runs), and
//! checking tokens as Portworx would.

use std::collections::BTreeMap;
use std::process::Command;

use base64::Engine as _;
use serde_json::{Value, json};

use super::namespaces::assert_may_write;
use super::random::random_secret;
use super::run::{CommandExt, apply_json};

/// Issuer Portworx uses when a StorageCluster names none (operator `selfSigned.issuer` default).
pub const OPERATOR_DEFAULT_ISSUER: &str = "operator.portworx.io";
/// Image of the fixtures' Portworx containers (never pulled: there are no nodes).
pub const PORTWORX_IMAGE: &str = "portworx/oci-monitor:3.1.0";

/// What a Portworx fixture laid down: where the shared secret is, its value and the issuer
/// Portworx trusts, so a test can check the tokens the plugin writes.
#[derive(Debug, Clone)]
pub struct PortworxInstall {
    pub namespace: String,
    /// Secret holding the shared secret, and its key.
    pub secret_name: String,
    pub secret_key: String,
    /// The shared secret (HS256 key), as stored in the Secret.
    pub shared_secret: String,
    /// The issuer Portworx trusts (the operator's default when the StorageCluster names none).
    pub issuer: String,
}

impl PortworxInstall {
    /// `--shared-secret-ref` value for this install: `NAMESPACE/NAME:KEY`.
    pub fn secret_ref(&self) -> String {
        format!("{}/{}:{}", self.namespace, self.secret_name, self.secret_key)
    }

    /// Checks `token` as Portworx would (HS256 with this shared secret, this issuer, not
    /// expired, required claims present) and returns its claims; panics if it would be rejected.
    pub fn verify_token(&self, token: &str) -> Value {
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
        validation.set_issuer(&[&self.issuer]);
        validation.set_required_spec_claims(&["iss", "sub", "exp", "iat"]);
        validation.validate_aud = false;
        let key = jsonwebtoken::DecodingKey::from_secret(self.shared_secret.as_bytes()).expect("an HMAC key");
        let claims = jsonwebtoken::decode::<Value>(token, &key, &validation)
            .unwrap_or_else(|e| panic!("token rejected with the {} shared secret: {e}", self.secret_ref()))
            .claims;
        for required in ["name", "email"] {
            assert!(claims.get(required).is_some(), "token has no {required:?} claim: {claims}");
        }
        claims
    }

    /// `namespace → sub` of the token Secret (`px-k8s-user`) of each of `tenants` that has one,
    /// read with one list through `kubectl` (admin's, of whichever control plane). Each is
    /// checked to be whole: a token this install accepts, issued to that namespace, with the
    /// subject and expiry annotations of that token.
    pub fn token_subjects(&self, mut kubectl: Command, tenants: &[String]) -> BTreeMap<String, String> {
        let out = kubectl
            .args(["get", "secrets", "-A", "--field-selector", "metadata.name=px-k8s-user", "-o", "json"])
            .succeeds();
        let list: Value = serde_json::from_str(&out).expect("kubectl get -o json printed JSON");
        let mut subjects = BTreeMap::new();
        for secret in list["items"].as_array().expect("a List") {
            let namespace = secret["metadata"]["namespace"].as_str().expect("a namespaced Secret");
            if !tenants.iter().any(|t| t == namespace) {
                continue;
            }
            let token = secret["data"]["auth-token"].as_str().unwrap_or_else(|| panic!("{namespace}: no auth-token"));
            let token = base64::engine::general_purpose::STANDARD.decode(token).expect("Secret data is base64");
            let claims = self.verify_token(&String::from_utf8(token).expect("a UTF-8 token"));
            assert_eq!(claims["name"], namespace, "{namespace} holds another tenant's token");
            let annotations = &secret["metadata"]["annotations"];
            assert_eq!(annotations["kubectl-pxtoken/subject"], claims["sub"], "{namespace}: {annotations}");
            let expires = jiff::Timestamp::from_second(claims["exp"].as_i64().expect("exp")).expect("a time");
            assert_eq!(annotations["kubectl-pxtoken/expires-at"], expires.to_string().as_str(), "{namespace}");
            subjects.insert(namespace.to_owned(), claims["sub"].as_str().expect("a sub").to_owned());
        }
        subjects
    }
}

/// The DaemonSet install (Portworx docs "enable security"): Secret `<ns>/pxkeys` with
/// `shared-secret` = `shared_secret`, `system-secret` and `stork-secret`; DaemonSet `portworx`
/// whose container reads the shared secret from env `PORTWORX_AUTH_JWT_SHAREDSECRET` and trusts
/// `-jwt_issuer <issuer>`. Use the test's own namespace, or `kube-system` as the docs do, borrowed
/// with [`KubeSystem::borrow`](super::KubeSystem::borrow).
pub fn install_daemonset_style(namespace: &str, shared_secret: &str, issuer: &str) -> PortworxInstall {
    assert_may_write(namespace);
    let secret_ref = |key: &str| json!({"secretKeyRef": {"name": "pxkeys", "key": key}});
    apply_json(&json!({
        "apiVersion": "v1", "kind": "List", "items": [
            {
                "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                "metadata": {"name": "pxkeys", "namespace": namespace},
                "stringData": {
                    "shared-secret": shared_secret,
                    "system-secret": random_secret(),
                    "stork-secret": random_secret(),
                },
            },
            {
                "apiVersion": "apps/v1", "kind": "DaemonSet",
                "metadata": {"name": "portworx", "namespace": namespace, "labels": {"name": "portworx"}},
                "spec": {
                    "selector": {"matchLabels": {"name": "portworx"}},
                    "template": {
                        "metadata": {"labels": {"name": "portworx"}},
                        "spec": {
                            "hostNetwork": true,
                            "containers": [{
                                "name": "portworx",
                                "image": PORTWORX_IMAGE,
                                "args": ["-c", "px-cluster", "-jwt_issuer", issuer, "-x", "kubernetes", "-b", "-secret_type", "k8s"],
                                "env": [
                                    {"name": "PORTWORX_AUTH_JWT_SHAREDSECRET", "valueFrom": secret_ref("shared-secret")},
                                    {"name": "PORTWORX_AUTH_SYSTEM_KEY", "valueFrom": secret_ref("system-secret")},
                                    {"name": "PORTWORX_AUTH_STORK_KEY", "valueFrom": secret_ref("stork-secret")},
                                ],
                            }],
                        },
                    },
                },
            },
        ],
    }));
    PortworxInstall {
        namespace: namespace.to_owned(),
        secret_name: "pxkeys".to_owned(),
        secret_key: "shared-secret".to_owned(),
        shared_secret: shared_secret.to_owned(),
        issuer: issuer.to_owned(),
    }
}

/// The Operator install (its CRD is always there, see [`storagecluster_crd`]): StorageCluster
/// `px-cluster` in `namespace` with security on and `auth.selfSigned` naming `issuer` (or no
/// issuer: Portworx then trusts `operator.portworx.io`) and shared secret `px-shared-secret`, and
/// Secret `<ns>/px-shared-secret` holding a fresh random `shared-secret`.
pub fn install_operator_style(namespace: &str, issuer: Option<&str>) -> PortworxInstall {
    assert_may_write(namespace);
    let shared_secret = random_secret();
    let mut self_signed = json!({"sharedSecret": "px-shared-secret"});
    if let Some(issuer) = issuer {
        self_signed["issuer"] = json!(issuer);
    }
    apply_json(&json!({
        "apiVersion": "v1", "kind": "List", "items": [
            {
                "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                "metadata": {"name": "px-shared-secret", "namespace": namespace},
                "stringData": {"shared-secret": shared_secret},
            },
            {
                "apiVersion": "core.libopenstorage.org/v1", "kind": "StorageCluster",
                "metadata": {"name": "px-cluster", "namespace": namespace},
                "spec": {
                    "image": PORTWORX_IMAGE,
                    "security": {"enabled": true, "auth": {"selfSigned": self_signed}},
                },
            },
        ],
    }));
    PortworxInstall {
        namespace: namespace.to_owned(),
        secret_name: "px-shared-secret".to_owned(),
        secret_key: "shared-secret".to_owned(),
        shared_secret,
        issuer: issuer.unwrap_or(OPERATOR_DEFAULT_ISSUER).to_owned(),
    }
}

/// The StorageCluster CRD (`storageclusters.core.libopenstorage.org`), as the Portworx operator
/// installs it (schema left open). The harness installs it when the control plane is set up.
pub(super) fn storagecluster_crd() -> Value {
    let open = json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true});
    json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "storageclusters.core.libopenstorage.org"},
        "spec": {
            "group": "core.libopenstorage.org",
            "scope": "Namespaced",
            "names": {
                "kind": "StorageCluster", "listKind": "StorageClusterList",
                "plural": "storageclusters", "singular": "storagecluster", "shortNames": ["stc"],
            },
            "versions": [{
                "name": "v1", "served": true, "storage": true,
                "subresources": {"status": {}},
                "schema": {"openAPIV3Schema": {
                    "type": "object",
                    "properties": {"spec": open, "status": open},
                }},
            }],
        },
    })
}
