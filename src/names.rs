//! Kubernetes' own rules for the names and keys a user types (apimachinery
//! `pkg/util/validation`), checked before any request.
//!
//! Without this, a bad name costs a round trip and comes back worded for the wrong problem:
//! `--secret-name ''` as "cannot reach the API server … A non-empty name is required", a
//! namespace `Bad_NS!` as "not found". The wording follows apimachinery's, so a user who knows
//! kubectl's messages recognises these.

/// Longest namespace (an RFC 1123 label).
pub const MAX_LABEL: usize = 63;
/// Longest Secret name or data key (an RFC 1123 subdomain's length).
pub const MAX_SUBDOMAIN: usize = 253;

const LABEL_RULE: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name' or '123-abc')";
const SUBDOMAIN_RULE: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com')";
const KEY_RULE: &str =
    "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name' or 'KEY_NAME')";

/// Which of Kubernetes' rules a name must follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameRule {
    /// An RFC 1123 label, at most 63 characters: namespaces.
    Label,
    /// An RFC 1123 subdomain, at most 253 characters: Secrets, StorageClasses, most objects.
    Subdomain,
    /// `[-._a-zA-Z0-9]+`, at most 253 characters, not `.`, `..` or starting with `..`: keys in a
    /// Secret's or ConfigMap's data.
    DataKey,
}

/// A name Kubernetes would refuse. `what` says what it names (`namespace`, `secret name`, …);
/// `problem` is apimachinery's wording, without the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {what} {value:?}: {problem}")]
pub struct InvalidName {
    pub what: &'static str,
    pub value: String,
    pub problem: String,
}

/// A namespace.
pub fn check_namespace(value: &str) -> Result<(), InvalidName> {
    NameRule::Label.check("namespace", value)
}

/// A Secret's name.
pub fn check_secret_name(value: &str) -> Result<(), InvalidName> {
    NameRule::Subdomain.check("secret name", value)
}

/// A key in a Secret's data.
pub fn check_secret_key(value: &str) -> Result<(), InvalidName> {
    NameRule::DataKey.check("secret key", value)
}

impl NameRule {
    /// Checks `value`, which names a `what` (for the message), against this rule.
    pub fn check(self, what: &'static str, value: &str) -> Result<(), InvalidName> {
        match self.problem(value) {
            None => Ok(()),
            Some(problem) => Err(InvalidName { what, value: value.to_owned(), problem }),
        }
    }

