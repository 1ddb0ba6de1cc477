//! What `inspect` and `list` print of a judged token: its claims, times and verdict, never the
//! token itself (a [`TokenReport`] holds no part of it). Also the one-time notes on what could
//! not be checked.

use std::io::{self, Write};

use pxtoken::age::{human_duration, relative};
use pxtoken::token_health::{JudgeSetup, TokenReport};
use pxtoken::token_list::TokenRow;
use pxtoken::token_secret::rfc3339;
use serde::Serialize;

use crate::cli::ListOutput;
use crate::hints;
use crate::output::Reported;
use crate::printers::{Format, ListWriter, Table};

/// A judged token for `-o json|yaml`: the Secret it came from, if any, then the report.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenView<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub managed: Option<bool>,
    /// The key that signed it, as recorded when the plugin stored it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_source: Option<&'a str>,
    /// The STATUS column: the verdict, `,unmanaged` for a hand-made Secret.
    pub status: String,
    /// Whether openstorage would accept it now (as far as was checked: see signatureChecked).
    pub accepted: bool,
    #[serde(flatten)]
    pub report: &'a TokenReport,
}

impl TokenView<'_> {
    pub fn of_row(row: &TokenRow) -> TokenView<'_> {
        TokenView {
            namespace: Some(&row.namespace),
            secret: Some(&row.secret),
            key: row.key.as_deref(),
            managed: Some(row.managed),
            key_source: row.key_source.as_deref(),
            status: row.status(),
            accepted: row.report.verdict.accepted(),
            report: &row.report,
        }
    }

    pub fn of_report(report: &TokenReport) -> TokenView<'_> {
        let (namespace, secret, key, managed, key_source) = (None, None, None, None, None);
        let (status, accepted) = (report.verdict.to_string(), report.verdict.accepted());
        TokenView { namespace, secret, key, managed, key_source, status, accepted, report }
    }
}

/// `inspect`'s description, field per line as `kubectl describe` prints: the Secret (if any),
/// claims, times, algorithm, the key judged against, and the verdict with its reason.
pub fn describe(view: &TokenView<'_>, checked_with: &str) -> String {
    let report = view.report;
    let now = report.checked_at;
    let when = |at: Option<i64>| at.map_or("<none>".into(), |t| format!("{} ({})", rfc3339(t), relative(t, now)));
    let left = match report.seconds_left() {
        Some(left) if left > 0 => human_duration(left),
        Some(_) => "none".into(),
        None if report.verdict.accepted() => "unlimited".into(),
        None => "<none>".into(),
    };
    let mut fields: Vec<(&str, String)> = Vec::new();
    if let (Some(namespace), Some(secret)) = (view.namespace, view.secret) {
        let key = view.key.map_or("no token".into(), |k| format!("key {k}"));
        let managed = if view.managed == Some(true) { "managed by kubectl-pxtoken" } else { "unmanaged" };
        fields.push(("Secret", format!("{namespace}/{secret} ({key}, {managed})")));
    }
    // A token whose claims could not be read has only its verdict to show.
    if let Some(claims) = &report.claims {
        fields.extend([
            ("Subject", or_none(&claims.sub)),
            ("Name", or_none(&claims.name)),
            ("Email", or_none(&claims.email)),
            ("Roles", joined(claims.roles.as_deref())),
            ("Groups", joined(claims.groups.as_deref())),
            ("Issuer", or_none(&claims.iss)),
            ("Issued", when(report.issued_at)),
            ("Expires", when(report.expires_at)),
            ("Time left", left),
        ]);
    }
    fields.extend([
        ("Algorithm", report.algorithm.clone().unwrap_or_else(|| "<none>".into())),
        ("Checked with", checked_with.to_owned()),
        ("Status", view.status.clone()),
        ("Reason", report.reason.clone()),
    ]);
    let width = fields.iter().map(|(label, _)| label.len()).max().unwrap_or(0) + 2;
    fields.iter().map(|(label, value)| format!("{:width$}{value}\n", format!("{label}:"))).collect()
}

fn or_none(value: &str) -> String {
    if value.is_empty() { "<none>".into() } else { value.to_owned() }
}

fn joined(values: Option<&[String]>) -> String {
    values.filter(|v| !v.is_empty()).map_or("<none>".into(), |v| v.join(","))
}

/// The warnings for what `setup` could not check, each a line for stderr, said once per run:
/// what was not checked, why, and the grant or flag that fixes it.
pub fn unchecked_notes(setup: &JudgeSetup) -> Vec<String> {
    let mut notes = Vec::new();
    if let Some(err) = &setup.unchecked_key {
        let what = if setup.judge.keys.is_empty() { "signatures were not checked" } else { "a key was not read" };
        let refused = err.unreadable_key_secrets();
        let why = if refused.is_empty() {
            hints::error_line(err)
        } else {
            format!(
                "not allowed to read the Portworx key (get secret {}): ask for RBAC that allows \"get\" on the Secret that holds it, or pass --shared-secret-ref or --shared-secret-file",
                refused.join(", ")
            )
        };
        notes.push(format!("warning: {what}: {why}"));
    }
    if let Some(err) = &setup.unchecked_issuer {
        let unseen =
            if err.installs_unlistable() { " (not allowed to list StorageClusters or DaemonSets)" } else { "" };
        notes.push(format!(
            "warning: issuers were not checked: nothing found says which issuer the nodes trust{unseen}: pass --issuer with the value of their -jwt_issuer"
        ));
    }
    notes
}

