//! `_Py_DebugOffsets`: the table of struct offsets CPython 3.13+ keeps at
//! the start of `_PyRuntime` for out-of-process tools.
//!
//! The table itself is positional and changes between minor versions (it
//! is only stable across patch releases), so gilscope knows its layout per
//! minor version and refuses any other:
//!
//! * 3.13: checked against 3.13.0 and 3.13.5, default and free-threaded.
//! * 3.14: checked against 3.14.10 (Debian sid's default build):
//!   `interpreter_state.threads_main` was inserted after `threads_head`,
//!   `code_object_generation` and `tlbc_generation` follow
//!   `gil_runtime_state_holder`, so `thread_state` starts at byte 176.
//! * 3.15: checked against 3.15.2 (Debian sid's default build): as 3.14,
//!   and `thread_state` gains `base_frame`, `last_profiled_frame`, one more
//!   frame pointer, then `holds_gil` and `gil_requested` after `status`.
//!
//! The free-threaded 3.14t/3.15t tables could not be run here (no build
//! is available to these machines); `free_threaded` only changes the
//! *values* of the table (`gil_runtime_state_enabled` is set), not where
//! they sit, as `_Py_DebugOffsets_INIT` in each release shows.
//!
//! Which thread holds a GIL is also kept in each thread state, so a probe
//! of one thread can ask it directly ([`HoldsGil`]): 3.13 has a
//! `holds_gil:1` bit in the `_status` bit field (bit 5, after
//! `initialized`, `bound`, `unbound`, `bound_gilstate`, `active`); 3.14
//! made it an `int` right after `_status`; 3.15 publishes its offset in
//! the table, with `gil_requested` (set while the thread is inside
//! `take_gil`), which answers "waiting for the GIL" exactly.
//!
//! Two facts come from `struct _gil_runtime_state` (unchanged since 3.9),
//! not from the table: `switch_number` (hand-offs counter) directly follows
//! `locked`, and the GIL's condition variables and mutexes follow that, so
//! a thread blocked in a futex inside `[gil, gil + wait_span)` is waiting
//! for that GIL. They are used only when `last_holder` sits right before
//! `locked`, as in that struct.

use super::remote::le_u64;

/// The cookie that starts `_PyRuntime` in 3.13+.
pub const COOKIE: &[u8; 8] = b"xdebugpy";
/// Bytes of the table gilscope reads (covers what it uses, in every layout).
pub const TABLE_BYTES: usize = 320;

/// A `PY_VERSION_HEX` value.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct PyVersion(pub u64);

impl PyVersion {
    pub fn major(self) -> u64 {
        (self.0 >> 24) & 0xff
    }
    pub fn minor(self) -> u64 {
        (self.0 >> 16) & 0xff
    }
    pub fn micro(self) -> u64 {
        (self.0 >> 8) & 0xff
    }
    /// 0xA alpha, 0xB beta, 0xC candidate, 0xF final.
    pub fn level(self) -> u64 {
        (self.0 >> 4) & 0xf
    }
}

impl std::fmt::Display for PyVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.major(), self.minor(), self.micro())?;
        match self.level() {
            0xa => write!(f, "a{}", self.0 & 0xf),
            0xb => write!(f, "b{}", self.0 & 0xf),
            0xc => write!(f, "rc{}", self.0 & 0xf),
            _ => Ok(()),
        }
    }
}

/// Offsets inside `PyInterpreterState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InterpOffsets {
    pub size: u64,
    pub id: u64,
    pub next: u64,
    pub threads_head: u64,
    /// `ceval.gil`: pointer to the GIL this interpreter uses (its own
    /// `_gil`, or the main interpreter's for a legacy shared-GIL one).
    pub ceval_gil: u64,
    /// `_gil`: this interpreter's own GIL struct.
    pub gil: u64,
}

/// Offsets inside `struct _gil_runtime_state` (relative to its start).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GilOffsets {
    /// `enabled` (free-threaded builds only).
    pub enabled: Option<u64>,
    pub locked: u64,
    /// `last_holder`, a `PyThreadState*`.
    pub holder: u64,
    /// `switch_number` (see the module docs).
    pub switch_number: Option<u64>,
    /// Futex waits inside `[gil, gil + wait_span)` are waits for this GIL.
    pub wait_span: Option<u64>,
}

