//! Our token-duration grammar against openstorage's `ParseToDuration`, the parser pxctl and the
//! operator use, on a corpus of valid, invalid and edge-case strings. They must agree on every
//! string except the two we refuse on purpose: zero (a token born expired) and values past
//! Go's int64 nanoseconds (pxctl silently wraps them into a wrong lifetime, or fails Atoi).

use crate::support::openstorage;
use pxtoken::duration::{DurationError, parse_token_duration};

fn corpus() -> Vec<String> {
    let mut corpus = Vec::new();
    let units = ["s", "m", "h", "d", "y"];
    for n in ["1", "2", "7", "10", "30", "59", "60", "90", "100", "365", "1000", "86400", "007", "00001"] {
        for unit in units {
            corpus.push(format!("{n}{unit}"));
        }
    }
    // Zero and overflow, refused on purpose.
    for unit in units {
        corpus.push(format!("0{unit}"));
        corpus.push(format!("000{unit}"));
    }
    for s in ["292y", "293y", "106751d", "106752d", "2562047h", "2562048h", "153722867m", "153722868m"] {
        corpus.push(s.into());
    }
    for s in ["9223372036s", "9223372037s", "9223372036854775807s", "9223372036854775808s", "99999999999999999999y"] {
        corpus.push(s.into());
    }
    // Not the grammar: compound, other units, case, signs, decimals, spaces, words, unicode.
    for s in [
        "", "s", "d", "y", "1", "10", "1h30m", "1d12h", "2h45m10s", "1w", "2w", "1M", "1Y", "1D", "1H", "1S", "10ms",
        "5us", "5ns", "1.5h", "0.5d", ".5d", "1e3s", "+1d", "-1d", "--1d", " 1d", "1d ", " 1d ", "1 d", "\t1d", "1d\t",
        "one day", "1day", "1days", "1 year", "1yr", "1dd", "1ds", "d1", "x1d", "1dx", "0x10s", "1_000s", "1,000s",
        "１d", "1ｄ", "1µs", "٣d", "1d;", "1d#", "∞", "NaN", "null", "-", "+", "1/2d", "1d1", "11", "h", "m", "sm",
    ] {
        corpus.push(s.into());
    }
    // Every single ASCII letter as a unit, after a number.
    for c in b'a'..=b'z' {
        corpus.push(format!("3{}", c as char));
        corpus.push(format!("3{}", (c as char).to_ascii_uppercase()));
    }
    corpus.sort();
    corpus.dedup();
    corpus
}

#[test]
fn grammar_agrees_with_openstorage() {
    let corpus = corpus();
    assert!(corpus.len() >= 200, "corpus has only {} strings", corpus.len());
    let theirs = openstorage::durations(&corpus);
    let mut refused_on_purpose = Vec::new();
    for (input, theirs) in corpus.iter().zip(theirs) {
        match (parse_token_duration(input), theirs) {
            (Ok(ours), Some(nanos)) => assert_eq!(ours.as_nanos() as i64, nanos, "{input:?}: different lengths"),
            (Err(DurationError::Grammar { .. }), None) => {}
            (Err(DurationError::Zero { .. }), Some(0)) => refused_on_purpose.push(input.clone()),
            // Past int64 nanoseconds pxctl either fails Atoi or wraps to a wrong, often negative, value.
            (Err(DurationError::Overflow { .. }), None) => refused_on_purpose.push(input.clone()),
            (Err(DurationError::Overflow { .. }), Some(nanos)) => {
                let digits: u128 = input[..input.len() - 1].parse().unwrap();
                let unit: u128 = match &input[input.len() - 1..] {
                    "s" => 1,
                    "m" => 60,
                    "h" => 3600,
                    "d" => 86_400,
                    _ => 365 * 86_400,
                };
                assert_ne!(nanos as i128 as u128, digits * unit * 1_000_000_000, "{input:?}: pxctl got it right");
                refused_on_purpose.push(input.clone());
            }
            (ours, theirs) => panic!("{input:?}: we say {ours:?}, openstorage says {theirs:?}"),
        }
    }
    eprintln!("{} strings compared; refused on purpose: {refused_on_purpose:?}", corpus.len());
    assert!(refused_on_purpose.iter().any(|s| s == "0d") && refused_on_purpose.iter().any(|s| s == "293y"));
}
