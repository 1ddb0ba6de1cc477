//! Remembers where discovery found the signing key and the issuer, so the next command against
//! the same cluster, context and user reads the key Secret directly (1 request instead of 3–5).
//!
//! Only locations are stored (a Secret reference, the install, the issuer string), never key
//! material. Entries expire after a few minutes, so an issuer changed in the install is picked
//! up soon; a reference that no longer works is forgotten and discovery runs again.
//!
//! The library decides what identifies an entry, so every command keys it the same way: the
//! connection's server and context, the kubeconfig file, kubectl's `--cluster`/`--user`, the
//! impersonation, and the namespace discovery was limited to. Nothing in it is secret.

use std::ffi::OsString;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::setup::{Install, IssuerSource, KeySource, SigningSetup};
use crate::connection::{Connection, ConnectionOptions};

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

impl RememberedDiscovery {
    /// The locations in `setup`, when its key was read from a Secret (a local key has nothing
    /// worth remembering). An issuer the user gave is not remembered: it is not a finding.
    pub fn of(setup: &SigningSetup, stored_at: i64) -> Option<RememberedDiscovery> {
        RememberedDiscovery::locations(&setup.key_source, &setup.issuer, &setup.issuer_source, stored_at)
    }

    /// The same from the parts of a setup.
    pub fn locations(
        key_source: &KeySource,
        issuer: &str,
        issuer_source: &IssuerSource,
        stored_at: i64,
    ) -> Option<RememberedDiscovery> {
        let KeySource::Secret { reference, found_via, .. } = key_source else { return None };
        let issuer = match issuer_source {
            IssuerSource::Install { install, detail } => Some((issuer.to_owned(), format!("{install} ({detail})"))),
            IssuerSource::Flag => None,
        };
        Some(RememberedDiscovery { secret: reference.to_string(), install: found_via.clone(), issuer, stored_at })
    }
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

    /// The cache for what discovery finds through `conn` (built from `options`), limited to
    /// `px_namespace`; in `$XDG_CACHE_HOME/kubectl-pxtoken`, else `$HOME/.cache/kubectl-pxtoken`.
    /// `None` when neither variable is set: discovery then simply runs every time.
    pub fn for_connection(
        conn: &Connection,
        options: &ConnectionOptions,
        px_namespace: Option<&str>,
    ) -> Option<DiscoveryCache> {
        let dir = cache_dir(std::env::var_os("XDG_CACHE_HOME"), std::env::var_os("HOME"))?;
        let kubeconfig = std::env::var("KUBECONFIG").ok();
        let identity = identity(&conn.server, &conn.context, options, kubeconfig.as_deref(), px_namespace);
        Some(DiscoveryCache::new(&dir, &identity))
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

/// `$XDG_CACHE_HOME/kubectl-pxtoken`, else `$HOME/.cache/kubectl-pxtoken` (empty = unset).
fn cache_dir(xdg_cache_home: Option<OsString>, home: Option<OsString>) -> Option<PathBuf> {
    let base = xdg_cache_home
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| home.filter(|v| !v.is_empty()).map(|home| PathBuf::from(home).join(".cache")))?;
    Some(base.join("kubectl-pxtoken"))
}

/// Everything that changes what discovery would find, or may read. `-n` and the request
/// timeout are left out: discovery does not depend on them. `kubeconfig_env` is `$KUBECONFIG`,
/// which names the file when `--kubeconfig` does not.
fn identity(
    server: &str,
    context: &str,
    options: &ConnectionOptions,
    kubeconfig_env: Option<&str>,
    px_namespace: Option<&str>,
) -> String {
    let kubeconfig = options
        .kubeconfig
        .as_ref()
        .map(|p| p.display().to_string())
        .or_else(|| kubeconfig_env.map(str::to_owned))
        .unwrap_or_default();
    format!(
        "{server}|{context}|{kubeconfig}|{:?}|{:?}|{:?}|{:?}|{px_namespace:?}",
        options.cluster, options.user, options.impersonate, options.impersonate_groups
    )
}

#[cfg(test)]
mod tests {
    use super::super::reference::SharedSecretRef;
    use super::*;
    use crate::signing::SigningKey;

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

