//! `kubectl pxtoken doctor`: one screen of what onboarding depends on, each with its fix.

use std::time::Duration;

use clap::Args;
use pxtoken::doctor::{Advice, DoctorOptions, Report, Status, run_doctor};

use crate::cli::{ClockSkewArgs, GlobalArgs, KeyArgs};
use crate::hints;

pub const ABOUT: &str = "Check what onboarding depends on: context, Portworx, issuer, key, permissions, clock, tokens";

pub const EXAMPLES: &str = "Marks: ✓ passed, ! warning, ✗ blocks onboarding (exit 1), - skipped. The same on a
terminal and in a pipe; use -o json in scripts.

Examples:
  # Before onboarding: may I, and will the tokens work?
  kubectl pxtoken doctor

  # Check the permissions and tokens of one tenant namespace only
  kubectl pxtoken doctor -n team-a

  # For scripts: the same checks as JSON, exit code 1 when onboarding is blocked
  kubectl pxtoken doctor -o json | jq '.checks[] | select(.status != \"pass\")'";

/// `-o` for doctor: the report as lines, or JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DoctorOutput {
    Json,
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Print the report as json instead of one line per check
    #[arg(short = 'o', long = "output", value_enum, value_name = "FORMAT")]
    pub output: Option<DoctorOutput>,
    #[command(flatten)]
    pub skew: ClockSkewArgs,
    #[command(flatten)]
    pub key: KeyArgs,
}

pub async fn exec(args: DoctorArgs, global: &GlobalArgs) -> anyhow::Result<()> {
    // Flag values are checked before any request; everything else is what the checks are for.
    global.validate(&args.key)?;
    let options = DoctorOptions {
        connection: global.connection_options(),
        overrides: args.key.overrides(),
        clock_skew: args.skew.clock_skew(),
    };
    let report = run_doctor(&options, &Fixes).await;
    match args.output {
        Some(DoctorOutput::Json) => println!("{}", serde_json::to_string_pretty(&report)?),
        None => print!("{}", render(&report)),
    }
    if report.blocked {
        let failed = report.failed();
        let checks = if failed.len() == 1 { "check" } else { "checks" };
        anyhow::bail!(
            "onboarding is blocked: {} {checks} failed ({}); apply the fixes above",
            failed.len(),
            failed.join(", ")
        );
    }
    Ok(())
}

/// A check's mark; the status word in JSON.
fn mark(status: Status) -> &'static str {
    match status {
        Status::Pass => "✓",
        Status::Warn => "!",
        Status::Fail => "✗",
        Status::Skip => "-",
    }
}

/// One line per check (mark, name, what it saw), each fix line under it, and a closing count.
fn render(report: &Report) -> String {
    let width = report.checks.iter().map(|c| c.name.len()).max().unwrap_or(0);
    let mut out = String::new();
    for check in &report.checks {
        out.push_str(&format!("{} {:width$}  {}\n", mark(check.status), check.name, check.detail));
        for (i, line) in check.fix.iter().flat_map(|f| f.lines()).enumerate() {
            let label = if i == 0 { "fix:" } else { "" };
            out.push_str(&format!("  {:width$}  {label:4} {line}\n", ""));
        }
    }
    let counts = &report.counts;
    let warnings = if counts.warn == 1 { "warning" } else { "warnings" };
    let verdict = if report.blocked { "onboarding is blocked" } else { "nothing blocks onboarding" };
    out.push_str(&format!(
        "\n{} passed, {} {warnings}, {} failed, {} skipped: {verdict}\n",
        counts.pass, counts.warn, counts.fail, counts.skip
    ));
    out
}

/// The fixes in this binary's flags and commands.
struct Fixes;

impl Advice for Fixes {
    fn hint(&self, err: &(dyn std::error::Error + 'static)) -> Option<String> {
        hints::hint(err)
    }
    fn issuer(&self) -> String {
        hints::ISSUER_HINT.into()
    }
    fn clock_skew(&self, at_least: Duration) -> String {
        let minutes = at_least.as_secs().div_ceil(60).max(1);
        format!("sync this machine's clock (NTP), or issue tokens with --clock-skew {minutes}m or more")
    }
    fn rotate(&self, namespaces: &[String]) -> String {
        match namespaces {
            [one] => format!("kubectl pxtoken rotate -n {one}"),
            _ => "kubectl pxtoken rotate -A".into(),
        }
    }
    fn one_namespace(&self) -> String {
        "or check one tenant namespace: kubectl pxtoken doctor -n NAMESPACE".into()
    }
    fn storage_class(&self) -> String {
        "kubectl pxtoken storageclass NAME --apply (a StorageClass that uses each PVC namespace's tenant Secret)".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pxtoken::doctor::Check;

    #[test]
    fn each_check_is_one_line_with_its_fix_under_it() {
        let report = Report::new(vec![
            Check::pass("context", "pxtoken-test, server https://127.0.0.1:6443"),
            Check::fail(
                "tenant",
                "cannot create secrets in namespace \"team-a\"",
                "kubectl create role a\nkubectl create rolebinding a",
            ),
            Check::skip("tokens", "no rights"),
        ]);
        assert_eq!(
            render(&report),
            "✓ context  pxtoken-test, server https://127.0.0.1:6443
✗ tenant   cannot create secrets in namespace \"team-a\"
           fix: kubectl create role a
                kubectl create rolebinding a
- tokens   no rights

1 passed, 0 warnings, 1 failed, 1 skipped: onboarding is blocked
"
        );
    }
}
