//! The network between the plugin and the API server, through toxiproxy: reset, slow, stalled.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::json;

use super::{server_of, shared_key, tenant_args};
use crate::support::*;

#[test]
fn connection_reset_by_the_network_fails_at_once_and_writes_nothing() {
    let (ns, px) = shared_key();
    let toxiproxy = Toxiproxy::start();
    let (proxy, kubeconfig) = proxied_admin(&toxiproxy);
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
    let (proxy, kubeconfig) = proxied_admin(&toxiproxy);

    proxy.add_toxic("latency", json!({"latency": 5000}));
    assert_cut_by_request_timeout(&proxy, &kubeconfig, &ns, &px, 1);
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
    let (proxy, kubeconfig) = proxied_admin(&toxiproxy);
    proxy.add_toxic("timeout", json!({"timeout": 0})); // data stops, the connection stays open

    assert_cut_by_request_timeout(&proxy, &kubeconfig, &ns, &px, 2);
}

#[test]
fn a_second_ctrl_c_stops_a_bulk_run_at_once_while_answers_are_held_up() {
    let (_keys, px) = shared_key();
    let tenants = Tenants::new("sig2", 200);
    let dir = tempfile::tempdir().unwrap();
    let list = tenants.list_file(dir.path());
    let toxiproxy = Toxiproxy::start();
    let (proxy, kubeconfig) = proxied_admin(&toxiproxy);
    proxy.add_toxic("latency", json!({"latency": 50}));
    let mut bulk = pxtoken("admin");
    bulk.arg("--kubeconfig").arg(&kubeconfig).args(["tenant", "--from-file"]).arg(&list);
    bulk.args(["--concurrency", "2", "--shared-secret-ref", &px.secret_ref(), "--issuer", &px.issuer]);
    let mut running = Running::spawn(bulk);
    running.wait_for_lines(2);
    // From now on every answer takes 10 s: the writes in flight are held up.
    proxy.remove_toxic("latency");
    proxy.add_toxic("latency", json!({"latency": 10_000}));

    running.signal("INT");
    std::thread::sleep(Duration::from_millis(500));
    assert!(running.still_running(), "the first Ctrl-C waits for the writes in flight");
    let second = Instant::now();
    running.signal("INT");
    let (code, _, stderr) = running.finish();
    assert!(second.elapsed() < Duration::from_secs(5), "the second Ctrl-C did not stop at once");
    assert_eq!(code, Some(130), "{stderr}");
    assert_eq!(
        stderr,
        "error: SIGINT again: stopped without waiting for writes in flight; run the same command again\n"
    );
    // A write the server made but whose answer never came is whole all the same.
    proxy.remove_toxic("latency");
    let stored = px.token_subjects(kubectl("admin"), &tenants.names);
    assert!(stored.len() >= 2 && stored.len() < 200, "{} tenants stored", stored.len());
}

/// A proxy to the shared control plane, and admin's kubeconfig through it.
fn proxied_admin(toxiproxy: &Toxiproxy) -> (Proxy<'_>, PathBuf) {
    let admin = cluster().kubeconfig("admin");
    let proxy = toxiproxy.proxy_to(&server_of(&admin));
    let kubeconfig = proxy.kubeconfig(&admin);
    (proxy, kubeconfig)
}

/// `tenant` through `proxy` (`kubeconfig`) with `--request-timeout=<seconds>s` fails with the
/// timed-out line after about that long, and writes nothing.
fn assert_cut_by_request_timeout(proxy: &Proxy, kubeconfig: &Path, ns: &str, px: &PortworxInstall, seconds: u64) {
    let started = Instant::now();
    let run = pxtoken("admin")
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .arg(format!("--request-timeout={seconds}s"))
        .args(tenant_args(ns, px))
        .fails();
    let took = started.elapsed();
    assert_eq!(
        run.stderr,
        format!(
            "error: cannot reach the API server {} (context \"pxtoken-test\") to get secrets \"pxkeys\" in namespace \"{ns}\": no answer within {seconds}s: raise --request-timeout, or check the network path to the server\n",
            proxy.server()
        )
    );
    assert_eq!(run.code, Some(1));
    let limit = Duration::from_secs(seconds);
    assert!((limit..limit + Duration::from_secs(6)).contains(&took), "--request-timeout={seconds}s took {took:?}");
    assert!(!secret_exists(ns, "px-k8s-user"));
}
