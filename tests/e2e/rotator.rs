//! `kubectl pxtoken rotator manifest`: the ServiceAccount, RBAC and CronJob that run `rotate` in
//! the cluster, accepted by the API server as printed, naming the key Secret and issuer that
//! discovery found without ever reading the key.
//!
//! Every apply here is a server dry run: nothing cluster-scoped is left behind, and each test
//! works in namespaces of its own (discovery is limited to them with `--px-namespace`).

use crate::support::*;
use serde_json::{Value, json};

/// `kubectl apply --dry-run=server -f -` of a manifest: kubectl's result lines.
fn server_dry_run(manifest: &str) -> String {
    kubectl("admin").args(["apply", "--dry-run=server", "-f", "-"]).run_with_input(manifest).success()
}

/// The items of `-o json` output (a v1 List), by `kind/namespace/name`.
fn items(list: &str) -> Vec<(String, Value)> {
    let list: Value = serde_json::from_str(list).expect("-o json prints JSON");
    assert_eq!(list["kind"], "List");
    let items = list["items"].as_array().expect("items").clone();
    items
        .into_iter()
        .map(|item| {
            let meta = &item["metadata"];
            let namespace = meta["namespace"].as_str().unwrap_or("-");
            (format!("{}/{namespace}/{}", item["kind"].as_str().unwrap(), meta["name"].as_str().unwrap()), item)
        })
        .collect()
}

fn cron_job(items: &[(String, Value)]) -> &Value {
    &items.iter().find(|(key, _)| key.starts_with("CronJob/")).expect("a CronJob").1
}

fn container_args(cron_job: &Value) -> &Value {
    &cron_job["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["args"]
}

#[test]
fn the_manifest_from_discovery_is_accepted_by_the_api_server() {
    let px = TestNamespace::new("px-rot");
    let install = install_operator_style(&px, Some("rotator.test"));
    let name = format!("rotator-{}", random_name_suffix());

    let yaml = pxtoken("admin").args(["rotator", "manifest", "--px-namespace", &px, "--name", &name]).succeeds();
    let applied = server_dry_run(&yaml);
    let expected = [
        format!("serviceaccount/{name} created (server dry run)"),
        format!("role.rbac.authorization.k8s.io/{name}-key created (server dry run)"),
        format!("rolebinding.rbac.authorization.k8s.io/{name}-key created (server dry run)"),
        format!("clusterrole.rbac.authorization.k8s.io/{name} created (server dry run)"),
        format!("clusterrolebinding.rbac.authorization.k8s.io/{name} created (server dry run)"),
        format!("cronjob.batch/{name} created (server dry run)"),
    ];
    assert_eq!(applied.lines().collect::<Vec<_>>(), expected);
    assert!(get_json("serviceaccount", Some(&px), &name).is_none(), "a dry run creates nothing");

    // The job gets the key Secret and the issuer discovery found, and runs next to the key.
    let json =
        pxtoken("admin").args(["rotator", "manifest", "--px-namespace", &px, "--name", &name, "-o", "json"]).succeeds();
    let items = items(&json);
    let keys: Vec<&str> = items.iter().map(|(key, _)| key.as_str()).collect();
    assert_eq!(
        keys,
        [
            format!("ServiceAccount/{px}/{name}"),
            format!("Role/{px}/{name}-key"),
            format!("RoleBinding/{px}/{name}-key"),
            format!("ClusterRole/-/{name}"),
            format!("ClusterRoleBinding/-/{name}"),
            format!("CronJob/{px}/{name}"),
        ]
    );
    assert_eq!(
        container_args(cron_job(&items)),
        &json!([
            "rotate",
            "--expiring-within=30d",
            format!("--shared-secret-ref={}", install.secret_ref()),
            "--issuer=rotator.test",
            "-A",
        ])
    );
    let key_role = &items[1].1;
    assert_eq!(
        key_role["rules"],
        json!([{"apiGroups": [""], "resources": ["secrets"], "resourceNames": ["px-shared-secret"], "verbs": ["get"]}])
    );
}

#[test]
fn printing_the_manifest_never_reads_the_key() {
    // A user who may find the install but not read any Secret still gets the manifest.
    let px = TestNamespace::new("px-rot-nokey");
    let install = install_operator_style(&px, None);
    let user = cluster().new_user("rotator-printer");
    grant(&user, &px, &["get", "list"], &["storageclusters.core.libopenstorage.org"]);
    let can_read = kubectl("admin").args(["auth", "can-i", "get", "secrets", "-n", &px, "--as", &user]).run();
    assert_eq!(can_read.stdout.trim(), "no", "the test needs a user who cannot read the key");

    let run = pxtoken(&user).args(["rotator", "manifest", "--px-namespace", &px, "-o", "json", "-v", "9"]).run();
    assert_eq!(run.code, Some(0), "{run}");
    let items = items(&run.stdout);
    let args = container_args(cron_job(&items));
    assert_eq!(args[2], format!("--shared-secret-ref={}", install.secret_ref()));
    assert_eq!(args[3], "--issuer=operator.portworx.io");
    assert!(!run.stdout.contains(&install.shared_secret) && !run.stderr.contains(&install.shared_secret), "{run}");
    assert!(!run.stderr.contains("/secrets"), "no Secret was requested:\n{}", run.stderr);
}

#[test]
fn its_own_namespace_and_listed_tenants_only() {
    let rotator = TestNamespace::new("rotator");
    let (team_a, team_b) = (TestNamespace::new("rot-team-a"), TestNamespace::new("rot-team-b"));
    let key = "kube-system/pxkeys:shared-secret";
    let args = [
        "rotator",
        "manifest",
        "-n",
        rotator.name(),
        "--tenant-namespaces",
        &format!("{team_b},{team_a}"),
        "--shared-secret-ref",
        key,
        "--issuer",
        "portworx.com",
        "--schedule",
        "@hourly",
        "--expiring-within",
        "60d",
    ];
    // Key and issuer given: no cluster is needed to print it.
    let yaml = pxtoken("alice").args(args).env("KUBECONFIG", "/nonexistent/kubeconfig").succeeds();
    let applied = server_dry_run(&yaml);
    assert_eq!(applied.lines().count(), 8, "{applied}");
    assert!(!applied.contains("clusterrole"), "per-namespace Roles only:\n{applied}");

    let items = items(&pxtoken("alice").args(args).args(["-o", "json"]).env("KUBECONFIG", "/nonexistent").succeeds());
    let keys: Vec<&str> = items.iter().map(|(key, _)| key.as_str()).collect();
    let (a, b, ns) = (team_a.name(), team_b.name(), rotator.name());
    assert_eq!(
        keys,
        [
            format!("ServiceAccount/{ns}/pxtoken-rotator"),
            "Role/kube-system/pxtoken-rotator-key".to_owned(),
            "RoleBinding/kube-system/pxtoken-rotator-key".to_owned(),
            format!("Role/{a}/pxtoken-rotator"),
            format!("RoleBinding/{a}/pxtoken-rotator"),
            format!("Role/{b}/pxtoken-rotator"),
            format!("RoleBinding/{b}/pxtoken-rotator"),
            format!("CronJob/{ns}/pxtoken-rotator"),
        ]
    );
    let cron_job = cron_job(&items);
    assert_eq!(cron_job["spec"]["schedule"], "@hourly");
    assert_eq!(
        container_args(cron_job),
        &json!([
            "rotate",
            "--expiring-within=60d",
            format!("--shared-secret-ref={key}"),
            "--issuer=portworx.com",
            a,
            b
        ])
    );
}

#[test]
fn an_issuer_that_cannot_be_found_is_one_error_naming_the_flag() {
    // Only the documented Secret, no DaemonSet or StorageCluster that names the issuer.
    let px = TestNamespace::new("px-rot-noiss");
    apply_yaml(
        &json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "pxkeys", "namespace": px.name()},
                "stringData": {"shared-secret": random_secret()}})
        .to_string(),
    );
    let run = pxtoken("admin").args(["rotator", "manifest", "--px-namespace", &px]).run();
    assert_eq!(run.code, Some(1), "{run}");
    assert_eq!(run.stdout, "");
    assert_eq!(run.stderr.lines().count(), 1, "{run}");
    assert!(
        run.stderr.starts_with(&format!(
            "error: cannot tell which issuer Portworx trusts (key from secret {px}/pxkeys:shared-secret; looked at "
        )),
        "{run}"
    );
    assert!(run.stderr.ends_with(": pass --issuer with the value of the nodes' -jwt_issuer\n"), "{run}");

    let json = pxtoken("admin")
        .args(["rotator", "manifest", "--px-namespace", &px, "--issuer", "portworx.com", "-o", "json"])
        .succeeds();
    let items = items(&json);
    let args = container_args(cron_job(&items));
    assert_eq!(args[2], format!("--shared-secret-ref={px}/pxkeys:shared-secret"));
    assert_eq!(args[3], "--issuer=portworx.com");
}

