//! One test per verdict and per ordering rule, plus properties over arbitrary input.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;
use crate::signing::{SigningKey, secret_bytes};

const RSA_KEY: &str = include_str!("../../tests/data/rsa-private.pem");
const RSA_PUB: &str = include_str!("../../tests/data/rsa-public.pem");
const EC_KEY: &str = include_str!("../../tests/data/ecdsa-private-pkcs8.pem");
const EC_PUB: &str = include_str!("../../tests/data/ecdsa-public.pem");
const SECRET: &str = "s3cr3t-shared";
const ISS: &str = "px.example";
const NOW: i64 = 1_900_000_000;
const DAY: i64 = 86_400;

fn claims() -> Value {
    json!({"iss": ISS, "sub": "u-1", "name": "team-a", "email": "team-a@px.example",
           "roles": ["system.user"], "iat": NOW - 600, "exp": NOW + 365 * DAY})
}

fn with(changes: Value) -> Value {
    let mut claims = claims();
    for (key, value) in changes.as_object().unwrap() {
        if value.is_null() {
            claims.as_object_mut().unwrap().remove(key);
        } else {
            claims[key] = value.clone();
        }
    }
    claims
}

fn hs256(payload: &Value) -> String {
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), payload, &EncodingKey::from_secret(SECRET.as_bytes()).unwrap())
        .unwrap()
}

fn rs256(payload: &Value) -> String {
    let key = EncodingKey::from_rsa_pem(RSA_KEY.as_bytes()).unwrap();
    jsonwebtoken::encode(&Header::new(Algorithm::RS256), payload, &key).unwrap()
}

fn es256(payload: &Value) -> String {
    let key = EncodingKey::from_ec_pem(EC_KEY.as_bytes()).unwrap();
    jsonwebtoken::encode(&Header::new(Algorithm::ES256), payload, &key).unwrap()
}

/// A token from raw header and payload JSON and a raw signature segment.
fn raw(header: &str, payload: &str, signature: &str) -> String {
    format!("{}.{}.{signature}", URL_SAFE_NO_PAD.encode(header), URL_SAFE_NO_PAD.encode(payload))
}

/// `token` with its payload replaced and its signature kept: a tampered token.
fn swap_payload(token: &str, payload: &Value) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode(payload.to_string()), parts[2])
}

fn shared() -> VerifyKeys {
    VerifyKey::shared_secret(&secret_bytes(SECRET), "test").unwrap().into()
}

fn judge(keys: VerifyKeys) -> Judge {
    Judge::new(keys, vec![ISS.to_owned()])
}

fn verdict(keys: VerifyKeys, token: &str) -> (Verdict, String) {
    let report = judge(keys).judge(token, NOW, None);
    (report.verdict, report.reason)
}

#[track_caller]
fn assert_verdict(keys: VerifyKeys, token: &str, want: Verdict, reason_has: &str) {
    let (got, reason) = verdict(keys, token);
    assert_eq!(got, want, "reason: {reason}");
    assert!(reason.contains(reason_has), "{reason:?} should mention {reason_has:?}");
}

#[test]
fn valid_for_each_algorithm_and_key_form() {
    let rsa_derived = VerifyKey::from_signing_key(&SigningKey::rsa_pem(secret_bytes(RSA_KEY), "k").unwrap()).unwrap();
    let ec_derived = VerifyKey::from_signing_key(&SigningKey::ecdsa_pem(secret_bytes(EC_KEY), "k").unwrap()).unwrap();
    let hs_derived = VerifyKey::from_signing_key(&SigningKey::shared_secret(secret_bytes(SECRET), "k").unwrap());
    assert_verdict(hs_derived.unwrap().into(), &hs256(&claims()), Verdict::Valid, "accepted; expires in 365d");
    assert_verdict(rsa_derived.into(), &rs256(&claims()), Verdict::Valid, "accepted");
    assert_verdict(ec_derived.into(), &es256(&claims()), Verdict::Valid, "accepted");
    let rsa_pub = VerifyKey::rsa_public_pem(RSA_PUB.as_bytes(), "pub").unwrap();
    let ec_pub = VerifyKey::ecdsa_public_pem(EC_PUB.as_bytes(), "pub").unwrap();
    let all = shared().with(rsa_pub).with(ec_pub);
    for token in [hs256(&claims()), rs256(&claims()), es256(&claims())] {
        let report = judge(all.clone()).judge(&token, NOW, None);
        assert_eq!(report.verdict, Verdict::Valid, "{}", report.reason);
        assert!(report.signature_checked && report.issuer_checked);
    }
}

