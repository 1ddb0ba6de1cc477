//! End-to-end harness: the built plugin, driven through the real `kubectl`, against a real
//! kube-apiserver with RBAC (tests/cluster). Use it from an integration test with `mod support;`.
//!
//! ```ignore
//! mod support;
//! use support::*;
//!
//! #[test]
//! fn alice_onboards_a_tenant() {
//!     let ns = TestNamespace::new("team");
//!     let px = install_operator_style(ns.name(), Some("test.io"));
//!     grant("alice", ns.name(), &["get", "create", "update", "patch"], &["secrets"]);
//!     pxtoken("alice").args(["tenant", ns.name()]).succeeds();
//!     let token = &secret_data(ns.name(), "px-k8s-user")["auth-token"];
//!     px.verify_token(token);
//! }
//! ```
//!
//! One control plane serves every test in a test process (each `tests/*.rs` file is one):
//! `cluster()` starts it on first use with `tests/cluster/up.sh`, or reuses the one named by
//! env `PXTOKEN_TEST_KUBECONFIG` (an admin kubeconfig written by up.sh). It is stopped when the
//! process exits. Tests run in parallel threads, so each test works in its own
//! [`TestNamespace`]s and, when it needs cluster-wide rights, its own user ([`Cluster::new_user`]).
//!
//! Users: `admin` (system:masters) and `alice`, `bob`, `carol` with no rights until a test
//! [`grant`]s some. Everything admin does here goes through `kubectl` too.
//!
//! What the control plane is not: no nodes, scheduler or kubelet (Pods never run), and of the
//! controllers only the namespace and ServiceAccount ones (a deleted namespace goes away with its
//! contents; each namespace gets its "default" ServiceAccount).
#![allow(dead_code)] // each test file uses a different part of this module

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fmt;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};

/// How long one kubectl or plugin invocation may take before the test fails.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(120);
/// How long a new RBAC grant may take to be honoured by the API server's authorizer.
const GRANT_TIMEOUT: Duration = Duration::from_secs(20);
/// Issuer Portworx uses when a StorageCluster names none (operator `selfSigned.issuer` default).
pub const OPERATOR_DEFAULT_ISSUER: &str = "operator.portworx.io";
/// Image of the fixtures' Portworx containers (never pulled: there are no nodes).
pub const PORTWORX_IMAGE: &str = "portworx/oci-monitor:3.1.0";

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

        let cluster = Cluster { dir, kubectl, path, home };
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
        Ok(cluster)
    }

    /// The kubeconfig of `user` (`admin`, `alice`, `bob`, `carol`, or one from [`Cluster::new_user`]).
    pub fn kubeconfig(&self, user: &str) -> PathBuf {
        self.dir.join(format!("{user}.kubeconfig"))
    }

    /// A user of its own for one test, with no rights: `<prefix>-<random>`. Its kubeconfig is
    /// [`Cluster::kubeconfig`]`(name)`. Use it when a test grants cluster-wide rights, so no
    /// other test running at the same time sees them.
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

    /// The API server's URL.
    pub fn server(&self) -> String {
        std::fs::read_to_string(self.dir.join("server")).map(|s| s.trim().to_owned()).unwrap_or_default()
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
// Commands
// ---------------------------------------------------------------------------------------------

/// `kubectl pxtoken …` as `user`: the real kubectl finds the built plugin on PATH, with
/// `KUBECONFIG` = the user's kubeconfig and an empty `HOME`. Add the subcommand and flags.
pub fn pxtoken(user: &str) -> Command {
    let mut cmd = kubectl(user);
    cmd.arg("pxtoken");
    cmd
}

/// Plain `kubectl …` as `user`, in the same environment as [`pxtoken`].
pub fn kubectl(user: &str) -> Command {
    let cluster = cluster();
    let kubeconfig = cluster.kubeconfig(user);
    assert!(kubeconfig.is_file(), "no user {user:?} in the test cluster ({} is missing)", kubeconfig.display());
    let mut cmd = Command::new(&cluster.kubectl);
    // Nothing from the developer's environment (PXTOKEN_SHARED_SECRET, KUBECONFIG, …) leaks in.
    cmd.env_clear().env("PATH", &cluster.path).env("HOME", &cluster.home).env("KUBECONFIG", kubeconfig);
    for var in ["TMPDIR", "LLVM_PROFILE_FILE", "CARGO_LLVM_COV", "LANG", "LC_ALL", "TZ"] {
        if let Some(value) = std::env::var_os(var) {
            cmd.env(var, value);
        }
    }
    cmd
}

/// What a finished command did.
#[derive(Debug)]
pub struct Run {
    /// The command line, for messages.
    pub command: String,
    /// The exit code (`None` if killed by a signal).
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Its stdout; panics (showing the command, exit code, stdout and stderr) unless it exited 0.
    pub fn success(self) -> String {
        assert_eq!(self.code, Some(0), "expected success:\n{self}");
        self.stdout
    }

    /// Itself; panics (showing everything) if it exited 0.
    pub fn failure(self) -> Run {
        assert_ne!(self.code, Some(0), "expected failure:\n{self}");
        self
    }
}

impl fmt::Display for Run {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "$ {}", self.command)?;
        writeln!(f, "exit code: {:?}", self.code)?;
        writeln!(f, "--- stdout ---\n{}", self.stdout)?;
        write!(f, "--- stderr ---\n{}", self.stderr)
    }
}

