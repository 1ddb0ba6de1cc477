//! The `__complete` protocol engine: reads the words of a half-typed line against a clap
//! `Command` tree and answers with candidates and a cobra directive.
//!
//! It knows nothing of this plugin's commands: subcommands, flags, value enums and path hints
//! are read from the tree, so a command or flag added later is completed without a change
//! here. Values that only the cluster knows are handed back as a [`ValueSlot`] for the lookups.

use clap::builder::{StyledStr, ValueHint};
use clap::{Arg, ArgAction, Command, Id};

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
    /// No candidates, and no file names either.
    pub fn none() -> Completion {
        Completion { candidates: Vec::new(), directive: directive::NO_FILE_COMP }
    }

    /// The protocol's text: one candidate per line (`\t` and its description when it has one),
    /// then `:<directive>`.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for candidate in &self.candidates {
            out.push_str(&candidate.value);
            if let Some(help) = candidate.help.as_deref().filter(|h| !h.is_empty()) {
                out.push('\t');
                out.push_str(help);
            }
            out.push('\n');
        }
        out.push_str(&format!(":{}\n", self.directive));
        out
    }
}

/// What the engine makes of the word under the cursor.
#[derive(Debug)]
pub enum Answer<'c> {
    /// Everything needed was in the command tree.
    Ready(Completion),
    /// A free value of `slot.arg` (no enum, no path): only a lookup can offer candidates.
    Value(ValueSlot<'c>),
}

/// A value being typed whose candidates the command tree does not hold.
#[derive(Debug)]
pub struct ValueSlot<'c> {
    /// The subcommand names from the root to the command the value belongs to.
    pub path: Vec<&'c str>,
    /// The flag or positional whose value is being typed.
    pub arg: &'c Arg,
    /// What is typed of the value so far.
    pub current: String,
    /// Put back before each candidate (`--namespace=` when completing `--namespace=te`).
    pub prefix: String,
    /// The global flags on the line, one canonical word each (`--context=prod`, `-v3`), for
    /// parsing with the type the commands use.
    pub global_words: Vec<String>,
    /// The positional values typed before the cursor, with the argument each one fills.
    pub positionals: Vec<(&'c Arg, String)>,
}

impl ValueSlot<'_> {
    /// The answer for `names` found by a lookup: those starting with what is typed, less those
    /// already given to the same positional (`tenant team-a <TAB>` offers the other namespaces).
    pub fn answer(&self, names: impl IntoIterator<Item = String>) -> Completion {
        let given =
            |name: &String| self.positionals.iter().any(|(arg, v)| arg.get_id() == self.arg.get_id() && v == name);
        let candidates = names
            .into_iter()
            .filter(|name| name.starts_with(&self.current) && !given(name))
            .map(|name| Candidate { value: format!("{}{name}", self.prefix), help: None })
            .collect();
        Completion { candidates, directive: directive::NO_FILE_COMP }
    }
}

/// The state of the walk over the words before the cursor.
struct Walk<'c> {
    path: Vec<&'c str>,
    cmd: &'c Command,
    positionals: Vec<(&'c Arg, String)>,
    /// Positional words, including any beyond the command's positionals.
    positional_words: usize,
    global_words: Vec<String>,
    /// A flag whose value is the next word.
    pending: Option<&'c Arg>,
    /// Flags already given, not offered again unless repeatable.
    seen: Vec<Id>,
    /// After `--`: every word is a positional.
    only_positionals: bool,
}

