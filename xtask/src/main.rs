//! kubectl-pxtoken's own tasks, run as `cargo xtask …` (the alias is in .cargo/config.toml).
//! A workspace member of its own, so nothing here reaches the product's dependencies.

mod archive;
mod binaries;
mod manifest;
mod platform;
mod release;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::platform::Platform;

#[derive(Parser)]
#[command(name = "cargo xtask", bin_name = "cargo xtask", about = "kubectl-pxtoken's release tasks")]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Build the release: static binaries, one archive per platform (binary, completion
    /// companion, LICENSE, README, man pages, completion scripts), sha256sums.txt, and the krew
    /// manifest rendered from plugin.yaml (OUT/pxtoken.yaml).
    ///
    /// Platforms and how each is built:
    ///   linux/amd64    x86_64-unknown-linux-musl   static; C compiler musl-gcc or cc
    ///   linux/arm64    aarch64-unknown-linux-musl  static; C compiler/linker aarch64-linux-gnu-gcc
    ///   darwin/amd64   x86_64-apple-darwin         on macOS only
    ///   darwin/arm64   aarch64-apple-darwin        on macOS only
    ///   windows/amd64  x86_64-pc-windows-gnu       C compiler/linker x86_64-w64-mingw32-gcc
    ///
    /// A platform whose Rust target or C toolchain is missing here is skipped with a note and
    /// left out of the manifest (--require-all makes that an error). Archives are reproducible
    /// from the same binaries: sorted entries, owner 0, the last commit's time as mtime
    /// (SOURCE_DATE_EPOCH wins). Builds go to target/release-build/ (or $CARGO_TARGET_DIR), so
    /// they never wait for, or hold, the lock of the developer's target/.
    #[command(verbatim_doc_comment)]
    Release {
        /// Only this platform (repeatable; default: all).
        #[arg(long = "platform", value_name = "OS/ARCH")]
        platforms: Vec<Platform>,
        /// Fail if a platform cannot be built here instead of leaving it out.
        #[arg(long)]
        require_all: bool,
        /// Where the archives, sha256sums.txt and pxtoken.yaml go [default: dist/ in the repository].
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Where the archives are downloaded from (default: the GitHub release of the tag).
        #[arg(long, value_name = "URL")]
        base_url: Option<String>,
        /// Package binaries built elsewhere: DIR/<os>_<arch>/kubectl-pxtoken[.exe] and
        /// kubectl_complete-pxtoken[.exe].
        #[arg(long, value_name = "DIR", conflicts_with = "build_only")]
        binaries_from: Option<PathBuf>,
        /// Only build, into OUT/<os>_<arch>/.
        #[arg(long)]
        build_only: bool,
        /// Also write the manifest to krew-manifest.yaml (needs every platform).
        #[arg(long)]
        update_manifest: bool,
    },
    /// Print the Rust target a platform is built for (for `rustup target add`).
    PrintTarget {
        #[arg(value_name = "OS/ARCH")]
        platform: Platform,
    },
}

/// A progress line on stderr.
pub fn note(message: &str) {
    eprintln!("release: {message}");
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The repository root: this crate's parent, wherever cargo was started.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask/ is inside the repository");
    let result = match cli.task {
        Task::Release { platforms, require_all, out, base_url, binaries_from, build_only, update_manifest } => {
            let options = release::Options {
                platforms,
                require_all,
                out: out.unwrap_or_else(|| root.join("dist")),
                base_url,
                binaries_from,
                build_only,
                update_manifest,
            };
            release::run(root, options)
        }
        Task::PrintTarget { platform } => {
            println!("{}", platform.rust_target());
            Ok(())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("release: error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
