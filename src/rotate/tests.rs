//! The rotate flow against a scripted API server: what it sends, in order — a replace carries
//! the resourceVersion read, a conflict is re-read and re-judged and never overwritten, a
//! hand-made Secret costs no request without `--adopt`, a dry run writes nothing.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use secrecy::ExposeSecret;
use serde_json::{Value, json};

use super::*;
use crate::bulk::Signal;
use crate::discovery::{IssuerSource, KeySource, SharedSecretRef};
use crate::fake_api::{self, FakeApi, Recorded, block_on, status};
use crate::signing::{SigningKey, secret_bytes};
use crate::token_list::{ListOptions, Scope};
use crate::token_secret::{MANAGED_BY_LABEL, MANAGED_BY_VALUE};

const DAY: i64 = 86_400;
const SECRETS: &str = "/api/v1/namespaces/team-a/secrets";

fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

/// The key in use: a shared secret from `kube-system/pxkeys` at resourceVersion `version`.
fn setup(secret: &str, version: &str, issuer: &str) -> SigningSetup {
    SigningSetup {
        key: SigningKey::shared_secret(secret_bytes(secret), "test").unwrap(),
        key_source: KeySource::Secret {
            reference: SharedSecretRef::new("kube-system", "pxkeys", "shared-secret"),
            resource_version: Some(version.into()),
            found_via: None,
        },
        issuer: issuer.into(),
        issuer_source: IssuerSource::Flag,
    }
}

fn options(policy: Policy, dry_run: DryRun) -> RotateOptions {
    RotateOptions {
        list: ListOptions::new(Scope::Namespaces(vec!["team-a".into()])),
        expiring_within: Duration::from_secs(30 * DAY as u64),
        policy,
        lifetime: None,
        fallback_lifetime: Duration::from_secs(365 * DAY as u64),
        clock_skew: Duration::from_secs(600),
        dry_run,
        concurrency: 2,
    }
}

/// The claims of a tenant token written by the plugin `iat_days_ago` with a 90-day lifetime.
fn claims(iss: &str, iat_days_ago: i64) -> Value {
    let iat = now() - iat_days_ago * DAY - 600;
    json!({"iss": iss, "sub": "u-1", "name": "Team A", "email": "a@x.io", "roles": ["system.user"],
           "groups": ["dev"], "iat": iat, "exp": iat + 600 + 90 * DAY})
}

fn sign(secret: &str, claims: &Value) -> String {
    setup(secret, "0", "unused").key.sign(claims).unwrap().expose_secret().to_owned()
}

/// A token Secret as the server holds it, stamped with the key version the plugin used.
fn secret(token: &str, managed: bool, key_version: &str, resource_version: &str) -> Value {
    let mut metadata = json!({"name": "px-k8s-user", "namespace": "team-a", "uid": "uid-1",
        "resourceVersion": resource_version});
    if managed {
        metadata["labels"] = json!({MANAGED_BY_LABEL: MANAGED_BY_VALUE});
        metadata["annotations"] = json!({"kubectl-pxtoken/key-source": "secret:kube-system/pxkeys:shared-secret",
            "kubectl-pxtoken/key-version": key_version});
    }
    json!({"apiVersion": "v1", "kind": "Secret", "type": "Opaque", "metadata": metadata,
           "data": {"auth-token": STANDARD.encode(token), "other": "eA=="}})
}

/// The two list requests of one namespace: managed Secrets by label, then hand-made by name.
fn listing(managed: Vec<Value>, named: Vec<Value>) -> Vec<(u16, Value)> {
    let list = |items| (200, json!({"apiVersion": "v1", "kind": "SecretList", "metadata": {}, "items": items}));
    vec![list(managed), list(named)]
}

