//! `rotate`: re-issue, in place, the tokens that are expiring, expired, or signed with a key or
//! issuer that is no longer current, keeping every claim but `iat`/`exp` (and `iss` when the
//! trusted issuer changed) and the token's lifetime.
//!
//! One run: list the token Secrets in scope ([`crate::token_list`], paged; rows hold no
//! token), settle the ones that need nothing from the row alone, then for each of the others,
//! with bounded concurrency ([`crate::bulk`]): read it (GET), judge it again ([`plan::decide`]),
//! sign, and replace it at the resourceVersion read ([`crate::token_secret::write_secret`], the
//! store flow's one place for `--dry-run`). A 409 means another writer changed the Secret in
//! between: it is read and judged again — someone may have renewed it already — a bounded
//! number of times, and never overwritten blindly. Each rotation and failure is an Event on
//! the Secret ([`crate::events`]).
//!
//! Every write is one request carrying token, label and annotations together, so a run stopped
//! at any point (SIGTERM, SIGKILL, a lost connection) leaves each Secret as it was or fully
//! rotated, and a re-run does the rest.

pub mod plan;
mod tenant;
#[cfg(test)]
mod tests;

use std::ops::ControlFlow;
use std::time::Duration;

use futures::StreamExt;

use crate::bulk::{self, BulkItem, Cancellation};
use crate::connection::{ApiError, Connection};
use crate::discovery::SigningSetup;
use crate::events::EventError;
use crate::signing::SigningError;
use crate::token_health::{Judge, KeyStamp, Verdict, VerifyKey, VerifyKeyError};
use crate::token_list::{ListOptions, ListSummary, list_tokens};
use crate::token_secret::{DryRun, SecretTarget, SecretWriteError};
pub use plan::{Policy, Refusal};

/// How many times a Secret changed by another writer is read and judged again before the
/// rotation of that tenant is given up (nothing written).
pub const MAX_ATTEMPTS: u32 = 3;

/// What the user asked for.
#[derive(Debug, Clone)]
pub struct RotateOptions {
    /// Where to look, which hand-made Secret names to find, and the token's key.
    pub list: ListOptions,
    /// A token is expiring when it has this long or less left.
    pub expiring_within: Duration,
    pub policy: Policy,
    /// `--token-duration`; `None` keeps each token's own lifetime.
    pub lifetime: Option<Duration>,
    /// The lifetime of a token whose own cannot be read (no `iat`/`exp`).
    pub fallback_lifetime: Duration,
    pub clock_skew: Duration,
    pub dry_run: DryRun,
    pub concurrency: usize,
}

/// What happened to one token Secret.
#[derive(Debug)]
pub struct TenantResult {
    pub target: SecretTarget,
    pub result: Result<Outcome, RotateError>,
    /// The Event about it could not be recorded (a warning: the rotation itself stands).
    pub event_warning: Option<EventError>,
}

/// A token Secret's fate, failures aside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Rotated(Rotation),
    /// Accepted and outside the window: left as it is.
    Unchanged {
        verdict: Verdict,
        valid_until: Option<i64>,
    },
    Skipped(Skip),
    /// The run was interrupted before this one was started; a re-run does it.
    NotStarted,
}

/// A token re-issued (or, in a dry run, that would be).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotation {
    pub subject: String,
    /// The verdict that called for it.
    pub verdict: Verdict,
    pub old_expiry: Option<i64>,
    pub expires_at: i64,
    /// `(old, new)` when the token's issuer was replaced by the trusted one.
    pub issuer_change: Option<(String, String)>,
    /// A hand-made Secret now labelled as managed (`--adopt`).
    pub adopted: bool,
    /// Re-read and re-judged after another writer changed it this many times.
    pub conflicts: u32,
    /// The new token's lifetime is no longer than the expiring window: every run renews it.
    pub renewed_every_run: bool,
    pub dry_run: DryRun,
}

