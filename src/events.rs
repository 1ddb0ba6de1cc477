//! Kubernetes Events on token Secrets: the history an administrator (or the users of an
//! in-cluster rotator) looks at first, with `kubectl get events` / `kubectl events --for`.
//!
//! Written with the core/v1 Events API, one `create` per Event, no event recorder: the plugin is
//! a short-lived process that records a handful of Events per run, so client-go's aggregation
//! and rate limiting (kube-runtime's `Recorder`) would cost binary size and buy nothing.
//!
//! Messages name the subject, expiries and where the key came from: never a token or key.
//! Recording is best effort: a caller turns [`EventError`] into a warning, because the token
//! is already stored when the Event is written and an Event is no reason to fail a rotation.

use k8s_openapi::api::core::v1::{Event, EventSource, ObjectReference, Secret};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, Time};
use kube::api::{Api, ObjectMeta, PostParams};

use crate::connection::{ApiAction, ApiError, Connection};
use crate::token_secret::{MANAGED_BY_VALUE, rfc3339};

/// `reportingComponent` and `source.component`: who wrote the Event.
pub const COMPONENT: &str = MANAGED_BY_VALUE;
/// The API server's limit on an Event's message (`NoteLengthLimit`, in bytes).
const MESSAGE_LIMIT: usize = 1024;
/// The API server's limit on `reportingInstance`.
const INSTANCE_LIMIT: usize = 128;

/// What happened to a token, as an Event reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenEventReason {
    /// A token was re-issued in place (type Normal).
    Rotated,
    /// A token should have been re-issued and was not (type Warning).
    RotationFailed,
}

impl TokenEventReason {
    /// The Event's `reason`, what `--field-selector reason=…` matches.
    pub fn reason(self) -> &'static str {
        match self {
            TokenEventReason::Rotated => "TokenRotated",
            TokenEventReason::RotationFailed => "TokenRotationFailed",
        }
    }

    /// The Event's `type`: `Normal` or `Warning`.
    pub fn event_type(self) -> &'static str {
        match self {
            TokenEventReason::Rotated => "Normal",
            TokenEventReason::RotationFailed => "Warning",
        }
    }
}

/// The facts an Event message states about one token. No field may hold a token or a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RotationFacts {
    pub subject: String,
    /// `exp` of the token that was there, if it could be read.
    pub old_expiry: Option<i64>,
    /// `exp` of the new token (rotations only).
    pub new_expiry: Option<i64>,
    /// Where the signing key came from (`KeySource::annotation`), never the key.
    pub key_source: String,
    /// The issuer changed from this one to the new token's.
    pub old_issuer: Option<String>,
    pub new_issuer: Option<String>,
}

/// The message of a `TokenRotated` Event.
pub fn rotated_message(facts: &RotationFacts) -> String {
    let old = facts.old_expiry.map(rfc3339).unwrap_or_else(|| "unknown".into());
    let new = facts.new_expiry.map(rfc3339).unwrap_or_else(|| "unknown".into());
    let mut message = format!(
        "re-issued the token of subject {} (expiry {old} -> {new}), signed with {}",
        facts.subject, facts.key_source
    );
    if let (Some(old), Some(new)) = (&facts.old_issuer, &facts.new_issuer)
        && old != new
    {
        message.push_str(&format!("; issuer changed from {old} to {new}"));
    }
    truncate(message)
}

/// The message of a `TokenRotationFailed` Event; `reason` is an error's one-line text.
pub fn failed_message(facts: &RotationFacts, reason: &str) -> String {
    let old = facts.old_expiry.map(|exp| format!(" (expiry {})", rfc3339(exp))).unwrap_or_default();
    truncate(format!(
        "could not re-issue the token of subject {}{old} with {}: {reason}",
        if facts.subject.is_empty() { "unknown" } else { &facts.subject },
        facts.key_source
    ))
}

/// Cuts a message to the API server's limit on a character boundary.
fn truncate(mut message: String) -> String {
    if message.len() > MESSAGE_LIMIT {
        let mut end = MESSAGE_LIMIT - 3;
        while !message.is_char_boundary(end) {
            end -= 1;
        }
        message.truncate(end);
        message.push_str("...");
    }
    message
}

/// Why an Event was not recorded. A warning for the caller, never a failed rotation.
#[derive(Debug, thiserror::Error)]
pub enum EventError {
    #[error("secret has no name or namespace; no event recorded")]
    Unnamed,
    #[error("could not record event {reason} on secret {name}: {source}")]
    Api {
        reason: &'static str,
        name: String,
        #[source]
        source: Box<ApiError>,
    },
}

/// This process, as Events name it: the Pod's name in a Pod (the hostname), else the host.
pub fn reporting_instance() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| COMPONENT.to_owned());
    host.chars().take(INSTANCE_LIMIT).collect()
}