/// The key a token was judged against, in the words the user gave it: the public key files
/// (`given`), then where discovery found the key.
pub fn checked_with(setup: &JudgeSetup, mut given: Vec<String>) -> String {
    given.extend(setup.key_source.iter().map(ToString::to_string));
    if given.is_empty() { "<none>: the signature was not checked".into() } else { given.join(", ") }
}

/// `inspect`'s exit: 0 only when openstorage would accept the token now, as far as checked. A
/// rejection is the output itself (exit 1, no error line); an acceptance that rests on claims
/// alone is no answer, so it ends in an error naming what was not checked.
pub fn exit_for(setup: &JudgeSetup, report: &TokenReport) -> anyhow::Result<()> {
    let notes = unchecked_notes(setup);
    let answered = report.signature_checked && report.issuer_checked;
    if !report.verdict.accepted() || answered {
        notes.iter().for_each(|note| eprintln!("{note}"));
    }
    if !report.verdict.accepted() {
        return Err(Reported(format!("the token would be rejected: {}", report.verdict)).into());
    }
    if answered {
        return Ok(());
    }
    let why =
        notes.first().map_or("the signature or the issuer was not checked", |n| n.trim_start_matches("warning: "));
    anyhow::bail!("cannot tell whether Portworx accepts this token: {why}")
}

/// `list`'s output, a row at a time: the table (`-o wide` adds columns), a `List` for
/// `-o json|yaml`, or `secret/NAME` lines for `-o name`.
pub enum ListPrinter<W: Write> {
    Table { table: Table<W>, all_namespaces: bool, wide: bool },
    List(ListWriter<W>),
    Name(W),
}

impl<W: Write> ListPrinter<W> {
    pub fn new(out: W, format: Option<ListOutput>, all_namespaces: bool) -> io::Result<ListPrinter<W>> {
        Ok(match format {
            None | Some(ListOutput::Wide) => {
                let wide = format == Some(ListOutput::Wide);
                let mut headers = vec!["NAMESPACE", "SECRET", "SUBJECT", "ROLES", "ISSUER", "EXPIRES", "STATUS"];
                if !all_namespaces {
                    headers.remove(0);
                }
                if wide {
                    headers.extend(["GROUPS", "NAME", "ALG", "KEY SOURCE", "REASON"]);
                }
                ListPrinter::Table { table: Table::new(out, &headers), all_namespaces, wide }
            }
            Some(ListOutput::Json) => ListPrinter::List(ListWriter::begin(out, Format::Json)?),
            Some(ListOutput::Yaml) => ListPrinter::List(ListWriter::begin(out, Format::Yaml)?),
            Some(ListOutput::Name) => ListPrinter::Name(out),
        })
    }

    pub fn row(&mut self, row: &TokenRow) -> anyhow::Result<()> {
        match self {
            ListPrinter::Table { table, all_namespaces, wide } => table.row(cells(row, *all_namespaces, *wide))?,
            ListPrinter::List(list) => list.item(&TokenView::of_row(row))?,
            ListPrinter::Name(out) => writeln!(out, "secret/{}", row.secret)?,
        }
        Ok(())
    }

    /// Ends the output; a table with no rows prints nothing (the caller says so on stderr).
    pub fn finish(self, rows: usize) -> io::Result<()> {
        match self {
            ListPrinter::Table { mut table, .. } if rows > 0 => table.flush(),
            ListPrinter::Table { .. } => Ok(()),
            ListPrinter::List(list) => list.end(),
            ListPrinter::Name(mut out) => out.flush(),
        }
    }
}

fn cells(row: &TokenRow, all_namespaces: bool, wide: bool) -> Vec<String> {
    let report = &row.report;
    let claims = report.claims.clone().unwrap_or_default();
    let expires = report.expires_at.map_or("<none>".into(), |exp| relative(exp, report.checked_at));
    let mut cells = Vec::with_capacity(12);
    if all_namespaces {
        cells.push(row.namespace.clone());
    }
    cells.extend([
        row.secret.clone(),
        or_none(&claims.sub),
        joined(claims.roles.as_deref()),
        or_none(&claims.iss),
        expires,
        row.status(),
    ]);
    if wide {
        cells.extend([
            joined(claims.groups.as_deref()),
            or_none(&claims.name),
            report.algorithm.clone().unwrap_or_else(|| "<none>".into()),
            row.key_source.clone().unwrap_or_else(|| "<none>".into()),
            report.reason.clone(),
        ]);
    }
    cells
}
