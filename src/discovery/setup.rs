//! What discovery settles on: the key, the issuer, and where each came from. Every Secret the
//! plugin writes records the key's origin, so a later key change can be detected.

use std::fmt;
use std::path::PathBuf;

use super::reference::SharedSecretRef;
use crate::signing::SigningKey;

/// Env var that may hold the shared secret (second-strongest override).
pub const SHARED_SECRET_ENV: &str = "PXTOKEN_SHARED_SECRET";

/// Where the Portworx install was found.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Install {
    StorageCluster { namespace: String, name: String },
    DaemonSet { namespace: String, name: String },
}

impl fmt::Display for Install {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Install::StorageCluster { namespace, name } => write!(f, "StorageCluster {namespace}/{name}"),
            Install::DaemonSet { namespace, name } => write!(f, "DaemonSet {namespace}/{name}"),
        }
    }
}

/// Where the signing key came from; recorded on every Secret the plugin writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    SharedSecretFile(PathBuf),
    Stdin,
    Env,
    Flag,
    RsaKeyFile(PathBuf),
    EcdsaKeyFile(PathBuf),
    /// A Kubernetes Secret, at the resourceVersion read (so a later key change is detectable).
    Secret {
        reference: SharedSecretRef,
        resource_version: Option<String>,
        found_via: Option<Install>,
    },
}

impl KeySource {
    /// Short machine-readable form for the `key-source` annotation.
    pub fn annotation(&self) -> String {
        match self {
            KeySource::SharedSecretFile(_) => "file".into(),
            KeySource::Stdin => "stdin".into(),
            KeySource::Env => "env".into(),
            KeySource::Flag => "flag".into(),
            KeySource::RsaKeyFile(_) => "rsa-file".into(),
            KeySource::EcdsaKeyFile(_) => "ecdsa-file".into(),
            KeySource::Secret { reference, .. } => format!("secret:{reference}"),
        }
    }

    pub fn resource_version(&self) -> Option<&str> {
        match self {
            KeySource::Secret { resource_version, .. } => resource_version.as_deref(),
            _ => None,
        }
    }
}

/// How the user gave the key, in the words they used (the override's flag or variable).
impl fmt::Display for KeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeySource::SharedSecretFile(path) => write!(f, "--shared-secret-file {}", path.display()),
            KeySource::Stdin => write!(f, "--shared-secret-file - (stdin)"),
            KeySource::Env => write!(f, "${SHARED_SECRET_ENV}"),
            KeySource::Flag => write!(f, "--shared-secret"),
            KeySource::RsaKeyFile(path) => write!(f, "--rsa-private-keyfile {}", path.display()),
            KeySource::EcdsaKeyFile(path) => write!(f, "--ecdsa-private-keyfile {}", path.display()),
            KeySource::Secret { reference, found_via: Some(install), .. } => {
                write!(f, "secret {reference} (named by {install})")
            }
            KeySource::Secret { reference, found_via: None, .. } => write!(f, "secret {reference}"),
        }
    }
}

/// Where the issuer came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IssuerSource {
    Flag,
    Install { install: Install, detail: String },
}

impl fmt::Display for IssuerSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IssuerSource::Flag => write!(f, "--issuer"),
            IssuerSource::Install { install, detail } => write!(f, "{install} ({detail})"),
        }
    }
}

/// Everything needed to sign: the key, the issuer, and where each came from.
#[derive(Debug)]
pub struct SigningSetup {
    pub key: SigningKey,
    pub key_source: KeySource,
    pub issuer: String,
    pub issuer_source: IssuerSource,
}
