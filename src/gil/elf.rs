//! Finding CPython's runtime in an ELF file, with the `object` crate: the
//! `_PyRuntime` and `Py_Version` symbols (dynamic symbols first, then the
//! full symbol table), the `.PyRuntime` section CPython 3.13.4+/3.14 put it
//! in, and the `PT_LOAD` segments needed to turn a link-time address into a
//! run-time one.
//!
//! 64-bit little-endian files only (x86-64, aarch64). The file is read
//! through a [`ReadCache`]: only the ranges asked for (the headers, one
//! symbol table and its strings at a time, the section names only when the
//! symbol is missing) are read, never the whole file — a libpython is
//! 30+ MB and is read through `/proc/PID/root`. String tables are read
//! whole, once, and looked up in memory (the cache would read each name
//! with its own syscalls). Each range is one `pread` ([`Pread`]): finding
//! `_PyRuntime` in a libpython costs an open, five reads (~90 KB) and a
//! close.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;

use object::LittleEndian as LE;
use object::elf::{FileHeader64, PT_LOAD, SHN_UNDEF, SHT_DYNSYM, SHT_SYMTAB};
use object::read::elf::{FileHeader, ProgramHeader, SectionHeader, SectionTable, Sym};
use object::read::{ReadCache, ReadCacheOps, ReadRef, SectionIndex, StringTable};

use super::error::GilError;

/// Refuse symbol and string tables larger than this (a corrupt header, not
/// libpython).
const MAX_TABLE_BYTES: u64 = 256 << 20;

/// A loadable segment: file bytes `[offset, offset + filesz)` are mapped at
/// link-time address `vaddr`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadSegment {
    pub offset: u64,
    pub vaddr: u64,
    pub filesz: u64,
}

/// What gilscope needs from a python executable or libpython.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuntimeSymbols {
    /// Link-time address of `_PyRuntime` (symbol, else `.PyRuntime` section).
    pub runtime: Option<u64>,
    /// Link-time address of `Py_Version` (3.11+), the exact version.
    pub py_version: Option<u64>,
    pub loads: Vec<LoadSegment>,
}

type Header = FileHeader64<LE>;
type Data<'a> = &'a ReadCache<Pread>;

/// A file read with `pread` at a position kept here: a seek costs no
/// syscall (`ReadCache` seeks before every read).
struct Pread {
    file: File,
    pos: u64,
}

impl ReadCacheOps for Pread {
    fn len(&mut self) -> Result<u64, ()> {
        self.file.metadata().map(|m| m.len()).map_err(|_| ())
    }

    fn seek(&mut self, pos: u64) -> Result<u64, ()> {
        self.pos = pos;
        Ok(pos)
    }

    fn read(&mut self, buf: &mut [u8]) -> Result<usize, ()> {
        let n = self.file.read_at(buf, self.pos).map_err(|_| ())?;
        self.pos += n as u64;
        Ok(n)
    }

    fn read_exact(&mut self, buf: &mut [u8]) -> Result<(), ()> {
        self.file.read_exact_at(buf, self.pos).map_err(|_| ())?;
        self.pos += buf.len() as u64;
        Ok(())
    }
}

impl RuntimeSymbols {
    /// Reads the symbols of the ELF file at `path` (tests; gilscope opens
    /// each mapped file as itself, [`RuntimeSymbols::read_file`]).
    #[cfg(test)]
    pub fn read(path: &Path) -> Result<Self, GilError> {
        let file = File::open(path).map_err(|e| GilError::Elf {
            path: path.to_path_buf(),
            what: e.to_string(),
        })?;
        Self::read_file(file, path)
    }

    /// Reads the symbols of an ELF file already open (`path` names it in
    /// errors): the file a mapping really is, opened and checked by
    /// [`super::locate`].
    pub fn read_file(file: File, path: &Path) -> Result<Self, GilError> {
        let bad = |what: String| GilError::Elf {
            path: path.to_path_buf(),
            what,
        };
        let cache = ReadCache::new(Pread { file, pos: 0 });
        let data: Data<'_> = &cache;
        let header = Header::parse(data).map_err(|_| bad(not_elf_reason(data)))?;
        let endian = header
            .endian()
            .map_err(|_| bad("not a 64-bit little-endian ELF file".into()))?;
        let loads = header
            .program_headers(endian, data)
            .map_err(|e| bad(e.to_string()))?
            .iter()
            .filter(|p| p.p_type(endian) == PT_LOAD)
            .map(|p| LoadSegment {
                offset: p.p_offset(endian),
                vaddr: p.p_vaddr(endian),
                filesz: p.p_filesz(endian),
            })
            .collect();
        let sections = header
            .sections(endian, data)
            .map_err(|e| bad(e.to_string()))?;
        let mut out = Self {
            loads,
            ..Self::default()
        };
        for kind in [SHT_DYNSYM, SHT_SYMTAB] {
            for s in sections.iter().filter(|s| s.sh_type(endian) == kind) {
                find_symbols(&sections, s, data, &mut out).map_err(bad)?;
            }
            if out.runtime.is_some() && out.py_version.is_some() {
                break;
            }
        }
        if out.runtime.is_none() {
            out.runtime = section_named(header, &sections, data, b".PyRuntime").map_err(bad)?;
        }
        Ok(out)
    }

