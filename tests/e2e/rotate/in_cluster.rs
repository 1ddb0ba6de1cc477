//! `rotate` as the rotator CronJob runs it: inside a Pod, with no kubeconfig, as the
//! ServiceAccount that `rotator manifest` prints, bound only by the RBAC it prints, with the
//! arguments its CronJob gives.
//!
//! The test control plane runs no Pods, so the Pod's view is rebuilt around the real binary:
//! a token for the ServiceAccount from the TokenRequest API (`kubectl create token`, what the
//! kubelet mounts), the cluster CA and the namespace, at the fixed path
//! `/var/run/secrets/kubernetes.io/serviceaccount` inside a private mount namespace of the
//! child (`unshare`; nothing changes on the host), `KUBERNETES_SERVICE_HOST/PORT` pointing at
//! the API server, no `KUBECONFIG` and an empty `HOME`.

use std::process::Command;

use serde_json::Value;

use super::{Tenants, accepted, change_shared_secret, line_for, token};
use crate::support::*;

/// Where a Pod finds its ServiceAccount.
const SERVICE_ACCOUNT_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// Runs the plugin binary with `args` as a Pod of ServiceAccount `account` in `namespace` would.
fn run_in_pod(namespace: &str, account: &str, args: &[String]) -> Run {
    let mounted = tempfile::tempdir().unwrap();
    let token = kubectl("admin").args(["create", "token", account, "-n", namespace]).succeeds();
    std::fs::write(mounted.path().join("token"), token.trim()).unwrap();
    std::fs::copy(cluster().pki_dir().join("ca.crt"), mounted.path().join("ca.crt")).unwrap();
    std::fs::write(mounted.path().join("namespace"), namespace).unwrap();
    let server = cluster().server();
    let (host, port) = server.trim_start_matches("https://").rsplit_once(':').expect("https://HOST:PORT");

    // In a mount namespace of its own: a tmpfs over /var/run (so the mount point can be made
    // without touching the host), the ServiceAccount files bound at their fixed path.
    let script = r#"set -e
run=$(readlink -f /var/run)
mount -t tmpfs pxtoken-e2e "$run"
mkdir -p "$0"
mount --bind "$1" "$0"
shift
exec "$@""#;
    // The child's environment is set by `env -i`, so that `sudo` cannot change it.
    let mut cmd = Command::new(privilege()[0]);
    cmd.args(&privilege()[1..])
        .args(["env", "-i", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME="])
        .arg(format!("KUBERNETES_SERVICE_HOST={host}"))
        .arg(format!("KUBERNETES_SERVICE_PORT={port}"))
        .args(["unshare", "--mount", "--propagation", "private", "sh", "-c", script, SERVICE_ACCOUNT_DIR])
        .arg(mounted.path())
        .arg(env!("CARGO_BIN_EXE_kubectl-pxtoken"))
        .args(args)
        .current_dir(mounted.path());
    let run = cmd.run();
    assert!(
        !run.stderr.contains("unshare:") && !run.stderr.contains("mount:"),
        "cannot build the Pod's view (needs root, unprivileged user namespaces or sudo -n):\n{run}"
    );
    run
}

/// What makes a mount namespace possible here: nothing as root; else a user namespace of our
/// own, where allowed; else passwordless sudo (CI runners).
fn privilege() -> &'static [&'static str] {
    static PRIVILEGE: std::sync::OnceLock<&'static [&'static str]> = std::sync::OnceLock::new();
    PRIVILEGE.get_or_init(|| {
        let works = |cmd: &[&str]| Command::new(cmd[0]).args(&cmd[1..]).output().is_ok_and(|o| o.status.success());
        if works(&["sh", "-c", "test \"$(id -u)\" = 0"]) {
            &["env"]
        } else if works(&["unshare", "--user", "--map-root-user", "unshare", "--mount", "true"]) {
            &["unshare", "--user", "--map-root-user"]
        } else {
            &["sudo", "-n"]
        }
    })
}

#[test]
fn the_rotator_service_account_rotates_its_tenants_in_cluster_and_nothing_else() {
    let keys = TestNamespace::new("rot-pod-keys");
    let mut px = install_daemonset_style(&keys, &random_secret(), "rotate.example");
    let granted = Tenants::new("rot-pod", 2);
    let outside = Tenants::new("rot-pod-out", 1);
    granted.onboard(&px, &[]);
    outside.onboard(&px, &[]);
    change_shared_secret(&mut px);

    // What `rotator manifest` prints, applied as an admin would: the ServiceAccount next to the
    // key Secret, a Role for that one Secret, a Role per tenant namespace, the CronJob.
    let name = format!("rotator-{}", random_name_suffix());
    let manifest = pxtoken("admin")
        .args(["rotator", "manifest", "--name", &name, "-o", "json", "--issuer", &px.issuer])
        .args(["--shared-secret-ref", &px.secret_ref(), "--tenant-namespaces", &granted.names.join(",")])
        .succeeds();
    apply_yaml(&manifest);
    let objects: Value = serde_json::from_str(&manifest).unwrap();
    let objects = objects["items"].as_array().unwrap();
    let kinds: Vec<&str> = objects.iter().map(|o| o["kind"].as_str().unwrap()).collect();
    assert!(!kinds.contains(&"ClusterRole"), "per-namespace grants only: {kinds:?}");
    let cron_job = objects.iter().find(|o| o["kind"] == "CronJob").unwrap();
    let container = &cron_job["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0];
    let args: Vec<String> =
        container["args"].as_array().unwrap().iter().map(|a| a.as_str().unwrap().to_owned()).collect();
    assert_eq!(args[0], "rotate");
    let account = objects.iter().find(|o| o["kind"] == "ServiceAccount").unwrap()["metadata"].clone();
    let (account, account_namespace) =
        (account["name"].as_str().unwrap().to_owned(), account["namespace"].as_str().unwrap().to_owned());
    assert_eq!(account_namespace, keys.name(), "the rotator lives next to the key Secret by default");

    let run = run_in_pod(&account_namespace, &account, &args);
    assert_eq!(run.code, Some(0), "{run}");
    for ns in &granted.names {
        assert!(line_for(&run, ns).starts_with(&format!("secret/px-k8s-user rotated in {ns} (was stale-key, ")));
        accepted(&token(ns), &px);
    }
    assert!(run.stdout.ends_with("2 rotated, 0 unchanged, 0 skipped, 0 failed\n"), "{run}");
    assert_eq!(run.stderr, "", "no warning: the ServiceAccount may record its Events");

    // The same identity, asked for a namespace outside its grant: refused by the API server.
    let outside_ns = &outside.names[0];
    let before = token(outside_ns);
    let mut elsewhere: Vec<String> = args.iter().filter(|a| *a == "rotate" || a.starts_with("--")).cloned().collect();
    elsewhere.push(outside_ns.clone());
    let refused = run_in_pod(&account_namespace, &account, &elsewhere);
    assert_eq!(refused.code, Some(1), "{refused}");
    assert_eq!(
        refused.stderr,
        format!(
            "error: forbidden: cannot list secrets in namespace {outside_ns:?} (context \"in-cluster\"): ask for RBAC that allows \"list\" on \"secrets\" in namespace {outside_ns:?}\n"
        )
    );
    assert_eq!(token(outside_ns), before);
    elsewhere.pop();
    elsewhere.push("-A".into());
    let all = run_in_pod(&account_namespace, &account, &elsewhere);
    assert!(all.stderr.starts_with("error: forbidden: cannot list secrets cluster-wide"), "{all}");
}
