use super::*;

/// A tiny deterministic PRNG (xorshift64*), so tests need no crate.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn unit(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 24) as f32
    }
}

fn limits(max_rows: usize, max_age_ns: Option<u64>) -> SeriesLimits {
    SeriesLimits {
        max_age_ns,
        max_rows,
    }
}

/// Decimation by brute force: assign every row to its bucket and fold.
fn brute(s: &TimeSeries, id: ColumnId, t_from: u64, t_to: u64, buckets: usize) -> Vec<Bucket> {
    let values: Vec<Option<f32>> = s.values(id).unwrap().collect();
    let span = u128::from(t_to - t_from) + 1;
    let mut out: Vec<(u128, Bucket)> = Vec::new();
    for (row, &t) in s.times_ns().iter().enumerate() {
        if t < t_from || t > t_to {
            continue;
        }
        let b = u128::from(t - t_from) * buckets as u128 / span;
        let v = values[row];
        match out.last_mut() {
            Some((last, bucket)) if *last == b => {
                if let Some(v) = v {
                    bucket.min_max = Some(match bucket.min_max {
                        None => (v, v),
                        Some((lo, hi)) => (lo.min(v), hi.max(v)),
                    });
                }
            }
            _ => out.push((
                b,
                Bucket {
                    t_ns: t,
                    min_max: v.map(|v| (v, v)),
                },
            )),
        }
    }
    out.into_iter().map(|(_, b)| b).collect()
}

#[test]
fn gaps_stay_gaps_and_nan_is_a_gap() {
    let mut s = TimeSeries::default();
    let a = s.column("a");
    for (i, t) in [10, 20, 30, 40].into_iter().enumerate() {
        s.push_row(t).unwrap();
        match i {
            0 => s.set_last(a, 0.5),
            2 => s.set_last(a, f32::NAN),
            3 => s.set_last(a, 0.0),
            _ => {}
        }
    }
    let values: Vec<_> = s.values(a).unwrap().collect();
    assert_eq!(values, [Some(0.5), None, None, Some(0.0)]);
    assert_eq!(s.value(a, 1), None);
    assert_eq!(s.min_max(a, 1..3), None);
    assert_eq!(s.min_max(a, 0..4), Some((0.0, 0.5)));
    // A bucket holding only gap rows is reported, as a gap.
    let d = s.decimated(a, 10, 40, 4);
    assert_eq!(d.len(), 4);
    assert_eq!(d[1].min_max, None);
    assert_eq!(d[2].min_max, None);
    assert_eq!(s.last_at_or_before(a, 35), Some((10, 0.5)));
    assert_eq!(s.last_at_or_before(a, 5), None);
}

#[test]
fn column_that_appears_late_is_gaps_before() {
    let mut s = TimeSeries::default();
    let early = s.column("early");
    for t in 0..100 {
        s.push_row(t).unwrap();
        s.set_last(early, t as f32);
    }
    let late = s.column("late");
    assert_eq!(s.column("late"), late, "get-or-create returns the same id");
    s.push_row(100).unwrap();
    s.set_last(late, 7.0);
    let values: Vec<_> = s.values(late).unwrap().collect();
    assert_eq!(values.len(), 101);
    assert!(values[..100].iter().all(Option::is_none));
    assert_eq!(values[100], Some(7.0));
    assert_eq!(s.min_max(late, 0..101), Some((7.0, 7.0)));
    assert_eq!(s.decimated(late, 0, 100, 1)[0].min_max, Some((7.0, 7.0)));
    assert_eq!(s.column_name(late), Some("late"));
    assert_eq!(s.column_id("nope"), None);
    assert!(s.values(ColumnId(99)).is_none());
    assert!(s.decimated(ColumnId(99), 0, 100, 10).is_empty());
}

#[test]
fn out_of_order_rows_are_refused() {
    let mut s = TimeSeries::default();
    s.push_row(50).unwrap();
    s.push_row(50).unwrap();
    assert_eq!(
        s.push_row(49),
        Err(OutOfOrder {
            t_ns: 49,
            last_ns: 50
        })
    );
    assert_eq!(s.len(), 2);
}

#[test]
fn prunes_by_length_in_batches_and_exactly_on_request() {
    let mut s = TimeSeries::new(limits(1000, None));
    let a = s.column("a");
    let slack = s.limits().slack_rows();
    for t in 0..5000u64 {
        s.push_row(t).unwrap();
        s.set_last(a, t as f32);
        assert!(s.len() < 1000 + slack);
    }
    s.prune(5000);
    assert_eq!(s.len(), 1000);
    assert_eq!(s.first_t_ns(), Some(4000));
    assert_eq!(s.pruned_rows(), 4000);
    assert_eq!(s.value(a, 0), Some(4000.0));
    assert_eq!(s.min_max(a, 0..1000), Some((4000.0, 4999.0)));
}

