//! `kubectl pxtoken inspect [TOKEN|-]`: would Portworx accept this token now, and why not.

use std::io::Read;

use clap::Args;
use pxtoken::connection::Connection;
use pxtoken::token_health::{JudgeSetup, TokenReport};
use pxtoken::token_list::judge_secret;
use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

use crate::checks::UsageError;
use crate::cli::{GlobalArgs, KeyArgs, ReportOutput, SecretNameArgs, VerifyArgs};
use crate::output::Reported;
use crate::printers::json_pretty;
use crate::token_view::{TokenView, describe, unchecked_notes};

pub const ABOUT: &str = "Decode a token and tell whether Portworx would accept it now (exit 0) or not (exit 1)";

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

/// Where the token is: given (argv or stdin), or in a Secret of the connection's namespace.
enum Source {
    Given(SecretString),
    Secret,
}

pub async fn exec(args: InspectArgs, global: &GlobalArgs) -> anyhow::Result<()> {
    // validate → complete → run: the checks that cost nothing come before reading stdin.
    global.validate(&args.key)?;
    let stdin_token = args.token.as_deref() == Some("-");
    if stdin_token && args.key.shared_secret_file.as_deref().is_some_and(|p| p.as_os_str() == "-") {
        return Err(UsageError("the token and --shared-secret-file - cannot both come from stdin".into()).into());
    }
    let source = match args.token.as_deref() {
        Some("-") => {
            let mut text = Zeroizing::new(String::new());
            std::io::stdin().read_to_string(&mut text)?;
            Source::Given(SecretString::from(text.trim().to_owned()))
        }
        Some(token) => {
            eprintln!(
                "warning: a token on the command line is visible to other users of this machine in the process list; pipe it to 'kubectl pxtoken inspect -' instead"
            );
            Source::Given(SecretString::from(token.trim().to_owned()))
        }
        None => {
            args.secret.validate()?;
            Source::Secret
        }
    };
    let public = args.verify.public_keys()?;
    let overrides = args.key.overrides();
    let offline = matches!(source, Source::Given(_))
        && (overrides.has_local_key() || !public.is_empty())
        && overrides.issuer.is_some();
    let conn = if offline { None } else { Some(global.connect().await?) };
    let setup = global.judge_setup(&args.key, &overrides, &args.verify, public, conn.as_ref()).await?;
    let now = jiff::Timestamp::now().as_second();
    let (report, row) = match (&source, &conn) {
        (Source::Given(token), _) => (setup.judge.judge(token.expose_secret(), now, None), None),
        (Source::Secret, Some(conn)) => {
            let row = read_secret(conn, &args.secret, &setup, now).await?;
            (row.report.clone(), Some(row))
        }
        (Source::Secret, None) => unreachable!("a Secret is always read through a connection"),
    };
    let view = match &row {
        Some(row) => TokenView::of_row(row),
        None => TokenView::of_report(&report),
    };
    let text = match args.output {
        None => describe(&view, &checked_with(&setup, &args.verify)),
        Some(ReportOutput::Json) => json_pretty(&view)? + "\n",
        Some(ReportOutput::Yaml) => serde_saphyr::to_string(&view)?,
    };
    print!("{text}");
    verdict_exit(&setup, &report)
}

async fn read_secret(
    conn: &Connection,
    secret: &SecretNameArgs,
    setup: &JudgeSetup,
    now: i64,
) -> anyhow::Result<pxtoken::token_list::TokenRow> {
    let (namespace, name) = (&conn.namespace, &secret.secret_name);
    match judge_secret(conn, namespace, name, &secret.secret_key, &setup.judge, now).await? {
        Some(row) => Ok(row),
        None => anyhow::bail!(
            "secret {name:?} not found in namespace {namespace:?}: check -n and --secret-name, or pass the token on stdin with 'inspect -'"
        ),
    }
}

/// The key the token was judged against, in the words the user gave it.
fn checked_with(setup: &JudgeSetup, verify: &VerifyArgs) -> String {
    let mut keys = verify.described();
    keys.extend(setup.key_source.iter().map(ToString::to_string));
    if keys.is_empty() { "<none>: the signature was not checked".into() } else { keys.join(", ") }
}

/// Exit 0 only when openstorage would accept the token now, as far as checked. A rejection is
/// the output itself (exit 1, no error line); an acceptance that rests on claims alone is not an
/// answer, so it ends in an error naming what was not checked.
fn verdict_exit(setup: &JudgeSetup, report: &TokenReport) -> anyhow::Result<()> {
    let notes = unchecked_notes(setup);
    let answered = report.signature_checked && report.issuer_checked;
    if !report.verdict.accepted() || answered {
        notes.iter().for_each(|note| eprintln!("{note}"));
    }
    if !report.verdict.accepted() {
        return Err(Reported(format!("the token would be rejected: {}", report.verdict)).into());
    }
    if answered {
        return Ok(());
    }
    let why =
        notes.first().map_or("the signature or the issuer was not checked", |n| n.trim_start_matches("warning: "));
    anyhow::bail!("cannot tell whether Portworx accepts this token: {why}")
}
