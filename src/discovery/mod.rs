//! Where the signing key and the issuer come from: the user's overrides first, then the
//! Portworx install found in the cluster (SPEC "Where the signing key and the issuer come from").
//!
//! Discovery never guesses an issuer: a token with the wrong `iss` is signed fine and then
//! refused by every Portworx node, long after the command said it worked.
//!
//! The flow is here; each step has its own module, none of which imports this one:
//! - `reference`: `[NAMESPACE/]NAME:KEY`, the name of a key inside a Secret;
//! - `setup`: what discovery settles on (key, issuer, where each came from);
//! - `overrides`: the user's say, and keys handed over locally (file, stdin, env, flag);
//! - `install`: the StorageCluster or DaemonSet, and what it says about key and issuer;
//! - `secret_key`: the well-known Secrets, and reading the key out of one;
//! - `cache`: where things were found (never the key), for a few minutes;
//! - `survey`: every step's finding reported on its own, for `doctor`;
//! - `locate`: where the key and issuer are, without reading the key (for manifests);
//! - `error`: why nothing could be settled on, without naming the binary's flags.

mod cache;
mod error;
mod install;
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
use crate::signing::SigningKey;
use install::{InstallFacts, find_install};
use secret_key::{find_well_known_secret, read_secret_key};

/// Settles the signing key and issuer: overrides first, then the cluster (when `conn` is set).
/// With a `cache`, a location found in the cluster is remembered and tried first next time.
pub async fn discover_signing_key(
    conn: Option<&Connection>,
    overrides: &KeyOverrides,
    cache: Option<&DiscoveryCache>,
) -> Result<SigningSetup, DiscoveryError> {
    discover(conn, overrides, cache, true).await?.into_signing_setup()
}

/// What discovery found, each half on its own. Signing needs both
/// ([`Findings::into_signing_setup`]); judging tokens can go on without either, checking less.
#[derive(Debug)]
pub struct Findings {
    /// The key and where it came from, or why none could be had; `None` when not looked for.
    pub key: Option<Result<(SigningKey, KeySource), DiscoveryError>>,
    /// The issuer the nodes trust and where it was read; `None` when nothing says.
    pub issuer: Option<(String, IssuerSource)>,
    /// What discovery looked at, for the error when the issuer is unknown.
    pub looked_at: Vec<String>,
    offline: bool,
}

impl Findings {
    /// The key and the issuer, or the first reason one is missing.
    pub fn into_signing_setup(self) -> Result<SigningSetup, DiscoveryError> {
        let Some(key) = self.key else { return Err(DiscoveryError::NoKeyOffline) };
        let (key, key_source) = key?;
        let Some((issuer, issuer_source)) = self.issuer else {
            if self.offline {
                return Err(DiscoveryError::NoIssuerOffline);
            }
            return Err(DiscoveryError::NoIssuer { key_source: Some(Box::new(key_source)), looked_at: self.looked_at });
        };
        Ok(SigningSetup { key, key_source, issuer, issuer_source })
    }

    /// Why the issuer is unknown (`None` when it is known), worded as for signing.
    pub fn issuer_problem(&self) -> Option<DiscoveryError> {
        match (&self.issuer, self.offline) {
            (Some(_), _) => None,
            (None, true) => Some(DiscoveryError::NoIssuerOffline),
            (None, false) => Some(DiscoveryError::NoIssuer {
                key_source: match &self.key {
                    Some(Ok((_, source))) => Some(Box::new(source.clone())),
                    _ => None,
                },
                looked_at: self.looked_at.clone(),
            }),
        }
    }
}

/// Discovery with each half on its own: the key (from the overrides, else the cluster when
/// `key_from_cluster`), and the issuer (`--issuer`, else the install). Only what stops both
/// halves is an error here (an unreadable key file, two installs, an unreachable server while
/// looking for the install); a key that cannot be read is the key's finding.
pub async fn discover(
    conn: Option<&Connection>,
    overrides: &KeyOverrides,
    cache: Option<&DiscoveryCache>,
    key_from_cluster: bool,
) -> Result<Findings, DiscoveryError> {
    let mut looked_at = Vec::new();
    let local = overrides::local_key(overrides)?;
    let from_cluster = key_from_cluster && local.is_none() && overrides.shared_secret_ref.is_none();
    if let (Some(conn), Some(cache), true) = (conn, cache, from_cluster)
        && let Some(setup) = remembered_setup(conn, overrides, cache).await
    {
        let SigningSetup { key, key_source, issuer, issuer_source } = setup;
        return Ok(Findings {
            key: Some(Ok((key, key_source))),
            issuer: Some((issuer, issuer_source)),
            looked_at,
            offline: false,
        });
    }
    let wants_cluster_key = key_from_cluster && local.is_none();
    let mut install_facts: Option<InstallFacts> = None;
    let needs_install = wants_cluster_key && overrides.shared_secret_ref.is_none() || overrides.issuer.is_none();
    if let (Some(conn), true) = (conn, needs_install) {
        install_facts = find_install(conn, overrides.px_namespace.as_deref(), &mut looked_at).await?;
    }

    let key = match (local, conn) {
        (Some(found), _) => Some(Ok(found)),
        (None, _) if !key_from_cluster => None,
        (None, None) => Some(Err(DiscoveryError::NoKeyOffline)),
        (None, Some(conn)) => Some(cluster_key(conn, overrides, install_facts.as_ref(), &mut looked_at).await),
    };
    let issuer = match (&overrides.issuer, install_facts) {
        (Some(issuer), _) => Some((issuer.clone(), IssuerSource::Flag)),
        (None, Some(InstallFacts { install, issuer: Some((issuer, detail)), .. })) => {
            Some((issuer, IssuerSource::Install { install, detail: detail.to_owned() }))
        }
        (None, _) => None,
    };
    let findings = Findings { key, issuer, looked_at, offline: conn.is_none() };
    if let (Some(Ok((key, key_source))), Some((issuer, issuer_source))) = (&findings.key, &findings.issuer) {
        tracing::info!(key = %key_source, algorithm = ?key.algorithm(), issuer = %issuer, issuer_from = %issuer_source, "signing setup");
    }
    if let (Some(cache), true, Some(Ok((_, key_source))), Some((issuer, issuer_source))) =
        (cache, from_cluster, &findings.key, &findings.issuer)
        && let Some(entry) =
            RememberedDiscovery::locations(key_source, issuer, issuer_source, jiff::Timestamp::now().as_second())
    {
        cache.store(&entry);
    }
    Ok(findings)
}

/// The key from the cluster: `--shared-secret-ref`, else the Secret the install names, else
/// the first well-known Secret that holds one.
async fn cluster_key(
    conn: &Connection,
    overrides: &KeyOverrides,
    install_facts: Option<&InstallFacts>,
    looked_at: &mut Vec<String>,
) -> Result<(SigningKey, KeySource), DiscoveryError> {
    let (reference, found_via) = match (&overrides.shared_secret_ref, install_facts) {
        (Some(reference), _) => (reference.in_namespace_or(&conn.namespace), None),
        (None, Some(InstallFacts { install, secret: Some(reference), .. })) => {
            (reference.clone(), Some(install.clone()))
        }
        (None, _) => match find_well_known_secret(conn, overrides.px_namespace.as_deref(), looked_at).await? {
            Some(reference) => (reference, None),
            None => return Err(DiscoveryError::NotFound { looked_at: looked_at.clone() }),
        },
    };
    read_secret_key(conn, reference, found_via).await
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
