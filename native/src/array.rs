//! Array handles: an opened array with its codec chain built once, and its I/O.
//!
//! All bulk I/O moves bytes between zarrs and memory the caller owns: reads decode straight into
//! the caller's buffer, writes encode straight from it. Arguments are checked here, before zarrs
//! sees them, so every mistake gets a precise error.

use std::borrow::Cow;
use std::sync::Arc;

use rayon::prelude::*;
use unsafe_cell_slice::UnsafeCellSlice;
use zarrs::array::{
    Array, ArrayBytes, ArrayBytesDecodeIntoTarget, ArrayBytesFixedDisjointView, ArrayBytesRaw,
    ArrayCodecTraits, ArrayMetadata, ArrayShardedExt, ArrayShardedReadableExt,
    ArrayShardedReadableExtCache, ArraySubset, ChunkGrid, CodecOptions, CodecTraits,
};
use zarrs::metadata::v2::ArrayMetadataV2;
use zarrs::metadata::v3::ArrayMetadataV3;
use zarrs::node::NodePath;
use zarrs::storage::ReadableWritableListableStorageTraits;

use crate::box_copy::{Place, for_each_run};
use crate::chunk_locks::{Access, ChunkLocks, Chunks, STRIPES, lock_chunks};
use crate::config::{SMALL_BYTES, codec_options, run_in_pool, run_sized};
use crate::error::{Error, ErrorKind, Result};
use crate::node::{self, NodeDoc, NodeKind};
use crate::selection::{AxisSelection, Blocks, Selection};
use crate::store::Store;

type ZarrsArray = Array<dyn ReadableWritableListableStorageTraits>;

pub struct ArrayHandle {
    array: ZarrsArray,
    store: Arc<Store>,
    doc: NodeDoc,
    element_size: usize,
    data_type_name: String,
    /// The chunk shape of a regular chunk grid; `None` for other grids.
    regular_chunk_shape: Option<Vec<u64>>,
    /// Whether reading part of a chunk may take several store requests (sharding, uncompressed
    /// chunks), so such reads must not interleave with writes of that chunk. Reading a whole
    /// chunk is always one request, which the store makes atomic.
    partial_reads_need_locks: bool,
    /// Whether chunks carry a checksum (crc32c). zarrs checks it only when it decodes a whole
    /// chunk: its partial decoders strip the checksum unchecked. So while checksums are
    /// validated, reads of part of such a chunk decode the whole chunk.
    checksummed: bool,
    /// Whether the codecs can spread one chunk over several threads (sharding decodes and
    /// encodes inner chunks in parallel). If not, one-chunk operations skip the pool.
    splits_chunks: bool,
    /// For a sharded array, the grid of its inner chunks: reads spanning several of them decode
    /// them one by one (see `read_subset`).
    inner_chunk_grid: Option<ChunkGrid>,
    /// Whether chunks are stored as their elements' bytes in memory order (the `bytes` codec
    /// alone, little-endian or single-byte, on a little-endian machine): a whole chunk is then
    /// read from a local store straight into the caller's buffer.
    unencoded: bool,
}

/// Codecs that carry a checksum of what they encode.
const CHECKSUM_CODECS: [&str; 3] = ["crc32c", "adler32", "fletcher32"];

/// Whether a chunk's codecs (or a sharded chunk's inner codecs) include a checksum. Shard
/// indexes are always decoded whole, so `index_codecs` do not count.
fn has_checksum(doc: &serde_json::Map<String, serde_json::Value>) -> bool {
    use serde_json::Value;
    fn codec_list(list: Option<&Value>) -> bool {
        list.and_then(Value::as_array)
            .is_some_and(|codecs| codecs.iter().any(codec))
    }
    fn codec(codec: &Value) -> bool {
        let name = codec
            .get("name")
            .or_else(|| codec.get("id"))
            .and_then(Value::as_str)
            .unwrap_or_default();
        CHECKSUM_CODECS.contains(&name)
            || (name == "sharding_indexed"
                && codec_list(codec.get("configuration").and_then(|c| c.get("codecs"))))
    }
    codec_list(doc.get("codecs"))
        || codec_list(doc.get("filters"))
        || doc.get("compressor").is_some_and(codec)
}

/// Build the zarrs array a document describes, checking everything zarrlib needs of it.
fn build_array(store: &Store, path: &NodePath, doc: &NodeDoc) -> Result<ZarrsArray> {
    let mut value = doc.doc.clone();
    let metadata = if doc.zarr_format == 3 {
        ArrayMetadata::V3(serde_json::from_value::<ArrayMetadataV3>(value.into())?)
    } else {
        complex_null_fill_as_zero(&mut value);
        ArrayMetadata::V2(serde_json::from_value::<ArrayMetadataV2>(value.into())?)
    };
    Ok(Array::new_with_metadata(
        store.storage.clone(),
        path.as_str(),
        metadata,
    )?)
}

/// Zarr v2 `"fill_value": null` means "no fill value"; zarrs reads it as zero for real types but
/// rejects it for complex ones, which zarr-python writes when asked for `fill_value=None`. Read
/// it as zero for those too (the stored document keeps its null).
fn complex_null_fill_as_zero(doc: &mut serde_json::Map<String, serde_json::Value>) {
    use serde_json::Value;
    let complex = doc
        .get("dtype")
        .and_then(Value::as_str)
        .is_some_and(|dtype| {
            dtype
                .trim_start_matches(['<', '>', '|', '='])
                .starts_with('c')
        });
    if complex && doc.get("fill_value") == Some(&Value::Null) {
        doc.insert("fill_value".into(), serde_json::json!([0.0, 0.0]));
    }
}

/// Create an array node from a metadata document (validated by building its codec chain first).
pub fn create_array(store: &Store, path: &str, metadata_json: &str, overwrite: bool) -> Result<()> {
    let path = node::node_path(path)?;
    let doc = NodeDoc::parse(metadata_json, NodeKind::Array)?;
    build_array(store, &path, &doc)?;
    node::create_node(&store.storage, &path, &doc, overwrite)
}