/// Where a thread state says whether its thread holds the GIL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HoldsGil {
    /// Bit `bit` of the `u32` at this offset (3.13's `_status.holds_gil`).
    Bit { at: u64, bit: u32 },
    /// An `int` at this offset (3.14+).
    Int { at: u64 },
}

/// Offsets inside `PyThreadState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TstateOffsets {
    pub size: u64,
    pub next: u64,
    pub native_thread_id: u64,
    /// The `_status` bit field.
    pub status: u64,
    pub holds_gil: HoldsGil,
    /// `gil_requested` (3.15+): an `int`, set while inside `take_gil`.
    pub gil_requested: Option<u64>,
}

impl TstateOffsets {
    /// The first and one-past-last byte of the flags a probe reads
    /// (`_status` through `holds_gil` / `gil_requested`).
    pub fn flags_span(&self) -> (u64, u64) {
        let holds = match self.holds_gil {
            HoldsGil::Bit { at, .. } | HoldsGil::Int { at } => at,
        };
        let end = self.gil_requested.unwrap_or(holds).max(holds) + 4;
        (holds.min(self.status), end)
    }
}

/// The parts of `_Py_DebugOffsets` the GIL reader uses, checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DebugOffsets {
    pub version: PyVersion,
    pub free_threaded: bool,
    /// Offset of `interpreters.head` in `_PyRuntimeState`.
    pub interpreters_head: u64,
    pub interp: InterpOffsets,
    pub gil: GilOffsets,
    pub tstate: TstateOffsets,
}

/// Why a table was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LayoutError {
    /// No `xdebugpy` cookie: CPython ≤ 3.12, or not a runtime at all.
    NoCookie,
    /// A version whose table layout is not known.
    Unsupported(PyVersion),
    /// The values failed a sanity check.
    Implausible(String),
}

/// Where the fields gilscope uses sit in the table (byte positions).
struct TableLayout {
    interp_fields: [usize; 9],
    /// Start of the `thread_state` block.
    tstate_at: usize,
    /// Positions inside the `thread_state` block (relative to its start).
    tstate_native_thread_id: usize,
    tstate_status: usize,
    /// 3.15+: positions of `holds_gil` and `gil_requested`.
    tstate_flags: Option<(usize, usize)>,
}

// interp_fields: size, id, next, threads_head, ceval_gil, gil_runtime_state,
// gil_runtime_state_enabled, gil_runtime_state_locked, gil_runtime_state_holder
const LAYOUT_313: TableLayout = TableLayout {
    interp_fields: [48, 56, 64, 72, 112, 120, 128, 136, 144],
    tstate_at: 152,
    tstate_native_thread_id: 48,
    tstate_status: 64,
    tstate_flags: None,
};
const LAYOUT_314: TableLayout = TableLayout {
    interp_fields: [48, 56, 64, 72, 120, 128, 136, 144, 152],
    tstate_at: 176,
    tstate_native_thread_id: 48,
    tstate_status: 64,
    tstate_flags: None,
};
const LAYOUT_315: TableLayout = TableLayout {
    interp_fields: [48, 56, 64, 72, 120, 128, 136, 144, 152],
    tstate_at: 176,
    tstate_native_thread_id: 72,
    tstate_status: 88,
    tstate_flags: Some((96, 104)),
};

/// The first version of each minor whose table has the known layout
/// (3.13's gained fields until its beta 4; 3.14's and 3.15's tables are
/// taken from their final releases, so their pre-releases are refused).
fn layout_for(v: PyVersion) -> Option<&'static TableLayout> {
    match (v.major(), v.minor()) {
        (3, 13) if v.0 >= 0x030D_00C1 => Some(&LAYOUT_313),
        (3, 14) if v.0 >= 0x030E_00F0 => Some(&LAYOUT_314),
        (3, 15) if v.0 >= 0x030F_00F0 => Some(&LAYOUT_315),
        _ => None,
    }
}