impl<'c> Walk<'c> {
    fn new(root: &'c Command) -> Walk<'c> {
        Walk {
            path: Vec::new(),
            cmd: root,
            positionals: Vec::new(),
            positional_words: 0,
            global_words: Vec::new(),
            pending: None,
            seen: Vec::new(),
            only_positionals: false,
        }
    }

    /// Notes that `arg` was given, with `value` when it has one.
    fn given(&mut self, arg: &'c Arg, value: Option<&str>) {
        self.seen.push(arg.get_id().clone());
        if arg.is_global_set() {
            self.global_words.push(canonical(arg, value));
        }
    }

    fn word(&mut self, word: &str) {
        if let Some(arg) = self.pending.take() {
            self.given(arg, Some(word));
            return;
        }
        if self.only_positionals {
            self.positional(word);
        } else if word == "--" {
            self.only_positionals = true;
        } else if let Some(long) = word.strip_prefix("--") {
            let (name, value) = match long.split_once('=') {
                Some((name, value)) => (name, Some(value)),
                None => (long, None),
            };
            if let Some(arg) = find_long(self.cmd, name) {
                if takes_value(arg) && value.is_none() && !value_is_optional(arg) {
                    self.pending = Some(arg);
                } else {
                    self.given(arg, value.filter(|_| takes_value(arg)));
                }
            }
        } else if let Some(shorts) = word.strip_prefix('-').filter(|s| !s.is_empty()) {
            // `-n NS`, `-nNS`, `-n=NS`, `-v3`; a cluster of switches sets each of them.
            for (at, short) in shorts.char_indices() {
                let Some(arg) = find_short(self.cmd, short) else { break };
                if !takes_value(arg) {
                    self.given(arg, None);
                    continue;
                }
                let rest = &shorts[at + short.len_utf8()..];
                let rest = rest.strip_prefix('=').unwrap_or(rest);
                if !rest.is_empty() {
                    self.given(arg, Some(rest));
                } else if value_is_optional(arg) {
                    self.given(arg, None);
                } else {
                    self.pending = Some(arg);
                }
                break;
            }
        } else if let Some(sub) = self.cmd.find_subcommand(word).filter(|_| self.positional_words == 0) {
            self.path.push(sub.get_name());
            self.cmd = sub;
            self.seen.clear();
        } else {
            self.positional(word);
        }
    }

    fn positional(&mut self, word: &str) {
        if let Some(arg) = positional_at(self.cmd, self.positional_words) {
            self.positionals.push((arg, word.to_owned()));
        }
        self.positional_words += 1;
    }

    fn value(self, arg: &'c Arg, current: &str, prefix: &str) -> Answer<'c> {
        let possible = arg.get_possible_values();
        if !possible.is_empty() {
            let candidates = possible
                .iter()
                .filter(|v| !v.is_hide_set() && v.get_name().starts_with(current))
                .map(|v| Candidate { value: format!("{prefix}{}", v.get_name()), help: first_line(v.get_help()) })
                .collect();
            return Answer::Ready(Completion { candidates, directive: directive::NO_FILE_COMP });
        }
        if matches!(arg.get_value_hint(), ValueHint::AnyPath | ValueHint::FilePath | ValueHint::DirPath) {
            return Answer::Ready(Completion { candidates: Vec::new(), directive: directive::FILE_COMP });
        }
        Answer::Value(ValueSlot {
            path: self.path,
            arg,
            current: current.to_owned(),
            prefix: prefix.to_owned(),
            global_words: self.global_words,
            positionals: self.positionals,
        })
    }
}

/// Computes the answer for the last word of `words` (the word being completed; `""` when the
/// cursor follows a space). `root` must be built (`Command::build`) so that global flags are
/// found on every subcommand.
pub fn complete<'c>(root: &'c Command, words: &[String]) -> Answer<'c> {
    let (current, before) = words.split_last().map_or(("", &[][..]), |(last, before)| (last.as_str(), before));
    let mut walk = Walk::new(root);
    for word in before {
        walk.word(word);
    }
    if let Some(arg) = walk.pending.take() {
        return walk.value(arg, current, "");
    }
    if !walk.only_positionals && current.starts_with('-') {
        if let Some((name, value)) = current.strip_prefix("--").and_then(|long| long.split_once('=')) {
            return match find_long(walk.cmd, name) {
                Some(arg) if takes_value(arg) => walk.value(arg, value, &format!("--{name}=")),
                _ => Answer::Ready(Completion::none()),
            };
        }
        return Answer::Ready(flags(walk.cmd, current, &walk.seen));
    }
    if walk.cmd.has_subcommands() && walk.positional_words == 0 {
        return Answer::Ready(subcommands(walk.cmd, current));
    }
    match positional_at(walk.cmd, walk.positional_words) {
        Some(arg) => walk.value(arg, current, ""),
        None => Answer::Ready(Completion::none()),
    }
}

