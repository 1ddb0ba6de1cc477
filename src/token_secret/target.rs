//! Where a token goes, and `[NAMESPACE/]NAME` as a user types it.

use std::fmt;
use std::str::FromStr;

use crate::names::{InvalidName, check_namespace, check_secret_key, check_secret_name};

/// Where a token goes: a key in a Secret in a namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretTarget {
    pub namespace: String,
    pub name: String,
    pub key: String,
}

impl SecretTarget {
    /// Checks namespace, name and key with Kubernetes' rules, so a bad one costs no request.
    pub fn validate(&self) -> Result<(), InvalidName> {
        check_namespace(&self.namespace)?;
        check_secret_name(&self.name)?;
        check_secret_key(&self.key)
    }
}

/// `[NAMESPACE/]NAME`: a Secret, its namespace left to the caller's default when not given
/// (kubectl's `-n`, else the context's), since only a connection knows that default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamespacedName {
    pub namespace: Option<String>,
    pub name: String,
}

/// Why `[NAMESPACE/]NAME` could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetParseError {
    #[error("expected [NAMESPACE/]NAME, got {0:?}")]
    Shape(String),
    #[error(transparent)]
    Name(#[from] InvalidName),
}

impl FromStr for NamespacedName {
    type Err = TargetParseError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let (namespace, name) = match input.split_once('/') {
            Some((namespace, name)) => (Some(namespace), name),
            None => (None, input),
        };
        if name.contains('/') {
            return Err(TargetParseError::Shape(input.to_owned()));
        }
        if let Some(namespace) = namespace {
            check_namespace(namespace)?;
        }
        check_secret_name(name)?;
        Ok(NamespacedName { namespace: namespace.map(str::to_owned), name: name.to_owned() })
    }
}

impl fmt::Display for NamespacedName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(namespace) => write!(f, "{namespace}/{}", self.name),
            None => f.write_str(&self.name),
        }
    }
}

impl NamespacedName {
    /// The target this names, in `default_namespace` unless it names its own.
    pub fn target(&self, default_namespace: &str, key: &str) -> SecretTarget {
        SecretTarget {
            namespace: self.namespace.clone().unwrap_or_else(|| default_namespace.to_owned()),
            name: self.name.clone(),
            key: key.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespace_is_optional_and_defaults_to_the_callers() {
        let bare: NamespacedName = "px-admin-token".parse().unwrap();
        assert_eq!(bare, NamespacedName { namespace: None, name: "px-admin-token".into() });
        let target = bare.target("from-context", "auth-token");
        assert_eq!((target.namespace.as_str(), target.name.as_str()), ("from-context", "px-admin-token"));
        let full: NamespacedName = "portworx/px-admin-token".parse().unwrap();
        assert_eq!(full.target("ignored", "k").namespace, "portworx");
        assert_eq!(full.to_string(), "portworx/px-admin-token");
    }

    #[test]
    fn bad_shapes_and_names_are_refused() {
        assert_eq!("a/b/c".parse::<NamespacedName>(), Err(TargetParseError::Shape("a/b/c".into())));
        for bad in ["", "/", "ns/", "/name", "Bad_NS!/name", "ns/Bad_Name", "ns/a:b"] {
            assert!(matches!(bad.parse::<NamespacedName>(), Err(TargetParseError::Name(_))), "{bad:?} passed");
        }
        let err = "Bad_NS!/x".parse::<NamespacedName>().unwrap_err();
        assert!(err.to_string().starts_with("invalid namespace \"Bad_NS!\": a lowercase RFC 1123 label"), "{err}");
    }

    #[test]
    fn targets_validate_all_three_parts() {
        let good = SecretTarget { namespace: "team-a".into(), name: "px-k8s-user".into(), key: "auth-token".into() };
        assert_eq!(good.validate(), Ok(()));
        let what = |t: SecretTarget| t.validate().unwrap_err().what;
        assert_eq!(what(SecretTarget { namespace: "".into(), ..good.clone() }), "namespace");
        assert_eq!(what(SecretTarget { name: "A".into(), ..good.clone() }), "secret name");
        assert_eq!(what(SecretTarget { key: "..".into(), ..good }), "secret key");
    }

    mod properties {
        use proptest::prelude::*;

        use super::*;
        use crate::names::NameRule;

        proptest! {
            #[test]
            fn any_text_parses_or_is_refused(input in prop_oneof!["[-a-zA-Z0-9/._: ]{0,24}", any::<String>()]) {
                match input.parse::<NamespacedName>() {
                    Ok(parsed) => {
                        prop_assert_eq!(parsed.to_string(), input);
                        if let Some(namespace) = &parsed.namespace {
                            prop_assert!(NameRule::Label.problem(namespace).is_none());
                        }
                        prop_assert!(NameRule::Subdomain.problem(&parsed.name).is_none());
                    }
                    Err(TargetParseError::Shape(shape)) => prop_assert_eq!(shape, input),
                    Err(TargetParseError::Name(err)) => prop_assert!(input.contains(&err.value)),
                }
            }

            #[test]
            fn valid_names_round_trip(
                namespace in prop::option::of("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?"),
                name in "[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?(\\.[a-z0-9]{1,10}){0,3}",
            ) {
                let parsed = NamespacedName { namespace, name };
                prop_assert_eq!(parsed.to_string().parse::<NamespacedName>(), Ok(parsed));
            }
        }
    }
}
