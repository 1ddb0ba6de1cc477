//! Onboarding one tenant: the seed workflow (read key, build claims, sign, store) in one call.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use k8s_openapi::api::core::v1::Secret;

use crate::claims::{ClaimsError, Identity, TokenClaims, USER_ROLE, Validity};
use crate::connection::{ApiError, Connection};
use crate::discovery::SigningSetup;
use crate::signing::SigningError;
use crate::token_secret::{self, DryRun, SecretTarget, SecretWriteError, TokenRecord, WriteOutcome};

/// What the user asked for, after flags and the auth-config file were read.
#[derive(Debug, Clone)]
pub struct TenantRequest {
    pub target: SecretTarget,
    /// From flags (`--name`, `--email`, `--sub`, `--roles`, `--groups`).
    pub flags: Identity,
    /// From `--auth-config`, if given.
    pub auth_config: Identity,
    pub lifetime: Duration,
    pub clock_skew: Duration,
    pub allow_admin: bool,
    pub overwrite: bool,
    pub create_namespace: bool,
    pub dry_run: DryRun,
}

/// What was done for one tenant.
#[derive(Debug)]
pub struct TenantOutcome {
    pub outcome: WriteOutcome,
    pub claims: TokenClaims,
    /// The Secret as the server returned it (or as it would be sent, for `--dry-run=client`).
    pub secret: Secret,
    /// The token's `sub` changed from the one already stored (the user asked for it).
    pub replaced_subject: Option<String>,
}

/// Why a tenant was not onboarded. Nothing was written when any of these is returned.
#[derive(Debug, thiserror::Error)]
pub enum TenantError {
    #[error(
        "refusing to give tenant {namespace:?} administrator powers (role system.admin or group \"*\"): pass --allow-admin if that is really meant"
    )]
    AdminRefused { namespace: String },
    #[error(transparent)]
    Claims(#[from] ClaimsError),
    #[error(transparent)]
    Sign(#[from] SigningError),
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error(transparent)]
    Write(#[from] SecretWriteError),
}

/// The defaults a tenant gets: name = namespace, email = `<namespace>@<issuer>` (as the
/// operator names its own tokens), roles = `system.user`.
pub fn tenant_defaults(namespace: &str, issuer: &str) -> Identity {
    Identity {
        name: Some(namespace.to_owned()),
        email: Some(format!("{namespace}@{issuer}")),
        sub: None,
        roles: Some(vec![USER_ROLE.to_owned()]),
        groups: None,
    }
}

/// Issues a token for `request.target.namespace` and stores it. At most three API calls:
/// read the Secret, (create the namespace,) write the Secret.
pub async fn onboard_tenant(
    conn: &Connection,
    setup: &SigningSetup,
    request: &TenantRequest,
) -> Result<TenantOutcome, TenantError> {
    let namespace = &request.target.namespace;
    let existing = token_secret::read_existing(conn, &request.target).await?;
    token_secret::check_takeover(&request.target, existing.as_ref(), request.overwrite)?;
    let stored_subject = existing.as_ref().and_then(|e| e.subject.clone());
    // Identity is forever: a new sub orphans every volume the tenant owns, so the stored one wins
    // over a fresh UUID, and only an explicit --sub or auth-config sub replaces it.
    let fallback_sub = stored_subject.clone().unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let identity = request
        .flags
        .clone()
        .or(request.auth_config.clone())
        .or(Identity { sub: Some(fallback_sub), ..tenant_defaults(namespace, &setup.issuer) });
    if identity.grants_admin() && !request.allow_admin {
        return Err(TenantError::AdminRefused { namespace: namespace.clone() });
    }
    let claims = TokenClaims::new(&setup.issuer, identity, Validity::from_now(request.lifetime, request.clock_skew))?;
    let replaced_subject = stored_subject.filter(|old| *old != claims.sub);
    let token = setup.key.sign(&claims)?;
    let record = TokenRecord::new(&token, &claims, &setup.key_source);
    if request.create_namespace && existing.is_none() {
        token_secret::ensure_namespace(conn, namespace, request.dry_run).await?;
    }
    let (outcome, secret) =
        token_secret::store_token(conn, &request.target, &record, existing.as_ref(), request.dry_run).await?;
    Ok(TenantOutcome { outcome, claims, secret, replaced_subject })
}

/// One tenant of a `--from-file` list: its namespace and, optionally, its own claims and Secret.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantEntry {
    pub namespace: String,
    #[serde(default, rename = "secretName")]
    pub secret_name: Option<String>,
    #[serde(flatten)]
    pub identity: Identity,
}

/// Why a `--from-file` list could not be used.
#[derive(Debug, thiserror::Error)]
pub enum TenantListError {
    #[error("cannot read --from-file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error(
        "invalid --from-file {path}: {message} (expected a YAML list of entries with namespace and optional name, email, sub, roles, groups, secretName)"
    )]
    Parse { path: PathBuf, message: String },
    #[error("invalid --from-file {path}: namespace {namespace:?} is listed twice")]
    Duplicate { path: PathBuf, namespace: String },
}

/// Reads a `--from-file` list: a YAML sequence, or a mapping with key `tenants`.
pub fn read_tenant_list(path: &Path) -> Result<Vec<TenantEntry>, TenantListError> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum List {
        Bare(Vec<TenantEntry>),
        Wrapped { tenants: Vec<TenantEntry> },
    }
    let text =
        std::fs::read_to_string(path).map_err(|source| TenantListError::Read { path: path.to_owned(), source })?;
    let parse_err = |message: String| TenantListError::Parse { path: path.to_owned(), message };
    let list = serde_saphyr::from_str::<List>(&text)
        .map_err(|err| parse_err(crate::message::fold_whitespace(&err.to_string())))?;
    let entries = match list {
        List::Bare(entries) | List::Wrapped { tenants: entries } => entries,
    };
    let mut seen = std::collections::BTreeSet::new();
    for entry in &entries {
        if entry.namespace.is_empty() {
            return Err(parse_err("an entry has an empty namespace".into()));
        }
        if !seen.insert(entry.namespace.clone()) {
            return Err(TenantListError::Duplicate { path: path.to_owned(), namespace: entry.namespace.clone() });
        }
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_lists_parse_bare_or_wrapped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.yaml");
        std::fs::write(&path, "- namespace: a\n- namespace: b\n  name: Team B\n  groups: [x]\n  secretName: tok\n")
            .unwrap();
        let list = read_tenant_list(&path).unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list[1].identity.name.as_deref(), Some("Team B"));
        assert_eq!(list[1].secret_name.as_deref(), Some("tok"));
        std::fs::write(&path, "tenants:\n  - namespace: a\n").unwrap();
        assert_eq!(read_tenant_list(&path).unwrap().len(), 1);
        std::fs::write(&path, "- namespace: a\n- namespace: a\n").unwrap();
        assert!(matches!(read_tenant_list(&path), Err(TenantListError::Duplicate { .. })));
        std::fs::write(&path, "- namespace: a\n  nmae: typo\n").unwrap();
        assert!(read_tenant_list(&path).is_err());
    }
}
