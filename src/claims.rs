//! The claim set of a Portworx token, and pxctl's `--auth-config` YAML.
//!
//! openstorage's generator (`pkg/auth/auth.go` `Token()`) writes `sub, iss, email, name, roles,
//! iat, exp`, and `groups` only when it is set. `roles` is written even when unset (as `null`),
//! so we model both as options and serialize them the same way: a token from `generate` must
//! carry the same claim set as pxctl's for the same input.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Role that lets a token do everything (openstorage `pkg/role`).
pub const ADMIN_ROLE: &str = "system.admin";
/// Group that gives access to every resource regardless of owner (openstorage `api/ownership.go`).
pub const ADMIN_GROUP: &str = "*";
/// Role of an ordinary tenant.
pub const USER_ROLE: &str = "system.user";
/// How far `iat` is backdated by default: the operator's `IATSubtract`, after users hit
/// "Token used before issued" on nodes whose clocks lag.
pub const DEFAULT_CLOCK_SKEW: Duration = Duration::from_secs(10 * 60);

/// The claims in a token, with openstorage's key names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenClaims {
    pub iss: String,
    pub sub: String,
    pub name: String,
    pub email: String,
    #[serde(default)]
    pub roles: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<String>>,
    pub iat: i64,
    pub exp: i64,
}

/// Who a token speaks for: everything in a token but issuer and timing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Identity {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub sub: Option<String>,
    #[serde(default)]
    pub roles: Option<Vec<String>>,
    #[serde(default)]
    pub groups: Option<Vec<String>>,
}

impl Identity {
    /// Fills each field left unset here from `lower`; flags are layered over the auth-config
    /// file, and that over defaults, with this.
    pub fn or(self, lower: Identity) -> Identity {
        Identity {
            name: self.name.or(lower.name),
            email: self.email.or(lower.email),
            sub: self.sub.or(lower.sub),
            roles: self.roles.or(lower.roles),
            groups: self.groups.or(lower.groups),
        }
    }

    /// True when the identity would get administrator powers: the admin role or the `*` group.
    pub fn grants_admin(&self) -> bool {
        let has = |list: &Option<Vec<String>>, wanted: &str| list.iter().flatten().any(|v| v == wanted);
        has(&self.roles, ADMIN_ROLE) || has(&self.groups, ADMIN_GROUP)
    }
}

/// Why `value` cannot be a claim (a name, email, subject, role, group or the issuer): empty or
/// blank (Portworx reads `roles: [""]` as no rights and needs a name), or holding control
/// characters (a pasted newline or escape sequence: never meant, and it would reach every
/// terminal that prints the claim).
pub fn claim_text_problem(value: &str) -> Option<&'static str> {
    if value.trim().is_empty() {
        Some("must not be empty")
    } else if value.chars().any(char::is_control) {
        Some("must not contain control characters")
    } else {
        None
    }
}

/// When a token is valid: `iat` backdated by the clock-skew allowance, `exp` = now + lifetime.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Validity {
    pub issued_at: i64,
    pub expires_at: i64,
}

impl Validity {
    pub fn starting_at(now_unix: i64, lifetime: Duration, clock_skew: Duration) -> Validity {
        Validity {
            issued_at: now_unix.saturating_sub(clock_skew.as_secs() as i64),
            expires_at: now_unix.saturating_add(lifetime.as_secs() as i64),
        }
    }

    pub fn from_now(lifetime: Duration, clock_skew: Duration) -> Validity {
        Validity::starting_at(jiff::Timestamp::now().as_second(), lifetime, clock_skew)
    }
}

/// Why claims could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ClaimsError {
    /// The claim (`name`, `email` or `sub`) is unset or empty.
    #[error("the token has no {0}")]
    Missing(&'static str),
}

impl TokenClaims {
    /// Builds the claims pxctl would write. `name`, `email` and `sub` must be set by now, as
    /// openstorage's verifier requires them; roles and groups are written as given.
    pub fn new(issuer: &str, identity: Identity, validity: Validity) -> Result<TokenClaims, ClaimsError> {
        let required = |value: Option<String>, what| value.filter(|v| !v.is_empty()).ok_or(ClaimsError::Missing(what));
        Ok(TokenClaims {
            iss: issuer.to_owned(),
            sub: required(identity.sub, "sub")?,
            name: required(identity.name, "name")?,
            email: required(identity.email, "email")?,
            roles: identity.roles,
            groups: identity.groups,
            iat: validity.issued_at,
            exp: validity.expires_at,
        })
    }
}

