//! A tenant that owns several namespaces (the seed: "store the tenant's token in each namespace
//! they own"): one identity in all of them, or its volumes would have several owners.
//!
//! Every namespace is read before any is written, because the identity depends on all of them:
//! the `sub` asked for, else the one already stored in any of them, else one new UUID. Two
//! different stored subjects are refused before anything is written. Then one token is signed,
//! the server checks every namespace's write without making it (a server dry run), and only
//! then is it stored in each: a namespace that is missing, forbidden or refused by an admission
//! webhook fails the tenant before anything is written. What can still fail between the writes
//! (the connection, another writer) leaves the namespaces written with the tenant's subject,
//! so a re-run finds it there and finishes the rest.

use super::{TenantError, TenantOutcome, TenantRequest, tenant_defaults};
use crate::claims::{Identity, TokenClaims, Validity};
use crate::connection::Connection;
use crate::discovery::SigningSetup;
use crate::token_secret::{self, PreparedStore, SecretTarget, TokenRecord};

/// One tenant and every namespace it owns, in the order given (the first names the tenant by
/// default). `request.target` gives the Secret's name and key; its namespace is ignored.
#[derive(Debug, Clone)]
pub struct TenantGroup {
    pub request: TenantRequest,
    pub namespaces: Vec<String>,
}

/// Some namespaces of a tenant were not written (each was reported); the others were, with the
/// tenant's subject, so a re-run finishes the rest with the same one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{failed} of {total} namespaces of the tenant failed (see above)")]
pub struct GroupFailed {
    pub failed: usize,
    pub total: usize,
}

/// The result of one namespace of a group: its request (aimed at that namespace) and outcome.
pub type NamespaceResult = (TenantRequest, Result<TenantOutcome, TenantError>);

impl TenantGroup {
    /// A group of one: the request's own namespace.
    pub fn single(request: TenantRequest) -> TenantGroup {
        let namespaces = vec![request.target.namespace.clone()];
        TenantGroup { request, namespaces }
    }

    /// The request aimed at `namespace`.
    fn request_in(&self, namespace: &str) -> TenantRequest {
        let target = SecretTarget { namespace: namespace.to_owned(), ..self.request.target.clone() };
        TenantRequest { target, ..self.request.clone() }
    }
}

/// Issues one identity's token into every namespace of `group`. `Err` when nothing was written
/// (admin powers refused, a namespace unreadable or not ours, two stored subjects, a signing
/// failure, a write the server's check refused); otherwise one result per namespace, in order.
/// Two API calls for a single namespace (read, write; three with a namespace to create); with
/// several, a checking dry run of each write comes between.
pub async fn onboard_group(
    conn: &Connection,
    setup: &SigningSetup,
    group: &TenantGroup,
) -> Result<Vec<NamespaceResult>, TenantError> {
    let Some(first) = group.namespaces.first() else { return Ok(Vec::new()) };
    let request = &group.request;
    let chosen = request.flags.clone().or(request.auth_config.clone());
    let defaults = tenant_defaults(first, &setup.issuer);
    // Refused before any request: the powers asked for do not depend on what is stored.
    if chosen.clone().or(defaults.clone()).grants_admin() && !request.allow_admin {
        return Err(TenantError::AdminRefused { namespace: first.clone() });
    }
    // One namespace after the other, in the order given: the same requests in the same order on
    // every run, and a tenant owns a handful of namespaces (bulk runs tenants side by side).
    let requests: Vec<TenantRequest> = group.namespaces.iter().map(|ns| group.request_in(ns)).collect();
    let mut prepared = Vec::with_capacity(requests.len());
    for request in &requests {
        prepared.push(token_secret::prepare(conn, &request.target, request.store).await?);
    }
    // Identity is forever: a new sub orphans every volume the tenant owns, so a stored one wins
    // over a fresh UUID, and only an explicit --sub or auth-config sub replaces it.
    let sub = match chosen.sub.clone() {
        Some(sub) => sub,
        None => stored_subject(&prepared)?.unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
    };
    let identity = chosen.or(Identity { sub: Some(sub), ..defaults });
    let claims = TokenClaims::new(&setup.issuer, identity, Validity::from_now(request.lifetime, request.clock_skew))?;
    let token = setup.key.sign(&claims)?;
    let record = TokenRecord::new(&token, &claims, &setup.key_source);
    // A single write is all or nothing by itself; several are checked before the first is made.
    if prepared.len() > 1 {
        for store in &prepared {
            store.check(conn, &record).await?;
        }
    }
    let mut results = Vec::with_capacity(requests.len());
    for (request, store) in requests.into_iter().zip(prepared) {
        let replaced_subject = store.stored_subject().filter(|old| *old != claims.sub).map(str::to_owned);
        let result = store.commit(conn, &record).await.map_err(TenantError::from).map(|stored| TenantOutcome {
            outcome: stored.outcome,
            claims: claims.clone(),
            secret: stored.secret,
            replaced_subject,
        });
        results.push((request, result));
    }
    Ok(results)
}

