//! Where each platform's binaries come from: a release build here (static musl on Linux,
//! cross linkers from the distribution for arm64 and Windows), or a directory of binaries
//! built elsewhere (the release workflow's build jobs; the tests, with a debug build).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};

use crate::note;
use crate::platform::Platform;

/// `dir/<os>_<arch>/`: where `platform`'s binaries are in a directory of binaries.
pub fn platform_dir(dir: &Path, platform: Platform) -> PathBuf {
    dir.join(platform.slug())
}

/// Whether `dir` holds both of `platform`'s binaries; if not, what is missing.
pub fn check_present(dir: &Path, platform: Platform) -> Result<(), String> {
    let dir = platform_dir(dir, platform);
    let [plugin, companion] = platform.binaries();
    if dir.join(&plugin).is_file() && dir.join(&companion).is_file() {
        Ok(())
    } else {
        Err(format!("no {plugin} and {companion} in {}", dir.display()))
    }
}

/// Builds `platform`'s release binaries with cargo and copies them to `dest/<os>_<arch>/`.
/// `Ok(Err(reason))` when this machine cannot build it (a missing Rust target or C toolchain).
pub fn build(root: &Path, platform: Platform, dest: &Path) -> Result<Result<(), String>> {
    let target = platform.rust_target();
    let sysroot = rustc_sysroot()?;
    if !sysroot.join("lib/rustlib").join(target).is_dir() {
        return Ok(Err(format!("Rust target {target} is not installed (rustup target add {target})")));
    }
    let env = match platform.toolchain_env() {
        Ok(env) => env,
        Err(why) => return Ok(Err(why)),
    };
    // A target directory of its own (unless CARGO_TARGET_DIR says otherwise): cargo locks the
    // one it builds in, and a release build would hold the developer's `cargo test` for minutes.
    let target_dir =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target/release-build"), PathBuf::from);
    note(&format!("building {platform} ({target})"));
    let started = Instant::now();
    let mut cargo = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cargo
        .args(["build", "--release", "--locked", "--package", "kubectl-pxtoken", "--target", target])
        .arg("--manifest-path")
        .arg(root.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&target_dir)
        .envs(env);
    for binary in crate::platform::BINARIES {
        cargo.args(["--bin", binary]);
    }
    let status = cargo.status().context("running cargo")?;
    if !status.success() {
        bail!("cargo build for {platform} failed (see above)");
    }
    let built = target_dir.join(target).join("release");
    let dest = platform_dir(dest, platform);
    if dest.exists() {
        std::fs::remove_dir_all(&dest).with_context(|| format!("removing {}", dest.display()))?;
    }
    std::fs::create_dir_all(&dest).with_context(|| format!("creating {}", dest.display()))?;
    for name in platform.binaries() {
        std::fs::copy(built.join(&name), dest.join(&name)).with_context(|| format!("copying {name}"))?;
    }
    let size = dest.join(&platform.binaries()[0]).metadata()?.len();
    note(&format!("built {platform} in {}s: {size} bytes", started.elapsed().as_secs()));
    Ok(Ok(()))
}

fn rustc_sysroot() -> Result<PathBuf> {
    let out = Command::new("rustc").args(["--print", "sysroot"]).output().context("running rustc --print sysroot")?;
    if !out.status.success() {
        bail!("rustc --print sysroot failed: {}", String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(PathBuf::from(String::from_utf8(out.stdout).context("rustc's sysroot")?.trim()))
}
