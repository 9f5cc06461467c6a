//! Writing chunks and regions from the caller's buffer, and deleting chunks. Every write holds
//! the write locks of the chunks it touches, so concurrent partial writes never lose an update,
//! and drops the shard indexes the handle kept for them (`shard_cache`).
//!
//! Two copies of zarrs' write path are left out (profiled on the bench's 512³ uint16 array of
//! 128³ chunks):
//! - A region over several chunks: zarrs cut each chunk's block out of the caller's buffer with
//!   an iterator that unravels and ravels every run (18 % of a raw whole-array write, beside
//!   33 % in the copy itself). Here each block is copied run by run (`box_copy`) into the buffer
//!   the chunk is encoded from.
//! - A whole chunk on a local store: zarrs encodes it and then copies the encoded bytes into a
//!   buffer of its own for the store (`Bytes`), which for an unencoded chunk is a copy of the
//!   caller's 4 MiB (14 % of writing raw chunks one by one). Here the encoded bytes, the
//!   caller's own when the codecs leave them as they are, go to the file as they are.

use std::borrow::Cow;

use rayon::prelude::*;
use zarrs::array::concurrency::concurrency_chunks_and_codec;
use zarrs::array::{
    ArrayBytes, ArrayBytesRaw, ArrayCodecTraits, ArraySubset, ArrayToBytesCodecTraits, CodecOptions,
};

use super::ArrayHandle;
use super::checks::{internal, offsets};
use crate::box_copy::{Place, for_each_run};
use crate::chunk_locks::Access;
use crate::config::Settings;
use crate::error::Result;

impl ArrayHandle {
    /// Write a whole chunk. A chunk that is entirely the fill value is erased rather than stored,
    /// unless storing empty chunks is configured.
    pub fn write_chunk(&self, chunk: &[u64], data: &[u8]) -> Result<()> {
        self.check_fixed("write_chunk_vlen")?;
        let shape = self.chunk_shape_at(chunk)?;
        self.check_buffer(&shape, data.len())?;
        let _locks = self.locks.lock_one(Access::Write, chunk)?;
        let splits = self.layout.splits_chunks;
        let written = self
            .write_settings()?
            .run_sized(1, data.len(), splits, |options| {
                self.store_whole_chunk(chunk, Cow::Borrowed(data), options)
            });
        self.forget_shards([chunk]);
        written
    }

    pub fn delete_chunk(&self, chunk: &[u64]) -> Result<()> {
        self.chunk_shape_at(chunk)?;
        let _locks = self.locks.lock_one(Access::Write, chunk)?;
        let erased = self.array.erase_chunk(chunk);
        self.forget_shards([chunk]);
        Ok(erased?)
    }

    /// Write a region. Chunks the region covers only in part are read, updated and written back.
    pub fn write_region(&self, start: &[u64], shape: &[u64], data: &[u8]) -> Result<()> {
        self.check_fixed("write_region_vlen")?;
        let subset = self.region(start, shape)?;
        self.check_buffer(shape, data.len())?;
        if subset.num_elements() == 0 {
            return Ok(());
        }
        self.write_box(&self.write_settings()?, &subset, data)
    }

    /// Write a checked, non-empty region from `data`.
    pub(super) fn write_box(
        &self,
        settings: &Settings,
        subset: &ArraySubset,
        data: &[u8],
    ) -> Result<()> {
        let chunks = self.region_chunks(subset)?;
        let _locks = self.lock_region(&chunks, Access::Write)?;
        let splits = self.layout.splits_chunks;
        let written = settings.run_sized(chunks.num_elements(), data.len(), splits, |options| {
            if chunks.num_elements() == 1 {
                return self.write_in_chunk(chunks.start(), subset, data, options);
            }
            self.write_chunks_of(&chunks, subset, data, options)
        });
        self.forget_shards_in(&chunks);
        written
    }

    /// Write `subset` (elements in `data`, C order) chunk by chunk, chunks in parallel as zarrs
    /// would spread them: the same split of `options`' concurrency between chunks and codecs.
    fn write_chunks_of(
        &self,
        chunks: &ArraySubset,
        subset: &ArraySubset,
        data: &[u8],
        options: &CodecOptions,
    ) -> Result<()> {
        let indices: Vec<Vec<u64>> = chunks.indices().into_iter().map(|c| c.to_vec()).collect();
        let chunk_shape = self.array.chunk_shape(&indices[0])?;
        let codec_concurrency = self
            .array
            .codecs()
            .recommended_concurrency(&chunk_shape, self.array.data_type())
            .map_err(zarrs::array::ArrayError::from)?;
        let (chunk_limit, options) = concurrency_chunks_and_codec(
            options.concurrent_target(),
            indices.len(),
            options,
            &codec_concurrency,
        );
        let write = |chunk: &Vec<u64>| self.write_in_chunk(chunk, subset, data, &options);
        if chunk_limit <= 1 {
            indices.iter().try_for_each(write)
        } else {
            indices.par_iter().try_for_each(write)
        }
    }

