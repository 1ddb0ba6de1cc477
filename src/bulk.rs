//! Bounded-concurrency bulk work that can be stopped cleanly: `rotate` and `tenant --from-file`.
//!
//! Each item is one tenant's read-judge-write. A write already sent must be allowed to finish
//! (its answer decides what the tenant's line says), so a cancellation only stops *launching*:
//! in-flight items run to completion and are reported, then every item never started is handed
//! back, so the caller can say which tenants a re-run will do.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use futures::stream::{FuturesUnordered, Stream, StreamExt};

/// The signal that stopped a run; decides the exit status (128 + signal number, as shells do).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// SIGINT (Ctrl-C): exit 130.
    Interrupt,
    /// SIGTERM (`kill`, a Pod being stopped): exit 143.
    Terminate,
}

impl Signal {
    pub fn number(self) -> u8 {
        match self {
            Signal::Interrupt => 2,
            Signal::Terminate => 15,
        }
    }

    pub fn exit_code(self) -> u8 {
        128 + self.number()
    }

    pub fn name(self) -> &'static str {
        match self {
            Signal::Interrupt => "SIGINT",
            Signal::Terminate => "SIGTERM",
        }
    }

    fn from_number(number: u8) -> Option<Signal> {
        match number {
            2 => Some(Signal::Interrupt),
            15 => Some(Signal::Terminate),
            _ => None,
        }
    }
}

/// A shared stop flag that remembers the first signal; cheap to clone and check.
#[derive(Debug, Clone, Default)]
pub struct Cancellation(Arc<AtomicU8>);

/// The flag's value when the caller stopped the run without a signal (say, stdout closed).
const STOPPED: u8 = 1;

impl Cancellation {
    pub fn new() -> Cancellation {
        Cancellation::default()
    }

    /// Asks the run to stop launching. The first signal is kept; later ones do not replace it.
    /// Returns true when this call was the first.
    pub fn cancel(&self, signal: Signal) -> bool {
        self.0.compare_exchange(0, signal.number(), Ordering::SeqCst, Ordering::SeqCst).is_ok()
    }

    /// Asks the run to stop launching for a reason of the caller's own (no exit status implied).
    pub fn stop(&self) {
        let _ = self.0.compare_exchange(0, STOPPED, Ordering::SeqCst, Ordering::SeqCst);
    }

    /// The signal that stopped the run, if any.
    pub fn signal(&self) -> Option<Signal> {
        Signal::from_number(self.0.load(Ordering::SeqCst))
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst) != 0
    }
}

/// One item's fate in a bulk run.
#[derive(Debug, PartialEq, Eq)]
pub enum BulkItem<I, R> {
    /// The item ran; its result.
    Finished(R),
    /// The run was cancelled before this item was launched.
    NotStarted(I),
}

/// Runs `work` over `items`, at most `concurrency` at a time (0 counts as 1), yielding each
/// result as it finishes. After `cancel` is signalled no new item is launched; the ones in
/// flight finish and are yielded, then every item not started is yielded as
/// [`BulkItem::NotStarted`], in input order. Items are launched in input order.
pub fn run<I, R, F, Fut>(
    items: impl IntoIterator<Item = I>,
    concurrency: usize,
    cancel: Cancellation,
    work: F,
) -> impl Stream<Item = BulkItem<I, R>>
where
    F: FnMut(I) -> Fut,
    Fut: Future<Output = R>,
{
    let state =
        Runner { items: items.into_iter(), running: FuturesUnordered::new(), work, cancel, limit: concurrency.max(1) };
    futures::stream::unfold(state, |mut runner| async move {
        if !runner.cancel.is_cancelled() {
            while runner.running.len() < runner.limit {
                let Some(item) = runner.items.next() else { break };
                runner.running.push((runner.work)(item));
            }
        }
        if let Some(result) = runner.running.next().await {
            return Some((BulkItem::Finished(result), runner));
        }
        // Nothing in flight: the items are all done, or the run was cancelled and these are
        // the ones never launched.
        runner.items.next().map(|item| (BulkItem::NotStarted(item), runner))
    })
}

struct Runner<It, F, Fut> {
    items: It,
    running: FuturesUnordered<Fut>,
    work: F,
    cancel: Cancellation,
    limit: usize,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use std::sync::atomic::AtomicUsize;
    use std::time::Duration;

    fn block_on<T>(future: impl Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(future)
    }

    /// A fake tenant write: takes `ms`, records how many run at once.
    async fn fake_write(item: u64, running: Arc<AtomicUsize>, peak: Arc<AtomicUsize>) -> u64 {
        let now = running.fetch_add(1, Ordering::SeqCst) + 1;
        peak.fetch_max(now, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(item)).await;
        running.fetch_sub(1, Ordering::SeqCst);
        item
    }

