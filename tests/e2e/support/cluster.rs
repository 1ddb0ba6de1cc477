//! The control plane of the run, its users, and the RBAC grants tests give them.
//!
//! `cluster()` starts it on first use with `tests/cluster/up.sh`, or reuses the one named by
//! env `PXTOKEN_TEST_KUBECONFIG` (an admin kubeconfig written by up.sh). It is stopped when the
//! test process exits.
//!
//! Users: `admin` (system:masters) and `alice`, `bob`, `carol` with no rights until a test
//! [`grant`]s some. Everything admin does here goes through `kubectl` too.
//!
//! What the control plane is not: no nodes, scheduler or kubelet (Pods never run), and of the
//! controllers only the namespace and ServiceAccount ones (a deleted namespace goes away with its
//! contents; each namespace gets its "default" ServiceAccount).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::namespaces::assert_may_write;
use super::portworx::storagecluster_crd;
use super::random::random_name_suffix;
use super::run::{CommandExt, apply_json, kubectl};

/// How long a new RBAC grant may take to be honoured by the API server's authorizer.
const GRANT_TIMEOUT: Duration = Duration::from_secs(20);

// ---------------------------------------------------------------------------------------------
// The control plane
// ---------------------------------------------------------------------------------------------

/// The control plane of this test process, and how to reach it.
pub struct Cluster {
    /// Where `<user>.kubeconfig` live (up.sh's DIR).
    dir: PathBuf,
    /// The kubectl every command runs (tests/cluster/ensure-kubectl.sh).
    kubectl: PathBuf,
    /// PATH for commands: a directory holding only the plugin, then the test's own PATH.
    path: std::ffi::OsString,
    /// HOME for commands: empty, so no user's kubeconfig, kuberc or cache leaks in.
    home: PathBuf,
    /// Holds one `XDG_CACHE_HOME` per test, so what the plugin remembers (discovery results)
    /// never carries from one test to another.
    caches: PathBuf,
}

static CLUSTER: OnceLock<Result<Cluster, String>> = OnceLock::new();

/// The control plane for this test process, started on first use. Panics, naming what is
/// missing, when it cannot be had: end-to-end tests fail rather than skip.
pub fn cluster() -> &'static Cluster {
    match CLUSTER.get_or_init(Cluster::start) {
        Ok(cluster) => cluster,
        Err(why) => panic!("no test control plane: {why}"),
    }
}

/// Whether [`cluster`] has been set up in this process (nothing to clean up otherwise).
pub(super) fn started() -> bool {
    CLUSTER.get().is_some_and(|c| c.is_ok())
}

impl Cluster {
    fn start() -> Result<Cluster, String> {
        let pid = std::process::id();
        let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
        remove_stale_state(tmp);
        let state = tmp.join(format!("e2e-{pid}"));
        let home = state.join("home");
        std::fs::create_dir_all(&home).map_err(|e| format!("creating {}: {e}", home.display()))?;

        let dir = match std::env::var_os("PXTOKEN_TEST_KUBECONFIG") {
            Some(admin) => {
                let admin = PathBuf::from(admin);
                if !admin.is_file() {
                    return Err(format!("PXTOKEN_TEST_KUBECONFIG={} is not a file", admin.display()));
                }
                admin.parent().map(Path::to_path_buf).unwrap_or_default()
            }
            None => {
                let dir = state.join("cluster");
                eprintln!(
                    "starting the test control plane in {} (the first run builds it: 10-20 minutes)",
                    dir.display()
                );
                let started = Instant::now();
                let out = Command::new("bash")
                    .arg(cluster_script("up.sh"))
                    .arg(&dir)
                    .env("PXTOKEN_CLUSTER_WATCH_PID", pid.to_string())
                    .stdin(Stdio::null())
                    .output()
                    .map_err(|e| format!("running tests/cluster/up.sh: {e} (is bash installed?)"))?;
                if !out.status.success() {
                    return Err(format!(
                        "tests/cluster/up.sh {} failed ({}):\n{}{}",
                        dir.display(),
                        out.status,
                        String::from_utf8_lossy(&out.stdout),
                        String::from_utf8_lossy(&out.stderr)
                    ));
                }
                eprintln!("test control plane ready in {:.1}s", started.elapsed().as_secs_f64());
                dir
            }
        };

        let kubectl = Command::new("bash")
            .arg(cluster_script("ensure-kubectl.sh"))
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("running tests/cluster/ensure-kubectl.sh: {e}"))?;
        if !kubectl.status.success() {
            return Err(format!(
                "no kubectl: tests/cluster/ensure-kubectl.sh failed:\n{}",
                String::from_utf8_lossy(&kubectl.stderr)
            ));
        }
        let kubectl = PathBuf::from(String::from_utf8_lossy(&kubectl.stdout).trim());

