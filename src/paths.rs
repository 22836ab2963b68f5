//! Where gilscope keeps its files (XDG base directories).
//!
//! * config: `$XDG_CONFIG_HOME/gilscope` (`pythons.json`: interpreters added
//!   with `gilscope pythons add`)
//! * data: `$XDG_DATA_HOME/gilscope` (managed interpreters)
//! * cache: `$XDG_CACHE_HOME/gilscope` (probe cache, source tarballs, build trees, logs)
//!
//! `GILSCOPE_CONFIG_DIR` / `GILSCOPE_DATA_DIR` / `GILSCOPE_CACHE_DIR`
//! override them (used by tests).

use std::path::PathBuf;

fn base(var: &str, fallback: Option<PathBuf>, what: &str) -> PathBuf {
    if let Some(dir) = std::env::var_os(var).filter(|v| !v.is_empty()) {
        return PathBuf::from(dir);
    }
    match fallback {
        Some(dir) => dir.join("gilscope"),
        // No HOME at all: fall back to a directory we can always write.
        None => std::env::temp_dir().join(format!("gilscope-{what}")),
    }
}

/// Root of gilscope's settings (small files a user may edit).
pub fn config_dir() -> PathBuf {
    base("GILSCOPE_CONFIG_DIR", dirs::config_dir(), "config")
}

/// The interpreters added with `gilscope pythons add`.
pub fn pythons_config_file() -> PathBuf {
    config_dir().join("pythons.json")
}

/// Root of gilscope's persistent data.
pub fn data_dir() -> PathBuf {
    base("GILSCOPE_DATA_DIR", dirs::data_dir(), "data")
}

/// Root of gilscope's cache (safe to delete).
pub fn cache_dir() -> PathBuf {
    base("GILSCOPE_CACHE_DIR", dirs::cache_dir(), "cache")
}

/// Directory holding interpreters built by `gilscope pythons install`.
pub fn managed_pythons_dir() -> PathBuf {
    data_dir().join("pythons")
}

/// Downloaded source tarballs.
pub fn sources_dir() -> PathBuf {
    cache_dir().join("sources")
}

/// Build logs and other logs.
pub fn logs_dir() -> PathBuf {
    cache_dir().join("logs")
}
