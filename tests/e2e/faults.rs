//! What the user sees when things go wrong between `kubectl pxtoken` and the API server: each
//! fault made real — a stopped, killed, paused or overloaded kube-apiserver, a failing admission
//! webhook, a TCP proxy (toxiproxy) that resets, delays or stalls, bad credentials — and each
//! run checked for its one `error:` line (what failed, where, the fix), its exit code, and that
//! nothing was half-written.
//!
//! Tests that stop, kill or pause a control plane use one of their own ([`disruptible`],
//! [`OwnControlPlane`]); the others use the shared one, through a proxy or a kubeconfig of
//! their own.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};

use crate::support::*;

const ISSUER: &str = "faults.test";

/// The `server:` of a kubeconfig.
fn server_of(kubeconfig: &Path) -> String {
    let text = std::fs::read_to_string(kubeconfig).expect("reading the kubeconfig");
    text.lines().find_map(|l| l.trim().strip_prefix("server: ")).expect("a server line").to_owned()
}

/// `tenant NAMESPACE` with the key and issuer given, so the first request is always the read of
/// the key Secret (no discovery).
fn tenant_args(namespace: &str, px: &PortworxInstall) -> Vec<String> {
    ["tenant", namespace, "--shared-secret-ref", &px.secret_ref(), "--issuer", &px.issuer].map(str::to_owned).to_vec()
}

/// A key Secret in a test namespace of the shared control plane.
fn shared_key() -> (TestNamespace, PortworxInstall) {
    let ns = TestNamespace::new("px");
    let px = install_daemonset_style(&ns, &random_secret(), ISSUER);
    (ns, px)
}

// ---------------------------------------------------------------------------------------------
// The network between the plugin and the API server (toxiproxy)
// ---------------------------------------------------------------------------------------------

#[test]
fn connection_reset_by_the_network_fails_at_once_and_writes_nothing() {
    let (ns, px) = shared_key();
    let toxiproxy = Toxiproxy::start();
    let proxy = toxiproxy.proxy_to(&server_of(&cluster().kubeconfig("admin")));
    let kubeconfig = proxy.kubeconfig(&cluster().kubeconfig("admin"));
    proxy.add_toxic("reset_peer", json!({"timeout": 0}));

    let run = pxtoken("admin").arg("--kubeconfig").arg(&kubeconfig).args(tenant_args(&ns, &px)).fails();
    assert_eq!(run.code, Some(1), "{run}");
    assert_eq!(
        run.stderr,
        format!(
            "error: cannot reach the API server {} (context \"pxtoken-test\") to get secrets \"pxkeys\" in namespace \"{ns}\": the connection was reset: check the network path to the server (proxy, VPN, load balancer) and run the same command again\n",
            proxy.server()
        )
    );
    assert!(!secret_exists(&ns, "px-k8s-user"));

    // The same command through the same proxy, once it stops resetting.
    proxy.remove_toxic("reset_peer");
    pxtoken("admin").arg("--kubeconfig").arg(&kubeconfig).args(tenant_args(&ns, &px)).succeeds();
    px.verify_token(&secret_data(&ns, "px-k8s-user")["auth-token"]);
}

