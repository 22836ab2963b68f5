//! `gilscope report` on a real sweep: the numbers in report.md are those
//! computed from the run files, the charts are valid PNG and SVG with every
//! series, a failed point is a gap, and broken inputs are named in errors.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use crate::common::{gilscope, run_ok};
use gilscope::report::{CHARTS_DIR, Chart, REPORT_FILE_NAME, Report, markdown::table_header};
use gilscope::sweep::{Point, SweepFile, aggregate};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// A sweep of primes in four modes on 1–3 workers (plus the overhead runs),
/// where the `ft` 2-worker run is replaced by a real failed run: made once,
/// shared read-only by the tests.
fn sweep_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let _beside = crate::common::beside_others();
        let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("report-fixture");
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).unwrap();
        let dir = root.join("sweep dir");
        run_ok(
            gilscope()
                .args(["sweep", "--workload", "primes", "--param", "n=150000"])
                .args(["--modes", "gil,ft,subinterp,process", "--workers", "1,2,3"])
                .arg("--out")
                .arg(&dir),
        );
        let mut sweep = SweepFile::load(&dir).unwrap();
        let entry = sweep
            .runs
            .iter_mut()
            .find(|r| r.mode.as_str() == "ft" && r.workers == 2)
            .unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scripts/raise_in_chunk.py");
        let status = gilscope()
            .args(["run", "--mode", "ft", "--workers", "2", "--interp"])
            .arg(&entry.interpreter)
            .arg("--workload")
            .arg(&script)
            .arg("--record")
            .arg(dir.join(&entry.file))
            .output()
            .unwrap();
        assert!(!status.status.success());
        entry.completed = false;
        entry.headline = "workload error: ValueError: chunk three is cursed".into();
        sweep.save(&dir).unwrap();
        dir
    })
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, target).unwrap();
        }
    }
}

/// A private copy of the fixture sweep, to break or to write into.
fn copy_of_sweep() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(sweep_dir(), tmp.path());
    tmp
}

/// The results table of report.md: one map of header → cell per row.
fn results_table(md: &str) -> Vec<Vec<(String, String)>> {
    let section = md.split("## Results\n\n").nth(1).unwrap();
    let rows: Vec<Vec<String>> = section
        .lines()
        .take_while(|l| l.starts_with('|'))
        .map(|l| {
            l.trim_matches('|')
                .split(" | ")
                .map(|c| c.trim().to_string())
                .collect()
        })
        .collect();
    // primes counts numbers: its throughput column is "numbers/s"
    let header = table_header("numbers");
    assert_eq!(rows[0], header);
    rows[2..]
        .iter()
        .map(|r| {
            assert_eq!(r.len(), header.len(), "{r:?}");
            header.iter().cloned().zip(r.clone()).collect()
        })
        .collect()
}

fn get<'a>(row: &'a [(String, String)], header: &str) -> &'a str {
    &row.iter().find(|(h, _)| h == header).unwrap().1
}

/// A number as the table prints it ("1,234", "1.500×", "93.2 %"), `None`
/// for "–"; with its resolution (half a unit in the last digit).
fn parse(cell: &str) -> Option<(f64, f64)> {
    // "0.1010 ± 16.4 %" and "1.554× (1.13–2.02)": the median comes first.
    let cell = cell.split(" ±").next().unwrap().split(" (").next().unwrap();
    let clean: String = cell
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == '.' || *c == '-')
        .collect();
    if cell == "–" {
        return None;
    }
    let decimals = clean.split_once('.').map_or(0, |(_, d)| d.len());
    Some((
        clean.parse().unwrap(),
        0.5 * 10f64.powi(-(decimals as i32)) + 1e-9,
    ))
}

fn assert_cell(row: &[(String, String)], header: &str, expected: Option<f64>) {
    let cell = get(row, header);
    match (parse(cell), expected) {
        (None, None) => {}
        (Some((v, tol)), Some(e)) => {
            assert!(
                (v - e).abs() <= tol,
                "{header}: table {cell}, run files {e}"
            )
        }
        (got, want) => panic!("{header}: table {cell} ({got:?}), run files {want:?}"),
    }
}

