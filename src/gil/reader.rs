//! [`GilReader`]: each interpreter's GIL in another CPython 3.13+ process,
//! read from outside through its `_Py_DebugOffsets`.
//!
//! The interpreter list (`interpreters.head → next → …`) is walked once and
//! then re-checked on every read in the same syscall that reads the GILs,
//! so a read usually costs one `process_vm_readv` whatever the number of
//! interpreters: the GILs, the list check and, speculatively, the thread
//! ids of each GIL's last two holders; a holder not among them costs a
//! second read. Nothing in the target is locked or stopped, so a
//! read is a racy snapshot: `locked` and `holder` are read microseconds
//! apart and a hand-off may fall between them.
//!
//! Thread ids are the host's: a process in another pid namespace (a
//! container) stores its own namespace's ids, which [`NsTids`] maps; a
//! holder whose id cannot be mapped is read as unknown, never as another
//! thread, and counted ([`GilReader::unmapped_holders`]).

use serde::{Deserialize, Serialize};

use super::error::GilError;
use super::locate::{ElfCache, RuntimeLocation, locate_runtime};
use super::nspid::NsTids;
use super::offsets::{self, DebugOffsets, HoldsGil, LayoutError, PyVersion, TABLE_BYTES};
use super::remote::{Range, RemoteMemory, le_u64};
use super::walk::{self, InterpList, PyThread};

/// One interpreter's GIL at one instant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InterpreterGil {
    /// The interpreter's id (0 = main).
    pub id: i64,
    /// The interpreter whose GIL this one uses: itself for the main
    /// interpreter and own-GIL subinterpreters, the main interpreter for a
    /// legacy shared-GIL one; `None` while it has no GIL (being created
    /// or torn down).
    pub gil_of: Option<i64>,
    /// Someone holds the GIL.
    pub locked: bool,
    /// The OS thread id (TID) of the holder, when locked and readable.
    pub holder_tid: Option<u32>,
    /// The GIL is in use: always on a default build; on a free-threaded
    /// build, `enabled != 0` (transiently or permanently switched on).
    pub enabled: bool,
    /// Free-threaded builds: the raw `enabled` counter (0 off, n > 0 while
    /// n transient requests are active, `i32::MAX` permanently on).
    pub enabled_raw: Option<i32>,
    /// The GIL's `switch_number`: how often it passed to another thread
    /// since the interpreter started (see `offsets` for where it is read).
    pub switches: Option<u64>,
    /// Address of the GIL struct in the target (matches futex waits).
    pub gil_addr: u64,
}

/// Every interpreter of one process at one instant.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GilSnapshot {
    pub pid: u32,
    /// Ascending by id.
    pub interpreters: Vec<InterpreterGil>,
}

/// What a thread state says about its thread and the GIL, read in one
/// syscall with its `native_thread_id` (which must still be the thread's:
/// a freed and reused thread state is not trusted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadFlags {
    /// `holds_gil`: the thread holds its interpreter's GIL.
    pub holds_gil: bool,
    /// `gil_requested` (3.15+): the thread is inside `take_gil`; `None`
    /// where the version has no such field.
    pub gil_requested: Option<bool>,
}

/// Reads the GILs of one process. Open once, read at kHz.
#[derive(Debug)]
pub struct GilReader {
    mem: RemoteMemory,
    runtime: u64,
    offsets: DebugOffsets,
    header: [u8; 16],
    location: RuntimeLocation,
    /// The interpreter list as last walked.
    list: Option<InterpList>,
    buf: Vec<u8>,
    ranges: Vec<Range>,
    /// Per interpreter of the current read: its holder's thread state when
    /// its thread id is still to be read, else 0.
    holder_ptrs: Vec<u64>,
    /// Per GIL address, its last two distinct holders' thread states.
    recent: Vec<(u64, [u64; 2])>,
    /// The thread states read speculatively in the current read.
    spec: Vec<u64>,
    /// The process's thread ids as its pid namespace sees them.
    tids: NsTids,
    /// Reads whose GIL holder's thread id could not be mapped to the host's.
    unmapped: u64,
}

impl GilReader {
    /// Finds the runtime of `pid` and checks its debug offsets.
    pub fn open(pid: u32) -> Result<Self, GilError> {
        Self::open_cached(pid, &mut ElfCache::new())
    }

