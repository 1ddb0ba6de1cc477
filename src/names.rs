//! Kubernetes' own rules for the names and keys a user types (apimachinery
//! `pkg/util/validation`), checked before any request.
//!
//! Without this, a bad name costs a round trip and comes back worded for the wrong problem:
//! `--secret-name ''` as "cannot reach the API server … A non-empty name is required", a
//! namespace `Bad_NS!` as "not found". The wording follows apimachinery's, so a user who knows
//! kubectl's messages recognises these.

use std::fmt;

/// Longest namespace (an RFC 1123 label).
pub const MAX_LABEL: usize = 63;
/// Longest Secret name or data key (an RFC 1123 subdomain's length).
pub const MAX_SUBDOMAIN: usize = 253;

const LABEL_RULE: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name' or '123-abc')";
const SUBDOMAIN_RULE: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com')";
const KEY_RULE: &str =
    "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name' or 'KEY_NAME')";

/// What a name names; each kind has its own rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameKind {
    /// An RFC 1123 label, at most 63 characters.
    Namespace,
    /// An RFC 1123 subdomain, at most 253 characters.
    SecretName,
    /// `[-._a-zA-Z0-9]+`, at most 253 characters, not `.`, `..` or starting with `..`.
    SecretKey,
}

impl fmt::Display for NameKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NameKind::Namespace => "namespace",
            NameKind::SecretName => "secret name",
            NameKind::SecretKey => "secret key",
        })
    }
}

/// A name Kubernetes would refuse. `problem` is apimachinery's wording, without the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {kind} {value:?}: {problem}")]
pub struct InvalidName {
    pub kind: NameKind,
    pub value: String,
    pub problem: String,
}

impl NameKind {
    /// Checks `value` against this kind's rule.
    pub fn check(self, value: &str) -> Result<(), InvalidName> {
        match self.problem(value) {
            None => Ok(()),
            Some(problem) => Err(InvalidName { kind: self, value: value.to_owned(), problem }),
        }
    }

    /// Why `value` is not a valid name of this kind (every reason, `; `-joined), if it is not.
    pub fn problem(self, value: &str) -> Option<String> {
        let mut problems = Vec::new();
        let max = if self == NameKind::Namespace { MAX_LABEL } else { MAX_SUBDOMAIN };
        if value.len() > max {
            problems.push(format!("must be no more than {max} characters"));
        }
        let (shape_ok, rule) = match self {
            NameKind::Namespace => (is_label(value), LABEL_RULE),
            NameKind::SecretName => (value.split('.').all(is_label), SUBDOMAIN_RULE),
            NameKind::SecretKey => {
                (!value.is_empty() && value.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b)), KEY_RULE)
            }
        };
        if !shape_ok {
            problems.push(rule.to_owned());
        }
        if self == NameKind::SecretKey {
            match value {
                "." => problems.push("must not be '.'".into()),
                ".." => problems.push("must not be '..'".into()),
                _ if value.starts_with("..") => problems.push("must not start with '..'".into()),
                _ => {}
            }
        }
        (!problems.is_empty()).then(|| problems.join("; "))
    }
}

/// `[a-z0-9]([-a-z0-9]*[a-z0-9])?`, any length (the caller checks the length).
fn is_label(part: &str) -> bool {
    let bytes = part.as_bytes();
    let alnum = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    match (bytes.first(), bytes.last()) {
        (Some(first), Some(last)) => alnum(first) && alnum(last) && bytes.iter().all(|b| alnum(b) || *b == b'-'),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use NameKind::*;

    #[test]
    fn namespaces_are_rfc1123_labels() {
        for good in ["a", "team-a", "0", "123-abc", &"a".repeat(63)] {
            assert_eq!(Namespace.check(good), Ok(()), "{good:?}");
        }
        for bad in ["", "Bad_NS!", "-a", "a-", "a.b", "Team", "é", "a b", "a\n", &"a".repeat(64)] {
            assert!(Namespace.check(bad).is_err(), "{bad:?} passed");
        }
        let err = Namespace.check(&"a".repeat(64)).unwrap_err();
        assert_eq!(err.problem, "must be no more than 63 characters", "a long valid label has one problem");
    }

    #[test]
    fn secret_names_are_rfc1123_subdomains() {
        for good in ["px-k8s-user", "a.b.c", "1", &format!("{}.{}", "a".repeat(63), "b".repeat(189))] {
            assert_eq!(SecretName.check(good), Ok(()), "{good:?}");
        }
        for bad in ["", ".", "a..b", ".a", "a.", "A", "a_b", "a/b", "a:b", &"a".repeat(254)] {
            assert!(SecretName.check(bad).is_err(), "{bad:?} passed");
        }
    }

    #[test]
    fn secret_keys_follow_the_config_key_rule() {
        for good in ["auth-token", "KEY_NAME", "key.name", ".hidden", "a..b", "-", &"k".repeat(253)] {
            assert_eq!(SecretKey.check(good), Ok(()), "{good:?}");
        }
        for bad in ["", ".", "..", "..a", "a/b", "a b", "ключ", &"k".repeat(254)] {
            assert!(SecretKey.check(bad).is_err(), "{bad:?} passed");
        }
        assert_eq!(SecretKey.check("..").unwrap_err().problem, "must not be '..'");
    }

    #[test]
    fn the_message_quotes_the_value_and_the_rule() {
        let err = SecretName.check("").unwrap_err();
        assert_eq!(err.to_string(), format!("invalid secret name \"\": {SUBDOMAIN_RULE}"));
        // Control characters are escaped, so the error stays on one line.
        let err = Namespace.check("a\nb").unwrap_err().to_string();
        assert!(err.starts_with(r#"invalid namespace "a\nb": a lowercase RFC 1123 label"#), "{err}");
        let both = Namespace.check(&"A".repeat(64)).unwrap_err().problem;
        assert_eq!(both, format!("must be no more than 63 characters; {LABEL_RULE}"));
    }
}
