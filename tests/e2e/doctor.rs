//! `kubectl pxtoken doctor`: one screen before and after onboarding. Every run here names its
//! tenant namespace (`-n`) and Portworx namespace (`--px-namespace`), so installs and tokens of
//! tests running at the same time are not part of its verdict.

use crate::support::*;
use serde_json::Value;

/// A healthy onboarding: an operator install with security on, a tenant token stored by the
/// plugin, and a StorageClass that hands the tenant Secret to Portworx.
struct Onboarded {
    tenant: TestNamespace,
    px_ns: TestNamespace,
    px: PortworxInstall,
    _class: StorageClassGuard,
}

fn onboarded(prefix: &str) -> Onboarded {
    let tenant = TestNamespace::new(prefix);
    let px_ns = TestNamespace::new("px");
    let px = install_operator_style(&px_ns, Some("doctor.io"));
    pxtoken("admin").args(["tenant", &tenant, "--px-namespace", &px_ns]).succeeds();
    Onboarded { tenant, px_ns, px, _class: StorageClassGuard::csi(prefix) }
}

/// A CSI StorageClass wired to `${pvc.namespace}/px-k8s-user`, deleted on drop.
struct StorageClassGuard(String);

impl StorageClassGuard {
    fn csi(prefix: &str) -> StorageClassGuard {
        let name = TestNamespace::unused(&format!("{prefix}-sc")).name().to_owned();
        apply_yaml(&format!(
            "apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {{name: {name}}}\nprovisioner: pxd.portworx.com\nparameters:\n  csi.storage.k8s.io/provisioner-secret-name: px-k8s-user\n  csi.storage.k8s.io/provisioner-secret-namespace: ${{pvc.namespace}}\n"
        ));
        StorageClassGuard(name)
    }
}

impl Drop for StorageClassGuard {
    fn drop(&mut self) {
        let _ = kubectl("admin").args(["delete", "storageclass", &self.0, "--ignore-not-found"]).run();
    }
}

/// `kubectl pxtoken doctor -n TENANT --px-namespace PX [extra…]` as `user`.
fn doctor(user: &str, tenant: &str, px_ns: &str, extra: &[&str]) -> Run {
    pxtoken(user).args(["doctor", "-n", tenant, "--px-namespace", px_ns]).args(extra).run()
}

/// The line of check `name` in the report (`✗ tenant   cannot …`), and the lines under it.
fn check_block(stdout: &str, name: &str) -> String {
    let mut lines = stdout.lines().skip_while(|l| l.split_whitespace().nth(1) != Some(name));
    let first = lines.next().unwrap_or_else(|| panic!("no {name} line in:\n{stdout}"));
    let fix: Vec<&str> = lines.take_while(|l| l.starts_with("  ")).collect();
    std::iter::once(first).chain(fix).collect::<Vec<_>>().join("\n")
}

fn assert_fails_with(run: &Run, name: &str, words: &[&str]) {
    assert_eq!(run.code, Some(1), "{run}");
    let block = check_block(&run.stdout, name);
    assert!(block.starts_with('✗'), "{name} should fail:\n{run}");
    for word in words {
        assert!(block.contains(word), "{name} should name {word:?}:\n{block}\n\n{run}");
    }
    let error = run.stderr.lines().last().unwrap_or_default();
    assert!(error.starts_with("error: onboarding is blocked"), "{run}");
    assert!(error.contains(name), "the error line names the failed check:\n{run}");
}

#[test]
fn admin_on_a_healthy_install_passes_every_check() {
    let setup = onboarded("doc-ok");
    let run = doctor("admin", &setup.tenant, &setup.px_ns, &[]);
    assert_eq!(run.code, Some(0), "{run}");
    assert_eq!(run.stderr, "", "nothing on stderr when nothing is wrong:\n{run}");
    for line in run.stdout.lines().take_while(|l| !l.is_empty()) {
        assert!(line.starts_with('✓'), "every check should pass:\n{}", run.stdout);
    }
    let server = kubectl("admin")
        .args(["config", "view", "--minify", "-o", "jsonpath={.clusters[0].cluster.server}"])
        .succeeds();
    for (name, words) in [
        ("context", vec!["pxtoken-test", server.trim()]),
        ("user", vec!["admin", "client certificate", "system:masters"]),
        ("api-server", vec!["Kubernetes v1."]),
        ("portworx", vec!["StorageCluster", setup.px_ns.name(), "security enabled"]),
        ("issuer", vec!["doctor.io", "spec.security.auth.selfSigned.issuer"]),
        ("signing-key", vec!["px-shared-secret", "readable"]),
        ("tenant", vec!["create", "secrets", setup.tenant.name()]),
        ("storageclass", vec!["${pvc.namespace}/px-k8s-user"]),
    ] {
        let block = check_block(&run.stdout, name);
        for word in words {
            assert!(block.contains(word), "{name} should say {word:?}:\n{}", run.stdout);
        }
    }
    assert!(run.stdout.ends_with("nothing blocks onboarding\n"), "{}", run.stdout);
}