    #[test]
    fn identity_changes_with_what_discovery_may_see_and_nothing_else() {
        let base = ConnectionOptions { kubeconfig: Some("/home/a/.kube/config".into()), ..Default::default() };
        let id = |options: &ConnectionOptions, context: &str, px_namespace: Option<&str>| {
            identity("https://10.0.0.1:6443", context, options, Some("/env/kubeconfig"), px_namespace)
        };
        let reference = id(&base, "prod", None);
        assert_eq!(reference, id(&base.clone(), "prod", None), "stable for the same connection");
        let other_namespace = ConnectionOptions { namespace: Some("team-a".into()), ..base.clone() };
        let other_timeout = ConnectionOptions { request_timeout: Some(Duration::from_secs(5)), ..base.clone() };
        assert_eq!(id(&other_namespace, "prod", None), reference, "-n does not change what discovery finds");
        assert_eq!(id(&other_timeout, "prod", None), reference, "nor does --request-timeout");

        let differing = [
            ("context", id(&base, "staging", None)),
            ("user", id(&ConnectionOptions { user: Some("bob".into()), ..base.clone() }, "prod", None)),
            ("cluster", id(&ConnectionOptions { cluster: Some("c2".into()), ..base.clone() }, "prod", None)),
            ("--as", id(&ConnectionOptions { impersonate: Some("eve".into()), ..base.clone() }, "prod", None)),
            (
                "--as-group",
                id(&ConnectionOptions { impersonate_groups: vec!["ops".into()], ..base.clone() }, "prod", None),
            ),
            ("kubeconfig", id(&ConnectionOptions { kubeconfig: None, ..base.clone() }, "prod", None)),
            ("px-namespace", id(&base, "prod", Some("portworx"))),
        ];
        let dir = Path::new("/cache");
        for (what, identity) in &differing {
            assert_ne!(identity, &reference, "{what}");
            assert_ne!(DiscoveryCache::new(dir, identity).path, DiscoveryCache::new(dir, &reference).path, "{what}");
        }
    }

    #[test]
    fn the_cache_lives_under_xdg_cache_home_else_home() {
        let os = |s: &str| Some(OsString::from(s));
        assert_eq!(cache_dir(os("/x"), os("/h")), Some(PathBuf::from("/x/kubectl-pxtoken")));
        assert_eq!(cache_dir(os(""), os("/h")), Some(PathBuf::from("/h/.cache/kubectl-pxtoken")));
        assert_eq!(cache_dir(None, os("/h")), Some(PathBuf::from("/h/.cache/kubectl-pxtoken")));
        assert_eq!(cache_dir(None, os("")), None);
    }

    #[test]
    fn the_cache_file_holds_locations_never_the_key() {
        use base64::Engine as _;
        let secret = b"hunter2-very-secret-shared-key";
        let key = SigningKey::shared_secret(secret.to_vec().into(), "test").unwrap();
        let install = Install::StorageCluster { namespace: "portworx".into(), name: "px-cluster".into() };
        let setup = SigningSetup {
            key,
            key_source: KeySource::Secret {
                reference: SharedSecretRef::new("portworx", "px-shared-secret", "shared-secret"),
                resource_version: Some("4711".into()),
                found_via: Some(install.clone()),
            },
            issuer: "operator.portworx.io".into(),
            issuer_source: IssuerSource::Install { install, detail: "the operator's default issuer".into() },
        };
        let dir = tempfile::tempdir().unwrap();
        let cache = DiscoveryCache::new(dir.path(), "id");
        cache.store(&RememberedDiscovery::of(&setup, jiff::Timestamp::now().as_second()).unwrap());
        let text = std::fs::read_to_string(&cache.path).unwrap();
        assert!(text.contains("portworx/px-shared-secret:shared-secret"), "{text}");
        for form in [
            String::from_utf8(secret.to_vec()).unwrap(),
            base64::engine::general_purpose::STANDARD.encode(secret),
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret),
            serde_json::to_string(secret.as_slice()).unwrap().trim_matches(['[', ']']).to_owned(),
        ] {
            assert!(!text.contains(&form), "key material ({form}) in the cache file: {text}");
        }

        let local = SigningSetup {
            key: SigningKey::shared_secret(secret.to_vec().into(), "test").unwrap(),
            key_source: KeySource::Env,
            ..setup
        };
        assert_eq!(RememberedDiscovery::of(&local, 0), None, "a local key leaves nothing to remember");
    }
}
