//! `kubectl pxtoken generate`: a drop-in for `pxctl auth token generate` that runs off-node.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use pxtoken::claims::{TokenClaims, Validity, read_auth_config};
use secrecy::ExposeSecret;

use crate::checks::check_output_file;
use crate::cli::{GENERATE_DURATION, GlobalArgs, KeyArgs, ValidityArgs};
use crate::output::write_private_file;

pub const ABOUT: &str = "Generate a token from a pxctl auth-config, like `pxctl auth token generate`";

pub const EXAMPLES: &str = "Examples:
  # Exactly as on a node, but from your laptop
  kubectl pxtoken generate --auth-config=tenant.yaml --issuer=portworx.com \\
      --shared-secret-file=secret.txt --token-duration=1y

  # Key and issuer read from the cluster's Portworx install; token to a 0600 file
  kubectl pxtoken generate --auth-config=tenant.yaml --output=tenant.jwt";

#[derive(Debug, Args)]
#[command(mut_arg("token_duration", |arg| arg.default_value(GENERATE_DURATION)))]
pub struct GenerateArgs {
    /// pxctl auth-config YAML with name, email, sub, roles and groups
    #[arg(long, value_name = "FILE", help_heading = "Token")]
    pub auth_config: PathBuf,
    /// Write the token to this file (mode 0600) instead of stdout
    #[arg(long, value_name = "FILE", help_heading = "Token")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub validity: ValidityArgs,
    #[command(flatten)]
    pub key: KeyArgs,
}

pub async fn exec(args: GenerateArgs, global: &GlobalArgs) -> anyhow::Result<()> {
    // options → complete → validate → run, in a few lines: pxctl's flags leave little to check.
    global.validate(&args.key)?;
    if let Some(path) = &args.output {
        check_output_file("--output", path)?;
    }
    let identity = read_auth_config(&args.auth_config)?;
    let overrides = args.key.overrides();
    let conn = global.connect_unless_offline(&overrides, false).await?;
    let setup = global.signing_setup(&args.key, &overrides, conn.as_ref()).await?;
    let validity = Validity::from_now(args.validity.lifetime(), args.validity.clock_skew());
    let claims = TokenClaims::new(&setup.issuer, identity, validity)?;
    let token = setup.key.sign(&claims)?;
    match &args.output {
        Some(path) => {
            write_private_file(path, token.expose_secret().as_bytes())?;
        }
        None => writeln!(std::io::stdout(), "{}", token.expose_secret())?,
    }
    Ok(())
}
