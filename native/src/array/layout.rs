//! What an array's codecs and store allow, worked out once when a handle opens: the facts every
//! read and write path decides by.

use std::borrow::Cow;

use serde_json::{Map, Value};
use zarrs::array::data_type::api::codec_traits::bytes::BytesDataTypeExt;
use zarrs::array::{ArrayCodecTraits, ArrayMetadata, ArrayShardedExt, ChunkGrid, CodecTraits};
use zarrs::array::{DataType, Endianness};
use zarrs::metadata::v3::ArrayMetadataV3;

use super::ZarrsArray;
use super::direct::DirectChunks;
use super::shard_codecs::ShardCodecs;
use super::vlen::VlenKind;
use crate::error::{Error, ErrorKind, Result};

/// An array's layout: its element size and names, and what its codecs can do.
pub(super) struct Layout {
    /// The bytes of one element; 0 for a variable-length data type.
    pub element_size: usize,
    /// The data type's Zarr v3 name (v2 arrays report the same names).
    pub data_type_name: String,
    /// For a variable-length data type, what its elements hold.
    pub vlen: Option<VlenKind>,
    /// The chunk shape of a regular chunk grid; `None` for other grids.
    pub chunk_shape: Option<Vec<u64>>,
    /// The bytes of the largest chunk, and of a sharded array's inner chunks: what decoding or
    /// encoding one whole takes (checked against `config::max_chunk_bytes`).
    pub chunk_bytes: u64,
    pub inner_chunk_bytes: Option<u64>,
    /// Whether reading part of a chunk may take several store requests (sharding, uncompressed
    /// chunks), so such reads must not interleave with writes of that chunk. Reading a whole
    /// chunk is always one request, which the store makes atomic.
    pub partial_reads_need_locks: bool,
    /// Whether chunks carry a checksum (crc32c). zarrs checks it only when it decodes a whole
    /// chunk: its partial decoders strip the checksum unchecked. So while checksums are
    /// validated, reads of part of such a chunk decode the whole chunk.
    pub checksummed: bool,
    /// Whether the codecs can spread one chunk over several threads (sharding decodes and
    /// encodes inner chunks in parallel). If not, one-chunk operations skip the pool.
    pub splits_chunks: bool,
    /// For a sharded array, the grid of its inner chunks: reads spanning several of them decode
    /// them one by one (see `read_subset`).
    pub inner_chunk_grid: Option<ChunkGrid>,
    /// Whether chunks are stored as their elements' bytes in memory order (the `bytes` codec
    /// alone, little-endian or single-byte, on a little-endian machine): a whole chunk is then
    /// read from a local store straight into the caller's buffer.
    pub unencoded: bool,
    /// For chunks stored as `bytes` in memory order then `zstd` or `blosc` (and maybe `crc32c`),
    /// the decode that puts a whole chunk straight into the caller's buffer (`direct`).
    pub direct: Option<DirectChunks>,
    /// Whether chunks are stored under their chunk keys as they are (no storage transformers):
    /// a local store may then be written directly (`write::store_whole_chunk`).
    pub plain_keys: bool,
    /// For an array whose only codec is sharding, what zarrlib encodes whole shards and reads
    /// inner chunks with (`shard_encode`, `shard_decode`).
    pub shard_codecs: Option<std::sync::Arc<ShardCodecs>>,
    /// Whether chunks are v3 `bytes` in memory order then zarrlib's `zstd`, whose frames
    /// decode as far as asked (`zstd_codec::decode_at_least`): reads that end before a chunk's
    /// last plane along the first axis decode only up to it (`read::decode_piece`). zarrs'
    /// blosc decodes a prefix through its partial decoder for more than the whole chunk.
    pub decodes_prefixes: bool,
}

/// Codecs that carry a checksum of what they encode.
const CHECKSUM_CODECS: [&str; 4] = ["crc32c", "adler32", "fletcher32", "crc32"];

