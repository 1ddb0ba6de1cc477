//! Control planes of the fault tests' own, which they stop, kill, pause and restart: never the
//! shared one ([`cluster`](super::cluster)) that every other test is using at the same time.
//!
//! [`disruptible`] is one such control plane for the whole run, lent to one test at a time and
//! handed over running; [`OwnControlPlane::start`] makes another, with extra kube-apiserver
//! flags, for a single test. Commands run in the same environment as the shared harness's (the
//! real kubectl, the built plugin on PATH, an empty HOME), with this control plane's kubeconfigs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::portworx::PortworxInstall;
use super::random::{random_name_suffix, random_secret};
use super::run::{CommandExt, kubectl};

/// A control plane started from `tests/cluster/up.sh` in a directory of its own; stopped and
/// its data removed (`down.sh`) when dropped, and also when the test process exits.
pub struct OwnControlPlane {
    dir: PathBuf,
}

impl OwnControlPlane {
    /// Starts a control plane with `apiserver_flags` added to kube-apiserver's.
    pub fn start(prefix: &str, apiserver_flags: &[&str]) -> OwnControlPlane {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("e2e-{}", std::process::id()))
            .join(format!("{prefix}-{}", random_name_suffix()));
        let plane = OwnControlPlane { dir };
        plane.script("up.sh", &[], &[("PXTOKEN_CLUSTER_APISERVER_FLAGS", &apiserver_flags.join(" "))]);
        plane
    }

    /// The kubeconfig of `user` (`admin`, `alice`, `bob`, `carol`, or one from [`Self::new_user`]).
    pub fn kubeconfig(&self, user: &str) -> PathBuf {
        self.dir.join(format!("{user}.kubeconfig"))
    }

    /// The API server's URL (the same after a restart).
    pub fn server(&self) -> String {
        std::fs::read_to_string(self.dir.join("server")).expect("the control plane's server file").trim().to_owned()
    }

    /// `kubectl …` as `user` of this control plane.
    pub fn kubectl(&self, user: &str) -> Command {
        let kubeconfig = self.kubeconfig(user);
        assert!(kubeconfig.is_file(), "no user {user:?} here ({} is missing)", kubeconfig.display());
        let mut cmd = kubectl("admin"); // the harness's environment…
        cmd.env("KUBECONFIG", kubeconfig); // …pointed here
        cmd
    }

    /// `kubectl pxtoken …` as `user` of this control plane.
    pub fn pxtoken(&self, user: &str) -> Command {
        let mut cmd = self.kubectl(user);
        cmd.arg("pxtoken");
        cmd
    }

    /// A user of its own with `extra` add-user flags (`--groups g`, `--not-after TIME`).
    pub fn new_user(&self, prefix: &str, extra: &[&str]) -> String {
        let name = format!("{prefix}-{}", random_name_suffix());
        let mut args = vec![name.as_str()];
        args.extend(extra);
        self.script("add-user.sh", &args, &[]);
        name
    }

    /// A Portworx key Secret (`pxkeys`, a random shared secret) in a new namespace
    /// `px-<random>`, for tokens with `issuer`.
    pub fn install_key(&self, issuer: &str) -> PortworxInstall {
        let px = PortworxInstall {
            namespace: format!("px-{}", random_name_suffix()),
            secret_name: "pxkeys".into(),
            secret_key: "shared-secret".into(),
            shared_secret: random_secret(),
            issuer: issuer.into(),
        };
        self.apply(&json!([
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": px.namespace}},
            {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": px.secret_name, "namespace": px.namespace},
             "stringData": {"shared-secret": px.shared_secret}},
        ]));
        px
    }

    /// `count` new namespaces `t<random>-<i>`, and a tenant list naming them, written in `dir`.
    pub fn tenant_namespaces(&self, count: usize, dir: &Path) -> (Vec<String>, PathBuf) {
        let prefix = format!("t{}", random_name_suffix());
        let names: Vec<String> = (0..count).map(|i| format!("{prefix}-{i}")).collect();
        let namespaces: Vec<Value> =
            names.iter().map(|n| json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": n}})).collect();
        self.apply(&Value::Array(namespaces));
        let file = dir.join("tenants.yaml");
        std::fs::write(&file, names.iter().map(|n| format!("- namespace: {n}\n")).collect::<String>())
            .expect("writing the tenant list");
        (names, file)
    }

    /// [`PortworxInstall::token_subjects`] on this control plane.
    pub fn token_subjects(&self, tenants: &[String], px: &PortworxInstall) -> BTreeMap<String, String> {
        px.token_subjects(self.kubectl("admin"), tenants)
    }

    /// `kubectl apply` of `objects` (a JSON array) as admin.
    fn apply(&self, objects: &Value) {
        let list = json!({"apiVersion": "v1", "kind": "List", "items": objects});
        self.kubectl("admin").args(["apply", "-f", "-"]).run_with_input(&list.to_string()).success();
    }

    /// `stop.sh`: a clean stop that keeps certificates, port and data for [`Self::restart`].
    pub fn stop(&self) {
        self.script("stop.sh", &[], &[]);
    }

    /// A crash: SIGKILL, nothing cleaned up.
    pub fn kill(&self) {
        self.signal("KILL");
        let deadline = Instant::now() + Duration::from_secs(10);
        while alive(&self.pid()) {
            assert!(Instant::now() < deadline, "the control plane survived SIGKILL for 10s");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `start.sh`: the same control plane again (same URL, certificates and data); with
    /// `apiserver_flags`, those replace the previous start's.
    pub fn restart(&self, apiserver_flags: &[&str]) {
        let mut args = vec![];
        if !apiserver_flags.is_empty() {
            args.push("--");
            args.extend(apiserver_flags);
        }
        self.script("start.sh", &args, &[]);
    }

    /// Hangs the whole control plane (SIGSTOP) until the returned guard is dropped (SIGCONT).
    pub fn pause(&self) -> Paused<'_> {
        self.signal("STOP");
        Paused { plane: self }
    }

    fn is_running(&self) -> bool {
        self.dir.join("ready").exists() && alive(&self.pid())
    }

    fn pid(&self) -> String {
        std::fs::read_to_string(self.dir.join("cluster.pid")).unwrap_or_default().trim().to_owned()
    }

    fn signal(&self, signal: &str) {
        let pid = self.pid();
        assert!(!pid.is_empty(), "the control plane in {} is not running", self.dir.display());
        let status = Command::new("kill").args([&format!("-{signal}"), &pid]).status().expect("running kill");
        assert!(status.success(), "kill -{signal} {pid} failed");
    }

    /// Runs `tests/cluster/SCRIPT DIR ARGS…`, dying with the test process.
    fn script(&self, script: &str, args: &[&str], env: &[(&str, &str)]) {
        let out = Command::new("bash")
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cluster").join(script))
            .arg(&self.dir)
            .args(args)
            .env("PXTOKEN_CLUSTER_WATCH_PID", std::process::id().to_string())
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("running tests/cluster/{script}: {e}"));
        assert!(
            out.status.success(),
            "tests/cluster/{script} {} failed:\n{}{}",
            self.dir.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Whether process `pid` exists and is not a zombie (an exited child nobody reaped yet).
fn alive(pid: &str) -> bool {
    if pid.is_empty() {
        return false;
    }
    let stat = std::fs::read_to_string(Path::new("/proc").join(pid).join("stat")).unwrap_or_default();
    // "PID (COMM) STATE …": the state follows the last ')'.
    stat.rsplit_once(')').is_some_and(|(_, rest)| !rest.trim_start().starts_with('Z'))
}

impl Drop for OwnControlPlane {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cluster/down.sh"))
            .arg(&self.dir)
            .stdin(Stdio::null())
            .output();
    }
}

/// A paused control plane; resumed when dropped, also when the test fails.
pub struct Paused<'a> {
    plane: &'a OwnControlPlane,
}

impl Drop for Paused<'_> {
    fn drop(&mut self) {
        self.plane.signal("CONT");
    }
}

static DISRUPTIBLE: OnceLock<Mutex<OwnControlPlane>> = OnceLock::new();

/// The control plane the fault tests may stop, kill and pause, lent to one test at a time. It is
/// running when lent, whatever the previous test did to it (a failed test may have left it
/// stopped or paused).
pub fn disruptible() -> MutexGuard<'static, OwnControlPlane> {
    let plane = DISRUPTIBLE
        .get_or_init(|| Mutex::new(OwnControlPlane::start("disruptible", &[])))
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    if !plane.pid().is_empty() {
        let _ = Command::new("kill").args(["-CONT", &plane.pid()]).status();
    }
    if !plane.is_running() {
        plane.restart(&[]);
    }
    plane
}