#[test]
fn long_latency_is_cut_by_request_timeout_and_only_slows_a_command_without_one() {
    let (ns, px) = shared_key();
    let toxiproxy = Toxiproxy::start();
    let proxy = toxiproxy.proxy_to(&server_of(&cluster().kubeconfig("admin")));
    let kubeconfig = proxy.kubeconfig(&cluster().kubeconfig("admin"));

    proxy.add_toxic("latency", json!({"latency": 5000}));
    let started = Instant::now();
    let run = pxtoken("admin")
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .arg("--request-timeout=1s")
        .args(tenant_args(&ns, &px))
        .fails();
    let took = started.elapsed();
    assert_eq!(
        run.stderr,
        format!(
            "error: cannot reach the API server {} (context \"pxtoken-test\") to get secrets \"pxkeys\" in namespace \"{ns}\": no answer within 1s: raise --request-timeout, or check the network path to the server\n",
            proxy.server()
        )
    );
    assert_eq!(run.code, Some(1));
    assert!(took < Duration::from_secs(5), "a 1s --request-timeout took {took:?} against a 5s latency");
    assert!(!secret_exists(&ns, "px-k8s-user"));
    proxy.remove_toxic("latency");

    // 300 ms on everything the server sends, and no --request-timeout: slower, and done.
    proxy.add_toxic("latency", json!({"latency": 300}));
    let started = Instant::now();
    pxtoken("admin").arg("--kubeconfig").arg(&kubeconfig).args(tenant_args(&ns, &px)).succeeds();
    assert!(started.elapsed() >= Duration::from_millis(600), "the latency was not applied");
    px.verify_token(&secret_data(&ns, "px-k8s-user")["auth-token"]);
}

#[test]
fn stalled_connection_is_cut_by_request_timeout() {
    let (ns, px) = shared_key();
    let toxiproxy = Toxiproxy::start();
    let proxy = toxiproxy.proxy_to(&server_of(&cluster().kubeconfig("admin")));
    let kubeconfig = proxy.kubeconfig(&cluster().kubeconfig("admin"));
    proxy.add_toxic("timeout", json!({"timeout": 0})); // data stops, the connection stays open

    let started = Instant::now();
    let run = pxtoken("admin")
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .arg("--request-timeout=2s")
        .args(tenant_args(&ns, &px))
        .fails();
    let took = started.elapsed();
    assert_eq!(
        run.stderr,
        format!(
            "error: cannot reach the API server {} (context \"pxtoken-test\") to get secrets \"pxkeys\" in namespace \"{ns}\": no answer within 2s: raise --request-timeout, or check the network path to the server\n",
            proxy.server()
        )
    );
    assert_eq!(run.code, Some(1));
    assert!((Duration::from_secs(2)..Duration::from_secs(8)).contains(&took), "--request-timeout=2s took {took:?}");
    assert!(!secret_exists(&ns, "px-k8s-user"));
}

// ---------------------------------------------------------------------------------------------
// The API server refuses: a failing admission webhook
// ---------------------------------------------------------------------------------------------

/// A ValidatingWebhookConfiguration on Secrets in `namespaces` whose endpoint does not exist
/// (nothing listens on 127.0.0.1:1), failurePolicy Fail: every write there fails with a 500
/// naming the webhook. Removed when dropped.
struct FailingWebhook {
    config: String,
    webhook: String,
}

