//! Distribution through krew, checked with krew's own tools (tests/krew/build.sh builds them at
//! the version krew-index's CI uses):
//! - `cargo xtask release` packs archives and renders the manifest from `plugin.yaml`, and krew's
//!   `validate-krew-manifest` passes on it *with* installation: it downloads every platform's
//!   archive from the `uri` (served here on loopback), checks the sha256, installs it with
//!   `kubectl krew install` and requires a licence file among the installed files;
//! - the committed `krew-manifest.yaml` is that rendering for the version in Cargo.toml, and
//!   passes the validator too, once its archives (`uri`, `sha256`: the only fields a release
//!   fills in) are this build's;
//! - `kubectl krew install --manifest … --archive …` into an empty `KREW_ROOT` gives a
//!   `kubectl pxtoken` that runs from krew's bin directory, and the caveats' companion step
//!   makes `kubectl __complete pxtoken` work.
//!
//! The archives carry this test build's binaries (stripped debug build) for every platform:
//! the validator installs each platform's archive but never runs it; building release binaries
//! for five platforms has no place in a test run.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use crate::support::{CommandExt, Run};

const PLATFORMS: [&str; 5] = ["linux/amd64", "linux/arm64", "darwin/amd64", "darwin/arm64", "windows/amd64"];

/// Archives packed once per test process, served on loopback.
struct Release {
    /// This test process's scratch directory.
    dir: PathBuf,
    /// `cargo xtask release`'s output: archives, sha256sums.txt, pxtoken.yaml.
    dist: PathBuf,
    /// `http://127.0.0.1:PORT`, serving `dist`.
    base_url: String,
    /// Holds `kubectl-krew` and `validate-krew-manifest`.
    krew_tools: PathBuf,
    /// The kubectl the tests use (tests/cluster/ensure-kubectl.sh), and its directory.
    kubectl: PathBuf,
    kubectl_dir: PathBuf,
}

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn release() -> &'static Release {
    static RELEASE: OnceLock<Release> = OnceLock::new();
    RELEASE.get_or_init(Release::pack)
}

