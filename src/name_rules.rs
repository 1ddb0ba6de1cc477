//! Kubernetes' own name rules (apimachinery `validation.IsDNS1123Label`, `IsDNS1123Subdomain`,
//! `IsConfigMapKey`), checked before anything is printed or sent, so a bad name fails here with
//! the rule instead of later in `kubectl apply` with the API server's wording.
//!
//! Private stand-in until the shared `names` module lands; the generators only need these three.

/// A name that breaks one of Kubernetes' rules.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {what} {value:?}: {rule}")]
pub struct NameError {
    /// What the name is for, e.g. `namespace`, `secret name`.
    pub what: &'static str,
    pub value: String,
    pub rule: &'static str,
}

const LABEL_RULE: &str =
    "must be a DNS-1123 label: at most 63 lowercase letters, digits or '-', starting and ending with a letter or digit";
const SUBDOMAIN_RULE: &str = "must be a DNS-1123 subdomain: at most 253 lowercase letters, digits, '-' or '.', each dot-separated part starting and ending with a letter or digit";
const KEY_RULE: &str = "must be at most 253 letters, digits, '-', '_' or '.', and not '.' or '..'";

fn is_label(value: &str) -> bool {
    let bytes = value.as_bytes();
    (1..=63).contains(&bytes.len())
        && bytes.iter().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        && bytes[0] != b'-'
        && bytes[bytes.len() - 1] != b'-'
}

/// Namespaces: a DNS-1123 label.
pub fn check_label(what: &'static str, value: &str) -> Result<(), NameError> {
    if is_label(value) { Ok(()) } else { Err(NameError { what, value: value.to_owned(), rule: LABEL_RULE }) }
}

/// Secrets, StorageClasses, ServiceAccounts, RBAC objects: a DNS-1123 subdomain.
pub fn check_subdomain(what: &'static str, value: &str) -> Result<(), NameError> {
    // Each dot-separated part follows the label rule; only the total length differs.
    if value.len() <= 253 && value.split('.').all(is_label) {
        Ok(())
    } else {
        Err(NameError { what, value: value.to_owned(), rule: SUBDOMAIN_RULE })
    }
}

/// Keys inside a Secret's `data`.
pub fn check_secret_key(what: &'static str, value: &str) -> Result<(), NameError> {
    let allowed = |b: &u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.');
    if (1..=253).contains(&value.len()) && value.as_bytes().iter().all(allowed) && value != "." && value != ".." {
        Ok(())
    } else {
        Err(NameError { what, value: value.to_owned(), rule: KEY_RULE })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_subdomains_and_keys_follow_kubernetes() {
        for good in ["a", "team-a", "0ns", &"a".repeat(63)] {
            assert!(check_label("namespace", good).is_ok(), "{good}");
        }
        for bad in ["", "-a", "a-", "Team", "a.b", "a_b", &"a".repeat(64)] {
            assert!(check_label("namespace", bad).is_err(), "{bad}");
        }
        for good in ["px-k8s-user", "a.b.c", "portworx.example.com"] {
            assert!(check_subdomain("secret name", good).is_ok(), "{good}");
        }
        for bad in ["", ".a", "a..b", "a.", "A", "a/b", &"a".repeat(254)] {
            assert!(check_subdomain("secret name", bad).is_err(), "{bad}");
        }
        for good in ["shared-secret", "auth_token", ".hidden", "A.b-c"] {
            assert!(check_secret_key("key", good).is_ok(), "{good}");
        }
        for bad in ["", ".", "..", "a/b", "a b"] {
            assert!(check_secret_key("key", bad).is_err(), "{bad}");
        }
        let err = check_label("namespace", "Team_A").unwrap_err().to_string();
        assert!(err.starts_with("invalid namespace \"Team_A\": must be a DNS-1123 label"), "{err}");
    }
}
