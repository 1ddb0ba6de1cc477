//! Shell completion and manual pages.
//! - Through the real kubectl (>= 1.26): `kubectl __complete pxtoken …` runs the
//!   `kubectl_complete-pxtoken` companion (on PATH, see support/cluster.rs) and answers with the
//!   plugin's subcommands, flags, and the test control plane's namespaces.
//! - `kubectl pxtoken completion SHELL` scripts, exercised in bash.
//! - `kubectl-pxtoken __man DIR` pages.

use std::process::Command;

use crate::support::*;

/// `kubectl __complete pxtoken WORDS…` as `user`: the candidates (without descriptions) and the
/// directive line.
fn kubectl_complete(user: &str, words: &[&str]) -> (Vec<String>, String) {
    let out = kubectl(user).args(["__complete", "pxtoken"]).args(words).succeeds();
    let mut lines: Vec<&str> = out.lines().collect();
    let directive = lines.pop().unwrap_or_default().to_owned();
    assert!(directive.starts_with(':'), "no directive line in:\n{out}");
    let candidates = lines.iter().map(|l| l.split('\t').next().unwrap_or_default().to_owned()).collect();
    (candidates, directive)
}

#[test]
fn kubectl_completes_the_subcommands_through_the_companion() {
    let (candidates, directive) = kubectl_complete("alice", &[""]);
    for sub in ["tenant", "admin", "generate", "storageclass", "rotator", "completion"] {
        assert!(candidates.iter().any(|c| c == sub), "{sub} missing: {candidates:?}");
    }
    assert!(!candidates.iter().any(|c| c.starts_with("__")), "internal commands offered: {candidates:?}");
    assert_eq!(directive, ":4");
    // With descriptions, as cobra passes them on.
    let out = kubectl("alice").args(["__complete", "pxtoken", "te"]).succeeds();
    assert!(out.starts_with("tenant\tIssue a tenant token"), "{out}");
}

#[test]
fn kubectl_completes_tenant_namespaces_from_the_cluster() {
    let team = TestNamespace::new("compl-team");
    let (candidates, directive) = kubectl_complete("admin", &["tenant", ""]);
    assert!(candidates.iter().any(|c| c == team.name()), "{} missing: {candidates:?}", team.name());
    assert!(candidates.iter().any(|c| c == "kube-system"), "{candidates:?}");
    assert_eq!(directive, ":4");

    // Filtered by what is typed.
    let prefix = &team.name()[..team.name().len() - 3];
    let (candidates, _) = kubectl_complete("admin", &["tenant", prefix]);
    assert_eq!(candidates, [team.name()]);

    // Namespace flags: -n, --namespace=, --px-namespace.
    let (candidates, _) = kubectl_complete("admin", &["admin", "-n", prefix]);
    assert_eq!(candidates, [team.name()]);
    let (candidates, _) = kubectl_complete("admin", &["tenant", team.name(), &format!("--namespace={prefix}")]);
    assert_eq!(candidates, [format!("--namespace={}", team.name())]);
    let (candidates, _) = kubectl_complete("admin", &["generate", "--px-namespace", prefix]);
    assert_eq!(candidates, [team.name()]);
    // The tenant a StorageClass is pinned to, and where the rotator goes and rotates.
    let (candidates, _) = kubectl_complete("admin", &["storageclass", "px-team", "--tenant", prefix]);
    assert_eq!(candidates, [team.name()]);
    let (candidates, _) = kubectl_complete("admin", &["rotator", "manifest", "-n", prefix]);
    assert_eq!(candidates, [team.name()]);
    let (candidates, _) = kubectl_complete("admin", &["rotator", "manifest", "--tenant-namespaces", prefix]);
    assert_eq!(candidates, [team.name()]);
}

#[test]
fn namespace_completion_uses_the_connection_flags_on_the_line() {
    let team = TestNamespace::new("compl-flags");
    // alice may not list namespaces: nothing to offer, and nothing on stderr that would land in
    // her prompt.
    let run = kubectl("alice").args(["__complete", "pxtoken", "tenant", ""]).run();
    let out = run.success();
    assert_eq!(out.trim(), ":4", "alice saw namespaces: {out}");

    // With admin's kubeconfig on the line, the completion reads as admin would.
    let admin = cluster().kubeconfig("admin");
    let kubeconfig = admin.to_string_lossy();
    let (candidates, _) = kubectl_complete("alice", &["--kubeconfig", &kubeconfig, "tenant", ""]);
    assert!(candidates.iter().any(|c| c == team.name()), "{candidates:?}");
    let (candidates, _) = kubectl_complete("alice", &["tenant", &format!("--kubeconfig={kubeconfig}"), ""]);
    assert!(candidates.iter().any(|c| c == team.name()), "{candidates:?}");

    // A context that does not exist: no candidates, no error.
    let (candidates, directive) = kubectl_complete("admin", &["--context", "no-such-context", "tenant", ""]);
    assert!(candidates.is_empty(), "{candidates:?}");
    assert_eq!(directive, ":4");
}

