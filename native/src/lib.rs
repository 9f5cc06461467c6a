//! zarrlib: a Zarr (v2 and v3) engine over zarrs, exported through a flat C ABI.
//!
//! The safe core (`store`, `node`, `array`, `config`) knows nothing of C; `ffi` is the thin
//! `extern "C"` layer that checks arguments, catches panics and maps errors to status codes.

pub mod array;
mod chunk_locks;
pub mod config;
pub mod error;
pub mod ffi;
pub mod node;
pub mod selection;
pub mod store;
