//! Where the signing key and the issuer come from: the user's overrides first, then the
//! Portworx install found in the cluster (SPEC "Where the signing key and the issuer come from").
//!
//! Discovery never guesses an issuer: a token with the wrong `iss` is signed fine and then
//! refused by every Portworx node, long after the command said it worked.

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, ListParams, ObjectList};
use secrecy::{ExposeSecret, SecretSlice, SecretString};
use serde::de::DeserializeOwned;
use zeroize::Zeroizing;

use crate::connection::{ApiAction, ApiError, Connection};
use crate::discovery_cache::{DiscoveryCache, RememberedDiscovery};
use crate::signing::{SigningError, SigningKey};

/// Env var that may hold the shared secret (second-strongest override).
pub const SHARED_SECRET_ENV: &str = "PXTOKEN_SHARED_SECRET";
/// Key of the shared secret in every Secret Portworx and its operator write.
pub const SHARED_SECRET_KEY: &str = "shared-secret";
/// Issuer the operator uses when `spec.security.auth.selfSigned.issuer` is empty.
pub const OPERATOR_DEFAULT_ISSUER: &str = "operator.portworx.io";
/// Shared-secret Secret the operator creates when the StorageCluster names none.
pub const OPERATOR_DEFAULT_SECRET: &str = "px-shared-secret";
const SHARED_SECRET_ENV_IN_POD: &str = "PORTWORX_AUTH_JWT_SHAREDSECRET";
const ISSUER_ENV_IN_POD: &str = "PORTWORX_AUTH_JWT_ISSUER";
const STORAGE_CLUSTERS: &str = "storageclusters.core.libopenstorage.org";

/// A key inside a Kubernetes Secret: `[NAMESPACE/]NAME:KEY`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedSecretRef {
    pub namespace: Option<String>,
    pub name: String,
    pub key: String,
}

impl SharedSecretRef {
    pub fn new(namespace: &str, name: &str, key: &str) -> SharedSecretRef {
        SharedSecretRef { namespace: Some(namespace.into()), name: name.into(), key: key.into() }
    }
}

impl FromStr for SharedSecretRef {
    type Err = String;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let bad = || {
            format!(
                "invalid secret reference {input:?}: expected [NAMESPACE/]NAME:KEY, e.g. kube-system/pxkeys:shared-secret"
            )
        };
        let (path, key) = input.rsplit_once(':').ok_or_else(bad)?;
        let (namespace, name) = match path.split_once('/') {
            Some((namespace, name)) => (Some(namespace), name),
            None => (None, path),
        };
        let valid = |s: &str| !s.is_empty() && !s.contains('/') && !s.contains(':');
        if !valid(name) || !valid(key) || namespace.is_some_and(|n| !valid(n)) {
            return Err(bad());
        }
        Ok(SharedSecretRef { namespace: namespace.map(str::to_owned), name: name.to_owned(), key: key.to_owned() })
    }
}

impl fmt::Display for SharedSecretRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(namespace) => write!(f, "{namespace}/{}:{}", self.name, self.key),
            None => write!(f, "{}:{}", self.name, self.key),
        }
    }
}

/// The user's say over key and issuer, strongest first.
#[derive(Debug, Default)]
pub struct KeyOverrides {
    /// `--shared-secret-file PATH`; `-` reads stdin.
    pub shared_secret_file: Option<PathBuf>,
    /// `$PXTOKEN_SHARED_SECRET`.
    pub shared_secret_env: Option<SecretString>,
    /// `--shared-secret VALUE` (pxctl's flag; visible in argv).
    pub shared_secret: Option<SecretString>,
    pub rsa_private_keyfile: Option<PathBuf>,
    pub ecdsa_private_keyfile: Option<PathBuf>,
    pub shared_secret_ref: Option<SharedSecretRef>,
    pub issuer: Option<String>,
    /// Look for Portworx only in this namespace.
    pub px_namespace: Option<String>,
}

impl KeyOverrides {
    /// True when a key is given without the cluster, so `generate` can work offline.
    pub fn has_local_key(&self) -> bool {
        self.shared_secret_file.is_some()
            || self.shared_secret_env.is_some()
            || self.shared_secret.is_some()
            || self.rsa_private_keyfile.is_some()
            || self.ecdsa_private_keyfile.is_some()
    }
}