/// Decoded elements of a read unit: the box `shape` they fill (C order), and where the piece
/// that was asked for starts in it.
struct DecodedPiece {
    bytes: ArrayBytesRaw<'static>,
    shape: Vec<u64>,
    start: Vec<u64>,
}

/// Whether `codec` (the only one) stores elements as they lie in this machine's memory.
fn stores_memory_order(codec: &zarrs::metadata::v3::MetadataV3, element_size: usize) -> bool {
    let Ok(value) = serde_json::to_value(codec) else {
        return false;
    };
    let (name, endian) = match &value {
        serde_json::Value::String(name) => (name.as_str(), None),
        _ => (
            value
                .get("name")
                .and_then(|n| n.as_str())
                .unwrap_or_default(),
            value
                .pointer("/configuration/endian")
                .and_then(|e| e.as_str()),
        ),
    };
    name == "bytes"
        && (element_size == 1 || (cfg!(target_endian = "little") && endian == Some("little")))
}

/// Where `inner` starts relative to `outer`, per axis (`inner` lies inside `outer`).
fn offsets(inner: &[u64], outer: &[u64]) -> Vec<u64> {
    std::iter::zip(inner, outer).map(|(i, o)| i - o).collect()
}

fn internal(err: &dyn std::fmt::Display) -> Error {
    Error::new(ErrorKind::Internal, err.to_string())
}

fn product(shape: &[u64]) -> Option<u64> {
    shape.iter().try_fold(1u64, |acc, &d| acc.checked_mul(d))
}

impl ArrayHandle {
    /// Open the array stored at `path`.
    pub fn open(store: Arc<Store>, path: &str) -> Result<Self> {
        let node_path = node::node_path(path)?;
        let doc = node::require_node(&store.storage, &node_path)?;
        if doc.kind != NodeKind::Array {
            return Err(Error::new(
                ErrorKind::NodeKind,
                format!("the node at {path:?} is a group, not an array"),
            ));
        }
        Self::with_doc(store, node_path, doc)
    }

    /// Open the array at `path` as described by the caller's document, which is authoritative:
    /// the store's own metadata is not read.
    pub fn open_with_metadata(store: Arc<Store>, path: &str, metadata_json: &str) -> Result<Self> {
        let node_path = node::node_path(path)?;
        let doc = NodeDoc::parse(metadata_json, NodeKind::Array)?;
        Self::with_doc(store, node_path, doc)
    }

    fn with_doc(store: Arc<Store>, path: NodePath, doc: NodeDoc) -> Result<Self> {
        let array = build_array(&store, &path, &doc)?;
        let data_type = array.data_type();
        let element_size = match data_type.fixed_size() {
            Some(size) if !data_type.is_optional() => size,
            _ => {
                return Err(Error::new(
                    ErrorKind::Unsupported,
                    "variable-length and optional data types are not supported",
                ));
            }
        };
        // Names and grid kind come from the Zarr v3 form of the metadata, which zarrs derives for
        // v2 arrays too, so v2 "<u2" and v3 "uint16" report alike.
        let v3 = match array.metadata_opt(
            &zarrs::array::ArrayMetadataOptions::default()
                .with_metadata_convert_version(zarrs::config::MetadataConvertVersion::V3),
        ) {
            ArrayMetadata::V3(v3) => v3,
            ArrayMetadata::V2(_) => {
                return Err(Error::new(
                    ErrorKind::Internal,
                    "metadata did not convert to v3",
                ));
            }
        };
        let regular_chunk_shape = if v3.chunk_grid.name() == "regular" {
            let origin = vec![0; array.dimensionality()];
            Some(
                array
                    .chunk_shape(&origin)?
                    .iter()
                    .map(|d| d.get())
                    .collect(),
            )
        } else {
            None
        };
        let partial_reads_need_locks = array.codecs().partial_decoder_capability().partial_read;
        // The first chunk stands for all: zarrs' concurrency advice depends on the codecs, and
        // on the shape only through a shard's inner chunk count.
        let splits_chunks = array
            .chunk_shape(&vec![0; array.dimensionality()])
            .ok()
            .and_then(|shape| {
                array
                    .codecs()
                    .recommended_concurrency(&shape, array.data_type())
                    .ok()
            })
            .is_none_or(|concurrency| concurrency.max() > 1);
        let inner_chunk_grid = array.is_sharded().then(|| array.subchunk_grid());
        let unencoded = v3.storage_transformers.is_empty()
            && matches!(v3.codecs.as_slice(), [codec] if stores_memory_order(codec, element_size));
        Ok(Self {
            splits_chunks,
            inner_chunk_grid,
            unencoded,
            partial_reads_need_locks,
            checksummed: has_checksum(&doc.doc),
            data_type_name: v3.data_type.name().to_owned(),
            array,
            store,
            doc,
            element_size,
            regular_chunk_shape,
        })
    }

    pub fn shape(&self) -> &[u64] {
        self.array.shape()
    }

    pub fn ndim(&self) -> usize {
        self.array.dimensionality()
    }

    pub fn element_size(&self) -> usize {
        self.element_size
    }