#[test]
fn report_numbers_are_those_of_the_run_files() {
    let dir = sweep_dir();
    let out = tempfile::tempdir().unwrap();
    let report = Report::load(dir).unwrap();
    let written = report.write(out.path()).unwrap();
    assert_eq!(written.len(), 2 * Chart::ALL.len() + 1);

    // Independently: the run files through the aggregation.
    let sweep = SweepFile::load(dir).unwrap();
    let agg = aggregate(&sweep.load_runs(dir).unwrap());
    assert_eq!(report.aggregate, agg);

    let md = std::fs::read_to_string(out.path().join(REPORT_FILE_NAME)).unwrap();
    let rows = results_table(&md);
    assert_eq!(rows.len(), agg.points.len());
    for row in &rows {
        let p: &Point = agg
            .points
            .iter()
            .find(|p| {
                p.mode.as_str() == get(row, "mode")
                    && p.interpreter == get(row, "interpreter")
                    && p.workers.to_string() == get(row, "workers")
            })
            .unwrap_or_else(|| panic!("no point for {row:?}"));
        let runs = match p.failed {
            0 => p.runs.to_string(),
            f => format!("{} + {f} failed", p.runs),
        };
        assert_eq!(get(row, "runs"), runs);
        assert_cell(row, "median s ± spread", p.median_elapsed_secs);
        assert_cell(row, "numbers/s", p.median_items_per_sec);
        assert_cell(row, "speedup (min–max)", p.speedup);
        assert_cell(row, "efficiency", p.efficiency.map(|e| e * 100.0));
        assert_cell(row, "vs GIL 1-worker", p.speedup_vs_gil);
        assert_cell(row, "cores used", p.median_thread_cores);
        assert_cell(
            row,
            "overhead MiB",
            p.median_overhead_rss_bytes.map(|b| b / 1048576.0),
        );
        assert_cell(
            row,
            "PSS MiB",
            p.median_overhead_pss_bytes.map(|b| b / 1048576.0),
        );
        let split = get(row, "running / blocked %");
        match (p.running, p.blocked) {
            (Some(r), Some(b)) => {
                let (rs, bs) = split.split_once(" / ").unwrap();
                assert!((rs.parse::<f64>().unwrap() - r * 100.0).abs() <= 0.5 + 1e-9);
                assert!((bs.parse::<f64>().unwrap() - b * 100.0).abs() <= 0.5 + 1e-9);
            }
            _ => assert_eq!(split, "–"),
        }
        let check = get(row, "checksum");
        assert_eq!(check, if p.runs == 0 { "–" } else { "✓" }, "{row:?}");
    }

    // The failed point: a dash everywhere, never a zero; its run listed.
    let ft2 = rows
        .iter()
        .find(|r| get(r, "mode") == "ft" && get(r, "workers") == "2")
        .unwrap();
    assert_eq!(get(ft2, "runs"), "0 + 1 failed");
    assert_eq!(get(ft2, "speedup (min–max)"), "–");
    assert!(md.contains("ValueError: chunk three is cursed"), "{md}");

    // Overhead, machine, interpreters, command.
    let pct = |x: Option<f64>| format!("{:+.1} %", x.unwrap());
    assert!(md.contains(&pct(agg.overhead.ft_gil_overhead_pct)), "{md}");
    assert!(md.contains(&pct(agg.overhead.ft_overhead_pct)), "{md}");
    if let Some(cpu) = &sweep.machine.cpu_model {
        assert!(md.contains(cpu.as_str()));
    }
    for interp in &sweep.plan.interpreters {
        assert!(md.contains(&format!("`{}`", interp.path.display())));
    }
    assert!(md.contains("--workers 1,2,3 --out '"), "{md}");
    assert!(md.contains("sweep dir'\ngilscope report '"), "{md}");
    for chart in Chart::ALL {
        assert!(md.contains(&format!("]({CHARTS_DIR}/{}.png)", chart.stem())));
    }
}

/// `(r, g, b)` → the SVG colour plotters writes.
fn hex(c: (u8, u8, u8)) -> String {
    format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2)
}

const MODE_COLOURS: [(&str, (u8, u8, u8)); 5] = [
    ("gil", (0, 114, 178)),
    ("ft", (213, 94, 0)),
    ("ft-gil", (204, 121, 167)),
    ("subinterp", (0, 158, 115)),
    ("process", (230, 159, 0)),
];