impl Release {
    fn pack() -> Release {
        let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
        remove_stale_dirs(tmp, "krew-");
        let dir = tmp.join(format!("krew-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();

        let krew_tools = PathBuf::from(script_output(&repo().join("tests/krew/build.sh")));
        let kubectl = PathBuf::from(script_output(&repo().join("tests/cluster/ensure-kubectl.sh")));
        let kubectl_dir = kubectl.parent().expect("kubectl's directory").to_path_buf();

        // The test build's binaries for every platform, stripped (a debug build is ~175 MB).
        let stage = dir.join("binaries");
        let plugin = stage.join("kubectl-pxtoken");
        let companion = stage.join("kubectl_complete-pxtoken");
        std::fs::create_dir_all(&stage).unwrap();
        std::fs::copy(env!("CARGO_BIN_EXE_kubectl-pxtoken"), &plugin).unwrap();
        std::fs::copy(env!("CARGO_BIN_EXE_kubectl_complete-pxtoken"), &companion).unwrap();
        for binary in [&plugin, &companion] {
            // Without `strip` the archives are just bigger.
            let _ = Command::new("strip").arg(binary).stderr(Stdio::null()).status();
        }
        for platform in PLATFORMS {
            let exe = if platform.starts_with("windows") { ".exe" } else { "" };
            let to = stage.join(platform.replace('/', "_"));
            std::fs::create_dir_all(&to).unwrap();
            std::fs::hard_link(&plugin, to.join(format!("kubectl-pxtoken{exe}"))).unwrap();
            std::fs::hard_link(&companion, to.join(format!("kubectl_complete-pxtoken{exe}"))).unwrap();
        }

        let dist = dir.join("dist");
        std::fs::create_dir_all(&dist).unwrap();
        let base_url = serve(dist.clone());
        let run = Command::new(env!("CARGO"))
            .current_dir(repo())
            .args(["xtask", "release", "--require-all", "--binaries-from"])
            .arg(&stage)
            .arg("--out")
            .arg(&dist)
            .args(["--base-url", &base_url])
            .run();
        assert_eq!(run.code, Some(0), "cargo xtask release failed:\n{run}");
        let _ = std::fs::remove_dir_all(&stage); // the archives hold them now
        Release { dir, dist, base_url, krew_tools, kubectl, kubectl_dir }
    }

    /// PATH for krew: its tools, kubectl, and the system's directories (not the developer's
    /// PATH, which may hold another kubectl-pxtoken).
    fn path(&self, first: &[&Path]) -> std::ffi::OsString {
        let mut dirs: Vec<PathBuf> = first.iter().map(|p| p.to_path_buf()).collect();
        dirs.push(self.krew_tools.clone());
        dirs.push(self.kubectl_dir.clone());
        dirs.extend(["/usr/local/bin", "/usr/bin", "/bin"].map(PathBuf::from));
        std::env::join_paths(dirs).unwrap()
    }

    /// krew's validate-krew-manifest, without -skip-install.
    fn validate(&self, manifest: &Path) -> Run {
        let home = self.dir.join("home");
        std::fs::create_dir_all(&home).unwrap();
        Command::new(self.krew_tools.join("validate-krew-manifest"))
            .arg("-manifest")
            .arg(manifest)
            .env_clear()
            .env("PATH", self.path(&[]))
            .env("HOME", &home)
            .run()
    }

    fn archive(&self, platform: &str) -> PathBuf {
        let ext = if platform.starts_with("windows") { "zip" } else { "tar.gz" };
        self.dist.join(format!("kubectl-pxtoken_v{}_{}.{ext}", env!("CARGO_PKG_VERSION"), platform.replace('/', "_")))
    }
}

/// Runs a script that prints one path on stdout.
fn script_output(script: &Path) -> String {
    let run = Command::new("bash").arg(script).run();
    assert_eq!(run.code, Some(0), "{} failed:\n{run}", script.display());
    run.stdout.trim().to_owned()
}

/// Removes `<prefix><pid>` directories of test processes that are gone.
fn remove_stale_dirs(tmp: &Path, prefix: &str) {
    let Ok(entries) = std::fs::read_dir(tmp) else { return };
    if !Path::new("/proc/self").exists() {
        return;
    }
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.strip_prefix(prefix)).and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        if !Path::new("/proc").join(pid.to_string()).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// Serves the files of `dir` over HTTP on a loopback port for the rest of the test process;
/// returns the base URL. GET of a plain file name only.
fn serve(dir: PathBuf) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("binding a loopback port");
    let base = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let dir = dir.clone();
            std::thread::spawn(move || {
                let _ = respond(stream, &dir);
            });
        }
    });
    base
}

fn respond(mut stream: TcpStream, dir: &Path) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request = String::new();
    reader.read_line(&mut request)?;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header == "\r\n" || header == "\n" {
            break;
        }
    }
    let name = request.split_whitespace().nth(1).unwrap_or("/").trim_start_matches('/');
    let file = (request.starts_with("GET ") && !name.is_empty() && !name.contains(['/', '\\']) && name != "..")
        .then(|| std::fs::read(dir.join(name)).ok())
        .flatten();
    match file {
        Some(body) => {
            write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            )?;
            stream.write_all(&body)?;
        }
        None => stream.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")?,
    }
    stream.flush()
}

fn host_platform() -> &'static str {
    let os = match std::env::consts::OS {
        "macos" => "darwin",
        os => os,
    };
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        arch => arch,
    };
    let platform = format!("{os}/{arch}");
    PLATFORMS.into_iter().find(|p| *p == platform).unwrap_or_else(|| panic!("no release platform for {platform}"))
}

/// Whether `text` holds a `${NAME}` of plugin.yaml (`${KREW_ROOT:-…}` in the caveats is shell).
fn has_placeholder(text: &str) -> bool {
    text.split("${").skip(1).any(|rest| {
        rest.split_once('}').is_some_and(|(name, _)| {
            !name.is_empty() && name.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
        })
    })
}

