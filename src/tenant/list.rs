//! The `--from-file` tenant list: a YAML sequence of entries (or a mapping with key `tenants`),
//! each a namespace (or a tenant's `namespaces`) with, optionally, its own claims and Secret name. Everything in it is
//! checked when it is read, so a typo costs no request and no half-onboarded list.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{TenantGroup, TenantRequest};
use crate::claims::Identity;
use crate::names::{InvalidName, check_namespace, check_secret_name};

/// One tenant of a list: its namespace, or every namespace it owns (one identity in all), and,
/// optionally, its own claims and Secret.
#[derive(Debug, Clone)]
pub struct TenantEntry {
    /// At least one; the first names the tenant by default.
    pub namespaces: Vec<String>,
    pub secret_name: Option<String>,
    pub identity: Identity,
}

/// An entry as written: `namespace: a` or `namespaces: [a, b]`, exactly one of them.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    #[serde(default)]
    namespace: Option<String>,
    #[serde(default)]
    namespaces: Option<Vec<String>>,
    #[serde(default, rename = "secretName")]
    secret_name: Option<String>,
    #[serde(flatten)]
    identity: Identity,
}

impl TryFrom<RawEntry> for TenantEntry {
    type Error = &'static str;

    fn try_from(raw: RawEntry) -> Result<TenantEntry, &'static str> {
        let namespaces = match (raw.namespace, raw.namespaces) {
            (Some(namespace), None) => vec![namespace],
            (None, Some(namespaces)) if !namespaces.is_empty() => namespaces,
            (None, Some(_)) => return Err("namespaces is empty"),
            (None, None) => return Err("needs namespace or namespaces"),
            (Some(_), Some(_)) => return Err("has both namespace and namespaces; give one"),
        };
        Ok(TenantEntry { namespaces, secret_name: raw.secret_name, identity: raw.identity })
    }
}

impl TenantEntry {
    /// The tenant for this entry: `template` (from the command line) aimed at this entry's
    /// namespaces and Secret. An entry is as specific as flags, and flags still win over it, as
    /// they do over the auth-config file.
    pub fn group(&self, template: &TenantRequest) -> TenantGroup {
        let mut request = template.clone();
        request.target.namespace = self.namespaces[0].clone();
        if let Some(name) = &self.secret_name {
            request.target.name = name.clone();
        }
        request.flags = template.flags.clone().or(self.identity.clone());
        TenantGroup { request, namespaces: self.namespaces.clone() }
    }
}

