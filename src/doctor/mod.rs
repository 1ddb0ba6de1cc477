//! `doctor`: everything onboarding depends on, checked at once and reported one line each, so a
//! user sees before running `tenant` what would stop it, and after, whether tenants' tokens are
//! healthy and used.
//!
//! Each module judges one part and turns its findings into [`Check`]s:
//! - `context`: the kubeconfig context and user, and the user as the API server sees it;
//! - `server`: the API server answers, its version, and the clock skew from its `Date`;
//! - `portworx`: the install, the issuer, the key (from [`crate::discovery::survey_signing_key`]);
//! - `steps` and `access`: each command's API calls, asked of the API server's authorizer;
//! - `tokens`: how healthy the stored tokens are;
//! - `storage_classes`: whether a StorageClass hands tenant Secrets to Portworx.
//!
//! Checks that need nothing from each other run at the same time; each is bounded by the
//! request timeout. A connection or API server that does not answer skips what depends on it.
//! Fixes that name the plugin's own flags or commands come from the caller's [`Advice`].

mod access;
mod check;
mod context;
mod portworx;
mod server;
mod steps;
mod storage_classes;
mod tokens;

use std::collections::BTreeSet;
use std::future::Future;
use std::time::Duration;

pub use access::{Permission, Scope, Step};
pub use check::{Check, Counts, Report, Status};
pub use server::classify_skew;
pub use storage_classes::{WiredClass, wired_class};

use crate::connection::{ApiAction, ApiError, Connection, ConnectionOptions};
use crate::discovery::{DiscoveryError, DiscoverySurvey, KeyOverrides, survey_signing_key};
use crate::message::one_line;
use crate::transport::{TransportFailure, timeout_text};

/// Every check, in report order.
pub const CHECK_NAMES: [&str; 12] = [
    "context",
    "user",
    "api-server",
    "clock",
    "portworx",
    "issuer",
    "signing-key",
    "tenant",
    "list",
    "rotate",
    "tokens",
    "storageclass",
];

/// Why checks that need the API server were skipped.
const NO_ANSWER: &str = "no answer from the API server (see api-server)";

/// What to check, as the user asked.
#[derive(Debug, Default)]
pub struct DoctorOptions {
    /// kubectl's flags; its `namespace` (`-n`) scopes the permission and token checks to one
    /// namespace, otherwise they cover all namespaces.
    pub connection: ConnectionOptions,
    pub overrides: KeyOverrides,
    /// How far tokens are backdated against clock skew.
    pub clock_skew: Duration,
}

