//! `kubectl pxtoken tenant`: one command onboards a tenant, for every Portworx install style,
//! and every token it stores is accepted by openstorage's own verifier.

mod interrupt;

use crate::support::openstorage::{self, PeerKey};
use crate::support::webhook::SecretUpdateWebhook;
use crate::support::*;
use serde_json::Value;

const YEAR: i64 = 365 * 86_400;

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

/// The token stored in `namespace/px-k8s-user`, checked by openstorage's verifier for `px`.
fn stored_token_claims(namespace: &str, px: &PortworxInstall) -> (String, Value) {
    let token = secret_data(namespace, "px-k8s-user")["auth-token"].clone();
    let claims = openstorage::verify(&token, &px.issuer, PeerKey::SharedSecret(px.shared_secret.as_bytes()))
        .unwrap_or_else(|why| panic!("openstorage rejected the stored token: {why}"));
    (token, claims)
}

/// The claims every default tenant token has: discovered issuer, a subject, `system.user`,
/// name = namespace, email = namespace@issuer, a year of life, iat backdated 10 minutes.
fn assert_default_tenant_claims(claims: &Value, namespace: &str, issuer: &str, issued_around: i64) {
    assert_eq!(claims["iss"], issuer);
    assert!(claims["sub"].as_str().is_some_and(|s| !s.is_empty()), "no sub: {claims}");
    assert_eq!(claims["roles"], serde_json::json!(["system.user"]));
    assert!(claims["payload"].get("groups").is_none(), "groups should be omitted: {claims}");
    assert_eq!(claims["name"], namespace);
    assert_eq!(claims["email"], format!("{namespace}@{issuer}"));
    let exp = claims["exp"].as_i64().unwrap();
    assert!((exp - (issued_around + YEAR)).abs() <= 120, "exp {exp} is not a year after {issued_around}");
    let iat = claims["iat"].as_i64().unwrap();
    assert!((iat - (issued_around - 600)).abs() <= 120, "iat {iat} is not backdated 10 minutes");
}

/// Neither the shared secret nor (unless asked for) the token shows on stdout or stderr.
fn assert_no_leak(run: &Run, secrets: &[&str]) {
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        assert!(!run.stdout.contains(secret) && !run.stderr.contains(secret), "a secret leaked:\n{run}");
    }
}

#[test]
fn daemonset_install_in_kube_system_is_found_without_flags() {
    // The documented install: kube-system/pxkeys and a DaemonSet with -jwt_issuer. The user is a
    // storage admin with rights in kube-system and the tenant's namespace only, as is common.
    let tenant = TestNamespace::new("team-ds");
    let kube_system = KubeSystem::borrow();
    let px = install_daemonset_style(&kube_system, &random_secret(), "portworx.com");
    let user = cluster().new_user("storage-admin");
    grant(
        &user,
        &kube_system,
        &["get", "list"],
        &["secrets", "daemonsets.apps", "storageclusters.core.libopenstorage.org"],
    );
    grant(&user, &tenant, &["get", "create", "update"], &["secrets"]);

    let issued = now();
    let run = pxtoken(&user).args(["tenant", &tenant, "-v", "9"]).run();
    let out = run.stdout.clone();
    assert_eq!(run.code, Some(0), "{run}");
    assert_no_leak(&run, &[&px.shared_secret]);
    assert!(out.starts_with(&format!("secret/px-k8s-user created in {tenant} (sub ")), "{out}");
    assert!(run.stderr.contains("DaemonSet kube-system/portworx"), "-v should say where the key was found:\n{run}");

    let (token, claims) = stored_token_claims(&tenant, &px);
    assert_no_leak(&run, &[&token]);
    assert_default_tenant_claims(&claims, &tenant, "portworx.com", issued);
    let secret = get_json("secret", Some(&tenant), "px-k8s-user").unwrap();
    assert_eq!(secret["type"], "Opaque");
    assert_eq!(secret["metadata"]["labels"]["app.kubernetes.io/managed-by"], "kubectl-pxtoken");
    let annotations = &secret["metadata"]["annotations"];
    assert_eq!(annotations["kubectl-pxtoken/subject"], claims["sub"]);
    assert_eq!(annotations["kubectl-pxtoken/issuer"], "portworx.com");
    assert_eq!(annotations["kubectl-pxtoken/key-source"], "secret:kube-system/pxkeys:shared-secret");
    assert!(annotations["kubectl-pxtoken/expires-at"].as_str().is_some_and(|s| s.ends_with('Z')));
}