fn flags(cmd: &Command, current: &str, seen: &[Id]) -> Completion {
    let mut candidates = Vec::new();
    for arg in cmd.get_arguments().filter(|a| !a.is_positional() && !a.is_hide_set()) {
        let repeatable = matches!(arg.get_action(), ArgAction::Append | ArgAction::Count);
        if seen.contains(arg.get_id()) && !repeatable {
            continue;
        }
        let help = first_line(arg.get_help());
        let longs = arg.get_long_and_visible_aliases().unwrap_or_default().into_iter().map(|l| format!("--{l}"));
        let shorts = arg.get_short_and_visible_aliases().unwrap_or_default().into_iter().map(|s| format!("-{s}"));
        for flag in longs.chain(shorts).filter(|flag| flag.starts_with(current)) {
            candidates.push(Candidate { value: flag, help: help.clone() });
        }
    }
    Completion { candidates, directive: directive::NO_FILE_COMP }
}

fn subcommands(cmd: &Command, current: &str) -> Completion {
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
    Completion { candidates, directive: directive::NO_FILE_COMP }
}

/// The positional that the `n`th positional word fills (0-based); a positional that takes many
/// values (`tenant NS1 NS2 …`) takes every later word.
fn positional_at(cmd: &Command, n: usize) -> Option<&Arg> {
    let mut args: Vec<&Arg> = cmd.get_positionals().filter(|a| !a.is_hide_set()).collect();
    args.sort_by_key(|a| a.get_index().unwrap_or(usize::MAX));
    let mut left = n;
    for arg in args {
        let many =
            matches!(arg.get_action(), ArgAction::Append) || arg.get_num_args().is_some_and(|r| r.max_values() > 1);
        if many || left == 0 {
            return Some(arg);
        }
        left -= 1;
    }
    None
}

/// One word that gives `arg` (with `value`) whatever way it was typed: `--long=value`,
/// `-svalue`, `--long` or `-s`.
fn canonical(arg: &Arg, value: Option<&str>) -> String {
    let flag = match (arg.get_long(), arg.get_short()) {
        (Some(long), _) => format!("--{long}"),
        (None, Some(short)) => format!("-{short}"),
        (None, None) => String::new(),
    };
    match value {
        Some(value) if arg.get_long().is_some() => format!("{flag}={value}"),
        Some(value) => format!("{flag}{value}"),
        None => flag,
    }
}

fn takes_value(arg: &Arg) -> bool {
    arg.get_action().takes_values()
}

/// A value that may be omitted (`--dry-run` alone means `--dry-run=client`): the next word is
/// never its value.
fn value_is_optional(arg: &Arg) -> bool {
    arg.is_require_equals_set() || arg.get_num_args().is_some_and(|n| n.min_values() == 0)
}

fn find_long<'c>(cmd: &'c Command, name: &str) -> Option<&'c Arg> {
    cmd.get_arguments().find(|a| a.get_long_and_visible_aliases().is_some_and(|longs| longs.contains(&name)))
}

fn find_short(cmd: &Command, short: char) -> Option<&Arg> {
    cmd.get_arguments().find(|a| a.get_short_and_visible_aliases().is_some_and(|shorts| shorts.contains(&short)))
}

fn first_line(text: Option<&StyledStr>) -> Option<String> {
    let text = text?.to_string();
    let line = text.lines().next()?.replace('\t', " ");
    Some(line.trim().to_owned())
}

#[cfg(test)]
mod tests {
    use clap::builder::PossibleValue;

    use super::*;