#[test]
fn bad_input_is_refused_before_any_request() {
    let given = ["--shared-secret-ref", "kube-system/pxkeys:shared-secret", "--issuer", "portworx.com"];
    for (args, code, expected) in [
        (
            &["--schedule", "61 * * * *"][..],
            2,
            "error: invalid value '61 * * * *' for '--schedule <CRON>': invalid schedule",
        ),
        (&["--expiring-within", "30 days"], 2, "error: invalid value '30 days' for '--expiring-within <DURATION>'"),
        (
            &["--tenant-namespaces", "team-a,Team_B"],
            2,
            "error: invalid --tenant-namespaces \"Team_B\": a lowercase RFC 1123 label",
        ),
        (&["--image", ""], 2, "error: invalid --image \"\": must not be empty"),
        (&["--image", "repo/px:1\n"], 2, "error: invalid --image \"repo/px:1\\n\": an image reference has no spaces"),
        (&["--name", "Rotator"], 2, "error: invalid --name \"Rotator\": a lowercase RFC 1123 subdomain"),
        (&["-n", "Bad_NS"], 2, "error: invalid --namespace \"Bad_NS\""),
        (&["-o", "wide"], 2, "error: invalid value 'wide' for '--output <FORMAT>'"),
    ] {
        let run = pxtoken("alice")
            .args(["rotator", "manifest"])
            .args(given)
            .args(args)
            .env("KUBECONFIG", "/nonexistent/kubeconfig")
            .run();
        run.assert_one_error_line(code, expected);
    }
}

#[test]
fn a_bare_rotator_shows_its_help() {
    let out = pxtoken("alice").arg("rotator").succeeds();
    assert!(out.starts_with("Run token rotation inside the cluster on a schedule\n"), "{out}");
    assert!(out.contains("Usage: kubectl pxtoken rotator") && out.contains("  manifest  "), "{out}");
}
