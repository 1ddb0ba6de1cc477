//! Credentials and kubeconfigs: the wrong CA, an expired certificate, a failing exec plugin, a
//! missing context, a file that is not YAML.

use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine as _;
use serde_json::json;

use super::{server_of, shared_key, tenant_args};
use crate::support::*;

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
