//! The namespaces tests work in: their own ([`TestNamespace`]), and `kube-system`, borrowed by
//! one test at a time ([`KubeSystem`]); and many tenants' namespaces at once ([`Tenants`]).

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError, TryLockError};

use serde_json::{Value, json};

use super::cluster;
use super::portworx::PortworxInstall;
use super::random::random_name_suffix;
use super::run::{CommandExt, kubectl, pxtoken};

/// A namespace of one test's own, `<prefix>-<random>`, deleted (without waiting) when dropped.
pub struct TestNamespace {
    name: String,
}

impl TestNamespace {
    /// Creates a new namespace `<prefix>-<8 random characters>` as admin.
    pub fn new(prefix: &str) -> TestNamespace {
        let ns = TestNamespace::unused(prefix);
        kubectl("admin").args(["create", "namespace", &ns.name]).succeeds();
        ns
    }

    /// A fresh namespace name that is not created (to test `--create-namespace` or a missing
    /// namespace); deleted on drop if something created it.
    pub fn unused(prefix: &str) -> TestNamespace {
        TestNamespace { name: format!("{prefix}-{}", random_name_suffix()) }
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for TestNamespace {
    fn drop(&mut self) {
        if cluster::started() {
            let _ =
                kubectl("admin").args(["delete", "namespace", &self.name, "--ignore-not-found", "--wait=false"]).run();
        }
    }
}

impl std::ops::Deref for TestNamespace {
    type Target = str;
    fn deref(&self) -> &str {
        &self.name
    }
}

impl AsRef<OsStr> for TestNamespace {
    fn as_ref(&self) -> &OsStr {
        OsStr::new(&self.name)
    }
}

impl fmt::Display for TestNamespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

/// The kinds of object a test may leave in kube-system, by it or by the plugin: what
/// [`KubeSystem`] cleans up.
const KUBE_SYSTEM_KINDS: &str = "secrets,configmaps,serviceaccounts,daemonsets.apps,deployments.apps,\
storageclusters.core.libopenstorage.org,roles.rbac.authorization.k8s.io,rolebindings.rbac.authorization.k8s.io";

/// Held by the test that has borrowed kube-system.
static KUBE_SYSTEM: Mutex<()> = Mutex::new(());

/// `kube-system`, borrowed by one test at a time. Portworx's documented install lives there, and
/// discovery without `--px-namespace` looks there, so a test that puts an install there changes
/// what every other such test sees. While one test holds this, no other test that borrows it
/// runs; when it is dropped (the test ends, pass or fail), every object of
/// [`KUBE_SYSTEM_KINDS`] that appeared in kube-system since the borrow is deleted, so the next
/// test finds kube-system as it was.
///
/// Borrow it to put fixtures in kube-system ([`install_daemonset_style`](super::install_daemonset_style),
/// [`grant`](super::grant) refuse kube-system otherwise), and to run discovery across all
/// namespaces with nothing of another test's in kube-system.
pub struct KubeSystem {
    before: BTreeSet<String>,
    _only_me: MutexGuard<'static, ()>,
}

impl KubeSystem {
    pub const NAME: &str = "kube-system";

    /// Waits until no other test holds kube-system, and takes it.
    pub fn borrow() -> KubeSystem {
        let only_me = KUBE_SYSTEM.lock().unwrap_or_else(PoisonError::into_inner);
        KubeSystem { before: kube_system_objects(), _only_me: only_me }
    }
}

/// Every object of [`KUBE_SYSTEM_KINDS`] in kube-system, as `kind.group/name`.
fn kube_system_objects() -> BTreeSet<String> {
    let out = kubectl("admin").args(["get", KUBE_SYSTEM_KINDS, "-n", KubeSystem::NAME, "-o", "name"]).succeeds();
    out.lines().map(str::to_owned).collect()
}

impl Drop for KubeSystem {
    fn drop(&mut self) {
        let cleanup = catch_unwind(AssertUnwindSafe(|| {
            let added: Vec<String> = kube_system_objects().difference(&self.before).cloned().collect();
            if !added.is_empty() {
                kubectl("admin")
                    .args(["delete", "-n", KubeSystem::NAME, "--ignore-not-found", "--wait=true"])
                    .args(&added)
                    .succeeds();
            }
        }));
        // A failed cleanup fails the test, unless it is failing already.
        if let Err(panic) = cleanup
            && !std::thread::panicking()
        {
            resume_unwind(panic);
        }
    }
}

impl std::ops::Deref for KubeSystem {
    type Target = str;
    fn deref(&self) -> &str {
        KubeSystem::NAME
    }
}

impl AsRef<OsStr> for KubeSystem {
    fn as_ref(&self) -> &OsStr {
        OsStr::new(KubeSystem::NAME)
    }
}

impl fmt::Display for KubeSystem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(KubeSystem::NAME)
    }
}

/// Panics unless the test may write fixtures into `namespace`: kube-system only while borrowed
/// ([`KubeSystem::borrow`]), so nothing is left there for later tests.
pub(super) fn assert_may_write(namespace: &str) {
    if namespace == KubeSystem::NAME {
        // Free means no test holds it. (Held by another test cannot be told from held by this
        // one; a test run alone still finds the mistake.)
        let free = !matches!(KUBE_SYSTEM.try_lock(), Err(TryLockError::WouldBlock));
        assert!(!free, "borrow kube-system with KubeSystem::borrow() before putting fixtures there");
    }
}

/// Tenants in namespaces of their own, created with one `kubectl create` and deleted with one
/// `kubectl delete`, both of a List.
pub struct Tenants {
    pub names: Vec<String>,
}

impl Tenants {
    pub fn new(prefix: &str, count: usize) -> Tenants {
        let tenants = Tenants { names: (0..count).map(|_| format!("{prefix}-{}", random_name_suffix())).collect() };
        kubectl("admin").args(["create", "-f", "-"]).run_with_input(&tenants.namespace_list()).success();
        tenants
    }

    /// Their namespaces as a List manifest. Deleting from it takes 0.3 s for 200; `kubectl delete
    /// namespace NAME…` takes 38 s (its client-side rate limit of 5 requests a second).
    fn namespace_list(&self) -> String {
        let items: Vec<Value> = self
            .names
            .iter()
            .map(|n| json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": n}}))
            .collect();
        json!({"apiVersion": "v1", "kind": "List", "items": items}).to_string()
    }

    /// A `--from-file` tenant list naming them, written in `dir`.
    pub fn list_file(&self, dir: &Path) -> PathBuf {
        let list = dir.join("tenants.yaml");
        std::fs::write(&list, self.names.iter().map(|n| format!("- namespace: {n}\n")).collect::<String>())
            .expect("writing the tenant list");
        list
    }

    /// `tenant --from-file` for all of them, as admin, with the key and issuer of `px`.
    pub fn onboard(&self, px: &PortworxInstall, flags: &[&str]) {
        let dir = tempfile::tempdir().unwrap();
        pxtoken("admin")
            .args(["tenant", "--from-file"])
            .arg(self.list_file(dir.path()))
            .args(["--concurrency", "8", "--shared-secret-ref", &px.secret_ref(), "--issuer", &px.issuer])
            .args(flags)
            .succeeds();
    }
}

impl Drop for Tenants {
    fn drop(&mut self) {
        if !self.names.is_empty() {
            let _ = kubectl("admin")
                .args(["delete", "-f", "-", "--ignore-not-found", "--wait=false"])
                .run_with_input(&self.namespace_list());
        }
    }
}
