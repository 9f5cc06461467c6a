//! Shard indexes kept between reads, never stale.
//!
//! Reading part of a shard starts with its index (one request, then a decode), then reads the
//! inner chunks the index points at. zarrs keeps what it decoded in a partial decoder built for
//! that shard, which zarrlib used to build afresh on every call. Here each handle keeps those
//! decoders (and so the decoded indexes) between calls, keyed on the shard's store key, together
//! with the version of the shard's value the store gave before the index was read
//! (`value_versions`). Every call asks the store for the version again the first time it touches
//! a shard, and uses the kept decoder only if it is the same: a shard rewritten since, by this
//! handle, another one or another process, is read again. Stores that give no version (object
//! stores, callback stores, zip files), and files written too recently to vouch for, keep
//! nothing: their indexes are read once per call, as before.
//!
//! Within one call, a shard's decoder is looked up once ([`ShardReads`]), so the inner chunks
//! the call reads all use the index that call read; a shard rewritten during a call is the same
//! race it always was (this process's writers hold chunk locks against it).
//!
//! Each index is decoded through the array's codec chain, which carries the hostile-index check
//! (`shard_index`), whether it is then kept or not. The cache is bounded: at most
//! [`MAX_ENTRIES`] shards and [`MAX_BYTES`] bytes held by their decoders (an index, or a whole
//! shard where a codec after sharding makes zarrs read it whole); the least recently used go
//! first.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use unsafe_cell_slice::UnsafeCellSlice;
use zarrs::array::{
    ArrayBytes, ArrayBytesDecodeIntoTarget, ArrayBytesFixedDisjointView, ArrayError,
    ArrayPartialDecoderTraits, ArraySubset, CodecOptions,
};
use zarrs::storage::StoreKey;

use super::ArrayHandle;
use super::checks::internal;
use crate::error::Result;
use crate::value_versions::ValueVersion;

/// The most shards one handle keeps: 4,096 indexes of 64 inner chunks are 4 MiB.
pub(super) const MAX_ENTRIES: usize = 4096;

/// The most bytes the kept decoders of one handle may hold.
pub(super) const MAX_BYTES: usize = 64 << 20;

/// Bookkeeping per entry beyond what its decoder holds (key, map slot, version).
const ENTRY_OVERHEAD: usize = 256;

/// Past this many shards written, a write drops every kept index rather than look each up.
const FORGET_ONE_BY_ONE: u64 = 64;

type Decoder = Arc<dyn ArrayPartialDecoderTraits>;

/// One handle's kept shard decoders.
#[derive(Default)]
pub(super) struct ShardIndexCache {
    entries: Mutex<Entries>,
}

#[derive(Default)]
struct Entries {
    map: HashMap<StoreKey, Entry>,
    bytes: usize,
    /// Counts uses, to find the least recently used entries.
    clock: u64,
}

struct Entry {
    version: ValueVersion,
    decoder: Decoder,
    bytes: usize,
    used: u64,
}

impl ShardIndexCache {
    fn lock(&self) -> MutexGuard<'_, Entries> {
        // The map is consistent between statements: a panic elsewhere leaves it usable.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The decoder kept for `key` if it was built from the value at `version`. One built from
    /// another version is dropped.
    fn get(&self, key: &StoreKey, version: ValueVersion) -> Option<Decoder> {
        let mut entries = self.lock();
        entries.clock += 1;
        let clock = entries.clock;
        match entries.map.get_mut(key) {
            Some(entry) if entry.version == version => {
                entry.used = clock;
                Some(entry.decoder.clone())
            }
            Some(_) => {
                entries.remove(key);
                None
            }
            None => None,
        }
    }

    /// Keep `decoder`, built from the value of `key` at `version`.
    fn insert(&self, key: StoreKey, version: ValueVersion, decoder: Decoder) {
        let bytes = decoder.size_held().saturating_add(ENTRY_OVERHEAD);
        if bytes > MAX_BYTES / 8 {
            // One shard read whole would push out most others: it is read again instead.
            return;
        }
        let mut entries = self.lock();
        entries.clock += 1;
        let used = entries.clock;
        entries.remove(&key);
        entries.bytes += bytes;
        let entry = Entry {
            version,
            decoder,
            bytes,
            used,
        };
        entries.map.insert(key, entry);
        if entries.map.len() > MAX_ENTRIES || entries.bytes > MAX_BYTES {
            entries.evict();
        }
    }

    /// Drop what is kept for `key` (a write through the handle replaced it).
    pub(super) fn forget(&self, key: &StoreKey) {
        self.lock().remove(key);
    }

    /// Drop everything kept.
    pub(super) fn clear(&self) {
        let mut entries = self.lock();
        entries.map.clear();
        entries.bytes = 0;
    }

