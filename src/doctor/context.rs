//! Who and where: the kubeconfig context, cluster and user the checks run as, and the user as
//! the API server sees it. Only names are shown: how a user authenticates is named by kind
//! (client certificate, token, exec plugin `aws`), never by value, file contents, exec arguments
//! or environment.

use k8s_openapi::api::authentication::v1::SelfSubjectReview;
use kube::api::{Api, PostParams};
use kube::config::{AuthInfo, Kubeconfig};

use super::check::Check;
use crate::connection::{ApiAction, Connection, ConnectionOptions};
use crate::message::one_line;

/// What the kubeconfig says about the context in use (all names, no credentials).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KubeconfigUser {
    pub cluster: Option<String>,
    pub user: Option<String>,
    /// How that user authenticates, by kind.
    pub auth: Option<String>,
}

/// The cluster and user of `context` (or the flags' overrides) in `kubeconfig`.
pub fn kubeconfig_user(kubeconfig: &Kubeconfig, context: &str, options: &ConnectionOptions) -> KubeconfigUser {
    let named = kubeconfig.contexts.iter().find(|c| c.name == context).and_then(|c| c.context.as_ref());
    let cluster = options.cluster.clone().or_else(|| named.map(|c| c.cluster.clone()));
    let user = options.user.clone().or_else(|| named.and_then(|c| c.user.clone()));
    let auth = user.as_ref().and_then(|user| {
        let info = kubeconfig.auth_infos.iter().find(|a| &a.name == user)?;
        Some(auth_kind(info.auth_info.as_ref()?))
    });
    KubeconfigUser { cluster, user, auth }
}

/// How a kubeconfig user authenticates, by kind only. Exec plugins are named by their
/// command's file name (`aws`, `gke-gcloud-auth-plugin`); their arguments and environment can
/// hold credentials and are never shown.
pub fn auth_kind(info: &AuthInfo) -> String {
    if let Some(exec) = &info.exec {
        let command = exec.command.as_deref().unwrap_or_default();
        let name = std::path::Path::new(command).file_name().map(|n| n.to_string_lossy().into_owned());
        return match name.filter(|n| !n.is_empty()) {
            Some(name) => format!("exec plugin {name}"),
            None => "exec plugin".into(),
        };
    }
    if let Some(provider) = &info.auth_provider {
        return format!("auth provider {}", provider.name);
    }
    let kind = if info.client_certificate.is_some() || info.client_certificate_data.is_some() {
        "client certificate"
    } else if info.token.is_some() || info.token_file.is_some() {
        "bearer token"
    } else if info.username.is_some() {
        "basic auth"
    } else {
        "no credentials"
    };
    kind.to_owned()
}

/// The `context` line: context, cluster, server and default namespace.
pub fn context_check(conn: &Connection, options: &ConnectionOptions) -> (Check, KubeconfigUser) {
    let from_file = match &options.kubeconfig {
        Some(path) => Kubeconfig::read_from(path).ok(),
        None => Kubeconfig::read().ok(),
    };
    let facts = from_file.map(|k| kubeconfig_user(&k, &conn.context, options)).unwrap_or_default();
    let cluster = facts.cluster.as_deref().map(|c| format!(", cluster {c}")).unwrap_or_default();
    let detail = format!("{}{cluster}, server {}, namespace {}", conn.context, conn.server, conn.namespace);
    (Check::pass("context", detail), facts)
}

