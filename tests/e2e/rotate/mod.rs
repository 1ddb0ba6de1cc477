//! `kubectl pxtoken rotate`: tokens renewed in place after the shared secret or the issuer
//! changed, or as they near expiry, with every claim kept and openstorage's verifier accepting
//! the result; valid and hand-made tokens left alone unless asked; a second run changing nothing;
//! Events on the Secrets; a concurrent writer never clobbered.

mod in_cluster;
mod interrupt;

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::support::openstorage::{self, PeerKey};
use crate::support::webhook::SecretUpdateWebhook;
use crate::support::*;

const DAY: i64 = 86_400;

/// A new shared secret in the key Secret, as an administrator rotating it would write it.
pub fn change_shared_secret(px: &mut PortworxInstall) {
    let new = random_secret();
    let patch = json!({"stringData": {px.secret_key.as_str(): new}}).to_string();
    kubectl("admin").args(["patch", "secret", &px.secret_name, "-n", &px.namespace, "-p", &patch]).succeeds();
    px.shared_secret = new;
}

/// `kubectl pxtoken rotate ARGS` as `user`, with `px`'s key Secret and issuer given as the
/// rotator CronJob gives them.
pub fn rotate(user: &str, px: &PortworxInstall, args: &[&str]) -> Run {
    pxtoken(user).arg("rotate").args(args).args(["--shared-secret-ref", &px.secret_ref(), "--issuer", &px.issuer]).run()
}

pub fn token(namespace: &str) -> String {
    secret_data(namespace, "px-k8s-user")["auth-token"].clone()
}

pub fn resource_version(namespace: &str) -> String {
    let secret = get_json("secret", Some(namespace), "px-k8s-user").expect("the token Secret");
    secret["metadata"]["resourceVersion"].as_str().unwrap().to_owned()
}

/// Who a token speaks for: every claim but iss, iat and exp.
pub fn identity(token: &str) -> Value {
    let mut claims = openstorage::payload(token);
    for timing in ["iss", "iat", "exp"] {
        claims.as_object_mut().unwrap().remove(timing);
    }
    claims
}

/// openstorage's verifier on `token` with `px`'s current key and issuer: its claims.
pub fn accepted(token: &str, px: &PortworxInstall) -> Value {
    openstorage::verify(token, &px.issuer, PeerKey::SharedSecret(px.shared_secret.as_bytes()))
        .unwrap_or_else(|why| panic!("openstorage rejected the rotated token: {why}"))
}

/// The line `rotate` printed about `namespace`'s token Secret (namespaces are random, so
/// ` in NAMESPACE (` or ` in NAMESPACE:` names one).
pub fn line_for<'a>(run: &'a Run, namespace: &str) -> &'a str {
    let (detail, failure) = (format!(" in {namespace} ("), format!(" in {namespace}: "));
    run.stdout
        .lines()
        .find(|l| l.contains(&detail) || l.contains(&failure))
        .unwrap_or_else(|| panic!("no line about {namespace}:\n{run}"))
}

fn events(namespace: &str, reason: &str) -> Vec<Value> {
    let selector = format!("involvedObject.name=px-k8s-user,reason={reason}");
    let out = kubectl("admin")
        .args(["get", "events", "-n", namespace, "--field-selector", &selector, "-o", "json"])
        .succeeds();
    serde_json::from_str::<Value>(&out).unwrap()["items"].as_array().unwrap().clone()
}

/// The documented workflow's hand-made Secret: pxctl's token, stored with kubectl, no label.
fn hand_made_secret(namespace: &str, px: &PortworxInstall, sub: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let (config, key) = (dir.path().join("auth.yaml"), dir.path().join("key"));
    std::fs::write(&config, format!("name: {namespace}\nemail: {namespace}@example.com\nsub: {sub}\nroles: [\"system.user\"]\ngroups: [\"{namespace}\"]\n")).unwrap();
    std::fs::write(&key, &px.shared_secret).unwrap();
    let token = openstorage::generate(&config, &px.issuer, &key, "1y");
    let literal = format!("--from-literal=auth-token={token}");
    kubectl("admin").args(["create", "secret", "generic", "px-k8s-user", "-n", namespace, &literal]).succeeds();
    token
}