/// Running a [`Command`] to the end, with a timeout, in a way that reads well in tests.
pub trait CommandExt {
    /// Runs with empty stdin and returns what happened; never panics on a non-zero exit.
    fn run(&mut self) -> Run;
    /// Runs with `input` on stdin.
    fn run_with_input(&mut self, input: &str) -> Run;
    /// Runs; returns stdout, or panics with everything unless it exited 0.
    fn succeeds(&mut self) -> String {
        self.run().success()
    }
    /// Runs; returns the [`Run`], or panics with everything if it exited 0.
    fn fails(&mut self) -> Run {
        self.run().failure()
    }
}

impl CommandExt for Command {
    fn run(&mut self) -> Run {
        run_command(self, None)
    }
    fn run_with_input(&mut self, input: &str) -> Run {
        run_command(self, Some(input))
    }
}

fn command_line(cmd: &Command) -> String {
    let mut line = Path::new(cmd.get_program()).file_name().unwrap_or(cmd.get_program()).to_string_lossy().into_owned();
    for arg in cmd.get_args() {
        line.push(' ');
        line.push_str(&arg.to_string_lossy());
    }
    line
}

fn run_command(cmd: &mut Command, input: Option<&str>) -> Run {
    let command = command_line(cmd);
    cmd.stdin(if input.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("cannot run {command}: {e}"));
    let pipe = |r: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut r) = r {
                let _ = r.read_to_end(&mut buf);
            }
            String::from_utf8_lossy(&buf).into_owned()
        })
    };
    let stdout = pipe(child.stdout.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    let stderr = pipe(child.stderr.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    if let (Some(input), Some(mut stdin)) = (input, child.stdin.take()) {
        let input = input.to_owned();
        std::thread::spawn(move || {
            let _ = stdin.write_all(input.as_bytes()); // dropping stdin closes it
        });
    }
    let deadline = Instant::now() + COMMAND_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for a child process") {
            break Some(status);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let run = Run {
        command,
        code: status.and_then(|s| s.code()),
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    };
    assert!(status.is_some(), "timed out after {COMMAND_TIMEOUT:?} and was killed:\n{run}");
    run
}

// ---------------------------------------------------------------------------------------------
// Admin's view of the cluster
// ---------------------------------------------------------------------------------------------

/// `kubectl apply -f -` as admin; `manifest` is YAML or JSON (one object, a List, or several
/// `---`-separated YAML documents). Panics unless it succeeds.
pub fn apply_yaml(manifest: &str) {
    kubectl("admin").args(["apply", "-f", "-"]).run_with_input(manifest).success();
}

/// An object as admin sees it (`kubectl get RESOURCE NAME -o json`), or `None` if it does not
/// exist. `namespace` is `None` for cluster-scoped resources.
pub fn get_json(resource: &str, namespace: Option<&str>, name: &str) -> Option<Value> {
    let mut cmd = kubectl("admin");
    cmd.args(["get", resource, name, "--ignore-not-found", "-o", "json"]);
    if let Some(ns) = namespace {
        cmd.args(["-n", ns]);
    }
    let out = cmd.succeeds();
    if out.trim().is_empty() {
        None
    } else {
        Some(serde_json::from_str(&out).expect("kubectl get -o json printed JSON"))
    }
}

/// The decoded `data` of Secret `namespace/name`; panics if there is no such Secret.
pub fn secret_data(namespace: &str, name: &str) -> BTreeMap<String, String> {
    let secret = get_json("secret", Some(namespace), name).unwrap_or_else(|| panic!("no Secret {namespace}/{name}"));
    let mut data = BTreeMap::new();
    if let Some(map) = secret["data"].as_object() {
        for (key, value) in map {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(value.as_str().unwrap_or_default())
                .expect("Secret data is base64");
            data.insert(key.clone(), String::from_utf8(bytes).expect("Secret data is UTF-8"));
        }
    }
    data
}

/// Whether Secret `namespace/name` exists.
pub fn secret_exists(namespace: &str, name: &str) -> bool {
    get_json("secret", Some(namespace), name).is_some()
}

// ---------------------------------------------------------------------------------------------
// Namespaces
// ---------------------------------------------------------------------------------------------

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
        if CLUSTER.get().is_some_and(|c| c.is_ok()) {
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

// ---------------------------------------------------------------------------------------------
// RBAC
// ---------------------------------------------------------------------------------------------

/// Lets `user` do `verbs` on `resources` in `namespace` (a Role and a RoleBinding), and waits
/// until the API server honours it. Resources are `plural[.group]`: `secrets`,
/// `daemonsets.apps`, `storageclusters.core.libopenstorage.org`.
pub fn grant(user: &str, namespace: &str, verbs: &[&str], resources: &[&str]) {
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
    wait_until_allowed(user, Some(namespace), verbs, resources);
}

/// Lets `user` do `verbs` on `resources` in every namespace (a ClusterRole and a
/// ClusterRoleBinding), and waits until it is honoured. It lasts as long as the control plane,
/// so give it to a user of the test's own ([`Cluster::new_user`]).
pub fn grant_cluster(user: &str, verbs: &[&str], resources: &[&str]) {
    let name = format!("pxt-grant-{user}-{}", random_name_suffix());
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
    wait_until_allowed(user, None, verbs, resources);
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
fn wait_until_allowed(user: &str, namespace: Option<&str>, verbs: &[&str], resources: &[&str]) {
    let (Some(verb), Some(resource)) = (verbs.first(), resources.first()) else { return };
    let deadline = Instant::now() + GRANT_TIMEOUT;
    loop {
        let mut cmd = kubectl("admin");
        cmd.args(["auth", "can-i", verb, resource, "--as", user]);
        match namespace {
            Some(ns) => cmd.args(["-n", ns]),
            None => cmd.arg("--all-namespaces"),
        };
        if cmd.run().code == Some(0) {
            return;
        }
        assert!(Instant::now() < deadline, "{user} still may not {verb} {resource} {GRANT_TIMEOUT:?} after the grant");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn apply_json(value: &Value) {
    apply_yaml(&value.to_string());
}

// ---------------------------------------------------------------------------------------------
// Portworx as each install style leaves it in a cluster (objects only: nothing runs)
// ---------------------------------------------------------------------------------------------

/// What a Portworx fixture laid down: where the shared secret is, its value and the issuer
/// Portworx trusts, so a test can check the tokens the plugin writes.
#[derive(Debug, Clone)]
pub struct PortworxInstall {
    pub namespace: String,
    /// Secret holding the shared secret, and its key.
    pub secret_name: String,
    pub secret_key: String,
    /// The shared secret (HS256 key), as stored in the Secret.
    pub shared_secret: String,
    /// The issuer Portworx trusts (the operator's default when the StorageCluster names none).
    pub issuer: String,
}

impl PortworxInstall {
    /// `--shared-secret-ref` value for this install: `NAMESPACE/NAME:KEY`.
    pub fn secret_ref(&self) -> String {
        format!("{}/{}:{}", self.namespace, self.secret_name, self.secret_key)
    }

    /// Checks `token` as Portworx would (HS256 with this shared secret, this issuer, not
    /// expired, required claims present) and returns its claims; panics if it would be rejected.
    pub fn verify_token(&self, token: &str) -> Value {
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
        validation.set_issuer(&[&self.issuer]);
        validation.set_required_spec_claims(&["iss", "sub", "exp", "iat"]);
        validation.validate_aud = false;
        let key = jsonwebtoken::DecodingKey::from_secret(self.shared_secret.as_bytes()).expect("an HMAC key");
        let claims = jsonwebtoken::decode::<Value>(token, &key, &validation)
            .unwrap_or_else(|e| panic!("token rejected with the {} shared secret: {e}", self.secret_ref()))
            .claims;
        for required in ["name", "email"] {
            assert!(claims.get(required).is_some(), "token has no {required:?} claim: {claims}");
        }
        claims
    }
}

/// The DaemonSet install (Portworx docs "enable security"): Secret `<ns>/pxkeys` with
/// `shared-secret` = `shared_secret`, `system-secret` and `stork-secret`; DaemonSet `portworx`
/// whose container reads the shared secret from env `PORTWORX_AUTH_JWT_SHAREDSECRET` and trusts
/// `-jwt_issuer <issuer>`. Use the test's own namespace, or `kube-system` as the docs do (shared
/// by all tests of the process: only one test file should do that).
pub fn install_daemonset_style(namespace: &str, shared_secret: &str, issuer: &str) -> PortworxInstall {
    let secret_ref = |key: &str| json!({"secretKeyRef": {"name": "pxkeys", "key": key}});
    apply_json(&json!({
        "apiVersion": "v1", "kind": "List", "items": [
            {
                "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                "metadata": {"name": "pxkeys", "namespace": namespace},
                "stringData": {
                    "shared-secret": shared_secret,
                    "system-secret": random_secret(),
                    "stork-secret": random_secret(),
                },
            },
            {
                "apiVersion": "apps/v1", "kind": "DaemonSet",
                "metadata": {"name": "portworx", "namespace": namespace, "labels": {"name": "portworx"}},
                "spec": {
                    "selector": {"matchLabels": {"name": "portworx"}},
                    "template": {
                        "metadata": {"labels": {"name": "portworx"}},
                        "spec": {
                            "hostNetwork": true,
                            "containers": [{
                                "name": "portworx",
                                "image": PORTWORX_IMAGE,
                                "args": ["-c", "px-cluster", "-jwt_issuer", issuer, "-x", "kubernetes", "-b", "-secret_type", "k8s"],
                                "env": [
                                    {"name": "PORTWORX_AUTH_JWT_SHAREDSECRET", "valueFrom": secret_ref("shared-secret")},
                                    {"name": "PORTWORX_AUTH_SYSTEM_KEY", "valueFrom": secret_ref("system-secret")},
                                    {"name": "PORTWORX_AUTH_STORK_KEY", "valueFrom": secret_ref("stork-secret")},
                                ],
                            }],
                        },
                    },
                },
            },
        ],
    }));
    PortworxInstall {
        namespace: namespace.to_owned(),
        secret_name: "pxkeys".to_owned(),
        secret_key: "shared-secret".to_owned(),
        shared_secret: shared_secret.to_owned(),
        issuer: issuer.to_owned(),
    }
}

/// The Operator install: the StorageCluster CRD (once per control plane), StorageCluster
/// `px-cluster` in `namespace` with security on and `auth.selfSigned` naming `issuer` (or no
/// issuer: Portworx then trusts `operator.portworx.io`) and shared secret `px-shared-secret`, and
/// Secret `<ns>/px-shared-secret` holding a fresh random `shared-secret`.
pub fn install_operator_style(namespace: &str, issuer: Option<&str>) -> PortworxInstall {
    install_storagecluster_crd();
    let shared_secret = random_secret();
    let mut self_signed = json!({"sharedSecret": "px-shared-secret"});
    if let Some(issuer) = issuer {
        self_signed["issuer"] = json!(issuer);
    }
    apply_json(&json!({
        "apiVersion": "v1", "kind": "List", "items": [
            {
                "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                "metadata": {"name": "px-shared-secret", "namespace": namespace},
                "stringData": {"shared-secret": shared_secret},
            },
            {
                "apiVersion": "core.libopenstorage.org/v1", "kind": "StorageCluster",
                "metadata": {"name": "px-cluster", "namespace": namespace},
                "spec": {
                    "image": PORTWORX_IMAGE,
                    "security": {"enabled": true, "auth": {"selfSigned": self_signed}},
                },
            },
        ],
    }));
    PortworxInstall {
        namespace: namespace.to_owned(),
        secret_name: "px-shared-secret".to_owned(),
        secret_key: "shared-secret".to_owned(),
        shared_secret,
        issuer: issuer.unwrap_or(OPERATOR_DEFAULT_ISSUER).to_owned(),
    }
}

/// Applies the StorageCluster CRD (`storageclusters.core.libopenstorage.org`) once per test
/// process and waits until it is Established. Idempotent across processes.
pub fn install_storagecluster_crd() {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        let open = json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true});
        apply_json(&json!({
            "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": "storageclusters.core.libopenstorage.org"},
            "spec": {
                "group": "core.libopenstorage.org",
                "scope": "Namespaced",
                "names": {
                    "kind": "StorageCluster", "listKind": "StorageClusterList",
                    "plural": "storageclusters", "singular": "storagecluster", "shortNames": ["stc"],
                },
                "versions": [{
                    "name": "v1", "served": true, "storage": true,
                    "subresources": {"status": {}},
                    "schema": {"openAPIV3Schema": {
                        "type": "object",
                        "properties": {"spec": open, "status": open},
                    }},
                }],
            },
        }));
        kubectl("admin")
            .args([
                "wait",
                "--for=condition=Established",
                "--timeout=60s",
                "crd/storageclusters.core.libopenstorage.org",
            ])
            .succeeds();
    });
}

// ---------------------------------------------------------------------------------------------
// Randomness
// ---------------------------------------------------------------------------------------------

fn random_bytes(n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut buf)).expect("reading /dev/urandom");
    buf
}

fn random_from(alphabet: &[u8], len: usize) -> String {
    // 256 is not a multiple of every alphabet size; the slight bias does not matter here.
    random_bytes(len).into_iter().map(|b| alphabet[b as usize % alphabet.len()] as char).collect()
}

/// 64 random printable characters, like the shared secret the Portworx operator generates.
/// Punctuation included, but never first: a value starting with `-` would read as a flag in
/// `--shared-secret VALUE`.
pub fn random_secret() -> String {
    const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    const PRINTABLE: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~!@#%^*+=";
    random_from(ALNUM, 1) + &random_from(PRINTABLE, 63)
}

/// 8 random characters valid anywhere in a DNS label.
fn random_name_suffix() -> String {
    random_from(b"abcdefghijklmnopqrstuvwxyz0123456789", 8)
}