#[test]
fn json_reports_every_check_for_scripts() {
    let setup = onboarded("doc-json");
    let run = doctor("admin", &setup.tenant, &setup.px_ns, &["-o", "json"]);
    assert_eq!(run.code, Some(0), "{run}");
    let report: Value = serde_json::from_str(&run.stdout).expect("doctor -o json prints JSON");
    assert_eq!(report["blocked"], false);
    let names: Vec<&str> = report["checks"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "context",
            "user",
            "api-server",
            "clock",
            "portworx",
            "issuer",
            "signing-key",
            "tenant",
            "list",
            "rotate",
            "tokens",
            "storageclass"
        ]
    );
    for check in report["checks"].as_array().unwrap() {
        assert_eq!(check["status"], "pass", "{check}");
        assert!(check.get("fix").is_none(), "a passing check has no fix: {check}");
    }
    assert_eq!(report["counts"]["pass"], 12);
}

#[test]
fn no_portworx_install_is_named_with_the_flags_that_find_it() {
    let tenant = TestNamespace::new("doc-nopx");
    let empty = TestNamespace::new("px-none");
    let run = doctor("admin", &tenant, &empty, &[]);
    assert_fails_with(&run, "portworx", &["no Portworx install", empty.name(), "fix:", "--shared-secret-ref"]);
    assert_fails_with(&run, "signing-key", &["not found", "fix:"]);
}

#[test]
fn an_issuer_nobody_names_is_a_failure_with_the_flag_to_give_it() {
    // A DaemonSet that reads the shared secret but passes no -jwt_issuer: the key is found, the
    // issuer is not, and guessing one would make tokens every node refuses.
    let tenant = TestNamespace::new("doc-iss");
    let px_ns = TestNamespace::new("px-iss");
    let px = install_daemonset_style(&px_ns, &random_secret(), "removed.io");
    let without_issuer = kubectl("admin")
        .args(["-n", &px_ns, "get", "daemonset", "portworx", "-o", "json"])
        .succeeds()
        .replace("\"-jwt_issuer\",\n", "")
        .replace("\"removed.io\",\n", "");
    kubectl("admin").args(["replace", "-f", "-"]).run_with_input(&without_issuer).success();
    let run = doctor("admin", &tenant, &px_ns, &["-v", "9"]);
    assert_fails_with(&run, "issuer", &[&format!("DaemonSet {px_ns}/portworx names no issuer"), "fix:", "--issuer"]);
    assert!(check_block(&run.stdout, "signing-key").starts_with('✓'), "the key is still found:\n{run}");
    assert!(!run.stdout.contains(&px.shared_secret) && !run.stderr.contains(&px.shared_secret));
}

