//! End-to-end harness: the built plugin, driven through the real `kubectl`, against a real
//! kube-apiserver with RBAC (tests/cluster). Every test module uses it with
//! `use crate::support::*;`.
//!
//! ```ignore
//! use crate::support::*;
//!
//! #[test]
//! fn alice_onboards_a_tenant() {
//!     let ns = TestNamespace::new("team");
//!     let px = install_operator_style(ns.name(), Some("test.io"));
//!     grant("alice", ns.name(), &["get", "create", "update", "patch"], &["secrets"]);
//!     pxtoken("alice").args(["tenant", ns.name()]).succeeds();
//!     let token = &secret_data(ns.name(), "px-k8s-user")["auth-token"];
//!     px.verify_token(token);
//! }
//! ```
//!
//! One control plane serves every test of the run ([`cluster`]). Tests run in parallel threads
//! and in any order, so each test stands alone:
//! - it works in its own [`TestNamespace`]s, deleted when the test ends;
//! - when it needs rights, it [`grant`]s them in its own namespaces, or to a user of its own
//!   ([`Cluster::new_user`]);
//! - the one place tests share is `kube-system` (where Portworx's documented install lives): a
//!   test borrows it with [`KubeSystem::borrow`], which keeps other such tests out and removes
//!   what the test put there when it ends, pass or fail.
//!
//! The modules, by concern: [`cluster`] the control plane, its users and RBAC grants; [`run`]
//! running kubectl and the plugin and reading objects back; [`namespaces`] the namespaces tests
//! work in; [`portworx`] Portworx installs as each install style leaves them; [`openstorage`]
//! openstorage's own token code (the Go peer in tests/openstorage-peer); [`random`] names and
//! secrets; [`control_plane`] control planes of a test's own, to stop, kill and pause;
//! [`toxiproxy`] a fault-injecting TCP proxy in front of an API server; [`tokens`] tokens made
//! by hand, good and broken.

pub mod cluster;
pub mod control_plane;
pub mod namespaces;
pub mod openstorage;
pub mod portworx;
pub mod random;
pub mod run;
pub mod tokens;
pub mod toxiproxy;
pub mod webhook;

pub use cluster::*;
pub use control_plane::*;
pub use namespaces::*;
pub use portworx::*;
pub use random::*;
pub use run::*;
pub use toxiproxy::*;
