//! Finding every CPython a user may already have.
//!
//! Candidates come from gilscope's managed directory, uv, pyenv, Homebrew,
//! distribution paths and `PATH`. They are deduplicated by real path, probed
//! in parallel (each with a timeout, results cached by path + mtime + size),
//! then deduplicated again by the executable each one reports (a pyenv shim
//! and the binary behind it are one interpreter).

use super::probe::{ProbeInfo, probe};
use super::{Interpreter, Source, Status, supported_modes};
use crate::paths;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

/// Default time one probe may take.
pub const DEFAULT_PROBE_TIMEOUT: Duration = Duration::from_secs(10);
/// Version of the probe cache file; bump when [`ProbeInfo`] changes.
const CACHE_VERSION: u32 = 2;

/// How discovery runs.
#[derive(Debug, Clone)]
pub struct DiscoverOptions {
    /// Time one probe may take before the interpreter is called broken.
    pub probe_timeout: Duration,
    /// Use and update the probe cache.
    pub use_cache: bool,
}

impl Default for DiscoverOptions {
    fn default() -> Self {
        Self {
            probe_timeout: DEFAULT_PROBE_TIMEOUT,
            use_cache: true,
        }
    }
}

/// A file that may be a Python interpreter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub path: PathBuf,
    pub source: Source,
}

/// Finds and probes every interpreter. Never fails: unusable ones are listed
/// as broken.
pub fn discover(opts: &DiscoverOptions) -> Vec<Interpreter> {
    let candidates = dedup_by_real_path(candidates());
    let mut cache = if opts.use_cache {
        ProbeCache::load()
    } else {
        ProbeCache::default()
    };
    let results: Vec<(Candidate, Result<ProbeInfo, String>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = candidates
            .into_iter()
            .map(|cand| {
                let cached = cache.get(&cand.path);
                let timeout = opts.probe_timeout;
                scope.spawn(move || {
                    let result = match cached {
                        Some(info) => Ok(info),
                        None => probe(&cand.path, timeout),
                    };
                    (cand, result)
                })
            })
            .collect();
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    });
    if opts.use_cache {
        for (cand, result) in &results {
            if let Ok(info) = result {
                cache.put(&cand.path, info);
            }
        }
        cache.save();
    }
    assemble(results)
}

/// Merges probe results into named, sorted interpreters.
fn assemble(results: Vec<(Candidate, Result<ProbeInfo, String>)>) -> Vec<Interpreter> {
    let mut interps: Vec<Interpreter> = Vec::new();
    for (cand, result) in results {
        match result {
            Ok(info) => {
                let key = identity(info.executable.as_deref().unwrap_or(&cand.path));
                let existing = interps.iter_mut().find(|i| {
                    i.info()
                        .and_then(|x| x.executable.as_deref())
                        .is_some_and(|exe| identity(exe) == key)
                });
                match existing {
                    Some(interp) => merge_alias(interp, cand),
                    None => {
                        let modes = supported_modes(&info);
                        let build = info.build();
                        interps.push(Interpreter {
                            name: String::new(),
                            path: cand.path,
                            aliases: Vec::new(),
                            source: cand.source,
                            status: Status::Ok {
                                info: Box::new(info),
                                build,
                                modes,
                            },
                        });
                    }
                }
            }
            Err(reason) => interps.push(Interpreter {
                name: String::new(),
                path: cand.path,
                aliases: Vec::new(),
                source: cand.source,
                status: Status::Broken { reason },
            }),
        }
    }
    interps.sort_by_key(sort_key);
    assign_names(&mut interps);
    interps
}

