//! `tenant --from-file` over 200 tenants stopped by SIGINT and by SIGTERM: the tenants in
//! flight finish and are reported, every other one is reported as not started, the exit status
//! names the signal (130 / 143), no Secret is half-written, and a re-run finishes the job with
//! the subjects already stored.

use std::collections::{BTreeMap, BTreeSet};

use crate::support::*;

const TENANTS: usize = 200;

/// The namespaces of the stdout lines that contain `what` (`created`, `configured`, `not
/// started`): `secret/px-k8s-user <what> in <namespace> …`.
fn namespaces_with(run: &Run, what: &str) -> BTreeSet<String> {
    let marker = format!(" {what} in ");
    run.stdout
        .lines()
        .filter_map(|line| line.split_once(&marker))
        .map(|(_, rest)| rest.split(' ').next().expect("a namespace").to_owned())
        .collect()
}

fn keys(subjects: &BTreeMap<String, String>) -> BTreeSet<String> {
    subjects.keys().cloned().collect()
}

#[test]
fn onboarding_200_tenants_stopped_by_sigint_or_sigterm_reports_each_and_a_rerun_finishes() {
    let keys_ns = TestNamespace::new("ten-sig-keys");
    let px = install_daemonset_style(&keys_ns, &random_secret(), "tenant-sig.example");
    let tenants = Tenants::new("ten-sig", TENANTS);
    let dir = tempfile::tempdir().unwrap();
    let list = tenants.list_file(dir.path());
    // Two at a time: slow enough that a signal after 15 lines lands mid-way.
    let onboard = |extra: &[&str]| {
        let mut cmd = pxtoken("admin");
        cmd.args(["tenant", "--from-file"]).arg(&list).args(["--concurrency", "2"]);
        cmd.args(["--shared-secret-ref", &px.secret_ref(), "--issuer", &px.issuer]).args(extra);
        cmd
    };
    let subjects = || px.token_subjects(kubectl("admin"), &tenants.names);

    // Ctrl-C: every tenant gets one line, created or not started; only the error line is on stderr.
    let run = Running::interrupt_after(onboard(&[]), 15, "INT");
    assert_eq!(run.code, Some(130), "{run}");
    let (created, not_started) = (namespaces_with(&run, "created"), namespaces_with(&run, "not started"));
    assert!(created.len() >= 15 && !not_started.is_empty(), "stopped mid-way:\n{run}");
    assert_eq!(created.len() + not_started.len(), TENANTS, "one line per tenant:\n{run}");
    assert_eq!(run.stdout.lines().count(), TENANTS, "{run}");
    assert_eq!(
        run.stderr,
        format!(
            "error: interrupted by SIGINT: {} of {TENANTS} tenants not started: run the same command again to finish\n",
            not_started.len()
        )
    );
    // Writes in flight finished and were reported: exactly the tenants reported created have a
    // Secret, and each is whole.
    let first = subjects();
    assert_eq!(keys(&first), created, "{run}");

    // SIGTERM (a Pod being stopped) with -o name: stdout keeps only names, so the tenants not
    // started are reported on stderr; the ones done before keep their subjects.
    let run = Running::interrupt_after(onboard(&["-o", "name"]), 15, "TERM");
    assert_eq!(run.code, Some(143), "{run}");
    let done = run.stdout.lines().count();
    assert!(run.stdout.lines().all(|line| line == "secret/px-k8s-user"), "{run}");
    let stderr: Vec<&str> = run.stderr.lines().collect();
    let (last, not_started) = stderr.split_last().expect("an error line");
    assert_eq!(done + not_started.len(), TENANTS, "one line per tenant:\n{run}");
    assert!(not_started.iter().all(|l| l.ends_with(" (interrupted: run again)")), "{run}");
    assert_eq!(
        *last,
        format!(
            "error: interrupted by SIGTERM: {} of {TENANTS} tenants not started: run the same command again to finish",
            not_started.len()
        )
    );
    let second = subjects();
    assert!(second.len() >= first.len().max(done), "{} stored, {done} reported:\n{run}", second.len());
    for (namespace, sub) in &first {
        assert_eq!(&second[namespace], sub, "{namespace}: the tenant's subject changed");
    }

    // The same command again finishes the job: every tenant, the subjects stored kept.
    let run = onboard(&[]).run();
    assert_eq!((run.code, run.stderr.as_str()), (Some(0), ""), "{run}");
    assert_eq!(namespaces_with(&run, "configured"), keys(&second), "{run}");
    assert_eq!(namespaces_with(&run, "created").len(), TENANTS - second.len(), "{run}");
    let last = subjects();
    assert_eq!(last.len(), TENANTS);
    for (namespace, sub) in &second {
        assert_eq!(&last[namespace], sub, "{namespace}: the tenant's subject changed");
    }
    let sample = &tenants.names[TENANTS / 2];
    let token = secret_data(sample, "px-k8s-user")["auth-token"].clone();
    crate::support::openstorage::verify_for(&token, &px);
}
