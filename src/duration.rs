//! Token lifetimes in pxctl's duration grammar, and kubectl's `--request-timeout`.
//!
//! pxctl (openstorage `pkg/auth/duration.go`) accepts `<digits><unit>` with one unit of
//! `s`, `m`, `h`, `d` (24h) or `y` (365 days). openstorage matches that pattern anywhere in
//! the string, so it silently reads `1h30m` as 30 minutes; we anchor it and refuse such input.
//! We also refuse two values openstorage would accept: zero (a token that is already expired)
//! and values that overflow (Go wraps its int64 nanoseconds and issues a token in the past).

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// What every duration error says, so users can fix their input without reading docs.
pub const TOKEN_DURATION_GRAMMAR: &str =
    "expected <digits><unit> with unit s, m, h, d (24h) or y (365d), e.g. 90d or 1y";

/// Longest lifetime accepted: the largest span Go's `time.Duration` (int64 nanoseconds) holds,
/// so every token we issue is one pxctl could have described.
pub const MAX_TOKEN_DURATION: Duration = Duration::from_secs(i64::MAX as u64 / 1_000_000_000);

/// Why a token duration was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error("invalid duration {input:?}: {GRAMMAR}", GRAMMAR = TOKEN_DURATION_GRAMMAR)]
    Grammar { input: String },
    #[error("invalid duration {input:?}: must be greater than zero ({GRAMMAR})", GRAMMAR = TOKEN_DURATION_GRAMMAR)]
    Zero { input: String },
    #[error("invalid duration {input:?}: longer than the 292 years a token lifetime can hold ({GRAMMAR})", GRAMMAR = TOKEN_DURATION_GRAMMAR)]
    Overflow { input: String },
}

/// A validated token lifetime, e.g. `1y`. Keeps the user's spelling for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenDuration {
    duration: Duration,
}

impl TokenDuration {
    pub fn as_duration(&self) -> Duration {
        self.duration
    }

    pub fn as_secs(&self) -> u64 {
        self.duration.as_secs()
    }
}

impl FromStr for TokenDuration {
    type Err = DurationError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        parse_token_duration(input).map(|duration| TokenDuration { duration })
    }
}

impl fmt::Display for TokenDuration {
    /// Shows the largest unit that divides the duration exactly, as pxctl users write it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.duration.as_secs();
        for (unit, size) in [("y", 365 * 86_400), ("d", 86_400), ("h", 3_600), ("m", 60)] {
            if secs.is_multiple_of(size) {
                return write!(f, "{}{unit}", secs / size);
            }
        }
        write!(f, "{secs}s")
    }
}

/// Parses pxctl's token duration grammar: `^[0-9]+[smhdy]$`, greater than zero, at most
/// [`MAX_TOKEN_DURATION`].
pub fn parse_token_duration(input: &str) -> Result<Duration, DurationError> {
    let grammar = || DurationError::Grammar { input: input.to_owned() };
    // Split before the last character, not the last byte: input may be any UTF-8.
    let Some((unit_at, _)) = input.char_indices().next_back() else {
        return Err(grammar());
    };
    let (digits, unit) = input.split_at(unit_at);
    let unit_secs: u64 = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        "y" => 365 * 86_400,
        _ => return Err(grammar()),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(grammar());
    }
    let overflow = || DurationError::Overflow { input: input.to_owned() };
    // Leading zeros are fine (Go's Atoi takes them); the value itself may be too long for u64.
    let count: u64 = digits.parse().map_err(|_| overflow())?;
    let secs = count.checked_mul(unit_secs).ok_or_else(overflow)?;
    if secs == 0 {
        return Err(DurationError::Zero { input: input.to_owned() });
    }
    let duration = Duration::from_secs(secs);
    if duration > MAX_TOKEN_DURATION {
        return Err(overflow());
    }
    Ok(duration)
}

/// Why a duration in kubectl's grammar (`--request-timeout`, and `--clock-skew`, which shares
/// it) was refused. Names no flag: the same text serves both, and clap says which was given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid duration {input:?}: expected 0 or a number with a unit, e.g. 1s, 2m, 3h, 1m30s")]
pub struct RequestTimeoutError {
    input: String,
}

