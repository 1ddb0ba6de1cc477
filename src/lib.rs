//! kubectl-pxtoken: issue Portworx authorization tokens and keep them healthy.
//!
//! The binary (`kubectl-pxtoken`) is a thin layer over these modules:
//! - [`duration`]: pxctl's token-duration grammar and kubectl's `--request-timeout`;
//! - [`claims`]: the claim set openstorage writes and pxctl's `--auth-config` YAML;
//! - [`signing`]: HS256/RS256/ES256 signing with keys held in secret boxes;
//! - [`message`]: error text on one line;
//! - [`connection`]: a client from kubectl's global flags, and API errors worded for people;
//! - [`paging`]: listing a collection a page at a time, with selectors;
//! - [`discovery`]: where the signing key and issuer live (overrides, StorageCluster, DaemonSet),
//!   and a cache of where they were found (never the key), keyed by the connection;
//! - [`token_secret`]: the labelled, annotated Secret a token is stored in;
//! - [`tenant`]: onboarding one tenant end to end.

pub mod claims;
pub mod connection;
pub mod discovery;
pub mod duration;
pub mod message;
pub mod paging;
pub mod signing;
pub mod tenant;
pub mod token_secret;
