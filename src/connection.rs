//! A Kubernetes client from kubectl's global flags, and the API-error wording every command uses.
//!
//! kubectl does not pass its own flags to plugins, so the plugin reads `--kubeconfig`,
//! `--context`, … itself, with kubectl's meanings (cli-runtime `config_flags.go`).

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use kube::config::{Config, InClusterError, KubeConfigOptions, Kubeconfig, KubeconfigError};

use crate::retry::RetryLayer;
use crate::transport::TransportFailure;

/// kubectl's connection flags, as the user gave them.
#[derive(Debug, Clone, Default)]
pub struct ConnectionOptions {
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
    pub cluster: Option<String>,
    pub user: Option<String>,
    pub namespace: Option<String>,
    pub impersonate: Option<String>,
    pub impersonate_groups: Vec<String>,
    /// `None` = no timeout, as `--request-timeout=0`.
    pub request_timeout: Option<Duration>,
}

/// A ready client plus what error messages need to say where it points.
#[derive(Clone)]
pub struct Connection {
    pub client: kube::Client,
    /// The kubeconfig context in use, or `in-cluster`.
    pub context: String,
    pub server: String,
    /// `-n`, else the context's namespace, else `default`.
    pub namespace: String,
    /// `--request-timeout`, for saying how long a request that timed out waited.
    pub request_timeout: Option<Duration>,
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection").field("context", &self.context).field("server", &self.server).finish()
    }
}

/// Why no client could be built. The fix (which flag to check) is the binary's to add.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("cannot load kubeconfig {path}")]
    Kubeconfig {
        path: String,
        #[source]
        source: KubeconfigError,
    },
    #[error("cannot read kubeconfig {path}")]
    KubeconfigRead {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// Not YAML. The source names the line and column; the error line never quotes the file,
    /// which holds credentials (see `message::one_line`).
    #[error("kubeconfig {path} is not valid YAML")]
    KubeconfigYaml {
        path: String,
        #[source]
        source: Box<serde_saphyr::Error>,
    },
    #[error("no kubeconfig found ($KUBECONFIG, ~/.kube/config) and not running in a Pod")]
    NoConfig,
    #[error("cannot use context {context:?} from kubeconfig")]
    Context {
        context: String,
        #[source]
        source: KubeconfigError,
    },
    #[error("cannot use context \"\" from kubeconfig: {origin} sets no current-context")]
    NoCurrentContext { origin: String },
    /// kube would connect without credentials (anonymously) instead; kubectl refuses too.
    #[error("user {user:?} not found in kubeconfig {origin}")]
    NoSuchUser { user: String, origin: String },
    #[error("cannot use in-cluster config")]
    InCluster(#[source] InClusterError),
    /// The context's `exec` credential plugin failed; `reason` never holds its output or
    /// arguments (they can hold tokens and client secrets), only its exit status and the last
    /// line it wrote to stderr, which is meant for the user.
    #[error("cannot get credentials for context {context:?} from its exec plugin {plugin:?}: {reason}")]
    ExecPlugin { context: String, plugin: String, reason: String },
    #[error("cannot build a client for {server}")]
    Client {
        server: String,
        #[source]
        source: kube::Error,
    },
}

impl ConnectionOptions {
    /// Loads the kubeconfig (or in-cluster config) and builds a client, as kubectl would.
    pub async fn connect(&self) -> Result<Connection, ConnectError> {
        let (mut config, context) = self.load_config().await?;
        if let Some(user) = &self.impersonate {
            config.auth_info.impersonate = Some(user.clone());
        }
        if !self.impersonate_groups.is_empty() {
            config.auth_info.impersonate_groups = Some(self.impersonate_groups.clone());
        }
        if let Some(timeout) = self.request_timeout {
            config.connect_timeout = Some(timeout);
            config.read_timeout = Some(timeout);
            config.write_timeout = Some(timeout);
        }
        if let Some(namespace) = &self.namespace {
            config.default_namespace = namespace.clone();
        }
        let server = config.cluster_url.to_string().trim_end_matches('/').to_owned();
        let namespace = config.default_namespace.clone();
        let plugin = config.auth_info.exec.as_ref().and_then(|exec| exec.command.clone());
        // Our bounded, logged retries of busy answers instead of kube's (see crate::retry).
        config.default_retry = false;
        let client = kube::client::ClientBuilder::try_from(config)
            .map_err(|source| match (plugin, exec_failure(&source)) {
                (Some(plugin), Some(reason)) => ConnectError::ExecPlugin { context: context.clone(), plugin, reason },
                _ => ConnectError::Client { server: server.clone(), source },
            })?
            .with_layer(&RetryLayer::new(self.request_timeout))
            .build();
        Ok(Connection { client, context, server, namespace, request_timeout: self.request_timeout })
    }

    async fn load_config(&self) -> Result<(Config, String), ConnectError> {
        let (kubeconfig, origin) = match &self.kubeconfig {
            Some(path) => {
                let kubeconfig = Kubeconfig::read_from(path)
                    .map_err(|source| kubeconfig_error(path.display().to_string(), source))?;
                (kubeconfig, path.display().to_string())
            }
            None => match Kubeconfig::read() {
                Ok(kubeconfig) => (kubeconfig, std::env::var("KUBECONFIG").unwrap_or_else(|_| "~/.kube/config".into())),
                Err(err) => {
                    let kubeconfig_env = std::env::var("KUBECONFIG").ok().filter(|v| !v.is_empty());
                    let in_pod = std::env::var_os("KUBERNETES_SERVICE_HOST").is_some_and(|v| !v.is_empty());
                    return match without_kubeconfig(&err, kubeconfig_env.as_deref(), in_pod) {
                        Fallback::InCluster => {
                            let config = Config::incluster().map_err(ConnectError::InCluster)?;
                            Ok((config, "in-cluster".to_owned()))
                        }
                        Fallback::NoConfig => Err(ConnectError::NoConfig),
                        Fallback::Broken => {
                            Err(kubeconfig_error(kubeconfig_env.unwrap_or_else(|| "~/.kube/config".into()), err))
                        }
                    };
                }
            },
        };
        let options =
            KubeConfigOptions { context: self.context.clone(), cluster: self.cluster.clone(), user: self.user.clone() };
        let context = self.context.clone().or_else(|| kubeconfig.current_context.clone()).unwrap_or_default();
        if context.is_empty() && self.cluster.is_none() {
            return Err(ConnectError::NoCurrentContext { origin });
        }
        if let Some(user) = &self.user
            && !kubeconfig.auth_infos.iter().any(|auth| &auth.name == user)
        {
            return Err(ConnectError::NoSuchUser { user: user.clone(), origin });
        }
        let config = Config::from_custom_kubeconfig(kubeconfig, &options)
            .await
            .map_err(|source| ConnectError::Context { context: context.clone(), source })?;
        Ok((config, context))
    }
}

/// What to do when no `--kubeconfig` was given and the default kubeconfig could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fallback {
    /// No kubeconfig at all, in a Pod: the ServiceAccount (as client-go and kubectl do).
    InCluster,
    /// No kubeconfig at all, outside a Pod.
    NoConfig,
    /// A kubeconfig that exists but cannot be used, or a `$KUBECONFIG` that names a missing
    /// file: an error, never a silent switch to the Pod's identity.
    Broken,
}

