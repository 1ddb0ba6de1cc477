//! `kubectl pxtoken inspect`: the verdict on a token, and an exit code scripts can trust (0 only
//! when Portworx would accept it now), agreeing with openstorage's own verifier on every token.

use std::process::{Command, Stdio};

use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{Value, json};

use crate::support::openstorage::{self, PeerKey};
use crate::support::tokens::*;
use crate::support::*;

/// `inspect - -o json` with `token` on stdin: the exit code and the printed report.
fn inspect_stdin(user: &str, token: &str, flags: &[&str]) -> (Option<i32>, Value, Run) {
    let run = pxtoken(user).args(["inspect", "-", "-o", "json"]).args(flags).run_with_input(token);
    let report = serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("-o json is not JSON ({e}):\n{run}"));
    (run.code, report, run)
}

/// Neither the token nor its signature shows anywhere.
fn assert_token_not_shown(token: &str, run: &Run) {
    let signature = token.rsplit('.').next().unwrap_or(token);
    for part in [token, signature].into_iter().filter(|p| p.len() > 8) {
        assert!(!run.stdout.contains(part) && !run.stderr.contains(part), "the token was printed:\n{run}");
    }
}

/// For each named token: our verdict is `want`, the exit code is 0 exactly when it is accepted,
/// and openstorage's verifier (with `key`) accepts it exactly when we exit 0.
fn assert_cases(cases: &[(&str, String, &str)], flags: &[&str], issuer: &str, key: impl Fn() -> PeerKey<'static>) {
    for (name, token, want) in cases {
        let (code, report, run) = inspect_stdin("admin", token, flags);
        assert_eq!(report["verdict"], *want, "{name}:\n{run}");
        let accepted = matches!(*want, "valid" | "expiring");
        assert_eq!(code, Some(if accepted { 0 } else { 1 }), "{name}:\n{run}");
        assert!(run.stderr.is_empty() || !accepted, "{name}: an accepted token needs no words on stderr:\n{run}");
        let theirs = openstorage::verify(token, issuer, key());
        assert_eq!(theirs.is_ok(), accepted, "{name}: openstorage says {theirs:?}, we say {want}");
        assert_token_not_shown(token, &run);
    }
}

