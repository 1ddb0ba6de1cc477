//! Where the signing key lives and which issuer Portworx trusts, without reading the key: what a
//! manifest needs that hands both to an in-cluster job (`rotator manifest`). The job reads the
//! key itself, with its own ServiceAccount; the laptop that prints the manifest never holds it.
//!
//! Same order as [`super::discover_signing_key`]: the user's reference and issuer, then the
//! remembered location, then the install, then the well-known Secrets. Only that last step
//! fetches a Secret (to see that it holds the key); its values are wiped as soon as they are
//! looked at.

use super::cache::{DiscoveryCache, RememberedDiscovery};
use super::error::DiscoveryError;
use super::install::{InstallFacts, find_install};
use super::reference::SharedSecretRef;
use super::secret_key::find_well_known_secret;
use super::setup::{Install, IssuerSource, KeySource};
use crate::connection::Connection;

/// The key Secret and the issuer, and where each came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyLocation {
    /// Always names its namespace.
    pub reference: SharedSecretRef,
    /// The install that named the Secret, when it was found through one.
    pub found_via: Option<Install>,
    pub issuer: String,
    pub issuer_source: IssuerSource,
}

/// What the user said about the key's location and the issuer.
#[derive(Debug, Clone, Default)]
pub struct LocateRequest {
    /// A reference without a namespace is in the connection's namespace.
    pub reference: Option<SharedSecretRef>,
    pub issuer: Option<String>,
    /// Look for the install only in this namespace.
    pub px_namespace: Option<String>,
}

impl LocateRequest {
    /// The location when the user gave all of it: no cluster needed.
    pub fn given(&self) -> Option<KeyLocation> {
        let reference = self.reference.clone().filter(|r| r.namespace.is_some())?;
        let issuer = self.issuer.clone()?;
        Some(KeyLocation { reference, found_via: None, issuer, issuer_source: IssuerSource::Flag })
    }
}

/// Settles the key Secret and the issuer without reading the key. `conn` may be `None` only
/// when the request gives both ([`LocateRequest::given`]).
pub async fn locate_signing_key(
    conn: Option<&Connection>,
    request: &LocateRequest,
    cache: Option<&DiscoveryCache>,
) -> Result<KeyLocation, DiscoveryError> {
    if let Some(location) = request.given() {
        return Ok(location);
    }
    let Some(conn) = conn else {
        return Err(if request.reference.is_none() {
            DiscoveryError::NoKeyOffline
        } else {
            DiscoveryError::NoIssuerOffline
        });
    };
    let from_cluster = request.reference.is_none();
    if let (Some(cache), true) = (cache, from_cluster)
        && let Some(location) = remembered(request, cache)
    {
        tracing::info!(key = %location.reference, issuer = %location.issuer, issuer_from = %location.issuer_source, "key location (remembered for up to 10 minutes)");
        return Ok(location);
    }
    let mut looked_at = Vec::new();
    let facts = find_install(conn, request.px_namespace.as_deref(), &mut looked_at).await?;
    let (reference, found_via) = match (&request.reference, &facts) {
        (Some(reference), _) => (reference.in_namespace_or(&conn.namespace), None),
        (None, Some(InstallFacts { install, secret: Some(reference), .. })) => {
            (reference.clone(), Some(install.clone()))
        }
        (None, _) => match find_well_known_secret(conn, request.px_namespace.as_deref(), &mut looked_at).await? {
            Some(reference) => (reference, None),
            None => return Err(DiscoveryError::NotFound { looked_at }),
        },
    };
    let (issuer, issuer_source) = match (&request.issuer, facts) {
        (Some(issuer), _) => (issuer.clone(), IssuerSource::Flag),
        (None, Some(InstallFacts { install, issuer: Some((issuer, detail)), .. })) => {
            (issuer, IssuerSource::Install { install, detail: detail.to_owned() })
        }
        (None, _) => {
            let key_source = KeySource::Secret { reference, resource_version: None, found_via };
            return Err(DiscoveryError::NoIssuer { key_source: Some(Box::new(key_source)), looked_at });
        }
    };
    let location = KeyLocation { reference, found_via, issuer, issuer_source };
    tracing::info!(key = %location.reference, issuer = %location.issuer, issuer_from = %location.issuer_source, "key location");
    if let (Some(cache), true) = (cache, from_cluster) {
        cache.store(&remember(&location, jiff::Timestamp::now().as_second()));
    }
    Ok(location)
}

