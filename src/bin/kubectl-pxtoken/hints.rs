//! The fix for a failure, in this binary's flags. The library says what went wrong and where;
//! only the binary knows which flag changes that, so the `error:` line ends with the hint
//! (`<what failed>: <how to fix it>`).

use pxtoken::discovery::{DiscoveryError, KeyFile};

/// The fix for the first error in `err`'s chain that has one.
pub fn hint_for(err: &anyhow::Error) -> Option<String> {
    err.chain().find_map(|cause| {
        // Each library error type with flag-specific fixes gets a line here.
        if let Some(err) = cause.downcast_ref::<DiscoveryError>() {
            return discovery(err);
        }
        None
    })
}

/// The flag through which the user gives `file`.
pub fn key_file_flag(file: KeyFile) -> &'static str {
    match file {
        KeyFile::SharedSecret => "--shared-secret-file",
        KeyFile::RsaPrivateKey => "--rsa-private-keyfile",
        KeyFile::EcdsaPrivateKey => "--ecdsa-private-keyfile",
    }
}

/// How to get past a discovery failure. `None` for the errors that carry their own wording (a
/// bad key, an API refusal).
pub fn discovery(err: &DiscoveryError) -> Option<String> {
    let hint = match err {
        DiscoveryError::ReadFile { file, .. } => return Some(format!("check {}", key_file_flag(*file))),
        DiscoveryError::ReadStdin { .. } => "check what is piped to --shared-secret-file -",
        DiscoveryError::MissingKey { .. } | DiscoveryError::MissingSecret { .. } => "fix --shared-secret-ref",
        DiscoveryError::NotFound { .. } => {
            "pass --shared-secret-ref NAMESPACE/NAME:KEY (or --shared-secret-file, --px-namespace)"
        }
        DiscoveryError::Ambiguous { .. } => "choose one with --px-namespace NAMESPACE",
        DiscoveryError::NoIssuer { .. } => "pass --issuer with the value of the nodes' -jwt_issuer",
        DiscoveryError::NoKeyOffline => "pass --shared-secret-file, --rsa-private-keyfile or --ecdsa-private-keyfile",
        DiscoveryError::NoIssuerOffline => "pass --issuer",
        DiscoveryError::Key(_) | DiscoveryError::Api(_) => return None,
    };
    Some(hint.to_owned())
}

/// The `error:` line's text: the failure and its causes, then the fix when there is one.
pub fn error_line(err: &anyhow::Error) -> String {
    let mut line = pxtoken::message::one_line(err.as_ref());
    if let Some(hint) = hint_for(err) {
        line.push_str(": ");
        line.push_str(&hint);
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use pxtoken::discovery::{Install, SharedSecretRef};

    fn line(err: DiscoveryError) -> String {
        error_line(&anyhow::Error::new(err))
    }

    #[test]
    fn discovery_lines_read_as_before_the_hints_moved_out_of_the_library() {
        let installs = vec![
            Install::StorageCluster { namespace: "px-one".into(), name: "px".into() },
            Install::StorageCluster { namespace: "px-two".into(), name: "px".into() },
        ];
        assert_eq!(
            line(DiscoveryError::Ambiguous { installs }),
            "found StorageCluster px-one/px and StorageCluster px-two/px: choose one with --px-namespace NAMESPACE"
        );
        assert_eq!(
            line(DiscoveryError::NotFound { looked_at: vec!["a".into(), "b".into()] }),
            "no Portworx signing key found; looked at a; b: pass --shared-secret-ref NAMESPACE/NAME:KEY (or --shared-secret-file, --px-namespace)"
        );
        let reference = SharedSecretRef::new("ns", "keys", "k");
        assert_eq!(
            line(DiscoveryError::MissingSecret { reference }),
            "secret ns/keys:k not found: fix --shared-secret-ref"
        );
    }

    #[test]
    fn a_hint_is_found_below_added_context() {
        let missing = std::io::Error::from(std::io::ErrorKind::NotFound);
        let err = anyhow::Error::new(DiscoveryError::ReadFile {
            file: KeyFile::EcdsaPrivateKey,
            path: "/k.pem".into(),
            source: missing,
        })
        .context("cannot sign");
        assert_eq!(hint_for(&err).as_deref(), Some("check --ecdsa-private-keyfile"));
        assert!(error_line(&err).starts_with("cannot sign: cannot read the ECDSA private key file /k.pem: "));
        assert_eq!(hint_for(&anyhow::anyhow!("plain")), None);
    }
}
