//! `rotator manifest`: the objects that run `rotate` inside the cluster on a schedule — a
//! ServiceAccount, the least RBAC that `rotate` needs, and a CronJob.
//!
//! The CronJob passes the key Secret and the issuer to `rotate` explicitly
//! (`--shared-secret-ref`, `--issuer`), so the job never discovers the Portworx install and needs
//! no right to list StorageClusters or DaemonSets: it may `get` that one key Secret (by
//! `resourceNames`), `get`/`list`/`update` Secrets and `create` Events where tenants live, and
//! nothing else. Events are plain core/v1 creates (one per rotation, never patched), so `patch`
//! is not granted; kube's `runtime::events::Recorder` would need `create` and `patch` on
//! `events.events.k8s.io` and the `runtime` feature of kube, which this plugin does not build.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::batch::v1::{CronJob, CronJobSpec, JobSpec, JobTemplateSpec};
use k8s_openapi::api::core::v1::{
    Capabilities, Container, PodSecurityContext, PodSpec, PodTemplateSpec, ResourceRequirements, SeccompProfile,
    SecurityContext, ServiceAccount,
};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, RoleRef, Subject};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use kube::api::ObjectMeta;
use serde::Serialize;

pub use crate::cron_schedule::{CronSchedule, ScheduleError};
use crate::discovery::SharedSecretRef;
use crate::duration::TokenDuration;
use crate::names::{InvalidName, NameRule};

/// Name of every object (the RBAC for the key Secret adds `-key`).
pub const DEFAULT_ROTATOR_NAME: &str = "pxtoken-rotator";
/// Daily at 03:17 UTC: off the hour, when every other job starts.
pub const DEFAULT_SCHEDULE: &str = "17 3 * * *";
/// The image the project's Dockerfile builds, at this crate's version.
pub const DEFAULT_IMAGE: &str = concat!("ghcr.io/kubectl-pxtoken/kubectl-pxtoken:", env!("CARGO_PKG_VERSION"));
/// A month of margin: a daily job that fails for weeks still renews before anything expires.
pub const DEFAULT_EXPIRING_WITHIN: &str = "30d";
/// The non-root user and group the job runs as (distroless' `nonroot`).
pub const RUN_AS_ID: i64 = 65532;
/// How long one run may take before Kubernetes stops it (SIGTERM: in-flight writes finish).
pub const ACTIVE_DEADLINE_SECONDS: i64 = 30 * 60;
const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

/// What the manifest is built from.
#[derive(Debug, Clone)]
pub struct RotatorOptions {
    /// Name of the ServiceAccount, RBAC objects and CronJob.
    pub name: String,
    /// Where the ServiceAccount and CronJob live; `None` = the key Secret's namespace, which
    /// exists wherever Portworx is installed (`kube-system` or `portworx`) and already holds
    /// what the job must read.
    pub namespace: Option<String>,
    pub schedule: CronSchedule,
    pub image: String,
    pub expiring_within: TokenDuration,
    /// Namespaces to rotate in; empty = every namespace (cluster-wide Secret access).
    pub tenant_namespaces: Vec<String>,
    /// The Portworx signing key (`NAMESPACE/NAME:KEY`; the namespace is required).
    pub key: SharedSecretRef,
    pub issuer: String,
}

impl RotatorOptions {
    /// The defaults for a key Secret and issuer.
    pub fn new(key: SharedSecretRef, issuer: &str) -> RotatorOptions {
        RotatorOptions {
            name: DEFAULT_ROTATOR_NAME.into(),
            namespace: None,
            schedule: DEFAULT_SCHEDULE.parse().expect("the default schedule is valid"),
            image: DEFAULT_IMAGE.into(),
            expiring_within: DEFAULT_EXPIRING_WITHIN.parse().expect("the default duration is valid"),
            tenant_namespaces: Vec::new(),
            key,
            issuer: issuer.into(),
        }
    }
}

