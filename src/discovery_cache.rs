//! Remembers where discovery found the signing key and the issuer, so the next command against
//! the same cluster, context and user reads the key Secret directly (1 request instead of 3–5).
//!
//! Only locations are stored (a Secret reference, the install, the issuer string), never key
//! material. Entries expire after a few minutes, so an issuer changed in the install is picked
//! up soon; a reference that no longer works is forgotten and discovery runs again.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::discovery::Install;

/// How long a discovery result is trusted.
pub const DISCOVERY_CACHE_TTL: Duration = Duration::from_secs(10 * 60);

/// What discovery found, without the key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RememberedDiscovery {
    /// `NAMESPACE/NAME:KEY` of the shared-secret Secret.
    pub secret: String,
    pub install: Option<Install>,
    /// The issuer and where it was read, when discovery found one.
    pub issuer: Option<(String, String)>,
    pub stored_at: i64,
}

/// One cache file per cluster identity (server, context, kubeconfig, impersonation, scope).
#[derive(Debug, Clone)]
pub struct DiscoveryCache {
    path: PathBuf,
    ttl: Duration,
}

impl DiscoveryCache {
    /// `identity` must name everything that changes what discovery would find or may read.
    pub fn new(dir: &Path, identity: &str) -> DiscoveryCache {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        identity.hash(&mut hasher);
        DiscoveryCache { path: dir.join(format!("discovery-{:016x}.json", hasher.finish())), ttl: DISCOVERY_CACHE_TTL }
    }

    /// A fresh entry, if any. A missing, unreadable, stale or future-dated file is a miss.
    pub fn load(&self) -> Option<RememberedDiscovery> {
        let text = std::fs::read_to_string(&self.path).ok()?;
        let entry: RememberedDiscovery = serde_json::from_str(&text).ok()?;
        let age = jiff::Timestamp::now().as_second() - entry.stored_at;
        (0..=self.ttl.as_secs() as i64).contains(&age).then_some(entry)
    }

    /// Stores an entry; failures only cost the next command a full discovery.
    pub fn store(&self, entry: &RememberedDiscovery) {
        let Ok(text) = serde_json::to_string(entry) else { return };
        let Some(dir) = self.path.parent() else { return };
        let temp = self.path.with_extension(format!("{}.tmp", std::process::id()));
        let written = std::fs::create_dir_all(dir)
            .and_then(|()| std::fs::write(&temp, text))
            .and_then(|()| std::fs::rename(&temp, &self.path));
        if let Err(err) = written {
            let _ = std::fs::remove_file(&temp);
            tracing::debug!("cannot write discovery cache {}: {err}", self.path.display());
        }
    }

    pub fn forget(&self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(stored_at: i64) -> RememberedDiscovery {
        RememberedDiscovery {
            secret: "kube-system/pxkeys:shared-secret".into(),
            install: Some(Install::DaemonSet { namespace: "kube-system".into(), name: "portworx".into() }),
            issuer: Some(("portworx.com".into(), "container arg -jwt_issuer".into())),
            stored_at,
        }
    }

    #[test]
    fn entries_round_trip_per_identity_and_expire() {
        let dir = tempfile::tempdir().unwrap();
        let now = jiff::Timestamp::now().as_second();
        let cache = DiscoveryCache::new(dir.path(), "https://a|ctx|/k|");
        assert_eq!(cache.load(), None);
        cache.store(&entry(now));
        assert_eq!(cache.load(), Some(entry(now)));
        assert_eq!(DiscoveryCache::new(dir.path(), "https://a|ctx|/k|px").load(), None, "other identity");
        cache.store(&entry(now - DISCOVERY_CACHE_TTL.as_secs() as i64 - 1));
        assert_eq!(cache.load(), None, "stale");
        cache.store(&entry(now));
        cache.forget();
        assert_eq!(cache.load(), None);
    }
}
