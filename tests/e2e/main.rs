//! The end-to-end tests: `kubectl pxtoken` as users run it, through the real kubectl, against a
//! real kube-apiserver (tests/cluster), with tokens checked by openstorage's own code. One test
//! binary, a module per command or concern; the harness is in `support`.
//!
//! `cargo test --test e2e` starts a control plane for the run, or reuses the one named by
//! `PXTOKEN_TEST_KUBECONFIG`. Every test stands alone: it passes alone, in any order, and
//! alongside the others (see `support`).

mod support;

mod admin;
mod bad_input;
mod completion;
mod doctor;
mod duration_differential;
mod faults;
mod generate;
mod inspect;
mod krew;
mod list;
mod rotate;
mod rotator;
mod smoke;
mod storageclass;
mod tenant;
mod token_list;
mod verdict_differential;
