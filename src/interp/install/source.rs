//! Getting a verified CPython source tarball: a file the user gives, the
//! python.org release, or Debian's source package (in that order).

use super::{InstallError, InstallEvent, InstallRequest, Phase, io_err};
use crate::interp::apt::{self, PrivateApt};
use crate::paths;
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// A CPython release gilscope can verify.
#[derive(Debug, Clone, Copy)]
pub struct KnownRelease {
    pub version: &'static str,
    /// SHA-256 of `Python-VERSION.tar.xz` as published on python.org.
    pub sha256: &'static str,
}

/// Releases whose tarball checksum gilscope knows, newest first per minor.
///
/// Where each checksum comes from (Debian's orig tarball of a release is
/// python.org's `Python-X.Y.Z.tar.xz`, byte for byte; checked for 3.13.5):
///
/// * 3.15.2 and 3.14.10: Debian unstable's signed source index, fetched
///   2026-11-30 from `http://deb.debian.org/debian/dists/sid/`. `InRelease`
///   (dated 2026-10-30) verified with `gpgv --keyring
///   /usr/share/keyrings/debian-archive-keyring.gpg` (good signatures by the
///   bookworm and trixie archive keys); the SHA-256 of `main/source/Sources.xz`
///   matched the one `InRelease` lists (`4f6b97c1…`); its `Checksums-Sha256`
///   name these hashes for `python3.15_3.15.2.orig.tar.xz` (27960396 bytes,
///   package 3.15.2-1) and `python3.14_3.14.10.orig.tar.xz` (24240392 bytes,
///   package 3.14.10-1). `apt-get source --print-uris` through a private apt
///   setup for sid (apt checks the same signature) printed the same hashes.
///   The tarballs themselves could not be downloaded here (python.org does
///   not resolve, Debian's pool answers 404), so they were not hashed.
/// * 3.13.5: python.org's release, and Debian trixie's orig tarball
///   (identical).
pub const KNOWN_RELEASES: &[KnownRelease] = &[
    KnownRelease {
        version: "3.15.2",
        sha256: "8b5536d280142ecf6cdfe15d12a21ba1c65e300bbf7b28a8d0cdb849575797de",
    },
    KnownRelease {
        version: "3.14.10",
        sha256: "de414a57119abef52784d8993e341d53aed635fc2b05c2607d9f98a2c5b72032",
    },
    KnownRelease {
        version: "3.13.5",
        sha256: "93e583f243454e6e9e4588ca2c2662206ad961659863277afcdb96801647d640",
    },
];

/// Connect (and name lookup) timeout for downloads: an unreachable host must
/// fail fast.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(8);
/// Time a server may take to answer a request once connected.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(20);
/// Time one read of a download may stall before it is given up.
const READ_STALL_TIMEOUT: Duration = Duration::from_secs(30);

pub(super) fn known_versions() -> String {
    KNOWN_RELEASES
        .iter()
        .map(|r| r.version)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Sortable numeric form of `3.13.5`.
pub(super) fn version_key(version: &str) -> Vec<u32> {
    version.split('.').map(|p| p.parse().unwrap_or(0)).collect()
}

fn known(version: &str) -> Option<&'static KnownRelease> {
    KNOWN_RELEASES.iter().find(|r| r.version == version)
}

/// The newest known release matching `wanted`.
fn resolve_known(wanted: &str) -> Option<&'static KnownRelease> {
    KNOWN_RELEASES
        .iter()
        .filter(|r| super::version_matches(wanted, r.version))
        .max_by_key(|r| version_key(r.version))
}

/// `3.13` of `3.13.5`.
fn minor_of(version: &str) -> String {
    version.split('.').take(2).collect::<Vec<_>>().join(".")
}

/// A source tarball ready to build.
#[derive(Debug, Clone)]
pub(super) struct Fetched {
    pub tarball: PathBuf,
    pub version: String,
    pub sha256: String,
    /// Where it came from, for the marker file.
    pub origin: String,
}

