//! A real validating admission webhook, served by the test process, that lets a test act *inside*
//! another client's write: the API server calls it while it handles an UPDATE of a Secret, after
//! the client read the Secret and before the write is stored. Whatever the test writes there
//! lands between the client's read and its write, every time: a deterministic concurrent writer,
//! with no test hook in the plugin.
//!
//! The webhook is scoped to one test namespace (namespaceSelector), so tests running at the same
//! time never see it, and is deleted when dropped. It serves HTTPS with the control plane's own
//! serving certificate (its SANs include 127.0.0.1) and the API server trusts it through the
//! cluster CA as `caBundle`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::{Value, json};

use super::cluster::cluster;
use super::run::{CommandExt, apply_yaml, kubectl};

/// What the API server told the webhook about one write.
#[derive(Debug, Clone)]
pub struct AdmissionRequest {
    pub namespace: String,
    pub name: String,
    pub username: String,
    pub dry_run: bool,
}

type Handler = dyn Fn(&AdmissionRequest) + Send + Sync;

/// A webhook on Secret UPDATEs in one namespace; every write is allowed after `handler` ran.
pub struct SecretUpdateWebhook {
    name: String,
    stop: Arc<AtomicBool>,
    seen: Arc<Mutex<Vec<AdmissionRequest>>>,
}

/// The name of the Secret each webhook updates to learn that the API server calls it.
const PROBE: &str = "webhook-probe";

impl SecretUpdateWebhook {
    /// Registers the webhook for `namespace` and returns once the API server calls it.
    /// `handler` runs in the webhook (on its own thread per request), before the write is
    /// stored; it is not called for the probe Secret nor for dry-run requests.
    pub fn start(namespace: &str, handler: impl Fn(&AdmissionRequest) + Send + Sync + 'static) -> SecretUpdateWebhook {
        let dir = cluster().pki_dir();
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(dir.join("apiserver.crt"))
            .expect("reading the serving certificate")
            .collect::<Result<_, _>>()
            .expect("parsing the serving certificate");
        let key = PrivateKeyDer::from_pem_file(dir.join("apiserver.key")).expect("reading the serving key");
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = Arc::new(
            rustls::ServerConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .expect("TLS versions")
                .with_no_client_auth()
                .with_single_cert(certs, key)
                .expect("TLS server config"),
        );
        let listener = TcpListener::bind("127.0.0.1:0").expect("binding the webhook port");
        listener.set_nonblocking(true).expect("non-blocking listener");
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        {
            let (stop, seen) = (stop.clone(), seen.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            let (tls, seen, handler) = (tls.clone(), seen.clone(), handler.clone());
                            // One thread per request: a handler's own write calls this webhook again.
                            std::thread::spawn(move || serve(stream, tls, &seen, &*handler));
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(20)),
                    }
                }
            });
        }

        let name = format!("pxtoken-e2e-{namespace}");
        let ca = std::fs::read(dir.join("ca.crt")).expect("reading the cluster CA");
        let config = json!({
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "ValidatingWebhookConfiguration",
            "metadata": {"name": name},
            "webhooks": [{
                "name": "concurrent-writer.pxtoken.test",
                "clientConfig": {
                    "url": format!("https://127.0.0.1:{port}/validate"),
                    "caBundle": base64::engine::general_purpose::STANDARD.encode(ca),
                },
                "rules": [{"apiGroups": [""], "apiVersions": ["v1"], "operations": ["UPDATE"],
                           "resources": ["secrets"], "scope": "Namespaced"}],
                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}},
                "sideEffects": "NoneOnDryRun",
                "admissionReviewVersions": ["v1"],
                "failurePolicy": "Fail",
                "timeoutSeconds": 30,
            }],
        });
        apply_yaml(&config.to_string());
        let webhook = SecretUpdateWebhook { name, stop, seen };
        webhook.wait_until_called(namespace);
        webhook
    }

    /// Every request the webhook handled (probe excluded), in arrival order.
    pub fn requests(&self) -> Vec<AdmissionRequest> {
        self.seen.lock().unwrap().iter().filter(|r| r.name != PROBE).cloned().collect()
    }

    /// The API server picks up a new webhook configuration asynchronously: update a probe
    /// Secret until the webhook sees it.
    fn wait_until_called(&self, namespace: &str) {
        kubectl("admin").args(["create", "secret", "generic", PROBE, "-n", namespace]).succeeds();
        let deadline = Instant::now() + Duration::from_secs(30);
        for attempt in 0.. {
            let label = format!("attempt={attempt}");
            kubectl("admin").args(["label", "secret", PROBE, "-n", namespace, &label, "--overwrite"]).succeeds();
            if self.seen.lock().unwrap().iter().any(|r| r.name == PROBE) {
                return;
            }
            assert!(Instant::now() < deadline, "the API server never called the test webhook {}", self.name);
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for SecretUpdateWebhook {
    fn drop(&mut self) {
        let _ = kubectl("admin")
            .args(["delete", "validatingwebhookconfiguration", &self.name, "--ignore-not-found"])
            .output();
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// One HTTPS request: parse the AdmissionReview, run the handler, allow the write.
fn serve(stream: TcpStream, tls: Arc<rustls::ServerConfig>, seen: &Mutex<Vec<AdmissionRequest>>, handler: &Handler) {
    stream.set_nonblocking(false).ok();
    stream.set_read_timeout(Some(Duration::from_secs(30))).ok();
    let Ok(conn) = rustls::ServerConnection::new(tls) else { return };
    let mut stream = rustls::StreamOwned::new(conn, stream);
    let Some(body) = read_http_body(&mut stream) else { return };
    let Ok(review) = serde_json::from_slice::<Value>(&body) else { return };
    let request = &review["request"];
    let admission = AdmissionRequest {
        namespace: request["namespace"].as_str().unwrap_or_default().to_owned(),
        name: request["name"].as_str().unwrap_or_default().to_owned(),
        username: request["userInfo"]["username"].as_str().unwrap_or_default().to_owned(),
        dry_run: request["dryRun"].as_bool().unwrap_or(false),
    };
    if admission.name != PROBE && !admission.dry_run {
        handler(&admission);
    }
    seen.lock().unwrap().push(admission);
    let response = json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "response": {"uid": request["uid"], "allowed": true},
    })
    .to_string();
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        response.len()
    );
    let _ = stream.write_all(head.as_bytes()).and_then(|()| stream.write_all(response.as_bytes()));
    let _ = stream.flush();
    stream.conn.send_close_notify();
    let _ = stream.flush();
}

/// The body of one HTTP/1.1 request with a Content-Length (what the API server sends).
fn read_http_body(stream: &mut impl Read) -> Option<Vec<u8>> {
    let mut reader = BufReader::new(stream);
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().ok()?;
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(body)
}
