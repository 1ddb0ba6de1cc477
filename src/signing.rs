//! Signing keys and token signing, as openstorage's `pkg/auth/signature.go` does it:
//! a shared secret signs HS256 with its raw bytes, an RSA key RS256, an ECDSA P-256 key ES256.
//!
//! Key material lives in [`secrecy`] boxes (zeroized on drop, redacted in `Debug`) from the
//! moment it is read until it is dropped; the signed token is a [`SecretString`] too, so neither
//! can reach a log or an error message by accident.

use std::fmt;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use secrecy::{ExposeSecret, SecretBox, SecretSlice, SecretString};

use crate::claims::TokenClaims;

/// Key material that signs tokens.
pub enum SigningKey {
    /// HMAC key: the shared secret's bytes exactly as stored (never base64-decoded twice).
    SharedSecret(SecretSlice<u8>),
    /// RSA private key, PEM (PKCS#1 or PKCS#8), as pxctl's `--rsa-private-keyfile`.
    Rsa(SecretSlice<u8>),
    /// ECDSA P-256 private key as PKCS#8 DER (converted from SEC1 PEM when needed).
    Ecdsa(SecretSlice<u8>),
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SigningKey::{}([REDACTED])", self.kind())
    }
}

/// Why key material was refused or a token could not be signed. Never carries key bytes.
#[derive(Debug, thiserror::Error)]
pub enum SigningError {
    #[error("the shared secret {origin} is empty")]
    EmptySharedSecret { origin: String },
    #[error("{origin} is not an RSA private key in PEM form (PKCS#1 or PKCS#8): {reason}")]
    BadRsaKey { origin: String, reason: String },
    #[error("{origin} is not an ECDSA P-256 private key in PEM form (SEC1 or PKCS#8): {reason}")]
    BadEcdsaKey { origin: String, reason: String },
    #[error("cannot sign the token: {0}")]
    Sign(String),
}

impl SigningKey {
    /// A shared secret; `origin` names where it came from, for the error.
    pub fn shared_secret(bytes: SecretSlice<u8>, origin: &str) -> Result<SigningKey, SigningError> {
        if bytes.expose_secret().is_empty() {
            return Err(SigningError::EmptySharedSecret { origin: origin.to_owned() });
        }
        Ok(SigningKey::SharedSecret(bytes))
    }

    /// An RSA private key in PEM; checked now so a bad file fails before anything is written.
    pub fn rsa_pem(pem: SecretSlice<u8>, origin: &str) -> Result<SigningKey, SigningError> {
        if let Some(reason) = pem_problem(pem.expose_secret(), &["RSA PRIVATE KEY", "PRIVATE KEY"]) {
            return Err(SigningError::BadRsaKey { origin: origin.to_owned(), reason });
        }
        EncodingKey::from_rsa_pem(pem.expose_secret())
            .map_err(|err| SigningError::BadRsaKey { origin: origin.to_owned(), reason: err.to_string() })?;
        Ok(SigningKey::Rsa(pem))
    }