fn without_kubeconfig(err: &KubeconfigError, kubeconfig_env: Option<&str>, in_pod: bool) -> Fallback {
    let missing = match err {
        // No home directory to look in.
        KubeconfigError::FindPath => true,
        KubeconfigError::ReadConfig(io, _) => io.kind() == std::io::ErrorKind::NotFound,
        _ => false,
    };
    match (missing, kubeconfig_env.is_some(), in_pod) {
        (true, false, true) => Fallback::InCluster,
        (true, false, false) => Fallback::NoConfig,
        _ => Fallback::Broken,
    }
}

fn kubeconfig_error(path: String, source: KubeconfigError) -> ConnectError {
    match source {
        KubeconfigError::Parse(source) => ConnectError::KubeconfigYaml { path, source },
        KubeconfigError::ReadConfig(source, _) => ConnectError::KubeconfigRead { path, source },
        source => ConnectError::Kubeconfig { path, source },
    }
}

/// Why the kubeconfig's `exec` plugin gave no credentials, when that is what `err` is.
fn exec_failure(err: &kube::Error) -> Option<String> {
    use kube::client::AuthError;
    let kube::Error::Auth(auth) = err else { return None };
    match auth {
        AuthError::AuthExecStart(io) if io.kind() == std::io::ErrorKind::NotFound => {
            Some("it is not installed (not found on PATH)".into())
        }
        AuthError::AuthExecStart(io) => Some(format!("it could not be started: {io}")),
        AuthError::AuthExecRun { out, .. } => {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let said = stderr.lines().map(str::trim).rfind(|line| !line.is_empty());
            let said: String = said.unwrap_or_default().chars().take(300).collect();
            let status = match out.status.code() {
                Some(code) => format!("it exited with status {code}"),
                None => "it was killed by a signal".to_owned(),
            };
            Some(if said.is_empty() { status } else { format!("{status}: {said}") })
        }
        AuthError::AuthExecParse(_) => Some("its output is not an ExecCredential".into()),
        AuthError::AuthExec(message) => Some(crate::message::fold_whitespace(message)),
        _ => None,
    }
}

