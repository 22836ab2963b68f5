//! The kernels in plain Rust, free of Python: the module's functions call
//! them with the GIL released.

pub mod blur;
pub mod spin;
