//! The Kubernetes Secret that holds a token: how it is labelled, read back and written.
//!
//! Writes are create-or-replace with the resourceVersion we read, so a Secret that changed
//! under us is never overwritten blindly, and a failed write changes nothing.

use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::{Namespace, Secret};
use kube::api::{Api, ObjectMeta, PostParams};
use secrecy::{ExposeSecret, SecretString};

use crate::claims::TokenClaims;
use crate::connection::{ApiAction, ApiError, Connection};
use crate::discovery::KeySource;
use crate::signing::unverified_claims;

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

/// kubectl's `--dry-run` strategies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DryRun {
    #[default]
    None,
    /// Print what would be sent; send no write.
    Client,
    /// Send the write with `dryRun=All`: the server validates and persists nothing.
    Server,
}

/// Where a token goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretTarget {
    pub namespace: String,
    pub name: String,
    pub key: String,
}

/// A token Secret as found in the cluster.
#[derive(Debug)]
pub struct ExistingSecret {
    pub secret: Secret,
    /// Carries our managed-by label.
    pub managed: bool,
    /// The `sub` of the token under the target key, read without verification.
    pub subject: Option<String>,
}

/// How a write went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteOutcome {
    Created,
    Configured,
}

impl WriteOutcome {
    pub fn as_str(&self) -> &'static str {
        match self {
            WriteOutcome::Created => "created",
            WriteOutcome::Configured => "configured",
        }
    }
}

/// Why a token Secret was not written.
#[derive(Debug, thiserror::Error)]
pub enum SecretWriteError {
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error(
        "secret {namespace}/{name} exists and was not created by kubectl-pxtoken; left untouched (pass --overwrite to take it over, or choose another --secret-name)"
    )]
    NotManaged { namespace: String, name: String },
    #[error("namespace {namespace:?} not found: create it first or pass --create-namespace")]
    NamespaceMissing { namespace: String },
    #[error(
        "secret {namespace}/{name} changed while the token was being issued; nothing was written, run the command again"
    )]
    Conflict { namespace: String, name: String },
}

