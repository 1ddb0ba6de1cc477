//! The `--from-file` tenant list: a YAML sequence of entries (or a mapping with key `tenants`),
//! each a namespace with, optionally, its own claims and Secret name. Everything in it is
//! checked when it is read, so a typo costs no request and no half-onboarded list.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::TenantRequest;
use crate::claims::Identity;
use crate::names::{InvalidName, check_namespace, check_secret_name};

/// One tenant of a list: its namespace and, optionally, its own claims and Secret.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantEntry {
    pub namespace: String,
    #[serde(default, rename = "secretName")]
    pub secret_name: Option<String>,
    #[serde(flatten)]
    pub identity: Identity,
}

impl TenantEntry {
    /// The request for this entry: `template` (from the command line) aimed at this entry's
    /// namespace and Secret. An entry is as specific as flags, and flags still win over it, as
    /// they do over the auth-config file.
    pub fn request(&self, template: &TenantRequest) -> TenantRequest {
        let mut request = template.clone();
        request.target.namespace = self.namespace.clone();
        if let Some(name) = &self.secret_name {
            request.target.name = name.clone();
        }
        request.flags = template.flags.clone().or(self.identity.clone());
        request
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
        Bare(Vec<TenantEntry>),
        Wrapped { tenants: Vec<TenantEntry> },
    }
    let text =
        std::fs::read_to_string(path).map_err(|source| TenantListError::Read { path: path.to_owned(), source })?;
    let list = serde_saphyr::from_str::<List>(&text)
        .map_err(|source| TenantListError::Parse { path: path.to_owned(), source: Box::new(source) })?;
    let entries = match list {
        List::Bare(entries) | List::Wrapped { tenants: entries } => entries,
    };
    let mut seen = BTreeSet::new();
    for entry in &entries {
        check_entry(path, entry)?;
        if !seen.insert(entry.namespace.clone()) {
            return Err(TenantListError::Duplicate { path: path.to_owned(), namespace: entry.namespace.clone() });
        }
    }
    Ok(entries)
}

/// Names by Kubernetes' rules; no empty role or group (Portworx reads `roles: [""]` as no
/// rights, which is never what a list meant).
fn check_entry(path: &Path, entry: &TenantEntry) -> Result<(), TenantListError> {
    let name_err = |source| TenantListError::Name { path: path.to_owned(), source };
    check_namespace(&entry.namespace).map_err(name_err)?;
    if let Some(name) = &entry.secret_name {
        check_secret_name(name).map_err(name_err)?;
    }
    let empty = |list: &Option<Vec<String>>| list.iter().flatten().any(|item| item.trim().is_empty());
    for (what, list) in [("role", &entry.identity.roles), ("group", &entry.identity.groups)] {
        if empty(list) {
            return Err(TenantListError::EmptyItem { path: path.to_owned(), namespace: entry.namespace.clone(), what });
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
            namespace: "b".into(),
            secret_name: Some("tok".into()),
            identity: Identity { name: Some("entry".into()), email: Some("b@x".into()), ..Identity::default() },
        };
        let request = entry.request(&template);
        assert_eq!((request.target.namespace.as_str(), request.target.name.as_str()), ("b", "tok"));
        assert_eq!(request.flags.name.as_deref(), Some("flag"));
        assert_eq!(request.flags.email.as_deref(), Some("b@x"));
    }
}