#[test]
fn a_storage_cluster_wins_over_a_daemonset_in_the_same_cluster() {
    // Mid-migration from the DaemonSet install to the operator: both in kube-system, each with its
    // own Secret and issuer. Portworx runs as the StorageCluster says, so that is what signs.
    let tenant = TestNamespace::new("team-both");
    let kube_system = KubeSystem::borrow();
    let daemonset = install_daemonset_style(&kube_system, &random_secret(), "daemonset.example.com");
    let operator = install_operator_style(&kube_system, Some("operator.example.com"));
    assert_ne!(daemonset.shared_secret, operator.shared_secret);
    let user = cluster().new_user("storage-admin");
    let installs = ["secrets", "daemonsets.apps", "storageclusters.core.libopenstorage.org"];
    grant(&user, &kube_system, &["get", "list"], &installs);
    grant(&user, &tenant, &["get", "create", "update"], &["secrets"]);

    let run = pxtoken(&user).args(["tenant", &tenant, "-v", "2"]).run();
    assert_eq!(run.code, Some(0), "{run}");
    assert!(run.stderr.contains("StorageCluster kube-system/px-cluster"), "-v should say which install:\n{run}");
    let (_, claims) = stored_token_claims(&tenant, &operator);
    assert_eq!(claims["iss"], "operator.example.com");
    let secret = get_json("secret", Some(&tenant), "px-k8s-user").unwrap();
    let source = &secret["metadata"]["annotations"]["kubectl-pxtoken/key-source"];
    assert_eq!(source, "secret:kube-system/px-shared-secret:shared-secret");
}

#[test]
fn operator_install_gives_key_and_default_issuer() {
    let px_ns = TestNamespace::new("px-operator");
    let tenant = TestNamespace::new("team-op");
    let px = install_operator_style(&px_ns, None);

    let issued = now();
    let run = pxtoken("admin").args(["tenant", &tenant, "--px-namespace", &px_ns, "-v", "9"]).run();
    assert_eq!(run.code, Some(0), "{run}");
    assert_no_leak(&run, &[&px.shared_secret]);
    let (token, claims) = stored_token_claims(&tenant, &px);
    assert_no_leak(&run, &[&token]);
    assert_default_tenant_claims(&claims, &tenant, "operator.portworx.io", issued);
}

#[test]
fn operator_install_with_its_own_issuer() {
    let px_ns = TestNamespace::new("px-operator");
    let tenant = TestNamespace::new("team-op");
    let px = install_operator_style(&px_ns, Some("px.example.com"));
    let issued = now();
    pxtoken("admin").args(["tenant", &tenant, "--px-namespace", &px_ns]).succeeds();
    let (_, claims) = stored_token_claims(&tenant, &px);
    assert_default_tenant_claims(&claims, &tenant, "px.example.com", issued);
}

#[test]
fn daemonset_install_in_its_own_namespace() {
    let px_ns = TestNamespace::new("px-helm");
    let tenant = TestNamespace::new("team-helm");
    let px = install_daemonset_style(&px_ns, &random_secret(), "helm.example.com");
    let issued = now();
    pxtoken("admin").args(["tenant", &tenant, "--px-namespace", &px_ns]).succeeds();
    let (_, claims) = stored_token_claims(&tenant, &px);
    assert_default_tenant_claims(&claims, &tenant, "helm.example.com", issued);
}

#[test]
fn explicit_secret_ref_and_issuer() {
    let keys = TestNamespace::new("keys");
    let tenant = TestNamespace::new("team-ref");
    let px = install_daemonset_style(&keys, &random_secret(), "ignored-by-ref.io");
    let px = PortworxInstall { issuer: "explicit.example.com".into(), ..px };
    let issued = now();
    pxtoken("admin")
        .args(["tenant", &tenant, "--shared-secret-ref", &px.secret_ref(), "--issuer", "explicit.example.com"])
        .succeeds();
    let (_, claims) = stored_token_claims(&tenant, &px);
    assert_default_tenant_claims(&claims, &tenant, "explicit.example.com", issued);
}