/// Why no manifest was built.
#[derive(Debug, thiserror::Error)]
pub enum RotatorError {
    #[error(transparent)]
    Name(#[from] InvalidName),
    #[error("the key Secret reference {reference} names no namespace; the rotator needs NAMESPACE/NAME:KEY")]
    KeyNamespaceMissing { reference: SharedSecretRef },
    #[error("the issuer is empty; the rotator must sign with the issuer Portworx trusts")]
    EmptyIssuer,
    #[error("invalid image {image:?}: {reason}")]
    Image { image: String, reason: &'static str },
}

/// Where the job may read and write tenant Secrets.
#[derive(Debug, Clone, PartialEq)]
pub enum SecretsAccess {
    /// Boxed: both are large, and most manifests hold only one of the variants.
    ClusterWide { role: Box<ClusterRole>, binding: Box<ClusterRoleBinding> },
    /// One Role and RoleBinding per tenant namespace, sorted by namespace.
    PerNamespace(Vec<(Role, RoleBinding)>),
}

/// Everything `rotator manifest` prints, in apply order.
#[derive(Debug, Clone, PartialEq)]
pub struct RotatorManifest {
    pub service_account: ServiceAccount,
    pub key_role: Role,
    pub key_role_binding: RoleBinding,
    pub secrets: SecretsAccess,
    pub cron_job: CronJob,
}

/// One object of the manifest, serialized as itself.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(untagged)]
pub enum ManifestObject<'a> {
    ServiceAccount(&'a ServiceAccount),
    Role(&'a Role),
    RoleBinding(&'a RoleBinding),
    ClusterRole(&'a ClusterRole),
    ClusterRoleBinding(&'a ClusterRoleBinding),
    CronJob(&'a CronJob),
}

/// Why the manifest could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("cannot render the manifest as YAML")]
    Yaml(#[source] serde_saphyr::ser::Error),
    #[error("cannot render the manifest as JSON")]
    Json(#[source] serde_json::Error),
}

/// The arguments the CronJob gives `kubectl-pxtoken` (the image's entrypoint). Values are
/// joined with `=`, so an issuer that starts with `-` cannot be read as a flag.
fn rotate_args(options: &RotatorOptions, key_namespace: &str) -> Vec<String> {
    let key = SharedSecretRef { namespace: Some(key_namespace.to_owned()), ..options.key.clone() };
    let mut args = vec![
        "rotate".to_owned(),
        format!("--expiring-within={}", options.expiring_within),
        format!("--shared-secret-ref={key}"),
        format!("--issuer={}", options.issuer),
    ];
    match tenant_namespaces(options).as_slice() {
        [] => args.push("-A".to_owned()),
        namespaces => args.extend(namespaces.iter().cloned()),
    }
    args
}

fn tenant_namespaces(options: &RotatorOptions) -> Vec<String> {
    options.tenant_namespaces.iter().cloned().collect::<BTreeSet<_>>().into_iter().collect()
}

/// Checks every name and builds the objects.
pub fn build_rotator_manifest(options: &RotatorOptions) -> Result<RotatorManifest, RotatorError> {
    let key_namespace = options
        .key
        .namespace
        .clone()
        .ok_or_else(|| RotatorError::KeyNamespaceMissing { reference: options.key.clone() })?;
    let namespace = options.namespace.clone().unwrap_or_else(|| key_namespace.clone());
    NameRule::Subdomain.check("rotator name", &options.name)?;
    NameRule::Label.check("namespace", &namespace)?;
    NameRule::Label.check("key Secret namespace", &key_namespace)?;
    NameRule::Subdomain.check("key Secret name", &options.key.name)?;
    NameRule::DataKey.check("key Secret key", &options.key.key)?;
    let tenants = tenant_namespaces(options);
    for tenant in &tenants {
        NameRule::Label.check("tenant namespace", tenant)?;
    }
    if options.issuer.trim().is_empty() {
        return Err(RotatorError::EmptyIssuer);
    }
    check_image(&options.image)?;

    let name = options.name.as_str();
    let subject = Subject {
        kind: "ServiceAccount".into(),
        name: name.into(),
        namespace: Some(namespace.clone()),
        ..Subject::default()
    };
    let key_role_name = format!("{name}-key");
    let key_rule = rule(&["get"], "secrets", Some(&options.key.name));
    let key_role = Role { metadata: meta(&key_role_name, Some(&key_namespace)), rules: Some(vec![key_rule]) };
    let key_role_binding = role_binding(&key_role_name, &key_namespace, &subject);
    let tenant_rules = vec![rule(&["get", "list", "update"], "secrets", None), rule(&["create"], "events", None)];
    let secrets = if tenants.is_empty() {
        SecretsAccess::ClusterWide {
            role: Box::new(ClusterRole {
                metadata: meta(name, None),
                rules: Some(tenant_rules),
                ..ClusterRole::default()
            }),
            binding: Box::new(ClusterRoleBinding {
                metadata: meta(name, None),
                role_ref: RoleRef { api_group: Some(RBAC_GROUP.into()), kind: "ClusterRole".into(), name: name.into() },
                subjects: Some(vec![subject]),
            }),
        }
    } else {
        SecretsAccess::PerNamespace(
            tenants
                .iter()
                .map(|tenant| {
                    let role = Role { metadata: meta(name, Some(tenant)), rules: Some(tenant_rules.clone()) };
                    (role, role_binding(name, tenant, &subject))
                })
                .collect(),
        )
    };
    Ok(RotatorManifest {
        service_account: ServiceAccount { metadata: meta(name, Some(&namespace)), ..ServiceAccount::default() },
        key_role,
        key_role_binding,
        secrets,
        cron_job: cron_job(options, &namespace, rotate_args(options, &key_namespace)),
    })
}

fn check_image(image: &str) -> Result<(), RotatorError> {
    let reason = if image.is_empty() {
        "it is empty"
    } else if image.chars().any(|c| c.is_whitespace() || c.is_control()) {
        "it contains whitespace"
    } else {
        return Ok(());
    };
    Err(RotatorError::Image { image: image.to_owned(), reason })
}

fn labels() -> BTreeMap<String, String> {
    BTreeMap::from([
        ("app.kubernetes.io/name".to_owned(), "kubectl-pxtoken".to_owned()),
        ("app.kubernetes.io/component".to_owned(), "token-rotator".to_owned()),
    ])
}

fn meta(name: &str, namespace: Option<&str>) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_owned()),
        namespace: namespace.map(str::to_owned),
        labels: Some(labels()),
        ..ObjectMeta::default()
    }
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

/// A rule on one core-group resource, optionally one object of it.
fn rule(verbs: &[&str], resource: &str, name: Option<&str>) -> PolicyRule {
    PolicyRule {
        api_groups: Some(strings(&[""])),
        resources: Some(strings(&[resource])),
        resource_names: name.map(|n| strings(&[n])),
        verbs: strings(verbs),
        ..PolicyRule::default()
    }
}

fn role_binding(name: &str, namespace: &str, subject: &Subject) -> RoleBinding {
    RoleBinding {
        metadata: meta(name, Some(namespace)),
        role_ref: RoleRef { api_group: Some(RBAC_GROUP.into()), kind: "Role".into(), name: name.into() },
        subjects: Some(vec![subject.clone()]),
    }
}

fn quantities(cpu: &str, memory: &str) -> BTreeMap<String, Quantity> {
    BTreeMap::from([("cpu".to_owned(), Quantity(cpu.into())), ("memory".to_owned(), Quantity(memory.into()))])
}

/// The CronJob: one run at a time, a short history, bounded retries and run time, and a Pod
/// that passes Pod Security's `restricted` level (non-root, read-only root, no capabilities).
fn cron_job(options: &RotatorOptions, namespace: &str, args: Vec<String>) -> CronJob {
    let runtime_default = || Some(SeccompProfile { type_: "RuntimeDefault".into(), ..SeccompProfile::default() });
    let container = Container {
        name: "rotate".into(),
        image: Some(options.image.clone()),
        image_pull_policy: Some("IfNotPresent".into()),
        args: Some(args),
        resources: Some(ResourceRequirements {
            requests: Some(quantities("10m", "32Mi")),
            limits: Some(quantities("500m", "64Mi")),
            ..ResourceRequirements::default()
        }),
        security_context: Some(SecurityContext {
            allow_privilege_escalation: Some(false),
            read_only_root_filesystem: Some(true),
            run_as_non_root: Some(true),
            capabilities: Some(Capabilities { drop: Some(strings(&["ALL"])), ..Capabilities::default() }),
            seccomp_profile: runtime_default(),
            ..SecurityContext::default()
        }),
        ..Container::default()
    };
    let pod = PodSpec {
        service_account_name: Some(options.name.clone()),
        // In-cluster config reads the ServiceAccount token from the Pod, whatever the
        // ServiceAccount's or the namespace's default says.
        automount_service_account_token: Some(true),
        enable_service_links: Some(false),
        restart_policy: Some("Never".into()),
        security_context: Some(PodSecurityContext {
            run_as_non_root: Some(true),
            run_as_user: Some(RUN_AS_ID),
            run_as_group: Some(RUN_AS_ID),
            seccomp_profile: runtime_default(),
            ..PodSecurityContext::default()
        }),
        containers: vec![container],
        ..PodSpec::default()
    };
    let template_meta = ObjectMeta { labels: Some(labels()), ..ObjectMeta::default() };
    CronJob {
        metadata: meta(&options.name, Some(namespace)),
        spec: CronJobSpec {
            schedule: options.schedule.to_string(),
            time_zone: Some("UTC".into()),
            concurrency_policy: Some("Forbid".into()),
            // A run missed by more than an hour (controller down) waits for the next one.
            starting_deadline_seconds: Some(3600),
            successful_jobs_history_limit: Some(3),
            failed_jobs_history_limit: Some(3),
            job_template: JobTemplateSpec {
                metadata: Some(template_meta.clone()),
                spec: Some(JobSpec {
                    // Every rotation is safe to repeat, so a failed run may be retried twice.
                    backoff_limit: Some(2),
                    active_deadline_seconds: Some(ACTIVE_DEADLINE_SECONDS),
                    template: PodTemplateSpec { metadata: Some(template_meta), spec: Some(pod) },
                    ..JobSpec::default()
                }),
            },
            ..CronJobSpec::default()
        },
        ..CronJob::default()
    }
}

impl RotatorManifest {
    /// The objects in the order `kubectl apply` should create them.
    pub fn objects(&self) -> Vec<ManifestObject<'_>> {
        let mut objects = vec![
            ManifestObject::ServiceAccount(&self.service_account),
            ManifestObject::Role(&self.key_role),
            ManifestObject::RoleBinding(&self.key_role_binding),
        ];
        match &self.secrets {
            SecretsAccess::ClusterWide { role, binding } => {
                objects.push(ManifestObject::ClusterRole(role));
                objects.push(ManifestObject::ClusterRoleBinding(binding));
            }
            SecretsAccess::PerNamespace(pairs) => {
                for (role, binding) in pairs {
                    objects.push(ManifestObject::Role(role));
                    objects.push(ManifestObject::RoleBinding(binding));
                }
            }
        }
        objects.push(ManifestObject::CronJob(&self.cron_job));
        objects
    }

    /// A YAML stream, one document per object, separated by `---`.
    pub fn to_yaml(&self) -> Result<String, RenderError> {
        serde_saphyr::to_string_multiple(&self.objects()).map_err(RenderError::Yaml)
    }

    /// A `v1/List` of the objects, as `kubectl get -o json` prints several.
    pub fn to_json(&self) -> Result<String, RenderError> {
        #[derive(Serialize)]
        struct List<'a> {
            #[serde(rename = "apiVersion")]
            api_version: &'static str,
            kind: &'static str,
            items: Vec<ManifestObject<'a>>,
        }
        let list = List { api_version: "v1", kind: "List", items: self.objects() };
        serde_json::to_string_pretty(&list).map(|text| text + "\n").map_err(RenderError::Json)
    }

    /// `kind.group/name` of each object, as `kubectl apply -o name` prints them.
    pub fn names(&self) -> Vec<String> {
        self.objects().iter().map(ManifestObject::kubectl_name).collect()
    }
}

impl ManifestObject<'_> {
    fn kubectl_name(&self) -> String {
        let (kind, meta) = match self {
            ManifestObject::ServiceAccount(o) => ("serviceaccount", &o.metadata),
            ManifestObject::Role(o) => ("role.rbac.authorization.k8s.io", &o.metadata),
            ManifestObject::RoleBinding(o) => ("rolebinding.rbac.authorization.k8s.io", &o.metadata),
            ManifestObject::ClusterRole(o) => ("clusterrole.rbac.authorization.k8s.io", &o.metadata),
            ManifestObject::ClusterRoleBinding(o) => ("clusterrolebinding.rbac.authorization.k8s.io", &o.metadata),
            ManifestObject::CronJob(o) => ("cronjob.batch", &o.metadata),
        };
        format!("{kind}/{}", meta.name.as_deref().unwrap_or_default())
    }
}

#[cfg(test)]
#[path = "rotator_manifest_tests.rs"]
mod tests;
