//! `gilscope export` on real runs: a race animation from two recorded runs
//! decoded as a viewer plays it (frames, size, empty pictures first and
//! whole ones last, the headline appearing at the end), and the trace of a
//! real 2-worker GIL run read as a trace viewer reads it (valid JSON,
//! complete spans that never overlap on a track, names, the GIL held per
//! worker as the run file says).
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use crate::common::{gilscope, interp_for, one_at_a_time, run_ok};
use gilscope::export::animation::{self, AnimationOptions, EMPTY};
use gilscope::export::canvas::Rect;
use gilscope::export::readings;
use gilscope::export::trace::{GIL_STATES, GIL_TID_OFFSET};
use gilscope::interp::Mode;
use gilscope::store::RunRecord;
use gilscope::store::metrics::worker_gil;
use image::AnimationDecoder;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A span as a viewer reads it: start and end (µs) and its state.
type Span = (f64, f64, String);

fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("export-tests");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// Records one run of `workload` in `mode` on 2 workers into `file`.
fn record(mode: Mode, workload: &str, param: &str, file: &Path) -> RunRecord {
    run_ok(
        gilscope()
            .args(["run", "--workload", workload, "--workers", "2"])
            .args(["--mode", mode.as_str(), "--interp"])
            .arg(&interp_for(mode).name)
            .args(["--param", param, "--record"])
            .arg(file),
    );
    RunRecord::load(file).unwrap()
}

/// Share of the pixels of `r` in `frame` that are exactly `c`.
fn share_of(frame: &image::RgbaImage, r: Rect, c: [u8; 3]) -> f64 {
    let mut hit = 0;
    let mut all = 0;
    for y in r.y..r.bottom() {
        for x in r.x..r.right() {
            let p = frame.get_pixel(x as u32, y as u32);
            all += 1;
            if p[0] == c[0] && p[1] == c[1] && p[2] == c[2] {
                hit += 1;
            }
        }
    }
    f64::from(hit) / f64::from(all.max(1))
}

fn region(frame: &image::RgbaImage, r: Rect) -> Vec<u8> {
    let mut out = Vec::new();
    for y in r.y..r.bottom() {
        for x in r.x..r.right() {
            out.extend_from_slice(&frame.get_pixel(x as u32, y as u32).0);
        }
    }
    out
}

#[test]
fn a_race_animation_of_two_recorded_runs_plays_as_asked() {
    let (gil, ft) = (scratch("blur-gil.json"), scratch("blur-ft.json"));
    let (a, b) = {
        let _alone = one_at_a_time();
        (
            record(Mode::Gil, "blur", "size=320", &gil),
            record(Mode::Ft, "blur", "size=320", &ft),
        )
    };
    let out = scratch("race.gif");
    let printed = run_ok(
        gilscope()
            .args(["export", "animation", "--race"])
            .args([&gil, &ft])
            .arg("--out")
            .arg(&out)
            .args(["--size", "1280x720", "--fps", "8"]),
    );
    assert!(printed.contains("frames"), "{printed}");
    let options = AnimationOptions {
        size: (1280, 720),
        fps: 8.0,
        ..AnimationOptions::default()
    };
    let race_s = animation::race_seconds(&a, &b).unwrap();
    let expected = options.frame_times(race_s).len();
    let file = std::io::BufReader::new(std::fs::File::open(&out).unwrap());
    let decoder = image::codecs::gif::GifDecoder::new(file).unwrap();
    let frames = decoder.into_frames().collect_frames().unwrap();
    assert_eq!(frames.len(), expected, "race of {race_s:.3} s at 8 fps");
    for f in &frames {
        assert_eq!(f.buffer().dimensions(), (1280, 720));
    }
    let (ms, _) = frames.last().unwrap().delay().numer_denom_ms();
    assert_eq!(ms, 3000, "the last frame is held 3 s");
    let first = frames[0].buffer();
    let last = frames.last().unwrap().buffer();
    first.save(scratch("race-first.png")).unwrap();
    last.save(scratch("race-last.png")).unwrap();
    let regions = animation::regions(&a, &b, (1280, 720));
    for (k, pic) in regions.pictures.iter().enumerate() {
        let pic = pic.expect("blur sends a picture");
        assert_eq!(
            share_of(first, pic, EMPTY),
            1.0,
            "picture {k} empty at first"
        );
        let left = share_of(last, pic, EMPTY);
        assert!(
            left < 0.01,
            "picture {k} whole at the end: {left:.3} still empty"
        );
    }
    assert_ne!(
        region(first, regions.headline),
        region(last, regions.headline),
        "the headline appears once both finished"
    );
    assert!(share_of(first, regions.headline, animation::BACKGROUND) == 1.0);
}