    /// Why `value` breaks this rule (every reason, `; `-joined), if it does.
    pub fn problem(self, value: &str) -> Option<String> {
        let mut problems = Vec::new();
        let max = if self == NameRule::Label { MAX_LABEL } else { MAX_SUBDOMAIN };
        if value.len() > max {
            problems.push(format!("must be no more than {max} characters"));
        }
        let (shape_ok, rule) = match self {
            NameRule::Label => (is_label(value), LABEL_RULE),
            NameRule::Subdomain => (value.split('.').all(is_label), SUBDOMAIN_RULE),
            NameRule::DataKey => {
                (!value.is_empty() && value.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b)), KEY_RULE)
            }
        };
        if !shape_ok {
            problems.push(rule.to_owned());
        }
        if self == NameRule::DataKey {
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
    use NameRule::*;

    fn check(rule: NameRule, value: &str) -> Result<(), InvalidName> {
        rule.check("name", value)
    }

    #[test]
    fn namespaces_are_rfc1123_labels() {
        for good in ["a", "team-a", "0", "123-abc", &"a".repeat(63)] {
            assert_eq!(check(Label, good), Ok(()), "{good:?}");
        }
        for bad in ["", "Bad_NS!", "-a", "a-", "a.b", "Team", "é", "a b", "a\n", &"a".repeat(64)] {
            assert!(check(Label, bad).is_err(), "{bad:?} passed");
        }
        let err = check(Label, &"a".repeat(64)).unwrap_err();
        assert_eq!(err.problem, "must be no more than 63 characters", "a long valid label has one problem");
    }

    #[test]
    fn secret_names_are_rfc1123_subdomains() {
        for good in ["px-k8s-user", "a.b.c", "1", &format!("{}.{}", "a".repeat(63), "b".repeat(189))] {
            assert_eq!(check(Subdomain, good), Ok(()), "{good:?}");
        }
        for bad in ["", ".", "a..b", ".a", "a.", "A", "a_b", "a/b", "a:b", &"a".repeat(254)] {
            assert!(check(Subdomain, bad).is_err(), "{bad:?} passed");
        }
    }

    #[test]
    fn secret_keys_follow_the_config_key_rule() {
        for good in ["auth-token", "KEY_NAME", "key.name", ".hidden", "a..b", "-", &"k".repeat(253)] {
            assert_eq!(check(DataKey, good), Ok(()), "{good:?}");
        }
        for bad in ["", ".", "..", "..a", "a/b", "a b", "ключ", &"k".repeat(254)] {
            assert!(check(DataKey, bad).is_err(), "{bad:?} passed");
        }
        assert_eq!(check(DataKey, "..").unwrap_err().problem, "must not be '..'");
    }

    #[test]
    fn the_message_quotes_the_value_and_the_rule() {
        let err = check_secret_name("").unwrap_err();
        assert_eq!(err.to_string(), format!("invalid secret name \"\": {SUBDOMAIN_RULE}"));
        assert!(check_secret_key("..").unwrap_err().to_string().starts_with("invalid secret key"));
        // Control characters are escaped, so the error stays on one line.
        let err = check_namespace("a\nb").unwrap_err().to_string();
        assert!(err.starts_with(r#"invalid namespace "a\nb": a lowercase RFC 1123 label"#), "{err}");
        let both = check(Label, &"A".repeat(64)).unwrap_err().problem;
        assert_eq!(both, format!("must be no more than 63 characters; {LABEL_RULE}"));
    }

    mod properties {
        use proptest::prelude::*;
        use regex::Regex;

        use super::*;

        /// apimachinery's own expressions (`pkg/util/validation/validation.go`) and limits.
        fn kubernetes_accepts(rule: NameRule, value: &str) -> bool {
            let label = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
            match rule {
                Label => Regex::new(&format!(r"\A{label}\z")).unwrap().is_match(value) && value.len() <= 63,
                Subdomain => {
                    Regex::new(&format!(r"\A{label}(\.{label})*\z")).unwrap().is_match(value) && value.len() <= 253
                }
                DataKey => {
                    Regex::new(r"\A[-._a-zA-Z0-9]+\z").unwrap().is_match(value)
                        && value.len() <= 253
                        && value != "."
                        && value != ".."
                        && !value.starts_with("..")
                }
            }
        }

        /// Valid names of every rule, near misses (upper case, `_`, `/`, dots, dashes at the ends,
        /// lengths around 63 and 253) and anything at all.
        fn names() -> impl Strategy<Value = String> {
            prop_oneof![
                "[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?",
                "[a-z0-9-]{1,8}(\\.[a-z0-9-]{0,8}){0,4}",
                "[-._a-zA-Z0-9]{1,12}",
                "[-._a-zA-Z0-9/: \t\n\x1b]{0,16}",
                "[a-z]{60,66}",
                "([a-z]{60,63}\\.){3}[a-z]{60,66}",
                "[-._A-Za-z0-9]{250,256}",
                any::<String>(),
            ]
        }

        proptest! {
            #[test]
            fn every_rule_agrees_with_kubernetes(value in names()) {
                for rule in [Label, Subdomain, DataKey] {
                    let ours = rule.check("name", &value);
                    prop_assert_eq!(ours.is_ok(), kubernetes_accepts(rule, &value), "{:?} {:?}: {:?}", rule, value, ours);
                    if let Err(err) = ours {
                        prop_assert!(!err.to_string().contains(['\n', '\x1b']), "escaped: {err}");
                    }
                }
            }
        }
    }
}