#[test]
fn report_carries_claims_and_times() {
    let report = judge(shared()).judge(&hs256(&with(json!({"groups": ["g"]}))), NOW, None);
    let claims = report.claims.as_ref().unwrap();
    assert_eq!((claims.iss.as_str(), claims.sub.as_str(), claims.name.as_str()), (ISS, "u-1", "team-a"));
    assert_eq!(claims.roles, Some(vec!["system.user".to_string()]));
    assert_eq!(claims.groups, Some(vec!["g".to_string()]));
    assert_eq!(report.algorithm.as_deref(), Some("HS256"));
    assert_eq!(
        (report.issued_at, report.expires_at, report.not_before),
        (Some(NOW - 600), Some(NOW + 365 * DAY), None)
    );
    assert_eq!(report.seconds_left(), Some(365 * DAY));
}

#[test]
fn expiring_within_the_window() {
    let token = hs256(&with(json!({"exp": NOW + 10 * DAY})));
    assert_verdict(shared(), &token, Verdict::Expiring, "expires in 10d");
    assert_verdict(shared(), &hs256(&with(json!({"exp": NOW + 30 * DAY}))), Verdict::Expiring, "30d window");
    let mut narrow = judge(shared());
    narrow.expiring_within = Duration::from_secs(5 * 86_400);
    assert_eq!(narrow.judge(&token, NOW, None).verdict, Verdict::Valid);
}

#[test]
fn expired_at_and_after_exp() {
    assert_verdict(shared(), &hs256(&with(json!({"exp": NOW - 3 * DAY}))), Verdict::Expired, "expired 3d ago");
    assert_verdict(shared(), &hs256(&with(json!({"exp": NOW}))), Verdict::Expired, "0s ago");
    assert_verdict(shared(), &hs256(&with(json!({"exp": "2099-01-01"}))), Verdict::Expired, "not a number");
    assert_verdict(shared(), &hs256(&with(json!({"exp": NOW + 1}))), Verdict::Expiring, "in 1s");
}

#[test]
fn exp_zero_never_expires_as_golang_jwt_reads_it() {
    assert_verdict(shared(), &hs256(&with(json!({"exp": 0}))), Verdict::Valid, "never expires");
}

#[test]
fn not_yet_valid_without_leeway() {
    assert_verdict(shared(), &hs256(&with(json!({"iat": NOW + 60}))), Verdict::NotYetValid, "iat is 60s in the future");
    assert_verdict(shared(), &hs256(&with(json!({"nbf": NOW + 2 * DAY}))), Verdict::NotYetValid, "nbf is 2d");
    assert_verdict(shared(), &hs256(&with(json!({"iat": NOW}))), Verdict::Valid, "accepted");
}

#[test]
fn bad_signature_tampered_or_wrong_key() {
    let token = hs256(&claims());
    let parts: Vec<&str> = token.split('.').collect();
    let tampered = swap_payload(&token, &with(json!({"roles": ["system.admin"]})));
    assert_verdict(shared(), &tampered, Verdict::BadSignature, "does not match the shared secret");
    let other = VerifyKey::shared_secret(&secret_bytes("another"), "t").unwrap();
    assert_verdict(other.into(), &token, Verdict::BadSignature, "HS256 signature does not match");
    let rsa_pub = VerifyKey::rsa_public_pem(RSA_PUB.as_bytes(), "pub").unwrap();
    let ec_pub = VerifyKey::ecdsa_public_pem(EC_PUB.as_bytes(), "pub").unwrap();
    assert_verdict(
        rsa_pub.into(),
        &es256(&claims()),
        Verdict::BadSignature,
        "checked with an ECDSA public key, and only an RSA public key (for RS256/RS384/RS512)",
    );
    assert_verdict(
        ec_pub.into(),
        &swap_payload(&es256(&claims()), &with(json!({"sub": "x"}))),
        Verdict::BadSignature,
        "ES256",
    );
    assert_verdict(shared(), &format!("{}.{}.!!", parts[0], parts[1]), Verdict::BadSignature, "not base64url");
}

