use super::*;

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

fn params(class: &StorageClass) -> BTreeMap<String, String> {
    class.parameters.clone().unwrap()
}

#[test]
fn csi_class_wires_all_three_secrets_to_the_pvc_namespace() {
    let class = build_storage_class(&StorageClassOptions::new("px-tenant")).unwrap();
    assert_eq!(class.metadata.name.as_deref(), Some("px-tenant"));
    assert_eq!(class.provisioner, "pxd.portworx.com");
    assert_eq!(
        params(&class),
        map(&[
            ("csi.storage.k8s.io/provisioner-secret-name", "px-k8s-user"),
            ("csi.storage.k8s.io/provisioner-secret-namespace", "${pvc.namespace}"),
            ("csi.storage.k8s.io/node-publish-secret-name", "px-k8s-user"),
            ("csi.storage.k8s.io/node-publish-secret-namespace", "${pvc.namespace}"),
            ("csi.storage.k8s.io/controller-expand-secret-name", "px-k8s-user"),
            ("csi.storage.k8s.io/controller-expand-secret-namespace", "${pvc.namespace}"),
        ])
    );
    assert_eq!(class.reclaim_policy.as_deref(), Some("Delete"));
    assert_eq!(class.allow_volume_expansion, Some(false));
    assert_eq!(class.volume_binding_mode, None);
    assert_eq!(class.metadata.annotations, None, "not the default class unless asked");
}

#[test]
fn in_tree_class_uses_openstorage_keys_and_extra_params() {
    let mut options = StorageClassOptions::new("px-in-tree");
    options.driver = Driver::InTree;
    options.secret_name = "px-user-token".into();
    options.params = vec![parse_param("repl=3").unwrap(), parse_param("io_profile=db_remote").unwrap()];
    let class = build_storage_class(&options).unwrap();
    assert_eq!(class.provisioner, "kubernetes.io/portworx-volume");
    assert_eq!(
        params(&class),
        map(&[
            ("openstorage.io/auth-secret-name", "px-user-token"),
            ("openstorage.io/auth-secret-namespace", "${pvc.namespace}"),
            ("repl", "3"),
            ("io_profile", "db_remote"),
        ])
    );
}

#[test]
fn a_tenant_pins_one_namespace_and_the_rest_is_as_asked() {
    let mut options = StorageClassOptions::new("team-a-db");
    options.tenant = Some("team-a".into());
    options.reclaim_policy = "Retain".parse().unwrap();
    options.allow_volume_expansion = true;
    options.default_class = true;
    let class = build_storage_class(&options).unwrap();
    let namespaces: Vec<_> =
        params(&class).into_iter().filter(|(k, _)| k.ends_with("-secret-namespace")).map(|(_, v)| v).collect();
    assert_eq!(namespaces, vec!["team-a"; 3]);
    assert_eq!(class.reclaim_policy.as_deref(), Some("Retain"));
    assert_eq!(class.allow_volume_expansion, Some(true));
    assert_eq!(class.metadata.annotations, Some(map(&[("storageclass.kubernetes.io/is-default-class", "true")])));
}

#[test]
fn malformed_reserved_and_repeated_params_are_refused() {
    for bad in ["repl", "=3", "repl=", "re pl=3", "", "repl= ", "repl=3\n", "io\u{1b}[1m=db", "label=a\tb"] {
        assert_eq!(parse_param(bad), Err(StorageClassError::MalformedParam { input: bad.into() }), "{bad:?}");
    }
    assert_eq!(parse_param("label=a=b").unwrap(), ("label".into(), "a=b".into()), "only the first = splits");
    for key in [
        "csi.storage.k8s.io/provisioner-secret-name",
        "csi.storage.k8s.io/node-publish-secret-namespace",
        "csi.storage.k8s.io/node-stage-secret-name",
        "csi.storage.k8s.io/controller-publish-secret-namespace",
        "openstorage.io/auth-secret-name",
        "openstorage.io/auth-secret-namespace",
    ] {
        for driver in [Driver::Csi, Driver::InTree] {
            let mut options = StorageClassOptions::new("c");
            options.driver = driver;
            options.params = vec![(key.into(), "x".into())];
            assert_eq!(build_storage_class(&options), Err(StorageClassError::ReservedParam { key: key.into() }));
        }
    }
    let mut options = StorageClassOptions::new("c");
    options.params = vec![("csi.storage.k8s.io/fstype".into(), "xfs".into())];
    assert!(build_storage_class(&options).is_ok(), "other csi.storage.k8s.io keys pass through");
    options.params = vec![("repl".into(), "2".into()), ("repl".into(), "3".into())];
    assert_eq!(build_storage_class(&options), Err(StorageClassError::DuplicateParam { key: "repl".into() }));
}

