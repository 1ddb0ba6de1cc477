//! A Kubernetes client from kubectl's global flags, and the API-error wording every command uses.
//!
//! kubectl does not pass its own flags to plugins, so the plugin reads `--kubeconfig`,
//! `--context`, … itself, with kubectl's meanings (cli-runtime `config_flags.go`).

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use kube::config::{Config, InClusterError, KubeConfigOptions, Kubeconfig, KubeconfigError};

use crate::retry::RetryLayer;

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
    #[error("cannot use in-cluster config")]
    InCluster(#[source] InClusterError),
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
        // Our bounded, logged retries of busy answers instead of kube's (see crate::retry).
        config.default_retry = false;
        let client = kube::client::ClientBuilder::try_from(config)
            .map_err(|source| ConnectError::Client { server: server.clone(), source })?
            .with_layer(&RetryLayer::new(self.request_timeout))
            .build();
        Ok(Connection { client, context, server, namespace })
    }

    async fn load_config(&self) -> Result<(Config, String), ConnectError> {
        let (kubeconfig, origin) = match &self.kubeconfig {
            Some(path) => {
                let kubeconfig = Kubeconfig::read_from(path)
                    .map_err(|source| ConnectError::Kubeconfig { path: path.display().to_string(), source })?;
                (kubeconfig, path.display().to_string())
            }
            None => match Kubeconfig::read() {
                Ok(kubeconfig) => (kubeconfig, std::env::var("KUBECONFIG").unwrap_or_else(|_| "~/.kube/config".into())),
                Err(err) => {
                    let env_set = std::env::var_os("KUBECONFIG").is_some_and(|v| !v.is_empty());
                    if !env_set && std::env::var_os("KUBERNETES_SERVICE_HOST").is_some() {
                        let config = Config::incluster().map_err(ConnectError::InCluster)?;
                        return Ok((config, "in-cluster".to_owned()));
                    }
                    if env_set {
                        return Err(ConnectError::Kubeconfig {
                            path: std::env::var("KUBECONFIG").unwrap_or_default(),
                            source: err,
                        });
                    }
                    return Err(ConnectError::NoConfig);
                }
            },
        };
        let options =
            KubeConfigOptions { context: self.context.clone(), cluster: self.cluster.clone(), user: self.user.clone() };
        let context = self.context.clone().or_else(|| kubeconfig.current_context.clone()).unwrap_or_default();
        if context.is_empty() && self.cluster.is_none() {
            return Err(ConnectError::NoCurrentContext { origin });
        }
        let config = Config::from_custom_kubeconfig(kubeconfig, &options)
            .await
            .map_err(|source| ConnectError::Context { context: context.clone(), source })?;
        Ok((config, context))
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
        source: Box<kube::Error>,
    },
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
            kube::Error::Api(status) if status.is_forbidden() => {
                ApiError::Forbidden { action, context: self.context.clone() }
            }
            kube::Error::Api(status) => ApiError::Rejected { action, status },
            other => ApiError::Unreachable {
                action,
                server: self.server.clone(),
                context: self.context.clone(),
                source: Box::new(other),
            },
        }
    }
}
