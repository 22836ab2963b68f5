//! The workload's picture on real interpreters (3.13 and 3.13t): blur and
//! mandelbrot in every mode send their input (blur) and bands covering the
//! whole output, each from one of the run's workers, and the composed
//! picture is the workload's full-resolution output (computed here in
//! Rust) downscaled the harness's way; `size` enlarges; throughput in the
//! workload's unit; bad parameters refused before anything starts; the
//! picture switched off sends nothing.

use crate::common::{self, gilscope, interp_for, one_at_a_time, run_to_end, spec};
use gilscope::interp::Mode;
use gilscope::run::embedded;
use gilscope::run::protocol::Event;
use gilscope::run::{RunMessage, RunSpec};
use gilscope::store::RunRecord;
use gilscope::store::picture::{downscale, scale_for};
use image::RgbImage;
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use std::time::Duration;

const MODES: [Mode; 4] = [Mode::Gil, Mode::Ft, Mode::Subinterp, Mode::Process];

fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("picture-tests");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// The events of a completed run, and its record built from them.
fn run_record(spec: &RunSpec) -> (Vec<Event>, RunRecord) {
    let fin = run_to_end(spec);
    fin.checksum(); // panics unless it completed
    let mut record = RunRecord::new(spec.clone(), interp_for(spec.mode).clone());
    for event in fin.events.clone() {
        record.eat_event(event);
    }
    (fin.events, record)
}

fn pictures(events: &[Event]) -> Vec<&gilscope::run::protocol::Picture> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Picture(p) => Some(p.as_ref()),
            _ => None,
        })
        .collect()
}

/// Bands events come at most every 100 ms (the last, at the end, may be
/// sooner).
fn assert_rate_bounded(events: &[Event], what: &str) {
    let times: Vec<u64> = pictures(events)
        .iter()
        .filter(|p| p.kind == "bands")
        .map(|p| p.t_ns)
        .collect();
    assert!(!times.is_empty(), "{what}: no bands");
    for pair in times.windows(2).take(times.len().saturating_sub(2)) {
        assert!(
            pair[1] - pair[0] >= 100_000_000,
            "{what}: picture events {} ms apart",
            (pair[1] - pair[0]) / 1_000_000
        );
    }
}

/// Every band was computed by one of the run's workers, and together they
/// paint every pixel.
fn assert_bands_cover(record: &RunRecord, workers: usize, what: &str) {
    let picture = record.picture();
    assert_eq!(picture.rejected(), 0, "{what}");
    assert!(!picture.bands().is_empty(), "{what}: no bands");
    for band in picture.bands() {
        let w = band.worker.unwrap();
        assert!(w < workers, "{what}: band from worker {w} of {workers}");
        assert!(band.t_ns.is_some() && band.chunk.is_some(), "{what}");
    }
    assert_eq!(picture.coverage(None), Some(1.0), "{what}: not covered");
    // half way through, only part of it was there
    let times: Vec<u64> = picture.bands().iter().filter_map(|b| b.t_ns).collect();
    let (first, last) = (*times.iter().min().unwrap(), *times.iter().max().unwrap());
    if last > first {
        let mid = picture.coverage(Some(first)).unwrap();
        assert!(mid < 1.0, "{what}: all there at the first band");
    }
}

fn astronaut() -> PathBuf {
    embedded::runtime().unwrap().asset("astronaut.png")
}

#[test]
fn blur_picture_in_every_mode_is_the_downscaled_output() {
    let _guard = one_at_a_time();
    // 333 px wide: scale 2 rounds up to 167 px; 5-row bands start on odd
    // rows too
    let (size, radius) = (333u32, 1u32);
    let img =
        gilscope::blur::resize_nearest(&gilscope::blur::load_rgb(&astronaut()).unwrap(), size);
    let (w, h) = img.dimensions();
    let scale = scale_for(w, h);
    assert_eq!(scale, 2);
    let blurred = RgbImage::from_raw(w, h, gilscope::blur::box_blur(&img, radius)).unwrap();
    let want_output = downscale(&blurred, scale);
    let want_input = downscale(&img, scale);
    let params = [("size", "333"), ("radius", "1"), ("rows", "5")];
    for mode in MODES {
        let (events, record) = run_record(&spec(mode, 2, "blur", &params));
        let what = format!("blur {mode}");
        let picture = record.picture();
        let g = picture.geometry().unwrap();
        assert_eq!(
            (g.width, g.height, g.scale, g.full_width, g.full_height),
            (167, 167, 2, w, h),
            "{what}"
        );
        assert!(picture.input().unwrap() == want_input, "{what}: input");
        assert_bands_cover(&record, 2, &what);
        assert!(
            picture.composed(None).unwrap() == want_output,
            "{what}: the composed picture is not the downscaled blur"
        );
        assert_rate_bounded(&events, &what);
        assert_eq!(record.unit(), "pixels", "{what}");
    }
}

