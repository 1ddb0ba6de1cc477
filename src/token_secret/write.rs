//! The one flow that stores a token Secret: read the target → check takeover → (create the
//! namespace) → create it, or replace it at the resourceVersion read. `--dry-run` is decided in
//! one place ([`write_params`]).
//!
//! The replace carries the resourceVersion that was read, so the API server refuses it (409)
//! when another writer changed the Secret in between: a tenant's token is never clobbered by
//! one built from a stale read. Nothing is retried here; a caller that can rebuild its token
//! from a fresh read (rotate) re-reads on [`SecretWriteError::Conflict`].

use k8s_openapi::api::core::v1::{Namespace, Secret};
use kube::api::{Api, ObjectMeta, PostParams};

use super::labels::{MANAGED_BY_VALUE, TokenRecord, desired_secret, is_managed};
use super::{DryRun, SecretTarget, WriteOutcome};
use crate::connection::{ApiAction, ApiError, Connection};
use crate::names::InvalidName;
use crate::signing::unverified_claims;

/// A token Secret as found in the cluster.
#[derive(Debug)]
pub struct ExistingSecret {
    pub secret: Secret,
    /// Carries our managed-by label.
    pub managed: bool,
    /// The `sub` of the token under the target key, read without verification.
    pub subject: Option<String>,
}

/// Why a token Secret was not written. Nothing was written when any of these is returned.
#[derive(Debug, thiserror::Error)]
pub enum SecretWriteError {
    #[error(transparent)]
    InvalidTarget(#[from] InvalidName),
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error("secret {namespace}/{name} exists and was not created by kubectl-pxtoken; left untouched")]
    NotManaged { namespace: String, name: String },
    #[error("namespace {namespace:?} not found")]
    NamespaceMissing { namespace: String },
    #[error(
        "secret {namespace}/{name} changed while the token was being issued; nothing was written, run the command again"
    )]
    Conflict { namespace: String, name: String },
}

/// How to store: the user's say over takeover, namespace creation and dry run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StoreOptions {
    /// Take over a Secret the plugin did not create.
    pub overwrite: bool,
    /// Create the namespace when the Secret is not there.
    pub create_namespace: bool,
    pub dry_run: DryRun,
}

/// A token to store, and where.
#[derive(Debug, Clone)]
pub struct StoreRequest<'a> {
    pub target: &'a SecretTarget,
    pub record: &'a TokenRecord<'a>,
    pub options: StoreOptions,
}

/// What storing did.
#[derive(Debug)]
pub struct StoreOutcome {
    pub outcome: WriteOutcome,
    /// The Secret as the server returned it, or as it would be sent (client dry run, or a server
    /// dry run into a namespace that exists only in that dry run).
    pub secret: Secret,
}

/// Stores a token: [`prepare`] then [`PreparedStore::commit`]. At most three API calls.
pub async fn store(conn: &Connection, request: &StoreRequest<'_>) -> Result<StoreOutcome, SecretWriteError> {
    prepare(conn, request.target, request.options).await?.commit(conn, request.record).await
}

/// A target that was read and may be written: the first half of [`store`], for flows whose
/// token depends on what is stored (a tenant keeps its stored `sub`).
#[derive(Debug)]
pub struct PreparedStore {
    target: SecretTarget,
    existing: Option<ExistingSecret>,
    options: StoreOptions,
}

/// Checks the target's names, reads it (one GET) and refuses to take over a Secret the plugin
/// did not create unless [`StoreOptions::overwrite`].
pub async fn prepare(
    conn: &Connection,
    target: &SecretTarget,
    options: StoreOptions,
) -> Result<PreparedStore, SecretWriteError> {
    target.validate()?;
    let existing = read_existing(conn, target).await?;
    if existing.as_ref().is_some_and(|found| !found.managed) && !options.overwrite {
        return Err(SecretWriteError::NotManaged { namespace: target.namespace.clone(), name: target.name.clone() });
    }
    Ok(PreparedStore { target: target.clone(), existing, options })
}

impl PreparedStore {
    pub fn target(&self) -> &SecretTarget {
        &self.target
    }

    /// The Secret as read, if it exists.
    pub fn existing(&self) -> Option<&ExistingSecret> {
        self.existing.as_ref()
    }

    /// The `sub` of the token stored there now, if any.
    pub fn stored_subject(&self) -> Option<&str> {
        self.existing.as_ref().and_then(|e| e.subject.as_deref())
    }

