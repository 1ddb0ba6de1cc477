//! Where the signing key and the issuer come from: the user's overrides first, then the
//! Portworx install found in the cluster (SPEC "Where the signing key and the issuer come from").
//!
//! Discovery never guesses an issuer: a token with the wrong `iss` is signed fine and then
//! refused by every Portworx node, long after the command said it worked.
//!
//! The flow is here, once ([`discover`]): signing stops at the first failure, judging tokens
//! goes on without a key or issuer it may not read, `doctor` keeps every step's finding. Each
//! step has its own module, none of which imports this one (but `survey`, the report type):
//! - `reference`: `[NAMESPACE/]NAME:KEY`, the name of a key inside a Secret;
//! - `setup`: what discovery settles on (key, issuer, where each came from);
//! - `overrides`: the user's say, and keys handed over locally (file, stdin, env, flag);
//! - `install`: the StorageCluster or DaemonSet, and what it says about key and issuer;
//! - `secret_key`: the well-known Secrets, and reading the key out of one;
//! - `cache`: where things were found (never the key), for a few minutes;
//! - `survey`: what each step found ([`DiscoverySurvey`]), the result of [`discover`];
//! - `locate`: where the key and issuer are, without reading the key (for manifests);
//! - `error`: why nothing could be settled on, without naming the binary's flags.

mod cache;
mod error;
mod install;
mod lean_daemonset;
mod locate;
mod overrides;
mod reference;
mod secret_key;
mod setup;
mod survey;

pub use cache::{DISCOVERY_CACHE_TTL, DiscoveryCache, RememberedDiscovery};
pub use error::{DiscoveryError, KeyFile};
pub use install::OPERATOR_DEFAULT_ISSUER;
pub use locate::{KeyLocation, LocateRequest, locate_signing_key};
pub use overrides::KeyOverrides;
pub use reference::{OPERATOR_DEFAULT_SECRET, ParseSecretRefError, SHARED_SECRET_KEY, SharedSecretRef};
pub use setup::{Install, IssuerSource, KeySource, SHARED_SECRET_ENV, SigningSetup};
pub use survey::{DiscoverySurvey, survey_signing_key};

use crate::connection::Connection;
use install::{InstallFacts, find_install};
use secret_key::{find_well_known_secret, read_secret_key};

/// Settles the signing key and issuer: overrides first, then the cluster (when `conn` is set).
/// With a `cache`, a location found in the cluster is remembered and tried first next time.
pub async fn discover_signing_key(
    conn: Option<&Connection>,
    overrides: &KeyOverrides,
    cache: Option<&DiscoveryCache>,
) -> Result<SigningSetup, DiscoveryError> {
    let mode = DiscoverMode { cache, key_from_cluster: true, keep_going: false };
    discover(conn, overrides, mode).await?.into_signing_setup(conn.is_none())
}

/// How far [`discover`] goes and what it may use.
#[derive(Debug, Clone, Copy)]
pub struct DiscoverMode<'a> {
    /// Where locations are remembered; `None` reads and writes no cache.
    pub cache: Option<&'a DiscoveryCache>,
    /// Look for the key in the cluster when the overrides give none (false: only the issuer
    /// is wanted, the caller has its keys).
    pub key_from_cluster: bool,
    /// Run every step and keep each failure as that step's finding (`doctor`), instead of
    /// stopping at a bad key file or an install that cannot be settled.
    pub keep_going: bool,
}

