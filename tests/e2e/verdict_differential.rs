//! The verdict against openstorage's own verifier (`tests/openstorage-peer`, `pxtoken-peer verify`): for
//! every token of the corpus and every key configuration a Portworx node can have, our verdict
//! says "accepted" (valid or expiring) exactly when openstorage accepts it, and its kind matches
//! the verifier's own message (expired ↔ "Token is expired", wrong-issuer ↔ "not a trusted
//! issuer", …). No cluster needed; the peer is built once by `tests/openstorage-peer/build.sh`.

use std::path::Path;
use std::process::{Command, Stdio};

use jsonwebtoken::{Algorithm, EncodingKey};
use pxtoken::signing::secret_bytes;
use pxtoken::token_health::{Judge, Verdict, VerifyKey, VerifyKeys};
use serde_json::{Value, json};

use crate::support::openstorage as peer;
use crate::support::tokens::{
    DAY, ECDSA_PRIVATE_PEM as EC_KEY, ECDSA_PUBLIC_PEM as EC_PUB, RSA_PRIVATE_PEM as RSA_KEY,
    RSA_PUBLIC_PEM as RSA_PUB, raw, sign, swap_payload,
};
/// A second RSA key (test-only, generated with openssl for this file): "signed with a wrong key".
const OTHER_RSA_KEY: &str = "\
-----BEGIN PRIVATE KEY-----\n\
MIIEvwIBADANBgkqhkiG9w0BAQEFAASCBKkwggSlAgEAAoIBAQC2U6UMzcl403TF\n\
JGcihamAQSSI1H8RLB2H0RGecsGcJKp4atBOFHNB2FIfg9apTV7GJlO6HLdO7AUH\n\
m6+pbVzgN2G0G5UyjeizP6UacovnLU4uM8s+uHJch8/wDUw5UGa/HlMxKqSMdwhP\n\
k8nYvyBdhFeY7bN0Tgl392wRP8aGxMdtGX9RaE01aPmMYkDXgOQ94V04q2IY/xDm\n\
Q4L3co/Jj7Ge/xTXPQpODMY7gx1SUPgvXgQ1vma6HE3foIQw/v0e/6NMZXUgPZl/\n\
i+LsMHTHnlq2rpe/ktqaC+6eNvk6iUvP3dE5l3cZhNc0F1Gi7/+6RhqwQSpzVsN8\n\
ZXNaoKuDAgMBAAECggEAFDudWe8O59z0slk4e2OVzGkY4s5Mo4ffvGNTrzT7jeuh\n\
DJKIjIGcdgwetjyXz7CJpIzlnFufbp9RF5JhS03wO+QpcCaMx1AUKKrBaaPt0+Ol\n\
L19es0Ed/8Kv1+sXMFe0bzUFn7PPECoNaWH0c5xnZ7lN9zyO6N3YEyYJKgjdFmCu\n\
OGshi9KCGzvmXpgmmWCh3dGVnQZ4yyptBgSIguARA51LFKp4Jij//ihcRydPkCVu\n\
tDayET3Eww0/mulOVfcojzfwoS5W3CBDK7SWPNssSKcJpR2tli64mFFB6QxGNqGK\n\
94PaXrWIkWDBG1YbGxqJYGFiTHZQK2nUu6gNTwZloQKBgQD1M9KIWtwg8iQYkXQg\n\
6nGCf8gLi/2YoabZRoj6oRpIZOqwbil+bqHj3mB/ks75N2XNB7UiStKYHU6oyJFm\n\
7gFR6Aj7poqVdiMjPydFRtr5nd1hYxYvykyUZ8/cSSBRdceo+UOFSR+w4VlegHN2\n\
yFOlBwXo2XmAVQ5sG1F/2SHs+QKBgQC+WwWcWPEzQ9UAtqWR8dPTeHf1GYnjmPoD\n\
vx6Tn0hxUPHtkusN8zs2VFhX2pXR8XzwMfWV9SiQC2D4Xku7dDf9K9KXdpUC6zU3\n\
Jnh+hmDejSjr8e02zMiI7EL8f1iHhEctO2k1QCQp8ekREaEL+XVz6xM7UzQDI0Hu\n\
AfBpb5OnWwKBgQDTf+S8KqsvW81Yx7XEYpSQPMn/c7vFeMHjLh0fGfECutFYZ10x\n\
KhpH49uWjroqaudLZ7eMob9u5/CeU4pfnzHSRXPiJK/q5aC/WUz1S327y7hVtVNA\n\
250ccULwvr66pP4YORFNmVpVhrtAcUmnDnpfoWQuic9sq3EqPJIa1d6WeQKBgQCY\n\
a1GmyyD3J41asOUKY1R1s7R5sSVT9J3ceiAFnDjpYyMUU9uao/P5oLfMQN5N6Mtd\n\
mONIW7FLBZFzzi1dv8VFFt3dIbpXR/aoXkmFJhxSlzz5EBIdGwRHfsZ0X5OHj0de\n\
1H99gAp0+5rfa/pEGE8Prl8L1aeEC6sy5KKYCht0mQKBgQCdAwQxx3+3e1i+0aVZ\n\
JsLf0qlVbFj30w5ueO7jGrp9HM+Ggxvwu2uVevrrb9P5BOVZGdqHuBi8P5IQvZmP\n\
iKO2w5ua+Xv7LbFQGI6OheAIryi3j7VIiWsFHk3zYxXAlWiqnuNmF2t4n10wkB1g\n\
fJH7KRUCITUMh0pxsaSyjLvRwA==\n\
-----END PRIVATE KEY-----\n";
const SECRET: &[u8] = b"px-shared-secret-for-tests";
const ISS: &str = "px.example";
const NOW: i64 = 1_900_000_000;