#[test]
fn prunes_by_age() {
    let mut s = TimeSeries::new(limits(1_000_000, Some(1_000)));
    let a = s.column("a");
    for t in (0..100_000u64).step_by(10) {
        s.push_row(t).unwrap();
        s.set_last(a, (t % 977) as f32);
        let oldest_allowed = t.saturating_sub(1_000 + 10 * BLOCK_ROWS as u64);
        assert!(s.first_t_ns().unwrap() >= oldest_allowed);
    }
    let removed = s.prune(99_990);
    assert!(removed > 0);
    assert_eq!(s.first_t_ns(), Some(98_990));
    let rows = s.rows_between(0, u64::MAX);
    assert_eq!(rows, 0..s.len());
    assert_eq!(s.decimated(a, 0, u64::MAX, 3), brute(&s, a, 0, u64::MAX, 3));
    // Everything older than the limit: the series empties and refills.
    s.prune(10_000_000);
    assert!(s.is_empty());
    s.push_row(10_000_001).unwrap();
    s.set_last(a, 1.0);
    assert_eq!(s.min_max(a, 0..1), Some((1.0, 1.0)));
}

#[test]
fn overwriting_a_reading_updates_the_coarse_level() {
    let mut s = TimeSeries::default();
    let a = s.column("a");
    for t in 0..200 {
        s.push_row(t).unwrap();
        s.set_last(a, 1.0);
    }
    s.set_last(a, 100.0);
    assert_eq!(s.min_max(a, 0..200), Some((1.0, 100.0)));
    s.set_last(a, 2.0);
    assert_eq!(s.min_max(a, 0..200), Some((1.0, 2.0)));
    s.set_last(a, f32::NAN);
    assert_eq!(s.min_max(a, 0..200), Some((1.0, 1.0)));
    assert_eq!(s.min_max(a, 199..200), None);
}

#[test]
fn decimation_matches_brute_force() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut s = TimeSeries::new(limits(5_000, None));
    let steady = s.column("steady");
    let gappy = s.column("gappy");
    let ended = s.column("ended");
    let mut late = None;
    let mut t = 1_000_000u64;
    for row in 0..20_000u64 {
        // Mostly 20 ms steps, some equal times, some long pauses.
        t += match rng.below(20) {
            0 => 0,
            1 => 1_000_000_000,
            _ => 20_000_000 + rng.below(3_000_000),
        };
        s.push_row(t).unwrap();
        s.set_last(steady, rng.unit());
        if rng.below(10) < 3 {
            s.set_last(gappy, rng.unit() * 100.0 - 50.0);
        }
        if (3_000..9_000).contains(&row) || (15_000..15_100).contains(&row) {
            s.set_last(ended, rng.unit());
        }
        if row == 7_000 {
            late = Some(s.column("late"));
        }
        if let Some(late) = late {
            s.set_last(late, rng.unit());
            if rng.below(7) == 0 {
                s.set_last(late, rng.unit() * 2.0);
            }
        }
        if row % 1_733 == 0 {
            check_random_queries(&s, &mut rng, &[steady, gappy, ended]);
        }
    }
    check_random_queries(&s, &mut rng, &[steady, gappy, ended, late.unwrap()]);
    assert!(s.pruned_rows() > 0);
}

fn check_random_queries(s: &TimeSeries, rng: &mut Rng, ids: &[ColumnId]) {
    let (first, last) = (s.first_t_ns().unwrap(), s.last_t_ns().unwrap());
    for &id in ids {
        for buckets in [1, 2, 3, 7, 64, 500, 10_000] {
            let a = first - 5 + rng.below(last - first + 10);
            let b = first + rng.below(last - first + 10);
            let (from, to) = (a.min(b), a.max(b));
            for (from, to) in [(from, to), (first, last), (0, u64::MAX)] {
                assert_eq!(
                    s.decimated(id, from, to, buckets),
                    brute(s, id, from, to, buckets),
                    "{id:?} {from}..={to} in {buckets} buckets"
                );
            }
        }
    }
}

