//! Durations as people write them in scenario files and on the command line: `5s`, `250ms`,
//! `1.5s`, `100us`, `2m`.

use std::time::Duration;

/// The accepted form, for error messages.
pub const DURATION_FORMAT: &str =
    "a number followed by a unit: ns, us, ms, s or m (e.g. \"5s\", \"250ms\", \"1.5s\")";

/// A duration that cannot be read; each message ends with the accepted form.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    /// No leading number.
    #[error("{text:?} does not start with a number; write {DURATION_FORMAT}")]
    NoNumber {
        /// The text as given.
        text: String,
    },
    /// The leading digits and dots are not a number (`1.2.3s`).
    #[error("{number:?} in {text:?} is not a number; write {DURATION_FORMAT}")]
    NotANumber {
        /// The numeric part.
        number: String,
        /// The text as given.
        text: String,
    },
    /// A number without a unit.
    #[error("{text:?} has no unit; write {DURATION_FORMAT}")]
    NoUnit {
        /// The text as given.
        text: String,
    },
    /// A unit this parser does not know.
    #[error("{text:?} has unknown unit {unit:?}; write {DURATION_FORMAT}")]
    UnknownUnit {
        /// The text as given.
        text: String,
        /// The unit.
        unit: String,
    },
    /// More nanoseconds than a `u64` holds.
    #[error("{text:?} is too long; keep it under a few centuries")]
    TooLong {
        /// The text as given.
        text: String,
    },
}

/// Parses `text` such as `"5s"`, `"250ms"`, `"1.5s"`, `"100us"`, `"2m"`, `"0s"`.
///
/// The error says what was wrong, in words fit to follow "the duration ...".
pub fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    if number.is_empty() {
        return Err(DurationError::NoNumber { text: text.into() });
    }
    let value: f64 = number.parse().map_err(|_| DurationError::NotANumber {
        number: number.into(),
        text: text.into(),
    })?;
    let nanos_per_unit = match unit.trim() {
        "ns" => 1.0,
        "us" | "µs" => 1e3,
        "ms" => 1e6,
        "s" => 1e9,
        "m" | "min" => 60e9,
        "" => return Err(DurationError::NoUnit { text: text.into() }),
        other => {
            return Err(DurationError::UnknownUnit {
                text: text.into(),
                unit: other.into(),
            });
        }
    };
    let nanos = value * nanos_per_unit;
    if !nanos.is_finite() || nanos > u64::MAX as f64 {
        return Err(DurationError::TooLong { text: text.into() });
    }
    Ok(Duration::from_nanos(nanos.round() as u64))
}

/// Writes `d` back in the shortest exact unit (`"5s"`, `"250ms"`, `"1500us"`).
pub fn format_duration(d: Duration) -> String {
    let ns = d.as_nanos();
    if ns == 0 {
        return "0s".into();
    }
    for (unit, per) in [("s", 1_000_000_000u128), ("ms", 1_000_000), ("us", 1_000)] {
        if ns.is_multiple_of(per) {
            return format!("{}{unit}", ns / per);
        }
    }
    format!("{ns}ns")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_unit() {
        assert_eq!(parse_duration("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("100us"), Ok(Duration::from_micros(100)));
        assert_eq!(parse_duration("100µs"), Ok(Duration::from_micros(100)));
        assert_eq!(parse_duration("7ns"), Ok(Duration::from_nanos(7)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration(" 0s "), Ok(Duration::ZERO));
    }

    #[test]
    fn rejects_with_the_format() {
        for bad in ["5", "s", "five s", "5 parsecs", "", "1.2.3s"] {
            let err = parse_duration(bad).unwrap_err().to_string();
            assert!(err.contains("ms"), "{bad:?}: {err}");
        }
    }

    #[test]
    fn formats_in_the_shortest_exact_unit() {
        assert_eq!(format_duration(Duration::from_secs(5)), "5s");
        assert_eq!(format_duration(Duration::from_millis(250)), "250ms");
        assert_eq!(format_duration(Duration::from_micros(1500)), "1500us");
        assert_eq!(format_duration(Duration::from_nanos(3)), "3ns");
        assert_eq!(format_duration(Duration::ZERO), "0s");
    }
}