    /// Like [`GilReader::open`], sharing parsed symbol tables.
    pub fn open_cached(pid: u32, cache: &mut ElfCache) -> Result<Self, GilError> {
        let location = locate_runtime(pid, cache)?;
        let mut mem = RemoteMemory::new(pid);
        let mut table = [0u8; TABLE_BYTES];
        mem.read(location.runtime_addr, &mut table)?;
        let offsets = match offsets::parse(&table) {
            Ok(o) => o,
            Err(LayoutError::NoCookie) => {
                return Err(no_cookie(pid, &location, &mut mem));
            }
            Err(LayoutError::Unsupported(v)) => {
                return Err(GilError::UnsupportedVersion {
                    pid,
                    version: v.to_string(),
                });
            }
            Err(LayoutError::Implausible(what)) => return Err(GilError::BadLayout { pid, what }),
        };
        let mut header = [0u8; 16];
        header.copy_from_slice(&table[..16]);
        Ok(Self {
            mem,
            runtime: location.runtime_addr,
            offsets,
            header,
            location,
            list: None,
            buf: Vec::with_capacity(256),
            ranges: Vec::with_capacity(16),
            holder_ptrs: Vec::with_capacity(4),
            recent: Vec::new(),
            spec: Vec::new(),
            tids: NsTids::new(pid),
            unmapped: 0,
        })
    }

    pub fn pid(&self) -> u32 {
        self.mem.pid()
    }

    pub fn version(&self) -> PyVersion {
        self.offsets.version
    }

    /// The process's pid in its own pid namespace, where that differs
    /// from this `/proc`'s (a container).
    pub fn ns_pid(&self) -> Option<u32> {
        self.tids.ns_pid()
    }

    /// How many reads found a GIL holder whose thread id (its pid
    /// namespace's) matched no thread of the process: read as unknown.
    pub fn unmapped_holders(&self) -> u64 {
        self.unmapped
    }

    /// The thread list changed: thread ids may have been reused.
    pub fn threads_changed(&mut self) {
        self.tids.forget();
    }

    pub fn free_threaded(&self) -> bool {
        self.offsets.free_threaded
    }

    pub fn offsets(&self) -> &DebugOffsets {
        &self.offsets
    }

    /// Address of `_PyRuntime` in the target.
    pub fn runtime_addr(&self) -> u64 {
        self.runtime
    }

    /// The file `_PyRuntime` was found in.
    pub fn runtime_file(&self) -> &std::path::Path {
        &self.location.path
    }

    /// A futex wait at `addr` is a wait for the GIL at `gil_addr` when it
    /// falls in this span; `None` where the GIL struct's layout is unknown.
    pub fn wait_span(&self) -> Option<u64> {
        self.offsets.gil.wait_span
    }

    /// One snapshot of every interpreter's GIL.
    pub fn read(&mut self) -> Result<GilSnapshot, GilError> {
        let mut snap = GilSnapshot::default();
        self.read_into(&mut snap)?;
        Ok(snap)
    }

    /// Like [`GilReader::read`], reusing `snap`'s allocation.
    ///
    /// Usually one syscall reads the runtime header, the list head, for
    /// every known interpreter its `next` pointer and GIL fields, and the
    /// thread ids of recent holders; a new holder costs one more. When the
    /// head, a `next` or a newly set GIL pointer differs from the last
    /// walk (an interpreter was created or destroyed) the values are
    /// discarded and the list is walked again before reading.
    pub fn read_into(&mut self, snap: &mut GilSnapshot) -> Result<(), GilError> {
        snap.pid = self.pid();
        for attempt in 0..3 {
            if self.list.is_none() || attempt > 0 {
                self.list = Some(walk::interpreters(
                    &mut self.mem,
                    &self.offsets,
                    self.runtime,
                    &self.header,
                )?);
            }
            match self.read_known(snap) {
                Ok(true) => {
                    self.read_holders(snap);
                    if self.tids.nested() {
                        self.map_holders(snap);
                    }
                    snap.interpreters.sort_by_key(|i| i.id);
                    return Ok(());
                }
                Ok(false) => {}
                // A node freed under us: walk again.
                Err(GilError::Read { .. }) if attempt < 2 => {}
                Err(e) => return Err(e),
            }
        }
        Err(GilError::Read {
            pid: self.pid(),
            addr: self.runtime,
            len: 0,
            source: std::io::Error::other("the interpreter list kept changing while being read"),
        })
    }

