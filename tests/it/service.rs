//! Service workloads over real HTTP on loopback: the built-in `service`
//! served by 3.13 / 3.13t (and 3.14 / 3.15 from the Debian sid root) in
//! every mode, loaded by gilscope's load generator.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use crate::common::{self, group_gone_within, live_in_group, one_at_a_time};
use gilscope::interp::{Interpreter, Mode};
use gilscope::loadgen::CLOSED_LOOP_NOTE;
use gilscope::loadgen::expect::request_body;
use gilscope::run::protocol::Event;
use gilscope::run::{RunEnd, RunMessage, RunSpec};
use gilscope::sampler::SamplerConfig;
use gilscope::store::{RunRecord, ServiceSummary};
use sha2::{Digest, Sha256};
use std::time::Duration;

/// The checksum gilscope must report when every key 0..keys got `answer(key)`:
/// computed here independently of the load generator.
fn checksum_of(keys: u32, answer: impl Fn(u32) -> Vec<u8>) -> String {
    let mut h = Sha256::new();
    for k in 0..keys {
        let a = answer(k);
        h.update((a.len() as u64).to_le_bytes());
        h.update(&a);
    }
    let hex: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex} keys={keys}")
}

pub(crate) fn service_spec(
    interp: &Interpreter,
    mode: Mode,
    workers: usize,
    params: &[(&str, &str)],
) -> RunSpec {
    common::spec_on(interp, mode, workers, "service", params)
}

/// Runs `spec` sampled (the /proc sampler only: its what-else reading says
/// what else ran) into a record.
pub(crate) fn service_record(spec: &RunSpec, interp: &Interpreter) -> RunRecord {
    let sampling = SamplerConfig {
        gil_hz: 0.0,
        ..SamplerConfig::default()
    };
    let handle = gilscope::run::start_sampled(spec, Some(sampling)).unwrap();
    let mut record = RunRecord::new(spec.clone(), interp.clone());
    loop {
        let msg = handle
            .messages()
            .recv_timeout(Duration::from_secs(120))
            .unwrap();
        let done = matches!(msg, RunMessage::Finished(_));
        record.eat_message(msg);
        if done {
            break;
        }
    }
    match &record.outcome().unwrap().end {
        RunEnd::Completed { .. } => record,
        other => panic!(
            "{} service run failed: {other:?}\nstderr: {:?}",
            spec.mode,
            record.outcome().unwrap().stderr_tail
        ),
    }
}

pub(crate) fn summary(record: &RunRecord) -> ServiceSummary {
    record
        .service()
        .summary()
        .expect("a service run has a load report")
}

/// Other processes' cores over the run, for failure messages.
fn other_cores(record: &RunRecord) -> String {
    match gilscope::store::summary::summarize(record).load {
        Some(load) => match load.other_cpu_secs {
            Some(secs) => format!("{:.2} of {} cores", load.cores_of(secs), load.cores),
            None => "unknown".into(),
        },
        None => "unknown".into(),
    }
}

#[test]
fn echo_at_a_fixed_offered_rate_achieves_it_with_a_low_p99() {
    let _one = one_at_a_time();
    let interp = &common::managed_313().0;
    let keys = 64;
    let expected = checksum_of(keys, request_body);
    let mut tries = Vec::new();
    for _ in 0..3 {
        let spec = service_spec(
            interp,
            Mode::Gil,
            2,
            &[
                ("handler", "echo"),
                ("load.rps", "200"),
                ("load.duration", "3"),
            ],
        );
        let record = service_record(&spec, interp);
        let s = summary(&record);
        let intervals = record.service().intervals();
        // what the record says adds up, and every answer was the echo
        assert_eq!(s.failures.total(), 0, "{s:?}");
        assert!(s.all_correct, "{s:?}");
        assert_eq!(s.checksum.as_deref(), Some(expected.as_str()));
        assert!(s.checked_against.contains("echo"), "{}", s.checked_against);
        let ok: u64 = intervals.iter().map(|iv| iv.ok).sum();
        let offered: u64 = intervals.iter().map(|iv| iv.offered).sum();
        assert_eq!(ok, s.requests_ok);
        assert_eq!(ok, offered, "every scheduled request answered");
        assert!(
            intervals.len() >= 11 && intervals.len() <= 14,
            "{} intervals of 250 ms in 3 s",
            intervals.len()
        );
        // Poisson arrivals: 600 expected, sd ~25
        assert!(
            (480.0..720.0).contains(&(offered as f64)),
            "offered {offered} requests in 3 s at 200/s"
        );
        // the harness served what the generator counted, warm-up included
        assert!(s.warmup_requests > 0 && s.warmup_failures == 0, "{s:?}");
        assert_eq!(record.result().unwrap().items, ok + s.warmup_requests);
        let p99 = s.latency.p99_ms.unwrap();
        let ratio = s.achieved_rps / s.offered_rps;
        tries.push(format!(
            "achieved {:.1}/{:.1} req/s, p99 {p99:.1} ms, other processes {}",
            s.achieved_rps,
            s.offered_rps,
            other_cores(&record)
        ));
        if (ratio - 1.0).abs() <= 0.02 && p99 < 50.0 {
            return;
        }
    }
    panic!("echo at 200 req/s: never within 2 % with p99 < 50 ms: {tries:#?}");
}