/// Parses and checks the first [`TABLE_BYTES`] of `_PyRuntime`.
pub fn parse(table: &[u8]) -> Result<DebugOffsets, LayoutError> {
    if table.len() < TABLE_BYTES {
        return Err(LayoutError::Implausible("table too short".into()));
    }
    if &table[..8] != COOKIE {
        return Err(LayoutError::NoCookie);
    }
    let version = PyVersion(le_u64(table, 8));
    let layout = layout_for(version).ok_or(LayoutError::Unsupported(version))?;
    let free_threaded = match le_u64(table, 16) {
        0 => false,
        1 => true,
        other => return Err(bad(format!("free_threaded = {other}"))),
    };
    let runtime_size = le_u64(table, 24);
    let interpreters_head = le_u64(table, 40);
    let f = layout.interp_fields.map(|at| le_u64(table, at));
    let interp = InterpOffsets {
        size: f[0],
        id: f[1],
        next: f[2],
        threads_head: f[3],
        ceval_gil: f[4],
        gil: f[5],
    };
    let (enabled, locked_abs, holder_abs) = (f[6], f[7], f[8]);
    let at = layout.tstate_at;
    // The block starts unmistakably: size, then prev, next, interp = 0, 8, 16.
    check(
        le_u64(table, at + 8) == 0 && le_u64(table, at + 16) == 8 && le_u64(table, at + 24) == 16,
        "thread_state block",
    )?;
    let status = le_u64(table, at + layout.tstate_status);
    let (holds_gil, gil_requested) = match layout.tstate_flags {
        Some((holds, requested)) => (
            HoldsGil::Int {
                at: le_u64(table, at + holds),
            },
            Some(le_u64(table, at + requested)),
        ),
        // 3.13: `_status.holds_gil`, bit 5; 3.14: `int holds_gil` follows
        // the 4-byte `_status`.
        None if version.minor() == 13 => (HoldsGil::Bit { at: status, bit: 5 }, None),
        None => (HoldsGil::Int { at: status + 4 }, None),
    };
    let tstate = TstateOffsets {
        size: le_u64(table, at),
        next: le_u64(table, at + 16),
        native_thread_id: le_u64(table, at + layout.tstate_native_thread_id),
        status,
        holds_gil,
        gil_requested,
    };
    check(runtime_size > 0 && runtime_size < 16 << 20, "runtime size")?;
    check(interpreters_head + 8 <= runtime_size, "interpreters_head")?;
    check(
        interp.size > 0 && interp.size < 64 << 20,
        "interpreter size",
    )?;
    for (name, v) in [
        ("id", interp.id),
        ("next", interp.next),
        ("threads_head", interp.threads_head),
        ("ceval_gil", interp.ceval_gil),
        ("gil_runtime_state", interp.gil),
    ] {
        check(v + 8 <= interp.size, name)?;
    }
    check(
        locked_abs >= interp.gil && locked_abs < interp.gil + 64,
        "gil_runtime_state_locked",
    )?;
    check(
        holder_abs >= interp.gil && holder_abs < interp.gil + 64,
        "gil_runtime_state_holder",
    )?;
    check(
        tstate.size > 0 && tstate.size < 1 << 20,
        "thread_state size",
    )?;
    check(
        tstate.native_thread_id + 8 <= tstate.size,
        "native_thread_id",
    )?;
    let (flags_from, flags_to) = tstate.flags_span();
    check(
        flags_from >= 24 && flags_to <= tstate.size && flags_to - flags_from <= 16,
        "thread_state status/holds_gil/gil_requested",
    )?;
    check(!free_threaded || enabled < 64, "gil_runtime_state_enabled")?;
    let locked = locked_abs - interp.gil;
    let holder = holder_abs - interp.gil;
    // struct _gil_runtime_state: ..., last_holder, locked, switch_number,
    // cond, mutex, switch_cond, switch_mutex.
    let known_struct = holder + 8 == locked;
    let gil = GilOffsets {
        enabled: free_threaded.then_some(enabled),
        locked,
        holder,
        switch_number: known_struct.then_some(locked + 8),
        wait_span: known_struct.then_some(locked + 16 + 2 * (48 + 48)),
    };
    Ok(DebugOffsets {
        version,
        free_threaded,
        interpreters_head,
        interp,
        gil,
        tstate,
    })
}

