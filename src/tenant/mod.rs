//! Onboarding tenants: the seed workflow (read key, build claims, sign, store) in one call for
//! one tenant ([`onboard_tenant`]), and for a list of them with bounded concurrency
//! ([`bulk::onboard_many`], lists read by [`list::read_tenant_list`]).

pub mod bulk;
pub mod list;

use std::time::Duration;

use k8s_openapi::api::core::v1::Secret;

use crate::claims::{ClaimsError, Identity, TokenClaims, USER_ROLE, Validity};
use crate::connection::Connection;
use crate::discovery::SigningSetup;
use crate::signing::SigningError;
use crate::token_secret::{self, SecretTarget, SecretWriteError, StoreOptions, TokenRecord, WriteOutcome};

pub use bulk::{BulkFailed, BulkSummary, onboard_many};
pub use list::{TenantEntry, TenantListError, read_tenant_list};

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
    /// Let the token carry role `system.admin` or group `*`.
    pub allow_admin: bool,
    pub store: StoreOptions,
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
    #[error("refusing to give tenant {namespace:?} administrator powers (role system.admin or group \"*\")")]
    AdminRefused { namespace: String },
    #[error(transparent)]
    Claims(#[from] ClaimsError),
    #[error(transparent)]
    Sign(#[from] SigningError),
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
    let chosen = request.flags.clone().or(request.auth_config.clone());
    let defaults = tenant_defaults(namespace, &setup.issuer);
    // Refused before any request: the powers asked for do not depend on what is stored.
    if chosen.clone().or(defaults.clone()).grants_admin() && !request.allow_admin {
        return Err(TenantError::AdminRefused { namespace: namespace.clone() });
    }
    let prepared = token_secret::prepare(conn, &request.target, request.store).await?;
    let stored_subject = prepared.stored_subject().map(str::to_owned);
    // Identity is forever: a new sub orphans every volume the tenant owns, so the stored one wins
    // over a fresh UUID, and only an explicit --sub or auth-config sub replaces it.
    let fallback_sub = stored_subject.clone().unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let identity = chosen.or(Identity { sub: Some(fallback_sub), ..defaults });
    let claims = TokenClaims::new(&setup.issuer, identity, Validity::from_now(request.lifetime, request.clock_skew))?;
    let replaced_subject = stored_subject.filter(|old| *old != claims.sub);
    let token = setup.key.sign(&claims)?;
    let stored = prepared.commit(conn, &TokenRecord::new(&token, &claims, &setup.key_source)).await?;
    Ok(TenantOutcome { outcome: stored.outcome, claims, secret: stored.secret, replaced_subject })
}

#[cfg(test)]
pub(crate) mod tests;
