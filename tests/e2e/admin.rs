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
        .args(["admin", "--px-namespace", &px_ns, "--print-pxctl-context", "-v", "9", "--token-file"])
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
fn admin_output_file_still_works_for_a_release_with_a_warning() {
    let px_ns = TestNamespace::new("px");
    let px = install_operator_style(&px_ns, Some("admin.io"));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("admin.jwt");
    let run = pxtoken("admin").args(["admin", "--px-namespace", &px_ns, "--output"]).arg(&file).run();
    assert_eq!(run.code, Some(0), "{run}");
    assert!(
        run.stderr.contains(
            "warning: --output FILE is deprecated, use --token-file FILE; -o/--output will mean an output format"
        ),
        "{run}"
    );
    assert!(run.stdout.is_empty(), "the token went to the file only:\n{run}");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    assert_admin_claims(&verify(&std::fs::read_to_string(&file).unwrap(), &px), "admin.io");

    // yaml, json and name are formats now, not file names; without a Secret there is nothing to show.
    let run = pxtoken("admin").args(["admin", "--px-namespace", &px_ns, "--output", "yaml"]).current_dir(&dir).run();
    assert_eq!(run.code, Some(2), "{run}");
    assert!(run.stderr.starts_with("error: -o yaml applies to the Secret of --save-secret"), "{run}");
    assert!(!dir.path().join("yaml").exists(), "a file named yaml was written");
}

#[test]
fn admin_save_secret_prints_what_was_stored_as_asked() {
    let px_ns = TestNamespace::new("px");
    let px = install_operator_style(&px_ns, Some("admin.io"));
    let save = ["admin", "--px-namespace", &px_ns, "-n", &px_ns, "--save-secret", "px-admin-token"];
    let dry = pxtoken("admin").args(save).args(["--dry-run=client", "-o", "yaml"]).succeeds();
    assert!(dry.contains("kind: Secret") && dry.contains("auth-token"), "{dry}");
    assert!(!secret_exists(&px_ns, "px-admin-token"), "a client dry run wrote the Secret");

    let name = pxtoken("admin").args(save).args(["-o", "name"]).succeeds();
    assert_eq!(name, "secret/px-admin-token\n");
    let json: serde_json::Value =
        serde_json::from_str(&pxtoken("admin").args(save).args(["-o", "json"]).succeeds()).unwrap();
    assert_eq!(json["metadata"]["namespace"], px_ns.name(), "-n gives --save-secret its namespace");
    assert_admin_claims(&verify(&secret_data(&px_ns, "px-admin-token")["auth-token"], &px), "admin.io");
}

#[test]
fn admin_save_secret_leaves_a_secret_it_did_not_create_alone() {
    let px_ns = TestNamespace::new("px");
    install_operator_style(&px_ns, Some("admin.io"));
    kubectl("admin")
        .args(["-n", &px_ns, "create", "secret", "generic", "px-admin-token", "--from-literal=auth-token=hand-made"])
        .succeeds();
    let target = format!("{px_ns}/px-admin-token");
    let run = pxtoken("admin").args(["admin", "--px-namespace", &px_ns, "--save-secret", &target]).run();
    assert_eq!(run.code, Some(1), "{run}");
    assert!(
        run.stderr.starts_with(&format!("error: secret {target} exists and was not created by kubectl-pxtoken")),
        "{run}"
    );
    assert!(run.stderr.contains("pass --overwrite") && run.stderr.contains("--save-secret"), "{run}");
    assert_eq!(secret_data(&px_ns, "px-admin-token")["auth-token"], "hand-made");

    pxtoken("admin").args(["admin", "--px-namespace", &px_ns, "--save-secret", &target, "--overwrite"]).succeeds();
    assert_ne!(secret_data(&px_ns, "px-admin-token")["auth-token"], "hand-made");
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