/// The cache entry for a location found in the cluster; an issuer the user gave is not a finding.
fn remember(location: &KeyLocation, stored_at: i64) -> RememberedDiscovery {
    let issuer = match &location.issuer_source {
        IssuerSource::Install { install, detail } => Some((location.issuer.clone(), format!("{install} ({detail})"))),
        IssuerSource::Flag => None,
    };
    RememberedDiscovery {
        secret: location.reference.to_string(),
        install: location.found_via.clone(),
        issuer,
        stored_at,
    }
}

/// The location in a fresh cache entry, when it has an issuer or the user gave one.
fn remembered(request: &LocateRequest, cache: &DiscoveryCache) -> Option<KeyLocation> {
    let entry = cache.load()?;
    let reference: SharedSecretRef = entry.secret.parse().ok().filter(|r: &SharedSecretRef| r.namespace.is_some())?;
    let (issuer, issuer_source) = match (&request.issuer, entry.issuer) {
        (Some(issuer), _) => (issuer.clone(), IssuerSource::Flag),
        (None, Some((issuer, detail))) => {
            let install = entry.install.clone()?;
            (issuer, IssuerSource::Install { install, detail: format!("remembered: {detail}") })
        }
        (None, None) => return None,
    };
    Some(KeyLocation { reference, found_via: entry.install, issuer, issuer_source })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn install() -> Install {
        Install::StorageCluster { namespace: "portworx".into(), name: "px".into() }
    }

    fn block_on<F: std::future::Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(future)
    }

    #[test]
    fn a_full_reference_and_an_issuer_need_no_cluster() {
        let request = LocateRequest {
            reference: Some(SharedSecretRef::new("kube-system", "pxkeys", "shared-secret")),
            issuer: Some("portworx.com".into()),
            px_namespace: None,
        };
        let location = block_on(locate_signing_key(None, &request, None)).unwrap();
        assert_eq!(location.reference.to_string(), "kube-system/pxkeys:shared-secret");
        assert_eq!((location.issuer.as_str(), &location.issuer_source), ("portworx.com", &IssuerSource::Flag));

        let bare = LocateRequest { reference: Some("pxkeys:shared-secret".parse().unwrap()), ..request.clone() };
        assert!(bare.given().is_none(), "a reference without a namespace needs the connection's");
        let no_issuer = LocateRequest { issuer: None, ..request };
        assert!(matches!(block_on(locate_signing_key(None, &no_issuer, None)), Err(DiscoveryError::NoIssuerOffline)));
        let nothing = LocateRequest::default();
        assert!(matches!(block_on(locate_signing_key(None, &nothing, None)), Err(DiscoveryError::NoKeyOffline)));
    }

    #[test]
    fn a_remembered_location_round_trips_and_a_given_issuer_wins() {
        let dir = tempfile::tempdir().unwrap();
        let cache = DiscoveryCache::new(dir.path(), "id");
        let found = KeyLocation {
            reference: SharedSecretRef::new("portworx", "px-shared-secret", "shared-secret"),
            found_via: Some(install()),
            issuer: "operator.portworx.io".into(),
            issuer_source: IssuerSource::Install { install: install(), detail: "the operator's default issuer".into() },
        };
        cache.store(&remember(&found, jiff::Timestamp::now().as_second()));
        let back = remembered(&LocateRequest::default(), &cache).unwrap();
        assert_eq!(
            (&back.reference, &back.issuer, &back.found_via),
            (&found.reference, &found.issuer, &found.found_via)
        );
        assert!(
            matches!(&back.issuer_source, IssuerSource::Install { detail, .. } if detail.starts_with("remembered: "))
        );

        let given = LocateRequest { issuer: Some("other.io".into()), ..LocateRequest::default() };
        let back = remembered(&given, &cache).unwrap();
        assert_eq!((back.issuer.as_str(), back.issuer_source), ("other.io", IssuerSource::Flag));

        let flagged = KeyLocation { issuer_source: IssuerSource::Flag, ..found };
        cache.store(&remember(&flagged, jiff::Timestamp::now().as_second()));
        assert_eq!(remembered(&LocateRequest::default(), &cache), None, "a flag's issuer is not remembered");
    }
}