/// Why a tenant list could not be used.
#[derive(Debug, thiserror::Error)]
pub enum TenantListError {
    #[error("cannot read tenant list {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid tenant list {path}")]
    Parse {
        path: PathBuf,
        #[source]
        source: Box<serde_saphyr::Error>,
    },
    #[error("invalid tenant list {path}")]
    Name {
        path: PathBuf,
        #[source]
        source: InvalidName,
    },
    #[error("invalid tenant list {path}: entry {number}: {problem}")]
    Entry { path: PathBuf, number: usize, problem: &'static str },
    #[error("invalid tenant list {path}: namespace {namespace:?} is listed twice")]
    Duplicate { path: PathBuf, namespace: String },
    #[error("invalid tenant list {path}: the entry for namespace {namespace:?} has an empty {what}")]
    EmptyItem { path: PathBuf, namespace: String, what: &'static str },
}

/// Reads a tenant list: a YAML sequence, or a mapping with key `tenants`.
pub fn read_tenant_list(path: &Path) -> Result<Vec<TenantEntry>, TenantListError> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum List {
        Bare(Vec<RawEntry>),
        Wrapped { tenants: Vec<RawEntry> },
    }
    let text =
        std::fs::read_to_string(path).map_err(|source| TenantListError::Read { path: path.to_owned(), source })?;
    let list = serde_saphyr::from_str::<List>(&text)
        .map_err(|source| TenantListError::Parse { path: path.to_owned(), source: Box::new(source) })?;
    let raw = match list {
        List::Bare(entries) | List::Wrapped { tenants: entries } => entries,
    };
    let entries = raw
        .into_iter()
        .enumerate()
        .map(|(index, raw)| {
            TenantEntry::try_from(raw).map_err(|problem| TenantListError::Entry {
                path: path.to_owned(),
                number: index + 1,
                problem,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    // A namespace listed twice, in one entry or two, would get two identities or one twice.
    let mut seen = BTreeSet::new();
    for entry in &entries {
        check_entry(path, entry)?;
        for namespace in &entry.namespaces {
            if !seen.insert(namespace.clone()) {
                return Err(TenantListError::Duplicate { path: path.to_owned(), namespace: namespace.clone() });
            }
        }
    }
    Ok(entries)
}

/// Names by Kubernetes' rules; no empty role or group (Portworx reads `roles: [""]` as no
/// rights, which is never what a list meant).
fn check_entry(path: &Path, entry: &TenantEntry) -> Result<(), TenantListError> {
    let name_err = |source| TenantListError::Name { path: path.to_owned(), source };
    for namespace in &entry.namespaces {
        check_namespace(namespace).map_err(name_err)?;
    }
    if let Some(name) = &entry.secret_name {
        check_secret_name(name).map_err(name_err)?;
    }
    let empty = |list: &Option<Vec<String>>| list.iter().flatten().any(|item| item.trim().is_empty());
    for (what, list) in [("role", &entry.identity.roles), ("group", &entry.identity.groups)] {
        if empty(list) {
            let namespace = entry.namespaces[0].clone();
            return Err(TenantListError::EmptyItem { path: path.to_owned(), namespace, what });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<Vec<TenantEntry>, TenantListError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.yaml");
        std::fs::write(&path, text).unwrap();
        read_tenant_list(&path)
    }

    #[test]
    fn tenant_lists_parse_bare_or_wrapped() {
        let list = read("- namespace: a\n- namespace: b\n  name: Team B\n  groups: [x]\n  secretName: tok\n").unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list[1].identity.name.as_deref(), Some("Team B"));
        assert_eq!(list[1].secret_name.as_deref(), Some("tok"));
        assert_eq!(read("tenants:\n  - namespace: a\n").unwrap().len(), 1);
        assert!(matches!(read("- namespace: a\n- namespace: a\n"), Err(TenantListError::Duplicate { .. })));
        assert!(matches!(read("- namespace: a\n  nmae: typo\n"), Err(TenantListError::Parse { .. })));
    }

    #[test]
    fn an_entry_lists_one_namespace_or_several() {
        let list = read("- namespaces: [a, a-dev]\n  sub: s-1\n- namespace: b\n").unwrap();
        assert_eq!(list[0].namespaces, ["a", "a-dev"]);
        assert_eq!(list[0].identity.sub.as_deref(), Some("s-1"));
        assert_eq!(list[1].namespaces, ["b"]);
        for (text, says) in [
            ("- namespaces: []\n", "entry 1: namespaces is empty"),
            ("- namespace: a\n- name: x\n", "entry 2: needs namespace or namespaces"),
            ("- namespace: a\n  namespaces: [b]\n", "entry 1: has both namespace and namespaces; give one"),
        ] {
            let err = read(text).unwrap_err().to_string();
            assert!(err.starts_with("invalid tenant list ") && err.ends_with(says), "{text}: {err}");
        }
        let err = read("- namespaces: [a, b]\n- namespace: b\n").unwrap_err();
        assert!(matches!(&err, TenantListError::Duplicate { namespace, .. } if namespace == "b"), "{err:?}");
        let err = read("- namespaces: [a, a]\n").unwrap_err();
        assert!(matches!(err, TenantListError::Duplicate { .. }), "{err:?}");
        let err = read("- namespaces: [a, Bad_NS]\n").unwrap_err();
        assert!(matches!(&err, TenantListError::Name { source, .. } if source.value == "Bad_NS"), "{err:?}");
    }

    #[test]
    fn names_and_empty_items_are_refused_when_read() {
        let err = read("- namespace: Bad_NS!\n").unwrap_err();
        assert!(matches!(&err, TenantListError::Name { source, .. } if source.what == "namespace"), "{err:?}");
        let err = read("- namespace: \"\"\n").unwrap_err();
        assert!(matches!(err, TenantListError::Name { .. }), "{err:?}");
        let err = read("- namespace: a\n  secretName: Tok\n").unwrap_err();
        assert!(matches!(&err, TenantListError::Name { source, .. } if source.what == "secret name"), "{err:?}");
        let err = read("- namespace: a\n  roles: [system.user, \"\"]\n").unwrap_err();
        assert!(err.to_string().ends_with("the entry for namespace \"a\" has an empty role"), "{err}");
        let err = read("- namespace: a\n  groups: [\" \"]\n").unwrap_err();
        assert!(err.to_string().ends_with("has an empty group"), "{err}");
    }

    #[test]
    fn entries_are_as_specific_as_flags_and_flags_win() {
        let template = crate::tenant::tests::request(Identity { name: Some("flag".into()), ..Identity::default() });
        let entry = TenantEntry {
            namespaces: vec!["b".into(), "b-dev".into()],
            secret_name: Some("tok".into()),
            identity: Identity { name: Some("entry".into()), email: Some("b@x".into()), ..Identity::default() },
        };
        let group = entry.group(&template);
        assert_eq!(group.namespaces, ["b", "b-dev"]);
        let request = group.request;
        assert_eq!((request.target.namespace.as_str(), request.target.name.as_str()), ("b", "tok"));
        assert_eq!(request.flags.name.as_deref(), Some("flag"));
        assert_eq!(request.flags.email.as_deref(), Some("b@x"));
    }
}
