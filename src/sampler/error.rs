//! Errors of the /proc reading layer.
//!
//! Parsers are pure functions over bytes and return [`ParseError`] (what was
//! wrong, without knowing where the bytes came from); readers wrap it into
//! [`ProcError`], which always names the file.

use std::io;
use std::path::{Path, PathBuf};

/// What was wrong with the content of a /proc file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The content ended before this field.
    #[error("missing field `{0}` (truncated or unexpected format)")]
    MissingField(&'static str),
    /// A field that must be a decimal number was not.
    #[error("field `{field}` is not a number: {value:?}")]
    BadNumber { field: &'static str, value: String },
    /// Any other structural problem.
    #[error("{0}")]
    Invalid(&'static str),
}

/// An error reading one /proc file.
#[derive(Debug, thiserror::Error)]
pub enum ProcError {
    /// The process or thread exited (ENOENT or ESRCH on open or read).
    /// Expected during sampling: callers drop the task and go on.
    #[error("{}: the process or thread is gone", path.display())]
    Gone { path: PathBuf },
    /// Any other I/O error (permission denied, too many open files, ...).
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// The file was read but its content could not be parsed.
    #[error("malformed {}: {source}", path.display())]
    Malformed {
        path: PathBuf,
        #[source]
        source: ParseError,
    },
}

impl ProcError {
    /// Classifies an I/O error on `path`: ENOENT and ESRCH mean the task is gone.
    pub fn from_io(path: &Path, source: io::Error) -> Self {
        match source.raw_os_error() {
            Some(libc::ENOENT) | Some(libc::ESRCH) => Self::Gone {
                path: path.to_path_buf(),
            },
            _ => Self::Io {
                path: path.to_path_buf(),
                source,
            },
        }
    }

    /// Wraps a parse error with the file it came from.
    pub fn malformed(path: &Path, source: ParseError) -> Self {
        Self::Malformed {
            path: path.to_path_buf(),
            source,
        }
    }

    /// True when the process or thread exited; not a failure of sampling.
    pub fn is_gone(&self) -> bool {
        matches!(self, Self::Gone { .. })
    }

    /// The file this error is about.
    pub fn path(&self) -> &Path {
        match self {
            Self::Gone { path } | Self::Io { path, .. } | Self::Malformed { path, .. } => path,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enoent_and_esrch_are_gone_others_are_io() {
        let p = Path::new("/proc/1/stat");
        assert!(ProcError::from_io(p, io::Error::from_raw_os_error(libc::ENOENT)).is_gone());
        assert!(ProcError::from_io(p, io::Error::from_raw_os_error(libc::ESRCH)).is_gone());
        let e = ProcError::from_io(p, io::Error::from_raw_os_error(libc::EACCES));
        assert!(!e.is_gone());
        assert_eq!(e.path(), p);
    }

    #[test]
    fn messages_name_the_file() {
        let e = ProcError::malformed(Path::new("/proc/7/stat"), ParseError::MissingField("utime"));
        let msg = e.to_string();
        assert!(msg.contains("/proc/7/stat"), "{msg}");
        assert!(std::error::Error::source(&e).is_some());
    }
}
