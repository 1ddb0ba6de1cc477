//! A stand-in for `jsonpath-rust` with the one call kube-client makes,
//! [`JsonPath::query`](JsonPath::query), for the paths kubeconfig auth providers use.
//!
//! kube-client reads an access token and its expiry out of the JSON printed by a legacy `gcp`
//! auth provider's `cmd-path`, at the kubeconfig's `token-key` and `expiry-key`, which gcloud
//! writes as `{.credential.access_token}` and `{.credential.token_expiry}`. Those are field
//! steps from the root, so this crate supports exactly those: `$` followed by `.name`,
//! `['name']` / `["name"]` and `[index]` steps. Anything else (wildcards, `..`, filters,
//! slices, unions) is an [`UnsupportedPath`] error that names the path, which kube-client
//! reports as "Failed to query … as a JsonPath". A path to nothing gives no value, as in
//! `jsonpath-rust`, and kube-client says the value was not found.

use std::fmt;

use serde_json::Value;

/// A path this stand-in does not evaluate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsupportedPath {
    pub path: String,
}

impl fmt::Display for UnsupportedPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unsupported JSONPath {:?}: only field and index steps are supported ($.a.b, $['a'], $[0])",
            self.path
        )
    }
}

impl std::error::Error for UnsupportedPath {}

/// Queries a JSON value with a JSONPath made of field and index steps.
pub trait JsonPath {
    /// The values at `path`: one, or none when the path leads nowhere.
    fn query(&self, path: &str) -> Result<Vec<&Self>, UnsupportedPath>;
}

impl JsonPath for Value {
    fn query(&self, path: &str) -> Result<Vec<&Value>, UnsupportedPath> {
        let mut at = self;
        for step in steps(path).ok_or_else(|| UnsupportedPath { path: path.to_owned() })? {
            let next = match (step, at) {
                (Step::Field(name), Value::Object(map)) => map.get(name),
                (Step::Index(index), Value::Array(items)) => items.get(index),
                _ => None,
            };
            match next {
                Some(value) => at = value,
                None => return Ok(Vec::new()),
            }
        }
        Ok(vec![at])
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Step<'a> {
    Field(&'a str),
    Index(usize),
}

/// The steps of `path`, or `None` when it is not `$` followed by field and index steps.
fn steps(path: &str) -> Option<Vec<Step<'_>>> {
    let mut rest = path.strip_prefix('$')?;
    let mut steps = Vec::new();
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('.') {
            let end = after.find(['.', '[']).unwrap_or(after.len());
            let name = &after[..end];
            if name.is_empty() || name == "*" {
                return None;
            }
            steps.push(Step::Field(name));
            rest = &after[end..];
        } else if let Some(after) = rest.strip_prefix('[') {
            let (step, after) = bracket(after)?;
            steps.push(step);
            rest = after;
        } else {
            return None;
        }
    }
    Some(steps)
}

/// One `['name']`, `["name"]` or `[index]` step (after its `[`), and what follows it.
fn bracket(text: &str) -> Option<(Step<'_>, &str)> {
    if let Some(quote) = text.chars().next().filter(|c| *c == '\'' || *c == '"') {
        let inner = &text[1..];
        let end = inner.find(quote)?;
        let rest = inner[end + 1..].strip_prefix(']')?;
        return Some((Step::Field(&inner[..end]), rest));
    }
    let end = text.find(']')?;
    let digits = &text[..end];
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((Step::Index(digits.parse().ok()?), &text[end + 1..]))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn gcloud_output() -> Value {
        json!({"credential": {"access_token": "ya29.token", "token_expiry": "2027-01-01T00:00:00Z"},
               "configuration": {"properties": {"core": {"account": "a@example.com"}}},
               "list": ["zero", {"one": 1}]})
    }

    #[test]
    fn the_paths_gcloud_config_helper_is_read_with() {
        let json = gcloud_output();
        assert_eq!(json.query("$.credential.access_token").unwrap(), [&json!("ya29.token")]);
        assert_eq!(json.query("$.credential.token_expiry").unwrap(), [&json!("2027-01-01T00:00:00Z")]);
    }

    #[test]
    fn bracket_and_index_steps() {
        let json = gcloud_output();
        assert_eq!(json.query("$['credential'][\"access_token\"]").unwrap(), [&json!("ya29.token")]);
        assert_eq!(json.query("$.list[0]").unwrap(), [&json!("zero")]);
        assert_eq!(json.query("$.list[1].one").unwrap(), [&json!(1)]);
        assert_eq!(json.query("$['a.b']").unwrap(), Vec::<&Value>::new(), "a quoted name may hold a dot");
        assert_eq!(json.query("$").unwrap(), [&json]);
    }

    #[test]
    fn a_path_to_nothing_gives_no_value() {
        let json = gcloud_output();
        for path in
            ["$.credential.missing", "$.list[7]", "$.credential[0]", "$.list.one", "$.credential.access_token.x"]
        {
            assert!(json.query(path).unwrap().is_empty(), "{path}");
        }
    }

    #[test]
    fn other_jsonpath_is_refused_naming_the_path() {
        let json = gcloud_output();
        for path in [
            "credential",
            "$..access_token",
            "$.*",
            "$.list[*]",
            "$.list[-1]",
            "$.list[0:1]",
            "$[?(@.a)]",
            "$.",
            "$['a'",
            "$[]",
        ] {
            let err = json.query(path).unwrap_err();
            assert_eq!(err.path, path);
            assert!(err.to_string().starts_with(&format!("unsupported JSONPath {path:?}")), "{err}");
        }
    }
}
