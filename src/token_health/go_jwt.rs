//! Reading a token byte for byte as openstorage does: Go's `encoding/base64` and
//! `encoding/json` under golang-jwt v4.3.0 (`parser.go`, `map_claims.go`, `types.go`) and
//! openstorage's `TokenClaims` (`pkg/auth/token.go`).
//!
//! The point is agreement, not strictness: where Go is lenient (newlines inside base64,
//! non-zero trailing bits, a `null` claim where a string is expected) we are lenient too, and
//! where Go refuses (padding, a number where a string is expected) we refuse, so the verdict's
//! accept/reject never differs from what a Portworx node decides.

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use serde_json::{Map, Value};

/// Seconds from Go's zero time (year 1) to the Unix epoch: `time` keeps instants from year 1,
/// and its int64 arithmetic on that base is what golang-jwt compares.
const UNIX_TO_INTERNAL: i64 = 62_135_596_800;

/// Go's `base64.RawURLEncoding`: URL alphabet, no padding allowed, trailing bits not checked.
const RAW_URL: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::RequireNone),
);

/// golang-jwt's `DecodeSegment`. Go's decoder skips `\r` and `\n` anywhere in the input.
pub(super) fn decode_segment(segment: &str) -> Option<Vec<u8>> {
    if segment.contains(['\r', '\n']) {
        let clean: String = segment.chars().filter(|c| !matches!(c, '\r' | '\n')).collect();
        return RAW_URL.decode(clean).ok();
    }
    RAW_URL.decode(segment).ok()
}

/// Canonical base64url of bytes, for handing a Go-decoded signature to the verifier.
pub(super) fn encode_segment(bytes: &[u8]) -> String {
    RAW_URL.encode(bytes)
}

/// Go's `json.Unmarshal` into an `interface{}`: invalid UTF-8 inside strings becomes U+FFFD
/// (Go replaces it; serde would refuse), anything else must be valid JSON.
pub(super) fn parse_json(bytes: &[u8]) -> Option<Value> {
    serde_json::from_str(&String::from_utf8_lossy(bytes)).ok()
}

/// openstorage's `auth.Claims`, read as Go reads it: `null` leaves a field empty, a wrong type
/// fails the whole token, keys match case-insensitively when no exact key is present.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct TypedClaims {
    pub iss: String,
    pub sub: String,
    pub name: String,
    pub email: String,
    pub roles: Option<Vec<String>>,
    pub groups: Option<Vec<String>>,
}

/// Why the payload is not openstorage's claim set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum ClaimsShape {
    /// The payload is JSON but not an object (Go: "cannot unmarshal array into …").
    NotAnObject(&'static str),
    /// A claim has the wrong JSON type.
    WrongType { claim: &'static str, found: &'static str, wanted: &'static str },
}

pub(super) fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// Go's field lookup: the exact key, else a key equal ignoring case. (When a payload holds
/// several spellings, Go takes the last in document order; that only matters for hand-crafted
/// payloads, whose signature then fails anyway.)
fn go_field<'a>(object: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    object.get(name).or_else(|| object.iter().find(|(key, _)| key.eq_ignore_ascii_case(name)).map(|(_, v)| v))
}

pub(super) fn typed_claims(payload: &Value) -> Result<TypedClaims, ClaimsShape> {
    // `null` decodes to a nil *Claims in Go and openstorage then dereferences it: rejected.
    let Value::Object(object) = payload else { return Err(ClaimsShape::NotAnObject(json_type(payload))) };
    let string = |claim: &'static str| match go_field(object, claim) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => Err(ClaimsShape::WrongType { claim, found: json_type(other), wanted: "a string" }),
    };
    let list = |claim: &'static str| match go_field(object, claim) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| match item {
                Value::Null => Ok(String::new()),
                Value::String(s) => Ok(s.clone()),
                other => Err(ClaimsShape::WrongType { claim, found: json_type(other), wanted: "a list of strings" }),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(other) => Err(ClaimsShape::WrongType { claim, found: json_type(other), wanted: "a list of strings" }),
    };
    Ok(TypedClaims {
        iss: string("iss")?,
        sub: string("sub")?,
        name: string("name")?,
        email: string("email")?,
        roles: list("roles")?,
        groups: list("groups")?,
    })
}

