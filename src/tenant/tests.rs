//! The tenant flow against a scripted API server: what is refused before any request, and
//! which identity a re-run keeps.

use serde_json::{Value, json};

use super::*;
use crate::discovery::{IssuerSource, KeySource};
use crate::fake_api::{self, Recorded, block_on, status};
use crate::signing::{SigningKey, secret_bytes, unverified_claims};
use crate::token_secret::{MANAGED_BY_LABEL, MANAGED_BY_VALUE};

pub(crate) fn setup() -> SigningSetup {
    SigningSetup {
        key: SigningKey::shared_secret(secret_bytes("k"), "test").unwrap(),
        key_source: KeySource::Flag,
        issuer: "px.io".into(),
        issuer_source: IssuerSource::Flag,
    }
}

pub(super) fn request(flags: Identity) -> TenantRequest {
    TenantRequest {
        target: SecretTarget { namespace: "team-a".into(), name: "px-k8s-user".into(), key: "auth-token".into() },
        flags,
        auth_config: Identity::default(),
        lifetime: Duration::from_secs(3600),
        clock_skew: Duration::ZERO,
        allow_admin: false,
        store: StoreOptions::default(),
    }
}

fn onboard(replies: Vec<(u16, Value)>, request: &TenantRequest) -> (Result<TenantOutcome, TenantError>, Vec<Recorded>) {
    block_on(async {
        let (conn, api) = fake_api::connection(replies);
        (onboard_tenant(&conn, &setup(), request).await, api.requests())
    })
}

#[test]
fn admin_powers_are_refused_before_any_request() {
    let admin_role = Identity { roles: Some(vec!["system.admin".into()]), ..Identity::default() };
    let star_group = Identity { groups: Some(vec!["dev".into(), "*".into()]), ..Identity::default() };
    for flags in [admin_role.clone(), star_group] {
        let (result, sent) = onboard(vec![], &request(flags));
        let err = result.unwrap_err();
        assert!(matches!(&err, TenantError::AdminRefused { namespace } if namespace == "team-a"), "{err:?}");
        assert!(sent.is_empty(), "{sent:?}");
    }
    // From the auth-config file too.
    let from_file = TenantRequest { auth_config: admin_role.clone(), ..request(Identity::default()) };
    assert!(matches!(onboard(vec![], &from_file).0, Err(TenantError::AdminRefused { .. })));

    let allowed = TenantRequest { allow_admin: true, ..request(admin_role) };
    let (result, _) = onboard(vec![(404, status(404, "NotFound", "")), (201, json!({}))], &allowed);
    assert_eq!(result.unwrap().claims.roles, Some(vec!["system.admin".to_string()]));
}

#[test]
fn a_rerun_keeps_the_stored_subject() {
    let old = setup().key.sign(&TokenClaims { sub: "kept-sub".into(), ..claims_for_test() }).unwrap();
    use base64::Engine as _;
    let stored = json!({"apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "px-k8s-user", "namespace": "team-a", "resourceVersion": "9",
            "labels": {MANAGED_BY_LABEL: MANAGED_BY_VALUE}},
        "data": {"auth-token": base64::engine::general_purpose::STANDARD.encode(secrecy::ExposeSecret::expose_secret(&old))}});
    let (result, sent) = onboard(vec![(200, stored.clone()), (200, stored)], &request(Identity::default()));
    let done = result.unwrap();
    assert_eq!((done.claims.sub.as_str(), done.replaced_subject), ("kept-sub", None));
    assert_eq!((done.claims.name.as_str(), done.claims.email.as_str()), ("team-a", "team-a@px.io"));
    assert_eq!(sent.len(), 2, "{sent:?}");
    let written = sent[1].body["data"]["auth-token"].as_str().unwrap();
    let token = base64::engine::general_purpose::STANDARD.decode(written).unwrap();
    let claims = unverified_claims(std::str::from_utf8(&token).unwrap()).unwrap();
    assert_eq!(claims.sub, "kept-sub");
    assert_eq!(sent[1].body["metadata"]["annotations"]["kubectl-pxtoken/subject"], "kept-sub");

    // An explicit --sub replaces it, and says so.
    let new_sub = request(Identity { sub: Some("new-sub".into()), ..Identity::default() });
    let (result, _) = onboard(vec![(200, sent[1].body.clone()), (200, json!({}))], &new_sub);
    assert_eq!(result.unwrap().replaced_subject.as_deref(), Some("kept-sub"));
}

pub(super) fn claims_for_test() -> TokenClaims {
    TokenClaims {
        iss: "px.io".into(),
        sub: String::new(),
        name: "n".into(),
        email: "e".into(),
        roles: None,
        groups: None,
        iat: 0,
        exp: 4_000_000_000,
    }
}
