//! What a run needs from the native kernels, decided from its mode,
//! workload and parameters before anything starts.
//!
//! * `blur` with `kernel=native` → `gilscope_native` (any mode but
//!   `subinterp`, which is refused: pyo3 modules do not load in own-GIL
//!   subinterpreters).
//! * `import_gil_module` (a harness parameter, any workload, modes `gil`,
//!   `ft`, `ft-gil`) → `gilscope_native_gil`; in mode `ft` the run leaves
//!   `PYTHON_GIL` unset instead of `0`, because with `PYTHON_GIL=0` CPython
//!   keeps the GIL off on such an import and there is nothing to see.
//!
//! * `native_fault` (a harness parameter, any workload and mode) →
//!   `gilscope_native`, whose `forget_the_gil` the harness calls half-way.
//!
//! Bad values are not judged here: the harness reports them as usage errors.

use super::{NativeCache, NativeError, Progress, Variant};
use crate::interp::Mode;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The `blur` parameter that picks the kernel (`python` or `native`).
pub const KERNEL_PARAM: &str = "kernel";
/// The harness parameter that imports `gilscope_native_gil` mid-run.
pub const IMPORT_PARAM: &str = "import_gil_module";
/// The harness parameter that runs a deliberately wrong native kernel
/// half-way (`clone_without_gil`: a Rust thread copies a Python object
/// handle without the GIL, as in Perspective 3.4.0's crash).
pub const FAULT_PARAM: &str = "native_fault";

/// Modes in which the harness honours `import_gil_module` (its own threads).
const IMPORT_MODES: [Mode; 3] = [Mode::Gil, Mode::Ft, Mode::FtGil];

/// What a run needs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunNeeds {
    /// Modules to build or find, in order.
    pub variants: Vec<Variant>,
    /// Run mode `ft` with `PYTHON_GIL` unset rather than `0`.
    pub leave_python_gil_unset: bool,
}

/// The last value given for `key` (the harness takes the last one too).
fn param<'a>(params: &'a [(String, String)], key: &str) -> Option<&'a str> {
    params
        .iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.trim())
}

/// Whether an `import_gil_module` value asks for the import (mirrors the
/// harness: `1/true/yes/on` or a fraction strictly between 0 and 1).
fn import_requested(value: &str) -> bool {
    let low = value.to_ascii_lowercase();
    matches!(low.as_str(), "1" | "true" | "yes" | "on")
        || low.parse::<f64>().is_ok_and(|at| at > 0.0 && at < 1.0)
}

/// Whether `key=value` asks for one of the native experiments: a GIL
/// module imported mid-way ([`IMPORT_PARAM`]) or the faulty kernel
/// ([`FAULT_PARAM`], on unless switched off). Runs that differ in it are
/// different experiments (`store::compare::same_workload`).
pub fn experiment_requested(key: &str, value: &str) -> bool {
    match key {
        IMPORT_PARAM => import_requested(value),
        FAULT_PARAM => !matches!(
            value.to_ascii_lowercase().as_str(),
            "" | "0" | "off" | "no" | "false"
        ),
        _ => false,
    }
}

/// What a run of `workload` in `mode` with `params` needs, or why it
/// cannot run.
pub fn run_needs(
    mode: Mode,
    workload: &str,
    params: &[(String, String)],
) -> Result<RunNeeds, NativeError> {
    let mut needs = RunNeeds::default();
    if workload == "blur" && param(params, KERNEL_PARAM) == Some("native") {
        if mode == Mode::Subinterp {
            return Err(NativeError::Refused(format!(
                "blur with kernel=native cannot run in mode 'subinterp': the kernel is a pyo3 \
                 extension, and pyo3 modules refuse to load in own-GIL subinterpreters \
                 (ImportError: module {} does not support loading in subinterpreters); \
                 use mode gil, ft, ft-gil or process, or kernel=python",
                Variant::GilFree.module_name()
            )));
        }
        needs.variants.push(Variant::GilFree);
    }
    // The fault runs in the harness's main thread (the main interpreter), so
    // every mode can show it.
    let fault = param(params, FAULT_PARAM).is_some_and(|v| experiment_requested(FAULT_PARAM, v));
    if fault && !needs.variants.contains(&Variant::GilFree) {
        needs.variants.push(Variant::GilFree);
    }
    if param(params, IMPORT_PARAM).is_some_and(|v| experiment_requested(IMPORT_PARAM, v))
        && IMPORT_MODES.contains(&mode)
    {
        needs.variants.push(Variant::GilUsed);
        needs.leave_python_gil_unset = mode == Mode::Ft;
    }
    Ok(needs)
}

