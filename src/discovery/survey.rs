//! Discovery as a report: every step of [`super::discover_signing_key`] is run and its finding
//! kept, instead of stopping at the first that fails, so `doctor` can show the install, the
//! issuer and the key on separate lines, each with its own verdict.
//!
//! The key is read (that is the only proof it is readable) and handed back in its secret box;
//! the caller drops it as soon as it has judged what needs it. The cache is neither read nor
//! written: a report must say what the cluster holds now.

use super::error::DiscoveryError;
use super::install::{InstallFacts, find_install};
use super::overrides::{KeyOverrides, local_key};
use super::reference::SharedSecretRef;
use super::secret_key::{find_well_known_secret, read_secret_key};
use super::setup::{Install, IssuerSource, KeySource, SigningSetup};
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
}

/// Runs every discovery step against `conn` with the user's `overrides` and reports each.
pub async fn survey_signing_key(conn: &Connection, overrides: &KeyOverrides) -> DiscoverySurvey {
    let mut looked_at = Vec::new();
    let local = local_key(overrides);
    let key_given = !matches!(local, Ok(None)) || overrides.shared_secret_ref.is_some();
    let install_needed = !key_given || overrides.issuer.is_none();
    let install = match install_needed {
        true => find_install(conn, overrides.px_namespace.as_deref(), &mut looked_at).await,
        false => Ok(None),
    };
    let install_secret = match &install {
        Ok(Some(InstallFacts { install, secret: Some(reference), .. })) => Some((reference.clone(), install.clone())),
        _ => None,
    };

    let (key_secret, key) = match local {
        Ok(Some(found)) => (None, Some(Ok(found))),
        Err(err) => (None, Some(Err(err))),
        Ok(None) if overrides.shared_secret_ref.is_none() && install.is_err() => (None, None),
        Ok(None) => {
            let located = match (&overrides.shared_secret_ref, install_secret) {
                (Some(reference), _) => Ok(Some((reference.in_namespace_or(&conn.namespace), None))),
                (None, Some((reference, install))) => Ok(Some((reference, Some(install)))),
                (None, None) => find_well_known_secret(conn, overrides.px_namespace.as_deref(), &mut looked_at)
                    .await
                    .map(|found| found.map(|reference| (reference, None))),
            };
            match located {
                Ok(Some((reference, found_via))) => {
                    (Some(reference.clone()), Some(read_secret_key(conn, reference, found_via).await))
                }
                Ok(None) => (None, Some(Err(DiscoveryError::NotFound { looked_at: looked_at.clone() }))),
                Err(err) => (None, Some(Err(err))),
            }
        }
    };

    let issuer = match (&overrides.issuer, &install) {
        (Some(issuer), _) => Some((issuer.clone(), IssuerSource::Flag)),
        (None, Ok(Some(InstallFacts { install, issuer: Some((issuer, detail)), .. }))) => {
            Some((issuer.clone(), IssuerSource::Install { install: install.clone(), detail: (*detail).to_owned() }))
        }
        (None, _) => None,
    };
    let install = install.map(|facts| facts.map(|facts| facts.install));
    DiscoverySurvey { looked_at, install_needed, install, key_secret, key, issuer }
}
