//! Onboarding tenants: the seed workflow (read key, build claims, sign, store) in one call for
//! one tenant ([`onboard_tenant`]), for a tenant that owns several namespaces
//! ([`group::onboard_group`]: one identity in all of them), and for a list of tenants with
//! bounded concurrency that a signal stops cleanly ([`bulk::onboard_many`], lists read by
//! [`list::read_tenant_list`]).

pub mod bulk;
pub mod group;
pub mod list;

use std::time::Duration;

use k8s_openapi::api::core::v1::Secret;

use crate::claims::{ClaimsError, Identity, TokenClaims, USER_ROLE};
use crate::connection::Connection;
use crate::discovery::SigningSetup;
use crate::signing::SigningError;
use crate::token_secret::{SecretTarget, SecretWriteError, StoreOptions, WriteOutcome};

pub use bulk::{BulkIncomplete, BulkSummary, TenantFate, onboard_many};
pub use group::{GroupFailed, NamespaceResult, TenantGroup, onboard_group};
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
    /// Two namespaces of one tenant hold tokens of different subjects: (namespace, sub) each.
    #[error(
        "the tenant's namespaces hold tokens of two subjects, {:?} in {} and {:?} in {}; nothing was written",
        .first.1, .first.0, .second.1, .second.0
    )]
    SubjectsDiffer { first: (String, String), second: (String, String) },
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

/// Issues a token for `request.target.namespace` and stores it: a group of one namespace
/// ([`onboard_group`]). At most three API calls: read the Secret, (create the namespace,) write
/// the Secret.
pub async fn onboard_tenant(
    conn: &Connection,
    setup: &SigningSetup,
    request: &TenantRequest,
) -> Result<TenantOutcome, TenantError> {
    let results = onboard_group(conn, setup, &TenantGroup::single(request.clone())).await?;
    results.into_iter().next().map(|(_, result)| result).expect("a group of one namespace has one result")
}

#[cfg(test)]
pub(crate) mod tests;
