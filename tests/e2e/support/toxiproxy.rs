//! toxiproxy (github.com/Shopify/toxiproxy, built by `tests/toxiproxy/build.sh`) between the
//! plugin and an API server: a real TCP proxy that resets, delays or stalls connections on
//! demand. Each test starts its own server, stopped when dropped, and drives it over its HTTP
//! API.
//!
//! ```ignore
//! let proxy = Toxiproxy::start().proxy_to(&cluster().server());
//! proxy.add_toxic("timeout", json!({"timeout": 0})); // stall every connection
//! pxtoken("admin").arg("--kubeconfig").arg(proxy.kubeconfig(&cluster().kubeconfig("admin")))…
//! ```

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// A running toxiproxy server and the directory its kubeconfigs go to.
pub struct Toxiproxy {
    child: Child,
    api: String,
    files: tempfile::TempDir,
}

/// The toxiproxy-server binary, built once per machine (cached by `tests/toxiproxy/build.sh`).
fn binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        let out = Command::new("bash")
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/toxiproxy/build.sh"))
            .stdin(Stdio::null())
            .output()
            .expect("running tests/toxiproxy/build.sh");
        assert!(out.status.success(), "tests/toxiproxy/build.sh failed:\n{}", String::from_utf8_lossy(&out.stderr));
        PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
    })
}

impl Toxiproxy {
    /// Starts a toxiproxy server on a free loopback port and waits until its API answers.
    pub fn start() -> Toxiproxy {
        for _ in 0..5 {
            // Pick a port, free it, hand it over: another process may win the race, so retry.
            let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
            let child = Command::new(binary())
                .args(["-host", "127.0.0.1", "-port", &port.to_string()])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("starting toxiproxy-server");
            let mut proxy = Toxiproxy {
                child,
                api: format!("127.0.0.1:{port}"),
                files: tempfile::tempdir().expect("a temporary directory"),
            };
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if matches!(proxy.child.try_wait(), Ok(Some(_))) {
                    break; // lost the port: try another
                }
                if TcpStream::connect(&proxy.api).is_ok() {
                    return proxy;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        panic!("toxiproxy-server did not start");
    }

    /// A new proxy on a free loopback port that forwards to the host and port of `server` (a
    /// URL such as `https://127.0.0.1:6443`).
    pub fn proxy_to(&self, server: &str) -> Proxy<'_> {
        let upstream = server.trim_start_matches("https://").trim_end_matches('/');
        let name = format!("p{}", self.files.path().read_dir().map(|d| d.count()).unwrap_or(0));
        let created =
            self.call("POST", "/proxies", &json!({"name": name, "listen": "127.0.0.1:0", "upstream": upstream}));
        let listen = created["listen"].as_str().expect("toxiproxy's answer names the proxy's address").to_owned();
        std::fs::create_dir(self.files.path().join(&name)).expect("a directory for the proxy's files");
        Proxy { toxiproxy: self, name, listen }
    }

    /// One request to toxiproxy's HTTP API; panics unless it answers 2xx. HTTP/1.1 by hand, one
    /// connection per request: no client library for four calls.
    fn call(&self, method: &str, path: &str, body: &Value) -> Value {
        let body = if body.is_null() { String::new() } else { body.to_string() };
        let mut stream = TcpStream::connect(&self.api).expect("connecting to toxiproxy's API");
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.api,
            body.len()
        )
        .expect("writing to toxiproxy's API");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).expect("reading toxiproxy's answer");
        let (head, payload) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
        let status = head.split_whitespace().nth(1).unwrap_or_default();
        assert!(status.starts_with('2'), "toxiproxy: {method} {path} {body} answered:\n{answer}");
        serde_json::from_str(payload.trim()).unwrap_or(Value::Null)
    }
}

impl Drop for Toxiproxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One proxy of a [`Toxiproxy`] server, forwarding to an API server.
pub struct Proxy<'a> {
    toxiproxy: &'a Toxiproxy,
    name: String,
    listen: String,
}

impl Proxy<'_> {
    /// The proxy's URL, as a kubeconfig names a server.
    pub fn server(&self) -> String {
        format!("https://{}", self.listen)
    }

    /// A copy of `kubeconfig` whose server is this proxy. The API server's certificate names
    /// 127.0.0.1 without a port, so it is valid through the proxy too.
    pub fn kubeconfig(&self, kubeconfig: &Path) -> PathBuf {
        let text = std::fs::read_to_string(kubeconfig).expect("reading the kubeconfig");
        let server = text.lines().find_map(|l| l.trim().strip_prefix("server: ")).expect("a server line").to_owned();
        let file = self.toxiproxy.files.path().join(&self.name).join(kubeconfig.file_name().expect("a file name"));
        std::fs::write(&file, text.replace(&server, &self.server())).expect("writing the kubeconfig");
        file
    }

    /// Adds toxic `kind` (`reset_peer`, `latency`, `timeout`, …) with `attributes` to what the
    /// server sends back (downstream), for every connection.
    pub fn add_toxic(&self, kind: &str, attributes: Value) {
        let toxic =
            json!({"name": kind, "type": kind, "stream": "downstream", "toxicity": 1.0, "attributes": attributes});
        self.toxiproxy.call("POST", &format!("/proxies/{}/toxics", self.name), &toxic);
    }

    /// Removes toxic `kind`: connections flow again.
    pub fn remove_toxic(&self, kind: &str) {
        self.toxiproxy.call("DELETE", &format!("/proxies/{}/toxics/{kind}", self.name), &Value::Null);
    }
}