impl Layout {
    /// The layout of `array`, described by the caller's document `doc`.
    pub fn of(array: &ZarrsArray, doc: &Map<String, Value>) -> Result<Self> {
        let data_type = array.data_type();
        let v3 = v3_metadata(array)?;
        let vlen = VlenKind::of(&v3)?;
        let element_size = match (data_type.fixed_size(), vlen) {
            (Some(size), None) if !data_type.is_optional() => size,
            (None, Some(_)) => 0,
            _ => {
                return Err(Error::new(
                    ErrorKind::Unsupported,
                    format!(
                        "the data type {:?} is not supported (optional data types are not)",
                        v3.data_type.name()
                    ),
                ));
            }
        };
        let first_chunk = vec![0; array.dimensionality()];
        let chunk_shape = if v3.chunk_grid.name() == "regular" {
            let shape = array.chunk_shape(&first_chunk)?;
            Some(shape.iter().map(|d| d.get()).collect::<Vec<u64>>())
        } else {
            None
        };
        // The first chunk stands for all: zarrs' concurrency advice depends on the codecs, and
        // on the shape only through a shard's inner chunk count.
        let splits_chunks = array
            .chunk_shape(&first_chunk)
            .ok()
            .and_then(|shape| {
                let codecs = array.codecs();
                codecs.recommended_concurrency(&shape, data_type).ok()
            })
            .is_none_or(|concurrency| concurrency.max() > 1);
        // A variable-length chunk decodes to at least an offset per element (what zarrs makes
        // before any element's bytes), which is what the size limit is checked against.
        let unit_size = match vlen {
            Some(_) => size_of::<usize>(),
            None => element_size,
        };
        let bytes = |shape: &[u64]| {
            // Sizes were checked to fit in an isize when the array was built.
            shape.iter().product::<u64>() * unit_size as u64
        };
        let inner_chunk_bytes = array
            .effective_subchunk_shape()
            .map(|shape| bytes(&shape.iter().map(|d| d.get()).collect::<Vec<_>>()));
        let codecs = array.codecs();
        let direct = (v3.storage_transformers.is_empty() && vlen.is_none())
            .then(|| {
                DirectChunks::of(
                    codecs.array_to_array_codecs().len(),
                    codecs.array_to_bytes_codec().as_any(),
                    codecs.bytes_to_bytes_codecs(),
                    v3.codecs
                        .first()
                        .is_some_and(|codec| stores_memory_order(codec, data_type)),
                )
            })
            .flatten();
        Ok(Self {
            direct,
            element_size,
            data_type_name: match vlen {
                Some(kind) => kind.name().to_owned(),
                // The data type's own name: for one zarrlib registers, the v3 form below has
                // a stand-in.
                None => data_type
                    .name_v3()
                    .map_or_else(|| v3.data_type.name().to_owned(), |n| n.into_owned()),
            },
            vlen,
            chunk_bytes: bytes(&match &chunk_shape {
                Some(shape) => shape.clone(),
                None => largest_chunk(array)?,
            }),
            inner_chunk_bytes,
            chunk_shape,
            partial_reads_need_locks: array.codecs().partial_decoder_capability().partial_read,
            checksummed: has_checksum(doc),
            splits_chunks,
            inner_chunk_grid: array.is_sharded().then(|| array.subchunk_grid()),
            plain_keys: v3.storage_transformers.is_empty(),
            shard_codecs: ShardCodecs::of(&v3).map(std::sync::Arc::new),
            // The v3 form leaves out v2 codecs zarrs cannot convert: a v2 array's own
            // compressor and filters are checked too.
            decodes_prefixes: matches!(array.metadata(), ArrayMetadata::V3(_))
                && v3.storage_transformers.is_empty()
                && matches!(v3.codecs.as_slice(), [bytes, compressor]
                    if stores_memory_order(bytes, data_type) && compressor.name() == "zstd"),
            unencoded: v3.storage_transformers.is_empty()
                && vlen.is_none()
                && v2_codecs_are_none(array)
                && matches!(v3.codecs.as_slice(), [codec] if stores_memory_order(codec, data_type)),
        })
    }

    pub fn regular_chunk_shape(&self) -> Result<&[u64]> {
        self.chunk_shape.as_deref().ok_or_else(|| {
            Error::new(
                ErrorKind::Unsupported,
                "the array's chunk grid is not regular",
            )
        })
    }
}

/// The shape of the largest chunk of a grid other than a regular one: on each axis, the longest
/// chunk along it. Such grids list their chunks' extents in the document, so walking each axis
/// is bounded by the document's size.
fn largest_chunk(array: &ZarrsArray) -> Result<Vec<u64>> {
    let ndim = array.dimensionality();
    let mut index = vec![0; ndim];
    let first: Vec<u64> = array.chunk_shape(&index)?.iter().map(|d| d.get()).collect();
    let grid = array.chunk_grid_shape().to_vec();
    let mut largest = first;
    for axis in 0..ndim {
        for i in 1..grid[axis] {
            index[axis] = i;
            let extent = array.chunk_shape(&index)?[axis].get();
            largest[axis] = largest[axis].max(extent);
        }
        index[axis] = 0;
    }
    Ok(largest)
}