/// The fixes that name the caller's flags and commands (a library has none).
pub trait Advice {
    /// The fix for an error of the library (a connection, an API call, discovery), if it has one.
    fn hint(&self, err: &(dyn std::error::Error + 'static)) -> Option<String>;
    /// How to give the issuer when discovery cannot find it.
    fn issuer(&self) -> String;
    /// How to get past a clock that runs ahead: sync it, or backdate by at least `at_least`.
    fn clock_skew(&self, at_least: Duration) -> String;
    /// How to re-issue the tokens in `namespaces`.
    fn rotate(&self, namespaces: &[String]) -> String;
    /// How to create a StorageClass wired to tenant Secrets.
    fn storage_class(&self) -> String;
    /// How to check one tenant namespace instead of all of them.
    fn one_namespace(&self) -> String;
}

/// Runs every check and reports them in [`CHECK_NAMES`] order.
pub async fn run_doctor(options: &DoctorOptions, advice: &dyn Advice) -> Report {
    let timeout = options.connection.request_timeout;
    let conn = match within(timeout, options.connection.connect()).await {
        Some(Ok(conn)) => conn,
        Some(Err(err)) => {
            let context =
                Check::new("context", Status::Fail, one_line(&err)).with_fix(advice.hint(&err).unwrap_or_default());
            return skipping_the_rest(vec![context], "no cluster to check");
        }
        None => {
            let detail = format!("loading the kubeconfig took longer than {}", timeout_text(timeout));
            return skipping_the_rest(vec![Check::new("context", Status::Fail, detail)], "no cluster to check");
        }
    };
    let (context, kubeconfig) = context::context_check(&conn, &options.connection);
    let probed = within(timeout, server::probe(&conn))
        .await
        .unwrap_or_else(|| Err(timed_out(&conn, "get", "/version", timeout)));
    let api_server = server::server_check(&probed, &conn.server, advice);
    if probed.is_err() {
        return skipping_the_rest(vec![context, Check::skip("user", NO_ANSWER), api_server], NO_ANSWER);
    }
    let clock = server::clock_check(&probed, options.clock_skew, |at_least| advice.clock_skew(at_least));

    let namespace = options.connection.namespace.as_deref();
    let onboarding = async {
        let (user, survey) = futures::join!(
            context::user_check(&conn, &kubeconfig, &options.connection),
            bounded_survey(&conn, &options.overrides, timeout)
        );
        let (user, user_name) = user;
        let mut checks = vec![
            user,
            portworx::install_check(&survey, advice),
            portworx::issuer_check(&survey, advice),
            portworx::key_check(&survey, advice, user_name.as_deref()),
        ];
        checks.extend(access_checks(&conn, &survey, options, user_name.as_deref(), timeout, advice).await);
        // The key is held only until the tokens are judged with it.
        let setup = survey.into_setup();
        let tokens = within(timeout, tokens::tokens_check(&conn, setup, namespace, advice))
            .await
            .unwrap_or_else(|| Check::skip("tokens", format!("no answer within {}", timeout_text(timeout))));
        checks.push(tokens);
        checks
    };
    let classes = async {
        let found = within(timeout, storage_classes::wired_classes(&conn))
            .await
            .unwrap_or_else(|| Err(timed_out(&conn, "list", "storageclasses.storage.k8s.io", timeout)));
        storage_classes::storage_class_check(found, advice.storage_class())
    };
    let (onboarding, storage_class) = futures::join!(onboarding, classes);
    let mut checks = vec![context];
    let mut onboarding = onboarding.into_iter();
    checks.extend(onboarding.next()); // user
    checks.push(api_server);
    checks.push(clock);
    checks.extend(onboarding);
    checks.push(storage_class);
    Report::new(checks)
}

/// The `tenant`, `list` and `rotate` lines: every permission asked once, all at the same time.
async fn access_checks(
    conn: &Connection,
    survey: &DiscoverySurvey,
    options: &DoctorOptions,
    user: Option<&str>,
    timeout: Option<Duration>,
    advice: &dyn Advice,
) -> Vec<Check> {
    let scope = Scope::of(options.connection.namespace.as_deref());
    let discovery = steps::discovery_steps(survey, options.overrides.px_namespace.as_deref());
    let commands = [
        ("tenant", steps::tenant_steps(&scope, &discovery), Status::Fail),
        ("list", steps::list_steps(&scope, &discovery), Status::Warn),
        ("rotate", steps::rotate_steps(&scope, &discovery), Status::Warn),
    ];
    let permissions: BTreeSet<Permission> =
        commands.iter().flat_map(|(_, steps, _)| steps.iter().map(|s| s.permission.clone())).collect();
    let Some(answers) = within(timeout, access::review(conn, permissions)).await else {
        let detail = format!("the API server did not answer the access reviews within {}", timeout_text(timeout));
        return commands.iter().map(|(name, _, _)| Check::skip(name, detail.clone())).collect();
    };
    let refused_everywhere = |steps: &[Step]| {
        steps.iter().any(|s| {
            s.permission.scope == Scope::AllNamespaces && matches!(answers.get(&s.permission), Some(Ok(false)))
        })
    };
    commands
        .iter()
        .map(|(name, steps, blocking)| {
            let check = access::access_check(name, steps, &answers, *blocking, user);
            // Rights in every namespace are more than a tenant's administrator usually holds.
            match (scope == Scope::AllNamespaces && refused_everywhere(steps), check.fix.clone()) {
                (true, Some(fix)) => check.with_fix(format!("{fix}\n{}", advice.one_namespace())),
                _ => check,
            }
        })
        .collect()
}

/// Discovery's findings, or every step failed with the timeout when it took too long.
async fn bounded_survey(conn: &Connection, overrides: &KeyOverrides, timeout: Option<Duration>) -> DiscoverySurvey {
    within(timeout, survey_signing_key(conn, overrides)).await.unwrap_or_else(|| {
        let err = || DiscoveryError::Api(timed_out(conn, "list", "storageclusters.core.libopenstorage.org", timeout));
        DiscoverySurvey {
            looked_at: vec![],
            install_needed: true,
            install: Err(err()),
            key_secret: None,
            key: Some(Err(err())),
            issuer: None,
        }
    })
}

/// `future`, or `None` when it takes longer than `timeout` (no timeout: always finishes).
async fn within<T>(timeout: Option<Duration>, future: impl Future<Output = T>) -> Option<T> {
    match timeout {
        Some(limit) => tokio::time::timeout(limit, future).await.ok(),
        None => Some(future.await),
    }
}

fn timed_out(conn: &Connection, verb: &'static str, resource: &'static str, timeout: Option<Duration>) -> ApiError {
    ApiError::Unreachable {
        action: Box::new(ApiAction::new(verb, resource, None, None)),
        server: conn.server.clone(),
        context: conn.context.clone(),
        source: TransportFailure::TimedOut(timeout),
    }
}

/// `done`, then every check not in it skipped for `why`.
fn skipping_the_rest(mut done: Vec<Check>, why: &str) -> Report {
    for name in CHECK_NAMES {
        if !done.iter().any(|c| c.name == name) {
            done.push(Check::skip(name, why));
        }
    }
    Report::new(done)
}
