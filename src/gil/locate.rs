//! Finding `_PyRuntime` in a running process: which mapped file holds it
//! (a `libpython3.X*.so` or, for a static build, the executable), where
//! that file is loaded (`/proc/PID/maps`), and which Python version it is.
//!
//! The file behind a mapping is opened as the kernel knows it, never by a
//! guessed path ([`open_mapped`]): `/proc/PID/maps` prints each path as
//! the *reader* sees it, so for a process in a plain chroot at ROOT it
//! reads `ROOT/usr/bin/python3.15`, and for one pivot_root'ed into a root
//! the reader cannot reach it reads `/usr/bin/python3.15` relative to that
//! root. In order: `/proc/PID/map_files/START-END` (the mapped file
//! itself; needs the ptrace access the memory reads need anyway), the path
//! as printed, the path under `/proc/PID/root`; each opened file's device
//! and inode must be the ones on the maps line, or it is not parsed.
//!
//! Parsing an ELF symbol table takes milliseconds, so results are kept in
//! an [`ElfCache`] keyed by file identity: the N workers of a process-mode
//! run share one parse.

use std::collections::HashMap;
use std::fs::File;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::elf::RuntimeSymbols;
use super::error::GilError;

/// One file-backed line of `/proc/PID/maps`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    pub start: u64,
    /// End of the range (exclusive), as `map_files` names it.
    pub end: u64,
    pub offset: u64,
    pub dev: String,
    pub inode: u64,
    pub path: PathBuf,
}

/// Parses the file-backed mappings of a `/proc/PID/maps` text.
pub fn parse_maps(text: &str) -> Vec<Mapping> {
    text.lines().filter_map(parse_maps_line).collect()
}

fn parse_maps_line(line: &str) -> Option<Mapping> {
    let mut it = line.splitn(6, ' ');
    let range = it.next()?;
    let _perms = it.next()?;
    let offset = u64::from_str_radix(it.next()?, 16).ok()?;
    let dev = it.next()?.to_string();
    let inode: u64 = it.next()?.parse().ok()?;
    let path = it.next()?.trim_start();
    if inode == 0 || !path.starts_with('/') {
        return None;
    }
    let (start, end) = range.split_once('-')?;
    let start = u64::from_str_radix(start, 16).ok()?;
    let end = u64::from_str_radix(end, 16).ok()?;
    Some(Mapping {
        start,
        end,
        offset,
        dev,
        inode,
        path: PathBuf::from(path),
    })
}

impl Mapping {
    /// The device of the maps line (`fd:01`: major and minor in hex).
    fn device(&self) -> Option<(u64, u64)> {
        let (major, minor) = self.dev.split_once(':')?;
        Some((
            u64::from_str_radix(major, 16).ok()?,
            u64::from_str_radix(minor, 16).ok()?,
        ))
    }

    /// Whether `file` (opened, with `meta`) is the file this line maps:
    /// same inode, and same device — `stat`'s, or that of the mount the
    /// file was opened on. The two differ on an overlay whose layers lie
    /// on different file systems: `stat` gives each lower layer a pseudo
    /// device, the maps line the overlay's own.
    fn is_file(&self, pid: u32, file: &File, meta: &std::fs::Metadata) -> bool {
        let Some(device) = self.device() else {
            return false;
        };
        self.inode == meta.ino()
            && (device == split_dev(meta.dev()) || mount_device(pid, file) == Some(device))
    }
}

/// The device (major, minor) of the mount `file` was opened on: its
/// `mnt_id` from `/proc/self/fdinfo`, looked up in the mount table of
/// process `pid` (a target's mount may be in its namespace only) and then
/// in this process's.
fn mount_device(pid: u32, file: &File) -> Option<(u64, u64)> {
    use std::os::fd::AsRawFd;
    let info = std::fs::read_to_string(format!("/proc/self/fdinfo/{}", file.as_raw_fd())).ok()?;
    let mnt_id = info.lines().find_map(|l| l.strip_prefix("mnt_id:"))?.trim();
    for table in [
        format!("/proc/{pid}/mountinfo"),
        "/proc/self/mountinfo".to_string(),
    ] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        let found = text.lines().find_map(|l| {
            let mut f = l.split_whitespace();
            (f.next()? == mnt_id).then_some(())?;
            let (major, minor) = f.nth(1)?.split_once(':')?;
            Some((major.parse().ok()?, minor.parse().ok()?))
        });
        if found.is_some() {
            return found;
        }
    }
    None
}

