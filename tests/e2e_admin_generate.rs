//! `kubectl pxtoken admin` and `kubectl pxtoken generate`: the administrator's token and the
//! off-node drop-in for `pxctl auth token generate`, checked against openstorage's own code.

mod peer;
mod support;

use peer::PeerKey;
use serde_json::{Value, json};
use support::*;

fn verify(token: &str, px: &PortworxInstall) -> Value {
    peer::verify(token.trim(), &px.issuer, PeerKey::SharedSecret(px.shared_secret.as_bytes()))
        .unwrap_or_else(|why| panic!("openstorage rejected the token: {why}"))
}

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

/// The auth-configs pxctl users write, as the seed document shows them, plus edge cases of
/// roles and groups that change the claim set (absent, empty).
const AUTH_CONFIGS: &[&str] = &[
    "name: Storage Administrator\nemail: admin@example.com\nsub: admin-sub\nroles: [\"system.admin\"]\ngroups: [\"*\"]\n",
    "name: Tenant A\nemail: a@example.com\nsub: 4c1c7d5e-0d1f-4c1e-9f0b-1f1f1f1f1f1f\nroles: [\"system.user\"]\ngroups: [\"team-a\", \"dev\"]\n",
    "name: No groups\nemail: n@example.com\nsub: n\nroles: [\"system.view\"]\n",
    "name: Empty groups\nemail: e@example.com\nsub: e\nroles: [\"system.user\"]\ngroups: []\n",
    "name: No roles\nemail: r@example.com\nsub: r\n",
];

#[test]
fn generate_writes_the_claim_set_openstorage_writes() {
    let dir = tempfile::tempdir().unwrap();
    let secret_file = dir.path().join("secret");
    let secret = random_secret();
    std::fs::write(&secret_file, &secret).unwrap();
    for (i, config) in AUTH_CONFIGS.iter().enumerate() {
        let config_file = dir.path().join(format!("config-{i}.yaml"));
        std::fs::write(&config_file, config).unwrap();
        for duration in ["1d", "1y", "12h"] {
            let ours = pxtoken("admin")
                .args(["generate", "--issuer", "portworx.com", "--token-duration", duration, "--auth-config"])
                .arg(&config_file)
                .arg("--shared-secret-file")
                .arg(&secret_file)
                .succeeds();
            let theirs = peer::generate(&config_file, "portworx.com", &secret_file, duration);
            let (mut ours_claims, mut theirs_claims) = (peer::payload(ours.trim()), peer::payload(&theirs));
            let life = |c: &Value| c["exp"].as_i64().unwrap();
            assert!((life(&ours_claims) - life(&theirs_claims)).abs() <= 5, "{duration}: exp differs");
            for claims in [&mut ours_claims, &mut theirs_claims] {
                let object = claims.as_object_mut().unwrap();
                object.remove("iat");
                object.remove("exp");
            }
            assert_eq!(ours_claims, theirs_claims, "claim sets differ for config {i}:\n{config}");
            let px = PortworxInstall {
                namespace: String::new(),
                secret_name: String::new(),
                secret_key: String::new(),
                shared_secret: secret.clone(),
                issuer: "portworx.com".into(),
            };
            if config.contains("sub:") {
                verify(&ours, &px);
            }
        }
    }
}

#[test]
fn generate_reads_key_and_issuer_from_the_cluster() {
    let px_ns = TestNamespace::new("px");
    let px = install_daemonset_style(&px_ns, &random_secret(), "gen.io");
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("tenant.yaml");
    std::fs::write(&config, AUTH_CONFIGS[1]).unwrap();
    let out_file = dir.path().join("token");
    let run = pxtoken("admin")
        .args(["generate", "--px-namespace", &px_ns, "--auth-config"])
        .arg(&config)
        .arg("--output")
        .arg(&out_file)
        .run();
    assert_eq!(run.code, Some(0), "{run}");
    assert!(run.stdout.is_empty(), "--output keeps the token off stdout:\n{run}");
    let claims = verify(&std::fs::read_to_string(&out_file).unwrap(), &px);
    let lifetime = claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap();
    assert!((lifetime - 86_400 - 600).abs() <= 5, "generate defaults to 1d (plus the 10m iat backdate): {lifetime}");
}