    /// How many shards are kept.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.lock().map.len()
    }
}

impl Entries {
    fn remove(&mut self, key: &StoreKey) {
        if let Some(old) = self.map.remove(key) {
            self.bytes -= old.bytes;
        }
    }

    /// Drop the least recently used entries down to 7/8 of both bounds, so eviction (a sort)
    /// runs once per many insertions.
    fn evict(&mut self) {
        let mut by_age: Vec<(u64, StoreKey)> = self
            .map
            .iter()
            .map(|(key, entry)| (entry.used, key.clone()))
            .collect();
        by_age.sort_unstable_by_key(|(used, _)| *used);
        for (_, key) in by_age {
            if self.map.len() <= MAX_ENTRIES / 8 * 7 && self.bytes <= MAX_BYTES / 8 * 7 {
                break;
            }
            self.remove(&key);
        }
    }
}

/// The shards one read call touches: each shard's decoder, looked up (and its version checked)
/// once per call.
pub(super) struct ShardReads<'a> {
    handle: &'a ArrayHandle,
    seen: Mutex<HashMap<Vec<u64>, Decoder>>,
}

impl ArrayHandle {
    /// Start the shard lookups of one read of a sharded array.
    pub(super) fn shard_reads(&self) -> ShardReads<'_> {
        ShardReads {
            handle: self,
            seen: Mutex::default(),
        }
    }

    /// Drop the kept index of each chunk (shard) in `chunks`, which a write through this handle
    /// is about to replace. (The version check would catch it; this frees the entry at once.)
    pub(super) fn forget_shards<C: AsRef<[u64]>>(&self, chunks: impl IntoIterator<Item = C>) {
        if self.layout.inner_chunk_grid.is_none() {
            return;
        }
        for chunk in chunks {
            self.shard_cache
                .forget(&self.array.chunk_key(chunk.as_ref()));
        }
    }

    /// Drop the kept indexes of the chunks (shards) in `chunks`, a box of the chunk grid: one
    /// by one for a few, all at once for more.
    pub(super) fn forget_shards_in(&self, chunks: &ArraySubset) {
        if chunks.num_elements() > FORGET_ONE_BY_ONE {
            self.shard_cache.clear();
        } else {
            self.forget_shards(chunks.indices());
        }
    }
}