/// A `dev_t` as (major, minor), Linux's encoding (glibc `gnu_dev_major`).
fn split_dev(dev: u64) -> (u64, u64) {
    let major = ((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff);
    let minor = (dev & 0xff) | ((dev >> 12) & !0xff);
    (major, minor)
}

/// Opens the file that mapping `m` of process `pid` maps, checked by
/// device and inode: `/proc/PID/map_files/START-END`, else the path as
/// printed, else the path under `/proc/PID/root`. Returns the open file
/// and the path it was opened by, or why none of the three is that file.
pub fn open_mapped(pid: u32, m: &Mapping) -> Result<(File, PathBuf), String> {
    let map_file = PathBuf::from(format!("/proc/{pid}/map_files/{:x}-{:x}", m.start, m.end));
    let under_root = PathBuf::from(format!("/proc/{pid}/root"))
        .join(m.path.strip_prefix("/").unwrap_or(&m.path));
    let mut why = Vec::new();
    for path in [map_file, m.path.clone(), under_root] {
        match File::open(&path).and_then(|f| f.metadata().map(|meta| (f, meta))) {
            Ok((f, meta)) if m.is_file(pid, &f, &meta) => return Ok((f, path)),
            Ok((_, meta)) => {
                let (major, minor) = split_dev(meta.dev());
                why.push(format!(
                    "{} is another file (device {major:x}:{minor:02x} inode {}, the mapping is {} inode {})",
                    path.display(),
                    meta.ino(),
                    m.dev,
                    m.inode
                ));
            }
            Err(e) => why.push(format!("{}: {e}", path.display())),
        }
    }
    Err(format!(
        "the mapped file {} could not be opened as itself: {}",
        m.path.display(),
        why.join("; ")
    ))
}

/// Where a process's runtime lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeLocation {
    /// Run-time address of `_PyRuntime`.
    pub runtime_addr: u64,
    /// Run-time address of `Py_Version`, when the file exports it.
    pub py_version_addr: Option<u64>,
    /// The file it was found in.
    pub path: PathBuf,
    /// "3.12" from the file name (`libpython3.12.so`, `python3.12`).
    pub version_from_name: Option<String>,
}

/// Parsed symbol tables by file identity (device, inode, path).
#[derive(Debug, Default)]
pub struct ElfCache {
    parsed: HashMap<(String, u64, PathBuf), RuntimeSymbols>,
}

impl ElfCache {
    pub fn new() -> Self {
        Self::default()
    }

    /// The symbols of the file `m` maps in process `pid`, parsed once
    /// per file.
    fn symbols(&mut self, pid: u32, m: &Mapping) -> Result<&RuntimeSymbols, GilError> {
        let key = (m.dev.clone(), m.inode, m.path.clone());
        if !self.parsed.contains_key(&key) {
            let (file, opened) = open_mapped(pid, m).map_err(|what| GilError::Elf {
                path: m.path.clone(),
                what,
            })?;
            let syms = RuntimeSymbols::read_file(file, &opened)?;
            self.parsed.insert(key.clone(), syms);
        }
        self.parsed.get(&key).ok_or(GilError::Elf {
            path: m.path.clone(),
            what: "symbol cache".into(),
        })
    }
}

/// Finds `_PyRuntime` in process `pid`.
pub fn locate_runtime(pid: u32, cache: &mut ElfCache) -> Result<RuntimeLocation, GilError> {
    let maps_path = PathBuf::from(format!("/proc/{pid}/maps"));
    let text = std::fs::read_to_string(&maps_path).map_err(|e| proc_error(pid, maps_path, e))?;
    let maps = parse_maps(&text);
    let exe = std::fs::read_link(format!("/proc/{pid}/exe")).ok();
    let candidates = candidates(&maps, exe.as_deref());
    // Executables that could not be opened as themselves, and why.
    let mut unopened: Vec<String> = Vec::new();
    for path in &candidates {
        let path = path.clone();
        // The mapping with the lowest file offset fixes the load bias.
        let Some(first) = maps
            .iter()
            .filter(|m| m.path == path)
            .min_by_key(|m| m.offset)
        else {
            continue;
        };
        // The mapped file itself, wherever its root is (chroot, another
        // mount namespace, an overlay).
        let syms = match cache.symbols(pid, first) {
            Ok(s) => s,
            // An executable we cannot parse is just not Python; one we
            // could not open as itself is said so.
            Err(GilError::Elf { what, .. }) if !is_libpython(&path) => {
                if what.starts_with("the mapped file") {
                    unopened.push(what);
                }
                continue;
            }
            Err(_) if !is_libpython(&path) => continue,
            Err(e) => return Err(e),
        };
        let Some(runtime) = syms.runtime else {
            continue;
        };
        let Some(bias) = syms.load_bias(first.start, first.offset) else {
            continue;
        };
        return Ok(RuntimeLocation {
            runtime_addr: bias.wrapping_add(runtime),
            py_version_addr: syms.py_version.map(|v| bias.wrapping_add(v)),
            version_from_name: version_in_name(&path),
            path,
        });
    }
    if std::path::Path::new(&format!("/proc/{pid}")).exists() {
        let mut tried = if candidates.is_empty() {
            "any mapped file (no libpython and no mapped executable)".to_string()
        } else {
            candidates
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        for why in unopened {
            tried.push_str(&format!(" ({why})"));
        }
        Err(GilError::NotPython { pid, tried })
    } else {
        Err(GilError::Gone { pid })
    }
}

fn proc_error(pid: u32, path: PathBuf, e: std::io::Error) -> GilError {
    match e.raw_os_error() {
        Some(libc::ENOENT) | Some(libc::ESRCH) => GilError::Gone { pid },
        Some(libc::EACCES) | Some(libc::EPERM) => GilError::Permission { pid, source: e },
        _ => GilError::Proc { path, source: e },
    }
}

/// Files that may hold `_PyRuntime`: libpython first, then the executable.
fn candidates(maps: &[Mapping], exe: Option<&Path>) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = Vec::new();
    for m in maps.iter().filter(|m| is_libpython(&m.path)) {
        if !out.contains(&m.path) {
            out.push(m.path.clone());
        }
    }
    if let Some(exe) = exe
        && maps.iter().any(|m| m.path == exe)
        && !out.iter().any(|p| p == exe)
    {
        out.push(exe.to_path_buf());
    }
    out
}

