//! Listing a collection a page at a time, as kubectl does (`limit` and `continue`), so that
//! memory stays bounded by what the caller keeps and a large cluster answers each request
//! quickly. [`Pages`] is the one paging loop of the crate: discovery reads installs through
//! [`list_pages`] (built on it), and the token listing pulls pages from several cursors at once
//! to merge them.

use std::fmt;

use kube::api::{Api, ListParams, ObjectList};
use serde::de::DeserializeOwned;

use crate::connection::{ApiAction, ApiError, Connection};

/// Objects per request when the caller sets no limit (kubectl's `--chunk-size` is 500; half of
/// that keeps a page of DaemonSets or Secrets small).
pub const PAGE_SIZE: u32 = 250;

/// A cursor over one list: each [`Pages::next_page`] sends one request for the next page.
/// Pulled, not pushed, so a caller can interleave several lists and hold one page of each.
pub struct Pages<'a, K> {
    conn: &'a Connection,
    api: Api<K>,
    params: ListParams,
    action: ApiAction,
    /// `None` once the server said there is no more.
    next: Option<Option<String>>,
    requests: usize,
}

impl<'a, K> Pages<'a, K>
where
    K: Clone + DeserializeOwned + fmt::Debug,
{
    /// Every object `params` selects (label and field selectors apply), from the first page;
    /// a refusal or failure is worded for `action`.
    pub fn new(conn: &'a Connection, api: Api<K>, params: &ListParams, action: ApiAction) -> Pages<'a, K> {
        Pages { conn, api, params: first_page(params), action, next: Some(None), requests: 0 }
    }

    /// The next page (possibly empty), or `None` once the list is exhausted.
    pub async fn next_page(&mut self) -> Result<Option<Vec<K>>, ApiError> {
        let Some(continue_token) = self.next.take() else { return Ok(None) };
        let params = match &continue_token {
            Some(token) => self.params.clone().continue_token(token),
            None => self.params.clone(),
        };
        self.requests += 1;
        let page: ObjectList<K> =
            self.api.list(&params).await.map_err(|err| self.conn.api_error(self.action.clone(), err))?;
        self.next = page.metadata.continue_.filter(|token| !token.is_empty()).map(Some);
        Ok(Some(page.items))
    }

    /// List requests sent so far.
    pub fn requests(&self) -> usize {
        self.requests
    }
}

/// Lists every object `params` selects, a page at a time, handing each to `keep`. A refusal or
/// failure is worded for `action`.
pub async fn list_pages<K>(
    conn: &Connection,
    api: &Api<K>,
    params: &ListParams,
    action: ApiAction,
    mut keep: impl FnMut(K),
) -> Result<(), ApiError>
where
    K: Clone + DeserializeOwned + fmt::Debug,
{
    let mut pages = Pages::new(conn, api.clone(), params, action);
    while let Some(page) = pages.next_page().await? {
        page.into_iter().for_each(&mut keep);
    }
    Ok(())
}

/// The caller's selectors with a page size, starting from the first page.
fn first_page(params: &ListParams) -> ListParams {
    let mut first = params.clone();
    first.limit = Some(first.limit.unwrap_or(PAGE_SIZE));
    first.continue_token = None;
    first
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::core::v1::Secret;
    use serde_json::{Value, json};

    use super::*;
    use crate::fake_api::{block_on, connection, status};

    fn page(names: &[&str], continue_token: &str) -> (u16, Value) {
        let items: Vec<Value> = names.iter().map(|n| json!({"metadata": {"name": n, "namespace": "a"}})).collect();
        (
            200,
            json!({"kind": "SecretList", "apiVersion": "v1", "metadata": {"continue": continue_token}, "items": items}),
        )
    }

    #[test]
    fn a_cursor_follows_continue_tokens_one_request_a_page() {
        block_on(async {
            let (conn, fake) = connection(vec![page(&["a", "b"], "next-1"), page(&[], "next-2"), page(&["c"], "")]);
            let api: Api<Secret> = Api::namespaced(conn.client.clone(), "a");
            let params = ListParams::default().labels("x=y").limit(2);
            let mut pages = Pages::new(&conn, api, &params, ApiAction::new("list", "secrets", Some("a"), None));
            let mut names = Vec::new();
            while let Some(page) = pages.next_page().await.unwrap() {
                names.extend(page.into_iter().map(|s| s.metadata.name.unwrap()));
            }
            assert_eq!(names, ["a", "b", "c"]);
            assert_eq!(pages.requests(), 3);
            assert!(pages.next_page().await.unwrap().is_none(), "stays exhausted without a request");
            let sent = fake.lines();
            assert_eq!(sent.len(), 3);
            assert!(sent[0].contains("limit=2") && sent[0].contains("labelSelector=x%3Dy"), "{}", sent[0]);
            assert!(!sent[0].contains("continue="), "{}", sent[0]);
            assert!(sent[1].contains("continue=next-1") && sent[2].contains("continue=next-2"), "{sent:?}");
        });
    }

    #[test]
    fn a_refused_page_names_the_permission() {
        block_on(async {
            let rbac = r#"secrets is forbidden: User "bob" cannot list resource "secrets" in API group "" at the cluster scope"#;
            let (conn, _) = connection(vec![(403, status(403, "Forbidden", rbac))]);
            let api: Api<Secret> = Api::all(conn.client.clone());
            let err =
                list_pages(&conn, &api, &ListParams::default(), ApiAction::new("list", "secrets", None, None), |_| {})
                    .await
                    .unwrap_err();
            assert!(err.is_forbidden() && err.to_string().contains("cannot list secrets cluster-wide"), "{err}");
        });
    }

    #[test]
    fn pages_keep_the_selectors_and_get_a_size() {
        let params = ListParams::default().labels("app=pxtoken").fields("type=Opaque");
        let first = first_page(&params);
        assert_eq!(first.label_selector.as_deref(), Some("app=pxtoken"));
        assert_eq!(first.field_selector.as_deref(), Some("type=Opaque"));
        assert_eq!(first.limit, Some(PAGE_SIZE));
        assert_eq!(first_page(&params.clone().limit(10)).limit, Some(10), "a caller's page size wins");
        assert_eq!(first_page(&params.continue_token("stale")).continue_token, None, "always from the start");
    }
}
