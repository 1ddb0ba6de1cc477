//! What the user sees when things go wrong between `kubectl pxtoken` and the API server: each
//! fault made real — a stopped, killed, paused or overloaded kube-apiserver, a failing admission
//! webhook, a TCP proxy (toxiproxy) that resets, delays or stalls, bad credentials — and each
//! run checked for its one `error:` line (what failed, where, the fix), its exit code, and that
//! nothing was half-written.
//!
//! Tests that stop, kill or pause a control plane use one of their own ([`disruptible`],
//! [`OwnControlPlane`]); the others use the shared one, through a proxy or a kubeconfig of
//! their own.
//!
//! By what fails: [`network`] between the plugin and the API server, [`credentials`] and
//! kubeconfigs, [`admission`] the API server's admission chain, [`api_server`] the API server
//! itself.

mod admission;
mod api_server;
mod credentials;
mod network;

use std::path::Path;

use crate::support::*;

pub(crate) const ISSUER: &str = "faults.test";

/// The `server:` of a kubeconfig.
pub(crate) fn server_of(kubeconfig: &Path) -> String {
    let text = std::fs::read_to_string(kubeconfig).expect("reading the kubeconfig");
    text.lines().find_map(|l| l.trim().strip_prefix("server: ")).expect("a server line").to_owned()
}

/// `tenant NAMESPACE` with the key and issuer given, so the first request is always the read of
/// the key Secret (no discovery).
pub(crate) fn tenant_args(namespace: &str, px: &PortworxInstall) -> Vec<String> {
    ["tenant", namespace, "--shared-secret-ref", &px.secret_ref(), "--issuer", &px.issuer].map(str::to_owned).to_vec()
}

/// A key Secret in a test namespace of the shared control plane.
pub(crate) fn shared_key() -> (TestNamespace, PortworxInstall) {
    let ns = TestNamespace::new("px");
    let px = install_daemonset_style(&ns, &random_secret(), ISSUER);
    (ns, px)
}