    pub fn data_type_name(&self) -> &str {
        &self.data_type_name
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

    pub fn regular_chunk_shape(&self) -> Result<&[u64]> {
        self.regular_chunk_shape.as_deref().ok_or_else(|| {
            Error::new(
                ErrorKind::Unsupported,
                "the array's chunk grid is not regular",
            )
        })
    }

    fn check_ndim(&self, what: &str, len: usize) -> Result<()> {
        if len != self.ndim() {
            return Err(Error::invalid_argument(format!(
                "{what} has {len} dimensions, the array has {}",
                self.ndim()
            )));
        }
        Ok(())
    }

    /// Check `chunk` names a chunk of the grid and return its shape.
    fn chunk_shape_at(&self, chunk: &[u64]) -> Result<Vec<u64>> {
        self.check_ndim("chunk coordinates", chunk.len())?;
        let grid = self.chunk_grid_shape();
        if chunk.iter().zip(grid).any(|(c, g)| c >= g) {
            return Err(Error::new(
                ErrorKind::OutOfBounds,
                format!("chunk {chunk:?} is outside the chunk grid {grid:?}"),
            ));
        }
        Ok(self
            .array
            .chunk_shape(chunk)?
            .iter()
            .map(|d| d.get())
            .collect())
    }

    fn byte_len(&self, shape: &[u64]) -> Result<usize> {
        product(shape)
            .and_then(|n| n.checked_mul(self.element_size as u64))
            .and_then(|n| usize::try_from(n).ok())
            .ok_or_else(|| {
                Error::invalid_argument(format!(
                    "a region of shape {shape:?} is too large to address"
                ))
            })
    }

    fn check_buffer(&self, shape: &[u64], len: usize) -> Result<()> {
        let expected = self.byte_len(shape)?;
        if len != expected {
            return Err(Error::new(
                ErrorKind::BufferSize,
                format!(
                    "buffer is {len} bytes, a block of shape {shape:?} of {}-byte elements needs {expected}",
                    self.element_size
                ),
            ));
        }
        Ok(())
    }

    /// Check a region lies inside the array and return it as a subset.
    fn region(&self, start: &[u64], shape: &[u64]) -> Result<ArraySubset> {
        self.check_ndim("region start", start.len())?;
        self.check_ndim("region shape", shape.len())?;
        let array_shape = self.shape();
        for (axis, ((&s, &n), &extent)) in start.iter().zip(shape).zip(array_shape).enumerate() {
            if s.checked_add(n).is_none_or(|end| end > extent) {
                return Err(Error::new(
                    ErrorKind::OutOfBounds,
                    format!(
                        "region start {start:?} shape {shape:?} exceeds the array shape {array_shape:?} on axis {axis}"
                    ),
                ));
            }
        }
        ArraySubset::new_with_start_shape(start.to_vec(), shape.to_vec())
            .map_err(|e| Error::invalid_argument(e.to_string()))
    }

    /// Decode `subset` of the array into `out`, laid out C-contiguously with shape `subset.shape()`.
    fn decode_into(
        &self,
        subset: &ArraySubset,
        out: &mut [u8],
        options: &CodecOptions,
    ) -> Result<()> {
        let shape = subset.shape().to_vec();
        let bytes = UnsafeCellSlice::new(out);
        // SAFETY: this view is the only one over `out`, which it covers whole.
        let mut view = unsafe {
            ArrayBytesFixedDisjointView::new(
                bytes,
                self.element_size,
                &shape,
                ArraySubset::new_with_shape(shape.clone()),
            )
        }
        .map_err(|e| internal(&e))?;
        let target: ArrayBytesDecodeIntoTarget<'_> = (&mut view).into();
        Ok(self
            .array
            .retrieve_array_subset_into_opt(subset, target, options)?)
    }

    /// Decode `subset` into `out` (C order, the subset's shape). A subset within one read unit
    /// (a chunk, or an inner chunk of a sharded array), or a small one, goes straight through
    /// zarrs. A larger one
    /// is read unit by unit, in parallel where `options` allow, and each unit's elements are
    /// copied into place by `box_copy`, whose runs cost a fraction of zarrs' view copies. A
    /// sharded array is read by inner chunk through zarrs' sharded-read extension, which reads
    /// each shard's index once per call.
    fn read_subset(
        &self,
        subset: &ArraySubset,
        out: &mut [u8],
        options: &CodecOptions,
    ) -> Result<()> {
        let (grid, inner_chunks) = self.read_unit_grid();
        let units = match grid.chunks_in_array_subset(subset) {
            Ok(Some(units)) if units.num_elements() > 1 && out.len() > SMALL_BYTES => units,
            // zarrs' copies cost little here, and it sets up a sharded read with less: an 8³
            // read across two inner chunks took 290 µs unit by unit, 210 µs through zarrs.
            _ => return self.decode_into(subset, out, options),
        };
        let cache = inner_chunks.then(|| ArrayShardedReadableExtCache::new(&self.array));
        let target = UnsafeCellSlice::new(out);
        let read_unit = |unit: &[u64], options: &CodecOptions| -> Result<()> {
            let unit_subset = grid
                .subset(unit)
                .map_err(|e| internal(&e))?
                .ok_or_else(|| internal(&format!("no read unit {unit:?}")))?;
            let piece = unit_subset.overlap(subset).map_err(|e| internal(&e))?;
            let decoded = self.decode_piece(unit, &unit_subset, &piece, cache.as_ref(), options)?;
            let target_start = offsets(piece.start(), subset.start());
            for_each_run(
                Place {
                    shape: &decoded.shape,
                    start: &decoded.start,
                },
                Place {
                    shape: subset.shape(),
                    start: &target_start,
                },
                piece.shape(),
                self.element_size,
                |from, to, len| {
                    // SAFETY: units do not overlap, so units copied in parallel write disjoint
                    // bytes of `out`; `for_each_run` stays inside the subset's shape.
                    let to = unsafe { target.index_mut(to..to + len) };
                    to.copy_from_slice(&decoded.bytes[from..from + len]);
                },
            );
            Ok(())
        };
        let units: Vec<Vec<u64>> = units.indices().into_iter().map(|u| u.to_vec()).collect();
        if options.concurrent_target() <= 1 {
            // On the caller's thread, or a share of a call already spread over the pool.
            return units.iter().try_for_each(|unit| read_unit(unit, options));
        }
        let share = Self::shared_options(*options, units.len());
        units
            .par_iter()
            .try_for_each(|unit| read_unit(unit, &share))
    }

    /// Decode the part `piece` of read unit `unit` (whose box is `unit_subset`). Most of a unit is decoded
    /// whole (a partial read of uncompressed data is one store request per row); less, just
    /// the piece.
    fn decode_piece(
        &self,
        unit: &[u64],
        unit_subset: &ArraySubset,
        piece: &ArraySubset,
        cache: Option<&ArrayShardedReadableExtCache>,
        options: &CodecOptions,
    ) -> Result<DecodedPiece> {
        let whole = 2 * piece.num_elements() >= unit_subset.num_elements();
        let (bytes, shape, start): (ArrayBytes<'static>, _, _) = if whole {
            let bytes = match cache {
                Some(cache) => self.array.retrieve_subchunk_opt(cache, unit, options)?,
                None => self.array.retrieve_chunk_opt(unit, options)?,
            };
            let start = offsets(piece.start(), unit_subset.start());
            (bytes, unit_subset.shape().to_vec(), start)
        } else {
            let bytes = match cache {
                Some(cache) => self
                    .array
                    .retrieve_array_subset_sharded_opt(cache, piece, options)?,
                None => {
                    let relative = piece
                        .relative_to(unit_subset.start())
                        .map_err(|e| internal(&e))?;
                    self.array
                        .retrieve_chunk_subset_opt(unit, &relative, options)?
                }
            };
            let start = vec![0; piece.dimensionality()];
            (bytes, piece.shape().to_vec(), start)
        };
        let bytes = bytes.into_fixed().map_err(|e| internal(&e))?;
        if bytes.len() != self.byte_len(&shape)? {
            return Err(internal(&format!(
                "read unit {unit:?} decoded to {} bytes, expected {shape:?}",
                bytes.len()
            )));
        }
        Ok(DecodedPiece {
            bytes,
            shape,
            start,
        })
    }

    /// The grid reads are split along (see `read_subset`), and whether it is the inner chunk
    /// grid of a sharded array.
    fn read_unit_grid(&self) -> (&ChunkGrid, bool) {
        match &self.inner_chunk_grid {
            Some(grid) if self.reads_inner_chunks() => (grid, true),
            _ => (self.array.chunk_grid(), false),
        }
    }

    /// How many read units `subset` spans: the work a read spreads over the pool.
    fn read_units_in(&self, subset: &ArraySubset, chunks: &ArraySubset) -> u64 {
        match self.read_unit_grid() {
            (grid, true) => grid
                .chunks_in_array_subset(subset)
                .ok()
                .flatten()
                .map_or(chunks.num_elements(), |units| units.num_elements()),
            (_, false) => chunks.num_elements(),
        }
    }

    /// Read a whole unencoded chunk from a local store straight into `out` (one copy, where
    /// zarrs reads the file into a buffer and copies that): `false` if this array or store does
    /// not allow it, or the chunk is not stored, or not at its full size; zarrs then reads it.
    fn read_unencoded_chunk(&self, chunk: &[u64], out: &mut [u8]) -> Result<bool> {
        match &self.store.local {
            Some(local) if self.unencoded => Ok(local
                .read_exact_into(&self.array.chunk_key(chunk), out)
                .map_err(zarrs::storage::StorageError::from)?),
            _ => Ok(false),
        }
    }

    /// Whether reads of a sharded array go by inner chunk (see `read_subset`). Not while
    /// checksums go unvalidated: zarrs' sharded-read extension decodes shard indexes with
    /// default codec options, which validate them. An inner-chunk read is several store
    /// requests (the index, then each inner chunk), so it holds read locks on its shards
    /// against this process's writers.
    fn reads_inner_chunks(&self) -> bool {
        self.inner_chunk_grid.is_some() && crate::config::validate_checksums()
    }

    pub fn read_chunk(&self, chunk: &[u64], out: &mut [u8]) -> Result<()> {
        let shape = self.chunk_shape_at(chunk)?;
        self.check_buffer(&shape, out.len())?;
        if self.read_unencoded_chunk(chunk, out)? {
            return Ok(());
        }
        let subset = self.array.chunk_subset(chunk)?;
        let _locks = self
            .reads_inner_chunks()
            .then(|| self.lock_chunk(chunk, Access::Read));
        run_sized(1, out.len(), self.splits_chunks, |options| {
            self.read_subset(&subset, out, options)
        })
    }

    /// Read several chunks into `out`, one after another in the order given, each at its full
    /// chunk shape. Chunks are decoded in parallel.
    pub fn read_chunks(&self, chunks: &[&[u64]], out: &mut [u8]) -> Result<()> {
        let mut lengths = Vec::with_capacity(chunks.len());
        for chunk in chunks {
            lengths.push(self.byte_len(&self.chunk_shape_at(chunk)?)?);
        }
        let total = lengths
            .iter()
            .try_fold(0usize, |acc, &n| acc.checked_add(n));
        if total != Some(out.len()) {
            return Err(Error::new(
                ErrorKind::BufferSize,
                format!(
                    "buffer is {} bytes, the {} chunks need {total:?}",
                    out.len(),
                    chunks.len()
                ),
            ));
        }
        let mut pieces = Vec::with_capacity(chunks.len());
        let mut rest = out;
        for len in lengths {
            let (piece, tail) = rest.split_at_mut(len);
            pieces.push(piece);
            rest = tail;
        }
        let _locks = self.reads_inner_chunks().then(|| {
            let list = chunks.iter().map(|chunk| chunk.to_vec());
            self.lock_many(chunks.len() as u64, list, Access::Read)
        });
        run_in_pool(|| {
            let options = Self::shared_options(codec_options(), chunks.len());
            chunks
                .par_iter()
                .zip(pieces)
                .try_for_each(|(chunk, piece)| {
                    if self.read_unencoded_chunk(chunk, piece)? {
                        return Ok(());
                    }
                    let subset = self.array.chunk_subset(chunk)?;
                    self.read_subset(&subset, piece, &options)
                })
        })
    }

    pub fn read_region(&self, start: &[u64], shape: &[u64], out: &mut [u8]) -> Result<()> {
        let subset = self.region(start, shape)?;
        self.check_buffer(shape, out.len())?;
        if subset.num_elements() == 0 {
            return Ok(());
        }
        if self.reads_whole_chunks() {
            let axes: Vec<AxisSelection> = start
                .iter()
                .zip(shape)
                .map(|(&start, &count)| AxisSelection {
                    start,
                    step: 1,
                    count,
                })
                .collect();
            let selection = self.selection(&axes)?;
            return self.read_blocks(&selection, out);
        }
        let chunks = self.region_chunks(&subset)?;
        let _locks = (self.partial_reads_need_locks || self.reads_inner_chunks())
            .then(|| self.lock_region(&chunks, Access::Read));
        // Inner chunks decoded one after another on the caller's thread took twice as long as
        // on the pool for two of them, and 1.9 times for three.
        run_sized(
            self.read_units_in(&subset, &chunks),
            out.len(),
            self.splits_chunks,
            |options| self.read_subset(&subset, out, options),
        )
    }

    /// Whether reads must decode whole chunks, so that their checksums are validated.
    fn reads_whole_chunks(&self) -> bool {
        self.checksummed && crate::config::validate_checksums()
    }

    /// The chunk's stored bytes, or `None` if it is not stored.
    pub fn read_encoded_chunk(&self, chunk: &[u64]) -> Result<Option<Vec<u8>>> {
        self.chunk_shape_at(chunk)?;
        Ok(self.array.retrieve_encoded_chunk(chunk)?)
    }

    fn lock_chunk(&self, chunk: &[u64], access: Access) -> ChunkLocks {
        lock_chunks(
            self.store.id,
            self.array.path().as_str(),
            access,
            Chunks::These([chunk].into_iter()),
        )
    }

    /// Check a selection against the array.
    fn selection(&self, axes: &[AxisSelection]) -> Result<Selection> {
        self.check_ndim("selection", axes.len())?;
        Selection::new(axes, self.shape())
    }

    /// Split a selection into blocks, one per chunk holding selected elements.
    fn blocks(&self, selection: &Selection) -> Result<Blocks> {
        self.blocks_on(self.array.chunk_grid(), selection)
    }

    /// Split a selection into blocks, one per cell of `grid` holding selected elements.
    fn blocks_on(&self, grid: &ChunkGrid, selection: &Selection) -> Result<Blocks> {
        let ndim = self.ndim();
        let pieces = selection.pieces(|axis, index| {
            let mut point = vec![0; ndim];
            point[axis] = index;
            let cell = grid
                .chunk_indices(&point)
                .map_err(|e| internal(&e))?
                .ok_or_else(|| {
                    Error::new(ErrorKind::OutOfBounds, format!("no chunk holds {point:?}"))
                })?;
            let subset = grid
                .subset(&cell)
                .map_err(|e| internal(&e))?
                .ok_or_else(|| internal(&format!("no chunk {cell:?}")))?;
            Ok((cell[axis], subset.start()[axis] + subset.shape()[axis]))
        })?;
        Ok(Blocks::new(pieces))
    }

    /// Lock the chunk of every block.
    fn lock_blocks(&self, blocks: &Blocks, access: Access) -> ChunkLocks {
        let chunks = (0..blocks.len()).map(|b| Blocks::chunk(&blocks.get(b)));
        self.lock_many(blocks.len() as u64, chunks, access)
    }

    /// Lock `count` chunks; past the size of the lock table, lock the whole table (the list is
    /// then never built).
    fn lock_many(
        &self,
        count: u64,
        chunks: impl Iterator<Item = Vec<u64>>,
        access: Access,
    ) -> ChunkLocks {
        let path = self.array.path().as_str();
        if count > STRIPES as u64 {
            return lock_chunks::<std::iter::Empty<&[u64]>>(
                self.store.id,
                path,
                access,
                Chunks::All,
            );
        }
        let chunks: Vec<Vec<u64>> = chunks.collect();
        lock_chunks(
            self.store.id,
            path,
            access,
            Chunks::These(chunks.iter().map(Vec::as_slice)),
        )
    }

    /// `options` for work spread over `parallel` blocks at once: each codec chain gets a share
    /// of the concurrency target.
    fn shared_options(options: CodecOptions, parallel: usize) -> CodecOptions {
        let share = (options.concurrent_target() / parallel.max(1)).max(1);
        options.with_concurrent_target(share)
    }

    /// Read a strided selection into `out`, C-contiguous with shape `counts` (numpy's
    /// `a[start:stop:step, ...]` order, negative steps included). Only chunks holding selected
    /// elements are read.
    pub fn read_selection(&self, axes: &[AxisSelection], out: &mut [u8]) -> Result<()> {
        let selection = self.selection(axes)?;
        self.check_buffer(&selection.counts(), out.len())?;
        if selection.is_empty() {
            return Ok(());
        }
        if let Some((start, shape)) = selection.as_region() {
            return self.read_region(&start, &shape, out);
        }
        self.read_blocks(&selection, out)
    }

    /// Read a selection into `out` by blocks, one per read unit (a chunk, or an inner chunk of a
    /// sharded array) holding selected elements, in parallel. Each block decodes the smallest
    /// region holding its elements, or its whole unit when that region is most of the unit or
    /// checksums must be validated, and picks its elements straight out of the decoded bytes.
    /// `[::4, ::4, ::4]` of a sharded 512³ uint16 array went from 0.25 s to 0.22 s when blocks
    /// became inner chunks instead of whole shards decoded into a scratch buffer.
    fn read_blocks(&self, selection: &Selection, out: &mut [u8]) -> Result<()> {
        let (grid, inner_chunks) = self.read_unit_grid();
        let blocks = self.blocks_on(grid, selection)?;
        let _locks = if inner_chunks {
            Some(self.lock_shards_of(grid, &blocks)?)
        } else {
            self.partial_reads_need_locks
                .then(|| self.lock_blocks(&blocks, Access::Read))
        };
        let cache = inner_chunks.then(|| ArrayShardedReadableExtCache::new(&self.array));
        let whole_units = self.reads_whole_chunks();
        let element_size = self.element_size;
        let out = UnsafeCellSlice::new(out);
        run_in_pool(|| {
            let options = Self::shared_options(codec_options(), blocks.len());
            (0..blocks.len()).into_par_iter().try_for_each(|b| {
                let block = blocks.get(b);
                let unit = Blocks::chunk(&block);
                let unit_subset = grid
                    .subset(&unit)
                    .map_err(|e| internal(&e))?
                    .ok_or_else(|| internal(&format!("no read unit {unit:?}")))?;
                let piece = if whole_units {
                    unit_subset.clone()
                } else {
                    let (start, shape) = selection.bounding_box(&block);
                    ArraySubset::new_with_start_shape(start, shape).map_err(|e| internal(&e))?
                };
                let decoded =
                    self.decode_piece(&unit, &unit_subset, &piece, cache.as_ref(), &options)?;
                let origin = offsets(piece.start(), &decoded.start);
                selection.for_each_element(
                    &block,
                    &origin,
                    &decoded.shape,
                    element_size,
                    |d, o| {
                        // SAFETY: every selected element belongs to exactly one block, so blocks
                        // running in parallel write disjoint bytes of `out`.
                        let target = unsafe { out.index_mut(o..o + element_size) };
                        target.copy_from_slice(&decoded.bytes[d..d + element_size]);
                    },
                );
                Ok(())
            })
        })
    }

    /// Read-lock the shards holding the inner chunks of `blocks` (on the inner chunk `grid`).
    fn lock_shards_of(&self, grid: &ChunkGrid, blocks: &Blocks) -> Result<ChunkLocks> {
        let mut shards = std::collections::BTreeSet::new();
        for b in 0..blocks.len() {
            let origin = grid
                .chunk_origin(&Blocks::chunk(&blocks.get(b)))
                .map_err(|e| internal(&e))?
                .ok_or_else(|| internal(&"an inner chunk outside its grid"))?;
            let shard = self
                .array
                .chunk_grid()
                .chunk_indices(&origin)
                .map_err(|e| internal(&e))?
                .ok_or_else(|| internal(&"an inner chunk outside the shard grid"))?;
            shards.insert(shard.to_vec());
        }
        Ok(self.lock_many(shards.len() as u64, shards.into_iter(), Access::Read))
    }

    /// Write a strided selection from `data` (laid out as `read_selection` reads). Every chunk
    /// holding selected elements is read, updated and written back under its write lock, so
    /// concurrent writers never lose an update; chunks the selection skips are not touched.
    pub fn write_selection(&self, axes: &[AxisSelection], data: &[u8]) -> Result<()> {
        let selection = self.selection(axes)?;
        self.check_buffer(&selection.counts(), data.len())?;
        if selection.is_empty() {
            return Ok(());
        }
        if let Some((start, shape)) = selection.as_region() {
            return self.write_region(&start, &shape, data);
        }
        let blocks = self.blocks(&selection)?;
        let _locks = self.lock_blocks(&blocks, Access::Write);
        let element_size = self.element_size;
        run_in_pool(|| {
            let options = Self::shared_options(codec_options(), blocks.len());
            (0..blocks.len()).into_par_iter().try_for_each(|b| {
                let block = blocks.get(b);
                let chunk = Blocks::chunk(&block);
                let subset = self.array.chunk_subset(&chunk)?;
                let mut dense = vec![0u8; self.byte_len(subset.shape())?];
                self.decode_into(&subset, &mut dense, &options)?;
                selection.for_each_element(
                    &block,
                    subset.start(),
                    subset.shape(),
                    element_size,
                    |d, o| {
                        dense[d..d + element_size].copy_from_slice(&data[o..o + element_size]);
                    },
                );
                let bytes = ArrayBytes::new_flen(Cow::Owned(dense));
                Ok(self.array.store_chunk_opt(&chunk, bytes, &options)?)
            })
        })
    }

    /// The chunks a region touches, as a subset of the chunk grid.
    fn region_chunks(&self, subset: &ArraySubset) -> Result<ArraySubset> {
        self.array
            .chunks_in_array_subset(subset)
            .map_err(|e| Error::invalid_argument(e.to_string()))?
            .ok_or_else(|| Error::new(ErrorKind::OutOfBounds, "region lies outside the chunk grid"))
    }

    /// Lock every chunk of `chunks` (a subset of the chunk grid).
    fn lock_region(&self, chunks: &ArraySubset, access: Access) -> ChunkLocks {
        let indices = chunks.indices().into_iter().map(|c| c.to_vec());
        self.lock_many(chunks.num_elements(), indices, access)
    }

    /// Write a whole chunk. A chunk that is entirely the fill value is erased rather than stored,
    /// unless storing empty chunks is configured.
    pub fn write_chunk(&self, chunk: &[u64], data: &[u8]) -> Result<()> {
        let shape = self.chunk_shape_at(chunk)?;
        self.check_buffer(&shape, data.len())?;
        let _locks = self.lock_chunk(chunk, Access::Write);
        run_sized(1, data.len(), self.splits_chunks, |options| {
            let bytes = ArrayBytes::new_flen(Cow::Borrowed(data));
            Ok(self.array.store_chunk_opt(chunk, bytes, options)?)
        })
    }

    pub fn delete_chunk(&self, chunk: &[u64]) -> Result<()> {
        self.chunk_shape_at(chunk)?;
        let _locks = self.lock_chunk(chunk, Access::Write);
        Ok(self.array.erase_chunk(chunk)?)
    }

    /// Write a region. Chunks the region covers only in part are read, updated and written back.
    pub fn write_region(&self, start: &[u64], shape: &[u64], data: &[u8]) -> Result<()> {
        let subset = self.region(start, shape)?;
        self.check_buffer(shape, data.len())?;
        if subset.num_elements() == 0 {
            return Ok(());
        }
        let chunks = self.region_chunks(&subset)?;
        let _locks = self.lock_region(&chunks, Access::Write);
        run_sized(
            chunks.num_elements(),
            data.len(),
            self.splits_chunks,
            |options| {
                let bytes = ArrayBytes::new_flen(Cow::Borrowed(data));
                Ok(self.array.store_array_subset_opt(&subset, bytes, options)?)
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const UINT16_ZSTD: &str = r#"{"zarr_format":3,"node_type":"array","shape":[10,7],"data_type":"uint16",
        "chunk_grid":{"name":"regular","configuration":{"chunk_shape":[4,3]}},
        "chunk_key_encoding":{"name":"default"},"fill_value":9,
        "codecs":[{"name":"bytes","configuration":{"endian":"little"}},{"name":"zstd","configuration":{"level":0,"checksum":false}}]}"#;

    fn memory_array(metadata: &str) -> ArrayHandle {
        let store = Arc::new(Store::open("memory://", None).unwrap());
        create_array(&store, "a", metadata, false).unwrap();
        ArrayHandle::open(store, "a").unwrap()
    }

    fn to_bytes(values: &[u16]) -> Vec<u8> {
        values.iter().flat_map(|v| v.to_ne_bytes()).collect()
    }

    fn from_bytes(bytes: &[u8]) -> Vec<u16> {
        bytes
            .chunks(2)
            .map(|b| u16::from_ne_bytes([b[0], b[1]]))
            .collect()
    }

    /// The array's elements at rows `rows` and columns `cols`, in that order.
    fn pick(whole: &[u16], rows: &[usize], cols: &[usize]) -> Vec<u16> {
        rows.iter()
            .flat_map(|r| cols.iter().map(move |c| whole[r * 7 + c]))
            .collect()
    }

    #[test]
    fn only_sharded_chunks_split_across_threads() {
        assert!(!memory_array(UINT16_ZSTD).splits_chunks);
        let sharded = UINT16_ZSTD.replace(
            r#"[{"name":"bytes","configuration":{"endian":"little"}},{"name":"zstd","configuration":{"level":0,"checksum":false}}]"#,
            r#"[{"name":"sharding_indexed","configuration":{"chunk_shape":[2,1],
                "codecs":[{"name":"bytes","configuration":{"endian":"little"}}],
                "index_codecs":[{"name":"bytes","configuration":{"endian":"little"}}]}}]"#,
        );
        assert!(memory_array(&sharded).splits_chunks);
    }

