//! A /proc file kept open and re-read with `pread(fd, buf, 0)`.
//!
//! procfs files built on `single_open` (stat, schedstat, statm, /proc/stat,
//! smaps_rollup, comm) regenerate their whole content on every read at offset
//! 0, so one open + many preads gives fresh values without the cost of
//! open/close. A kept-open fd of /proc/PID/... is bound to that task, not to the
//! number: after the task exits, reads fail with ESRCH even if the number is
//! reused, which is what lets the sampler tell "gone" apart from "someone new".

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use super::error::ProcError;

/// Initial buffer size; most per-task files are < 400 bytes, /proc/stat a few KiB.
pub const INITIAL_BUF_BYTES: usize = 4096;
/// Refuse to grow a buffer past this (a /proc file this large is not one of ours).
const MAX_BUF_BYTES: usize = 16 << 20;

/// An open /proc file that is re-read from offset 0 on each call.
#[derive(Debug)]
pub struct ProcFile {
    file: File,
    path: PathBuf,
}

impl ProcFile {
    /// Opens `path` read-only. ENOENT/ESRCH → [`ProcError::Gone`].
    pub fn open(path: impl Into<PathBuf>) -> Result<Self, ProcError> {
        let path = path.into();
        match File::open(&path) {
            Ok(file) => Ok(Self { file, path }),
            Err(e) => Err(ProcError::from_io(&path, e)),
        }
    }

    /// The path this file was opened from (for error messages).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads the whole, freshly generated content into `buf` and returns it.
    ///
    /// One `pread` at offset 0 per call in the common case. For a
    /// `single_open` procfs file a read that does not fill the buffer has
    /// returned everything; when the buffer fills up it is doubled and the
    /// read is repeated from offset 0 (so the content is one consistent
    /// snapshot, never two generations stitched together).
    pub fn read<'b>(&self, buf: &'b mut Vec<u8>) -> Result<&'b [u8], ProcError> {
        if buf.len() < INITIAL_BUF_BYTES {
            buf.resize(INITIAL_BUF_BYTES, 0);
        }
        loop {
            let n = read_at_retrying(&self.file, buf, &self.path)?;
            if n < buf.len() {
                return Ok(&buf[..n]);
            }
            if buf.len() >= MAX_BUF_BYTES {
                return Err(ProcError::Io {
                    path: self.path.clone(),
                    source: std::io::Error::other("file larger than 16 MiB"),
                });
            }
            let grown = buf.len() * 2;
            buf.resize(grown, 0);
        }
    }
}

fn read_at_retrying(file: &File, buf: &mut [u8], path: &Path) -> Result<usize, ProcError> {
    loop {
        match file.read_at(buf, 0) {
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(ProcError::from_io(path, e)),
        }
    }
}

/// Reads a whole file once (open, read to EOF, close), mapping errors like
/// [`ProcFile`]. Use for files read rarely or that are not `single_open`
/// (e.g. `children`, which is a multi-record seq_file).
pub fn read_once(path: &Path) -> Result<Vec<u8>, ProcError> {
    std::fs::read(path).map_err(|e| ProcError::from_io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_file_is_gone() {
        let err = ProcFile::open("/proc/self/task/0/stat").err();
        assert!(err.is_some_and(|e| e.is_gone()));
    }

    #[test]
    fn reads_grow_past_the_initial_buffer() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big");
        let content: Vec<u8> = (0..3 * INITIAL_BUF_BYTES + 17)
            .map(|i| (i % 251) as u8)
            .collect();
        std::fs::write(&path, &content).unwrap();
        let f = ProcFile::open(&path).unwrap();
        let mut buf = Vec::new();
        assert_eq!(f.read(&mut buf).unwrap(), &content[..]);
        // A second read on the same fd starts again at offset 0.
        assert_eq!(f.read(&mut buf).unwrap(), &content[..]);
    }

    #[test]
    fn proc_stat_is_regenerated_on_each_pread() {
        let f = ProcFile::open("/proc/self/stat").unwrap();
        let mut buf = Vec::new();
        let a = f.read(&mut buf).unwrap().to_vec();
        // Burn CPU until utime (10 ms ticks) must have moved: a fixed small
        // burn could finish within one tick and prove nothing.
        let start = std::time::Instant::now();
        let b = loop {
            let mut x = 0u64;
            let burn = std::time::Instant::now();
            while burn.elapsed() < std::time::Duration::from_millis(20) {
                x = std::hint::black_box(x.wrapping_mul(2654435761).wrapping_add(1));
            }
            let b = f.read(&mut buf).unwrap().to_vec();
            if b != a || start.elapsed() > std::time::Duration::from_secs(5) {
                break b;
            }
        };
        assert!(a.starts_with(b.split(|&c| c == b' ').next().unwrap()));
        assert_ne!(a, b, "second pread returned stale content");
    }
}
