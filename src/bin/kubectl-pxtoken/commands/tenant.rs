//! `kubectl pxtoken tenant NAMESPACE`: the seed's tenant workflow in one command.

use std::io::IsTerminal;
use std::path::PathBuf;

use futures::StreamExt;

use clap::Args;
use pxtoken::claims::{Identity, read_auth_config};
use pxtoken::discovery::discover_signing_key;
use pxtoken::duration::TokenDuration;
use pxtoken::tenant::{TenantEntry, TenantOutcome, TenantRequest, onboard_tenant, read_tenant_list};
use pxtoken::token_secret::{DEFAULT_SECRET_KEY, DEFAULT_SECRET_NAME, SecretTarget};

use crate::cli::{DryRunArg, GlobalArgs, KeyArgs, ObjectOutput, ValidityArgs, list_flag, token_duration};
use crate::output::{print_secret, stored_line};

pub const ABOUT: &str = "Issue a tenant token and store it in a Secret in the tenant's namespace";

pub const EXAMPLES: &str = "Examples:
  # Onboard team-a: find the key and issuer in the cluster, store team-a/px-k8s-user
  kubectl pxtoken tenant team-a

  # The same with an explicit shared secret and issuer, for a two-year token
  kubectl pxtoken tenant team-a --shared-secret-ref kube-system/pxkeys:shared-secret \\
      --issuer portworx.com --token-duration 2y

  # Name the tenant and put it in a group; create the namespace if needed
  kubectl pxtoken tenant team-a --name \"Team A\" --email team-a@example.com \\
      --groups developers --create-namespace

  # Show the Secret that would be written, without writing it
  kubectl pxtoken tenant team-a --dry-run=client -o yaml

  # Onboard every tenant in a list (re-runnable: renews tokens, keeps subjects)
  kubectl pxtoken tenant --from-file tenants.yaml";

#[derive(Debug, Args)]
pub struct TenantArgs {
    /// The tenant's namespace; the token Secret is written there
    #[arg(value_name = "NAMESPACE", required_unless_present = "from_file", conflicts_with = "from_file")]
    pub tenant_namespace: Option<String>,
    /// Onboard every tenant in this YAML list (namespace, and optionally name, email, sub, roles, groups, secretName)
    #[arg(long, value_name = "FILE")]
    pub from_file: Option<PathBuf>,
    /// With --from-file: how many tenants to onboard at once
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrency: u16,
    /// Name of the Secret that holds the token
    #[arg(long, default_value = DEFAULT_SECRET_NAME, value_name = "NAME", help_heading = "Secret")]
    pub secret_name: String,
    /// Key of the token in the Secret
    #[arg(long, default_value = DEFAULT_SECRET_KEY, value_name = "KEY", help_heading = "Secret")]
    pub secret_key: String,
    /// Take over an existing Secret that kubectl-pxtoken did not create
    #[arg(long, help_heading = "Secret")]
    pub overwrite: bool,
    /// Create the namespace if it does not exist
    #[arg(long, help_heading = "Secret")]
    pub create_namespace: bool,
    /// Print what would be written (client) or have the server check it (server); write nothing
    #[arg(long, value_enum, value_name = "STRATEGY", default_value = "none", num_args = 0..=1, require_equals = true, default_missing_value = "client", help_heading = "Secret")]
    pub dry_run: DryRunArg,
    /// Print the Secret as yaml or json, or just its name
    #[arg(short = 'o', long = "output", value_enum, value_name = "FORMAT", help_heading = "Secret")]
    pub output: Option<ObjectOutput>,
    /// Token name claim [default: the namespace]
    #[arg(long, help_heading = "Token")]
    pub name: Option<String>,
    /// Token email claim [default: <namespace>@<issuer>]
    #[arg(long, help_heading = "Token")]
    pub email: Option<String>,
    /// Token subject: the tenant's identity, owner of its volumes [default: the stored token's, else a new UUID]
    #[arg(long, help_heading = "Token")]
    pub sub: Option<String>,
    /// Roles, comma-separated or repeated [default: system.user]
    #[arg(long, value_name = "ROLE", help_heading = "Token")]
    pub roles: Vec<String>,
    /// Groups, comma-separated or repeated
    #[arg(long, value_name = "GROUP", help_heading = "Token")]
    pub groups: Vec<String>,
    /// pxctl auth-config YAML (name, email, sub, roles, groups); flags win over it
    #[arg(long, value_name = "FILE", help_heading = "Token")]
    pub auth_config: Option<PathBuf>,
    /// Token lifetime: <digits>(s|m|h|d|y), y = 365 days
    #[arg(long, default_value = "1y", value_parser = token_duration, value_name = "DURATION", help_heading = "Token")]
    pub token_duration: TokenDuration,
    /// Allow a tenant token with role system.admin or group "*"
    #[arg(long, help_heading = "Token")]
    pub allow_admin: bool,
    #[command(flatten)]
    pub validity: ValidityArgs,
    #[command(flatten)]
    pub key: KeyArgs,
}