    #[test]
    fn every_item_runs_once_never_more_than_the_limit_at_a_time_and_results_come_as_they_finish() {
        let (running, peak) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let items = vec![40, 5, 30, 1, 20, 10, 2, 15];
        let results: Vec<_> = block_on(
            run(items.clone(), 3, Cancellation::new(), |item| fake_write(item, running.clone(), peak.clone()))
                .collect(),
        );
        assert_eq!(peak.load(Ordering::SeqCst), 3);
        let mut finished: Vec<u64> = results
            .iter()
            .map(|r| match r {
                BulkItem::Finished(v) => *v,
                BulkItem::NotStarted(_) => panic!("nothing was cancelled"),
            })
            .collect();
        assert_ne!(finished, items, "results come in completion order, not input order");
        finished.sort();
        let mut expected = items;
        expected.sort();
        assert_eq!(finished, expected);
    }

    #[test]
    fn zero_concurrency_runs_one_at_a_time() {
        let (running, peak) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let results: Vec<_> = block_on(
            run(vec![1, 1, 1], 0, Cancellation::new(), |i| fake_write(i, running.clone(), peak.clone())).collect(),
        );
        assert_eq!(results.len(), 3);
        assert_eq!(peak.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn cancellation_lets_in_flight_items_finish_then_reports_the_rest_as_not_started() {
        let cancel = Cancellation::new();
        let launched = Arc::new(Mutex::new(Vec::new()));
        let results: Vec<BulkItem<u32, u32>> = block_on({
            let (cancel, launched) = (cancel.clone(), launched.clone());
            run(0..10u32, 2, cancel.clone(), move |item| {
                // Runs when the runner launches the item: never after the cancellation.
                assert!(!cancel.is_cancelled(), "item {item} launched after the cancellation");
                launched.lock().unwrap().push(item);
                let cancel = cancel.clone();
                async move {
                    // Item 2 is "interrupted" mid-write; it must still finish and be reported.
                    if item == 2 {
                        cancel.cancel(Signal::Terminate);
                    }
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    item
                }
            })
            .collect()
        });
        assert_eq!(cancel.signal(), Some(Signal::Terminate));
        let launched = launched.lock().unwrap().clone();
        // 0 and 1, then 2 in the first free slot; at most one more slot may have been filled
        // before 2 first ran.
        assert!(launched.len() <= 4 && launched == (0..launched.len() as u32).collect::<Vec<_>>(), "{launched:?}");
        let finished: Vec<u32> =
            results.iter().filter_map(|r| if let BulkItem::Finished(v) = r { Some(*v) } else { None }).collect();
        let not_started: Vec<u32> =
            results.iter().filter_map(|r| if let BulkItem::NotStarted(v) = r { Some(*v) } else { None }).collect();
        let mut sorted = finished.clone();
        sorted.sort();
        assert_eq!(sorted, launched, "every launched item finished and was reported");
        assert_eq!(not_started, (launched.len() as u32..10).collect::<Vec<_>>(), "the rest, in input order");
        assert!(matches!(results[finished.len()], BulkItem::NotStarted(_)), "finished items come first");
    }

    #[test]
    fn cancelled_before_the_start_launches_nothing() {
        let cancel = Cancellation::new();
        cancel.cancel(Signal::Interrupt);
        let results: Vec<BulkItem<u32, ()>> =
            block_on(run(0..3u32, 4, cancel, |_| async { panic!("launched after cancellation") }).collect());
        assert_eq!(results, vec![BulkItem::NotStarted(0), BulkItem::NotStarted(1), BulkItem::NotStarted(2)]);
    }

    #[test]
    fn the_first_signal_is_remembered_and_sets_the_exit_code() {
        let cancel = Cancellation::new();
        assert_eq!(cancel.signal(), None);
        assert!(cancel.cancel(Signal::Interrupt));
        assert!(!cancel.cancel(Signal::Terminate));
        assert_eq!(cancel.signal(), Some(Signal::Interrupt));
        assert_eq!(Signal::Interrupt.exit_code(), 130);
        assert_eq!(Signal::Terminate.exit_code(), 143);
        let stopped = Cancellation::new();
        stopped.stop();
        assert!(stopped.is_cancelled());
        assert_eq!(stopped.signal(), None, "stopped by the caller: no signal, no signal exit code");
        assert!(!stopped.cancel(Signal::Interrupt), "the first reason stays");
    }
}
