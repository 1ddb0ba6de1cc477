//! Tokens made by hand, for the tests that judge them: openstorage's claim set at a chosen
//! instant, signed with any key, or broken on purpose. The test keys are in tests/data.

use std::path::PathBuf;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

pub const DAY: i64 = 86_400;
pub const RSA_PRIVATE_PEM: &str = include_str!("../../data/rsa-private.pem");
pub const RSA_PUBLIC_PEM: &str = include_str!("../../data/rsa-public.pem");
pub const ECDSA_PRIVATE_PEM: &str = include_str!("../../data/ecdsa-private-pkcs8.pem");
pub const ECDSA_PUBLIC_PEM: &str = include_str!("../../data/ecdsa-public.pem");

/// A file of tests/data, for flags that take a path.
pub fn data_file(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name)
}

/// Unix seconds now.
pub fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

/// The claims openstorage's generator writes for tenant team-a of `iss`, issued ten minutes
/// before `at` for a year; each key of `changes` replaces a claim, or removes it when null.
pub fn claims(iss: &str, at: i64, changes: Value) -> Value {
    let mut claims = json!({"iss": iss, "sub": "u-1", "name": "team-a", "email": format!("team-a@{iss}"),
                            "roles": ["system.user"], "iat": at - 600, "exp": at + 365 * DAY});
    for (key, value) in changes.as_object().expect("changes is an object") {
        if value.is_null() {
            claims.as_object_mut().unwrap().remove(key);
        } else {
            claims[key] = value.clone();
        }
    }
    claims
}

pub fn sign(alg: Algorithm, key: &EncodingKey, payload: &Value) -> String {
    jsonwebtoken::encode(&Header::new(alg), payload, key).unwrap()
}

/// HS256 with `secret`, as the plugin and pxctl sign with a shared secret.
pub fn hs256(secret: &[u8], payload: &Value) -> String {
    sign(Algorithm::HS256, &EncodingKey::from_secret(secret).unwrap(), payload)
}

/// A token from its parts as given: any header, any signature.
pub fn raw(header: &str, payload: &Value, signature: &str) -> String {
    format!("{}.{}.{signature}", URL_SAFE_NO_PAD.encode(header), URL_SAFE_NO_PAD.encode(payload.to_string()))
}

/// `token` with its payload replaced and its signature kept: a tampered token.
pub fn swap_payload(token: &str, payload: &Value) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode(payload.to_string()), parts[2])
}