    /// A small CLI shaped like kubectl-pxtoken's: global connection flags, subcommands with
    /// flags, value enums, path flags and namespace arguments.
    fn tree() -> Command {
        let mut root = Command::new("tool")
            .arg(Arg::new("kubeconfig").long("kubeconfig").global(true).value_hint(ValueHint::FilePath))
            .arg(Arg::new("context").long("context").global(true))
            .arg(Arg::new("namespace").short('n').long("namespace").global(true).value_name("NAMESPACE"))
            .arg(Arg::new("v").short('v').long("v").global(true).value_parser(clap::value_parser!(u8)))
            .subcommand(
                Command::new("tenant")
                    .about("Issue a tenant token\n\nLonger text")
                    .visible_alias("t")
                    .arg(Arg::new("namespaces").value_name("NAMESPACE").action(ArgAction::Append))
                    .arg(
                        Arg::new("dry-run")
                            .long("dry-run")
                            .num_args(0..=1)
                            .require_equals(true)
                            .default_missing_value("client")
                            .value_parser([
                                PossibleValue::new("none"),
                                PossibleValue::new("client").help("Print only"),
                            ]),
                    )
                    .arg(Arg::new("output").short('o').long("output").value_parser(["yaml", "json", "name"]))
                    .arg(Arg::new("overwrite").short('w').long("overwrite").action(ArgAction::SetTrue))
                    .arg(Arg::new("groups").long("groups").action(ArgAction::Append))
                    .arg(Arg::new("name").long("name").help("Token name"))
                    .arg(Arg::new("from-file").long("from-file").value_hint(ValueHint::FilePath)),
            )
            .subcommand(
                Command::new("completion")
                    .about("Print a completion script")
                    .arg(Arg::new("shell").value_parser(["bash", "zsh"]))
                    .arg(Arg::new("secret").long("secret").hide(true)),
            )
            .subcommand(Command::new("__internal").hide(true));
        root.build();
        root
    }

