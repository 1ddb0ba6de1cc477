//! Flags shared by every command: kubectl's global flags and the key/issuer overrides.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use pxtoken::connection::{Connection, ConnectionOptions};
use pxtoken::discovery::{DiscoveryCache, KeyOverrides, SHARED_SECRET_ENV, SharedSecretRef};
use pxtoken::duration::{TokenDuration, parse_request_timeout};
use pxtoken::token_secret::DryRun;
use secrecy::SecretString;

/// kubectl's global flags, with kubectl's names and meanings.
#[derive(Debug, Args, Clone)]
#[command(next_help_heading = "Global flags")]
pub struct GlobalArgs {
    /// Path to the kubeconfig file to use for CLI requests
    #[arg(long, global = true, value_name = "PATH")]
    pub kubeconfig: Option<PathBuf>,
    /// The name of the kubeconfig context to use
    #[arg(long, global = true, value_name = "NAME")]
    pub context: Option<String>,
    /// The name of the kubeconfig cluster to use
    #[arg(long, global = true, value_name = "NAME")]
    pub cluster: Option<String>,
    /// The name of the kubeconfig user to use
    #[arg(long, global = true, value_name = "NAME")]
    pub user: Option<String>,
    /// If present, the namespace scope for this CLI request
    #[arg(short = 'n', long, global = true, value_name = "NAMESPACE")]
    pub namespace: Option<String>,
    /// Username to impersonate for the operation
    #[arg(long = "as", global = true, value_name = "USER")]
    pub impersonate: Option<String>,
    /// Group to impersonate for the operation (repeatable)
    #[arg(long = "as-group", global = true, value_name = "GROUP")]
    pub impersonate_groups: Vec<String>,
    /// How long to wait for a single server request (0 = no timeout), e.g. 1s, 2m, 3h
    #[arg(long, global = true, value_name = "DURATION", default_value = "0", value_parser = parse_request_timeout_arg)]
    pub request_timeout: OptionalDuration,
    /// Log level for diagnostics on stderr (0-9); never shows a secret or token
    #[arg(short = 'v', long = "v", global = true, value_name = "LEVEL", default_value_t = 0)]
    pub verbosity: u8,
}

/// `Option<Duration>` as one clap value (`0` = none).
#[derive(Debug, Clone, Copy)]
pub struct OptionalDuration(pub Option<Duration>);

fn parse_request_timeout_arg(input: &str) -> Result<OptionalDuration, String> {
    parse_request_timeout(input).map(OptionalDuration).map_err(|err| err.to_string())
}

impl GlobalArgs {
    pub fn connection_options(&self) -> ConnectionOptions {
        ConnectionOptions {
            kubeconfig: self.kubeconfig.clone(),
            context: self.context.clone(),
            cluster: self.cluster.clone(),
            user: self.user.clone(),
            namespace: self.namespace.clone(),
            impersonate: self.impersonate.clone(),
            impersonate_groups: self.impersonate_groups.clone(),
            request_timeout: self.request_timeout.0,
        }
    }

    /// Where discovery results for this connection are remembered (the library keys and places
    /// the cache), unless `--fresh-discovery`.
    pub fn discovery_cache(&self, conn: &Connection, key: &KeyArgs) -> Option<DiscoveryCache> {
        if key.fresh_discovery {
            return None;
        }
        DiscoveryCache::for_connection(conn, &self.connection_options(), key.px_namespace.as_deref())
    }

    /// Connects, bounded by `--request-timeout` (kube-rs loads exec credentials here too).
    pub async fn connect(&self) -> anyhow::Result<Connection> {
        Ok(self.connection_options().connect().await?)
    }
}

