//! `kubectl pxtoken storageclass NAME`: a StorageClass whose volumes use the tenant Secret.

use clap::Args;
use k8s_openapi::api::storage::v1::StorageClass;
use pxtoken::names::NameRule;
use pxtoken::storage_class::{
    Driver, ReclaimPolicy, StorageClassOptions, apply_storage_class, build_storage_class, parse_param,
};
use pxtoken::token_secret::DEFAULT_SECRET_NAME;

use crate::checks::{UsageError, check_name};
use crate::cli::{DryRunArg, GlobalArgs, ObjectOutput};
use crate::hints;
use crate::output::{dry_run_suffix, print_object};

pub const ABOUT: &str = "Print or apply a StorageClass whose volumes use the tenant token Secret";

pub const EXAMPLES: &str = "Examples:
  # A CSI class: every PVC uses px-k8s-user in its own namespace; look, then create it
  kubectl pxtoken storageclass px-tenant --param repl=3
  kubectl pxtoken storageclass px-tenant --param repl=3 --apply

  # Check it with the API server first, changing nothing
  kubectl pxtoken storageclass px-tenant --param repl=3 --apply --dry-run=server

  # A class for one tenant only, for the in-tree driver, kept after the claim is deleted
  kubectl pxtoken storageclass team-a-retain --in-tree --tenant team-a --reclaim-policy Retain

  # The same through kubectl
  kubectl pxtoken storageclass px-tenant --allow-volume-expansion | kubectl apply -f -";

const KIND: &str = "storageclass.storage.k8s.io";

#[derive(Debug, Args)]
pub struct StorageClassArgs {
    /// Name of the StorageClass
    #[arg(value_name = "NAME")]
    pub class_name: String,
    /// Use the in-tree driver (kubernetes.io/portworx-volume) instead of CSI (pxd.portworx.com)
    #[arg(long)]
    pub in_tree: bool,
    /// Use this tenant's Secret for every volume instead of the PVC namespace's
    #[arg(long, value_name = "NAMESPACE")]
    pub tenant: Option<String>,
    /// Name of the tenant Secret that holds the token
    #[arg(long, default_value = DEFAULT_SECRET_NAME, value_name = "NAME")]
    pub secret_name: String,
    /// A Portworx volume parameter, e.g. repl=3 (repeatable)
    #[arg(long = "param", value_name = "KEY=VALUE", value_parser = param)]
    pub params: Vec<(String, String)>,
    /// What happens to a volume when its claim is deleted
    #[arg(long, value_enum, value_name = "POLICY", default_value = "Delete")]
    pub reclaim_policy: ReclaimArg,
    /// Let claims of this class grow
    #[arg(long)]
    pub allow_volume_expansion: bool,
    /// Mark it as the cluster's default StorageClass
    #[arg(long = "default")]
    pub default_class: bool,
    /// Create or update it in the cluster (server-side apply) instead of printing it
    #[arg(long, help_heading = "Apply")]
    pub apply: bool,
    /// With --apply: only show what would happen (client), or have the server check it (server)
    #[arg(long, value_enum, value_name = "STRATEGY", default_value = "none", num_args = 0..=1, require_equals = true, default_missing_value = "client", requires = "apply", help_heading = "Apply")]
    pub dry_run: DryRunArg,
    /// Print the StorageClass as yaml (default without --apply) or json, or just its name
    #[arg(short = 'o', long = "output", value_enum, value_name = "FORMAT")]
    pub output: Option<ObjectOutput>,
}

/// `--reclaim-policy`, spelled as Kubernetes spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReclaimArg {
    #[value(name = "Delete")]
    Delete,
    #[value(name = "Retain")]
    Retain,
}

fn param(input: &str) -> Result<(String, String), String> {
    parse_param(input).map_err(|err| err.to_string())
}

/// kubectl's options → complete → validate → run: the class is built from the flags and
/// checked before any request; a bad name or parameter is a usage error naming its flag.
fn complete_and_validate(args: &StorageClassArgs) -> Result<StorageClass, UsageError> {
    check_name("NAME", NameRule::Subdomain, &args.class_name)?;
    check_name("--secret-name", NameRule::Subdomain, &args.secret_name)?;
    if let Some(tenant) = &args.tenant {
        check_name("--tenant", NameRule::Label, tenant)?;
    }
    let options = StorageClassOptions {
        name: args.class_name.clone(),
        driver: if args.in_tree { Driver::InTree } else { Driver::Csi },
        secret_name: args.secret_name.clone(),
        tenant: args.tenant.clone(),
        params: args.params.clone(),
        reclaim_policy: match args.reclaim_policy {
            ReclaimArg::Delete => ReclaimPolicy::Delete,
            ReclaimArg::Retain => ReclaimPolicy::Retain,
        },
        allow_volume_expansion: args.allow_volume_expansion,
        default_class: args.default_class,
    };
    // Reserved or repeated parameters: the library's words, with the fix from the hints.
    build_storage_class(&options).map_err(|err| UsageError(hints::error_line(&err)))
}

pub async fn exec(args: StorageClassArgs, global: &GlobalArgs) -> anyhow::Result<()> {
    let class = complete_and_validate(&args)?;
    if !args.apply {
        return print_object(&class, args.output.unwrap_or(ObjectOutput::Yaml), KIND);
    }
    let conn = global.connect().await?;
    let dry_run = args.dry_run.into();
    let (outcome, applied) = apply_storage_class(&conn, &class, dry_run).await?;
    match args.output {
        Some(format) => print_object(&applied, format, KIND),
        None => {
            println!("{KIND}/{} {}{}", args.class_name, outcome.as_str(), dry_run_suffix(dry_run));
            Ok(())
        }
    }
}