/// Why an `--auth-config` file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum AuthConfigError {
    #[error("cannot read auth-config {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Not YAML, or not the shape pxctl reads; the source names the line and column.
    #[error("invalid auth-config {path}")]
    Parse {
        path: PathBuf,
        #[source]
        source: Box<serde_saphyr::Error>,
    },
}

/// Reads pxctl's `--auth-config` YAML (`name`, `email`, `sub`, `roles`, `groups`). Other keys
/// are ignored, as pxctl ignores them.
pub fn read_auth_config(path: &Path) -> Result<Identity, AuthConfigError> {
    let text =
        std::fs::read_to_string(path).map_err(|source| AuthConfigError::Read { path: path.to_owned(), source })?;
    parse_auth_config(&text)
        .map_err(|source| AuthConfigError::Parse { path: path.to_owned(), source: Box::new(source) })
}

/// Parses the text of an auth-config; the error names the line and column.
pub fn parse_auth_config(text: &str) -> Result<Identity, serde_saphyr::Error> {
    if text.trim().is_empty() {
        return Ok(Identity::default());
    }
    // No source snippet in errors: a key or token file given here by mistake would be quoted.
    serde_saphyr::from_str_with_options::<Identity>(text, serde_saphyr::options! { with_snippet: false })
}

#[cfg(test)]
pub(crate) mod tests {
    use proptest::prelude::*;

    use super::*;

    fn full_identity() -> Identity {
        Identity {
            name: Some("team-a".into()),
            email: Some("team-a@example.com".into()),
            sub: Some("0f4e".into()),
            roles: Some(vec![USER_ROLE.into()]),
            groups: None,
        }
    }

