//! Why no key or issuer could be settled on. Each message states what was found and where; the
//! binary adds the flag that fixes it (a library has no flags).

use std::fmt;
use std::path::PathBuf;

use super::reference::SharedSecretRef;
use super::setup::{Install, KeySource};
use crate::connection::ApiError;
use crate::signing::SigningError;

/// How `looked_at` notes a Secret or a list the user may not read; [`DiscoveryError`]'s
/// accessors below find them again.
pub(super) const NOT_ALLOWED_TO_GET: &str = ": not allowed to get";
pub(super) const NOT_ALLOWED_TO_LIST: &str = ": not allowed to list";

/// Which local key file could not be read, so the binary can name its own flag for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyFile {
    SharedSecret,
    RsaPrivateKey,
    EcdsaPrivateKey,
}

impl fmt::Display for KeyFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KeyFile::SharedSecret => "shared secret file",
            KeyFile::RsaPrivateKey => "RSA private key file",
            KeyFile::EcdsaPrivateKey => "ECDSA private key file",
        })
    }
}

/// Why no key or issuer could be settled on.
#[derive(Debug, thiserror::Error)]
pub enum DiscoveryError {
    #[error("cannot read the {file} {}", path.display())]
    ReadFile { file: KeyFile, path: PathBuf, source: std::io::Error },
    #[error("cannot read the shared secret from stdin")]
    ReadStdin { source: std::io::Error },
    #[error(transparent)]
    Key(#[from] SigningError),
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error("secret {reference} has no key {key:?} (keys: {keys})", key = .reference.key)]
    MissingKey { reference: SharedSecretRef, keys: String },
    #[error("secret {reference} not found")]
    MissingSecret { reference: SharedSecretRef },
    #[error("no Portworx signing key found; looked at {looked}", looked = .looked_at.join("; "))]
    NotFound { looked_at: Vec<String> },
    #[error("found {installs}", installs = .installs.iter().map(ToString::to_string).collect::<Vec<_>>().join(" and "))]
    Ambiguous { installs: Vec<Install> },
    #[error("cannot tell which issuer Portworx trusts ({key}looked at {looked})", key = .key_source.as_ref().map(|k| format!("key from {k}; ")).unwrap_or_default(), looked = .looked_at.join("; "))]
    NoIssuer { key_source: Option<Box<KeySource>>, looked_at: Vec<String> },
    #[error("no signing key given and no cluster to read one from")]
    NoKeyOffline,
    #[error("no issuer given and no cluster to read it from")]
    NoIssuerOffline,
}

impl DiscoveryError {
    /// The well-known key Secrets discovery was not allowed to read (`NAMESPACE/NAME:KEY`),
    /// when no key was found: the grant that would have found one.
    pub fn unreadable_key_secrets(&self) -> Vec<&str> {
        let looked_at = match self {
            DiscoveryError::NotFound { looked_at } => looked_at,
            _ => return Vec::new(),
        };
        looked_at.iter().filter_map(|l| l.strip_prefix("secret ")?.strip_suffix(NOT_ALLOWED_TO_GET)).collect()
    }

    /// True when some list of Portworx installs was refused, so an issuer may be there unseen.
    pub fn installs_unlistable(&self) -> bool {
        let looked_at = match self {
            DiscoveryError::NotFound { looked_at } | DiscoveryError::NoIssuer { looked_at, .. } => looked_at,
            _ => return false,
        };
        looked_at.iter().any(|l| l.ends_with(NOT_ALLOWED_TO_LIST))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::one_line;

    #[test]
    fn messages_keep_their_cause_and_name_no_flag() {
        let missing = || std::io::Error::from(std::io::ErrorKind::NotFound);
        let read = DiscoveryError::ReadFile { file: KeyFile::RsaPrivateKey, path: "/k.pem".into(), source: missing() };
        assert!(std::error::Error::source(&read).is_some(), "the io::Error stays reachable");
        assert_eq!(one_line(&read), format!("cannot read the RSA private key file /k.pem: {}", missing()));
        let reference = SharedSecretRef::new("ns", "keys", "k");
        let errors = [
            read,
            DiscoveryError::ReadStdin { source: missing() },
            DiscoveryError::MissingKey { reference: reference.clone(), keys: "a, b".into() },
            DiscoveryError::MissingSecret { reference },
            DiscoveryError::NotFound { looked_at: vec!["DaemonSets in all namespaces: 0".into()] },
            DiscoveryError::Ambiguous { installs: vec![] },
            DiscoveryError::NoIssuer { key_source: Some(Box::new(KeySource::Stdin)), looked_at: vec![] },
            DiscoveryError::NoKeyOffline,
            DiscoveryError::NoIssuerOffline,
        ];
        for err in errors {
            let text = err.to_string();
            // KeySource::Stdin says `--shared-secret-file -`: where the key came from, not a fix.
            let text = text.replace("--shared-secret-file - (stdin)", "");
            assert!(!text.contains("--"), "{text}");
        }
    }

    #[test]
    fn refused_reads_are_found_in_what_was_looked_at() {
        let looked_at = vec![
            format!("DaemonSets in all namespaces{NOT_ALLOWED_TO_LIST}"),
            format!("secret kube-system/pxkeys:shared-secret{NOT_ALLOWED_TO_GET}"),
            "secret portworx/px-shared-secret:shared-secret: not found".to_owned(),
        ];
        let err = DiscoveryError::NotFound { looked_at: looked_at.clone() };
        assert_eq!(err.unreadable_key_secrets(), ["kube-system/pxkeys:shared-secret"]);
        assert!(err.installs_unlistable());
        let err = DiscoveryError::NoIssuer { key_source: None, looked_at: looked_at[2..].to_vec() };
        assert!(!err.installs_unlistable() && err.unreadable_key_secrets().is_empty());
    }
}