    /// Writes `record` over what was read: (creates the namespace,) then creates the Secret or
    /// replaces it at the resourceVersion read.
    pub async fn commit(self, conn: &Connection, record: &TokenRecord<'_>) -> Result<StoreOutcome, SecretWriteError> {
        self.write(conn, record, self.options.dry_run).await
    }

    /// Has the server check [`commit`](Self::commit)'s requests without making them (a server
    /// dry run: names, authorization, admission, the namespace, the resourceVersion read), so a
    /// flow that writes several Secrets can find a write that would fail before making any.
    /// Nothing is changed. A dry run needs no check: a client one sends nothing, and a server
    /// one's commit is that check.
    pub async fn check(&self, conn: &Connection, record: &TokenRecord<'_>) -> Result<(), SecretWriteError> {
        match self.options.dry_run {
            DryRun::Client | DryRun::Server => Ok(()),
            DryRun::None => self.write(conn, record, DryRun::Server).await.map(drop),
        }
    }

    async fn write(
        &self,
        conn: &Connection,
        record: &TokenRecord<'_>,
        dry_run: DryRun,
    ) -> Result<StoreOutcome, SecretWriteError> {
        let PreparedStore { target, existing, options } = self;
        let desired = desired_secret(target, record, existing.as_ref().map(|e| &e.secret));
        if options.create_namespace && existing.is_none() {
            let created = ensure_namespace(conn, &target.namespace, dry_run).await?;
            if created && dry_run == DryRun::Server {
                // The namespace exists only in that dry run, so the server cannot check a Secret
                // in it: say what would be created, as a client dry run does.
                return Ok(StoreOutcome { outcome: WriteOutcome::Created, secret: desired });
            }
        }
        let (outcome, secret) = write_secret(conn, target, desired, existing.as_ref(), dry_run).await?;
        Ok(StoreOutcome { outcome, secret })
    }
}

/// Reads the target Secret, if any (one GET).
pub async fn read_existing(conn: &Connection, target: &SecretTarget) -> Result<Option<ExistingSecret>, ApiError> {
    let api: Api<Secret> = Api::namespaced(conn.client.clone(), &target.namespace);
    let action = ApiAction::new("get", "secrets", Some(&target.namespace), Some(&target.name));
    let Some(secret) = api.get_opt(&target.name).await.map_err(|err| conn.api_error(action, err))? else {
        return Ok(None);
    };
    let subject = secret
        .data
        .as_ref()
        .and_then(|d| d.get(&target.key))
        .and_then(|bytes| std::str::from_utf8(&bytes.0).ok())
        .and_then(unverified_claims)
        .map(|claims| claims.sub)
        .filter(|sub| !sub.is_empty());
    Ok(Some(ExistingSecret { managed: is_managed(&secret), secret, subject }))
}

/// The one place `--dry-run` is decided: `None` for a client dry run (send nothing), else the
/// parameters of the write (`dryRun=All` for a server dry run).
fn write_params(dry_run: DryRun) -> Option<PostParams> {
    match dry_run {
        DryRun::Client => None,
        DryRun::None | DryRun::Server => {
            Some(PostParams { dry_run: dry_run == DryRun::Server, field_manager: Some(MANAGED_BY_VALUE.into()) })
        }
    }
}

/// Creates `desired` when `existing` is `None`, else replaces the Secret at `existing`'s
/// resourceVersion (whatever `desired` carries), so a Secret changed since it was read is
/// refused with [`SecretWriteError::Conflict`], never overwritten. With [`DryRun::Client`]
/// nothing is sent and `desired` comes back as it would be written.
pub async fn write_secret(
    conn: &Connection,
    target: &SecretTarget,
    mut desired: Secret,
    existing: Option<&ExistingSecret>,
    dry_run: DryRun,
) -> Result<(WriteOutcome, Secret), SecretWriteError> {
    let outcome = if existing.is_some() { WriteOutcome::Configured } else { WriteOutcome::Created };
    desired.metadata.resource_version = existing.and_then(|e| e.secret.metadata.resource_version.clone());
    let Some(params) = write_params(dry_run) else {
        return Ok((outcome, desired));
    };
    let api: Api<Secret> = Api::namespaced(conn.client.clone(), &target.namespace);
    let verb = if existing.is_some() { "update" } else { "create" };
    let action = ApiAction::new(verb, "secrets", Some(&target.namespace), Some(&target.name));
    let result = match existing {
        Some(_) => api.replace(&target.name, &params, &desired).await,
        None => api.create(&params, &desired).await,
    };
    result.map(|written| (outcome, written)).map_err(|err| match conn.api_error(action, err) {
        err if err.is_not_found() && existing.is_none() => {
            SecretWriteError::NamespaceMissing { namespace: target.namespace.clone() }
        }
        err if err.is_conflict() || err.reason() == "AlreadyExists" => {
            SecretWriteError::Conflict { namespace: target.namespace.clone(), name: target.name.clone() }
        }
        err => err.into(),
    })
}