/// The Event to create on `secret` (as last written or read: its uid and resourceVersion).
/// `now` is explicit so tests can pin it.
pub fn token_event(
    secret: &Secret,
    reason: TokenEventReason,
    message: String,
    instance: &str,
    now: jiff::Timestamp,
) -> Result<Event, EventError> {
    let meta = &secret.metadata;
    let (Some(name), Some(namespace)) = (meta.name.clone(), meta.namespace.clone()) else {
        return Err(EventError::Unnamed);
    };
    // Seconds for the legacy timestamps (kubectl's LAST SEEN), microseconds for eventTime.
    let seconds = jiff::Timestamp::from_second(now.as_second()).unwrap_or(now);
    Ok(Event {
        metadata: ObjectMeta {
            // The server adds a random suffix: two Events for one Secret never collide.
            generate_name: Some(format!("{name}.")),
            namespace: Some(namespace.clone()),
            ..ObjectMeta::default()
        },
        involved_object: ObjectReference {
            api_version: Some("v1".into()),
            kind: Some("Secret".into()),
            namespace: Some(namespace),
            name: Some(name),
            uid: meta.uid.clone(),
            resource_version: meta.resource_version.clone(),
            field_path: None,
        },
        reason: Some(reason.reason().into()),
        type_: Some(reason.event_type().into()),
        message: Some(message),
        action: Some("Rotate".into()),
        count: Some(1),
        first_timestamp: Some(Time(seconds)),
        last_timestamp: Some(Time(seconds)),
        event_time: Some(MicroTime(now)),
        reporting_component: Some(COMPONENT.into()),
        reporting_instance: Some(instance.to_owned()),
        source: Some(EventSource { component: Some(COMPONENT.into()), host: Some(instance.to_owned()) }),
        related: None,
        series: None,
    })
}

/// Records `reason` with `message` on `secret` (one POST). Not retried: see the module notes.
pub async fn record(
    conn: &Connection,
    secret: &Secret,
    reason: TokenEventReason,
    message: String,
    instance: &str,
) -> Result<(), EventError> {
    let event = token_event(secret, reason, message, instance, jiff::Timestamp::now())?;
    let namespace = event.involved_object.namespace.clone().unwrap_or_default();
    let name = event.involved_object.name.clone().unwrap_or_default();
    let api: Api<Event> = Api::namespaced(conn.client.clone(), &namespace);
    let params = PostParams { dry_run: false, field_manager: Some(COMPONENT.into()) };
    match api.create(&params, &event).await {
        Ok(_) => Ok(()),
        Err(err) => {
            let action = ApiAction::new("create", "events", Some(&namespace), None);
            Err(EventError::Api { reason: reason.reason(), name, source: Box::new(conn.api_error(action, err)) })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret() -> Secret {
        Secret {
            metadata: ObjectMeta {
                name: Some("px-k8s-user".into()),
                namespace: Some("team-a".into()),
                uid: Some("u-1".into()),
                resource_version: Some("77".into()),
                ..ObjectMeta::default()
            },
            ..Secret::default()
        }
    }

    fn facts() -> RotationFacts {
        RotationFacts {
            subject: "0f4e".into(),
            old_expiry: Some(86_400),
            new_expiry: Some(2 * 86_400),
            key_source: "secret:kube-system/pxkeys:shared-secret".into(),
            old_issuer: Some("old.io".into()),
            new_issuer: Some("new.io".into()),
        }
    }

    #[test]
    fn event_points_at_the_secret_version_it_was_about() {
        let now = jiff::Timestamp::from_microsecond(1_700_000_000_123_456).unwrap();
        let event = token_event(&secret(), TokenEventReason::Rotated, "m".into(), "host-1", now).unwrap();
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(
            json["involvedObject"],
            serde_json::json!({"apiVersion": "v1", "kind": "Secret", "namespace": "team-a",
                "name": "px-k8s-user", "uid": "u-1", "resourceVersion": "77"})
        );
        assert_eq!(json["metadata"], serde_json::json!({"generateName": "px-k8s-user.", "namespace": "team-a"}));
        assert_eq!(json["reason"], "TokenRotated");
        assert_eq!(json["type"], "Normal");
        assert_eq!(json["reportingComponent"], "kubectl-pxtoken");
        assert_eq!(json["reportingInstance"], "host-1");
        assert_eq!(json["source"], serde_json::json!({"component": "kubectl-pxtoken", "host": "host-1"}));
        // The API server requires action and reportingInstance once eventTime is set.
        assert_eq!(json["action"], "Rotate");
        assert_eq!(json["eventTime"], "2023-11-14T22:13:20.123456Z");
        assert_eq!(json["lastTimestamp"], "2023-11-14T22:13:20Z");
        let failed = token_event(&secret(), TokenEventReason::RotationFailed, "m".into(), "h", now).unwrap();
        assert_eq!(failed.type_.as_deref(), Some("Warning"));
        assert_eq!(failed.reason.as_deref(), Some("TokenRotationFailed"));
        assert!(matches!(
            token_event(&Secret::default(), TokenEventReason::Rotated, "m".into(), "h", now),
            Err(EventError::Unnamed)
        ));
    }

    #[test]
    fn messages_name_subject_expiries_key_source_and_issuer_change() {
        assert_eq!(
            rotated_message(&facts()),
            "re-issued the token of subject 0f4e (expiry 1970-01-02T00:00:00Z -> 1970-01-03T00:00:00Z), \
             signed with secret:kube-system/pxkeys:shared-secret; issuer changed from old.io to new.io"
        );
        let same_issuer = RotationFacts { new_issuer: Some("old.io".into()), ..facts() };
        assert!(!rotated_message(&same_issuer).contains("issuer"));
        assert_eq!(
            failed_message(&RotationFacts { subject: String::new(), ..facts() }, "forbidden"),
            "could not re-issue the token of subject unknown (expiry 1970-01-02T00:00:00Z) with \
             secret:kube-system/pxkeys:shared-secret: forbidden"
        );
    }

    #[test]
    fn long_messages_are_cut_to_the_server_limit_on_a_char_boundary() {
        let message = failed_message(&facts(), &"é".repeat(2000));
        assert!(message.len() <= MESSAGE_LIMIT, "{}", message.len());
        assert!(message.ends_with("..."));
    }

    #[test]
    fn reporting_instance_is_never_empty_or_too_long() {
        let instance = reporting_instance();
        assert!(!instance.is_empty() && instance.len() <= INSTANCE_LIMIT);
    }
}