fn is_libpython(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with("libpython3") && n.contains(".so"))
}

/// "3.12" from `libpython3.12.so.1.0`, `libpython3.13t.so`, `python3.12`.
pub fn version_in_name(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_str()?;
    let rest = name
        .strip_prefix("libpython")
        .or_else(|| name.strip_prefix("python"))?;
    let mut parts = rest.splitn(2, '.');
    let major = parts.next()?;
    let minor: String = parts
        .next()?
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    if major.is_empty() || !major.chars().all(|c| c.is_ascii_digit()) || minor.is_empty() {
        return None;
    }
    Some(format!("{major}.{minor}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAPS: &str = "\
55d0c0a00000-55d0c0a01000 r--p 00000000 fd:01 1234 /opt/py/bin/python3.13
7f8866800000-7f8866a00000 r--p 00000000 fd:01 5678 /opt/py/lib/libpython3.13.so.1.0
7f8866a00000-7f8866c00000 r-xp 00200000 fd:01 5678 /opt/py/lib/libpython3.13.so.1.0
7f8867000000-7f8867021000 rw-p 00000000 00:00 0 [heap]
7f8867100000-7f8867101000 rw-p 00000000 00:00 0
";

    #[test]
    fn parses_file_backed_mappings_only() {
        let maps = parse_maps(MAPS);
        assert_eq!(maps.len(), 3);
        assert_eq!(maps[1].start, 0x7f88_6680_0000);
        assert_eq!(maps[1].end, 0x7f88_66a0_0000);
        assert_eq!(maps[2].offset, 0x20_0000);
        assert_eq!(maps[2].inode, 5678);
        let c = candidates(&maps, Some(Path::new("/opt/py/bin/python3.13")));
        assert_eq!(
            c,
            vec![
                PathBuf::from("/opt/py/lib/libpython3.13.so.1.0"),
                PathBuf::from("/opt/py/bin/python3.13")
            ]
        );
    }

    #[test]
    fn versions_from_file_names() {
        let v = |s: &str| version_in_name(Path::new(s));
        assert_eq!(v("/x/libpython3.12.so.1.0").as_deref(), Some("3.12"));
        assert_eq!(v("/x/libpython3.13t.so.1.0").as_deref(), Some("3.13"));
        assert_eq!(v("/usr/bin/python3.11").as_deref(), Some("3.11"));
        assert_eq!(v("/usr/bin/python3"), None);
        assert_eq!(v("/usr/bin/bash"), None);
    }

    #[test]
    fn opens_the_mapped_file_and_refuses_another() {
        let text = std::fs::read_to_string("/proc/self/maps").unwrap();
        let exe = std::fs::read_link("/proc/self/exe").unwrap();
        let maps = parse_maps(&text);
        let m = maps.iter().find(|m| m.path == exe).unwrap();
        assert!(m.end > m.start);
        let pid = std::process::id();
        let (_, opened) = open_mapped(pid, m).unwrap();
        assert!(
            opened.starts_with(format!("/proc/{pid}/map_files")),
            "{opened:?}"
        );
        // A maps line naming another inode: nothing is that file.
        let other = Mapping {
            inode: m.inode + 1,
            ..m.clone()
        };
        let why = open_mapped(pid, &other).unwrap_err();
        assert_eq!(why.matches("is another file").count(), 3, "{why}");
        assert_eq!(split_dev(0xfd01), (0xfd, 0x01));
    }

    #[test]
    fn this_test_binary_is_not_python() {
        let e = locate_runtime(std::process::id(), &mut ElfCache::new()).unwrap_err();
        assert!(matches!(e, GilError::NotPython { .. }), "{e:?}");
        assert!(
            locate_runtime(u32::MAX - 1, &mut ElfCache::new())
                .unwrap_err()
                .is_gone()
        );
    }
}