    /// An ECDSA private key in PEM. Go's `ParseECPrivateKeyFromPEM`, which pxctl uses, takes
    /// both SEC1 (`EC PRIVATE KEY`, what `openssl ecparam -genkey` writes) and PKCS#8; jsonwebtoken
    /// only PKCS#8, so SEC1 is converted here.
    pub fn ecdsa_pem(pem: SecretSlice<u8>, origin: &str) -> Result<SigningKey, SigningError> {
        use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey};
        let bad = |reason: String| SigningError::BadEcdsaKey { origin: origin.to_owned(), reason };
        if let Some(reason) = pem_problem(pem.expose_secret(), &["EC PRIVATE KEY", "PRIVATE KEY"]) {
            return Err(bad(reason));
        }
        let text = std::str::from_utf8(pem.expose_secret()).map_err(|_| bad("not text".into()))?;
        let key = if text.contains("-----BEGIN EC PRIVATE KEY-----") {
            p256::SecretKey::from_sec1_pem(text).map_err(|err| bad(err.to_string()))?
        } else {
            p256::SecretKey::from_pkcs8_pem(text).map_err(|err| bad(err.to_string()))?
        };
        let der = key.to_pkcs8_der().map_err(|err| bad(err.to_string()))?;
        Ok(SigningKey::Ecdsa(SecretSlice::from(der.as_bytes().to_vec())))
    }

    /// The JWT algorithm this key signs with.
    pub fn algorithm(&self) -> Algorithm {
        match self {
            SigningKey::SharedSecret(_) => Algorithm::HS256,
            SigningKey::Rsa(_) => Algorithm::RS256,
            SigningKey::Ecdsa(_) => Algorithm::ES256,
        }
    }

    /// A word for messages: `shared-secret`, `rsa` or `ecdsa`.
    pub fn kind(&self) -> &'static str {
        match self {
            SigningKey::SharedSecret(_) => "shared-secret",
            SigningKey::Rsa(_) => "rsa",
            SigningKey::Ecdsa(_) => "ecdsa",
        }
    }

    fn encoding_key(&self) -> Result<EncodingKey, SigningError> {
        let sign_err = |err: jsonwebtoken::errors::Error| SigningError::Sign(err.to_string());
        match self {
            SigningKey::SharedSecret(secret) => EncodingKey::from_secret(secret.expose_secret()).map_err(sign_err),
            SigningKey::Rsa(pem) => EncodingKey::from_rsa_pem(pem.expose_secret()).map_err(sign_err),
            SigningKey::Ecdsa(der) => Ok(EncodingKey::from_ec_der(der.expose_secret())),
        }
    }

    /// Signs `claims` into a compact JWT: a [`TokenClaims`], or (for `rotate`, which keeps
    /// every claim of the token it renews) any JSON object.
    pub fn sign<C: serde::Serialize>(&self, claims: &C) -> Result<SecretString, SigningError> {
        let header = Header::new(self.algorithm());
        let token = jsonwebtoken::encode(&header, claims, &self.encoding_key()?)
            .map_err(|err| SigningError::Sign(err.to_string()))?;
        Ok(SecretString::from(token))
    }
}

/// What is wrong with a key file before its key is parsed, in words that fit the mistake (an
/// empty file, the shared secret or a certificate given for a private key) rather than a PEM
/// parser's ("PEM preamble contains invalid data (NUL byte)" for an empty file). `accepted` are
/// the PEM labels the caller reads. Names the label at most, never the contents.
pub(crate) fn pem_problem(pem: &[u8], accepted: &[&str]) -> Option<String> {
    if pem.iter().all(u8::is_ascii_whitespace) {
        return Some("the file is empty".into());
    }
    let Ok(text) = std::str::from_utf8(pem) else {
        return Some("it is not text (a PEM file is)".into());
    };
    let label = text.lines().find_map(|line| line.trim().strip_prefix("-----BEGIN ")?.strip_suffix("-----"));
    match label {
        None => Some("no PEM block (a -----BEGIN ...----- line) in it".into()),
        Some(label) if !accepted.contains(&label) => Some(format!("it holds a {label:?} PEM block")),
        Some(_) => None,
    }
}