/// Parses kubectl's `--request-timeout`: Go's `time.ParseDuration` grammar, a bare integer
/// meaning seconds, and `0` meaning no timeout (`None`).
pub fn parse_request_timeout(input: &str) -> Result<Option<Duration>, RequestTimeoutError> {
    let err = || RequestTimeoutError { input: input.to_owned() };
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err(err());
    }
    if trimmed.bytes().all(|b| b.is_ascii_digit()) {
        // The same bound as with a unit: a deadline that far out overflows the clock.
        let secs: u32 = trimmed.parse().map_err(|_| err())?;
        return Ok((secs > 0).then(|| Duration::from_secs(secs.into())));
    }
    let mut rest = trimmed;
    let mut total = 0f64;
    while !rest.is_empty() {
        let number_len = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).ok_or_else(err)?;
        let number: f64 = rest[..number_len].parse().map_err(|_| err())?;
        rest = &rest[number_len..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
        let seconds_per_unit = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" | "μs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3_600.0,
            _ => return Err(err()),
        };
        total += number * seconds_per_unit;
        rest = &rest[unit_len..];
    }
    if !total.is_finite() || total > u32::MAX as f64 {
        return Err(err());
    }
    Ok((total > 0.0).then(|| Duration::from_secs_f64(total)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(input: &str) -> Result<u64, DurationError> {
        parse_token_duration(input).map(|d| d.as_secs())
    }

    #[test]
    fn units_match_pxctl() {
        assert_eq!(secs("45s"), Ok(45));
        assert_eq!(secs("10m"), Ok(600));
        assert_eq!(secs("2h"), Ok(7_200));
        assert_eq!(secs("1d"), Ok(86_400));
        assert_eq!(secs("1y"), Ok(365 * 86_400));
        assert_eq!(secs("007d"), Ok(7 * 86_400));
    }

    #[test]
    fn anything_else_is_refused_with_the_grammar() {
        for bad in
            ["", "1", "d", "1h30m", "1w", "1Y", " 1d", "1d ", "+1d", "-1d", "1.5d", "１d", "1dd", "x1d", "1µ", "µ"]
        {
            let err = parse_token_duration(bad).unwrap_err();
            assert_eq!(err, DurationError::Grammar { input: bad.into() }, "{bad:?}");
            assert!(err.to_string().contains(TOKEN_DURATION_GRAMMAR));
        }
    }

    #[test]
    fn zero_and_overflow_are_refused_on_purpose() {
        assert!(matches!(parse_token_duration("0d"), Err(DurationError::Zero { .. })));
        assert!(matches!(parse_token_duration("000s"), Err(DurationError::Zero { .. })));
        assert!(matches!(parse_token_duration("293y"), Err(DurationError::Overflow { .. })));
        assert!(matches!(parse_token_duration("99999999999999999999999s"), Err(DurationError::Overflow { .. })));
        assert_eq!(secs("292y"), Ok(292 * 365 * 86_400));
        assert_eq!(secs("9223372036s"), Ok(9_223_372_036));
        assert!(matches!(parse_token_duration("9223372037s"), Err(DurationError::Overflow { .. })));
    }

    #[test]
    fn display_uses_the_largest_exact_unit() {
        let show = |s: &str| s.parse::<TokenDuration>().unwrap().to_string();
        assert_eq!(show("365d"), "1y");
        assert_eq!(show("48h"), "2d");
        assert_eq!(show("90s"), "90s");
        assert_eq!(show("120s"), "2m");
    }

    #[test]
    fn request_timeout_follows_kubectl() {
        assert_eq!(parse_request_timeout("0"), Ok(None));
        assert_eq!(parse_request_timeout("0s"), Ok(None));
        assert_eq!(parse_request_timeout("5"), Ok(Some(Duration::from_secs(5))));
        assert_eq!(parse_request_timeout("2m"), Ok(Some(Duration::from_secs(120))));
        assert_eq!(parse_request_timeout("1m30s"), Ok(Some(Duration::from_secs(90))));
        assert_eq!(parse_request_timeout("500ms"), Ok(Some(Duration::from_millis(500))));
        for bad in ["", "1d", "abc", "1x", "s", "18446744073709551615", "4294967296", "4294967296s"] {
            assert!(parse_request_timeout(bad).is_err(), "{bad:?}");
        }
        assert_eq!(parse_request_timeout("4294967295"), Ok(Some(Duration::from_secs(u32::MAX.into()))));
        let err = parse_request_timeout("5x").unwrap_err().to_string();
        assert_eq!(err, r#"invalid duration "5x": expected 0 or a number with a unit, e.g. 1s, 2m, 3h, 1m30s"#);
    }

    mod properties {
        use proptest::prelude::*;

        use super::*;

        /// `^[0-9]+[smhdy]$`, the grammar as pxctl documents it.
        fn grammar() -> regex::Regex {
            regex::Regex::new(r"\A[0-9]+[smhdy]\z").unwrap()
        }

        const MAX_SECS: u64 = MAX_TOKEN_DURATION.as_secs();

        fn unit_secs(unit: char) -> u64 {
            match unit {
                's' => 1,
                'm' => 60,
                'h' => 3_600,
                'd' => 86_400,
                _ => 365 * 86_400,
            }
        }

        /// Inputs near the grammar (digits, units, signs, spaces, other units) and anything at all.
        fn candidates() -> impl Strategy<Value = String> {
            prop_oneof![
                "[0-9]{1,22}[smhdy]",
                "[-+ 0-9.]{0,4}[0-9]{0,21}[smhdySMHDYwµ .]{0,2}[0-9a-z]{0,2}",
                any::<String>(),
            ]
        }

        proptest! {
            #[test]
            fn only_the_grammar_is_accepted_and_nothing_panics(input in candidates()) {
                let result = parse_token_duration(&input);
                if !grammar().is_match(&input) {
                    prop_assert_eq!(&result, &Err(DurationError::Grammar { input: input.clone() }));
                } else if let Err(err) = &result {
                    prop_assert!(matches!(err, DurationError::Zero { .. } | DurationError::Overflow { .. }), "{err:?}");
                }
                if let Err(err) = result {
                    prop_assert!(err.to_string().contains(TOKEN_DURATION_GRAMMAR));
                    prop_assert!(!err.to_string().contains('\n'), "one line: {err}");
                }
            }

            #[test]
            fn a_valid_count_and_unit_is_exactly_that_many_seconds(count in prop_oneof![1u64..100_000, 1u64..=MAX_SECS], unit in "[smhdy]") {
                let unit = unit.chars().next().unwrap();
                let secs = count.checked_mul(unit_secs(unit)).filter(|secs| *secs <= MAX_SECS);
                let result = parse_token_duration(&format!("{count}{unit}"));
                match secs {
                    Some(secs) => prop_assert_eq!(result, Ok(Duration::from_secs(secs))),
                    None => prop_assert!(matches!(result, Err(DurationError::Overflow { .. })), "{result:?}"),
                }
            }

            #[test]
            fn display_then_parse_round_trips(secs in 1u64..=MAX_SECS) {
                let duration: TokenDuration = format!("{secs}s").parse().unwrap();
                let shown = duration.to_string();
                prop_assert_eq!(shown.parse::<TokenDuration>(), Ok(duration), "{}", shown);
                prop_assert!(grammar().is_match(&shown), "{shown}");
            }

            #[test]
            fn beyond_the_maximum_is_overflow_not_a_wrap(
                secs in (MAX_SECS + 1)..=u64::MAX,
                huge in "[1-9][0-9]{20,40}",
                unit in "[smhdy]",
            ) {
                let just_over = MAX_SECS / unit_secs(unit.chars().next().unwrap()) + 1;
                for input in [format!("{secs}s"), format!("{huge}{unit}"), format!("{just_over}{unit}")] {
                    let result = parse_token_duration(&input);
                    prop_assert!(matches!(result, Err(DurationError::Overflow { .. })), "{input}: {result:?}");
                }
            }

            #[test]
            fn request_timeout_never_panics(input in prop_oneof!["[0-9.]{0,12}(ns|us|µs|ms|s|m|h|d|x)?", any::<String>()]) {
                if let Err(err) = parse_request_timeout(&input) {
                    prop_assert!(!err.to_string().contains('\n'), "one line: {err}");
                }
            }

            #[test]
            fn request_timeout_adds_its_parts(h in 0u64..1000, m in 0u64..1000, s in 0u64..1000) {
                let total = h * 3_600 + m * 60 + s;
                let expected = (total > 0).then(|| Duration::from_secs(total));
                prop_assert_eq!(parse_request_timeout(&format!("{h}h{m}m{s}s")), Ok(expected));
                prop_assert_eq!(parse_request_timeout(&format!("{total}")), Ok(expected), "a bare number is seconds");
                prop_assert_eq!(parse_request_timeout(&format!("{total}s")), Ok(expected));
            }
        }
    }
}