#[test]
fn the_trace_of_a_real_gil_run_reads_as_a_viewer_reads_it() {
    let file = scratch("primes-gil.json");
    let run = {
        let _alone = one_at_a_time();
        record(Mode::Gil, "primes", "n=400000", &file)
    };
    let out = scratch("primes-gil.trace.json");
    run_ok(
        gilscope()
            .args(["export", "trace"])
            .arg(&file)
            .arg("--out")
            .arg(&out),
    );
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let events = v["traceEvents"].as_array().unwrap();
    // Names: the process, and each track's thread.
    let mut names: BTreeMap<(u64, u64), String> = BTreeMap::new();
    for e in events.iter().filter(|e| e["ph"] == "M") {
        if e["name"] == "thread_name" {
            let key = (e["pid"].as_u64().unwrap(), e["tid"].as_u64().unwrap());
            names.insert(key, e["args"]["name"].as_str().unwrap().to_string());
        }
    }
    assert!(
        events.iter().any(|e| e["ph"] == "M"
            && e["name"] == "process_name"
            && e["args"]["name"].is_string())
    );
    // Every duration event complete; per track, no two overlap.
    let mut tracks: BTreeMap<(u64, u64), Vec<Span>> = BTreeMap::new();
    for e in events.iter().filter(|e| e["ph"] == "X") {
        let ts = e["ts"].as_f64().expect("ts");
        let dur = e["dur"].as_f64().expect("dur");
        let key = (
            e["pid"].as_u64().expect("pid"),
            e["tid"].as_u64().expect("tid"),
        );
        assert!(dur > 0.0, "{e}");
        assert!(names.contains_key(&key), "a span on an unnamed track: {e}");
        tracks.entry(key).or_default().push((
            ts,
            ts + dur,
            e["name"].as_str().unwrap().to_string(),
        ));
    }
    for (key, spans) in &mut tracks {
        spans.sort_by(|a, b| a.0.total_cmp(&b.0));
        for w in spans.windows(2) {
            // The trace writes ts and dur in µs with exact ns decimals; at
            // ~1e10 µs their f64 sum carries ~1e-5 µs of rounding, so the
            // check is in whole ns, the trace's resolution.
            let ns = |x: f64| (x * 1e3).round() as i64;
            assert!(ns(w[1].0) >= ns(w[0].1), "{} overlaps: {w:?}", names[key]);
        }
    }
    assert!(events.iter().any(|e| e["ph"] == "C"), "counters");
    // The GIL held per worker: the run file's share ("held 52 %"), within
    // 1 % of the time the GIL reader read the thread. (The file weighs each
    // interval by the reader's ticks, the trace by its length: they differ
    // when the reader fell behind; 0.3 % at most seen here.)
    let gil = run.gil();
    let workers = worker_gil(&run);
    assert_eq!(workers.len(), 2, "the GIL reader saw both workers");
    for w in workers {
        let hold = w.hold.unwrap();
        let t = &gil.threads[&w.tid];
        let name = gil.series.column_name(t.columns.hold).unwrap().to_string();
        let mut read_us = 0.0;
        readings::for_each(&gil.series, &[name], |from, to, v| {
            if v[0].is_some() {
                read_us += (to - from) as f64 / 1e3;
            }
        });
        let track = tracks
            .iter()
            .find(|((_, tid), _)| *tid == u64::from(w.tid + GIL_TID_OFFSET))
            .map(|(_, s)| s)
            .unwrap();
        let held_us: f64 = track
            .iter()
            .filter(|s| s.2 == GIL_STATES[0])
            .map(|s| s.1 - s.0)
            .sum();
        let traced = held_us / read_us;
        assert!(
            (traced - hold).abs() <= 0.01,
            "worker {}: the trace holds the GIL {traced:.4} of the time, the run file {hold:.4}",
            w.worker
        );
        let gil_name = &names[&(u64::from(t.pid), u64::from(w.tid + GIL_TID_OFFSET))];
        assert!(gil_name.ends_with("· GIL"), "{gil_name}");
    }
}
