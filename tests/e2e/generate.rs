//! `kubectl pxtoken generate`: the off-node drop-in for `pxctl auth token generate`, checked
//! against openstorage's own generator and verifier.

use serde_json::Value;

use crate::support::openstorage::{self, verify_for as verify};
use crate::support::*;

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
            let theirs = openstorage::generate(&config_file, "portworx.com", &secret_file, duration);
            let (mut ours_claims, mut theirs_claims) =
                (openstorage::payload(ours.trim()), openstorage::payload(&theirs));
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
