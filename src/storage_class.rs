//! `storageclass NAME`: a StorageClass whose volumes authenticate to Portworx with the tenant
//! Secret of the PVC's namespace, and applying it without ever changing an existing class.
//!
//! Keys (reference/portworx-auth.md §5): the CSI driver `pxd.portworx.com` reads the
//! provisioner, node-publish and controller-expand secret parameters, which the external
//! provisioner resolves from `${pvc.namespace}` at provisioning time; the in-tree driver
//! `kubernetes.io/portworx-volume` reads `openstorage.io/auth-secret-name|namespace`. Kubernetes
//! forbids changing a class's provisioner, parameters, reclaimPolicy and volumeBindingMode, so
//! an existing class that differs in those is reported, never patched.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use k8s_openapi::api::storage::v1::StorageClass;
use kube::api::{Api, ObjectMeta, Patch, PatchParams};

use crate::connection::{ApiAction, ApiError, Connection};
use crate::names::{InvalidName, NameRule};
use crate::token_secret::{DEFAULT_SECRET_NAME, DryRun, MANAGED_BY_VALUE};

pub const CSI_PROVISIONER: &str = "pxd.portworx.com";
pub const IN_TREE_PROVISIONER: &str = "kubernetes.io/portworx-volume";
/// Resolved by the CSI external provisioner (and the in-tree driver) to the PVC's namespace.
pub const PVC_NAMESPACE_TEMPLATE: &str = "${pvc.namespace}";
pub const DEFAULT_CLASS_ANNOTATION: &str = "storageclass.kubernetes.io/is-default-class";
/// The in-tree driver's secret parameters (openstorage `pkg/auth/secrets/secrets.go`).
pub const IN_TREE_SECRET_PARAMETERS: (&str, &str) =
    ("openstorage.io/auth-secret-name", "openstorage.io/auth-secret-namespace");
/// The CSI secret parameters Portworx uses: (name key, namespace key) per operation.
pub const CSI_SECRET_PARAMETERS: [(&str, &str); 3] = [
    ("csi.storage.k8s.io/provisioner-secret-name", "csi.storage.k8s.io/provisioner-secret-namespace"),
    ("csi.storage.k8s.io/node-publish-secret-name", "csi.storage.k8s.io/node-publish-secret-namespace"),
    ("csi.storage.k8s.io/controller-expand-secret-name", "csi.storage.k8s.io/controller-expand-secret-namespace"),
];
const STORAGE_CLASSES: &str = "storageclasses.storage.k8s.io";

/// Which Portworx driver provisions the volumes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Driver {
    #[default]
    Csi,
    InTree,
}

impl Driver {
    pub fn provisioner(self) -> &'static str {
        match self {
            Driver::Csi => CSI_PROVISIONER,
            Driver::InTree => IN_TREE_PROVISIONER,
        }
    }

    /// (name key, namespace key) of every secret parameter this driver reads.
    fn secret_parameters(self) -> Vec<(&'static str, &'static str)> {
        match self {
            Driver::Csi => CSI_SECRET_PARAMETERS.to_vec(),
            Driver::InTree => vec![IN_TREE_SECRET_PARAMETERS],
        }
    }
}

/// What happens to a volume when its claim is deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReclaimPolicy {
    #[default]
    Delete,
    Retain,
}

impl ReclaimPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            ReclaimPolicy::Delete => "Delete",
            ReclaimPolicy::Retain => "Retain",
        }
    }
}

impl FromStr for ReclaimPolicy {
    type Err = StorageClassError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        match input {
            "Delete" => Ok(ReclaimPolicy::Delete),
            "Retain" => Ok(ReclaimPolicy::Retain),
            _ => Err(StorageClassError::ReclaimPolicy { input: input.to_owned() }),
        }
    }
}

/// What the class is built from.
#[derive(Debug, Clone)]
pub struct StorageClassOptions {
    pub name: String,
    pub driver: Driver,
    /// The tenant Secret every namespace holds (`px-k8s-user` by default).
    pub secret_name: String,
    /// Pin one tenant's namespace instead of `${pvc.namespace}`.
    pub tenant: Option<String>,
    /// Extra driver parameters (`repl=3`), from [`parse_param`].
    pub params: Vec<(String, String)>,
    pub reclaim_policy: ReclaimPolicy,
    pub allow_volume_expansion: bool,
    /// Mark the class as the cluster's default.
    pub default_class: bool,
}

impl StorageClassOptions {
    /// A CSI class for the default tenant Secret, with no extra parameters.
    pub fn new(name: &str) -> StorageClassOptions {
        StorageClassOptions {
            name: name.to_owned(),
            driver: Driver::Csi,
            secret_name: DEFAULT_SECRET_NAME.to_owned(),
            tenant: None,
            params: Vec::new(),
            reclaim_policy: ReclaimPolicy::Delete,
            allow_volume_expansion: false,
            default_class: false,
        }
    }
}