/// Whether the array is a v3 one, or a v2 one with neither compressor nor filters.
fn v2_codecs_are_none(array: &ZarrsArray) -> bool {
    match array.metadata() {
        ArrayMetadata::V3(_) => true,
        ArrayMetadata::V2(v2) => {
            v2.compressor.is_none() && v2.filters.as_ref().is_none_or(Vec::is_empty)
        }
    }
}

/// The Zarr v3 form of the array's metadata, which zarrs derives for v2 arrays too, so names and
/// grid kinds read alike for both: v2 "<u2" and v3 "uint16" are both "uint16".
fn v3_metadata(array: &ZarrsArray) -> Result<ArrayMetadataV3> {
    let v2 = match array.metadata() {
        ArrayMetadata::V3(v3) => return Ok(v3.clone()),
        ArrayMetadata::V2(v2) => v2,
    };
    // zarrs converts v2 codecs and data types through its built-in ones only (and panics on a
    // codec it built from the runtime registry, such as src/numcodecs'), so codecs it cannot
    // convert are left out, and a data type zarrlib registers (src/dtypes) stands as raw bits
    // of its size: the v3 form serves for the grid, the array keeps its own codecs and type.
    let mut v2 = v2.clone();
    for _ in 0..=v2.filters.as_ref().map_or(0, Vec::len) + 2 {
        match zarrs::convert::array_metadata_v2_to_v3(&v2) {
            Ok(v3) => return Ok(v3),
            Err(zarrs::convert::ArrayMetadataV2ToV3Error::UnsupportedDataType(_)) => {
                let size = array.data_type().fixed_size().unwrap_or(1);
                v2.dtype = format!("|V{size}").into();
                v2.fill_value = zarrs::array::FillValueMetadata::Null;
            }
            Err(zarrs::convert::ArrayMetadataV2ToV3Error::UnsupportedCodec(id, _)) => {
                if v2.compressor.as_ref().is_some_and(|c| c.id() == id) {
                    v2.compressor = None;
                }
                if let Some(filters) = v2.filters.as_mut() {
                    filters.retain(|f| f.id() != id);
                }
            }
            Err(err) => return Err(Error::new(ErrorKind::Unsupported, err.to_string())),
        }
    }
    Err(Error::new(
        ErrorKind::Internal,
        "metadata did not convert to v3",
    ))
}

/// Whether a chunk's codecs (or a sharded chunk's inner codecs) include a checksum. Shard
/// indexes are always decoded whole, so `index_codecs` do not count.
fn has_checksum(doc: &Map<String, Value>) -> bool {
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
        CHECKSUM_CODECS.contains(&name.trim_start_matches("numcodecs."))
            || (name == "sharding_indexed"
                && codec_list(codec.get("configuration").and_then(|c| c.get("codecs"))))
    }
    codec_list(doc.get("codecs"))
        || codec_list(doc.get("filters"))
        || doc.get("compressor").is_some_and(codec)
}

/// Whether `codec` (the array's only codec) stores elements as they are in memory: a `bytes`
/// codec whose encoding of this data type, in the byte order it names (or none), leaves the
/// bytes as they are (single-byte types, the machine's own order, records in their stored
/// little-endian order on a little-endian machine).
fn stores_memory_order(codec: &zarrs::metadata::v3::MetadataV3, data_type: &DataType) -> bool {
    let Ok(value) = serde_json::to_value(codec) else {
        return false;
    };
    let (name, endian) = match &value {
        Value::String(name) => (name.as_str(), None),
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
    let endianness = match endian {
        None => None,
        Some("little") => Some(Endianness::Little),
        Some("big") => Some(Endianness::Big),
        Some(_) => return false,
    };
    let Some(size) = data_type.fixed_size() else {
        return false;
    };
    let element = vec![0u8; size];
    name == "bytes"
        && data_type.codec_bytes().is_ok_and(|bytes| {
            matches!(
                bytes.encode(Cow::Borrowed(&element), endianness),
                Ok(Cow::Borrowed(_))
            )
        })
}
