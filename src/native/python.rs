//! What the build needs to know about the target interpreter: who it is
//! (for the cache key) and how it names extension modules.

use super::{NativeError, hex16};
use crate::child::{ChildGuard, describe_status};
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, UNIX_EPOCH};

/// How long the interpreter may take to answer.
const QUERY_TIMEOUT: Duration = Duration::from_secs(30);

const QUERY: &str = "import sys, sysconfig\n\
print(sysconfig.get_config_var('EXT_SUFFIX') or '')\n\
print(1 if sysconfig.get_config_var('Py_GIL_DISABLED') else 0)\n\
print('%d.%d' % sys.version_info[:2])\n";

/// An interpreter file as the cache sees it: rebuilt or replaced
/// interpreters (new mtime or size) get fresh builds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Identity {
    /// The real path of the interpreter binary.
    pub real_path: PathBuf,
    /// Hash of the real path, mtime and size.
    pub key: String,
}

impl Identity {
    pub fn of(python: &Path) -> Result<Identity, NativeError> {
        let real_path = std::fs::canonicalize(python).map_err(|e| NativeError::Interpreter {
            python: python.to_path_buf(),
            reason: format!("cannot find it: {e}"),
        })?;
        let meta = std::fs::metadata(&real_path).map_err(|e| NativeError::Interpreter {
            python: python.to_path_buf(),
            reason: format!("cannot read it: {e}"),
        })?;
        let mtime_ns = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        let mut hasher = Sha256::new();
        hasher.update(real_path.as_os_str().as_encoded_bytes());
        hasher.update([0]);
        hasher.update(mtime_ns.to_le_bytes());
        hasher.update(meta.len().to_le_bytes());
        Ok(Identity {
            real_path,
            key: hex16(&hasher.finalize()),
        })
    }
}

/// The interpreter's build facts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Facts {
    /// `sysconfig.get_config_var("EXT_SUFFIX")`, e.g.
    /// `.cpython-313t-x86_64-linux-gnu.so`.
    pub ext_suffix: String,
    pub free_threaded: bool,
    /// `3.13`.
    pub version: String,
}

/// Asks `python` for its extension suffix and build.
pub(super) fn facts(python: &Path) -> Result<Facts, NativeError> {
    let fail = |reason: String| NativeError::Interpreter {
        python: python.to_path_buf(),
        reason,
    };
    let mut cmd = Command::new(python);
    cmd.args(["-I", "-c", QUERY])
        // PYTHON_GIL=0 is fatal on a default build.
        .env_remove("PYTHON_GIL")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = ChildGuard::spawn(&mut cmd).map_err(|e| fail(format!("cannot run it: {e}")))?;
    let stdout = child.child_mut().stdout.take();
    let stderr = child.child_mut().stderr.take();
    let out_reader = std::thread::spawn(move || read_all(stdout));
    let err_reader = std::thread::spawn(move || read_all(stderr));
    let status = child
        .wait_timeout(QUERY_TIMEOUT)
        .map_err(|e| fail(format!("cannot wait for it: {e}")))?;
    if status.is_none() {
        let _ = child.kill();
    }
    drop(child);
    let out = out_reader.join().unwrap_or_default();
    let err = err_reader.join().unwrap_or_default();
    let Some(status) = status else {
        return Err(fail(format!(
            "it did not answer within {} s",
            QUERY_TIMEOUT.as_secs()
        )));
    };
    if !status.success() {
        let last = err
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("");
        return Err(fail(format!("{}: {last}", describe_status(status))));
    }
    parse_facts(&out).ok_or_else(|| fail(format!("unexpected answer {out:?}")))
}

fn parse_facts(out: &str) -> Option<Facts> {
    let mut lines = out.lines().map(str::trim);
    let ext_suffix = lines.next()?.to_string();
    let free_threaded = match lines.next()? {
        "1" => true,
        "0" => false,
        _ => return None,
    };
    let version = lines.next()?.to_string();
    if ext_suffix.is_empty() || version.is_empty() {
        return None;
    }
    Some(Facts {
        ext_suffix,
        free_threaded,
        version,
    })
}

fn read_all(pipe: Option<impl Read>) -> String {
    let mut buf = Vec::new();
    if let Some(mut pipe) = pipe {
        let _ = pipe.read_to_end(&mut buf);
    }
    String::from_utf8_lossy(&buf).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_answer() {
        let facts = parse_facts(".cpython-313t-x86_64-linux-gnu.so\n1\n3.13\n").unwrap();
        assert_eq!(facts.ext_suffix, ".cpython-313t-x86_64-linux-gnu.so");
        assert!(facts.free_threaded);
        assert_eq!(facts.version, "3.13");
        assert_eq!(parse_facts("\n0\n3.13\n"), None);
        assert_eq!(parse_facts(".so\nyes\n3.13\n"), None);
    }

    #[test]
    fn identity_follows_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("python");
        std::fs::write(&a, b"one").unwrap();
        let first = Identity::of(&a).unwrap();
        assert_eq!(Identity::of(&a).unwrap(), first);
        std::fs::write(&a, b"three").unwrap();
        assert_ne!(Identity::of(&a).unwrap().key, first.key);
        assert!(Identity::of(&dir.path().join("missing")).is_err());
    }
}
