//! The fix for a failure, in this binary's flags. The library says what went wrong and where;
//! only the binary knows which flag changes that, so the `error:` line ends with the hint
//! (`<what failed>: <how to fix it>`).
//!
//! Transparent wrappers (`#[error(transparent)]`) hide their inner error from the source chain,
//! so each wrapper is looked through here; the wrapper also tells which command failed, and so
//! which of its flags applies (`--secret-name` for tenant, `--save-secret` for admin).

use std::error::Error;

use pxtoken::admin::AdminError;
use pxtoken::claims::{AuthConfigError, ClaimsError};
use pxtoken::connection::{ApiError, ConnectError};
use pxtoken::discovery::{DiscoveryError, KeyFile};
use pxtoken::message::escape_controls;
use pxtoken::rotate::{RotateError, RunError, RunIncomplete};
use pxtoken::rotator_manifest::RotatorError;
use pxtoken::storage_class::{ApplyError, StorageClassError};
use pxtoken::tenant::{BulkIncomplete, GroupFailed, TenantError, TenantListError};
use pxtoken::token_list::SecretTokenError;
use pxtoken::token_secret::SecretWriteError;
use pxtoken::transport::TransportFailure;

/// The `error:` line's text: the failure and its causes, then the fix for the first error in
/// the chain that has one.
pub fn error_line(err: &(dyn Error + 'static)) -> String {
    let mut line = pxtoken::message::one_line(err);
    if let Some(hint) = hint(err) {
        line.push_str(": ");
        line.push_str(&hint);
    }
    line
}

/// The fix for the first error in `err`'s chain that has one.
pub fn hint(err: &(dyn Error + 'static)) -> Option<String> {
    std::iter::successors(Some(err), |&err| err.source()).find_map(hint_for_cause)
}

/// clap's refusal of the command line as one `error:` line: its message (up to the first blank
/// line, without the usage block) and its tips. A value it quotes is shown with control
/// characters escaped: raw, a newline would break the line and an ESC recolour the terminal.
pub fn usage_line(err: &clap::Error) -> String {
    use clap::error::ContextValue;
    let mut rendered = err.render().to_string();
    for (_, value) in err.context() {
        let raw: Vec<&str> = match value {
            ContextValue::String(value) => vec![value],
            ContextValue::Strings(values) => values.iter().map(String::as_str).collect(),
            _ => Vec::new(),
        };
        for raw in raw.into_iter().filter(|raw| raw.chars().any(char::is_control)) {
            rendered = rendered.replace(&format!("'{raw}'"), &format!("'{}'", escape_controls(raw)));
        }
    }
    let message: Vec<&str> = rendered.lines().take_while(|line| !line.trim().is_empty()).map(str::trim).collect();
    // clap's "did you mean" tips come after a blank line; they are worth the space.
    let tips: String =
        rendered.lines().map(str::trim).filter(|l| l.starts_with("tip:")).map(|l| format!("; {l}")).collect();
    escape_controls(&format!("{}{tips} (see 'kubectl pxtoken --help')", message.join(" ")))
}

/// The fix for `err` itself (looking through transparent wrappers), not for its sources.
/// Each library error type with flag-specific fixes gets a line here.
fn hint_for_cause(err: &(dyn Error + 'static)) -> Option<String> {
    if let Some(err) = err.downcast_ref::<DiscoveryError>() {
        return discovery(err);
    }
    if let Some(err) = err.downcast_ref::<ApplyError>() {
        return storage_class_apply(err);
    }
    if let Some(err) = err.downcast_ref::<StorageClassError>() {
        return storage_class(err);
    }
    if let Some(err) = err.downcast_ref::<RotatorError>() {
        return rotator(err);
    }
    if let Some(err) = err.downcast_ref::<TenantError>() {
        return match err {
            TenantError::AdminRefused { .. } => Some("pass --allow-admin if that is really meant".into()),
            TenantError::Claims(ClaimsError::Missing(claim)) => {
                Some(format!("set it with --{claim} or in the --auth-config file"))
            }
            TenantError::Write(err) => write(err, "--secret-name", true),
            TenantError::SubjectsDiffer { .. } => Some(
                "pass the one to keep with --sub (or sub: in the --from-file entry); volumes owned by the other stay with it".into(),
            ),
            TenantError::Sign(_) => None,
        };
    }
    if let Some(err) = err.downcast_ref::<AdminError>() {
        return match err {
            AdminError::Claims(ClaimsError::Missing(claim)) => Some(format!("set it with --{claim}")),
            AdminError::Write(err) => write(err, "--save-secret", false),
            AdminError::Sign(_) | AdminError::NoConnection { .. } => None,
        };
    }
    if let Some(ClaimsError::Missing(_)) = err.downcast_ref::<ClaimsError>() {
        return Some("set it in the --auth-config file".into());
    }
    if let Some(err) = err.downcast_ref::<SecretWriteError>() {
        return write(err, "--secret-name", true);
    }
    if let Some(err) = err.downcast_ref::<SecretTokenError>() {
        return match err {
            SecretTokenError::NotFound { .. } => {
                Some("check -n and --secret-name, or pipe the token to 'kubectl pxtoken inspect -'".into())
            }
            SecretTokenError::Api(err) => api(err),
        };
    }
    if let Some(err) = err.downcast_ref::<ApiError>() {
        return api(err);
    }
    if let Some(err) = err.downcast_ref::<ConnectError>() {
        return connect(err);
    }
    if let Some(err) = err.downcast_ref::<RotateError>() {
        return rotate(err);
    }
    if let Some(err) = err.downcast_ref::<RunError>() {
        return match err {
            RunError::List(err) => api(err),
            RunError::Incomplete(err) => incomplete(err),
            RunError::Output(_) => None,
        };
    }
    if let Some(err) = err.downcast_ref::<RunIncomplete>() {
        return incomplete(err);
    }
    if let Some(err) = err.downcast_ref::<BulkIncomplete>() {
        return Some(match err {
            BulkIncomplete::Failed(_) => FIX_AND_RUN_AGAIN.into(),
            BulkIncomplete::Interrupted(..) => RUN_AGAIN_TO_FINISH.into(),
        });
    }
    if err.is::<GroupFailed>() {
        return Some(
            "fix them and run the same command again; the namespaces written keep the tenant's subject".into(),
        );
    }
    if let Some(TenantListError::Parse { .. }) = err.downcast_ref::<TenantListError>() {
        return Some(
            "expected a YAML list of entries with namespace (or namespaces) and optional name, email, sub, roles, groups, secretName"
                .into(),
        );
    }
    if let Some(AuthConfigError::Parse { .. }) = err.downcast_ref::<AuthConfigError>() {
        return Some("expected YAML with keys name, email, sub, roles, groups".into());
    }
    None
}

/// How to give the issuer when it cannot be discovered.
pub const ISSUER_HINT: &str = "pass --issuer with the value of the nodes' -jwt_issuer";

/// The flag through which the user gives `file`.
pub fn key_file_flag(file: KeyFile) -> &'static str {
    match file {
        KeyFile::SharedSecret => "--shared-secret-file",
        KeyFile::RsaPrivateKey => "--rsa-private-keyfile",
        KeyFile::EcdsaPrivateKey => "--ecdsa-private-keyfile",
    }
}

/// How to get past a discovery failure. `None` for the errors that carry their own wording (a
/// bad key, an API refusal).
pub fn discovery(err: &DiscoveryError) -> Option<String> {
    let hint = match err {
        DiscoveryError::ReadFile { file, .. } => return Some(format!("check {}", key_file_flag(*file))),
        DiscoveryError::ReadStdin { .. } => "check what is piped to --shared-secret-file -",
        DiscoveryError::MissingKey { .. } | DiscoveryError::MissingSecret { .. } => "fix --shared-secret-ref",
        DiscoveryError::NotFound { .. } => {
            "pass --shared-secret-ref NAMESPACE/NAME:KEY (or --shared-secret-file, --px-namespace)"
        }
        DiscoveryError::Ambiguous { .. } => "choose one with --px-namespace NAMESPACE",
        DiscoveryError::NoIssuer { .. } => ISSUER_HINT,
        DiscoveryError::NoKeyOffline => "pass --shared-secret-file, --rsa-private-keyfile or --ecdsa-private-keyfile",
        DiscoveryError::NoIssuerOffline => "pass --issuer",
        DiscoveryError::Api(err) => return api(err),
        DiscoveryError::Key(_) => return None,
    };
    Some(hint.to_owned())
}

/// Storing a token Secret: `name_flag` chooses another Secret; `create_namespace` says whether
/// the command has `--create-namespace`.
fn write(err: &SecretWriteError, name_flag: &str, create_namespace: bool) -> Option<String> {
    match err {
        SecretWriteError::NotManaged { .. } => {
            Some(format!("pass --overwrite to take it over, or choose another {name_flag}"))
        }
        SecretWriteError::NamespaceMissing { .. } if create_namespace => {
            Some("create it first or pass --create-namespace".into())
        }
        SecretWriteError::NamespaceMissing { .. } => Some("create it first".into()),
        SecretWriteError::Api(err) => api(err),
        SecretWriteError::InvalidTarget(_) | SecretWriteError::Conflict { .. } => None,
    }
}

/// What to do about a token `rotate` did not renew (its line names the namespace and Secret).
fn rotate(err: &RotateError) -> Option<String> {
    let hint = match err {
        RotateError::Malformed { .. } => "issue a new one with 'kubectl pxtoken tenant NAMESPACE --secret-name NAME'",
        RotateError::BadSignature { .. } => {
            "find out who changed it; 'kubectl pxtoken tenant NAMESPACE --secret-name NAME' re-issues it, keeping its sub"
        }
        RotateError::UnverifiedAdmin { .. } => "re-issue it with 'kubectl pxtoken admin --save-secret NAMESPACE/NAME'",
        RotateError::Contended { .. } => "run the same command again",
        RotateError::Read(err) => return api(err),
        RotateError::Write(err) => return write(err, "--secret-name", false),
        RotateError::Claims(_) | RotateError::Payload(_) | RotateError::Sign(_) => return None,
    };
    Some(hint.to_owned())
}

/// The fixes for a bulk run (`tenant --from-file`, `rotate`) that did not do every item.
const FIX_AND_RUN_AGAIN: &str = "fix them and run the same command again";
const RUN_AGAIN_TO_FINISH: &str = "run the same command again to finish";

fn incomplete(err: &RunIncomplete) -> Option<String> {
    match err {
        RunIncomplete::Failed(_) => Some(FIX_AND_RUN_AGAIN.into()),
        RunIncomplete::Interrupted(..) => Some(RUN_AGAIN_TO_FINISH.into()),
    }
}

fn api(err: &ApiError) -> Option<String> {
    let hint = match err {
        ApiError::Unreachable { source, .. } => match source {
            TransportFailure::Refused => {
                "check that the API server is up and that --context and --kubeconfig point at it"
            }
            TransportFailure::Reset => {
                "check the network path to the server (proxy, VPN, load balancer) and run the same command again"
            }
            TransportFailure::TimedOut(_) => "raise --request-timeout, or check the network path to the server",
            TransportFailure::Certificate(_) => {
                "check the cluster's certificate authority in --kubeconfig, or --context"
            }
            TransportFailure::Dns => "check the server address in --kubeconfig, or --context",
            TransportFailure::Other(_) => "check --context, --kubeconfig and --request-timeout",
        },
        ApiError::Unauthorized { .. } => {
            "renew them in the kubeconfig (is the client certificate or token expired?), or choose another --context or --user"
        }
        ApiError::Rejected { status, .. } if status.code == 429 => {
            "the API server stayed too busy through every retry; run the same command again later"
        }
        ApiError::Rejected { status, .. } if status.message.contains("failed calling webhook") => {
            "an admission webhook of the cluster is failing: ask its owner (kubectl get validatingwebhookconfigurations,mutatingwebhookconfigurations)"
        }
        ApiError::Forbidden { .. } | ApiError::Rejected { .. } => return None,
    };
    Some(hint.to_owned())
}

fn connect(err: &ConnectError) -> Option<String> {
    match err {
        ConnectError::Kubeconfig { .. } | ConnectError::KubeconfigRead { .. } | ConnectError::KubeconfigYaml { .. } => {
            Some("check --kubeconfig".into())
        }
        ConnectError::ExecPlugin { .. } => {
            Some("run the plugin yourself to see why, or choose another --context or --user".into())
        }
        ConnectError::NoConfig => Some("pass --kubeconfig or set KUBECONFIG".into()),
        ConnectError::Context { .. } | ConnectError::NoCurrentContext { .. } | ConnectError::NoSuchUser { .. } => {
            Some("check --context, --cluster, --user".into())
        }
        ConnectError::InCluster(_) | ConnectError::Client { .. } => None,
    }
}

/// How to get past a StorageClass that was refused. Kubernetes never changes an existing class's
/// provisioner or parameters, so the way out is a new class: the same name after a delete (the
/// volumes it provisioned keep working), or another name.
pub fn storage_class_apply(err: &ApplyError) -> Option<String> {
    match err {
        ApplyError::Immutable { name, .. } => Some(format!(
            "delete it first (kubectl delete storageclass {name}; volumes it provisioned keep working) and apply again, or choose another name"
        )),
        ApplyError::ManagedElsewhere { name, .. } => Some(format!(
            "change those settings with that tool, or delete it (kubectl delete storageclass {name}) and apply again"
        )),
        ApplyError::Api(err) => api(err),
    }
}

pub fn storage_class(err: &StorageClassError) -> Option<String> {
    let hint = match err {
        StorageClassError::ReservedParam { .. } => {
            "drop that --param: --secret-name and --tenant choose the Secret the class uses"
        }
        StorageClassError::DuplicateParam { .. } => "give each --param key once",
        StorageClassError::MalformedParam { .. } => "fix --param",
        StorageClassError::ReclaimPolicy { .. } => "fix --reclaim-policy",
        StorageClassError::Name(_) => return None,
    };
    Some(hint.to_owned())
}

pub fn rotator(err: &RotatorError) -> Option<String> {
    let hint = match err {
        RotatorError::KeyNamespaceMissing { .. } => "pass --shared-secret-ref NAMESPACE/NAME:KEY",
        RotatorError::EmptyIssuer => "pass --issuer with the value of the nodes' -jwt_issuer",
        RotatorError::Image { .. } => "fix --image",
        RotatorError::Name(_) => return None,
    };
    Some(hint.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use pxtoken::discovery::{Install, SharedSecretRef};

    /// The usage line for a command line clap refuses.
    fn refused(args: &[&str]) -> String {
        use clap::Parser as _;
        let err =
            crate::Cli::try_parse_from(std::iter::once("kubectl-pxtoken").chain(args.iter().copied())).unwrap_err();
        usage_line(&err)
    }

    #[test]
    fn usage_lines_escape_what_the_user_typed() {
        assert_eq!(
            refused(&["tenant", "x", "--token-duration", "1\n\u{1b}[31m"]),
            "error: invalid value '1\\n\\u{1b}[31m' for '--token-duration <DURATION>': invalid duration \"1\\n\\u{1b}[31m\": expected <digits><unit> with unit s, m, h, d (24h) or y (365d), e.g. 90d or 1y (see 'kubectl pxtoken --help')"
        );
        assert_eq!(refused(&["\u{7}x"]), "error: unrecognized subcommand '\\u{7}x' (see 'kubectl pxtoken --help')");
        let line = refused(&["tenant", "x", "--\u{1b}[2J"]);
        assert!(line.starts_with("error: unexpected argument '--\\u{1b}[2J' found"), "{line}");
        assert!(!line.contains(['\n', '\u{1b}']), "{line}");
    }

    fn line(err: impl Into<anyhow::Error>) -> String {
        error_line(err.into().as_ref())
    }

    #[test]
    fn discovery_lines_read_as_before_the_hints_moved_out_of_the_library() {
        let installs = vec![
            Install::StorageCluster { namespace: "px-one".into(), name: "px".into() },
            Install::StorageCluster { namespace: "px-two".into(), name: "px".into() },
        ];
        assert_eq!(
            line(DiscoveryError::Ambiguous { installs }),
            "found StorageCluster px-one/px and StorageCluster px-two/px: choose one with --px-namespace NAMESPACE"
        );
        assert_eq!(
            line(DiscoveryError::NotFound { looked_at: vec!["a".into(), "b".into()] }),
            "no Portworx signing key found; looked at a; b: pass --shared-secret-ref NAMESPACE/NAME:KEY (or --shared-secret-file, --px-namespace)"
        );
        let reference = SharedSecretRef::new("ns", "keys", "k");
        assert_eq!(
            line(DiscoveryError::MissingSecret { reference }),
            "secret ns/keys:k not found: fix --shared-secret-ref"
        );
    }

    #[test]
    fn a_missing_token_secret_says_which_flags_name_it() {
        let err = SecretTokenError::NotFound { namespace: "team-a".into(), name: "px".into() };
        assert_eq!(
            line(err),
            r#"secret "px" not found in namespace "team-a": check -n and --secret-name, or pipe the token to 'kubectl pxtoken inspect -'"#
        );
    }

    #[test]
    fn store_lines_name_the_flag_of_the_command_that_failed() {
        let missing = || SecretWriteError::NamespaceMissing { namespace: "team-x".into() };
        assert_eq!(
            line(TenantError::Write(missing())),
            r#"namespace "team-x" not found: create it first or pass --create-namespace"#
        );
        assert_eq!(line(AdminError::Write(missing())), r#"namespace "team-x" not found: create it first"#);
        let foreign = || SecretWriteError::NotManaged { namespace: "a".into(), name: "s".into() };
        assert_eq!(
            line(TenantError::Write(foreign())),
            "secret a/s exists and was not created by kubectl-pxtoken; left untouched: pass --overwrite to take it over, or choose another --secret-name"
        );
        assert!(line(AdminError::Write(foreign())).ends_with("or choose another --save-secret"));
        assert_eq!(
            line(TenantError::AdminRefused { namespace: "a".into() }),
            r#"refusing to give tenant "a" administrator powers (role system.admin or group "*"): pass --allow-admin if that is really meant"#
        );
        assert_eq!(
            line(TenantError::Claims(ClaimsError::Missing("email"))),
            "the token has no email: set it with --email or in the --auth-config file"
        );
        assert_eq!(line(ClaimsError::Missing("sub")), "the token has no sub: set it in the --auth-config file");
    }

    #[test]
    fn an_immutable_storage_class_says_which_settings_differ_and_the_way_out() {
        use pxtoken::storage_class::Difference;
        let difference =
            Difference { field: "parameters.repl".into(), existing: Some("2".into()), wanted: Some("3".into()) };
        let err = ApplyError::Immutable { name: "fast".into(), differences: vec![difference] };
        assert_eq!(
            line(err),
            "storageclass \"fast\" already exists with different settings that Kubernetes does not allow to change (parameters.repl is \"2\", wanted \"3\"); nothing was changed: delete it first (kubectl delete storageclass fast; volumes it provisioned keep working) and apply again, or choose another name"
        );
        let reserved = StorageClassError::ReservedParam { key: "csi.storage.k8s.io/node-stage-secret-name".into() };
        assert!(
            line(reserved)
                .ends_with(": drop that --param: --secret-name and --tenant choose the Secret the class uses")
        );
        assert_eq!(
            line(RotatorError::EmptyIssuer),
            "the issuer is empty; the rotator must sign with the issuer Portworx trusts: pass --issuer with the value of the nodes' -jwt_issuer"
        );
    }

    #[test]
    fn a_hint_is_found_below_added_context() {
        let missing = std::io::Error::from(std::io::ErrorKind::NotFound);
        let err = anyhow::Error::new(DiscoveryError::ReadFile {
            file: KeyFile::EcdsaPrivateKey,
            path: "/k.pem".into(),
            source: missing,
        })
        .context("cannot sign");
        let line = error_line(err.as_ref());
        assert!(line.starts_with("cannot sign: cannot read the ECDSA private key file /k.pem: "), "{line}");
        assert!(line.ends_with(": check --ecdsa-private-keyfile"), "{line}");
        let err = anyhow::Error::new(ConnectError::NoConfig).context("while onboarding");
        assert!(error_line(err.as_ref()).ends_with(": pass --kubeconfig or set KUBECONFIG"));
        assert_eq!(error_line(anyhow::anyhow!("plain").as_ref()), "plain");
    }

    #[test]
    fn each_fault_on_the_way_to_the_server_gets_its_own_fix() {
        use pxtoken::connection::ApiAction;
        let action = || Box::new(ApiAction::new("get", "secrets", Some("px"), Some("pxkeys")));
        let unreachable = |source| ApiError::Unreachable {
            action: action(),
            server: "https://k:6443".into(),
            context: "prod".into(),
            source,
        };
        let line = line(unreachable(TransportFailure::TimedOut(Some(std::time::Duration::from_secs(2)))));
        assert_eq!(
            line,
            r#"cannot reach the API server https://k:6443 (context "prod") to get secrets "pxkeys" in namespace "px": no answer within 2s: raise --request-timeout, or check the network path to the server"#
        );
        let hint_of = |failure| hint(&unreachable(failure)).unwrap();
        assert!(hint_of(TransportFailure::Refused).starts_with("check that the API server is up"));
        assert!(hint_of(TransportFailure::Reset).starts_with("check the network path"));
        assert!(hint_of(TransportFailure::Certificate("UnknownIssuer".into())).contains("certificate authority"));

        let rejected = |code, message: &str| ApiError::Rejected {
            action: action(),
            status: Box::new(kube::core::Status { code, message: message.into(), ..Default::default() }),
        };
        assert!(hint(&rejected(429, "Too many requests")).unwrap().contains("run the same command again later"));
        let webhook = r#"Internal error occurred: failed calling webhook "v.example.com": failed to call webhook"#;
        assert!(hint(&rejected(500, webhook)).unwrap().contains("admission webhook"));
        assert_eq!(hint(&rejected(500, "etcdserver: leader changed")), None);
        let unauthorized =
            ApiError::Unauthorized { action: action(), server: "https://k:6443".into(), context: "prod".into() };
        assert!(hint(&unauthorized).unwrap().starts_with("renew them in the kubeconfig"));
    }
}
