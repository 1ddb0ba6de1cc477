//! What commands print: kubectl-style result lines, objects for `-o`, tokens, progress, and
//! private files. Results go to stdout; warnings, progress and errors to stderr.

use std::io::{IsTerminal, Write};
use std::path::Path;

use k8s_openapi::api::core::v1::Secret;
use pxtoken::admin::AdminToken;
use pxtoken::claims::TokenClaims;
use pxtoken::tenant::{GroupFailed, NamespaceResult, TenantFate, TenantGroup, TenantOutcome, TenantRequest};
use pxtoken::token_secret::{DryRun, SecretTarget, WriteOutcome, rfc3339};
use secrecy::ExposeSecret;

use crate::cli::ObjectOutput;
use crate::hints;
use pxtoken::message::escape_controls;

/// A failure the output already reports (a token that would be rejected): exit 1 without an
/// `error:` line, as `kubectl auth can-i` answers "no".
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Reported(pub String);

/// kubectl's suffix for dry runs.
pub fn dry_run_suffix(dry_run: DryRun) -> &'static str {
    match dry_run {
        DryRun::None => "",
        DryRun::Client => " (dry run)",
        DryRun::Server => " (server dry run)",
    }
}

/// kubectl's result line for a stored token:
/// `secret/px-k8s-user created in team-a (sub …, expires …)`.
pub fn stored_line(target: &SecretTarget, outcome: WriteOutcome, dry_run: DryRun, claims: &TokenClaims) -> String {
    format!(
        "secret/{} {} in {}{} (sub {}, expires {})",
        target.name,
        outcome.as_str(),
        target.namespace,
        dry_run_suffix(dry_run),
        claims.sub,
        rfc3339(claims.exp)
    )
}

/// The line of a token Secret a bulk run (`tenant --from-file`, `rotate`) never got to, because
/// it was interrupted: `secret/px-k8s-user not started in team-a (interrupted: run again)`.
pub fn not_started_line(secret_name: &str, namespace: &str) -> String {
    format!("secret/{secret_name} not started in {namespace} (interrupted: run again)")
}

/// Prints a Secret as `-o yaml|json|name` asks, as `kubectl create -o` does.
pub fn print_secret(secret: &Secret, format: ObjectOutput) -> anyhow::Result<()> {
    print_object(secret, format, "secret")
}

/// Prints an object as `-o yaml|json|name` asks; `-o name` is `KIND/NAME` (`kind` as kubectl
/// spells it there: `secret`, `storageclass.storage.k8s.io`).
pub fn print_object<K>(object: &K, format: ObjectOutput, kind: &str) -> anyhow::Result<()>
where
    K: kube::Resource + serde::Serialize + Clone,
{
    let mut object = object.clone();
    // managedFields are noise on a printed manifest; kubectl apply would re-add its own.
    object.meta_mut().managed_fields = None;
    let text = match format {
        ObjectOutput::Json => serde_json::to_string_pretty(&object)? + "\n",
        ObjectOutput::Yaml => serde_saphyr::to_string(&object)?,
        ObjectOutput::Name => format!("{kind}/{}\n", object.meta().name.as_deref().unwrap_or_default()),
    };
    std::io::stdout().write_all(text.as_bytes())?;
    Ok(())
}

/// How [`write_private_file`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    /// A regular file, mode 0600, replaced atomically.
    PrivateFile,
    /// Into what was there (a terminal, a pipe, `/dev/stdout`): its mode is not ours to set.
    InPlace,
}

