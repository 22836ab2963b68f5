//! gilscope's native kernels, a CPython extension built with pyo3.
//!
//! Two lessons, shown live by gilscope:
//!
//! * native code that releases the GIL scales even on the default build:
//!   `blur_band` and `spin` run their loops inside `Python::detach`;
//! * on a free-threaded build, one extension that does not declare itself
//!   GIL-free silently turns the GIL back on: the same code built with the
//!   `gil-used` feature is the module `gilscope_native_gil`, declared
//!   `gil_used = true`.
//!
//! | module | feature | `Py_mod_gil` |
//! |---|---|---|
//! | `gilscope_native` | (none) | `Py_MOD_GIL_NOT_USED` (`gil_used = false`) |
//! | `gilscope_native_gil` | `gil-used` | absent (`gil_used = true`) |

mod kernels;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

/// Whether this build declares that it needs the GIL.
const GIL_USED: bool = cfg!(feature = "gil-used");

/// blur_band(rgb, width, height, radius, y0, y1) -> bytes
///
/// Box-blur rows y0..y1 of a packed-RGB image (bytes of width*height*3)
/// exactly like the pure-Python blur; the loops run with the GIL released.
#[pyfunction]
fn blur_band<'py>(
    py: Python<'py>,
    rgb: &[u8],
    width: usize,
    height: usize,
    radius: usize,
    y0: usize,
    y1: usize,
) -> PyResult<Bound<'py, PyBytes>> {
    let band = py
        .detach(|| kernels::blur::blur_band(rgb, width, height, radius, y0, y1))
        .map_err(|e| PyValueError::new_err(e.to_string()))?;
    Ok(PyBytes::new(py, &band))
}

/// spin(n, release_gil=True) -> int
///
/// n rounds of a xorshift generator (pure CPU, no memory traffic); returns
/// the final state. With release_gil=False the GIL is held throughout, like
/// native code that forgets to release it.
#[pyfunction]
#[pyo3(signature = (n, release_gil = true))]
fn spin(py: Python<'_>, n: u64, release_gil: bool) -> u64 {
    if release_gil {
        py.detach(|| kernels::spin::spin(n))
    } else {
        kernels::spin::spin(n)
    }
}

/// forget_the_gil(obj) -> never returns: aborts the process
///
/// A deliberately wrong kernel, the bug that crashed Perspective 3.4.0: it
/// hands `obj` to a Rust background thread that copies the object's handle
/// without holding the GIL. pyo3 panics in that thread ("Cannot clone
/// pointer into Python heap without the thread being attached"), and the
/// extension, like Perspective's, treats the dead thread as fatal and
/// aborts. Only `--param native_fault=clone_without_gil` calls it.
#[pyfunction]
fn forget_the_gil(py: Python<'_>, obj: Py<PyAny>) {
    let worker = std::thread::Builder::new()
        .name("native-bg".into())
        .spawn(move || {
            // The bug: `Clone` on a `Py` needs the GIL, and this thread
            // never took it.
            let copy = obj.clone();
            drop(copy);
        });
    let finished = py.detach(|| worker.map(|h| h.join().is_ok()).unwrap_or(false));
    if !finished {
        std::process::abort();
    }
}

#[cfg_attr(
    not(feature = "gil-used"),
    pymodule(name = "gilscope_native", gil_used = false)
)]
#[cfg_attr(
    feature = "gil-used",
    pymodule(name = "gilscope_native_gil", gil_used = true)
)]
fn gilscope_native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(blur_band, m)?)?;
    m.add_function(wrap_pyfunction!(spin, m)?)?;
    m.add_function(wrap_pyfunction!(forget_the_gil, m)?)?;
    m.add("GIL_USED", GIL_USED)?;
    m.add("VERSION", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
