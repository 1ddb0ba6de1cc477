//! `kubectl pxtoken inspect [TOKEN|-]`: would Portworx accept this token now, and why not.

use std::io::Read;

use clap::Args;
use pxtoken::token_health::VerifyKeys;
use pxtoken::token_list::judge_secret;
use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

use crate::checks::UsageError;
use crate::cli::{GlobalArgs, KeyArgs, ReportOutput, SecretNameArgs, VerifyArgs};
use crate::printers::json_pretty;
use crate::token_view::{TokenView, checked_with, describe, exit_for};

pub const ABOUT: &str = "Decode a token and tell whether Portworx accepts it now, and why (exit 0 or 1)";

pub const EXAMPLES: &str = "Examples:
  # The token stored for team-a (Secret px-k8s-user), against the cluster's key and issuer
  kubectl pxtoken inspect -n team-a

  # A token from a file or another command, on stdin (never put a token in argv)
  kubectl pxtoken inspect - < tenant.jwt

  # Against given keys and issuer, without a cluster
  kubectl pxtoken inspect - --rsa-public-keyfile px-public.pem --issuer portworx.com < tenant.jwt

  # Fail a script a fortnight before expiry, with the details as JSON
  kubectl pxtoken inspect -n team-a --expiring-within 14d -o json";

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The token, or '-' to read it from stdin; argv is visible to other users, so prefer '-' [default: the token stored in -n NAMESPACE]
    #[arg(value_name = "TOKEN|-", conflicts_with_all = ["secret_name", "secret_key"])]
    pub token: Option<String>,
    #[command(flatten)]
    pub secret: SecretNameArgs,
    /// Print the verdict and claims as yaml or json instead of a description
    #[arg(short = 'o', long = "output", value_enum, value_name = "FORMAT")]
    pub output: Option<ReportOutput>,
    #[command(flatten)]
    pub verify: VerifyArgs,
    #[command(flatten)]
    pub key: KeyArgs,
}

/// Where the token is.
enum Source {
    Argv(SecretString),
    Stdin,
    /// `--secret-name` in the connection's namespace.
    Secret,
}

/// kubectl's options → complete → validate → run.
struct InspectOptions {
    source: Source,
    public: VerifyKeys,
}

impl InspectOptions {
    /// Reads the public key files; warns about a token in argv. Local, no request.
    fn complete(args: &InspectArgs) -> anyhow::Result<InspectOptions> {
        let source = match args.token.as_deref() {
            Some("-") => Source::Stdin,
            Some(token) => {
                eprintln!(
                    "warning: a token on the command line is visible to other users of this machine in the process list; pipe it to 'kubectl pxtoken inspect -' instead"
                );
                Source::Argv(SecretString::from(token.trim().to_owned()))
            }
            None => Source::Secret,
        };
        Ok(InspectOptions { source, public: args.verify.public_keys()? })
    }

    /// stdin holds one thing; a Secret's name and key by Kubernetes' rules.
    fn validate(&self, args: &InspectArgs) -> Result<(), UsageError> {
        let secret_from_stdin = args.key.shared_secret_file.as_deref().is_some_and(|p| p.as_os_str() == "-");
        match self.source {
            Source::Stdin if secret_from_stdin => {
                Err(UsageError("the token and --shared-secret-file - cannot both come from stdin".into()))
            }
            Source::Secret => args.secret.validate(),
            _ => Ok(()),
        }
    }

    /// Judges the token against the cluster's key (or the given ones), prints the verdict, and
    /// exits as openstorage would decide. No cluster is needed for a given token, key and issuer.
    async fn run(self, args: &InspectArgs, global: &GlobalArgs) -> anyhow::Result<()> {
        let token = match self.source {
            Source::Argv(token) => Some(token),
            Source::Stdin => {
                let mut text = Zeroizing::new(String::new());
                std::io::stdin().read_to_string(&mut text)?;
                Some(SecretString::from(text.trim().to_owned()))
            }
            Source::Secret => None,
        };
        let overrides = args.key.overrides();
        let key_given = overrides.has_local_key() || !self.public.is_empty();
        let offline = token.is_some() && key_given && overrides.issuer.is_some();
        let conn = if offline { None } else { Some(global.connect().await?) };
        let setup = global.judge_setup(&args.key, &overrides, &args.verify, self.public, conn.as_ref()).await?;
        let now = jiff::Timestamp::now().as_second();
        let (report, row) = match (token, &conn) {
            (Some(token), _) => (setup.judge.judge(token.expose_secret(), now, None), None),
            (None, Some(conn)) => {
                let (name, key) = (&args.secret.secret_name, &args.secret.secret_key);
                let row = judge_secret(conn, &conn.namespace, name, key, &setup.judge, now).await?;
                (row.report.clone(), Some(row))
            }
            (None, None) => unreachable!("a Secret is always read through a connection"),
        };
        let view = row.as_ref().map_or_else(|| TokenView::of_report(&report), TokenView::of_row);
        let text = match args.output {
            None => describe(&view, &checked_with(&setup, args.verify.described())),
            Some(ReportOutput::Json) => json_pretty(&view)? + "\n",
            Some(ReportOutput::Yaml) => serde_saphyr::to_string(&view)?,
        };
        print!("{text}");
        exit_for(&setup, &report)
    }
}

pub async fn exec(args: InspectArgs, global: &GlobalArgs) -> anyhow::Result<()> {
    global.validate(&args.key)?;
    let options = InspectOptions::complete(&args)?;
    options.validate(&args)?;
    options.run(&args, global).await
}