/// Writes `contents` to `path`. A regular file (new, existing, or behind a symlink, which is
/// kept) is written readable by the owner only (0600) and replaced atomically, so a reader never
/// sees half a token and a failure leaves the old file as it was. Anything else that exists (a
/// terminal, a pipe, `/dev/stdout`, a FIFO) is written in place: renaming over it would put a
/// file where the device or pipe was, and the token would go nowhere the user looks.
pub fn write_private_file(path: &Path, contents: &[u8]) -> anyhow::Result<Written> {
    let shown = || escape_controls(&path.display().to_string());
    let cannot = |err: std::io::Error| anyhow::anyhow!("cannot write {}: {err}", shown());
    if std::fs::metadata(path).is_ok_and(|meta| !meta.is_file() && !meta.is_dir()) {
        let mut file = std::fs::OpenOptions::new().write(true).open(path).map_err(cannot)?;
        file.write_all(contents).map_err(cannot)?;
        return Ok(Written::InPlace);
    }
    let target = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned());
    let dir = target.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let file_name = target.file_name().ok_or_else(|| anyhow::anyhow!("{} is not a file path", shown()))?;
    let temp = dir.join(format!(".{}.pxtoken-tmp", file_name.to_string_lossy()));
    let _ = std::fs::remove_file(&temp);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let result = options.open(&temp).and_then(|mut file| {
        file.write_all(contents)?;
        file.sync_all()
    });
    let result = result.and_then(|()| std::fs::rename(&temp, &target));
    if let Err(err) = result {
        let _ = std::fs::remove_file(&temp);
        return Err(cannot(err));
    }
    Ok(Written::PrivateFile)
}

/// `text` as one word for a POSIX shell, in single quotes unless it needs none.
fn shell_word(text: &str) -> String {
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_./:@%+=,".contains(&b)) {
        return text.to_owned();
    }
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// The result of one tenant: the kubectl-style line, or the object `-o` asks for; a warning
/// first when the tenant's identity changed.
pub fn tenant_result(
    request: &TenantRequest,
    done: &TenantOutcome,
    format: Option<ObjectOutput>,
) -> anyhow::Result<()> {
    if let Some(old) = &done.replaced_subject {
        eprintln!(
            "warning: {}: the tenant's subject changed from {old:?} to {:?}; volumes owned by the old subject stay with it",
            request.target.namespace, done.claims.sub
        );
    }
    match format {
        Some(format) => print_secret(&done.secret, format),
        None => {
            let line = stored_line(&request.target, done.outcome, request.store.dry_run, &done.claims);
            writeln!(std::io::stdout(), "{line}")?;
            Ok(())
        }
    }
}

/// The results of one tenant's namespaces, one line (or object) each; `Err` when any failed.
pub fn tenant_namespaces(results: Vec<NamespaceResult>, format: Option<ObjectOutput>) -> anyhow::Result<()> {
    let total = results.len();
    let failed = TenantReport::quiet(format).namespaces(results)?;
    if failed > 0 {
        Err(GroupFailed { failed, total })?;
    }
    Ok(())
}

/// A bulk run's output: one result line per tenant namespace on stdout, one `error:` line (with
/// its fix) per failure on stderr, and a progress bar on stderr when it is a terminal. Objects
/// (`-o yaml`) are separate YAML documents.
pub struct TenantReport {
    progress: indicatif::ProgressBar,
    format: Option<ObjectOutput>,
    printed: usize,
}

impl TenantReport {
    /// For `len` tenants, with a progress bar on a terminal.
    pub fn new(len: usize, format: Option<ObjectOutput>) -> TenantReport {
        let progress = if std::io::stderr().is_terminal() {
            indicatif::ProgressBar::new(len as u64)
        } else {
            indicatif::ProgressBar::hidden()
        };
        if let Ok(style) = indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} tenants {elapsed}") {
            progress.set_style(style);
        }
        TenantReport { progress, format, printed: 0 }
    }

    /// For one tenant's namespaces: no progress bar.
    pub fn quiet(format: Option<ObjectOutput>) -> TenantReport {
        TenantReport { progress: indicatif::ProgressBar::hidden(), format, printed: 0 }
    }

    /// Reports one tenant: one line for a tenant refused as a whole (nothing written, every
    /// namespace named), else one per namespace; a tenant never started (the run was
    /// interrupted) gets one line per namespace, on stdout beside the others, or on stderr when
    /// stdout carries objects (`-o`), which must stay parseable.
    pub fn one(&mut self, group: &TenantGroup, fate: TenantFate) -> anyhow::Result<()> {
        self.progress.inc(1);
        let progress = self.progress.clone();
        progress.suspend(|| match fate {
            TenantFate::Onboarded(Ok(results)) => self.namespaces(results).map(|_| ()),
            TenantFate::Onboarded(Err(err)) => {
                eprintln!("error: {}: {}", group.namespaces.join(", "), hints::error_line(&err));
                Ok(())
            }
            TenantFate::NotStarted => {
                for namespace in &group.namespaces {
                    let line = not_started_line(&group.request.target.name, namespace);
                    match self.format {
                        None => writeln!(std::io::stdout(), "{line}")?,
                        Some(_) => eprintln!("{line}"),
                    }
                }
                Ok(())
            }
        })
    }

    /// Reports each namespace of a tenant; the number that failed.
    pub fn namespaces(&mut self, results: Vec<NamespaceResult>) -> anyhow::Result<usize> {
        let mut failed = 0;
        for (request, result) in results {
            match result {
                Ok(done) => {
                    if self.format == Some(ObjectOutput::Yaml) && self.printed > 0 {
                        writeln!(std::io::stdout(), "---")?;
                    }
                    self.printed += 1;
                    tenant_result(&request, &done, self.format)?;
                }
                Err(err) => {
                    failed += 1;
                    eprintln!("error: {}: {}", request.target.namespace, hints::error_line(&err));
                }
            }
        }
        Ok(failed)
    }

    pub fn finish(&self) {
        self.progress.finish_and_clear();
    }
}