pub async fn exec(args: TenantArgs, global: &GlobalArgs) -> anyhow::Result<()> {
    // Everything local is checked before the first request, so bad input costs no API call.
    let auth_config = match &args.auth_config {
        Some(path) => read_auth_config(path)?,
        None => Identity::default(),
    };
    let entries = match (&args.from_file, &args.tenant_namespace) {
        (Some(path), _) => read_tenant_list(path)?,
        (None, Some(namespace)) => {
            vec![TenantEntry { namespace: namespace.clone(), secret_name: None, identity: Identity::default() }]
        }
        (None, None) => unreachable!("clap requires NAMESPACE or --from-file"),
    };
    let overrides = args.key.overrides();
    let conn = global.connect().await?;
    let setup =
        discover_signing_key(Some(&conn), &overrides, global.discovery_cache(&conn, &args.key).as_ref()).await?;
    let flags = Identity {
        name: args.name.clone(),
        email: args.email.clone(),
        sub: args.sub.clone(),
        roles: list_flag(&args.roles),
        groups: list_flag(&args.groups),
    };
    let request_for = |entry: &TenantEntry| TenantRequest {
        target: SecretTarget {
            namespace: entry.namespace.clone(),
            name: entry.secret_name.clone().unwrap_or_else(|| args.secret_name.clone()),
            key: args.secret_key.clone(),
        },
        // Per-tenant entries are as specific as flags; flags still win, as they do over --auth-config.
        flags: flags.clone().or(entry.identity.clone()),
        auth_config: auth_config.clone(),
        lifetime: args.token_duration.as_duration(),
        clock_skew: args.validity.clock_skew(),
        allow_admin: args.allow_admin,
        overwrite: args.overwrite,
        create_namespace: args.create_namespace,
        dry_run: args.dry_run.into(),
    };

    if args.from_file.is_none() {
        let request = request_for(&entries[0]);
        let done = onboard_tenant(&conn, &setup, &request).await?;
        report(&request, &done, args.output)?;
        return Ok(());
    }

    // Bulk: bounded concurrency, one result line per tenant, every failure reported.
    let progress = progress_bar(entries.len() as u64);
    let mut results = futures::stream::iter(entries.iter().map(|entry| {
        let request = request_for(entry);
        let (conn, setup) = (&conn, &setup);
        async move {
            let result = onboard_tenant(conn, setup, &request).await;
            (request, result)
        }
    }))
    .buffer_unordered(args.concurrency.into());
    let mut failed = 0usize;
    while let Some((request, result)) = results.next().await {
        progress.inc(1);
        match result {
            Ok(done) => progress.suspend(|| report(&request, &done, args.output))?,
            Err(err) => {
                failed += 1;
                progress.suspend(|| eprintln!("error: {}: {err}", request.target.namespace));
            }
        }
    }
    progress.finish_and_clear();
    if failed > 0 {
        anyhow::bail!(
            "{failed} of {} tenants failed (see above); fix them and run the same command again",
            entries.len()
        );
    }
    Ok(())
}

/// A progress bar on stderr when it is a terminal; hidden otherwise (logs, CI, pipes).
fn progress_bar(len: u64) -> indicatif::ProgressBar {
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len);
    if let Ok(style) = indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} tenants {elapsed}") {
        bar.set_style(style);
    }
    bar
}

/// The result of one tenant: the kubectl-style line, or the object `-o` asks for.
fn report(request: &TenantRequest, done: &TenantOutcome, output: Option<ObjectOutput>) -> anyhow::Result<()> {
    if let Some(old) = &done.replaced_subject {
        eprintln!(
            "warning: {}: the tenant's subject changed from {old:?} to {:?}; volumes owned by the old subject stay with it",
            request.target.namespace, done.claims.sub
        );
    }
    match output {
        Some(format) => print_secret(&done.secret, format)?,
        None => println!("{}", stored_line(&request.target, done.outcome, request.dry_run, &done.claims)),
    }
    Ok(())
}