#[test]
fn decimation_edge_cases() {
    let mut s = TimeSeries::default();
    let a = s.column("a");
    assert!(s.decimated(a, 0, 10, 10).is_empty(), "empty series");
    for t in 0..10 {
        s.push_row(t * 10).unwrap();
        s.set_last(a, t as f32);
    }
    assert!(s.decimated(a, 0, 100, 0).is_empty(), "no buckets");
    assert!(s.decimated(a, 50, 40, 10).is_empty(), "reversed range");
    assert!(s.decimated(a, 91, 99, 10).is_empty(), "no rows in range");
    // More buckets than rows: the raw data.
    let d = s.decimated(a, 0, 90, 1000);
    assert_eq!(d.len(), 10);
    assert!(
        d.iter()
            .enumerate()
            .all(|(i, b)| b.t_ns == i as u64 * 10 && b.min_max == Some((i as f32, i as f32)))
    );
    let d = s.decimated(a, 0, 90, 2);
    assert_eq!(d[0].min_max, Some((0.0, 4.0)));
    assert_eq!(d[1].min_max, Some((5.0, 9.0)));
}

#[test]
fn serde_round_trip_keeps_gaps_and_ids() {
    let mut s = TimeSeries::new(limits(100, Some(1_000_000)));
    let a = s.column("a");
    for t in 0..300 {
        s.push_row(t).unwrap();
        if t % 3 != 0 {
            s.set_last(a, t as f32 / 7.0);
        }
    }
    let b = s.column("b");
    s.push_row(300).unwrap();
    s.set_last(b, f32::INFINITY);
    assert_eq!(s.value(b, s.len() - 1), None, "infinity is not a reading");
    s.set_last(b, -3.5);
    let json = serde_json::to_string(&s).unwrap();
    assert!(json.contains("null"));
    let back: TimeSeries = serde_json::from_str(&json).unwrap();
    assert_eq!(back, s);
    assert_eq!(back.column_id("b"), Some(b));
    assert_eq!(back.decimated(a, 0, 300, 9), s.decimated(a, 0, 300, 9));
}

#[test]
fn corrupt_series_is_refused() {
    let bad_len = r#"{"limits":{"max_age_ns":null,"max_rows":10},"pruned_rows":0,
        "t_ns":[1,2],"columns":[{"name":"a","first_row":1,"values":[1.0,2.0]}]}"#;
    let err = serde_json::from_str::<TimeSeries>(bad_len).unwrap_err();
    assert!(err.to_string().contains("values past the 2 times"), "{err}");
    let backwards = r#"{"limits":{"max_age_ns":null,"max_rows":10},"pruned_rows":0,
        "t_ns":[2,1],"columns":[]}"#;
    let err = serde_json::from_str::<TimeSeries>(backwards).unwrap_err();
    assert!(err.to_string().contains("backwards"), "{err}");
    let twice = r#"{"limits":{"max_age_ns":null,"max_rows":10},"pruned_rows":0,
        "t_ns":[1],"columns":[{"name":"a","first_row":0,"values":[1]},
        {"name":"a","first_row":0,"values":[2]}]}"#;
    assert!(serde_json::from_str::<TimeSeries>(twice).is_err());
}

/// The values a column stores, from its file form.
fn stored_values(s: &TimeSeries, name: &str) -> usize {
    let json = serde_json::to_value(s).unwrap();
    let columns = json["columns"].as_array().unwrap();
    let column = columns.iter().find(|c| c["name"] == name).unwrap();
    column["values"].as_array().unwrap().len()
}

#[test]
fn a_column_stores_only_its_span_and_frees_it_when_pruned() {
    let mut s = TimeSeries::new(limits(10_000, None));
    let busy = s.column("busy");
    let brief = s.column("brief");
    for t in 0..5_000u64 {
        s.push_row(t).unwrap();
        s.set_last(busy, 1.0);
        if (100..110).contains(&t) {
            s.set_last(brief, t as f32);
        }
    }
    assert_eq!(stored_values(&s, "busy"), 5_000);
    assert_eq!(
        stored_values(&s, "brief"),
        10,
        "no memory for the gaps after it"
    );
    assert_eq!(s.value(brief, 99), None);
    assert_eq!(s.value(brief, 105), Some(105.0));
    assert_eq!(s.value(brief, 4_999), None);
    assert_eq!(s.last_at_or_before(brief, 4_000), Some((109, 109.0)));
    assert_eq!(s.min_max(brief, 0..5_000), Some((100.0, 109.0)));
    let back: TimeSeries = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
    assert_eq!(back, s);
    s.prune(0);
    s.drop_front(105);
    assert_eq!(stored_values(&s, "brief"), 5);
    assert_eq!(s.value(brief, 0), Some(105.0));
    s.drop_front(10);
    assert_eq!(stored_values(&s, "brief"), 0, "pruned away entirely");
    assert_eq!(s.min_max(brief, 0..s.len()), None);
    // It can come back.
    s.push_row(6_000).unwrap();
    s.set_last(brief, 7.0);
    assert_eq!(s.value(brief, s.len() - 1), Some(7.0));
    assert_eq!(stored_values(&s, "brief"), 1);
}