/// Why a token Secret was left alone without being judged a failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skip {
    /// Hand-made, and due (verdict given): `--adopt` would take it over.
    Unmanaged { verdict: Verdict },
    /// Deleted after it was listed.
    Gone,
}

/// Why a token was not rotated. Nothing was written for it.
#[derive(Debug, thiserror::Error)]
pub enum RotateError {
    #[error("the token is malformed ({reason}); it has no claims to carry over")]
    Malformed { reason: String },
    #[error(
        "the token's signature does not verify with the current key and nothing records that it was signed with an earlier one ({reason}); it was not re-signed"
    )]
    BadSignature { reason: String },
    #[error(
        "the token grants administrator powers (role system.admin or group \"*\") and its signature cannot be checked with the current key ({reason}); it was not re-signed"
    )]
    UnverifiedAdmin { reason: String },
    #[error("the token's claims cannot be carried over")]
    Claims(#[source] serde_json::Error),
    #[error(transparent)]
    Payload(#[from] plan::UnreadablePayload),
    #[error(transparent)]
    Sign(#[from] SigningError),
    #[error(transparent)]
    Read(#[from] ApiError),
    #[error(transparent)]
    Write(#[from] SecretWriteError),
    #[error(
        "secret {namespace}/{name} was changed by another writer {attempts} times while it was being rotated; nothing was written"
    )]
    Contended { namespace: String, name: String, attempts: u32 },
}

impl From<Refusal> for RotateError {
    fn from(refusal: Refusal) -> RotateError {
        match refusal {
            Refusal::Malformed { reason } => RotateError::Malformed { reason },
            Refusal::BadSignature { reason } => RotateError::BadSignature { reason },
            Refusal::UnverifiedAdmin { reason } => RotateError::UnverifiedAdmin { reason },
        }
    }
}

/// Counts for the closing line: one per token Secret listed, by what happened to it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunSummary {
    pub rotated: usize,
    pub unchanged: usize,
    pub skipped: usize,
    pub failed: usize,
    pub not_started: usize,
    /// Events that could not be recorded.
    pub event_warnings: usize,
}

impl RunSummary {
    fn count(&mut self, result: &TenantResult) {
        match &result.result {
            Ok(Outcome::Rotated(_)) => self.rotated += 1,
            Ok(Outcome::Unchanged { .. }) => self.unchanged += 1,
            Ok(Outcome::Skipped(_)) => self.skipped += 1,
            Ok(Outcome::NotStarted) => self.not_started += 1,
            Err(_) => self.failed += 1,
        }
        self.event_warnings += usize::from(result.event_warning.is_some());
    }

    pub fn total(&self) -> usize {
        self.rotated + self.unchanged + self.skipped + self.failed + self.not_started
    }
}

/// Some tenants failed or were not started; each was reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RunIncomplete {
    #[error("{failed} of {total} token Secrets failed (see above)", failed = .0.failed, total = .0.total())]
    Failed(RunSummary),
    #[error("interrupted by {signal}: {not_started} of {total} token Secrets not started", signal = .1.name(), not_started = .0.not_started, total = .0.total())]
    Interrupted(RunSummary, crate::bulk::Signal),
}

/// A run's fixed parts: the connection, the key and issuer, the judges and the options.
pub struct Rotator<'a> {
    conn: &'a Connection,
    setup: &'a SigningSetup,
    /// Judges against the trusted issuer and the key in use.
    judge: Judge,
    /// The same without an issuer check: is a wrong-issuer token's signature good?
    signature_judge: Judge,
    options: RotateOptions,
    /// Who this process is in Events (the Pod's name in a CronJob).
    instance: String,
}

