use std::collections::BTreeMap;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use k8s_openapi::ByteString;
use kube::api::ObjectMeta;
use serde_json::json;

use super::*;
use crate::signing::secret_bytes;
use crate::token_health::{VerifyKey, VerifyKeys};
use crate::token_secret::{KEY_SOURCE_ANNOTATION, KEY_VERSION_ANNOTATION};

const NOW: i64 = 1_900_000_000;

fn token(secret: &str, exp: i64) -> String {
    let claims = json!({"iss": "px.example", "sub": "u-1", "name": "n", "email": "e@x", "roles": ["system.user"],
                        "iat": NOW - 600, "exp": exp});
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(secret.as_bytes()).unwrap())
        .unwrap()
}

fn secret(data: &[(&str, &str)], annotations: &[(&str, &str)]) -> Secret {
    Secret {
        metadata: ObjectMeta {
            namespace: Some("team-a".into()),
            name: Some("px-k8s-user".into()),
            annotations: Some(annotations.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()),
            ..ObjectMeta::default()
        },
        data: Some(data.iter().map(|(k, v)| (k.to_string(), ByteString(v.as_bytes().to_vec()))).collect()),
        ..Secret::default()
    }
}

fn judge() -> Judge {
    let keys = VerifyKeys::from(VerifyKey::shared_secret(&secret_bytes("current"), "test").unwrap());
    let mut judge = Judge::new(keys, vec!["px.example".into()]);
    judge.current_key =
        Some(KeyStamp { source: "secret:kube-system/pxkeys:shared-secret".into(), version: Some("9".into()) });
    judge
}

#[test]
fn rows_judge_the_token_under_the_key() {
    let s = secret(&[("auth-token", &token("current", NOW + 10 * 86_400)), ("other", "x")], &[]);
    let row = TokenRow::from_secret(&s, "auth-token", true, &judge(), NOW);
    assert_eq!(
        (row.namespace.as_str(), row.secret.as_str(), row.key.as_deref()),
        ("team-a", "px-k8s-user", Some("auth-token"))
    );
    assert_eq!(row.report.verdict, Verdict::Expiring);
    assert_eq!(row.report.claims.as_ref().unwrap().sub, "u-1");
    assert_eq!(row.status(), "expiring");
    let unmanaged = TokenRow::from_secret(&s, "auth-token", false, &judge(), NOW);
    assert_eq!(unmanaged.status(), "expiring,unmanaged");
}

#[test]
fn a_single_other_key_is_used_and_missing_tokens_are_malformed() {
    let only = secret(&[("token", &token("current", NOW + 400 * 86_400))], &[]);
    let row = TokenRow::from_secret(&only, "auth-token", true, &judge(), NOW);
    assert_eq!((row.key.as_deref(), row.report.verdict), (Some("token"), Verdict::Valid));
    let two = secret(&[("a", "x"), ("b", "y")], &[]);
    let row = TokenRow::from_secret(&two, "auth-token", true, &judge(), NOW);
    assert_eq!((row.key, row.report.verdict), (None, Verdict::Malformed));
    assert_eq!(row.report.reason, "no token under key \"auth-token\" (keys: a, b)");
    let empty = Secret { metadata: two.metadata.clone(), ..Secret::default() };
    let row = TokenRow::from_secret(&empty, "auth-token", false, &judge(), NOW);
    assert_eq!(row.report.reason, "no token under key \"auth-token\" (keys: none)");
    let binary = Secret {
        data: Some(BTreeMap::from([("auth-token".to_string(), ByteString(vec![0xff, 0xfe]))])),
        ..empty.clone()
    };
    let row = TokenRow::from_secret(&binary, "auth-token", false, &judge(), NOW);
    assert_eq!(
        (row.report.verdict, row.report.reason.as_str()),
        (Verdict::Malformed, "the value under \"auth-token\" is not text")
    );
}

#[test]
fn stale_key_comes_from_the_secrets_annotations() {
    let old_key = [(KEY_SOURCE_ANNOTATION, "secret:kube-system/pxkeys:shared-secret"), (KEY_VERSION_ANNOTATION, "3")];
    let s = secret(&[("auth-token", &token("previous", NOW + 400 * 86_400))], &old_key);
    assert_eq!(TokenRow::from_secret(&s, "auth-token", true, &judge(), NOW).status(), "stale-key");
    let no_record = secret(&[("auth-token", &token("previous", NOW + 400 * 86_400))], &[]);
    assert_eq!(
        TokenRow::from_secret(&no_record, "auth-token", false, &judge(), NOW).status(),
        "bad-signature,unmanaged"
    );
}

#[test]
fn rows_serialize_without_the_token() {
    let t = token("current", NOW + 400 * 86_400);
    let row = TokenRow::from_secret(&secret(&[("auth-token", &t)], &[]), "auth-token", true, &judge(), NOW);
    let json = serde_json::to_string(&row).unwrap();
    assert!(!json.contains(t.rsplit('.').next().unwrap()) && !format!("{row:?}").contains(&t), "{json}");
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(value["report"]["verdict"], "valid");
    assert_eq!(value["managed"], true);
    assert_eq!(value["report"]["expiresAt"], "2031-04-21T17:46:40Z", "times as Kubernetes writes them");
    assert_eq!(value["report"]["checkedAt"], "2030-03-17T17:46:40Z");
}

#[test]
fn selectors_find_managed_and_named_secrets() {
    let managed = Selector::Managed.params(500);
    assert_eq!(managed.label_selector.as_deref(), Some("app.kubernetes.io/managed-by=kubectl-pxtoken"));
    assert_eq!(managed.limit, Some(500));
    let named = Selector::Named("px-k8s-user").params(7);
    assert_eq!(named.field_selector.as_deref(), Some("metadata.name=px-k8s-user"));
    assert_eq!(named.label_selector, None);
}

#[test]
fn summary_counts_by_verdict() {
    let mut summary = ListSummary { rows: 6, ..ListSummary::default() };
    summary.by_verdict.extend([
        (Verdict::Expired, 2),
        (Verdict::Valid, 1),
        (Verdict::Expiring, 2),
        (Verdict::StaleKey, 1),
    ]);
    assert_eq!((summary.count(Verdict::Expired), summary.count(Verdict::NotYetValid)), (2, 0));
    assert_eq!((summary.not_valid(), summary.rejected()), (5, 3), "expiring is accepted, and needs attention");
    let options = ListOptions::new(Scope::AllNamespaces);
    assert_eq!(
        (options.secret_names, options.secret_key, options.page_size),
        (vec!["px-k8s-user".to_string()], "auth-token".to_string(), 500)
    );
}