/// Creates a namespace unless it exists; true when it was created (or would be, in a server
/// dry run). A client dry run sends nothing and says false.
pub async fn ensure_namespace(conn: &Connection, namespace: &str, dry_run: DryRun) -> Result<bool, ApiError> {
    let Some(params) = write_params(dry_run) else {
        return Ok(false);
    };
    let api: Api<Namespace> = Api::all(conn.client.clone());
    let ns = Namespace {
        metadata: ObjectMeta { name: Some(namespace.into()), ..ObjectMeta::default() },
        ..Namespace::default()
    };
    match api.create(&params, &ns).await {
        Ok(_) => Ok(true),
        Err(kube::Error::Api(status)) if status.is_already_exists() => Ok(false),
        Err(err) => Err(conn.api_error(ApiAction::new("create", "namespaces", None, Some(namespace)), err)),
    }
}

#[cfg(test)]
mod tests {
    use secrecy::SecretString;
    use serde_json::{Value, json};

    use super::*;
    use crate::fake_api::{self, block_on, status};
    use crate::token_secret::MANAGED_BY_LABEL;
    use crate::token_secret::labels::tests::claims;

    const SECRETS: &str = "/api/v1/namespaces/team-a/secrets";

    fn target() -> SecretTarget {
        SecretTarget { namespace: "team-a".into(), name: "px-k8s-user".into(), key: "auth-token".into() }
    }

    /// The Secret the server holds, at resourceVersion 7031.
    fn stored(managed: bool) -> Value {
        let labels = if managed { json!({MANAGED_BY_LABEL: MANAGED_BY_VALUE}) } else { json!({}) };
        json!({"apiVersion": "v1", "kind": "Secret", "type": "Opaque", "data": {"other": "eA=="},
            "metadata": {"name": "px-k8s-user", "namespace": "team-a", "resourceVersion": "7031", "labels": labels}})
    }

    fn not_found() -> (u16, Value) {
        (404, status(404, "NotFound", "not found"))
    }

    /// Runs the store flow against `replies`; what it returned and what it sent.
    fn run(replies: Vec<(u16, Value)>, options: StoreOptions) -> (Result<StoreOutcome, SecretWriteError>, Vec<String>) {
        block_on(async {
            let (conn, api) = fake_api::connection(replies);
            let token = SecretString::from("t.o.k");
            let claims = claims();
            let record = TokenRecord { token: &token, claims: &claims, key_source: "file".into(), key_version: None };
            let result = store(&conn, &StoreRequest { target: &target(), record: &record, options }).await;
            (result, api.lines())
        })
    }

    #[test]
    fn replace_is_conditional_on_the_version_read() {
        block_on(async {
            let (conn, api) = fake_api::connection(vec![(200, stored(true)), (200, stored(true))]);
            let token = SecretString::from("t.o.k");
            let claims = claims();
            let record = TokenRecord { token: &token, claims: &claims, key_source: "file".into(), key_version: None };
            let request = StoreRequest { target: &target(), record: &record, options: StoreOptions::default() };
            let done = store(&conn, &request).await.unwrap();
            assert_eq!(done.outcome, WriteOutcome::Configured);
            let sent = api.requests();
            assert_eq!(sent.len(), 2, "{sent:?}");
            assert_eq!(
                (sent[1].method.as_str(), sent[1].uri.starts_with(&format!("{SECRETS}/px-k8s-user?"))),
                ("PUT", true)
            );
            // Without the version read, the server would accept the PUT over a concurrent change.
            assert_eq!(sent[1].body["metadata"]["resourceVersion"], "7031", "a blind replace");
            assert_eq!(sent[1].body["data"]["auth-token"], "dC5vLms=");
            assert_eq!(sent[1].body["data"]["other"], "eA==", "other keys are kept");
        });
    }