impl FailingWebhook {
    fn install(namespaces: &[&str]) -> FailingWebhook {
        let suffix = random_name_suffix();
        let hook = FailingWebhook {
            config: format!("pxtoken-faults-{suffix}"),
            webhook: format!("secrets.{suffix}.faults.test"),
        };
        apply_json(&json!({
            "apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingWebhookConfiguration",
            "metadata": {"name": hook.config},
            "webhooks": [{
                "name": hook.webhook,
                "clientConfig": {"url": "https://127.0.0.1:1/"},
                "rules": [{"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE", "UPDATE"], "resources": ["secrets"]}],
                "namespaceSelector": {"matchExpressions": [
                    {"key": "kubernetes.io/metadata.name", "operator": "In", "values": namespaces},
                ]},
                "failurePolicy": "Fail", "sideEffects": "None", "admissionReviewVersions": ["v1"], "timeoutSeconds": 5,
            }],
        }));
        // The API server picks webhook configurations up from a watch: wait until it calls it.
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let probe = kubectl("admin")
                .args(["create", "secret", "generic", "probe", "--dry-run=server", "-n", namespaces[0]])
                .run();
            if probe.stderr.contains(&hook.webhook) {
                return hook;
            }
            assert!(Instant::now() < deadline, "the webhook is not called 30s after it was installed:\n{probe}");
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for FailingWebhook {
    fn drop(&mut self) {
        let _ = kubectl("admin")
            .args(["delete", "validatingwebhookconfiguration", &self.config, "--ignore-not-found"])
            .run();
    }
}

#[test]
fn failing_admission_webhook_is_named_and_nothing_is_written() {
    let (ns, px) = shared_key();
    let new_tenant = TestNamespace::new("webhook-new");
    pxtoken("admin").args(tenant_args(&ns, &px)).succeeds();
    let before = get_json("secret", Some(&ns), "px-k8s-user").unwrap();

    let hook = FailingWebhook::install(&[&ns, &new_tenant]);
    let failure = |verb: &str, namespace: &str| {
        format!(
            "error: cannot {verb} secrets \"px-k8s-user\" in namespace \"{namespace}\": Internal error occurred: failed calling webhook \"{}\": failed to call webhook: Post \"https://127.0.0.1:1/?timeout=5s\": dial tcp 127.0.0.1:1: connect: connection refused: an admission webhook of the cluster is failing: ask its owner (kubectl get validatingwebhookconfigurations,mutatingwebhookconfigurations)\n",
            hook.webhook
        )
    };

    let renew = pxtoken("admin").args(tenant_args(&ns, &px)).fails();
    assert_eq!((renew.code, renew.stderr.as_str()), (Some(1), failure("update", &ns).as_str()));
    let after = get_json("secret", Some(&ns), "px-k8s-user").unwrap();
    assert_eq!(after["metadata"]["resourceVersion"], before["metadata"]["resourceVersion"], "the Secret changed");

    let create = pxtoken("admin").args(tenant_args(&new_tenant, &px)).fails();
    assert_eq!((create.code, create.stderr.as_str()), (Some(1), failure("create", &new_tenant).as_str()));
    assert!(!secret_exists(&new_tenant, "px-k8s-user"));
}

// ---------------------------------------------------------------------------------------------
// Credentials and kubeconfigs
// ---------------------------------------------------------------------------------------------

/// A copy of admin's kubeconfig of the shared control plane with `edit` applied, in `dir`.
fn admin_kubeconfig_with(dir: &Path, edit: impl FnOnce(String) -> String) -> PathBuf {
    let text = std::fs::read_to_string(cluster().kubeconfig("admin")).unwrap();
    let path = dir.join("config");
    std::fs::write(&path, edit(text)).unwrap();
    path
}

#[test]
fn server_certificate_from_another_authority_is_refused() {
    let (ns, px) = shared_key();
    let dir = tempfile::tempdir().unwrap();
    let other_ca = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/other-ca.crt")).unwrap();
    let kubeconfig = admin_kubeconfig_with(dir.path(), |text| {
        let line = text.lines().find(|l| l.contains("certificate-authority-data:")).unwrap().to_owned();
        let other = base64::engine::general_purpose::STANDARD.encode(other_ca);
        text.replace(&line, &format!("    certificate-authority-data: {other}"))
    });

    let run = pxtoken("admin").arg("--kubeconfig").arg(&kubeconfig).args(tenant_args(&ns, &px)).fails();
    assert_eq!(run.code, Some(1));
    assert_eq!(
        run.stderr,
        format!(
            "error: cannot reach the API server {} (context \"pxtoken-test\") to get secrets \"pxkeys\" in namespace \"{ns}\": the server's certificate is not trusted by the kubeconfig's certificate authority (UnknownIssuer): check the cluster's certificate authority in --kubeconfig, or --context\n",
            server_of(&kubeconfig)
        )
    );
    assert!(!secret_exists(&ns, "px-k8s-user"));
}

#[test]
fn expired_client_certificate_says_to_renew_credentials() {
    let (ns, px) = shared_key();
    let user = format!("expired-{}", random_name_suffix());
    let dir = cluster().kubeconfig("admin").parent().unwrap().to_owned();
    let added = Command::new("bash")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cluster/add-user.sh"))
        .arg(&dir)
        .args([&user, "--not-after", "2020-01-01T00:00:00Z"])
        .output()
        .unwrap();
    assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));
    grant(&user, &ns, &["get", "create", "update"], &["secrets"]); // rights are not the problem

    let run = pxtoken(&user).args(tenant_args(&ns, &px)).fails();
    assert_eq!(run.code, Some(1));
    assert_eq!(
        run.stderr,
        format!(
            "error: the API server {} did not accept the credentials of context \"pxtoken-test\" (to get secrets \"pxkeys\" in namespace \"{ns}\"): renew them in the kubeconfig (is the client certificate or token expired?), or choose another --context or --user\n",
            server_of(&cluster().kubeconfig("admin"))
        )
    );
    assert!(!secret_exists(&ns, "px-k8s-user"));
}

