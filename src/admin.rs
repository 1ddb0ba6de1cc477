//! The storage administrator's token: role `system.admin` and group `*` (every volume,
//! whoever owns it), to hand to `pxctl` or automation, optionally stored in a Secret through
//! the same flow as tenant tokens.

use std::time::Duration;

use secrecy::SecretString;

use crate::claims::{ADMIN_GROUP, ADMIN_ROLE, ClaimsError, Identity, TokenClaims, Validity};
use crate::connection::Connection;
use crate::discovery::SigningSetup;
use crate::signing::SigningError;
use crate::token_secret::{self, SecretTarget, SecretWriteError, StoreOptions, StoreOutcome, TokenRecord};

/// The default name of the administrator, also the local part of its email (and so its subject).
pub const ADMIN_NAME: &str = "storage-admin";

/// What the user asked for.
#[derive(Debug, Clone)]
pub struct AdminRequest {
    /// Overrides of the name, email and sub defaults (roles and groups are always the admin's).
    pub identity: Identity,
    pub lifetime: Duration,
    pub clock_skew: Duration,
    /// Store the token in this Secret too.
    pub store: Option<(SecretTarget, StoreOptions)>,
}

/// The token issued, and the Secret it went to.
#[derive(Debug)]
pub struct AdminToken {
    pub token: SecretString,
    pub claims: TokenClaims,
    pub stored: Option<StoreOutcome>,
}

/// Why no admin token was issued (or stored). Nothing was written when any is returned.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error(transparent)]
    Claims(#[from] ClaimsError),
    #[error(transparent)]
    Sign(#[from] SigningError),
    #[error(transparent)]
    Write(#[from] SecretWriteError),
    #[error("storing the token in secret {namespace}/{name} needs a cluster connection")]
    NoConnection { namespace: String, name: String },
}

/// The administrator's identity over its defaults: name `storage-admin`, email
/// `storage-admin@<issuer>`, sub = the email (stable across re-issues, readable in audit logs).
pub fn admin_identity(issuer: &str, overrides: Identity) -> Identity {
    let email = overrides.email.unwrap_or_else(|| format!("{ADMIN_NAME}@{issuer}"));
    Identity {
        sub: Some(overrides.sub.unwrap_or_else(|| email.clone())),
        name: Some(overrides.name.unwrap_or_else(|| ADMIN_NAME.to_owned())),
        email: Some(email),
        roles: Some(vec![ADMIN_ROLE.to_owned()]),
        groups: Some(vec![ADMIN_GROUP.to_owned()]),
    }
}

/// Issues the admin token and, when asked, stores it (read → takeover check → write, one GET
/// and one write). Needs `conn` only to store.
pub async fn issue_admin(
    conn: Option<&Connection>,
    setup: &SigningSetup,
    request: &AdminRequest,
) -> Result<AdminToken, AdminError> {
    // The target is read and cleared before anything is signed: a refused takeover signs nothing.
    let prepared = match (&request.store, conn) {
        (Some((target, options)), Some(conn)) => Some(token_secret::prepare(conn, target, *options).await?),
        (Some((target, _)), None) => {
            return Err(AdminError::NoConnection { namespace: target.namespace.clone(), name: target.name.clone() });
        }
        (None, _) => None,
    };
    let identity = admin_identity(&setup.issuer, request.identity.clone());
    let claims = TokenClaims::new(&setup.issuer, identity, Validity::from_now(request.lifetime, request.clock_skew))?;
    let token = setup.key.sign(&claims)?;
    let stored = match (prepared, conn) {
        (Some(prepared), Some(conn)) => {
            Some(prepared.commit(conn, &TokenRecord::new(&token, &claims, &setup.key_source)).await?)
        }
        _ => None,
    };
    Ok(AdminToken { token, claims, stored })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::fake_api::{self, block_on, status};
    use crate::tenant::tests::setup;
    use crate::token_secret::WriteOutcome;

    fn request(store: Option<(SecretTarget, StoreOptions)>) -> AdminRequest {
        AdminRequest {
            identity: Identity::default(),
            lifetime: Duration::from_secs(3600),
            clock_skew: Duration::ZERO,
            store,
        }
    }

    fn target() -> SecretTarget {
        SecretTarget { namespace: "portworx".into(), name: "px-admin-token".into(), key: "auth-token".into() }
    }

    #[test]
    fn defaults_follow_the_operator_and_each_is_overridable() {
        let defaults = admin_identity("px.io", Identity::default());
        assert_eq!(defaults.name.as_deref(), Some("storage-admin"));
        assert_eq!(defaults.email.as_deref(), Some("storage-admin@px.io"));
        assert_eq!(defaults.sub, defaults.email);
        assert!(defaults.grants_admin());
        let overrides = Identity { email: Some("root@example.com".into()), ..Identity::default() };
        let custom = admin_identity("px.io", overrides);
        assert_eq!(custom.sub.as_deref(), Some("root@example.com"), "sub follows the email");
        let roles_ignored = Identity { roles: Some(vec!["system.user".into()]), ..Identity::default() };
        assert_eq!(admin_identity("px.io", roles_ignored).roles, Some(vec![ADMIN_ROLE.to_string()]));
    }

    #[test]
    fn offline_issue_needs_no_connection() {
        let done = block_on(issue_admin(None, &setup(), &request(None))).unwrap();
        assert_eq!(done.claims.groups, Some(vec!["*".to_string()]));
        assert!(done.stored.is_none());
        let err = block_on(issue_admin(None, &setup(), &request(Some((target(), StoreOptions::default())))));
        assert!(matches!(err, Err(AdminError::NoConnection { .. })), "{err:?}");
    }

    #[test]
    fn save_secret_refuses_to_take_over_a_secret_it_did_not_create() {
        let foreign = json!({"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "px-admin-token", "namespace": "portworx", "resourceVersion": "3"}});
        let (result, sent) = block_on(async {
            let (conn, api) = fake_api::connection(vec![(200, foreign.clone())]);
            let store = Some((target(), StoreOptions::default()));
            (issue_admin(Some(&conn), &setup(), &request(store)).await, api.lines())
        });
        let err = result.unwrap_err();
        assert!(matches!(err, AdminError::Write(SecretWriteError::NotManaged { .. })), "{err:?}");
        assert_eq!(sent.len(), 1, "only the read: {sent:?}");

        let (result, sent) = block_on(async {
            let (conn, api) = fake_api::connection(vec![(404, status(404, "NotFound", "")), (201, foreign)]);
            let store = Some((target(), StoreOptions::default()));
            (issue_admin(Some(&conn), &setup(), &request(store)).await, api.requests())
        });
        assert_eq!(result.unwrap().stored.unwrap().outcome, WriteOutcome::Created);
        assert_eq!(sent[1].body["metadata"]["annotations"]["kubectl-pxtoken/subject"], "storage-admin@px.io");
    }
}