/// SHA-256 of a file, lowercase hex.
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut file = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex(&hasher.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn check_sha(file: &Path, expected: &str) -> Result<String, InstallError> {
    let actual = sha256_file(file).map_err(io_err(format!("cannot read {}", file.display())))?;
    if actual != expected {
        return Err(InstallError::Checksum {
            file: file.to_path_buf(),
            expected: expected.to_string(),
            actual,
        });
    }
    Ok(actual)
}

/// Gets the source, trying each origin in turn and saying why one was skipped.
pub(super) fn fetch(
    req: &InstallRequest,
    log: &mut File,
    send: &dyn Fn(InstallEvent),
) -> Result<Fetched, InstallError> {
    let started = Instant::now();
    send(InstallEvent::PhaseStarted {
        build: None,
        phase: Phase::Fetch,
    });
    let fetched = fetch_inner(req, log, send)?;
    let _ = writeln!(
        log,
        "source: {} ({}, sha256 {})",
        fetched.tarball.display(),
        fetched.origin,
        fetched.sha256
    );
    send(InstallEvent::PhaseDone {
        build: None,
        phase: Phase::Fetch,
        secs: started.elapsed().as_secs_f64(),
    });
    Ok(fetched)
}

fn fetch_inner(
    req: &InstallRequest,
    log: &mut File,
    send: &dyn Fn(InstallEvent),
) -> Result<Fetched, InstallError> {
    if let Some(tarball) = &req.source_tarball {
        return given_tarball(tarball, &req.version, send);
    }
    if resolve_known(&req.version).is_none()
        && apt::debian_suite_for(&minor_of(&req.version)).is_none()
    {
        return Err(InstallError::UnknownVersion(req.version.clone()));
    }
    let mut attempts = Vec::new();
    let release = resolve_known(&req.version);
    if let Some(release) = release {
        let dest = paths::sources_dir().join(format!("Python-{}.tar.xz", release.version));
        if dest.is_file() && check_sha(&dest, release.sha256).is_ok() {
            send(InstallEvent::Note {
                text: format!("using the cached source {}", dest.display()),
            });
            return Ok(Fetched {
                tarball: dest,
                version: release.version.to_string(),
                sha256: release.sha256.to_string(),
                origin: "cache".into(),
            });
        }
        let url = python_org_url(release.version);
        match download(&url, &dest, Some(release.sha256), log, send) {
            Ok(sha256) => {
                return Ok(Fetched {
                    tarball: dest,
                    version: release.version.to_string(),
                    sha256,
                    origin: url,
                });
            }
            Err(e) => {
                let _ = writeln!(log, "python.org failed: {e}");
                send(InstallEvent::Note {
                    text: format!("python.org: {e}; trying Debian's source package"),
                });
                attempts.push(format!("python.org {url}: {e}"));
            }
        }
    } else {
        attempts.push(format!(
            "python.org: not tried, gilscope knows no checksum for '{}' (known: {})",
            req.version,
            known_versions()
        ));
    }
    match debian(&req.version, log, send) {
        Ok(fetched) => Ok(fetched),
        Err(DebianError::Checksum(e)) => Err(e),
        Err(DebianError::Other(e)) => {
            attempts.push(e);
            Err(fetch_error(&req.version, release, attempts))
        }
    }
}

/// `https://www.python.org/ftp/python/3.13.5/Python-3.13.5.tar.xz`.
fn python_org_url(version: &str) -> String {
    format!("https://www.python.org/ftp/python/{version}/Python-{version}.tar.xz")
}

/// Every source tried and what happened, and how to build anyway.
fn fetch_error(
    wanted: &str,
    release: Option<&KnownRelease>,
    attempts: Vec<String>,
) -> InstallError {
    let fix = match release {
        Some(r) => format!(
            "download Python-{v}.tar.xz ({url}) on a machine that can reach python.org, copy it here and run\n    gilscope pythons install --version {v} --source-tarball FILE\n  gilscope checks the file's SHA-256 against the release's ({sha}) before building",
            v = r.version,
            url = python_org_url(r.version),
            sha = r.sha256,
        ),
        None => format!(
            "pass --source-tarball FILE (a Python-{wanted}.X.tar.xz from python.org); gilscope knows no published SHA-256 for that release, so it builds the file as given"
        ),
    };
    InstallError::Fetch {
        version: release.map_or(wanted, |r| r.version).to_string(),
        attempts,
        fix,
    }
}

/// A tarball the user gave: its version comes from its top directory.
fn given_tarball(
    tarball: &Path,
    wanted: &str,
    send: &dyn Fn(InstallEvent),
) -> Result<Fetched, InstallError> {
    if !tarball.is_file() {
        return Err(InstallError::Io {
            what: format!("--source-tarball {}", tarball.display()),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
        });
    }
    let version = tarball_version(tarball)?;
    if !super::version_matches(wanted, &version) {
        send(InstallEvent::Note {
            text: format!(
                "{} holds CPython {version}, not {wanted}; building {version}",
                tarball.display()
            ),
        });
    }
    let sha256 = match known(&version) {
        Some(release) => check_sha(tarball, release.sha256)?,
        None => {
            send(InstallEvent::Note {
                text: format!(
                    "gilscope knows no published checksum for CPython {version}; building the file as given"
                ),
            });
            sha256_file(tarball).map_err(io_err(format!("cannot read {}", tarball.display())))?
        }
    };
    Ok(Fetched {
        tarball: tarball.to_path_buf(),
        version,
        sha256,
        origin: tarball.display().to_string(),
    })
}

/// Reads `Python-3.13.5/` from the tarball's first entry.
fn tarball_version(tarball: &Path) -> Result<String, InstallError> {
    let out = Command::new("tar")
        .arg("-tf")
        .arg(tarball)
        .output()
        .map_err(io_err("cannot run tar (is it installed?)"))?;
    let listing = String::from_utf8_lossy(&out.stdout);
    let first = listing.lines().next().unwrap_or("");
    let top = first.split('/').next().unwrap_or("");
    match top.strip_prefix("Python-") {
        Some(v) if !v.is_empty() && v.chars().all(|c| c.is_ascii_digit() || c == '.') => {
            Ok(v.to_string())
        }
        _ => Err(InstallError::Io {
            what: format!("{} is not a CPython source tarball", tarball.display()),
            source: std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("its top directory is '{top}', expected 'Python-X.Y.Z'"),
            ),
        }),
    }
}

