//! SIGINT / SIGTERM during bulk work: the first one cancels (stop launching, finish in-flight
//! writes, report, exit 130 / 143); a second one means the user will not wait, and is handed
//! to the caller, which exits at once.
//!
//! A SIGTERM is what a CronJob's Pod gets when it is stopped, and a SIGKILL follows after the
//! grace period: stopping fast matters more than finishing the list, which a re-run does.

use crate::bulk::{Cancellation, Signal};

/// Starts listening for SIGINT and SIGTERM on the current tokio runtime (needs its I/O driver).
/// The handlers are installed before this returns, so a signal sent right after is caught.
/// The first signal cancels `cancel`; every later one is passed to `on_repeat`.
pub fn listen(cancel: Cancellation, on_repeat: impl Fn(Signal) + Send + 'static) -> std::io::Result<()> {
    listen_unix(cancel, on_repeat)
}

#[cfg(unix)]
fn listen_unix(cancel: Cancellation, on_repeat: impl Fn(Signal) + Send + 'static) -> std::io::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};

    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    tokio::spawn(async move {
        loop {
            let received = {
                let int = std::pin::pin!(interrupt.recv());
                let term = std::pin::pin!(terminate.recv());
                match futures::future::select(int, term).await {
                    futures::future::Either::Left((Some(()), _)) => Signal::Interrupt,
                    futures::future::Either::Right((Some(()), _)) => Signal::Terminate,
                    // The runtime is shutting down.
                    _ => return,
                }
            };
            if !cancel.cancel(received) {
                on_repeat(received);
            }
        }
    });
    Ok(())
}

#[cfg(not(unix))]
fn listen_unix(cancel: Cancellation, on_repeat: impl Fn(Signal) + Send + 'static) -> std::io::Result<()> {
    tokio::spawn(async move {
        while tokio::signal::ctrl_c().await.is_ok() {
            if !cancel.cancel(Signal::Interrupt) {
                on_repeat(Signal::Interrupt);
            }
        }
    });
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    fn send(signal: &str) {
        let status = std::process::Command::new("kill")
            .args([signal, &std::process::id().to_string()])
            .status()
            .expect("running kill");
        assert!(status.success());
    }

    /// The only test in this crate that signals its own process: once the handlers are
    /// installed the process stays alive, and the test fails (or dies) if they are not.
    #[test]
    fn first_signal_cancels_and_later_ones_go_to_the_caller() {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let cancel = Cancellation::new();
        let repeats = Arc::new(Mutex::new(Vec::new()));
        runtime.block_on(async {
            let seen = repeats.clone();
            listen(cancel.clone(), move |signal| seen.lock().unwrap().push(signal)).unwrap();
            send("-TERM");
            wait_until(|| cancel.is_cancelled()).await;
            assert_eq!(cancel.signal(), Some(Signal::Terminate));
            send("-INT");
            wait_until(|| !repeats.lock().unwrap().is_empty()).await;
        });
        assert_eq!(cancel.signal(), Some(Signal::Terminate), "the first signal decides the exit code");
        assert_eq!(*repeats.lock().unwrap(), vec![Signal::Interrupt]);
    }

    async fn wait_until(done: impl Fn() -> bool) {
        for _ in 0..500 {
            if done() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("the signal was not seen within 5 s");
    }
}