        // Only the plugin (and its completion companion, once it exists) comes first on PATH:
        // cargo's target directory also holds `kubectl-pxtoken.d`, which kubectl would report
        // as a broken plugin.
        let plugins = state.join("plugins");
        std::fs::create_dir_all(&plugins).map_err(|e| format!("creating {}: {e}", plugins.display()))?;
        let mut binaries = vec![("kubectl-pxtoken", env!("CARGO_BIN_EXE_kubectl-pxtoken"))];
        if let Some(complete) = option_env!("CARGO_BIN_EXE_kubectl_complete-pxtoken") {
            binaries.push(("kubectl_complete-pxtoken", complete));
        }
        for (name, target) in binaries {
            let link = plugins.join(name);
            let _ = std::fs::remove_file(&link);
            std::os::unix::fs::symlink(target, &link).map_err(|e| format!("linking {}: {e}", link.display()))?;
        }
        let mut dirs = vec![plugins];
        dirs.extend(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()));
        let path = std::env::join_paths(dirs).map_err(|e| format!("building PATH: {e}"))?;

        let caches = state.join("caches");
        let cluster = Cluster { dir, kubectl, path, home, caches };
        let admin = cluster.kubeconfig("admin");
        if !admin.is_file() {
            return Err(format!("{} is missing", admin.display()));
        }
        let ready = Command::new(&cluster.kubectl)
            .arg("--kubeconfig")
            .arg(&admin)
            .args(["get", "--raw", "/readyz", "--request-timeout=10s"])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("running {}: {e}", cluster.kubectl.display()))?;
        if !ready.status.success() {
            return Err(format!(
                "the control plane of {} does not answer /readyz (start it with tests/cluster/up.sh {}):\n{}",
                admin.display(),
                cluster.dir.display(),
                String::from_utf8_lossy(&ready.stderr)
            ));
        }
        // Present for every test, so no result depends on which test installed it first.
        cluster
            .command("admin")
            .args(["apply", "-f", "-"])
            .run_with_input(&storagecluster_crd().to_string())
            .success_or_else(|run| format!("cannot install the StorageCluster CRD:\n{run}"))?;
        cluster
            .command("admin")
            .args([
                "wait",
                "--for=condition=Established",
                "--timeout=60s",
                "crd/storageclusters.core.libopenstorage.org",
            ])
            .run()
            .success_or_else(|run| format!("the StorageCluster CRD is not established:\n{run}"))?;
        Ok(cluster)
    }

    /// `kubectl …` as `user` (see [`kubectl`](super::run::kubectl)).
    pub(super) fn command(&self, user: &str) -> Command {
        let kubeconfig = self.kubeconfig(user);
        assert!(kubeconfig.is_file(), "no user {user:?} in the test cluster ({} is missing)", kubeconfig.display());
        let mut cmd = Command::new(&self.kubectl);
        // Nothing from the developer's environment (PXTOKEN_SHARED_SECRET, KUBECONFIG, …) leaks in.
        cmd.env_clear().env("PATH", &self.path).env("HOME", &self.home).env("KUBECONFIG", kubeconfig);
        // libtest runs each test on a thread named after it.
        if let Some(test) = std::thread::current().name().filter(|name| *name != "main") {
            cmd.env("XDG_CACHE_HOME", self.caches.join(test.replace("::", "__")));
        }
        for var in ["TMPDIR", "LLVM_PROFILE_FILE", "CARGO_LLVM_COV", "LANG", "LC_ALL", "TZ"] {
            if let Some(value) = std::env::var_os(var) {
                cmd.env(var, value);
            }
        }
        cmd
    }

    /// The API server's URL (`https://127.0.0.1:PORT`).
    pub fn server(&self) -> String {
        std::fs::read_to_string(self.dir.join("server")).map(|s| s.trim().to_owned()).unwrap_or_default()
    }

    /// The control plane's certificates and keys (`ca.crt`, `apiserver.crt`, …).
    pub fn pki_dir(&self) -> PathBuf {
        self.dir.join("pki")
    }

    /// The kubeconfig of `user` (`admin`, `alice`, `bob`, `carol`, or one from [`Cluster::new_user`]).
    pub fn kubeconfig(&self, user: &str) -> PathBuf {
        self.dir.join(format!("{user}.kubeconfig"))
    }

    /// A user of its own for one test, with no rights: `<prefix>-<random>`. Its kubeconfig is
    /// [`Cluster::kubeconfig`]`(name)`. Use it when a test grants rights outside its own
    /// namespaces (kube-system), so no other test running at the same time has them.
    pub fn new_user(&self, prefix: &str) -> String {
        let name = format!("{prefix}-{}", random_name_suffix());
        let out = Command::new("bash")
            .arg(cluster_script("add-user.sh"))
            .arg(&self.dir)
            .arg(&name)
            .stdin(Stdio::null())
            .output()
            .expect("running tests/cluster/add-user.sh");
        assert!(
            out.status.success(),
            "tests/cluster/add-user.sh {} {name} failed:\n{}",
            self.dir.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        name
    }
}

