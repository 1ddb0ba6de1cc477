//! Bad input, as a user meets it: one `error:` line naming what failed and how to fix it,
//! exit code 1 (2 for bad usage), no secret in the output, and nothing created or changed.

use crate::support::*;

/// The command failed with exit `code`, one `error:` line containing each of `words`, and
/// without showing `secret`.
fn assert_error(run: &Run, code: i32, words: &[&str], secret: &str) {
    assert_eq!(run.code, Some(code), "{run}");
    let errors: Vec<&str> = run.stderr.lines().filter(|l| l.starts_with("error: ")).collect();
    assert_eq!(errors.len(), 1, "expected one error line:\n{run}");
    for word in words {
        assert!(errors[0].contains(word), "error line lacks {word:?}:\n{run}");
    }
    assert!(!run.stderr.contains("panicked") && !run.stderr.contains("RUST_BACKTRACE"), "{run}");
    if !secret.is_empty() {
        assert!(!run.stdout.contains(secret) && !run.stderr.contains(secret), "the secret leaked:\n{run}");
    }
}

#[test]
fn missing_namespace() {
    let px_ns = TestNamespace::new("px");
    let px = install_operator_style(&px_ns, Some("bad.io"));
    let missing = TestNamespace::unused("team-missing");
    let run = pxtoken("admin").args(["tenant", &missing, "--px-namespace", &px_ns, "-v", "9"]).run();
    assert_error(&run, 1, &[missing.name(), "--create-namespace"], &px.shared_secret);
    assert!(get_json("namespace", None, &missing).is_none(), "the namespace was created");
}

#[test]
fn no_shared_secret_anywhere_lists_where_it_looked() {
    let empty = TestNamespace::new("px-empty");
    let tenant = TestNamespace::new("team-nokey");
    let run = pxtoken("admin").args(["tenant", &tenant, "--px-namespace", &empty]).run();
    assert_error(
        &run,
        1,
        &["no Portworx signing key found", "StorageClusters", "DaemonSets", "pxkeys", "--shared-secret-ref"],
        "",
    );
    assert!(!secret_exists(&tenant, "px-k8s-user"));
}

#[test]
fn issuer_not_discoverable_names_the_issuer_flag() {
    // pxkeys alone (no DaemonSet, no StorageCluster): the key is there, the issuer is not.
    let px_ns = TestNamespace::new("px-keyonly");
    let tenant = TestNamespace::new("team-noiss");
    let secret = random_secret();
    kubectl("admin")
        .args(["-n", &px_ns, "create", "secret", "generic", "pxkeys", "--from-file=shared-secret=/dev/stdin"])
        .run_with_input(&secret)
        .success();
    let run = pxtoken("admin").args(["tenant", &tenant, "--px-namespace", &px_ns, "-v", "9"]).run();
    assert_error(&run, 1, &["issuer", "--issuer", "pxkeys"], &secret);
    assert!(!secret_exists(&tenant, "px-k8s-user"));

    // With --issuer it works from the same install.
    pxtoken("admin").args(["tenant", &tenant, "--px-namespace", &px_ns, "--issuer", "given.io"]).succeeds();
}

#[test]
fn user_without_rights_is_told_what_to_ask_for() {
    let px_ns = TestNamespace::new("px");
    let tenant = TestNamespace::new("team-rbac");
    let px = install_operator_style(&px_ns, Some("rbac.io"));
    let user = cluster().new_user("no-rights");
    // Reading the key is allowed, writing into the tenant's namespace is not.
    grant(&user, &px_ns, &["get", "list"], &["secrets", "storageclusters.core.libopenstorage.org"]);
    grant(&user, &tenant, &["get"], &["secrets"]);
    let run = pxtoken(&user).args(["tenant", &tenant, "--px-namespace", &px_ns, "-v", "9"]).run();
    assert_error(&run, 1, &["forbidden", "create", "secrets", tenant.name()], &px.shared_secret);
    assert!(!secret_exists(&tenant, "px-k8s-user"));

    // Without even reading the key Secret.
    let stranger = cluster().new_user("stranger");
    let run = pxtoken(&stranger)
        .args(["tenant", &tenant, "--shared-secret-ref", &px.secret_ref(), "--issuer", "rbac.io"])
        .run();
    assert_error(&run, 1, &["forbidden", "get", "secrets", px_ns.name()], &px.shared_secret);
}

