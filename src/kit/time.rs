//! Calendar dates from Unix time, in UTC, without a time-zone database:
//! [`utc_minutes`] for reports ("2025-11-22 06:56 UTC") and [`file_stamp`]
//! for file names ("20251122-065600").

/// Seconds since 1970-01-01 00:00 UTC now (0 if the clock is before it).
pub fn now_unix_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Days since 1970-01-01 to (year, month, day) (Howard Hinnant's
/// `civil_from_days`, proleptic Gregorian).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// (year, month, day, hour, minute, second) of a Unix time, in UTC.
fn utc_parts(unix_secs: u64) -> (i64, u32, u32, u64, u64, u64) {
    let (days, rem) = (unix_secs / 86_400, unix_secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    (y, m, d, rem / 3600, rem % 3600 / 60, rem % 60)
}

/// Seconds since 1970 → "2025-11-22 06:56 UTC".
pub fn utc_minutes(unix_secs: u64) -> String {
    let (y, m, d, hh, mm, _) = utc_parts(unix_secs);
    format!("{y:04}-{m:02}-{d:02} {hh:02}:{mm:02} UTC")
}

/// Seconds since 1970 → "20251122-065640" (UTC), for file names.
pub fn file_stamp(unix_secs: u64) -> String {
    let (y, m, d, hh, mm, ss) = utc_parts(unix_secs);
    format!("{y:04}{m:02}{d:02}-{hh:02}{mm:02}{ss:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_414), (2025, 11, 22));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(civil_from_days(-719_468), (0, 3, 1));
    }

    #[test]
    fn report_dates() {
        assert_eq!(utc_minutes(0), "1970-01-01 00:00 UTC");
        assert_eq!(utc_minutes(951_782_400), "2000-02-29 00:00 UTC");
        assert_eq!(utc_minutes(1_763_794_000), "2025-11-22 06:46 UTC");
        assert_eq!(utc_minutes(1_767_225_599), "2025-12-31 23:59 UTC");
    }

    #[test]
    fn file_stamps() {
        assert_eq!(file_stamp(0), "19700101-000000");
        assert_eq!(file_stamp(1_763_794_000), "20251122-064640");
        assert_eq!(file_stamp(1_767_225_599), "20251231-235959");
    }
}
