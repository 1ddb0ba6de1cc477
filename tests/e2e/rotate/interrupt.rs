//! A rotation of 200 tenants stopped mid-way by SIGINT, SIGTERM and SIGKILL: every Secret is
//! left as it was or fully rotated, an interrupted run reports each tenant and exits 130 / 143,
//! and a re-run finishes the job.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{change_shared_secret, identity};
use crate::support::*;

const TENANTS: usize = 200;

/// A token Secret as admin sees it: what "as it was" and "fully rotated" are judged on.
#[derive(Debug, Clone, PartialEq)]
struct Stored {
    resource_version: String,
    token: String,
    annotations: Value,
}

/// Every managed token Secret of `tenants`, read with one list.
fn stored(tenants: &Tenants) -> BTreeMap<String, Stored> {
    let out = kubectl("admin")
        .args(["get", "secrets", "-A", "-l", "app.kubernetes.io/managed-by=kubectl-pxtoken", "-o", "json"])
        .succeeds();
    let list: Value = serde_json::from_str(&out).unwrap();
    let mut found = BTreeMap::new();
    for secret in list["items"].as_array().unwrap() {
        let namespace = secret["metadata"]["namespace"].as_str().unwrap().to_owned();
        if !tenants.names.contains(&namespace) {
            continue;
        }
        use base64::Engine as _;
        let token = base64::engine::general_purpose::STANDARD
            .decode(secret["data"]["auth-token"].as_str().unwrap())
            .map(|b| String::from_utf8(b).unwrap())
            .unwrap();
        let stored = Stored {
            resource_version: secret["metadata"]["resourceVersion"].as_str().unwrap().to_owned(),
            token,
            annotations: secret["metadata"]["annotations"].clone(),
        };
        found.insert(namespace, stored);
    }
    assert_eq!(found.len(), tenants.names.len(), "every tenant has its Secret");
    found
}

/// Checks that each Secret is exactly as it was in `before`, or fully rotated: a token the
/// new key signs, with the same identity, and annotations that describe that token. Returns
/// how many were rotated.
fn as_it_was_or_fully_rotated(
    before: &BTreeMap<String, Stored>,
    now: &BTreeMap<String, Stored>,
    px: &PortworxInstall,
) -> usize {
    let mut rotated = 0;
    for (namespace, old) in before {
        let new = &now[namespace];
        if new == old {
            continue;
        }
        let claims = px.verify_token(&new.token);
        assert_eq!(identity(&new.token), identity(&old.token), "{namespace}: identity changed");
        let annotations = &new.annotations;
        assert_eq!(annotations["kubectl-pxtoken/subject"], claims["sub"], "{namespace}");
        let expires = jiff::Timestamp::from_second(claims["exp"].as_i64().unwrap()).unwrap().to_string();
        assert_eq!(annotations["kubectl-pxtoken/expires-at"], expires.as_str(), "{namespace}");
        assert_ne!(annotations["kubectl-pxtoken/key-version"], old.annotations["kubectl-pxtoken/key-version"]);
        rotated += 1;
    }
    rotated
}

fn count(run: &Run, what: &str) -> usize {
    run.stdout.lines().filter(|l| l.contains(what)).count()
}

#[test]
fn a_rotation_of_200_tenants_stopped_by_sigint_sigterm_or_sigkill_leaves_no_secret_half_done() {
    let keys = TestNamespace::new("rot-sig-keys");
    let mut px = install_daemonset_style(&keys, &random_secret(), "rotate.example");
    let tenants = Tenants::new("rot-sig", TENANTS);
    tenants.onboard(&px, &[]);
    let original = stored(&tenants);
    change_shared_secret(&mut px);
    let rotate = || {
        let mut cmd = pxtoken("admin");
        cmd.arg("rotate").args(&tenants.names).args(["--concurrency", "2"]);
        cmd.args(["--shared-secret-ref", &px.secret_ref(), "--issuer", &px.issuer]);
        cmd
    };

    // Rotations start once the listing is done, so the first lines of a re-run are the tenants
    // already rotated ("unchanged"); 15 lines later it is mid-way through the rest.
    let mut done = 0;
    for (signal, name, code) in [("INT", "SIGINT", 130), ("TERM", "SIGTERM", 143)] {
        let run = Running::interrupt_after(rotate(), done + 15, signal);
        assert_eq!(run.code, Some(code), "{run}");
        let (rotated, not_started) = (count(&run, " rotated in "), count(&run, " not started in "));
        assert!(not_started > 0, "stopped before the end:\n{run}");
        assert_eq!(rotated + not_started + done, TENANTS, "one line per tenant:\n{run}");
        let summary = format!("{rotated} rotated, {done} unchanged, 0 skipped, 0 failed, {not_started} not started");
        assert!(run.stdout.ends_with(&format!("{summary}\n")), "{run}");
        let error = format!(
            "error: interrupted by {name}: {not_started} of {TENANTS} token Secrets not started: run the same command again to finish\n"
        );
        assert_eq!(run.stderr, error, "only the error line on stderr");
        // Writes in flight finished and were reported: exactly the Secrets reported rotated changed.
        let changed = as_it_was_or_fully_rotated(&original, &stored(&tenants), &px);
        assert_eq!(changed, done + rotated, "{run}");
        done = changed;
    }

    // SIGKILL: nothing is reported for writes in flight, and none is half-written.
    let run = Running::interrupt_after(rotate(), done + 15, "KILL");
    assert_eq!(run.code, None, "killed:\n{run}");
    let changed = as_it_was_or_fully_rotated(&original, &stored(&tenants), &px);
    assert!(changed >= done + count(&run, " rotated in ") && changed < TENANTS, "{changed}:\n{run}");

    // A re-run does the rest, and no more.
    let run = rotate().run();
    assert_eq!(run.code, Some(0), "{run}");
    let summary = format!("{} rotated, {changed} unchanged, 0 skipped, 0 failed\n", TENANTS - changed);
    assert!(run.stdout.ends_with(&summary), "{run}");
    assert_eq!(as_it_was_or_fully_rotated(&original, &stored(&tenants), &px), TENANTS);
    let sample = &tenants.names[TENANTS / 2];
    crate::support::openstorage::verify_for(&super::token(sample), &px);
}
