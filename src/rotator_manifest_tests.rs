use super::*;

fn options() -> RotatorOptions {
    RotatorOptions::new(SharedSecretRef::new("portworx", "px-shared-secret", "shared-secret"), "operator.portworx.io")
}

/// (apiGroups, resources, verbs, resourceNames) of each rule.
type RuleView = (Vec<String>, Vec<String>, Vec<String>, Option<Vec<String>>);

fn rules(rules: &Option<Vec<PolicyRule>>) -> Vec<RuleView> {
    let rules = rules.as_ref().expect("rules");
    rules
        .iter()
        .map(|r| {
            (r.api_groups.clone().unwrap(), r.resources.clone().unwrap(), r.verbs.clone(), r.resource_names.clone())
        })
        .collect()
}

fn s(items: &[&str]) -> Vec<String> {
    items.iter().map(|i| (*i).to_owned()).collect()
}

fn tenant_rules() -> Vec<RuleView> {
    vec![
        (s(&[""]), s(&["secrets"]), s(&["get", "list", "update"]), None),
        (s(&[""]), s(&["events"]), s(&["create"]), None),
    ]
}

fn subject_of(binding: &RoleBinding) -> (String, String, Option<String>) {
    let subjects = binding.subjects.as_ref().unwrap();
    assert_eq!(subjects.len(), 1);
    (subjects[0].kind.clone(), subjects[0].name.clone(), subjects[0].namespace.clone())
}

#[test]
fn defaults_run_in_the_key_namespace_with_cluster_wide_secret_access() {
    let manifest = build_rotator_manifest(&options()).unwrap();
    assert_eq!(manifest.service_account.metadata.namespace.as_deref(), Some("portworx"));
    assert_eq!(manifest.cron_job.metadata.namespace.as_deref(), Some("portworx"));
    assert_eq!(
        manifest.names(),
        s(&[
            "serviceaccount/pxtoken-rotator",
            "role.rbac.authorization.k8s.io/pxtoken-rotator-key",
            "rolebinding.rbac.authorization.k8s.io/pxtoken-rotator-key",
            "clusterrole.rbac.authorization.k8s.io/pxtoken-rotator",
            "clusterrolebinding.rbac.authorization.k8s.io/pxtoken-rotator",
            "cronjob.batch/pxtoken-rotator",
        ])
    );
}

#[test]
fn key_secret_is_readable_by_name_only() {
    let mut options = options();
    options.namespace = Some("pxtoken".into());
    let manifest = build_rotator_manifest(&options).unwrap();
    assert_eq!(manifest.key_role.metadata.namespace.as_deref(), Some("portworx"));
    assert_eq!(
        rules(&manifest.key_role.rules),
        vec![(s(&[""]), s(&["secrets"]), s(&["get"]), Some(s(&["px-shared-secret"])))]
    );
    let binding = &manifest.key_role_binding;
    assert_eq!(binding.metadata.namespace.as_deref(), Some("portworx"));
    assert_eq!((binding.role_ref.kind.as_str(), binding.role_ref.name.as_str()), ("Role", "pxtoken-rotator-key"));
    assert_eq!(
        subject_of(binding),
        ("ServiceAccount".into(), "pxtoken-rotator".into(), Some("pxtoken".into())),
        "the binding names the ServiceAccount in the rotator's namespace, not the key's"
    );
}

#[test]
fn cluster_wide_rules_are_exactly_secrets_and_event_creation() {
    let manifest = build_rotator_manifest(&options()).unwrap();
    let SecretsAccess::ClusterWide { role, binding } = &manifest.secrets else { panic!("cluster-wide expected") };
    assert_eq!(rules(&role.rules), tenant_rules());
    assert_eq!(role.aggregation_rule, None);
    assert_eq!(binding.role_ref.kind, "ClusterRole");
    assert_eq!(binding.role_ref.name, "pxtoken-rotator");
    assert_eq!(binding.role_ref.api_group.as_deref(), Some("rbac.authorization.k8s.io"));
    let subjects = binding.subjects.as_ref().unwrap();
    assert_eq!(subjects.len(), 1);
    assert_eq!(
        (subjects[0].kind.as_str(), subjects[0].name.as_str(), subjects[0].namespace.as_deref()),
        ("ServiceAccount", "pxtoken-rotator", Some("portworx"))
    );
}