    fn answer<'c>(root: &'c Command, line: &[&str]) -> Answer<'c> {
        complete(root, &line.iter().map(|w| (*w).to_owned()).collect::<Vec<_>>())
    }

    /// The candidates of a completion the tree answers alone, and its directive.
    fn ready(line: &[&str]) -> (Vec<String>, u32) {
        let root = tree();
        match answer(&root, line) {
            Answer::Ready(c) => (c.candidates.into_iter().map(|c| c.value).collect(), c.directive),
            Answer::Value(slot) => panic!("{line:?}: lookup requested for {}", slot.arg.get_id()),
        }
    }

    #[test]
    fn subcommand_names_with_aliases_without_hidden_ones() {
        let (values, directive) = ready(&[""]);
        assert_eq!(values, ["tenant", "t", "completion", "help"]);
        assert_eq!(directive, directive::NO_FILE_COMP);
        assert_eq!(ready(&["te"]).0, ["tenant"]);
        assert_eq!(ready(&[]).0, ["tenant", "t", "completion", "help"], "no word at all");
        // A global flag before the subcommand is skipped with its value.
        assert_eq!(ready(&["--context", "prod", "-v3", "c"]).0, ["completion"]);
    }

    #[test]
    fn descriptions_are_the_first_line_of_the_help() {
        let root = tree();
        let Answer::Ready(c) = answer(&root, &["ten"]) else { panic!() };
        assert_eq!(c.render(), "tenant\tIssue a tenant token\n:4\n");
        let Answer::Ready(c) = answer(&root, &["tenant", "--dry-run="]) else { panic!() };
        assert_eq!(c.render(), "--dry-run=none\n--dry-run=client\tPrint only\n:4\n");
    }

    #[test]
    fn flags_after_a_subcommand_include_the_global_ones() {
        let (values, directive) = ready(&["tenant", "-"]);
        for flag in ["--kubeconfig", "--namespace", "-n", "--dry-run", "-o", "--output", "--overwrite", "-w", "--help"]
        {
            assert!(values.iter().any(|v| v == flag), "{flag} missing from {values:?}");
        }
        assert_eq!(directive, directive::NO_FILE_COMP);
        assert_eq!(ready(&["tenant", "--o"]).0, ["--output", "--overwrite"]);
        assert_eq!(ready(&["completion", "--s"]).0, Vec::<String>::new(), "hidden flags are not offered");
    }

    #[test]
    fn a_flag_given_once_is_not_offered_again_but_a_repeatable_one_is() {
        let (values, _) = ready(&["tenant", "--output", "yaml", "-w", "--groups", "a", "--"]);
        assert!(!values.iter().any(|v| v == "--output" || v == "--overwrite"), "{values:?}");
        assert!(values.iter().any(|v| v == "--groups"), "{values:?}");
        // A cluster of switches marks each one.
        let (values, _) = ready(&["tenant", "-wv3", "-"]);
        assert!(!values.iter().any(|v| v == "-w"), "{values:?}");
    }

    #[test]
    fn value_enums_after_a_space_an_equals_sign_or_as_a_positional() {
        assert_eq!(ready(&["tenant", "-o", ""]).0, ["yaml", "json", "name"]);
        assert_eq!(ready(&["tenant", "--output", "j"]).0, ["json"]);
        assert_eq!(ready(&["tenant", "--output=n"]).0, ["--output=name"]);
        assert_eq!(ready(&["tenant", "--dry-run="]).0, ["--dry-run=none", "--dry-run=client"]);
        assert_eq!(ready(&["completion", ""]).0, ["bash", "zsh"]);
        assert_eq!(ready(&["completion", "z"]).0, ["zsh"]);
    }

    #[test]
    fn flags_taking_files_leave_them_to_the_shell() {
        for line in [&["tenant", "--from-file", ""][..], &["tenant", "--from-file=x"], &["--kubeconfig", ""]] {
            assert_eq!(ready(line), (vec![], directive::FILE_COMP), "{line:?}");
        }
    }

    #[test]
    fn nothing_for_unknown_flags_and_words_past_the_last_positional() {
        assert_eq!(ready(&["tenant", "--nope="]), (vec![], directive::NO_FILE_COMP));
        assert_eq!(ready(&["completion", "bash", ""]), (vec![], directive::NO_FILE_COMP));
        // A word that is no subcommand: what follows is not read as one.
        assert_eq!(ready(&["tenat", "tenant", ""]), (vec![], directive::NO_FILE_COMP));
    }

    #[test]
    fn a_namespace_positional_asks_for_a_lookup_with_the_line() {
        let root = tree();
        let line = ["--context", "prod", "t", "--kubeconfig", "/k", "-nteam-c", "-v=2", "team-a", "--dry-run", "te"];
        let Answer::Value(slot) = answer(&root, &line) else { panic!("no lookup") };
        assert_eq!(slot.path, ["tenant"]);
        assert_eq!(slot.arg.get_id(), "namespaces");
        assert_eq!((slot.current.as_str(), slot.prefix.as_str()), ("te", ""));
        assert_eq!(slot.global_words, ["--context=prod", "--kubeconfig=/k", "--namespace=team-c", "--v=2"]);
        let typed: Vec<_> =
            slot.positionals.iter().map(|(arg, value)| (arg.get_id().as_str(), value.as_str())).collect();
        assert_eq!(typed, [("namespaces", "team-a")]);
        let c = slot.answer(["team-a".to_owned(), "team-b".to_owned(), "other".to_owned()]);
        assert_eq!(c.render(), "team-b\n:4\n", "team-a is given already");
    }

    #[test]
    fn flag_values_without_an_enum_ask_for_a_lookup_keeping_the_typed_flag() {
        let root = tree();
        let Answer::Value(slot) = answer(&root, &["tenant", "--namespace=team"]) else { panic!("no lookup") };
        assert_eq!((slot.arg.get_id().as_str(), slot.current.as_str()), ("namespace", "team"));
        assert_eq!(slot.answer(["team-a".to_owned(), "default".to_owned()]).render(), "--namespace=team-a\n:4\n");
        let Answer::Value(slot) = answer(&root, &["tenant", "--name", ""]) else { panic!("no lookup") };
        assert_eq!(slot.arg.get_id(), "name");
        // After `--` every word is a positional, even one that starts with a dash.
        let Answer::Value(slot) = answer(&root, &["tenant", "--", "-x", "-"]) else { panic!("no lookup") };
        assert_eq!((slot.arg.get_id().as_str(), slot.positionals.len()), ("namespaces", 1));
    }
}