/// Where an admin token goes besides the Secret.
#[derive(Debug, Clone, Default)]
pub struct TokenDestination {
    /// Print the stored Secret in this format instead of the result line.
    pub format: Option<ObjectOutput>,
    /// Write the token to this file (0600) instead of stdout.
    pub token_file: Option<std::path::PathBuf>,
    pub print_pxctl_context: bool,
}

/// Prints an admin token: the Secret's line (or object), the file, and the token itself on
/// stdout only when it went nowhere else (or inside the `pxctl context create` line).
pub fn admin_token(
    done: &AdminToken,
    target: Option<&SecretTarget>,
    dry_run: DryRun,
    to: &TokenDestination,
) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout();
    if let (Some(stored), Some(target)) = (&done.stored, target) {
        match to.format {
            Some(format) => print_secret(&stored.secret, format)?,
            None => writeln!(stdout, "{}", stored_line(target, stored.outcome, dry_run, &done.claims))?,
        }
    }
    let token = done.token.expose_secret();
    if let Some(path) = &to.token_file {
        let mode = match write_private_file(path, token.as_bytes())? {
            Written::PrivateFile => "mode 0600, ",
            Written::InPlace => "",
        };
        let shown = escape_controls(&path.display().to_string());
        eprintln!("token written to {shown} ({mode}expires {})", rfc3339(done.claims.exp));
    }
    if to.print_pxctl_context {
        match &to.token_file {
            Some(path) => {
                let file = shell_word(&path.display().to_string());
                writeln!(stdout, "pxctl context create admin --token=\"$(cat {file})\"")?
            }
            None => writeln!(stdout, "pxctl context create admin --token={token}")?,
        }
    } else if done.stored.is_none() && to.token_file.is_none() {
        writeln!(stdout, "{token}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_file_is_private_and_a_symlink_to_it_stays() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("admin.jwt");
        assert_eq!(write_private_file(&file, b"one").unwrap(), Written::PrivateFile);
        assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
        let link = dir.path().join("current.jwt");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        assert_eq!(write_private_file(&link, b"two").unwrap(), Written::PrivateFile);
        assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink(), "the link was replaced");
        assert_eq!(std::fs::read(&file).unwrap(), b"two");
    }

    #[test]
    fn a_device_or_pipe_is_written_in_place_not_replaced() {
        use std::os::unix::fs::FileTypeExt as _;
        assert_eq!(write_private_file(Path::new("/dev/null"), b"token").unwrap(), Written::InPlace);
        assert!(std::fs::metadata("/dev/null").unwrap().file_type().is_char_device());
    }

    #[test]
    fn paths_in_the_pxctl_line_are_one_shell_word() {
        assert_eq!(shell_word("/home/me/admin.jwt"), "/home/me/admin.jwt");
        assert_eq!(shell_word("my token.jwt"), "'my token.jwt'");
        assert_eq!(shell_word("it's $(x).jwt"), r"'it'\''s $(x).jwt'");
    }
}
