//! Ages and time left the way kubectl prints them: the AGE column of `kubectl get` is
//! `duration.HumanDuration` from k8s.io/apimachinery (`pkg/util/duration/duration.go`), which
//! keeps two or three significant figures (`45s`, `5m30s`, `3h10m`, `12d`, `2y180d`).
//!
//! kubectl only ever prints ages of the past; an EXPIRES column is mostly about the future, so
//! [`relative`] adds the direction in words, `in 364d` and `3d ago`, rather than a sign that
//! reads like a typo (`-3d`). The number itself is exactly HumanDuration's.

/// `duration.HumanDuration` of a whole number of seconds. Negative values follow it too:
/// `-1` is `0s` (clock jitter), anything lower `<invalid>`.
pub fn human_duration(seconds: i64) -> String {
    if seconds < -1 {
        return "<invalid>".into();
    }
    if seconds < 0 {
        return "0s".into();
    }
    if seconds < 60 * 2 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 10 {
        return with_rest(minutes, "m", seconds % 60, "s");
    }
    if minutes < 60 * 3 {
        return format!("{minutes}m");
    }
    let hours = seconds / 3600;
    if hours < 8 {
        return with_rest(hours, "h", minutes % 60, "m");
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        return with_rest(hours / 24, "d", hours % 24, "h");
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        return with_rest(hours / 24 / 365, "y", (hours / 24) % 365, "d");
    }
    format!("{}y", hours / 24 / 365)
}

fn with_rest(major: i64, major_unit: &str, rest: i64, rest_unit: &str) -> String {
    if rest == 0 { format!("{major}{major_unit}") } else { format!("{major}{major_unit}{rest}{rest_unit}") }
}

/// When `at` is, seen from `now` (both Unix seconds): `in 12d`, `3h ago`; `now` itself is
/// `0s ago` (a token expires at its `exp` second).
pub fn relative(at: i64, now: i64) -> String {
    if at > now {
        format!("in {}", human_duration(at.saturating_sub(now)))
    } else {
        format!("{} ago", human_duration(now.saturating_sub(at)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const M: i64 = 60;
    const H: i64 = 3600;
    const D: i64 = 24 * H;
    const Y: i64 = 365 * D;

    #[test]
    fn matches_apimachinery_tests() {
        // TestHumanDuration and TestHumanDurationBoundaries of apimachinery's duration_test.go,
        // in whole seconds (`x - 1ms` there is `x - 1s` here: Go truncates to seconds first).
        let cases = [
            (1, "1s"),
            (70, "70s"),
            (190, "3m10s"),
            (70 * M, "70m"),
            (47 * H, "47h"),
            (49 * H, "2d1h"),
            ((8 * 24 + 2) * H, "8d"),
            (367 * D, "367d"),
            ((365 * 2 * 24 + 25) * H, "2y1d"),
            ((365 * 8 * 24 + 2) * H, "8y"),
            (-2, "<invalid>"),
            (-1, "0s"),
            (0, "0s"),
            (2 * M - 1, "119s"),
            (2 * M, "2m"),
            (2 * M + 1, "2m1s"),
            (10 * M - 1, "9m59s"),
            (10 * M, "10m"),
            (10 * M + 1, "10m"),
            (3 * H - 1, "179m"),
            (3 * H, "3h"),
            (3 * H + M, "3h1m"),
            (8 * H - 1, "7h59m"),
            (8 * H, "8h"),
            (8 * H + 59 * M, "8h"),
            (2 * D - 1, "47h"),
            (2 * D, "2d"),
            (2 * D + H, "2d1h"),
            (8 * D - 1, "7d23h"),
            (8 * D, "8d"),
            (8 * D + 23 * H, "8d"),
            (2 * Y - 1, "729d"),
            (2 * Y, "2y"),
            (2 * Y + 23 * H + 59 * M, "2y"),
            (2 * Y + D - 1, "2y"),
            (2 * Y + D, "2y1d"),
            (3 * Y, "3y"),
            (7 * Y, "7y"),
            (8 * Y - 1, "7y364d"),
            (8 * Y, "8y"),
            (8 * Y + 364 * D, "8y"),
            (9 * Y, "9y"),
        ];
        for (seconds, want) in cases {
            assert_eq!(human_duration(seconds), want, "{seconds}s");
        }
        assert_eq!(human_duration(i64::MAX), format!("{}y", i64::MAX / 3600 / 24 / 365));
    }

    #[test]
    fn relative_names_the_direction() {
        assert_eq!(relative(1_000 + 364 * D, 1_000), "in 364d");
        assert_eq!(relative(1_000, 1_000 + 3 * D), "3d ago");
        assert_eq!(relative(1_000, 1_000), "0s ago");
        assert_eq!(relative(i64::MIN, i64::MAX), format!("{}y ago", i64::MAX / 3600 / 24 / 365));
    }
}