enum DebianError {
    Checksum(InstallError),
    Other(String),
}

/// Debian's `python3.X` source package, through a private apt setup.
fn debian(
    wanted: &str,
    log: &mut File,
    send: &dyn Fn(InstallEvent),
) -> Result<Fetched, DebianError> {
    let minor = minor_of(wanted);
    let suite = apt::debian_suite_for(&minor).ok_or_else(|| {
        DebianError::Other(format!(
            "Debian: not tried, no Debian release gilscope knows carries python{minor}"
        ))
    })?;
    let what = format!("Debian {suite}'s python{minor} source package");
    if Command::new("apt-get").arg("--version").output().is_err() {
        return Err(DebianError::Other(format!(
            "{what}: not tried, apt-get is not available (not a Debian system)"
        )));
    }
    let dir = paths::cache_dir().join(format!("apt-{suite}"));
    let apt =
        PrivateApt::new(&dir, suite).map_err(|e| DebianError::Other(format!("{what}: {e}")))?;
    send(InstallEvent::Note {
        text: format!("asking apt for Debian {suite}'s python{minor} source"),
    });
    let update = run_logged(apt.command(&["update"]), log)
        .map_err(|e| DebianError::Other(format!("{what}: {e}")))?;
    if !update.0 {
        return Err(DebianError::Other(format!(
            "{what} (index from {}): apt-get update failed: {}",
            apt.uris().join(", "),
            last_line(&update.1)
        )));
    }
    let package = format!("python{minor}");
    let uris = run_logged(apt.command(&["source", "--print-uris", &package]), log)
        .map_err(|e| DebianError::Other(format!("{what}: {e}")))?;
    if !uris.0 {
        return Err(DebianError::Other(format!(
            "{what} (index from {}): apt-get source failed: {}",
            apt.uris().join(", "),
            last_line(&uris.1)
        )));
    }
    let orig = apt::parse_print_uris(&uris.1).ok_or_else(|| {
        DebianError::Other(format!(
            "{what} (index from {}): apt named no orig tarball",
            apt.uris().join(", ")
        ))
    })?;
    if !super::version_matches(wanted, &orig.version) {
        return Err(DebianError::Other(format!(
            "{what}: Debian {suite} has {} not {wanted}",
            orig.version
        )));
    }
    // Debian's orig tarball is python.org's, byte for byte: check both hashes.
    if let Some(release) = known(&orig.version)
        && release.sha256 != orig.sha256
    {
        send(InstallEvent::Note {
            text: format!(
                "Debian's {} differs from python.org's release; using apt's signed checksum",
                orig.file_name
            ),
        });
    }
    let dest = paths::sources_dir().join(format!("Python-{}.tar.xz", orig.version));
    if dest.is_file() && check_sha(&dest, &orig.sha256).is_ok() {
        return Ok(Fetched {
            tarball: dest,
            version: orig.version,
            sha256: orig.sha256,
            origin: "cache".into(),
        });
    }
    let sha256 =
        download(&orig.url, &dest, Some(&orig.sha256), log, send).map_err(|e| match e {
            DownloadError::Checksum(c) => DebianError::Checksum(c),
            other => DebianError::Other(format!("{what} {}: {other}", orig.url)),
        })?;
    Ok(Fetched {
        tarball: dest,
        version: orig.version,
        sha256,
        origin: orig.url,
    })
}

fn last_line(text: &str) -> &str {
    text.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("no output")
}