/// Where the Portworx install was found.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Install {
    StorageCluster { namespace: String, name: String },
    DaemonSet { namespace: String, name: String },
}

impl fmt::Display for Install {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Install::StorageCluster { namespace, name } => write!(f, "StorageCluster {namespace}/{name}"),
            Install::DaemonSet { namespace, name } => write!(f, "DaemonSet {namespace}/{name}"),
        }
    }
}

/// Where the signing key came from; recorded on every Secret the plugin writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    SharedSecretFile(PathBuf),
    Stdin,
    Env,
    Flag,
    RsaKeyFile(PathBuf),
    EcdsaKeyFile(PathBuf),
    /// A Kubernetes Secret, at the resourceVersion read (so a later key change is detectable).
    Secret {
        reference: SharedSecretRef,
        resource_version: Option<String>,
        found_via: Option<Install>,
    },
}

impl KeySource {
    /// Short machine-readable form for the `key-source` annotation.
    pub fn annotation(&self) -> String {
        match self {
            KeySource::SharedSecretFile(_) => "file".into(),
            KeySource::Stdin => "stdin".into(),
            KeySource::Env => "env".into(),
            KeySource::Flag => "flag".into(),
            KeySource::RsaKeyFile(_) => "rsa-file".into(),
            KeySource::EcdsaKeyFile(_) => "ecdsa-file".into(),
            KeySource::Secret { reference, .. } => format!("secret:{reference}"),
        }
    }

    pub fn resource_version(&self) -> Option<&str> {
        match self {
            KeySource::Secret { resource_version, .. } => resource_version.as_deref(),
            _ => None,
        }
    }
}

impl fmt::Display for KeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeySource::SharedSecretFile(path) => write!(f, "--shared-secret-file {}", path.display()),
            KeySource::Stdin => write!(f, "--shared-secret-file - (stdin)"),
            KeySource::Env => write!(f, "${SHARED_SECRET_ENV}"),
            KeySource::Flag => write!(f, "--shared-secret"),
            KeySource::RsaKeyFile(path) => write!(f, "--rsa-private-keyfile {}", path.display()),
            KeySource::EcdsaKeyFile(path) => write!(f, "--ecdsa-private-keyfile {}", path.display()),
            KeySource::Secret { reference, found_via: Some(install), .. } => {
                write!(f, "secret {reference} (named by {install})")
            }
            KeySource::Secret { reference, found_via: None, .. } => write!(f, "secret {reference}"),
        }
    }
}

/// Where the issuer came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IssuerSource {
    Flag,
    Install { install: Install, detail: String },
}

impl fmt::Display for IssuerSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IssuerSource::Flag => write!(f, "--issuer"),
            IssuerSource::Install { install, detail } => write!(f, "{install} ({detail})"),
        }
    }
}

/// Everything needed to sign: the key, the issuer, and where each came from.
#[derive(Debug)]
pub struct SigningSetup {
    pub key: SigningKey,
    pub key_source: KeySource,
    pub issuer: String,
    pub issuer_source: IssuerSource,
}

/// Why no key or issuer could be settled on.
#[derive(Debug, thiserror::Error)]
pub enum DiscoveryError {
    #[error("cannot read {flag} {path}: {source}")]
    ReadFile { flag: &'static str, path: PathBuf, source: std::io::Error },
    #[error(transparent)]
    Key(#[from] SigningError),
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error("secret {reference} has no key {key:?} (keys: {keys}): fix --shared-secret-ref", key = .reference.key)]
    MissingKey { reference: SharedSecretRef, keys: String },
    #[error("secret {reference} not found: fix --shared-secret-ref")]
    MissingSecret { reference: SharedSecretRef },
    #[error("no Portworx signing key found; looked at {looked}: pass --shared-secret-ref NAMESPACE/NAME:KEY (or --shared-secret-file, --px-namespace)", looked = .looked_at.join("; "))]
    NotFound { looked_at: Vec<String> },
    #[error("found {installs}: choose one with --px-namespace NAMESPACE", installs = .installs.iter().map(ToString::to_string).collect::<Vec<_>>().join(" and "))]
    Ambiguous { installs: Vec<Install> },
    #[error("cannot tell which issuer Portworx trusts (key from {key_source}; looked at {looked}): pass --issuer with the value of the nodes' -jwt_issuer", looked = .looked_at.join("; "))]
    NoIssuer { key_source: String, looked_at: Vec<String> },
    #[error(
        "no signing key given and no cluster to read one from: pass --shared-secret-file, --rsa-private-keyfile or --ecdsa-private-keyfile"
    )]
    NoKeyOffline,
    #[error("no --issuer given and no cluster to read it from: pass --issuer")]
    NoIssuerOffline,
}

