//! Small byte-level helpers shared by the /proc parsers: whitespace-separated
//! fields and checked decimal numbers. No allocation on the success path.

use super::error::ParseError;

/// Splits on ASCII whitespace, skipping empty pieces.
pub(crate) fn fields(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    bytes
        .split(|b| b.is_ascii_whitespace())
        .filter(|f| !f.is_empty())
}

/// Parses an unsigned decimal number; `field` names it in the error.
pub(crate) fn parse_u64(field: &'static str, bytes: &[u8]) -> Result<u64, ParseError> {
    let bad = || ParseError::BadNumber {
        field,
        value: String::from_utf8_lossy(bytes).into_owned(),
    };
    if bytes.is_empty() {
        return Err(bad());
    }
    let mut n: u64 = 0;
    for &b in bytes {
        if !b.is_ascii_digit() {
            return Err(bad());
        }
        n = n
            .checked_mul(10)
            .and_then(|n| n.checked_add(u64::from(b - b'0')))
            .ok_or_else(bad)?;
    }
    Ok(n)
}

/// Parses a number that must fit in `u32`.
pub(crate) fn parse_u32(field: &'static str, bytes: &[u8]) -> Result<u32, ParseError> {
    let n = parse_u64(field, bytes)?;
    u32::try_from(n).map_err(|_| ParseError::BadNumber {
        field,
        value: n.to_string(),
    })
}

/// Takes the next field and parses it as `u64`.
pub(crate) fn next_u64<'a>(
    it: &mut impl Iterator<Item = &'a [u8]>,
    field: &'static str,
) -> Result<u64, ParseError> {
    let raw = it.next().ok_or(ParseError::MissingField(field))?;
    parse_u64(field, raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(parse_u64("x", b"0"), Ok(0));
        assert_eq!(parse_u64("x", b"18446744073709551615"), Ok(u64::MAX));
        assert!(parse_u64("x", b"18446744073709551616").is_err());
        assert!(parse_u64("x", b"-1").is_err());
        assert!(parse_u64("x", b"").is_err());
        assert!(parse_u64("x", b"12a").is_err());
        assert!(parse_u32("x", b"4294967296").is_err());
    }

    #[test]
    fn fields_skip_runs_of_whitespace() {
        let v: Vec<&[u8]> = fields(b"  a \t bb\n\nc ").collect();
        assert_eq!(v, vec![&b"a"[..], b"bb", b"c"]);
    }

    #[test]
    fn parsers_never_panic_on_mutated_fixtures() {
        use crate::sampler::test_support::fixture;
        use crate::sampler::*;
        let seeds = [
            "stat",
            "task_stat",
            "task_stat_comm_parens",
            "schedstat",
            "statm",
            "smaps_rollup",
            "children",
        ];
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut rnd = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let alphabet = b"0123456789 ()\n:-kBcpuRSx";
        for name in seeds {
            let base = fixture(name);
            for _ in 0..2000 {
                let mut v = base.clone();
                for _ in 0..(rnd() % 4 + 1) {
                    let i = (rnd() as usize) % v.len();
                    match rnd() % 3 {
                        0 => v[i] = alphabet[(rnd() as usize) % alphabet.len()],
                        1 => v.truncate(i),
                        _ => {
                            v.remove(i);
                        }
                    }
                    if v.is_empty() {
                        break;
                    }
                }
                let _ = parse_cpu_stat(&v);
                let _ = parse_task_stat(&v);
                let _ = parse_stat_comm(&v);
                let _ = parse_schedstat(&v);
                let _ = parse_statm(&v);
                let _ = parse_smaps_rollup(&v);
                let _ = parse_children_into(&v, &mut Vec::new());
                let _ = parse_comm(&v);
            }
        }
    }
}
