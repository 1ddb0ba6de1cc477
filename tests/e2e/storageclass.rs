//! `kubectl pxtoken storageclass`: a StorageClass whose volumes use the tenant Secret, printed for
//! `kubectl apply` or applied by the plugin, never changing an existing class behind the user's back.
//!
//! StorageClasses are cluster-scoped: every test names its own ([`TestStorageClass`]) and deletes
//! it at the end, so the tests stand alone in any order.

use crate::support::*;
use serde_json::{Value, json};

/// A StorageClass name of one test's own, deleted (if anything created it) when dropped.
struct TestStorageClass(String);

impl TestStorageClass {
    fn new(prefix: &str) -> TestStorageClass {
        TestStorageClass(format!("{prefix}-{}", random_name_suffix()))
    }

    /// The class as admin sees it, if it exists.
    fn get(&self) -> Option<Value> {
        get_json("storageclass", None, &self.0)
    }
}

impl Drop for TestStorageClass {
    fn drop(&mut self) {
        let _ = kubectl("admin").args(["delete", "storageclass", &self.0, "--ignore-not-found"]).run();
    }
}

impl std::ops::Deref for TestStorageClass {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

/// `kubectl apply --dry-run=server -f -` of `manifest`: the object as the API server would store it.
fn server_dry_run(manifest: &str) -> Value {
    let out = kubectl("admin").args(["apply", "--dry-run=server", "-o", "json", "-f", "-"]).run_with_input(manifest);
    serde_json::from_str(&out.success()).expect("kubectl apply -o json prints JSON")
}

fn resource_version(class: &Value) -> String {
    class["metadata"]["resourceVersion"].as_str().expect("a resourceVersion").to_owned()
}

#[test]
fn printed_csi_class_is_accepted_by_the_api_server_and_uses_each_pvc_namespace_secret() {
    let sc = TestStorageClass::new("px-csi");
    // Printing needs no cluster: a kubeconfig that does not exist does not matter.
    let yaml = pxtoken("alice")
        .args(["storageclass", &sc, "--param", "repl=3", "--param", "io_profile=db_remote"])
        .env("KUBECONFIG", "/nonexistent/kubeconfig")
        .succeeds();
    assert!(yaml.starts_with("apiVersion: storage.k8s.io/v1\nkind: StorageClass\n"), "{yaml}");

    let class = server_dry_run(&yaml);
    assert_eq!(class["provisioner"], "pxd.portworx.com");
    assert_eq!(
        class["parameters"],
        json!({
            "csi.storage.k8s.io/provisioner-secret-name": "px-k8s-user",
            "csi.storage.k8s.io/provisioner-secret-namespace": "${pvc.namespace}",
            "csi.storage.k8s.io/node-publish-secret-name": "px-k8s-user",
            "csi.storage.k8s.io/node-publish-secret-namespace": "${pvc.namespace}",
            "csi.storage.k8s.io/controller-expand-secret-name": "px-k8s-user",
            "csi.storage.k8s.io/controller-expand-secret-namespace": "${pvc.namespace}",
            "repl": "3",
            "io_profile": "db_remote",
        })
    );
    assert_eq!(class["reclaimPolicy"], "Delete");
    assert_eq!(class["allowVolumeExpansion"], false);
    let default_mark = &class["metadata"]["annotations"]["storageclass.kubernetes.io/is-default-class"];
    assert!(default_mark.is_null(), "not the default class: {class}");
    assert!(sc.get().is_none(), "a server dry run creates nothing");
}

#[test]
fn in_tree_class_for_one_tenant_names_that_tenant_secret_exactly() {
    let sc = TestStorageClass::new("px-intree");
    let out = pxtoken("alice")
        .args(["storageclass", &sc, "--in-tree", "--tenant", "team-a", "--secret-name", "team-a-token"])
        .args(["--reclaim-policy", "Retain", "--allow-volume-expansion", "--default", "-o", "json"])
        .succeeds();
    let class = server_dry_run(&out);
    assert_eq!(class["provisioner"], "kubernetes.io/portworx-volume");
    assert_eq!(
        class["parameters"],
        json!({"openstorage.io/auth-secret-name": "team-a-token", "openstorage.io/auth-secret-namespace": "team-a"})
    );
    assert_eq!(class["reclaimPolicy"], "Retain");
    assert_eq!(class["allowVolumeExpansion"], true);
    assert_eq!(class["metadata"]["annotations"]["storageclass.kubernetes.io/is-default-class"], "true");

    let name = pxtoken("alice").args(["storageclass", &sc, "-o", "name"]).succeeds();
    assert_eq!(name, format!("storageclass.storage.k8s.io/{}\n", &*sc));
}

#[test]
fn apply_creates_the_class_and_a_second_apply_changes_nothing() {
    let sc = TestStorageClass::new("px-apply");
    let apply = |extra: &[&str]| {
        pxtoken("admin").args(["storageclass", &sc, "--param", "repl=3", "--apply"]).args(extra).succeeds()
    };

    assert_eq!(
        apply(&["--dry-run=server"]),
        format!("storageclass.storage.k8s.io/{} created (server dry run)\n", &*sc)
    );
    assert!(sc.get().is_none(), "a server dry run creates nothing");

    assert_eq!(apply(&[]), format!("storageclass.storage.k8s.io/{} created\n", &*sc));
    let created = sc.get().expect("the class exists after --apply");
    assert_eq!(created["provisioner"], "pxd.portworx.com");
    assert_eq!(created["parameters"]["repl"], "3");
    assert_eq!(created["parameters"]["csi.storage.k8s.io/provisioner-secret-namespace"], "${pvc.namespace}");
    let managers = kubectl("admin")
        .args(["get", "storageclass", &sc, "--show-managed-fields", "-o"])
        .arg("jsonpath={range .metadata.managedFields[*]}{.manager}/{.operation} {end}")
        .succeeds();
    assert_eq!(managers.trim(), "kubectl-pxtoken/Apply", "server-side apply with its own field manager");

    assert_eq!(apply(&[]), format!("storageclass.storage.k8s.io/{} unchanged\n", &*sc));
    assert_eq!(resource_version(&sc.get().unwrap()), resource_version(&created), "a second --apply writes nothing");

    // allowVolumeExpansion may change; a dry run reports it and changes nothing.
    let expand = ["--allow-volume-expansion"];
    assert_eq!(
        apply(&["--allow-volume-expansion", "--dry-run=server"]),
        format!("storageclass.storage.k8s.io/{} configured (server dry run)\n", &*sc)
    );
    assert_eq!(resource_version(&sc.get().unwrap()), resource_version(&created));
    assert_eq!(apply(&expand), format!("storageclass.storage.k8s.io/{} configured\n", &*sc));
    let configured = sc.get().unwrap();
    assert_eq!(configured["allowVolumeExpansion"], true);
    assert_eq!(apply(&expand), format!("storageclass.storage.k8s.io/{} unchanged\n", &*sc));
    assert_eq!(resource_version(&sc.get().unwrap()), resource_version(&configured));
}

#[test]
fn changing_the_parameters_of_an_existing_class_is_refused_and_changes_nothing() {
    let sc = TestStorageClass::new("px-immutable");
    pxtoken("admin").args(["storageclass", &sc, "--param", "repl=3", "--apply"]).succeeds();
    let before = sc.get().unwrap();

    let run = pxtoken("admin").args(["storageclass", &sc, "--param", "repl=2", "--apply"]).run();
    assert_eq!(run.code, Some(1), "{run}");
    assert_eq!(run.stdout, "", "{run}");
    assert_eq!(
        run.stderr,
        format!(
            "error: storageclass \"{sc}\" already exists with different settings that Kubernetes does not allow to change (parameters.repl is \"3\", wanted \"2\"); nothing was changed: delete it first (kubectl delete storageclass {sc}; volumes it provisioned keep working) and apply again, or choose another name\n",
            sc = &*sc
        )
    );

    // Another driver, or a server dry run: the same refusal, one line.
    for extra in [&["--param", "repl=3", "--in-tree"][..], &["--param", "repl=2", "--dry-run=server"]] {
        let run = pxtoken("admin").args(["storageclass", &sc, "--apply"]).args(extra).run();
        assert_eq!(run.code, Some(1), "{run}");
        assert_eq!(run.stderr.lines().count(), 1, "{run}");
        assert!(run.stderr.starts_with(&format!("error: storageclass \"{}\" already exists", &*sc)), "{run}");
    }
    let run = pxtoken("admin").args(["storageclass", &sc, "--param", "repl=3", "--in-tree", "--apply"]).run();
    assert!(
        run.stderr.contains("provisioner is \"pxd.portworx.com\", wanted \"kubernetes.io/portworx-volume\""),
        "{run}"
    );

    let after = sc.get().unwrap();
    assert_eq!(resource_version(&after), resource_version(&before), "nothing was written");
    assert_eq!(after["parameters"], before["parameters"]);
}

#[test]
fn a_setting_another_tool_owns_is_refused_and_left_alone() {
    let sc = TestStorageClass::new("px-owned");
    // The class made with kubectl's own server-side apply, with volume expansion on.
    let yaml = pxtoken("admin").args(["storageclass", &sc, "--allow-volume-expansion"]).succeeds();
    kubectl("admin").args(["apply", "--server-side", "-f", "-"]).run_with_input(&yaml).success();
    let before = sc.get().unwrap();

    let run = pxtoken("admin").args(["storageclass", &sc, "--apply"]).run();
    assert_eq!(run.code, Some(1), "{run}");
    assert_eq!(run.stderr.lines().count(), 1, "{run}");
    assert!(
        run.stderr.starts_with(&format!("error: storageclass \"{}\" has settings managed by another tool", &*sc)),
        "{run}"
    );
    assert!(run.stderr.contains(&format!("(kubectl delete storageclass {})", &*sc)), "{run}");
    assert_eq!(resource_version(&sc.get().unwrap()), resource_version(&before));
}

#[test]
fn bad_input_fails_before_any_request() {
    // With --apply and a kubeconfig that does not exist: a request would fail differently.
    for (args, code, expected) in [
        (&["--param", "repl", "--apply"][..], 2, "error: invalid value 'repl' for '--param <KEY=VALUE>'"),
        (&["--param", "repl= ", "--apply"], 2, "error: invalid value 'repl= ' for '--param <KEY=VALUE>'"),
        (&["--param", "repl=3\u{1b}[0m"], 2, r"error: invalid value 'repl=3\u{1b}[0m' for '--param <KEY=VALUE>'"),
        (&["--reclaim-policy", "delete"], 2, "error: invalid value 'delete' for '--reclaim-policy <POLICY>'"),
        (&["--dry-run=server"], 2, "error: the following required arguments were not provided: --apply"),
        (
            &["--param", "repl=3", "--param", "repl=2", "--apply"],
            2,
            "error: parameter \"repl\" is given twice: give each --param key once",
        ),
        (
            &["--param", "csi.storage.k8s.io/node-stage-secret-name=other", "--apply"],
            2,
            "error: parameter \"csi.storage.k8s.io/node-stage-secret-name\" is part of the tenant Secret wiring",
        ),
        (&["--tenant", "Team_A", "--apply"], 2, "error: invalid --tenant \"Team_A\": a lowercase RFC 1123 label"),
        (&["--secret-name", "", "--apply"], 2, "error: invalid --secret-name \"\": a lowercase RFC 1123 subdomain"),
    ] {
        let run = pxtoken("alice")
            .args(["storageclass", "px-bad"])
            .args(args)
            .env("KUBECONFIG", "/nonexistent/kubeconfig")
            .run();
        run.assert_one_error_line(code, expected);
    }
}
