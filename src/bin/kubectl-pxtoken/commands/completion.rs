//! Shell completion: `kubectl pxtoken completion SHELL` writes a script for the `kubectl-pxtoken`
//! command, and the hidden `kubectl-pxtoken __complete WORDS…` answers kubectl's plugin-completion
//! protocol (cobra's `__complete`), which the `kubectl_complete-pxtoken` companion forwards to.
//!
//! How kubectl (>= 1.26) completes `kubectl pxtoken …`: its own completion script runs
//! `kubectl __complete pxtoken WORDS… CURRENT`; kubectl finds `kubectl_complete-pxtoken` on PATH
//! and runs it with `WORDS… CURRENT` (everything after `pxtoken`, flags included). The answer is
//! one candidate per line, optionally `\t` and a description, then a last line `:<directive>`.

use std::io::Write;
use std::time::Duration;

use clap::builder::ValueHint;
use clap::{Arg, Args, CommandFactory, ValueEnum};
use pxtoken::connection::ConnectionOptions;

/// The hidden subcommand kubectl's companion calls.
pub const COMPLETE_COMMAND: &str = "__complete";

/// How long listing namespaces for a completion may take, unless `--request-timeout` says less.
const NAMESPACE_LOOKUP_TIMEOUT: Duration = Duration::from_secs(5);

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

/// `kubectl-pxtoken __complete WORDS… CURRENT`: prints the candidates and the directive.
/// Never fails: a completion that cannot be computed is no candidates.
pub fn complete_main(words: &[String]) {
    let mut root = crate::Cli::command();
    root.build();
    let answer = complete(&root, words, &list_namespaces);
    let mut out = String::new();
    for candidate in &answer.candidates {
        out.push_str(&candidate.value);
        if let Some(help) = candidate.help.as_deref().filter(|h| !h.is_empty()) {
            out.push('\t');
            out.push_str(help);
        }
        out.push('\n');
    }
    out.push_str(&format!(":{}\n", answer.directive));
    let _ = std::io::stdout().write_all(out.as_bytes());
}

/// cobra's `ShellCompDirective` values that this plugin uses.
pub mod directive {
    /// Let the shell complete file names.
    pub const FILE_COMP: u32 = 0;
    /// Do not complete file names when there is no candidate.
    pub const NO_FILE_COMP: u32 = 4;
}

/// One completion candidate with its description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub value: String,
    pub help: Option<String>,
}

/// The answer to one completion request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    pub candidates: Vec<Candidate>,
    pub directive: u32,
}

impl Completion {
    fn none() -> Completion {
        Completion { candidates: Vec::new(), directive: directive::NO_FILE_COMP }
    }
}

/// The connection flags found on the command line, for reading namespaces the way the command
/// being typed would.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LineConnection {
    pub kubeconfig: Option<String>,
    pub context: Option<String>,
    pub cluster: Option<String>,
    pub user: Option<String>,
    pub impersonate: Option<String>,
    pub impersonate_groups: Vec<String>,
    pub request_timeout: Option<String>,
}

impl LineConnection {
    fn record(&mut self, arg: &Arg, value: &str) {
        let value = value.to_owned();
        match arg.get_id().as_str() {
            "kubeconfig" => self.kubeconfig = Some(value),
            "context" => self.context = Some(value),
            "cluster" => self.cluster = Some(value),
            "user" => self.user = Some(value),
            "impersonate" => self.impersonate = Some(value),
            "impersonate_groups" => self.impersonate_groups.push(value),
            "request_timeout" => self.request_timeout = Some(value),
            _ => {}
        }
    }
}

/// Arguments whose values are namespace names: every one whose value name is `NAMESPACE`
/// (`tenant NAMESPACE`, `-n/--namespace`, `--px-namespace`, and any later command's).
fn takes_namespace(arg: &Arg) -> bool {
    arg.get_value_names().is_some_and(|names| names.iter().any(|n| n.as_str() == "NAMESPACE"))
}

fn takes_value(arg: &Arg) -> bool {
    arg.get_action().takes_values()
}

/// A value that may be omitted (`--dry-run` alone means `--dry-run=client`): the next word is
/// never its value.
fn value_is_optional(arg: &Arg) -> bool {
    arg.is_require_equals_set() || arg.get_num_args().is_some_and(|n| n.min_values() == 0)
}

fn find_long<'a>(cmd: &'a clap::Command, name: &str) -> Option<&'a Arg> {
    cmd.get_arguments().find(|a| a.get_long_and_visible_aliases().is_some_and(|longs| longs.contains(&name)))
}