/// The user as the API server sees it (a SelfSubjectReview), next to the kubeconfig's name for
/// it. Returns the server's user name, which the RBAC fixes bind to.
pub async fn user_check(
    conn: &Connection,
    kubeconfig: &KubeconfigUser,
    options: &ConnectionOptions,
) -> (Check, Option<String>) {
    let mut local = match (&kubeconfig.user, &kubeconfig.auth) {
        (Some(user), Some(auth)) => format!("{user} ({auth})"),
        (Some(user), None) => user.clone(),
        (None, _) if conn.context == "in-cluster" => "in-cluster service account".into(),
        (None, _) => "no user in the kubeconfig".into(),
    };
    if let Some(as_user) = &options.impersonate {
        local.push_str(&format!(", impersonating {as_user}"));
    }
    let api: Api<SelfSubjectReview> = Api::all(conn.client.clone());
    match api.create(&PostParams::default(), &SelfSubjectReview::default()).await {
        Ok(review) => {
            let info = review.status.and_then(|s| s.user_info).unwrap_or_default();
            let name = info.username.filter(|n| !n.is_empty());
            let groups = info.groups.unwrap_or_default();
            let seen = name.as_deref().unwrap_or("an anonymous user");
            let groups = if groups.is_empty() { String::new() } else { format!(" (groups {})", groups.join(", ")) };
            (Check::pass("user", format!("{local}; the API server knows you as {seen}{groups}")), name)
        }
        Err(err) => {
            let err =
                conn.api_error(ApiAction::new("create", "selfsubjectreviews.authentication.k8s.io", None, None), err);
            // Servers before Kubernetes 1.28 lack the API; the name is then all there is.
            let detail = format!("{local}; cannot ask the API server who that is: {}", one_line(&err));
            (Check::pass("user", detail), options.impersonate.clone().or_else(|| kubeconfig.user.clone()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::config::{AuthProviderConfig, ExecConfig, NamedAuthInfo, NamedContext};

    const CREDENTIAL: &str = "c2VjcmV0LXZhbHVlLXRoYXQtbXVzdC1ub3Qtc2hvdw==";

    #[test]
    fn users_are_described_by_kind_never_by_value() {
        let with = |edit: &dyn Fn(&mut AuthInfo)| {
            let mut info = AuthInfo::default();
            edit(&mut info);
            auth_kind(&info)
        };
        let exec = ExecConfig {
            api_version: None,
            command: Some("/usr/local/bin/aws".into()),
            args: Some(vec!["--token".into(), CREDENTIAL.into()]),
            env: Some(vec![std::collections::HashMap::from([
                ("name".into(), "T".into()),
                ("value".into(), CREDENTIAL.into()),
            ])]),
            ..ExecConfig::default()
        };
        let described = [
            with(&|i| i.exec = Some(exec.clone())),
            with(&|i| i.token = Some(CREDENTIAL.to_owned().into())),
            with(&|i| i.client_certificate_data = Some(CREDENTIAL.into())),
            with(&|i| {
                i.username = Some("u".into());
                i.password = Some(CREDENTIAL.to_owned().into());
            }),
            with(&|i| {
                i.auth_provider = Some(AuthProviderConfig {
                    name: "oidc".into(),
                    config: [("id-token".into(), CREDENTIAL.into())].into(),
                    ..AuthProviderConfig::default()
                })
            }),
            with(&|_| {}),
        ];
        assert_eq!(
            described,
            [
                "exec plugin aws",
                "bearer token",
                "client certificate",
                "basic auth",
                "auth provider oidc",
                "no credentials"
            ]
        );
    }

    #[test]
    fn the_context_names_its_cluster_and_user_and_flags_override_them() {
        let kubeconfig = Kubeconfig {
            contexts: vec![NamedContext {
                name: "prod".into(),
                context: Some(kube::config::Context {
                    cluster: "c1".into(),
                    user: Some("alice".into()),
                    ..Default::default()
                }),
                ..NamedContext::default()
            }],
            auth_infos: vec![NamedAuthInfo {
                name: "alice".into(),
                auth_info: Some(AuthInfo { token: Some(CREDENTIAL.to_owned().into()), ..Default::default() }),
                ..NamedAuthInfo::default()
            }],
            ..Default::default()
        };
        let facts = kubeconfig_user(&kubeconfig, "prod", &ConnectionOptions::default());
        assert_eq!(
            facts,
            KubeconfigUser {
                cluster: Some("c1".into()),
                user: Some("alice".into()),
                auth: Some("bearer token".into())
            }
        );
        let options = ConnectionOptions { user: Some("bob".into()), cluster: Some("c2".into()), ..Default::default() };
        let facts = kubeconfig_user(&kubeconfig, "prod", &options);
        assert_eq!((facts.cluster.as_deref(), facts.user.as_deref(), facts.auth), (Some("c2"), Some("bob"), None));
    }
}