/// The one subject stored across the namespaces read, if any; two different ones are refused,
/// naming both (the first two found, in the group's order).
fn stored_subject(prepared: &[PreparedStore]) -> Result<Option<String>, TenantError> {
    let mut found: Option<(&str, &str)> = None;
    for store in prepared {
        let Some(sub) = store.stored_subject() else { continue };
        let namespace = store.target().namespace.as_str();
        match found {
            None => found = Some((namespace, sub)),
            Some((first_namespace, first_sub)) if first_sub != sub => {
                return Err(TenantError::SubjectsDiffer {
                    first: (first_namespace.to_owned(), first_sub.to_owned()),
                    second: (namespace.to_owned(), sub.to_owned()),
                });
            }
            Some(_) => {}
        }
    }
    Ok(found.map(|(_, sub)| sub.to_owned()))
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use serde_json::{Value, json};

    use super::*;
    use crate::fake_api::{self, Recorded, block_on, status};
    use crate::signing::unverified_claims;
    use crate::tenant::tests::{claims_for_test, request, setup};
    use crate::token_secret::{DryRun, MANAGED_BY_LABEL, MANAGED_BY_VALUE};

    /// A managed token Secret in `namespace` whose token has subject `sub`.
    fn stored(namespace: &str, sub: &str) -> Value {
        let token = setup().key.sign(&TokenClaims { sub: sub.into(), ..claims_for_test() }).unwrap();
        let token = base64::engine::general_purpose::STANDARD.encode(secrecy::ExposeSecret::expose_secret(&token));
        json!({"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "px-k8s-user", "namespace": namespace, "resourceVersion": "7",
                "labels": {MANAGED_BY_LABEL: MANAGED_BY_VALUE}},
            "data": {"auth-token": token}})
    }

    fn not_found() -> (u16, Value) {
        (404, status(404, "NotFound", ""))
    }

    fn group(flags: Identity, namespaces: &[&str]) -> TenantGroup {
        TenantGroup { request: request(flags), namespaces: namespaces.iter().map(|n| (*n).to_owned()).collect() }
    }

    fn onboard(
        replies: Vec<(u16, Value)>,
        group: &TenantGroup,
    ) -> (Result<Vec<NamespaceResult>, TenantError>, Vec<Recorded>) {
        block_on(async {
            let (conn, api) = fake_api::connection(replies);
            (onboard_group(&conn, &setup(), group).await, api.requests())
        })
    }

    /// The subject of the token a write sent.
    fn written_sub(sent: &Recorded) -> String {
        let token = sent.body["data"]["auth-token"].as_str().unwrap();
        let token = base64::engine::general_purpose::STANDARD.decode(token).unwrap();
        unverified_claims(std::str::from_utf8(&token).unwrap()).unwrap().sub
    }

    #[test]
    fn every_namespace_gets_the_subject_stored_in_any_of_them() {
        let replies = vec![
            not_found(),
            (200, stored("b", "kept")),
            not_found(),
            (201, json!({})),
            (200, json!({})),
            (201, json!({})),
            (201, json!({})),
            (200, json!({})),
            (201, json!({})),
        ];
        let (result, sent) = onboard(replies, &group(Identity::default(), &["a", "b", "c"]));
        let results = result.unwrap();
        let methods: Vec<_> = sent.iter().map(|r| r.method.as_str()).collect();
        assert_eq!(
            methods,
            ["GET", "GET", "GET", "POST", "PUT", "POST", "POST", "PUT", "POST"],
            "all read, then all checked, before any write"
        );
        let checked: Vec<_> = sent.iter().map(|r| r.uri.contains("dryRun=All")).collect();
        assert_eq!(checked, [false, false, false, true, true, true, false, false, false]);
        assert!(sent[7].uri.starts_with("/api/v1/namespaces/b/secrets/px-k8s-user"), "{:?}", sent[7]);
        for write in &sent[3..] {
            assert_eq!(written_sub(write), "kept");
        }
        let namespaces: Vec<_> = results.iter().map(|(r, _)| r.target.namespace.as_str()).collect();
        assert_eq!(namespaces, ["a", "b", "c"]);
        for (_, done) in &results {
            let done = done.as_ref().unwrap();
            assert_eq!((done.claims.sub.as_str(), done.replaced_subject.as_deref()), ("kept", None));
            // One tenant: named after its first namespace everywhere.
            assert_eq!((done.claims.name.as_str(), done.claims.email.as_str()), ("a", "a@px.io"));
        }
    }

    #[test]
    fn two_stored_subjects_are_refused_before_any_write() {
        let replies = vec![(200, stored("a", "sub-a")), (200, stored("b", "sub-a")), (200, stored("c", "sub-c"))];
        let (result, sent) = onboard(replies, &group(Identity::default(), &["a", "b", "c"]));
        let err = result.unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"the tenant's namespaces hold tokens of two subjects, "sub-a" in a and "sub-c" in c; nothing was written"#
        );
        assert!(sent.iter().all(|r| r.method == "GET"), "nothing written: {sent:?}");
    }

    #[test]
    fn an_explicit_subject_replaces_every_stored_one_and_says_so() {
        let mut replies = vec![(200, stored("a", "sub-a")), (200, stored("b", "sub-b"))];
        replies.extend(vec![(200, json!({})); 4]);
        let (result, sent) =
            onboard(replies, &group(Identity { sub: Some("new".into()), ..Identity::default() }, &["a", "b"]));
        let replaced: Vec<_> = result.unwrap().into_iter().map(|(_, r)| r.unwrap().replaced_subject).collect();
        assert_eq!(replaced, [Some("sub-a".to_owned()), Some("sub-b".to_owned())]);
        assert_eq!((written_sub(&sent[4]), written_sub(&sent[5])), ("new".to_owned(), "new".to_owned()));
    }

    #[test]
    fn a_write_the_server_would_refuse_fails_the_tenant_before_any_write() {
        // b does not exist: its Secret reads as absent, and only the create says why.
        let replies = vec![not_found(), not_found(), (201, json!({})), not_found()];
        let (result, sent) = onboard(replies, &group(Identity::default(), &["a", "b"]));
        let err = result.unwrap_err();
        assert_eq!(err.to_string(), r#"namespace "b" not found"#);
        let writes: Vec<_> = sent.iter().filter(|r| r.method != "GET").collect();
        assert_eq!(writes.len(), 2, "{sent:?}");
        assert!(writes.iter().all(|r| r.uri.contains("dryRun=All")), "only checked, nothing written: {sent:?}");
    }

    #[test]
    fn a_server_dry_run_of_several_namespaces_is_its_own_check() {
        let mut group = group(Identity::default(), &["a", "b"]);
        group.request.store.dry_run = DryRun::Server;
        let replies = vec![not_found(), not_found(), (201, json!({})), (201, json!({}))];
        let (result, sent) = onboard(replies, &group);
        assert!(result.unwrap().iter().all(|(_, r)| r.is_ok()));
        let methods: Vec<_> = sent.iter().map(|r| r.method.as_str()).collect();
        assert_eq!(methods, ["GET", "GET", "POST", "POST"], "each write sent once: {sent:?}");
        assert!(sent[2..].iter().all(|r| r.uri.contains("dryRun=All")), "{sent:?}");
    }

    #[test]
    fn one_namespace_is_written_without_a_check() {
        let (result, sent) = onboard(vec![not_found(), (201, json!({}))], &group(Identity::default(), &["a"]));
        assert!(result.unwrap()[0].1.is_ok());
        assert_eq!(sent.len(), 2, "read and write, no more: {sent:?}");
        assert!(!sent[1].uri.contains("dryRun"), "{:?}", sent[1]);
    }

    #[test]
    fn a_failed_write_is_reported_for_its_namespace_only() {
        // Both checked, then the second write fails (say, etcd went away in between).
        let replies = vec![
            not_found(),
            not_found(),
            (201, json!({})),
            (201, json!({})),
            (201, json!({})),
            (500, status(500, "InternalError", "etcd down")),
        ];
        let (result, _) = onboard(replies, &group(Identity::default(), &["a", "b"]));
        let results = result.unwrap();
        assert!(results[0].1.is_ok());
        assert!(matches!(results[1].1, Err(TenantError::Write(_))), "{:?}", results[1].1);
        let subs: Vec<_> = results.iter().filter_map(|(_, r)| r.as_ref().ok()).map(|d| d.claims.sub.clone()).collect();
        assert_eq!(subs.len(), 1, "one new subject, written where it could be");
    }
}
