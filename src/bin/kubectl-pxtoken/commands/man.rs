//! Hidden `kubectl-pxtoken __man DIR`: writes the manual pages (roff) generated from the CLI
//! definition, one per command: `kubectl-pxtoken.1`, `kubectl-pxtoken-tenant.1`, …
//! The release script ships them in every archive.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Args, CommandFactory};

/// The hidden subcommand's name.
pub const MAN_COMMAND: &str = "__man";

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Directory to write the pages into (created if missing)
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
}

pub fn exec(args: ManArgs) -> anyhow::Result<()> {
    std::fs::create_dir_all(&args.dir).with_context(|| format!("cannot create {}", args.dir.display()))?;
    // The file names come from the display name; the synopsis keeps `kubectl pxtoken`. The
    // pages carry the plain version: the commit is for `--version`, not for the manual.
    let cmd = crate::Cli::command()
        .display_name("kubectl-pxtoken")
        .version(env!("CARGO_PKG_VERSION"))
        .mut_subcommands(|sub| sub.version(env!("CARGO_PKG_VERSION")));
    clap_mangen::generate_to(cmd, &args.dir).with_context(|| format!("cannot write pages into {}", args.dir.display()))?;
    Ok(())
}