fn claims(changes: Value) -> Value {
    crate::support::tokens::claims(ISS, NOW, changes)
}

/// A second P-256 key from a fixed scalar, as PKCS#8 DER.
fn other_ec_key() -> EncodingKey {
    use p256::pkcs8::EncodePrivateKey;
    let key = p256::SecretKey::from_slice(&[7u8; 32]).unwrap();
    EncodingKey::from_ec_der(key.to_pkcs8_der().unwrap().as_bytes())
}

/// Every token of the corpus, named.
fn corpus() -> Vec<(String, String)> {
    let hs = EncodingKey::from_secret(SECRET).unwrap();
    let rs = EncodingKey::from_rsa_pem(RSA_KEY.as_bytes()).unwrap();
    let es = EncodingKey::from_ec_pem(EC_KEY.as_bytes()).unwrap();
    let signers = [
        ("HS256", Algorithm::HS256, hs, EncodingKey::from_secret(b"another secret").unwrap()),
        ("RS256", Algorithm::RS256, rs, EncodingKey::from_rsa_pem(OTHER_RSA_KEY.as_bytes()).unwrap()),
        ("ES256", Algorithm::ES256, es, other_ec_key()),
    ];
    let mut corpus = Vec::new();
    let mut add = |name: String, token: String| corpus.push((name, token));
    for (alg_name, alg, key, wrong_key) in &signers {
        let mut case = |name: &str, payload: Value| add(format!("{alg_name} {name}"), sign(*alg, key, &payload));
        case("valid", claims(json!({})));
        case("expiring", claims(json!({"exp": NOW + 10 * DAY})));
        case("expired", claims(json!({"exp": NOW - DAY})));
        case("expires this second", claims(json!({"exp": NOW})));
        case("expires next second", claims(json!({"exp": NOW + 1})));
        case("not yet valid (iat)", claims(json!({"iat": NOW + 60})));
        case("not yet valid (nbf)", claims(json!({"nbf": NOW + 60})));
        case("issued this second", claims(json!({"iat": NOW})));
        case("wrong issuer", claims(json!({"iss": "evil.example"})));
        case("issuer in other case", claims(json!({"iss": "PX.EXAMPLE"})));
        case("issuer with scheme", claims(json!({"iss": "https://px.example"})));
        case("expired and bad time order", claims(json!({"exp": NOW - DAY, "iat": NOW + DAY})));
        case("exp 0", claims(json!({"exp": 0})));
        case("exp as a string", claims(json!({"exp": "2099-01-01T00:00:00Z"})));
        case("exp fractional, floored to now", claims(json!({"exp": NOW as f64 + 0.5})));
        case("exp past int64", claims(json!({"exp": 1e19})));
        case("no name", claims(json!({"name": null})));
        case("no exp", claims(json!({"exp": null})));
        case("empty sub", claims(json!({"sub": ""})));
        case("roles as a scalar", claims(json!({"roles": "system.admin"})));
        case("no iss", claims(json!({"iss": null})));
        let valid = sign(*alg, key, &claims(json!({})));
        add(format!("{alg_name} tampered payload"), swap_payload(&valid, &claims(json!({"roles": ["system.admin"]}))));
        add(format!("{alg_name} wrong key"), sign(*alg, wrong_key, &claims(json!({}))));
        add(format!("{alg_name} expired, wrong key"), sign(*alg, wrong_key, &claims(json!({"exp": NOW - DAY}))));
        let (head, sig) = valid.rsplit_once('.').unwrap();
        add(format!("{alg_name} newline inside the signature"), format!("{head}.{}\n{}", &sig[..8], &sig[8..]));
        add(format!("{alg_name} padded signature"), format!("{valid}="));
        add(format!("{alg_name} truncated signature"), valid[..valid.len() - 4].to_owned());
        add(format!("{alg_name} extra segment"), format!("{valid}.x"));
    }
    let pub_as_secret = EncodingKey::from_secret(RSA_PUB.as_bytes()).unwrap();
    add(
        "HS256 signed with the RSA public key (alg confusion)".into(),
        sign(Algorithm::HS256, &pub_as_secret, &claims(json!({}))),
    );
    let ec_pub_as_secret = EncodingKey::from_secret(EC_PUB.as_bytes()).unwrap();
    add("HS256 signed with the ECDSA public key".into(), sign(Algorithm::HS256, &ec_pub_as_secret, &claims(json!({}))));
    add("alg none".into(), raw(r#"{"alg":"none","typ":"JWT"}"#, &claims(json!({})), ""));
    add("alg none with a signature".into(), raw(r#"{"alg":"none"}"#, &claims(json!({})), "c2ln"));
    add("alg PS256".into(), raw(r#"{"alg":"PS256"}"#, &claims(json!({})), "c2ln"));
    add("alg unknown".into(), raw(r#"{"alg":"HS999"}"#, &claims(json!({})), "c2ln"));
    add("no alg".into(), raw(r#"{"typ":"JWT"}"#, &claims(json!({})), "c2ln"));
    add("payload a list".into(), raw(r#"{"alg":"HS256"}"#, &json!([1, 2]), "c2ln"));
    add("garbage".into(), "garbage".into());
    add("two parts".into(), "eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJweC5leGFtcGxlIn0".into());
    add("dots only".into(), "..".into());
    add("random base64".into(), "eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.c2ln".into());
    corpus
}

/// A node's key configuration, for us and for the peer.
struct Config {
    name: &'static str,
    keys: VerifyKeys,
    peer_args: Vec<String>,
}

fn configs(dir: &Path) -> Vec<Config> {
    let write = |name: &str, bytes: &[u8]| {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        path.to_str().unwrap().to_owned()
    };
    let secret = write("secret", SECRET);
    let rsa = write("rsa.pem", RSA_PUB.as_bytes());
    let ec = write("ec.pem", EC_PUB.as_bytes());
    let hs_key = || VerifyKey::shared_secret(&secret_bytes(SECRET), "test").unwrap();
    let rs_key = || VerifyKey::rsa_public_pem(RSA_PUB.as_bytes(), "rsa.pem").unwrap();
    let es_key = || VerifyKey::ecdsa_public_pem(EC_PUB.as_bytes(), "ec.pem").unwrap();
    let args = |pairs: &[(&str, &str)]| pairs.iter().flat_map(|(f, v)| [f.to_string(), v.to_string()]).collect();
    vec![
        Config { name: "shared secret", keys: hs_key().into(), peer_args: args(&[("--shared-secret-file", &secret)]) },
        Config { name: "rsa public key", keys: rs_key().into(), peer_args: args(&[("--rsa-public-keyfile", &rsa)]) },
        Config { name: "ecdsa public key", keys: es_key().into(), peer_args: args(&[("--ecdsa-public-keyfile", &ec)]) },
        Config {
            name: "all three",
            keys: VerifyKeys::from(hs_key()).with(rs_key()).with(es_key()),
            peer_args: args(&[
                ("--shared-secret-file", &secret),
                ("--rsa-public-keyfile", &rsa),
                ("--ecdsa-public-keyfile", &ec),
            ]),
        },
    ]
}

/// `pxtoken-peer verify` at `NOW`: Ok(()) when accepted, Err(openstorage's message) when not.
fn peer_verify(config: &Config, token: &str) -> Result<(), String> {
    let now = NOW.to_string();
    let mut args = vec!["verify", "--issuer", ISS, "--now", &now];
    args.extend(config.peer_args.iter().map(String::as_str));
    let run = peer::run(&args, token);
    if run.ok { Ok(()) } else { Err(run.stderr.trim().to_owned()) }
}

/// The verdicts openstorage's message is consistent with.
fn verdicts_for(message: &str) -> &'static [Verdict] {
    use Verdict::*;
    const TABLE: [(&str, &[Verdict]); 14] = [
        ("is not a trusted issuer", &[WrongIssuer]),
        ("Token is expired", &[Expired]),
        ("Token used before issued", &[NotYetValid]),
        ("Token is not valid yet", &[NotYetValid]),
        ("signature is invalid", &[BadSignature]),
        ("verification error", &[BadSignature]),
        ("key is of invalid type", &[BadSignature]),
        ("illegal base64 data", &[BadSignature, Malformed]),
        ("Unable to obtain token issuer", &[Malformed]),
        ("Unknown token algorithm", &[Malformed]),
        ("Required claim", &[Malformed]),
        ("cannot be empty", &[Malformed]),
        ("invalid number of segments", &[Malformed]),
        ("signing method (alg)", &[Malformed]),
    ];
    TABLE
        .iter()
        .find(|(needle, _)| message.contains(needle))
        .map(|(_, v)| *v)
        .unwrap_or_else(|| panic!("openstorage said {message:?}: add it to the table with the verdict it means"))
}

#[test]
fn verdicts_agree_with_openstorage() {
    let dir = tempfile::tempdir().unwrap();
    let configs = configs(dir.path());
    let corpus = corpus();
    let mut seen = std::collections::BTreeSet::new();
    let mut disagreements = Vec::new();
    for config in &configs {
        let judge = Judge::new(config.keys.clone(), vec![ISS.to_owned()]);
        for (name, token) in &corpus {
            let ours = judge.judge(token, NOW, None);
            seen.insert(ours.verdict);
            let theirs = peer_verify(config, token);
            let agrees = match &theirs {
                Ok(()) => ours.verdict.accepted(),
                Err(message) => verdicts_for(message).contains(&ours.verdict),
            };
            if !agrees {
                disagreements.push(format!(
                    "{name} with {}: ours {} ({}), openstorage {theirs:?}",
                    config.name, ours.verdict, ours.reason
                ));
            }
        }
    }
    assert!(disagreements.is_empty(), "{} disagreement(s):\n{}", disagreements.len(), disagreements.join("\n"));
    use Verdict::*;
    for verdict in [Valid, Expiring, Expired, NotYetValid, BadSignature, WrongIssuer, Malformed] {
        assert!(seen.contains(&verdict), "the corpus never produced {verdict}");
    }
}

#[test]
fn named_cases_get_the_expected_verdicts() {
    use Verdict::*;
    let dir = tempfile::tempdir().unwrap();
    let all = configs(dir.path()).pop().unwrap();
    let judge = Judge::new(all.keys, vec![ISS.to_owned()]);
    let corpus = corpus();
    let verdict = |name: &str| {
        let token = &corpus.iter().find(|(n, _)| n == name).unwrap_or_else(|| panic!("no case {name}")).1;
        judge.judge(token, NOW, None).verdict
    };
    for alg in ["HS256", "RS256", "ES256"] {
        for (case, want) in [
            ("valid", Valid),
            ("expiring", Expiring),
            ("expired", Expired),
            ("not yet valid (iat)", NotYetValid),
            ("tampered payload", BadSignature),
            ("wrong key", BadSignature),
            ("expired, wrong key", BadSignature),
            ("wrong issuer", WrongIssuer),
        ] {
            assert_eq!(verdict(&format!("{alg} {case}")), want, "{alg} {case}");
        }
    }
    assert_eq!(verdict("alg none"), Malformed);
    assert_eq!(verdict("garbage"), Malformed);
    // With only the RSA key a node never checks an HS256 token against it.
    let rsa_only =
        Judge::new(VerifyKey::rsa_public_pem(RSA_PUB.as_bytes(), "rsa.pem").unwrap().into(), vec![ISS.to_owned()]);
    let confusion = &corpus.iter().find(|(n, _)| n.contains("alg confusion")).unwrap().1;
    assert_eq!(rsa_only.judge(confusion, NOW, None).verdict, BadSignature);
}

#[test]
fn empty_input_is_malformed_and_the_peer_refuses_it_too() {
    let dir = tempfile::tempdir().unwrap();
    let config = configs(dir.path()).remove(0);
    assert_eq!(Judge::new(config.keys.clone(), vec![ISS.to_owned()]).judge("", NOW, None).verdict, Verdict::Malformed);
    let out = Command::new(peer::peer_binary())
        .args(["verify", "--issuer", ISS])
        .args(&config.peer_args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "the peer refuses empty input as a usage error, never accepts it");
}
