//! What commands print: kubectl-style result lines, objects for `-o`, and private files.

use std::io::Write;
use std::path::Path;

use k8s_openapi::api::core::v1::Secret;
use pxtoken::claims::TokenClaims;
use pxtoken::token_secret::{DryRun, SecretTarget, WriteOutcome, rfc3339};

use crate::cli::ObjectOutput;

/// kubectl's suffix for dry runs.
fn dry_run_suffix(dry_run: DryRun) -> &'static str {
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

/// Prints a Secret as `-o yaml|json|name` asks, as `kubectl create -o` does.
pub fn print_secret(secret: &Secret, format: ObjectOutput) -> anyhow::Result<()> {
    let mut secret = secret.clone();
    // managedFields are noise on a printed manifest; kubectl apply would re-add its own.
    secret.metadata.managed_fields = None;
    let text = match format {
        ObjectOutput::Json => serde_json::to_string_pretty(&secret)? + "\n",
        ObjectOutput::Yaml => serde_saphyr::to_string(&secret)?,
        ObjectOutput::Name => format!("secret/{}\n", secret.metadata.name.as_deref().unwrap_or_default()),
    };
    std::io::stdout().write_all(text.as_bytes())?;
    Ok(())
}

/// Writes `contents` to `path` readable by the owner only (0600), replacing it atomically so
/// a reader never sees half a token and a failure leaves the old file as it was.
pub fn write_private_file(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let file_name =
        path.file_name().ok_or_else(|| anyhow::anyhow!("--output {} is not a file path", path.display()))?;
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
    let result = result.and_then(|()| std::fs::rename(&temp, path));
    if let Err(err) = result {
        let _ = std::fs::remove_file(&temp);
        anyhow::bail!("cannot write --output {}: {err}", path.display());
    }
    Ok(())
}
