//! The tenant list as users write it: shapes, names, claims and errors, and property tests
//! that any text is refused cleanly and a written list reads back the same.

use proptest::prelude::*;

use super::*;
use crate::claims::tests::{identities, yaml_identity, yaml_like_text, yaml_quoted};

fn read(text: &str) -> Result<Vec<TenantEntry>, TenantListError> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.yaml");
    std::fs::write(&path, text).unwrap();
    read_tenant_list(&path)
}

#[test]
fn tenant_lists_parse_bare_or_wrapped() {
    let list = read("- namespace: a\n- namespace: b\n  name: Team B\n  groups: [x]\n  secretName: tok\n").unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[1].identity.name.as_deref(), Some("Team B"));
    assert_eq!(list[1].secret_name.as_deref(), Some("tok"));
    assert_eq!(read("tenants:\n  - namespace: a\n").unwrap().len(), 1);
    assert!(matches!(read("- namespace: a\n- namespace: a\n"), Err(TenantListError::Duplicate { .. })));
    assert!(matches!(read("- namespace: a\n  nmae: typo\n"), Err(TenantListError::Parse { .. })));
}

#[test]
fn an_entry_lists_one_namespace_or_several() {
    let list = read("- namespaces: [a, a-dev]\n  sub: s-1\n- namespace: b\n").unwrap();
    assert_eq!(list[0].namespaces, ["a", "a-dev"]);
    assert_eq!(list[0].identity.sub.as_deref(), Some("s-1"));
    assert_eq!(list[1].namespaces, ["b"]);
    for (text, says) in [
        ("- namespaces: []\n", "entry 1: namespaces is empty"),
        ("- namespace: a\n- name: x\n", "entry 2: needs namespace or namespaces"),
        ("- namespace: a\n  namespaces: [b]\n", "entry 1: has both namespace and namespaces; give one"),
    ] {
        let err = read(text).unwrap_err().to_string();
        assert!(err.starts_with("invalid tenant list ") && err.ends_with(says), "{text}: {err}");
    }
    let err = read("- namespaces: [a, b]\n- namespace: b\n").unwrap_err();
    assert!(matches!(&err, TenantListError::Duplicate { namespace, .. } if namespace == "b"), "{err:?}");
    let err = read("- namespaces: [a, a]\n").unwrap_err();
    assert!(matches!(err, TenantListError::Duplicate { .. }), "{err:?}");
    let err = read("- namespaces: [a, Bad_NS]\n").unwrap_err();
    assert!(matches!(&err, TenantListError::Name { source, .. } if source.value == "Bad_NS"), "{err:?}");
}

#[test]
fn names_and_empty_items_are_refused_when_read() {
    let err = read("- namespace: Bad_NS!\n").unwrap_err();
    assert!(matches!(&err, TenantListError::Name { source, .. } if source.what == "namespace"), "{err:?}");
    let err = read("- namespace: \"\"\n").unwrap_err();
    assert!(matches!(err, TenantListError::Name { .. }), "{err:?}");
    let err = read("- namespace: a\n  secretName: Tok\n").unwrap_err();
    assert!(matches!(&err, TenantListError::Name { source, .. } if source.what == "secret name"), "{err:?}");
    let err = read("- namespace: a\n  roles: [system.user, \"\"]\n").unwrap_err();
    assert!(err.to_string().ends_with("the entry for namespace \"a\" has an empty role"), "{err}");
    let err = read("- namespace: a\n  groups: [\" \"]\n").unwrap_err();
    assert!(err.to_string().ends_with("has an empty group"), "{err}");
}

#[test]
fn values_that_look_like_numbers_are_text() {
    let list = read("- namespace: 2024\n  secretName: 0\n  sub: 0x1F\n  roles: [1, 2.5]\n").unwrap();
    assert_eq!(list[0].namespaces, ["2024"]);
    assert_eq!(list[0].secret_name.as_deref(), Some("0"));
    assert_eq!(list[0].identity.sub.as_deref(), Some("0x1F"));
    assert_eq!(list[0].identity.roles, Some(vec!["1".to_string(), "2.5".to_string()]));
}

#[test]
fn errors_say_where_and_never_quote_a_file_given_by_mistake() {
    let err = crate::message::one_line(&read("- namespace: a\n  nmae: typo\n").unwrap_err());
    assert!(err.contains("line 2") && err.contains("unknown field `nmae`"), "{err}");
    for key_file in ["SECRETVALUE\n", "-----BEGIN PRIVATE KEY-----\nSECRETVALUE\n-----END PRIVATE KEY-----\n", "42\n"] {
        let err = crate::message::one_line(&read(key_file).unwrap_err());
        assert!(err.contains("found text where a list of tenant entries was expected") || err.contains("42"), "{err}");
        assert!(!err.contains("SECRETVALUE"), "{err}");
    }
}