#[test]
fn failing_exec_credential_plugin_is_named_without_its_arguments_or_output() {
    let (ns, px) = shared_key();
    let dir = tempfile::tempdir().unwrap();
    // A plugin that prints half a credential and fails, called with a client secret in its
    // arguments, as OIDC login helpers are.
    let plugin =
        r#"echo '{"status":{"token":"HALF-A-TOKEN"}}'; echo 'corp-login: session expired, run corp-login' >&2; exit 1"#;
    let kubeconfig = admin_kubeconfig_with(dir.path(), |text| {
        let user_start = text.find("users:").unwrap();
        let contexts = text.find("contexts:").unwrap();
        let exec = json!([{"name": "admin", "user": {"exec": {
            "apiVersion": "client.authentication.k8s.io/v1",
            "command": "sh",
            "args": ["-c", plugin, "--client-secret=HUNTER2"],
            "interactiveMode": "Never",
        }}}]);
        format!("{}users: {exec}\n{}", &text[..user_start], &text[contexts..])
    });

    let run = pxtoken("admin").arg("--kubeconfig").arg(&kubeconfig).args(tenant_args(&ns, &px)).fails();
    assert_eq!(run.code, Some(1));
    assert_eq!(
        run.stderr,
        "error: cannot get credentials for context \"pxtoken-test\" from its exec plugin \"sh\": it exited with status 1: corp-login: session expired, run corp-login: run the plugin yourself to see why, or choose another --context or --user\n"
    );
    assert!(!run.stderr.contains("HUNTER2") && !run.stderr.contains("HALF-A-TOKEN"), "{run}");
    assert!(!secret_exists(&ns, "px-k8s-user"));
}

#[test]
fn context_that_does_not_exist_is_named() {
    let (ns, px) = shared_key();
    let run = pxtoken("admin").args(["--context", "prod-eu"]).args(tenant_args(&ns, &px)).fails();
    assert_eq!(run.code, Some(1));
    assert_eq!(
        run.stderr,
        "error: cannot use context \"prod-eu\" from kubeconfig: failed to load current context: prod-eu: check --context, --cluster, --user\n"
    );
    assert!(!secret_exists(&ns, "px-k8s-user"));
}

#[test]
fn kubeconfig_that_is_not_yaml_is_located_without_quoting_its_credentials() {
    let (ns, px) = shared_key();
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken");
    std::fs::write(&broken, "users:\n- name: me\n  user:\n    token: SECRET-TOKEN-VALUE\n  oops: : [\n").unwrap();
    let run = pxtoken("admin").arg("--kubeconfig").arg(&broken).args(tenant_args(&ns, &px)).fails();
    assert_eq!(run.code, Some(1));
    assert_eq!(
        run.stderr,
        format!(
            "error: kubeconfig {} is not valid YAML: mapping values are not allowed in this context at line 5, column 9: check --kubeconfig\n",
            broken.display()
        )
    );

    let binary = dir.path().join("binary");
    std::fs::write(&binary, b"\x7fELF\x02\x01\x01\x00\xff\xfe").unwrap();
    let run = pxtoken("admin").arg("--kubeconfig").arg(&binary).args(tenant_args(&ns, &px)).fails();
    assert_eq!(run.code, Some(1));
    assert!(run.stderr.starts_with(&format!("error: cannot read kubeconfig {}: ", binary.display())), "{run}");
    assert!(run.stderr.ends_with(": check --kubeconfig\n") && run.stderr.lines().count() == 1, "{run}");
    assert!(!secret_exists(&ns, "px-k8s-user"));
}

