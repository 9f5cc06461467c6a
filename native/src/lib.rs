//! zarrlib: a Zarr (v2 and v3) engine over zarrs, exported through a flat C ABI.
//!
//! The safe core (`store`, `node`, `array`, `config`) knows nothing of C; `ffi` is the thin
//! `extern "C"` layer that checks arguments, catches panics and maps errors to status codes.

// Every `unsafe` block says why it is sound.
#![deny(clippy::undocumented_unsafe_blocks)]

#[cfg(feature = "mimalloc")]
mod allocator;
pub mod array;
pub mod attributes;
mod blosc_v2;
mod box_copy;
mod checksums;
mod chunk_locks;
mod codec_wrapping;
mod codecs;
pub mod config;
pub mod consolidated;
mod dtypes;
pub mod error;
mod exact_json;
pub mod ffi;
pub(crate) mod file_runs;
mod list_metrics;
mod local_store;
mod memory_store;
pub mod node;
mod numcodecs;
mod object_stores;
pub mod points;
mod process_locks;
mod read_only;
pub mod selection;
mod shard_index;
pub mod store;
mod value_versions;
mod zip_check;
mod zstd_codec;

/// The engine's allocator: mimalloc, or the system allocator under `ZARRLIB_ALLOCATOR=system`
/// (for memory checkers; see `allocator`). A default feature, so a Rust program that links this
/// crate as a library keeps its own allocator with `default-features = false`.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: allocator::EngineAllocator = allocator::EngineAllocator;
