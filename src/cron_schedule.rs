//! A CronJob schedule, checked locally with the grammar Kubernetes validates it with
//! (robfig/cron v3 `ParseStandard`), so a typo fails before the manifest is printed rather than
//! when `kubectl apply` meets the API server.
//!
//! Five fields, each a comma list of `*`, `?`, `N`, `N-M`, optionally `/STEP`; month and
//! day-of-week also take three-letter names (`jan`, `mon`, any case); day-of-week is 0-6
//! (`7` is refused, as robfig does). Or one of the `@` shorthands below. `@every` is left out:
//! it is an interval, not a calendar schedule, and says nothing about when a run starts.
//! A `TZ=`/`CRON_TZ=` prefix is refused: the rotator's CronJob sets `timeZone: UTC` and the
//! API server refuses both at once.

use std::fmt;
use std::str::FromStr;

/// The `@` shorthands Kubernetes accepts for `spec.schedule`.
pub const SCHEDULE_SHORTHANDS: [&str; 7] =
    ["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"];

const GRAMMAR: &str = "expected 5 fields (minute hour day-of-month month day-of-week), e.g. \"17 3 * * *\", or one of @hourly, @daily, @weekly, @monthly, @yearly, @midnight";

/// A schedule Kubernetes will accept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CronSchedule(String);

/// Why a schedule was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid schedule {input:?}: {reason}; {GRAMMAR}")]
pub struct ScheduleError {
    pub input: String,
    pub reason: String,
}

impl CronSchedule {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CronSchedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

struct Field {
    name: &'static str,
    min: u32,
    max: u32,
    /// Three-letter names, the first meaning `min`.
    names: &'static [&'static str],
}

const FIELDS: [Field; 5] = [
    Field { name: "minute", min: 0, max: 59, names: &[] },
    Field { name: "hour", min: 0, max: 23, names: &[] },
    Field { name: "day of month", min: 1, max: 31, names: &[] },
    Field {
        name: "month",
        min: 1,
        max: 12,
        names: &["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"],
    },
    Field { name: "day of week", min: 0, max: 6, names: &["sun", "mon", "tue", "wed", "thu", "fri", "sat"] },
];

impl FromStr for CronSchedule {
    type Err = ScheduleError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let fail = |reason: String| ScheduleError { input: input.to_owned(), reason };
        let trimmed = input.trim();
        if trimmed.starts_with('@') {
            return match SCHEDULE_SHORTHANDS.contains(&trimmed) {
                true => Ok(CronSchedule(trimmed.to_owned())),
                false => Err(fail(format!("unknown shorthand {trimmed:?}"))),
            };
        }
        if trimmed.contains("TZ") {
            return Err(fail("a time zone prefix is not allowed: the rotator's CronJob runs in UTC".into()));
        }
        let fields: Vec<&str> = trimmed.split_whitespace().collect();
        if fields.len() != FIELDS.len() {
            return Err(fail(format!("found {} fields", fields.len())));
        }
        for (text, field) in fields.iter().zip(&FIELDS) {
            check_field(text, field).map_err(|reason| fail(format!("{}: {reason}", field.name)))?;
        }
        Ok(CronSchedule(fields.join(" ")))
    }
}

/// One field: a comma-separated list of ranges.
fn check_field(text: &str, field: &Field) -> Result<(), String> {
    for part in text.split(',') {
        check_range(part, field).map_err(|reason| format!("{part:?} {reason}"))?;
    }
    Ok(())
}

