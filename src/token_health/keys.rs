//! The keys a token is verified with, as a Portworx node holds them (openstorage
//! `JwtAuthConfig`): at most one shared secret, one RSA public key and one ECDSA public key,
//! each used only for its own algorithm family.
//!
//! A key is never used outside its family: an HS256 token presented while only an RSA public
//! key is known fails, because treating the public key's bytes as an HMAC secret is the
//! classic algorithm-confusion forgery (anyone holding the public key could sign).

use std::fmt;

use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use secrecy::{ExposeSecret, SecretSlice};

use super::go_jwt::{AlgFamily, encode_segment};
use crate::signing::SigningKey;

/// Which kind of key: the words `shared-secret`, `rsa` and `ecdsa` used in messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum KeyKind {
    SharedSecret,
    Rsa,
    Ecdsa,
}

impl KeyKind {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyKind::SharedSecret => "shared-secret",
            KeyKind::Rsa => "rsa",
            KeyKind::Ecdsa => "ecdsa",
        }
    }

    /// The key in words, with its article, for reasons.
    fn noun(self) -> &'static str {
        match self {
            KeyKind::SharedSecret => "a shared secret",
            KeyKind::Rsa => "an RSA public key",
            KeyKind::Ecdsa => "an ECDSA public key",
        }
    }

    /// What it verifies, for reasons: `HS*`, `RS*`, `ES*`.
    fn algorithms(self) -> &'static str {
        match self {
            KeyKind::SharedSecret => "HS256/HS384/HS512",
            KeyKind::Rsa => "RS256/RS384/RS512",
            KeyKind::Ecdsa => "ES256",
        }
    }

    fn of(family: AlgFamily) -> KeyKind {
        match family {
            AlgFamily::Hmac => KeyKind::SharedSecret,
            AlgFamily::Rsa => KeyKind::Rsa,
            AlgFamily::Ecdsa => KeyKind::Ecdsa,
        }
    }
}

/// One verification key. The shared secret sits in jsonwebtoken's `DecodingKey`, which is
/// zeroized on drop and redacted in `Debug`; the public keys are not secret.
#[derive(Clone)]
pub struct VerifyKey {
    kind: KeyKind,
    key: DecodingKey,
}

impl fmt::Debug for VerifyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VerifyKey::{}", self.kind.as_str())
    }
}