#[test]
fn hs256_signed_with_the_public_key_is_refused_by_an_rsa_verifier() {
    // The alg-confusion forgery: HMAC keyed with the (public) RSA key's PEM bytes.
    let forged = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims(),
        &EncodingKey::from_secret(RSA_PUB.as_bytes()).unwrap(),
    )
    .unwrap();
    let rsa_pub = VerifyKey::rsa_public_pem(RSA_PUB.as_bytes(), "pub").unwrap();
    assert_verdict(rsa_pub.into(), &forged, Verdict::BadSignature, "never used for another algorithm family");
}

#[test]
fn wrong_issuer_is_an_exact_comparison() {
    for iss in ["evil.example", "PX.EXAMPLE", "px.example/", "https://px.example"] {
        assert_verdict(shared(), &hs256(&with(json!({ "iss": iss }))), Verdict::WrongIssuer, "is not trusted");
    }
    let mut two = judge(shared());
    two.issuers.push("other.example".into());
    assert_eq!(two.judge(&hs256(&with(json!({"iss": "other.example"}))), NOW, None).verdict, Verdict::Valid);
    let refused = judge(shared()).judge(&hs256(&with(json!({"iss": "evil.example"}))), NOW, None);
    assert_eq!(refused.algorithm.as_deref(), Some("HS256"), "the alg is shown, though not what decided");
}

