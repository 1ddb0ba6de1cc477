//! Whether the caller may do every step of `tenant`, `list` and `rotate`: one
//! SelfSubjectAccessReview per verb, resource and namespace, answered by the API server's own
//! authorizer (RBAC, webhooks, anything else), so the answer is the one the command will get.
//!
//! A refusal is named the way an RBAC rule names it (`cannot create secrets in namespace
//! "team-a"`) with the `kubectl create role`/`rolebinding` that would allow it.

use std::collections::{BTreeMap, BTreeSet};

use futures::StreamExt;
use k8s_openapi::api::authorization::v1::{ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec};
use kube::api::{Api, PostParams};

use super::check::{Check, Status};
use crate::connection::{ApiAction, ApiError, Connection};
use crate::message::one_line;

/// Where a permission applies.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    Namespace(String),
    /// A namespaced resource in every namespace.
    AllNamespaces,
    /// A cluster-scoped resource (namespaces).
    Cluster,
}

impl Scope {
    /// `-n NS` when given, else every namespace.
    pub fn of(namespace: Option<&str>) -> Scope {
        namespace.map_or(Scope::AllNamespaces, |ns| Scope::Namespace(ns.to_owned()))
    }
}

/// One verb on one resource (`plural[.group]`, as `kubectl create role --resource` spells it).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Permission {
    pub verb: &'static str,
    pub resource: &'static str,
    pub scope: Scope,
    /// A single object, for the key Secret.
    pub name: Option<String>,
}

impl Permission {
    pub fn new(verb: &'static str, resource: &'static str, scope: Scope) -> Permission {
        Permission { verb, resource, scope, name: None }
    }
    pub fn named(verb: &'static str, resource: &'static str, namespace: &str, name: &str) -> Permission {
        Permission { verb, resource, scope: Scope::Namespace(namespace.to_owned()), name: Some(name.to_owned()) }
    }
}

/// One step of a command and whether the command stops without it. Steps that are not
/// required (`--create-namespace`) only warn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub permission: Permission,
    pub required: bool,
}

/// The API server's answer per permission: allowed or not, or why it could not say.
pub type Answers = BTreeMap<Permission, Result<bool, ApiError>>;

/// Asks the API server about each permission, a few at a time.
pub async fn review(conn: &Connection, permissions: BTreeSet<Permission>) -> Answers {
    let api: Api<SelfSubjectAccessReview> = Api::all(conn.client.clone());
    futures::stream::iter(permissions)
        .map(|permission| {
            let api = api.clone();
            async move {
                let answer = api.create(&PostParams::default(), &access_review(&permission)).await;
                let answer = answer.map(|review| review.status.is_some_and(|s| s.allowed)).map_err(|err| {
                    conn.api_error(
                        ApiAction::new("create", "selfsubjectaccessreviews.authorization.k8s.io", None, None),
                        err,
                    )
                });
                (permission, answer)
            }
        })
        .buffer_unordered(8)
        .collect()
        .await
}

fn access_review(permission: &Permission) -> SelfSubjectAccessReview {
    let (plural, group) = permission.resource.split_once('.').unwrap_or((permission.resource, ""));
    let namespace = match &permission.scope {
        Scope::Namespace(ns) => Some(ns.clone()),
        Scope::AllNamespaces | Scope::Cluster => None,
    };
    SelfSubjectAccessReview {
        spec: SelfSubjectAccessReviewSpec {
            resource_attributes: Some(ResourceAttributes {
                verb: Some(permission.verb.to_owned()),
                group: Some(group.to_owned()),
                resource: Some(plural.to_owned()),
                namespace,
                name: permission.name.clone(),
                ..ResourceAttributes::default()
            }),
            ..SelfSubjectAccessReviewSpec::default()
        },
        ..SelfSubjectAccessReview::default()
    }
}

/// The line for one command: pass when every step is allowed; otherwise each refusal named and
/// the RBAC that fixes it, failing when a required step is refused and warning otherwise.
/// `blocking` is the status a refused required step gets (the commands after onboarding only
/// warn). `user` is who the API server says the caller is, for the bindings in the fix.
pub fn access_check(
    name: &'static str,
    steps: &[Step],
    answers: &Answers,
    blocking: Status,
    user: Option<&str>,
) -> Check {
    if let Some(err) = steps.iter().find_map(|s| answers.get(&s.permission)?.as_ref().err()) {
        return Check::skip(name, format!("cannot ask the API server: {}", one_line(err)));
    }
    let allowed = |s: &&Step| answers.get(&s.permission).is_some_and(|a| matches!(a, Ok(true)));
    let denied: Vec<&Step> = steps.iter().filter(|s| !allowed(s)).collect();
    if denied.is_empty() {
        let granted: Vec<&Permission> = steps.iter().map(|s| &s.permission).collect();
        return Check::pass(name, format!("can {}", clauses(&granted, " and ").join("; ")));
    }
    let status = if denied.iter().any(|s| s.required) { blocking } else { Status::Warn };
    let refused: Vec<&Permission> = denied.iter().map(|s| &s.permission).collect();
    let detail = clauses(&refused, " or ").iter().map(|c| format!("cannot {c}")).collect::<Vec<_>>().join("; ");
    Check::new(name, status, detail).with_fix(rbac_fix(name, &refused, user))
}

