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
        Ok(None) if matches!(survey.key, Some(Ok(_))) && survey.issuer.is_some() => {
            Check::pass(NAME, format!("no install with security enabled, none needed (looked at {})", looked()))
        }
        Ok(None) => {
            let err = DiscoveryError::NotFound { looked_at: survey.looked_at.clone() };
            let hint = advice.hint(&err).map(|h| format!(", or {h}")).unwrap_or_default();
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
        Err(err) => discovery_failed(NAME, err, survey, advice),
    }
}

/// The `issuer` line.
pub fn issuer_check(survey: &DiscoverySurvey, advice: &dyn Advice) -> Check {
    const NAME: &str = "issuer";
    match (&survey.issuer, &survey.install) {
        (Some((issuer, source)), _) => Check::pass(NAME, format!("{issuer} from {source}")),
        (None, Err(_)) => Check::skip(NAME, "depends on which install is meant (see portworx)"),
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
    let Some(key) = &survey.key else {
        return Check::skip(NAME, "depends on which install is meant (see portworx)");
    };
    match key {
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
        Err(err) => discovery_failed(NAME, err, survey, advice),
    }
}

/// A discovery failure as a check line; where it looked is on the `portworx` line already.
fn discovery_failed(name: &'static str, err: &DiscoveryError, survey: &DiscoverySurvey, advice: &dyn Advice) -> Check {
    let detail = match err {
        DiscoveryError::NotFound { .. } => {
            let where_ = if survey.was_refused() { " you may read" } else { "" };
            format!("not found: no install names a key Secret and no well-known Secret{where_} holds one")
        }
        err => one_line(err),
    };
    Check::fail(name, detail, advice.hint(err).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::connection::ApiAction;
    use crate::discovery::{Install, IssuerSource, KeySource, SharedSecretRef};
    use crate::doctor::check::Status;
    use crate::signing::{SigningKey, secret_bytes};

    struct Words;

    impl Advice for Words {
        fn hint(&self, _: &(dyn std::error::Error + 'static)) -> Option<String> {
            Some("give the key".into())
        }
        fn issuer(&self) -> String {
            "give the issuer".into()
        }
        fn clock_skew(&self, _: Duration) -> String {
            unreachable!()
        }
        fn rotate(&self, _: &[String]) -> String {
            unreachable!()
        }
        fn one_namespace(&self) -> String {
            unreachable!()
        }
        fn storage_class(&self) -> String {
            unreachable!()
        }
    }

    fn daemonset() -> Install {
        Install::DaemonSet { namespace: "kube-system".into(), name: "portworx".into() }
    }

    fn survey(
        key: Result<(SigningKey, KeySource), DiscoveryError>,
        issuer: bool,
        looked_at: &[&str],
    ) -> DiscoverySurvey {
        DiscoverySurvey {
            looked_at: looked_at.iter().map(|s| s.to_string()).collect(),
            install_needed: true,
            install: Ok(Some(daemonset())),
            key_secret: Some(SharedSecretRef::new("kube-system", "pxkeys", "shared-secret")),
            key: Some(key),
            issuer: issuer.then(|| {
                (
                    "portworx.com".into(),
                    IssuerSource::Install { install: daemonset(), detail: "container arg -jwt_issuer".into() },
                )
            }),
        }
    }

    fn forbidden_key() -> DiscoveryError {
        DiscoveryError::Api(ApiError::Forbidden {
            action: Box::new(ApiAction::new("get", "secrets", Some("kube-system"), Some("pxkeys"))),
            context: "prod".into(),
        })
    }

    #[test]
    fn a_healthy_install_says_where_everything_is_but_never_the_key() {
        let secret = "a-shared-secret-nobody-may-see";
        let source = KeySource::Secret {
            reference: SharedSecretRef::new("kube-system", "pxkeys", "shared-secret"),
            resource_version: Some("7".into()),
            found_via: Some(daemonset()),
        };
        let key = SigningKey::shared_secret(secret_bytes(secret.as_bytes().to_vec()), "test").unwrap();
        let survey = survey(Ok((key, source)), true, &[]);
        let lines = [install_check(&survey, &Words), issuer_check(&survey, &Words), key_check(&survey, &Words, None)];
        assert_eq!(
            lines.iter().map(|c| (c.status, c.detail.as_str())).collect::<Vec<_>>(),
            [
                (Status::Pass, "DaemonSet kube-system/portworx, security enabled"),
                (Status::Pass, "portworx.com from DaemonSet kube-system/portworx (container arg -jwt_issuer)"),
                (
                    Status::Pass,
                    "secret kube-system/pxkeys:shared-secret (named by DaemonSet kube-system/portworx), readable (HS256)"
                ),
            ]
        );
        assert!(lines.iter().all(|c| !format!("{c:?}").contains(secret)));
    }

    #[test]
    fn a_key_the_caller_may_not_read_fails_with_the_role_for_that_one_secret() {
        let check = key_check(&survey(Err(forbidden_key()), true, &[]), &Words, Some("alice"));
        assert_eq!(check.status, Status::Fail);
        assert_eq!(
            check.detail,
            "the key is in secret kube-system/pxkeys:shared-secret; cannot get secrets \"pxkeys\" in namespace \"kube-system\""
        );
        assert_eq!(
            check.fix.as_deref(),
            Some(
                "kubectl create role pxtoken-key-secrets-pxkeys -n kube-system --verb=get --resource=secrets --resource-name=pxkeys && kubectl create rolebinding pxtoken-key-secrets-pxkeys -n kube-system --role=pxtoken-key-secrets-pxkeys --user=alice"
            )
        );
    }

    #[test]
    fn no_issuer_and_no_install_fail_with_the_callers_fix() {
        let check = issuer_check(&survey(Err(forbidden_key()), false, &[]), &Words);
        assert_eq!(check.status, Status::Fail);
        assert!(check.detail.starts_with("DaemonSet kube-system/portworx names no issuer"), "{}", check.detail);
        assert_eq!(check.fix.as_deref(), Some("give the issuer"));

        let looked = ["DaemonSets in all namespaces: not allowed to list"];
        let mut nothing = survey(Err(DiscoveryError::NotFound { looked_at: vec![] }), false, &looked);
        nothing.install = Ok(None);
        let check = install_check(&nothing, &Words);
        assert_eq!(check.status, Status::Fail);
        assert_eq!(
            check.detail,
            "no Portworx install with security enabled found where you may look; looked at DaemonSets in all namespaces: not allowed to list"
        );
        assert_eq!(check.fix.as_deref(), Some("get the RBAC in the tenant line's fix, or give the key"));
        let check = key_check(&nothing, &Words, None);
        assert!(check.detail.contains("no well-known Secret you may read"), "{}", check.detail);
    }
}