#[test]
fn malformed_inputs() {
    let none = raw(r#"{"alg":"none","typ":"JWT"}"#, &claims().to_string(), "");
    let cases = [
        (String::new(), "empty"),
        ("garbage".to_owned(), "1 dot-separated part"),
        ("a.b".to_owned(), "2 dot-separated"),
        (format!("{}.extra", hs256(&claims())), "4 dot-separated"),
        (none, "\"none\" is not accepted"),
        (raw(r#"{"alg":"PS256"}"#, &claims().to_string(), "sig"), "\"PS256\" is not accepted"),
        (raw(r#"{"alg":"HS257"}"#, &claims().to_string(), "sig"), "unknown algorithm"),
        (raw(r#"{"typ":"JWT"}"#, &claims().to_string(), "sig"), "no alg"),
        (raw("not json", &claims().to_string(), "sig"), "header is not"),
        ("eyJhbGciOiJIUzI1NiJ9.%%%.sig".to_owned(), "payload is not base64url"),
        (raw(r#"{"alg":"HS256"}"#, "[1,2]", "sig"), "payload is a list"),
        (hs256(&with(json!({"roles": "system.admin"}))), "claim roles is a string"),
        (hs256(&with(json!({"iss": null}))), "no iss claim"),
        (hs256(&with(json!({"name": null}))), "required claim name is missing"),
        (hs256(&with(json!({"iat": null}))), "required claim iat is missing"),
        (hs256(&with(json!({"sub": ""}))), "sub is empty"),
    ];
    for (token, reason) in cases {
        assert_verdict(shared(), &token, Verdict::Malformed, reason);
    }
    assert_verdict(shared(), &hs256(&with(json!({"email": Value::Null}))), Verdict::Malformed, "email is missing");
    // Go takes `"name": null` as present: only presence is required.
    let explicit_null = raw(r#"{"alg":"HS256"}"#, &claims().to_string().replace("\"team-a\"", "null"), "x");
    assert_verdict(VerifyKeys::new(), &explicit_null, Verdict::Valid, "signature not checked");
}

#[test]
fn openstorage_order_decides_between_failures() {
    let other = || VerifyKeys::from(VerifyKey::shared_secret(&secret_bytes("another"), "t").unwrap());
    // Issuer is looked at before anything else of the token's validity.
    assert_verdict(other(), &hs256(&with(json!({"iss": "x", "exp": 1}))), Verdict::WrongIssuer, "");
    // A bad signature wins over expiry (golang-jwt reports the signature error).
    assert_verdict(other(), &hs256(&with(json!({"exp": NOW - DAY}))), Verdict::BadSignature, "");
    // Of exp, iat and nbf, the last failing one is reported.
    assert_verdict(shared(), &hs256(&with(json!({"exp": NOW - DAY, "iat": NOW + DAY}))), Verdict::NotYetValid, "iat");
    // Time before required claims: a token without name that has expired is expired.
    assert_verdict(shared(), &hs256(&with(json!({"exp": NOW - DAY, "name": null}))), Verdict::Expired, "");
    // alg none is refused before time is looked at.
    let none = raw(r#"{"alg":"none"}"#, &with(json!({"exp": NOW - DAY})).to_string(), "");
    assert_verdict(shared(), &none, Verdict::Malformed, "none");
}

#[test]
fn stale_key_needs_the_secrets_own_record() {
    let old = KeyStamp { source: "secret:kube-system/pxkeys:shared-secret".into(), version: Some("100".into()) };
    let current = KeyStamp { version: Some("150".into()), ..old.clone() };
    let mut judge = judge(VerifyKey::shared_secret(&secret_bytes("rotated"), "t").unwrap().into());
    judge.current_key = Some(current.clone());
    let token = hs256(&claims());
    let report = judge.judge(&token, NOW, Some(&old));
    assert_eq!(report.verdict, Verdict::StaleKey, "{}", report.reason);
    assert!(report.reason.contains("at resourceVersion 100, the key in use is"), "{}", report.reason);
    let moved = KeyStamp { source: "file".into(), version: None };
    assert_eq!(judge.judge(&token, NOW, Some(&moved)).verdict, Verdict::StaleKey, "another key source");
    assert_eq!(judge.judge(&token, NOW, Some(&current)).verdict, Verdict::BadSignature, "same key: tampered");
    assert_eq!(judge.judge(&token, NOW, None).verdict, Verdict::BadSignature, "no record: cannot tell");
    let unversioned = KeyStamp { version: None, ..old.clone() };
    assert_eq!(judge.judge(&token, NOW, Some(&unversioned)).verdict, Verdict::BadSignature);
    // A record that differs while the signature still verifies is no problem at all.
    let mut same_key = self::judge(shared());
    same_key.current_key = Some(current);
    assert_eq!(same_key.judge(&token, NOW, Some(&old)).verdict, Verdict::Valid);
}

#[test]
fn key_stamps_come_from_annotations_and_key_sources() {
    use crate::discovery::{KeySource, SharedSecretRef};
    let source = KeySource::Secret {
        reference: SharedSecretRef::new("kube-system", "pxkeys", "shared-secret"),
        resource_version: Some("7".into()),
        found_via: None,
    };
    let stamp = KeyStamp::of(&source);
    assert_eq!(stamp, KeyStamp { source: "secret:kube-system/pxkeys:shared-secret".into(), version: Some("7".into()) });
    let annotations = BTreeMap::from([
        (KEY_SOURCE_ANNOTATION.to_string(), stamp.source.clone()),
        (KEY_VERSION_ANNOTATION.to_string(), "7".to_string()),
    ]);
    assert_eq!(KeyStamp::from_annotations(&annotations), Some(stamp));
    assert_eq!(KeyStamp::from_annotations(&BTreeMap::new()), None);
}

#[test]
fn without_a_key_the_claims_alone_decide_and_say_so() {
    let tampered = {
        let token = hs256(&claims());
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        parts[2] = "AAAA".into();
        parts.join(".")
    };
    let report = judge(VerifyKeys::new()).judge(&tampered, NOW, None);
    assert_eq!((report.verdict, report.signature_checked), (Verdict::Valid, false));
    assert!(report.reason.ends_with("signature not checked (no key)"), "{}", report.reason);
    assert_eq!(verdict(VerifyKeys::new(), &hs256(&with(json!({"exp": NOW - 1})))).0, Verdict::Expired);
    let no_issuer = Judge::new(VerifyKeys::new(), vec![]).judge(&hs256(&with(json!({"iss": "any"}))), NOW, None);
    assert_eq!((no_issuer.verdict, no_issuer.issuer_checked), (Verdict::Valid, false));
}

#[test]
fn reports_never_hold_the_token() {
    let token = hs256(&claims());
    let signature = token.rsplit('.').next().unwrap();
    let header = token.split('.').next().unwrap();
    for keys in [shared(), VerifyKeys::new()] {
        let report = judge(keys).judge(&token, NOW, None);
        for text in [format!("{report:?}"), format!("{report:#?}"), serde_json::to_string(&report).unwrap()] {
            assert!(!text.contains(signature) && !text.contains(header), "{text}");
        }
    }
    let keys = format!("{:?}", shared().with(VerifyKey::rsa_public_pem(RSA_PUB.as_bytes(), "p").unwrap()));
    assert!(!keys.contains(SECRET), "{keys}");
}

#[test]
fn report_json_uses_kebab_verdicts_and_camel_fields() {
    let report = judge(shared()).judge(&hs256(&with(json!({"exp": NOW - 1}))), NOW, None);
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["verdict"], "expired");
    assert_eq!(json["expiresAt"], crate::token_secret::rfc3339(NOW - 1), "times as Kubernetes writes them");
    assert_eq!(json["signatureChecked"], true);
    assert_eq!(serde_json::to_value(Verdict::NotYetValid).unwrap(), "not-yet-valid");
    assert!(Verdict::Expiring.accepted() && !Verdict::StaleKey.accepted());
}

#[test]
fn verification_keys_refuse_the_wrong_material() {
    let err = VerifyKey::rsa_public_pem(RSA_KEY.as_bytes(), "k.pem").unwrap_err().to_string();
    assert_eq!(err, "k.pem holds a private key where a RSA public key was expected");
    assert!(VerifyKey::rsa_public_pem(EC_PUB.as_bytes(), "ec.pem").is_err());
    assert!(VerifyKey::ecdsa_public_pem(RSA_PUB.as_bytes(), "rsa.pem").is_err());
    assert!(VerifyKey::ecdsa_public_pem(b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", "x").is_err());
    assert!(VerifyKey::shared_secret(&secret_bytes(""), "env").is_err());
    assert_eq!(shared().kinds(), vec![KeyKind::SharedSecret]);
    let err = VerifyKey::ecdsa_public_pem(b"", "e.pem").unwrap_err().to_string();
    assert_eq!(err, "e.pem is not an ECDSA public key in PEM form: the file is empty");
    let err = VerifyKey::rsa_public_pem(b"SECRETVALUE\n", "s.txt").unwrap_err().to_string();
    assert_eq!(err, "s.txt is not an RSA public key in PEM form: no PEM block (a -----BEGIN ...----- line) in it");
}

proptest! {
    #[test]
    fn any_string_is_judged_without_panicking(input in any::<String>()) {
        let report = judge(shared()).judge(&input, NOW, None);
        prop_assert!(!report.reason.is_empty());
        if input.matches('.').count() != 2 {
            prop_assert_eq!(report.verdict, Verdict::Malformed);
        }
    }

    #[test]
    fn random_segments_are_malformed(a in "[A-Za-z0-9_-]{0,40}", b in "[A-Za-z0-9_-]{0,60}", c in "[A-Za-z0-9_-]{0,40}") {
        for keys in [shared(), VerifyKeys::new()] {
            let report = judge(keys).judge(&format!("{a}.{b}.{c}"), NOW, None);
            prop_assert_eq!(report.verdict, Verdict::Malformed, "{}", report.reason);
        }
    }

    #[test]
    fn arbitrary_claim_values_never_panic(exp in prop::num::f64::ANY, iat in any::<i64>(), name in any::<Option<String>>()) {
        let exp = serde_json::Number::from_f64(exp).map(Value::Number).unwrap_or(Value::Null);
        let token = hs256(&with(json!({"exp": exp, "iat": iat, "name": name})));
        let report = judge(shared()).judge(&token, NOW, None);
        prop_assert!(!report.reason.is_empty());
    }
}