/// Runs a command, appending its output to the log; returns (success, output).
fn run_logged(mut cmd: Command, log: &mut File) -> Result<(bool, String), String> {
    let _ = writeln!(log, "$ {cmd:?}");
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run {:?}: {e}", cmd.get_program()))?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = log.write_all(text.as_bytes());
    Ok((out.status.success(), text))
}

/// What went wrong with a request, in words (the URL is named by the caller).
fn describe_http(err: &ureq::Error) -> String {
    match err {
        ureq::Error::StatusCode(404) => "not there (HTTP 404)".into(),
        ureq::Error::StatusCode(code) => format!("the server answered HTTP {code}"),
        ureq::Error::HostNotFound => "host not found (no DNS answer)".into(),
        ureq::Error::Timeout(which) => format!("no answer in time ({which} timed out)"),
        ureq::Error::ConnectionFailed => "cannot connect".into(),
        ureq::Error::Io(e) => format!("cannot reach it: {e}"),
        other => other.to_string(),
    }
}

#[derive(Debug, thiserror::Error)]
enum DownloadError {
    #[error("{0}")]
    Http(String),
    #[error("{0}")]
    Checksum(InstallError),
}

/// Downloads `url` to `dest` (via a `.part` file), reporting progress and
/// checking the SHA-256 when one is expected.
fn download(
    url: &str,
    dest: &Path,
    expected: Option<&str>,
    log: &mut File,
    send: &dyn Fn(InstallEvent),
) -> Result<String, DownloadError> {
    let _ = writeln!(log, "download {url}");
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_connect(Some(CONNECT_TIMEOUT))
        .timeout_resolve(Some(CONNECT_TIMEOUT))
        .timeout_send_request(Some(CONNECT_TIMEOUT))
        .timeout_recv_response(Some(RESPONSE_TIMEOUT))
        .timeout_per_read(Some(READ_STALL_TIMEOUT))
        .build()
        .into();
    let response = agent
        .get(url)
        .call()
        .map_err(|e| DownloadError::Http(describe_http(&e)))?;
    let body = response.into_body();
    let total = body.content_length().unwrap_or(0);
    let mut reader = body.into_reader();
    if let Some(dir) = dest.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| DownloadError::Http(format!("cannot create {}: {e}", dir.display())))?;
    }
    let part = dest.with_extension("xz.part");
    let mut file = File::create(&part)
        .map_err(|e| DownloadError::Http(format!("cannot write {}: {e}", part.display())))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut done = 0u64;
    loop {
        let n = reader.read(&mut buf).map_err(|e| {
            DownloadError::Http(format!("the download broke off after {done} bytes: {e}"))
        })?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        file.write_all(&buf[..n])
            .map_err(|e| DownloadError::Http(format!("cannot write {}: {e}", part.display())))?;
        done += n as u64;
        send(InstallEvent::Progress {
            build: None,
            phase: Phase::Fetch,
            done,
            total: total.max(done),
        });
    }
    let actual = hex(&hasher.finalize());
    if let Some(expected) = expected
        && actual != expected
    {
        let _ = std::fs::remove_file(&part);
        return Err(DownloadError::Checksum(InstallError::Checksum {
            file: dest.to_path_buf(),
            expected: expected.to_string(),
            actual,
        }));
    }
    std::fs::rename(&part, dest)
        .map_err(|e| DownloadError::Http(format!("cannot write {}: {e}", dest.display())))?;
    let _ = writeln!(log, "downloaded {done} bytes, sha256 {actual}");
    Ok(actual)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_minor_to_newest_known() {
        assert_eq!(resolve_known("3.13").map(|r| r.version), Some("3.13.5"));
        assert_eq!(resolve_known("3.14").map(|r| r.version), Some("3.14.10"));
        assert_eq!(resolve_known("3.15").map(|r| r.version), Some("3.15.2"));
        assert_eq!(resolve_known("3.15.2").map(|r| r.version), Some("3.15.2"));
        assert!(resolve_known("3.1").is_none());
        assert!(resolve_known("3.14.1").is_none());
        assert!(resolve_known("3.12").is_none());
        assert_eq!(minor_of("3.13.5"), "3.13");
        assert_eq!(known_versions(), "3.15.2, 3.14.10, 3.13.5");
    }

    #[test]
    fn known_releases_are_well_formed_and_unique() {
        let mut seen = std::collections::HashSet::new();
        for r in KNOWN_RELEASES {
            assert!(seen.insert(r.version), "{} twice", r.version);
            assert_eq!(version_key(r.version).len(), 3, "{}", r.version);
            assert_eq!(r.sha256.len(), 64, "{}", r.version);
            assert!(
                r.sha256
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
                "{}",
                r.version
            );
            // Every known release has a second source gilscope can try.
            assert!(apt::debian_suite_for(&minor_of(r.version)).is_some());
        }
    }

    #[test]
    fn fetch_error_names_every_source_and_the_way_out() {
        let release = resolve_known("3.15");
        let err = fetch_error(
            "3.15",
            release,
            vec![
                "python.org https://www.python.org/ftp/python/3.15.2/Python-3.15.2.tar.xz: cannot reach it: failed to lookup address information".into(),
                "Debian sid's python3.15 source package http://deb.example/pool/main/p/python3.15/python3.15_3.15.2.orig.tar.xz: not there (HTTP 404)".into(),
            ],
        )
        .to_string();
        assert_eq!(
            err,
            "could not get the CPython 3.15.2 source; tried:\n  - python.org https://www.python.org/ftp/python/3.15.2/Python-3.15.2.tar.xz: cannot reach it: failed to lookup address information\n  - Debian sid's python3.15 source package http://deb.example/pool/main/p/python3.15/python3.15_3.15.2.orig.tar.xz: not there (HTTP 404)\n  fix: download Python-3.15.2.tar.xz (https://www.python.org/ftp/python/3.15.2/Python-3.15.2.tar.xz) on a machine that can reach python.org, copy it here and run\n    gilscope pythons install --version 3.15.2 --source-tarball FILE\n  gilscope checks the file's SHA-256 against the release's (8b5536d280142ecf6cdfe15d12a21ba1c65e300bbf7b28a8d0cdb849575797de) before building"
        );
    }

    #[test]
    fn sha256_of_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("abc");
        std::fs::write(&f, b"abc").unwrap();
        assert_eq!(
            sha256_file(&f).unwrap(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    fn make_tarball(dir: &Path, top: &str) -> PathBuf {
        let root = dir.join(top);
        std::fs::create_dir_all(root.join("Include")).unwrap();
        std::fs::write(root.join("README.rst"), "fake").unwrap();
        let tar = dir.join(format!("{top}.tar.xz"));
        let ok = Command::new("tar")
            .arg("-cJf")
            .arg(&tar)
            .arg("-C")
            .arg(dir)
            .arg(top)
            .status()
            .unwrap();
        assert!(ok.success());
        tar
    }

    #[test]
    fn given_tarball_with_wrong_checksum_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        // Claims to be 3.13.5 but is not the official file.
        let tar = make_tarball(dir.path(), "Python-3.13.5");
        let err = given_tarball(&tar, "3.13", &|_| {}).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.starts_with(&format!("checksum mismatch for {}", tar.display())),
            "{msg}"
        );
        assert!(msg.contains("expected sha256 93e583f2"), "{msg}");
    }

    #[test]
    fn given_315_tarball_with_wrong_checksum_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        for (top, sha) in [
            ("Python-3.15.2", "8b5536d280142ecf"),
            ("Python-3.14.10", "de414a57119abef5"),
        ] {
            let tar = make_tarball(dir.path(), top);
            let err = given_tarball(&tar, "3.15", &|_| {})
                .unwrap_err()
                .to_string();
            assert!(
                err.starts_with(&format!("checksum mismatch for {}", tar.display())),
                "{err}"
            );
            assert!(err.contains(&format!("expected sha256 {sha}")), "{err}");
            assert!(err.contains("not the official release"), "{err}");
        }
    }

    #[test]
    fn given_tarball_of_unknown_version_is_built_with_a_note() {
        let dir = tempfile::tempdir().unwrap();
        let tar = make_tarball(dir.path(), "Python-3.99.1");
        let notes = std::cell::RefCell::new(Vec::new());
        let fetched = given_tarball(&tar, "3.99", &|ev| {
            if let InstallEvent::Note { text } = ev {
                notes.borrow_mut().push(text);
            }
        })
        .unwrap();
        assert_eq!(fetched.version, "3.99.1");
        assert_eq!(fetched.sha256, sha256_file(&tar).unwrap());
        assert_eq!(
            notes.borrow().as_slice(),
            ["gilscope knows no published checksum for CPython 3.99.1; building the file as given"]
        );
    }

    #[test]
    fn a_tarball_that_is_not_cpython_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let tar = make_tarball(dir.path(), "something-else");
        let err = given_tarball(&tar, "3.13", &|_| {})
            .unwrap_err()
            .to_string();
        assert!(err.contains("is not a CPython source tarball"), "{err}");
        assert!(err.contains("'something-else'"), "{err}");
    }
}