/// Why a verification key was refused. Never carries key bytes.
#[derive(Debug, thiserror::Error)]
pub enum VerifyKeyError {
    #[error("the shared secret {origin} is empty")]
    EmptySharedSecret { origin: String },
    #[error("{origin} holds a private key where a {wanted} public key was expected")]
    PrivateKeyGiven { origin: String, wanted: &'static str },
    /// Empty, not text, no PEM block, or a PEM block of another kind: said as such rather than
    /// as the parser's `InvalidKeyFormat`.
    #[error("{origin} is not an {wanted} public key in PEM form: {reason}")]
    NotPublicKeyPem { origin: String, wanted: &'static str, reason: String },
    #[error("{origin} is not an RSA public key in PEM form (PKIX or PKCS#1)")]
    BadRsaPublicKey {
        origin: String,
        #[source]
        source: jsonwebtoken::errors::Error,
    },
    #[error("{origin} is not an ECDSA P-256 public key in PEM form (PKIX)")]
    BadEcdsaPublicKey {
        origin: String,
        #[source]
        source: jsonwebtoken::errors::Error,
    },
    #[error("cannot derive the public key from the {kind} private key")]
    Derive {
        kind: &'static str,
        #[source]
        source: jsonwebtoken::errors::Error,
    },
}

impl VerifyKey {
    /// A shared secret: its exact bytes, as the HMAC key (no trimming, no base64 decoding).
    pub fn shared_secret(bytes: &SecretSlice<u8>, origin: &str) -> Result<VerifyKey, VerifyKeyError> {
        let key = DecodingKey::from_secret(bytes.expose_secret())
            .map_err(|_| VerifyKeyError::EmptySharedSecret { origin: origin.to_owned() })?;
        Ok(VerifyKey { kind: KeyKind::SharedSecret, key })
    }

    /// An RSA public key in PEM (`PUBLIC KEY` or `RSA PUBLIC KEY`), as `--rsa-public-keyfile`.
    pub fn rsa_public_pem(pem: &[u8], origin: &str) -> Result<VerifyKey, VerifyKeyError> {
        refuse_private(pem, origin, "RSA", &["PUBLIC KEY", "RSA PUBLIC KEY"])?;
        let key = DecodingKey::from_rsa_pem(pem)
            .map_err(|source| VerifyKeyError::BadRsaPublicKey { origin: origin.to_owned(), source })?;
        Ok(VerifyKey { kind: KeyKind::Rsa, key })
    }

    /// An ECDSA P-256 public key in PEM (`PUBLIC KEY`), as `--ecdsa-public-keyfile`.
    pub fn ecdsa_public_pem(pem: &[u8], origin: &str) -> Result<VerifyKey, VerifyKeyError> {
        refuse_private(pem, origin, "ECDSA", &["PUBLIC KEY"])?;
        let bad = |source| VerifyKeyError::BadEcdsaPublicKey { origin: origin.to_owned(), source };
        let key = DecodingKey::from_ec_pem(pem).map_err(bad)?;
        // Building a verifier parses the point on P-256: a P-384 key or a broken point fails
        // here, once, instead of turning every token into "bad signature".
        jsonwebtoken::crypto::verify("AA", b"", &key, Algorithm::ES256).map_err(bad)?;
        Ok(VerifyKey { kind: KeyKind::Ecdsa, key })
    }

    /// The verification key matching a signing key: the shared secret itself, or the public
    /// half of an RSA/ECDSA private key (so the key discovered in the cluster judges tokens).
    pub fn from_signing_key(signing: &SigningKey) -> Result<VerifyKey, VerifyKeyError> {
        let derive = |kind, encoding: EncodingKey, alg| {
            let jwk =
                Jwk::from_encoding_key(&encoding, alg).map_err(|source| VerifyKeyError::Derive { kind, source })?;
            DecodingKey::from_jwk(&jwk).map_err(|source| VerifyKeyError::Derive { kind, source })
        };
        match signing {
            SigningKey::SharedSecret(secret) => VerifyKey::shared_secret(secret, "in use"),
            SigningKey::Rsa(pem) => {
                let encoding = EncodingKey::from_rsa_pem(pem.expose_secret())
                    .map_err(|source| VerifyKeyError::Derive { kind: "rsa", source })?;
                Ok(VerifyKey { kind: KeyKind::Rsa, key: derive("rsa", encoding, Algorithm::RS256)? })
            }
            SigningKey::Ecdsa(der) => {
                let encoding = EncodingKey::from_ec_der(der.expose_secret());
                Ok(VerifyKey { kind: KeyKind::Ecdsa, key: derive("ecdsa", encoding, Algorithm::ES256)? })
            }
        }
    }

    pub fn kind(&self) -> KeyKind {
        self.kind
    }
}

fn refuse_private(pem: &[u8], origin: &str, wanted: &'static str, accepted: &[&str]) -> Result<(), VerifyKeyError> {
    // Only the PEM armour is looked at; the key body is never copied into the error.
    let armour = pem.windows(11).any(|w| w == b"PRIVATE KEY");
    if armour {
        return Err(VerifyKeyError::PrivateKeyGiven { origin: origin.to_owned(), wanted });
    }
    match crate::signing::pem_problem(pem, accepted) {
        Some(reason) => Err(VerifyKeyError::NotPublicKeyPem { origin: origin.to_owned(), wanted, reason }),
        None => Ok(()),
    }
}

/// The keys a node verifies with. Empty means "no key available": tokens are then judged
/// from their claims alone and the report says the signature was not checked.
#[derive(Debug, Clone, Default)]
pub struct VerifyKeys {
    shared_secret: Option<VerifyKey>,
    rsa: Option<VerifyKey>,
    ecdsa: Option<VerifyKey>,
}

/// What checking a signature found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum SignatureCheck {
    Verified,
    /// The key of the token's family is there and the signature does not match it.
    Mismatch(KeyKind),
    /// No key of the token's family; `held` are the kinds we do have (never used instead).
    NoKeyForFamily {
        wanted: KeyKind,
        held: Vec<KeyKind>,
    },
    /// The signature segment is not base64url.
    Undecodable,
}

impl VerifyKeys {
    pub fn new() -> VerifyKeys {
        VerifyKeys::default()
    }

