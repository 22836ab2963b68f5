//! Finding every CPython a user may already have.
//!
//! Candidates come from gilscope's managed directory, the paths a user added
//! (`pythons add`, `GILSCOPE_PYTHONS`), uv, pyenv, Homebrew, distribution
//! paths and `PATH`. They are deduplicated by real path, probed in parallel
//! (each with a timeout, results of direct interpreters cached by path +
//! mtime + size + inode, never those of a managed install still under
//! way), then deduplicated again by the executable file each
//! one reports (a pyenv shim and the binary behind it are one interpreter).
//!
//! That file is the one the interpreter sees (`os.stat` inside it, device and
//! inode), not the host file at the path it reports: a wrapper that runs
//! `/usr/bin/python3.15` inside a chroot reports that path, which on the host
//! may not exist or be another interpreter.

use super::added::{self, PythonsConfig};
use super::probe::{FileId, ProbeInfo, Probed, probe_full};
use super::{Interpreter, MANAGED_MARKER_FILE, Source, Status, supported_modes};
use crate::paths;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

/// Default time one probe may take.
pub const DEFAULT_PROBE_TIMEOUT: Duration = Duration::from_secs(10);
/// Version of the probe cache file; bump when [`Probed`] changes (4: no
/// entries of managed installs under way, which 3 could keep for good).
const CACHE_VERSION: u32 = 4;

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
/// as broken (an unreadable `pythons.json` too, under its own path).
pub fn discover(opts: &DiscoverOptions) -> Vec<Interpreter> {
    let (candidates, problems) = candidates_and_problems();
    let candidates = dedup_by_real_path(candidates);
    let mut cache = if opts.use_cache {
        ProbeCache::load()
    } else {
        ProbeCache::default()
    };
    let mut results: Vec<(Candidate, Result<Probed, String>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = candidates
            .into_iter()
            .map(|cand| {
                let cached = cacheable(&cand).then(|| cache.get(&cand.path)).flatten();
                let timeout = opts.probe_timeout;
                scope.spawn(move || {
                    let result = match cached {
                        Some(probed) => Ok(probed),
                        None => probe_full(&cand.path, timeout),
                    };
                    (cand, result)
                })
            })
            .collect();
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    });
    if opts.use_cache {
        for (cand, result) in &results {
            match result {
                Ok(probed) if cacheable(cand) => cache.put(&cand.path, probed),
                _ => cache.remove(&cand.path),
            }
        }
        cache.save();
    }
    for (cand, result) in &mut results {
        if let Err(reason) = result {
            *reason = with_hint(reason, cand);
        }
    }
    results.extend(
        problems
            .into_iter()
            .map(|(cand, reason)| (cand, Err(reason))),
    );
    assemble(results)
}

/// Whether a probe of `cand` may be cached: not while it is a managed
/// install under way (its binary is installed before its extension
/// modules, and the binary's stamp does not change when they arrive: a
/// probe then would miss `_interpreters` for good).
fn cacheable(cand: &Candidate) -> bool {
    cand.source != Source::Managed
        || cand
            .path
            .parent()
            .and_then(Path::parent)
            .is_some_and(|prefix| prefix.join(MANAGED_MARKER_FILE).is_file())
}

/// Says where a broken interpreter the user named came from and how to
/// forget it.
fn with_hint(reason: &str, cand: &Candidate) -> String {
    match cand.source {
        Source::Added => format!(
            "{reason} (added with `gilscope pythons add`; `gilscope pythons remove {}` forgets it)",
            cand.path.display()
        ),
        Source::Env => format!("{reason} (listed in {})", added::ENV_VAR),
        _ => reason.to_string(),
    }
}

/// What two probe results must share to be one interpreter.
#[derive(Debug, Clone, PartialEq, Eq)]
enum MergeKey {
    /// The executable file the interpreter reported for itself.
    File(FileId),
    /// The host's view of the reported path (older probe answers).
    Host((u64, u64, PathBuf)),
}

/// Whether `cand` is the executable itself (not a shim or wrapper).
fn is_direct(cand_path: &Path, probed: &Probed) -> bool {
    match probed.executable_file {
        Some(file) => FileId::of(cand_path) == Some(file),
        None => probed.info.executable.as_deref() == Some(canonical(cand_path).as_path()),
    }
}

/// `None` keeps the candidate apart from every other: a wrapper the user
/// named (`pythons add`, `GILSCOPE_PYTHONS`) is run through the wrapper,
/// even when it runs a binary found elsewhere too.
fn merge_key(cand: &Candidate, probed: &Probed) -> Option<MergeKey> {
    if matches!(cand.source, Source::Added | Source::Env) && !is_direct(&cand.path, probed) {
        return None;
    }
    Some(match probed.executable_file {
        Some(file) => MergeKey::File(file),
        None => MergeKey::Host(identity(
            probed.info.executable.as_deref().unwrap_or(&cand.path),
        )),
    })
}