impl ShardReads<'_> {
    /// The partial decoder of shard `shard`: this call's, the one kept if the store still gives
    /// the version it was built from, or a new one (reading the index).
    fn decoder(&self, shard: &[u64]) -> Result<Decoder> {
        if let Some(decoder) = self.seen().get(shard) {
            return Ok(decoder.clone());
        }
        let handle = self.handle;
        let key = handle.array.chunk_key(shard);
        // Taken before the index is read: a change after this point shows as another version.
        let version = handle
            .store
            .versions
            .as_ref()
            .and_then(|source| source.version(&key));
        let kept = version.and_then(|version| handle.shard_cache.get(&key, version));
        let decoder = match kept {
            Some(decoder) => decoder,
            None => {
                // Default options, as zarrs' sharded-read extension: the index's checksum is
                // validated whatever the call's settings.
                let decoder = handle
                    .array
                    .partial_decoder_opt(shard, &CodecOptions::default())?;
                if let Some(version) = version {
                    handle.shard_cache.insert(key, version, decoder.clone());
                }
                decoder
            }
        };
        self.seen().insert(shard.to_vec(), decoder.clone());
        Ok(decoder)
    }

    fn seen(&self) -> MutexGuard<'_, HashMap<Vec<u64>, Decoder>> {
        self.seen.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The shard holding the start of `subset`, and that shard's box in the array.
    fn shard_of(&self, subset: &ArraySubset) -> Result<(Vec<u64>, ArraySubset)> {
        let array = &self.handle.array;
        let shard = array
            .chunk_grid()
            .chunk_indices(subset.start())
            .map_err(|e| internal(&e))?
            .ok_or_else(|| internal(&format!("no shard holds {:?}", subset.start())))?;
        let shard = shard.to_vec();
        let shard_subset = array.chunk_subset(&shard)?;
        Ok((shard, shard_subset))
    }

    /// Decode `subset` of the array, which lies within one shard (an inner chunk, or part of
    /// one), as C-ordered elements.
    pub(super) fn decode(
        &self,
        subset: &ArraySubset,
        options: &CodecOptions,
    ) -> Result<ArrayBytes<'static>> {
        let (shard, shard_subset) = self.shard_of(subset)?;
        let relative = subset
            .relative_to(shard_subset.start())
            .map_err(|e| internal(&e))?;
        let decoder = self.decoder(&shard)?;
        let bytes = decoder
            .partial_decode(&relative, options)
            .map_err(ArrayError::from)?;
        Ok(bytes.into_owned())
    }

    /// Decode `subset` of the array into `out` (C order, the subset's shape), shard after shard:
    /// for small reads, which zarrs would otherwise read through a new decoder per shard.
    pub(super) fn decode_into(
        &self,
        subset: &ArraySubset,
        out: &mut [u8],
        options: &CodecOptions,
    ) -> Result<()> {
        let array = &self.handle.array;
        let element_size = self.handle.element_size();
        let shards = array
            .chunks_in_array_subset(subset)
            .map_err(|e| internal(&e))?
            .ok_or_else(|| internal(&format!("no shards hold {subset:?}")))?;
        let bytes = UnsafeCellSlice::new(out);
        for shard in &shards.indices() {
            let shard_subset = array.chunk_subset(&shard)?;
            let overlap = shard_subset.overlap(subset).map_err(|e| internal(&e))?;
            let in_out = overlap
                .relative_to(subset.start())
                .map_err(|e| internal(&e))?;
            let in_shard = overlap
                .relative_to(shard_subset.start())
                .map_err(|e| internal(&e))?;
            // SAFETY: shards do not overlap, so the views of the shards of `subset`, made one
            // after another, cover disjoint parts of `out`.
            let mut view = unsafe {
                ArrayBytesFixedDisjointView::new(bytes, element_size, subset.shape(), in_out)
            }
            .map_err(|e| internal(&e))?;
            let target: ArrayBytesDecodeIntoTarget<'_> = (&mut view).into();
            self.decoder(&shard)?
                .partial_decode_into(&in_shard, target, options)
                .map_err(ArrayError::from)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    fn sharded(store: &Arc<Store>) -> ArrayHandle {
        let metadata = r#"{"zarr_format":3,"node_type":"array","shape":[8,8],"data_type":"uint16",
            "chunk_grid":{"name":"regular","configuration":{"chunk_shape":[4,4]}},
            "chunk_key_encoding":{"name":"default"},"fill_value":0,
            "codecs":[{"name":"sharding_indexed","configuration":{"chunk_shape":[2,2],
              "codecs":[{"name":"bytes","configuration":{"endian":"little"}}],
              "index_codecs":[{"name":"bytes","configuration":{"endian":"little"}},{"name":"crc32c"}]}}]}"#;
        crate::array::create_array(store, "a", metadata, false).unwrap();
        ArrayHandle::open(store.clone(), "a").unwrap()
    }

    #[test]
    fn kept_indexes_follow_the_value_they_were_read_from() {
        let store = Arc::new(Store::open("memory://", None).unwrap());
        let array = sharded(&store);
        let other = ArrayHandle::open(store.clone(), "a").unwrap();
        let data: Vec<u8> = (0..128u8).collect();
        array.write_region(&[0, 0], &[8, 8], &data).unwrap();
        let mut out = vec![0u8; 2];
        array.read_region(&[1, 1], &[1, 1], &mut out).unwrap();
        assert_eq!(out, data[18..20]);
        assert_eq!(array.shard_cache.len(), 1);
        // Rewritten through another handle: the kept index is for another generation.
        let twice: Vec<u8> = data.iter().map(|b| b.wrapping_mul(2)).collect();
        other.write_region(&[0, 0], &[8, 8], &twice).unwrap();
        array.read_region(&[1, 1], &[1, 1], &mut out).unwrap();
        assert_eq!(out, twice[18..20]);
        // Written through this handle: forgotten at once.
        array.write_region(&[0, 0], &[4, 4], &[0; 32]).unwrap();
        assert_eq!(array.shard_cache.len(), 0);
        array.read_region(&[1, 1], &[1, 1], &mut out).unwrap();
        assert_eq!(out, [0, 0]);
    }

    #[test]
    fn the_cache_stays_within_its_bounds() {
        let store = Arc::new(Store::open("memory://", None).unwrap());
        let array = sharded(&store);
        let cache = &array.shard_cache;
        let decoder = array.array.partial_decoder(&[0, 0]).unwrap();
        for i in 0..(MAX_ENTRIES + 10) {
            let key = StoreKey::new(format!("k{i}")).unwrap();
            cache.insert(key, ValueVersion::Generation(1), decoder.clone());
        }
        assert!(cache.len() <= MAX_ENTRIES);
        assert!(cache.lock().bytes <= MAX_BYTES);
        let newest = StoreKey::new(format!("k{}", MAX_ENTRIES + 9)).unwrap();
        assert!(cache.get(&newest, ValueVersion::Generation(1)).is_some());
        assert!(cache.get(&newest, ValueVersion::Generation(2)).is_none());
        assert!(cache.get(&newest, ValueVersion::Generation(1)).is_none());
    }
}
