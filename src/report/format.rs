//! How `report.md` writes numbers, commands and dates. A missing value is
//! always "–", never 0.

/// What a missing value reads as.
pub const MISSING: &str = "–";

pub fn or_missing(value: Option<f64>, f: impl Fn(f64) -> String) -> String {
    value
        .filter(|v| v.is_finite())
        .map_or(MISSING.to_string(), f)
}

/// 1234567.4 → "1,234,567"; below 1000 one decimal.
pub fn grouped(x: f64) -> String {
    if x.abs() < 1000.0 {
        return format!("{x:.1}");
    }
    let digits = format!("{:.0}", x.abs());
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if x < 0.0 {
        out.insert(0, '-');
    }
    out
}

/// Signed percentage: "+53.2 %".
pub fn signed_pct(x: f64) -> String {
    format!("{x:+.1} %")
}

/// One word as a POSIX shell reads it back.
pub fn shell_quote(arg: &str) -> String {
    let plain = !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./=:,+@%^".contains(c));
    if plain {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

pub fn shell_line(argv: &[String]) -> String {
    argv.iter()
        .map(|a| shell_quote(a))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The value of `--out` in a command line.
pub fn out_arg(argv: &[String]) -> Option<&str> {
    argv.iter().enumerate().find_map(|(i, a)| {
        if a == "--out" {
            argv.get(i + 1).map(String::as_str)
        } else {
            a.strip_prefix("--out=")
        }
    })
}

/// A table cell: no pipes or line breaks.
pub fn cell(s: &str) -> String {
    s.replace('|', r"\|").replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(grouped(1_234_567.4), "1,234,567");
        assert_eq!(grouped(-1000.0), "-1,000");
        assert_eq!(grouped(999.94), "999.9");
        assert_eq!(grouped(100_000.0), "100,000");
        assert_eq!(signed_pct(53.21), "+53.2 %");
        assert_eq!(signed_pct(-4.0), "-4.0 %");
        assert_eq!(or_missing(None, |v| v.to_string()), "–");
        assert_eq!(or_missing(Some(f64::NAN), |v| v.to_string()), "–");
    }

    #[test]
    fn shell_quoting() {
        let argv: Vec<String> = [
            "gilscope",
            "sweep",
            "--param",
            "text=it's",
            "--out",
            "my dir",
            "",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(
            shell_line(&argv),
            r"gilscope sweep --param 'text=it'\''s' --out 'my dir' ''"
        );
        assert_eq!(out_arg(&argv), Some("my dir"));
        assert_eq!(out_arg(&["--out=x".to_string()]), Some("x"));
    }
}