/// Records `cand` as another way to reach `interp`; a direct path to the
/// executable beats a wrapper, an earlier source beats a later one.
fn merge_alias(interp: &mut Interpreter, cand: Candidate) {
    let exe = interp.info().and_then(|i| i.executable.clone());
    let cand_is_direct = exe.as_ref() == Some(&canonical(&cand.path));
    let interp_is_direct = exe.as_ref() == Some(&canonical(&interp.path));
    let replace = (cand_is_direct && !interp_is_direct)
        || (cand_is_direct == interp_is_direct && cand.source < interp.source);
    if replace {
        let old = std::mem::replace(&mut interp.path, cand.path);
        interp.source = cand.source;
        interp.aliases.push(old);
    } else {
        interp.aliases.push(cand.path);
    }
    interp.aliases.sort();
}

/// Working interpreters first, newest version first, default before FT builds.
type SortKey = (
    u8,
    std::cmp::Reverse<(u32, u32, u32)>,
    bool,
    Source,
    PathBuf,
);

fn sort_key(i: &Interpreter) -> SortKey {
    match i.info() {
        Some(info) => {
            let mut parts = info
                .version
                .split('.')
                .map(|p| p.parse::<u32>().unwrap_or(0));
            let v = (
                parts.next().unwrap_or(0),
                parts.next().unwrap_or(0),
                parts.next().unwrap_or(0),
            );
            (
                0,
                std::cmp::Reverse(v),
                info.free_threaded,
                i.source,
                i.path.clone(),
            )
        }
        None => (
            1,
            std::cmp::Reverse((0, 0, 0)),
            false,
            i.source,
            i.path.clone(),
        ),
    }
}

/// Gives each interpreter the shortest name not yet taken: `3.13t`, then
/// `3.13.5t`, then `3.13.5t-pyenv`, then a numbered suffix.
fn assign_names(interps: &mut [Interpreter]) {
    let levels: Vec<[String; 3]> = interps
        .iter()
        .map(|i| match i.info() {
            Some(info) => {
                let t = if info.free_threaded { "t" } else { "" };
                let full = format!("{}{t}", info.version);
                [
                    info.short_name(),
                    full.clone(),
                    format!("{full}-{}", i.source.as_str()),
                ]
            }
            None => {
                let file = i
                    .path
                    .file_name()
                    .map(|f| f.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let broken = format!("{file}-broken");
                [broken.clone(), broken.clone(), broken]
            }
        })
        .collect();
    // Greedy in sorted order: the newest (managed first) interpreter of a
    // minor version gets the short name `3.13`; later ones a longer one.
    let mut taken = std::collections::HashSet::new();
    let mut names: Vec<String> = Vec::with_capacity(interps.len());
    for (idx, level) in levels.iter().enumerate() {
        let name = level
            .iter()
            .find(|candidate| !taken.contains(*candidate))
            .cloned()
            .unwrap_or_else(|| format!("{}-{}", level[2], idx + 1));
        taken.insert(name.clone());
        names.push(name);
    }
    for (interp, name) in interps.iter_mut().zip(names) {
        interp.name = name;
    }
}

/// Every place an interpreter may live, in priority order.
pub fn candidates() -> Vec<Candidate> {
    let home = dirs::home_dir();
    let mut out = Vec::new();
    let mut scan = |dir: &Path, source: Source| {
        for path in interpreter_files(dir) {
            out.push(Candidate { path, source });
        }
    };
    for bin in subdirs_bin(&paths::managed_pythons_dir()) {
        scan(&bin, Source::Managed);
    }
    let uv_root = std::env::var_os("UV_PYTHON_INSTALL_DIR")
        .map(PathBuf::from)
        .or_else(|| dirs::data_dir().map(|d| d.join("uv").join("python")));
    if let Some(root) = uv_root {
        for bin in subdirs_bin(&root) {
            scan(&bin, Source::Uv);
        }
    }
    let pyenv_root = std::env::var_os("PYENV_ROOT")
        .map(PathBuf::from)
        .or_else(|| home.as_ref().map(|h| h.join(".pyenv")));
    if let Some(root) = &pyenv_root {
        for bin in subdirs_bin(&root.join("versions")) {
            scan(&bin, Source::Pyenv);
        }
    }
    for dir in ["/opt/homebrew/bin", "/home/linuxbrew/.linuxbrew/bin"] {
        scan(Path::new(dir), Source::Homebrew);
    }
    for dir in ["/usr/bin", "/usr/local/bin"] {
        scan(Path::new(dir), Source::System);
    }
    // pyenv's shims only forward to the versions scanned above, and the
    // ones for versions not selected just fail.
    let shims = pyenv_root.map(|r| r.join("shims"));
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            if Some(&dir) != shims.as_ref() {
                scan(&dir, Source::Path);
            }
        }
    }
    out
}