#[test]
fn claims_with_control_characters_are_refused_when_read() {
    let err = read("- namespace: a\n  sub: \"x\\u001b[31m\"\n").unwrap_err().to_string();
    assert!(
        err.ends_with(r#"the entry for namespace "a": sub "x\u{1b}[31m" must not contain control characters"#),
        "{err}"
    );
    let err = read("- namespace: a\n  name: \"\"\n").unwrap_err().to_string();
    assert!(err.ends_with(r#"name "" must not be empty"#), "{err}");
    let err = read("- namespace: a\n  groups: [\"a\\nb\"]\n").unwrap_err().to_string();
    assert!(err.ends_with(r#"group "a\nb" must not contain control characters"#), "{err}");
}

#[test]
fn entries_are_as_specific_as_flags_and_flags_win() {
    let template = crate::tenant::tests::request(Identity { name: Some("flag".into()), ..Identity::default() });
    let entry = TenantEntry {
        namespaces: vec!["b".into(), "b-dev".into()],
        secret_name: Some("tok".into()),
        identity: Identity { name: Some("entry".into()), email: Some("b@x".into()), ..Identity::default() },
    };
    let group = entry.group(&template);
    assert_eq!(group.namespaces, ["b", "b-dev"]);
    let request = group.request;
    assert_eq!((request.target.namespace.as_str(), request.target.name.as_str()), ("b", "tok"));
    assert_eq!(request.flags.name.as_deref(), Some("flag"));
    assert_eq!(request.flags.email.as_deref(), Some("b@x"));
}

/// A valid entry: one namespace or several, maybe a Secret name, claims that are not blank
/// and have no control characters.
fn entries() -> impl Strategy<Value = TenantEntry> {
    // `null` written plain is YAML's null, not a namespace named null.
    let namespace = "[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?".prop_filter("YAML's null", |n| n != "null");
    let namespaces = prop::collection::vec(namespace, 1..4);
    let secret_name = prop::option::of("[a-z0-9]([-a-z0-9]{0,10}[a-z0-9])?(\\.[a-z0-9]{1,5}){0,2}");
    let valid = |identity: &Identity| {
        let texts = [&identity.name, &identity.email, &identity.sub].into_iter().flatten();
        let items = identity.roles.iter().chain(&identity.groups).flatten();
        texts.chain(items).all(|text| claim_text_problem(text).is_none())
    };
    (namespaces, secret_name, identities().prop_filter("a claim Portworx would refuse", valid))
        .prop_map(|(namespaces, secret_name, identity)| TenantEntry { namespaces, secret_name, identity })
}

/// `entries` as a tenant list: bare or under `tenants:`, lists in flow or block style, one
/// namespace as `namespace:` (plain, as people write it), several as `namespaces:`.
fn yaml_list(entries: &[TenantEntry], wrapped: bool, flow: bool) -> String {
    let (mut yaml, indent) = if wrapped { (String::from("tenants:\n"), "  ") } else { (String::new(), "") };
    if entries.is_empty() {
        yaml.push_str(if wrapped { "  []\n" } else { "[]\n" });
    }
    for entry in entries {
        match entry.namespaces.as_slice() {
            [namespace] => yaml.push_str(&format!("{indent}- namespace: {namespace}\n")),
            namespaces => {
                let quoted: Vec<String> = namespaces.iter().map(|n| yaml_quoted(n)).collect();
                yaml.push_str(&format!("{indent}- namespaces: [{}]\n", quoted.join(", ")));
            }
        }
        if let Some(name) = &entry.secret_name {
            yaml.push_str(&format!("{indent}  secretName: {name}\n"));
        }
        yaml.push_str(&yaml_identity(&entry.identity, &format!("{indent}  "), flow));
    }
    yaml
}

proptest! {
    #[test]
    fn a_tenant_list_never_panics(text in yaml_like_text()) {
        if let Err(err) = parse_tenant_list(Path::new("t.yaml"), &text) {
            prop_assert!(err.to_string().starts_with("invalid tenant list t.yaml"), "{err}");
        }
    }

    #[test]
    fn a_written_list_reads_back_the_same(
        entries in prop::collection::vec(entries(), 0..5),
        wrapped in any::<bool>(),
        flow in any::<bool>(),
    ) {
        let mut seen = BTreeSet::new();
        let entries: Vec<TenantEntry> =
            entries.into_iter().filter(|e| e.namespaces.iter().all(|n| seen.insert(n.clone()))).collect();
        let yaml = yaml_list(&entries, wrapped, flow);
        let read = parse_tenant_list(Path::new("t.yaml"), &yaml);
        prop_assert!(read.is_ok(), "{yaml}: {read:?}");
        let read = read.unwrap();
        prop_assert_eq!(read.len(), entries.len());
        for (read, written) in read.iter().zip(&entries) {
            prop_assert_eq!(&read.namespaces, &written.namespaces);
            prop_assert_eq!(&read.secret_name, &written.secret_name);
            prop_assert_eq!(&read.identity, &written.identity, "{}", yaml);
        }
    }
}
