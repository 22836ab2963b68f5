//! Numbers for people: the one formatter of counts and rates that the
//! terminal, the report and the app share.

/// A count or rate in three significant digits with an SI suffix, trailing
/// zeros dropped: 1234567 → "1.23 M", 12_500 → "12.5 k", 2e6 → "2 M",
/// 999 → "999", 0.25 → "0.25". Negative numbers keep their sign; NaN and
/// infinities are written as Rust writes them.
pub fn human(v: f64) -> String {
    if !v.is_finite() {
        return format!("{v}");
    }
    let a = v.abs();
    let (d, unit) = if a >= 999.5e6 {
        (1e9, " G")
    } else if a >= 999.5e3 {
        (1e6, " M")
    } else if a >= 999.5 {
        (1e3, " k")
    } else {
        (1.0, "")
    };
    let x = v / d;
    let decimals = match x.abs() {
        x if x >= 99.95 => 0,
        x if x >= 9.995 => 1,
        _ => 2,
    };
    let mut text = format!("{x:.decimals$}");
    if text.contains('.') {
        text = text.trim_end_matches('0').trim_end_matches('.').to_string();
    }
    if text == "-0" {
        text = "0".into();
    }
    format!("{text}{unit}")
}

#[cfg(test)]
mod tests {
    use super::human;

    #[test]
    fn three_significant_digits_and_a_spaced_suffix() {
        assert_eq!(human(1_234_567.0), "1.23 M");
        assert_eq!(human(12_500.0), "12.5 k");
        assert_eq!(human(2e6), "2 M");
        assert_eq!(human(999.0), "999");
        assert_eq!(human(999.7), "1 k");
        assert_eq!(human(0.25), "0.25");
        assert_eq!(human(0.0), "0");
        assert_eq!(human(123_456_789.0), "123 M");
        assert_eq!(human(4.2e9), "4.2 G");
        assert_eq!(human(-1500.0), "-1.5 k");
        assert_eq!(human(f64::NAN), "NaN");
    }
}
