//! `kubectl pxtoken tenant NAMESPACE`: the seed's tenant workflow in one command.

use std::path::PathBuf;

use clap::Args;
use pxtoken::claims::{Identity, read_auth_config};
use pxtoken::connection::Connection;
use pxtoken::discovery::SigningSetup;
use pxtoken::tenant::{
    TenantEntry, TenantGroup, TenantRequest, onboard_group, onboard_many, onboard_tenant, read_tenant_list,
};

use crate::checks::{UsageError, check_identity_flags, check_namespaces, list_flag};
use crate::cli::{GlobalArgs, KeyArgs, ObjectOutput, SecretNameArgs, StoreArgs, ValidityArgs};
use crate::output;
use crate::signals::stop_on_signals;

pub const ABOUT: &str = "Issue a tenant token and store it in a Secret in the tenant's namespace";

pub const EXAMPLES: &str = "Examples:
  # Onboard team-a: find the key and issuer in the cluster, store team-a/px-k8s-user
  kubectl pxtoken tenant team-a

  # The same with an explicit shared secret and issuer, for a two-year token
  kubectl pxtoken tenant team-a --shared-secret-ref kube-system/pxkeys:shared-secret \\
      --issuer portworx.com --token-duration 2y

  # Name the tenant and put it in a group; create the namespace if needed
  kubectl pxtoken tenant team-a --name \"Team A\" --email team-a@example.com \\
      --groups developers --create-namespace

  # Show the Secret that would be written, without writing it
  kubectl pxtoken tenant team-a --dry-run=client -o yaml

  # Onboard every tenant in a list (re-runnable: renews tokens, keeps subjects)
  kubectl pxtoken tenant --from-file tenants.yaml";

#[derive(Debug, Args)]
pub struct TenantArgs {
    /// The tenant's namespace, or every namespace it owns (one identity in all); the token Secret is written in each
    #[arg(value_name = "NAMESPACE", required_unless_present = "from_file", conflicts_with = "from_file")]
    pub tenant_namespaces: Vec<String>,
    /// Onboard every tenant in this YAML list (namespace or namespaces, and optionally name, email, sub, roles, groups, secretName)
    #[arg(long, value_name = "FILE")]
    pub from_file: Option<PathBuf>,
    /// With --from-file: how many tenants to onboard at once
    // 8 (scripts/bench/tenants.sh): over a 10 ms link 8 is 1.3–1.9× faster than 4, and 16–64
    // faster still, but each connection costs ~60 KB: 8 keeps peak memory within 15 % of one
    // tenant's (16 is about +19 %).
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrency: u16,
    #[command(flatten)]
    pub secret: SecretNameArgs,
    /// Create the namespace if it does not exist
    #[arg(long, help_heading = "Secret")]
    pub create_namespace: bool,
    #[command(flatten)]
    pub store: StoreArgs,
    /// Print the Secret as yaml or json, or just its name
    #[arg(short = 'o', long = "output", value_enum, value_name = "FORMAT", help_heading = "Secret")]
    pub output: Option<ObjectOutput>,
    /// Token name claim [default: the (first) namespace]
    #[arg(long, help_heading = "Token")]
    pub name: Option<String>,
    /// Token email claim [default: <(first) namespace>@<issuer>]
    #[arg(long, help_heading = "Token")]
    pub email: Option<String>,
    /// Token subject: the tenant's identity, owner of its volumes [default: the stored token's (the same in every namespace), else a new UUID]
    #[arg(long, help_heading = "Token")]
    pub sub: Option<String>,
    /// Roles, comma-separated or repeated [default: system.user]
    #[arg(long, value_name = "ROLE", help_heading = "Token")]
    pub roles: Vec<String>,
    /// Groups, comma-separated or repeated
    #[arg(long, value_name = "GROUP", help_heading = "Token")]
    pub groups: Vec<String>,
    /// pxctl auth-config YAML (name, email, sub, roles, groups); flags win over it
    #[arg(long, value_name = "FILE", help_heading = "Token")]
    pub auth_config: Option<PathBuf>,
    /// Allow a tenant token with role system.admin or group "*"
    #[arg(long, help_heading = "Token")]
    pub allow_admin: bool,
    #[command(flatten)]
    pub validity: ValidityArgs,
    #[command(flatten)]
    pub key: KeyArgs,
}

/// kubectl's options → complete → validate → run: one request template, and the tenants it
/// is applied to (one from NAMESPACE, or every entry of `--from-file`).
struct TenantOptions {
    template: TenantRequest,
    /// NAMESPACE…: one tenant's (none with `--from-file`).
    namespaces: Vec<String>,
    /// `None` without `--from-file`.
    entries: Option<Vec<TenantEntry>>,
    concurrency: usize,
    format: Option<ObjectOutput>,
}

impl TenantOptions {
    /// Reads `--auth-config` and `--from-file`; local, no request.
    fn complete(args: &TenantArgs) -> anyhow::Result<TenantOptions> {
        let auth_config = args.auth_config.as_deref().map(read_auth_config).transpose()?.unwrap_or_default();
        let entries = args.from_file.as_deref().map(read_tenant_list).transpose()?;
        let flags = Identity {
            name: args.name.clone(),
            email: args.email.clone(),
            sub: args.sub.clone(),
            roles: list_flag("--roles", &args.roles)?,
            groups: list_flag("--groups", &args.groups)?,
        };
        let template = TenantRequest {
            target: args.secret.target(args.tenant_namespaces.first().map_or("", String::as_str)),
            flags,
            auth_config,
            lifetime: args.validity.lifetime(),
            clock_skew: args.validity.clock_skew(),
            allow_admin: args.allow_admin,
            store: args.store.options(args.create_namespace),
        };
        let namespaces = args.tenant_namespaces.clone();
        Ok(TenantOptions { template, namespaces, entries, concurrency: args.concurrency.into(), format: args.output })
    }

    /// Names by Kubernetes' rules and no empty claim, before any request.
    fn validate(&self, args: &TenantArgs) -> Result<(), UsageError> {
        check_namespaces(&self.namespaces)?;
        args.secret.validate()?;
        check_identity_flags(&self.template.flags)
    }

    async fn run(self, conn: &Connection, setup: &SigningSetup) -> anyhow::Result<()> {
        let Some(entries) = self.entries else {
            let group = TenantGroup { request: self.template, namespaces: self.namespaces };
            if let [_] = group.namespaces.as_slice() {
                let done = onboard_tenant(conn, setup, &group.request).await?;
                return output::tenant_result(&group.request, &done, self.format);
            }
            // Several namespaces: refused as a whole (one error line), or one result each.
            return output::tenant_namespaces(onboard_group(conn, setup, &group).await?, self.format);
        };
        let mut report = output::TenantReport::new(entries.len(), self.format);
        // Each tenant's request is built as its turn comes: memory stays flat in the list's length.
        let groups = entries.into_iter().map(|entry| entry.group(&self.template));
        let cancel = stop_on_signals()?;
        let summary =
            onboard_many(conn, setup, groups, self.concurrency, &cancel, |group, fate| report.one(group, fate)).await?;
        report.finish();
        summary.into_result(cancel.signal())?;
        Ok(())
    }
}

pub async fn exec(args: TenantArgs, global: &GlobalArgs) -> anyhow::Result<()> {
    global.validate(&args.key)?;
    let options = TenantOptions::complete(&args)?;
    options.validate(&args)?;
    let overrides = args.key.overrides();
    let conn = global.connect().await?;
    let setup = global.signing_setup(&args.key, &overrides, Some(&conn)).await?;
    options.run(&conn, &setup).await
}
