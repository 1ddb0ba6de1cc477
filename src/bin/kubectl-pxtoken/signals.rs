//! SIGINT / SIGTERM during bulk work (`rotate`, `tenant --from-file`): the first stops
//! launching and lets the writes in flight finish and be reported; the exit status then says
//! which signal it was (130 / 143, as a shell reports it). A second one exits at once.

use pxtoken::bulk::{Cancellation, Signal};

/// Starts listening; from here a signal no longer kills the process but cancels the run.
/// Installed only once bulk work starts, so Ctrl-C during discovery still stops at once.
pub fn stop_on_signals() -> std::io::Result<Cancellation> {
    let cancel = Cancellation::new();
    pxtoken::interrupt::listen(cancel.clone(), |signal| {
        eprintln!(
            "error: {} again: stopped without waiting for writes in flight; run the same command again",
            signal.name()
        );
        std::process::exit(signal.exit_code().into());
    })?;
    Ok(cancel)
}

/// The signal that interrupted a bulk run which ended in `err`, if one did.
pub fn interrupted_by(err: &anyhow::Error) -> Option<Signal> {
    if let Some(err) = err.downcast_ref::<pxtoken::rotate::RunError>() {
        return err.signal();
    }
    err.downcast_ref::<pxtoken::tenant::BulkIncomplete>().and_then(|err| err.signal())
}