    /// The load bias of the file, given one of its mappings: the mapping
    /// at `start` maps file offset `offset` (from /proc/PID/maps).
    pub fn load_bias(&self, start: u64, offset: u64) -> Option<u64> {
        self.loads
            .iter()
            .find(|l| {
                let page_start = l.offset & !0xfff;
                offset >= page_start && offset < l.offset + l.filesz.max(1)
            })
            .map(|l| start.wrapping_sub(l.vaddr.wrapping_sub(l.offset).wrapping_add(offset)))
    }
}

/// Why a file that is not a readable 64-bit ELF file was refused.
fn not_elf_reason(data: Data<'_>) -> String {
    match data.read_bytes_at(0, 6) {
        Ok(ident) if ident.starts_with(b"\x7fELF") => {
            "not a 64-bit little-endian ELF file".to_string()
        }
        Ok(_) => "not an ELF file".to_string(),
        Err(()) => "not an ELF file (too short)".to_string(),
    }
}

/// The whole of a section, refused past [`MAX_TABLE_BYTES`].
fn table<'a>(
    s: &<Header as FileHeader>::SectionHeader,
    data: Data<'a>,
) -> Result<&'a [u8], String> {
    let endian = LE;
    if s.sh_size(endian) > MAX_TABLE_BYTES {
        return Err("table too large".to_string());
    }
    s.data(endian, data).map_err(|e| e.to_string())
}

/// Looks `_PyRuntime` and `Py_Version` up in one symbol table.
fn find_symbols<'a>(
    sections: &SectionTable<'a, Header, Data<'a>>,
    symtab: &<Header as FileHeader>::SectionHeader,
    data: Data<'a>,
    out: &mut RuntimeSymbols,
) -> Result<(), String> {
    let endian = LE;
    let Ok(strtab) = sections.section(SectionIndex(symtab.sh_link(endian) as usize)) else {
        return Ok(());
    };
    let syms: &[<Header as FileHeader>::Sym] =
        object::pod::slice_from_all_bytes(table(symtab, data)?)
            .map_err(|()| "bad symbol table size".to_string())?;
    let strs = table(strtab, data)?;
    let strs = StringTable::new(strs, 0, strs.len() as u64);
    for sym in syms {
        if sym.st_shndx(endian) == SHN_UNDEF {
            continue;
        }
        let slot = match sym.name(endian, strs) {
            Ok(b"_PyRuntime") => &mut out.runtime,
            Ok(b"Py_Version") => &mut out.py_version,
            _ => continue,
        };
        slot.get_or_insert(sym.st_value(endian));
    }
    Ok(())
}