    /// Adds a key, replacing any key of the same kind.
    pub fn with(mut self, key: VerifyKey) -> VerifyKeys {
        let slot = match key.kind {
            KeyKind::SharedSecret => &mut self.shared_secret,
            KeyKind::Rsa => &mut self.rsa,
            KeyKind::Ecdsa => &mut self.ecdsa,
        };
        *slot = Some(key);
        self
    }

    pub fn is_empty(&self) -> bool {
        self.kinds().is_empty()
    }

    /// The kinds held, in a fixed order.
    pub fn kinds(&self) -> Vec<KeyKind> {
        [&self.shared_secret, &self.rsa, &self.ecdsa].into_iter().flatten().map(|k| k.kind).collect()
    }

    fn get(&self, kind: KeyKind) -> Option<&VerifyKey> {
        match kind {
            KeyKind::SharedSecret => self.shared_secret.as_ref(),
            KeyKind::Rsa => self.rsa.as_ref(),
            KeyKind::Ecdsa => self.ecdsa.as_ref(),
        }
    }

    /// golang-jwt's `Method.Verify(signingString, signature, key)` with the key openstorage's
    /// key function picks for `alg`. ES384/ES512 cannot be checked against a P-256 key here
    /// (Go would truncate the hash and try); no tool of this project writes them.
    pub(super) fn verify(&self, alg: &str, family: AlgFamily, signing_input: &str, signature: &str) -> SignatureCheck {
        let wanted = KeyKind::of(family);
        let Some(key) = self.get(wanted) else {
            return SignatureCheck::NoKeyForFamily { wanted, held: self.kinds() };
        };
        let Some(bytes) = super::go_jwt::decode_segment(signature) else { return SignatureCheck::Undecodable };
        let algorithm = match alg {
            "HS256" => Algorithm::HS256,
            "HS384" => Algorithm::HS384,
            "HS512" => Algorithm::HS512,
            "RS256" => Algorithm::RS256,
            "RS384" => Algorithm::RS384,
            "RS512" => Algorithm::RS512,
            "ES256" => Algorithm::ES256,
            _ => return SignatureCheck::Mismatch(wanted),
        };
        match jsonwebtoken::crypto::verify(&encode_segment(&bytes), signing_input.as_bytes(), &key.key, algorithm) {
            Ok(true) => SignatureCheck::Verified,
            _ => SignatureCheck::Mismatch(wanted),
        }
    }
}

impl From<VerifyKey> for VerifyKeys {
    fn from(key: VerifyKey) -> VerifyKeys {
        VerifyKeys::new().with(key)
    }
}

/// Words for a failed signature check, for the verdict's reason.
pub(super) fn describe(check: &SignatureCheck, alg: &str) -> String {
    match check {
        SignatureCheck::Verified => "signature verified".into(),
        SignatureCheck::Mismatch(kind) => format!("the {alg} signature does not match {}", the(kind.noun())),
        SignatureCheck::NoKeyForFamily { wanted, held } => {
            let held: Vec<_> = held.iter().map(|k| format!("{} (for {})", k.noun(), k.algorithms())).collect();
            format!(
                "the token is {alg}, which is checked with {}, and only {} is known; a key is never used for another algorithm family",
                wanted.noun(),
                held.join(" and ")
            )
        }
        SignatureCheck::Undecodable => "the signature is not base64url".into(),
    }
}

/// "a shared secret" → "the shared secret".
fn the(noun: &str) -> String {
    format!("the {}", noun.split_once(' ').map_or(noun, |(_, rest)| rest))
}
