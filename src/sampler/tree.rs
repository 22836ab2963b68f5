//! Threads of a process (`/proc/PID/task`) and the process tree under a
//! root pid (`/proc/PID/task/*/children`, or a scan of `/proc/*/stat` on
//! kernels without CONFIG_PROC_CHILDREN).
//!
//! The tree is a snapshot that races with forks and exits: a process that
//! appears after the walk is found on the next one; one that exits during
//! the walk is skipped.

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use super::error::{ParseError, ProcError};
use super::file::read_once;
use super::parse::{fields, parse_u32};
use super::task::{Pid, parse_task_stat, task_path};

/// The thread ids of a process, ascending. Gone if the process is.
pub fn list_threads(pid: Pid) -> Result<Vec<Pid>, ProcError> {
    let mut out = Vec::new();
    list_threads_into(pid, &mut out)?;
    Ok(out)
}

/// Like [`list_threads`], reusing `out`'s allocation.
pub fn list_threads_into(pid: Pid, out: &mut Vec<Pid>) -> Result<(), ProcError> {
    out.clear();
    numeric_entries(&PathBuf::from(format!("/proc/{pid}/task")), out)?;
    out.sort_unstable();
    Ok(())
}

/// Appends the numeric names in a /proc directory to `out`.
fn numeric_entries(dir: &Path, out: &mut Vec<Pid>) -> Result<(), ProcError> {
    let entries = std::fs::read_dir(dir).map_err(|e| ProcError::from_io(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| ProcError::from_io(dir, e))?;
        if let Some(id) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<Pid>().ok())
        {
            out.push(id);
        }
    }
    Ok(())
}

/// Whether `/proc/PID/task/TID/children` exists on this kernel.
pub fn children_files_supported() -> bool {
    static SUPPORTED: OnceLock<bool> = OnceLock::new();
    *SUPPORTED.get_or_init(|| Path::new("/proc/thread-self/children").exists())
}

/// Direct children of a process, from the `children` file of each of its
/// threads (a child belongs to the thread that forked it).
pub fn children_of(pid: Pid) -> Result<Vec<Pid>, ProcError> {
    let mut out = Vec::new();
    for tid in list_threads(pid)? {
        match read_once(&task_path(pid, tid, "children")) {
            Ok(content) => parse_children_into(&content, &mut out)
                .map_err(|e| ProcError::malformed(&task_path(pid, tid, "children"), e))?,
            // That thread exited since the listing; its children were reparented.
            Err(e) if e.is_gone() => {}
            Err(e) => return Err(e),
        }
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

/// Parses a `children` file (space-separated pids), appending to `out`.
pub fn parse_children_into(content: &[u8], out: &mut Vec<Pid>) -> Result<(), ParseError> {
    for f in fields(content) {
        out.push(parse_u32("child pid", f)?);
    }
    Ok(())
}

/// All descendants of `root` (not `root` itself), parents before children.
/// Gone if `root` is.
pub fn descendants(root: Pid) -> Result<Vec<Pid>, ProcError> {
    if children_files_supported() {
        descendants_by_children(root)
    } else {
        descendants_by_scan(root)
    }
}

/// `root` followed by its descendants.
pub fn process_tree(root: Pid) -> Result<Vec<Pid>, ProcError> {
    let mut out = vec![root];
    out.extend(descendants(root)?);
    Ok(out)
}

/// Breadth-first walk over the `children` files.
pub fn descendants_by_children(root: Pid) -> Result<Vec<Pid>, ProcError> {
    let mut out = Vec::new();
    let mut seen = HashSet::from([root]);
    let mut queue = VecDeque::from([root]);
    while let Some(pid) = queue.pop_front() {
        let kids = match children_of(pid) {
            Ok(k) => k,
            Err(e) if e.is_gone() && pid != root => continue,
            Err(e) => return Err(e),
        };
        for kid in kids {
            if seen.insert(kid) {
                out.push(kid);
                queue.push_back(kid);
            }
        }
    }
    Ok(out)
}

/// Descendants found by reading the ppid of every process in /proc.
/// Slower (one file per process on the machine); used where the
/// `children` files are missing.
pub fn descendants_by_scan(root: Pid) -> Result<Vec<Pid>, ProcError> {
    let root_dir = PathBuf::from(format!("/proc/{root}"));
    if !root_dir.exists() {
        return Err(ProcError::Gone { path: root_dir });
    }
    let mut pids = Vec::new();
    numeric_entries(Path::new("/proc"), &mut pids)?;
    let mut by_parent: HashMap<Pid, Vec<Pid>> = HashMap::new();
    for pid in pids {
        let path = PathBuf::from(format!("/proc/{pid}/stat"));
        let Ok(content) = read_once(&path) else {
            continue; // exited, or not ours to read: not a descendant we can sample anyway
        };
        if let Ok(stat) = parse_task_stat(&content) {
            by_parent.entry(stat.ppid).or_default().push(pid);
        }
    }
    let mut out = Vec::new();
    let mut seen = HashSet::from([root]);
    let mut queue = VecDeque::from([root]);
    while let Some(pid) = queue.pop_front() {
        let Some(kids) = by_parent.get_mut(&pid) else {
            continue;
        };
        kids.sort_unstable();
        for &kid in kids.iter() {
            if seen.insert(kid) {
                out.push(kid);
                queue.push_back(kid);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sampler::test_support::{ChildGroup, wait_until};

    #[test]
    fn lists_own_threads() {
        let me = std::process::id();
        let (tx, rx) = std::sync::mpsc::channel();
        let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
        let h = std::thread::spawn(move || {
            tx.send(crate::sampler::test_support::gettid()).unwrap();
            let _ = done_rx.recv();
        });
        let tid = rx.recv().unwrap();
        let threads = list_threads(me).unwrap();
        assert!(threads.contains(&me) && threads.contains(&tid));
        assert!(threads.windows(2).all(|w| w[0] < w[1]));
        drop(done_tx);
        h.join().unwrap();
        assert!(list_threads(u32::MAX - 1).unwrap_err().is_gone());
    }

    #[test]
    fn finds_spawned_sleep_child_and_grandchild() {
        let me = std::process::id();
        // sh forks `sleep`, so sleep is a grandchild of this test process.
        let group = ChildGroup::spawn("sleep 30 & wait");
        let sh = group.pid();
        let sleep = wait_until(|| children_of(sh).ok().and_then(|k| k.first().copied()))
            .expect("sh never forked sleep");

        let d = descendants(me).unwrap();
        assert!(d.contains(&sh) && d.contains(&sleep), "{d:?}");
        let sh_pos = d.iter().position(|&p| p == sh);
        assert!(sh_pos < d.iter().position(|&p| p == sleep), "parents first");
        assert!(children_of(me).unwrap().contains(&sh));

        let scanned = descendants_by_scan(me).unwrap();
        assert!(
            scanned.contains(&sh) && scanned.contains(&sleep),
            "{scanned:?}"
        );
        assert_eq!(process_tree(sh).unwrap(), vec![sh, sleep]);
    }

    #[test]
    fn parses_children_fixture() {
        let mut out = vec![1];
        parse_children_into(&crate::sampler::test_support::fixture("children"), &mut out).unwrap();
        assert_eq!(out, vec![1, 30706]);
        assert!(parse_children_into(b"12 x", &mut out).is_err());
        parse_children_into(b"", &mut out).unwrap();
    }

    #[test]
    fn gone_root_is_gone() {
        assert!(descendants(u32::MAX - 1).unwrap_err().is_gone());
        assert!(descendants_by_scan(u32::MAX - 1).unwrap_err().is_gone());
    }
}