#[test]
fn unmanaged_secret_is_left_alone_without_overwrite() {
    let px_ns = TestNamespace::new("px");
    let tenant = TestNamespace::new("team-unmanaged");
    let px = install_operator_style(&px_ns, Some("own.io"));
    kubectl("admin")
        .args(["-n", &tenant, "create", "secret", "generic", "px-k8s-user", "--from-literal=auth-token=hand-made"])
        .succeeds();
    let before = get_json("secret", Some(&tenant), "px-k8s-user").unwrap();
    let run = pxtoken("admin").args(["tenant", &tenant, "--px-namespace", &px_ns, "-v", "9"]).run();
    assert_error(&run, 1, &["px-k8s-user", "not created by kubectl-pxtoken", "--overwrite"], &px.shared_secret);
    let after = get_json("secret", Some(&tenant), "px-k8s-user").unwrap();
    assert_eq!(before["metadata"]["resourceVersion"], after["metadata"]["resourceVersion"], "the Secret was changed");

    pxtoken("admin").args(["tenant", &tenant, "--px-namespace", &px_ns, "--overwrite"]).succeeds();
    let token = &secret_data(&tenant, "px-k8s-user")["auth-token"];
    px.verify_token(token);
}

#[test]
fn admin_powers_for_a_tenant_need_allow_admin() {
    let px_ns = TestNamespace::new("px");
    let tenant = TestNamespace::new("team-admin");
    let px = install_operator_style(&px_ns, Some("adm.io"));
    for extra in [["--roles", "system.admin"], ["--groups", "*"]] {
        let run = pxtoken("admin").args(["tenant", &tenant, "--px-namespace", &px_ns, "-v", "9"]).args(extra).run();
        assert_error(&run, 1, &["administrator", "--allow-admin"], &px.shared_secret);
        assert!(!secret_exists(&tenant, "px-k8s-user"));
    }
    pxtoken("admin").args(["tenant", &tenant, "--px-namespace", &px_ns, "--groups", "*", "--allow-admin"]).succeeds();
    let claims = px.verify_token(&secret_data(&tenant, "px-k8s-user")["auth-token"]);
    assert_eq!(claims["groups"], serde_json::json!(["*"]));
}

#[test]
fn bad_duration_states_the_grammar() {
    let tenant = TestNamespace::new("team-dur");
    for bad in ["1w", "1h30m", "0d", "293y", "1.5d", ""] {
        let run = pxtoken("admin").args(["tenant", &tenant, "--issuer", "x", "--token-duration", bad]).run();
        assert_error(&run, 2, &["<digits><unit>", "s, m, h, d (24h) or y (365d)"], "");
    }
    assert!(!secret_exists(&tenant, "px-k8s-user"));
}

#[test]
fn bad_auth_config_names_file_and_line() {
    let px_ns = TestNamespace::new("px");
    let tenant = TestNamespace::new("team-cfg");
    install_operator_style(&px_ns, Some("cfg.io"));
    let dir = tempfile::tempdir().unwrap();
    let malformed = dir.path().join("tenant.yaml");
    std::fs::write(&malformed, "name: ok\nemail: ok@x\nroles: [system.user\n").unwrap();
    let run =
        pxtoken("admin").args(["tenant", &tenant, "--px-namespace", &px_ns, "--auth-config"]).arg(&malformed).run();
    assert_error(&run, 1, &[malformed.to_str().unwrap(), "line"], "");
    let wrong_type = dir.path().join("typed.yaml");
    std::fs::write(&wrong_type, "name: ok\nroles: {a: b}\n").unwrap();
    let run =
        pxtoken("admin").args(["tenant", &tenant, "--px-namespace", &px_ns, "--auth-config"]).arg(&wrong_type).run();
    assert_error(&run, 1, &[wrong_type.to_str().unwrap(), "line 2"], "");
    let missing = dir.path().join("missing.yaml");
    let run = pxtoken("admin").args(["tenant", &tenant, "--px-namespace", &px_ns, "--auth-config"]).arg(&missing).run();
    assert_error(&run, 1, &[missing.to_str().unwrap(), "cannot read"], "");
    assert!(!secret_exists(&tenant, "px-k8s-user"));
}