/// `*`, `?`, `N`, `N-M`, each with an optional `/STEP` (`N/STEP` runs from N to the maximum).
fn check_range(part: &str, field: &Field) -> Result<(), String> {
    let mut pieces = part.split('/');
    let range = pieces.next().unwrap_or_default();
    let step = pieces.next();
    if pieces.next().is_some() {
        return Err("has more than one '/'".into());
    }
    if let Some(step) = step {
        match number(step) {
            Some(n) if n > 0 => {}
            _ => return Err("needs a step that is a positive number".into()),
        }
    }
    if range == "*" || range == "?" {
        return Ok(());
    }
    let mut ends = range.split('-');
    let start = value(ends.next().unwrap_or_default(), field)?;
    let end = match ends.next() {
        Some(end) => value(end, field)?,
        None if step.is_some() => field.max,
        None => start,
    };
    if ends.next().is_some() {
        return Err("has more than one '-'".into());
    }
    if start < field.min || end > field.max {
        return Err(format!("is outside {}-{}", field.min, field.max));
    }
    if start > end {
        return Err("starts after it ends".into());
    }
    Ok(())
}

fn number(text: &str) -> Option<u32> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn value(text: &str, field: &Field) -> Result<u32, String> {
    if let Some(n) = number(text) {
        return Ok(n);
    }
    let lower = text.to_ascii_lowercase();
    match field.names.iter().position(|name| *name == lower) {
        Some(index) => Ok(field.min + index as u32),
        None if field.names.is_empty() => Err("is not a number".into()),
        None => Err(format!("is not a number or one of {}", field.names.join(", "))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_kubernetes_accepts_are_accepted() {
        for good in [
            "17 3 * * *",
            "*/15 * * * *",
            "0 0 1 1 *",
            "0 9-17/2 * * MON-FRI",
            "0 0 * jan,Jul sun",
            "5/10 * * * *",
            "0 0 ? * *",
            "59 23 31 12 6",
            "0,30 0-23 1-31/2 1-12 0-6",
            "@daily",
            "@midnight",
            "@hourly",
            "@weekly",
            "@monthly",
            "@yearly",
            "@annually",
        ] {
            assert!(good.parse::<CronSchedule>().is_ok(), "{good} should be accepted");
        }
        let spaced: CronSchedule = "  17  3 * *\t* ".parse().unwrap();
        assert_eq!(spaced.as_str(), "17 3 * * *", "whitespace is normalised, meaning kept");
    }

    #[test]
    fn schedules_kubernetes_refuses_are_refused_with_the_reason() {
        for (bad, reason) in [
            ("", "found 0 fields"),
            ("* * * *", "found 4 fields"),
            ("0 * * * * *", "found 6 fields"),
            ("60 * * * *", "minute: \"60\" is outside 0-59"),
            ("* 24 * * *", "hour: \"24\" is outside 0-23"),
            ("* * 0 * *", "day of month: \"0\" is outside 1-31"),
            ("* * * 13 *", "month: \"13\" is outside 1-12"),
            ("* * * * 7", "day of week: \"7\" is outside 0-6"),
            ("*/0 * * * *", "positive number"),
            ("*/x * * * *", "positive number"),
            ("5-1 * * * *", "starts after it ends"),
            ("1-2-3 * * * *", "more than one '-'"),
            ("*/5/2 * * * *", "more than one '/'"),
            ("a * * * *", "minute: \"a\" is not a number"),
            ("-1 * * * *", "is not a number"),
            ("1,,2 * * * *", "minute: \"\" is not a number"),
            ("* * L * *", "is not a number"),
            ("0 0 * * foo", "day of week: \"foo\" is not a number or one of sun, mon"),
            ("0 0 * sun *", "month: \"sun\" is not a number or one of jan"),
            ("@every 1h", "unknown shorthand"),
            ("@reboot", "unknown shorthand"),
            ("@DAILY", "unknown shorthand"),
            ("TZ=UTC 0 0 * * *", "time zone prefix"),
            ("CRON_TZ=Europe/Paris 0 0 * * *", "time zone prefix"),
        ] {
            let err = bad.parse::<CronSchedule>().expect_err(bad).to_string();
            assert!(err.contains(reason), "{bad:?}: {err}");
            assert!(err.contains("expected 5 fields"), "the grammar is stated: {err}");
        }
    }
}