fn bad(what: String) -> LayoutError {
    LayoutError::Implausible(what)
}

fn check(ok: bool, what: &str) -> Result<(), LayoutError> {
    if ok {
        Ok(())
    } else {
        Err(bad(format!("{what} out of range")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The table of CPython 3.13.5 (default build), as read from a process.
    fn table_3135(ft: bool) -> Vec<u8> {
        let vals: [u64; 26] = if ft {
            [
                1, 328320, 608, 632, 215616, 7272, 7264, 7344, 7400, 7664, 7648, 7656, 16, 7760, 0,
                7784, 7776, 304, 0, 8, 16, 72, 152, 160, 232, 32,
            ]
        } else {
            [
                0, 283376, 608, 632, 194976, 7272, 7264, 7344, 7400, 7656, 7640, 7648, 16, 7752, 0,
                7768, 7760, 304, 0, 8, 16, 72, 152, 160, 232, 32,
            ]
        };
        let mut t = vec![0u8; TABLE_BYTES];
        t[..8].copy_from_slice(COOKIE);
        t[8..16].copy_from_slice(&0x030D_05F0u64.to_le_bytes());
        for (i, v) in vals.iter().enumerate() {
            t[16 + 8 * i..24 + 8 * i].copy_from_slice(&v.to_le_bytes());
        }
        t
    }

    #[test]
    fn parses_3135_default_and_free_threaded() {
        let d = parse(&table_3135(false)).unwrap();
        assert_eq!(d.version.to_string(), "3.13.5");
        assert!(!d.free_threaded);
        assert_eq!(d.interpreters_head, 632);
        assert_eq!(d.interp.gil, 7752);
        assert_eq!(d.interp.ceval_gil, 16);
        assert_eq!((d.gil.holder, d.gil.locked), (8, 16));
        assert_eq!(d.gil.switch_number, Some(24));
        assert_eq!(d.gil.enabled, None);
        assert_eq!(d.tstate.native_thread_id, 160);
        let ft = parse(&table_3135(true)).unwrap();
        assert!(ft.free_threaded);
        assert_eq!(ft.gil.enabled, Some(0));
        assert_eq!((ft.gil.holder, ft.gil.locked), (16, 24));
    }

    #[test]
    fn refuses_no_cookie_unknown_versions_and_nonsense() {
        let mut t = table_3135(false);
        t[0] = b'y';
        assert_eq!(parse(&t), Err(LayoutError::NoCookie));
        let mut t = table_3135(false);
        t[8..16].copy_from_slice(&0x0310_00F0u64.to_le_bytes());
        assert!(matches!(parse(&t), Err(LayoutError::Unsupported(v)) if v.to_string() == "3.16.0"));
        let mut t = table_3135(false);
        t[8..16].copy_from_slice(&0x030D_00B2u64.to_le_bytes());
        assert!(
            matches!(parse(&t), Err(LayoutError::Unsupported(v)) if v.to_string() == "3.13.0b2")
        );
        let mut t = table_3135(false);
        t[136..144].copy_from_slice(&999_999u64.to_le_bytes()); // locked
        assert!(matches!(parse(&t), Err(LayoutError::Implausible(_))));
    }

    /// A table from its 64-bit words starting at byte 16, as dumped from
    /// a real process (`ctypes` on `_PyRuntime`).
    fn table(version: u64, words: &[u64]) -> Vec<u8> {
        let mut t = vec![0u8; TABLE_BYTES];
        t[..8].copy_from_slice(COOKIE);
        t[8..16].copy_from_slice(&version.to_le_bytes());
        for (i, v) in words.iter().enumerate() {
            t[16 + 8 * i..24 + 8 * i].copy_from_slice(&v.to_le_bytes());
        }
        t
    }

    /// CPython 3.14.10, Debian sid's default build, bytes 16..256.
    const WORDS_31410: [u64; 30] = [
        0, 316616, 784, 808, 225864, 7280, 7272, 7344, 7360, 7408, 7688, 7672, 7680, 16, 7784, 0,
        7800, 7792, 7992, 0, 832, 0, 8, 16, 72, 152, 160, 232, 32, 88,
    ];
    /// CPython 3.15.2, Debian sid's default build, bytes 16..304.
    const WORDS_3152: [u64; 36] = [
        0, 346568, 912, 936, 226240, 7272, 7264, 7336, 7352, 7400, 7592, 7576, 7584, 16, 7736, 0,
        7752, 7744, 7944, 0, 888, 0, 8, 16, 72, 80, 88, 96, 176, 184, 256, 32, 36, 40, 136, 288,
    ];

    #[test]
    fn parses_the_real_314_and_315_tables() {
        let d = parse(&table(0x030E_0AF0, &WORDS_31410)).unwrap();
        assert_eq!(d.version.to_string(), "3.14.10");
        assert_eq!(d.interpreters_head, 808);
        assert_eq!(d.interp.threads_head, 7344);
        assert_eq!((d.interp.ceval_gil, d.interp.gil), (16, 7784));
        assert_eq!((d.gil.holder, d.gil.locked), (8, 16));
        assert_eq!(d.tstate.native_thread_id, 160);
        assert_eq!(d.tstate.status, 32);
        assert_eq!(d.tstate.holds_gil, HoldsGil::Int { at: 36 });
        assert_eq!(d.tstate.gil_requested, None);

        let d = parse(&table(0x030F_02F0, &WORDS_3152)).unwrap();
        assert_eq!(d.version.to_string(), "3.15.2");
        assert_eq!(d.interpreters_head, 936);
        assert_eq!(d.interp.threads_head, 7336);
        assert_eq!((d.interp.ceval_gil, d.interp.gil), (16, 7736));
        assert_eq!((d.gil.holder, d.gil.locked), (8, 16));
        assert_eq!(d.tstate.size, 888);
        assert_eq!(d.tstate.native_thread_id, 184);
        assert_eq!(d.tstate.status, 32);
        assert_eq!(d.tstate.holds_gil, HoldsGil::Int { at: 36 });
        assert_eq!(d.tstate.gil_requested, Some(40));
        assert_eq!(d.tstate.flags_span(), (32, 44));

        let d = parse(&table_3135(false)).unwrap();
        assert_eq!(d.tstate.holds_gil, HoldsGil::Bit { at: 32, bit: 5 });
        assert_eq!(d.tstate.flags_span(), (32, 36));
    }

    #[test]
    fn free_threaded_tables_only_change_values() {
        // A 3.15t table: the same positions, `free_threaded` = 1 and the
        // GIL's `enabled` offset set (values as `_Py_DebugOffsets_INIT`
        // computes them; no 3.15t build could be run here).
        // As in 3.13t, the free-threaded `struct _gil_runtime_state` starts
        // with `enabled`, and `last_holder`, `locked` move 8 bytes down.
        let mut w = WORDS_3152;
        w[0] = 1;
        w[15] = 0;
        w[16] = 7736 + 24;
        w[17] = 7736 + 16;
        let d = parse(&table(0x030F_02F0, &w)).unwrap();
        assert!(d.free_threaded);
        assert_eq!(d.gil.enabled, Some(0));
        assert_eq!((d.gil.holder, d.gil.locked), (16, 24));
        assert_eq!(d.gil.switch_number, Some(32));
        assert_eq!(d.tstate.gil_requested, Some(40));
    }

    #[test]
    fn unknown_minor_versions_and_prereleases_are_refused_by_name() {
        for (hex, name) in [
            (0x0310_00F0u64, "3.16.0"),
            (0x030F_00A3, "3.15.0a3"),
            (0x030E_00C2, "3.14.0rc2"),
            (0x0400_00F0, "4.0.0"),
        ] {
            let t = table(hex, &WORDS_3152);
            assert!(
                matches!(parse(&t), Err(LayoutError::Unsupported(v)) if v.to_string() == name),
                "{name}"
            );
        }
        // A table whose thread_state block is not where 3.15 keeps it.
        let mut w = WORDS_3152;
        w[22] = 99;
        assert!(matches!(
            parse(&table(0x030F_02F0, &w)),
            Err(LayoutError::Implausible(_))
        ));
    }
}