#[test]
fn after_the_shared_secret_changes_rotate_all_resigns_every_managed_token_with_its_claims() {
    let keys = TestNamespace::new("rot-keys");
    let mut px = install_daemonset_style(&keys, &random_secret(), "rotate.example");
    let tenants = Tenants::new("rot-key", 2);
    tenants.onboard(&px, &["--roles", "system.user,backup", "--groups", "dev,ops"]);
    let hand = TestNamespace::new("rot-hand");
    let hand_token = hand_made_secret(&hand, &px, "hand-made-sub");
    let before: BTreeMap<String, String> = tenants.names.iter().map(|ns| (ns.clone(), token(ns))).collect();
    change_shared_secret(&mut px);

    // The rotator reads token Secrets anywhere, and may write only where these tenants live:
    // other tests' Secrets, which -A also finds, stay out of its reach.
    let rotator = cluster().new_user("rotator");
    let _read_all = grant_cluster(&rotator, &["get", "list"], &["secrets"]);
    for ns in tenants.names.iter().chain([&hand.to_string()]) {
        grant(&rotator, ns, &["update", "create"], &["secrets", "events"]);
    }

    let run = rotate(&rotator, &px, &["-A"]);
    for ns in &tenants.names {
        let line = line_for(&run, ns);
        assert!(line.starts_with(&format!("secret/px-k8s-user rotated in {ns} (was stale-key, expires ")), "{run}");
        let rotated = token(ns);
        let claims = accepted(&rotated, &px);
        assert_eq!(identity(&rotated), identity(&before[ns]), "sub, name, email, roles, groups kept exactly");
        assert_eq!(claims["roles"], json!(["system.user", "backup"]));
        assert!(!run.stdout.contains(&rotated) && !run.stderr.contains(&rotated), "the token leaked:\n{run}");
        let recorded = events(ns, "TokenRotated");
        assert_eq!(recorded.len(), 1, "{recorded:?}");
        let message = recorded[0]["message"].as_str().unwrap();
        assert!(message.contains(claims["sub"].as_str().unwrap()) && !message.contains(&rotated), "{message}");
        assert_eq!(recorded[0]["type"], "Normal");
    }
    assert_eq!(
        line_for(&run, &hand),
        format!("secret/px-k8s-user skipped in {hand} (unmanaged, bad-signature: pass --adopt)")
    );
    assert_eq!(token(&hand), hand_token, "a hand-made Secret is untouched without --adopt");
    // Only other tests' Secrets may fail (the rotator may not write there); none was written.
    let foreign_failures = run.stdout.lines().filter(|l| l.contains(" failed in ")).count();
    assert_eq!(run.code, Some(if foreign_failures > 0 { 1 } else { 0 }), "{run}");
    assert!(run.stdout.lines().filter(|l| l.contains(" rotated in ")).count() == tenants.names.len(), "{run}");

    // A second run rotates nothing: not one resourceVersion moves.
    let versions = |names: &[String]| names.iter().map(|ns| resource_version(ns)).collect::<Vec<_>>();
    let mut mine = tenants.names.clone();
    mine.push(hand.to_string());
    let settled = versions(&mine);
    let again = rotate(&rotator, &px, &["-A"]);
    for ns in &tenants.names {
        assert!(line_for(&again, ns).starts_with(&format!("secret/px-k8s-user unchanged in {ns} (valid until ")));
    }
    assert_eq!(versions(&mine), settled);

    // --adopt takes the hand-made Secret over: re-signed with its sub, labelled, then left alone.
    let adopt = rotate(&rotator, &px, &["-A", "--adopt"]);
    assert!(line_for(&adopt, &hand).starts_with(&format!("secret/px-k8s-user rotated in {hand} (was bad-signature, ")));
    assert!(line_for(&adopt, &hand).ends_with(", adopted)"), "{adopt}");
    let adopted = token(&hand);
    assert_eq!(accepted(&adopted, &px)["sub"], "hand-made-sub");
    assert_eq!(identity(&adopted), identity(&hand_token));
    let secret = get_json("secret", Some(&hand), "px-k8s-user").unwrap();
    assert_eq!(secret["metadata"]["labels"]["app.kubernetes.io/managed-by"], "kubectl-pxtoken");
    let settled = versions(&mine);
    rotate(&rotator, &px, &["-A", "--adopt"]);
    assert_eq!(versions(&mine), settled);
}