/// `ROOT/*/bin`, sorted.
fn subdirs_bin(root: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(root) else {
        return Vec::new();
    };
    let mut bins: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("bin"))
        .filter(|p| p.is_dir())
        .collect();
    bins.sort();
    bins
}

/// Executable files in `dir` named `python3`, `python3.X` or `python3.Xt`, sorted.
fn interpreter_files(dir: &Path) -> Vec<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .filter(|e| is_interpreter_name(&e.file_name().to_string_lossy()))
        .map(|e| e.path())
        .filter(|p| {
            std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
        .collect();
    // Most specific name first (`python3.13t` before `python3`), so that is
    // the path kept when several name the same file.
    files.sort_by(|a, b| b.as_os_str().len().cmp(&a.as_os_str().len()).then(a.cmp(b)));
    files
}

/// `python3`, `python3.13`, `python3.13t` — not `python3.13-config`.
pub fn is_interpreter_name(name: &str) -> bool {
    let Some(rest) = name.strip_prefix("python3") else {
        return false;
    };
    if rest.is_empty() {
        return true;
    }
    let Some(minor) = rest.strip_prefix('.') else {
        return false;
    };
    let digits = minor.strip_suffix('t').unwrap_or(minor);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Keeps the first candidate for each real path.
fn dedup_by_real_path(cands: Vec<Candidate>) -> Vec<Candidate> {
    let mut seen = std::collections::HashSet::new();
    cands
        .into_iter()
        .filter(|c| seen.insert(identity(&c.path)))
        .collect()
}

/// What makes two paths the same file: device and inode (hard links, as
/// `make install` creates for `python3.13` / `python3.13t`), else the
/// canonical path.
fn identity(path: &Path) -> (u64, u64, PathBuf) {
    use std::os::unix::fs::MetadataExt;
    match std::fs::metadata(path) {
        Ok(meta) => (meta.dev(), meta.ino(), PathBuf::new()),
        Err(_) => (0, 0, canonical(path)),
    }
}

/// Probe results keyed by path, valid while the file's mtime and size hold.
#[derive(Debug, Default, Serialize, Deserialize)]
struct ProbeCache {
    version: u32,
    entries: BTreeMap<PathBuf, CacheEntry>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct CacheEntry {
    mtime_ns: u128,
    size: u64,
    info: ProbeInfo,
}

impl ProbeCache {
    fn file() -> PathBuf {
        paths::cache_dir().join("probe-cache.json")
    }

    fn load() -> Self {
        std::fs::read(Self::file())
            .ok()
            .and_then(|bytes| serde_json::from_slice::<ProbeCache>(&bytes).ok())
            .filter(|c| c.version == CACHE_VERSION)
            .unwrap_or_default()
    }

    fn save(&self) {
        let file = Self::file();
        let Ok(json) = serde_json::to_vec_pretty(&ProbeCache {
            version: CACHE_VERSION,
            entries: self.entries.clone(),
        }) else {
            return;
        };
        // A cache that cannot be written only costs time next run.
        if let Some(parent) = file.parent() {
            let _ = std::fs::create_dir_all(parent);
        }
        let tmp = file.with_extension("json.tmp");
        if std::fs::write(&tmp, json).is_ok() {
            let _ = std::fs::rename(&tmp, &file);
        }
    }

    fn stamp(path: &Path) -> Option<(u128, u64)> {
        let meta = std::fs::metadata(path).ok()?;
        let mtime = meta
            .modified()
            .ok()?
            .duration_since(UNIX_EPOCH)
            .ok()?
            .as_nanos();
        Some((mtime, meta.len()))
    }

    fn get(&self, path: &Path) -> Option<ProbeInfo> {
        let entry = self.entries.get(path)?;
        let (mtime_ns, size) = Self::stamp(path)?;
        (entry.mtime_ns == mtime_ns && entry.size == size).then(|| entry.info.clone())
    }

    /// Caches only direct interpreters: a wrapper script (pyenv shim) may
    /// lead elsewhere tomorrow without changing itself.
    fn put(&mut self, path: &Path, info: &ProbeInfo) {
        if info.executable.as_deref() != Some(canonical(path).as_path()) {
            self.entries.remove(path);
            return;
        }
        if let Some((mtime_ns, size)) = Self::stamp(path) {
            self.entries.insert(
                path.to_path_buf(),
                CacheEntry {
                    mtime_ns,
                    size,
                    info: info.clone(),
                },
            );
        }
    }
}

/// Lookup helper: interpreters by name, for `--interp NAME`.
pub fn find_by_name<'a>(interps: &'a [Interpreter], name: &str) -> Option<&'a Interpreter> {
    interps.iter().find(|i| i.name == name)
}

/// Counts how many found interpreters support each mode (for messages).
pub fn mode_summary(interps: &[Interpreter]) -> HashMap<super::Mode, Vec<String>> {
    let mut map: HashMap<super::Mode, Vec<String>> = HashMap::new();
    for interp in interps {
        for mode in interp.modes() {
            map.entry(*mode).or_default().push(interp.name.clone());
        }
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpreter_names() {
        for ok in ["python3", "python3.13", "python3.13t", "python3.9"] {
            assert!(is_interpreter_name(ok), "{ok}");
        }
        for bad in [
            "python3.13-config",
            "python3-config",
            "python",
            "python3.",
            "python3.t",
            "python3.13tt",
            "python2.7",
        ] {
            assert!(!is_interpreter_name(bad), "{bad}");
        }
    }

    fn info(version: &str, ft: bool, exe: &str) -> ProbeInfo {
        ProbeInfo {
            implementation: "cpython".into(),
            version: version.into(),
            release_level: "final".into(),
            version_string: version.into(),
            executable: Some(PathBuf::from(exe)),
            free_threaded: ft,
            gil_enabled_at_start: !ft,
            ext_suffix: None,
            subinterp_api: None,
            own_gil_subinterpreters: false,
            own_gil_error: None,
            multiprocessing: true,
        }
    }

    fn cand(path: &str, source: Source) -> Candidate {
        Candidate {
            path: PathBuf::from(path),
            source,
        }
    }

    #[test]
    fn shims_merge_into_the_real_interpreter_and_names_are_unique() {
        let results = vec![
            (
                cand("/m/3.13/bin/python3.13", Source::Managed),
                Ok(info("3.13.5", false, "/m/3.13/bin/python3.13")),
            ),
            (
                cand("/m/3.13t/bin/python3.13t", Source::Managed),
                Ok(info("3.13.5", true, "/m/3.13t/bin/python3.13t")),
            ),
            (
                cand("/p/3.13.1/bin/python3.13", Source::Pyenv),
                Ok(info("3.13.1", false, "/p/3.13.1/bin/python3.13")),
            ),
            (
                cand("/shims/python3", Source::Path),
                Ok(info("3.13.1", false, "/p/3.13.1/bin/python3.13")),
            ),
            (
                cand("/bin/python3.98", Source::Path),
                Err("exited with status 1".into()),
            ),
        ];
        let interps = assemble(results);
        let names: Vec<&str> = interps.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names, ["3.13", "3.13t", "3.13.1", "python3.98-broken"]);
        let pyenv = &interps[2];
        assert_eq!(pyenv.path, PathBuf::from("/p/3.13.1/bin/python3.13"));
        assert_eq!(pyenv.aliases, [PathBuf::from("/shims/python3")]);
        assert_eq!(pyenv.source, Source::Pyenv);
    }
}
