//! Completion values that only the cluster knows: which flag or argument names which kind of
//! object ([`LOOKUPS`]), and listing those objects with the connection flags typed on the line,
//! read through [`GlobalArgs`] as the commands read them.

use std::time::Duration;

use clap::{Args, Command, FromArgMatches};
use k8s_openapi::api::core::v1::{Namespace, Secret};
use pxtoken::connection::ConnectionOptions;
use serde::de::DeserializeOwned;

use super::engine::{Completion, ValueSlot};
use crate::cli::GlobalArgs;

/// How long a lookup may take, unless `--request-timeout` says less: a slow cluster must not
/// freeze the user's prompt.
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(5);

/// The value name of every argument whose value is a namespace.
const NAMESPACE_VALUE: &str = "NAMESPACE";

/// A kind of object whose names complete a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    Namespace,
    /// In the namespace the line is about (see [`line_options`]).
    Secret,
}

/// Which values name a [`Resource`]: by the value name shown in help (`NAMESPACE`), or by the
/// long flag of one subcommand. Both are what users type and read, not field names.
enum Slot {
    ValueName(&'static str),
    Flag { command: &'static str, long: &'static str },
}

/// The values completed from the cluster; add a row (and, for a new kind, a [`Resource`] variant
/// and its arm in [`list_from_cluster`]) to complete another one.
const LOOKUPS: &[(Slot, Resource)] = &[
    // `tenant NAMESPACE`, `-n/--namespace`, `--px-namespace`, and any later command's.
    (Slot::ValueName(NAMESPACE_VALUE), Resource::Namespace),
    // Renewing a tenant's token kept under another name.
    (Slot::Flag { command: "tenant", long: "secret-name" }, Resource::Secret),
    // Judging the token in a Secret of -n's namespace, and listing hand-made ones by name.
    (Slot::Flag { command: "inspect", long: "secret-name" }, Resource::Secret),
    (Slot::Flag { command: "list", long: "secret-name" }, Resource::Secret),
];

/// The resource `slot` names, if any.
fn resource_for(slot: &ValueSlot) -> Option<Resource> {
    let value_names = slot.arg.get_value_names().unwrap_or_default();
    LOOKUPS.iter().find_map(|(row, resource)| {
        let found = match row {
            Slot::ValueName(name) => value_names.iter().any(|v| v.as_str() == *name),
            Slot::Flag { command, long } => slot.path.last() == Some(command) && slot.arg.get_long() == Some(*long),
        };
        found.then_some(*resource)
    })
}

/// Lists the names of a resource with a connection ([`list_from_cluster`], or a test's fake).
pub type Lister<'a> = dyn Fn(Resource, &ConnectionOptions) -> Vec<String> + 'a;

/// Completes `slot` with the names `list` finds; nothing when no row names it.
pub fn complete_value(slot: &ValueSlot, list: &Lister<'_>) -> Completion {
    match resource_for(slot) {
        Some(resource) => slot.answer(list(resource, &line_options(slot))),
        None => Completion::none(),
    }
}

/// The connection the command being typed would use: its global flags parsed by [`GlobalArgs`];
/// the namespace is a positional `NAMESPACE` already typed (`tenant team-a --secret-name …`),
/// else `-n`. The timeout is capped at [`LOOKUP_TIMEOUT`].
fn line_options(slot: &ValueSlot) -> ConnectionOptions {
    let mut options = line_globals(&slot.global_words).map(|g| g.connection_options()).unwrap_or_default();
    let typed_namespace = slot.positionals.iter().find(|(arg, _)| {
        arg.get_value_names().is_some_and(|names| names.iter().any(|n| n.as_str() == NAMESPACE_VALUE))
    });
    if let Some((_, namespace)) = typed_namespace {
        options.namespace = Some(namespace.clone());
    }
    options.request_timeout = Some(options.request_timeout.map_or(LOOKUP_TIMEOUT, |t| t.min(LOOKUP_TIMEOUT)));
    options
}

/// [`GlobalArgs`] from the global-flag words of the line, the last of a flag given twice
/// winning as in kubectl. A word whose value does not parse is dropped, so that one typo does
/// not lose the other flags.
fn line_globals(words: &[String]) -> Option<GlobalArgs> {
    let parse = |words: &[&String]| {
        let cmd =
            GlobalArgs::augment_args(Command::new("kubectl-pxtoken")).no_binary_name(true).args_override_self(true);
        GlobalArgs::from_arg_matches(&cmd.try_get_matches_from(words).ok()?).ok()
    };
    let valid: Vec<&String> = words.iter().filter(|word| parse(&[*word]).is_some()).collect();
    parse(&valid)
}

/// The names of `resource` the user may list with `options`; none on any error (completion
/// never prints errors: they would land in the middle of the user's prompt).
pub fn list_from_cluster(resource: Resource, options: &ConnectionOptions) -> Vec<String> {
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
        return Vec::new();
    };
    let timeout = options.request_timeout.unwrap_or(LOOKUP_TIMEOUT);
    runtime.block_on(async move {
        let lookup = async {
            let conn = options.connect().await.ok()?;
            match resource {
                Resource::Namespace => names(kube::Api::<Namespace>::all(conn.client)).await,
                Resource::Secret => names(kube::Api::<Secret>::namespaced(conn.client, &conn.namespace)).await,
            }
        };
        tokio::time::timeout(timeout, lookup).await.ok().flatten().unwrap_or_default()
    })
}

