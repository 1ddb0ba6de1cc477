//! What the plugin writes besides the token: a managed-by label (so other commands find the
//! Secret, and so the plugin never takes over one it did not create) and annotations (so `list`
//! and `rotate` can judge a token without the key).

use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use kube::api::ObjectMeta;
use secrecy::{ExposeSecret, SecretString};

use crate::claims::TokenClaims;
use crate::discovery::KeySource;

/// Label that marks Secrets this plugin owns; other commands find tenant tokens by it.
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
pub const MANAGED_BY_VALUE: &str = "kubectl-pxtoken";
/// Annotations that let `list` and `rotate` judge a token without the key.
pub const SUBJECT_ANNOTATION: &str = "kubectl-pxtoken/subject";
pub const ISSUER_ANNOTATION: &str = "kubectl-pxtoken/issuer";
pub const EXPIRES_ANNOTATION: &str = "kubectl-pxtoken/expires-at";
pub const ISSUED_ANNOTATION: &str = "kubectl-pxtoken/issued-at";
pub const KEY_SOURCE_ANNOTATION: &str = "kubectl-pxtoken/key-source";
pub const KEY_VERSION_ANNOTATION: &str = "kubectl-pxtoken/key-version";
/// Default Secret name and key (the seed workflow's `px-k8s-user`, openstorage's `auth-token`).
pub const DEFAULT_SECRET_NAME: &str = "px-k8s-user";
pub const DEFAULT_SECRET_KEY: &str = "auth-token";

/// True when `secret` carries our managed-by label.
pub fn is_managed(secret: &Secret) -> bool {
    secret.metadata.labels.as_ref().and_then(|l| l.get(MANAGED_BY_LABEL)).is_some_and(|v| v == MANAGED_BY_VALUE)
}

/// What the plugin records next to a token.
#[derive(Debug, Clone)]
pub struct TokenRecord<'a> {
    pub token: &'a SecretString,
    pub claims: &'a TokenClaims,
    pub key_source: String,
    pub key_version: Option<String>,
}

impl<'a> TokenRecord<'a> {
    /// The record of `token`, with where its key came from (and the key Secret's version).
    pub fn new(token: &'a SecretString, claims: &'a TokenClaims, key_source: &KeySource) -> TokenRecord<'a> {
        TokenRecord {
            token,
            claims,
            key_source: key_source.annotation(),
            key_version: key_source.resource_version().map(str::to_owned),
        }
    }
}

/// A Unix time as RFC 3339 UTC (`2027-11-30T00:34:01Z`), as annotations and messages show it.
pub fn rfc3339(unix: i64) -> String {
    jiff::Timestamp::from_second(unix).map(|t| t.to_string()).unwrap_or_else(|_| unix.to_string())
}

/// The Secret to write: the existing one (other keys, labels, annotations and its
/// resourceVersion kept) with our token, label and annotations set, or a new Opaque Secret.
pub fn desired_secret(target: &super::SecretTarget, record: &TokenRecord<'_>, existing: Option<&Secret>) -> Secret {
    let mut secret = existing.cloned().unwrap_or_else(|| Secret {
        metadata: ObjectMeta {
            name: Some(target.name.clone()),
            namespace: Some(target.namespace.clone()),
            ..ObjectMeta::default()
        },
        type_: Some("Opaque".into()),
        ..Secret::default()
    });
    secret.metadata.managed_fields = None;
    secret.string_data = None;
    secret.metadata.labels.get_or_insert_with(BTreeMap::new).insert(MANAGED_BY_LABEL.into(), MANAGED_BY_VALUE.into());
    let annotations = secret.metadata.annotations.get_or_insert_with(BTreeMap::new);
    annotations.insert(SUBJECT_ANNOTATION.into(), record.claims.sub.clone());
    annotations.insert(ISSUER_ANNOTATION.into(), record.claims.iss.clone());
    annotations.insert(ISSUED_ANNOTATION.into(), rfc3339(record.claims.iat));
    annotations.insert(EXPIRES_ANNOTATION.into(), rfc3339(record.claims.exp));
    annotations.insert(KEY_SOURCE_ANNOTATION.into(), record.key_source.clone());
    match &record.key_version {
        Some(version) => annotations.insert(KEY_VERSION_ANNOTATION.into(), version.clone()),
        None => annotations.remove(KEY_VERSION_ANNOTATION),
    };
    secret
        .data
        .get_or_insert_with(BTreeMap::new)
        .insert(target.key.clone(), ByteString(record.token.expose_secret().as_bytes().to_vec()));
    secret
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::token_secret::SecretTarget;

    pub(crate) fn claims() -> TokenClaims {
        TokenClaims {
            iss: "px.io".into(),
            sub: "s-1".into(),
            name: "n".into(),
            email: "e".into(),
            roles: None,
            groups: None,
            iat: 0,
            exp: 86_400,
        }
    }

    #[test]
    fn new_secret_is_opaque_labelled_and_annotated() {
        let target = SecretTarget { namespace: "team-a".into(), name: "px-k8s-user".into(), key: "auth-token".into() };
        let token = SecretString::from("t.o.k");
        let record = TokenRecord {
            token: &token,
            claims: &claims(),
            key_source: "secret:kube-system/pxkeys:shared-secret".into(),
            key_version: Some("42".into()),
        };
        let secret = desired_secret(&target, &record, None);
        assert_eq!(secret.type_.as_deref(), Some("Opaque"));
        assert!(is_managed(&secret));
        assert_eq!(secret.metadata.resource_version, None, "a new Secret is created, not replaced");
        let annotations = secret.metadata.annotations.as_ref().unwrap();
        assert_eq!(annotations[SUBJECT_ANNOTATION], "s-1");
        assert_eq!(annotations[EXPIRES_ANNOTATION], "1970-01-02T00:00:00Z");
        assert_eq!(annotations[KEY_VERSION_ANNOTATION], "42");
        assert_eq!(secret.data.as_ref().unwrap()["auth-token"].0, b"t.o.k");
    }

    #[test]
    fn existing_secret_keeps_what_it_had_and_the_version_read() {
        let target = SecretTarget { namespace: "ns".into(), name: "s".into(), key: "auth-token".into() };
        let mut existing = Secret::default();
        existing.metadata.resource_version = Some("7031".into());
        existing.metadata.labels = Some(BTreeMap::from([("team".to_string(), "a".to_string())]));
        existing.data = Some(BTreeMap::from([("other".to_string(), ByteString(b"x".to_vec()))]));
        existing.type_ = Some("example.com/custom".into());
        let token = SecretString::from("t");
        let record = TokenRecord { token: &token, claims: &claims(), key_source: "file".into(), key_version: None };
        let secret = desired_secret(&target, &record, Some(&existing));
        // The replace is conditional on the version read: without it, a concurrent change is clobbered.
        assert_eq!(secret.metadata.resource_version.as_deref(), Some("7031"));
        assert_eq!(secret.type_.as_deref(), Some("example.com/custom"));
        assert_eq!(secret.metadata.labels.as_ref().unwrap()["team"], "a");
        assert_eq!(secret.data.as_ref().unwrap()["other"].0, b"x");
        assert!(secret.metadata.annotations.as_ref().unwrap().get(KEY_VERSION_ANNOTATION).is_none());
    }
}
