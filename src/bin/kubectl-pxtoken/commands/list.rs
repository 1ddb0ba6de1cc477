//! `kubectl pxtoken list [-A | -n NAMESPACE]`: every token Secret and its health, a report.

use std::io::ErrorKind;
use std::ops::ControlFlow;

use clap::Args;
use pxtoken::names::NameRule;
use pxtoken::token_health::Verdict;
use pxtoken::token_list::{ListOptions, ListSummary, Scope, list_tokens};
use pxtoken::token_secret::DEFAULT_SECRET_KEY;

use crate::checks::check_name;
use crate::cli::{GlobalArgs, KeyArgs, ListOutput, VerifyArgs};
use crate::token_view::{ListPrinter, unchecked_notes};

pub const ABOUT: &str = "List token Secrets (managed and hand-made) with their subject, expiry and health";

pub const EXAMPLES: &str = "Examples:
  # Every token Secret in the cluster, and whether Portworx would accept it
  kubectl pxtoken list -A

  # One namespace, with groups, algorithm, signing key and the reason for each status
  kubectl pxtoken list -n team-a -o wide

  # Also hand-made Secrets named tenant-token (px-k8s-user is always looked for)
  kubectl pxtoken list -A --secret-name tenant-token

  # For monitoring: exit 1 when any token expires within 14 days or is already unusable
  kubectl pxtoken list -A --expiring-within 14d --fail-on expiring -o name";

#[derive(Debug, Args)]
pub struct ListArgs {
    /// List token Secrets in all namespaces (-n is ignored, as in kubectl)
    #[arg(short = 'A', long)]
    pub all_namespaces: bool,
    /// Also list Secrets of this name without the managed-by label (repeatable; px-k8s-user always is)
    #[arg(long = "secret-name", value_name = "NAME", help_heading = "Secret")]
    pub secret_names: Vec<String>,
    /// Key of the token in the Secrets (a Secret with one key is read under that key)
    #[arg(long, default_value = DEFAULT_SECRET_KEY, value_name = "KEY", help_heading = "Secret")]
    pub secret_key: String,
    /// Exit 1 when any token is expiring or worse, or when any would be rejected (invalid)
    #[arg(long, value_enum, value_name = "WHEN")]
    pub fail_on: Option<FailOn>,
    /// Output format: wide (more columns), yaml or json (a List), name (secret/NAME)
    #[arg(short = 'o', long = "output", value_enum, value_name = "FORMAT")]
    pub output: Option<ListOutput>,
    #[command(flatten)]
    pub verify: VerifyArgs,
    #[command(flatten)]
    pub key: KeyArgs,
}

/// `--fail-on`: which tokens make a listing fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    /// Any token that is not valid for longer than --expiring-within
    Expiring,
    /// Any token Portworx would reject now
    Invalid,
}

pub async fn exec(args: ListArgs, global: &GlobalArgs) -> anyhow::Result<()> {
    // options → complete → validate → run
    global.validate(&args.key)?;
    for name in &args.secret_names {
        check_name("--secret-name", NameRule::Subdomain, name)?;
    }
    check_name("--secret-key", NameRule::DataKey, &args.secret_key)?;
    let public = args.verify.public_keys()?;
    let overrides = args.key.overrides();
    let conn = global.connect().await?;
    let setup = global.judge_setup(&args.key, &overrides, &args.verify, public, Some(&conn)).await?;
    let scope =
        if args.all_namespaces { Scope::AllNamespaces } else { Scope::Namespaces(vec![conn.namespace.clone()]) };
    let mut options = ListOptions::new(scope);
    options.secret_names.extend(args.secret_names.iter().cloned());
    options.secret_key = args.secret_key.clone();

    // Notes on what was not checked go out once, with the first row: a listing refused
    // outright shows only its error line.
    let mut notes = Some(unchecked_notes(&setup));
    let mut say_notes = || notes.take().into_iter().flatten().for_each(|note| eprintln!("{note}"));
    let mut printer = ListPrinter::new(std::io::stdout().lock(), args.output, args.all_namespaces)?;
    let mut failed = None;
    let now = jiff::Timestamp::now().as_second();
    let summary = list_tokens(&conn, &options, &setup.judge, now, |row| {
        say_notes();
        match printer.row(&row) {
            Ok(()) => ControlFlow::Continue(()),
            Err(err) => {
                failed = Some(err);
                ControlFlow::Break(())
            }
        }
    })
    .await?;
    say_notes();
    let finished = match failed {
        Some(err) => Err(err),
        None => printer.finish(summary.rows).map_err(anyhow::Error::from),
    };
    if let Err(err) = finished {
        // `list | head`: the reader has seen enough.
        let closed = err.downcast_ref::<std::io::Error>().is_some_and(|e| e.kind() == ErrorKind::BrokenPipe);
        return if closed { Ok(()) } else { Err(err) };
    }
    if summary.rows == 0 && matches!(args.output, None | Some(ListOutput::Wide)) {
        match args.all_namespaces {
            true => eprintln!("No token Secrets found"),
            false => eprintln!("No token Secrets found in {} namespace.", conn.namespace),
        }
    }
    fail_on(args.fail_on, &summary)
}

/// `--fail-on`: an error naming how many tokens tripped it.
fn fail_on(when: Option<FailOn>, summary: &ListSummary) -> anyhow::Result<()> {
    let count = |pred: fn(Verdict) -> bool| summary.by_verdict.iter().filter(|(v, _)| pred(**v)).map(|(_, n)| n).sum();
    let (bad, what): (usize, &str) = match when {
        None => return Ok(()),
        Some(FailOn::Expiring) => (count(|v| v != Verdict::Valid), "are expiring or worse"),
        Some(FailOn::Invalid) => (count(|v| !v.accepted()), "would be rejected by Portworx"),
    };
    if bad == 0 {
        return Ok(());
    }
    let flag = if when == Some(FailOn::Expiring) { "expiring" } else { "invalid" };
    anyhow::bail!("{bad} of {} token Secrets {what} (--fail-on {flag}); see the STATUS column", summary.rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fail_on_counts_the_verdicts_it_names() {
        let mut summary = ListSummary { rows: 4, ..ListSummary::default() };
        summary.by_verdict.extend([(Verdict::Valid, 1), (Verdict::Expiring, 2), (Verdict::Expired, 1)]);
        assert!(fail_on(None, &summary).is_ok());
        let expiring = fail_on(Some(FailOn::Expiring), &summary).unwrap_err().to_string();
        assert_eq!(expiring, "3 of 4 token Secrets are expiring or worse (--fail-on expiring); see the STATUS column");
        let invalid = fail_on(Some(FailOn::Invalid), &summary).unwrap_err().to_string();
        assert!(invalid.starts_with("1 of 4 token Secrets would be rejected"), "{invalid}");
        summary.by_verdict.retain(|v, _| *v == Verdict::Valid);
        assert!(fail_on(Some(FailOn::Expiring), &summary).is_ok());
    }
}
