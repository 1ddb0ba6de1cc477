//! `kubectl pxtoken rotator manifest`: the objects that run `rotate` in the cluster on a schedule.
//!
//! `-n/--namespace` is where the rotator's ServiceAccount and CronJob go, as `-n` places what
//! `kubectl create` makes; without it they go next to the key Secret (the Portworx namespace),
//! not to the context's namespace. The key itself is never read here: only where it is.

use clap::{Args, CommandFactory as _, Subcommand};
use pxtoken::discovery::{DiscoveryCache, LocateRequest, SharedSecretRef, locate_signing_key};
use pxtoken::duration::TokenDuration;
use pxtoken::names::NameRule;
use pxtoken::rotator_manifest::{
    CronSchedule, DEFAULT_EXPIRING_WITHIN, DEFAULT_IMAGE, DEFAULT_ROTATOR_NAME, DEFAULT_SCHEDULE, RotatorOptions,
    build_rotator_manifest,
};

use crate::checks::{UsageError, check_image, check_name};
use crate::cli::{GlobalArgs, KeyArgs, ObjectOutput, token_duration};

pub const ABOUT: &str = "Run token rotation inside the cluster on a schedule";

pub const EXAMPLES: &str = "Examples:
  # Print the ServiceAccount, RBAC and CronJob, then install them
  kubectl pxtoken rotator manifest | kubectl apply -f -";

pub const MANIFEST_ABOUT: &str =
    "Print the ServiceAccount, least-privilege RBAC and CronJob that run `rotate` on a schedule";

pub const MANIFEST_EXAMPLES: &str =
    "The ServiceAccount and CronJob go to -n/--namespace (which must exist), else to the key
Secret's namespace. The key is never read: only where it is, and the issuer.

Examples:
  # Key Secret and issuer found in the cluster; the rotator goes to the key Secret's namespace
  kubectl pxtoken rotator manifest | kubectl apply -f -

  # Into its own namespace, hourly, renewing tokens that expire within 60 days
  kubectl create namespace pxtoken
  kubectl pxtoken rotator manifest -n pxtoken --schedule @hourly --expiring-within 60d | kubectl apply -f -

  # Only two tenants' namespaces (per-namespace Roles instead of a ClusterRole)
  kubectl pxtoken rotator manifest --tenant-namespaces team-a,team-b

  # Without a cluster at hand: say where the key is and which issuer Portworx trusts
  kubectl pxtoken rotator manifest --shared-secret-ref kube-system/pxkeys:shared-secret \\
      --issuer portworx.com -o json";

#[derive(Debug, Args)]
pub struct RotatorArgs {
    /// None: show the help, as kubectl does for a bare command group.
    #[command(subcommand)]
    pub command: Option<RotatorCommand>,
}

#[derive(Debug, Subcommand)]
pub enum RotatorCommand {
    #[command(about = MANIFEST_ABOUT, after_help = MANIFEST_EXAMPLES)]
    Manifest(ManifestArgs),
}