#[test]
fn token_duration_sets_exp() {
    let px_ns = TestNamespace::new("px");
    let tenant = TestNamespace::new("team-dur");
    let px = install_operator_style(&px_ns, Some("dur.io"));
    for (duration, seconds) in [("1y", YEAR), ("90d", 90 * 86_400), ("36h", 36 * 3_600), ("45m", 45 * 60)] {
        let issued = now();
        pxtoken("admin").args(["tenant", &tenant, "--px-namespace", &px_ns, "--token-duration", duration]).succeeds();
        let (_, claims) = stored_token_claims(&tenant, &px);
        let (iat, exp) = (claims["iat"].as_i64().unwrap(), claims["exp"].as_i64().unwrap());
        // Both come from one clock reading: exp = now + duration, iat = now - 10m, exactly.
        assert_eq!(exp - iat, seconds + 600, "{duration}: exp {exp}, iat {iat}");
        assert!((exp - issued - seconds).abs() <= 300, "{duration}: exp {exp} is not {seconds}s after {issued}");
    }
}

#[test]
fn a_secret_another_writer_changes_between_read_and_write_is_not_clobbered() {
    let px_ns = TestNamespace::new("px");
    let tenant = TestNamespace::new("team-race");
    let px = install_operator_style(&px_ns, Some("race.io"));
    pxtoken("admin").args(["tenant", &tenant, "--px-namespace", &px_ns]).succeeds();
    let (first_token, first) = stored_token_claims(&tenant, &px);

    // Another writer (a colleague, a rotator elsewhere) annotates the Secret after the plugin read
    // it and before its write is stored: inside the API server's handling of the plugin's update.
    let namespace = tenant.name().to_owned();
    let wrote = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let other_writer = wrote.clone();
    let webhook = SecretUpdateWebhook::start(&tenant, move |request| {
        if request.name == "px-k8s-user" && !other_writer.swap(true, std::sync::atomic::Ordering::SeqCst) {
            kubectl("admin")
                .args(["annotate", "secret", "px-k8s-user", "-n", &namespace, "example.com/reviewed-by=carol"])
                .succeeds();
        }
    });
    let run = pxtoken("admin").args(["tenant", &tenant, "--px-namespace", &px_ns]).run();
    assert!(wrote.load(std::sync::atomic::Ordering::SeqCst), "the other writer never ran:\n{run}");
    assert_eq!(run.code, Some(1), "{run}");
    let changed = format!(
        "error: secret {tenant}/px-k8s-user changed while the token was being issued; nothing was written, run the command again"
    );
    assert_eq!(run.stderr.trim_end(), changed, "{run}");
    let secret = get_json("secret", Some(&tenant), "px-k8s-user").unwrap();
    assert_eq!(
        secret["metadata"]["annotations"]["example.com/reviewed-by"], "carol",
        "the other writer's change was lost"
    );
    assert_eq!(secret_data(&tenant, "px-k8s-user")["auth-token"], first_token, "a token was written over it");
    drop(webhook);

    // Run again, as the error says: a token over the Secret as it is now, same identity.
    let line = pxtoken("admin").args(["tenant", &tenant, "--px-namespace", &px_ns]).succeeds();
    assert!(line.starts_with(&format!("secret/px-k8s-user configured in {tenant} ")), "{line}");
    let (_, claims) = stored_token_claims(&tenant, &px);
    assert_eq!(claims["sub"], first["sub"]);
    let secret = get_json("secret", Some(&tenant), "px-k8s-user").unwrap();
    assert_eq!(secret["metadata"]["annotations"]["example.com/reviewed-by"], "carol");
}