/// Why no class was built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StorageClassError {
    #[error(transparent)]
    Name(#[from] InvalidName),
    #[error(
        "invalid parameter {input:?}: expected KEY=VALUE with a non-empty key and value (no spaces in the key, no control characters), e.g. repl=3"
    )]
    MalformedParam { input: String },
    #[error(
        "parameter {key:?} is part of the tenant Secret wiring this class sets itself; it cannot be given as a parameter"
    )]
    ReservedParam { key: String },
    #[error("parameter {key:?} is given twice")]
    DuplicateParam { key: String },
    #[error("invalid reclaim policy {input:?}: expected Delete or Retain")]
    ReclaimPolicy { input: String },
}

/// One `KEY=VALUE` parameter; the value may itself contain `=`. A blank value or a control
/// character (a pasted newline, an escape sequence) is refused here rather than by Portworx when
/// a volume is provisioned.
pub fn parse_param(input: &str) -> Result<(String, String), StorageClassError> {
    let key_ok = |key: &str| !key.is_empty() && !key.chars().any(|c| c.is_whitespace() || c.is_control());
    let value_ok = |value: &str| !value.trim().is_empty() && !value.chars().any(char::is_control);
    match input.split_once('=') {
        Some((key, value)) if key_ok(key) && value_ok(value) => Ok((key.to_owned(), value.to_owned())),
        _ => Err(StorageClassError::MalformedParam { input: input.to_owned() }),
    }
}

/// A key that would wire a different Secret than the tenant's: any secret parameter of either
/// driver, including the CSI ones this command does not set (node-stage, controller-publish).
fn is_secret_wiring(key: &str) -> bool {
    let csi_secret = key
        .strip_prefix("csi.storage.k8s.io/")
        .is_some_and(|rest| rest.ends_with("-secret-name") || rest.ends_with("-secret-namespace"));
    csi_secret || key == IN_TREE_SECRET_PARAMETERS.0 || key == IN_TREE_SECRET_PARAMETERS.1
}

/// Checks names and parameters and builds the class.
pub fn build_storage_class(options: &StorageClassOptions) -> Result<StorageClass, StorageClassError> {
    NameRule::Subdomain.check("StorageClass name", &options.name)?;
    NameRule::Subdomain.check("secret name", &options.secret_name)?;
    if let Some(tenant) = &options.tenant {
        NameRule::Label.check("tenant namespace", tenant)?;
    }
    let namespace = options.tenant.clone().unwrap_or_else(|| PVC_NAMESPACE_TEMPLATE.to_owned());
    let mut parameters = BTreeMap::new();
    for (key, value) in &options.params {
        if is_secret_wiring(key) {
            return Err(StorageClassError::ReservedParam { key: key.clone() });
        }
        if parameters.insert(key.clone(), value.clone()).is_some() {
            return Err(StorageClassError::DuplicateParam { key: key.clone() });
        }
    }
    for (name_key, namespace_key) in options.driver.secret_parameters() {
        parameters.insert(name_key.to_owned(), options.secret_name.clone());
        parameters.insert(namespace_key.to_owned(), namespace.clone());
    }
    let annotations =
        options.default_class.then(|| BTreeMap::from([(DEFAULT_CLASS_ANNOTATION.to_owned(), "true".to_owned())]));
    Ok(StorageClass {
        metadata: ObjectMeta { name: Some(options.name.clone()), annotations, ..ObjectMeta::default() },
        provisioner: options.driver.provisioner().to_owned(),
        parameters: Some(parameters),
        reclaim_policy: Some(options.reclaim_policy.as_str().to_owned()),
        allow_volume_expansion: Some(options.allow_volume_expansion),
        ..StorageClass::default()
    })
}

/// How an apply went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApplyOutcome {
    Created,
    Configured,
    /// The class already was as asked; nothing was sent.
    Unchanged,
}

impl ApplyOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            ApplyOutcome::Created => "created",
            ApplyOutcome::Configured => "configured",
            ApplyOutcome::Unchanged => "unchanged",
        }
    }
}

/// One immutable field where the existing class differs from the wanted one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// `provisioner`, `reclaimPolicy`, `volumeBindingMode` or `parameters.KEY`.
    pub field: String,
    /// `None` = not set.
    pub existing: Option<String>,
    pub wanted: Option<String>,
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let show = |value: &Option<String>| value.as_ref().map_or("unset".to_owned(), |v| format!("{v:?}"));
        write!(f, "{} is {}, wanted {}", self.field, show(&self.existing), show(&self.wanted))
    }
}

/// Why a class was not applied. Nothing was changed when any of these is returned. The way out
/// (delete and recreate, or another name) is the binary's to word, with its commands.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error(
        "storageclass {name:?} already exists with different settings that Kubernetes does not allow to change ({list}); nothing was changed",
        list = .differences.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
    )]
    Immutable { name: String, differences: Vec<Difference> },
    /// Server-side apply refused to take a field another manager set to another value.
    #[error(
        "storageclass {name:?} has settings managed by another tool with other values ({message}); nothing was changed"
    )]
    ManagedElsewhere { name: String, message: String },
}

