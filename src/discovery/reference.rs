//! Naming a key inside a Kubernetes Secret, as `--shared-secret-ref` and the cache spell it:
//! `[NAMESPACE/]NAME:KEY`.

use std::fmt;
use std::str::FromStr;

/// Key of the shared secret in every Secret Portworx and its operator write.
pub const SHARED_SECRET_KEY: &str = "shared-secret";
/// Shared-secret Secret the operator creates when the StorageCluster names none.
pub const OPERATOR_DEFAULT_SECRET: &str = "px-shared-secret";

/// A key inside a Kubernetes Secret: `[NAMESPACE/]NAME:KEY`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedSecretRef {
    /// `None` = the connection's namespace (`-n`, else the context's).
    pub namespace: Option<String>,
    pub name: String,
    pub key: String,
}

impl SharedSecretRef {
    pub fn new(namespace: &str, name: &str, key: &str) -> SharedSecretRef {
        SharedSecretRef { namespace: Some(namespace.into()), name: name.into(), key: key.into() }
    }

    /// The same reference with `namespace` filled in when it named none, so that messages and
    /// the cache always say where the Secret is.
    pub fn in_namespace_or(&self, namespace: &str) -> SharedSecretRef {
        SharedSecretRef {
            namespace: Some(self.namespace.clone().unwrap_or_else(|| namespace.to_owned())),
            ..self.clone()
        }
    }
}

/// A `[NAMESPACE/]NAME:KEY` that does not parse; the message shows the grammar and an example.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid secret reference {input:?}: expected [NAMESPACE/]NAME:KEY, e.g. kube-system/pxkeys:shared-secret")]
pub struct ParseSecretRefError {
    pub input: String,
}

impl FromStr for SharedSecretRef {
    type Err = ParseSecretRefError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let bad = || ParseSecretRefError { input: input.to_owned() };
        let (path, key) = input.rsplit_once(':').ok_or_else(bad)?;
        let (namespace, name) = match path.split_once('/') {
            Some((namespace, name)) => (Some(namespace), name),
            None => (None, path),
        };
        let valid = |s: &str| !s.is_empty() && !s.contains('/') && !s.contains(':');
        if !valid(name) || !valid(key) || namespace.is_some_and(|n| !valid(n)) {
            return Err(bad());
        }
        Ok(SharedSecretRef { namespace: namespace.map(str::to_owned), name: name.to_owned(), key: key.to_owned() })
    }
}

impl fmt::Display for SharedSecretRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(namespace) => write!(f, "{namespace}/{}:{}", self.name, self.key),
            None => write!(f, "{}:{}", self.name, self.key),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_refs_parse_with_and_without_namespace() {
        assert_eq!(
            "kube-system/pxkeys:shared-secret".parse(),
            Ok(SharedSecretRef::new("kube-system", "pxkeys", "shared-secret"))
        );
        let bare: SharedSecretRef = "pxkeys:shared-secret".parse().unwrap();
        assert_eq!(bare.namespace, None);
        assert_eq!(bare.to_string(), "pxkeys:shared-secret");
        for bad in ["pxkeys", "a/b/c:d", "/pxkeys:k", "ns/:k", "ns/name:", ""] {
            let err = bad.parse::<SharedSecretRef>().unwrap_err().to_string();
            assert!(err.contains("[NAMESPACE/]NAME:KEY"), "{bad}: {err}");
        }
    }

    #[test]
    fn secret_ref_edge_cases() {
        // Secret keys may hold dots, dashes and underscores (`tls.key`, `shared_secret`).
        assert_eq!("ns/keys:tls.key".parse(), Ok(SharedSecretRef::new("ns", "keys", "tls.key")));
        assert_eq!("ns/keys:shared_secret".parse(), Ok(SharedSecretRef::new("ns", "keys", "shared_secret")));
        // The key is after the last colon, so a second colon lands in the name, which is refused.
        for bad in ["ns/name:a:b", "name::key", ":key", "ns/name", "/:", "ns/name/:key", "ns//name:key"] {
            let err = bad.parse::<SharedSecretRef>().unwrap_err();
            assert_eq!(err.input, bad, "the error quotes what was given");
        }
    }

    #[test]
    fn secret_refs_print_as_they_parse() {
        for text in ["kube-system/pxkeys:shared-secret", "pxkeys:shared-secret", "portworx/px-shared-secret:k.1"] {
            let parsed: SharedSecretRef = text.parse().unwrap();
            assert_eq!(parsed.to_string(), text);
        }
        let bare: SharedSecretRef = "pxkeys:shared-secret".parse().unwrap();
        assert_eq!(bare.in_namespace_or("team-a").to_string(), "team-a/pxkeys:shared-secret");
        let full: SharedSecretRef = "portworx/pxkeys:shared-secret".parse().unwrap();
        assert_eq!(full.in_namespace_or("team-a"), full, "a namespace given is kept");
    }

    mod properties {
        use proptest::prelude::*;

        use super::*;

        /// Parts as the grammar allows them: anything non-empty without `/` or `:`.
        fn part() -> impl Strategy<Value = String> {
            prop_oneof!["[-._a-z0-9]{1,20}", "[^/:]{1,20}"]
        }

        proptest! {
            #[test]
            fn any_text_parses_or_is_refused_quoting_it(input in prop_oneof!["[-a-z/:.]{0,24}", any::<String>()]) {
                match input.parse::<SharedSecretRef>() {
                    // What parses prints back as it was written: nothing is dropped or added.
                    Ok(reference) => prop_assert_eq!(reference.to_string(), input),
                    Err(err) => prop_assert_eq!(err.input, input),
                }
            }

            #[test]
            fn valid_parts_round_trip(namespace in prop::option::of(part()), name in part(), key in part()) {
                let reference = SharedSecretRef { namespace, name, key };
                prop_assert_eq!(reference.to_string().parse::<SharedSecretRef>(), Ok(reference));
            }
        }
    }
}