    #[test]
    fn write_secret_replaces_at_the_version_read_whatever_the_object_says() {
        block_on(async {
            let (conn, api) = fake_api::connection(vec![(200, stored(true))]);
            let existing =
                ExistingSecret { secret: serde_json::from_value(stored(true)).unwrap(), managed: true, subject: None };
            let blind = Secret {
                metadata: ObjectMeta { name: Some("px-k8s-user".into()), ..ObjectMeta::default() },
                ..Secret::default()
            };
            write_secret(&conn, &target(), blind, Some(&existing), DryRun::None).await.unwrap();
            assert_eq!(api.requests()[0].body["metadata"]["resourceVersion"], "7031");
        });
    }

    #[test]
    fn a_secret_changed_since_it_was_read_is_not_overwritten() {
        let (result, sent) = run(
            vec![(200, stored(true)), (409, status(409, "Conflict", "the object has been modified"))],
            StoreOptions::default(),
        );
        assert!(matches!(result, Err(SecretWriteError::Conflict { .. })), "{result:?}");
        assert_eq!(sent.len(), 2, "no retry over the other writer: {sent:?}");
    }

    #[test]
    fn a_secret_the_plugin_did_not_create_is_left_alone() {
        let (result, sent) = run(vec![(200, stored(false))], StoreOptions::default());
        let err = result.unwrap_err();
        assert!(matches!(err, SecretWriteError::NotManaged { .. }), "{err:?}");
        assert_eq!(
            err.to_string(),
            "secret team-a/px-k8s-user exists and was not created by kubectl-pxtoken; left untouched"
        );
        assert_eq!(sent, [format!("GET {SECRETS}/px-k8s-user")], "only the read was sent");

        let overwrite = StoreOptions { overwrite: true, ..StoreOptions::default() };
        let (result, sent) = run(vec![(200, stored(false)), (200, stored(true))], overwrite);
        assert_eq!(result.unwrap().outcome, WriteOutcome::Configured);
        assert!(sent[1].starts_with("PUT "), "{sent:?}");
    }

    #[test]
    fn dry_runs_send_nothing_or_ask_the_server_to_persist_nothing() {
        let client = StoreOptions { dry_run: DryRun::Client, ..StoreOptions::default() };
        let (result, sent) = run(vec![not_found()], client);
        let done = result.unwrap();
        assert_eq!(done.outcome, WriteOutcome::Created);
        assert_eq!(done.secret.data.unwrap()["auth-token"].0, b"t.o.k");
        assert_eq!(sent.len(), 1, "a client dry run only reads: {sent:?}");

        let server = StoreOptions { dry_run: DryRun::Server, ..StoreOptions::default() };
        let (result, sent) = run(vec![not_found(), (201, stored(true))], server);
        result.unwrap();
        assert!(sent[1].starts_with(&format!("POST {SECRETS}?")) && sent[1].contains("dryRun=All"), "{sent:?}");
    }

    #[test]
    fn a_missing_namespace_is_created_only_when_asked() {
        let (result, sent) = run(vec![not_found(), not_found()], StoreOptions::default());
        assert!(matches!(result, Err(SecretWriteError::NamespaceMissing { .. })), "{result:?}");
        assert_eq!(sent.len(), 2, "{sent:?}");

        let create = StoreOptions { create_namespace: true, ..StoreOptions::default() };
        let (result, sent) = run(vec![not_found(), (201, json!({})), (201, stored(true))], create);
        assert_eq!(result.unwrap().outcome, WriteOutcome::Created);
        assert!(
            sent[1].starts_with("POST /api/v1/namespaces?") && sent[2].starts_with(&format!("POST {SECRETS}?")),
            "{sent:?}"
        );

        // A namespace created only in a server dry run cannot hold a dry-run Secret: say what would be.
        let server = StoreOptions { dry_run: DryRun::Server, ..create };
        let (result, sent) = run(vec![not_found(), (201, json!({}))], server);
        assert_eq!(result.unwrap().outcome, WriteOutcome::Created);
        assert_eq!(sent.len(), 2, "{sent:?}");
    }

    #[test]
    fn bad_names_cost_no_request() {
        block_on(async {
            let (conn, api) = fake_api::connection(vec![]);
            let bad = SecretTarget { name: String::new(), ..target() };
            let err = prepare(&conn, &bad, StoreOptions::default()).await.unwrap_err();
            assert!(matches!(err, SecretWriteError::InvalidTarget(_)), "{err:?}");
            assert!(api.requests().is_empty());
        });
    }
}
