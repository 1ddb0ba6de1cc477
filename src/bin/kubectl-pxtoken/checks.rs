//! Local checks of flag values, before any request: names and keys by Kubernetes' rules, no
//! empty values. A refused value is a usage error (exit 2) whose line names the flag, in
//! kubectl's words: `error: invalid --secret-name "": a lowercase RFC 1123 subdomain …`.

use std::path::Path;

use pxtoken::claims::{Identity, claim_text_problem};
use pxtoken::names::{InvalidName, NameRule};

/// A flag value refused before anything ran: exit 2, like clap's own usage errors.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Refuses `value` of `flag` unless Kubernetes would take it as a `kind`, in kubectl's words:
/// `invalid --secret-name "": a lowercase RFC 1123 subdomain must consist of …`.
pub fn check_name(flag: &str, rule: NameRule, value: &str) -> Result<(), UsageError> {
    match rule.problem(value) {
        None => Ok(()),
        Some(problem) => Err(UsageError(format!("invalid {flag} {value:?}: {problem}"))),
    }
}

/// Refuses `value` of `flag` when the check of one of its parts (a namespace, name or key inside
/// it) failed: `invalid --save-secret "Bad/x": namespace "Bad": a lowercase RFC 1123 label …`.
pub fn check_part(flag: &str, value: &str, part: Result<(), InvalidName>) -> Result<(), UsageError> {
    part.map_err(|err| invalid_part(flag, value, &err))
}

/// The usage error for `value` of `flag` whose part `err` is invalid.
pub fn invalid_part(flag: &str, value: &str, err: &InvalidName) -> UsageError {
    UsageError(format!("invalid {flag} {value:?}: {} {:?}: {}", err.what, err.value, err.problem))
}

/// Namespaces given as arguments (`tenant NS1 NS2 …`): each by Kubernetes' rules, none twice.
pub fn check_namespaces(namespaces: &[String]) -> Result<(), UsageError> {
    for (i, namespace) in namespaces.iter().enumerate() {
        check_name("namespace", NameRule::Label, namespace)?;
        if namespaces[..i].contains(namespace) {
            return Err(UsageError(format!("namespace {namespace:?} is given twice")));
        }
    }
    Ok(())
}

/// Refuses an empty or blank value of `flag` (`--image ''`).
pub fn check_not_empty(flag: &str, value: Option<&str>) -> Result<(), UsageError> {
    match value {
        Some(value) if value.trim().is_empty() => {
            Err(UsageError(format!("invalid {flag} {value:?}: must not be empty")))
        }
        _ => Ok(()),
    }
}

/// Refuses a container image reference with blanks or control characters (a pasted newline
/// would reach the manifest and fail only when the CronJob runs), or an empty one.
pub fn check_image(flag: &str, value: &str) -> Result<(), UsageError> {
    check_not_empty(flag, Some(value))?;
    if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(UsageError(format!(
            "invalid {flag} {value:?}: an image reference has no spaces or control characters"
        )));
    }
    Ok(())
}

/// Refuses a value of `flag` that goes into a token as text (a claim, the issuer) when it is
/// blank (`--name ''` would issue a token without a name) or holds control characters.
pub fn check_claim_text(flag: &str, value: Option<&str>) -> Result<(), UsageError> {
    match value.and_then(|value| Some((value, claim_text_problem(value)?))) {
        Some((value, problem)) => Err(UsageError(format!("invalid {flag} {value:?}: {problem}"))),
        None => Ok(()),
    }
}

/// Refuses a blank `--name`, `--email` or `--sub` (a token without one is refused by Portworx),
/// or one with control characters.
pub fn check_identity_flags(identity: &Identity) -> Result<(), UsageError> {
    check_claim_text("--name", identity.name.as_deref())?;
    check_claim_text("--email", identity.email.as_deref())?;
    check_claim_text("--sub", identity.sub.as_deref())
}

/// Refuses a `flag` path that cannot name a file to write (empty, `.`, `..`, ending in `/`),
/// before anything is issued or sent.
pub fn check_output_file(flag: &str, path: &Path) -> Result<(), UsageError> {
    let text = path.as_os_str().to_string_lossy();
    if path.file_name().is_none() || text.ends_with('/') {
        return Err(UsageError(format!("invalid {flag} {text:?}: not a file name")));
    }
    Ok(())
}

/// Splits `--roles a,b --roles c` into one list; `None` when the flag was not given. An empty
/// value or item (`--roles ''`, `--roles a,,b`) is refused: Portworx reads `roles: []` as no
/// rights at all, which is never what was meant.
pub fn list_flag(flag: &str, values: &[String]) -> Result<Option<Vec<String>>, UsageError> {
    if values.is_empty() {
        return Ok(None);
    }
    let mut items = Vec::new();
    for value in values {
        for item in value.split(',').map(str::trim) {
            if let Some(problem) = claim_text_problem(item) {
                let problem = match problem {
                    "must not be empty" if !value.trim().is_empty() => "has an empty item",
                    problem => problem,
                };
                return Err(UsageError(format!("invalid {flag} {value:?}: {problem}")));
            }
            items.push(item.to_owned());
        }
    }
    Ok(Some(items))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_flags_split_and_refuse_empty_items() {
        let values = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(list_flag("--roles", &[]).unwrap(), None);
        assert_eq!(list_flag("--roles", &values(&["a, b", "c"])).unwrap(), Some(values(&["a", "b", "c"])));
        let err = list_flag("--roles", &values(&[""])).unwrap_err().to_string();
        assert_eq!(err, r#"invalid --roles "": must not be empty"#);
        let err = list_flag("--groups", &values(&["a", "a,,b"])).unwrap_err().to_string();
        assert_eq!(err, r#"invalid --groups "a,,b": has an empty item"#);
        assert!(list_flag("--roles", &values(&["a,"])).is_err());
        assert!(list_flag("--roles", &values(&[" "])).is_err());
    }

    #[test]
    fn names_are_refused_naming_the_flag() {
        let err = check_name("--secret-name", NameRule::Subdomain, "").unwrap_err().to_string();
        assert!(
            err.starts_with(r#"invalid --secret-name "": a lowercase RFC 1123 subdomain must consist of"#),
            "{err}"
        );
        assert!(check_name("--secret-key", NameRule::DataKey, "auth-token").is_ok());
        assert!(check_claim_text("--name", Some(" ")).is_err());
        assert!(check_claim_text("--name", None).is_ok());
        for bad in ["", ".", "..", "tokens/", "/"] {
            let err = check_output_file("--token-file", Path::new(bad)).unwrap_err().to_string();
            assert_eq!(err, format!("invalid --token-file {bad:?}: not a file name"));
        }
        assert!(check_output_file("--output", Path::new("admin.jwt")).is_ok());
        let err = check_image("--image", "repo/img:1\n").unwrap_err().to_string();
        assert_eq!(err, r#"invalid --image "repo/img:1\n": an image reference has no spaces or control characters"#);
        assert!(check_image("--image", "ghcr.io/a/b:1.0@sha256:00").is_ok());
        let err = check_claim_text("--sub", Some("a\nb")).unwrap_err().to_string();
        assert_eq!(err, r#"invalid --sub "a\nb": must not contain control characters"#);
        let err = list_flag("--roles", &["system.user,\u{1b}[1m".to_string()]).unwrap_err().to_string();
        assert_eq!(err, r#"invalid --roles "system.user,\u{1b}[1m": must not contain control characters"#);
    }
}
