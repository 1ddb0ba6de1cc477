//! A k-way merge of paged, sorted streams that holds one page per stream, never the whole
//! list: memory stays flat however many Secrets the cluster has.
//!
//! The API server returns list pages in storage-key order (`<namespace>/<name>`, byte-wise), so
//! several selector-filtered lists of one resource are each sorted the same way and merge into
//! kubectl's order. If a stream were ever out of order, nothing is lost: the output is then
//! merely less sorted, and only adjacent duplicates are dropped.

use std::collections::VecDeque;
use std::ops::ControlFlow;

/// A source read a page at a time.
pub(crate) trait PagedSource {
    type Item;
    type Error;
    /// The next page, or `None` once the source is exhausted. Pages may be empty.
    async fn next_page(&mut self) -> Result<Option<Vec<Self::Item>>, Self::Error>;
}

struct Head<'a, S: PagedSource> {
    source: &'a mut S,
    page: VecDeque<S::Item>,
    done: bool,
}

impl<S: PagedSource> Head<'_, S> {
    async fn refill(&mut self) -> Result<(), S::Error> {
        while self.page.is_empty() && !self.done {
            match self.source.next_page().await? {
                Some(items) => self.page = items.into(),
                None => self.done = true,
            }
        }
        Ok(())
    }
}

/// Hands every item of `sources` to `each`, smallest `key` first; items whose key equals the
/// one just handed out are dropped (the same object found by two selectors). On equal keys the
/// earlier source wins. Stops early when `each` breaks, and returns that.
pub(crate) async fn merge_sorted<S, K>(
    sources: &mut [S],
    key: impl Fn(&S::Item) -> K,
    mut each: impl FnMut(S::Item) -> ControlFlow<()>,
) -> Result<ControlFlow<()>, S::Error>
where
    S: PagedSource,
    K: Ord,
{
    let mut heads: Vec<Head<'_, S>> =
        sources.iter_mut().map(|source| Head { source, page: VecDeque::new(), done: false }).collect();
    for head in &mut heads {
        head.refill().await?;
    }
    let mut last: Option<K> = None;
    loop {
        let smallest = heads
            .iter()
            .enumerate()
            .filter_map(|(index, head)| head.page.front().map(|item| (index, key(item))))
            .min_by(|a, b| a.1.cmp(&b.1));
        let Some((index, item_key)) = smallest else { return Ok(ControlFlow::Continue(())) };
        let head = &mut heads[index];
        let item = head.page.pop_front().expect("a head with a front item");
        head.refill().await?;
        if last.as_ref() == Some(&item_key) {
            continue;
        }
        last = Some(item_key);
        if each(item).is_break() {
            return Ok(ControlFlow::Break(()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pages served from memory; counts calls and the largest page handed out.
    struct Fake {
        pages: VecDeque<Vec<&'static str>>,
        calls: usize,
        fail_at: Option<usize>,
    }

    impl Fake {
        fn new(pages: &[&[&'static str]]) -> Fake {
            Fake { pages: pages.iter().map(|p| p.to_vec()).collect(), calls: 0, fail_at: None }
        }
    }

    impl PagedSource for Fake {
        type Item = &'static str;
        type Error = String;
        async fn next_page(&mut self) -> Result<Option<Vec<&'static str>>, String> {
            self.calls += 1;
            if self.fail_at == Some(self.calls) {
                return Err(format!("page {} refused", self.calls));
            }
            Ok(self.pages.pop_front())
        }
    }

    fn block_on<F: std::future::Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(future)
    }

    fn run(sources: &mut [Fake]) -> Result<Vec<&'static str>, String> {
        let mut out = Vec::new();
        let flow = block_on(merge_sorted(
            sources,
            |s| s.to_string(),
            |item| {
                out.push(item);
                ControlFlow::Continue(())
            },
        ))?;
        assert_eq!(flow, ControlFlow::Continue(()));
        Ok(out)
    }

    #[test]
    fn merges_sorted_pages_and_drops_duplicates() {
        let mut sources = [
            Fake::new(&[&["a/1", "b/2"], &[], &["c/1", "d/9"]]),
            Fake::new(&[&["a/0", "b/2"], &["c/0"]]),
            Fake::new(&[]),
        ];
        assert_eq!(run(&mut sources).unwrap(), ["a/0", "a/1", "b/2", "c/0", "c/1", "d/9"]);
        // Each source was read to its end exactly once: pages + the final "no more".
        assert_eq!(sources.iter().map(|s| s.calls).collect::<Vec<_>>(), [4, 3, 1]);
    }

    #[test]
    fn storage_key_order_is_byte_order_of_namespace_slash_name() {
        // "a-b/x" sorts before "a/x" ('-' < '/'), as etcd keys do; tuple order would not.
        let mut sources = [Fake::new(&[&["a-b/x", "a/x"]]), Fake::new(&[&["a-b/y"]])];
        assert_eq!(run(&mut sources).unwrap(), ["a-b/x", "a-b/y", "a/x"]);
    }

    #[test]
    fn an_unsorted_stream_loses_nothing() {
        let mut sources = [Fake::new(&[&["z", "a"]]), Fake::new(&[&["m"]])];
        let mut out = run(&mut sources).unwrap();
        out.sort();
        assert_eq!(out, ["a", "m", "z"]);
    }

    #[test]
    fn errors_and_early_stops_end_the_merge() {
        let mut failing = [Fake::new(&[&["a"], &["b"]])];
        failing[0].fail_at = Some(2);
        assert_eq!(run(&mut failing).unwrap_err(), "page 2 refused");
        let mut sources = [Fake::new(&[&["a", "b"], &["c"]])];
        let mut seen = Vec::new();
        let flow = block_on(merge_sorted(
            &mut sources,
            |s| *s,
            |item| {
                seen.push(item);
                if item == "b" { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
            },
        ))
        .unwrap();
        assert_eq!((flow, seen), (ControlFlow::Break(()), vec!["a", "b"]));
    }

    #[test]
    fn holds_one_page_per_source() {
        // A source of 1,000 pages is read lazily: after the first item only page one (and the
        // refill of the emptied head) has been fetched.
        let pages: Vec<Vec<&'static str>> = (0..1_000).map(|_| vec!["x"]).collect();
        let mut source = [Fake { pages: pages.into(), calls: 0, fail_at: None }];
        let flow = block_on(merge_sorted(&mut source, |s| *s, |_| ControlFlow::Break(()))).unwrap();
        assert_eq!(flow, ControlFlow::Break(()));
        assert_eq!(source[0].calls, 2);
    }
}