    #[test]
    fn claims_serialize_like_openstorage() {
        let claims = TokenClaims::new(
            "px.io",
            full_identity(),
            Validity::starting_at(1_000_000, Duration::from_secs(60), DEFAULT_CLOCK_SKEW),
        )
        .unwrap();
        let json = serde_json::to_value(&claims).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"iss": "px.io", "sub": "0f4e", "name": "team-a", "email": "team-a@example.com",
                "roles": ["system.user"], "iat": 1_000_000 - 600, "exp": 1_000_060})
        );
        let no_roles = TokenClaims { roles: None, groups: Some(vec![]), ..claims };
        let json = serde_json::to_value(&no_roles).unwrap();
        assert_eq!(json["roles"], serde_json::Value::Null);
        assert_eq!(json["groups"], serde_json::json!([]));
    }

    #[test]
    fn required_claims_are_checked() {
        let identity = Identity { email: None, ..full_identity() };
        let err = TokenClaims::new("px.io", identity, Validity::from_now(Duration::from_secs(1), Duration::ZERO))
            .unwrap_err();
        assert!(matches!(err, ClaimsError::Missing("email")), "{err:?}");
        let identity = Identity { sub: Some(String::new()), ..full_identity() };
        let err = TokenClaims::new("px.io", identity, Validity::from_now(Duration::from_secs(1), Duration::ZERO));
        assert!(matches!(err, Err(ClaimsError::Missing("sub"))), "an empty claim is a missing one");
    }

    #[test]
    fn flags_override_auth_config_over_defaults() {
        let flags = Identity { name: Some("flag".into()), ..Identity::default() };
        let file = Identity { name: Some("file".into()), email: Some("file@x".into()), ..Identity::default() };
        let defaults = Identity { email: Some("default@x".into()), sub: Some("default".into()), ..Identity::default() };
        let merged = flags.or(file).or(defaults);
        assert_eq!(merged.name.as_deref(), Some("flag"));
        assert_eq!(merged.email.as_deref(), Some("file@x"));
        assert_eq!(merged.sub.as_deref(), Some("default"));
    }

    #[test]
    fn claim_text_is_not_blank_nor_control_characters() {
        for good in ["team-a", "Team A", "ünï 名前", "*", &"a".repeat(10_240)] {
            assert_eq!(claim_text_problem(good), None, "{good:?}");
        }
        for blank in ["", " ", "\t\n"] {
            assert_eq!(claim_text_problem(blank), Some("must not be empty"), "{blank:?}");
        }
        for control in ["a\nb", "\u{1b}[31mred", "x\u{7}", "a\tb", "a\u{85}b"] {
            assert_eq!(claim_text_problem(control), Some("must not contain control characters"), "{control:?}");
        }
    }

    #[test]
    fn admin_powers_are_detected() {
        assert!(!full_identity().grants_admin());
        assert!(Identity { roles: Some(vec![ADMIN_ROLE.into()]), ..Identity::default() }.grants_admin());
        assert!(Identity { groups: Some(vec!["a".into(), "*".into()]), ..Identity::default() }.grants_admin());
    }

    #[test]
    fn auth_config_parses_pxctl_yaml() {
        let identity = parse_auth_config("name: Storage Administrator\nemail: admin@example.com\nsub: admin\nroles: [\"system.admin\"]\ngroups: [\"*\"]\nissuer: ignored\n").unwrap();
        assert_eq!(identity.name.as_deref(), Some("Storage Administrator"));
        assert_eq!(identity.groups, Some(vec!["*".to_string()]));
        assert_eq!(parse_auth_config("").unwrap(), Identity::default());
    }

    #[test]
    fn auth_config_errors_never_quote_the_file() {
        for wrong_file in ["SECRETVALUE\n", "-----BEGIN PRIVATE KEY-----\nSECRETVALUE\n", "name: a\nSECRETVALUE: [\n"] {
            let err = crate::message::one_line(&parse_auth_config(wrong_file).unwrap_err());
            assert!(!err.contains("SECRETVALUE") && err.contains("line"), "{err}");
        }
    }

    #[test]
    fn auth_config_errors_name_the_line() {
        let err = parse_auth_config("name: a\nroles: [unclosed\n").unwrap_err().to_string();
        assert!(err.contains("line"), "{err}");
        let err = parse_auth_config("name: [1, 2]\n").unwrap_err().to_string();
        assert!(err.contains("line 1"), "{err}");
    }

    /// `text` as a YAML double-quoted scalar: everything outside printable ASCII escaped, so any
    /// string (control characters, non-characters, astral planes) survives as written.
    pub(crate) fn yaml_quoted(text: &str) -> String {
        let mut quoted = String::from("\"");
        for c in text.chars() {
            match c {
                '"' | '\\' => quoted.extend(['\\', c]),
                ' '..='~' => quoted.push(c),
                c if (c as u32) <= 0xFFFF => quoted.push_str(&format!("\\u{:04X}", c as u32)),
                c => quoted.push_str(&format!("\\U{:08X}", c as u32)),
            }
        }
        quoted.push('"');
        quoted
    }

    /// The lines of an auth-config (or tenant list entry) that say `identity`, each `indent`ed;
    /// lists in flow style when `flow`, else as block sequences.
    pub(crate) fn yaml_identity(identity: &Identity, indent: &str, flow: bool) -> String {
        let mut yaml = String::new();
        for (key, value) in [("name", &identity.name), ("email", &identity.email), ("sub", &identity.sub)] {
            if let Some(value) = value {
                yaml.push_str(&format!("{indent}{key}: {}\n", yaml_quoted(value)));
            }
        }
        for (key, list) in [("roles", &identity.roles), ("groups", &identity.groups)] {
            match list {
                None => {}
                Some(items) if flow || items.is_empty() => {
                    let items: Vec<String> = items.iter().map(|item| yaml_quoted(item)).collect();
                    yaml.push_str(&format!("{indent}{key}: [{}]\n", items.join(", ")));
                }
                Some(items) => {
                    yaml.push_str(&format!("{indent}{key}:\n"));
                    for item in items {
                        yaml.push_str(&format!("{indent}  - {}\n", yaml_quoted(item)));
                    }
                }
            }
        }
        yaml
    }

    pub(crate) fn identities() -> impl Strategy<Value = Identity> {
        let text = || prop_oneof!["[a-zA-Z0-9 .@_*-]{0,20}", any::<String>()];
        let list = || prop::option::of(prop::collection::vec(text(), 0..4));
        (prop::option::of(text()), prop::option::of(text()), prop::option::of(text()), list(), list())
            .prop_map(|(name, email, sub, roles, groups)| Identity { name, email, sub, roles, groups })
    }

    /// Text that looks like YAML (indicators, quotes, anchors, tags, indentation), and any text.
    pub(crate) fn yaml_like_text() -> impl Strategy<Value = String> {
        prop_oneof!["[a-z:\\[\\]{}\"'&*!|>#%@`,?\\\\ \t\n-]{0,80}", any::<String>()]
    }

    proptest! {
        #[test]
        fn auth_config_never_panics(text in yaml_like_text()) {
            if let Err(err) = parse_auth_config(&text) {
                prop_assert!(!err.to_string().is_empty());
            }
        }

        #[test]
        fn a_written_identity_reads_back_the_same(identity in identities(), flow in any::<bool>()) {
            let yaml = yaml_identity(&identity, "", flow);
            let read = parse_auth_config(&yaml);
            prop_assert!(read.is_ok(), "{yaml}: {read:?}");
            prop_assert_eq!(read.unwrap(), identity, "{}", yaml);
        }
    }
}