    #[test]
    fn partial_reads_of_checksummed_chunks_validate_the_checksum() {
        use zarrs::storage::{ReadableStorageTraits, StoreKey, WritableStorageTraits};
        let metadata = UINT16_ZSTD.replace(
            r#"{"name":"zstd","configuration":{"level":0,"checksum":false}}"#,
            r#"{"name":"crc32c"}"#,
        );
        let array = memory_array(&metadata);
        assert!(array.checksummed);
        array.write_chunk(&[0, 0], &to_bytes(&[1; 12])).unwrap();
        let key = StoreKey::new("a/c/0/0").unwrap();
        let mut stored = array.store.storage.get(&key).unwrap().unwrap().to_vec();
        stored[0] ^= 0xff; // a data byte: the length and the stored checksum stay as they were
        array.store.storage.set(&key, stored.into()).unwrap();

        // The default validates checksums: a region inside the chunk, a strided selection and
        // the whole chunk all decode the whole chunk and find the mismatch.
        let mut out = vec![0u8; 4 * 2];
        let err = array.read_region(&[1, 1], &[2, 2], &mut out).unwrap_err();
        assert_eq!(err.kind, ErrorKind::CorruptData);
        let axes = [
            AxisSelection {
                start: 0,
                step: 2,
                count: 2,
            },
            AxisSelection {
                start: 0,
                step: 2,
                count: 2,
            },
        ];
        let err = array.read_selection(&axes, &mut out).unwrap_err();
        assert_eq!(err.kind, ErrorKind::CorruptData);
        let mut chunk = vec![0u8; 12 * 2];
        let err = array.read_chunk(&[0, 0], &mut chunk).unwrap_err();
        assert_eq!(err.kind, ErrorKind::CorruptData);
        assert!(!memory_array(UINT16_ZSTD).checksummed);
    }