#[test]
fn every_kind_of_token_gets_openstorages_verdict_against_the_clusters_key() {
    let px_ns = TestNamespace::new("inspect-px");
    let secret: &'static str = random_secret().leak();
    let px = install_daemonset_style(&px_ns, secret, "inspect.example");
    let at = now();
    let c = |changes: Value| claims(&px.issuer, at, changes);
    let valid = hs256(secret.as_bytes(), &c(json!({})));
    let cases = [
        ("valid", valid.clone(), "valid"),
        ("expiring", hs256(secret.as_bytes(), &c(json!({"exp": at + 10 * DAY}))), "expiring"),
        ("expired", hs256(secret.as_bytes(), &c(json!({"exp": at - DAY}))), "expired"),
        ("not yet valid", hs256(secret.as_bytes(), &c(json!({"iat": at + 3600}))), "not-yet-valid"),
        ("tampered payload", swap_payload(&valid, &c(json!({"roles": ["system.admin"]}))), "bad-signature"),
        ("wrong key", hs256(b"not the cluster's secret", &c(json!({}))), "bad-signature"),
        ("wrong issuer", hs256(secret.as_bytes(), &claims("evil.example", at, json!({}))), "wrong-issuer"),
        ("alg none", raw(r#"{"alg":"none","typ":"JWT"}"#, &c(json!({})), ""), "malformed"),
        ("garbage", "garbage".to_owned(), "malformed"),
    ];
    // Key and issuer from the DaemonSet and its Secret, as `tenant` finds them.
    assert_cases(&cases, &["--px-namespace", &px_ns], &px.issuer, || PeerKey::SharedSecret(secret.as_bytes()));

    // Empty input: malformed here; openstorage's verifier refuses it too (as a usage error).
    let (code, report, run) = inspect_stdin("admin", "", &["--px-namespace", &px_ns]);
    assert_eq!((code, report["verdict"].as_str()), (Some(1), Some("malformed")), "{run}");
    assert_eq!(report["reason"], "empty input: no token");
    let peer = Command::new(openstorage::peer_binary())
        .args(["verify", "--issuer", &px.issuer, "--shared-secret-file", "/dev/null"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_ne!(peer.status.code(), Some(0), "openstorage never accepts empty input");

    // The description shows claims, times and the verdict; a token in argv gets a warning.
    let run = pxtoken("admin").args(["inspect", &valid, "--px-namespace", &px_ns]).run();
    let out = run.stdout.clone();
    assert_eq!(run.code, Some(0), "{run}");
    for line in
        ["Subject:      u-1", "Roles:        system.user", "Issuer:       inspect.example", "Status:       valid"]
    {
        assert!(out.contains(line), "no {line:?} in:\n{run}");
    }
    assert!(out.contains(&format!("Checked with: secret {}/pxkeys:shared-secret", px_ns.name())), "{run}");
    assert!(out.contains("Time left:    364d") || out.contains("Time left:    365d"), "{run}");
    assert!(run.stderr.starts_with("warning: a token on the command line is visible"), "{run}");
    assert!(run.stderr.contains("kubectl pxtoken inspect -"), "the warning says what to do instead:\n{run}");
}

#[test]
fn public_key_files_judge_rs256_and_es256_and_never_verify_hs256_with_them() {
    let issuer = "keys.example";
    let at = now();
    let c = |changes: Value| claims(issuer, at, changes);
    let rsa = EncodingKey::from_rsa_pem(RSA_PRIVATE_PEM.as_bytes()).unwrap();
    let ec = EncodingKey::from_ec_pem(ECDSA_PRIVATE_PEM.as_bytes()).unwrap();
    let rsa_valid = sign(Algorithm::RS256, &rsa, &c(json!({})));
    let rsa_public = data_file("rsa-public.pem");
    let rsa_flags = ["--rsa-public-keyfile", rsa_public.to_str().unwrap(), "--issuer", issuer];
    let rsa_cases = [
        ("RS256 valid", rsa_valid.clone(), "valid"),
        ("RS256 expired", sign(Algorithm::RS256, &rsa, &c(json!({"exp": at - DAY}))), "expired"),
        ("RS256 tampered", swap_payload(&rsa_valid, &c(json!({"sub": "someone-else"}))), "bad-signature"),
        // Algorithm confusion: the public key's bytes used as an HMAC secret.
        ("HS256 signed with the RSA public key", hs256(RSA_PUBLIC_PEM.as_bytes(), &c(json!({}))), "bad-signature"),
        ("ES256 presented to an RSA key", sign(Algorithm::ES256, &ec, &c(json!({}))), "bad-signature"),
    ];
    assert_cases(&rsa_cases, &rsa_flags, issuer, || PeerKey::RsaPublicPem(RSA_PUBLIC_PEM));

    let ec_public = data_file("ecdsa-public.pem");
    let ec_flags = ["--ecdsa-public-keyfile", ec_public.to_str().unwrap(), "--issuer", issuer];
    let ec_cases = [
        ("ES256 valid", sign(Algorithm::ES256, &ec, &c(json!({}))), "valid"),
        ("ES256 expiring", sign(Algorithm::ES256, &ec, &c(json!({"exp": at + 3 * DAY}))), "expiring"),
        ("ES256 wrong issuer", sign(Algorithm::ES256, &ec, &claims("other.example", at, json!({}))), "wrong-issuer"),
        ("HS256 signed with the ECDSA public key", hs256(ECDSA_PUBLIC_PEM.as_bytes(), &c(json!({}))), "bad-signature"),
    ];
    assert_cases(&ec_cases, &ec_flags, issuer, || PeerKey::EcdsaPublicPem(ECDSA_PUBLIC_PEM));

    // A wider window makes a year-long token "expiring", still accepted.
    let (code, report, run) =
        inspect_stdin("admin", &rsa_valid, &[&rsa_flags[..], &["--expiring-within", "400d"]].concat());
    assert_eq!((code, report["verdict"].as_str()), (Some(0), Some("expiring")), "{run}");
}

#[test]
fn the_token_stored_in_a_namespace_is_judged_with_its_secrets_record() {
    let px_ns = TestNamespace::new("inspect-px");
    let px = install_daemonset_style(&px_ns, &random_secret(), "stored.example");
    let team = TestNamespace::new("inspect-team");
    pxtoken("admin").args(["tenant", &team, "--px-namespace", &px_ns]).succeeds();

    // `inspect -n`: the Secret px-k8s-user, its key, and the verdict.
    let run = pxtoken("admin").args(["inspect", "-n", &team, "--px-namespace", &px_ns]).run();
    assert_eq!(run.code, Some(0), "{run}");
    let secret_line = format!("Secret:       {}/px-k8s-user (key auth-token, managed by kubectl-pxtoken)", team.name());
    assert!(run.stdout.contains(&secret_line), "{run}");
    assert!(run.stdout.contains("Status:       valid"), "{run}");
    let token = secret_data(&team, "px-k8s-user")["auth-token"].clone();
    assert_token_not_shown(&token, &run);

    // A hand-made Secret under another name, with an expired token: exit 1, no error line.
    let expired = hs256(px.shared_secret.as_bytes(), &claims(&px.issuer, now(), json!({"exp": now() - DAY})));
    kubectl("admin")
        .args(["-n", &team, "create", "secret", "generic", "old-token", "--from-file=auth-token=/dev/stdin"])
        .run_with_input(&expired)
        .success();
    let run =
        pxtoken("admin").args(["inspect", "-n", &team, "--secret-name", "old-token", "--px-namespace", &px_ns]).run();
    assert_eq!(run.code, Some(1), "{run}");
    assert!(run.stdout.contains("Status:       expired,unmanaged"), "{run}");
    assert!(run.stdout.contains("Reason:       expired 24h ago"), "{run}");
    assert_eq!(run.stderr, "", "a rejected token is the answer, not an error:\n{run}");

    // -o yaml of the same.
    let run = pxtoken("admin")
        .args(["inspect", "-n", &team, "--secret-name", "old-token", "--px-namespace", &px_ns, "-o", "yaml"])
        .run();
    let report: Value = serde_saphyr::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}:\n{run}"));
    assert_eq!((report["secret"].as_str(), report["verdict"].as_str()), (Some("old-token"), Some("expired")), "{run}");
    assert_eq!(report["managed"], false);

    // No such Secret: one error line saying what to check.
    let run =
        pxtoken("admin").args(["inspect", "-n", &team, "--secret-name", "nope", "--px-namespace", &px_ns]).fails();
    assert_eq!(run.stderr.lines().count(), 1, "{run}");
    assert!(
        run.stderr.starts_with(&format!("error: secret \"nope\" not found in namespace \"{}\"", team.name())),
        "{run}"
    );

    // A user who may read the tenant's Secret but not the key gets the claims, and no answer.
    let user = cluster().new_user("tenant-viewer");
    grant(&user, &team, &["get"], &["secrets"]);
    let run = pxtoken(&user).args(["inspect", "-n", &team, "--px-namespace", &px_ns]).run();
    assert_eq!(run.code, Some(1), "{run}");
    assert!(run.stdout.contains("Checked with: <none>: the signature was not checked"), "{run}");
    assert!(
        run.stderr.starts_with("error: cannot tell whether Portworx accepts this token: signatures were not checked"),
        "{run}"
    );
    assert!(run.stderr.contains(&format!("get secret {}/pxkeys:shared-secret", px_ns.name())), "{run}");
}

#[test]
fn usage_mistakes_exit_2_before_any_request() {
    let run = pxtoken("admin").args(["inspect", "-", "--shared-secret-file", "-"]).run_with_input("x");
    assert_eq!(run.code, Some(2), "{run}");
    assert!(run.stderr.contains("cannot both come from stdin"), "{run}");
    let run = pxtoken("admin").args(["inspect", "some-token", "--secret-name", "px-k8s-user"]).run();
    assert_eq!(run.code, Some(2), "a token and a Secret to read it from are two answers:\n{run}");
    let run = pxtoken("admin").args(["inspect", "-n", "Bad_Namespace"]).run();
    assert_eq!(run.code, Some(2), "{run}");
    let run = pxtoken("admin").args(["inspect", "-", "--expiring-within", "30 days"]).run_with_input("x");
    assert_eq!(run.code, Some(2), "{run}");
}
