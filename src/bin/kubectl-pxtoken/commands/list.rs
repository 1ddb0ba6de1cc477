//! `kubectl pxtoken list [-A | -n NAMESPACE]`: every token Secret and its health, a report.

use std::io::ErrorKind;
use std::ops::ControlFlow;

use clap::Args;
use pxtoken::names::NameRule;
use pxtoken::token_health::VerifyKeys;
use pxtoken::token_list::{ListOptions, ListSummary, Scope, list_tokens};
use pxtoken::token_secret::DEFAULT_SECRET_KEY;

use crate::checks::{UsageError, check_name};
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

/// kubectl's options → complete → validate → run.
struct ListRun {
    /// The scope is settled in `run`: `-n` needs the connection's namespace.
    options: ListOptions,
    public: VerifyKeys,
}

impl ListRun {
    /// Reads the public key files; local, no request.
    fn complete(args: &ListArgs) -> anyhow::Result<ListRun> {
        let mut options = ListOptions::new(Scope::AllNamespaces);
        options.secret_names.extend(args.secret_names.iter().cloned());
        options.secret_key = args.secret_key.clone();
        Ok(ListRun { options, public: args.verify.public_keys()? })
    }

    /// Names and key by Kubernetes' rules.
    fn validate(&self, args: &ListArgs) -> Result<(), UsageError> {
        args.secret_names.iter().try_for_each(|name| check_name("--secret-name", NameRule::Subdomain, name))?;
        check_name("--secret-key", NameRule::DataKey, &args.secret_key)
    }

    /// Streams the rows to the printer as pages arrive. Notes on what was not checked go out
    /// once, with the first row, so a listing refused outright shows only its error line.
    async fn run(mut self, args: &ListArgs, global: &GlobalArgs) -> anyhow::Result<()> {
        let overrides = args.key.overrides();
        let conn = global.connect().await?;
        let setup = global.judge_setup(&args.key, &overrides, &args.verify, self.public, Some(&conn)).await?;
        if !args.all_namespaces {
            self.options.scope = Scope::Namespaces(vec![conn.namespace.clone()]);
        }
        let mut notes = Some(unchecked_notes(&setup));
        let mut say_notes = || notes.take().into_iter().flatten().for_each(|note| eprintln!("{note}"));
        let mut printer = ListPrinter::new(std::io::stdout().lock(), args.output, args.all_namespaces)?;
        let mut failed = None;
        let now = jiff::Timestamp::now().as_second();
        let summary = list_tokens(&conn, &self.options, &setup.judge, now, |row| {
            say_notes();
            let printed = printer.row(&row);
            let flow = if printed.is_ok() { ControlFlow::Continue(()) } else { ControlFlow::Break(()) };
            failed = printed.err();
            flow
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
}

pub async fn exec(args: ListArgs, global: &GlobalArgs) -> anyhow::Result<()> {
    global.validate(&args.key)?;
    let run = ListRun::complete(&args)?;
    run.validate(&args)?;
    run.run(&args, global).await
}

/// `--fail-on`: an error naming how many tokens tripped it.
fn fail_on(when: Option<FailOn>, summary: &ListSummary) -> anyhow::Result<()> {
    let (bad, what, flag) = match when {
        None => return Ok(()),
        Some(FailOn::Expiring) => (summary.not_valid(), "are expiring or worse", "expiring"),
        Some(FailOn::Invalid) => (summary.rejected(), "would be rejected by Portworx", "invalid"),
    };
    if bad > 0 {
        anyhow::bail!("{bad} of {} token Secrets {what} (--fail-on {flag}); see the STATUS column", summary.rows);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use pxtoken::token_health::Verdict;

    #[test]
    fn fail_on_names_how_many_tokens_tripped_it() {
        let mut summary = ListSummary { rows: 4, ..ListSummary::default() };
        summary.by_verdict.extend([(Verdict::Valid, 1), (Verdict::Expiring, 2), (Verdict::Expired, 1)]);
        assert!(fail_on(None, &summary).is_ok());
        let expiring = fail_on(Some(FailOn::Expiring), &summary).unwrap_err().to_string();
        assert_eq!(expiring, "3 of 4 token Secrets are expiring or worse (--fail-on expiring); see the STATUS column");
        let invalid = fail_on(Some(FailOn::Invalid), &summary).unwrap_err().to_string();
        assert!(invalid.starts_with("1 of 4 token Secrets would be rejected"), "{invalid}");
        let healthy = ListSummary { rows: 1, by_verdict: [(Verdict::Valid, 1)].into(), ..ListSummary::default() };
        assert!(fail_on(Some(FailOn::Expiring), &healthy).is_ok());
    }
}