    /// Reads the GILs of the interpreters of the last walk in one syscall;
    /// false when the list has changed since.
    fn read_known(&mut self, snap: &mut GilSnapshot) -> Result<bool, GilError> {
        snap.interpreters.clear();
        self.holder_ptrs.clear();
        let Some(list) = &self.list else {
            return Ok(false);
        };
        let o = &self.offsets;
        let block = self.gil_block_len();
        self.ranges.clear();
        self.ranges.push(Range::new(self.runtime, 16));
        self.ranges
            .push(Range::new(self.runtime + o.interpreters_head, 8));
        // `ceval.gil` is re-read only while it is unset (an interpreter is
        // linked before its GIL exists); once set it only goes back to NULL
        // at finalisation, and the struct it pointed to stays allocated
        // until the interpreter is unlinked, which the `next` check sees.
        for n in &list.nodes {
            self.ranges.push(Range::new(n.addr + o.interp.next, 8));
            if n.gil_ptr == 0 {
                self.ranges.push(Range::new(n.addr + o.interp.ceval_gil, 8));
            } else {
                self.ranges.push(Range::new(n.gil_ptr, block));
            }
        }
        // Speculative: the thread ids of each GIL's last two holders, read
        // in the same syscall (exact when the holder is one of them, which
        // it mostly is); last, so that a freed thread state only cuts them.
        let required: usize = self.ranges.iter().map(|r| r.len).sum();
        let tid_off = o.tstate.native_thread_id;
        self.recent
            .retain(|r| list.nodes.iter().any(|n| n.gil_ptr == r.0));
        self.spec.clear();
        for n in list.nodes.iter().filter(|n| n.gil_ptr != 0) {
            if let Some(r) = self.recent.iter().find(|r| r.0 == n.gil_ptr) {
                for &p in r.1.iter().filter(|&&p| p != 0) {
                    self.ranges.push(Range::new(p + tid_off, 8));
                    self.spec.push(p);
                }
            }
        }
        let total = required + 8 * self.spec.len();
        self.buf.resize(total, 0);
        let got = self
            .mem
            .read_prefix(&self.ranges, &mut self.buf, required)
            .map_err(|e| match e {
                GilError::Read { pid, addr, .. } if addr == self.runtime => {
                    GilError::Changed { pid }
                }
                other => other,
            })?;
        if self.buf[..16] != self.header {
            return Err(GilError::Changed { pid: self.pid() });
        }
        if le_u64(&self.buf, 16) != list.head {
            return Ok(false);
        }
        let mut at = 24;
        for n in &list.nodes {
            let next = le_u64(&self.buf, at);
            at += 8;
            if next != n.next {
                return Ok(false);
            }
            if n.gil_ptr == 0 {
                if le_u64(&self.buf, at) != 0 {
                    return Ok(false); // its GIL was just created
                }
                at += 8;
            }
            let mut entry = InterpreterGil {
                id: n.id,
                gil_of: n.gil_of,
                locked: false,
                holder_tid: None,
                enabled: false,
                enabled_raw: None,
                switches: None,
                gil_addr: n.gil_ptr,
            };
            let mut miss = 0;
            if n.gil_ptr != 0 {
                let holder = decode_gil(&self.buf[at..at + block], o, &mut entry);
                at += block;
                if entry.locked && holder != 0 {
                    let hit = self
                        .spec
                        .iter()
                        .enumerate()
                        .find(|&(k, &p)| p == holder && required + 8 * (k + 1) <= got);
                    match hit {
                        Some((k, _)) => {
                            entry.holder_tid = tid(le_u64(&self.buf, required + 8 * k));
                        }
                        None => miss = holder,
                    }
                    remember(&mut self.recent, n.gil_ptr, holder);
                }
            }
            self.holder_ptrs.push(miss);
            snap.interpreters.push(entry);
        }
        Ok(true)
    }

    /// Fills in the holders' thread ids: one syscall for all, or one each
    /// if a holder's thread state was freed meanwhile (that one: unknown).
    fn read_holders(&mut self, snap: &mut GilSnapshot) {
        let tid_off = self.offsets.tstate.native_thread_id;
        self.ranges.clear();
        self.ranges.extend(
            self.holder_ptrs
                .iter()
                .filter(|&&p| p != 0)
                .map(|&p| Range::new(p + tid_off, 8)),
        );
        if self.ranges.is_empty() {
            return;
        }
        self.buf.resize(8 * self.ranges.len(), 0);
        let batch_ok = self.mem.read_ranges(&self.ranges, &mut self.buf).is_ok();
        let mut k = 0;
        for (entry, &p) in snap.interpreters.iter_mut().zip(&self.holder_ptrs) {
            if p == 0 {
                continue;
            }
            let raw = if batch_ok {
                Some(le_u64(&self.buf, 8 * k))
            } else {
                self.mem.read_u64(p + tid_off).ok()
            };
            k += 1;
            entry.holder_tid = raw.and_then(tid);
        }
    }

    /// Turns the holders' thread ids (the target's pid namespace's) into
    /// the host's; one that matches no thread becomes unknown.
    fn map_holders(&mut self, snap: &mut GilSnapshot) {
        for entry in &mut snap.interpreters {
            if let Some(ns_tid) = entry.holder_tid {
                entry.holder_tid = self.tids.to_host(ns_tid);
                if entry.holder_tid.is_none() {
                    self.unmapped += 1;
                }
            }
        }
    }