#[test]
fn unreachable_api_server_names_server_and_context() {
    // A kubeconfig pointing at a port nothing listens on.
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("dead.kubeconfig");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: dead\n  cluster:\n    server: https://127.0.0.1:{port}\n    insecure-skip-tls-verify: true\ncontexts:\n- name: dead-ctx\n  context: {{cluster: dead, user: u}}\ncurrent-context: dead-ctx\nusers:\n- name: u\n  user: {{token: abc}}\n"
        ),
    )
    .unwrap();
    let started = std::time::Instant::now();
    let run = pxtoken("admin")
        .args(["tenant", "team-x", "--issuer", "x", "--shared-secret-file", "/dev/null", "--request-timeout", "5s"])
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .run();
    // The empty shared secret is refused before any request; use a real one.
    assert_error(&run, 1, &["shared secret", "empty"], "");
    let secret_file = dir.path().join("secret");
    let secret = random_secret();
    std::fs::write(&secret_file, &secret).unwrap();
    let run = pxtoken("admin")
        .args(["tenant", "team-x", "--issuer", "x", "--request-timeout", "5s", "-v", "9", "--shared-secret-file"])
        .arg(&secret_file)
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .run();
    assert_error(&run, 1, &[&format!("https://127.0.0.1:{port}"), "dead-ctx", "cannot reach"], &secret);
    assert!(started.elapsed() < std::time::Duration::from_secs(15), "took {:?}", started.elapsed());
}

#[test]
fn usage_errors_exit_2() {
    let run = pxtoken("admin").args(["tenant"]).run();
    assert_error(&run, 2, &["NAMESPACE"], "");
    let run = pxtoken("admin").args(["tenant", "x", "--shared-secret-ref", "no-key"]).run();
    assert_error(&run, 2, &["[NAMESPACE/]NAME:KEY"], "");
    let run = pxtoken("admin").args(["tenant", "x", "--dry-run=sometimes"]).run();
    assert_error(&run, 2, &["--dry-run"], "");
    let run = pxtoken("admin").args(["tenan", "x"]).run();
    assert_error(&run, 2, &["'tenan'", "similar subcommand exists: 'tenant'"], "");
}

#[test]
fn two_portworx_installs_ask_which_one() {
    // Discovery looks in every namespace: nothing of another test's in kube-system meanwhile.
    let _kube_system = KubeSystem::borrow();
    let (first, second) = (TestNamespace::new("px-one"), TestNamespace::new("px-two"));
    let tenant = TestNamespace::new("team-which");
    let one = install_operator_style(&first, Some("one.io"));
    install_operator_style(&second, Some("two.io"));
    // Across all namespaces there are at least these two StorageClusters: never pick one silently.
    let run = pxtoken("admin").args(["tenant", &tenant, "-v", "9"]).run();
    assert_error(&run, 1, &[first.name(), second.name(), "--px-namespace"], &one.shared_secret);
    assert!(!secret_exists(&tenant, "px-k8s-user"));
}

/// Requests the plugin sent, as `-v 3` logs them.
fn requests(run: &Run) -> usize {
    run.stderr.lines().filter(|l| l.ends_with(": requesting")).count()
}

