//! Reading inner chunks of shards straight from the store, for arrays whose only codec is
//! `sharding_indexed` (`ShardCodecs`).
//!
//! Why: zarrs reads each inner chunk through a partial decoder it builds for that inner chunk
//! (a chain of them over a byte-interval view of the shard), which asks the store for the inner
//! chunk's bytes on its own (on a local store: open, stat, seek, read, close per inner chunk),
//! zero-fills an output buffer, decodes into a third buffer and copies twice on the way. perf on
//! `[::4, ::4, ::4]` of the bench's sharded layout (128³ shards of 32³ zstd inner chunks, 4,096
//! inner chunks per read) put 7 syscalls per inner chunk and 5-6 % of the time in those copies,
//! allocations and the zero fill. Here a call reads all the inner chunks it needs from one shard
//! with one store request (a local store opens the file once and reads neighbouring ranges in
//! one go), and decodes each with the inner codec chain straight from the bytes read.
//!
//! The hostile-data checks stay where they were: the index is decoded by the index codec chain,
//! which validates its checksum and carries zarrlib's index check (`shard_index`: an entry whose
//! end passes 2^64 is corrupt); a range past the end of the shard is an invalid byte range,
//! which is corrupt data; inner chunks decode through the same codecs as zarrs' (the zstd codec
//! bounds a frame by the inner chunk's size). Requests are batched up to [`BATCH_BYTES`]: an
//! index whose entries all point at one large range cannot make a call hold that range once per
//! entry.

use std::borrow::Cow;
use std::num::NonZeroU64;
use std::sync::Arc;

use zarrs::array::codec::api::BytesPartialDecoderTraits;
use zarrs::array::{
    ArrayBytesRaw, ArrayError, ArraySubset, ArrayToBytesCodecTraits, BytesRepresentation,
    CodecError, CodecOptions, DataType, FillValue,
};
use zarrs::storage::byte_range::{ByteRange, ByteRangeIterator, extract_byte_ranges};
use zarrs::storage::{Bytes, ReadableStorageTraits, StorageError, StoreKey};

use super::checks::internal;
use super::shard_codecs::ShardCodecs;
use crate::error::Result;

/// The most encoded bytes one store request for a shard's inner chunks asks for (more inner
/// chunks make more requests; one larger inner chunk is a request of its own).
pub(super) const BATCH_BYTES: u64 = 16 << 20;

/// A shard's decoded index: offset and length of each inner chunk in C order, `u64::MAX`
/// twice for an inner chunk that is not stored.
pub(super) struct ShardIndex {
    /// `None`: the shard is not stored.
    entries: Option<Vec<u64>>,
}

impl ShardIndex {
    /// Bytes held, for the cache's bound.
    pub fn size_held(&self) -> usize {
        self.entries
            .as_ref()
            .map_or(0, |e| e.len() * size_of::<u64>())
    }

    /// The byte range of inner chunk `n` (C order within the shard), `None` if it is not stored.
    pub fn range(&self, n: u64) -> Result<Option<(u64, u64)>> {
        let Some(entries) = &self.entries else {
            return Ok(None);
        };
        let at = usize::try_from(n)
            .ok()
            .and_then(|n| n.checked_mul(2))
            .filter(|&at| at + 1 < entries.len())
            .ok_or_else(|| internal(&format!("no inner chunk {n} in a shard index")))?;
        match (entries[at], entries[at + 1]) {
            (u64::MAX, u64::MAX) => Ok(None),
            (offset, length) => Ok(Some((offset, length))),
        }
    }
}

impl ShardCodecs {
    /// Inner chunks along each axis of a shard of `shard_shape`; `None` if they do not divide it.
    pub fn inner_grid(&self, shard_shape: &[u64]) -> Option<Vec<u64>> {
        if shard_shape.len() != self.inner_shape.len() {
            return None;
        }
        std::iter::zip(shard_shape, &self.inner_shape)
            .map(|(&s, i)| (s % i.get() == 0).then_some(s / i.get()))
            .collect()
    }

    /// Read and decode the index of the shard at `key` (of `shard_shape`). A shard that is not
    /// stored has an index with no entries.
    pub fn read_index(
        &self,
        storage: &dyn ReadableStorageTraits,
        key: &StoreKey,
        shard_shape: &[u64],
    ) -> Result<ShardIndex> {
        let grid = self
            .inner_grid(shard_shape)
            .ok_or_else(|| internal(&"inner chunks that do not divide the shard"))?;
        let mut index_shape = grid
            .iter()
            .map(|&n| NonZeroU64::new(n).ok_or_else(|| internal(&"an empty shard")))
            .collect::<Result<Vec<_>>>()?;
        index_shape.push(NonZeroU64::MIN.saturating_add(1));
        let index_type = zarrs::array::data_type::uint64();
        let index_fill = FillValue::from(u64::MAX);
        let size =
            match self
                .index_codecs
                .encoded_representation(&index_shape, &index_type, &index_fill)
            {
                Ok(BytesRepresentation::FixedSize(size)) => size,
                _ => return Err(internal(&"a shard index without a fixed size")),
            };
        let range = if self.index_at_start {
            ByteRange::FromStart(0, Some(size))
        } else {
            ByteRange::Suffix(size)
        };
        let Some(encoded) = storage.get_partial(key, range)? else {
            return Ok(ShardIndex { entries: None });
        };
        // Default options, as zarrs: the index's checksum is validated whatever the call's
        // settings.
        let decoded = self
            .index_codecs
            .decode(
                Cow::Borrowed(&encoded),
                &index_shape,
                &index_type,
                &index_fill,
                &CodecOptions::default(),
            )
            .map_err(ArrayError::CodecError)?
            .into_fixed()
            .map_err(|e| internal(&e))?;
        let entries = decoded
            .as_chunks::<8>()
            .0
            .iter()
            .map(|v| u64::from_ne_bytes(*v))
            .collect();
        Ok(ShardIndex {
            entries: Some(entries),
        })
    }

