//! `cargo xtask release`: binaries for each platform, one archive per platform (the binary, the
//! completion companion, LICENSE, README, man pages, completion scripts), their sha256 sums, and
//! the krew manifest rendered from plugin.yaml.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail, ensure};
use sha2::{Digest, Sha256};

use crate::archive::{self, Entry};
use crate::binaries;
use crate::manifest::{Packed, Template};
use crate::note;
use crate::platform::Platform;

/// What to release; see `cargo xtask release --help`.
#[derive(Debug)]
pub struct Options {
    pub platforms: Vec<Platform>,
    pub require_all: bool,
    pub out: PathBuf,
    pub base_url: Option<String>,
    pub binaries_from: Option<PathBuf>,
    pub build_only: bool,
    pub update_manifest: bool,
}

/// The release's file names in `out`, besides the archives.
pub const SUMS: &str = "sha256sums.txt";
/// krew's validator wants the manifest named after the plugin.
pub const MANIFEST: &str = "pxtoken.yaml";

pub fn run(root: &Path, options: Options) -> Result<()> {
    let Options { platforms, require_all, out, base_url, binaries_from, build_only, update_manifest } = options;
    ensure!(!(build_only && binaries_from.is_some()), "--build-only and --binaries-from exclude each other");
    let mut platforms = if platforms.is_empty() { Platform::ALL.to_vec() } else { platforms };
    dedup_in_order(&mut platforms);
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    let out = out.canonicalize()?;
    let package = Package::read(root)?;
    let tag = format!("v{}", package.version);
    let base_url = base_url.unwrap_or_else(|| format!("{}/releases/download/{tag}", package.repository));
    let base_url = base_url.trim_end_matches('/');
    // Read before any build, so a broken template fails in a second rather than after them.
    let template_text = std::fs::read_to_string(root.join("plugin.yaml")).context("reading plugin.yaml")?;
    let template = Template::parse(&template_text)?;

    // Binaries: built here, or taken from --binaries-from.
    let bin_root = match (&binaries_from, build_only) {
        (Some(dir), _) => dir.canonicalize().with_context(|| format!("--binaries-from {}", dir.display()))?,
        (None, true) => out.clone(),
        (None, false) => out.join(".bin"),
    };
    let mut built = Vec::new();
    let mut skipped = Vec::new();
    for platform in platforms {
        let ready = match binaries_from {
            Some(_) => binaries::check_present(&bin_root, platform),
            None => binaries::build(root, platform, &bin_root)?,
        };
        match ready {
            Ok(()) => built.push(platform),
            Err(why) if require_all => bail!("cannot build {platform}: {why}"),
            Err(why) => {
                note(&format!("skipping {platform}: {why}"));
                skipped.push(platform);
            }
        }
    }
    ensure!(!built.is_empty(), "nothing was built (skipped: {})", list(&skipped));
    if build_only {
        note(&format!("binaries in {}: {}", out.display(), list(&built)));
        return Ok(());
    }

    // Man pages and completion scripts, from one of the binaries that runs here.
    let docs = out.join(".docs");
    let doc_entries = generate_docs(&bin_root, &built, &docs)?;

    let mtime = source_date_epoch(root)?;
    remove_previous(&out)?;
    let mut packed = Vec::new();
    for &platform in &built {
        let dir = binaries::platform_dir(&bin_root, platform);
        let mut entries: Vec<Entry> =
            platform.binaries().into_iter().map(|name| Entry { source: dir.join(&name), name, mode: 0o755 }).collect();
        entries.push(Entry { name: "LICENSE".into(), source: root.join("LICENSE"), mode: 0o644 });
        if root.join("README.md").is_file() {
            entries.push(Entry { name: "README.md".into(), source: root.join("README.md"), mode: 0o644 });
        }
        entries.extend(doc_entries.iter().cloned());
        let name = format!("kubectl-pxtoken_{tag}_{}.{}", platform.slug(), platform.archive_extension());
        let path = out.join(&name);
        archive::write(&entries, mtime, &path)?;
        let sha256 = sha256_file(&path)?;
        note(&format!("packed {name} ({} bytes, sha256 {sha256})", path.metadata()?.len()));
        packed.push(Packed { platform, archive: name, sha256 });
    }
    let sums: String = packed.iter().map(|p| format!("{}  {}\n", p.sha256, p.archive)).collect();
    std::fs::write(out.join(SUMS), sums)?;

    let manifest = template.render(&tag, base_url, &packed)?;
    let tmp = out.join(format!("{MANIFEST}.tmp"));
    std::fs::write(&tmp, &manifest)?;
    std::fs::rename(&tmp, out.join(MANIFEST))?;
    std::fs::remove_dir_all(&docs)?;
    if binaries_from.is_none() {
        std::fs::remove_dir_all(&bin_root)?;
    }
    note(&format!("wrote {} for {tag}: {}", out.join(MANIFEST).display(), list(&built)));
    if !skipped.is_empty() {
        note(&format!("left out (not built here): {}", list(&skipped)));
    }
    if update_manifest {
        ensure!(
            skipped.is_empty() && template.platforms().all(|p| built.contains(&p)),
            "--update-manifest needs every platform of plugin.yaml (built: {})",
            list(&built)
        );
        std::fs::write(root.join("krew-manifest.yaml"), &manifest).context("writing krew-manifest.yaml")?;
        note("updated krew-manifest.yaml");
    }
    Ok(())
}

/// The root package's `version` and `repository` (`[package]` of Cargo.toml).
struct Package {
    version: String,
    repository: String,
}