/// The one discovery flow, each step's finding kept: the key (the overrides, else `--shared-
/// secret-ref`, the Secret the install names, or a well-known Secret) and the issuer
/// (`--issuer`, else the install). Signing needs both ([`discover_signing_key`]); judging tokens
/// goes on without either, and `doctor` reports each. Unless `keep_going`, a bad key file and an
/// install that cannot be settled are errors, before any further request.
pub async fn discover(
    conn: Option<&Connection>,
    overrides: &KeyOverrides,
    mode: DiscoverMode<'_>,
) -> Result<DiscoverySurvey, DiscoveryError> {
    let mut looked_at = Vec::new();
    let local = match overrides::local_key(overrides) {
        Err(err) if !mode.keep_going => return Err(err),
        local => local,
    };
    let key_named = !matches!(local, Ok(None)) || overrides.shared_secret_ref.is_some();
    let from_cluster = mode.key_from_cluster && !key_named;
    if let (Some(conn), Some(cache), true) = (conn, mode.cache, from_cluster)
        && let Some(setup) = remembered_setup(conn, overrides, cache).await
    {
        return Ok(DiscoverySurvey::remembered(setup));
    }
    let install_needed = from_cluster || overrides.issuer.is_none();
    let install = match (conn, install_needed) {
        (Some(conn), true) => find_install(conn, overrides.px_namespace.as_deref(), &mut looked_at).await,
        _ => Ok(None),
    };
    let install = match install {
        Err(err) if !mode.keep_going => return Err(err),
        install => install,
    };
    let (key_secret, key) = match (local, conn) {
        (Ok(Some(found)), _) => (None, Some(Ok(found))),
        (Err(err), _) => (None, Some(Err(err))),
        (Ok(None), _) if !mode.key_from_cluster && overrides.shared_secret_ref.is_none() => (None, None),
        (Ok(None), None) => (None, Some(Err(DiscoveryError::NoKeyOffline))),
        // The Secret would depend on an install that could not be settled.
        (Ok(None), Some(_)) if overrides.shared_secret_ref.is_none() && install.is_err() => (None, None),
        (Ok(None), Some(conn)) => {
            let facts = install.as_ref().ok().and_then(Option::as_ref);
            match key_secret(conn, overrides, facts, &mut looked_at).await {
                Ok((reference, found_via)) => {
                    (Some(reference.clone()), Some(read_secret_key(conn, reference, found_via).await))
                }
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
    let survey = DiscoverySurvey { looked_at, install_needed, install, key_secret, key, issuer };
    if let (Some(Ok((key, key_source))), Some((issuer, issuer_source))) = (&survey.key, &survey.issuer) {
        tracing::info!(key = %key_source, algorithm = ?key.algorithm(), issuer = %issuer, issuer_from = %issuer_source, "signing setup");
        if let (Some(cache), true) = (mode.cache, from_cluster)
            && let Some(entry) =
                RememberedDiscovery::locations(key_source, issuer, issuer_source, jiff::Timestamp::now().as_second())
        {
            cache.store(&entry);
        }
    }
    Ok(survey)
}

/// The Secret that holds the key: `--shared-secret-ref`, else the one the install names, else
/// the first well-known Secret that holds one.
async fn key_secret(
    conn: &Connection,
    overrides: &KeyOverrides,
    install: Option<&InstallFacts>,
    looked_at: &mut Vec<String>,
) -> Result<(SharedSecretRef, Option<Install>), DiscoveryError> {
    match (&overrides.shared_secret_ref, install) {
        (Some(reference), _) => Ok((reference.in_namespace_or(&conn.namespace), None)),
        (None, Some(InstallFacts { install, secret: Some(reference), .. })) => {
            Ok((reference.clone(), Some(install.clone())))
        }
        (None, _) => match find_well_known_secret(conn, overrides.px_namespace.as_deref(), looked_at).await? {
            Some(reference) => Ok((reference, None)),
            None => Err(DiscoveryError::NotFound { looked_at: looked_at.clone() }),
        },
    }
}

/// The setup from a fresh cache entry: one read of the remembered Secret. `None` (and the entry
/// forgotten) when that read fails or the entry lacks an issuer the command needs.
async fn remembered_setup(conn: &Connection, overrides: &KeyOverrides, cache: &DiscoveryCache) -> Option<SigningSetup> {
    let entry = cache.load()?;
    let reference: SharedSecretRef = entry.secret.parse().ok()?;
    let (issuer, issuer_source) = match (&overrides.issuer, entry.issuer) {
        (Some(issuer), _) => (issuer.clone(), IssuerSource::Flag),
        (None, Some((issuer, detail))) => {
            let install = entry.install.clone()?;
            (issuer, IssuerSource::Install { install, detail: format!("remembered: {detail}") })
        }
        (None, None) => return None,
    };
    match read_secret_key(conn, reference, entry.install).await {
        Ok((key, key_source)) => {
            tracing::info!(key = %key_source, algorithm = ?key.algorithm(), issuer = %issuer, issuer_from = %issuer_source, "signing setup (remembered for up to 10 minutes)");
            Some(SigningSetup { key, key_source, issuer, issuer_source })
        }
        Err(err) => {
            tracing::debug!("remembered key location no longer works ({err}); discovering again");
            cache.forget();
            None
        }
    }
}
