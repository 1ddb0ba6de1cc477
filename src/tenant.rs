//! Onboarding one tenant: the seed workflow (read key, build claims, sign, store) in one call.

use std::time::Duration;

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
    let record = TokenRecord {
        token: &token,
        claims: &claims,
        key_source: setup.key_source.annotation(),
        key_version: setup.key_source.resource_version().map(str::to_owned),
    };
    if request.create_namespace && existing.is_none() {
        token_secret::ensure_namespace(conn, namespace, request.dry_run).await?;
    }
    let (outcome, secret) =
        token_secret::store_token(conn, &request.target, &record, existing.as_ref(), request.dry_run).await?;
    Ok(TenantOutcome { outcome, claims, secret, replaced_subject })
}