#[test]
fn names_and_keys_are_checked_with_kubernetes_rules_before_any_request() {
    let tenant = TestNamespace::new("team-names");
    let key = ["--shared-secret-ref", "kube-system/pxkeys:shared-secret", "--issuer", "names.io", "-v", "3"];
    let label = "a lowercase RFC 1123 label must consist of";
    let subdomain = "a lowercase RFC 1123 subdomain must consist of";
    let cases: &[(&[&str], &[&str])] = &[
        (&["tenant", "Bad_NS!"], &[r#"invalid namespace "Bad_NS!""#, label]),
        (&["tenant", ""], &[r#"invalid namespace """#, label]),
        (&["tenant", &tenant, "--secret-name", ""], &[r#"invalid --secret-name "": "#, subdomain]),
        (&["tenant", &tenant, "--secret-name", "Px_Token"], &[r#"invalid --secret-name "Px_Token""#, subdomain]),
        (&["tenant", &tenant, "--secret-key", "a/b"], &[r#"invalid --secret-key "a/b""#, "config key"]),
        (&["tenant", &tenant, "--secret-key", ".."], &[r#"invalid --secret-key "..": must not be '..'"#]),
        (&["tenant", &"a".repeat(64)], &["invalid namespace", "must be no more than 63 characters"]),
        (&["tenant", "team\u{1b}[31m"], &[r#"invalid namespace "team\u{1b}[31m""#]),
        (&["tenant", &tenant, "-n", "Bad_NS"], &[r#"invalid --namespace "Bad_NS""#, label]),
        (&["tenant", &tenant, "--px-namespace", "Px"], &[r#"invalid --px-namespace "Px""#, label]),
        (&["admin", "--save-secret", ""], &[r#"invalid --save-secret "": secret name """#, subdomain]),
        (&["admin", "--save-secret", "Bad/px-admin"], &[r#"invalid --save-secret "Bad/px-admin": namespace "Bad""#]),
        (&["admin", "--save-secret", "a/b/c"], &[r#"invalid --save-secret "a/b/c": expected [NAMESPACE/]NAME"#]),
    ];
    for (args, words) in cases {
        let run = pxtoken("admin").args(*args).args(key).run();
        assert_error(&run, 2, words, "");
        assert_eq!(requests(&run), 0, "a bad name cost a request:\n{run}");
        assert!(!run.stderr.contains('\u{1b}'), "a control character reached the terminal:\n{run}");
    }
    let run = pxtoken("admin").args(["tenant", &tenant, "--shared-secret-ref", "kube-system/Pxkeys:k"]).run();
    assert_error(&run, 2, &[r#"invalid --shared-secret-ref "kube-system/Pxkeys:k": secret name "Pxkeys""#], "");
    assert!(!secret_exists(&tenant, "px-k8s-user"));
}

#[test]
fn empty_roles_groups_and_claims_are_refused() {
    let tenant = TestNamespace::new("team-empty");
    let key = ["--shared-secret-ref", "kube-system/pxkeys:shared-secret", "--issuer", "empty.io", "-v", "3"];
    let cases: &[(&[&str], &str)] = &[
        (&["--roles", ""], r#"invalid --roles "": must not be empty"#),
        (&["--roles", "system.user,,x"], r#"invalid --roles "system.user,,x": has an empty item"#),
        (&["--groups", " "], r#"invalid --groups " ": must not be empty"#),
        (&["--groups", "a,"], r#"invalid --groups "a,": has an empty item"#),
        (&["--name", ""], r#"invalid --name "": must not be empty"#),
        (&["--sub", ""], r#"invalid --sub "": must not be empty"#),
    ];
    for (extra, words) in cases {
        let run = pxtoken("admin").args(["tenant", &tenant]).args(key).args(*extra).run();
        assert_error(&run, 2, &[words], "");
        assert_eq!(requests(&run), 0, "{run}");
    }
    let run = pxtoken("admin").args(["admin", "--email", ""]).args(key).run();
    assert_error(&run, 2, &[r#"invalid --email "": must not be empty"#], "");
    let run = pxtoken("admin").args(["admin", "--shared-secret", "", "--issuer", "empty.io"]).run();
    assert_error(&run, 2, &["invalid --shared-secret: must not be empty"], "");
    let run = pxtoken("admin").args(["tenant", &tenant, "--issuer", "", "-v", "3"]).run();
    assert_error(&run, 2, &[r#"invalid --issuer "": must not be empty"#], "");
    assert_eq!(requests(&run), 0, "{run}");
    assert!(!secret_exists(&tenant, "px-k8s-user"));
}

#[test]
fn a_bad_entry_in_a_tenant_list_stops_the_run_before_any_request() {
    let px_ns = TestNamespace::new("px");
    install_operator_style(&px_ns, Some("list.io"));
    let good = TestNamespace::new("bulk-good");
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("tenants.yaml");
    for (entry, words) in [
        ("- namespace: Bad_NS!\n", &[r#"invalid namespace "Bad_NS!""#, "RFC 1123 label"][..]),
        ("- namespace: ok\n  secretName: Tok\n", &[r#"invalid secret name "Tok""#][..]),
        ("- namespace: ok\n  roles: [\"\"]\n", &["has an empty role"][..]),
    ] {
        std::fs::write(&list, format!("- namespace: {good}\n{entry}")).unwrap();
        let run = pxtoken("admin").args(["tenant", "--px-namespace", &px_ns, "--from-file"]).arg(&list).run();
        assert_error(&run, 1, &[&format!("invalid tenant list {}", list.display())], "");
        assert_error(&run, 1, words, "");
        assert!(!secret_exists(&good, "px-k8s-user"), "the valid entry was onboarded:\n{run}");
    }
}

#[test]
fn bare_command_shows_the_help_like_kubectl() {
    let run = pxtoken("admin").run();
    assert_eq!(run.code, Some(0), "{run}");
    assert!(run.stderr.is_empty(), "{run}");
    for word in ["Usage: kubectl pxtoken", "tenant", "admin", "generate", "--kubeconfig", "Examples:"] {
        assert!(run.stdout.contains(word), "the help lacks {word:?}:\n{run}");
    }
    assert_eq!(run.stdout, pxtoken("admin").arg("--help").succeeds(), "the same help as --help");
}

/// Panics if `run` wrote a control character (other than the newline ending a line) to the
/// terminal: an ESC recolours it, a BEL rings, a CR overwrites the line.
fn assert_no_raw_control_characters(run: &Run) {
    let raw = |text: &str| text.chars().any(|c| c.is_control() && c != '\n');
    assert!(!raw(&run.stderr) && !raw(&run.stdout), "a control character reached the terminal:\n{run:?}");
}

#[test]
fn what_the_user_typed_is_escaped_in_every_error_line() {
    let tenant = TestNamespace::new("team-esc");
    let dir = tempfile::tempdir().unwrap();
    let at = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();
    let key = ["--shared-secret-ref", "kube-system/pxkeys:shared-secret", "--issuer", "esc.io", "-v", "3"];
    let escaped_path = at(r"\u{1b}[31mred");
    let cases: &[(&[&str], i32, &str)] = &[
        // Values clap refuses: its own message, the value escaped.
        (
            &["tenant", &tenant, "--token-duration", "1d\u{1b}[2J"],
            2,
            r"invalid value '1d\u{1b}[2J' for '--token-duration",
        ),
        (&["tenant", &tenant, "--request-timeout", "5\ns"], 2, r"invalid value '5\ns' for '--request-timeout"),
        (&["tenant", &tenant, "-o", "yaml\u{7}"], 2, r"invalid value 'yaml\u{7}' for '--output"),
        (&["\u{1b}]0;owned\u{7}"], 2, r"unrecognized subcommand '\u{1b}]0;owned\u{7}'"),
        // Paths in the library's errors.
        (
            &["tenant", &tenant, "--auth-config", &at("\u{1b}[31mred")],
            1,
            &format!("cannot read auth-config {escaped_path}"),
        ),
        (&["tenant", "--from-file", &at("\u{1b}[31mred")], 1, &format!("cannot read tenant list {escaped_path}")),
        (&["tenant", &tenant, "--shared-secret-file", &at("\u{1b}[31mred")], 1, &escaped_path),
    ];
    for (args, code, words) in cases {
        let run = pxtoken("admin").args(*args).args(if args.len() > 2 { &key[..] } else { &[] }).run();
        assert_error(&run, *code, &[words], "");
        assert_no_raw_control_characters(&run);
        assert_eq!(requests(&run), 0, "{run}");
    }
    // Where the token was to go.
    let run = pxtoken("admin")
        .args(["admin", "--token-file", &at("missing-dir/\u{1b}[31mred")])
        .args(["--shared-secret-file", "/dev/stdin", "--issuer", "esc.io"])
        .run_with_input(&random_secret());
    assert_error(&run, 1, &[&format!("cannot write {}", at(r"missing-dir/\u{1b}[31mred"))], "");
    assert_no_raw_control_characters(&run);
}

#[test]
fn claims_and_impersonation_with_control_characters_are_refused_before_any_request() {
    let tenant = TestNamespace::new("team-ctl");
    let key = ["--shared-secret-ref", "kube-system/pxkeys:shared-secret", "--issuer", "ctl.io", "-v", "3"];
    let control = "must not contain control characters";
    let cases: &[(&[&str], &str)] = &[
        (&["--name", "Team\nA"], r#"invalid --name "Team\nA": "#),
        (&["--email", "a@b\u{1b}[8m"], r#"invalid --email "a@b\u{1b}[8m": "#),
        (&["--sub", "owner\r"], r#"invalid --sub "owner\r": "#),
        (&["--roles", "system.user,x\ty"], r#"invalid --roles "system.user,x\ty": "#),
        (&["--groups", "dev\u{7}"], r#"invalid --groups "dev\u{7}": "#),
        (&["--as", "alice\nImpersonate-Group: system:masters"], r#"invalid --as "alice\nImpersonate-Group"#),
        (&["--as", "alice", "--as-group", "dev\r\n"], r#"invalid --as-group "dev\r\n": "#),
    ];
    for (extra, words) in cases {
        let run = pxtoken("admin").args(["tenant", &tenant]).args(key).args(*extra).run();
        assert_error(&run, 2, &[words, control], "");
        assert_eq!(requests(&run), 0, "{run}");
    }
    let run = pxtoken("admin").args(["tenant", &tenant, "--issuer", "ctl\n.io", "-v", "3"]).run();
    assert_error(&run, 2, &[r#"invalid --issuer "ctl\n.io": must not contain control characters"#], "");
    assert_eq!(requests(&run), 0, "{run}");
    // The API server would refuse a group without a user, after the request: say so first.
    let run = pxtoken("admin").args(["tenant", &tenant]).args(key).args(["--as-group", "dev"]).run();
    assert_error(&run, 2, &["--as-group needs --as"], "");
    assert_eq!(requests(&run), 0, "{run}");
    assert!(!secret_exists(&tenant, "px-k8s-user"));
}

#[test]
fn connection_flags_are_read_as_kubectl_reads_them() {
    let px_ns = TestNamespace::new("px");
    let tenant = TestNamespace::new("team-unset");
    let px = install_operator_style(&px_ns, Some("unset.io"));
    // A user the kubeconfig does not have: refused, not a request without credentials.
    let run = pxtoken("admin").args(["tenant", &tenant, "--px-namespace", &px_ns, "--user", "nosuch", "-v", "3"]).run();
    assert_error(&run, 1, &[r#"user "nosuch" not found in kubeconfig"#, "check --context, --cluster, --user"], "");
    assert_eq!(requests(&run), 0, "{run}");
    // Empty means not given.
    let unset = ["--context=", "--cluster=", "--user=", "--as=", "-n="];
    pxtoken("admin").args(["tenant", &tenant, "--px-namespace", &px_ns]).args(unset).succeeds();
    px.verify_token(&secret_data(&tenant, "px-k8s-user")["auth-token"]);
}

#[test]
fn request_timeouts_past_the_clocks_range_and_bad_clock_skews_are_usage_errors() {
    for huge in ["18446744073709551615", "4294967296", "99999999999h"] {
        let run = pxtoken("admin").args(["tenant", "team-x", "--issuer", "x", "--request-timeout", huge]).run();
        let words = [&format!("invalid value '{huge}' for '--request-timeout <DURATION>'"), "e.g. 1s, 2m, 3h"];
        assert_error(&run, 2, &words, "");
    }
    // --clock-skew shares the grammar, and its errors name it, not --request-timeout.
    let run = pxtoken("admin").args(["tenant", "team-x", "--issuer", "x", "--clock-skew", "10 min"]).run();
    assert_error(&run, 2, &[r#"for '--clock-skew <DURATION>': invalid duration "10 min": expected 0 or"#], "");
    assert!(!run.stderr.contains("request-timeout"), "{run}");
}

#[test]
fn token_files_that_name_no_file_are_refused_and_others_are_kept_what_they_are() {
    let dir = tempfile::tempdir().unwrap();
    let secret_file = dir.path().join("secret");
    let secret = random_secret();
    std::fs::write(&secret_file, &secret).unwrap();
    let admin = || {
        let mut cmd = pxtoken("admin");
        cmd.args(["admin", "--issuer", "files.io", "--shared-secret-file"]).arg(&secret_file);
        cmd
    };
    for (flag, path) in [("--token-file", "."), ("--token-file", "tokens/"), ("-o", "")] {
        let run = admin().args([flag, path]).run();
        let flag = if flag == "-o" { "--output" } else { flag };
        assert_error(&run, 2, &[&format!("invalid {flag} {path:?}: not a file name")], &secret);
    }
    let run = pxtoken("admin").args(["generate", "--auth-config", "/dev/null", "--output", "."]).run();
    assert_error(&run, 2, &[r#"invalid --output ".": not a file name"#], "");

    // A symlink is followed and kept (to a file: written privately there; to a device: in place).
    let target = dir.path().join("admin.jwt");
    let link = dir.path().join("current.jwt");
    std::fs::write(&target, "old").unwrap();
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let run = admin().arg("--token-file").arg(&link).run();
    assert_eq!(run.code, Some(0), "{run}");
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink(), "the link was replaced");
    assert!(std::fs::read_to_string(&target).unwrap().starts_with("eyJ"), "the token is not behind the link");
    let to_device = dir.path().join("discard.jwt");
    std::os::unix::fs::symlink("/dev/null", &to_device).unwrap();
    let run = admin().arg("--token-file").arg(&to_device).run();
    assert_eq!(run.code, Some(0), "{run}");
    assert!(run.stderr.contains("token written to") && !run.stderr.contains("mode 0600"), "{run}");
    assert!(std::fs::symlink_metadata(&to_device).unwrap().file_type().is_symlink(), "the link was replaced");
    assert!(run.stdout.is_empty(), "the token went to stdout as well:\n{run}");

    // The pxctl line reads the file back with one shell word, whatever the path.
    let spaced = dir.path().join("my admin token.jwt");
    let out = admin().arg("--token-file").arg(&spaced).arg("--print-pxctl-context").succeeds();
    assert_eq!(out.trim(), format!("pxctl context create admin --token=\"$(cat '{}')\"", spaced.display()));
}

#[test]
fn key_and_list_files_of_the_wrong_kind_are_named_without_being_quoted() {
    let dir = tempfile::tempdir().unwrap();
    let secret = random_secret();
    let secret_file = dir.path().join("shared-secret");
    std::fs::write(&secret_file, format!("{secret}\n")).unwrap();
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "").unwrap();
    let offline = ["generate", "--auth-config", "/dev/null", "--issuer", "files.io"];
    let cases: &[(&str, &std::path::Path, &str)] = &[
        (
            "--ecdsa-private-keyfile",
            &empty,
            "is not an ECDSA P-256 private key in PEM form (SEC1 or PKCS#8): the file is empty",
        ),
        (
            "--rsa-private-keyfile",
            &secret_file,
            "is not an RSA private key in PEM form (PKCS#1 or PKCS#8): no PEM block",
        ),
        ("--ecdsa-private-keyfile", &secret_file, "no PEM block"),
    ];
    for (flag, path, words) in cases {
        let run = pxtoken("admin").args(offline).arg(flag).arg(path).run();
        assert_error(&run, 1, &[flag, words], &secret);
    }
    for (flag, words) in [
        ("--ecdsa-public-keyfile", "is not an ECDSA public key in PEM form: the file is empty"),
        ("--rsa-public-keyfile", "is not an RSA public key in PEM form: the file is empty"),
    ] {
        let run =
            pxtoken("admin").args(["inspect", "-", "--issuer", "files.io", flag]).arg(&empty).run_with_input("a.b.c");
        assert_error(&run, 1, &[flag, words], "");
    }
    // The shared secret given where a YAML file belongs: said where, never shown.
    let key = ["--shared-secret-file", "/dev/null", "--issuer", "files.io"];
    let run = pxtoken("admin").args(["tenant", "team-x", "--auth-config"]).arg(&secret_file).args(key).run();
    assert_error(&run, 1, &["invalid auth-config", "line 1"], &secret);
    let run = pxtoken("admin").args(["tenant", "--from-file"]).arg(&secret_file).args(key).run();
    assert_error(&run, 1, &["invalid tenant list", "found text where a list of tenant entries was expected"], &secret);
}