/// Saturated requests/s of the CPU handler with 2 workers, closed loop.
fn saturated(interp: &Interpreter, mode: Mode) -> RunRecord {
    common::wait_for_quiet(Duration::from_secs(30));
    let spec = service_spec(
        interp,
        mode,
        2,
        &[
            ("handler", "python"),
            ("rounds", "8"),
            ("load.clients", "8"),
            ("load.duration", "2"),
        ],
    );
    service_record(&spec, interp)
}

#[test]
fn cpu_handler_scales_with_subinterpreters_and_processes_not_with_the_gil() {
    let _one = one_at_a_time();
    let (default, ft) = common::managed_313();
    let expected = checksum_of(64, |k| {
        gilscope::loadgen::expect::sha256_chain(&request_body(k), 8, 64)
    });
    let mut tries = Vec::new();
    // Other people's builds only ever take cores away, so each mode's best
    // run over the tries is its least disturbed one (best-of-N, as
    // benchmarks take the fastest time).
    let mut best = [0.0_f64; 5];
    for _ in 0..3 {
        let busy = common::machine_busy_cores();
        let runs = [
            (Mode::Gil, saturated(default, Mode::Gil)),
            (Mode::Subinterp, saturated(default, Mode::Subinterp)),
            (Mode::Process, saturated(default, Mode::Process)),
            (Mode::Ft, saturated(ft, Mode::Ft)),
            (Mode::FtGil, saturated(ft, Mode::FtGil)),
        ];
        let mut rps = Vec::new();
        for (mode, record) in &runs {
            let s = summary(record);
            assert!(s.all_correct, "{mode}: {s:?}");
            assert_eq!(s.checksum.as_deref(), Some(expected.as_str()), "{mode}");
            rps.push(s.achieved_rps);
        }
        for (b, r) in best.iter_mut().zip(&rps) {
            *b = b.max(*r);
        }
        let [gil, sub, process, ft_rps, ft_gil] = [rps[0], rps[1], rps[2], rps[3], rps[4]];
        let line = format!(
            "machine busy {busy:.2} cores before; gil {gil:.0}, subinterp {sub:.0} ({:.2}×), process {process:.0} ({:.2}×), ft {ft_rps:.0} ({:.2}× gil, {:.2}× ft-gil {ft_gil:.0}) req/s; other processes: {}",
            sub / gil,
            process / gil,
            ft_rps / gil,
            ft_rps / ft_gil,
            runs.iter()
                .map(|(m, r)| format!("{m} {}", other_cores(r)))
                .collect::<Vec<_>>()
                .join(", ")
        );
        eprintln!("{line}");
        tries.push(line);
        // 3.13t runs this pure Python ~1.5–2× slower per thread (no
        // specializing interpreter), so ft ×2 lands near the gil pool in
        // absolute terms; what free threading buys is measured against the
        // same build with its GIL forced on (ft-gil): the same scaling as
        // subinterpreters and processes get over the gil pool.
        let [gil, sub, process, ft_rps, ft_gil] = best;
        if sub >= 1.6 * gil && process >= 1.6 * gil && ft_rps >= 1.6 * ft_gil {
            eprintln!(
                "best of {} tries: subinterp {:.2}×, process {:.2}× the gil pool ({gil:.0} req/s), ft {:.2}× ft-gil",
                tries.len(),
                sub / gil,
                process / gil,
                ft_rps / ft_gil
            );
            return;
        }
    }
    panic!("the CPU handler did not scale as expected in 3 tries (best: {best:?}): {tries:#?}");
}