    /// Bytes of the GIL struct read: up to the last field used.
    fn gil_block_len(&self) -> usize {
        let g = self.offsets.gil;
        let end = [
            Some(g.locked + 4),
            Some(g.holder + 8),
            g.enabled.map(|e| e + 4),
            g.switch_number.map(|s| s + 8),
        ]
        .into_iter()
        .flatten()
        .max()
        .unwrap_or(0);
        usize::try_from(end).unwrap_or(0)
    }

    /// The GIL flags of the thread state at `tstate`, which must belong to
    /// OS thread `tid` (the host's id); `Ok(None)` when it no longer does
    /// (the thread exited and the memory was reused).
    pub fn read_flags(&mut self, tstate: u64, tid: u32) -> Result<Option<ThreadFlags>, GilError> {
        let Some(tid) = self.tids.to_ns(tid) else {
            return Ok(None);
        };
        let t = self.offsets.tstate;
        let (from, to) = t.flags_span();
        let len = usize::try_from(to - from).unwrap_or(0);
        let ranges = [
            Range::new(tstate + t.native_thread_id, 8),
            Range::new(tstate + from, len),
        ];
        let mut b = [0u8; 24];
        let b = b.get_mut(..8 + len).ok_or(GilError::BadLayout {
            pid: self.pid(),
            what: "thread_state flags span".into(),
        })?;
        self.mem.read_ranges(&ranges, b)?;
        if le_u64(b, 0) != u64::from(tid) {
            return Ok(None);
        }
        let int_at = |at: u64| le_i32(&b[8..], at - from);
        let holds_gil = match t.holds_gil {
            HoldsGil::Bit { at, bit } => (int_at(at) as u32 >> bit) & 1 == 1,
            HoldsGil::Int { at } => int_at(at) != 0,
        };
        Ok(Some(ThreadFlags {
            holds_gil,
            gil_requested: t.gil_requested.map(|at| int_at(at) != 0),
        }))
    }

    /// Every Python thread of every interpreter (walks the thread lists:
    /// one syscall per thread; meant for occasional use, not every tick),
    /// by host thread id; a thread state whose id matches no thread of
    /// the process (exiting) is left out.
    pub fn read_threads(&mut self) -> Result<Vec<PyThread>, GilError> {
        let mut threads = walk::threads(&mut self.mem, &self.offsets, self.runtime, &self.header)?;
        if self.tids.nested() {
            threads.retain_mut(|t| match self.tids.to_host(t.tid) {
                Some(host) => {
                    t.tid = host;
                    true
                }
                None => false,
            });
        }
        Ok(threads)
    }
}

/// A `native_thread_id` as a TID (0 = not set).
fn tid(raw: u64) -> Option<u32> {
    u32::try_from(raw).ok().filter(|&t| t != 0)
}

/// Notes `holder` as the latest holder of the GIL at `gil`.
fn remember(recent: &mut Vec<(u64, [u64; 2])>, gil: u64, holder: u64) {
    match recent.iter_mut().find(|r| r.0 == gil) {
        Some(r) if r.1[0] != holder => r.1 = [holder, r.1[0]],
        Some(_) => {}
        None => recent.push((gil, [holder, 0])),
    }
}

/// Decodes a GIL struct into `entry`; returns the `last_holder` pointer.
fn decode_gil(b: &[u8], o: &DebugOffsets, entry: &mut InterpreterGil) -> u64 {
    let g = o.gil;
    entry.locked = le_i32(b, g.locked) == 1;
    entry.switches = g.switch_number.map(|s| le_u64(b, s as usize));
    match g.enabled {
        Some(e) => {
            let raw = le_i32(b, e);
            entry.enabled_raw = Some(raw);
            entry.enabled = raw != 0;
        }
        None => entry.enabled = true,
    }
    le_u64(b, g.holder as usize)
}

/// The refusal for a runtime without the cookie, naming the version.
fn no_cookie(pid: u32, loc: &RuntimeLocation, mem: &mut RemoteMemory) -> GilError {
    let exact = loc
        .py_version_addr
        .and_then(|a| mem.read_u64(a).ok())
        .map(|v| PyVersion(v & 0xffff_ffff));
    match exact {
        Some(v) if v.major() == 3 && v.minor() >= 13 => GilError::BadLayout {
            pid,
            what: format!("CPython {v} without the xdebugpy cookie"),
        },
        Some(v) => GilError::NoDebugOffsets {
            pid,
            version: format!("CPython {v}"),
        },
        None => GilError::NoDebugOffsets {
            pid,
            version: loc
                .version_from_name
                .as_ref()
                .map_or("a CPython before 3.13".to_string(), |v| {
                    format!("CPython {v}")
                }),
        },
    }
}

fn le_i32(b: &[u8], at: u64) -> i32 {
    let at = at as usize;
    b.get(at..at + 4)
        .and_then(|s| s.try_into().ok())
        .map_or(0, i32::from_le_bytes)
}