/// Mandelbrot escape counts exactly as `workloads/builtin/mandelbrot.py`
/// computes them (same float operations in the same order).
fn mandelbrot_counts(width: usize, height: usize, max_iter: u32) -> Vec<u32> {
    let (x_min, x_max, y_min, y_max) = (-2.2f64, 1.0f64, -1.2f64, 1.2f64);
    let dx = (x_max - x_min) / (width.max(2) - 1) as f64;
    let dy = (y_max - y_min) / (height.max(2) - 1) as f64;
    let mut counts = Vec::with_capacity(width * height);
    for y in 0..height {
        let ci = y_min + dy * y as f64;
        for x in 0..width {
            let cr = x_min + dx * x as f64;
            let (mut zr, mut zi, mut n) = (0.0f64, 0.0f64, 0);
            while n < max_iter {
                let zr2 = zr * zr;
                let zi2 = zi * zi;
                if zr2 + zi2 > 4.0 {
                    break;
                }
                zi = 2.0 * zr * zi + ci;
                zr = zr2 - zi2 + cr;
                n += 1;
            }
            counts.push(n);
        }
    }
    counts
}

/// The workload's colour for an escape count (`_palette` and the level).
fn mandelbrot_colour(n: u32, max_iter: u32) -> [u8; 3] {
    let level = (n * 255 / max_iter).min(255);
    if level == 255 {
        return [0, 0, 0];
    }
    let t = f64::from(level) / 255.0;
    [
        (9.0 * (1.0 - t) * t * t * t * 255.0) as u8,
        (15.0 * (1.0 - t) * (1.0 - t) * t * t * 255.0) as u8,
        (8.5 * (1.0 - t) * (1.0 - t) * (1.0 - t) * t * 255.0) as u8,
    ]
}

#[test]
fn mandelbrot_picture_in_every_mode_is_the_downscaled_output() {
    let _guard = one_at_a_time();
    let (width, height, max_iter) = (330usize, 200usize, 60u32);
    let counts = mandelbrot_counts(width, height, max_iter);
    let mut digest = Sha256::new();
    for n in &counts {
        digest.update((*n as u16).to_be_bytes());
    }
    let checksum = format!("sha256:{:x}", digest.finalize());
    let full = RgbImage::from_fn(width as u32, height as u32, |x, y| {
        image::Rgb(mandelbrot_colour(
            counts[y as usize * width + x as usize],
            max_iter,
        ))
    });
    let want = downscale(&full, 2);
    let params = [
        ("width", "330"),
        ("height", "200"),
        ("max_iter", "60"),
        ("rows", "3"),
    ];
    for mode in MODES {
        let s = spec(mode, 2, "mandelbrot", &params);
        let (events, record) = run_record(&s);
        let what = format!("mandelbrot {mode}");
        // the Rust counts are the workload's: same checksum
        assert_eq!(record.result().unwrap().checksum, checksum, "{what}");
        let picture = record.picture();
        assert!(picture.input().is_none(), "{what}: mandelbrot has no input");
        let g = picture.geometry().unwrap();
        assert_eq!((g.width, g.height, g.scale), (165, 100, 2), "{what}");
        assert_bands_cover(&record, 2, &what);
        assert!(
            picture.composed(None).unwrap() == want,
            "{what}: the composed picture is not the downscaled counts"
        );
        assert_rate_bounded(&events, &what);
    }
}

/// A 40 × 30 P6 PPM with a pattern in every channel.
fn small_ppm() -> PathBuf {
    let path = scratch("small.ppm");
    let mut data = b"P6\n40 30\n255\n".to_vec();
    for y in 0..30u32 {
        for x in 0..40u32 {
            data.extend_from_slice(&[(x * 6) as u8, (y * 8) as u8, ((x * y) % 251) as u8]);
        }
    }
    std::fs::write(&path, data).unwrap();
    path
}

