//! Flags shared by commands: kubectl's global flags, the key/issuer overrides, the token's
//! lifetime, and the Secret a token goes to. Their values are checked with [`crate::checks`].

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use pxtoken::connection::{Connection, ConnectionOptions};
use pxtoken::discovery::{
    DiscoveryCache, KeyOverrides, SHARED_SECRET_ENV, SharedSecretRef, SigningSetup, discover_signing_key,
};
use pxtoken::duration::{TokenDuration, parse_request_timeout};
use pxtoken::names::{NameRule, check_namespace, check_secret_key, check_secret_name};
use pxtoken::token_health::{JudgeSetup, VerifyKey, VerifyKeys, judge_setup};
use pxtoken::token_secret::{DEFAULT_SECRET_KEY, DEFAULT_SECRET_NAME, DryRun, SecretTarget, StoreOptions};
use secrecy::SecretString;

use crate::checks::{UsageError, check_claim_text, check_name, check_part};

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

/// A string flag's value unless it is empty, which kubectl reads as not given.
fn non_empty(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|value| !value.is_empty())
}

/// `Option<Duration>` as one clap value (`0` = none).
#[derive(Debug, Clone, Copy)]
pub struct OptionalDuration(pub Option<Duration>);

fn parse_request_timeout_arg(input: &str) -> Result<OptionalDuration, String> {
    parse_request_timeout(input).map(OptionalDuration).map_err(|err| err.to_string())
}

impl GlobalArgs {
    /// `-n` by Kubernetes' rules (`-n ''` means no namespace given, as in kubectl), and the
    /// key flags every signing command has.
    pub fn validate(&self, key: &KeyArgs) -> Result<(), UsageError> {
        match self.namespace.as_deref() {
            Some(namespace) if !namespace.is_empty() => check_name("--namespace", NameRule::Label, namespace)?,
            _ => {}
        }
        self.validate_impersonation()?;
        key.validate()
    }

    /// `--as` and `--as-group` travel as HTTP headers: no control characters, no blank group, and
    /// groups only with a user (the API server refuses a group alone, after the request was sent).
    fn validate_impersonation(&self) -> Result<(), UsageError> {
        let user = non_empty(&self.impersonate);
        if let Some(user) = user {
            check_claim_text("--as", Some(user))?;
        }
        for group in &self.impersonate_groups {
            check_claim_text("--as-group", Some(group))?;
        }
        if user.is_none() && !self.impersonate_groups.is_empty() {
            return Err(UsageError("--as-group needs --as: a group is impersonated with a user, never alone".into()));
        }
        Ok(())
    }