/// Merges probe results into named, sorted interpreters.
fn assemble(results: Vec<(Candidate, Result<Probed, String>)>) -> Vec<Interpreter> {
    // Each interpreter with its merge key and its probe (for `is_direct`).
    let mut found: Vec<(Interpreter, Option<MergeKey>, Option<Probed>)> = Vec::new();
    for (cand, result) in results {
        match result {
            Ok(probed) => {
                let key = merge_key(&cand, &probed);
                let existing = key.as_ref().and_then(|k| {
                    found
                        .iter_mut()
                        .find(|(_, other, _)| other.as_ref() == Some(k))
                });
                match existing {
                    Some((interp, _, Some(first))) => merge_alias(interp, first, cand),
                    _ => {
                        let info = probed.info.clone();
                        let modes = supported_modes(&info);
                        let build = info.build();
                        let interp = Interpreter {
                            name: String::new(),
                            path: cand.path,
                            aliases: Vec::new(),
                            source: cand.source,
                            status: Status::Ok {
                                info: Box::new(info),
                                build,
                                modes,
                            },
                        };
                        found.push((interp, key, Some(probed)));
                    }
                }
            }
            Err(reason) => found.push((
                Interpreter {
                    name: String::new(),
                    path: cand.path,
                    aliases: Vec::new(),
                    source: cand.source,
                    status: Status::Broken { reason },
                },
                None,
                None,
            )),
        }
    }
    let mut interps: Vec<Interpreter> = found.into_iter().map(|(i, _, _)| i).collect();
    interps.sort_by_key(sort_key);
    assign_names(&mut interps);
    interps
}

/// Records `cand` as another way to reach `interp` (whose probe is
/// `probed`); a direct path to the executable beats a wrapper, an earlier
/// source beats a later one.
fn merge_alias(interp: &mut Interpreter, probed: &Probed, cand: Candidate) {
    let cand_is_direct = is_direct(&cand.path, probed);
    let interp_is_direct = is_direct(&interp.path, probed);
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
    candidates_and_problems().0
}

/// The candidates, and a broken entry for a `pythons.json` that cannot be
/// read (so the user sees why added interpreters are missing).
fn candidates_and_problems() -> (Vec<Candidate>, Vec<(Candidate, String)>) {
    let home = dirs::home_dir();
    let mut out = Vec::new();
    let mut problems = Vec::new();
    let scan = |out: &mut Vec<Candidate>, dir: &Path, source: Source| {
        for path in interpreter_files(dir) {
            out.push(Candidate { path, source });
        }
    };
    for bin in subdirs_bin(&paths::managed_pythons_dir()) {
        scan(&mut out, &bin, Source::Managed);
    }
    match PythonsConfig::load() {
        Ok(config) => out.extend(config.added.into_iter().map(|path| Candidate {
            path,
            source: Source::Added,
        })),
        Err(err) => problems.push((
            Candidate {
                path: paths::pythons_config_file(),
                source: Source::Added,
            },
            err.to_string(),
        )),
    }
    for path in added::env_pythons() {
        if path.is_dir() {
            scan(&mut out, &path, Source::Env);
        } else {
            // A missing file is probed too: it is listed as broken, with why.
            out.push(Candidate {
                path,
                source: Source::Env,
            });
        }
    }
    if let Some(root) = uv_python_dir() {
        for bin in subdirs_bin(&root) {
            scan(&mut out, &bin, Source::Uv);
        }
    }
    let pyenv_root = std::env::var_os("PYENV_ROOT")
        .map(PathBuf::from)
        .or_else(|| home.as_ref().map(|h| h.join(".pyenv")));
    if let Some(root) = &pyenv_root {
        for bin in subdirs_bin(&root.join("versions")) {
            scan(&mut out, &bin, Source::Pyenv);
        }
    }
    for dir in ["/opt/homebrew/bin", "/home/linuxbrew/.linuxbrew/bin"] {
        scan(&mut out, Path::new(dir), Source::Homebrew);
    }
    for dir in ["/usr/bin", "/usr/local/bin"] {
        scan(&mut out, Path::new(dir), Source::System);
    }
    // pyenv's shims only forward to the versions scanned above, and the
    // ones for versions not selected just fail.
    let shims = pyenv_root.map(|r| r.join("shims"));
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            if Some(&dir) != shims.as_ref() {
                scan(&mut out, &dir, Source::Path);
            }
        }
    }
    (out, problems)
}

