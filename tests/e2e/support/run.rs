//! Running `kubectl` and `kubectl pxtoken` as a user, and reading what they did: the exit
//! code and output of a command ([`Run`]), and objects as admin sees them.

use std::collections::BTreeMap;
use std::fmt;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::Value;

use super::cluster::cluster;

/// How long one kubectl or plugin invocation may take before the test fails.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(120);

/// `kubectl pxtoken …` as `user`: the real kubectl finds the built plugin on PATH, with
/// `KUBECONFIG` = the user's kubeconfig and an empty `HOME`. Add the subcommand and flags.
pub fn pxtoken(user: &str) -> Command {
    let mut cmd = kubectl(user);
    cmd.arg("pxtoken");
    cmd
}

/// Plain `kubectl …` as `user`, in the same environment as [`pxtoken`]; the plugin's cache
/// directory is the test's own.
pub fn kubectl(user: &str) -> Command {
    cluster().command(user)
}

/// What a finished command did.
#[derive(Debug)]
pub struct Run {
    /// The command line, for messages.
    pub command: String,
    /// The exit code (`None` if killed by a signal).
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Its stdout; panics (showing the command, exit code, stdout and stderr) unless it exited 0.
    pub fn success(self) -> String {
        assert_eq!(self.code, Some(0), "expected success:\n{self}");
        self.stdout
    }

    /// Ok(stdout) if it exited 0, else `Err(why(self))`: for the harness, which reports rather
    /// than panics while the control plane is set up.
    pub fn success_or_else(self, why: impl FnOnce(&Run) -> String) -> Result<String, String> {
        if self.code == Some(0) { Ok(self.stdout) } else { Err(why(&self)) }
    }

    /// Itself; panics (showing everything) if it exited 0.
    pub fn failure(self) -> Run {
        assert_ne!(self.code, Some(0), "expected failure:\n{self}");
        self
    }

    /// Panics unless it exited with `code` and stderr is one line starting with `line_start`:
    /// the SPEC's one `error:` line and nothing else.
    pub fn assert_one_error_line(&self, code: i32, line_start: &str) {
        assert_eq!(self.code, Some(code), "{self}");
        assert!(self.stderr.starts_with(line_start), "{self}");
        assert_eq!(self.stderr.lines().count(), 1, "{self}");
    }
}

impl fmt::Display for Run {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "$ {}", self.command)?;
        writeln!(f, "exit code: {:?}", self.code)?;
        writeln!(f, "--- stdout ---\n{}", self.stdout)?;
        write!(f, "--- stderr ---\n{}", self.stderr)
    }
}

/// Running a [`Command`] to the end, with a timeout, in a way that reads well in tests.
pub trait CommandExt {
    /// Runs with empty stdin and returns what happened; never panics on a non-zero exit.
    fn run(&mut self) -> Run;
    /// Runs with `input` on stdin.
    fn run_with_input(&mut self, input: &str) -> Run;
    /// Runs; returns stdout, or panics with everything unless it exited 0.
    fn succeeds(&mut self) -> String {
        self.run().success()
    }
    /// Runs; returns the [`Run`], or panics with everything if it exited 0.
    fn fails(&mut self) -> Run {
        self.run().failure()
    }
}

impl CommandExt for Command {
    fn run(&mut self) -> Run {
        run_command(self, None)
    }
    fn run_with_input(&mut self, input: &str) -> Run {
        run_command(self, Some(input))
    }
}

fn command_line(cmd: &Command) -> String {
    let mut line = Path::new(cmd.get_program()).file_name().unwrap_or(cmd.get_program()).to_string_lossy().into_owned();
    for arg in cmd.get_args() {
        line.push(' ');
        line.push_str(&arg.to_string_lossy());
    }
    line
}

