use super::*;
use crate::interp::Mode;
use crate::store::fixtures::*;
use crate::store::labels::ThreadLabel;

fn sample_run() -> RunRecord {
    Synth::new(Mode::Process, 2).build(&interpreter("3.13", "3.13.5", false))
}

fn as_json(run: &RunRecord) -> serde_json::Value {
    serde_json::to_value(run).unwrap()
}

#[test]
fn round_trips_plain_and_gzip() {
    let dir = tempfile::tempdir().unwrap();
    let run = sample_run();
    for name in ["run.json", "run.json.gz"] {
        let path = dir.path().join(name);
        run.save(&path).unwrap();
        let back = RunRecord::load(&path).unwrap();
        assert_eq!(as_json(&back), as_json(&run), "{name}");
        // Derived state is rebuilt: labels and the coarse level.
        assert_eq!(back.thread_label(2001), Some(ThreadLabel::Worker(1)));
        let busy = back.cores()[&0].busy;
        let t = back.series().times_ns();
        let (a, b) = (t[0], t[t.len() - 1]);
        assert_eq!(
            back.series().decimated(busy, a, b, 7),
            run.series().decimated(busy, a, b, 7)
        );
        let head = std::fs::read(&path).unwrap();
        assert_eq!(head.starts_with(&GZIP_MAGIC), name.ends_with(".gz"));
    }
    // No temporary files are left behind.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
}

#[test]
fn the_file_says_what_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.json");
    sample_run().save(&path).unwrap();
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(json["format"], "gilscope-run");
    assert_eq!(json["version"], 1);
    assert!(json["run"]["summary"]["completed"].as_bool().unwrap());
    assert!(json["run"]["series"]["columns"].is_array());
    // The stored summary is the one computed from the run, and a file
    // carrying one loads (it is recomputed, not read).
    let back = RunRecord::load(&path).unwrap();
    let summary = serde_json::to_value(crate::store::summarize(&back)).unwrap();
    assert_eq!(json["run"]["summary"], summary);
    assert!(
        serde_json::to_value(&back)
            .unwrap()
            .get("summary")
            .is_none()
    );
}

fn load_err(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> RunFileError {
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    let err = RunRecord::load(&path).unwrap_err();
    assert!(err.to_string().contains(name), "{err}");
    err
}

#[test]
fn newer_versions_are_refused_with_advice() {
    let dir = tempfile::tempdir().unwrap();
    let err = load_err(
        &dir,
        "new.json",
        br#"{"format":"gilscope-run","version":2,"run":{"from":"the future"}}"#,
    );
    assert!(matches!(
        err,
        RunFileError::TooNew {
            found: 2,
            supported: 1,
            ..
        }
    ));
    assert!(err.to_string().contains("update gilscope"), "{err}");
}

#[test]
fn damaged_and_foreign_files_give_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("good.json.gz");
    sample_run().save(&src).unwrap();
    let gz = std::fs::read(&src).unwrap();
    let truncated = load_err(&dir, "cut.json.gz", &gz[..gz.len() / 2]);
    assert!(
        matches!(truncated, RunFileError::Corrupt { .. }),
        "{truncated}"
    );
    assert!(truncated.to_string().contains("gzip"), "{truncated}");

    let json = serde_json::to_vec(&serde_json::json!({
        "format": "gilscope-run", "version": 1, "run": as_json(&sample_run())
    }))
    .unwrap();
    let cut = load_err(&dir, "cut.json", &json[..json.len() - 10]);
    assert!(matches!(cut, RunFileError::Corrupt { .. }), "{cut}");

    let mut bad_run = serde_json::json!({
        "format": "gilscope-run", "version": 1, "run": as_json(&sample_run())
    });
    bad_run["run"]["series"]["t_ns"] = serde_json::json!([3, 2, 1]);
    let err = load_err(&dir, "bad.json", &serde_json::to_vec(&bad_run).unwrap());
    assert!(matches!(err, RunFileError::Corrupt { .. }), "{err}");
    assert!(err.to_string().contains("backwards"), "{err}");

    let err = load_err(
        &dir,
        "other.json",
        br#"{"format":"chrome-trace","version":1}"#,
    );
    assert!(matches!(err, RunFileError::NotARunFile { .. }), "{err}");
    let err = load_err(&dir, "plain.json", br#"{"hello":1}"#);
    assert!(matches!(err, RunFileError::NotARunFile { .. }), "{err}");
    let err = load_err(&dir, "image.png", b"\x89PNG\r\n\x1a\n");
    assert!(matches!(err, RunFileError::NotARunFile { .. }), "{err}");
    let err = load_err(&dir, "nover.json", br#"{"format":"gilscope-run"}"#);
    assert!(matches!(err, RunFileError::Corrupt { .. }), "{err}");

    let missing = dir.path().join("missing.json");
    let err = RunRecord::load(&missing).unwrap_err();
    assert!(matches!(err, RunFileError::Read { .. }));
    assert!(err.to_string().contains("missing.json"), "{err}");
}

#[test]
fn saving_into_a_missing_directory_fails_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no/such/dir/run.json");
    let err = sample_run().save(&path).unwrap_err();
    assert!(matches!(err, RunFileError::Write { .. }));
    assert!(err.to_string().contains("run.json"), "{err}");
}
