//! The hidden `kubectl-pxtoken __complete WORDS…`: kubectl's plugin-completion protocol (cobra's
//! `__complete`), which the `kubectl_complete-pxtoken` companion forwards to.
//!
//! How kubectl (>= 1.26) completes `kubectl pxtoken …`: its own completion script runs
//! `kubectl __complete pxtoken WORDS… CURRENT`; kubectl finds `kubectl_complete-pxtoken` on PATH
//! and runs it with `WORDS… CURRENT` (everything after `pxtoken`, flags included). The answer is
//! one candidate per line, optionally `\t` and a description, then a last line `:<directive>`.
//!
//! [`engine`] reads the line against the CLI definition; [`lookups`] lists what only the
//! cluster knows (namespace and Secret names).

mod engine;
mod lookups;

use std::io::Write;

use clap::CommandFactory;

/// The hidden subcommand kubectl's companion calls.
pub const COMPLETE_COMMAND: &str = "__complete";

/// `kubectl-pxtoken __complete WORDS… CURRENT`: prints the candidates and the directive.
/// Never fails: a completion that cannot be computed is no candidates.
pub fn main(words: &[String]) {
    let completion = complete(words, &lookups::list_from_cluster);
    let _ = std::io::stdout().write_all(completion.render().as_bytes());
}

/// The completion of `words` against this plugin's CLI, with `list` for the cluster's names.
fn complete(words: &[String], list: &lookups::Lister<'_>) -> engine::Completion {
    let mut root = crate::Cli::command();
    root.build();
    match engine::complete(&root, words) {
        engine::Answer::Ready(completion) => completion,
        engine::Answer::Value(slot) => lookups::complete_value(&slot, list),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The real CLI's answer, with no cluster behind it.
    fn offline(line: &[&str]) -> String {
        let words: Vec<String> = line.iter().map(|w| (*w).to_owned()).collect();
        complete(&words, &|_, _| Vec::new()).render()
    }

    #[test]
    fn the_plugin_cli_is_completed_from_its_definition() {
        let top = offline(&[""]);
        for sub in ["tenant\t", "admin\t", "generate\t", "completion\t"] {
            assert!(top.contains(sub), "{sub} missing from {top}");
        }
        assert!(!top.contains("__"), "internal commands offered: {top}");
        assert_eq!(offline(&["tenant", "--secret-n"]), "--secret-name\tName of the Secret that holds the token\n:4\n");
        assert_eq!(offline(&["tenant", "team-a", "-o", ""]), "yaml\njson\nname\n:4\n");
        assert_eq!(offline(&["tenant", "--dry-run="]), "--dry-run=none\n--dry-run=client\n--dry-run=server\n:4\n");
        assert_eq!(offline(&["completion", ""]), "bash\nzsh\nfish\npowershell\n:4\n");
        assert_eq!(offline(&["generate", "--auth-config", ""]), ":0\n");
        assert_eq!(offline(&["--kubeconfig", ""]), ":0\n");
        assert_eq!(offline(&["tenant", ""]), ":4\n", "no namespace when the cluster has none");
    }
}
