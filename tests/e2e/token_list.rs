//! The token listing against a real API server (tests/cluster): paging with `limit`/`continue`,
//! the label and name selectors merged into kubectl's order, a Secret found by both reported
//! once, and a refused list turned into the permission to ask for. Library-level; the `list`
//! command's own end-to-end tests build on it.

use std::ops::ControlFlow;

use base64::Engine as _;
use pxtoken::connection::{ApiError, ConnectionOptions};
use pxtoken::signing::secret_bytes;
use pxtoken::token_health::{Judge, Verdict, VerifyKey};
use pxtoken::token_list::{ListOptions, ListSummary, Scope, TokenRow, list_tokens};
use serde_json::json;

use crate::support::tokens::{claims, hs256, now};
use crate::support::*;

const SECRET: &str = "list-test-shared-secret";
const ISS: &str = "px.example";

fn token(iss: &str, exp: i64) -> String {
    hs256(SECRET.as_bytes(), &claims(iss, now(), json!({"exp": exp})))
}

/// A Secret holding `token` under auth-token, labelled as the plugin's when `managed`.
fn secret(namespace: &str, name: &str, managed: bool, token: &str) -> serde_json::Value {
    let labels = if managed { json!({"app.kubernetes.io/managed-by": "kubectl-pxtoken"}) } else { json!({}) };
    json!({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
           "metadata": {"namespace": namespace, "name": name, "labels": labels},
           "data": {"auth-token": base64::engine::general_purpose::STANDARD.encode(token)}})
}

fn list(user: &str, options: &ListOptions) -> Result<(Vec<TokenRow>, ListSummary), ApiError> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let conn = ConnectionOptions { kubeconfig: Some(cluster().kubeconfig(user)), ..ConnectionOptions::default() }
            .connect()
            .await
            .expect("a client for the test cluster");
        let judge =
            Judge::new(VerifyKey::shared_secret(&secret_bytes(SECRET), "test").unwrap().into(), vec![ISS.into()]);
        let mut rows = Vec::new();
        let summary = list_tokens(&conn, options, &judge, now(), |row| {
            rows.push(row);
            ControlFlow::Continue(())
        })
        .await?;
        Ok((rows, summary))
    })
}

#[test]
fn lists_managed_and_hand_made_tokens_in_kubectl_order_a_page_at_a_time() {
    let a = TestNamespace::new("list-a");
    let b = TestNamespace::new("list-b");
    let year = now() + 365 * 86_400;
    let mut items = vec![
        // Managed and named px-k8s-user: found by both selectors, reported once.
        secret(&a, "px-k8s-user", true, &token(ISS, year)),
        secret(&a, "expired", true, &token(ISS, now() - 86_400)),
        // Hand-made, the documented workflow's name.
        secret(&b, "px-k8s-user", false, &token("other.example", year)),
        // Neither labelled nor a token name: not a token Secret.
        secret(&b, "unrelated", false, "x"),
    ];
    for i in 0..7 {
        items.push(secret(&b, &format!("managed-{i}"), true, &token(ISS, now() + (10 + i) * 86_400)));
    }
    apply_yaml(&json!({"apiVersion": "v1", "kind": "List", "items": items}).to_string());

    let mut options = ListOptions::new(Scope::Namespaces(vec![b.to_string(), a.to_string()]));
    options.page_size = 2;
    let (rows, summary) = list("admin", &options).unwrap();
    let seen: Vec<(String, String, String)> =
        rows.iter().map(|r| (r.namespace.clone(), r.secret.clone(), r.status())).collect();
    let mut expected = vec![
        (a.to_string(), "expired".to_string(), "expired".to_string()),
        (a.to_string(), "px-k8s-user".to_string(), "valid".to_string()),
        (b.to_string(), "px-k8s-user".to_string(), "wrong-issuer,unmanaged".to_string()),
    ];
    expected.extend((0..7).map(|i| (b.to_string(), format!("managed-{i}"), "expiring".to_string())));
    expected.sort_by_key(|(ns, name, _)| format!("{ns}/{name}"));
    assert_eq!(seen, expected);
    assert_eq!((summary.rows, summary.managed, summary.count(Verdict::Expiring)), (10, 9, 7));
    // 9 managed Secrets at 2 a page is 5 pages; the name selector one page per namespace.
    assert!(summary.requests >= 7, "paged with limit 2: {} requests", summary.requests);
    assert!(summary.signature_checked);

    // -A sees the same rows among everyone else's.
    let (all, _) = list("admin", &ListOptions::new(Scope::AllNamespaces)).unwrap();
    let ours: Vec<_> = all
        .iter()
        .filter(|r| r.namespace == *a || r.namespace == *b)
        .map(|r| (r.namespace.clone(), r.secret.clone(), r.status()))
        .collect();
    assert_eq!(ours, expected);
    let keys: Vec<String> = all.iter().map(|r| format!("{}/{}", r.namespace, r.secret)).collect();
    assert!(keys.windows(2).all(|w| w[0] < w[1]), "rows in storage-key order, each once");
}

#[test]
fn a_user_who_may_not_list_secrets_is_told_which_permission_is_missing() {
    let user = cluster().new_user("no-list");
    let err = list(&user, &ListOptions::new(Scope::AllNamespaces)).unwrap_err();
    assert!(err.is_forbidden(), "{err}");
    let message = err.to_string();
    assert!(message.contains("cannot list secrets cluster-wide"), "{message}");
    assert!(message.contains("allows \"list\" on \"secrets\""), "{message}");
    let ns = TestNamespace::new("list-denied");
    let err = list(&user, &ListOptions::new(Scope::Namespaces(vec![ns.to_string()]))).unwrap_err();
    assert!(err.to_string().contains(&format!("in namespace {:?}", ns.name())), "{err}");
}