#[test]
fn identity_survives_re_runs_and_is_unique() {
    let px_ns = TestNamespace::new("px");
    let (team_a, team_b) = (TestNamespace::new("team-a"), TestNamespace::new("team-b"));
    let px = install_operator_style(&px_ns, Some("id.io"));
    let tenant = |ns: &str, extra: &[&str]| {
        pxtoken("admin").args(["tenant", ns, "--px-namespace", &px_ns]).args(extra).succeeds()
    };

    let first = tenant(&team_a, &[]);
    let (first_token, first_claims) = stored_token_claims(&team_a, &px);
    std::thread::sleep(std::time::Duration::from_millis(1100)); // a new iat second
    let second = tenant(&team_a, &[]);
    assert!(first.contains(" created in ") && second.contains(" configured in "), "{first}{second}");
    let (second_token, second_claims) = stored_token_claims(&team_a, &px);
    assert_ne!(first_token, second_token, "re-running issues a fresh token");
    assert_eq!(first_claims["sub"], second_claims["sub"], "re-running keeps the tenant's identity");

    tenant(&team_b, &[]);
    let (_, b_claims) = stored_token_claims(&team_b, &px);
    assert_ne!(first_claims["sub"], b_claims["sub"], "two tenants never share a subject");

    let run = pxtoken("admin").args(["tenant", &team_b, "--px-namespace", &px_ns, "--sub", "team-b-owner"]).run();
    assert_eq!(run.code, Some(0), "{run}");
    assert!(run.stderr.contains("subject changed"), "changing a subject deserves a warning:\n{run}");
    let (_, b_claims) = stored_token_claims(&team_b, &px);
    assert_eq!(b_claims["sub"], "team-b-owner");
    tenant(&team_b, &[]);
    assert_eq!(stored_token_claims(&team_b, &px).1["sub"], "team-b-owner", "a chosen subject sticks too");
}

#[test]
fn claims_from_flags_over_auth_config_over_defaults() {
    let px_ns = TestNamespace::new("px");
    let tenant = TestNamespace::new("team-claims");
    let px = install_operator_style(&px_ns, Some("claims.io"));
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("tenant.yaml");
    std::fs::write(&config, "name: From File\nemail: file@example.com\nsub: file-sub\nroles: [\"system.user\", \"system.view\"]\ngroups: [\"g1\"]\n").unwrap();
    pxtoken("admin")
        .args(["tenant", &tenant, "--px-namespace", &px_ns, "--auth-config", config.to_str().unwrap()])
        .args(["--name", "From Flag", "--groups", "g2,g3"])
        .succeeds();
    let (_, claims) = stored_token_claims(&tenant, &px);
    assert_eq!(claims["name"], "From Flag");
    assert_eq!(claims["email"], "file@example.com");
    assert_eq!(claims["sub"], "file-sub");
    assert_eq!(claims["roles"], serde_json::json!(["system.user", "system.view"]));
    assert_eq!(claims["groups"], serde_json::json!(["g2", "g3"]));
}

#[test]
fn rsa_and_ecdsa_keys_sign_tokens_portworx_accepts() {
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let cases = [
        ("--rsa-private-keyfile", "rsa-private.pem", "rsa-public.pem", "RS256"),
        ("--rsa-private-keyfile", "rsa-private-pkcs1.pem", "rsa-public.pem", "RS256"),
        ("--ecdsa-private-keyfile", "ecdsa-private-sec1.pem", "ecdsa-public.pem", "ES256"),
        ("--ecdsa-private-keyfile", "ecdsa-private-pkcs8.pem", "ecdsa-public.pem", "ES256"),
    ];
    for (flag, private, public, alg) in cases {
        let tenant = TestNamespace::new("team-keys");
        let run = pxtoken("admin")
            .args(["tenant", &tenant, flag, data.join(private).to_str().unwrap(), "--issuer", "keys.io", "-v", "9"])
            .run();
        assert_eq!(run.code, Some(0), "{run}");
        let private_pem = std::fs::read_to_string(data.join(private)).unwrap();
        let key_body = private_pem.lines().nth(1).unwrap();
        assert_no_leak(&run, &[key_body]);
        let token = &secret_data(&tenant, "px-k8s-user")["auth-token"];
        let public_pem = std::fs::read_to_string(data.join(public)).unwrap();
        let key =
            if alg == "RS256" { PeerKey::RsaPublicPem(&public_pem) } else { PeerKey::EcdsaPublicPem(&public_pem) };
        let claims =
            openstorage::verify(token, "keys.io", key).unwrap_or_else(|why| panic!("{private}: rejected: {why}"));
        assert_eq!(claims["alg"], alg);
        assert_eq!(claims["roles"], serde_json::json!(["system.user"]));
    }
}