#[test]
fn names_and_reclaim_policy_are_checked() {
    type Change = fn(&mut StorageClassOptions);
    let cases: Vec<(Change, &str)> = vec![
        (|o| o.name = "Fast_SSD".into(), "invalid StorageClass name \"Fast_SSD\""),
        (|o| o.secret_name = "".into(), "invalid secret name \"\""),
        (|o| o.tenant = Some("team.a".into()), "invalid tenant namespace \"team.a\""),
    ];
    for (change, message) in cases {
        let mut options = StorageClassOptions::new("c");
        change(&mut options);
        let err = build_storage_class(&options).unwrap_err().to_string();
        assert!(err.starts_with(message), "{err}");
    }
    let err = "delete".parse::<ReclaimPolicy>().unwrap_err().to_string();
    assert_eq!(err, "invalid reclaim policy \"delete\": expected Delete or Retain");
}

#[test]
fn immutable_differences_name_each_field_with_server_defaults_applied() {
    let wanted = build_storage_class(&StorageClassOptions::new("c")).unwrap();
    let mut same = wanted.clone();
    same.reclaim_policy = None;
    same.volume_binding_mode = Some("Immediate".into());
    assert_eq!(immutable_differences(&same, &wanted), vec![], "unset fields read as the server's defaults");

    let mut other = wanted.clone();
    other.provisioner = IN_TREE_PROVISIONER.into();
    other.reclaim_policy = Some("Retain".into());
    other.volume_binding_mode = Some("WaitForFirstConsumer".into());
    let parameters = other.parameters.as_mut().unwrap();
    parameters.insert("repl".into(), "2".into());
    parameters.insert("csi.storage.k8s.io/provisioner-secret-name".into(), "px-user-token".into());
    let fields: Vec<_> = immutable_differences(&other, &wanted).iter().map(ToString::to_string).collect();
    assert_eq!(
        fields,
        vec![
            "provisioner is \"kubernetes.io/portworx-volume\", wanted \"pxd.portworx.com\"",
            "parameters.csi.storage.k8s.io/provisioner-secret-name is \"px-user-token\", wanted \"px-k8s-user\"",
            "parameters.repl is \"2\", wanted unset",
            "reclaimPolicy is \"Retain\", wanted \"Delete\"",
            "volumeBindingMode is \"WaitForFirstConsumer\", wanted \"Immediate\"",
        ]
    );
    let err = ApplyError::Immutable { name: "c".into(), differences: immutable_differences(&other, &wanted) };
    let line = err.to_string();
    assert!(line.starts_with("storageclass \"c\" already exists with different settings"), "{line}");
    assert!(line.contains("parameters.repl is \"2\", wanted unset; reclaimPolicy"), "{line}");
    assert!(line.ends_with("; nothing was changed"), "{line}");
    assert!(!line.contains('\n'));
}

#[test]
fn mutable_fields_decide_between_unchanged_and_configured() {
    let wanted = build_storage_class(&StorageClassOptions::new("c")).unwrap();
    let mut existing = wanted.clone();
    existing.allow_volume_expansion = None;
    existing.metadata.resource_version = Some("7".into());
    assert!(mutable_fields_match(&existing, &wanted), "unset allowVolumeExpansion is false");
    existing.allow_volume_expansion = Some(true);
    assert!(!mutable_fields_match(&existing, &wanted));
    existing.allow_volume_expansion = Some(false);
    existing.metadata.annotations = Some(map(&[(DEFAULT_CLASS_ANNOTATION, "true")]));
    assert!(!mutable_fields_match(&existing, &wanted), "the default mark differs");
    existing.metadata.annotations = Some(map(&[(DEFAULT_CLASS_ANNOTATION, "false"), ("team", "a")]));
    assert!(mutable_fields_match(&existing, &wanted), "other annotations are not ours to judge");
}

#[test]
fn yaml_parses_back_with_strings_kept_strings() {
    let mut options = StorageClassOptions::new("c");
    options.default_class = true;
    options.params = vec![parse_param("repl=3").unwrap(), parse_param("sharedv4=true").unwrap()];
    let class = build_storage_class(&options).unwrap();
    let yaml = serde_saphyr::to_string(&class).unwrap();
    assert!(yaml.starts_with("apiVersion: storage.k8s.io/v1\nkind: StorageClass\n"), "{yaml}");
    let back: StorageClass = serde_saphyr::from_str(&yaml).unwrap();
    assert_eq!(back, class);
    let generic: serde_json::Value = serde_saphyr::from_str(&yaml).unwrap();
    assert_eq!(generic["parameters"]["repl"], "3", "a string, or the API server refuses the class:\n{yaml}");
    assert_eq!(generic["parameters"]["sharedv4"], "true");
    assert_eq!(generic["metadata"]["annotations"][DEFAULT_CLASS_ANNOTATION], "true");
}