impl Package {
    fn read(root: &Path) -> Result<Package> {
        let text = std::fs::read_to_string(root.join("Cargo.toml")).context("reading Cargo.toml")?;
        let mut table = "";
        let (mut version, mut repository) = (None, None);
        for line in text.lines().map(str::trim) {
            if line.starts_with('[') {
                table = line;
            } else if table == "[package]"
                && let Some((key, value)) = line.split_once('=')
            {
                let value = value.trim().strip_prefix('"').and_then(|v| v.strip_suffix('"')).map(str::to_owned);
                match key.trim() {
                    "version" => version = value,
                    "repository" => repository = value,
                    _ => {}
                }
            }
        }
        Ok(Package {
            version: version.context("no version = \"…\" in [package] of Cargo.toml")?,
            repository: repository.context("no repository = \"…\" in [package] of Cargo.toml")?,
        })
    }
}

/// Runs the first of `built`'s plugin binaries that runs on this machine to write the man pages
/// to `docs/man` and the completion scripts to `docs/completions`; returns their entries.
fn generate_docs(bin_root: &Path, built: &[Platform], docs: &Path) -> Result<Vec<Entry>> {
    let runner = built
        .iter()
        .map(|&p| binaries::platform_dir(bin_root, p).join(&p.binaries()[0]))
        .find(|candidate| {
            Command::new(candidate)
                .arg("--version")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        })
        .with_context(|| {
            format!(
                "none of the binaries ({}) runs on this machine, so the man pages cannot be generated; \
                 add this machine's platform",
                list(built)
            )
        })?;
    if docs.exists() {
        std::fs::remove_dir_all(docs)?;
    }
    let (man, completions) = (docs.join("man"), docs.join("completions"));
    std::fs::create_dir_all(&man)?;
    std::fs::create_dir_all(&completions)?;
    let run = |args: &[&std::ffi::OsStr]| -> Result<Vec<u8>> {
        let output = Command::new(&runner).args(args).stderr(Stdio::inherit()).output()?;
        ensure!(output.status.success(), "{} {:?} failed", runner.display(), args);
        Ok(output.stdout)
    };
    run(&["__man".as_ref(), man.as_os_str()])?;
    for (shell, file) in [
        ("bash", "kubectl-pxtoken.bash"),
        ("zsh", "_kubectl-pxtoken"),
        ("fish", "kubectl-pxtoken.fish"),
        ("powershell", "kubectl-pxtoken.ps1"),
    ] {
        std::fs::write(completions.join(file), run(&["completion".as_ref(), shell.as_ref()])?)?;
    }
    let mut entries = Vec::new();
    for dir in ["man", "completions"] {
        for file in std::fs::read_dir(docs.join(dir))? {
            let file = file?;
            let name = file.file_name().into_string().map_err(|n| anyhow::anyhow!("file name {n:?}"))?;
            entries.push(Entry { name: format!("{dir}/{name}"), source: file.path(), mode: 0o644 });
        }
    }
    Ok(entries)
}

/// The archives' mtime: SOURCE_DATE_EPOCH if set, else the last commit's time, else 0.
fn source_date_epoch(root: &Path) -> Result<u64> {
    if let Some(value) = std::env::var_os("SOURCE_DATE_EPOCH") {
        let value = value.to_string_lossy();
        return value.trim().parse().with_context(|| format!("SOURCE_DATE_EPOCH={value} is not a number of seconds"));
    }
    let commit_time = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["log", "-1", "--format=%ct"])
        .stderr(Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok());
    Ok(commit_time.unwrap_or(0))
}

/// Removes a previous release's files from `out`, so it holds only this one's.
fn remove_previous(out: &Path) -> Result<()> {
    for file in std::fs::read_dir(out)? {
        let file = file?;
        let name = file.file_name().to_string_lossy().into_owned();
        let archive = name.starts_with("kubectl-pxtoken_") && (name.ends_with(".tar.gz") || name.ends_with(".zip"));
        if archive || name == SUMS || name == MANIFEST {
            std::fs::remove_file(file.path())?;
        }
    }
    Ok(())
}

fn sha256_file(path: &Path) -> Result<String> {
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0; 1 << 16];
    loop {
        match file.read(&mut buffer)? {
            0 => break,
            n => hasher.update(&buffer[..n]),
        }
    }
    Ok(hasher.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

fn dedup_in_order(platforms: &mut Vec<Platform>) {
    let mut seen = Vec::new();
    platforms.retain(|p| {
        let new = !seen.contains(p);
        seen.push(*p);
        new
    });
}

fn list(platforms: &[Platform]) -> String {
    platforms.iter().map(Platform::to_string).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_version_and_repository_come_from_the_package_table_only() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("Cargo.toml"),
            "[package]\nname = \"x\"\nversion = \"1.2.3\"\nrepository = \"https://example.test/x\"\n\n\
             [dependencies]\nversion = \"9\"\n",
        )
        .unwrap();
        let package = Package::read(dir.path()).unwrap();
        assert_eq!((package.version.as_str(), package.repository.as_str()), ("1.2.3", "https://example.test/x"));
    }

    #[test]
    fn the_sha256_is_lowercase_hex_of_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("abc");
        std::fs::write(&file, "abc").unwrap();
        assert_eq!(sha256_file(&file).unwrap(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn a_platform_named_twice_is_released_once() {
        let mut platforms = vec![Platform::WindowsAmd64, Platform::LinuxAmd64, Platform::WindowsAmd64];
        dedup_in_order(&mut platforms);
        assert_eq!(platforms, [Platform::WindowsAmd64, Platform::LinuxAmd64]);
    }
}