    /// Decode an inner chunk from its stored bytes: all of it (`piece` `None`), or only `piece`
    /// (relative to the inner chunk), through the inner codecs' partial decoders, which decode
    /// a zstd frame only as far as the piece needs.
    pub fn decode_inner(
        &self,
        encoded: Bytes,
        piece: Option<&ArraySubset>,
        data_type: &DataType,
        fill_value: &FillValue,
        options: &CodecOptions,
    ) -> Result<ArrayBytesRaw<'static>> {
        let decoded = match piece {
            None => self
                .inner_codecs
                .decode(
                    Cow::Borrowed(&encoded),
                    &self.inner_shape,
                    data_type,
                    fill_value,
                    options,
                )
                .map_err(ArrayError::CodecError)?
                .into_owned(),
            Some(piece) => self
                .inner_codecs
                .clone()
                .partial_decoder(
                    Arc::new(StoredBytes(encoded)),
                    &self.inner_shape,
                    data_type,
                    fill_value,
                    options,
                )
                .and_then(|decoder| {
                    let decoded = decoder.partial_decode(piece, options)?;
                    Ok(decoded.into_owned())
                })
                .map_err(ArrayError::CodecError)?,
        };
        decoded.into_fixed().map_err(|e| internal(&e))
    }
}

/// Split `ranges` (offset, length) into runs to ask for in one request each: at most
/// [`BATCH_BYTES`] by their lengths, or one range alone.
pub(super) fn batches(ranges: &[(u64, u64)]) -> Vec<std::ops::Range<usize>> {
    let mut batches = Vec::new();
    let mut first = 0;
    while first < ranges.len() {
        let mut end = first + 1;
        let mut bytes = ranges[first].1;
        while end < ranges.len() && bytes.saturating_add(ranges[end].1) <= BATCH_BYTES {
            bytes += ranges[end].1;
            end += 1;
        }
        batches.push(first..end);
        first = end;
    }
    batches
}

/// Read the byte ranges `ranges` (offset, length) of the value at `key` with one request.
/// `None` if the value is not stored; a range past its end is an invalid byte range.
pub(super) fn fetch(
    storage: &dyn ReadableStorageTraits,
    key: &StoreKey,
    ranges: &[(u64, u64)],
) -> Result<Option<Vec<Bytes>>> {
    let wanted: ByteRangeIterator<'_> = Box::new(
        ranges
            .iter()
            .map(|&(offset, length)| ByteRange::FromStart(offset, Some(length))),
    );
    let Some(values) = storage.get_partial_many(key, wanted)? else {
        return Ok(None);
    };
    let values = values.collect::<std::result::Result<Vec<Bytes>, StorageError>>()?;
    if values.len() != ranges.len() {
        return Err(internal(&format!(
            "a store returned {} byte ranges for {} asked for",
            values.len(),
            ranges.len()
        )));
    }
    Ok(Some(values))
}

/// An inner chunk's stored bytes, as the input of the inner codecs' partial decoders.
struct StoredBytes(Bytes);

impl BytesPartialDecoderTraits for StoredBytes {
    fn exists(&self) -> std::result::Result<bool, StorageError> {
        Ok(true)
    }

    fn size_held(&self) -> usize {
        self.0.len()
    }

    fn partial_decode_many(
        &self,
        decoded_regions: ByteRangeIterator,
        _options: &CodecOptions,
    ) -> std::result::Result<Option<Vec<ArrayBytesRaw<'_>>>, CodecError> {
        let regions: Vec<ByteRange> = decoded_regions.collect();
        // The whole value (what a codec that cannot start mid-value asks for): no copy.
        if let [ByteRange::FromStart(0, None)] = regions[..] {
            return Ok(Some(vec![Cow::Borrowed(&self.0[..])]));
        }
        let values = extract_byte_ranges(&self.0, regions.into_iter())
            .map_err(CodecError::InvalidByteRangeError)?;
        Ok(Some(values.into_iter().map(Cow::Owned).collect()))
    }

    fn supports_partial_decode(&self) -> bool {
        true
    }
}
