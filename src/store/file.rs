//! Run files: a [`RunRecord`] as versioned JSON,
//! `{"format": "gilscope-run", "version": 1, "gilscope": "0.1.0", "run": {…}}`,
//! gzip-compressed when the path ends in `.gz` (loading detects gzip by its
//! magic bytes, whatever the name). The saved run carries its
//! [`summary`](super::summary) (computed when saving, once the run has
//! finished) for readers of the file; loading ignores it and recomputes.

use super::record::RunRecord;
use super::summary::{RunSummary, summarize};
use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use serde::{Deserialize, Serialize};
use std::fs;
use std::io::{self, BufWriter, Read};
use std::path::{Path, PathBuf};

/// The `format` field of a run file.
pub const RUN_FILE_FORMAT: &str = "gilscope-run";
/// The newest run file version this gilscope reads and the one it writes.
pub const RUN_FILE_VERSION: u64 = 1;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Why a run file could not be saved or loaded.
#[derive(Debug, thiserror::Error)]
pub enum RunFileError {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{} is not a gilscope run file: {reason}", path.display())]
    NotARunFile { path: PathBuf, reason: String },
    #[error(
        "{} was saved by a newer gilscope (run file version {found}; this gilscope reads up to version {supported}): update gilscope to open it",
        path.display()
    )]
    TooNew {
        path: PathBuf,
        found: u64,
        supported: u64,
    },
    #[error("{} is damaged or truncated: {reason}", path.display())]
    Corrupt { path: PathBuf, reason: String },
}

#[derive(Serialize)]
struct FileOut<'a> {
    format: &'static str,
    version: u64,
    gilscope: &'static str,
    run: RunOut<'a>,
}

/// The record's own fields, then `summary`.
#[derive(Serialize)]
struct RunOut<'a> {
    #[serde(flatten)]
    record: &'a RunRecord,
    summary: Option<RunSummary>,
}

/// What is checked before the run itself is read.
#[derive(Deserialize)]
struct Header {
    format: Option<serde_json::Value>,
    version: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct FileIn {
    run: RunRecord,
}

impl RunRecord {
    /// Writes the run to `path` (gzip when it ends in `.gz`), replacing the
    /// file only once the new one is complete.
    pub fn save(&self, path: &Path) -> Result<(), RunFileError> {
        let write_err = |source| RunFileError::Write {
            path: path.to_path_buf(),
            source,
        };
        let file_name = path.file_name().ok_or_else(|| {
            write_err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "the path names no file",
            ))
        })?;
        let mut tmp_name = std::ffi::OsString::from(".");
        tmp_name.push(file_name);
        tmp_name.push(format!(".{}.tmp", std::process::id()));
        let tmp = path.with_file_name(tmp_name);
        let written = write_file(self, &tmp, is_gz(path)).and_then(|()| fs::rename(&tmp, path));
        if let Err(source) = written {
            let _ = fs::remove_file(&tmp);
            return Err(write_err(source));
        }
        Ok(())
    }

    /// Reads a run saved by [`save`](Self::save).
    pub fn load(path: &Path) -> Result<RunRecord, RunFileError> {
        let mut bytes = fs::read(path).map_err(|source| RunFileError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        if bytes.starts_with(&GZIP_MAGIC) {
            let mut json = Vec::new();
            GzDecoder::new(bytes.as_slice())
                .read_to_end(&mut json)
                .map_err(|e| corrupt(path, format!("bad gzip data: {e}")))?;
            bytes = json;
        }
        check_header(path, &bytes)?;
        let file: FileIn = serde_json::from_slice(&bytes)
            .map_err(|e| corrupt(path, format!("unexpected content: {e}")))?;
        let mut run = file.run;
        run.rebuild_derived();
        Ok(run)
    }
}

fn write_file(run: &RunRecord, tmp: &Path, gz: bool) -> io::Result<()> {
    let out = FileOut {
        format: RUN_FILE_FORMAT,
        version: RUN_FILE_VERSION,
        gilscope: env!("CARGO_PKG_VERSION"),
        run: RunOut {
            record: run,
            summary: run.is_finished().then(|| summarize(run)),
        },
    };
    let file = BufWriter::new(fs::File::create(tmp)?);
    let file = if gz {
        let mut encoder = GzEncoder::new(file, Compression::default());
        serde_json::to_writer(&mut encoder, &out)?;
        encoder.finish()?
    } else {
        let mut file = file;
        serde_json::to_writer(&mut file, &out)?;
        file
    };
    let file = file.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()
}

fn is_gz(path: &Path) -> bool {
    path.extension()
        .is_some_and(|ext| ext.eq_ignore_ascii_case("gz"))
}

fn corrupt(path: &Path, reason: String) -> RunFileError {
    RunFileError::Corrupt {
        path: path.to_path_buf(),
        reason,
    }
}

fn check_header(path: &Path, json: &[u8]) -> Result<(), RunFileError> {
    let not_run = |reason: &str| RunFileError::NotARunFile {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    };
    let starts_like_json = json
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|&b| b == b'{');
    if !starts_like_json {
        return Err(not_run("it is not a JSON object"));
    }
    let header: Header = serde_json::from_slice(json).map_err(|e| {
        if e.is_syntax() || e.is_eof() {
            corrupt(path, format!("invalid JSON: {e}"))
        } else {
            not_run(&format!("unexpected JSON: {e}"))
        }
    })?;
    match header.format.as_ref().and_then(|f| f.as_str()) {
        Some(RUN_FILE_FORMAT) => {}
        Some(other) => return Err(not_run(&format!("its format is {other:?}"))),
        None => return Err(not_run("it has no \"format\": \"gilscope-run\" field")),
    }
    let Some(version) = header.version.as_ref().and_then(|v| v.as_u64()) else {
        return Err(corrupt(path, "no valid \"version\" field".to_string()));
    };
    if version > RUN_FILE_VERSION {
        return Err(RunFileError::TooNew {
            path: path.to_path_buf(),
            found: version,
            supported: RUN_FILE_VERSION,
        });
    }
    if version == 0 {
        return Err(corrupt(
            path,
            "run file version 0 does not exist".to_string(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