#[test]
fn after_the_issuer_changes_rotate_replaces_it_and_says_so() {
    let keys = TestNamespace::new("rot-iss-keys");
    let mut px = install_daemonset_style(&keys, &random_secret(), "old.example");
    let tenants = Tenants::new("rot-iss", 2);
    tenants.onboard(&px, &[]);
    let before: Vec<String> = tenants.names.iter().map(|ns| token(ns)).collect();
    px.issuer = "new.example".into();
    // A rotator that may rotate but not record Events: the rotations stand, the count says so.
    let rotator = cluster().new_user("rotator");
    grant(&rotator, &keys, &["get"], &["secrets"]);
    for ns in &tenants.names {
        grant(&rotator, ns, &["get", "list", "update"], &["secrets"]);
    }

    let args: Vec<&str> = tenants.names.iter().map(String::as_str).collect();
    let run = rotate(&rotator, &px, &args);
    assert_eq!((run.code, run.stderr.as_str()), (Some(0), ""), "{run}");
    for (ns, old) in tenants.names.iter().zip(&before) {
        let line = line_for(&run, ns);
        assert!(line.starts_with(&format!("secret/px-k8s-user rotated in {ns} (was wrong-issuer, ")), "{run}");
        assert!(line.ends_with(", issuer old.example -> new.example)"), "{run}");
        let rotated = token(ns);
        assert_eq!(accepted(&rotated, &px)["iss"], "new.example");
        assert_eq!(identity(&rotated), identity(old));
    }
    let summary = run.stdout.lines().last().unwrap();
    assert!(summary.starts_with("2 rotated, 0 unchanged, 0 skipped, 0 failed; 2 events not recorded (first: could not record event TokenRotated on secret px-k8s-user: forbidden: cannot create events in namespace "), "{run}");

    let settled: Vec<String> = tenants.names.iter().map(|ns| resource_version(ns)).collect();
    let again = rotate(&rotator, &px, &args);
    assert!(again.stdout.ends_with("0 rotated, 2 unchanged, 0 skipped, 0 failed\n"), "{again}");
    assert_eq!(tenants.names.iter().map(|ns| resource_version(ns)).collect::<Vec<_>>(), settled);
}

#[test]
fn expiring_tokens_are_renewed_for_their_own_lifetime_and_valid_ones_only_with_all() {
    let keys = TestNamespace::new("rot-exp-keys");
    let px = install_daemonset_style(&keys, &random_secret(), "rotate.example");
    let (year, month, tampered) =
        (Tenants::new("rot-year", 1), Tenants::new("rot-month", 1), Tenants::new("rot-bad", 1));
    year.onboard(&px, &[]);
    month.onboard(&px, &["--token-duration", "20d"]);
    tampered.onboard(&px, &[]);
    let (year, month, tampered) = (&year.names[0], &month.names[0], &tampered.names[0]);
    // Someone replaced the tampered tenant's token with one the plugin did not sign.
    let mut forged_claims = openstorage::payload(&token(tampered));
    forged_claims["roles"] = json!(["system.user", "backup-admin"]);
    let forged_key = jsonwebtoken::EncodingKey::from_secret(random_secret().as_bytes()).unwrap();
    let forged = jsonwebtoken::encode(&jsonwebtoken::Header::default(), &forged_claims, &forged_key).unwrap();
    let patch = json!({"stringData": {"auth-token": forged}}).to_string();
    kubectl("admin").args(["patch", "secret", "px-k8s-user", "-n", tampered, "-p", &patch]).succeeds();
    let year_version = resource_version(year);

    let run = rotate("admin", &px, &[year, month, tampered]);
    assert!(line_for(&run, year).starts_with(&format!("secret/px-k8s-user unchanged in {year} (valid until ")));
    assert_eq!(resource_version(year), year_version, "a valid token is not touched");
    assert!(line_for(&run, month).starts_with(&format!("secret/px-k8s-user rotated in {month} (was expiring, ")));
    let renewed = openstorage::payload(&token(month));
    let span = renewed["exp"].as_i64().unwrap() - renewed["iat"].as_i64().unwrap();
    assert_eq!(span, 20 * DAY + 600, "its own 20-day lifetime, iat backdated 10 minutes");
    assert!(line_for(&run, month).ends_with(", lifetime within --expiring-within: renewed on every run)"), "{run}");
    let refused = line_for(&run, tampered);
    assert!(
        refused.starts_with(&format!(
            "secret/px-k8s-user failed in {tampered}: the token's signature does not verify with the current key"
        )),
        "{run}"
    );
    assert_eq!(token(tampered), forged, "a token nobody vouches for is never re-signed");
    assert_eq!(events(tampered, "TokenRotationFailed")[0]["type"], "Warning");
    assert_eq!(run.code, Some(1), "{run}");
    assert!(run.stderr.starts_with("error: 1 of 3 token Secrets failed (see above)"), "{run}");

    // A server dry run of --all: every write checked by the API server, nothing stored.
    let versions = [resource_version(year), resource_version(month)];
    let dry = rotate("admin", &px, &[year, month, "--all", "--dry-run=server"]);
    assert!(
        line_for(&dry, year).starts_with(&format!("secret/px-k8s-user rotated (server dry run) in {year} (was valid")),
        "{dry}"
    );
    assert_eq!([resource_version(year), resource_version(month)], versions);
    assert!(events(year, "TokenRotated").is_empty(), "no Event for a dry run");

    // --all with --token-duration: valid tokens too, for the new lifetime.
    let all = rotate("admin", &px, &[year, month, "--all", "--token-duration", "90d"]);
    assert!(all.stdout.ends_with("2 rotated, 0 unchanged, 0 skipped, 0 failed\n"), "{all}");
    for ns in [year, month] {
        let claims = accepted(&token(ns), &px);
        assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 90 * DAY + 600);
    }
}

