//! `kubectl pxtoken list`: every token Secret with its health, for the administrator and for
//! scripts. Other tests run at the same time, so `-A` results are only read for this test's
//! own namespaces.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde_json::{Value, json};

use crate::support::tokens::*;
use crate::support::*;

/// A Secret holding `token` under auth-token; labelled as the plugin's when `managed`.
fn token_secret(namespace: &str, name: &str, managed: bool, token: &str) -> Value {
    let labels = if managed { json!({"app.kubernetes.io/managed-by": "kubectl-pxtoken"}) } else { json!({}) };
    json!({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
           "metadata": {"namespace": namespace, "name": name, "labels": labels},
           "data": {"auth-token": base64::engine::general_purpose::STANDARD.encode(token)}})
}

/// The table's rows in `namespaces`: `namespace/secret` → the row's cells.
fn table_rows(out: &str, namespaces: &[&str]) -> BTreeMap<String, Vec<String>> {
    let mut lines = out.lines();
    let header: Vec<&str> =
        lines.next().expect("a header").split("   ").map(str::trim).filter(|h| !h.is_empty()).collect();
    assert_eq!(&header[..2], ["NAMESPACE", "SECRET"], "{out}");
    lines
        .map(|line| line.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
        .filter(|cells| namespaces.contains(&cells[0].as_str()))
        .map(|cells| (format!("{}/{}", cells[0], cells[1]), cells))
        .collect()
}

#[test]
fn list_all_namespaces_shows_every_status_for_managed_and_hand_made_tokens() {
    let px_ns = TestNamespace::new("list-px");
    let px = install_daemonset_style(&px_ns, &random_secret(), "list.example");
    let managed = TestNamespace::new("list-managed");
    let hand = TestNamespace::new("list-hand");
    let px_flag = ["--px-namespace", px_ns.name()];

    // Issued by the plugin, then the cluster's shared secret changes: that token is stale-key.
    pxtoken("admin").args(["tenant", &managed, "--secret-name", "rotated-away"]).args(px_flag).succeeds();
    let new_secret = random_secret();
    let manifest = kubectl("admin")
        .args(["-n", &px_ns, "create", "secret", "generic", "pxkeys", "--from-file=shared-secret=/dev/stdin"])
        .args(["--dry-run=client", "-o", "json"])
        .run_with_input(&new_secret)
        .success();
    kubectl("admin").args(["apply", "-f", "-"]).run_with_input(&manifest).success();
    pxtoken("admin").args(["tenant", &managed, "--secret-name", "fresh"]).args(px_flag).succeeds();
    pxtoken("admin")
        .args(["tenant", &managed, "--secret-name", "soon", "--token-duration", "10d"])
        .args(px_flag)
        .succeeds();

    let at = now();
    let key = new_secret.as_bytes();
    let c = |changes: Value| claims(&px.issuer, at, changes);
    let items = vec![
        token_secret(&managed, "expired", true, &hs256(key, &c(json!({"exp": at - DAY})))),
        token_secret(&managed, "early", true, &hs256(key, &c(json!({"iat": at + 3600})))),
        token_secret(&managed, "forged", true, &hs256(b"someone else's secret", &c(json!({})))),
        token_secret(&managed, "elsewhere", true, &hs256(key, &claims("other.example", at, json!({})))),
        token_secret(&managed, "broken", true, "not a token"),
        // The documented workflow's hand-made Secret, and one found by --secret-name.
        token_secret(&hand, "px-k8s-user", false, &hs256(key, &c(json!({})))),
        token_secret(&hand, "tenant-token", false, &hs256(key, &c(json!({"exp": at - 2 * DAY})))),
        // Neither labelled nor named: not a token Secret.
        token_secret(&hand, "unrelated", false, &hs256(key, &c(json!({})))),
    ];
    apply_json(&json!({"apiVersion": "v1", "kind": "List", "items": items}));

    let out = pxtoken("admin").args(["list", "-A", "--secret-name", "tenant-token"]).args(px_flag).succeeds();
    let rows = table_rows(&out, &[&managed, &hand]);
    let status = |ns: &str, name: &str| rows.get(&format!("{ns}/{name}")).map(|r| r.last().unwrap().clone());
    let expected = [
        (&managed, "fresh", "valid"),
        (&managed, "soon", "expiring"),
        (&managed, "expired", "expired"),
        (&managed, "early", "not-yet-valid"),
        (&managed, "forged", "bad-signature"),
        (&managed, "elsewhere", "wrong-issuer"),
        (&managed, "rotated-away", "stale-key"),
        (&managed, "broken", "malformed"),
        (&hand, "px-k8s-user", "valid,unmanaged"),
        (&hand, "tenant-token", "expired,unmanaged"),
    ];
    for (ns, name, want) in expected {
        assert_eq!(status(ns, name).as_deref(), Some(want), "{ns}/{name} in:\n{out}");
    }
    assert_eq!(rows.len(), expected.len(), "only token Secrets, each once:\n{out}");
    let keys: Vec<&String> = rows.keys().collect();
    let in_order: Vec<String> = out
        .lines()
        .filter_map(|l| {
            let cells: Vec<&str> = l.split_whitespace().collect();
            rows.contains_key(&format!("{}/{}", cells[0], cells[1])).then(|| format!("{}/{}", cells[0], cells[1]))
        })
        .collect();
    assert_eq!(in_order.iter().collect::<Vec<_>>(), keys, "sorted by namespace, then name, as kubectl does");
    let fresh = &rows[&format!("{}/fresh", managed.name())];
    assert_eq!(&fresh[3..6], ["system.user", "list.example", "in"], "ROLES, ISSUER, EXPIRES: {fresh:?}");

    // -o json: a kubectl List, machine-readable, never holding a token.
    let run = pxtoken("admin").args(["list", "-A", "-o", "json", "--secret-name", "tenant-token"]).args(px_flag).run();
    let list: Value = serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}:\n{run}"));
    assert_eq!((list["apiVersion"].as_str(), list["kind"].as_str()), (Some("v1"), Some("List")));
    let ours: Vec<&Value> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| [managed.name(), hand.name()].contains(&i["namespace"].as_str().unwrap()))
        .collect();
    assert_eq!(ours.len(), expected.len());
    let stale = ours.iter().find(|i| i["secret"] == "rotated-away").unwrap();
    assert_eq!((stale["status"].as_str(), stale["accepted"].as_bool()), (Some("stale-key"), Some(false)));
    assert!(stale["reason"].as_str().unwrap().contains("the key in use is"), "{stale}");
    assert_eq!(stale["keySource"], format!("secret:{}/pxkeys:shared-secret", px_ns.name()));
    assert!(!run.stdout.contains(&new_secret) && !run.stdout.contains(".eyJ"), "no key, no token:\n{run}");

    // -o wide adds the reason; -o name prints secret/NAME as `kubectl get -o name` does.
    let wide = pxtoken("admin").args(["list", "-n", &managed, "-o", "wide"]).args(px_flag).succeeds();
    assert!(wide.starts_with("SECRET "), "no NAMESPACE column for one namespace:\n{wide}");
    assert!(wide.contains("KEY SOURCE") && wide.contains("REASON"), "{wide}");
    let early = wide.lines().find(|l| l.starts_with("early ")).unwrap();
    assert!(early.contains("iat is ") && early.contains("in the future"), "{early}");
    let names = pxtoken("admin").args(["list", "-n", &hand, "-o", "name"]).args(px_flag).succeeds();
    assert_eq!(names, "secret/px-k8s-user\n", "--secret-name not given: tenant-token is not looked for");

    // A report exits 0 however unhealthy; --fail-on makes it a check.
    let run = pxtoken("admin").args(["list", "-n", &hand, "--fail-on", "invalid"]).args(px_flag).run();
    assert_eq!(run.code, Some(0), "the only token is valid:\n{run}");
    let run = pxtoken("admin").args(["list", "-n", &managed, "--fail-on", "invalid"]).args(px_flag).run();
    assert_eq!(run.code, Some(1), "{run}");
    assert_eq!(
        run.stderr.trim(),
        "error: 6 of 8 token Secrets would be rejected by Portworx (--fail-on invalid); see the STATUS column"
    );
    let run =
        pxtoken("admin").args(["list", "-n", &managed, "--fail-on", "expiring", "-o", "name"]).args(px_flag).run();
    assert!(run.code == Some(1) && run.stderr.contains("7 of 8 token Secrets are expiring or worse"), "{run}");
}