// ---------------------------------------------------------------------------------------------
// The API server itself: down, killed, hung, overloaded (control planes of the tests' own)
// ---------------------------------------------------------------------------------------------

/// A Portworx key Secret in namespace `px-<random>` of `plane`.
fn key_on(plane: &OwnControlPlane) -> PortworxInstall {
    let px = PortworxInstall {
        namespace: format!("px-{}", random_name_suffix()),
        secret_name: "pxkeys".into(),
        secret_key: "shared-secret".into(),
        shared_secret: random_secret(),
        issuer: ISSUER.into(),
    };
    let objects = json!({"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": px.namespace}},
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": px.secret_name, "namespace": px.namespace},
         "stringData": {"shared-secret": px.shared_secret}},
    ]});
    plane.kubectl("admin").args(["apply", "-f", "-"]).run_with_input(&objects.to_string()).success();
    px
}

/// `count` new namespaces `<prefix>-<i>` on `plane`, and a tenant list naming them.
fn tenants_on(plane: &OwnControlPlane, count: usize, dir: &Path) -> (Vec<String>, PathBuf) {
    let prefix = format!("t{}", random_name_suffix());
    let names: Vec<String> = (0..count).map(|i| format!("{prefix}-{i}")).collect();
    let items: Vec<Value> =
        names.iter().map(|n| json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": n}})).collect();
    let list = json!({"apiVersion": "v1", "kind": "List", "items": items});
    plane.kubectl("admin").args(["apply", "-f", "-"]).run_with_input(&list.to_string()).success();
    let file = dir.join("tenants.yaml");
    std::fs::write(&file, names.iter().map(|n| format!("- namespace: {n}\n")).collect::<String>()).unwrap();
    (names, file)
}

/// `namespace → sub` of every token Secret of `tenants` on `plane`, each checked to hold a
/// complete token Portworx accepts.
fn stored_subjects(plane: &OwnControlPlane, tenants: &[String], px: &PortworxInstall) -> BTreeMap<String, String> {
    let out = plane
        .kubectl("admin")
        .args(["get", "secrets", "-A", "--field-selector", "metadata.name=px-k8s-user", "-o", "json"])
        .succeeds();
    let list: Value = serde_json::from_str(&out).unwrap();
    let mut subjects = BTreeMap::new();
    for secret in list["items"].as_array().unwrap() {
        let namespace = secret["metadata"]["namespace"].as_str().unwrap();
        if !tenants.iter().any(|t| t == namespace) {
            continue;
        }
        let token = secret["data"]["auth-token"].as_str().unwrap_or_else(|| panic!("{namespace}: no auth-token"));
        let token = String::from_utf8(base64::engine::general_purpose::STANDARD.decode(token).unwrap()).unwrap();
        let claims = px.verify_token(&token);
        assert_eq!(claims["name"], namespace, "{namespace} holds another tenant's token");
        subjects.insert(namespace.to_owned(), claims["sub"].as_str().unwrap().to_owned());
    }
    subjects
}

/// A command running in the background, its stdout read line by line as it comes.
struct Running {
    child: Child,
    lines: mpsc::Receiver<String>,
    stdout: Vec<String>,
    stderr: std::thread::JoinHandle<String>,
}

impl Running {
    fn spawn(mut cmd: Command) -> Running {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting the command");
        let (send, lines) = mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = send.send(line);
            }
        });
        let mut stderr = child.stderr.take().unwrap();
        let stderr = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = std::io::Read::read_to_string(&mut stderr, &mut text);
            text
        });
        Running { child, lines, stdout: vec![], stderr }
    }

    /// Waits until it has printed `count` lines on stdout.
    fn wait_for_lines(&mut self, count: usize) {
        let deadline = Instant::now() + Duration::from_secs(120);
        while self.stdout.len() < count {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => self.stdout.push(line),
                Err(_) => panic!("{} lines after 120s, waiting for {count}: {:?}", self.stdout.len(), self.stdout),
            }
        }
    }

    fn still_running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// Waits for the end: exit code, every stdout line, stderr.
    fn finish(mut self) -> (Option<i32>, Vec<String>, String) {
        let deadline = Instant::now() + Duration::from_secs(120);
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(Instant::now() < deadline, "still running after 120s");
            std::thread::sleep(Duration::from_millis(20));
        };
        self.stdout.extend(self.lines.iter());
        (status.code(), self.stdout, self.stderr.join().unwrap())
    }
}

