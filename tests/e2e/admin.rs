//! `kubectl pxtoken admin`: the administrator's token, checked against openstorage's own code.

use crate::support::openstorage::verify_for as verify;
use crate::support::*;
use serde_json::{Value, json};

fn assert_admin_claims(claims: &Value, issuer: &str) {
    assert_eq!(claims["roles"], json!(["system.admin"]));
    assert_eq!(claims["groups"], json!(["*"]));
    assert_eq!(claims["name"], "storage-admin");
    assert_eq!(claims["email"], format!("storage-admin@{issuer}"));
    assert_eq!(claims["sub"], claims["email"]);
}

#[test]
fn admin_token_to_stdout() {
    let px_ns = TestNamespace::new("px");
    let px = install_operator_style(&px_ns, Some("admin.io"));
    let token = pxtoken("admin").args(["admin", "--px-namespace", &px_ns]).succeeds();
    assert_admin_claims(&verify(&token, &px), "admin.io");
}

#[test]
fn admin_token_to_a_private_file() {
    let px_ns = TestNamespace::new("px");
    let px = install_operator_style(&px_ns, Some("admin.io"));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("admin.jwt");
    let run = pxtoken("admin")
        .args(["admin", "--px-namespace", &px_ns, "--print-pxctl-context", "-v", "9", "--output"])
        .arg(&file)
        .run();
    assert_eq!(run.code, Some(0), "{run}");
    let token = std::fs::read_to_string(&file).unwrap();
    assert!(!run.stdout.contains(&token) && !run.stderr.contains(&token), "the token was printed too:\n{run}");
    assert!(!run.stderr.contains(&px.shared_secret));
    assert!(run.stdout.contains("pxctl context create admin --token="), "{run}");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    assert_admin_claims(&verify(&token, &px), "admin.io");
}

#[test]
fn admin_token_saved_in_a_secret() {
    let px_ns = TestNamespace::new("px");
    let px = install_operator_style(&px_ns, Some("admin.io"));
    let out = pxtoken("admin")
        .args(["admin", "--px-namespace", &px_ns, "--save-secret", &format!("{px_ns}/px-admin-token")])
        .succeeds();
    assert!(out.starts_with(&format!("secret/px-admin-token created in {px_ns}")), "{out}");
    let token = &secret_data(&px_ns, "px-admin-token")["auth-token"];
    assert!(!out.contains(token.as_str()));
    assert_admin_claims(&verify(token, &px), "admin.io");
}

#[test]
fn admin_works_offline_with_key_and_issuer() {
    let dir = tempfile::tempdir().unwrap();
    let secret = random_secret();
    let file = dir.path().join("secret");
    std::fs::write(&file, &secret).unwrap();
    let px = PortworxInstall {
        namespace: String::new(),
        secret_name: String::new(),
        secret_key: String::new(),
        shared_secret: secret,
        issuer: "offline.io".into(),
    };
    // A kubeconfig that points nowhere: no request may be made.
    let token = pxtoken("admin")
        .args([
            "admin",
            "--issuer",
            "offline.io",
            "--kubeconfig",
            "/nonexistent",
            "--sub",
            "root",
            "--shared-secret-file",
        ])
        .arg(&file)
        .succeeds();
    let claims = verify(&token, &px);
    assert_eq!(claims["sub"], "root");
}
