//! `kubectl_complete-pxtoken`: the companion kubectl (1.26 or newer) runs to complete
//! `kubectl pxtoken …`. kubectl calls it with the words after `pxtoken` (the last one being the
//! word under the cursor) and reads cobra's `__complete` answer from stdout.
//!
//! It only forwards to `kubectl-pxtoken __complete`, which knows the command line: first the
//! `kubectl-pxtoken` beside this file (symlinks resolved), then the one beside the path it was
//! started by, then the first on PATH. It stays tiny, so the archive carries one real program.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

const PLUGIN: &str = if cfg!(windows) { "kubectl-pxtoken.exe" } else { "kubectl-pxtoken" };

fn find_plugin(started_as: Option<&OsStr>) -> Option<PathBuf> {
    let beside = |exe: &Path| exe.parent().map(|dir| dir.join(PLUGIN)).filter(|p| p.is_file());
    if let Some(found) = std::env::current_exe().ok().and_then(|exe| beside(&exe)) {
        return Some(found);
    }
    if let Some(found) = started_as.map(Path::new).filter(|p| p.components().count() > 1).and_then(beside) {
        return Some(found);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(PLUGIN)).find(|p| p.is_file())
}

fn main() -> ExitCode {
    let mut args = std::env::args_os();
    let started_as = args.next();
    let words: Vec<OsString> = args.collect();
    let Some(plugin) = find_plugin(started_as.as_deref()) else {
        // No candidates and no file names; a message on stderr would land in the user's prompt.
        println!(":4");
        return ExitCode::SUCCESS;
    };
    let mut cmd = Command::new(plugin);
    cmd.arg("__complete").args(words);
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        let _ = cmd.exec(); // returns only on failure
        println!(":4");
        ExitCode::SUCCESS
    }
    #[cfg(not(unix))]
    {
        if cmd.status().is_err() {
            println!(":4");
        }
        ExitCode::SUCCESS
    }
}