/// Every `alg` golang-jwt v4.3.0 registers; any other value fails as "signing method (alg) is
/// unavailable" before a key is looked at.
const REGISTERED_ALGS: [&str; 14] = [
    "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384", "PS512",
    "EdDSA", "none",
];

pub(super) fn is_registered_alg(alg: &str) -> bool {
    REGISTERED_ALGS.contains(&alg)
}

/// The key family openstorage's key function picks by the alg's prefix (`selfsigned.go`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum AlgFamily {
    Hmac,
    Rsa,
    Ecdsa,
}

pub(super) fn alg_family(alg: &str) -> Option<AlgFamily> {
    if alg.starts_with("RS") {
        Some(AlgFamily::Rsa)
    } else if alg.starts_with("ES") {
        Some(AlgFamily::Ecdsa)
    } else if alg.starts_with("HS") {
        Some(AlgFamily::Hmac)
    } else {
        None
    }
}

/// A time claim (`exp`, `iat`, `nbf`) as golang-jwt's `MapClaims` sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TimeClaim {
    Absent,
    /// `0` (or `-0`): golang-jwt treats it as absent, so `exp: 0` never expires.
    Zero,
    /// A JSON number, as Go's `time` holds it: Unix seconds (floor) and the internal seconds
    /// from year 1 that it compares, with Go's int64 wrap-around kept.
    At {
        unix: i64,
        internal: i64,
    },
    /// Anything but a number (a string, `null`, …): every check on it fails.
    NotANumber,
}

impl TimeClaim {
    pub(super) fn read(object: &Map<String, Value>, claim: &str) -> TimeClaim {
        match object.get(claim) {
            None => TimeClaim::Absent,
            Some(Value::Number(n)) => match n.as_f64() {
                Some(0.0) => TimeClaim::Zero, // -0.0 too: float patterns compare with ==
                Some(f) => {
                    let unix = go_unix_seconds(f);
                    TimeClaim::At { unix, internal: unix.wrapping_add(UNIX_TO_INTERNAL) }
                }
                None => TimeClaim::NotANumber,
            },
            Some(_) => TimeClaim::NotANumber,
        }
    }

    /// Unix seconds, when the claim is a usable number.
    pub(super) fn unix(self) -> Option<i64> {
        match self {
            TimeClaim::At { unix, .. } => Some(unix),
            _ => None,
        }
    }

    /// golang-jwt `verifyExp`: now must be strictly before `exp`.
    pub(super) fn exp_ok(self, now: i64) -> bool {
        match self {
            TimeClaim::Absent | TimeClaim::Zero => true,
            TimeClaim::At { internal, .. } => now_internal(now) < internal,
            TimeClaim::NotANumber => false,
        }
    }

    /// golang-jwt `verifyIat` / `verifyNbf`: now must be at or after the claim.
    pub(super) fn reached(self, now: i64) -> bool {
        match self {
            TimeClaim::Absent | TimeClaim::Zero => true,
            TimeClaim::At { internal, .. } => now_internal(now) >= internal,
            TimeClaim::NotANumber => false,
        }
    }
}

fn now_internal(now: i64) -> i64 {
    now.saturating_add(UNIX_TO_INTERNAL)
}

/// golang-jwt `newNumericDateFromSeconds` then `Truncate(time.Second)`: `math.Modf`, then
/// `time.Unix(int64(whole), int64(frac*1e9))`, floored to the second. Go's float→int64
/// conversion of an out-of-range value yields `math.MinInt64` on amd64 (CVTTSD2SI), where
/// Portworx runs; so `exp: 1e19` is a date far in the past, i.e. expired, as on a node.
fn go_unix_seconds(f: f64) -> i64 {
    let whole = f.trunc();
    let frac = f - whole;
    let mut secs = go_f64_to_i64(whole);
    let nanos = (frac * 1e9) as i64; // |frac| < 1, always in range
    if nanos < 0 {
        secs = secs.wrapping_sub(1);
    }
    secs
}