#[test]
fn tenant_namespaces_get_one_role_each_and_no_cluster_role() {
    let mut options = options();
    options.tenant_namespaces = s(&["team-b", "team-a", "team-b"]);
    let manifest = build_rotator_manifest(&options).unwrap();
    let SecretsAccess::PerNamespace(pairs) = &manifest.secrets else { panic!("per-namespace expected") };
    let namespaces: Vec<_> = pairs.iter().map(|(role, _)| role.metadata.namespace.clone().unwrap()).collect();
    assert_eq!(namespaces, s(&["team-a", "team-b"]), "sorted, each once");
    for (role, binding) in pairs {
        assert_eq!(rules(&role.rules), tenant_rules());
        assert_eq!(binding.metadata.namespace, role.metadata.namespace);
        assert_eq!((binding.role_ref.kind.as_str(), binding.role_ref.name.as_str()), ("Role", "pxtoken-rotator"));
        assert_eq!(subject_of(binding), ("ServiceAccount".into(), "pxtoken-rotator".into(), Some("portworx".into())));
    }
    assert!(!manifest.names().iter().any(|n| n.starts_with("cluster")), "{:?}", manifest.names());
    let args =
        manifest.cron_job.spec.job_template.spec.unwrap().template.spec.unwrap().containers[0].args.clone().unwrap();
    assert_eq!(&args[args.len() - 2..], &s(&["team-a", "team-b"]));
    assert!(!args.contains(&"-A".to_owned()));
}

#[test]
fn cron_job_runs_rotate_once_at_a_time_as_non_root() {
    let mut options = options();
    options.schedule = "0 */6 * * *".parse().unwrap();
    options.expiring_within = "7d".parse().unwrap();
    options.image = "registry.example.com/pxtoken:dev".into();
    let manifest = build_rotator_manifest(&options).unwrap();
    let spec = manifest.cron_job.spec;
    assert_eq!(spec.schedule, "0 */6 * * *");
    assert_eq!(spec.time_zone.as_deref(), Some("UTC"));
    assert_eq!(spec.concurrency_policy.as_deref(), Some("Forbid"));
    assert_eq!((spec.successful_jobs_history_limit, spec.failed_jobs_history_limit), (Some(3), Some(3)));
    let job = spec.job_template.spec.unwrap();
    assert_eq!(job.backoff_limit, Some(2));
    assert_eq!(job.active_deadline_seconds, Some(1800));
    let pod = job.template.spec.unwrap();
    assert_eq!(pod.service_account_name.as_deref(), Some("pxtoken-rotator"));
    assert_eq!(pod.automount_service_account_token, Some(true));
    assert_eq!(pod.restart_policy.as_deref(), Some("Never"));
    let pod_security = pod.security_context.unwrap();
    assert_eq!(pod_security.run_as_non_root, Some(true));
    assert_eq!((pod_security.run_as_user, pod_security.run_as_group), (Some(65532), Some(65532)));
    assert_eq!(pod_security.seccomp_profile.unwrap().type_, "RuntimeDefault");
    assert_eq!(pod.containers.len(), 1);
    let container = &pod.containers[0];
    assert_eq!(container.image.as_deref(), Some("registry.example.com/pxtoken:dev"));
    assert_eq!(container.command, None, "the image's entrypoint is kubectl-pxtoken");
    assert_eq!(
        container.args.clone().unwrap(),
        s(&[
            "rotate",
            "--expiring-within=7d",
            "--shared-secret-ref=portworx/px-shared-secret:shared-secret",
            "--issuer=operator.portworx.io",
            "-A",
        ])
    );
    let security = container.security_context.clone().unwrap();
    assert_eq!(security.allow_privilege_escalation, Some(false));
    assert_eq!(security.read_only_root_filesystem, Some(true));
    assert_eq!(security.run_as_non_root, Some(true));
    assert_eq!(security.capabilities.unwrap().drop, Some(s(&["ALL"])));
    assert_eq!(security.seccomp_profile.unwrap().type_, "RuntimeDefault");
    assert_eq!(security.privileged, None);
    let resources = container.resources.clone().unwrap();
    assert_eq!(resources.requests.unwrap()["memory"].0, "32Mi");
    assert_eq!(resources.limits.unwrap()["memory"].0, "64Mi");
    assert!(container.env.is_none() && pod.volumes.is_none(), "no kubeconfig, no mounted files beyond the token");
}

#[test]
fn defaults_name_the_projects_image_and_a_daily_schedule() {
    let options = options();
    assert_eq!(options.image, format!("ghcr.io/kubectl-pxtoken/kubectl-pxtoken:{}", env!("CARGO_PKG_VERSION")));
    assert_eq!(options.schedule.as_str(), "17 3 * * *");
    assert_eq!(options.expiring_within.to_string(), "30d");
    assert_eq!(options.namespace, None);
}