#[test]
fn size_larger_than_the_image_enlarges_it() {
    let _guard = one_at_a_time();
    let path = small_ppm();
    let image = path.display().to_string();
    let run = |size: &str| {
        let params = [("image", image.as_str()), ("size", size), ("radius", "2")];
        run_record(&spec(Mode::Gil, 2, "blur", &params)).1
    };
    let kept = run("0");
    let big = run("100");
    let total = |r: &RunRecord| r.setup_done().unwrap().items_total;
    assert_eq!(total(&kept), Some(40 * 30));
    assert_eq!(total(&big), Some(100 * 75));
    assert_eq!(big.result().unwrap().items, 100 * 75);
    let checksum = |r: &RunRecord| r.result().unwrap().checksum.clone();
    assert_eq!(
        checksum(&big),
        gilscope::blur::reference_checksum(&path, 100, 2).unwrap()
    );
    assert_eq!(
        checksum(&kept),
        gilscope::blur::reference_checksum(&path, 0, 2).unwrap()
    );
    assert_ne!(checksum(&big), checksum(&kept));
    // the picture is the enlarged output (100 px: no downscale)
    let enlarged = gilscope::blur::resize_nearest(&gilscope::blur::load_rgb(&path).unwrap(), 100);
    assert_eq!(enlarged.dimensions(), (100, 75));
    let blurred = RgbImage::from_raw(100, 75, gilscope::blur::box_blur(&enlarged, 2)).unwrap();
    assert!(big.picture().composed(None).unwrap() == blurred);
    assert!(big.picture().input().unwrap() == enlarged);
}

#[test]
fn throughput_is_in_the_workloads_unit() {
    let _guard = one_at_a_time();
    let common = [
        "run",
        "-w",
        "blur",
        "-m",
        "gil",
        "-p",
        "size=64",
        "-p",
        "radius=1",
        "--no-sample",
    ];
    let out = gilscope().args(common).arg("--json").output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["summary"]["unit"], "pixels");
    assert_eq!(doc["hello"]["item_unit"], "pixels");
    assert!(doc["summary"]["items_per_sec"].as_f64().unwrap() > 0.0);
    let out = gilscope().args(common).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(" pixels/s"), "{text}");
    assert!(!text.contains("items/s"), "{text}");
    // primes counts numbers
    let out = gilscope()
        .args([
            "run",
            "-w",
            "primes",
            "-m",
            "gil",
            "-p",
            "n=20000",
            "--no-sample",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(" numbers/s"), "{text}");
}

#[test]
fn bad_parameters_are_refused_before_anything_starts() {
    let _guard = one_at_a_time();
    let record = scratch("refused.json");
    let _ = std::fs::remove_file(&record);
    let rec = record.display().to_string();
    let err = common::usage_error(&[
        "run", "-w", "primes", "-m", "gil", "-p", "n=4e5x", "--record", &rec,
    ]);
    assert!(
        err.contains("n=4e5x") && err.contains("whole number"),
        "{err}"
    );
    assert!(err.contains("400000"), "names the default: {err}");
    assert!(!record.exists(), "a run file was written");
    let err = common::usage_error(&[
        "run", "-w", "primes", "-m", "process", "-p", "size=3", "--record", &rec,
    ]);
    assert!(
        err.contains("unknown parameter 'size'") && err.contains("chunk, n"),
        "{err}"
    );
    assert!(!record.exists());
    let err = common::usage_error(&["run", "-w", "blur", "-m", "gil", "-p", "picture=maybe"]);
    assert!(err.contains("picture=maybe"), "{err}");
    // a sweep: refused once, before its directory or any run exists
    let out = scratch("refused-sweep");
    let _ = std::fs::remove_dir_all(&out);
    let dir = out.display().to_string();
    let err = common::usage_error(&["sweep", "-w", "primes", "-p", "n=4e5x", "--out", &dir]);
    assert!(err.contains("n=4e5x"), "{err}");
    assert_eq!(err.matches("n=4e5x").count(), 1, "said once: {err}");
    assert!(!out.exists(), "the sweep made {dir}");
    // the library call the app makes
    let python = &interp_for(Mode::Gil).path;
    let p = |k: &str, v: &str| vec![(k.to_string(), v.to_string())];
    assert!(gilscope::run::check_params(python, "primes", &p("n", "4e5")).is_ok());
    assert!(gilscope::run::check_params(python, "blur", &p("size", "1024")).is_ok());
    let err = gilscope::run::check_params(python, "primes", &p("n", "4e5x")).unwrap_err();
    assert!(err.starts_with("--param n=4e5x:"), "{err}");
    let err = gilscope::run::check_params(python, "mandelbrot", &p("max_iter", "2.5")).unwrap_err();
    assert!(err.contains("max_iter=2.5"), "{err}");
}

