//! Internal `kubectl-pxtoken __man DIR`: writes the manual pages (roff) generated from the CLI
//! definition, one per command: `kubectl-pxtoken.1`, `kubectl-pxtoken-tenant.1`, …
//! The release script ships them in every archive.

use std::ffi::OsString;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::CommandFactory;

/// The internal entry point's name (not a subcommand: it appears in no help or completion).
pub const MAN_COMMAND: &str = "__man";

/// `__man DIR`: exit 0 with the pages written, 2 on bad usage, 1 on a write error.
pub fn main(args: Vec<OsString>) -> ExitCode {
    let [dir] = args.as_slice() else {
        eprintln!("error: usage: kubectl-pxtoken {MAN_COMMAND} DIR");
        return ExitCode::from(2);
    };
    match write_pages(Path::new(dir)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn write_pages(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    // The file names come from the display name; the synopsis keeps `kubectl pxtoken`. The
    // pages carry the plain version: the commit is for `--version`, not for the manual.
    let cmd = crate::Cli::command()
        .display_name("kubectl-pxtoken")
        .version(env!("CARGO_PKG_VERSION"))
        .mut_subcommands(|sub| sub.version(env!("CARGO_PKG_VERSION")));
    clap_mangen::generate_to(cmd, dir).with_context(|| format!("cannot write manual pages into {}", dir.display()))
}
