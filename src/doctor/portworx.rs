//! The Portworx side of onboarding, one line per finding of discovery: the install (and that
//! its security is on), the issuer and where it was read, and where the key lives and whether
//! it can be read. The key's value never reaches a line; only where it is and its algorithm.

use super::Advice;
use super::access::{Permission, rbac_fix};
use super::check::Check;
use crate::connection::ApiError;
use crate::discovery::{DiscoveryError, DiscoverySurvey};
use crate::message::one_line;

/// The `portworx` line.
pub fn install_check(survey: &DiscoverySurvey, advice: &dyn Advice) -> Check {
    const NAME: &str = "portworx";
    let looked = || survey.looked_at.join("; ");
    match &survey.install {
        Ok(Some(install)) => Check::pass(NAME, format!("{install}, security enabled")),
        Ok(None) if !survey.install_needed => Check::skip(NAME, "not looked for: the key and the issuer were given"),
        // The key was found in a well-known Secret and the issuer given: onboarding works.
        Ok(None) if survey.key.is_ok() && survey.issuer.is_some() => {
            Check::pass(NAME, format!("no install with security enabled, none needed (looked at {})", looked()))
        }
        Ok(None) => {
            let err = DiscoveryError::NotFound { looked_at: survey.looked_at.clone() };
            let hint = advice.discovery(&err).map(|h| format!(", or {h}")).unwrap_or_default();
            let (found, first) = match survey.was_refused() {
                true => ("found where you may look", "get the RBAC in the tenant line's fix"),
                false => {
                    ("found", "enable security in the Portworx install (StorageCluster spec.security.enabled: true)")
                }
            };
            Check::fail(
                NAME,
                format!("no Portworx install with security enabled {found}; looked at {}", looked()),
                format!("{first}{hint}"),
            )
        }
        // Where it looked is on the `portworx` line already.
        Err(err @ DiscoveryError::NotFound { .. }) => {
            let where_ = if survey.was_refused() { " you may read" } else { "" };
            Check::fail(
                NAME,
                format!("not found: no install names a key Secret and no well-known Secret{where_} holds one"),
                advice.discovery(err).unwrap_or_default(),
            )
        }
        Err(err) => Check::fail(NAME, one_line(err), advice.discovery(err).unwrap_or_default()),
    }
}

/// The `issuer` line.
pub fn issuer_check(survey: &DiscoverySurvey, advice: &dyn Advice) -> Check {
    const NAME: &str = "issuer";
    match (&survey.issuer, &survey.install) {
        (Some((issuer, source)), _) => Check::pass(NAME, format!("{issuer} from {source}")),
        (None, Ok(Some(install))) => Check::fail(
            NAME,
            format!("{install} names no issuer (no -jwt_issuer argument or PORTWORX_AUTH_JWT_ISSUER)"),
            advice.issuer(),
        ),
        (None, _) => Check::fail(
            NAME,
            "no install to read the issuer from; Portworx trusts only the issuer it was configured with",
            advice.issuer(),
        ),
    }
}

/// The `signing-key` line. A key Secret the caller may not read fails with the Role that would
/// let them read that one Secret, bound to `user`.
pub fn key_check(survey: &DiscoverySurvey, advice: &dyn Advice, user: Option<&str>) -> Check {
    const NAME: &str = "signing-key";
    match &survey.key {
        Ok((key, source)) => Check::pass(NAME, format!("{source}, readable ({:?})", key.algorithm())),
        Err(DiscoveryError::Api(err @ ApiError::Forbidden { action, .. })) => {
            let (Some(namespace), Some(name)) = (&action.namespace, &action.name) else {
                return Check::new(NAME, super::check::Status::Fail, one_line(err));
            };
            let where_ = survey.key_secret.as_ref().map(|r| format!("the key is in secret {r}; ")).unwrap_or_default();
            Check::fail(
                NAME,
                format!("{where_}cannot get secrets {name:?} in namespace {namespace:?}"),
                rbac_fix("key", &[&Permission::named("get", "secrets", namespace, name)], user),
            )
        }
        // Where it looked is on the `portworx` line already.
        Err(err @ DiscoveryError::NotFound { .. }) => {
            let where_ = if survey.was_refused() { " you may read" } else { "" };
            Check::fail(
                NAME,
                format!("not found: no install names a key Secret and no well-known Secret{where_} holds one"),
                advice.discovery(err).unwrap_or_default(),
            )
        }
        Err(err) => Check::fail(NAME, one_line(err), advice.discovery(err).unwrap_or_default()),
    }
}