    /// Write the part of `subset` (elements in `data`) that lies in chunk `chunk`: a whole chunk
    /// is encoded and stored, a part read, updated and written back (zarrs' read-modify-write).
    fn write_in_chunk(
        &self,
        chunk: &[u64],
        subset: &ArraySubset,
        data: &[u8],
        options: &CodecOptions,
    ) -> Result<()> {
        let chunk_subset = self.array.chunk_subset(chunk)?;
        let piece = chunk_subset.overlap(subset).map_err(|e| internal(&e))?;
        let bytes = if piece == *subset {
            Cow::Borrowed(data)
        } else {
            Cow::Owned(self.cut_out(data, subset, &piece))
        };
        if piece == chunk_subset {
            return self.store_whole_chunk(chunk, bytes, options);
        }
        let in_chunk = piece
            .relative_to(chunk_subset.start())
            .map_err(|e| internal(&e))?;
        Ok(self.array.store_chunk_subset_opt(
            chunk,
            &in_chunk,
            ArrayBytes::new_flen(bytes),
            options,
        )?)
    }

    /// The elements of `piece` (C order), out of `data`, which holds `subset` (C order).
    /// `piece` lies inside `subset`.
    fn cut_out(&self, data: &[u8], subset: &ArraySubset, piece: &ArraySubset) -> Vec<u8> {
        let element_size = self.element_size();
        let length = piece.num_elements_usize() * element_size;
        let mut out = Vec::with_capacity(length);
        let start = offsets(piece.start(), subset.start());
        let zeros = vec![0; piece.dimensionality()];
        let from = Place {
            shape: subset.shape(),
            start: &start,
        };
        let to = Place {
            shape: piece.shape(),
            start: &zeros,
        };
        // The runs come in the target's C order, each one where the last ended: appending
        // them fills `out` without first zeroing it.
        for_each_run(from, to, piece.shape(), element_size, |from, to, len| {
            debug_assert_eq!(to, out.len());
            out.extend_from_slice(&data[from..from + len]);
        });
        debug_assert_eq!(out.len(), length);
        out
    }

    /// Store `data` as the whole chunk `chunk`, as zarrs' `store_chunk_opt` does (a chunk that
    /// is entirely the fill value is erased unless empty chunks are stored), but on a local
    /// store the encoded bytes go to the file without zarrs' owned copy of them, and a shard is
    /// encoded by `shard_encode`.
    pub(super) fn store_whole_chunk(
        &self,
        chunk: &[u64],
        data: Cow<'_, [u8]>,
        options: &CodecOptions,
    ) -> Result<()> {
        let bytes = ArrayBytes::new_flen(data);
        let Some(local) = self
            .store
            .local_writes
            .as_ref()
            .filter(|_| self.layout.plain_keys)
        else {
            return Ok(self.array.store_chunk_opt(chunk, bytes, options)?);
        };
        if !options.store_empty_chunks() && bytes.is_fill_value(self.array.fill_value()) {
            return Ok(self.array.erase_chunk(chunk)?);
        }
        let shape = self.array.chunk_shape(chunk)?;
        let elements = shape.iter().map(|d| d.get()).product();
        bytes
            .validate(elements, self.array.data_type())
            .map_err(|e| internal(&e))?;
        let (data_type, fill_value) = (self.array.data_type(), self.array.fill_value());
        let shard = match (&self.layout.shard_codecs, &bytes) {
            (Some(encoder), ArrayBytes::Fixed(elements)) => {
                encoder.encode(elements, &shape, data_type, fill_value, options)?
            }
            _ => None,
        };
        let encoded: ArrayBytesRaw<'_> = match shard {
            Some(shard) => Cow::Owned(shard),
            None => self
                .array
                .codecs()
                .encode(bytes, &shape, data_type, fill_value, options)
                .map_err(zarrs::array::ArrayError::CodecError)?,
        };
        local
            .write_replacing(&self.array.chunk_key(chunk), &encoded)
            .map_err(zarrs::storage::StorageError::from)?;
        Ok(())
    }
}