fn go_f64_to_i64(f: f64) -> i64 {
    // 2^63 as f64; anything at or beyond it (or NaN, which JSON cannot carry) is out of range.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    if (-LIMIT..LIMIT).contains(&f) { f as i64 } else { i64::MIN }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn base64_follows_go_raw_url_encoding() {
        assert_eq!(decode_segment("eyJ9").as_deref(), Some(&b"{\"}"[..]));
        assert_eq!(decode_segment("ey\nJ9\r").as_deref(), Some(&b"{\"}"[..]), "Go skips CR and LF");
        assert_eq!(decode_segment("eyJ9="), None, "padding is refused by RawURLEncoding");
        assert_eq!(decode_segment("ey+9"), None, "standard alphabet is refused");
        assert_eq!(decode_segment("e"), None, "a lone trailing character is refused");
        assert_eq!(
            decode_segment("eB"),
            Some(vec![0x78]),
            "non-zero trailing bits are accepted, as Go's non-strict mode"
        );
        assert_eq!(decode_segment(""), Some(vec![]));
        assert_eq!(encode_segment(b"{\"}"), "eyJ9");
        assert_eq!(encode_segment(&[0xfb; 4]), "-_v7-w", "URL alphabet, no padding");
    }

    #[test]
    fn claims_are_typed_as_go_unmarshals_them() {
        let claims = typed_claims(&json!({"iss": "a", "SUB": "s", "name": null, "roles": ["r", null]})).unwrap();
        assert_eq!(claims.iss, "a");
        assert_eq!(claims.sub, "s", "Go matches keys case-insensitively");
        assert_eq!(claims.name, "");
        assert_eq!(claims.roles, Some(vec!["r".to_string(), String::new()]));
        assert_eq!(
            typed_claims(&json!({"iss": 1})),
            Err(ClaimsShape::WrongType { claim: "iss", found: "a number", wanted: "a string" })
        );
        assert!(matches!(typed_claims(&json!({"roles": "system.admin"})), Err(ClaimsShape::WrongType { .. })));
        assert_eq!(typed_claims(&json!(null)), Err(ClaimsShape::NotAnObject("null")));
        assert_eq!(typed_claims(&json!([1])), Err(ClaimsShape::NotAnObject("a list")));
    }

    #[test]
    fn time_claims_follow_golang_jwt() {
        let obj = |v: Value| json!({ "exp": v }).as_object().unwrap().clone();
        let now = 1_000;
        assert!(TimeClaim::read(&obj(json!(1_001)), "exp").exp_ok(now));
        assert!(!TimeClaim::read(&obj(json!(1_000)), "exp").exp_ok(now), "exp == now is expired");
        assert!(!TimeClaim::read(&obj(json!(1_000.9)), "exp").exp_ok(now), "fractions are truncated");
        assert!(TimeClaim::read(&obj(json!(0)), "exp").exp_ok(now), "exp 0 counts as absent");
        assert_eq!(TimeClaim::read(&obj(json!(-0.0)), "exp"), TimeClaim::Zero);
        assert!(!TimeClaim::read(&obj(json!("2030")), "exp").exp_ok(now), "a string exp is expired");
        assert!(!TimeClaim::read(&obj(json!(null)), "exp").exp_ok(now), "a null exp is expired");
        assert!(!TimeClaim::read(&obj(json!(1e19)), "exp").exp_ok(now), "out of int64 range wraps to the past");
        assert!(TimeClaim::read(&obj(json!(1_000)), "exp").reached(now), "iat == now is fine");
        assert!(!TimeClaim::read(&obj(json!(1_000.5)), "exp").reached(999));
        assert_eq!(TimeClaim::read(&obj(json!(-1.5)), "exp").unix(), Some(-2), "floor, as Go's Truncate");
        assert_eq!(TimeClaim::read(&obj(json!(1)), "iat"), TimeClaim::Absent);
    }

    #[test]
    fn algorithms_are_picked_by_prefix() {
        assert_eq!(alg_family("HS512"), Some(AlgFamily::Hmac));
        assert_eq!(alg_family("RS256"), Some(AlgFamily::Rsa));
        assert_eq!(alg_family("ES256"), Some(AlgFamily::Ecdsa));
        assert_eq!(alg_family("PS256"), None);
        assert!(is_registered_alg("none") && is_registered_alg("EdDSA"));
        assert!(!is_registered_alg("hs256") && !is_registered_alg("HS1"));
    }
}
