//! The fix for an error, in this command line's words: the library says what failed and where,
//! and never names a flag; this adds which flag or step fixes it (SPEC: one `error:` line that
//! names what failed, where, and the fix).
//!
//! A hint is the text appended to the error's line, starting with its own separator (`: …` or
//! ` (…)`), so the line reads as one sentence. Transparent wrappers hide their inner error from
//! the source chain, so each wrapper is looked through here; the wrapper also tells which
//! command failed, and so which of its flags applies.

use std::error::Error;

use pxtoken::admin::AdminError;
use pxtoken::claims::{AuthConfigError, ClaimsError};
use pxtoken::connection::{ApiError, ConnectError};
use pxtoken::discovery::DiscoveryError;
use pxtoken::tenant::{BulkFailed, TenantError, TenantListError};
use pxtoken::token_secret::SecretWriteError;

/// The hint for the first error in `err`'s chain that has one.
pub fn hint_for(err: &anyhow::Error) -> Option<String> {
    err.chain().find_map(hint_for_cause)
}

/// The hint for `err` itself (looking through transparent wrappers), not its sources.
pub fn hint_for_cause(err: &(dyn Error + 'static)) -> Option<String> {
    if let Some(err) = err.downcast_ref::<TenantError>() {
        return match err {
            TenantError::AdminRefused { .. } => Some(": pass --allow-admin if that is really meant".into()),
            TenantError::Claims(ClaimsError::Missing(claim)) => {
                Some(format!(": set it with --{claim} or in the --auth-config file"))
            }
            TenantError::Write(err) => write(err, "--secret-name", true),
            TenantError::Sign(_) => None,
        };
    }
    if let Some(err) = err.downcast_ref::<AdminError>() {
        return match err {
            AdminError::Claims(ClaimsError::Missing(claim)) => Some(format!(": set it with --{claim}")),
            AdminError::Write(err) => write(err, "--save-secret", false),
            AdminError::Sign(_) | AdminError::NoConnection { .. } => None,
        };
    }
    if let Some(ClaimsError::Missing(_)) = err.downcast_ref::<ClaimsError>() {
        return Some(": set it in the --auth-config file".into());
    }
    if let Some(err) = err.downcast_ref::<SecretWriteError>() {
        return write(err, "--secret-name", true);
    }
    if let Some(DiscoveryError::Api(err)) = err.downcast_ref::<DiscoveryError>() {
        return api(err);
    }
    if let Some(err) = err.downcast_ref::<ApiError>() {
        return api(err);
    }
    if let Some(err) = err.downcast_ref::<ConnectError>() {
        return connect(err);
    }
    if let Some(TenantListError::Parse { .. }) = err.downcast_ref::<TenantListError>() {
        return Some(
            " (expected a YAML list of entries with namespace and optional name, email, sub, roles, groups, secretName)"
                .into(),
        );
    }
    if err.is::<BulkFailed>() {
        return Some("; fix them and run the same command again".into());
    }
    if let Some(AuthConfigError::Parse { .. }) = err.downcast_ref::<AuthConfigError>() {
        return Some(" (expected YAML with keys name, email, sub, roles, groups)".into());
    }
    None
}

/// Storing a token Secret: `name_flag` chooses another Secret; `create_namespace` says whether
/// the command has `--create-namespace`.
fn write(err: &SecretWriteError, name_flag: &str, create_namespace: bool) -> Option<String> {
    match err {
        SecretWriteError::NotManaged { .. } => {
            Some(format!(" (pass --overwrite to take it over, or choose another {name_flag})"))
        }
        SecretWriteError::NamespaceMissing { .. } if create_namespace => {
            Some(": create it first or pass --create-namespace".into())
        }
        SecretWriteError::NamespaceMissing { .. } => Some(": create it first".into()),
        SecretWriteError::Api(err) => api(err),
        SecretWriteError::InvalidTarget(_) | SecretWriteError::Conflict { .. } => None,
    }
}

fn api(err: &ApiError) -> Option<String> {
    match err {
        ApiError::Unreachable { .. } => Some(" (check --context, --kubeconfig and --request-timeout)".into()),
        ApiError::Forbidden { .. } | ApiError::Rejected { .. } => None,
    }
}

fn connect(err: &ConnectError) -> Option<String> {
    match err {
        ConnectError::Kubeconfig { .. } => Some(" (check --kubeconfig)".into()),
        ConnectError::NoConfig => Some(": pass --kubeconfig or set KUBECONFIG".into()),
        ConnectError::Context { .. } | ConnectError::NoCurrentContext { .. } => {
            Some(" (check --context, --cluster, --user)".into())
        }
        ConnectError::InCluster(_) | ConnectError::Client { .. } => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pxtoken::message::one_line;

    /// The `error:` line main prints for `err`.
    fn line(err: anyhow::Error) -> String {
        format!("{}{}", one_line(err.as_ref()), hint_for(&err).unwrap_or_default())
    }

    #[test]
    fn lines_read_as_before_the_hints_moved_out_of_the_library() {
        let missing = SecretWriteError::NamespaceMissing { namespace: "team-x".into() };
        assert_eq!(
            line(TenantError::Write(missing).into()),
            r#"namespace "team-x" not found: create it first or pass --create-namespace"#
        );
        let foreign = || SecretWriteError::NotManaged { namespace: "a".into(), name: "s".into() };
        assert_eq!(
            line(TenantError::Write(foreign()).into()),
            "secret a/s exists and was not created by kubectl-pxtoken; left untouched (pass --overwrite to take it over, or choose another --secret-name)"
        );
        assert!(line(AdminError::Write(foreign()).into()).ends_with("or choose another --save-secret)"));
        assert_eq!(
            line(TenantError::AdminRefused { namespace: "a".into() }.into()),
            r#"refusing to give tenant "a" administrator powers (role system.admin or group "*"): pass --allow-admin if that is really meant"#
        );
        assert_eq!(
            line(TenantError::Claims(ClaimsError::Missing("email")).into()),
            "the token has no email: set it with --email or in the --auth-config file"
        );
        assert_eq!(line(ClaimsError::Missing("sub").into()), "the token has no sub: set it in the --auth-config file");
    }

    #[test]
    fn hints_are_found_down_the_chain() {
        let err = anyhow::Error::new(ConnectError::NoConfig).context("while onboarding");
        assert_eq!(hint_for(&err).as_deref(), Some(": pass --kubeconfig or set KUBECONFIG"));
        assert_eq!(hint_for(&anyhow::anyhow!("plain")), None);
    }
}
