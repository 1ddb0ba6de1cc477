//! Every token Secret in scope, judged, one row at a time: the Secrets the plugin manages
//! (found by its managed-by label) and the hand-made ones the documented workflow leaves
//! (found by name, e.g. `px-k8s-user`, with a field selector), merged in kubectl's order.
//!
//! Memory stays flat with the number of Secrets: each selector is read `limit` Secrets at a
//! time (`continue` tokens), each page is judged as it arrives and its Secrets dropped (rows
//! carry no token), and the streams are merged holding one page each. Rows go to a callback;
//! nothing collects them. Paging is [`crate::paging::Pages`], pulled by the merge.

mod lean;
mod merge;

use std::collections::BTreeMap;
use std::ops::ControlFlow;

use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, ListParams};
use serde::Serialize;

use crate::connection::{ApiAction, ApiError, Connection};
use crate::paging::Pages;
use crate::token_health::{Judge, KeyStamp, TokenReport, Verdict};
use crate::token_secret::{DEFAULT_SECRET_KEY, DEFAULT_SECRET_NAME, MANAGED_BY_LABEL, MANAGED_BY_VALUE};
use lean::LeanSecret;
use merge::{PagedSource, merge_sorted};

/// Secrets per list request: big enough that 10,000 Secrets take 20 requests, small enough that
/// a page of token Secrets stays around a megabyte.
pub const DEFAULT_PAGE_SIZE: u32 = 500;

/// Where to look.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// `-A`: one cluster-wide list per selector.
    AllNamespaces,
    /// These namespaces, listed one after the other in sorted order (so the rows come out in
    /// the same order `-A` would give them).
    Namespaces(Vec<String>),
}

/// What to list.
#[derive(Debug, Clone)]
pub struct ListOptions {
    pub scope: Scope,
    /// Names of hand-made token Secrets to find without the label.
    pub secret_names: Vec<String>,
    /// The data key holding the token.
    pub secret_key: String,
    pub page_size: u32,
}

impl ListOptions {
    /// The documented workflow's Secret (`px-k8s-user`, key `auth-token`) in `scope`.
    pub fn new(scope: Scope) -> ListOptions {
        ListOptions {
            scope,
            secret_names: vec![DEFAULT_SECRET_NAME.to_owned()],
            secret_key: DEFAULT_SECRET_KEY.to_owned(),
            page_size: DEFAULT_PAGE_SIZE,
        }
    }
}

/// One token Secret, judged. Holds no token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenRow {
    pub namespace: String,
    pub secret: String,
    /// The data key the token was read from; `None` when the Secret holds no token.
    pub key: Option<String>,
    /// Carries the plugin's managed-by label.
    pub managed: bool,
    /// The key that signed the token, as recorded when the plugin stored it (the
    /// `key-source` annotation, e.g. `secret:kube-system/pxkeys:shared-secret`); `None` for
    /// hand-made Secrets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_source: Option<String>,
    pub report: TokenReport,
}

impl TokenRow {
    /// The STATUS column: the verdict, with `,unmanaged` for a hand-made Secret, in the
    /// comma-joined style of kubectl's node status (`Ready,SchedulingDisabled`), so neither a
    /// problem nor the need for adoption hides the other.
    pub fn status(&self) -> String {
        if self.managed { self.report.verdict.to_string() } else { format!("{},unmanaged", self.report.verdict) }
    }

    /// Judges the token in `secret`: under `key`, else under the Secret's only data key.
    pub fn from_secret(secret: &Secret, key: &str, managed: bool, judge: &Judge, now: i64) -> TokenRow {
        let namespace = secret.metadata.namespace.clone().unwrap_or_default();
        let name = secret.metadata.name.clone().unwrap_or_default();
        let stored = secret.metadata.annotations.as_ref().and_then(KeyStamp::from_annotations);
        let data = secret.data.as_ref();
        let found = data.and_then(|d| d.get_key_value(key)).or_else(|| data.filter(|d| d.len() == 1)?.iter().next());
        let (key, report) = match found {
            Some((found_key, bytes)) => {
                let report = match std::str::from_utf8(&bytes.0) {
                    Ok(token) => judge.judge(token, now, stored.as_ref()),
                    Err(_) => no_token(judge, now, format!("the value under {found_key:?} is not text")),
                };
                (Some(found_key.clone()), report)
            }
            None => {
                let keys: Vec<&str> = data.into_iter().flat_map(|d| d.keys().map(String::as_str)).collect();
                (None, no_token(judge, now, format!("no token under key {key:?} (keys: {})", list_or_none(&keys))))
            }
        };
        let key_source = stored.map(|stamp| stamp.source);
        TokenRow { namespace, secret: name, key, managed, key_source, report }
    }
}

fn no_token(judge: &Judge, now: i64, reason: String) -> TokenReport {
    TokenReport { reason, ..judge.judge("", now, None) }
}

fn list_or_none(keys: &[&str]) -> String {
    if keys.is_empty() { "none".into() } else { keys.join(", ") }
}

/// What a listing saw, for the summary line, `--fail-on` and the benchmark.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListSummary {
    pub rows: usize,
    pub managed: usize,
    pub by_verdict: BTreeMap<Verdict, usize>,
    /// List requests sent.
    pub requests: usize,
    /// False when no key was available: say once that signatures were not checked.
    pub signature_checked: bool,
    /// The callback asked to stop before the end.
    pub stopped: bool,
}

impl ListSummary {
    pub fn count(&self, verdict: Verdict) -> usize {
        self.by_verdict.get(&verdict).copied().unwrap_or(0)
    }