fn find_short(cmd: &clap::Command, short: char) -> Option<&Arg> {
    cmd.get_arguments().find(|a| a.get_short_and_visible_aliases().is_some_and(|shorts| shorts.contains(&short)))
}

fn first_line(text: Option<&clap::builder::StyledStr>) -> Option<String> {
    let text = text?.to_string();
    let line = text.lines().next()?.replace('\t', " ");
    Some(line.trim().to_owned())
}

/// Computes the candidates for the last word of `words` (the word being completed; `""` when
/// the cursor follows a space). `namespaces` lists the cluster's namespaces.
pub fn complete(
    root: &clap::Command,
    words: &[String],
    namespaces: &dyn Fn(&LineConnection) -> Vec<String>,
) -> Completion {
    let Some((current, before)) = words.split_last() else {
        return complete_subcommands_or_positional(root, 0, "", namespaces, &LineConnection::default());
    };
    let mut cmd = root;
    let mut positionals = 0usize;
    let mut line = LineConnection::default();
    let mut pending: Option<&Arg> = None;
    let mut seen: Vec<clap::Id> = Vec::new();
    let mut only_positionals = false;
    for word in before {
        if let Some(arg) = pending.take() {
            line.record(arg, word);
            continue;
        }
        if only_positionals {
            positionals += 1;
            continue;
        }
        if word == "--" {
            only_positionals = true;
            continue;
        }
        if let Some(long) = word.strip_prefix("--") {
            let (name, value) = match long.split_once('=') {
                Some((name, value)) => (name, Some(value)),
                None => (long, None),
            };
            if let Some(arg) = find_long(cmd, name) {
                seen.push(arg.get_id().clone());
                if takes_value(arg) {
                    match value {
                        Some(value) => line.record(arg, value),
                        None if !value_is_optional(arg) => pending = Some(arg),
                        None => {}
                    }
                }
            }
            continue;
        }
        if let Some(shorts) = word.strip_prefix('-').filter(|s| !s.is_empty()) {
            // `-n NS`, `-nNS`, `-n=NS`, `-v3`; a cluster of switches sets each of them.
            for (at, short) in shorts.char_indices() {
                let Some(arg) = find_short(cmd, short) else { break };
                seen.push(arg.get_id().clone());
                if takes_value(arg) {
                    let rest = &shorts[at + short.len_utf8()..];
                    let rest = rest.strip_prefix('=').unwrap_or(rest);
                    if rest.is_empty() {
                        if !value_is_optional(arg) {
                            pending = Some(arg);
                        }
                    } else {
                        line.record(arg, rest);
                    }
                    break;
                }
            }
            continue;
        }
        if positionals == 0
            && let Some(sub) = cmd.find_subcommand(word)
        {
            cmd = sub;
            seen.clear();
            continue;
        }
        positionals += 1;
    }

    if let Some(arg) = pending {
        return complete_value(arg, current, "", namespaces, &line);
    }
    if !only_positionals && current.starts_with('-') {
        if let Some((name, value)) = current.strip_prefix("--").and_then(|long| long.split_once('=')) {
            return match find_long(cmd, name) {
                Some(arg) if takes_value(arg) => complete_value(arg, value, &format!("--{name}="), namespaces, &line),
                _ => Completion::none(),
            };
        }
        return complete_flags(cmd, current, &seen);
    }
    complete_subcommands_or_positional(cmd, positionals, current, namespaces, &line)
}

fn complete_flags(cmd: &clap::Command, current: &str, seen: &[clap::Id]) -> Completion {
    let mut candidates = Vec::new();
    for arg in cmd.get_arguments().filter(|a| !a.is_positional() && !a.is_hide_set()) {
        let repeatable = matches!(arg.get_action(), clap::ArgAction::Append | clap::ArgAction::Count);
        if seen.contains(arg.get_id()) && !repeatable {
            continue;
        }
        let help = first_line(arg.get_help());
        let longs = arg.get_long_and_visible_aliases().unwrap_or_default().into_iter().map(|l| format!("--{l}"));
        let shorts = arg.get_short_and_visible_aliases().unwrap_or_default().into_iter().map(|s| format!("-{s}"));
        for flag in longs.chain(shorts) {
            if flag.starts_with(current) {
                candidates.push(Candidate { value: flag, help: help.clone() });
            }
        }
    }
    Completion { candidates, directive: directive::NO_FILE_COMP }
}

