//! Writing chunks and regions from the caller's buffer, and deleting chunks. Every write holds
//! the write locks of the chunks it touches, so concurrent partial writes never lose an update,
//! and drops the shard indexes the handle kept for them (`shard_cache`).

use std::borrow::Cow;

use zarrs::array::{ArrayBytes, ArraySubset};

use super::ArrayHandle;
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
                let bytes = ArrayBytes::new_flen(Cow::Borrowed(data));
                Ok(self.array.store_chunk_opt(chunk, bytes, options)?)
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
            let bytes = ArrayBytes::new_flen(Cow::Borrowed(data));
            Ok(self.array.store_array_subset_opt(subset, bytes, options)?)
        });
        self.forget_shards_in(&chunks);
        written
    }
}