fn run_with(
    setup: &SigningSetup,
    options: RotateOptions,
    cancel: &Cancellation,
    replies: Vec<(u16, Value)>,
) -> (Result<RunSummary, RunError>, Vec<TenantResult>, FakeApi) {
    block_on(async {
        let (conn, api) = fake_api::connection(replies);
        let rotator = Rotator::new(&conn, setup, options).unwrap();
        let mut seen = Vec::new();
        let summary = rotator
            .run(cancel, |result| {
                seen.push(TenantResult {
                    target: result.target.clone(),
                    result: match &result.result {
                        Ok(outcome) => Ok(outcome.clone()),
                        Err(err) => Err(RotateError::Malformed { reason: err.to_string() }),
                    },
                    event_warning: result.event_warning.as_ref().map(|_| EventError::Unnamed),
                });
                Ok(())
            })
            .await;
        (summary, seen, api)
    })
}

fn written_claims(request: &Recorded) -> Value {
    let token = STANDARD.decode(request.body["data"]["auth-token"].as_str().unwrap()).unwrap();
    let payload = std::str::from_utf8(&token).unwrap().split('.').nth(1).unwrap().to_owned();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

#[test]
fn a_token_signed_with_the_old_key_is_resigned_with_every_claim_kept_and_an_event() {
    let old = claims("px.io", 10);
    let stored = secret(&sign("old-key", &old), true, "100", "7031");
    let mut replies = listing(vec![stored.clone()], vec![]);
    replies.extend([(200, stored.clone()), (200, secret("x", true, "200", "7032")), (201, json!({}))]);
    let key = setup("new-key", "200", "px.io");
    let (summary, seen, api) = run_with(&key, options(Policy::default(), DryRun::None), &Cancellation::new(), replies);
    assert_eq!(summary.unwrap(), RunSummary { rotated: 1, ..RunSummary::default() });
    let Ok(Outcome::Rotated(rotation)) = &seen[0].result else { panic!("{seen:?}") };
    assert_eq!((rotation.verdict, rotation.adopted, rotation.conflicts), (Verdict::StaleKey, false, 0));

    let sent = api.requests();
    let lines = api.lines();
    assert_eq!(lines.len(), 5, "{lines:?}");
    assert!(lines[2].starts_with(&format!("GET {SECRETS}/px-k8s-user")), "{lines:?}");
    assert!(lines[3].starts_with(&format!("PUT {SECRETS}/px-k8s-user?")), "{lines:?}");
    let put = &sent[3];
    assert_eq!(put.body["metadata"]["resourceVersion"], "7031", "written at the version read");
    assert_eq!(put.body["data"]["other"], "eA==", "other keys kept");
    assert_eq!(put.body["metadata"]["annotations"]["kubectl-pxtoken/key-version"], "200");
    let new = written_claims(put);
    for claim in ["iss", "sub", "name", "email", "roles", "groups"] {
        assert_eq!(new[claim], old[claim], "{claim} kept");
    }
    assert_eq!(new["exp"].as_i64().unwrap() - new["iat"].as_i64().unwrap(), 90 * DAY + 600, "lifetime kept");
    let token = STANDARD.decode(put.body["data"]["auth-token"].as_str().unwrap()).unwrap();
    let judge = Judge::new(VerifyKey::from_signing_key(&key.key).unwrap().into(), vec!["px.io".into()]);
    assert_eq!(judge.judge(std::str::from_utf8(&token).unwrap(), now(), None).verdict, Verdict::Valid);

    assert!(lines[4].starts_with("POST /api/v1/namespaces/team-a/events?"), "{lines:?}");
    let event = &sent[4].body;
    assert_eq!((event["reason"].as_str(), event["type"].as_str()), (Some("TokenRotated"), Some("Normal")));
    assert_eq!(event["involvedObject"]["resourceVersion"], "7032", "the version written");
    assert!(!event["message"].as_str().unwrap().contains(std::str::from_utf8(&token).unwrap()));
}

#[test]
fn a_secret_changed_between_read_and_write_is_read_again_and_judged_again_never_clobbered() {
    let expiring = secret(&sign("k", &claims("px.io", 80)), true, "200", "10");
    // The other writer renewed it: judged again, it is valid, so nothing more is written.
    let renewed = secret(&sign("k", &claims("px.io", 0)), true, "200", "11");
    let mut replies = listing(vec![expiring.clone()], vec![]);
    replies.extend([(200, expiring.clone()), (409, status(409, "Conflict", "modified")), (200, renewed)]);
    let key = setup("k", "200", "px.io");
    let (summary, seen, api) = run_with(&key, options(Policy::default(), DryRun::None), &Cancellation::new(), replies);
    assert_eq!(summary.unwrap().unchanged, 1);
    assert!(matches!(seen[0].result, Ok(Outcome::Unchanged { verdict: Verdict::Valid, .. })), "{seen:?}");
    let lines = api.lines();
    assert_eq!(lines.iter().filter(|l| l.starts_with("PUT")).count(), 1, "{lines:?}");
    assert!(lines[4].starts_with("GET"), "re-read after the conflict: {lines:?}");

    // A writer that keeps changing it: given up after MAX_ATTEMPTS writes, with a failure Event.
    let mut replies = listing(vec![expiring.clone()], vec![]);
    for _ in 0..MAX_ATTEMPTS {
        replies.extend([(200, expiring.clone()), (409, status(409, "Conflict", "modified"))]);
    }
    replies.push((201, json!({})));
    let (summary, seen, api) = run_with(&key, options(Policy::default(), DryRun::None), &Cancellation::new(), replies);
    assert!(matches!(summary, Err(RunError::Incomplete(RunIncomplete::Failed(s))) if s.failed == 1));
    let Err(err) = &seen[0].result else { panic!() };
    assert!(err.to_string().contains("changed by another writer 3 times"), "{err}");
    let lines = api.lines();
    assert_eq!(lines.iter().filter(|l| l.starts_with("PUT")).count(), MAX_ATTEMPTS as usize);
    assert_eq!(api.requests().last().unwrap().body["reason"], "TokenRotationFailed");
}

#[test]
fn valid_tokens_and_hand_made_secrets_cost_no_request_beyond_the_listing() {
    let valid = secret(&sign("k", &claims("px.io", 0)), true, "200", "10");
    let hand_made = json!({"apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "px-k8s-user", "namespace": "team-b", "resourceVersion": "5"},
        "data": {"auth-token": STANDARD.encode(sign("old", &claims("px.io", 80)))}});
    let key = setup("k", "200", "px.io");
    let replies = listing(vec![valid], vec![hand_made]);
    let (summary, seen, api) = run_with(&key, options(Policy::default(), DryRun::None), &Cancellation::new(), replies);
    assert_eq!(summary.unwrap(), RunSummary { unchanged: 1, skipped: 1, ..RunSummary::default() });
    assert!(matches!(seen[1].result, Ok(Outcome::Skipped(Skip::Unmanaged { verdict: Verdict::BadSignature }))));
    assert_eq!(api.lines().len(), 2, "only the two lists: {:?}", api.lines());
}

#[test]
fn adopt_resigns_a_hand_made_token_keeping_its_sub_and_labels_the_secret() {
    let old = claims("px.io", 0);
    let hand_made = json!({"apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "px-k8s-user", "namespace": "team-a", "resourceVersion": "5"},
        "data": {"auth-token": STANDARD.encode(sign("old", &old))}});
    let key = setup("k", "200", "px.io");
    let mut replies = listing(vec![], vec![hand_made.clone()]);
    replies.extend([(200, hand_made), (200, secret("x", true, "200", "6")), (201, json!({}))]);
    let adopt = Policy { adopt: true, ..Policy::default() };
    let (summary, seen, api) = run_with(&key, options(adopt, DryRun::None), &Cancellation::new(), replies);
    assert_eq!(summary.unwrap().rotated, 1);
    assert!(matches!(&seen[0].result, Ok(Outcome::Rotated(r)) if r.adopted));
    let put = &api.requests()[3];
    assert_eq!(put.body["metadata"]["labels"][MANAGED_BY_LABEL], MANAGED_BY_VALUE);
    assert_eq!(written_claims(put)["sub"], old["sub"]);
    // Hand-made tokens are not backdated by pxctl: the whole span is the lifetime.
    let new = written_claims(put);
    assert_eq!(new["exp"].as_i64().unwrap() - new["iat"].as_i64().unwrap(), 90 * DAY + 1200);
    assert!(seen[0].event_warning.is_none(), "{:?}", seen[0].event_warning);
    assert_eq!(api.requests()[4].body["reason"], "TokenRotated");
}

#[test]
fn a_changed_issuer_is_replaced_and_reported() {
    let stored = secret(&sign("k", &claims("old.io", 0)), true, "200", "10");
    let key = setup("k", "200", "new.io");
    let mut replies = listing(vec![stored.clone()], vec![]);
    replies.extend([(200, stored), (200, secret("x", true, "200", "11")), (201, json!({}))]);
    let (summary, seen, api) = run_with(&key, options(Policy::default(), DryRun::None), &Cancellation::new(), replies);
    assert_eq!(summary.unwrap().rotated, 1);
    let Ok(Outcome::Rotated(rotation)) = &seen[0].result else { panic!("{seen:?}") };
    assert_eq!(rotation.issuer_change, Some(("old.io".into(), "new.io".into())));
    assert_eq!(written_claims(&api.requests()[3])["iss"], "new.io");
    assert!(api.requests()[4].body["message"].as_str().unwrap().contains("issuer changed from old.io to new.io"));
}

#[test]
fn a_token_changed_by_someone_else_is_refused_with_an_event_and_not_rewritten() {
    // Stamped with the key in use, yet it does not verify: it was edited after the plugin wrote it.
    let tampered = secret(&sign("someone-else", &claims("px.io", 80)), true, "200", "10");
    let key = setup("k", "200", "px.io");
    let mut replies = listing(vec![tampered.clone()], vec![]);
    replies.extend([(200, tampered), (201, json!({}))]);
    let (summary, seen, api) = run_with(&key, options(Policy::default(), DryRun::None), &Cancellation::new(), replies);
    assert!(matches!(summary, Err(RunError::Incomplete(RunIncomplete::Failed(_)))));
    let Err(err) = &seen[0].result else { panic!() };
    assert!(err.to_string().contains("does not verify with the current key"), "{err}");
    assert!(api.lines().iter().all(|l| !l.starts_with("PUT")), "{:?}", api.lines());
    assert_eq!(api.requests()[3].body["reason"], "TokenRotationFailed");
}

#[test]
fn dry_runs_send_no_write_and_record_no_event() {
    let expiring = secret(&sign("k", &claims("px.io", 80)), true, "200", "10");
    let key = setup("k", "200", "px.io");
    let mut replies = listing(vec![expiring.clone()], vec![]);
    replies.push((200, expiring.clone()));
    let (summary, _, api) = run_with(&key, options(Policy::default(), DryRun::Client), &Cancellation::new(), replies);
    assert_eq!(summary.unwrap().rotated, 1);
    assert_eq!(api.lines().len(), 3, "lists and the read only: {:?}", api.lines());

    let mut replies = listing(vec![expiring.clone()], vec![]);
    replies.extend([(200, expiring), (200, json!({}))]);
    let (summary, _, api) = run_with(&key, options(Policy::default(), DryRun::Server), &Cancellation::new(), replies);
    assert_eq!(summary.unwrap().rotated, 1);
    let lines = api.lines();
    assert_eq!(lines.len(), 4, "{lines:?}");
    assert!(lines[3].starts_with("PUT") && lines[3].contains("dryRun=All"), "{lines:?}");
}

#[test]
fn an_interrupted_run_reports_what_it_did_not_start() {
    let expiring = secret(&sign("k", &claims("px.io", 80)), true, "200", "10");
    let key = setup("k", "200", "px.io");
    let cancel = Cancellation::new();
    cancel.cancel(Signal::Terminate);
    let (summary, seen, api) =
        run_with(&key, options(Policy::default(), DryRun::None), &cancel, listing(vec![expiring], vec![]));
    let Err(RunError::Incomplete(RunIncomplete::Interrupted(summary, Signal::Terminate))) = summary else {
        panic!("{summary:?}")
    };
    assert_eq!(summary.not_started, 1);
    assert!(matches!(seen[0].result, Ok(Outcome::NotStarted)));
    // The listing stops at the first row once cancelled; nothing is read or written.
    assert!(api.lines().iter().all(|l| l.starts_with("GET /api/v1/namespaces/team-a/secrets?")), "{:?}", api.lines());
}