fn cluster_script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cluster").join(name)
}

/// Removes what earlier test processes left in the target directory (`e2e-<pid>` of processes
/// that are gone); their control planes stopped when those processes did.
fn remove_stale_state(tmp: &Path) {
    let Ok(entries) = std::fs::read_dir(tmp) else { return };
    if !Path::new("/proc/self").exists() {
        return; // cannot tell live processes from dead ones
    }
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.strip_prefix("e2e-")).and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        if Path::new("/proc").join(pid.to_string()).exists() {
            continue;
        }
        let cluster = entry.path().join("cluster");
        if cluster.join("cluster.pid").exists() {
            let _ = Command::new("bash").arg(cluster_script("down.sh")).arg(&cluster).output();
        }
        let _ = std::fs::remove_dir_all(entry.path());
    }
}

// ---------------------------------------------------------------------------------------------
// RBAC
// ---------------------------------------------------------------------------------------------

/// Lets `user` do `verbs` on `resources` in `namespace` (a Role and a RoleBinding), and waits
/// until the API server honours it. Resources are `plural[.group]`: `secrets`,
/// `daemonsets.apps`, `storageclusters.core.libopenstorage.org`. `namespace` is one of the test's
/// own, or kube-system borrowed with [`KubeSystem::borrow`](super::KubeSystem::borrow): then the
/// grant is removed when the test ends.
pub fn grant(user: &str, namespace: &str, verbs: &[&str], resources: &[&str]) {
    assert_may_write(namespace);
    let name = format!("pxt-grant-{}", random_name_suffix());
    apply_json(&json!({
        "apiVersion": "v1", "kind": "List", "items": [
            {
                "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
                "metadata": {"name": name, "namespace": namespace},
                "rules": rbac_rules(verbs, resources),
            },
            {
                "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                "metadata": {"name": name, "namespace": namespace},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
                "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}],
            },
        ],
    }));
    wait_until_allowed(user, namespace, verbs, resources);
}

/// A cluster-wide grant to one test's own user ([`Cluster::new_user`]): a ClusterRole and
/// ClusterRoleBinding, deleted when dropped (they live outside the test's namespaces).
pub struct ClusterGrant {
    name: String,
}

/// Lets `user` do `verbs` on `resources` in every namespace, until the returned guard is dropped.
/// Give it only to a user of the test's own, so no other test running at the same time has it.
pub fn grant_cluster(user: &str, verbs: &[&str], resources: &[&str]) -> ClusterGrant {
    let name = format!("pxt-grant-{}", random_name_suffix());
    apply_json(&json!({
        "apiVersion": "v1", "kind": "List", "items": [
            {
                "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                "metadata": {"name": name},
                "rules": rbac_rules(verbs, resources),
            },
            {
                "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                "metadata": {"name": name},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name},
                "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}],
            },
        ],
    }));
    wait_until_allowed(user, "default", verbs, resources);
    ClusterGrant { name }
}

impl Drop for ClusterGrant {
    fn drop(&mut self) {
        let _ = kubectl("admin")
            .args(["delete", "clusterrolebinding,clusterrole", &self.name, "--ignore-not-found", "--wait=false"])
            .run();
    }
}

/// `plural[.group]` → (group, plural).
fn split_resource(resource: &str) -> (&str, &str) {
    match resource.split_once('.') {
        Some((plural, group)) => (group, plural),
        None => ("", resource),
    }
}

fn rbac_rules(verbs: &[&str], resources: &[&str]) -> Value {
    let mut by_group: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for resource in resources {
        let (group, plural) = split_resource(resource);
        by_group.entry(group).or_default().push(plural);
    }
    by_group
        .into_iter()
        .map(|(group, plurals)| json!({"apiGroups": [group], "resources": plurals, "verbs": verbs}))
        .collect()
}

/// RBAC is enforced from informer caches: a new binding takes a moment to count.
fn wait_until_allowed(user: &str, namespace: &str, verbs: &[&str], resources: &[&str]) {
    let (Some(verb), Some(resource)) = (verbs.first(), resources.first()) else { return };
    let deadline = Instant::now() + GRANT_TIMEOUT;
    loop {
        let can_i = kubectl("admin").args(["auth", "can-i", verb, resource, "--as", user, "-n", namespace]).run();
        if can_i.code == Some(0) {
            return;
        }
        assert!(Instant::now() < deadline, "{user} still may not {verb} {resource} {GRANT_TIMEOUT:?} after the grant");
        std::thread::sleep(Duration::from_millis(100));
    }
}