/// One API call, named the way an RBAC rule names it, so a refusal says what to grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiAction {
    pub verb: &'static str,
    /// Plural resource with its group when not core, e.g. `secrets`, `storageclusters.core.libopenstorage.org`.
    pub resource: &'static str,
    pub namespace: Option<String>,
    pub name: Option<String>,
}

impl ApiAction {
    pub fn new(verb: &'static str, resource: &'static str, namespace: Option<&str>, name: Option<&str>) -> ApiAction {
        ApiAction { verb, resource, namespace: namespace.map(str::to_owned), name: name.map(str::to_owned) }
    }

    fn target(&self) -> String {
        let mut target = self.resource.to_owned();
        if let Some(name) = &self.name {
            target = format!("{target} {name:?}");
        }
        match &self.namespace {
            Some(namespace) => format!("{target} in namespace {namespace:?}"),
            None => format!("{target} cluster-wide"),
        }
    }
}

/// A failed API call, worded for a cluster administrator.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("forbidden: cannot {verb} {target} (context {context:?}): ask for RBAC that allows {verb:?} on {resource:?}{scope}", verb = .action.verb, target = .action.target(), resource = .action.resource, scope = .action.namespace.as_ref().map(|n| format!(" in namespace {n:?}")).unwrap_or_default())]
    Forbidden { action: Box<ApiAction>, context: String },
    #[error("cannot reach the API server {server} (context {context:?}) to {verb} {target}", verb = .action.verb, target = .action.target())]
    Unreachable {
        action: Box<ApiAction>,
        server: String,
        context: String,
        #[source]
        source: TransportFailure,
    },
    /// 401: the server did not accept who we said we are (expired certificate or token).
    #[error("the API server {server} did not accept the credentials of context {context:?} (to {verb} {target})", verb = .action.verb, target = .action.target())]
    Unauthorized { action: Box<ApiAction>, server: String, context: String },
    /// The server answered with an error status; its message names objects, never contents.
    #[error("cannot {verb} {target}: {message}", verb = .action.verb, target = .action.target(), message = .status.message)]
    Rejected { action: Box<ApiAction>, status: Box<kube::core::Status> },
}

impl ApiError {
    /// The HTTP status the server answered with, if it answered.
    pub fn code(&self) -> Option<u16> {
        match self {
            ApiError::Rejected { status, .. } => Some(status.code),
            ApiError::Forbidden { .. } => Some(403),
            ApiError::Unauthorized { .. } => Some(401),
            ApiError::Unreachable { .. } => None,
        }
    }
    pub fn is_not_found(&self) -> bool {
        self.code() == Some(404)
    }
    pub fn is_forbidden(&self) -> bool {
        matches!(self, ApiError::Forbidden { .. })
    }
    pub fn is_conflict(&self) -> bool {
        self.code() == Some(409)
    }
    /// The status reason (`NotFound`, `AlreadyExists`, …), as Kubernetes names it.
    pub fn reason(&self) -> &str {
        match self {
            ApiError::Rejected { status, .. } => &status.reason,
            ApiError::Forbidden { .. } => "Forbidden",
            ApiError::Unauthorized { .. } => "Unauthorized",
            ApiError::Unreachable { .. } => "Unreachable",
        }
    }
}

