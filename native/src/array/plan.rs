//! The read policy of one call, decided once from one snapshot of the settings, so the read
//! path, the grid it splits along and the locks it takes can never disagree.

use zarrs::array::{ArraySubset, ChunkGrid};

use super::ArrayHandle;
use crate::chunk_locks::{Access, ChunkLocks};
use crate::config::Settings;
use crate::error::{Error, ErrorKind, Result};

/// How one read runs.
pub(super) struct ReadPlan<'a> {
    pub settings: Settings,
    /// The grid reads are split along: a sharded array's inner chunk grid when `inner_chunks`,
    /// otherwise the chunk grid.
    pub grid: &'a ChunkGrid,
    /// Whether a sharded array is read by inner chunk, through the handle's shard index cache
    /// (`shard_cache`). Not while checksums go unvalidated: shard indexes are decoded with
    /// default codec options, which validate them. Nor for inner chunks with a checksum while
    /// checksums are validated: zarrs' partial decoders do not check it.
    pub inner_chunks: bool,
    /// Whether reads decode whole chunks, so that their checksums are validated.
    pub whole_chunks: bool,
    /// Whether reading part of a chunk takes several store requests, so it holds read locks
    /// against this process's writers: zarrs' partial decoders, and inner-chunk reads (the
    /// index, then each inner chunk).
    pub locks_partial_reads: bool,
}

impl ArrayHandle {
    /// The plan for a read starting now.
    pub(super) fn read_plan(&self) -> Result<ReadPlan<'_>> {
        let plan = self.read_plan_with(self.settings());
        // Read by inner chunk, or partially decoded by zarrs, a sharded array's shards are never
        // decoded whole: only its inner chunks are.
        let (what, bytes) = match self.layout.inner_chunk_bytes {
            Some(inner) if !plan.whole_chunks => ("an inner chunk", inner),
            _ => ("a chunk", self.layout.chunk_bytes),
        };
        check_size(what, bytes, plan.settings.max_chunk_bytes)?;
        Ok(plan)
    }

    /// The settings for a write starting now. A write encodes whole chunks (and a partial one
    /// decodes the chunk first), shards included.
    pub(super) fn write_settings(&self) -> Result<Settings> {
        let settings = self.settings();
        check_size("a chunk", self.layout.chunk_bytes, settings.max_chunk_bytes)?;
        Ok(settings)
    }

    /// The settings in force now, for this array's store, with this handle's options.
    fn settings(&self) -> Settings {
        self.options.apply(Settings {
            waits_on_requests: self.store.waits_on_requests,
            ..Settings::current()
        })
    }

    /// The plan for a read under `settings`.
    pub(super) fn read_plan_with(&self, settings: Settings) -> ReadPlan<'_> {
        let layout = &self.layout;
        // zarrs' sharded-read extension strips inner chunks' checksums unchecked, so checksummed
        // shards are read whole while checksums are validated.
        let inner_grid = layout
            .inner_chunk_grid
            .as_ref()
            .filter(|_| settings.validate_checksums && !layout.checksummed);
        ReadPlan {
            settings,
            grid: inner_grid.unwrap_or(self.array.chunk_grid()),
            inner_chunks: inner_grid.is_some(),
            whole_chunks: layout.checksummed && settings.validate_checksums,
            locks_partial_reads: layout.partial_reads_need_locks || inner_grid.is_some(),
        }
    }

    /// Lock every chunk of `chunks` (a subset of the chunk grid).
    pub(super) fn lock_region(
        &self,
        chunks: &ArraySubset,
        access: Access,
    ) -> Result<ChunkLocks<'_>> {
        let indices = chunks.indices().into_iter();
        self.locks.lock(access, chunks.num_elements(), indices)
    }
}

/// Refuse to decode or encode `what` of `bytes` bytes whole when that is more than `limit`.
fn check_size(what: &str, bytes: u64, limit: u64) -> Result<()> {
    if bytes > limit {
        return Err(Error::new(
            ErrorKind::Unsupported,
            format!(
                "{what} of this array holds {bytes} bytes, more than the {limit} bytes the engine decodes or encodes whole (raise the max_chunk_bytes setting if that is intended)"
            ),
        ));
    }
    Ok(())
}

impl ReadPlan<'_> {
    /// How many read units `subset` spans, `chunks` being the chunks it touches: the work a
    /// read spreads over the pool.
    pub fn units_in(&self, subset: &ArraySubset, chunks: &ArraySubset) -> u64 {
        if !self.inner_chunks {
            return chunks.num_elements();
        }
        self.grid
            .chunks_in_array_subset(subset)
            .ok()
            .flatten()
            .map_or(chunks.num_elements(), |units| units.num_elements())
    }
}