#[test]
fn python_314_and_315_serve_through_concurrent_interpreters() {
    let _one = one_at_a_time();
    let expected = checksum_of(64, |k| {
        gilscope::loadgen::expect::sha256_chain(&request_body(k), 2, 64)
    });
    for version in ["3.14", "3.15"] {
        let Some(interp) = crate::gil_truth::interp(version, false) else {
            continue;
        };
        let spec = service_spec(
            interp,
            Mode::Subinterp,
            2,
            &[("load.clients", "4"), ("load.duration", "1.5")],
        );
        let fin = common::run_to_end(&spec);
        let hello = fin
            .events
            .iter()
            .find_map(|e| match e {
                Event::Hello(h) => Some(h.clone()),
                _ => None,
            })
            .unwrap();
        assert!(hello.python.starts_with(version), "{}", hello.python);
        assert_eq!(
            hello.subinterp_api.as_deref(),
            Some("concurrent.interpreters"),
            "{version}"
        );
        let started: Vec<_> = fin
            .events
            .iter()
            .filter_map(|e| match e {
                Event::WorkerStarted(w) => w.interp_id,
                _ => None,
            })
            .collect();
        assert_eq!(started.len(), 2, "two subinterpreters on {version}");
        let report = fin.load_report.clone().unwrap();
        assert!(
            report.ok > 0 && report.all_correct(),
            "{version}: {report:?}"
        );
        assert_eq!(report.checksum.as_deref(), Some(expected.as_str()));
        fin.checksum();
    }
}

/// The TCP ports in LISTEN state on 127.0.0.1 (from /proc/net/tcp).
fn listening_ports() -> Vec<u16> {
    let text = std::fs::read_to_string("/proc/net/tcp").unwrap();
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            let (addr, port) = f.get(1)?.split_once(':')?;
            (f.get(3) == Some(&"0A") && addr == "0100007F")
                .then(|| u16::from_str_radix(port, 16).ok())?
        })
        .collect()
}

#[test]
fn stopping_a_service_run_mid_load_leaves_no_process_and_no_port() {
    let _one = one_at_a_time();
    for mode in [Mode::Process, Mode::Subinterp] {
        let spec = common::spec(
            mode,
            2,
            "service",
            &[("load.rps", "300"), ("load.duration", "60")],
        );
        let handle = gilscope::run::start(&spec).unwrap();
        let pid = handle.pid();
        let mut port = None;
        let mut intervals = 0;
        let mut report = None;
        let outcome = loop {
            match handle
                .messages()
                .recv_timeout(Duration::from_secs(60))
                .unwrap()
            {
                RunMessage::Event {
                    event: Event::Listening(l),
                    ..
                } => {
                    assert!(
                        listening_ports().contains(&l.port),
                        "{mode}: port {} not listening",
                        l.port
                    );
                    port = Some(l.port);
                }
                RunMessage::Load(iv) => {
                    intervals += 1;
                    if intervals == 4 {
                        assert!(iv.ok > 0, "{mode}: load is flowing: {iv:?}");
                        assert!(
                            live_in_group(pid).len() >= if mode == Mode::Process { 3 } else { 1 }
                        );
                        handle.stop();
                    }
                }
                RunMessage::LoadDone(r) => report = Some(*r),
                RunMessage::Finished(outcome) => break outcome,
                _ => {}
            }
        };
        assert_eq!(outcome.end, RunEnd::Stopped, "{mode}");
        let report = report.expect("the load report comes before the outcome");
        assert!(report.stopped_early, "{mode}: {report:?}");
        assert!(report.window_secs() < 10.0, "{mode}: {report:?}");
        assert!(
            group_gone_within(pid, Duration::from_secs(5)),
            "{mode}: processes survived in group {pid}: {:?}",
            live_in_group(pid)
        );
        let port = port.unwrap();
        assert!(
            !listening_ports().contains(&port),
            "{mode}: port {port} still listening"
        );
        assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
        drop(handle);
    }
}