#[derive(Debug, Args)]
pub struct ManifestArgs {
    /// Name of the ServiceAccount, RBAC objects and CronJob
    #[arg(long, default_value = DEFAULT_ROTATOR_NAME)]
    pub name: String,
    /// When the CronJob runs (UTC): 5 cron fields or @hourly, @daily, @weekly, …
    #[arg(long, value_name = "CRON", default_value = DEFAULT_SCHEDULE, value_parser = schedule)]
    pub schedule: CronSchedule,
    /// Container image with kubectl-pxtoken as its entrypoint
    #[arg(long, default_value = DEFAULT_IMAGE)]
    pub image: String,
    /// Renew tokens that expire within this long: <digits>(s|m|h|d|y)
    #[arg(long, value_name = "DURATION", default_value = DEFAULT_EXPIRING_WITHIN, value_parser = token_duration)]
    pub expiring_within: TokenDuration,
    /// Rotate only in these namespaces, comma-separated or repeated [default: all]
    #[arg(long, value_name = "NAMESPACE", value_delimiter = ',')]
    pub tenant_namespaces: Vec<String>,
    /// Print the objects as yaml or json (a List), or their names
    #[arg(short = 'o', long = "output", value_enum, value_name = "FORMAT", default_value = "yaml")]
    pub output: ObjectOutput,
    /// Kubernetes Secret holding the shared secret [default: found in the cluster]
    #[arg(long, value_name = "[NAMESPACE/]NAME:KEY", value_parser = clap::value_parser!(SharedSecretRef), help_heading = "Signing key")]
    pub shared_secret_ref: Option<SharedSecretRef>,
    /// Token issuer; must equal the -jwt_issuer Portworx trusts [default: found in the cluster]
    #[arg(long, value_name = "ISSUER", help_heading = "Signing key")]
    pub issuer: Option<String>,
    /// Look for the Portworx install only in this namespace
    #[arg(long, value_name = "NAMESPACE", help_heading = "Signing key")]
    pub px_namespace: Option<String>,
    /// Look for the key and issuer again instead of using what was found in the last 10 minutes
    #[arg(long, help_heading = "Signing key")]
    pub fresh_discovery: bool,
}

fn schedule(input: &str) -> Result<CronSchedule, String> {
    input.parse().map_err(|err: pxtoken::rotator_manifest::ScheduleError| err.to_string())
}

/// Names by Kubernetes' rules and no empty value, before any request.
fn validate(args: &ManifestArgs, global: &GlobalArgs) -> Result<(), UsageError> {
    // The key flags are checked as every signing command checks them.
    let key = KeyArgs {
        shared_secret_ref: args.shared_secret_ref.clone(),
        issuer: args.issuer.clone(),
        px_namespace: args.px_namespace.clone(),
        ..KeyArgs::default()
    };
    global.validate(&key)?;
    check_name("--name", NameRule::Subdomain, &args.name)?;
    for namespace in &args.tenant_namespaces {
        check_name("--tenant-namespaces", NameRule::Label, namespace)?;
    }
    check_image("--image", &args.image)
}

pub async fn exec(args: RotatorArgs, global: &GlobalArgs) -> anyhow::Result<()> {
    let Some(RotatorCommand::Manifest(args)) = args.command else {
        // A bare command group shows its help, as kubectl does.
        let mut cli = crate::Cli::command();
        cli.build();
        return Ok(cli.find_subcommand_mut("rotator").map(|c| c.print_help()).transpose().map(|_| ())?);
    };
    validate(&args, global)?;
    let request = LocateRequest {
        reference: args.shared_secret_ref,
        issuer: args.issuer,
        px_namespace: args.px_namespace.clone(),
    };
    // A cluster only when the user did not say where the key is and which issuer to use.
    let conn = match request.given() {
        Some(_) => None,
        None => Some(global.connect().await?),
    };
    let cache = conn.as_ref().filter(|_| !args.fresh_discovery).and_then(|conn| {
        DiscoveryCache::for_connection(conn, &global.connection_options(), args.px_namespace.as_deref())
    });
    let location = locate_signing_key(conn.as_ref(), &request, cache.as_ref()).await?;
    let options = RotatorOptions {
        name: args.name,
        namespace: global.namespace.clone().filter(|n| !n.is_empty()),
        schedule: args.schedule,
        image: args.image,
        expiring_within: args.expiring_within,
        tenant_namespaces: args.tenant_namespaces,
        ..RotatorOptions::new(location.reference, &location.issuer)
    };
    let manifest = build_rotator_manifest(&options)?;
    let text = match args.output {
        ObjectOutput::Yaml => manifest.to_yaml()?,
        ObjectOutput::Json => manifest.to_json()?,
        ObjectOutput::Name => manifest.names().iter().map(|name| format!("{name}\n")).collect(),
    };
    print!("{text}");
    Ok(())
}
