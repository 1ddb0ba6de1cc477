//! openstorage's own token code, through `pxtoken-peer` (the Go program in
//! tests/openstorage-peer): the verifier Portworx runs, its duration parser and its generator.
//! Keys and tokens go through files and stdin.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use serde_json::Value;

use super::portworx::PortworxInstall;

/// The built checker (tests/openstorage-peer/build.sh builds it once and caches it).
pub fn peer_binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/openstorage-peer/build.sh");
        let out = Command::new("bash")
            .arg(&script)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("running {}: {e}", script.display()));
        assert!(
            out.status.success(),
            "no openstorage peer checker: tests/openstorage-peer/build.sh failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
    })
}

/// What the peer said.
#[derive(Debug)]
pub struct PeerRun {
    pub ok: bool,
    pub stdout: String,
    pub stderr: String,
}

/// `pxtoken-peer ARGS` with `stdin`; panics unless it ran (exit 0 = yes, 1 = no).
pub fn run(args: &[&str], stdin: &str) -> PeerRun {
    let mut child = Command::new(peer_binary())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting pxtoken-peer");
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let code = out.status.code();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(code == Some(0) || code == Some(1), "pxtoken-peer {args:?} failed to run ({code:?}): {stderr}");
    PeerRun { ok: code == Some(0), stdout: String::from_utf8_lossy(&out.stdout).into_owned(), stderr }
}

/// A verification key for the peer, written to a temp file.
pub enum PeerKey<'a> {
    SharedSecret(&'a [u8]),
    RsaPublicPem(&'a str),
    EcdsaPublicPem(&'a str),
}

/// Verifies `token` as Portworx does, trusting `issuer` with `key`. Ok(claims) or Err(message).
pub fn verify(token: &str, issuer: &str, key: PeerKey<'_>) -> Result<Value, String> {
    let dir = tempfile::tempdir().unwrap();
    let key_path = dir.path().join("key");
    let (flag, bytes) = match key {
        PeerKey::SharedSecret(secret) => ("--shared-secret-file", secret.to_vec()),
        PeerKey::RsaPublicPem(pem) => ("--rsa-public-keyfile", pem.as_bytes().to_vec()),
        PeerKey::EcdsaPublicPem(pem) => ("--ecdsa-public-keyfile", pem.as_bytes().to_vec()),
    };
    std::fs::write(&key_path, bytes).unwrap();
    let run = run(&["verify", "--issuer", issuer, flag, key_path.to_str().unwrap()], token);
    if run.ok {
        Ok(serde_json::from_str(run.stdout.trim()).expect("peer prints claims as JSON"))
    } else {
        Err(run.stderr)
    }
}

/// Verifies `token` (surrounding whitespace trimmed) as Portworx does with `px`'s shared secret
/// and issuer, and returns its claims; panics with openstorage's reason if it is rejected.
pub fn verify_for(token: &str, px: &PortworxInstall) -> Value {
    verify(token.trim(), &px.issuer, PeerKey::SharedSecret(px.shared_secret.as_bytes()))
        .unwrap_or_else(|why| panic!("openstorage rejected the token: {why}"))
}

/// openstorage's `ParseToDuration` on each input: `Some(nanoseconds)` or `None` when refused.
pub fn durations(inputs: &[String]) -> Vec<Option<i64>> {
    let stdin: String = inputs.iter().map(|s| format!("{s}\n")).collect();
    let run = run(&["duration", "-"], &stdin);
    assert!(run.ok, "pxtoken-peer duration failed: {}", run.stderr);
    let results: Vec<Option<i64>> = run
        .stdout
        .lines()
        .map(|line| {
            let v: Value = serde_json::from_str(line).unwrap();
            if v["ok"].as_bool() == Some(true) { v["nanos"].as_i64() } else { None }
        })
        .collect();
    assert_eq!(results.len(), inputs.len(), "one answer per input");
    results
}

/// openstorage's generator: the token it writes for this auth-config and key.
pub fn generate(auth_config: &Path, issuer: &str, shared_secret_file: &Path, duration: &str) -> String {
    let run = run(
        &[
            "generate",
            "--auth-config",
            auth_config.to_str().unwrap(),
            "--issuer",
            issuer,
            "--shared-secret-file",
            shared_secret_file.to_str().unwrap(),
            "--token-duration",
            duration,
        ],
        "",
    );
    assert!(run.ok, "openstorage's generator refused: {}", run.stderr);
    run.stdout.trim().to_owned()
}

/// The payload of a token, unverified, for comparing claim sets.
pub fn payload(token: &str) -> Value {
    use base64::Engine as _;
    let part = token.split('.').nth(1).expect("a JWT");
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}
