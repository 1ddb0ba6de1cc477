//! Kubeconfig auth that runs when the client is built (no request is made).

use std::os::unix::fs::PermissionsExt;

use super::*;
use crate::fake_api::block_on;

/// Connects with a kubeconfig whose legacy `gcp` auth provider runs a script printing
/// gcloud's JSON, read at `token_key`; kube-client reads it through the workspace's
/// jsonpath-rust stand-in (patches/jsonpath-rust). The error, if any, with its causes.
fn connect_with_gcp_provider(token_key: &str) -> Result<Connection, String> {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("config-helper");
    std::fs::write(
        &script,
        "#!/bin/sh\necho '{\"credential\": {\"access_token\": \"ya29.t\", \"token_expiry\": \"2099-01-01T00:00:00Z\"}}'\n",
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let kubeconfig = dir.path().join("config");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: gke\n\
             clusters: [{{name: gke, cluster: {{server: 'https://127.0.0.1:1'}}}}]\n\
             contexts: [{{name: gke, context: {{cluster: gke, user: gke}}}}]\n\
             users: [{{name: gke, user: {{auth-provider: {{name: gcp, config: {{cmd-path: '{}', \
             token-key: '{token_key}', expiry-key: '{{.credential.token_expiry}}'}}}}}}}}]\n",
            script.display()
        ),
    )
    .unwrap();
    let options = ConnectionOptions { kubeconfig: Some(kubeconfig), ..ConnectionOptions::default() };
    block_on(options.connect()).map_err(|err| {
        let mut chain = err.to_string();
        let mut cause = std::error::Error::source(&err);
        while let Some(err) = cause {
            chain = format!("{chain}: {err}");
            cause = err.source();
        }
        chain
    })
}

#[test]
fn a_legacy_gcp_auth_provider_token_is_read_at_its_token_key() {
    let conn = connect_with_gcp_provider("{.credential.access_token}").unwrap();
    assert_eq!(conn.context, "gke");
}

#[test]
fn a_gcp_token_key_that_leads_nowhere_is_reported() {
    let err = connect_with_gcp_provider("{.credential.id_token}").unwrap_err();
    assert!(err.contains("\"$.credential.id_token\" not found"), "{err}");
}

#[test]
fn a_gcp_token_key_beyond_field_steps_is_refused_by_name() {
    let err = connect_with_gcp_provider("{.credential[*]}").unwrap_err();
    assert!(err.contains("unsupported JSONPath \"$.credential[*]\""), "{err}");
}
