//! Walking the target's linked lists: interpreters (`interpreters.head →
//! next`) and each interpreter's thread states (`threads.head → next`).
//! One syscall per node; the reader walks the interpreter list only when
//! its cheap per-tick check says the list changed.

use serde::{Deserialize, Serialize};

use super::error::GilError;
use super::offsets::DebugOffsets;
use super::remote::{Range, RemoteMemory, le_u64};

/// Stop walking after this many interpreters (a torn read could loop).
const MAX_INTERPRETERS: usize = 4096;
/// Stop walking a thread list after this many thread states.
const MAX_THREADS: usize = 65536;

/// A Python thread state: which interpreter an OS thread runs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PyThread {
    pub interp_id: i64,
    pub tid: u32,
    /// Address of its `PyThreadState` in the target.
    #[serde(default)]
    pub tstate: u64,
}

/// Where one interpreter and its GIL are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct InterpNode {
    pub addr: u64,
    pub id: i64,
    pub next: u64,
    /// `ceval.gil`: the GIL it uses (0 while it has none).
    pub gil_ptr: u64,
    /// The interpreter whose own `_gil` that is.
    pub gil_of: Option<i64>,
}

/// The interpreter list as last walked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct InterpList {
    pub head: u64,
    /// In list order (newest first).
    pub nodes: Vec<InterpNode>,
}

/// The runtime header (cookie, version) and the list head, checked against
/// `header` (the values at open): a mismatch means the process exec'ed.
pub(super) fn read_head(
    mem: &mut RemoteMemory,
    o: &DebugOffsets,
    runtime: u64,
    header: &[u8; 16],
) -> Result<u64, GilError> {
    let ranges = [
        Range::new(runtime, 16),
        Range::new(runtime + o.interpreters_head, 8),
    ];
    let mut b = [0u8; 24];
    mem.read_ranges(&ranges, &mut b).map_err(|e| match e {
        GilError::Read { pid, .. } => GilError::Changed { pid },
        other => other,
    })?;
    if b[..16] != header[..] {
        return Err(GilError::Changed { pid: mem.pid() });
    }
    Ok(le_u64(&b, 16))
}

/// Walks the interpreter list.
pub(super) fn interpreters(
    mem: &mut RemoteMemory,
    o: &DebugOffsets,
    runtime: u64,
    header: &[u8; 16],
) -> Result<InterpList, GilError> {
    let head = read_head(mem, o, runtime, header)?;
    let mut nodes: Vec<InterpNode> = Vec::new();
    let mut addr = head;
    while addr != 0 && nodes.len() < MAX_INTERPRETERS && !nodes.iter().any(|n| n.addr == addr) {
        let ranges = [
            Range::new(addr + o.interp.id, 8),
            Range::new(addr + o.interp.next, 8),
            Range::new(addr + o.interp.ceval_gil, 8),
        ];
        let mut b = [0u8; 24];
        mem.read_ranges(&ranges, &mut b)?;
        let node = InterpNode {
            addr,
            id: le_u64(&b, 0) as i64,
            next: le_u64(&b, 8),
            gil_ptr: le_u64(&b, 16),
            gil_of: None,
        };
        addr = node.next;
        nodes.push(node);
    }
    let own = o.interp.gil;
    let owners: Vec<(u64, i64)> = nodes.iter().map(|n| (n.addr + own, n.id)).collect();
    for n in &mut nodes {
        n.gil_of = owners
            .iter()
            .find(|&&(gil, _)| n.gil_ptr != 0 && gil == n.gil_ptr)
            .map(|&(_, id)| id);
    }
    Ok(InterpList { head, nodes })
}

/// Every thread state of every interpreter.
pub(super) fn threads(
    mem: &mut RemoteMemory,
    o: &DebugOffsets,
    runtime: u64,
    header: &[u8; 16],
) -> Result<Vec<PyThread>, GilError> {
    let list = interpreters(mem, o, runtime, header)?;
    let mut out = Vec::new();
    for node in &list.nodes {
        let mut t = mem.read_u64(node.addr + o.interp.threads_head)?;
        let mut n = 0usize;
        while t != 0 && n < MAX_THREADS {
            n += 1;
            let ranges = [
                Range::new(t + o.tstate.next, 8),
                Range::new(t + o.tstate.native_thread_id, 8),
            ];
            let mut b = [0u8; 16];
            mem.read_ranges(&ranges, &mut b)?;
            if let Ok(tid) = u32::try_from(le_u64(&b, 8))
                && tid != 0
            {
                out.push(PyThread {
                    interp_id: node.id,
                    tid,
                    tstate: t,
                });
            }
            t = le_u64(&b, 0);
        }
    }
    Ok(out)
}
