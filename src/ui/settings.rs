//! What the app remembers between launches: theme, workload, modes,
//! workers, repeats and window size, in `$CONFIG/gilscope/app.json`. A file
//! that cannot be read is reported once and replaced on the next save;
//! nothing measured lives here.

use crate::interp::Mode;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    pub dark: bool,
    pub workload: String,
    pub modes: Vec<Mode>,
    pub workers: usize,
    pub repeat: usize,
    pub window_size: [f32; 2],
}

/// `$CONFIG/gilscope/app.json`.
pub fn default_file() -> PathBuf {
    crate::paths::config_dir().join("app.json")
}

impl Settings {
    /// The saved settings; `Ok(None)` when there are none yet.
    pub fn load(path: &Path) -> Result<Option<Self>, String> {
        match std::fs::read_to_string(path) {
            Ok(text) => serde_json::from_str(&text).map(Some).map_err(|e| {
                format!(
                    "{}: not gilscope's settings ({e}); they are replaced when you change one",
                    path.display()
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!("{}: {e}", path.display())),
        }
    }

    /// Writes them (a temporary file, then a rename: never half a file).
    pub fn save(&self, path: &Path) -> Result<(), String> {
        let err = |e: std::io::Error| format!("{}: {e}", path.display());
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(err)?;
        }
        let text = serde_json::to_string_pretty(self).map_err(|e| e.to_string())?;
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, text).map_err(err)?;
        std::fs::rename(&tmp, path).map_err(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_missing_and_broken_files() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let path = dir.path().join("sub/app.json");
        assert_eq!(Settings::load(&path), Ok(None));
        let s = Settings {
            dark: false,
            workload: "blur".into(),
            modes: vec![Mode::Gil, Mode::Ft],
            workers: 6,
            repeat: 3,
            window_size: [1920.0, 1080.0],
        };
        s.save(&path).expect("saved");
        assert_eq!(Settings::load(&path), Ok(Some(s)));
        std::fs::write(&path, "{ not json").expect("written");
        let e = Settings::load(&path).expect_err("broken");
        assert!(e.contains("not gilscope's settings"), "{e}");
    }
}
