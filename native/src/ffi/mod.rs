//! The `extern "C"` surface. Every export here is thin: it checks its pointers, runs the core
//! inside the panic boundary (`boundary::guard`), and maps the core's errors to status codes.
//!
//! Names follow `zarrlib_<noun>_<verb>`; outputs come last and are written only on success.

#![allow(non_camel_case_types)]
#![allow(clippy::missing_safety_doc)] // Each export documents its contract in the header.

mod args;
mod array;
mod array_indexed;
mod boundary;
mod callback_store;
mod library;
mod node;
mod resize;
mod status;
mod store;
mod vlen;

pub use array::*;
pub use array_indexed::*;
pub use callback_store::*;
pub use library::*;
pub use node::*;
pub use resize::*;
pub use status::*;
pub use store::*;
pub use vlen::*;
