//! Array handles: an opened array with its codec chain built once, and its I/O.
//!
//! All bulk I/O moves bytes between zarrs and memory the caller owns: reads decode straight into
//! the caller's buffer, writes encode straight from it. Arguments are checked before zarrs sees
//! them, so every mistake gets a precise error. One file per capability, as zarrs lays out its
//! own `array/`:
//! - `open`: building the zarrs array from a metadata document, and creating array nodes;
//! - `layout`: what the codecs and store allow, worked out once per handle ([`Layout`]);
//! - `checks`: argument checks (dimensions, bounds, buffer sizes);
//! - `plan`: the read policy of one call, from one snapshot of the settings ([`ReadPlan`]);
//! - `read`: chunks and regions, with the unencoded and unit-by-unit paths;
//! - `direct`: whole compressed chunks decoded straight into the caller's buffer;
//! - `strided`: strided selections, read and written block by block;
//! - `orthogonal`: orthogonal selections (a list of indices per axis), on the strided blocks;
//! - `packed_rows`: blocks of those selections read from unencoded local chunks row by row;
//! - `coordinates`: coordinate selections (points), read and written chunk by chunk;
//! - `write`: chunks and regions written, chunks deleted;
//! - `options`: settings one handle uses in place of the process-wide ones;
//! - `resize`: new shapes, resized and appended, with the chunks brought in line;
//! - `shard_cache`: shard indexes kept between reads, checked against the store on every use;
//! - `validate`: checks of a document that zarrs would leave to the first read or write;
//! - `vlen`: variable-length data types (`string`, `bytes`), read and written as offsets and bytes;
//! - `vlen_selection`: strided selections of variable-length arrays, on the strided blocks.

mod checks;
mod coordinates;
mod direct;
mod layout;
mod open;
mod options;
mod orthogonal;
mod packed_rows;
mod plan;
mod read;
mod resize;
mod shard_cache;
mod shard_codecs;
mod shard_decode;
mod shard_encode;
mod strided;
#[cfg(test)]
mod tests;
mod validate;
mod vlen;
mod vlen_coordinates;
mod vlen_selection;
mod write;

use std::sync::Arc;

use zarrs::array::Array;
use zarrs::storage::ReadableWritableListableStorageTraits;

use crate::chunk_locks::ArrayLocks;
use crate::error::Result;
use crate::node::NodeDoc;
use crate::store::Store;
use layout::Layout;
pub use open::create_array;
pub use options::ArrayOptions;
pub use vlen::{VlenData, VlenKind};

type ZarrsArray = Array<dyn ReadableWritableListableStorageTraits>;

/// An open array. Thread-safe: any number of threads may read and write through one handle.
pub struct ArrayHandle {
    array: ZarrsArray,
    store: Arc<Store>,
    doc: NodeDoc,
    layout: Layout,
    locks: ArrayLocks,
    options: ArrayOptions,
    shard_cache: shard_cache::ShardIndexCache,
}

impl ArrayHandle {
    pub fn shape(&self) -> &[u64] {
        self.array.shape()
    }

    pub fn ndim(&self) -> usize {
        self.array.dimensionality()
    }

    /// The bytes of one element; 0 for variable-length data types.
    pub fn element_size(&self) -> usize {
        self.layout.element_size
    }

    pub fn data_type_name(&self) -> &str {
        &self.layout.data_type_name
    }

    /// What the elements of a variable-length data type hold; `None` for fixed-size elements.
    pub fn vlen_kind(&self) -> Option<VlenKind> {
        self.layout.vlen
    }

    pub fn fill_value(&self) -> &[u8] {
        self.array.fill_value().as_ne_bytes()
    }

    pub fn metadata_json(&self) -> String {
        self.doc.to_json()
    }

    pub fn chunk_grid_shape(&self) -> &[u64] {
        self.array.chunk_grid_shape()
    }

    /// The chunk shape of a regular chunk grid; `Unsupported` for other grids.
    pub fn regular_chunk_shape(&self) -> Result<&[u64]> {
        self.layout.regular_chunk_shape()
    }
}
