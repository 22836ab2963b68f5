//! Interpreters from uv, and gilscope without a Rust toolchain: uv's
//! folder layout holding the real managed 3.13.5 / 3.13.5t builds, found
//! and kept instead of a build from source; `pythons install` running a
//! real uv (which cannot download here) and saying what it tried; the
//! native kernels asking for Rust while everything else runs without it.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// gilscope with its own folders (nothing managed, nothing added) and no
/// uv in sight unless a test puts one on `PATH`.
struct Isolated {
    config: tempfile::TempDir,
    data: tempfile::TempDir,
    cache: tempfile::TempDir,
    /// `UV_PYTHON_INSTALL_DIR` (uv's folder of interpreters).
    uv_root: tempfile::TempDir,
}

impl Isolated {
    fn new() -> Self {
        Isolated {
            config: tempfile::tempdir().unwrap(),
            data: tempfile::tempdir().unwrap(),
            cache: tempfile::tempdir().unwrap(),
            uv_root: tempfile::tempdir().unwrap(),
        }
    }

    fn gilscope(&self, path: &str) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_gilscope"));
        cmd.env("GILSCOPE_CONFIG_DIR", self.config.path())
            .env("GILSCOPE_DATA_DIR", self.data.path())
            .env("GILSCOPE_CACHE_DIR", self.cache.path())
            .env("UV_PYTHON_INSTALL_DIR", self.uv_root.path())
            .env("UV_CACHE_DIR", self.cache.path().join("uv"))
            .env("PATH", path)
            .env_remove("UV")
            .env_remove("GILSCOPE_PYTHONS");
        cmd
    }

    fn list(&self) -> Vec<Value> {
        let out = self
            .gilscope("/usr/bin:/bin")
            .args(["pythons", "list", "--json", "--no-cache"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
        doc["interpreters"].as_array().unwrap().clone()
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn both(out: &Output) -> String {
    format!("{}\n{}", text(&out.stdout), text(&out.stderr))
}

/// The folder of a managed build (`…/pythons/cpython-3.13.5t`).
fn prefix_of(python: &Path) -> PathBuf {
    python
        .parent()
        .and_then(Path::parent)
        .unwrap_or_else(|| panic!("{} is not PREFIX/bin/python", python.display()))
        .to_path_buf()
}

#[test]
fn a_uv_folder_of_real_interpreters_is_found_and_kept_instead_of_a_source_build() {
    let _beside = crate::common::beside_others();
    let (default, ft) = crate::common::managed_313();
    let iso = Isolated::new();

    // Before: with uv's folder empty, nothing free-threaded is found (the
    // demo would install one).
    let before = iso.list();
    assert!(
        !before.iter().any(|i| i["free_threaded"] == true),
        "a free-threaded interpreter outside uv's folder spoils this test: {before:#?}"
    );

    // uv's layout: one folder per interpreter, named as `uv python list`
    // prints it, beside the lock file uv keeps there.
    let root = iso.uv_root.path();
    let names = [
        ("cpython-3.13.5-linux-x86_64-gnu", default),
        ("cpython-3.13.5+freethreaded-linux-x86_64-gnu", ft),
    ];
    for (name, interp) in names {
        std::os::unix::fs::symlink(prefix_of(&interp.path), root.join(name)).unwrap();
    }
    std::fs::write(root.join(".lock"), "").unwrap();

    let after = iso.list();
    let from_uv: Vec<&Value> = after.iter().filter(|i| i["source"] == "uv").collect();
    let find = |ft: bool| {
        from_uv
            .iter()
            .find(|i| i["free_threaded"] == ft && i["version"] == "3.13.5")
            .unwrap_or_else(|| panic!("no uv 3.13.5 (ft: {ft}) in {after:#?}"))
    };
    let (uv_default, uv_ft) = (find(false), find(true));
    for (i, name) in [(uv_default, names[0].0), (uv_ft, names[1].0)] {
        let path = i["path"].as_str().unwrap();
        assert!(
            path.starts_with(root.join(name).to_str().unwrap()),
            "{path} is not in uv's folder {name}"
        );
        assert_eq!(i["status"], "ok", "{i:#}");
    }
    let modes = |i: &Value| i["modes"].as_array().unwrap().clone();
    assert!(modes(uv_ft).contains(&Value::from("ft")), "{uv_ft:#}");
    assert!(
        modes(uv_default).contains(&Value::from("gil")),
        "{uv_default:#}"
    );

    // `pythons install` keeps them: no build log, nothing built, seconds.
    let start = Instant::now();
    let out = iso
        .gilscope("/usr/bin:/bin")
        .args(["pythons", "install", "--version", "3.13"])
        .output()
        .unwrap();
    let all = both(&out);
    assert!(out.status.success(), "{all}");
    for name in [names[0].0, names[1].0] {
        assert!(
            all.contains(&format!(
                "kept: a good build exists at {}",
                root.join(name).display()
            )),
            "{all}"
        );
    }
    assert!(
        all.contains("Done: kept the interpreters already here in"),
        "{all}"
    );
    assert!(!all.contains("Full build log"), "a build started: {all}");
    assert!(
        !iso.data.path().join("pythons").exists(),
        "something was built"
    );
    assert!(
        start.elapsed() < Duration::from_secs(60),
        "{:?}",
        start.elapsed()
    );

    // And a run in mode ft uses uv's free-threaded build.
    let out = iso
        .gilscope("/usr/bin:/bin")
        .args([
            "run", "-w", "primes", "-m", "ft", "-n", "2", "-p", "n=20000",
        ])
        .output()
        .unwrap();
    let all = both(&out);
    assert!(out.status.success(), "{all}");
    let header = format!("({}/bin/", root.join(names[1].0).display());
    assert!(all.contains(&header), "not run on uv's 3.13.5t: {all}");
}

/// uv from PyPI in a private venv (`scripts/test` installs it), or `None`
/// with the reason printed when `GILSCOPE_TEST_UV` does not ask for it.
fn uv() -> Option<PathBuf> {
    let path = std::env::var_os("GILSCOPE_UV").map(PathBuf::from);
    let required = std::env::var("GILSCOPE_TEST_UV").is_ok_and(|v| v == "1");
    match path {
        Some(p) if p.is_file() => Some(p),
        other => {
            let why = format!(
                "no uv: GILSCOPE_UV is {other:?} (scripts/test installs uv into a private venv and sets it)"
            );
            assert!(!required, "GILSCOPE_TEST_UV=1 but {why}");
            eprintln!("skipped: {why}");
            None
        }
    }
}

/// `PATH` with only uv's folder and the system's.
fn path_with(uv: &Path) -> String {
    format!("{}:/usr/bin:/bin", uv.parent().unwrap().display())
}

#[test]
fn with_uv_on_path_install_runs_uv_and_says_what_it_tried_and_why_it_failed() {
    let Some(uv) = uv() else { return };
    let _beside = crate::common::beside_others();
    let iso = Isolated::new();
    let out = iso
        .gilscope(&path_with(&uv))
        .args([
            "pythons",
            "install",
            "--version",
            "3.13",
            "--build",
            "ft",
            "--via",
            "uv",
        ])
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    let stderr = text(&out.stderr);
    assert!(
        stdout.contains(&format!(
            "trying the fast path: `uv python install 3.13t` (uv at {})",
            uv.display()
        )),
        "{stdout}\n{stderr}"
    );
    if out.status.success() {
        // A machine that reaches GitHub: uv's build, in uv's folder.
        assert!(stdout.contains("Done: installed with uv in"), "{stdout}");
        assert!(
            stdout.contains(&iso.uv_root.path().display().to_string()),
            "{stdout}"
        );
        return;
    }
    // Here uv cannot download: gilscope says what it ran, that it failed,
    // uv's own reason, and what to do; nothing is built from source.
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stderr.starts_with("error: `uv python install 3.13t` failed after "),
        "{stderr}"
    );
    assert!(
        stderr.contains("uv said:") && stderr.contains("cpython-3.13"),
        "uv's reason is missing: {stderr}"
    );
    assert!(
        stderr.contains("fix: uv downloads CPython from GitHub")
            && stderr.contains("gilscope pythons install --via source"),
        "{stderr}"
    );
    assert!(
        !stdout.contains("configure"),
        "a source build started: {stdout}"
    );
    assert!(!iso.data.path().join("pythons").exists());
}

/// pyenv's CPython 3.13.0 (a real, shared-library build), or `None`.
fn pyenv_313() -> Option<PathBuf> {
    let root = std::env::var_os("PYENV_ROOT")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".pyenv")))?;
    let python = root.join("versions/3.13.0/bin/python3.13");
    python.is_file().then_some(python)
}