impl Connection {
    /// Words a kube error for `action`. Messages come from the API server and name objects,
    /// never their contents, so they are safe to show.
    pub fn api_error(&self, action: ApiAction, err: kube::Error) -> ApiError {
        let action = Box::new(action);
        match err {
            // RBAC's refusals say who "cannot" do what; a 403 from an admission webhook, a
            // policy or a quota is not fixed by a grant and keeps the server's own words.
            kube::Error::Api(status) if status.is_forbidden() && status.message.contains(" cannot ") => {
                ApiError::Forbidden { action, context: self.context.clone() }
            }
            kube::Error::Api(status) if status.code == 401 => {
                ApiError::Unauthorized { action, server: self.server.clone(), context: self.context.clone() }
            }
            kube::Error::Api(status) => ApiError::Rejected { action, status },
            other => {
                tracing::debug!("{} {}: {other}", action.verb, action.target());
                ApiError::Unreachable {
                    action,
                    server: self.server.clone(),
                    context: self.context.clone(),
                    source: TransportFailure::of(&other, self.request_timeout),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_error(kind: std::io::ErrorKind) -> KubeconfigError {
        KubeconfigError::ReadConfig(std::io::Error::from(kind), PathBuf::from("/home/u/.kube/config"))
    }

    #[test]
    fn in_cluster_config_only_when_there_is_no_kubeconfig_at_all() {
        use std::io::ErrorKind::{NotFound, PermissionDenied};
        // A Pod: no file, no $KUBECONFIG, the service environment.
        assert_eq!(without_kubeconfig(&read_error(NotFound), None, true), Fallback::InCluster);
        assert_eq!(without_kubeconfig(&KubeconfigError::FindPath, None, true), Fallback::InCluster);
        assert_eq!(without_kubeconfig(&read_error(NotFound), None, false), Fallback::NoConfig);
        // A kubeconfig that is there but unreadable or broken is reported, in a Pod too.
        assert_eq!(without_kubeconfig(&read_error(PermissionDenied), None, true), Fallback::Broken);
        assert_eq!(without_kubeconfig(&KubeconfigError::CurrentContextNotSet, None, true), Fallback::Broken);
        assert_eq!(without_kubeconfig(&read_error(PermissionDenied), None, false), Fallback::Broken);
        // $KUBECONFIG naming a missing file is the user's mistake, not a cue to use the Pod.
        assert_eq!(without_kubeconfig(&read_error(NotFound), Some("/tmp/k"), true), Fallback::Broken);
    }

    use crate::fake_api;

    #[test]
    fn only_rbac_refusals_ask_for_a_grant() {
        let (conn, _api) = fake_api::block_on(async { fake_api::connection(vec![]) });
        let status = |code: u16, message: &str| {
            let reason = if code == 403 { "Forbidden" } else { "Unauthorized" };
            let status =
                kube::core::Status { code, message: message.into(), reason: reason.into(), ..Default::default() };
            kube::Error::Api(Box::new(status))
        };
        let action = || ApiAction::new("create", "secrets", Some("team-a"), Some("px-k8s-user"));
        let rbac = r#"secrets is forbidden: User "alice" cannot create resource "secrets" in the namespace "team-a""#;
        assert!(conn.api_error(action(), status(403, rbac)).is_forbidden());
        for not_rbac in [
            r#"admission webhook "policy.example.com" denied the request: no tokens here"#,
            r#"secrets "px-k8s-user" is forbidden: exceeded quota: q, requested: secrets=1"#,
        ] {
            let err = conn.api_error(action(), status(403, not_rbac));
            assert!(!err.is_forbidden(), "{err}");
            assert_eq!(
                err.to_string(),
                format!(r#"cannot create secrets "px-k8s-user" in namespace "team-a": {not_rbac}"#)
            );
        }
        let err = conn.api_error(action(), status(401, "Unauthorized"));
        assert_eq!(
            err.to_string(),
            r#"the API server https://fake did not accept the credentials of context "fake" (to create secrets "px-k8s-user" in namespace "team-a")"#
        );
    }

    #[test]
    fn a_failing_exec_plugin_is_described_without_its_arguments_or_output() {
        use std::os::unix::process::ExitStatusExt as _;
        let output = std::process::Output {
            status: std::process::ExitStatus::from_raw(3 << 8),
            stdout: br#"{"status":{"token":"HALF-A-TOKEN"}}"#.to_vec(),
            stderr: b"warming up\nsession expired: run corp-login\n\n".to_vec(),
        };
        let err = kube::Error::Auth(kube::client::AuthError::AuthExecRun {
            cmd: "corp-login --client-secret=HUNTER2".into(),
            out: Box::new(output),
        });
        assert_eq!(exec_failure(&err).unwrap(), "it exited with status 3: session expired: run corp-login");
        let missing = std::io::Error::from(std::io::ErrorKind::NotFound);
        let err = kube::Error::Auth(kube::client::AuthError::AuthExecStart(missing));
        assert_eq!(exec_failure(&err).unwrap(), "it is not installed (not found on PATH)");
        assert_eq!(exec_failure(&kube::Error::LinesCodecMaxLineLengthExceeded), None);
    }
}

#[cfg(test)]
#[path = "connection_tests.rs"]
mod kubeconfig_auth_tests;