    /// The options as kubectl reads them: an empty `--context`, `--cluster`, `--user`, `-n` or
    /// `--as` is the same as not giving it.
    pub fn connection_options(&self) -> ConnectionOptions {
        let given = |value: &Option<String>| non_empty(value).map(str::to_owned);
        ConnectionOptions {
            kubeconfig: self.kubeconfig.clone(),
            context: given(&self.context),
            cluster: given(&self.cluster),
            user: given(&self.user),
            namespace: given(&self.namespace),
            impersonate: given(&self.impersonate),
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
    /// Builds a client; sends no request.
    pub async fn connect(&self) -> anyhow::Result<Connection> {
        Ok(self.connection_options().connect().await?)
    }

    /// Connects unless the cluster is not needed: a key and an issuer both given locally, as
    /// pxctl needs no cluster, and nothing to store in one.
    pub async fn connect_unless_offline(
        &self,
        overrides: &KeyOverrides,
        stores: bool,
    ) -> anyhow::Result<Option<Connection>> {
        if !stores && overrides.has_local_key() && overrides.issuer.is_some() {
            return Ok(None);
        }
        Ok(Some(self.connect().await?))
    }

    /// The key and issuer: the overrides, else the cluster's Portworx install (remembered in
    /// the discovery cache).
    pub async fn signing_setup(
        &self,
        key: &KeyArgs,
        overrides: &KeyOverrides,
        conn: Option<&Connection>,
    ) -> anyhow::Result<SigningSetup> {
        let cache = conn.and_then(|conn| self.discovery_cache(conn, key));
        Ok(discover_signing_key(conn, overrides, cache.as_ref()).await?)
    }

    /// The judge for tokens: `public` keys, else the key from the overrides or the cluster, and
    /// the issuer the nodes trust; what could not be read is left unchecked, with its reason.
    pub async fn judge_setup(
        &self,
        key: &KeyArgs,
        overrides: &KeyOverrides,
        verify: &VerifyArgs,
        public: VerifyKeys,
        conn: Option<&Connection>,
    ) -> anyhow::Result<JudgeSetup> {
        let cache = conn.and_then(|conn| self.discovery_cache(conn, key));
        let window = verify.expiring_within.as_duration();
        Ok(judge_setup(conn, overrides, public, cache.as_ref(), window).await?)
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
    /// Names in `--px-namespace` and `--shared-secret-ref` by Kubernetes' rules; an issuer that is
    /// not blank and has no control characters.
    pub fn validate(&self) -> Result<(), UsageError> {
        if let Some(namespace) = &self.px_namespace {
            check_name("--px-namespace", NameRule::Label, namespace)?;
        }
        if let Some(reference) = &self.shared_secret_ref {
            let (flag, value) = ("--shared-secret-ref", &reference.to_string());
            if let Some(namespace) = &reference.namespace {
                check_part(flag, value, check_namespace(namespace))?;
            }
            check_part(flag, value, check_secret_name(&reference.name))?;
            check_part(flag, value, check_secret_key(&reference.key))?;
        }
        if self.shared_secret.as_deref() == Some("") {
            // Never quoted: this flag holds a secret.
            return Err(UsageError("invalid --shared-secret: must not be empty".into()));
        }
        check_claim_text("--issuer", self.issuer.as_deref())
    }

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

/// What tokens are judged with (inspect, list), besides the signing-key flags (a private key
/// verifies too): the public keys of nodes set up with them, and the expiry window.
#[derive(Debug, Args, Clone)]
pub struct VerifyArgs {
    /// RSA public key (PEM) to verify RS256 tokens with, as nodes set up with one do
    #[arg(long, value_name = "PATH", help_heading = "Signing key")]
    pub rsa_public_keyfile: Option<PathBuf>,
    /// ECDSA P-256 public key (PEM) to verify ES256 tokens with
    #[arg(long, value_name = "PATH", help_heading = "Signing key")]
    pub ecdsa_public_keyfile: Option<PathBuf>,
    /// Call a token expiring when this much or less is left: <digits>(s|m|h|d|y)
    #[arg(long, default_value = "30d", value_parser = token_duration, value_name = "DURATION")]
    pub expiring_within: TokenDuration,
}

impl VerifyArgs {
    /// The public keys given, read and checked (local, no request).
    pub fn public_keys(&self) -> anyhow::Result<VerifyKeys> {
        let mut keys = VerifyKeys::new();
        let read = |flag: &str, path: &PathBuf| {
            let origin = format!("{flag} {}", path.display());
            std::fs::read(path)
                .map(|pem| (pem, origin.clone()))
                .map_err(|err| anyhow::anyhow!("cannot read {origin}: {err}"))
        };
        if let Some(path) = &self.rsa_public_keyfile {
            let (pem, origin) = read("--rsa-public-keyfile", path)?;
            keys = keys.with(VerifyKey::rsa_public_pem(&pem, &origin)?);
        }
        if let Some(path) = &self.ecdsa_public_keyfile {
            let (pem, origin) = read("--ecdsa-public-keyfile", path)?;
            keys = keys.with(VerifyKey::ecdsa_public_pem(&pem, &origin)?);
        }
        Ok(keys)
    }

    /// The public key files, as typed, for saying what tokens were checked against.
    pub fn described(&self) -> Vec<String> {
        let rsa = self.rsa_public_keyfile.iter().map(|p| format!("--rsa-public-keyfile {}", p.display()));
        rsa.chain(self.ecdsa_public_keyfile.iter().map(|p| format!("--ecdsa-public-keyfile {}", p.display()))).collect()
    }
}

/// Lifetime and clock-skew flags of the commands that issue tokens. The lifetime defaults to
/// `1y` (the documented workflow's); `generate` sets pxctl's `1d` with [`GENERATE_DURATION`].
#[derive(Debug, Args, Clone)]
pub struct ValidityArgs {
    /// Token lifetime: <digits>(s|m|h|d|y), y = 365 days
    #[arg(long, default_value = "1y", value_parser = token_duration, value_name = "DURATION", help_heading = "Token")]
    pub token_duration: TokenDuration,
    #[command(flatten)]
    pub skew: ClockSkewArgs,
}

/// `--clock-skew`: how far `iat` is backdated. On its own for `doctor`, which judges the clock
/// against it and issues no token.
#[derive(Debug, Args, Clone)]
pub struct ClockSkewArgs {
    /// How far to backdate iat against node clock skew, e.g. 10m, 30s, 0
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = parse_request_timeout_arg, help_heading = "Token")]
    pub clock_skew: OptionalDuration,
}

impl ClockSkewArgs {
    pub fn clock_skew(&self) -> Duration {
        self.clock_skew.0.unwrap_or_default()
    }
}

/// `generate`'s default lifetime: pxctl's.
pub const GENERATE_DURATION: &str = "1d";

impl ValidityArgs {
    pub fn lifetime(&self) -> Duration {
        self.token_duration.as_duration()
    }

    pub fn clock_skew(&self) -> Duration {
        self.skew.clock_skew()
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

/// Which Secret and key hold a tenant's token (tenant; later inspect, storageclass).
#[derive(Debug, Args, Clone)]
pub struct SecretNameArgs {
    /// Name of the Secret that holds the token
    #[arg(long, default_value = DEFAULT_SECRET_NAME, value_name = "NAME", help_heading = "Secret")]
    pub secret_name: String,
    /// Key of the token in the Secret
    #[arg(long, default_value = DEFAULT_SECRET_KEY, value_name = "KEY", help_heading = "Secret")]
    pub secret_key: String,
}

impl SecretNameArgs {
    /// Name and key by Kubernetes' rules.
    pub fn validate(&self) -> Result<(), UsageError> {
        check_name("--secret-name", NameRule::Subdomain, &self.secret_name)?;
        check_name("--secret-key", NameRule::DataKey, &self.secret_key)
    }

    /// The target in `namespace`.
    pub fn target(&self, namespace: &str) -> SecretTarget {
        SecretTarget { namespace: namespace.to_owned(), name: self.secret_name.clone(), key: self.secret_key.clone() }
    }
}

/// How a token Secret is written: takeover and dry run (tenant, admin `--save-secret`).
#[derive(Debug, Args, Clone)]
pub struct StoreArgs {
    /// Take over an existing Secret that kubectl-pxtoken did not create
    #[arg(long, help_heading = "Secret")]
    pub overwrite: bool,
    /// Print what would be written (client) or have the server check it (server); write nothing
    #[arg(long, value_enum, value_name = "STRATEGY", default_value = "none", num_args = 0..=1, require_equals = true, default_missing_value = "client", help_heading = "Secret")]
    pub dry_run: DryRunArg,
}

impl StoreArgs {
    pub fn options(&self, create_namespace: bool) -> StoreOptions {
        StoreOptions { overwrite: self.overwrite, create_namespace, dry_run: self.dry_run.into() }
    }
}

/// `-o` of a command that reports on one thing (inspect).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportOutput {
    Yaml,
    Json,
}

/// `-o` of a listing, as `kubectl get` has it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ListOutput {
    Wide,
    Yaml,
    Json,
    Name,
}

/// kubectl's `-o` for commands that write objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ObjectOutput {
    Yaml,
    Json,
    Name,
}

impl ObjectOutput {
    /// The format as typed: `yaml`, `json` or `name`.
    pub fn name(self) -> &'static str {
        match self {
            ObjectOutput::Yaml => "yaml",
            ObjectOutput::Json => "json",
            ObjectOutput::Name => "name",
        }
    }
}
