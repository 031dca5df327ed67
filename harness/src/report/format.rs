//! Numbers as the report prints them: three significant digits, the unit always written.

/// `v` to three significant digits (`0.540`, `9.31`, `51.9`, `1631`).
pub fn sig3(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let digits = v.abs().log10().floor() as i32;
    let decimals = (2 - digits).max(0) as usize;
    format!("{v:.decimals$}")
}

/// A time per operation in nanoseconds, scaled: `0.540 ns`, `51.9 ns`, `1.63 µs`, `3.10 ms`.
pub fn time_ns(v: f64) -> String {
    let (scaled, unit) = if v.abs() < 1e3 {
        (v, "ns")
    } else if v.abs() < 1e6 {
        (v / 1e3, "µs")
    } else if v.abs() < 1e9 {
        (v / 1e6, "ms")
    } else {
        (v / 1e9, "s")
    };
    format!("{} {unit}", sig3(scaled))
}

/// A figure in `unit` (`ns/op`, `allocs/op`, `bytes/op`), written with its unit.
pub fn per_op(v: f64, unit: &str) -> String {
    match unit {
        "ns/op" => format!("{}/op", time_ns(v)),
        "allocs/op" => format!("{} allocs/op", count(v)),
        "bytes/op" => format!("{} B/op", count(v)),
        other => format!("{} {other}", sig3(v)),
    }
}

/// A count per operation: whole numbers as such, else three significant digits.
pub fn count(v: f64) -> String {
    if v == v.round() && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        sig3(v)
    }
}

/// A speed ratio: `5.6x`, `0.45x`, `120x`.
pub fn ratio(r: f64) -> String {
    format!("{}x", sig3(r).trim_end_matches(".0"))
}

/// Operations per second, scaled: `812 /s`, `4.21 M/s`.
pub fn rate(v: f64) -> String {
    if v >= 1e6 {
        format!("{} M/s", sig3(v / 1e6))
    } else if v >= 1e3 {
        format!("{} k/s", sig3(v / 1e3))
    } else {
        format!("{} /s", sig3(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_significant_digits_with_units() {
        assert_eq!(sig3(0.5403), "0.540");
        assert_eq!(sig3(9.31), "9.31");
        assert_eq!(sig3(51.86), "51.9");
        assert_eq!(sig3(1631.0), "1631");
        assert_eq!(time_ns(1631.0), "1.63 µs");
        assert_eq!(per_op(3.0, "allocs/op"), "3 allocs/op");
        assert_eq!(per_op(0.25, "allocs/op"), "0.250 allocs/op");
        assert_eq!(ratio(5.57), "5.57x");
        assert_eq!(rate(4_210_000.0), "4.21 M/s");
    }
}