#[test]
fn api_server_down_before_the_command_is_reported_and_a_restart_brings_it_back() {
    let plane = disruptible();
    let px = key_on(&plane);
    let tenant = format!("team-{}", random_name_suffix());
    plane.kubectl("admin").args(["create", "namespace", &tenant]).succeeds();

    plane.stop();
    let run = plane.pxtoken("admin").args(tenant_args(&tenant, &px)).fails();
    assert_eq!(run.code, Some(1));
    assert_eq!(
        run.stderr,
        format!(
            "error: cannot reach the API server {} (context \"pxtoken-test\") to get secrets \"pxkeys\" in namespace \"{}\": connection refused: check that the API server is up and that --context and --kubeconfig point at it\n",
            plane.server(),
            px.namespace
        )
    );

    // Same URL, certificates and data: the same kubeconfig works, the key is still there.
    plane.restart(&[]);
    plane.pxtoken("admin").args(tenant_args(&tenant, &px)).succeeds();
    assert_eq!(stored_subjects(&plane, std::slice::from_ref(&tenant), &px).len(), 1);
}

#[test]
fn api_server_killed_during_a_bulk_run_leaves_no_half_written_secret_and_a_rerun_finishes() {
    let plane = disruptible();
    let px = key_on(&plane);
    let dir = tempfile::tempdir().unwrap();
    let (tenants, list) = tenants_on(&plane, 200, dir.path());
    let mut bulk = plane.pxtoken("admin");
    bulk.args(["tenant", "--from-file"]).arg(&list);
    bulk.args(["--shared-secret-ref", &px.secret_ref(), "--issuer", &px.issuer]);

    let mut running = Running::spawn(bulk);
    running.wait_for_lines(40);
    plane.kill(); // a crash, mid-run: SIGKILL to etcd and kube-apiserver alike
    let (code, stdout, stderr) = running.finish();

    // Every tenant reported once, on stdout when stored, on stderr when not; then the summary.
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stdout.len() >= 40 && stdout.len() < 200, "{} tenants reported done", stdout.len());
    let failed: Vec<&str> = stderr.lines().filter(|l| !l.contains(" tenants failed")).collect();
    assert_eq!(stdout.len() + failed.len(), 200, "each tenant reported once:\n{stderr}");
    for line in &failed {
        assert!(line.starts_with("error: t") && line.contains(": cannot reach the API server "), "{line}");
    }
    assert!(
        stderr.ends_with(&format!(
            "error: {} of 200 tenants failed (see above): fix them and run the same command again\n",
            failed.len()
        )),
        "{stderr}"
    );

    plane.restart(&[]);
    // Nothing half-written: every Secret there holds a complete token Portworx accepts, and
    // every one reported stored survived the crash.
    let before = stored_subjects(&plane, &tenants, &px);
    for line in &stdout {
        let namespace = tenants.iter().find(|t| line.contains(&format!(" in {t} "))).expect(line);
        assert!(before.contains_key(namespace), "{namespace} was reported stored but is gone: {line}");
    }

    // The same command again finishes the job, keeping each tenant's subject.
    let mut again = plane.pxtoken("admin");
    again.args(["tenant", "--from-file"]).arg(&list);
    again.args(["--shared-secret-ref", &px.secret_ref(), "--issuer", &px.issuer]);
    assert_eq!(again.succeeds().lines().count(), 200);
    let after = stored_subjects(&plane, &tenants, &px);
    assert_eq!(after.len(), 200);
    for (namespace, sub) in &before {
        assert_eq!(&after[namespace], sub, "{namespace} got a new subject");
    }
}