/// The manifest without comment lines.
fn manifest_lines(text: &str) -> Vec<&str> {
    text.lines().filter(|l| !l.starts_with('#')).collect()
}

#[test]
fn plugin_yaml_rendered_by_the_release_script_passes_validate_krew_manifest_with_install() {
    let release = release();
    let manifest = release.dist.join("pxtoken.yaml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    for platform in PLATFORMS {
        let archive = release.archive(platform);
        assert!(archive.is_file(), "{} was not packed", archive.display());
        let uri = format!("{}/{}", release.base_url, archive.file_name().unwrap().to_string_lossy());
        assert!(text.contains(&format!("uri: {uri}\n")), "{platform}: no uri {uri} in\n{text}");
    }
    assert!(text.contains(&format!("version: v{}\n", env!("CARGO_PKG_VERSION"))), "{text}");
    assert!(!has_placeholder(&text), "a placeholder was left unrendered:\n{text}");

    let run = release.validate(&manifest);
    assert_eq!(run.code, Some(0), "validate-krew-manifest failed:\n{run}");
    assert!(run.stderr.contains("all 5 spec.platforms installed fine"), "{run}");

    // The checksums in the manifest are the archives' (sha256sums.txt says the same).
    let sums = std::fs::read_to_string(release.dist.join("sha256sums.txt")).unwrap();
    assert_eq!(sums.lines().count(), 5, "{sums}");
    for line in sums.lines() {
        let (sum, _) = line.split_once("  ").unwrap();
        assert!(text.contains(&format!("sha256: \"{sum}\"\n")), "{line} not in the manifest");
    }
}

#[test]
fn the_committed_krew_manifest_is_plugin_yaml_rendered_and_passes_validate_krew_manifest_with_install() {
    let release = release();
    let committed = std::fs::read_to_string(repo().join("krew-manifest.yaml")).unwrap();
    let rendered = std::fs::read_to_string(release.dist.join("pxtoken.yaml")).unwrap();
    let release_url = format!("{}/releases/download/v{}", env!("CARGO_PKG_REPOSITORY"), env!("CARGO_PKG_VERSION"));

    // Line for line the rendering for this version with the default download URL; only the
    // checksums, which a release fills in, may differ.
    let committed_lines = manifest_lines(&committed);
    let rendered_lines = manifest_lines(&rendered);
    assert_eq!(
        committed_lines.len(),
        rendered_lines.len(),
        "krew-manifest.yaml is not plugin.yaml rendered (cargo xtask release --update-manifest):\n{committed}"
    );
    let mut swapped = String::new();
    for (ours, theirs) in committed_lines.iter().zip(&rendered_lines) {
        if let (Some(sum), Some(test_sum)) = (ours.strip_prefix("    sha256: "), theirs.strip_prefix("    sha256: ")) {
            // Quoted: an all-digit checksum would otherwise be read as a number.
            let sum = sum.strip_prefix('"').and_then(|s| s.strip_suffix('"')).unwrap_or("");
            assert!(
                sum.len() == 64 && sum.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
                "krew-manifest.yaml: bad sha256 {ours:?}"
            );
            swapped.push_str(&format!("    sha256: {test_sum}\n"));
            continue;
        }
        assert_eq!(
            ours.replace(&release_url, &release.base_url),
            *theirs,
            "krew-manifest.yaml differs from plugin.yaml rendered for v{} (run cargo xtask release --update-manifest)",
            env!("CARGO_PKG_VERSION")
        );
        swapped.push_str(&ours.replace(&release_url, &release.base_url));
        swapped.push('\n');
    }
    assert!(committed.contains(&format!("uri: {release_url}/")), "{committed}");

    // The validator takes the plugin name from the file name.
    let dir = release.dir.join("committed");
    std::fs::create_dir_all(&dir).unwrap();
    let manifest = dir.join("pxtoken.yaml");
    std::fs::write(&manifest, swapped).unwrap();
    let run = release.validate(&manifest);
    assert_eq!(run.code, Some(0), "validate-krew-manifest failed on krew-manifest.yaml:\n{run}");
    assert!(run.stderr.contains("all 5 spec.platforms installed fine"), "{run}");

    // Under its committed name the validator refuses it: krew wants <name>.yaml.
    let run = release.validate(&repo().join("krew-manifest.yaml"));
    assert_ne!(run.code, Some(0), "{run}");
}

