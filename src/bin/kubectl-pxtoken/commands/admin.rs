//! `kubectl pxtoken admin`: the storage administrator's token (`system.admin`, groups `*`).

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use pxtoken::claims::{ADMIN_GROUP, ADMIN_ROLE, Identity, TokenClaims, Validity};
use pxtoken::discovery::discover_signing_key;
use pxtoken::duration::TokenDuration;
use pxtoken::token_secret::{self, DEFAULT_SECRET_KEY, SecretTarget, TokenRecord, rfc3339};
use secrecy::ExposeSecret;

use crate::cli::{DryRunArg, GlobalArgs, KeyArgs, ValidityArgs, token_duration};
use crate::output::{stored_line, write_private_file};

pub const ABOUT: &str = "Issue the storage administrator's token (system.admin, groups *)";

pub const EXAMPLES: &str = "Examples:
  # Print an admin token, key and issuer found in the cluster
  kubectl pxtoken admin

  # Keep it in a file only you can read, and show how to give it to pxctl
  kubectl pxtoken admin --output admin.jwt --print-pxctl-context

  # Store it in a Secret for automation
  kubectl pxtoken admin --save-secret portworx/px-admin-token";

/// The default name of the administrator, also the local part of its email and subject.
pub const ADMIN_NAME: &str = "storage-admin";

#[derive(Debug, Args)]
pub struct AdminArgs {
    /// Token name claim
    #[arg(long, default_value = ADMIN_NAME, help_heading = "Token")]
    pub name: String,
    /// Token email claim [default: storage-admin@<issuer>]
    #[arg(long, help_heading = "Token")]
    pub email: Option<String>,
    /// Token subject [default: the email]
    #[arg(long, help_heading = "Token")]
    pub sub: Option<String>,
    /// Token lifetime: <digits>(s|m|h|d|y), y = 365 days
    #[arg(long, default_value = "1y", value_parser = token_duration, value_name = "DURATION", help_heading = "Token")]
    pub token_duration: TokenDuration,
    /// Write the token to this file (mode 0600) instead of stdout
    #[arg(long, value_name = "FILE", help_heading = "Output")]
    pub output: Option<PathBuf>,
    /// Store the token in this Secret (key auth-token) instead of printing it
    #[arg(long, value_name = "[NAMESPACE/]NAME", help_heading = "Output")]
    pub save_secret: Option<String>,
    /// Take over an existing --save-secret Secret that kubectl-pxtoken did not create
    #[arg(long, help_heading = "Output")]
    pub overwrite: bool,
    /// With --save-secret: print what would be written, or have the server check it
    #[arg(long, value_enum, value_name = "STRATEGY", default_value = "none", num_args = 0..=1, require_equals = true, default_missing_value = "client", help_heading = "Output")]
    pub dry_run: DryRunArg,
    /// Also print the `pxctl context create` command that installs this token
    #[arg(long, help_heading = "Output")]
    pub print_pxctl_context: bool,
    #[command(flatten)]
    pub validity: ValidityArgs,
    #[command(flatten)]
    pub key: KeyArgs,
}

fn save_target(spec: &str, default_namespace: &str) -> anyhow::Result<SecretTarget> {
    let (namespace, name) = spec.split_once('/').unwrap_or((default_namespace, spec));
    if namespace.is_empty() || name.is_empty() || name.contains('/') {
        anyhow::bail!("invalid --save-secret {spec:?}: expected [NAMESPACE/]NAME");
    }
    Ok(SecretTarget { namespace: namespace.into(), name: name.into(), key: DEFAULT_SECRET_KEY.into() })
}

pub async fn exec(args: AdminArgs, global: &GlobalArgs) -> anyhow::Result<()> {
    let overrides = args.key.overrides();
    let offline = overrides.has_local_key() && overrides.issuer.is_some() && args.save_secret.is_none();
    let conn = if offline { None } else { Some(global.connect().await?) };
    let target = match (&args.save_secret, &conn) {
        (Some(spec), Some(conn)) => Some(save_target(spec, &conn.namespace)?),
        _ => None,
    };
    let cache = conn.as_ref().and_then(|conn| global.discovery_cache(conn, &args.key));
    let setup = discover_signing_key(conn.as_ref(), &overrides, cache.as_ref()).await?;
    let email = args.email.unwrap_or_else(|| format!("{ADMIN_NAME}@{}", setup.issuer));
    let identity = Identity {
        sub: Some(args.sub.unwrap_or_else(|| email.clone())),
        name: Some(args.name),
        email: Some(email),
        roles: Some(vec![ADMIN_ROLE.into()]),
        groups: Some(vec![ADMIN_GROUP.into()]),
    };
    let claims = TokenClaims::new(
        &setup.issuer,
        identity,
        Validity::from_now(args.token_duration.as_duration(), args.validity.clock_skew()),
    )?;
    let token = setup.key.sign(&claims)?;
    let mut stdout = std::io::stdout();
    if let (Some(target), Some(conn)) = (&target, &conn) {
        let existing = token_secret::read_existing(conn, target).await?;
        token_secret::check_takeover(target, existing.as_ref(), args.overwrite)?;
        let record = TokenRecord::new(&token, &claims, &setup.key_source);
        let dry_run = args.dry_run.into();
        let (outcome, _) = token_secret::store_token(conn, target, &record, existing.as_ref(), dry_run).await?;
        writeln!(stdout, "{}", stored_line(target, outcome, dry_run, &claims))?;
    }
    if let Some(path) = &args.output {
        write_private_file(path, token.expose_secret().as_bytes())?;
        eprintln!("token written to {} (mode 0600, expires {})", path.display(), rfc3339(claims.exp));
    }
    let printed_elsewhere = target.is_some() || args.output.is_some();
    if args.print_pxctl_context {
        match &args.output {
            Some(path) => writeln!(stdout, "pxctl context create admin --token=\"$(cat {})\"", path.display())?,
            None => writeln!(stdout, "pxctl context create admin --token={}", token.expose_secret())?,
        }
    } else if !printed_elsewhere {
        writeln!(stdout, "{}", token.expose_secret())?;
    }
    Ok(())
}