/// Permissions grouped by object, verbs in the order given: `get, create and update secrets
/// in namespace "team-a"`.
fn clauses(permissions: &[&Permission], last_joiner: &str) -> Vec<String> {
    grouped(permissions)
        .into_iter()
        .map(|((resource, scope, name), verbs)| {
            format!("{} {}", join_verbs(&verbs, last_joiner), target(resource, &scope, name.as_deref()))
        })
        .collect()
}

type Object = (&'static str, Scope, Option<String>);

/// Verbs per object, objects in first-seen order.
fn grouped(permissions: &[&Permission]) -> Vec<(Object, Vec<&'static str>)> {
    let mut groups: Vec<(Object, Vec<&'static str>)> = Vec::new();
    for p in permissions {
        let object = (p.resource, p.scope.clone(), p.name.clone());
        match groups.iter_mut().find(|(o, _)| *o == object) {
            Some((_, verbs)) if !verbs.contains(&p.verb) => verbs.push(p.verb),
            Some(_) => {}
            None => groups.push((object, vec![p.verb])),
        }
    }
    groups
}

fn join_verbs(verbs: &[&str], last_joiner: &str) -> String {
    match verbs {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [rest @ .., last] => format!("{}{last_joiner}{last}", rest.join(", ")),
    }
}

/// The object as a person reads it: the resource's plural without its API group (the fix's
/// `--resource` carries the group).
fn target(resource: &str, scope: &Scope, name: Option<&str>) -> String {
    let resource = resource.split('.').next().unwrap_or(resource);
    let named = name.map(|n| format!(" {n:?}")).unwrap_or_default();
    match scope {
        Scope::Namespace(ns) => format!("{resource}{named} in namespace {ns:?}"),
        Scope::AllNamespaces => format!("{resource}{named} in all namespaces"),
        Scope::Cluster => format!("{resource}{named}"),
    }
}

/// The `kubectl create role|clusterrole` and binding that allow `refused` for `user`, one pair
/// per object; without a user name, the rules to ask for.
pub fn rbac_fix(command: &str, refused: &[&Permission], user: Option<&str>) -> String {
    let Some(subject) = user.map(binding_subject) else {
        return format!("ask for RBAC that allows: {}", clauses(refused, " and ").join("; "));
    };
    let groups = grouped(refused);
    let mut lines = Vec::new();
    for ((resource, scope, name), verbs) in &groups {
        let plural = resource.split('.').next().unwrap_or(resource);
        let mut role = format!("pxtoken-{command}-{plural}");
        if let Some(name) = name {
            role.push('-');
            role.push_str(name);
        }
        let verbs = verbs.join(",");
        let named = name.as_deref().map(|n| format!(" --resource-name={n}")).unwrap_or_default();
        let rule = format!("--verb={verbs} --resource={resource}{named}");
        lines.push(match scope {
            Scope::Namespace(ns) => format!(
                "kubectl create role {role} -n {ns} {rule} && kubectl create rolebinding {role} -n {ns} --role={role} {subject}"
            ),
            Scope::AllNamespaces | Scope::Cluster => format!(
                "kubectl create clusterrole {role} {rule} && kubectl create clusterrolebinding {role} --clusterrole={role} {subject}"
            ),
        });
    }
    lines.join("\n")
}

/// `--user=alice`, or `--serviceaccount=ns:name` for a ServiceAccount's user name.
fn binding_subject(user: &str) -> String {
    match user.strip_prefix("system:serviceaccount:") {
        Some(account) => format!("--serviceaccount={account}"),
        None => format!("--user={user}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(verb: &'static str, resource: &'static str, scope: Scope, required: bool) -> Step {
        Step { permission: Permission::new(verb, resource, scope), required }
    }

    fn team_a() -> Scope {
        Scope::Namespace("team-a".into())
    }

    fn tenant_steps() -> Vec<Step> {
        vec![
            step("get", "secrets", team_a(), true),
            step("create", "secrets", team_a(), true),
            step("update", "secrets", team_a(), true),
            step("create", "namespaces", Scope::Cluster, false),
            Step { permission: Permission::named("get", "secrets", "portworx", "px-shared-secret"), required: true },
        ]
    }

    fn answers(steps: &[Step], allowed: &[(&str, &str)]) -> Answers {
        steps
            .iter()
            .map(|s| {
                let yes = allowed.contains(&(s.permission.verb, s.permission.resource)) && s.permission.name.is_none();
                (s.permission.clone(), Ok(yes))
            })
            .collect()
    }

    #[test]
    fn every_step_allowed_passes_and_says_what_was_checked() {
        let steps = tenant_steps();
        let all = steps.iter().map(|s| (s.permission.clone(), Ok(true))).collect();
        let check = access_check("tenant", &steps, &all, Status::Fail, Some("admin"));
        assert_eq!(check.status, Status::Pass);
        assert_eq!(
            check.detail,
            "can get, create and update secrets in namespace \"team-a\"; create namespaces; get secrets \"px-shared-secret\" in namespace \"portworx\""
        );
        assert_eq!(check.fix, None);
    }

    #[test]
    fn a_refused_step_is_named_exactly_with_the_rbac_that_fixes_it() {
        let steps = tenant_steps();
        let check = access_check(
            "tenant",
            &steps,
            &answers(&steps, &[("get", "secrets"), ("update", "secrets")]),
            Status::Fail,
            Some("alice"),
        );
        assert_eq!(check.status, Status::Fail);
        assert_eq!(
            check.detail,
            "cannot create secrets in namespace \"team-a\"; cannot create namespaces; cannot get secrets \"px-shared-secret\" in namespace \"portworx\""
        );
        assert_eq!(
            check.fix.as_deref().unwrap().lines().collect::<Vec<_>>(),
            [
                "kubectl create role pxtoken-tenant-secrets -n team-a --verb=create --resource=secrets && kubectl create rolebinding pxtoken-tenant-secrets -n team-a --role=pxtoken-tenant-secrets --user=alice",
                "kubectl create clusterrole pxtoken-tenant-namespaces --verb=create --resource=namespaces && kubectl create clusterrolebinding pxtoken-tenant-namespaces --clusterrole=pxtoken-tenant-namespaces --user=alice",
                "kubectl create role pxtoken-tenant-secrets-px-shared-secret -n portworx --verb=get --resource=secrets --resource-name=px-shared-secret && kubectl create rolebinding pxtoken-tenant-secrets-px-shared-secret -n portworx --role=pxtoken-tenant-secrets-px-shared-secret --user=alice",
            ]
        );
    }

    #[test]
    fn only_optional_steps_refused_warns() {
        let steps = tenant_steps();
        let mut all: Answers = steps.iter().map(|s| (s.permission.clone(), Ok(true))).collect();
        all.insert(Permission::new("create", "namespaces", Scope::Cluster), Ok(false));
        let check = access_check("tenant", &steps, &all, Status::Fail, Some("alice"));
        assert_eq!((check.status, check.detail.as_str()), (Status::Warn, "cannot create namespaces"));
        let list = [step("list", "secrets", Scope::AllNamespaces, true)];
        let check = access_check("list", &list, &answers(&list, &[]), Status::Warn, None);
        assert_eq!(check.status, Status::Warn, "a command after onboarding only warns");
        assert_eq!(check.detail, "cannot list secrets in all namespaces");
        assert_eq!(check.fix.as_deref(), Some("ask for RBAC that allows: list secrets in all namespaces"));
    }

    #[test]
    fn service_accounts_are_bound_as_service_accounts() {
        let refused = Permission::new("list", "daemonsets.apps", Scope::AllNamespaces);
        assert_eq!(
            rbac_fix("tenant", &[&refused], Some("system:serviceaccount:ops:pxtoken")),
            "kubectl create clusterrole pxtoken-tenant-daemonsets --verb=list --resource=daemonsets.apps && kubectl create clusterrolebinding pxtoken-tenant-daemonsets --clusterrole=pxtoken-tenant-daemonsets --serviceaccount=ops:pxtoken"
        );
    }

    #[test]
    fn reviews_name_group_resource_namespace_and_object() {
        let review = access_review(&Permission::new("list", "storageclusters.core.libopenstorage.org", team_a()));
        let attributes = review.spec.resource_attributes.unwrap();
        assert_eq!(
            (
                attributes.verb.as_deref(),
                attributes.group.as_deref(),
                attributes.resource.as_deref(),
                attributes.namespace.as_deref()
            ),
            (Some("list"), Some("core.libopenstorage.org"), Some("storageclusters"), Some("team-a"))
        );
        let review = access_review(&Permission::named("get", "secrets", "kube-system", "pxkeys"));
        let attributes = review.spec.resource_attributes.unwrap();
        assert_eq!((attributes.group.as_deref(), attributes.name.as_deref()), (Some(""), Some("pxkeys")));
        let review = access_review(&Permission::new("create", "namespaces", Scope::Cluster));
        assert_eq!(review.spec.resource_attributes.unwrap().namespace, None);
    }
}
