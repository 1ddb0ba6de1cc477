//! The key inside a Secret: the Secrets Portworx installs are documented to use (SPEC discovery
//! step 3), and reading the key bytes out of one, wiping every other value on the way.

use k8s_openapi::api::core::v1::Secret;
use kube::api::Api;
use secrecy::SecretSlice;

use super::error::{DiscoveryError, NOT_ALLOWED_TO_GET};
use super::reference::{OPERATOR_DEFAULT_SECRET, SHARED_SECRET_KEY, SharedSecretRef};
use super::setup::{Install, KeySource};
use crate::connection::{ApiAction, Connection};
use crate::signing::SigningKey;

/// Where the docs, the operator and the Helm chart put the shared secret, most likely first.
fn well_known_secrets(px_namespace: Option<&str>) -> Vec<SharedSecretRef> {
    match px_namespace {
        Some(ns) => vec![
            SharedSecretRef::new(ns, "pxkeys", SHARED_SECRET_KEY),
            SharedSecretRef::new(ns, OPERATOR_DEFAULT_SECRET, SHARED_SECRET_KEY),
        ],
        None => vec![
            SharedSecretRef::new("kube-system", "pxkeys", SHARED_SECRET_KEY),
            SharedSecretRef::new("portworx", OPERATOR_DEFAULT_SECRET, SHARED_SECRET_KEY),
            SharedSecretRef::new("kube-system", OPERATOR_DEFAULT_SECRET, SHARED_SECRET_KEY),
        ],
    }
}

/// Step 3: the first well-known Secret that holds the key. Only its keys are looked at here;
/// the value is read by [`read_secret_key`].
pub(super) async fn find_well_known_secret(
    conn: &Connection,
    px_namespace: Option<&str>,
    looked_at: &mut Vec<String>,
) -> Result<Option<SharedSecretRef>, DiscoveryError> {
    for candidate in well_known_secrets(px_namespace) {
        let namespace = candidate.namespace.as_deref().unwrap_or_default();
        let api: Api<Secret> = Api::namespaced(conn.client.clone(), namespace);
        let action = ApiAction::new("get", "secrets", Some(namespace), Some(&candidate.name));
        match api.get_opt(&candidate.name).await {
            Ok(Some(secret)) => {
                // The values are key material this step does not need: wiped before they are dropped.
                let mut data = secret.data.unwrap_or_default();
                let has_key = data.contains_key(&candidate.key);
                data.values_mut().for_each(|v| zeroize::Zeroize::zeroize(&mut v.0));
                if has_key {
                    return Ok(Some(candidate));
                }
                looked_at.push(format!("secret {candidate}: no key {}", candidate.key));
            }
            Ok(None) => looked_at.push(format!("secret {candidate}: not found")),
            Err(err) => match conn.api_error(action, err) {
                err if err.is_forbidden() => looked_at.push(format!("secret {candidate}{NOT_ALLOWED_TO_GET}")),
                err => return Err(err.into()),
            },
        }
    }
    Ok(None)
}

/// Reads the key bytes out of a Secret: `.data` is already base64-decoded by the client, and
/// those bytes are the HMAC key (Portworx never decodes them a second time).
pub(super) async fn read_secret_key(
    conn: &Connection,
    reference: SharedSecretRef,
    found_via: Option<Install>,
) -> Result<(SigningKey, KeySource), DiscoveryError> {
    let reference = reference.in_namespace_or(&conn.namespace);
    let namespace = reference.namespace.clone().unwrap_or_default();
    let api: Api<Secret> = Api::namespaced(conn.client.clone(), &namespace);
    let action = ApiAction::new("get", "secrets", Some(&namespace), Some(&reference.name));
    let Some(mut secret) = api.get_opt(&reference.name).await.map_err(|err| conn.api_error(action, err))? else {
        return Err(DiscoveryError::MissingSecret { reference });
    };
    let mut data = secret.data.take().unwrap_or_default();
    let Some(value) = data.remove(&reference.key) else {
        let keys = data.keys().cloned().collect::<Vec<_>>().join(", ");
        // The other values are key material too; wipe them before they are dropped.
        data.values_mut().for_each(|v| zeroize::Zeroize::zeroize(&mut v.0));
        return Err(DiscoveryError::MissingKey { reference, keys });
    };
    data.values_mut().for_each(|v| zeroize::Zeroize::zeroize(&mut v.0));
    let bytes = SecretSlice::from(value.0);
    let source = KeySource::Secret { reference, resource_version: secret.metadata.resource_version.clone(), found_via };
    let key = SigningKey::shared_secret(bytes, &source.to_string())?;
    Ok((key, source))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_known_secrets_follow_the_docs_and_the_scope() {
        let names = |scope| well_known_secrets(scope).iter().map(ToString::to_string).collect::<Vec<_>>();
        assert_eq!(
            names(None),
            [
                "kube-system/pxkeys:shared-secret",
                "portworx/px-shared-secret:shared-secret",
                "kube-system/px-shared-secret:shared-secret"
            ]
        );
        assert_eq!(names(Some("px")), ["px/pxkeys:shared-secret", "px/px-shared-secret:shared-secret"]);
    }
}