/// Where the signing key and issuer come from; strongest first (SPEC).
#[derive(Debug, Args, Clone, Default)]
pub struct KeyArgs {
    /// Read the shared secret from a file ('-' = stdin)
    #[arg(long, value_name = "PATH", help_heading = "Signing key")]
    pub shared_secret_file: Option<PathBuf>,
    /// The shared secret itself (pxctl-compatible; visible to other users in the process list: prefer --shared-secret-file or $PXTOKEN_SHARED_SECRET)
    #[arg(long, value_name = "VALUE", help_heading = "Signing key")]
    pub shared_secret: Option<String>,
    /// RSA private key (PEM) to sign RS256 tokens
    #[arg(long, value_name = "PATH", help_heading = "Signing key")]
    pub rsa_private_keyfile: Option<PathBuf>,
    /// ECDSA P-256 private key (PEM) to sign ES256 tokens
    #[arg(long, value_name = "PATH", help_heading = "Signing key")]
    pub ecdsa_private_keyfile: Option<PathBuf>,
    /// Kubernetes Secret holding the shared secret
    #[arg(long, value_name = "[NAMESPACE/]NAME:KEY", value_parser = clap::value_parser!(SharedSecretRef), help_heading = "Signing key")]
    pub shared_secret_ref: Option<SharedSecretRef>,
    /// Token issuer; must equal the -jwt_issuer Portworx trusts (discovered when not given)
    #[arg(long, value_name = "ISSUER", help_heading = "Signing key")]
    pub issuer: Option<String>,
    /// Look for the Portworx install only in this namespace
    #[arg(long, value_name = "NAMESPACE", help_heading = "Signing key")]
    pub px_namespace: Option<String>,
    /// Look for the key and issuer again instead of using what was found in the last 10 minutes
    #[arg(long, help_heading = "Signing key")]
    pub fresh_discovery: bool,
}

impl KeyArgs {
    /// The overrides, with the env var read once; warns when the secret sits in argv.
    pub fn overrides(&self) -> KeyOverrides {
        if self.shared_secret.is_some() {
            eprintln!(
                "warning: --shared-secret is visible to other users of this machine in the process list; prefer --shared-secret-file or ${SHARED_SECRET_ENV}"
            );
        }
        let shared_secret_env = std::env::var(SHARED_SECRET_ENV).ok().filter(|v| !v.is_empty()).map(SecretString::from);
        KeyOverrides {
            shared_secret_file: self.shared_secret_file.clone(),
            shared_secret_env,
            shared_secret: self.shared_secret.clone().map(SecretString::from),
            rsa_private_keyfile: self.rsa_private_keyfile.clone(),
            ecdsa_private_keyfile: self.ecdsa_private_keyfile.clone(),
            shared_secret_ref: self.shared_secret_ref.clone(),
            issuer: self.issuer.clone(),
            px_namespace: self.px_namespace.clone(),
        }
    }
}

/// Lifetime and clock-skew flags of the commands that issue tokens.
#[derive(Debug, Args, Clone)]
pub struct ValidityArgs {
    /// How far to backdate iat against node clock skew, e.g. 10m, 30s, 0
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = parse_request_timeout_arg, help_heading = "Token")]
    pub clock_skew: OptionalDuration,
}

impl ValidityArgs {
    pub fn clock_skew(&self) -> Duration {
        self.clock_skew.0.unwrap_or_default()
    }
}

/// `TokenDuration` as a clap value: the error states the grammar.
pub fn token_duration(input: &str) -> Result<TokenDuration, String> {
    input.parse::<TokenDuration>().map_err(|err| err.to_string())
}

/// kubectl's `--dry-run` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DryRunArg {
    None,
    Client,
    Server,
}

impl From<DryRunArg> for DryRun {
    fn from(value: DryRunArg) -> DryRun {
        match value {
            DryRunArg::None => DryRun::None,
            DryRunArg::Client => DryRun::Client,
            DryRunArg::Server => DryRun::Server,
        }
    }
}

/// kubectl's `-o` for commands that write objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ObjectOutput {
    Yaml,
    Json,
    Name,
}

/// Splits `--roles a,b --roles c` into one list; `None` when the flag was not given.
pub fn list_flag(values: &[String]) -> Option<Vec<String>> {
    if values.is_empty() {
        return None;
    }
    Some(values.iter().flat_map(|v| v.split(',')).map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned).collect())
}
