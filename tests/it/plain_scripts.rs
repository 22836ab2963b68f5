//! Plain scripts at the edges: a short script's PSS is a plausible number
//! (never below USS, never a tenth of RSS) or missing with its reason, and
//! a plain script given to `run -w FILE` is refused naming `run --script`.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use crate::common;
use std::process::Command;

const GILSCOPE: &str = env!("CARGO_BIN_EXE_gilscope");

/// About 0.4 s of work in two threads, then exit: smaps_rollup is read
/// at a few Hz, so some of its reads land while the process exits.
const SHORT: &str = "import threading, time
def work():
    end = time.time() + 0.4
    while time.time() < end:
        sum(range(1000))
ts = [threading.Thread(target=work) for _ in range(2)]
for t in ts: t.start()
for t in ts: t.join()
";

#[test]
fn a_short_scripts_pss_is_plausible_or_missing_with_its_reason() {
    let _one = common::one_at_a_time();
    let (gil, ft) = common::managed_313();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("short.py");
    std::fs::write(&file, SHORT).unwrap();
    let (mut numbers, mut missing) = (0, 0);
    // Several runs: where a read meets the exit differs run to run.
    for interp in [ft, gil, ft, gil, ft] {
        let out = Command::new(GILSCOPE)
            .args(["run", "--json", "--interp", &interp.name, "--script"])
            .arg(&file)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        let s = &doc["runs"][0]["summary"];
        assert!(s.is_object(), "no runs[0].summary in {doc}");
        let rss = s["peak_rss_bytes"].as_u64().unwrap();
        match s["peak_pss_bytes"].as_u64() {
            Some(pss) => {
                numbers += 1;
                let uss = s["peak_uss_bytes"].as_u64().unwrap();
                eprintln!(
                    "PSS {}: {:.1} MiB, USS {:.1} MiB, RSS {:.1} MiB",
                    interp.name,
                    pss as f64 / 1048576.0,
                    uss as f64 / 1048576.0,
                    rss as f64 / 1048576.0
                );
                assert!(pss + 8192 >= uss, "PSS {pss} below USS {uss}: {s}");
                assert!(pss * 10 >= rss, "PSS {pss} a tenth of RSS {rss}: {s}");
            }
            None => {
                missing += 1;
                let why = s["pss_missing"].as_str().unwrap_or_default();
                eprintln!("PSS {}: {why}", interp.name);
                assert!(why.starts_with("missing: "), "{s}");
            }
        }
    }
    eprintln!("PSS: {numbers} runs with a number, {missing} missing with a reason");
}

#[test]
fn a_plain_script_given_as_a_workload_is_pointed_to_script() {
    let _beside = common::beside_others();
    let (gil, _) = common::managed_313();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plain.py");
    std::fs::write(&file, "print('hello')\n").unwrap();
    let out = Command::new(GILSCOPE)
        .args(["run", "--interp", &gil.name, "-m", "gil", "-w"])
        .arg(&file)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains("defines no prepare() function"), "{err}");
    assert!(
        err.contains(&format!("gilscope run --script {}", file.display())),
        "{err}"
    );
}