    /// Tokens that need attention: expiring, or anything Portworx would reject.
    pub fn not_valid(&self) -> usize {
        self.rows - self.count(Verdict::Valid)
    }

    /// Tokens Portworx would reject now.
    pub fn rejected(&self) -> usize {
        self.by_verdict.iter().filter(|(verdict, _)| !verdict.accepted()).map(|(_, n)| n).sum()
    }
}

/// Lists and judges every token Secret in scope, handing rows to `each` in kubectl's order
/// (namespace, then name). A refused list is an [`ApiError::Forbidden`] naming the verb,
/// resource and scope to grant.
pub async fn list_tokens(
    conn: &Connection,
    options: &ListOptions,
    judge: &Judge,
    now: i64,
    mut each: impl FnMut(TokenRow) -> ControlFlow<()>,
) -> Result<ListSummary, ApiError> {
    let mut summary = ListSummary { signature_checked: !judge.keys.is_empty(), ..ListSummary::default() };
    let namespaces: Vec<Option<String>> = match &options.scope {
        Scope::AllNamespaces => vec![None],
        Scope::Namespaces(list) => {
            let mut list = list.clone();
            list.sort();
            list.dedup();
            list.into_iter().map(Some).collect()
        }
    };
    let mut names = options.secret_names.clone();
    names.sort();
    names.dedup();
    for namespace in namespaces {
        let api: Api<LeanSecret> = match &namespace {
            Some(ns) => Api::namespaced(conn.client.clone(), ns),
            None => Api::all(conn.client.clone()),
        };
        let action = ApiAction::new("list", "secrets", namespace.as_deref(), None);
        let source = |selector: Selector| SecretPages {
            pages: Pages::new(conn, api.clone(), &selector.params(options.page_size), action.clone()),
            managed: matches!(selector, Selector::Managed),
            key: &options.secret_key,
            judge,
            now,
        };
        let mut sources: Vec<SecretPages<'_>> = std::iter::once(source(Selector::Managed))
            .chain(names.iter().map(|name| source(Selector::Named(name))))
            .collect();
        let flow = merge_sorted(&mut sources, storage_key, |row| {
            summary.rows += 1;
            summary.managed += usize::from(row.managed);
            *summary.by_verdict.entry(row.report.verdict).or_default() += 1;
            each(row)
        })
        .await;
        summary.requests += sources.iter().map(|s| s.pages.requests()).sum::<usize>();
        if flow?.is_break() {
            summary.stopped = true;
            break;
        }
    }
    Ok(summary)
}

/// Why the token of one Secret could not be judged.
#[derive(Debug, thiserror::Error)]
pub enum SecretTokenError {
    #[error("secret {name:?} not found in namespace {namespace:?}")]
    NotFound { namespace: String, name: String },
    #[error("{0}")]
    Api(#[from] ApiError),
}

/// Judges the token in one Secret (`inspect -n`).
pub async fn judge_secret(
    conn: &Connection,
    namespace: &str,
    name: &str,
    key: &str,
    judge: &Judge,
    now: i64,
) -> Result<TokenRow, SecretTokenError> {
    let api: Api<Secret> = Api::namespaced(conn.client.clone(), namespace);
    let action = ApiAction::new("get", "secrets", Some(namespace), Some(name));
    let secret = api.get_opt(name).await.map_err(|err| conn.api_error(action, err))?;
    let not_found = || SecretTokenError::NotFound { namespace: namespace.to_owned(), name: name.to_owned() };
    let secret = secret.ok_or_else(not_found)?;
    Ok(TokenRow::from_secret(&secret, key, is_managed(&secret), judge, now))
}

/// etcd's key order: `<namespace>/<name>` compared byte-wise.
fn storage_key(row: &TokenRow) -> String {
    format!("{}/{}", row.namespace, row.secret)
}

enum Selector<'a> {
    Managed,
    Named(&'a str),
}

impl Selector<'_> {
    fn params(&self, limit: u32) -> ListParams {
        let params = ListParams::default().limit(limit);
        match self {
            Selector::Managed => params.labels(&format!("{MANAGED_BY_LABEL}={MANAGED_BY_VALUE}")),
            Selector::Named(name) => params.fields(&format!("metadata.name={name}")),
        }
    }
}

/// One selector's Secrets, a page at a time, judged into rows as each page arrives.
struct SecretPages<'a> {
    pages: Pages<'a, LeanSecret>,
    /// The label selector's stream; the name streams skip labelled Secrets (it has them).
    managed: bool,
    key: &'a str,
    judge: &'a Judge,
    now: i64,
}

impl PagedSource for SecretPages<'_> {
    type Item = TokenRow;
    type Error = ApiError;

    async fn next_page(&mut self) -> Result<Option<Vec<TokenRow>>, ApiError> {
        let Some(secrets) = self.pages.next_page().await? else { return Ok(None) };
        let rows = secrets
            .into_iter()
            .filter_map(|secret| {
                let secret = Secret::from(secret);
                let labelled = is_managed(&secret);
                (self.managed || !labelled)
                    .then(|| TokenRow::from_secret(&secret, self.key, labelled, self.judge, self.now))
            })
            .collect();
        Ok(Some(rows))
    }
}

fn is_managed(secret: &Secret) -> bool {
    secret.metadata.labels.as_ref().and_then(|l| l.get(MANAGED_BY_LABEL)).is_some_and(|v| v == MANAGED_BY_VALUE)
}

#[cfg(test)]
mod tests;