#[test]
fn picture_switched_off_sends_nothing() {
    let _guard = one_at_a_time();
    let params = [("size", "64"), ("radius", "1")];
    let count = |events: &[Event]| pictures(events).len();
    // on by default
    let fin = run_to_end(&spec(Mode::Gil, 2, "blur", &params));
    assert!(count(&fin.events) >= 2, "input and bands expected");
    // --param picture=0
    let off = [("size", "64"), ("radius", "1"), ("picture", "0")];
    let fin = run_to_end(&spec(Mode::Process, 2, "blur", &off));
    fin.checksum();
    assert_eq!(count(&fin.events), 0);
    // GILSCOPE_PICTURE=0
    let s = spec(
        Mode::Subinterp,
        2,
        "mandelbrot",
        &[("width", "80"), ("height", "40")],
    );
    let handle = gilscope::run::start_with_env(&s, None, &[("GILSCOPE_PICTURE", "0")]).unwrap();
    let mut events = Vec::new();
    loop {
        match handle
            .messages()
            .recv_timeout(Duration::from_secs(120))
            .unwrap()
        {
            RunMessage::Event { event, .. } => events.push(event),
            RunMessage::Finished(outcome) => {
                assert!(matches!(
                    outcome.end,
                    gilscope::run::RunEnd::Completed { .. }
                ));
                break;
            }
            _ => {}
        }
    }
    assert_eq!(count(&events), 0);
    // gilscope run --no-picture: the run file has none; without it the
    // run file keeps the picture
    let save = |name: &str, extra: &[&str]| -> RunRecord {
        let path = scratch(name);
        let status = gilscope()
            .args([
                "run", "-w", "blur", "-m", "gil", "-p", "size=64", "-p", "radius=1",
            ])
            .args(["--no-sample", "--json", "--record"])
            .arg(&path)
            .args(extra)
            .output()
            .unwrap();
        assert!(status.status.success());
        RunRecord::load(&path).unwrap()
    };
    assert!(save("off.json", &["--no-picture"]).picture().is_empty());
    let kept = save("on.json.gz", &[]);
    let img = gilscope::blur::resize_nearest(&gilscope::blur::load_rgb(&astronaut()).unwrap(), 64);
    let blurred = RgbImage::from_raw(64, 64, gilscope::blur::box_blur(&img, 1)).unwrap();
    assert!(kept.picture().composed(None).unwrap() == blurred);
    // a run file from before the picture and the unit still loads
    let path = scratch("old.json");
    kept.save(&path).unwrap();
    let mut doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let record = doc.get_mut("run").unwrap();
    assert!(record.as_object_mut().unwrap().remove("picture").is_some());
    let mut units = 0;
    for event in record["events"].as_array_mut().unwrap() {
        if let Some(obj) = event.as_object_mut() {
            units += usize::from(obj.remove("item_unit").is_some());
        }
    }
    assert_eq!(units, 1, "the hello event had the unit");
    std::fs::write(&path, serde_json::to_string(&doc).unwrap()).unwrap();
    let old = RunRecord::load(&path).unwrap();
    assert!(old.picture().is_empty());
    assert_eq!(old.unit(), "items");
    assert_eq!(old.result(), kept.result());
}

#[test]
fn a_user_workload_opts_in_with_the_hooks() {
    let _guard = one_at_a_time();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/scripts/picture_tiles.py");
    let path = script.display().to_string();
    // 700 px wide: scale 3; tiles start at x = 70, 140, … (not multiples
    // of 3) and y = 25
    let full = RgbImage::from_fn(700, 50, |x, y| {
        image::Rgb([
            (x % 256) as u8,
            ((y * 5) % 256) as u8,
            ((x * y) % 256) as u8,
        ])
    });
    let want = downscale(&full, 3);
    for mode in [Mode::Gil, Mode::Process] {
        let (events, record) = run_record(&spec(mode, 2, &path, &[]));
        let what = format!("tiles {mode}");
        let g = record.picture().geometry().unwrap();
        assert_eq!((g.width, g.height, g.scale), (234, 17, 3), "{what}");
        assert_bands_cover(&record, 2, &what);
        assert!(record.picture().composed(None).unwrap() == want, "{what}");
        assert!(!pictures(&events).is_empty());
    }
    // a band that does not fit is the workload's error, named
    let fin = run_to_end(&spec(Mode::Gil, 2, &path, &[("broken", "1")]));
    let gilscope::run::RunEnd::WorkloadFailed { error } = &fin.outcome.end else {
        panic!("expected a workload error, got {:?}", fin.outcome.end);
    };
    assert!(
        error.message.contains("picture_band()"),
        "{}",
        error.message
    );
    assert_eq!(error.phase.as_deref(), Some("chunk"));
    assert!(
        error
            .filename
            .as_deref()
            .is_some_and(|f| f.ends_with("picture_tiles.py")),
        "points at the workload: {error:?}"
    );
}
