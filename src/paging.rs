//! Listing a collection a page at a time, as kubectl does, so that memory stays bounded by what
//! the caller keeps and a large cluster answers each request quickly. Discovery lists installs
//! this way; a command that lists the plugin's Secrets passes its label selector in `params`.

use std::fmt;

use kube::api::{Api, ListParams, ObjectList};
use serde::de::DeserializeOwned;

use crate::connection::{ApiAction, ApiError, Connection};

/// Objects per request when the caller sets no limit (kubectl's `--chunk-size` is 500; half of
/// that keeps a page of DaemonSets or Secrets small).
pub const PAGE_SIZE: u32 = 250;

/// Lists every object `params` selects (label and field selectors apply), a page at a time,
/// handing each to `keep`. A refusal or failure is worded for `action`.
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
    let mut params = first_page(params);
    loop {
        let page: ObjectList<K> = api.list(&params).await.map_err(|err| conn.api_error(action.clone(), err))?;
        page.items.into_iter().for_each(&mut keep);
        match page.metadata.continue_.filter(|token| !token.is_empty()) {
            Some(token) => params = params.continue_token(&token),
            None => return Ok(()),
        }
    }
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