#[test]
fn hung_api_server_is_bounded_by_request_timeout_and_a_bulk_run_resumes_with_it() {
    let plane = disruptible();
    let px = key_on(&plane);
    let dir = tempfile::tempdir().unwrap();
    let (tenants, list) = tenants_on(&plane, 60, dir.path());

    // Hung before the command: the timeout bounds the wait.
    {
        let _paused = plane.pause();
        let started = Instant::now();
        let run = plane.pxtoken("admin").arg("--request-timeout=2s").args(tenant_args(&tenants[0], &px)).fails();
        let took = started.elapsed();
        assert_eq!(run.code, Some(1));
        assert_eq!(
            run.stderr,
            format!(
                "error: cannot reach the API server {} (context \"pxtoken-test\") to get secrets \"pxkeys\" in namespace \"{}\": no answer within 2s: raise --request-timeout, or check the network path to the server\n",
                plane.server(),
                px.namespace
            )
        );
        assert!(took < Duration::from_secs(8), "--request-timeout=2s took {took:?}");
    }

    // Hung for 3 s in the middle of a run with a longer timeout: it waits, then finishes.
    let mut bulk = plane.pxtoken("admin");
    bulk.args(["--request-timeout=30s", "tenant", "--from-file"]).arg(&list);
    bulk.args(["--shared-secret-ref", &px.secret_ref(), "--issuer", &px.issuer, "--concurrency", "1"]);
    let mut running = Running::spawn(bulk);
    running.wait_for_lines(5);
    {
        let _paused = plane.pause();
        assert!(running.still_running(), "the run ended before the control plane was paused");
        std::thread::sleep(Duration::from_secs(3));
    }
    let (code, stdout, stderr) = running.finish();
    assert_eq!((code, stderr.as_str()), (Some(0), ""));
    assert_eq!(stdout.len(), 60);
    assert_eq!(stored_subjects(&plane, &tenants, &px).len(), 60);
}

/// The only write slot of an API server started with `--max-mutating-requests-inflight=1`,
/// held by writes stuck in an admission webhook that never answers (a listening socket nobody
/// reads): every other write is turned away with 429 until the webhook times out.
struct WriteSlotHolder<'a> {
    plane: &'a OwnControlPlane,
    namespace: String,
    _black_hole: std::net::TcpListener,
}

impl<'a> WriteSlotHolder<'a> {
    /// Installs the webhook: ConfigMaps labelled `hold=<seconds>` wait that long (2 or 10).
    fn install(plane: &'a OwnControlPlane, namespace: &str) -> WriteSlotHolder<'a> {
        let black_hole = std::net::TcpListener::bind("127.0.0.1:0").unwrap(); // accepts, never answers
        let url = format!("https://{}/", black_hole.local_addr().unwrap());
        let webhook = |seconds: u32| {
            json!({
                "name": format!("hold-{seconds}s.faults.test"),
                "clientConfig": {"url": url},
                "rules": [{"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE"], "resources": ["configmaps"]}],
                "objectSelector": {"matchLabels": {"hold": seconds.to_string()}},
                "failurePolicy": "Ignore", "sideEffects": "None", "admissionReviewVersions": ["v1"],
                "timeoutSeconds": seconds,
            })
        };
        let config = json!({
            "apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingWebhookConfiguration",
            "metadata": {"name": "hold-the-write-slot"},
            "webhooks": [webhook(2), webhook(10)],
        });
        plane.kubectl("admin").args(["apply", "-f", "-"]).run_with_input(&config.to_string()).success();
        WriteSlotHolder { plane, namespace: namespace.to_owned(), _black_hole: black_hole }
    }

