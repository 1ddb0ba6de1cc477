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
