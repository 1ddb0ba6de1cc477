//! Smoke test of the end-to-end setup: real kubectl finds the plugin, the control plane
//! enforces RBAC, and the plugin reaches the API server with a user's kubeconfig.

use crate::support::*;

#[test]
fn kubectl_lists_the_plugin() {
    let run = kubectl("alice").args(["plugin", "list"]).run();
    assert!(
        run.stdout.lines().any(|line| line.trim_end().ends_with("/kubectl-pxtoken")),
        "kubectl plugin list does not show kubectl-pxtoken:\n{run}"
    );
}

#[test]
fn kubectl_runs_the_plugin() {
    let version = pxtoken("alice").arg("--version").succeeds();
    assert!(version.contains(env!("CARGO_PKG_VERSION")), "unexpected --version output: {version}");
}

#[test]
fn alice_without_rights_is_forbidden_to_read_secrets() {
    let run = kubectl("alice").args(["-n", "kube-system", "get", "secrets"]).fails();
    assert!(run.stderr.contains("Forbidden") || run.stderr.contains("forbidden"), "{run}");
}

#[test]
fn a_granted_user_reads_secrets_only_where_granted() {
    let mine = TestNamespace::new("smoke-granted");
    let other = TestNamespace::new("smoke-other");
    let bob = cluster().new_user("bob");
    grant(&bob, mine.name(), &["get", "list"], &["secrets"]);
    kubectl(&bob).args(["-n", mine.name(), "get", "secrets"]).succeeds();
    kubectl(&bob).args(["-n", other.name(), "get", "secrets"]).fails();
}

#[test]
fn the_plugin_stores_a_tenant_token_signed_with_the_shared_secret() {
    let ns = TestNamespace::new("smoke-tenant");
    let px = install_operator_style(ns.name(), Some("test.io"));

    let out = pxtoken("admin")
        .args(["tenant", ns.name(), "--shared-secret-ref", &px.secret_ref(), "--issuer", "test.io"])
        .succeeds();
    assert!(out.contains("px-k8s-user"), "unexpected output: {out}");

    let token = &secret_data(ns.name(), "px-k8s-user")["auth-token"];
    let claims = px.verify_token(token);
    assert_eq!(claims["iss"], "test.io");
    assert_eq!(claims["name"], ns.name());
}