#[test]
fn a_user_who_may_list_secrets_but_not_read_the_key_still_gets_the_list() {
    let px_ns = TestNamespace::new("list-px");
    let px = install_daemonset_style(&px_ns, &random_secret(), "viewer.example");
    let team = TestNamespace::new("list-viewer");
    let at = now();
    apply_json(&json!({"apiVersion": "v1", "kind": "List", "items": [
        token_secret(&team, "px-k8s-user", true, &hs256(px.shared_secret.as_bytes(), &claims(&px.issuer, at, json!({})))),
        token_secret(&team, "old", true, &hs256(px.shared_secret.as_bytes(), &claims(&px.issuer, at, json!({"exp": at - DAY})))),
    ]}));
    let user = cluster().new_user("token-viewer");
    grant(&user, &team, &["list"], &["secrets"]);

    let run = pxtoken(&user).args(["list", "-n", &team, "--px-namespace", &px_ns]).run();
    assert_eq!(run.code, Some(0), "{run}");
    let statuses: Vec<(&str, &str)> = run
        .stdout
        .lines()
        .skip(1)
        .map(|l| (l.split_whitespace().next().unwrap(), l.split_whitespace().last().unwrap()))
        .collect();
    assert_eq!(statuses, [("old", "expired"), ("px-k8s-user", "valid")], "judged by their claims:\n{run}");
    let notes: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(notes.iter().filter(|l| l.contains("signatures were not checked")).count(), 1, "said once:\n{run}");
    let key_note = notes.iter().find(|l| l.contains("signatures were not checked")).unwrap();
    assert!(key_note.starts_with("warning: "), "{run}");
    assert!(
        key_note.contains(&format!("get secret {}/pxkeys:shared-secret", px_ns.name())),
        "names the Secret:\n{run}"
    );
    assert!(key_note.contains("ask for RBAC that allows \"get\""), "names the grant:\n{run}");
    assert!(notes.iter().any(|l| l.starts_with("warning: issuers were not checked")), "{run}");

    // With the issuer given, only the signature is unchecked.
    let run = pxtoken(&user).args(["list", "-n", &team, "--px-namespace", &px_ns, "--issuer", &px.issuer]).run();
    assert_eq!((run.code, run.stderr.lines().count()), (Some(0), 1), "{run}");
}

#[test]
fn a_user_who_may_not_list_secrets_gets_one_error_line_naming_the_permission() {
    let team = TestNamespace::new("list-denied");
    let user = cluster().new_user("no-secrets");
    let run = pxtoken(&user).args(["list", "-A", "--issuer", "x.example"]).run();
    assert_eq!(run.code, Some(1), "{run}");
    assert_eq!(run.stdout, "", "{run}");
    assert_eq!(run.stderr.lines().count(), 1, "only the error line:\n{run}");
    assert!(run.stderr.starts_with("error: forbidden: cannot list secrets cluster-wide"), "{run}");
    assert!(run.stderr.contains("ask for RBAC that allows \"list\" on \"secrets\""), "{run}");
    let run = pxtoken(&user).args(["list", "-n", &team]).run();
    assert_eq!(run.stderr.lines().count(), 1, "{run}");
    assert!(run.stderr.contains(&format!("cannot list secrets in namespace \"{}\"", team.name())), "{run}");
}
