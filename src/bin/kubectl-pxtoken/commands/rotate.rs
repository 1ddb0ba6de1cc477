//! `kubectl pxtoken rotate`: renew, in place, every token that is expiring or signed with a key
//! or issuer no longer current.

use std::time::Duration;

use clap::Args;
use pxtoken::duration::TokenDuration;
use pxtoken::names::NameRule;
use pxtoken::rotate::{Policy, RotateOptions, Rotator};
use pxtoken::token_list::{ListOptions, Scope};

use crate::checks::{UsageError, check_name};
use crate::cli::{ClockSkewArgs, DryRunArg, GlobalArgs, KeyArgs, SecretNameArgs, token_duration};
use crate::rotate_report::RotateReport;
use crate::signals::stop_on_signals;

pub const ABOUT: &str = "Renew expiring tokens, and tokens signed with an old key or issuer, in place";

pub const EXAMPLES: &str = "Examples:
  # Renew every token in the cluster that expires within 30 days or no longer verifies
  kubectl pxtoken rotate -A

  # After the shared secret changed: re-sign the tokens of two tenants, and see first
  kubectl pxtoken rotate team-a team-b --dry-run=server
  kubectl pxtoken rotate team-a team-b

  # Renew everything, valid tokens included, as 90-day tokens
  kubectl pxtoken rotate -A --all --token-duration 90d

  # Also take over the documented workflow's hand-made Secrets (keeps their sub)
  kubectl pxtoken rotate -A --adopt";

#[derive(Debug, Args)]
pub struct RotateArgs {
    /// Namespaces to rotate in [default: -n, else the context's namespace]
    #[arg(value_name = "NAMESPACE", conflicts_with = "all_namespaces")]
    pub namespaces: Vec<String>,
    /// Rotate in every namespace
    #[arg(short = 'A', long)]
    pub all_namespaces: bool,
    /// Renew tokens that expire within this long: <digits>(s|m|h|d|y)
    #[arg(long, default_value = "30d", value_parser = token_duration, value_name = "DURATION")]
    pub expiring_within: TokenDuration,
    /// Renew every token, valid ones included
    #[arg(long)]
    pub all: bool,
    /// Take over hand-made token Secrets (no managed-by label): re-issue them keeping their sub, and label them
    #[arg(long)]
    pub adopt: bool,
    /// How many Secrets to rotate at once
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrency: u16,
    /// Print what would be renewed (client) or have the server check the writes (server); write nothing
    #[arg(long, value_enum, value_name = "STRATEGY", default_value = "none", num_args = 0..=1, require_equals = true, default_missing_value = "client")]
    pub dry_run: DryRunArg,
    /// Lifetime of the new tokens [default: each token's own]
    #[arg(long, value_parser = token_duration, value_name = "DURATION", help_heading = "Token")]
    pub token_duration: Option<TokenDuration>,
    #[command(flatten)]
    pub skew: ClockSkewArgs,
    #[command(flatten)]
    pub secret: SecretNameArgs,
    #[command(flatten)]
    pub key: KeyArgs,
}

impl RotateArgs {
    /// kubectl's options → complete: the scope and the run's options, from flags alone.
    fn complete(&self, default_namespace: &str) -> RotateOptions {
        let scope = match (self.all_namespaces, self.namespaces.is_empty()) {
            (true, _) => Scope::AllNamespaces,
            (false, true) => Scope::Namespaces(vec![default_namespace.to_owned()]),
            (false, false) => Scope::Namespaces(self.namespaces.clone()),
        };
        let mut list = ListOptions::new(scope);
        list.secret_names = vec![self.secret.secret_name.clone()];
        list.secret_key = self.secret.secret_key.clone();
        RotateOptions {
            list,
            expiring_within: self.expiring_within.as_duration(),
            policy: Policy { all: self.all, adopt: self.adopt },
            lifetime: self.token_duration.map(|d| d.as_duration()),
            fallback_lifetime: Duration::from_secs(365 * 24 * 3600),
            clock_skew: self.skew.clock_skew(),
            dry_run: self.dry_run.into(),
            concurrency: self.concurrency.into(),
        }
    }

    /// Names by Kubernetes' rules, before any request.
    fn validate(&self) -> Result<(), UsageError> {
        for namespace in &self.namespaces {
            check_name("namespace", NameRule::Label, namespace)?;
        }
        self.secret.validate()
    }
}

pub async fn exec(args: RotateArgs, global: &GlobalArgs) -> anyhow::Result<()> {
    global.validate(&args.key)?;
    args.validate()?;
    let overrides = args.key.overrides();
    let conn = global.connect().await?;
    let options = args.complete(&conn.namespace);
    let setup = global.signing_setup(&args.key, &overrides, Some(&conn)).await?;
    let rotator = Rotator::new(&conn, &setup, options)?;
    let cancel = stop_on_signals()?;
    let mut report = RotateReport::new(args.dry_run.into());
    let result = rotator.run(&cancel, |result| report.one(result)).await;
    report.finish(match &result {
        Ok(summary) => Some(*summary),
        Err(err) => err.summary(),
    })?;
    result?;
    Ok(())
}