/// Reads the claims of a token without checking its signature: used to keep a tenant's `sub`
/// when its token is re-issued, and never to trust a token.
pub fn unverified_claims(token: &str) -> Option<TokenClaims> {
    use base64::Engine as _;
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Convenience for tests and callers holding a plain secret.
pub fn secret_bytes(bytes: impl Into<Vec<u8>>) -> SecretSlice<u8> {
    SecretBox::from(bytes.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claims::{Identity, Validity};
    use jsonwebtoken::{DecodingKey, Validation};
    use std::time::Duration;

    const RSA_KEY: &str = include_str!("../tests/data/rsa-private.pem");
    const RSA_PKCS1_KEY: &str = include_str!("../tests/data/rsa-private-pkcs1.pem");
    const RSA_PUB: &str = include_str!("../tests/data/rsa-public.pem");
    const EC_SEC1_KEY: &str = include_str!("../tests/data/ecdsa-private-sec1.pem");
    const EC_PKCS8_KEY: &str = include_str!("../tests/data/ecdsa-private-pkcs8.pem");
    const EC_PUB: &str = include_str!("../tests/data/ecdsa-public.pem");

    fn claims() -> TokenClaims {
        let identity = Identity {
            name: Some("n".into()),
            email: Some("e@x".into()),
            sub: Some("s".into()),
            roles: Some(vec!["system.user".into()]),
            groups: None,
        };
        // A fixed instant (2096), so every call builds the same claims and they never expire.
        let validity = Validity::starting_at(4_000_000_000, Duration::from_secs(3600), Duration::from_secs(600));
        TokenClaims::new("iss.example", identity, validity).unwrap()
    }

    fn decode(token: &SecretString, key: &DecodingKey, alg: Algorithm) -> TokenClaims {
        let mut validation = Validation::new(alg);
        validation.set_issuer(&["iss.example"]);
        jsonwebtoken::decode::<TokenClaims>(token.expose_secret(), key, &validation).unwrap().claims
    }

    #[test]
    fn shared_secret_signs_hs256_with_raw_bytes() {
        let key = SigningKey::shared_secret(secret_bytes("c2VjcmV0"), "test").unwrap();
        let token = key.sign(&claims()).unwrap();
        // The key is the stored string itself, not its base64 decoding.
        assert_eq!(decode(&token, &DecodingKey::from_secret(b"c2VjcmV0").unwrap(), Algorithm::HS256), claims());
    }

    #[test]
    fn rsa_and_ecdsa_keys_sign_rs256_and_es256() {
        for pem in [RSA_KEY, RSA_PKCS1_KEY] {
            let rsa = SigningKey::rsa_pem(secret_bytes(pem), "rsa.pem").unwrap();
            let token = rsa.sign(&claims()).unwrap();
            assert_eq!(
                decode(&token, &DecodingKey::from_rsa_pem(RSA_PUB.as_bytes()).unwrap(), Algorithm::RS256),
                claims()
            );
        }
        for pem in [EC_SEC1_KEY, EC_PKCS8_KEY] {
            let ec = SigningKey::ecdsa_pem(secret_bytes(pem), "ec.pem").unwrap();
            let token = ec.sign(&claims()).unwrap();
            assert_eq!(
                decode(&token, &DecodingKey::from_ec_pem(EC_PUB.as_bytes()).unwrap(), Algorithm::ES256),
                claims()
            );
        }
    }

    #[test]
    fn bad_keys_are_refused_without_echoing_them() {
        let err = SigningKey::rsa_pem(secret_bytes("not a key SECRETVALUE"), "k.pem").unwrap_err().to_string();
        assert!(err.starts_with("k.pem is not an RSA private key"), "{err}");
        assert!(!err.contains("SECRETVALUE"));
        let err = SigningKey::ecdsa_pem(secret_bytes(RSA_KEY), "k.pem").unwrap_err().to_string();
        assert!(err.starts_with("k.pem is not an ECDSA P-256 private key"), "{err}");
        assert!(SigningKey::shared_secret(secret_bytes(""), "env").is_err());
        let reason = |pem: &str| match SigningKey::ecdsa_pem(secret_bytes(pem), "k.pem").unwrap_err() {
            SigningError::BadEcdsaKey { reason, .. } => reason,
            other => panic!("{other:?}"),
        };
        assert_eq!(reason(""), "the file is empty");
        assert_eq!(reason("SECRETVALUE\n"), "no PEM block (a -----BEGIN ...----- line) in it");
        assert_eq!(reason("-----BEGIN PUBLIC KEY-----\nSECRETVALUE\n"), r#"it holds a "PUBLIC KEY" PEM block"#);
        let err = SigningKey::rsa_pem(secret_bytes(vec![0xff, 0xfe, 0]), "k.pem").unwrap_err().to_string();
        assert!(err.ends_with("(PKCS#1 or PKCS#8): it is not text (a PEM file is)"), "{err}");
        let err = SigningKey::rsa_pem(secret_bytes(EC_SEC1_KEY), "k.pem").unwrap_err().to_string();
        assert!(err.ends_with(r#"it holds a "EC PRIVATE KEY" PEM block"#), "{err}");
        let debug = format!("{:?}", SigningKey::shared_secret(secret_bytes("SECRETVALUE"), "x").unwrap());
        assert!(!debug.contains("SECRETVALUE"));
    }

    #[test]
    fn unverified_claims_reads_the_payload() {
        let key = SigningKey::shared_secret(secret_bytes("k"), "test").unwrap();
        let token = key.sign(&claims()).unwrap();
        assert_eq!(unverified_claims(token.expose_secret()), Some(claims()));
        assert_eq!(unverified_claims("garbage"), None);
    }
}
