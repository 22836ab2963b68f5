//! Just enough ELF to find CPython's runtime: the `_PyRuntime` and
//! `Py_Version` symbols (dynamic symbols first, then the full symbol table),
//! the `.PyRuntime` section CPython 3.13.4+/3.14 put it in, and the
//! `PT_LOAD` segments needed to turn a link-time address into a run-time one.
//!
//! 64-bit little-endian files only (x86-64, aarch64). Only the headers and
//! the symbol/string tables are read (with `pread`), never the whole file.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use super::error::GilError;

const PT_LOAD: u32 = 1;
const SHT_SYMTAB: u32 = 2;
const SHT_DYNSYM: u32 = 11;
const SHN_UNDEF: u16 = 0;
/// Refuse symbol tables larger than this (a corrupt header, not libpython).
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

impl RuntimeSymbols {
    /// Reads the symbols of the ELF file at `path`.
    pub fn read(path: &Path) -> Result<Self, GilError> {
        let elf = Elf::open(path)?;
        let loads = elf.loads()?;
        let sections = elf.sections()?;
        let mut out = Self {
            loads,
            ..Self::default()
        };
        for kind in [SHT_DYNSYM, SHT_SYMTAB] {
            for s in sections.iter().filter(|s| s.kind == kind) {
                let Some(strtab) = sections.get(s.link as usize) else {
                    continue;
                };
                elf.find_symbols(s, strtab, &mut out)?;
            }
            if out.runtime.is_some() && out.py_version.is_some() {
                break;
            }
        }
        if out.runtime.is_none() {
            out.runtime = elf.section_named(&sections, b".PyRuntime")?;
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

#[derive(Debug, Clone, Copy)]
struct Section {
    name: u32,
    kind: u32,
    addr: u64,
    offset: u64,
    size: u64,
    link: u32,
    entsize: u64,
}

struct Elf {
    file: File,
    path: PathBuf,
    header: [u8; 64],
}

impl Elf {
    fn open(path: &Path) -> Result<Self, GilError> {
        let file = File::open(path).map_err(|e| GilError::Elf {
            path: path.to_path_buf(),
            what: e.to_string(),
        })?;
        let mut header = [0u8; 64];
        let mut elf = Self {
            file,
            path: path.to_path_buf(),
            header,
        };
        elf.read_at(0, &mut header)?;
        elf.header = header;
        if &header[..4] != b"\x7fELF" {
            return Err(elf.bad("not an ELF file"));
        }
        if header[4] != 2 || header[5] != 1 {
            return Err(elf.bad("not a 64-bit little-endian ELF file"));
        }
        Ok(elf)
    }

    fn bad(&self, what: &str) -> GilError {
        GilError::Elf {
            path: self.path.clone(),
            what: what.to_string(),
        }
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), GilError> {
        self.file
            .read_exact_at(buf, offset)
            .map_err(|e| self.bad(&format!("read at {offset:#x}: {e}")))
    }

    fn read_vec(&self, offset: u64, len: u64) -> Result<Vec<u8>, GilError> {
        if len > MAX_TABLE_BYTES {
            return Err(self.bad("table too large"));
        }
        let mut v = vec![0u8; usize::try_from(len).map_err(|_| self.bad("table too large"))?];
        self.read_at(offset, &mut v)?;
        Ok(v)
    }

    fn loads(&self) -> Result<Vec<LoadSegment>, GilError> {
        let h = &self.header;
        let phoff = le64(h, 32);
        let phentsize = u64::from(le16(h, 54));
        let phnum = u64::from(le16(h, 56));
        if phentsize < 56 {
            return Err(self.bad("bad program header size"));
        }
        let table = self.read_vec(phoff, phentsize * phnum)?;
        Ok(table
            .chunks_exact(phentsize as usize)
            .filter(|p| le32(p, 0) == PT_LOAD)
            .map(|p| LoadSegment {
                offset: le64(p, 8),
                vaddr: le64(p, 16),
                filesz: le64(p, 32),
            })
            .collect())
    }

    fn sections(&self) -> Result<Vec<Section>, GilError> {
        let h = &self.header;
        let shoff = le64(h, 40);
        let shentsize = u64::from(le16(h, 58));
        let shnum = u64::from(le16(h, 60));
        if shoff == 0 || shnum == 0 {
            return Ok(Vec::new());
        }
        if shentsize < 64 {
            return Err(self.bad("bad section header size"));
        }
        let table = self.read_vec(shoff, shentsize * shnum)?;
        Ok(table
            .chunks_exact(shentsize as usize)
            .map(|s| Section {
                name: le32(s, 0),
                kind: le32(s, 4),
                addr: le64(s, 16),
                offset: le64(s, 24),
                size: le64(s, 32),
                link: le32(s, 40),
                entsize: le64(s, 56),
            })
            .collect())
    }

    /// Looks `_PyRuntime` and `Py_Version` up in one symbol table.
    fn find_symbols(
        &self,
        symtab: &Section,
        strtab: &Section,
        out: &mut RuntimeSymbols,
    ) -> Result<(), GilError> {
        if symtab.entsize < 24 {
            return Ok(());
        }
        let syms = self.read_vec(symtab.offset, symtab.size)?;
        let strs = self.read_vec(strtab.offset, strtab.size)?;
        for sym in syms.chunks_exact(symtab.entsize as usize) {
            if le16(sym, 6) == SHN_UNDEF {
                continue;
            }
            let name = cstr_at(&strs, le32(sym, 0) as usize);
            let slot = match name {
                b"_PyRuntime" => &mut out.runtime,
                b"Py_Version" => &mut out.py_version,
                _ => continue,
            };
            slot.get_or_insert(le64(sym, 8));
        }
        Ok(())
    }

    fn section_named(&self, sections: &[Section], name: &[u8]) -> Result<Option<u64>, GilError> {
        let shstrndx = usize::from(le16(&self.header, 62));
        let Some(names) = sections.get(shstrndx) else {
            return Ok(None);
        };
        let strs = self.read_vec(names.offset, names.size)?;
        Ok(sections
            .iter()
            .find(|s| cstr_at(&strs, s.name as usize) == name)
            .map(|s| s.addr))
    }
}

fn cstr_at(strs: &[u8], at: usize) -> &[u8] {
    let tail = strs.get(at..).unwrap_or(&[]);
    let end = tail.iter().position(|&b| b == 0).unwrap_or(tail.len());
    &tail[..end]
}

fn le16(b: &[u8], at: usize) -> u16 {
    b.get(at..at + 2)
        .and_then(|s| s.try_into().ok())
        .map_or(0, u16::from_le_bytes)
}

fn le32(b: &[u8], at: usize) -> u32 {
    b.get(at..at + 4)
        .and_then(|s| s.try_into().ok())
        .map_or(0, u32::from_le_bytes)
}

pub(super) fn le64(b: &[u8], at: usize) -> u64 {
    b.get(at..at + 8)
        .and_then(|s| s.try_into().ok())
        .map_or(0, u64::from_le_bytes)
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

    #[test]
    fn cstr_and_le_helpers_are_bounded() {
        assert_eq!(cstr_at(b"ab\0cd", 3), b"cd");
        assert_eq!(cstr_at(b"ab", 9), b"");
        assert_eq!(le64(&[1, 0], 0), 0);
    }
}