#[test]
fn dry_run_client_sends_no_write_and_prints_an_appliable_manifest() {
    let px_ns = TestNamespace::new("px");
    let tenant = TestNamespace::new("team-dry");
    let px = install_operator_style(&px_ns, Some("dry.io"));
    // This user may read but not write Secrets: a client dry run must not need to.
    let user = cluster().new_user("reader");
    grant(&user, &px_ns, &["get", "list"], &["secrets", "storageclusters.core.libopenstorage.org", "daemonsets.apps"]);
    grant(&user, &tenant, &["get"], &["secrets"]);

    let yaml =
        pxtoken(&user).args(["tenant", &tenant, "--px-namespace", &px_ns, "--dry-run=client", "-o", "yaml"]).succeeds();
    assert!(!secret_exists(&tenant, "px-k8s-user"), "a client dry run created the Secret");
    assert!(yaml.contains("kind: Secret") && yaml.contains("auth-token"), "{yaml}");

    kubectl("admin").args(["apply", "-f", "-"]).run_with_input(&yaml).success();
    let (_, claims) = stored_token_claims(&tenant, &px);
    assert_eq!(claims["iss"], "dry.io");

    let line = pxtoken(&user).args(["tenant", &tenant, "--px-namespace", &px_ns, "--dry-run=client"]).succeeds();
    assert!(line.contains("(dry run)"), "{line}");
}

#[test]
fn dry_run_server_creates_nothing() {
    let px_ns = TestNamespace::new("px");
    let tenant = TestNamespace::new("team-sdry");
    install_operator_style(&px_ns, Some("sdry.io"));
    let line = pxtoken("admin").args(["tenant", &tenant, "--px-namespace", &px_ns, "--dry-run=server"]).succeeds();
    assert!(line.contains("created in") && line.contains("(server dry run)"), "{line}");
    assert!(!secret_exists(&tenant, "px-k8s-user"), "a server dry run created the Secret");

    let missing = TestNamespace::unused("team-gone");
    let run = pxtoken("admin").args(["tenant", &missing, "--px-namespace", &px_ns, "--dry-run=server"]).fails();
    assert!(run.stderr.contains("not found"), "{run}");
}

#[test]
fn output_formats_follow_kubectl() {
    let px_ns = TestNamespace::new("px");
    let tenant = TestNamespace::new("team-out");
    install_operator_style(&px_ns, Some("out.io"));
    let name = pxtoken("admin").args(["tenant", &tenant, "--px-namespace", &px_ns, "-o", "name"]).succeeds();
    assert_eq!(name, "secret/px-k8s-user\n");
    let json = pxtoken("admin").args(["tenant", &tenant, "--px-namespace", &px_ns, "-o", "json"]).succeeds();
    let secret: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(secret["kind"], "Secret");
    assert_eq!(secret["metadata"]["namespace"], tenant.name());
}

#[test]
fn create_namespace_and_custom_secret_name() {
    let px_ns = TestNamespace::new("px");
    let tenant = TestNamespace::unused("team-new");
    let px = install_operator_style(&px_ns, Some("new.io"));
    pxtoken("admin")
        .args(["tenant", &tenant, "--px-namespace", &px_ns, "--create-namespace"])
        .args(["--secret-name", "px-user-token", "--secret-key", "token"])
        .succeeds();
    let token = &secret_data(&tenant, "px-user-token")["token"];
    openstorage::verify(token, &px.issuer, PeerKey::SharedSecret(px.shared_secret.as_bytes())).unwrap();
}

