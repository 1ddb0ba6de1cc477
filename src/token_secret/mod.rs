//! The Kubernetes Secret that holds a token: where it goes, how it is labelled, and the one
//! flow that stores it (tenant, admin and rotate all write through here).
//!
//! - [`target`]: where a token goes ([`SecretTarget`]) and `[NAMESPACE/]NAME` as users type it;
//! - [`labels`]: the label and annotations, and the Secret object to write ([`desired_secret`]);
//! - [`write`]: read → check takeover → (create namespace) → create, or replace at the
//!   resourceVersion read ([`store`], or [`prepare`] then [`PreparedStore::commit`] when the
//!   token depends on what is stored). A Secret that changed under us is never overwritten
//!   blindly, and a failed write changes nothing.

mod labels;
mod target;
mod write;

pub use labels::{
    DEFAULT_SECRET_KEY, DEFAULT_SECRET_NAME, EXPIRES_ANNOTATION, ISSUED_ANNOTATION, ISSUER_ANNOTATION,
    KEY_SOURCE_ANNOTATION, KEY_VERSION_ANNOTATION, MANAGED_BY_LABEL, MANAGED_BY_VALUE, SUBJECT_ANNOTATION, TokenRecord,
    desired_secret, is_managed, rfc3339,
};
pub use target::{NamespacedName, SecretTarget, TargetParseError};
pub use write::{
    ExistingSecret, PreparedStore, SecretWriteError, StoreOptions, StoreOutcome, StoreRequest, ensure_namespace,
    prepare, read_existing, store, write_secret,
};

/// kubectl's `--dry-run` strategies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DryRun {
    #[default]
    None,
    /// Print what would be sent; send no write.
    Client,
    /// Send the write with `dryRun=All`: the server validates and persists nothing.
    Server,
}

/// How a write went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteOutcome {
    Created,
    Configured,
}

impl WriteOutcome {
    pub fn as_str(&self) -> &'static str {
        match self {
            WriteOutcome::Created => "created",
            WriteOutcome::Configured => "configured",
        }
    }
}