/// The link-time address of the section called `name`.
fn section_named<'a>(
    header: &Header,
    sections: &SectionTable<'a, Header, Data<'a>>,
    data: Data<'a>,
    name: &[u8],
) -> Result<Option<u64>, String> {
    let endian = LE;
    let Ok(index) = header.shstrndx(endian, data) else {
        return Ok(None);
    };
    let Ok(names) = sections.section(SectionIndex(index as usize)) else {
        return Ok(None);
    };
    let names = table(names, data)?;
    let names = StringTable::new(names, 0, names.len() as u64);
    Ok(sections
        .iter()
        .find(|s| s.name(endian, names) == Ok(name))
        .map(|s| s.sh_addr(endian)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_executable_has_loads_and_no_runtime() {
        let exe = std::env::current_exe().unwrap();
        let syms = RuntimeSymbols::read(&exe).unwrap();
        assert!(!syms.loads.is_empty());
        assert_eq!(syms.runtime, None);
    }

    #[test]
    fn not_elf_is_an_error() {
        let e = RuntimeSymbols::read(Path::new("/proc/self/status")).unwrap_err();
        assert!(matches!(e, GilError::Elf { .. }), "{e:?}");
        assert!(e.to_string().contains("not an ELF file"), "{e}");
        let dir = tempfile::tempdir().unwrap();
        let elf32 = dir.path().join("elf32");
        let mut header = vec![0u8; 64];
        header[..6].copy_from_slice(b"\x7fELF\x01\x01");
        std::fs::write(&elf32, &header).unwrap();
        let e = RuntimeSymbols::read(&elf32).unwrap_err();
        assert!(e.to_string().contains("not a 64-bit little-endian"), "{e}");
        let short = dir.path().join("short");
        std::fs::write(&short, b"\x7fE").unwrap();
        let e = RuntimeSymbols::read(&short).unwrap_err();
        assert!(e.to_string().contains("too short"), "{e}");
    }

    /// A 30+ MB libpython: the symbols are found reading a few hundred KB.
    #[test]
    fn a_libpython_is_read_lazily() {
        let home = std::env::var("HOME").unwrap_or_default();
        let lib = Path::new(&home)
            .join(".local/share/gilscope/pythons/cpython-3.13.5/lib/libpython3.13.so.1.0");
        let Ok(meta) = std::fs::metadata(&lib) else {
            eprintln!("skipped: no managed CPython 3.13.5 ({})", lib.display());
            return;
        };
        let (bytes0, _) = io_counters();
        let syms = RuntimeSymbols::read(&lib).unwrap();
        let (bytes1, _) = io_counters();
        assert!(
            syms.runtime.is_some() && syms.py_version.is_some(),
            "{syms:?}"
        );
        assert!(!syms.loads.is_empty());
        let read = bytes1 - bytes0;
        assert!(
            read > 0 && read < meta.len() / 50,
            "read {read} bytes of a {} byte file",
            meta.len()
        );
    }

    #[test]
    fn load_bias_of_a_pie_and_a_fixed_executable() {
        let s = RuntimeSymbols {
            loads: vec![
                LoadSegment {
                    offset: 0,
                    vaddr: 0,
                    filesz: 0x1000,
                },
                LoadSegment {
                    offset: 0x1234,
                    vaddr: 0x2234,
                    filesz: 0x5000,
                },
            ],
            ..Default::default()
        };
        assert_eq!(s.load_bias(0x7f00_0000_0000, 0), Some(0x7f00_0000_0000));
        // Second segment, mapped from its page-aligned offset 0x1000.
        assert_eq!(
            s.load_bias(0x7f00_0000_2000, 0x1000),
            Some(0x7f00_0000_0000)
        );
        let fixed = RuntimeSymbols {
            loads: vec![LoadSegment {
                offset: 0,
                vaddr: 0x40_0000,
                filesz: 0x1000,
            }],
            ..Default::default()
        };
        assert_eq!(fixed.load_bias(0x40_0000, 0), Some(0));
    }

    /// (bytes read, read syscalls) by this thread so far.
    fn io_counters() -> (u64, u64) {
        let io = std::fs::read_to_string("/proc/thread-self/io").unwrap_or_default();
        let field = |name: &str| {
            io.lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0)
        };
        (field("rchar:"), field("syscr:"))
    }

    /// The read cost of finding `_PyRuntime`: `cargo test --lib
    /// elf_read_cost -- --ignored --nocapture --test-threads=1`.
    #[test]
    #[ignore = "a measurement; prints the cost per file"]
    fn elf_read_cost() {
        let home = std::env::var("HOME").unwrap_or_default();
        let files = [
            format!("{home}/.local/share/gilscope/pythons/cpython-3.13.5/lib/libpython3.13.so.1.0"),
            format!(
                "{home}/.local/share/gilscope/pythons/cpython-3.13.5t/lib/libpython3.13t.so.1.0"
            ),
            format!("{home}/.cache/gilscope/sid-root/usr/bin/python3.15"),
            "/usr/bin/python3.11".to_string(),
        ];
        for f in files {
            let path = Path::new(&f);
            let Ok(meta) = std::fs::metadata(path) else {
                eprintln!("{f}: missing, skipped");
                continue;
            };
            let first = RuntimeSymbols::read(path).unwrap();
            let rounds = 20;
            let (bytes0, calls0) = io_counters();
            let t = std::time::Instant::now();
            for _ in 0..rounds {
                assert_eq!(RuntimeSymbols::read(path).unwrap(), first);
            }
            let per = t.elapsed() / rounds;
            let (bytes1, calls1) = io_counters();
            eprintln!(
                "{f}: {:.1} MB file, runtime {:?}, {per:?} per read, {} KB in {} read calls per read",
                meta.len() as f64 / 1e6,
                first.runtime.map(|a| format!("{a:#x}")),
                (bytes1 - bytes0) / u64::from(rounds) / 1024,
                (calls1 - calls0) / u64::from(rounds),
            );
        }
    }
}