fn complete_subcommands_or_positional(
    cmd: &clap::Command,
    positionals: usize,
    current: &str,
    namespaces: &dyn Fn(&LineConnection) -> Vec<String>,
    line: &LineConnection,
) -> Completion {
    if cmd.has_subcommands() && positionals == 0 {
        let candidates = cmd
            .get_subcommands()
            .filter(|sub| !sub.is_hide_set())
            .flat_map(|sub| {
                let help = first_line(sub.get_about());
                std::iter::once(sub.get_name())
                    .chain(sub.get_visible_aliases())
                    .map(move |name| Candidate { value: name.to_owned(), help: help.clone() })
            })
            .filter(|c| c.value.starts_with(current))
            .collect();
        return Completion { candidates, directive: directive::NO_FILE_COMP };
    }
    let mut args: Vec<&Arg> = cmd.get_positionals().filter(|a| !a.is_hide_set()).collect();
    args.sort_by_key(|a| a.get_index().unwrap_or(usize::MAX));
    match args.get(positionals) {
        Some(arg) => complete_value(arg, current, "", namespaces, line),
        None => Completion::none(),
    }
}

fn complete_value(
    arg: &Arg,
    current: &str,
    prefix: &str,
    namespaces: &dyn Fn(&LineConnection) -> Vec<String>,
    line: &LineConnection,
) -> Completion {
    if takes_namespace(arg) {
        let candidates = namespaces(line)
            .into_iter()
            .filter(|ns| ns.starts_with(current))
            .map(|ns| Candidate { value: format!("{prefix}{ns}"), help: None })
            .collect();
        return Completion { candidates, directive: directive::NO_FILE_COMP };
    }
    let possible = arg.get_possible_values();
    if !possible.is_empty() {
        let candidates = possible
            .iter()
            .filter(|v| !v.is_hide_set() && v.get_name().starts_with(current))
            .map(|v| Candidate { value: format!("{prefix}{}", v.get_name()), help: first_line(v.get_help()) })
            .collect();
        return Completion { candidates, directive: directive::NO_FILE_COMP };
    }
    match arg.get_value_hint() {
        ValueHint::AnyPath | ValueHint::FilePath | ValueHint::DirPath => {
            Completion { candidates: Vec::new(), directive: directive::FILE_COMP }
        }
        _ => Completion::none(),
    }
}

