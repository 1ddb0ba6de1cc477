//! Discovery as a report: every step of [`super::discover_signing_key`] is run and its finding
//! kept, instead of stopping at the first that fails, so `doctor` can show the install, the
//! issuer and the key on separate lines, each with its own verdict.
//!
//! The key is read (that is the only proof it is readable) and handed back in its secret box;
//! the caller drops it as soon as it has judged what needs it. The cache is neither read nor
//! written: a report must say what the cluster holds now.

use super::error::DiscoveryError;
use super::overrides::KeyOverrides;
use super::reference::SharedSecretRef;
use super::setup::{Install, IssuerSource, KeySource, SigningSetup};
use super::{DiscoverMode, discover};
use crate::connection::Connection;
use crate::signing::SigningKey;

/// What discovery finds in the cluster, step by step.
#[derive(Debug)]
pub struct DiscoverySurvey {
    /// Where it looked, in order, with what each place held.
    pub looked_at: Vec<String>,
    /// Whether the install had to be found: not when the user gave both the key and the issuer.
    pub install_needed: bool,
    /// The Portworx install with security on; `Ok(None)` when there is none (or it was not
    /// looked for), an error when the lists failed or found several.
    pub install: Result<Option<Install>, DiscoveryError>,
    /// The Secret the key is (or would be) read from, even when reading it failed.
    pub key_secret: Option<SharedSecretRef>,
    /// The key and where it came from, or why it could not be had; `None` when it was not
    /// looked for because it depends on an install that could not be settled (a failed list,
    /// several installs): a well-known Secret might then belong to the wrong one.
    pub key: Option<Result<(SigningKey, KeySource), DiscoveryError>>,
    /// The issuer and where it came from; `None` when nothing names one.
    pub issuer: Option<(String, IssuerSource)>,
}

impl DiscoverySurvey {
    /// Whether some place discovery looks was closed to the caller (a list or get refused): then
    /// "not found" only means "not found where the caller may look".
    pub fn was_refused(&self) -> bool {
        // `install` and `secret_key` word every refusal "<place>: not allowed to <verb>".
        self.looked_at.iter().any(|place| place.contains(": not allowed to "))
    }

    /// The setup a command would sign with, when key and issuer were both found.
    pub fn into_setup(self) -> Option<SigningSetup> {
        let (key, key_source) = self.key?.ok()?;
        let (issuer, issuer_source) = self.issuer?;
        Some(SigningSetup { key, key_source, issuer, issuer_source })
    }

    /// The key and the issuer, or the first reason one is missing, in the order discovery
    /// looks: the install, the key, the issuer. `offline`: there was no cluster to ask.
    pub fn into_signing_setup(self, offline: bool) -> Result<SigningSetup, DiscoveryError> {
        self.install?;
        let Some(key) = self.key else { return Err(DiscoveryError::NoKeyOffline) };
        let (key, key_source) = key?;
        match self.issuer {
            Some((issuer, issuer_source)) => Ok(SigningSetup { key, key_source, issuer, issuer_source }),
            None if offline => Err(DiscoveryError::NoIssuerOffline),
            None => Err(DiscoveryError::NoIssuer { key_source: Some(Box::new(key_source)), looked_at: self.looked_at }),
        }
    }

    /// Why the issuer is unknown, worded as for signing; `None` when it is known.
    pub fn issuer_problem(&self, offline: bool) -> Option<DiscoveryError> {
        let key_source = match &self.key {
            Some(Ok((_, source))) => Some(Box::new(source.clone())),
            _ => None,
        };
        match (&self.issuer, offline) {
            (Some(_), _) => None,
            (None, true) => Some(DiscoveryError::NoIssuerOffline),
            (None, false) => Some(DiscoveryError::NoIssuer { key_source, looked_at: self.looked_at.clone() }),
        }
    }

    /// A setup remembered from an earlier run: no step ran but the read of the key.
    pub(super) fn remembered(setup: SigningSetup) -> DiscoverySurvey {
        let key_secret = match &setup.key_source {
            KeySource::Secret { reference, .. } => Some(reference.clone()),
            _ => None,
        };
        let SigningSetup { key, key_source, issuer, issuer_source } = setup;
        DiscoverySurvey {
            looked_at: Vec::new(),
            install_needed: false,
            install: Ok(None),
            key_secret,
            key: Some(Ok((key, key_source))),
            issuer: Some((issuer, issuer_source)),
        }
    }
}

/// Runs every discovery step against `conn` with the user's `overrides` and reports each; the
/// cache is neither read nor written.
pub async fn survey_signing_key(conn: &Connection, overrides: &KeyOverrides) -> DiscoverySurvey {
    let mode = DiscoverMode { cache: None, key_from_cluster: true, keep_going: true };
    discover(Some(conn), overrides, mode).await.unwrap_or_else(|err| DiscoverySurvey {
        looked_at: Vec::new(),
        install_needed: true,
        install: Err(err),
        key_secret: None,
        key: None,
        issuer: None,
    })
}