#[test]
fn cli_run_prints_the_service_summary_and_json_and_saves_it() {
    let _one = one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("svc.json.gz");
    let interp = &common::managed_313().0;
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_gilscope"))
        .args(["run", "-w", "service", "-m", "process", "-n", "2"])
        .args(["--python", interp.path.to_str().unwrap()])
        .args(["--rps", "100", "--duration", "1.5", "--json", "--record"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let s = &doc["summary"]["service"];
    assert_eq!(s["spec"]["arrival"]["open"]["rps"], 100.0);
    assert!(s["achieved_rps"].as_f64().unwrap() > 50.0, "{s}");
    assert_eq!(s["all_correct"], true, "{s}");
    assert!(s["latency"]["p99_ms"].as_f64().unwrap() > 0.0);
    assert!(s["loadgen_cpu_secs"].as_f64().unwrap() > 0.0);
    // the run file keeps the load and still reads back
    let loaded = RunRecord::load(&file).unwrap();
    let back = loaded.service().summary().unwrap();
    assert_eq!(back.checksum.as_deref(), s["checksum"].as_str());
    assert!(!loaded.service().intervals().is_empty());
    assert!(
        loaded
            .spec()
            .params
            .iter()
            .any(|(k, v)| k == "load.rps" && v == "100")
    );
    // text: the service lines
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_gilscope"))
        .args([
            "run",
            "-w",
            "service",
            "-m",
            "gil",
            "-n",
            "1",
            "--no-sample",
        ])
        .args(["--python", interp.path.to_str().unwrap()])
        .args(["--clients", "2", "--duration", "1", "-p", "handler=echo"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    for want in [
        "closed loop, 2 clients",
        "requests/s",
        "latency",
        "p99",
        "all correct",
        "load gen CPU",
    ] {
        assert!(text.contains(want), "no {want:?} in:\n{text}");
    }
    assert!(
        text.lines().any(|l| {
            let l = l.trim();
            l.starts_with("failures ") && l.ends_with(" none")
        }),
        "no 'failures … none' line in:\n{text}"
    );
    assert!(text.contains(CLOSED_LOOP_NOTE), "{text}");
    // Counted in requests, once; the harness's "requests=N" is no checksum
    // (the answers' sha256 is).
    assert!(text.contains(" requests in "), "{text}");
    assert!(!text.contains("checksum"), "{text}");
    assert!(!text.contains(" chunks, "), "{text}");
    // bad load flags: usage errors naming the fix
    let bad = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_gilscope"))
            .args(["run", "-m", "gil"])
            .args(["--python", interp.path.to_str().unwrap()])
            .args(args)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stderr).to_string()
            + &String::from_utf8_lossy(&out.stdout);
        (out.status.code(), text)
    };
    let (code, text) = bad(&["-w", "primes", "--rps", "10"]);
    assert_eq!(code, Some(2));
    assert!(
        text.contains("load a service workload (-w service)"),
        "{text}"
    );
    let (code, text) = bad(&["-w", "service", "--rps", "0"]);
    assert_eq!(code, Some(2));
    assert!(
        text.contains("load.rps=0: expected requests per second > 0"),
        "{text}"
    );
    // the harness refuses an unknown handler before serving (a usage error
    // of the workload: exit 3, with the known ones)
    let (code, text) = bad(&["-w", "service", "-p", "handler=rot13"]);
    assert_eq!(code, Some(3), "{text}");
    assert!(
        text.contains("handler=rot13: unknown handler (known: echo, python, hashlib, mix)"),
        "{text}"
    );
}

/// Every `<text>` of an SVG, trimmed.
fn svg_texts(svg: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(svg).unwrap();
    doc.descendants()
        .filter(|n| n.has_tag_name("text"))
        .map(|n| n.text().unwrap_or("").trim().to_string())
        .collect()
}

#[test]
fn a_service_sweep_charts_latency_against_load_per_mode() {
    let _one = one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sweep");
    let gilscope = env!("CARGO_BIN_EXE_gilscope");
    let run = std::process::Command::new(gilscope)
        .args(["sweep", "-w", "service", "--modes", "gil,subinterp"])
        .args(["--workers", "2", "--interp", "3.13", "--rps", "100,300"])
        .args(["--duration", "1", "--p99-target", "40ms"])
        .args(["--knee-resolution", "0", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&run.stdout).to_string();
    assert!(
        run.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(text.contains("answers agree"), "{text}");
    assert!(
        text.contains(
            "knee = highest offered rate with p99 (over all requests, failures included) ≤ 40 ms"
        ),
        "{text}"
    );
    // sweep.json: 4 runs, each with its rate and service numbers
    let sweep: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("sweep.json")).unwrap()).unwrap();
    let runs = sweep["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 4, "{sweep}");
    let mut rates: Vec<f64> = runs.iter().map(|r| r["rps"].as_f64().unwrap()).collect();
    rates.sort_by(f64::total_cmp);
    assert_eq!(rates, [100.0, 100.0, 300.0, 300.0]);
    assert!(
        runs.iter().all(|r| r["service"]["all_correct"] == true),
        "{sweep}"
    );
    assert_eq!(sweep["plan"]["p99_target_ms"], 40.0);

    let report = std::process::Command::new(gilscope)
        .arg("report")
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        report.status.success(),
        "{}",
        String::from_utf8_lossy(&report.stderr)
    );
    let charts = out.join("charts");
    for stem in ["latency-vs-load", "throughput-vs-load"] {
        let img = image::open(charts.join(format!("{stem}.png")))
            .unwrap()
            .to_rgb8();
        assert_eq!(img.dimensions(), (1600, 1000));
        // the two modes' colours (Okabe–Ito blue and bluish green) are drawn
        let has = |c: [u8; 3]| img.pixels().any(|p| p.0 == c);
        assert!(
            has([0, 114, 178]) && has([0, 158, 115]),
            "{stem}: a series is missing"
        );
        let texts =
            svg_texts(&std::fs::read_to_string(charts.join(format!("{stem}.svg"))).unwrap());
        for want in ["gil ×2 · 3.13", "subinterp ×2 · 3.13"] {
            assert!(
                texts.iter().any(|t| t == want),
                "{stem}: no {want:?} in {texts:?}"
            );
        }
        if stem == "latency-vs-load" {
            assert!(texts.iter().any(|t| t == "p99 target 40 ms"), "{texts:?}");
            assert!(
                texts
                    .iter()
                    .any(|t| t.contains("latency from the scheduled send"))
            );
        }
    }
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    for want in [
        "| mode | workers | interpreter | knee (req/s) | knee vs gil |",
        "| gil | 2 | 3.13 |",
        "| subinterp | 2 | 3.13 |",
        "the gil thread pool of 2",
        "![Latency vs offered load](charts/latency-vs-load.png)",
        "every run's checksum of the answers is the same",
    ] {
        assert!(md.contains(want), "no {want:?} in report.md:\n{md}");
    }
}

#[test]
fn the_hashlib_handler_gives_the_same_answers_as_the_pure_python_one() {
    let _one = one_at_a_time();
    let interp = &common::managed_313().0;
    // the same SHA-256 chain: in C (GIL released from 2 KiB on) and in
    // pure Python, checked against gilscope's own computation
    let expected = checksum_of(64, |k| {
        gilscope::loadgen::expect::sha256_chain(&request_body(k), 1, 2048)
    });
    for handler in ["hashlib", "python"] {
        let spec = service_spec(
            interp,
            Mode::Gil,
            2,
            &[
                ("handler", handler),
                ("rounds", "1"),
                ("size", "2048"),
                ("load.clients", "4"),
                ("load.duration", "2"),
            ],
        );
        let fin = common::run_to_end(&spec);
        let report = fin.load_report.clone().unwrap();
        assert!(
            report.ok >= 64 && report.all_correct(),
            "{handler}: {report:?}"
        );
        assert!(
            report.checked_against.contains("rounds=1 size=2048"),
            "{}",
            report.checked_against
        );
        assert_eq!(
            report.checksum.as_deref(),
            Some(expected.as_str()),
            "{handler}"
        );
    }
}

#[test]
fn a_handler_that_raises_fails_the_run_naming_file_and_line() {
    let _one = one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad_service.py");
    std::fs::write(
        &file,
        "KIND = \"service\"\n\ndef handle(state, body):\n    if body.endswith(b\" 5\"):\n        raise ValueError(\"cannot serve %r\" % body)\n    return body\n",
    )
    .unwrap();
    for mode in [Mode::Subinterp, Mode::Process] {
        let spec = common::spec(
            mode,
            2,
            file.to_str().unwrap(),
            &[("load.clients", "2"), ("load.duration", "5")],
        );
        let fin = common::run_to_end(&spec);
        let RunEnd::WorkloadFailed { error } = &fin.outcome.end else {
            panic!("{mode}: {:?}", fin.outcome.end);
        };
        assert_eq!(error.kind, "ValueError", "{mode}");
        assert_eq!(error.phase.as_deref(), Some("request"));
        assert_eq!(error.lineno, Some(5));
        assert!(
            error
                .filename
                .as_deref()
                .unwrap()
                .ends_with("bad_service.py")
        );
        assert!(
            error.message.contains("gilscope request 5"),
            "{}",
            error.message
        );
        // the load stopped with the server, and said so
        let report = fin.load_report.clone().unwrap();
        assert!(
            report.stopped_early && report.window_secs() < 4.0,
            "{report:?}"
        );
        assert!(
            group_gone_within(fin.pid, Duration::from_secs(5)),
            "{mode}: {:?}",
            live_in_group(fin.pid)
        );
    }
}