#[test]
fn bad_input_is_refused_before_anything_is_built() {
    type Change = fn(&mut RotatorOptions);
    let cases: Vec<(Change, &str)> = vec![
        (|o| o.namespace = Some("Kube_System".into()), "invalid namespace \"Kube_System\""),
        (|o| o.tenant_namespaces = s(&["ok", "-bad"]), "invalid tenant namespace \"-bad\""),
        (|o| o.name = "Rotator".into(), "invalid rotator name \"Rotator\""),
        (|o| o.key.key = "a/b".into(), "invalid key Secret key \"a/b\""),
        (|o| o.key.namespace = None, "names no namespace"),
        (|o| o.issuer = " ".into(), "the issuer is empty"),
        (|o| o.image = "".into(), "invalid image \"\": it is empty"),
        (|o| o.image = "a b".into(), "it contains whitespace"),
    ];
    for (change, message) in cases {
        let mut options = options();
        change(&mut options);
        let err = build_rotator_manifest(&options).unwrap_err().to_string();
        assert!(err.contains(message), "{err} should contain {message}");
    }
}

#[test]
fn yaml_stream_parses_back_into_the_same_objects() {
    let mut options = options();
    options.tenant_namespaces = s(&["team-a"]);
    let manifest = build_rotator_manifest(&options).unwrap();
    let yaml = manifest.to_yaml().unwrap();
    assert_eq!(yaml.matches("\n---\n").count(), 5, "six documents:\n{yaml}");
    assert!(yaml.starts_with("apiVersion: v1\nkind: ServiceAccount\n"), "{yaml}");
    let docs: Vec<&str> = yaml.split("\n---\n").collect();
    let service_account: ServiceAccount = serde_saphyr::from_str(docs[0]).unwrap();
    let key_role: Role = serde_saphyr::from_str(docs[1]).unwrap();
    let key_binding: RoleBinding = serde_saphyr::from_str(docs[2]).unwrap();
    let tenant_role: Role = serde_saphyr::from_str(docs[3]).unwrap();
    let tenant_binding: RoleBinding = serde_saphyr::from_str(docs[4]).unwrap();
    let cron_job: CronJob = serde_saphyr::from_str(docs[5]).unwrap();
    assert_eq!(service_account, manifest.service_account);
    assert_eq!(key_role, manifest.key_role);
    assert_eq!(key_binding, manifest.key_role_binding);
    assert_eq!(SecretsAccess::PerNamespace(vec![(tenant_role, tenant_binding)]), manifest.secrets);
    assert_eq!(cron_job, manifest.cron_job);
    let all: Vec<serde_json::Value> = serde_saphyr::from_multiple(&yaml).unwrap();
    let kinds: Vec<_> = all.iter().map(|doc| doc["kind"].as_str().unwrap().to_owned()).collect();
    assert_eq!(kinds, s(&["ServiceAccount", "Role", "RoleBinding", "Role", "RoleBinding", "CronJob"]));
}

#[test]
fn json_is_a_v1_list_of_the_same_objects() {
    let manifest = build_rotator_manifest(&options()).unwrap();
    let list: serde_json::Value = serde_json::from_str(&manifest.to_json().unwrap()).unwrap();
    assert_eq!((list["apiVersion"].as_str(), list["kind"].as_str()), (Some("v1"), Some("List")));
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 6);
    let role: ClusterRole = serde_json::from_value(items[3].clone()).unwrap();
    let SecretsAccess::ClusterWide { role: built, .. } = &manifest.secrets else { panic!() };
    assert_eq!(&role, built.as_ref());
    let cron_job: CronJob = serde_json::from_value(items[5].clone()).unwrap();
    assert_eq!(cron_job, manifest.cron_job);
}

#[test]
fn schedules_starting_with_yaml_indicators_survive_the_round_trip() {
    for schedule in ["*/15 * * * *", "@daily", "? * * * *", "17 3 * * *"] {
        let mut options = options();
        options.schedule = schedule.parse().unwrap();
        let yaml = build_rotator_manifest(&options).unwrap().to_yaml().unwrap();
        let docs: Vec<serde_json::Value> = serde_saphyr::from_multiple(&yaml).unwrap();
        assert_eq!(docs[5]["spec"]["schedule"], schedule, "{yaml}");
    }
}

#[test]
fn flag_values_are_joined_so_none_reads_as_a_flag() {
    let mut options = options();
    options.issuer = "-jwt_issuer".into();
    let manifest = build_rotator_manifest(&options).unwrap();
    let pod = manifest.cron_job.spec.job_template.spec.unwrap().template.spec.unwrap();
    let args = pod.containers[0].args.clone().unwrap();
    assert!(args.contains(&"--issuer=-jwt_issuer".to_owned()), "{args:?}");
    assert!(args[1..].iter().all(|arg| arg.starts_with("--") && arg.contains('=') || arg == "-A"), "{args:?}");
}
