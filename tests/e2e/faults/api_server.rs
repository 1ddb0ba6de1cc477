//! The API server itself: down, killed in the middle of a bulk run, hung, overloaded. Each on a
//! control plane of the test's own.

use std::time::{Duration, Instant};

use serde_json::json;

use super::{ISSUER, tenant_args};
use crate::support::*;

#[test]
fn api_server_down_before_the_command_is_reported_and_a_restart_brings_it_back() {
    let plane = disruptible();
    let px = plane.install_key(ISSUER);
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
    assert_eq!(plane.token_subjects(std::slice::from_ref(&tenant), &px).len(), 1);
}

#[test]
fn api_server_killed_during_a_bulk_run_leaves_no_half_written_secret_and_a_rerun_finishes() {
    let plane = disruptible();
    let px = plane.install_key(ISSUER);
    let dir = tempfile::tempdir().unwrap();
    let (tenants, list) = plane.tenant_namespaces(200, dir.path());
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
    let before = plane.token_subjects(&tenants, &px);
    for line in &stdout {
        let namespace = tenants.iter().find(|t| line.contains(&format!(" in {t} "))).expect(line);
        assert!(before.contains_key(namespace), "{namespace} was reported stored but is gone: {line}");
    }

    // The same command again finishes the job, keeping each tenant's subject.
    let mut again = plane.pxtoken("admin");
    again.args(["tenant", "--from-file"]).arg(&list);
    again.args(["--shared-secret-ref", &px.secret_ref(), "--issuer", &px.issuer]);
    assert_eq!(again.succeeds().lines().count(), 200);
    let after = plane.token_subjects(&tenants, &px);
    assert_eq!(after.len(), 200);
    for (namespace, sub) in &before {
        assert_eq!(&after[namespace], sub, "{namespace} got a new subject");
    }
}

#[test]
fn hung_api_server_is_bounded_by_request_timeout_and_a_bulk_run_resumes_with_it() {
    let plane = disruptible();
    let px = plane.install_key(ISSUER);
    let dir = tempfile::tempdir().unwrap();
    let (tenants, list) = plane.tenant_namespaces(60, dir.path());

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
    assert_eq!(plane.token_subjects(&tenants, &px).len(), 60);
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
    let px = plane.install_key(ISSUER);
    let dir = tempfile::tempdir().unwrap();
    let (tenants, list) = plane.tenant_namespaces(20, dir.path());
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
    assert_eq!(plane.token_subjects(&tenants, &px).len(), 20);

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
