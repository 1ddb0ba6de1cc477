//! `kubectl pxtoken admin`: the storage administrator's token (`system.admin`, groups `*`).

use std::path::PathBuf;

use clap::Args;
use clap::ValueEnum as _;
use pxtoken::admin::{ADMIN_NAME, AdminRequest, issue_admin};
use pxtoken::claims::Identity;
use pxtoken::connection::Connection;
use pxtoken::discovery::SigningSetup;
use pxtoken::token_secret::{DEFAULT_SECRET_KEY, DryRun, NamespacedName, StoreOptions, TargetParseError};

use crate::checks::{UsageError, check_identity_flags, check_output_file, invalid_part};
use crate::cli::{GlobalArgs, KeyArgs, ObjectOutput, StoreArgs, ValidityArgs};
use crate::output::{self, TokenDestination};

pub const ABOUT: &str = "Issue the storage administrator's token (system.admin, groups *)";

pub const EXAMPLES: &str = "Examples:
  # Print an admin token, key and issuer found in the cluster
  kubectl pxtoken admin

  # Keep it in a file only you can read, and show how to give it to pxctl
  kubectl pxtoken admin --token-file admin.jwt --print-pxctl-context

  # Store it in a Secret for automation, and show that Secret
  kubectl pxtoken admin --save-secret portworx/px-admin-token -o yaml";

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
    /// Write the token to this file (mode 0600) instead of stdout
    #[arg(long, value_name = "FILE", help_heading = "Output")]
    pub token_file: Option<PathBuf>,
    /// With --save-secret: print the Secret as yaml or json, or just its name (--output FILE is deprecated: use --token-file)
    #[arg(short = 'o', long = "output", value_name = "FORMAT", help_heading = "Output")]
    pub output: Option<String>,
    /// Store the token in this Secret (key auth-token) instead of printing it
    #[arg(long, value_name = "[NAMESPACE/]NAME", help_heading = "Output")]
    pub save_secret: Option<String>,
    /// Also print the `pxctl context create` command that installs this token
    #[arg(long, help_heading = "Output")]
    pub print_pxctl_context: bool,
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(flatten)]
    pub validity: ValidityArgs,
    #[command(flatten)]
    pub key: KeyArgs,
}

/// kubectl's options → complete → validate → run.
struct AdminOptions {
    request: AdminRequest,
    save_secret: Option<NamespacedName>,
    store: StoreOptions,
    to: TokenDestination,
}

impl AdminOptions {
    /// Reads the flags. `-o` is a format when it names one (yaml, json, name), else the token
    /// file of the deprecated `--output FILE`.
    fn complete(args: &AdminArgs) -> anyhow::Result<AdminOptions> {
        let format = args.output.as_deref().and_then(|value| ObjectOutput::from_str(value, false).ok());
        let legacy_file = args.output.as_deref().filter(|_| format.is_none()).map(PathBuf::from);
        if legacy_file.is_some() {
            eprintln!(
                "warning: --output FILE is deprecated, use --token-file FILE; -o/--output will mean an output format"
            );
        }
        if legacy_file.is_some() && args.token_file.is_some() {
            Err(UsageError("--output FILE and --token-file both name the token file: use --token-file".into()))?;
        }
        let save_secret = args.save_secret.as_deref().map(parse_save_secret).transpose()?;
        let identity = Identity {
            name: Some(args.name.clone()),
            email: args.email.clone(),
            sub: args.sub.clone(),
            ..Identity::default()
        };
        let request = AdminRequest {
            identity,
            lifetime: args.validity.lifetime(),
            clock_skew: args.validity.clock_skew(),
            store: None,
        };
        for (flag, path) in [("--token-file", &args.token_file), ("--output", &legacy_file)] {
            if let Some(path) = path {
                check_output_file(flag, path)?;
            }
        }
        let token_file = args.token_file.clone().or(legacy_file);
        let to = TokenDestination { format, token_file, print_pxctl_context: args.print_pxctl_context };
        Ok(AdminOptions { request, save_secret, store: args.store.options(false), to })
    }

    /// No empty claim; the Secret's flags only with a Secret to write.
    fn validate(&self) -> Result<(), UsageError> {
        check_identity_flags(&self.request.identity)?;
        if self.save_secret.is_some() {
            return Ok(());
        }
        let needs_secret =
            |flag: &str| Err(UsageError(format!("{flag} applies to the Secret of --save-secret, and none was given")));
        match (self.to.format, self.store.overwrite, self.store.dry_run) {
            (Some(format), _, _) => needs_secret(&format!("-o {}", format.name())),
            (_, true, _) => needs_secret("--overwrite"),
            (_, _, DryRun::Client | DryRun::Server) => needs_secret("--dry-run"),
            _ => Ok(()),
        }
    }

    /// Stores into `--save-secret`, in the connection's namespace unless it names one.
    async fn run(mut self, conn: Option<&Connection>, setup: &SigningSetup) -> anyhow::Result<()> {
        if let (Some(name), Some(conn)) = (&self.save_secret, conn) {
            self.request.store = Some((name.target(&conn.namespace, DEFAULT_SECRET_KEY), self.store));
        }
        let done = issue_admin(conn, setup, &self.request).await?;
        let target = self.request.store.as_ref().map(|(target, _)| target);
        output::admin_token(&done, target, self.store.dry_run, &self.to)
    }
}

/// `--save-secret [NAMESPACE/]NAME`, in kubectl's words when refused.
fn parse_save_secret(value: &str) -> Result<NamespacedName, UsageError> {
    value.parse().map_err(|err| match err {
        TargetParseError::Shape(_) => UsageError(format!("invalid --save-secret {value:?}: expected [NAMESPACE/]NAME")),
        TargetParseError::Name(err) => invalid_part("--save-secret", value, &err),
    })
}

pub async fn exec(args: AdminArgs, global: &GlobalArgs) -> anyhow::Result<()> {
    global.validate(&args.key)?;
    let options = AdminOptions::complete(&args)?;
    options.validate()?;
    let overrides = args.key.overrides();
    let conn = global.connect_unless_offline(&overrides, options.save_secret.is_some()).await?;
    let setup = global.signing_setup(&args.key, &overrides, conn.as_ref()).await?;
    options.run(conn.as_ref(), &setup).await
}
