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
    use super::*;

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