#[test]
fn a_secret_changed_between_rotates_read_and_its_write_is_not_clobbered() {
    let keys = TestNamespace::new("rot-409-keys");
    let mut px = install_daemonset_style(&keys, &random_secret(), "rotate.example");
    let tenants = Tenants::new("rot-409", 2);
    tenants.onboard(&px, &[]);
    let (annotated, renewed) = (tenants.names[0].clone(), tenants.names[1].clone());
    change_shared_secret(&mut px);
    let rotator = cluster().new_user("rotator");
    grant(&rotator, &keys, &["get"], &["secrets"]);
    for ns in &tenants.names {
        grant(&rotator, ns, &["get", "list", "update", "create"], &["secrets", "events"]);
    }

    // Another writer acts inside rotate's first write of each Secret (an admission webhook runs
    // after rotate read the Secret and before its write is stored): on one it adds an
    // annotation, on the other it renews the token itself with `tenant`.
    let px_for_writer = px.clone();
    let hooks: Vec<SecretUpdateWebhook> = [(annotated.clone(), false), (renewed.clone(), true)]
        .into_iter()
        .map(|(ns, renew)| {
            let (px, done) = (px_for_writer.clone(), std::sync::atomic::AtomicBool::new(false));
            let rotator = rotator.clone();
            SecretUpdateWebhook::start(&ns.clone(), move |write| {
                if write.username != rotator || done.swap(true, std::sync::atomic::Ordering::SeqCst) {
                    return;
                }
                if renew {
                    pxtoken("admin")
                        .args(["tenant", &ns, "--shared-secret-ref", &px.secret_ref(), "--issuer", &px.issuer])
                        .succeeds();
                } else {
                    kubectl("admin")
                        .args(["annotate", "secret", "px-k8s-user", "-n", &ns, "team/owner=alice"])
                        .succeeds();
                }
            })
        })
        .collect();

    let run = rotate(&rotator, &px, &[&annotated, &renewed]);
    assert_eq!(run.code, Some(0), "{run}");
    // Re-read, judged again, rotated over the other writer's change, which is kept.
    assert!(
        line_for(&run, &annotated).starts_with(&format!("secret/px-k8s-user rotated in {annotated} (was stale-key, "))
    );
    let secret = get_json("secret", Some(&annotated), "px-k8s-user").unwrap();
    assert_eq!(secret["metadata"]["annotations"]["team/owner"], "alice", "the other writer's change was clobbered");
    accepted(&token(&annotated), &px);
    // Re-read, judged again: already renewed by the other writer, so left as that writer left it.
    assert!(line_for(&run, &renewed).starts_with(&format!("secret/px-k8s-user unchanged in {renewed} (valid until ")));
    let writer_token = token(&renewed);
    accepted(&writer_token, &px);
    for hook in &hooks {
        let from_rotator = hook.requests().iter().filter(|r| r.username == rotator).count();
        assert_eq!(from_rotator, if hook.requests()[0].namespace == annotated { 2 } else { 1 }, "writes seen");
    }
    drop(hooks);
    assert_eq!(token(&renewed), writer_token);
}
