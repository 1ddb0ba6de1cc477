//! The user's say over key and issuer, and the keys they hand over locally (a file, stdin, an
//! env var or a flag), which win over anything found in the cluster.

use std::io::Read;
use std::path::{Path, PathBuf};

use secrecy::{ExposeSecret, SecretSlice, SecretString};
use zeroize::Zeroizing;

use super::error::{DiscoveryError, KeyFile};
use super::reference::SharedSecretRef;
use super::setup::KeySource;
use crate::signing::SigningKey;

/// The user's say over key and issuer, strongest first.
#[derive(Debug, Default)]
pub struct KeyOverrides {
    /// `--shared-secret-file PATH`; `-` reads stdin.
    pub shared_secret_file: Option<PathBuf>,
    /// `$PXTOKEN_SHARED_SECRET`.
    pub shared_secret_env: Option<SecretString>,
    /// `--shared-secret VALUE` (pxctl's flag; visible in argv).
    pub shared_secret: Option<SecretString>,
    pub rsa_private_keyfile: Option<PathBuf>,
    pub ecdsa_private_keyfile: Option<PathBuf>,
    pub shared_secret_ref: Option<SharedSecretRef>,
    pub issuer: Option<String>,
    /// Look for Portworx only in this namespace.
    pub px_namespace: Option<String>,
}

impl KeyOverrides {
    /// True when a key is given without the cluster, so `generate` can work offline.
    pub fn has_local_key(&self) -> bool {
        self.shared_secret_file.is_some()
            || self.shared_secret_env.is_some()
            || self.shared_secret.is_some()
            || self.rsa_private_keyfile.is_some()
            || self.ecdsa_private_keyfile.is_some()
    }
}

/// The key the user handed over locally, strongest first; `None` when the cluster must say.
pub(super) fn local_key(overrides: &KeyOverrides) -> Result<Option<(SigningKey, KeySource)>, DiscoveryError> {
    if let Some(path) = &overrides.shared_secret_file {
        let (bytes, source) = if path.as_os_str() == "-" {
            let mut buffer = Zeroizing::new(Vec::new());
            std::io::stdin().read_to_end(&mut buffer).map_err(|source| DiscoveryError::ReadStdin { source })?;
            (SecretSlice::from(buffer.to_vec()), KeySource::Stdin)
        } else {
            (read_file(KeyFile::SharedSecret, path)?, KeySource::SharedSecretFile(path.clone()))
        };
        let key = SigningKey::shared_secret(trimmed_secret(bytes), &source.to_string())?;
        return Ok(Some((key, source)));
    }
    for (value, source) in [(&overrides.shared_secret_env, KeySource::Env), (&overrides.shared_secret, KeySource::Flag)]
    {
        if let Some(secret) = value {
            let bytes = SecretSlice::from(secret.expose_secret().as_bytes().to_vec());
            return Ok(Some((SigningKey::shared_secret(bytes, &source.to_string())?, source)));
        }
    }
    if let Some(path) = &overrides.rsa_private_keyfile {
        let source = KeySource::RsaKeyFile(path.clone());
        let key = SigningKey::rsa_pem(read_file(KeyFile::RsaPrivateKey, path)?, &source.to_string())?;
        return Ok(Some((key, source)));
    }
    if let Some(path) = &overrides.ecdsa_private_keyfile {
        let source = KeySource::EcdsaKeyFile(path.clone());
        let key = SigningKey::ecdsa_pem(read_file(KeyFile::EcdsaPrivateKey, path)?, &source.to_string())?;
        return Ok(Some((key, source)));
    }
    Ok(None)
}

fn read_file(file: KeyFile, path: &Path) -> Result<SecretSlice<u8>, DiscoveryError> {
    let bytes = Zeroizing::new(std::fs::read(path).map_err(|source| DiscoveryError::ReadFile {
        file,
        path: path.to_owned(),
        source,
    })?);
    Ok(SecretSlice::from(bytes.to_vec()))
}

/// A shared secret from a file or stdin, without the newline `echo` or an editor leaves.
fn trimmed_secret(bytes: SecretSlice<u8>) -> SecretSlice<u8> {
    let raw = bytes.expose_secret();
    let mut end = raw.len();
    while end > 0 && matches!(raw[end - 1], b'\n' | b'\r') {
        end -= 1;
    }
    SecretSlice::from(raw[..end].to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_from_files_lose_their_trailing_newline() {
        let trimmed = trimmed_secret(SecretSlice::from(b"abc\r\n".to_vec()));
        assert_eq!(trimmed.expose_secret(), b"abc");
    }

    #[test]
    fn an_unreadable_key_file_says_which_one() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.pem");
        let overrides = KeyOverrides { ecdsa_private_keyfile: Some(missing.clone()), ..KeyOverrides::default() };
        match local_key(&overrides) {
            Err(DiscoveryError::ReadFile { file: KeyFile::EcdsaPrivateKey, path, source }) => {
                assert_eq!(path, missing);
                assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
            }
            other => panic!("expected a read error for the ECDSA key file, got {other:?}"),
        }
        assert!(local_key(&KeyOverrides::default()).unwrap().is_none(), "no override: the cluster decides");
    }
}