async fn names<K>(api: kube::Api<K>) -> Option<Vec<String>>
where
    K: kube::Resource + Clone + DeserializeOwned + std::fmt::Debug,
{
    let list = api.list_metadata(&kube::api::ListParams::default()).await.ok()?;
    Some(list.items.into_iter().filter_map(|item| item.metadata.name).collect())
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::path::PathBuf;

    use clap::CommandFactory;

    use super::super::engine::{Answer, complete};
    use super::*;

    /// Completes `line` against the real CLI, with a cluster that has three namespaces and two
    /// Secrets; also returns what was looked up, with which connection.
    fn run(line: &[&str]) -> (Vec<String>, Vec<(Resource, ConnectionOptions)>) {
        let mut root = crate::Cli::command();
        root.build();
        let words: Vec<String> = line.iter().map(|w| (*w).to_owned()).collect();
        let asked = RefCell::new(Vec::new());
        let list = |resource: Resource, options: &ConnectionOptions| {
            asked.borrow_mut().push((resource, options.clone()));
            let names: &[&str] = match resource {
                Resource::Namespace => &["default", "team-a", "team-b"],
                Resource::Secret => &["px-k8s-user", "team-token"],
            };
            names.iter().map(|n| (*n).to_owned()).collect()
        };
        let completion = match complete(&root, &words) {
            Answer::Ready(completion) => completion,
            Answer::Value(slot) => complete_value(&slot, &list),
        };
        (completion.candidates.into_iter().map(|c| c.value).collect(), asked.into_inner())
    }

    #[test]
    fn tenant_namespace_comes_from_the_cluster_with_the_line_connection_flags() {
        let (values, asked) = run(&["--context", "prod", "tenant", "--kubeconfig=/k", "--as-group", "g1", "team"]);
        assert_eq!(values, ["team-a", "team-b"]);
        let [(Resource::Namespace, options)] = asked.as_slice() else { panic!("{asked:?}") };
        assert_eq!(options.context.as_deref(), Some("prod"));
        assert_eq!(options.kubeconfig, Some(PathBuf::from("/k")));
        assert_eq!(options.impersonate_groups, ["g1"]);
        assert_eq!(options.request_timeout, Some(LOOKUP_TIMEOUT));
    }

    #[test]
    fn every_global_flag_reaches_the_connection_whatever_way_it_is_typed() {
        let line = [
            "--cluster=c",
            "--user",
            "u",
            "--as=someone",
            "--as-group",
            "g1",
            "--as-group=g2",
            "-v3",
            "--request-timeout",
            "2s",
            "-nteam-a",
            "--context",
            "first",
            "--context=second",
            "tenant",
            "",
        ];
        let (_, asked) = run(&line);
        let [(_, options)] = asked.as_slice() else { panic!("{asked:?}") };
        assert_eq!(options.cluster.as_deref(), Some("c"));
        assert_eq!(options.user.as_deref(), Some("u"));
        assert_eq!(options.impersonate.as_deref(), Some("someone"));
        assert_eq!(options.impersonate_groups, ["g1", "g2"]);
        assert_eq!(options.namespace.as_deref(), Some("team-a"));
        assert_eq!(options.context.as_deref(), Some("second"), "the last one wins, as in kubectl");
        assert_eq!(options.request_timeout, Some(Duration::from_secs(2)));
    }

    #[test]
    fn a_bad_value_on_the_line_loses_only_its_own_flag() {
        let (values, asked) = run(&["--request-timeout=soon", "--context", "prod", "-v", "x", "tenant", ""]);
        assert_eq!(values, ["default", "team-a", "team-b"]);
        let [(_, options)] = asked.as_slice() else { panic!("{asked:?}") };
        assert_eq!(options.context.as_deref(), Some("prod"));
        assert_eq!(options.request_timeout, Some(LOOKUP_TIMEOUT));
    }

    #[test]
    fn namespace_flags_complete_namespaces() {
        for line in [&["tenant", "-n", ""][..], &["admin", "--namespace", "t"], &["generate", "--px-namespace", ""]] {
            let (values, asked) = run(line);
            assert!(matches!(asked.as_slice(), [(Resource::Namespace, _)]), "{line:?}: {asked:?}");
            assert!(values.iter().any(|v| v == "team-a"), "{line:?}: {values:?}");
        }
        let (values, _) = run(&["tenant", "--namespace=te"]);
        assert_eq!(values, ["--namespace=team-a", "--namespace=team-b"]);
    }

    #[test]
    fn tenant_secret_names_come_from_the_tenant_namespace() {
        let (values, asked) = run(&["-n", "elsewhere", "tenant", "team-a", "--secret-name", "px"]);
        assert_eq!(values, ["px-k8s-user"]);
        let [(Resource::Secret, options)] = asked.as_slice() else { panic!("{asked:?}") };
        assert_eq!(options.namespace.as_deref(), Some("team-a"));
        // Without a tenant namespace typed yet: -n, as kubectl reads it.
        let (_, asked) = run(&["tenant", "-n", "team-b", "--secret-name", ""]);
        assert_eq!(asked[0].1.namespace.as_deref(), Some("team-b"));
    }

    #[test]
    fn inspect_and_list_secret_names_come_from_the_namespace_of_n() {
        for command in ["inspect", "list"] {
            let (values, asked) = run(&[command, "-n", "team-b", "--secret-name", "te"]);
            assert_eq!(values, ["team-token"], "{command}");
            let [(Resource::Secret, options)] = asked.as_slice() else { panic!("{command}: {asked:?}") };
            assert_eq!(options.namespace.as_deref(), Some("team-b"), "{command}");
        }
        let (values, _) = run(&["in"]);
        assert_eq!(values, ["inspect"]);
        let (values, _) = run(&["list", "--fail-on", ""]);
        assert_eq!(values, ["expiring", "invalid"]);
    }

    #[test]
    fn values_no_row_names_get_nothing_and_no_lookup() {
        for line in [&["tenant", "team-a", "--name", ""][..], &["admin", "--save-secret", ""]] {
            let (values, asked) = run(line);
            assert!(values.is_empty() && asked.is_empty(), "{line:?}: {values:?} {asked:?}");
        }
    }

    #[test]
    fn a_tenant_with_several_namespaces_is_offered_the_ones_not_yet_given() {
        let (values, _) = run(&["tenant", "team-a", ""]);
        assert_eq!(values, ["default", "team-b"]);
        let (values, _) = run(&["tenant", "team-b", "team-a", ""]);
        assert_eq!(values, ["default"]);
    }

    #[test]
    fn the_optional_dry_run_value_does_not_swallow_the_namespace() {
        // `--dry-run` alone means client; the next word is the positional.
        let (values, asked) = run(&["tenant", "--dry-run", ""]);
        assert_eq!(asked.len(), 1);
        assert!(values.iter().any(|v| v == "team-a"), "{values:?}");
    }
}
