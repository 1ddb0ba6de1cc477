//! kubectl-pxtoken: issue Portworx authorization tokens and keep them healthy.
//!
//! The binary (`kubectl-pxtoken`) is a thin layer over these modules:
//! - [`duration`]: pxctl's token-duration grammar and kubectl's `--request-timeout`;
//! - [`names`]: Kubernetes' rules for namespaces, Secret names and keys, checked locally;
//! - [`claims`]: the claim set openstorage writes and pxctl's `--auth-config` YAML;
//! - [`signing`]: HS256/RS256/ES256 signing with keys held in secret boxes;
//! - [`message`]: error text on one line;
//! - [`connection`]: a client from kubectl's global flags, and API errors worded for people;
//! - [`paging`]: listing a collection a page at a time, with selectors;
//! - [`retry`]: bounded retries when the API server is busy (429, 503, 504);
//! - [`transport`]: why a request got no answer (refused, reset, timed out, untrusted certificate);
//! - [`discovery`]: where the signing key and issuer live (overrides, StorageCluster, DaemonSet),
//!   and a cache of where they were found (never the key), keyed by the connection;
//! - [`token_secret`]: the labelled, annotated Secret a token is stored in, and the one flow
//!   that stores it;
//! - [`tenant`]: onboarding one tenant end to end, and many at once;
//! - [`admin`]: the storage administrator's token;
//! - [`rotator_manifest`]: the ServiceAccount, RBAC and CronJob that run `rotate` in the cluster
//!   (with its CronJob schedule check);
//! - [`storage_class`]: a StorageClass wired to the tenant Secret, and applying it;
//! - [`token_health`]: the verdict on one token, as openstorage would decide it;
//! - [`token_list`]: every token Secret in the cluster, paged, one row at a time;
//! - [`age`]: ages and time left as kubectl prints them;
//! - [`events`]: Kubernetes Events recording rotations and failures on token Secrets;
//! - [`bulk`]: bounded-concurrency bulk work that stops cleanly when cancelled;
//! - [`interrupt`]: SIGINT / SIGTERM as a cancellation of bulk work;
//! - [`rotate`]: re-issuing due tokens in place, safe to interrupt and re-run.

pub mod admin;
pub mod age;
pub mod bulk;
pub mod claims;
pub mod connection;
mod cron_schedule;
pub mod discovery;
pub mod doctor;
pub mod duration;
pub mod events;
#[cfg(test)]
pub(crate) mod fake_api;
pub mod interrupt;
pub mod message;
pub mod names;
pub mod paging;
pub mod retry;
pub mod rotate;
pub mod rotator_manifest;
pub mod signing;
pub mod storage_class;
pub mod tenant;
pub mod token_health;
pub mod token_list;
pub mod token_secret;
pub mod transport;