    #[test]
    fn strided_selections_read_and_write_numpys_elements() {
        let array = memory_array(UINT16_ZSTD);
        let values: Vec<u16> = (0..70).collect();
        array
            .write_region(&[0, 0], &[10, 7], &to_bytes(&values))
            .unwrap();

        // [9:0:-4, 1::3] selects rows 9, 5, 1 and columns 1, 4.
        let axes = [
            AxisSelection {
                start: 9,
                step: -4,
                count: 3,
            },
            AxisSelection {
                start: 1,
                step: 3,
                count: 2,
            },
        ];
        let mut out = vec![0u8; 6 * 2];
        array.read_selection(&axes, &mut out).unwrap();
        assert_eq!(from_bytes(&out), pick(&values, &[9, 5, 1], &[1, 4]));

        let new_values: Vec<u16> = (1000..1006).collect();
        array
            .write_selection(&axes, &to_bytes(&new_values))
            .unwrap();
        let mut whole = vec![0u8; 70 * 2];
        array.read_region(&[0, 0], &[10, 7], &mut whole).unwrap();
        let mut want = values.clone();
        for (i, r) in [9usize, 5, 1].iter().enumerate() {
            for (k, c) in [1usize, 4].iter().enumerate() {
                want[r * 7 + c] = new_values[i * 2 + k];
            }
        }
        assert_eq!(from_bytes(&whole), want);

        let mut wrong = vec![0u8; 5];
        let err = array.read_selection(&axes, &mut wrong).unwrap_err();
        assert_eq!(err.kind, ErrorKind::BufferSize);
        let err = array.read_selection(&axes[..1], &mut out).unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidArgument);
    }

    #[test]
    fn regions_round_trip_across_chunks_and_the_rest_reads_as_fill() {
        let array = memory_array(UINT16_ZSTD);
        let values: Vec<u16> = (0..5 * 4).map(|i| 100 + i).collect();
        array
            .write_region(&[3, 2], &[5, 4], &to_bytes(&values))
            .unwrap();

        let mut whole = vec![0u8; 10 * 7 * 2];
        array.read_region(&[0, 0], &[10, 7], &mut whole).unwrap();
        let whole = from_bytes(&whole);
        for r in 0..10 {
            for c in 0..7 {
                let inside = (3..8).contains(&r) && (2..6).contains(&c);
                let want = if inside {
                    values[(r - 3) * 4 + (c - 2)]
                } else {
                    9
                };
                assert_eq!(whole[r * 7 + c], want, "({r}, {c})");
            }
        }
    }

    #[test]
    fn edge_chunks_read_at_full_chunk_shape() {
        let array = memory_array(UINT16_ZSTD);
        array
            .write_region(&[8, 6], &[2, 1], &to_bytes(&[1, 2]))
            .unwrap();
        // Chunk (2, 2) covers rows 8..12 and columns 6..9; only rows 8..10, column 6 are inside.
        let mut chunk = vec![0u8; 4 * 3 * 2];
        array.read_chunk(&[2, 2], &mut chunk).unwrap();
        assert_eq!(from_bytes(&chunk), [1, 9, 9, 2, 9, 9, 9, 9, 9, 9, 9, 9]);
    }

    #[test]
    fn a_chunk_of_fill_value_is_not_stored() {
        let array = memory_array(UINT16_ZSTD);
        array.write_chunk(&[0, 0], &to_bytes(&[5; 12])).unwrap();
        assert!(array.read_encoded_chunk(&[0, 0]).unwrap().is_some());
        array.write_chunk(&[0, 0], &to_bytes(&[9; 12])).unwrap();
        assert_eq!(array.read_encoded_chunk(&[0, 0]).unwrap(), None);
    }

    #[test]
    fn read_chunks_lays_chunks_out_in_the_order_given() {
        let array = memory_array(UINT16_ZSTD);
        array.write_chunk(&[0, 0], &to_bytes(&[1; 12])).unwrap();
        array.write_chunk(&[1, 2], &to_bytes(&[2; 12])).unwrap();
        let mut out = vec![0u8; 3 * 12 * 2];
        array
            .read_chunks(&[&[1, 2], &[2, 0], &[0, 0]], &mut out)
            .unwrap();
        let out = from_bytes(&out);
        assert_eq!(&out[..12], &[2; 12]);
        assert_eq!(&out[12..24], &[9; 12]);
        assert_eq!(&out[24..], &[1; 12]);
    }

    #[test]
    fn bad_arguments_get_precise_errors() {
        let array = memory_array(UINT16_ZSTD);
        let mut chunk = vec![0u8; 24];
        assert_eq!(
            array.read_chunk(&[3, 0], &mut chunk).unwrap_err().kind,
            ErrorKind::OutOfBounds
        );
        assert_eq!(
            array.read_chunk(&[0], &mut chunk).unwrap_err().kind,
            ErrorKind::InvalidArgument
        );
        assert_eq!(
            array
                .read_chunk(&[0, 0], &mut chunk[..23])
                .unwrap_err()
                .kind,
            ErrorKind::BufferSize
        );
        let mut region = vec![0u8; 4];
        assert_eq!(
            array
                .read_region(&[9, 6], &[2, 1], &mut region)
                .unwrap_err()
                .kind,
            ErrorKind::OutOfBounds
        );
        assert_eq!(
            array
                .read_region(&[u64::MAX, 0], &[2, 1], &mut region)
                .unwrap_err()
                .kind,
            ErrorKind::OutOfBounds
        );
        assert_eq!(
            array
                .write_region(&[0, 0], &[1, 1], &region)
                .unwrap_err()
                .kind,
            ErrorKind::BufferSize
        );
        assert_eq!(
            array.read_chunks(&[&[0, 0]], &mut region).unwrap_err().kind,
            ErrorKind::BufferSize
        );
    }

    #[test]
    fn invalid_array_documents_write_nothing() {
        let store = Arc::new(Store::open("memory://", None).unwrap());
        let unknown_codec = UINT16_ZSTD.replace(r#""name":"zstd""#, r#""name":"nosuch""#);
        assert_eq!(
            create_array(&store, "a", &unknown_codec, false)
                .unwrap_err()
                .kind,
            ErrorKind::Unsupported
        );
        let bad_type = UINT16_ZSTD.replace("uint16", "uint17");
        assert_eq!(
            create_array(&store, "a", &bad_type, false)
                .unwrap_err()
                .kind,
            ErrorKind::Unsupported
        );
        let no_shape = UINT16_ZSTD.replace(r#""shape":[10,7],"#, "");
        assert_eq!(
            create_array(&store, "a", &no_shape, false)
                .unwrap_err()
                .kind,
            ErrorKind::InvalidMetadata
        );
        assert!(
            node::read_node(&store.storage, &node::node_path("a").unwrap())
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn concurrent_partial_writes_to_one_chunk_all_land() {
        let array = Arc::new(memory_array(UINT16_ZSTD));
        // 12 writers, one element each, all inside chunk (0, 0): each is a read-modify-write.
        std::thread::scope(|scope| {
            for i in 0..12u64 {
                let array = array.clone();
                scope.spawn(move || {
                    array
                        .write_region(&[i / 3, i % 3], &[1, 1], &to_bytes(&[i as u16]))
                        .unwrap()
                });
            }
        });
        let mut chunk = vec![0u8; 24];
        array.read_chunk(&[0, 0], &mut chunk).unwrap();
        assert_eq!(from_bytes(&chunk), (0..12).collect::<Vec<u16>>());
    }

    #[test]
    fn v2_names_and_fill_values_match_v3() {
        let array = memory_array(
            r#"{"zarr_format":2,"shape":[4],"chunks":[2],"dtype":"<f4","compressor":null,
                "fill_value":1.5,"order":"C","filters":null}"#,
        );
        assert_eq!(array.data_type_name(), "float32");
        assert_eq!(array.element_size(), 4);
        assert_eq!(array.fill_value(), 1.5f32.to_ne_bytes());
        assert_eq!(array.regular_chunk_shape().unwrap(), [2]);
    }
}
