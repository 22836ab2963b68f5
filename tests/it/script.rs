//! `gilscope run --script FILE -- ARGS`: plain scripts (no gilscope in
//! them) on the managed 3.13 and 3.13t and, when there, the sid 3.14/3.15 —
//! the compare rows, who held the GIL, the threads by their Python names,
//! the run files; a failing script's traceback and status; arguments as an
//! argument vector; refused modes and a missing file; stop and Ctrl-C with
//! nothing left behind.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use crate::common;
use gilscope::run::{RunKind, RunMessage, RunSpec};
use gilscope::store::{RunRecord, compare_rows, rows_csv};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const GILSCOPE: &str = env!("CARGO_BIN_EXE_gilscope");

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/scripts")
        .join(name)
}

fn gilscope(args: &[&str], cwd: &Path) -> Output {
    Command::new(GILSCOPE)
        .args(args)
        .current_dir(cwd)
        .output()
        .unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The threads of a record the GIL reader saw, by Python name: (hold, wait, run free).
fn gil_by_name(run: &RunRecord) -> Vec<(String, f64, f64, f64)> {
    run.gil()
        .threads
        .iter()
        .map(|(&tid, t)| {
            (
                run.thread_name(tid).unwrap_or_default(),
                t.hold_fraction().unwrap_or(f64::NAN),
                t.wait_fraction().unwrap_or(f64::NAN),
                t.run_free_fraction().unwrap_or(f64::NAN),
            )
        })
        .collect()
}

/// The share of GIL intervals in which both `a` and `b` held the GIL for a
/// part: they took turns within the same ~100 ms, not one after the other.
fn shared_intervals(run: &RunRecord, a: u32, b: u32) -> f64 {
    let gil = run.gil();
    let (ca, cb) = (gil.threads[&a].columns.hold, gil.threads[&b].columns.hold);
    let rows = gil.series.len();
    let mut both = 0;
    let mut any = 0;
    for row in 0..rows {
        let (ha, hb) = (gil.series.value(ca, row), gil.series.value(cb, row));
        if let (Some(ha), Some(hb)) = (ha, hb)
            && ha + hb > 0.3
        {
            any += 1;
            if ha > 0.05 && hb > 0.05 {
                both += 1;
            }
        }
    }
    assert!(any >= 5, "only {any} GIL intervals with work");
    f64::from(both) / f64::from(any)
}

#[test]
fn two_threads_on_313_and_313t_compare_gil_and_names() {
    let _one = common::one_at_a_time();
    let (gil, ft) = common::managed_313();
    let dir = tempfile::tempdir().unwrap();
    let record = dir.path().join("two.json.gz");
    let file = script("two_threads.py");
    let out = gilscope(
        &[
            "run",
            "--script",
            file.to_str().unwrap(),
            "--interp",
            &gil.name,
            "--interp",
            &ft.name,
            "--json",
            "--record",
            record.to_str().unwrap(),
            "--",
            "300000",
        ],
        dir.path(),
    );
    assert!(out.status.success(), "{}", text(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = doc["compare"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{doc}");
    assert_eq!(rows[0]["mode"], "gil");
    assert_eq!(rows[1]["mode"], "ft");
    for row in rows {
        assert_eq!(row["exit"], "exited with status 0", "{row}");
        assert!(row["wall_secs"].as_f64().unwrap() > 0.2, "{row}");
        assert!(row["cpu_secs"].as_f64().unwrap() > 0.2, "{row}");
        assert_eq!(row["same_stdout"], true, "{row}");
    }
    // The ft row's speedup is the default build's wall time over its own.
    let (t_gil, t_ft) = (
        rows[0]["wall_secs"].as_f64().unwrap(),
        rows[1]["wall_secs"].as_f64().unwrap(),
    );
    assert_eq!(rows[0]["speedup_vs_default_build"].as_f64(), Some(1.0));
    let speedup = rows[1]["speedup_vs_default_build"].as_f64().unwrap();
    assert!(
        (speedup - t_gil / t_ft).abs() < 1e-9,
        "{speedup} vs {t_gil}/{t_ft}"
    );
    // On 3.13 the two threads wait for the GIL; on 3.13t nobody does.
    assert!(rows[0]["gil_wait"].as_f64().unwrap() > 0.15, "{}", rows[0]);
    assert!(rows[1]["gil_wait"].as_f64().unwrap() < 0.02, "{}", rows[1]);
    let runs = doc["runs"].as_array().unwrap();
    assert_eq!(runs[0]["summary"]["kind"], "script");
    for run in runs {
        let names: Vec<&str> = run["threads"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|t| t["name"].as_str())
            .collect();
        for want in [
            "MainThread",
            "ThreadPoolExecutor-0_0",
            "ThreadPoolExecutor-0_1",
        ] {
            assert!(names.contains(&want), "{want} not in {names:?}");
        }
    }

    // The run files: one per run, a script run that compares like one.
    let gil_file = dir.path().join(format!("two-{}-gil.json.gz", gil.name));
    let ft_file = dir.path().join(format!("two-{}-ft.json.gz", ft.name));
    let records = [
        RunRecord::load(&gil_file).unwrap(),
        RunRecord::load(&ft_file).unwrap(),
    ];
    for r in &records {
        match r.kind() {
            RunKind::Script { file: f, args, .. } => {
                assert_eq!(f, file);
                assert_eq!(args, ["300000"]);
            }
            other => panic!("not a script run: {other:?}"),
        }
    }
    let by_name = |r: &RunRecord, name: &str| -> u32 {
        *r.thread_tracks()
            .keys()
            .find(|&&tid| r.thread_name(tid).as_deref() == Some(name))
            .unwrap_or_else(|| panic!("no thread {name}"))
    };
    // 3.13: both pool threads hold the GIL in turns and wait for it.
    let on_313 = gil_by_name(&records[0]);
    for name in ["ThreadPoolExecutor-0_0", "ThreadPoolExecutor-0_1"] {
        let &(_, hold, wait, free) = on_313.iter().find(|t| t.0 == name).unwrap();
        assert!(
            (0.2..=0.8).contains(&hold),
            "{name} held {hold}: {on_313:?}"
        );
        assert!(wait > 0.15, "{name} waited {wait}: {on_313:?}");
        assert!(free < 0.05, "{name} ran without {free}: {on_313:?}");
    }
    let (a, b) = (
        by_name(&records[0], "ThreadPoolExecutor-0_0"),
        by_name(&records[0], "ThreadPoolExecutor-0_1"),
    );
    let shared = shared_intervals(&records[0], a, b);
    assert!(shared > 0.6, "took turns in only {shared} of the intervals");
    let handoffs = records[0].gil().gils[0].handoffs_per_sec().unwrap();
    assert!(handoffs > 20.0, "{handoffs} hand-offs/s");
    // 3.13t: nobody holds or waits; the pool threads run without a GIL.
    let on_313t = gil_by_name(&records[1]);
    for name in ["ThreadPoolExecutor-0_0", "ThreadPoolExecutor-0_1"] {
        let &(_, hold, wait, free) = on_313t.iter().find(|t| t.0 == name).unwrap();
        assert!(hold < 0.01 && wait < 0.01, "{name}: {on_313t:?}");
        assert!(free > 0.3, "{name} ran without {free}: {on_313t:?}");
    }
    // The store's rows and CSV (the app's compare view and export).
    let refs: Vec<&RunRecord> = records.iter().collect();
    let rows = compare_rows(&refs);
    assert!((rows[1].speedup.unwrap() - speedup).abs() < 1e-9);
    assert_eq!(rows[1].kind, "script");
    assert_eq!(rows[1].what, "two_threads.py");
    let csv = rows_csv(&rows);
    assert_eq!(csv.lines().count(), 3, "{csv}");
    assert!(
        csv.lines()
            .nth(2)
            .unwrap()
            .starts_with("script,\"two_threads.py\""),
        "{csv}"
    );
    // The app's compare rows (src/ui/compare.rs, unchanged) get the wall
    // time, speedup and GIL wait of a script run from the store.
    let ui_rows = gilscope::sweep::table::rows(&refs);
    assert!((ui_rows[1].wall_s.unwrap() - t_ft).abs() < 1e-9);
    assert!((ui_rows[1].speedup.unwrap() - speedup).abs() < 1e-9);
    assert!(ui_rows[0].gil_wait.unwrap() > 0.15 && ui_rows[1].gil_wait.unwrap() < 0.02);
    assert_eq!(ui_rows[1].status, "ok");
    // A sweep aggregate of script runs: the ft point against the gil one.
    let agg = gilscope::sweep::aggregate(&records);
    let ft_point = agg.points.iter().find(|p| p.mode.as_str() == "ft").unwrap();
    let vs = ft_point.speedup_vs_gil.unwrap();
    assert!((vs - speedup).abs() < 1e-9, "{vs} vs {speedup}");
    assert_eq!(ft_point.efficiency, None);
}

#[test]
fn a_failing_script_shows_its_traceback_and_status() {
    let _one = common::one_at_a_time();
    let (gil, _) = common::managed_313();
    let dir = tempfile::tempdir().unwrap();
    let file = script("script_args.py");
    let f = file.to_str().unwrap();
    let out = gilscope(
        &["run", "--script", f, "--interp", &gil.name, "--", "--raise"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("exited with status 1"), "{stdout}");
    assert!(
        stdout.contains("script failed: ValueError: asked to fail with 2 arguments"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Traceback (most recent call last):"),
        "{stdout}"
    );
    let line = std::fs::read_to_string(&file)
        .unwrap()
        .lines()
        .position(|l| l.contains("raise ValueError"))
        .unwrap()
        + 1;
    assert!(
        stdout.contains(&format!("File \"{f}\", line {line}, in inner")),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("script_args.py:{line}, during script")),
        "{stdout}"
    );
    assert!(
        !stdout.contains("sitecustomize"),
        "the hook shows in the traceback: {stdout}"
    );
    // A plain non-zero exit: its status and the last stderr line.
    let out = gilscope(
        &[
            "run", "--script", f, "--interp", &gil.name, "--json", "--", "--exit", "7",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["runs"][0]["outcome"]["exit"], "exited with status 7");
    assert_eq!(doc["compare"][0]["exit"], "exited with status 7");
    assert!(doc["compare"][0]["wall_secs"].is_null(), "{doc}");
}

#[test]
fn arguments_arrive_intact_as_with_python_file_args() {
    let _one = common::one_at_a_time();
    let (gil, _) = common::managed_313();
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(script("script_args.py"), dir.path().join("show.py")).unwrap();
    let record = dir.path().join("args.json");
    let args = ["a b", "it's \"quoted\"", "", "$HOME", "*", "; echo no", "ü"];
    let mut cli = vec![
        "run",
        "--script",
        "show.py",
        "--interp",
        &gil.name,
        "--no-sample",
        "--record",
        record.to_str().unwrap(),
        "--",
    ];
    cli.extend(args);
    // No GILSCOPE_* variable reaches gilscope (CI sets some; another test
    // may set GILSCOPE_PYTHONS in this process at any time): a snapshot of
    // the rest, taken once.
    let out = Command::new(GILSCOPE)
        .args(&cli)
        .current_dir(dir.path())
        .env_clear()
        .envs(std::env::vars().filter(|(k, _)| !k.starts_with("GILSCOPE") && k != "PYTHONPATH"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let run = RunRecord::load(&record).unwrap();
    let line = run
        .output()
        .lines()
        .find(|l| l.line.starts_with('{'))
        .unwrap()
        .line
        .clone();
    let seen: serde_json::Value = serde_json::from_str(&line).unwrap();
    let mut argv = vec!["show.py"];
    argv.extend(args);
    assert_eq!(seen["argv"], serde_json::json!(argv));
    assert_eq!(seen["name"], "__main__");
    let real = dir.path().canonicalize().unwrap();
    assert_eq!(Path::new(seen["cwd"].as_str().unwrap()), real);
    assert_eq!(Path::new(seen["path0"].as_str().unwrap()), real);
    assert_eq!(
        Path::new(seen["file"].as_str().unwrap()),
        real.join("show.py")
    );
    // Thread names reach gilscope whatever they hold.
    let names: Vec<&str> = run
        .events()
        .iter()
        .filter_map(|e| match e {
            gilscope::run::protocol::Event::ThreadName(n) => Some(n.name.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(names, ["MainThread", "naïve \"quoted\" \\ 😀"]);
    assert!(
        run.protocol_problems().is_empty(),
        "{:?}",
        run.protocol_problems()
    );
    // The hook left nothing the script can see (gilscope was started
    // without any GILSCOPE_* variable of its own).
    assert_eq!(seen["env"], serde_json::json!([]));
    assert_eq!(seen["pythonpath"], serde_json::Value::Null);
    assert_eq!(seen["hook_on_path"], false);
    assert_eq!(
        run.kind(),
        RunKind::Script {
            file: "show.py".into(),
            args: args.iter().map(|a| a.to_string()).collect(),
            cwd: Some(real),
        }
    );
}

#[test]
fn repeats_give_medians_ranges_and_a_file_per_run() {
    let _one = common::one_at_a_time();
    let (gil, ft) = common::managed_313();
    let dir = tempfile::tempdir().unwrap();
    let record = dir.path().join("rep.json");
    let out = gilscope(
        &[
            "run",
            "--script",
            script("two_threads.py").to_str().unwrap(),
            "--interp",
            &gil.name,
            "--interp",
            &ft.name,
            "--repeat",
            "3",
            "--json",
            "--record",
            record.to_str().unwrap(),
            "--",
            "30000",
        ],
        dir.path(),
    );
    assert!(out.status.success(), "{}", text(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // Rounds: every build once per round.
    let modes: Vec<&str> = doc["compare"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["mode"].as_str().unwrap())
        .collect();
    assert_eq!(modes, ["gil", "ft", "gil", "ft", "gil", "ft"]);
    let points = doc["points"].as_array().unwrap();
    assert_eq!(points.len(), 2, "{doc}");
    for p in points {
        assert_eq!(p["completed"], 3, "{p}");
        let w = &p["wall_secs"];
        let (min, med, max) = (
            w["min"].as_f64().unwrap(),
            w["median"].as_f64().unwrap(),
            w["max"].as_f64().unwrap(),
        );
        assert!(min <= med && med <= max, "{p}");
        let [lo, hi] = [0, 1].map(|i| p["speedup_range"][i].as_f64().unwrap());
        let s = p["speedup_vs_default_build"].as_f64().unwrap();
        assert!(lo <= s && s <= hi, "{p}");
    }
    assert_eq!(points[0]["speedup_vs_default_build"].as_f64(), Some(1.0));
    for round in 1..=3 {
        for (name, mode) in [(&gil.name, "gil"), (&ft.name, "ft")] {
            let f = dir.path().join(format!("rep-{name}-{mode}-r{round}.json"));
            assert!(RunRecord::load(&f).is_ok(), "{}", f.display());
        }
    }
}

#[test]
fn refused_modes_and_missing_files_are_usage_errors() {
    let _beside = common::beside_others();
    let dir = tempfile::tempdir().unwrap();
    let file = script("two_threads.py");
    let f = file.to_str().unwrap();
    for mode in ["subinterp", "process"] {
        let out = gilscope(&["run", "--script", f, "--mode", mode], dir.path());
        assert_eq!(out.status.code(), Some(2), "{}", text(&out));
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.contains(&format!("mode '{mode}' does not apply to --script"))
                && err.contains("the script itself decides"),
            "{err}"
        );
    }
    let out = gilscope(&["run", "--script", "missing.py"], dir.path());
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("script file 'missing.py' does not exist"),
        "{}",
        text(&out)
    );
    for (extra, says) in [
        (["--workers", "2"], "--workers does not apply to --script"),
        (["--param", "n=1"], "--param does not apply to --script"),
    ] {
        let mut args = vec!["run", "--script", f];
        args.extend(extra);
        let out = gilscope(&args, dir.path());
        assert_eq!(out.status.code(), Some(2), "{}", text(&out));
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(says),
            "{}",
            text(&out)
        );
    }
    // A default build cannot run 'ft'.
    let (gil, _) = common::managed_313();
    let out = gilscope(
        &["run", "--script", f, "--interp", &gil.name, "--mode", "ft"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("needs a free-threaded build"),
        "{}",
        text(&out)
    );
}

#[test]
fn stopping_a_script_run_leaves_nothing_behind() {
    let _one = common::one_at_a_time();
    let (gil, _) = common::managed_313();
    let dir = tempfile::tempdir().unwrap();
    let spec = RunSpec::script(
        gil,
        gilscope::interp::Mode::Gil,
        &script("script_hangs.py"),
        &[],
        dir.path(),
        Some(Duration::from_secs(60)),
    );
    let handle = gilscope::run::start_sampled(&spec, None).unwrap();
    let pid = handle.pid();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match handle
            .messages()
            .recv_timeout(Duration::from_secs(20))
            .unwrap()
        {
            RunMessage::Output { line, .. } if line.starts_with("ready") => break,
            RunMessage::Finished(o) => panic!("ended early: {o:?}"),
            _ => {}
        }
        assert!(Instant::now() < deadline, "the script did not start");
    }
    assert!(
        common::live_in_group(pid).len() >= 2,
        "the script and its child expected: {:?}",
        common::live_in_group(pid)
    );
    handle.stop();
    let outcome = loop {
        if let RunMessage::Finished(o) = handle
            .messages()
            .recv_timeout(Duration::from_secs(20))
            .unwrap()
        {
            break o;
        }
    };
    assert_eq!(outcome.end, gilscope::run::RunEnd::Stopped);
    drop(handle);
    assert!(
        common::group_gone_within(pid, Duration::from_secs(5)),
        "left behind: {:?}",
        common::live_in_group(pid)
    );
}

#[test]
fn ctrl_c_stops_the_script_and_the_remaining_runs() {
    let _one = common::one_at_a_time();
    let (gil, ft) = common::managed_313();
    let dir = tempfile::tempdir().unwrap();
    let file = script("script_hangs.py");
    let cli = Command::new(GILSCOPE)
        .args(["run", "--script", file.to_str().unwrap()])
        .args(["--interp", &gil.name, "--interp", &ft.name])
        .current_dir(dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let cli_pid = cli.id();
    // Wait for the script and its child process.
    let deadline = Instant::now() + Duration::from_secs(30);
    let python = loop {
        if let Some(&p) = common::children_of(cli_pid).first()
            && common::live_in_group(p).len() >= 2
        {
            break p;
        }
        assert!(Instant::now() < deadline, "the script did not start");
        std::thread::sleep(Duration::from_millis(100));
    };
    // SAFETY: a signal to the gilscope process this test started.
    unsafe {
        libc::kill(libc::pid_t::try_from(cli_pid).unwrap(), libc::SIGINT);
    }
    let out = cli.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("the remaining runs were not started"),
        "{stderr}"
    );
    assert!(
        common::group_gone_within(python, Duration::from_secs(5)),
        "left behind: {:?}",
        common::live_in_group(python)
    );
}

#[test]
fn thread_names_on_314_and_315() {
    let Some(wrappers) = crate::gil_truth::sid_wrappers() else {
        return;
    };
    let _one = common::one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    for python in wrappers {
        let record = dir.path().join("sid.json");
        let out = gilscope(
            &[
                "run",
                "--script",
                script("two_threads.py").to_str().unwrap(),
                "--python",
                python.to_str().unwrap(),
                "--json",
                "--record",
                record.to_str().unwrap(),
                "--",
                "400000",
            ],
            dir.path(),
        );
        assert!(out.status.success(), "{}", text(&out));
        let run = RunRecord::load(&record).unwrap();
        let pool: Vec<_> = run
            .thread_tracks()
            .values()
            .filter(|t| {
                run.thread_name(t.tid)
                    .is_some_and(|n| n.starts_with("ThreadPoolExecutor-0_"))
            })
            .collect();
        assert_eq!(
            pool.len(),
            2,
            "{}: {:?}",
            python.display(),
            run.thread_tracks()
        );
        // 3.14+ names OS threads itself, cut to 15 bytes (the sampler reads
        // names again once a second: the run lasts longer than that): the
        // hook's full name is what tells the two apart.
        for t in &pool {
            assert_eq!(t.name, "ThreadPoolExecu", "{}", python.display());
        }
        let gil = gil_by_name(&run);
        let held: f64 = gil
            .iter()
            .filter(|t| t.0.starts_with("ThreadPoolExecutor"))
            .map(|t| t.1)
            .sum();
        assert!(held > 0.5, "{}: {gil:?}", python.display());
    }
}