#[test]
fn charts_are_valid_png_and_svg_with_every_series() {
    let dir = sweep_dir();
    let out = tempfile::tempdir().unwrap();
    let report = Report::load(dir).unwrap();
    report.write(out.path()).unwrap();
    let labels: Vec<String> = report
        .aggregate
        .points
        .iter()
        .map(|p| format!("{} · {}", p.mode, p.interpreter))
        .collect();
    assert!(
        labels.iter().any(|l| l.starts_with("ft-gil · ")),
        "{labels:?}"
    );
    let max_workers = report.aggregate.points.iter().map(|p| p.workers).max();
    // Modes drawn in the thread chart: those with a point at the largest
    // worker count; their colour shows where the split was measured.
    let at_max = |mode: &str, measured: bool| {
        report.aggregate.points.iter().any(|p| {
            p.mode.as_str() == mode
                && Some(p.workers) == max_workers
                && (!measured || p.running.is_some())
        })
    };
    for chart in Chart::ALL {
        let png = out
            .path()
            .join(CHARTS_DIR)
            .join(format!("{}.png", chart.stem()));
        let img = image::open(&png).unwrap().to_rgb8();
        assert!(img.width() >= 1600 && img.height() >= 1000, "{png:?}");
        for (mode, (r, g, b)) in MODE_COLOURS {
            if chart == Chart::Threads && !at_max(mode, true) {
                continue;
            }
            let n = img.pixels().filter(|p| p.0 == [r, g, b]).count();
            assert!(n > 200, "{png:?}: {n} pixels of {mode}'s colour");
        }

        let svg_path = png.with_extension("svg");
        let svg = std::fs::read_to_string(&svg_path).unwrap();
        let doc = roxmltree::Document::parse(&svg).unwrap();
        let root = doc.root_element();
        assert_eq!(root.tag_name().name(), "svg");
        assert_eq!(root.attribute("width"), Some("1600"));
        let texts: Vec<&str> = doc
            .descendants()
            .filter(|n| n.has_tag_name("text"))
            .filter_map(|n| n.text().map(str::trim))
            .collect();
        let colours: Vec<&str> = doc
            .descendants()
            .flat_map(|n| [n.attribute("fill"), n.attribute("stroke")])
            .flatten()
            .collect();
        for (mode, c) in MODE_COLOURS {
            let expected: Vec<&String> = match chart {
                Chart::Threads if at_max(mode, false) => vec![],
                Chart::Threads => continue,
                _ => labels
                    .iter()
                    .filter(|l| l.starts_with(&format!("{mode} · ")))
                    .collect(),
            };
            let want = if expected.is_empty() {
                vec![mode.to_string()]
            } else {
                expected.into_iter().cloned().collect()
            };
            for label in &want {
                assert!(
                    texts.contains(&label.as_str()),
                    "{svg_path:?}: {label} not in {texts:?}"
                );
            }
            assert!(
                colours.contains(&hex(c).as_str()),
                "{svg_path:?}: no {mode} colour"
            );
        }
        if chart == Chart::Threads {
            assert!(
                !texts.contains(&"ft-gil"),
                "a 1-worker-only series has no bar"
            );
        }
        if matches!(chart, Chart::Speedup | Chart::Efficiency) {
            assert!(texts.iter().any(|t| t.starts_with("ideal (linear")));
        }
    }

    // The failed ft 2-worker point is a gap: no ft line reaches across it.
    let svg = std::fs::read_to_string(out.path().join(CHARTS_DIR).join("speedup.svg")).unwrap();
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let ft_lines = doc
        .descendants()
        .filter(|n| n.has_tag_name("polyline") && n.attribute("stroke") == Some("#D55E00"))
        .filter(|n| n.attribute("points").unwrap().split_whitespace().count() >= 2)
        .count();
    assert_eq!(ft_lines, 1, "only the legend swatch may be an ft line");
}

fn report_cli(dir: &Path, out: &Path) -> std::process::Output {
    gilscope()
        .arg("report")
        .arg(dir)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap()
}

#[test]
fn cli_prints_each_file_it_wrote() {
    let out = tempfile::tempdir().unwrap();
    let result = report_cli(sweep_dir(), out.path());
    let stdout = String::from_utf8_lossy(&result.stdout);
    assert!(
        result.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&result.stderr)
    );
    let printed: Vec<&str> = stdout.lines().collect();
    assert_eq!(printed.len(), 2 * Chart::ALL.len() + 1, "{stdout}");
    for line in printed {
        assert!(Path::new(line).is_file(), "{line}");
    }
    // Without --out, the report goes into DIR itself.
    let copy = copy_of_sweep();
    run_ok(gilscope().arg("report").arg(copy.path()));
    assert!(copy.path().join(REPORT_FILE_NAME).is_file());
    assert!(copy.path().join(CHARTS_DIR).join("threads.svg").is_file());
}

/// Breaks a copy of the sweep with `damage`; the library and the CLI both
/// refuse it with an error that names `culprit` and contains `words`.
fn refused(damage: impl Fn(&Path), culprit: &str, words: &str) {
    let copy = copy_of_sweep();
    damage(copy.path());
    let err = Report::load(copy.path()).unwrap_err().to_string();
    assert!(err.contains(culprit) && err.contains(words), "{err}");
    let out = tempfile::tempdir().unwrap();
    let result = report_cli(copy.path(), out.path());
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(result.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(culprit) && stderr.contains(words),
        "{stderr}"
    );
    assert!(!out.path().join(REPORT_FILE_NAME).exists());
}