#[test]
fn alice_is_told_the_verb_and_resource_she_lacks_and_the_rbac_that_grants_it() {
    let setup = onboarded("doc-alice");
    // Alice may read and update the tenant's Secret and find the key, but not create Secrets.
    grant("alice", &setup.tenant, &["get", "update", "list"], &["secrets"]);
    grant("alice", &setup.px_ns, &["get", "list"], &["secrets", "storageclusters.core.libopenstorage.org"]);
    let run = doctor("alice", &setup.tenant, &setup.px_ns, &[]);
    assert_fails_with(
        &run,
        "tenant",
        &[
            &format!("cannot create secrets in namespace \"{}\"", setup.tenant),
            &format!("kubectl create role pxtoken-tenant-secrets -n {} --verb=create --resource=secrets", setup.tenant),
            "--user=alice",
        ],
    );
    assert_eq!(run.stderr.lines().count(), 1, "only the error line on stderr:\n{run}");

    // The fix's first line (the Role for the Secrets; the next one, for --create-namespace,
    // is optional), run as an administrator, is all it takes.
    let block = check_block(&run.stdout, "tenant");
    let fix = block.lines().find_map(|l| l.trim().strip_prefix("fix: ")).expect("a fix line");
    assert!(fix.contains("--resource=secrets"), "{block}");
    for command in fix.split(" && ") {
        let args: Vec<&str> = command.split_whitespace().skip(1).collect();
        kubectl("admin").args(&args).succeeds();
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let again = doctor("alice", &setup.tenant, &setup.px_ns, &[]);
        if again.code == Some(0) {
            let tenant = check_block(&again.stdout, "tenant");
            assert!(tenant.starts_with("! tenant") && tenant.contains("cannot create namespaces"), "{again}");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the printed fix did not help:\n{again}");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

#[test]
fn alice_without_any_rights_cannot_read_the_key_and_is_told_so() {
    let setup = onboarded("doc-none");
    let run = doctor("alice", &setup.tenant, &setup.px_ns, &[]);
    assert_fails_with(&run, "tenant", &["cannot get, create or update secrets", setup.tenant.name(), "--user=alice"]);
    assert_fails_with(&run, "portworx", &["not allowed to list", "fix:"]);
    assert!(!run.stdout.contains(&setup.px.shared_secret));
}

#[test]
fn a_key_secret_alice_may_not_read_is_named_with_the_role_for_that_one_secret() {
    let setup = onboarded("doc-key");
    grant("alice", &setup.tenant, &["get", "create", "update", "list"], &["secrets"]);
    grant("alice", &setup.px_ns, &["list"], &["storageclusters.core.libopenstorage.org"]);
    let run = doctor("alice", &setup.tenant, &setup.px_ns, &[]);
    assert_fails_with(
        &run,
        "signing-key",
        &[
            &format!("cannot get secrets \"px-shared-secret\" in namespace \"{}\"", setup.px_ns),
            "--resource-name=px-shared-secret",
            "--user=alice",
        ],
    );
    assert!(check_block(&run.stdout, "portworx").starts_with('✓'), "the install is found:\n{run}");
    assert!(check_block(&run.stdout, "issuer").starts_with('✓'), "and names the issuer:\n{run}");
}

#[test]
fn an_expired_tenant_token_blocks_and_names_rotate() {
    let setup = onboarded("doc-exp");
    pxtoken("admin")
        .args(["tenant", &setup.tenant, "--px-namespace", &setup.px_ns, "--token-duration", "1s", "--clock-skew", "0"])
        .succeeds();
    std::thread::sleep(std::time::Duration::from_secs(2));
    let run = doctor("admin", &setup.tenant, &setup.px_ns, &[]);
    assert_fails_with(&run, "tokens", &["1 expired", "fix:", &format!("kubectl pxtoken rotate -n {}", setup.tenant)]);
}

#[test]
fn nothing_secret_shows_even_at_v9() {
    let setup = onboarded("doc-v9");
    let token = secret_data(&setup.tenant, "px-k8s-user")["auth-token"].clone();
    let kubeconfig = std::fs::read_to_string(cluster().kubeconfig("admin")).unwrap();
    let credentials: Vec<&str> = kubeconfig
        .lines()
        .filter_map(|l| {
            l.trim().strip_prefix("client-key-data: ").or_else(|| l.trim().strip_prefix("client-certificate-data: "))
        })
        .collect();
    assert!(!credentials.is_empty(), "the admin kubeconfig holds client credentials");
    for extra in [&["-v", "9"][..], &["-v", "9", "-o", "json"][..]] {
        let run = doctor("admin", &setup.tenant, &setup.px_ns, extra);
        assert_eq!(run.code, Some(0), "{run}");
        assert!(run.stderr.contains("GET"), "-v 9 shows the requests:\n{run}");
        for secret in [setup.px.shared_secret.as_str(), token.as_str()].into_iter().chain(credentials.iter().copied()) {
            assert!(!run.stdout.contains(secret) && !run.stderr.contains(secret), "a secret leaked:\n{run}");
        }
    }
}