fn run_command(cmd: &mut Command, input: Option<&str>) -> Run {
    let command = command_line(cmd);
    cmd.stdin(if input.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("cannot run {command}: {e}"));
    let pipe = |r: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut r) = r {
                let _ = r.read_to_end(&mut buf);
            }
            String::from_utf8_lossy(&buf).into_owned()
        })
    };
    let stdout = pipe(child.stdout.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    let stderr = pipe(child.stderr.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    if let (Some(input), Some(mut stdin)) = (input, child.stdin.take()) {
        let input = input.to_owned();
        std::thread::spawn(move || {
            let _ = stdin.write_all(input.as_bytes()); // dropping stdin closes it
        });
    }
    let deadline = Instant::now() + COMMAND_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for a child process") {
            break Some(status);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let run = Run {
        command,
        code: status.and_then(|s| s.code()),
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    };
    assert!(status.is_some(), "timed out after {COMMAND_TIMEOUT:?} and was killed:\n{run}");
    run
}

/// `kubectl apply -f -` as admin; `manifest` is YAML or JSON (one object, a List, or several
/// `---`-separated YAML documents). Panics unless it succeeds.
pub fn apply_yaml(manifest: &str) {
    kubectl("admin").args(["apply", "-f", "-"]).run_with_input(manifest).success();
}

/// An object as admin sees it (`kubectl get RESOURCE NAME -o json`), or `None` if it does not
/// exist. `namespace` is `None` for cluster-scoped resources.
pub fn get_json(resource: &str, namespace: Option<&str>, name: &str) -> Option<Value> {
    let mut cmd = kubectl("admin");
    cmd.args(["get", resource, name, "--ignore-not-found", "-o", "json"]);
    if let Some(ns) = namespace {
        cmd.args(["-n", ns]);
    }
    let out = cmd.succeeds();
    if out.trim().is_empty() {
        None
    } else {
        Some(serde_json::from_str(&out).expect("kubectl get -o json printed JSON"))
    }
}

/// The decoded `data` of Secret `namespace/name`; panics if there is no such Secret.
pub fn secret_data(namespace: &str, name: &str) -> BTreeMap<String, String> {
    let secret = get_json("secret", Some(namespace), name).unwrap_or_else(|| panic!("no Secret {namespace}/{name}"));
    let mut data = BTreeMap::new();
    if let Some(map) = secret["data"].as_object() {
        for (key, value) in map {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(value.as_str().unwrap_or_default())
                .expect("Secret data is base64");
            data.insert(key.clone(), String::from_utf8(bytes).expect("Secret data is UTF-8"));
        }
    }
    data
}

/// Whether Secret `namespace/name` exists.
pub fn secret_exists(namespace: &str, name: &str) -> bool {
    get_json("secret", Some(namespace), name).is_some()
}

/// [`apply_yaml`] for a manifest built with `json!`.
pub fn apply_json(value: &Value) {
    apply_yaml(&value.to_string());
}

/// A command running in the background while the test does something to the cluster, its
/// stdout read line by line as it comes. Killed if the test ends before it does.
pub struct Running {
    child: Child,
    lines: mpsc::Receiver<String>,
    /// Stdout lines read so far.
    stdout: Vec<String>,
    stderr: Option<std::thread::JoinHandle<String>>,
}

impl Running {
    /// Starts `cmd` with empty stdin.
    pub fn spawn(mut cmd: Command) -> Running {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", command_line(&cmd)));
        let (send, lines) = mpsc::channel();
        let stdout = child.stdout.take().expect("piped stdout");
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = send.send(line);
            }
        });
        let mut stderr = child.stderr.take().expect("piped stderr");
        let stderr = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text);
            text
        });
        Running { child, lines, stdout: vec![], stderr: Some(stderr) }
    }

    /// Waits until it has printed `count` lines on stdout.
    pub fn wait_for_lines(&mut self, count: usize) {
        let deadline = Instant::now() + COMMAND_TIMEOUT;
        while self.stdout.len() < count {
            match self.lines.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(line) => self.stdout.push(line),
                Err(_) => panic!("waited {COMMAND_TIMEOUT:?} for {count} lines, got {:?}", self.stdout),
            }
        }
    }

    /// Sends it `signal` (`INT`, `TERM`, `KILL`). `kubectl pxtoken …` is the plugin itself by
    /// then: kubectl execs its plugins.
    pub fn signal(&self, signal: &str) {
        let pid = self.child.id().to_string();
        let status = Command::new("kill").args([&format!("-{signal}"), &pid]).status().expect("running kill");
        assert!(status.success(), "kill -{signal} {pid} failed");
    }

    /// Whether it has not exited yet.
    pub fn still_running(&mut self) -> bool {
        self.child.try_wait().expect("waiting for a child process").is_none()
    }

    /// Starts `cmd`, waits until it has printed `lines` lines, sends it `signal` and waits for
    /// it to exit; fails the test if it ended before the signal could be sent.
    pub fn interrupt_after(cmd: Command, lines: usize, signal: &str) -> Run {
        let command = format!("{} (kill -{signal} after {lines} lines)", command_line(&cmd));
        let mut running = Running::spawn(cmd);
        running.wait_for_lines(lines);
        assert!(running.still_running(), "{command}: finished before it could be interrupted");
        running.signal(signal);
        let (code, stdout, stderr) = running.finish();
        Run { command, code, stdout: stdout.join("\n") + "\n", stderr }
    }

    /// Waits for it to exit: its exit code, every stdout line, and stderr.
    pub fn finish(mut self) -> (Option<i32>, Vec<String>, String) {
        let deadline = Instant::now() + COMMAND_TIMEOUT;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("waiting for a child process") {
                break status;
            }
            assert!(Instant::now() < deadline, "still running after {COMMAND_TIMEOUT:?}");
            std::thread::sleep(Duration::from_millis(20));
        };
        let mut stdout = std::mem::take(&mut self.stdout);
        stdout.extend(self.lines.iter());
        let stderr = self.stderr.take().map(|t| t.join().unwrap_or_default()).unwrap_or_default();
        (status.code(), stdout, stderr)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