#[test]
fn kubectl_completes_flags_and_their_values() {
    let (candidates, directive) = kubectl_complete("alice", &["tenant", "--dry"]);
    assert_eq!(candidates, ["--dry-run"]);
    assert_eq!(directive, ":4");
    let (candidates, _) = kubectl_complete("alice", &["tenant", "team-a", "-o", ""]);
    assert_eq!(candidates, ["yaml", "json", "name"]);
    let (candidates, _) = kubectl_complete("alice", &["completion", ""]);
    assert_eq!(candidates, ["bash", "zsh", "fish", "powershell"]);
    let (candidates, _) = kubectl_complete("alice", &["rotator", ""]);
    assert_eq!(candidates, ["manifest", "help"]);
    let (candidates, _) = kubectl_complete("alice", &["storageclass", "px-tenant", "--reclaim-policy", ""]);
    assert_eq!(candidates, ["Delete", "Retain"]);
    let (candidates, _) = kubectl_complete("alice", &["storageclass", "px-tenant", "--dry-run=s"]);
    assert_eq!(candidates, ["--dry-run=server"]);
    // Paths are left to the shell: no candidates, directive 0 (file completion).
    let (candidates, directive) = kubectl_complete("alice", &["generate", "--auth-config", ""]);
    assert!(candidates.is_empty());
    assert_eq!(directive, ":0");
}

fn plugin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_kubectl-pxtoken"))
}

#[test]
fn the_bash_script_completes_the_kubectl_pxtoken_command() {
    let script = plugin().args(["completion", "bash"]).succeeds();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kubectl-pxtoken.bash");
    std::fs::write(&path, &script).unwrap();
    // Call the completion function as bash would for `kubectl-pxtoken WORDS…<TAB>`.
    let probe = format!(
        r#"source {}
complete -p kubectl-pxtoken
comp() {{
  COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=()
  "$(complete -p kubectl-pxtoken | sed 's/.* -F \([^ ]*\) .*/\1/')" kubectl-pxtoken "${{COMP_WORDS[COMP_CWORD]}}" "${{COMP_WORDS[COMP_CWORD-1]}}"
  echo "${{COMPREPLY[*]}}"
}}
comp kubectl-pxtoken te
comp kubectl-pxtoken tenant --secret-n
comp kubectl-pxtoken tenant -o ''
comp kubectl-pxtoken completion ''
"#,
        path.display()
    );
    let out = Command::new("bash").arg("-c").arg(probe).succeeds();
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].ends_with(" kubectl-pxtoken"), "not registered for kubectl-pxtoken: {}", lines[0]);
    assert_eq!(lines[1], "tenant");
    assert_eq!(lines[2], "--secret-name");
    assert_eq!(lines[3], "yaml json name");
    assert!(lines[4].contains("bash zsh fish powershell"), "{}", lines[4]);
}

#[test]
fn every_shell_gets_a_script_for_kubectl_pxtoken() {
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef kubectl-pxtoken"),
        ("fish", "complete -c kubectl-pxtoken"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let script = plugin().args(["completion", shell]).succeeds();
        assert!(script.contains(marker), "{shell}: no {marker:?}");
        // As words: `rotator manifest` puts `__manifest` into generated function names.
        let mut words = script.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'));
        assert!(!words.any(|w| w == "__man" || w == "__complete"), "{shell}: internal commands");
        assert!(script.contains("kubectl_complete-pxtoken"), "{shell}: no note on the companion");
    }
    // zsh only autoloads a function file whose first line is #compdef.
    let zsh = plugin().args(["completion", "zsh"]).succeeds();
    assert!(zsh.starts_with("#compdef kubectl-pxtoken\n"));
    let run = plugin().args(["completion", "tcsh"]).run();
    assert_eq!(run.code, Some(2), "{run}");
}

#[test]
fn manual_pages_for_every_command() {
    let dir = tempfile::tempdir().unwrap();
    plugin().arg("__man").arg(dir.path()).succeeds();
    let mut names: Vec<String> =
        std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    for page in [
        "kubectl-pxtoken.1",
        "kubectl-pxtoken-tenant.1",
        "kubectl-pxtoken-admin.1",
        "kubectl-pxtoken-generate.1",
        "kubectl-pxtoken-storageclass.1",
        "kubectl-pxtoken-rotator-manifest.1",
    ] {
        assert!(names.iter().any(|n| n == page), "{page} missing: {names:?}");
    }
    let root = std::fs::read_to_string(dir.path().join("kubectl-pxtoken.1")).unwrap();
    assert!(root.starts_with(".ie"), "not roff: {}", &root[..80.min(root.len())]);
    assert!(root.contains(".TH kubectl-pxtoken 1 "), "{root}");
    assert!(root.contains(&format!("\"kubectl pxtoken {}\"", env!("CARGO_PKG_VERSION"))), "no plain version: {root}");
    let tenant = std::fs::read_to_string(dir.path().join("kubectl-pxtoken-tenant.1")).unwrap();
    assert!(tenant.contains("NAMESPACE") && tenant.contains("secret\\-name"), "{tenant}");
    // No internal page, and bad usage is exit 2.
    assert!(!names.iter().any(|n| n.contains("__")), "{names:?}");
    assert_eq!(plugin().arg("__man").run().code, Some(2));
}