/// The immutable fields in which `existing` differs from `wanted`, with the API server's
/// defaults applied to unset fields (reclaimPolicy `Delete`, volumeBindingMode `Immediate`).
pub fn immutable_differences(existing: &StorageClass, wanted: &StorageClass) -> Vec<Difference> {
    let mut differences = Vec::new();
    let mut compare = |field: String, existing: Option<&str>, wanted: Option<&str>| {
        if existing != wanted {
            differences.push(Difference { field, existing: existing.map(Into::into), wanted: wanted.map(Into::into) });
        }
    };
    compare("provisioner".into(), Some(&existing.provisioner), Some(&wanted.provisioner));
    let empty = BTreeMap::new();
    let (old, new) = (existing.parameters.as_ref().unwrap_or(&empty), wanted.parameters.as_ref().unwrap_or(&empty));
    let mut keys: Vec<&String> = old.keys().chain(new.keys()).collect();
    keys.sort();
    keys.dedup();
    for key in keys {
        compare(format!("parameters.{key}"), old.get(key).map(String::as_str), new.get(key).map(String::as_str));
    }
    let or = |value: &Option<String>, default: &'static str| Some(value.as_deref().unwrap_or(default).to_owned());
    compare(
        "reclaimPolicy".into(),
        or(&existing.reclaim_policy, "Delete").as_deref(),
        or(&wanted.reclaim_policy, "Delete").as_deref(),
    );
    compare(
        "volumeBindingMode".into(),
        or(&existing.volume_binding_mode, "Immediate").as_deref(),
        or(&wanted.volume_binding_mode, "Immediate").as_deref(),
    );
    differences
}

/// True when applying `wanted` would change nothing we set: the mutable fields we own match,
/// and so does the default-class mark (set or not).
fn mutable_fields_match(existing: &StorageClass, wanted: &StorageClass) -> bool {
    let is_default = |class: &StorageClass| {
        class.metadata.annotations.as_ref().and_then(|a| a.get(DEFAULT_CLASS_ANNOTATION)).is_some_and(|v| v == "true")
    };
    existing.allow_volume_expansion.unwrap_or(false) == wanted.allow_volume_expansion.unwrap_or(false)
        && is_default(existing) == is_default(wanted)
}

/// Applies `wanted` with server-side apply (field manager `kubectl-pxtoken`), after one GET:
/// an existing class that differs in an immutable field is refused ([`ApplyError::Immutable`]),
/// one that already matches is left alone ([`ApplyOutcome::Unchanged`], no write).
/// [`DryRun::Client`] sends no write; [`DryRun::Server`] sends it with `dryRun=All`.
pub async fn apply_storage_class(
    conn: &Connection,
    wanted: &StorageClass,
    dry_run: DryRun,
) -> Result<(ApplyOutcome, StorageClass), ApplyError> {
    let name = wanted.metadata.name.clone().unwrap_or_default();
    let api: Api<StorageClass> = Api::all(conn.client.clone());
    let get = ApiAction::new("get", STORAGE_CLASSES, None, Some(&name));
    let existing = api.get_opt(&name).await.map_err(|err| conn.api_error(get, err))?;
    let outcome = match &existing {
        None => ApplyOutcome::Created,
        Some(existing) => {
            let differences = immutable_differences(existing, wanted);
            if !differences.is_empty() {
                return Err(ApplyError::Immutable { name, differences });
            }
            if mutable_fields_match(existing, wanted) {
                return Ok((ApplyOutcome::Unchanged, existing.clone()));
            }
            ApplyOutcome::Configured
        }
    };
    if dry_run == DryRun::Client {
        return Ok((outcome, wanted.clone()));
    }
    let mut params = PatchParams::apply(MANAGED_BY_VALUE);
    params.dry_run = dry_run == DryRun::Server;
    // Server-side apply of an absent object creates it, which RBAC checks as `create`.
    let verb = if existing.is_some() { "patch" } else { "create" };
    let action = ApiAction::new(verb, STORAGE_CLASSES, None, Some(&name));
    let applied =
        api.patch(&name, &params, &Patch::Apply(wanted)).await.map_err(|err| match conn.api_error(action, err) {
            ApiError::Rejected { status, .. } if status.code == 409 => {
                ApplyError::ManagedElsewhere { name: name.clone(), message: status.message }
            }
            err => err.into(),
        })?;
    let unchanged = dry_run == DryRun::None
        && existing.as_ref().is_some_and(|e| e.metadata.resource_version == applied.metadata.resource_version);
    Ok((if unchanged { ApplyOutcome::Unchanged } else { outcome }, applied))
}

#[cfg(test)]
#[path = "storage_class_tests.rs"]
mod tests;