    /// Holds the slot for about `seconds` (2 or 10) from now; returns once it is held (a write
    /// of admin's, never turned away itself, still waiting on the webhook after half a second).
    fn hold(&self, seconds: u32) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let configmap = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {
                "generateName": "hold-", "namespace": self.namespace, "labels": {"hold": seconds.to_string()},
            }});
            let mut create = self.plane.kubectl("admin");
            create.args(["create", "-f", "-"]);
            let holder = std::thread::spawn(move || create.run_with_input(&configmap.to_string()));
            std::thread::sleep(Duration::from_millis(500));
            if !holder.is_finished() {
                return; // the webhook is called, and the write waits on it
            }
            // The API server had not picked the webhook up yet.
            assert!(Instant::now() < deadline, "the webhook never held a write");
        }
    }
}

#[test]
fn busy_api_server_429_is_retried_after_retry_after_and_bounded_by_request_timeout() {
    // Real 429s: the API server's own max-in-flight limit, one write at a time.
    let plane = OwnControlPlane::start(
        "busy",
        &["--enable-priority-and-fairness=false", "--max-requests-inflight=1", "--max-mutating-requests-inflight=1"],
    );
    // system:masters is never turned away (the limit exempts it): a user with cluster-admin is.
    let ops = plane.new_user("ops", &[]);
    plane
        .kubectl("admin")
        .args(["create", "clusterrolebinding", "ops", "--clusterrole=cluster-admin", "--user", &ops])
        .succeeds();
    let px = key_on(&plane);
    let dir = tempfile::tempdir().unwrap();
    let (tenants, list) = tenants_on(&plane, 20, dir.path());
    let holder = WriteSlotHolder::install(&plane, &px.namespace);

    // Busy for 2 s: every write is turned away and told to come back in a second
    // (Retry-After: 1); the run waits that long, asks again, and gets through.
    holder.hold(2);
    let mut bulk = plane.pxtoken(&ops);
    bulk.args(["-v", "1", "tenant", "--from-file"]).arg(&list);
    bulk.args(["--shared-secret-ref", &px.secret_ref(), "--issuer", &px.issuer, "--concurrency", "8"]);
    let run = bulk.run();
    assert_eq!(run.code, Some(0), "{run}");
    assert_eq!(run.stdout.lines().count(), 20);
    let retries: Vec<&str> = run.stderr.lines().filter(|l| l.contains("retrying in")).collect();
    assert!(!retries.is_empty(), "no 429 was retried:\n{run}");
    for retry in retries {
        assert!(retry.contains("the API server answered 429 Too Many Requests; retrying in 1."), "{retry}");
    }
    assert_eq!(stored_subjects(&plane, &tenants, &px).len(), 20);

    // Busy for 10 s: --request-timeout=3s bounds the retries, and the Secret is untouched.
    holder.hold(10);
    let target = &tenants[0];
    let before = secret_version(&plane, target);
    let started = Instant::now();
    let run = plane.pxtoken(&ops).args(["-v", "1", "--request-timeout=3s"]).args(tenant_args(target, &px)).fails();
    let took = started.elapsed();
    assert_eq!(run.code, Some(1));
    let error_lines: Vec<&str> = run.stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(
        error_lines,
        [format!(
            "error: cannot update secrets \"px-k8s-user\" in namespace \"{target}\": Too many requests, please try again later.: the API server stayed too busy through every retry; run the same command again later"
        )]
    );
    assert!(run.stderr.contains("retrying in"), "{run}");
    assert!(took < Duration::from_secs(7), "--request-timeout=3s took {took:?}");
    assert_eq!(secret_version(&plane, target), before, "the Secret changed");
}

/// The resourceVersion of `namespace/px-k8s-user` on `plane`.
fn secret_version(plane: &OwnControlPlane, namespace: &str) -> String {
    plane
        .kubectl("admin")
        .args(["get", "secret", "px-k8s-user", "-n", namespace, "-o", "jsonpath={.metadata.resourceVersion}"])
        .succeeds()
}