#[test]
fn with_uv_that_can_download_install_takes_the_fast_path_and_says_so() {
    let Some(uv) = uv() else { return };
    let Some(real) = pyenv_313() else {
        eprintln!("skipped: no pyenv CPython 3.13.0 to serve uv");
        return;
    };
    let _beside = crate::common::beside_others();
    let iso = Isolated::new();
    // What uv downloads, served from a file: an archive shaped as
    // python-build-standalone's (`python/bin`, `python/lib/python3.13`
    // with its `_sysconfigdata_`), holding pyenv's real 3.13.0 binary
    // (which finds its standard library at its own prefix), and uv's
    // download list naming it with its SHA-256.
    let served = tempfile::tempdir().unwrap();
    let top = served.path().join("src/python");
    let lib = real
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("lib/python3.13");
    std::fs::create_dir_all(top.join("bin")).unwrap();
    std::fs::create_dir_all(top.join("lib/python3.13")).unwrap();
    std::fs::copy(&real, top.join("bin/python3.13")).unwrap();
    let sysconfig = std::fs::read_dir(&lib)
        .unwrap()
        .filter_map(|e| e.ok())
        .find(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("_sysconfigdata_")
        })
        .unwrap();
    std::fs::copy(
        sysconfig.path(),
        top.join("lib/python3.13").join(sysconfig.file_name()),
    )
    .unwrap();
    let archive = served.path().join("cpython-3.13.0-served.tar.gz");
    let tar = Command::new("tar")
        .arg("-C")
        .arg(served.path().join("src"))
        .arg("-czf")
        .arg(&archive)
        .arg("python")
        .status()
        .unwrap();
    assert!(tar.success());
    let sha256 = gilscope::interp::install::sha256_file(&archive).unwrap();
    let list = serde_json::json!({
        "cpython-3.13.0-linux-x86_64-gnu": {
            "name": "cpython",
            "arch": {"family": "x86_64", "variant": null},
            "os": "linux",
            "libc": "gnu",
            "major": 3, "minor": 13, "patch": 0,
            "prerelease": "",
            "url": format!("file://{}", archive.display()),
            "sha256": sha256,
            "variant": null
        }
    });
    let list_file = served.path().join("downloads.json");
    std::fs::write(&list_file, list.to_string()).unwrap();

    let out = iso
        .gilscope(&path_with(&uv))
        .env("UV_PYTHON_DOWNLOADS_JSON_URL", &list_file)
        .env("UV_PYTHON_BIN_DIR", served.path().join("uv-bin"))
        .args([
            "pythons",
            "install",
            "--version",
            "3.13.0",
            "--build",
            "default",
        ])
        .output()
        .unwrap();
    let all = both(&out);
    assert!(out.status.success(), "{all}");
    let folder = iso.uv_root.path().join("cpython-3.13.0-linux-x86_64-gnu");
    assert!(
        all.contains("trying the fast path: `uv python install 3.13.0`"),
        "{all}"
    );
    assert!(
        all.contains(&format!(
            "default installed {}/bin/python3.13",
            folder.display()
        )),
        "{all}"
    );
    assert!(all.contains("Done: installed with uv in"), "{all}");
    assert!(!all.contains("configure"), "a source build started: {all}");
    assert!(!iso.data.path().join("pythons").exists());
    // Discovery finds it where uv put it, as uv's (its path may go through
    // the minor-version link uv makes beside it, `cpython-3.13-…`).
    let found = iso.list();
    let under = |key: &str, dir: &Path, i: &Value| {
        i[key]
            .as_str()
            .is_some_and(|p| p.starts_with(dir.to_str().unwrap()))
    };
    assert!(
        found.iter().any(|i| i["source"] == "uv"
            && i["version"] == "3.13.0"
            && under("path", iso.uv_root.path(), i)
            && under("executable", &folder, i)),
        "{found:#?}"
    );
}