/// The native modules of a run, ready to import.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSetup {
    /// Directories to put in front of `PYTHONPATH`.
    pub dirs: Vec<PathBuf>,
    /// See [`RunNeeds::leave_python_gil_unset`].
    pub leave_python_gil_unset: bool,
}

impl RunSetup {
    /// `PYTHONPATH` for the child: our directories, then `existing`.
    pub fn pythonpath(&self, existing: Option<OsString>) -> Result<OsString, NativeError> {
        let mut entries: Vec<PathBuf> = self.dirs.clone();
        if let Some(existing) = existing.filter(|e| !e.is_empty()) {
            entries.extend(std::env::split_paths(&existing));
        }
        std::env::join_paths(&entries).map_err(|e| {
            NativeError::Refused(format!(
                "cannot put the native modules on PYTHONPATH ({e}): move gilscope's cache \
                 (GILSCOPE_CACHE_DIR) to a path without ':'"
            ))
        })
    }
}

/// For a run: decides what it needs, then finds or builds it in the default
/// cache. `None` when the run needs no native module. A first build for an
/// interpreter takes a while; call this with a progress display before
/// starting the run (the runner calls it again, silently, and then finds
/// everything cached).
pub fn setup_for_run(
    python: &Path,
    mode: Mode,
    workload: &str,
    params: &[(String, String)],
    progress: &mut dyn FnMut(&Progress),
) -> Result<Option<RunSetup>, NativeError> {
    let needs = run_needs(mode, workload, params)?;
    if needs.variants.is_empty() {
        return Ok(None);
    }
    let cache = NativeCache::default();
    let mut dirs = Vec::new();
    for variant in &needs.variants {
        dirs.push(cache.ensure(python, *variant, progress)?.dir);
    }
    Ok(Some(RunSetup {
        dirs,
        leave_python_gil_unset: needs.leave_python_gil_unset,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn native_blur_needs_the_gil_free_module() {
        let p = params(&[("kernel", "native")]);
        for mode in [Mode::Gil, Mode::Ft, Mode::FtGil, Mode::Process] {
            let needs = run_needs(mode, "blur", &p).unwrap();
            assert_eq!(needs.variants, vec![Variant::GilFree]);
            assert!(!needs.leave_python_gil_unset);
        }
        // the last value wins, as in the harness
        let p = params(&[("kernel", "native"), ("kernel", "python")]);
        assert_eq!(
            run_needs(Mode::Gil, "blur", &p).unwrap(),
            RunNeeds::default()
        );
        // other workloads' `kernel` parameters are theirs
        let p = params(&[("kernel", "native")]);
        assert_eq!(
            run_needs(Mode::Gil, "primes", &p).unwrap(),
            RunNeeds::default()
        );
    }

    #[test]
    fn native_blur_is_refused_in_subinterpreters() {
        let p = params(&[("kernel", "native")]);
        let err = run_needs(Mode::Subinterp, "blur", &p).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("does not support loading in subinterpreters"),
            "{text}"
        );
        assert!(text.contains("use mode gil"), "{text}");
    }

    #[test]
    fn import_gil_module_needs_the_gil_used_module() {
        for value in ["1", "true", "on", "0.25"] {
            let p = params(&[("import_gil_module", value)]);
            let needs = run_needs(Mode::Ft, "primes", &p).unwrap();
            assert_eq!(needs.variants, vec![Variant::GilUsed], "{value}");
            assert!(needs.leave_python_gil_unset);
        }
        for value in ["0", "off", "1.5", "soon"] {
            let p = params(&[("import_gil_module", value)]);
            assert_eq!(
                run_needs(Mode::Ft, "primes", &p).unwrap(),
                RunNeeds::default(),
                "{value}"
            );
        }
        // PYTHON_GIL is only the runner's business in mode ft
        let p = params(&[("import_gil_module", "1"), ("kernel", "native")]);
        let needs = run_needs(Mode::FtGil, "blur", &p).unwrap();
        assert_eq!(needs.variants, vec![Variant::GilFree, Variant::GilUsed]);
        assert!(!needs.leave_python_gil_unset);
        // process/subinterp: the harness refuses it; nothing to build
        let p = params(&[("import_gil_module", "1")]);
        assert_eq!(
            run_needs(Mode::Process, "primes", &p).unwrap(),
            RunNeeds::default()
        );
    }

    #[test]
    fn pythonpath_puts_ours_first() {
        let setup = RunSetup {
            dirs: vec![PathBuf::from("/c/a"), PathBuf::from("/c/b")],
            leave_python_gil_unset: false,
        };
        assert_eq!(setup.pythonpath(None).unwrap(), OsString::from("/c/a:/c/b"));
        assert_eq!(
            setup.pythonpath(Some("/u/lib".into())).unwrap(),
            OsString::from("/c/a:/c/b:/u/lib")
        );
    }
}
