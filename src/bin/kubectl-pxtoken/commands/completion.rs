//! `kubectl pxtoken completion SHELL`: a completion script for the `kubectl-pxtoken` command.
//! `kubectl pxtoken …` itself is completed by kubectl, through the `kubectl_complete-pxtoken`
//! companion and the hidden `__complete` (`crate::complete`).

use std::io::Write;

use clap::{Args, CommandFactory, ValueEnum};
pub const ABOUT: &str = "Print a shell completion script for kubectl-pxtoken";

pub const EXAMPLES: &str = "Examples:
  # bash: complete `kubectl-pxtoken …` in this shell
  source <(kubectl pxtoken completion bash)

  # zsh: install the completion function on your fpath
  kubectl pxtoken completion zsh > \"${fpath[1]}/_kubectl-pxtoken\"

Under `kubectl pxtoken …` kubectl (1.26 or newer) completes through the
kubectl_complete-pxtoken companion, which must be on your PATH; it also offers
namespace names from your cluster. Load kubectl's own completion for that
(`source <(kubectl completion bash)`); the scripts printed here are not needed.";

/// The shells `completion` writes scripts for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ShellArg {
    Bash,
    Zsh,
    Fish,
    Powershell,
}

#[derive(Debug, Args)]
pub struct CompletionArgs {
    /// The shell to write the completion script for
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: ShellArg,
}

/// Writes the completion script for `kubectl-pxtoken` to stdout.
pub fn exec(args: CompletionArgs) -> anyhow::Result<()> {
    let shell = match args.shell {
        ShellArg::Bash => clap_complete::Shell::Bash,
        ShellArg::Zsh => clap_complete::Shell::Zsh,
        ShellArg::Fish => clap_complete::Shell::Fish,
        ShellArg::Powershell => clap_complete::Shell::PowerShell,
    };
    // The scripts are for the `kubectl-pxtoken` executable. clap_complete derives its function
    // names from the names and bin names, which must not hold the space of `kubectl pxtoken`;
    // its bash script also breaks on a `-` in the bin name (the per-subcommand cases are named
    // differently from the ones it looks up), so bash gets `kubectl_pxtoken` and the final
    // `complete` lines are pointed at the real executable name.
    let bin = if shell == clap_complete::Shell::Bash { "kubectl_pxtoken" } else { "kubectl-pxtoken" };
    let mut cmd = executable_names(crate::Cli::command().name(bin), bin);
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cmd, bin, &mut script);
    if shell == clap_complete::Shell::Bash {
        script = bash_register_for_executable(&String::from_utf8_lossy(&script)).into_bytes();
    }
    // A trailing note: zsh needs `#compdef` on the first line, so nothing goes before the script.
    script.extend_from_slice(
        b"\n# `kubectl pxtoken ...` is completed by kubectl itself (1.26 or newer), which asks the\n\
          # kubectl_complete-pxtoken companion on PATH; that also completes namespace names.\n",
    );
    std::io::stdout().write_all(&script)?;
    Ok(())
}

/// Points bash's `complete -F _kubectl_pxtoken … kubectl_pxtoken` lines at `kubectl-pxtoken`.
fn bash_register_for_executable(script: &str) -> String {
    script
        .lines()
        .map(|line| match line.strip_suffix(" kubectl_pxtoken") {
            Some(head) if line.trim_start().starts_with("complete -F ") => format!("{head} kubectl-pxtoken\n"),
            _ => format!("{line}\n"),
        })
        .collect()
}

/// Sets the bin name of `cmd` and of every subcommand below it as invoked through `bin`.
fn executable_names(cmd: clap::Command, bin: &str) -> clap::Command {
    cmd.bin_name(bin.to_owned()).mut_subcommands(|sub| {
        let name = format!("{bin} {}", sub.get_name());
        executable_names(sub, &name)
    })
}