impl<'a> Rotator<'a> {
    pub fn new(conn: &'a Connection, setup: &'a SigningSetup, options: RotateOptions) -> Result<Self, VerifyKeyError> {
        let mut judge = Judge::new(VerifyKey::from_signing_key(&setup.key)?.into(), vec![setup.issuer.clone()]);
        judge.current_key = Some(KeyStamp::of(&setup.key_source));
        judge.expiring_within = options.expiring_within;
        let signature_judge = Judge { issuers: Vec::new(), ..judge.clone() };
        Ok(Rotator { conn, setup, judge, signature_judge, options, instance: crate::events::reporting_instance() })
    }

    /// Lists, settles and rotates every token Secret in scope, handing each result to `each`
    /// as it is known: first those settled from the listing (in kubectl's order), then the
    /// others as they finish. When `cancel` fires, nothing new starts, the ones in flight
    /// finish, and the rest are reported as [`Outcome::NotStarted`]. An error from `each`
    /// (say, stdout closed) stops the run the same way and is returned.
    pub async fn run(
        &self,
        cancel: &Cancellation,
        mut each: impl FnMut(&TenantResult) -> std::io::Result<()>,
    ) -> Result<RunSummary, RunError> {
        let mut summary = RunSummary::default();
        let mut failure: Option<std::io::Error> = None;
        let mut report = |result: TenantResult, summary: &mut RunSummary| {
            summary.count(&result);
            if failure.is_none()
                && let Err(err) = each(&result)
            {
                failure = Some(err);
                cancel.stop();
            }
        };
        let now = jiff::Timestamp::now().as_second();
        let mut candidates = Vec::new();
        let listed = list_tokens(self.conn, &self.options.list, &self.judge, now, |row| {
            match tenant::settle_row(&row, &self.options) {
                Ok(result) => report(result, &mut summary),
                Err(candidate) => candidates.push(candidate),
            }
            if cancel.is_cancelled() { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
        })
        .await;
        let listed: ListSummary = listed.map_err(RunError::List)?;
        tracing::info!(secrets = listed.rows, to_rotate = candidates.len(), requests = listed.requests, "listed");
        let results = bulk::run(candidates, self.options.concurrency, cancel.clone(), |target| self.rotate(target));
        let mut results = std::pin::pin!(results);
        while let Some(item) = results.next().await {
            let result = match item {
                BulkItem::Finished(result) => result,
                BulkItem::NotStarted(target) => {
                    TenantResult { target, result: Ok(Outcome::NotStarted), event_warning: None }
                }
            };
            report(result, &mut summary);
        }
        if let Some(err) = failure {
            return Err(RunError::Output(err));
        }
        match cancel.signal() {
            Some(signal) => Err(RunError::Incomplete(RunIncomplete::Interrupted(summary, signal))),
            None if summary.failed > 0 => Err(RunError::Incomplete(RunIncomplete::Failed(summary))),
            None => Ok(summary),
        }
    }

    /// Reads one token Secret, judges it again and re-issues it if due, retrying a bounded
    /// number of times when another writer changes it in between.
    pub async fn rotate(&self, target: SecretTarget) -> TenantResult {
        tenant::rotate_one(self, target).await
    }
}

impl RunError {
    /// The counts, when the run got as far as rotating.
    pub fn summary(&self) -> Option<RunSummary> {
        match self {
            RunError::Incomplete(RunIncomplete::Failed(summary) | RunIncomplete::Interrupted(summary, _)) => {
                Some(*summary)
            }
            RunError::List(_) | RunError::Output(_) => None,
        }
    }

    /// The signal that interrupted the run, which decides the exit status (130 / 143).
    pub fn signal(&self) -> Option<crate::bulk::Signal> {
        match self {
            RunError::Incomplete(RunIncomplete::Interrupted(_, signal)) => Some(*signal),
            _ => None,
        }
    }
}

/// Why a run ended early or incomplete.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The token Secrets could not be listed; nothing was written.
    #[error(transparent)]
    List(ApiError),
    #[error(transparent)]
    Incomplete(RunIncomplete),
    /// The caller's `each` failed; the run stopped launching.
    #[error("cannot report the results")]
    Output(#[source] std::io::Error),
}