#[test]
fn shared_secret_from_file_stdin_env_and_flag() {
    let tenant = TestNamespace::new("team-local");
    let secret = random_secret();
    let px = PortworxInstall {
        namespace: String::new(),
        secret_name: String::new(),
        secret_key: String::new(),
        shared_secret: secret.clone(),
        issuer: "local.io".into(),
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("secret");
    std::fs::write(&file, format!("{secret}\n")).unwrap();
    let base = ["tenant", tenant.name(), "--issuer", "local.io", "-v", "9"];

    let run = pxtoken("admin").args(base).args(["--shared-secret-file", file.to_str().unwrap()]).run();
    assert_eq!(run.code, Some(0), "{run}");
    assert_no_leak(&run, &[&secret]);
    stored_token_claims(&tenant, &px);

    let run = pxtoken("admin").args(base).args(["--shared-secret-file", "-"]).run_with_input(&secret);
    assert_eq!(run.code, Some(0), "{run}");
    stored_token_claims(&tenant, &px);

    let run = pxtoken("admin").args(base).env("PXTOKEN_SHARED_SECRET", &secret).run();
    assert_eq!(run.code, Some(0), "{run}");
    assert_no_leak(&run, &[&secret]);
    stored_token_claims(&tenant, &px);

    let run = pxtoken("admin").args(base).args(["--shared-secret", &secret]).run();
    assert_eq!(run.code, Some(0), "{run}");
    assert!(run.stderr.contains("warning: --shared-secret is visible"), "{run}");
    stored_token_claims(&tenant, &px);
}

#[test]
fn from_file_onboards_many_and_reports_each() {
    let px_ns = TestNamespace::new("px");
    let px = install_operator_style(&px_ns, Some("bulk.io"));
    let (a, b, missing) = (TestNamespace::new("bulk-a"), TestNamespace::new("bulk-b"), TestNamespace::unused("bulk-c"));
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("tenants.yaml");
    std::fs::write(
        &list,
        format!("- namespace: {a}\n- namespace: {b}\n  name: Team B\n  groups: [b-team]\n- namespace: {missing}\n"),
    )
    .unwrap();
    let run = pxtoken("admin").args(["tenant", "--px-namespace", &px_ns, "--from-file"]).arg(&list).run();
    assert_eq!(run.code, Some(1), "a partly failed bulk run exits 1:\n{run}");
    assert_eq!(run.stdout.lines().count(), 2, "one line per onboarded tenant:\n{run}");
    assert!(run.stderr.contains(&format!("error: {missing}: namespace")), "{run}");
    let (_, b_claims) = stored_token_claims(&b, &px);
    assert_eq!(b_claims["name"], "Team B");
    assert_eq!(b_claims["groups"], serde_json::json!(["b-team"]));
    let a_sub = stored_token_claims(&a, &px).1["sub"].clone();

    // Re-runnable: the same command with --create-namespace finishes the job, subjects kept.
    let out = pxtoken("admin")
        .args(["tenant", "--px-namespace", &px_ns, "--create-namespace", "--from-file"])
        .arg(&list)
        .succeeds();
    assert_eq!(out.lines().count(), 3, "{out}");
    assert_eq!(stored_token_claims(&a, &px).1["sub"], a_sub);
    stored_token_claims(&missing, &px);
}

#[test]
fn warm_discovery_takes_three_requests_and_follows_a_moved_key() {
    let px_ns = TestNamespace::new("px-warm");
    let tenant = TestNamespace::new("team-warm");
    let px = install_operator_style(&px_ns, Some("warm.io"));
    let requests = |run: &Run| run.stderr.lines().filter(|l| l.ends_with(": requesting")).count();
    let onboard = || pxtoken("admin").args(["tenant", &tenant, "--px-namespace", &px_ns, "-v", "3"]).run();

    let cold = onboard();
    assert_eq!(cold.code, Some(0), "{cold}");
    assert!(requests(&cold) > 3, "a cold run lists the install first:\n{cold}");
    let warm = onboard();
    assert_eq!(warm.code, Some(0), "{warm}");
    assert_eq!(requests(&warm), 3, "warm: read the key, read the Secret, write it:\n{warm}");
    stored_token_claims(&tenant, &px);

    // The operator is pointed at a new shared secret and the old one is deleted: the remembered
    // location fails, so the plugin discovers again and signs with the new key.
    let moved =
        PortworxInstall { secret_name: "px-shared-secret-2".into(), shared_secret: random_secret(), ..px.clone() };
    kubectl("admin")
        .args([
            "-n",
            &px_ns,
            "create",
            "secret",
            "generic",
            "px-shared-secret-2",
            "--from-file=shared-secret=/dev/stdin",
        ])
        .run_with_input(&moved.shared_secret)
        .success();
    kubectl("admin")
        .args(["-n", &px_ns, "patch", "storagecluster", "px-cluster", "--type=merge", "-p"])
        .arg(r#"{"spec":{"security":{"auth":{"selfSigned":{"sharedSecret":"px-shared-secret-2"}}}}}"#)
        .succeeds();
    kubectl("admin").args(["-n", &px_ns, "delete", "secret", "px-shared-secret"]).succeeds();
    let after = onboard();
    assert_eq!(after.code, Some(0), "{after}");
    stored_token_claims(&tenant, &moved);
    let fresh =
        pxtoken("admin").args(["tenant", &tenant, "--px-namespace", &px_ns, "--fresh-discovery", "-v", "3"]).run();
    assert!(requests(&fresh) > 3, "--fresh-discovery looks again:\n{fresh}");
}

/// The resourceVersion of `namespace/px-k8s-user`.
fn token_secret_version(namespace: &str) -> Value {
    get_json("secret", Some(namespace), "px-k8s-user").expect("the token Secret")["metadata"]["resourceVersion"].clone()
}

#[test]
fn a_tenant_that_owns_several_namespaces_has_one_identity_in_all() {
    let px_ns = TestNamespace::new("px-multi");
    let px = install_operator_style(&px_ns, Some("multi.io"));
    let (a, a_dev, a_test) =
        (TestNamespace::new("multi-a"), TestNamespace::new("multi-dev"), TestNamespace::new("multi-test"));
    // Onboarded in one namespace before: that subject becomes the tenant's in every namespace.
    pxtoken("admin").args(["tenant", &a_dev, "--px-namespace", &px_ns]).succeeds();
    let sub = stored_token_claims(&a_dev, &px).1["sub"].as_str().unwrap().to_owned();

    let out = pxtoken("admin").args(["tenant", &a, &a_dev, &a_test, "--px-namespace", &px_ns]).succeeds();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "one line per namespace:\n{out}");
    for (line, namespace, outcome) in
        [(lines[0], &a, "created"), (lines[1], &a_dev, "configured"), (lines[2], &a_test, "created")]
    {
        let start = format!("secret/px-k8s-user {outcome} in {namespace} (sub {sub}, expires ");
        assert!(line.starts_with(&start), "{line}");
    }
    for namespace in [&a, &a_dev, &a_test] {
        let (_, claims) = stored_token_claims(namespace, &px);
        assert_eq!(claims["sub"], sub.as_str(), "{namespace}");
        // One tenant, named after its first namespace everywhere.
        assert_eq!(
            (claims["name"].as_str(), claims["email"].as_str()),
            (Some(a.name()), Some(&*format!("{a}@multi.io")))
        );
    }

    // A new tenant's namespaces share one new subject, never another tenant's.
    let (b, b_dev) = (TestNamespace::new("multi-b"), TestNamespace::new("multi-b-dev"));
    pxtoken("admin").args(["tenant", &b, &b_dev, "--px-namespace", &px_ns]).succeeds();
    let (b_sub, b_dev_sub) =
        (stored_token_claims(&b, &px).1["sub"].clone(), stored_token_claims(&b_dev, &px).1["sub"].clone());
    assert_eq!(b_sub, b_dev_sub);
    assert_ne!(b_sub, sub.as_str());
    assert_eq!(b_sub.as_str().unwrap().len(), 36, "a UUID: {b_sub}");

    // Printed, the Secrets are separate YAML documents that kubectl accepts.
    let yaml = pxtoken("admin")
        .args(["tenant", &b, &b_dev, "--px-namespace", &px_ns, "--dry-run=client", "-o", "yaml"])
        .succeeds();
    let applied = kubectl("admin").args(["apply", "--dry-run=client", "-f", "-"]).run_with_input(&yaml).success();
    assert_eq!(applied.lines().count(), 2, "{yaml}\n{applied}");
}

#[test]
fn namespaces_holding_two_subjects_are_refused_and_nothing_is_written() {
    let px_ns = TestNamespace::new("px-clash");
    let px = install_operator_style(&px_ns, Some("clash.io"));
    let (a, b, c) = (TestNamespace::new("clash-a"), TestNamespace::new("clash-b"), TestNamespace::new("clash-c"));
    pxtoken("admin").args(["tenant", &a, "--px-namespace", &px_ns, "--sub", "owner-a"]).succeeds();
    pxtoken("admin").args(["tenant", &b, "--px-namespace", &px_ns, "--sub", "owner-b"]).succeeds();
    let before = (token_secret_version(&a), token_secret_version(&b));

    let run = pxtoken("admin").args(["tenant", &a, &b, &c, "--px-namespace", &px_ns]).run();
    assert_eq!(run.code, Some(1), "{run}");
    assert_eq!(run.stdout, "", "{run}");
    assert_eq!(
        run.stderr,
        format!(
            "error: the tenant's namespaces hold tokens of two subjects, \"owner-a\" in {a} and \"owner-b\" in {b}; nothing was written: pass the one to keep with --sub (or sub: in the --from-file entry); volumes owned by the other stay with it\n"
        )
    );
    assert_eq!((token_secret_version(&a), token_secret_version(&b)), before, "nothing was written");
    assert!(!secret_exists(&c, "px-k8s-user"), "nothing was created");

    // The user chooses with --sub: every namespace gets it, and the one replaced is named.
    let run = pxtoken("admin").args(["tenant", &a, &b, &c, "--px-namespace", &px_ns, "--sub", "owner-a"]).run();
    assert_eq!(run.code, Some(0), "{run}");
    assert_eq!(run.stdout.lines().count(), 3, "{run}");
    assert_eq!(run.stderr.lines().count(), 1, "{run}");
    assert!(
        run.stderr.starts_with(&format!("warning: {b}: the tenant's subject changed from \"owner-b\" to \"owner-a\"")),
        "{run}"
    );
    for namespace in [&a, &b, &c] {
        assert_eq!(stored_token_claims(namespace, &px).1["sub"], "owner-a", "{namespace}");
    }

    let run = pxtoken("admin").args(["tenant", &a, &b, &a, "--px-namespace", &px_ns]).run();
    assert_eq!(run.code, Some(2), "{run}");
    assert_eq!(run.stderr, format!("error: namespace \"{a}\" is given twice\n"));
}

#[test]
fn a_missing_namespace_stops_a_tenant_of_several_before_any_is_written() {
    let px_ns = TestNamespace::new("px-gone");
    let px = install_operator_style(&px_ns, Some("gone.io"));
    let (a, b) = (TestNamespace::new("gone-a"), TestNamespace::unused("gone-b"));

    // b comes second: the server's check of its write fails before a's is made.
    let run = pxtoken("admin").args(["tenant", &a, &b, "--px-namespace", &px_ns]).run();
    assert_eq!(run.code, Some(1), "{run}");
    assert_eq!(run.stdout, "", "{run}");
    assert_eq!(run.stderr, format!("error: namespace \"{b}\" not found: create it first or pass --create-namespace\n"));
    assert!(!secret_exists(&a, "px-k8s-user"), "nothing was written in {a}");

    let out = pxtoken("admin").args(["tenant", &a, &b, "--px-namespace", &px_ns, "--create-namespace"]).succeeds();
    assert_eq!(out.lines().count(), 2, "{out}");
    assert_eq!(stored_token_claims(&a, &px).1["sub"], stored_token_claims(&b, &px).1["sub"]);
}

#[test]
fn from_file_entries_may_list_a_tenants_namespaces() {
    let px_ns = TestNamespace::new("px-list");
    let px = install_operator_style(&px_ns, Some("list.io"));
    let (x, x_dev, y) = (TestNamespace::new("list-x"), TestNamespace::new("list-x-dev"), TestNamespace::new("list-y"));
    pxtoken("admin").args(["tenant", &x_dev, "--px-namespace", &px_ns]).succeeds();
    let x_sub = stored_token_claims(&x_dev, &px).1["sub"].clone();
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("tenants.yaml");
    std::fs::write(&list, format!("- namespaces: [{x}, {x_dev}]\n  name: Team X\n- namespace: {y}\n")).unwrap();

    let out = pxtoken("admin").args(["tenant", "--px-namespace", &px_ns, "--from-file"]).arg(&list).succeeds();
    assert_eq!(out.lines().count(), 3, "one line per namespace:\n{out}");
    for namespace in [&x, &x_dev] {
        let (_, claims) = stored_token_claims(namespace, &px);
        assert_eq!((&claims["sub"], claims["name"].as_str()), (&x_sub, Some("Team X")), "{namespace}");
    }
    assert_ne!(stored_token_claims(&y, &px).1["sub"], x_sub);

    // An entry whose namespaces hold two subjects fails alone, naming them; nothing is written.
    let before = (token_secret_version(&x), token_secret_version(&y));
    std::fs::write(&list, format!("- namespaces: [{x}, {y}]\n")).unwrap();
    let run = pxtoken("admin").args(["tenant", "--px-namespace", &px_ns, "--from-file"]).arg(&list).run();
    assert_eq!(run.code, Some(1), "{run}");
    let errors: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(errors.len(), 2, "{run}");
    assert!(
        errors[0].starts_with(&format!("error: {x}, {y}: the tenant's namespaces hold tokens of two subjects")),
        "{run}"
    );
    assert_eq!(errors[1], "error: 1 of 1 tenants failed (see above): fix them and run the same command again");
    assert_eq!((token_secret_version(&x), token_secret_version(&y)), before);
}