/// The namespaces the user can list with the connection flags on the line; none on any error
/// (completion never prints errors: they would land in the middle of the user's prompt).
fn list_namespaces(line: &LineConnection) -> Vec<String> {
    let timeout = line
        .request_timeout
        .as_deref()
        .and_then(|t| pxtoken::duration::parse_request_timeout(t).ok().flatten())
        .map_or(NAMESPACE_LOOKUP_TIMEOUT, |t| t.min(NAMESPACE_LOOKUP_TIMEOUT));
    let options = ConnectionOptions {
        kubeconfig: line.kubeconfig.as_ref().map(Into::into),
        context: line.context.clone(),
        cluster: line.cluster.clone(),
        user: line.user.clone(),
        namespace: None,
        impersonate: line.impersonate.clone(),
        impersonate_groups: line.impersonate_groups.clone(),
        request_timeout: Some(timeout),
    };
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
        return Vec::new();
    };
    runtime.block_on(async move {
        let lookup = async {
            let conn = options.connect().await.ok()?;
            let api: kube::Api<k8s_openapi::api::core::v1::Namespace> = kube::Api::all(conn.client);
            let list = api.list_metadata(&kube::api::ListParams::default()).await.ok()?;
            Some(list.items.into_iter().filter_map(|ns| ns.metadata.name).collect::<Vec<_>>())
        };
        tokio::time::timeout(timeout, lookup).await.ok().flatten().unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &[&str]) -> Vec<String> {
        line.iter().map(|w| (*w).to_owned()).collect()
    }

    fn run(line: &[&str]) -> (Completion, Vec<LineConnection>) {
        let mut root = crate::Cli::command();
        root.build();
        let asked = std::cell::RefCell::new(Vec::new());
        let namespaces = |line: &LineConnection| {
            asked.borrow_mut().push(line.clone());
            vec!["default".to_owned(), "team-a".to_owned(), "team-b".to_owned()]
        };
        let completion = complete(&root, &words(line), &namespaces);
        (completion, asked.into_inner())
    }

    fn values(completion: &Completion) -> Vec<&str> {
        completion.candidates.iter().map(|c| c.value.as_str()).collect()
    }

    #[test]
    fn subcommands_at_the_top_without_hidden_ones() {
        let (c, asked) = run(&[""]);
        let v = values(&c);
        for sub in ["tenant", "admin", "generate", "completion"] {
            assert!(v.contains(&sub), "{v:?}");
        }
        assert!(!v.iter().any(|s| s.starts_with("__")), "{v:?}");
        assert_eq!(c.directive, directive::NO_FILE_COMP);
        assert!(asked.is_empty());
        let tenant = c.candidates.iter().find(|c| c.value == "tenant").unwrap();
        assert!(tenant.help.as_deref().unwrap_or_default().contains("tenant"), "{tenant:?}");
    }

    #[test]
    fn subcommands_are_filtered_by_prefix() {
        let (c, _) = run(&["te"]);
        assert_eq!(values(&c), ["tenant"]);
    }

    #[test]
    fn tenant_namespace_comes_from_the_cluster_with_the_line_connection_flags() {
        let (c, asked) = run(&["--context", "prod", "tenant", "--kubeconfig=/k", "--as-group", "g1", "team"]);
        assert_eq!(values(&c), ["team-a", "team-b"]);
        assert_eq!(asked.len(), 1);
        assert_eq!(asked[0].context.as_deref(), Some("prod"));
        assert_eq!(asked[0].kubeconfig.as_deref(), Some("/k"));
        assert_eq!(asked[0].impersonate_groups, ["g1"]);
    }

    #[test]
    fn namespace_flags_complete_namespaces() {
        for line in [&["tenant", "-n", ""][..], &["admin", "--namespace", "t"], &["generate", "--px-namespace", ""]] {
            let (c, asked) = run(line);
            assert_eq!(asked.len(), 1, "{line:?}");
            assert!(values(&c).contains(&"team-a"), "{line:?}: {c:?}");
        }
        let (c, _) = run(&["tenant", "--namespace=te"]);
        assert_eq!(values(&c), ["--namespace=team-a", "--namespace=team-b"]);
    }

    #[test]
    fn a_second_positional_gets_nothing() {
        let (c, asked) = run(&["tenant", "team-a", ""]);
        assert!(c.candidates.is_empty());
        assert!(asked.is_empty());
    }

    #[test]
    fn flags_when_the_word_starts_with_a_dash() {
        let (c, asked) = run(&["tenant", "--se"]);
        assert!(asked.is_empty());
        assert_eq!(values(&c), ["--secret-name", "--secret-key"]);
        let (c, _) = run(&["tenant", "-"]);
        let v = values(&c);
        for flag in ["--kubeconfig", "--context", "-n", "--namespace", "--dry-run", "-o", "--help"] {
            assert!(v.contains(&flag), "{flag} missing from {v:?}");
        }
    }

    #[test]
    fn a_flag_given_once_is_not_offered_again_but_a_repeatable_one_is() {
        let (c, _) = run(&["tenant", "--secret-name", "x", "--groups", "a", "--"]);
        let v = values(&c);
        assert!(!v.contains(&"--secret-name"), "{v:?}");
        assert!(v.contains(&"--groups"), "{v:?}");
    }

    #[test]
    fn enum_values_and_file_paths() {
        let (c, _) = run(&["tenant", "-o", ""]);
        assert_eq!(values(&c), ["yaml", "json", "name"]);
        let (c, _) = run(&["tenant", "--dry-run="]);
        assert_eq!(values(&c), ["--dry-run=none", "--dry-run=client", "--dry-run=server"]);
        let (c, _) = run(&["completion", ""]);
        assert_eq!(values(&c), ["bash", "zsh", "fish", "powershell"]);
        let (c, _) = run(&["generate", "--auth-config", ""]);
        assert!(c.candidates.is_empty());
        assert_eq!(c.directive, directive::FILE_COMP);
        let (c, _) = run(&["--kubeconfig", ""]);
        assert_eq!(c.directive, directive::FILE_COMP);
    }

    #[test]
    fn an_optional_value_does_not_swallow_the_next_word() {
        // `--dry-run` alone means client; the next word is the positional.
        let (c, asked) = run(&["tenant", "--dry-run", ""]);
        assert_eq!(asked.len(), 1);
        assert!(values(&c).contains(&"team-a"));
    }

    #[test]
    fn free_text_values_get_nothing() {
        let (c, asked) = run(&["tenant", "team-a", "--name", ""]);
        assert!(c.candidates.is_empty() && asked.is_empty());
        assert_eq!(c.directive, directive::NO_FILE_COMP);
    }
}