#[test]
fn krew_installs_the_plugin_from_an_archive_and_kubectl_runs_it_from_krews_bin() {
    let release = release();
    let root = release.dir.join("krew-root");
    let _ = std::fs::remove_dir_all(&root);
    let home = release.dir.join("install-home");
    std::fs::create_dir_all(&home).unwrap();
    let krew_bin = root.join("bin");
    // Only krew's bin, krew, kubectl and the system's directories on PATH; an empty HOME.
    let isolated = |program: &Path| {
        let mut cmd = Command::new(program);
        cmd.env_clear()
            .env("PATH", release.path(&[&krew_bin]))
            .env("HOME", &home)
            .env("KREW_ROOT", &root)
            .env("KREW_NO_UPGRADE_CHECK", "1");
        cmd
    };
    let kubectl = || isolated(&release.kubectl);

    let run = kubectl()
        .args(["krew", "install"])
        .arg(format!("--manifest={}", release.dist.join("pxtoken.yaml").display()))
        .arg(format!("--archive={}", release.archive(host_platform()).display()))
        .run();
    assert_eq!(run.code, Some(0), "kubectl krew install failed:\n{run}");
    assert!(run.stderr.contains("Installed plugin: pxtoken"), "{run}");
    assert!(run.stderr.contains("kubectl_complete-pxtoken"), "the caveats name the companion:\n{run}");

    let out = kubectl().args(["pxtoken", "--version"]).succeeds();
    assert!(out.contains(env!("CARGO_PKG_VERSION")), "{out}");
    let plugins = kubectl().args(["plugin", "list"]).run().stdout;
    let link = krew_bin.join("kubectl-pxtoken");
    assert!(plugins.lines().any(|l| l.trim() == link.to_string_lossy()), "kubectl runs another plugin:\n{plugins}");

    // What krew put in its store: the binaries, the licence, the manual pages.
    let store = root.join("store/pxtoken").join(format!("v{}", env!("CARGO_PKG_VERSION")));
    for file in [
        "kubectl-pxtoken",
        "kubectl_complete-pxtoken",
        "LICENSE",
        "man/kubectl-pxtoken.1",
        "man/kubectl-pxtoken-tenant.1",
    ] {
        assert!(store.join(file).is_file(), "{file} is not installed in {}", store.display());
    }
    let license = std::fs::read_to_string(store.join("LICENSE")).unwrap();
    assert!(license.contains("Apache License") && license.contains("Version 2.0, January 2004"));

    // The caveats' step for completion, verbatim, then kubectl's completion through it.
    let manifest = std::fs::read_to_string(release.dist.join("pxtoken.yaml")).unwrap();
    isolated(Path::new("sh")).arg("-c").arg(caveat_command(&manifest)).succeeds();
    assert!(krew_bin.join("kubectl_complete-pxtoken").is_file());
    let out = kubectl().args(["__complete", "pxtoken", ""]).succeeds();
    assert!(out.lines().any(|l| l.starts_with("tenant\t")), "{out}");
    assert!(out.lines().any(|l| l == ":4"), "{out}");
    let _ = std::fs::remove_dir_all(&root);
}

/// The shell command in the manifest's caveats (the indented lines ending in `\`, joined).
fn caveat_command(manifest: &str) -> String {
    let lines: Vec<&str> = manifest.lines().map(str::trim).collect();
    let start = lines.iter().position(|l| l.starts_with("cp ")).expect("no cp command in the caveats");
    let mut command = String::new();
    for line in &lines[start..] {
        match line.strip_suffix('\\') {
            Some(part) => command.push_str(part),
            None => {
                command.push_str(line);
                break;
            }
        }
    }
    command
}