/// What a Portworx install says about its key and issuer.
struct InstallFacts {
    install: Install,
    secret: Option<SharedSecretRef>,
    issuer: Option<(String, &'static str)>,
}

/// Settles the signing key and issuer: overrides first, then the cluster (when `conn` is set).
pub async fn discover_signing_key(
    conn: Option<&Connection>,
    overrides: &KeyOverrides,
    cache: Option<&DiscoveryCache>,
) -> Result<SigningSetup, DiscoveryError> {
    let mut looked_at = Vec::new();
    let local = local_key(overrides)?;
    let from_cluster = local.is_none() && overrides.shared_secret_ref.is_none();
    if let (Some(conn), Some(cache), true) = (conn, cache, from_cluster)
        && let Some(setup) = remembered_setup(conn, overrides, cache).await
    {
        return Ok(setup);
    }
    let mut install_facts: Option<InstallFacts> = None;
    let needs_install = local.is_none() && overrides.shared_secret_ref.is_none() || overrides.issuer.is_none();
    if let (Some(conn), true) = (conn, needs_install) {
        install_facts = find_install(conn, overrides.px_namespace.as_deref(), &mut looked_at).await?;
    }

    let (key, key_source) = match local {
        Some(found) => found,
        None => {
            let Some(conn) = conn else { return Err(DiscoveryError::NoKeyOffline) };
            let (reference, found_via) = match (&overrides.shared_secret_ref, &install_facts) {
                (Some(reference), _) => {
                    let namespace = reference.namespace.clone().unwrap_or_else(|| conn.namespace.clone());
                    (SharedSecretRef { namespace: Some(namespace), ..reference.clone() }, None)
                }
                (None, Some(InstallFacts { install, secret: Some(reference), .. })) => {
                    (reference.clone(), Some(install.clone()))
                }
                (None, _) => {
                    match find_well_known_secret(conn, overrides.px_namespace.as_deref(), &mut looked_at).await? {
                        Some(reference) => (reference, None),
                        None => return Err(DiscoveryError::NotFound { looked_at }),
                    }
                }
            };
            read_secret_key(conn, reference, found_via).await?
        }
    };

    let (issuer, issuer_source) = match (&overrides.issuer, install_facts) {
        (Some(issuer), _) => (issuer.clone(), IssuerSource::Flag),
        (None, Some(InstallFacts { install, issuer: Some((issuer, detail)), .. })) => {
            (issuer, IssuerSource::Install { install, detail: detail.to_owned() })
        }
        (None, _) if conn.is_none() => return Err(DiscoveryError::NoIssuerOffline),
        (None, _) => return Err(DiscoveryError::NoIssuer { key_source: key_source.to_string(), looked_at }),
    };
    tracing::info!(key = %key_source, algorithm = ?key.algorithm(), issuer = %issuer, issuer_from = %issuer_source, "signing setup");
    if let (Some(cache), true, KeySource::Secret { reference, found_via, .. }) = (cache, from_cluster, &key_source) {
        let issuer = match &issuer_source {
            IssuerSource::Install { install, detail } => Some((issuer.clone(), format!("{install} ({detail})"))),
            IssuerSource::Flag => None,
        };
        let stored_at = jiff::Timestamp::now().as_second();
        cache.store(&RememberedDiscovery {
            secret: reference.to_string(),
            install: found_via.clone(),
            issuer,
            stored_at,
        });
    }
    Ok(SigningSetup { key, key_source, issuer, issuer_source })
}

/// The setup from a fresh cache entry: one read of the remembered Secret. `None` (and the entry
/// forgotten) when that read fails or the entry lacks an issuer the command needs.
async fn remembered_setup(conn: &Connection, overrides: &KeyOverrides, cache: &DiscoveryCache) -> Option<SigningSetup> {
    let entry = cache.load()?;
    let reference: SharedSecretRef = entry.secret.parse().ok()?;
    let (issuer, issuer_source) = match (&overrides.issuer, entry.issuer) {
        (Some(issuer), _) => (issuer.clone(), IssuerSource::Flag),
        (None, Some((issuer, detail))) => {
            let install = entry.install.clone()?;
            (issuer, IssuerSource::Install { install, detail: format!("remembered: {detail}") })
        }
        (None, None) => return None,
    };
    match read_secret_key(conn, reference, entry.install).await {
        Ok((key, key_source)) => {
            tracing::info!(key = %key_source, algorithm = ?key.algorithm(), issuer = %issuer, issuer_from = %issuer_source, "signing setup (remembered for up to 10 minutes)");
            Some(SigningSetup { key, key_source, issuer, issuer_source })
        }
        Err(err) => {
            tracing::debug!("remembered key location no longer works ({err}); discovering again");
            cache.forget();
            None
        }
    }
}

fn read_file(flag: &'static str, path: &Path) -> Result<SecretSlice<u8>, DiscoveryError> {
    let bytes = Zeroizing::new(std::fs::read(path).map_err(|source| DiscoveryError::ReadFile {
        flag,
        path: path.to_owned(),
        source,
    })?);
    Ok(SecretSlice::from(bytes.to_vec()))
}

/// A shared secret from a file or stdin, without the newline `echo` or an editor leaves.
fn trimmed_secret(bytes: SecretSlice<u8>) -> SecretSlice<u8> {
    let raw = bytes.expose_secret();
    let mut end = raw.len();
    while end > 0 && matches!(raw[end - 1], b'\n' | b'\r') {
        end -= 1;
    }
    SecretSlice::from(raw[..end].to_vec())
}

fn local_key(overrides: &KeyOverrides) -> Result<Option<(SigningKey, KeySource)>, DiscoveryError> {
    if let Some(path) = &overrides.shared_secret_file {
        let (bytes, source) = if path.as_os_str() == "-" {
            let mut buffer = Zeroizing::new(Vec::new());
            std::io::stdin().read_to_end(&mut buffer).map_err(|source| DiscoveryError::ReadFile {
                flag: "--shared-secret-file",
                path: path.clone(),
                source,
            })?;
            (SecretSlice::from(buffer.to_vec()), KeySource::Stdin)
        } else {
            (read_file("--shared-secret-file", path)?, KeySource::SharedSecretFile(path.clone()))
        };
        let key = SigningKey::shared_secret(trimmed_secret(bytes), &source.to_string())?;
        return Ok(Some((key, source)));
    }
    for (value, source) in [(&overrides.shared_secret_env, KeySource::Env), (&overrides.shared_secret, KeySource::Flag)]
    {
        if let Some(secret) = value {
            let bytes = SecretSlice::from(secret.expose_secret().as_bytes().to_vec());
            return Ok(Some((SigningKey::shared_secret(bytes, &source.to_string())?, source)));
        }
    }
    if let Some(path) = &overrides.rsa_private_keyfile {
        let source = KeySource::RsaKeyFile(path.clone());
        let key = SigningKey::rsa_pem(read_file("--rsa-private-keyfile", path)?, &source.to_string())?;
        return Ok(Some((key, source)));
    }
    if let Some(path) = &overrides.ecdsa_private_keyfile {
        let source = KeySource::EcdsaKeyFile(path.clone());
        let key = SigningKey::ecdsa_pem(read_file("--ecdsa-private-keyfile", path)?, &source.to_string())?;
        return Ok(Some((key, source)));
    }
    Ok(None)
}

/// Lists every object, a page at a time, so memory stays bounded by what is kept.
async fn list_pages<K>(
    conn: &Connection,
    api: &Api<K>,
    action: ApiAction,
    mut keep: impl FnMut(K),
) -> Result<(), ApiError>
where
    K: Clone + DeserializeOwned + fmt::Debug,
{
    let mut params = ListParams::default().limit(250);
    loop {
        let page: ObjectList<K> = api.list(&params).await.map_err(|err| conn.api_error(action.clone(), err))?;
        page.items.into_iter().for_each(&mut keep);
        match page.metadata.continue_.filter(|token| !token.is_empty()) {
            Some(token) => params = params.continue_token(&token),
            None => return Ok(()),
        }
    }
}

fn where_(px_namespace: Option<&str>) -> String {
    px_namespace.map(|n| format!("in namespace {n}")).unwrap_or_else(|| "in all namespaces".into())
}

/// Namespaces Portworx is installed in by its docs, operator and Helm chart: where discovery
/// looks when the user may not list across all namespaces.
const USUAL_PX_NAMESPACES: [&str; 2] = ["kube-system", "portworx"];

/// Step 1 and 2 of discovery: a StorageCluster with security on, else a Portworx DaemonSet.
/// Without `--px-namespace` it lists across namespaces, and falls back to the usual Portworx
/// namespaces when that is forbidden (a namespace-scoped administrator).
async fn find_install(
    conn: &Connection,
    px_namespace: Option<&str>,
    looked_at: &mut Vec<String>,
) -> Result<Option<InstallFacts>, DiscoveryError> {
    let mut found = Vec::new();
    for kind in [InstallKind::StorageCluster, InstallKind::DaemonSet] {
        let listed = list_installs(conn, kind, px_namespace, looked_at, &mut found).await?;
        if !listed && px_namespace.is_none() {
            for ns in USUAL_PX_NAMESPACES {
                list_installs(conn, kind, Some(ns), looked_at, &mut found).await?;
            }
        }
        if !found.is_empty() {
            break;
        }
    }
    if found.len() > 1 {
        return Err(DiscoveryError::Ambiguous { installs: found.into_iter().map(|f| f.install).collect() });
    }
    Ok(found.pop())
}

#[derive(Debug, Clone, Copy)]
enum InstallKind {
    StorageCluster,
    DaemonSet,
}

/// Lists one kind of install in one scope into `found`; false when the list was forbidden.
async fn list_installs(
    conn: &Connection,
    kind: InstallKind,
    scope: Option<&str>,
    looked_at: &mut Vec<String>,
    found: &mut Vec<InstallFacts>,
) -> Result<bool, DiscoveryError> {
    let listed = match kind {
        InstallKind::StorageCluster => find_storage_clusters(conn, scope, looked_at).await?,
        InstallKind::DaemonSet => find_daemonsets(conn, scope, looked_at).await?,
    };
    match listed {
        Some(mut installs) => {
            found.append(&mut installs);
            Ok(true)
        }
        None => Ok(false),
    }
}

/// Reports a list that could not be read as a finding, not a failure: the user may lack rights
/// there and still have them on the Secret itself.
/// Returns `None` when the list was forbidden, `Some(empty)` when the API is not installed.
fn note_unlistable(
    err: ApiError,
    what: &str,
    looked_at: &mut Vec<String>,
) -> Result<Option<Vec<InstallFacts>>, DiscoveryError> {
    if err.is_forbidden() {
        looked_at.push(format!("{what}: not allowed to list"));
        Ok(None)
    } else if err.is_not_found() {
        looked_at.push(format!("{what}: API not installed"));
        Ok(Some(Vec::new()))
    } else {
        Err(err.into())
    }
}

async fn find_storage_clusters(
    conn: &Connection,
    px_namespace: Option<&str>,
    looked_at: &mut Vec<String>,
) -> Result<Option<Vec<InstallFacts>>, DiscoveryError> {
    let resource = ApiResource::from_gvk(&GroupVersionKind::gvk("core.libopenstorage.org", "v1", "StorageCluster"));
    let api: Api<DynamicObject> = match px_namespace {
        Some(ns) => Api::namespaced_with(conn.client.clone(), ns, &resource),
        None => Api::all_with(conn.client.clone(), &resource),
    };
    let what = format!("StorageClusters {}", where_(px_namespace));
    let mut found = Vec::new();
    let mut insecure = Vec::new();
    let action = ApiAction::new("list", STORAGE_CLUSTERS, px_namespace, None);
    let listed = list_pages(conn, &api, action, |stc: DynamicObject| {
        let namespace = stc.metadata.namespace.clone().unwrap_or_default();
        let name = stc.metadata.name.clone().unwrap_or_default();
        let install = Install::StorageCluster { namespace: namespace.clone(), name };
        match storage_cluster_facts(&stc.data) {
            Some((secret_name, issuer)) => found.push(InstallFacts {
                secret: Some(SharedSecretRef::new(&namespace, &secret_name, SHARED_SECRET_KEY)),
                issuer: Some(issuer),
                install,
            }),
            None => insecure.push(install.to_string()),
        }
    })
    .await;
    if let Err(err) = listed {
        return note_unlistable(err, &what, looked_at);
    }
    let mut note = format!("{what}: {} with security enabled", found.len());
    if !insecure.is_empty() {
        note.push_str(&format!(" ({} without)", insecure.join(", ")));
    }
    tracing::debug!("{note}");
    looked_at.push(note);
    Ok(Some(found))
}

/// The shared-secret name and issuer of a StorageCluster with security enabled, as the
/// operator reads them (`spec.security.auth.selfSigned`, then `spec.env`, then its defaults).
fn storage_cluster_facts(data: &serde_json::Value) -> Option<(String, (String, &'static str))> {
    let security = data.pointer("/spec/security")?;
    if security.get("enabled").and_then(|v| v.as_bool()) != Some(true) {
        return None;
    }
    let self_signed = security.pointer("/auth/selfSigned");
    let text = |key: &str| {
        self_signed.and_then(|s| s.get(key)).and_then(|v| v.as_str()).filter(|s| !s.is_empty()).map(str::to_owned)
    };
    let secret = text("sharedSecret").unwrap_or_else(|| OPERATOR_DEFAULT_SECRET.into());
    let env_issuer = data.pointer("/spec/env").and_then(|v| v.as_array()).and_then(|env| {
        env.iter()
            .find(|e| e.get("name").and_then(|n| n.as_str()) == Some(ISSUER_ENV_IN_POD))
            .and_then(|e| e.get("value")?.as_str().filter(|s| !s.is_empty()).map(str::to_owned))
    });
    let issuer = match (text("issuer"), env_issuer) {
        (Some(issuer), _) => (issuer, "spec.security.auth.selfSigned.issuer"),
        (None, Some(issuer)) => (issuer, "spec.env PORTWORX_AUTH_JWT_ISSUER"),
        (None, None) => (OPERATOR_DEFAULT_ISSUER.to_owned(), "the operator's default issuer"),
    };
    Some((secret, issuer))
}

async fn find_daemonsets(
    conn: &Connection,
    px_namespace: Option<&str>,
    looked_at: &mut Vec<String>,
) -> Result<Option<Vec<InstallFacts>>, DiscoveryError> {
    let api: Api<DaemonSet> = match px_namespace {
        Some(ns) => Api::namespaced(conn.client.clone(), ns),
        None => Api::all(conn.client.clone()),
    };
    let what = format!("DaemonSets {}", where_(px_namespace));
    let mut found = Vec::new();
    let action = ApiAction::new("list", "daemonsets.apps", px_namespace, None);
    let listed = list_pages(conn, &api, action, |ds: DaemonSet| {
        if let Some(facts) = daemonset_facts(&ds) {
            found.push(facts);
        }
    })
    .await;
    if let Err(err) = listed {
        return note_unlistable(err, &what, looked_at);
    }
    let note = format!("{what}: {} running Portworx with auth", found.len());
    tracing::debug!("{note}");
    looked_at.push(note);
    Ok(Some(found))
}

/// A DaemonSet is a Portworx install with auth when a container reads the shared secret
/// from a Secret or passes `-jwt_issuer`.
fn daemonset_facts(ds: &DaemonSet) -> Option<InstallFacts> {
    let namespace = ds.metadata.namespace.clone().unwrap_or_default();
    let install =
        Install::DaemonSet { namespace: namespace.clone(), name: ds.metadata.name.clone().unwrap_or_default() };
    let containers = &ds.spec.template.spec.as_ref()?.containers;
    containers.iter().find_map(|container| {
        let env = container.env.as_deref().unwrap_or_default();
        let secret = env.iter().find(|e| e.name == SHARED_SECRET_ENV_IN_POD).and_then(|e| {
            let selector = e.value_from.as_ref()?.secret_key_ref.as_ref()?;
            Some(SharedSecretRef::new(&namespace, &selector.name, &selector.key))
        });
        let args = container.args.iter().chain(container.command.iter()).flatten().map(String::as_str);
        let issuer = jwt_issuer_arg(args).map(|i| (i, "container arg -jwt_issuer")).or_else(|| {
            env.iter()
                .find(|e| e.name == ISSUER_ENV_IN_POD)
                .and_then(|e| e.value.clone())
                .filter(|v| !v.is_empty())
                .map(|i| (i, "container env PORTWORX_AUTH_JWT_ISSUER"))
        });
        (secret.is_some() || issuer.is_some()).then(|| InstallFacts { install: install.clone(), secret, issuer })
    })
}

/// Finds `-jwt_issuer VALUE` (or `--jwt_issuer`, `=VALUE`) in a container's arguments.
fn jwt_issuer_arg<'a>(mut args: impl Iterator<Item = &'a str>) -> Option<String> {
    while let Some(arg) = args.next() {
        let flag = arg.trim_start_matches('-');
        if arg.starts_with('-') {
            if flag == "jwt_issuer" {
                return args.next().map(str::to_owned).filter(|v| !v.is_empty());
            }
            if let Some(value) = flag.strip_prefix("jwt_issuer=") {
                return Some(value.to_owned()).filter(|v| !v.is_empty());
            }
        }
    }
    None
}

/// Step 3: the Secrets Portworx installs are documented to use.
async fn find_well_known_secret(
    conn: &Connection,
    px_namespace: Option<&str>,
    looked_at: &mut Vec<String>,
) -> Result<Option<SharedSecretRef>, DiscoveryError> {
    let candidates: Vec<SharedSecretRef> = match px_namespace {
        Some(ns) => vec![
            SharedSecretRef::new(ns, "pxkeys", SHARED_SECRET_KEY),
            SharedSecretRef::new(ns, OPERATOR_DEFAULT_SECRET, SHARED_SECRET_KEY),
        ],
        None => vec![
            SharedSecretRef::new("kube-system", "pxkeys", SHARED_SECRET_KEY),
            SharedSecretRef::new("portworx", OPERATOR_DEFAULT_SECRET, SHARED_SECRET_KEY),
            SharedSecretRef::new("kube-system", OPERATOR_DEFAULT_SECRET, SHARED_SECRET_KEY),
        ],
    };
    for candidate in candidates {
        let namespace = candidate.namespace.as_deref().unwrap_or_default();
        let api: Api<Secret> = Api::namespaced(conn.client.clone(), namespace);
        let action = ApiAction::new("get", "secrets", Some(namespace), Some(&candidate.name));
        match api.get_opt(&candidate.name).await {
            Ok(Some(secret)) if secret.data.as_ref().is_some_and(|d| d.contains_key(&candidate.key)) => {
                return Ok(Some(candidate));
            }
            Ok(Some(_)) => looked_at.push(format!("secret {candidate}: no key {}", candidate.key)),
            Ok(None) => looked_at.push(format!("secret {candidate}: not found")),
            Err(err) => match conn.api_error(action, err) {
                err if err.is_forbidden() => looked_at.push(format!("secret {candidate}: not allowed to get")),
                err => return Err(err.into()),
            },
        }
    }
    Ok(None)
}

/// Reads the key bytes out of a Secret: `.data` is already base64-decoded by the client, and
/// those bytes are the HMAC key (Portworx never decodes them a second time).
async fn read_secret_key(
    conn: &Connection,
    reference: SharedSecretRef,
    found_via: Option<Install>,
) -> Result<(SigningKey, KeySource), DiscoveryError> {
    let namespace = reference.namespace.clone().unwrap_or_else(|| conn.namespace.clone());
    let api: Api<Secret> = Api::namespaced(conn.client.clone(), &namespace);
    let action = ApiAction::new("get", "secrets", Some(&namespace), Some(&reference.name));
    let reference = SharedSecretRef { namespace: Some(namespace), ..reference };
    let Some(mut secret) = api.get_opt(&reference.name).await.map_err(|err| conn.api_error(action, err))? else {
        return Err(DiscoveryError::MissingSecret { reference });
    };
    let mut data = secret.data.take().unwrap_or_default();
    let Some(value) = data.remove(&reference.key) else {
        let keys = data.keys().cloned().collect::<Vec<_>>().join(", ");
        // The other values are key material too; wipe them before they are dropped.
        data.values_mut().for_each(|v| zeroize::Zeroize::zeroize(&mut v.0));
        return Err(DiscoveryError::MissingKey { reference, keys });
    };
    data.values_mut().for_each(|v| zeroize::Zeroize::zeroize(&mut v.0));
    let bytes = SecretSlice::from(value.0);
    let source = KeySource::Secret { reference, resource_version: secret.metadata.resource_version.clone(), found_via };
    let key = SigningKey::shared_secret(bytes, &source.to_string())?;
    Ok((key, source))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_refs_parse_with_and_without_namespace() {
        assert_eq!(
            "kube-system/pxkeys:shared-secret".parse(),
            Ok(SharedSecretRef::new("kube-system", "pxkeys", "shared-secret"))
        );
        let bare: SharedSecretRef = "pxkeys:shared-secret".parse().unwrap();
        assert_eq!(bare.namespace, None);
        assert_eq!(bare.to_string(), "pxkeys:shared-secret");
        for bad in ["pxkeys", "a/b/c:d", "/pxkeys:k", "ns/:k", "ns/name:", ""] {
            let err = bad.parse::<SharedSecretRef>().unwrap_err();
            assert!(err.contains("[NAMESPACE/]NAME:KEY"), "{bad}: {err}");
        }
    }

    #[test]
    fn storage_cluster_issuer_follows_the_operator() {
        let stc = |spec: serde_json::Value| storage_cluster_facts(&serde_json::json!({ "spec": spec }));
        assert_eq!(stc(serde_json::json!({})), None);
        assert_eq!(stc(serde_json::json!({"security": {"enabled": false}})), None);
        let (secret, (issuer, _)) = stc(serde_json::json!({"security": {"enabled": true}})).unwrap();
        assert_eq!((secret.as_str(), issuer.as_str()), ("px-shared-secret", "operator.portworx.io"));
        let (secret, (issuer, _)) = stc(serde_json::json!({"security": {"enabled": true, "auth": {"selfSigned": {"issuer": "a.io", "sharedSecret": "mine"}}}})).unwrap();
        assert_eq!((secret.as_str(), issuer.as_str()), ("mine", "a.io"));
        let (_, (issuer, _)) =
            stc(serde_json::json!({"security": {"enabled": true, "auth": {"selfSigned": {"issuer": ""}}},
            "env": [{"name": "PORTWORX_AUTH_JWT_ISSUER", "value": "env.io"}]}))
            .unwrap();
        assert_eq!(issuer, "env.io");
    }

    #[test]
    fn jwt_issuer_is_read_from_args_in_every_spelling() {
        let find = |args: &[&str]| jwt_issuer_arg(args.iter().copied());
        assert_eq!(find(&["-c", "px", "-jwt_issuer", "portworx.com"]), Some("portworx.com".into()));
        assert_eq!(find(&["--jwt_issuer=example.io"]), Some("example.io".into()));
        assert_eq!(find(&["-jwt_issuer"]), None);
        assert_eq!(find(&["-c", "jwt_issuer"]), None);
    }

    #[test]
    fn secrets_from_files_lose_their_trailing_newline() {
        let trimmed = trimmed_secret(SecretSlice::from(b"abc\r\n".to_vec()));
        assert_eq!(trimmed.expose_secret(), b"abc");
    }
}