fn a_run_file(dir: &Path) -> String {
    SweepFile::load(dir).unwrap().runs[0].file.clone()
}

#[test]
fn a_corrupt_run_file_is_named() {
    let file = a_run_file(sweep_dir());
    refused(
        |d| std::fs::write(d.join(&file), b"\x1f\x8bnot really gzip").unwrap(),
        &file,
        "damaged",
    );
}

#[test]
fn a_newer_run_file_is_named() {
    let file = a_run_file(sweep_dir());
    let newer = br#"{"format": "gilscope-run", "version": 99, "run": {}}"#;
    refused(
        |d| std::fs::write(d.join(&file), newer).unwrap(),
        &file,
        "newer gilscope",
    );
}

#[test]
fn a_newer_or_corrupt_sweep_file_is_named() {
    let bump = |d: &Path| {
        let text = std::fs::read_to_string(d.join("sweep.json")).unwrap();
        let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
        v["version"] = 99.into();
        std::fs::write(d.join("sweep.json"), v.to_string()).unwrap();
    };
    refused(bump, "sweep.json", "newer gilscope");
    refused(
        |d| std::fs::write(d.join("sweep.json"), "{ nope").unwrap(),
        "sweep.json",
        "not a gilscope sweep",
    );
}

#[test]
fn a_directory_without_a_sweep_is_refused() {
    let remove = |d: &Path| std::fs::remove_file(d.join("sweep.json")).unwrap();
    refused(remove, "sweep.json", "gilscope sweep");
}

/// A sweep with `--repeat 3`: every point of report.md shows `median ±
/// spread` with its 3 runs, the speedup its range, and the speedup chart
/// an error bar (cap – stem – cap, one 6-point path in the mode's colour)
/// per multi-worker point; the sweep's own summary prints the same spread.
#[test]
fn repeats_give_spreads_and_error_bars() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("sw");
    let stdout = run_ok(
        gilscope()
            .args(["sweep", "--workload", "primes", "--param", "n=60000"])
            .args(["--modes", "gil,ft", "--workers", "1,2", "--repeat", "3"])
            .arg("--out")
            .arg(&dir),
    );
    let lines: Vec<&str> = stdout.lines().filter(|l| l.contains(" ×")).collect();
    assert!(!lines.is_empty(), "{stdout}");
    for l in lines
        .iter()
        .filter(|l| l.starts_with("  gil") || l.starts_with("  ft "))
    {
        assert!(
            l.contains(" ± ") && l.contains("(n = 3, min–max"),
            "{l}\n{stdout}"
        );
    }
    let out = root.path().join("report");
    let report = Report::load(&dir).unwrap();
    report.write(&out).unwrap();
    let md = std::fs::read_to_string(out.join(REPORT_FILE_NAME)).unwrap();
    let rows = results_table(&md);
    assert!(!rows.is_empty());
    for row in &rows {
        assert_eq!(get(row, "runs"), "3", "{row:?}");
        let median = get(row, "median s ± spread");
        assert!(median.contains(" ± ") && median.ends_with(" %"), "{row:?}");
        let p = report
            .aggregate
            .points
            .iter()
            .find(|p| {
                p.mode.as_str() == get(row, "mode") && p.workers.to_string() == get(row, "workers")
            })
            .unwrap();
        let sp = p.spread.unwrap();
        assert_eq!(sp.n, 3);
        let shown: f64 = median
            .split(" ± ")
            .nth(1)
            .unwrap()
            .trim_end_matches(" %")
            .parse()
            .unwrap();
        assert!(
            (shown - sp.relative() * 50.0).abs() <= 0.05 + 1e-9,
            "{median} vs {sp:?}"
        );
        assert!(get(row, "speedup (min–max)").contains('–'), "{row:?}");
    }
    assert!(md.contains("## Verdicts"), "{md}");
    // Error bars in the speedup chart.
    let svg = std::fs::read_to_string(out.join(CHARTS_DIR).join("speedup.svg")).unwrap();
    let doc = roxmltree::Document::parse(&svg).unwrap();
    for (mode, c) in MODE_COLOURS
        .iter()
        .filter(|(m, _)| ["gil", "ft"].contains(m))
    {
        let bars = doc
            .descendants()
            .filter(|n| {
                n.has_tag_name("polyline") && n.attribute("stroke") == Some(hex(*c).as_str())
            })
            .filter(|n| {
                let pts: Vec<&str> = n.attribute("points").unwrap().split_whitespace().collect();
                // Cap, stem, cap: x of points 2 and 3 equal (the stem).
                pts.len() == 6 && pts[2].split(',').next() == pts[3].split(',').next()
            })
            .count();
        assert!(bars >= 2, "{mode}: {bars} error bars in speedup.svg");
    }
}