#[test]
fn when_uv_cannot_help_install_falls_back_to_source_and_says_so() {
    let Some(uv) = uv() else { return };
    let _beside = crate::common::beside_others();
    let iso = Isolated::new();
    // uv has no download for 3.99t (it knows without the network), and
    // gilscope knows no 3.99 source: both ways are tried, in order.
    let out = iso
        .gilscope(&path_with(&uv))
        .args(["pythons", "install", "--version", "3.99", "--build", "ft"])
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    let tried = stdout
        .find("trying the fast path: `uv python install 3.99t`")
        .unwrap_or_else(|| panic!("uv not tried: {stdout}\n{stderr}"));
    let failed = stdout
        .find("`uv python install 3.99t` failed after")
        .unwrap_or_else(|| panic!("uv's failure not reported: {stdout}"));
    let fell_back = stdout
        .find("falling back: building CPython 3.99 from source")
        .unwrap_or_else(|| panic!("no fallback said: {stdout}"));
    assert!(tried < failed && failed < fell_back, "{stdout}");
    assert!(
        stdout.contains("No download found"),
        "uv's reason: {stdout}"
    );
    assert!(
        stderr.starts_with("error: gilscope knows no CPython release matching '3.99'"),
        "{stderr}"
    );
}

#[test]
fn without_rust_the_native_kernels_ask_for_it_and_everything_else_runs() {
    let _beside = crate::common::beside_others();
    let iso = Isolated::new();
    let home = tempfile::tempdir().unwrap();
    let real_data = gilscope::paths::data_dir();
    let no_rust = |args: &[&str]| {
        let mut cmd = iso.gilscope("/usr/bin:/bin");
        cmd.env("HOME", home.path())
            .env("CARGO_HOME", home.path().join("cargo"))
            .env_remove("CARGO")
            .env_remove("RUSTUP_HOME")
            // The managed 3.13 builds, found where they are.
            .env("GILSCOPE_DATA_DIR", &real_data)
            .args(args);
        cmd.output().unwrap()
    };
    // The condition: no cargo anywhere gilscope looks.
    assert!(
        !Command::new("sh")
            .args(["-c", "command -v cargo"])
            .env("PATH", "/usr/bin:/bin")
            .status()
            .unwrap()
            .success(),
        "cargo on /usr/bin:/bin spoils this test"
    );
    let plain = no_rust(&[
        "run", "-w", "primes", "-m", "gil", "-n", "2", "-p", "n=20000",
    ]);
    assert!(plain.status.success(), "{}", both(&plain));
    let native = no_rust(&[
        "run",
        "-w",
        "primes",
        "-m",
        "gil",
        "-n",
        "2",
        "-p",
        "n=20000",
        "-p",
        "import_gil_module=1",
    ]);
    let stderr = text(&native.stderr);
    assert!(!native.status.success(), "{}", both(&native));
    assert!(
        stderr.contains("gilscope_native_gil (gilscope's native kernels) is compiled on first use and needs a Rust toolchain"),
        "{stderr}"
    );
    assert!(
        stderr.contains("https://rustup.rs") && stderr.contains("no import_gil_module"),
        "{stderr}"
    );
}