/// Where uv keeps the interpreters it installs (`uv python dir` without
/// running uv): `$UV_PYTHON_INSTALL_DIR`, else `$XDG_DATA_HOME/uv/python`
/// (`~/.local/share/uv/python`). Each is a folder such as
/// `cpython-3.13.5+freethreaded-linux-x86_64-gnu` with its own `bin/`.
pub fn uv_python_dir() -> Option<PathBuf> {
    std::env::var_os("UV_PYTHON_INSTALL_DIR")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| dirs::data_dir().map(|d| d.join("uv").join("python")))
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

/// Executable files in `dir` named `python3`, `python3.X` or `python3.Xt`,
/// the most specific name first.
pub fn interpreter_files(dir: &Path) -> Vec<PathBuf> {
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

/// Probe results keyed by path, valid while the file's mtime, size, device
/// and inode hold.
#[derive(Debug, Default, Serialize, Deserialize)]
struct ProbeCache {
    version: u32,
    entries: BTreeMap<PathBuf, CacheEntry>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct CacheEntry {
    mtime_ns: u128,
    size: u64,
    file: FileId,
    info: ProbeInfo,
    executable_file: Option<FileId>,
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

    /// The file behind `path` now (symlinks followed).
    fn stamp(path: &Path) -> Option<(u128, u64, FileId)> {
        use std::os::unix::fs::MetadataExt;
        let meta = std::fs::metadata(path).ok()?;
        let mtime = meta
            .modified()
            .ok()?
            .duration_since(UNIX_EPOCH)
            .ok()?
            .as_nanos();
        let file = FileId {
            dev: meta.dev(),
            ino: meta.ino(),
        };
        Some((mtime, meta.len(), file))
    }

    fn get(&self, path: &Path) -> Option<Probed> {
        let entry = self.entries.get(path)?;
        let (mtime_ns, size, file) = Self::stamp(path)?;
        (entry.mtime_ns == mtime_ns && entry.size == size && entry.file == file).then(|| Probed {
            info: entry.info.clone(),
            executable_file: entry.executable_file,
        })
    }

    fn remove(&mut self, path: &Path) {
        self.entries.remove(path);
    }

    /// Caches only direct interpreters, whose probe reported the very file
    /// at `path`: a wrapper (pyenv shim, a script that runs a Python in a
    /// chroot) may lead elsewhere tomorrow without changing itself.
    fn put(&mut self, path: &Path, probed: &Probed) {
        let stamp = Self::stamp(path);
        let direct = match probed.executable_file {
            Some(exe) => stamp.as_ref().is_some_and(|(_, _, file)| *file == exe),
            // Without the file, a wrapper cannot be told apart: never cached.
            None => false,
        };
        match stamp {
            Some((mtime_ns, size, file)) if direct => {
                self.entries.insert(
                    path.to_path_buf(),
                    CacheEntry {
                        mtime_ns,
                        size,
                        file,
                        info: probed.info.clone(),
                        executable_file: probed.executable_file,
                    },
                );
            }
            _ => {
                self.entries.remove(path);
            }
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

    /// A probe answer whose executable is file number `ino` (none: 0).
    fn probed(version: &str, ft: bool, exe: &str, ino: u64) -> Probed {
        Probed {
            info: info(version, ft, exe),
            executable_file: (ino != 0).then_some(FileId { dev: 1, ino }),
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
                Ok(probed("3.13.5", false, "/m/3.13/bin/python3.13", 0)),
            ),
            (
                cand("/m/3.13t/bin/python3.13t", Source::Managed),
                Ok(probed("3.13.5", true, "/m/3.13t/bin/python3.13t", 0)),
            ),
            (
                cand("/p/3.13.1/bin/python3.13", Source::Pyenv),
                Ok(probed("3.13.1", false, "/p/3.13.1/bin/python3.13", 0)),
            ),
            (
                cand("/shims/python3", Source::Path),
                Ok(probed("3.13.1", false, "/p/3.13.1/bin/python3.13", 0)),
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

    #[test]
    fn the_file_an_interpreter_reports_decides_merging_not_its_path() {
        // Two interpreters both calling themselves /usr/bin/python3.11: the
        // host's, and one in another root reached through a wrapper. A shim
        // on PATH leads to the wrapped one's file (say, a chroot's binary
        // reached the same way).
        let results = vec![
            (
                cand("/usr/bin/python3.11", Source::System),
                Ok(probed("3.11.2", false, "/usr/bin/python3.11", 11)),
            ),
            (
                cand("/home/u/bin/python3.11", Source::Path),
                Ok(probed("3.11.9", false, "/usr/bin/python3.11", 22)),
            ),
            (
                cand("/home/u/other/python3", Source::Path),
                Ok(probed("3.11.9", false, "/usr/bin/python3.11", 22)),
            ),
        ];
        let interps = assemble(results);
        let summary: Vec<(&str, &Path, usize)> = interps
            .iter()
            .map(|i| (i.name.as_str(), i.path.as_path(), i.aliases.len()))
            .collect();
        assert_eq!(
            summary,
            [
                ("3.11", Path::new("/home/u/bin/python3.11"), 1),
                ("3.11.2", Path::new("/usr/bin/python3.11"), 0),
            ]
        );
    }

    #[test]
    fn an_added_wrapper_is_never_merged_away() {
        // The user added a wrapper (a chroot, a taskset) that runs the very
        // binary pyenv has: it stays its own interpreter, run through the
        // wrapper.
        let results = vec![
            (
                cand("/home/u/sid/python3.12", Source::Added),
                Ok(probed("3.12.1", false, "/p/3.12.1/bin/python3.12", 33)),
            ),
            (
                cand("/home/u/env/python3.12", Source::Env),
                Ok(probed("3.12.1", false, "/p/3.12.1/bin/python3.12", 33)),
            ),
            (
                cand("/p/3.12.1/bin/python3.12", Source::Pyenv),
                Ok(probed("3.12.1", false, "/p/3.12.1/bin/python3.12", 33)),
            ),
            (
                cand("/home/u/gone/python3.15", Source::Added),
                Err("cannot run it: No such file or directory (os error 2)".into()),
            ),
        ];
        let interps = assemble(results);
        let summary: Vec<(&str, Source, &Path)> = interps
            .iter()
            .map(|i| (i.name.as_str(), i.source, i.path.as_path()))
            .collect();
        assert_eq!(
            summary,
            [
                ("3.12", Source::Added, Path::new("/home/u/sid/python3.12")),
                ("3.12.1", Source::Env, Path::new("/home/u/env/python3.12")),
                (
                    "3.12.1-pyenv",
                    Source::Pyenv,
                    Path::new("/p/3.12.1/bin/python3.12")
                ),
                (
                    "python3.15-broken",
                    Source::Added,
                    Path::new("/home/u/gone/python3.15")
                ),
            ]
        );
        assert!(interps.iter().all(|i| i.aliases.is_empty()));
    }

    #[test]
    fn a_managed_install_under_way_is_not_cached() {
        let dir = tempfile::tempdir().unwrap();
        let prefix = dir.path().join("cpython-3.13.5t");
        std::fs::create_dir_all(prefix.join("bin")).unwrap();
        let python = prefix.join("bin/python3.13t");
        let managed = Candidate {
            path: python.clone(),
            source: Source::Managed,
        };
        assert!(!cacheable(&managed), "no marker yet: still installing");
        std::fs::write(prefix.join(MANAGED_MARKER_FILE), "{}").unwrap();
        assert!(cacheable(&managed));
        let pyenv = Candidate {
            path: dir.path().join("elsewhere/bin/python3.13"),
            source: Source::Pyenv,
        };
        assert!(cacheable(&pyenv));
    }

    #[test]
    fn only_direct_interpreters_are_cached() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let binary = dir.path().join("python3.42");
        std::fs::write(&binary, "pretend binary").unwrap();
        let wrapper = dir.path().join("wrapper");
        std::fs::write(
            &wrapper,
            "#!/bin/sh\nexec chroot /x /usr/bin/python3.42 \"$@\"\n",
        )
        .unwrap();
        std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
        let binary_file = FileId::of(&binary);
        let direct = Probed {
            info: info("3.42.0", false, binary.to_str().unwrap()),
            executable_file: binary_file,
        };
        // The wrapper's interpreter reports a path, and a file, of its own root.
        let wrapped = Probed {
            info: info("3.42.0", false, "/usr/bin/python3.42"),
            executable_file: Some(FileId { dev: 1, ino: 4242 }),
        };
        let mut cache = ProbeCache::default();
        cache.put(&binary, &direct);
        cache.put(&wrapper, &wrapped);
        assert_eq!(cache.get(&binary), Some(direct.clone()));
        assert_eq!(cache.get(&wrapper), None);
        // A wrapper that runs the host binary is not cached either.
        cache.put(&wrapper, &direct);
        assert_eq!(cache.get(&wrapper), None);
        // Neither is an answer without the file.
        let mut no_file = direct.clone();
        no_file.executable_file = None;
        let mut fresh = ProbeCache::default();
        fresh.put(&binary, &no_file);
        assert_eq!(fresh.get(&binary), None);
        // Another file put in its place (same size, same mtime or not) is a miss.
        let replacement = dir.path().join("replacement");
        std::fs::write(&replacement, "pretend binary").unwrap();
        std::fs::rename(&replacement, &binary).unwrap();
        assert_eq!(cache.get(&binary), None);
    }
}
