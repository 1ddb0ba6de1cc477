//! The `--from-file` tenant list: a YAML sequence of entries (or a mapping with key `tenants`),
//! each a namespace (or a tenant's `namespaces`) with, optionally, its own claims and Secret name. Everything in it is
//! checked when it is read, so a typo costs no request and no half-onboarded list.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{TenantGroup, TenantRequest};
use crate::claims::{Identity, claim_text_problem};
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

/// An entry as written: `namespace: a` or `namespaces: [a, b]`, exactly one of them. The claims
/// are spelled out rather than `#[serde(flatten)]`ed from [`Identity`]: flattening reads the
/// entry untyped first, so `namespace: 2024` or `sub: 0x1F` would be numbers, refused as such,
/// and an unknown key's error would lose its line.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    #[serde(default)]
    namespace: Option<String>,
    #[serde(default)]
    namespaces: Option<Vec<String>>,
    #[serde(default, rename = "secretName")]
    secret_name: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    sub: Option<String>,
    #[serde(default)]
    roles: Option<Vec<String>>,
    #[serde(default)]
    groups: Option<Vec<String>>,
}

/// The whole list: a sequence of entries, or a mapping whose only key is `tenants`. Told apart
/// by the YAML itself, not by trying one shape and then the other (`#[serde(untagged)]`), whose
/// only error is "data did not match any variant", without the line or the key at fault. A
/// scalar is refused without being quoted: it is what a key or token file looks like, given
/// here by mistake.
struct RawList(Vec<RawEntry>);

impl<'de> Deserialize<'de> for RawList {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<RawList, D::Error> {
        use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
        use serde::de::{Error, MapAccess, SeqAccess, Visitor};

        struct ListVisitor;
        impl<'de> Visitor<'de> for ListVisitor {
            type Value = RawList;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a list of tenant entries, or a mapping with key tenants")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<RawList, A::Error> {
                Vec::deserialize(SeqAccessDeserializer::new(seq)).map(RawList)
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawList, A::Error> {
                #[derive(Deserialize)]
                #[serde(deny_unknown_fields)]
                struct Wrapped {
                    tenants: Vec<RawEntry>,
                }
                Wrapped::deserialize(MapAccessDeserializer::new(map)).map(|wrapped| RawList(wrapped.tenants))
            }

            fn visit_str<E: Error>(self, _: &str) -> Result<RawList, E> {
                Err(E::custom("found text where a list of tenant entries was expected"))
            }

            fn visit_i64<E: Error>(self, _: i64) -> Result<RawList, E> {
                self.visit_str("")
            }

            fn visit_u64<E: Error>(self, _: u64) -> Result<RawList, E> {
                self.visit_str("")
            }

            fn visit_f64<E: Error>(self, _: f64) -> Result<RawList, E> {
                self.visit_str("")
            }

            fn visit_bool<E: Error>(self, _: bool) -> Result<RawList, E> {
                self.visit_str("")
            }
        }
        deserializer.deserialize_any(ListVisitor)
    }
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
        let RawEntry { secret_name, name, email, sub, roles, groups, .. } = raw;
        Ok(TenantEntry { namespaces, secret_name, identity: Identity { name, email, sub, roles, groups } })
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
    /// A name, email, subject, role or group that is blank or holds control characters.
    #[error("invalid tenant list {path}: the entry for namespace {namespace:?}: {what} {value:?} {problem}")]
    Claim { path: PathBuf, namespace: String, what: &'static str, value: String, problem: &'static str },
}

/// Reads a tenant list: a YAML sequence, or a mapping with key `tenants`.
pub fn read_tenant_list(path: &Path) -> Result<Vec<TenantEntry>, TenantListError> {
    let text =
        std::fs::read_to_string(path).map_err(|source| TenantListError::Read { path: path.to_owned(), source })?;
    parse_tenant_list(path, &text)
}

/// Parses and checks the text of a tenant list read from `path` (named in errors).
pub fn parse_tenant_list(path: &Path, text: &str) -> Result<Vec<TenantEntry>, TenantListError> {
    // No source snippet in errors: a key or token file given here by mistake would be quoted.
    let options = serde_saphyr::options! { with_snippet: false };
    let RawList(raw) = serde_saphyr::from_str_with_options::<RawList>(text, options)
        .map_err(|source| TenantListError::Parse { path: path.to_owned(), source: Box::new(source) })?;
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
/// rights, which is never what a list meant); no blank claim nor one with control characters.
fn check_entry(path: &Path, entry: &TenantEntry) -> Result<(), TenantListError> {
    let name_err = |source| TenantListError::Name { path: path.to_owned(), source };
    for namespace in &entry.namespaces {
        check_namespace(namespace).map_err(name_err)?;
    }
    if let Some(name) = &entry.secret_name {
        check_secret_name(name).map_err(name_err)?;
    }
    let empty = |list: &Option<Vec<String>>| list.iter().flatten().any(|item| item.trim().is_empty());
    let namespace = || entry.namespaces[0].clone();
    for (what, list) in [("role", &entry.identity.roles), ("group", &entry.identity.groups)] {
        if empty(list) {
            return Err(TenantListError::EmptyItem { path: path.to_owned(), namespace: namespace(), what });
        }
    }
    let identity = &entry.identity;
    let texts = [("name", &identity.name), ("email", &identity.email), ("sub", &identity.sub)]
        .into_iter()
        .filter_map(|(what, value)| Some((what, value.as_ref()?)))
        .chain(identity.roles.iter().flatten().map(|role| ("role", role)))
        .chain(identity.groups.iter().flatten().map(|group| ("group", group)));
    for (what, value) in texts {
        if let Some(problem) = claim_text_problem(value) {
            let (path, value) = (path.to_owned(), value.clone());
            return Err(TenantListError::Claim { path, namespace: namespace(), what, value, problem });
        }
    }
    Ok(())
}

#[cfg(test)]
#[path = "list_tests.rs"]
mod tests;