/// Reads the target Secret, if any (one GET).
pub async fn read_existing(conn: &Connection, target: &SecretTarget) -> Result<Option<ExistingSecret>, ApiError> {
    let api: Api<Secret> = Api::namespaced(conn.client.clone(), &target.namespace);
    let action = ApiAction::new("get", "secrets", Some(&target.namespace), Some(&target.name));
    let Some(secret) = api.get_opt(&target.name).await.map_err(|err| conn.api_error(action, err))? else {
        return Ok(None);
    };
    let managed =
        secret.metadata.labels.as_ref().and_then(|l| l.get(MANAGED_BY_LABEL)).is_some_and(|v| v == MANAGED_BY_VALUE);
    let subject = secret
        .data
        .as_ref()
        .and_then(|d| d.get(&target.key))
        .and_then(|bytes| std::str::from_utf8(&bytes.0).ok())
        .and_then(unverified_claims)
        .map(|claims| claims.sub)
        .filter(|sub| !sub.is_empty());
    Ok(Some(ExistingSecret { secret, managed, subject }))
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

/// The Secret to write: the existing one (other keys, labels and annotations kept) with our
/// token, label and annotations set, or a new Opaque Secret.
pub fn desired_secret(target: &SecretTarget, record: &TokenRecord<'_>, existing: Option<&Secret>) -> Secret {
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

/// Refuses to take over a Secret the plugin did not create, unless `--overwrite`.
pub fn check_takeover(
    target: &SecretTarget,
    existing: Option<&ExistingSecret>,
    overwrite: bool,
) -> Result<(), SecretWriteError> {
    match existing {
        Some(found) if !found.managed && !overwrite => {
            Err(SecretWriteError::NotManaged { namespace: target.namespace.clone(), name: target.name.clone() })
        }
        _ => Ok(()),
    }
}

/// Stores a token: builds the Secret over what exists and writes it (see [`write_secret`]).
pub async fn store_token(
    conn: &Connection,
    target: &SecretTarget,
    record: &TokenRecord<'_>,
    existing: Option<&ExistingSecret>,
    dry_run: DryRun,
) -> Result<(WriteOutcome, Secret), SecretWriteError> {
    let desired = desired_secret(target, record, existing.map(|e| &e.secret));
    write_secret(conn, target, desired, existing.is_some(), dry_run).await
}

/// Creates `desired` (no existing Secret) or replaces it at the resourceVersion read.
/// With [`DryRun::Client`] nothing is sent and `desired` comes back as it would be written.
pub async fn write_secret(
    conn: &Connection,
    target: &SecretTarget,
    desired: Secret,
    existing: bool,
    dry_run: DryRun,
) -> Result<(WriteOutcome, Secret), SecretWriteError> {
    let outcome = if existing { WriteOutcome::Configured } else { WriteOutcome::Created };
    if dry_run == DryRun::Client {
        return Ok((outcome, desired));
    }
    let api: Api<Secret> = Api::namespaced(conn.client.clone(), &target.namespace);
    let params = PostParams { dry_run: dry_run == DryRun::Server, field_manager: Some(MANAGED_BY_VALUE.into()) };
    let verb = if existing { "update" } else { "create" };
    let action = ApiAction::new(verb, "secrets", Some(&target.namespace), Some(&target.name));
    let result =
        if existing { api.replace(&target.name, &params, &desired).await } else { api.create(&params, &desired).await };
    match result {
        Ok(written) => Ok((outcome, written)),
        Err(err) => Err(match conn.api_error(action, err) {
            err if err.is_not_found() && !existing => {
                SecretWriteError::NamespaceMissing { namespace: target.namespace.clone() }
            }
            err if err.is_conflict() || err.reason() == "AlreadyExists" => {
                SecretWriteError::Conflict { namespace: target.namespace.clone(), name: target.name.clone() }
            }
            err => err.into(),
        }),
    }
}

/// Creates a namespace unless it exists (`--create-namespace`).
pub async fn ensure_namespace(conn: &Connection, namespace: &str, dry_run: DryRun) -> Result<bool, ApiError> {
    if dry_run == DryRun::Client {
        return Ok(false);
    }
    let api: Api<Namespace> = Api::all(conn.client.clone());
    let ns = Namespace {
        metadata: ObjectMeta { name: Some(namespace.into()), ..ObjectMeta::default() },
        ..Namespace::default()
    };
    let params = PostParams { dry_run: dry_run == DryRun::Server, field_manager: Some(MANAGED_BY_VALUE.into()) };
    match api.create(&params, &ns).await {
        Ok(_) => Ok(true),
        Err(kube::Error::Api(status)) if status.is_already_exists() => Ok(false),
        Err(err) => Err(conn.api_error(ApiAction::new("create", "namespaces", None, Some(namespace)), err)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims() -> TokenClaims {
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
        assert_eq!(secret.metadata.labels.as_ref().unwrap()[MANAGED_BY_LABEL], MANAGED_BY_VALUE);
        let annotations = secret.metadata.annotations.as_ref().unwrap();
        assert_eq!(annotations[SUBJECT_ANNOTATION], "s-1");
        assert_eq!(annotations[EXPIRES_ANNOTATION], "1970-01-02T00:00:00Z");
        assert_eq!(annotations[KEY_VERSION_ANNOTATION], "42");
        assert_eq!(secret.data.as_ref().unwrap()["auth-token"].0, b"t.o.k");
    }

    #[test]
    fn existing_secret_keeps_what_it_had() {
        let target = SecretTarget { namespace: "ns".into(), name: "s".into(), key: "auth-token".into() };
        let mut existing = Secret::default();
        existing.metadata.labels = Some(BTreeMap::from([("team".to_string(), "a".to_string())]));
        existing.data = Some(BTreeMap::from([("other".to_string(), ByteString(b"x".to_vec()))]));
        existing.type_ = Some("example.com/custom".into());
        let token = SecretString::from("t");
        let record = TokenRecord { token: &token, claims: &claims(), key_source: "file".into(), key_version: None };
        let secret = desired_secret(&target, &record, Some(&existing));
        assert_eq!(secret.type_.as_deref(), Some("example.com/custom"));
        assert_eq!(secret.metadata.labels.as_ref().unwrap()["team"], "a");
        assert_eq!(secret.data.as_ref().unwrap()["other"].0, b"x");
        assert!(secret.metadata.annotations.as_ref().unwrap().get(KEY_VERSION_ANNOTATION).is_none());
    }
}
