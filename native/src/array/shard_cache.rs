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

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use rayon::prelude::*;
use unsafe_cell_slice::UnsafeCellSlice;
use zarrs::array::{
    ArrayBytesDecodeIntoTarget, ArrayBytesFixedDisjointView, ArrayBytesRaw, ArrayError,
    ArrayPartialDecoderTraits, ArraySubset, CodecOptions,
};
use zarrs::storage::{Bytes, StoreKey};

use super::ArrayHandle;
use super::checks::{internal, offsets};
use super::read::DecodedPiece;
use super::shard_decode::{self, ShardIndex};
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

/// What is kept of one shard: its decoded index, for arrays zarrlib reads inner chunks of
/// itself (`shard_decode`), or zarrs' partial decoder (which holds the index) for the others.
#[derive(Clone)]
enum Kept {
    Index(Arc<ShardIndex>),
    Decoder(Decoder),
}

impl Kept {
    fn size_held(&self) -> usize {
        match self {
            Self::Index(index) => index.size_held(),
            Self::Decoder(decoder) => decoder.size_held(),
        }
    }
}

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
    kept: Kept,
    bytes: usize,
    used: u64,
}

impl ShardIndexCache {
    fn lock(&self) -> MutexGuard<'_, Entries> {
        // The map is consistent between statements: a panic elsewhere leaves it usable.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// What is kept for `key` if it was read from the value at `version`. What was read from
    /// another version is dropped.
    fn get(&self, key: &StoreKey, version: ValueVersion) -> Option<Kept> {
        let mut entries = self.lock();
        entries.clock += 1;
        let clock = entries.clock;
        match entries.map.get_mut(key) {
            Some(entry) if entry.version == version => {
                entry.used = clock;
                Some(entry.kept.clone())
            }
            Some(_) => {
                entries.remove(key);
                None
            }
            None => None,
        }
    }

    /// Keep `kept`, read from the value of `key` at `version`.
    fn insert(&self, key: StoreKey, version: ValueVersion, kept: Kept) {
        let bytes = kept.size_held().saturating_add(ENTRY_OVERHEAD);
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
            kept,
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
    seen: Mutex<HashMap<Vec<u64>, Kept>>,
}

/// One inner chunk a read needs: its box in the array, the part of it wanted, and whether to
/// decode all of it (otherwise only that part).
pub(super) struct InnerRead {
    pub unit_subset: ArraySubset,
    pub piece: ArraySubset,
    pub whole: bool,
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
    /// What is kept of shard `shard` (whose box is `shard_subset`): this call's, the one kept
    /// if the store still gives the version it was read from, or read now (the index).
    fn kept(&self, shard: &[u64], shard_subset: &ArraySubset) -> Result<Kept> {
        if let Some(kept) = self.seen().get(shard) {
            return Ok(kept.clone());
        }
        let handle = self.handle;
        let key = handle.array.chunk_key(shard);
        // Taken before the index is read: a change after this point shows as another version.
        let version = handle
            .store
            .versions
            .as_ref()
            .and_then(|source| source.version(&key));
        let cached = version.and_then(|version| handle.shard_cache.get(&key, version));
        let kept = match cached {
            Some(kept) => kept,
            None => {
                let codecs = handle
                    .layout
                    .shard_codecs
                    .as_ref()
                    .filter(|codecs| codecs.inner_grid(shard_subset.shape()).is_some());
                let kept = match codecs {
                    Some(codecs) => {
                        let storage = handle.array.storage();
                        let index = codecs.read_index(&*storage, &key, shard_subset.shape())?;
                        Kept::Index(Arc::new(index))
                    }
                    // Default options, as zarrs' sharded-read extension: the index's checksum
                    // is validated whatever the call's settings.
                    None => Kept::Decoder(
                        handle
                            .array
                            .partial_decoder_opt(shard, &CodecOptions::default())?,
                    ),
                };
                if let Some(version) = version {
                    handle.shard_cache.insert(key, version, kept.clone());
                }
                kept
            }
        };
        self.seen().insert(shard.to_vec(), kept.clone());
        Ok(kept)
    }

    /// The partial decoder of shard `shard`, for arrays zarrlib does not read inner chunks of
    /// itself.
    fn decoder(&self, shard: &[u64]) -> Result<Decoder> {
        let shard_subset = self.handle.array.chunk_subset(shard)?;
        match self.kept(shard, &shard_subset)? {
            Kept::Decoder(decoder) => Ok(decoder),
            Kept::Index(_) => Ok(self
                .handle
                .array
                .partial_decoder_opt(shard, &CodecOptions::default())?),
        }
    }

    /// Whether this array's inner chunks are read by zarrlib itself (`read_units`), rather
    /// than through zarrs' partial decoders.
    pub(super) fn reads_inner_chunks(&self) -> bool {
        self.handle.layout.shard_codecs.is_some()
    }

    /// Decode the inner chunks `reads` asks for, and hand each (its position in `reads`, what
    /// was decoded) to `deliver`. Inner chunks are read shard by shard: one store request per
    /// shard (per [`BATCH_BYTES`]) for all the inner chunks the call needs from it. Shards,
    /// and inner chunks within a shard, are decoded in parallel when `options` allow.
    pub(super) fn read_units(
        &self,
        reads: &[InnerRead],
        options: &CodecOptions,
        deliver: &(dyn Fn(usize, DecodedPiece) -> Result<()> + Sync),
    ) -> Result<()> {
        let mut by_shard: BTreeMap<Vec<u64>, Vec<usize>> = BTreeMap::new();
        for (i, read) in reads.iter().enumerate() {
            let shard = self.shard_indices(read.unit_subset.start())?;
            by_shard.entry(shard).or_default().push(i);
        }
        let shards: Vec<(Vec<u64>, Vec<usize>)> = by_shard.into_iter().collect();
        let parallel = options.concurrent_target() > 1;
        // Inner chunks are the unit of parallel work: their codecs run single-threaded.
        let inner_options = options.with_concurrent_target(1);
        let one_shard = |(shard, members): &(Vec<u64>, Vec<usize>)| {
            self.read_in_shard(shard, members, reads, parallel, &inner_options, deliver)
        };
        if parallel && shards.len() > 1 {
            shards.par_iter().try_for_each(one_shard)
        } else {
            shards.iter().try_for_each(one_shard)
        }
    }

    /// `read_units` for the reads `members` of `reads`, all in shard `shard`.
    fn read_in_shard(
        &self,
        shard: &[u64],
        members: &[usize],
        reads: &[InnerRead],
        parallel: bool,
        options: &CodecOptions,
        deliver: &(dyn Fn(usize, DecodedPiece) -> Result<()> + Sync),
    ) -> Result<()> {
        let handle = self.handle;
        let shard_subset = handle.array.chunk_subset(shard)?;
        let index = match self.kept(shard, &shard_subset)? {
            Kept::Index(index) => index,
            Kept::Decoder(decoder) => {
                let one = |&i: &usize| -> Result<()> {
                    let read = &reads[i];
                    let wanted = if read.whole {
                        &read.unit_subset
                    } else {
                        &read.piece
                    };
                    let relative = wanted
                        .relative_to(shard_subset.start())
                        .map_err(|e| internal(&e))?;
                    let bytes = decoder
                        .partial_decode(&relative, options)
                        .map_err(ArrayError::from)?
                        .into_owned()
                        .into_fixed()
                        .map_err(|e| internal(&e))?;
                    deliver(i, self.piece_of(read, bytes, read.whole)?)
                };
                return for_each(members, parallel, one);
            }
        };
        let codecs = handle
            .layout
            .shard_codecs
            .as_ref()
            .ok_or_else(|| internal(&"a shard index without shard codecs"))?;
        let (data_type, fill_value) = (handle.array.data_type(), handle.array.fill_value());
        let fill = |i: usize| -> Result<()> {
            let read = &reads[i];
            let bytes = super::read::fill(data_type, fill_value, read.piece.num_elements())?;
            deliver(i, self.piece_of(read, bytes, false)?)
        };
        let grid = codecs
            .inner_grid(shard_subset.shape())
            .ok_or_else(|| internal(&"inner chunks that do not divide the shard"))?;
        // The stored inner chunks, in the order they are stored (so neighbours coalesce), with
        // their byte ranges; the others are the fill value.
        let mut stored: Vec<(usize, (u64, u64))> = Vec::with_capacity(members.len());
        for &i in members {
            let number = inner_number(
                reads[i].unit_subset.start(),
                shard_subset.start(),
                &codecs.inner_shape,
                &grid,
            );
            match index.range(number)? {
                Some(range) => stored.push((i, range)),
                None => fill(i)?,
            }
        }
        stored.sort_unstable_by_key(|&(_, (offset, _))| offset);
        let ranges: Vec<(u64, u64)> = stored.iter().map(|&(_, range)| range).collect();
        let key = handle.array.chunk_key(shard);
        let storage = handle.array.storage();
        for batch in shard_decode::batches(&ranges) {
            let Some(values) = shard_decode::fetch(&*storage, &key, &ranges[batch.clone()])? else {
                // The shard went away since its index was read: what is not stored reads as
                // the fill value.
                return stored[batch.start..].iter().try_for_each(|&(i, _)| fill(i));
            };
            let work: Vec<(usize, Bytes)> = std::iter::zip(&stored[batch], values)
                .map(|(&(i, _), bytes)| (i, bytes))
                .collect();
            let one = |(i, bytes): &(usize, Bytes)| -> Result<()> {
                let read = &reads[*i];
                let relative = if read.whole {
                    None
                } else {
                    Some(
                        read.piece
                            .relative_to(read.unit_subset.start())
                            .map_err(|e| internal(&e))?,
                    )
                };
                let decoded = codecs.decode_inner(
                    bytes.clone(),
                    relative.as_ref(),
                    data_type,
                    fill_value,
                    options,
                )?;
                deliver(*i, self.piece_of(read, decoded, read.whole)?)
            };
            for_each(&work, parallel, one)?;
        }
        Ok(())
    }

    /// What was decoded for `read`: all of its inner chunk (`whole`) or only its piece.
    fn piece_of(
        &self,
        read: &InnerRead,
        bytes: ArrayBytesRaw<'static>,
        whole: bool,
    ) -> Result<DecodedPiece> {
        let (shape, start) = if whole {
            let start = offsets(read.piece.start(), read.unit_subset.start());
            (read.unit_subset.shape().to_vec(), start)
        } else {
            (
                read.piece.shape().to_vec(),
                vec![0; read.piece.dimensionality()],
            )
        };
        if bytes.len() != self.handle.byte_len(&shape)? {
            return Err(internal(&format!(
                "an inner chunk at {:?} decoded to {} bytes, expected {shape:?}",
                read.unit_subset.start(),
                bytes.len()
            )));
        }
        Ok(DecodedPiece {
            bytes,
            shape,
            start,
        })
    }

    /// The shard holding the element at `point`.
    fn shard_indices(&self, point: &[u64]) -> Result<Vec<u64>> {
        Ok(self
            .handle
            .array
            .chunk_grid()
            .chunk_indices(point)
            .map_err(|e| internal(&e))?
            .ok_or_else(|| internal(&format!("no shard holds {point:?}")))?
            .to_vec())
    }

    fn seen(&self) -> MutexGuard<'_, HashMap<Vec<u64>, Kept>> {
        self.seen.lock().unwrap_or_else(|e| e.into_inner())
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

/// Run `one` on each of `items`, in parallel if `parallel` and there are several.
fn for_each<T: Sync>(
    items: &[T],
    parallel: bool,
    one: impl Fn(&T) -> Result<()> + Sync + Send,
) -> Result<()> {
    if parallel && items.len() > 1 {
        items.par_iter().try_for_each(one)
    } else {
        items.iter().try_for_each(one)
    }
}

/// The C-order number, within its shard, of the inner chunk whose box starts at `start` (in a
/// shard starting at `shard_start`, of `grid` inner chunks of `inner_shape` along each axis).
fn inner_number(
    start: &[u64],
    shard_start: &[u64],
    inner_shape: &[std::num::NonZeroU64],
    grid: &[u64],
) -> u64 {
    let mut number = 0;
    for axis in 0..grid.len() {
        let position = (start[axis] - shard_start[axis]) / inner_shape[axis].get();
        number = number * grid[axis] + position;
    }
    number
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;
    use zarrs::array::ArrayBytes;

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

    /// A 10×12 uint16 array of 4×6 shards of 2×3 zstd inner chunks, index at `location`.
    fn zstd_shards(store: &Arc<Store>, path: &str, location: &str) -> ArrayHandle {
        let metadata = format!(
            r#"{{"zarr_format":3,"node_type":"array","shape":[10,12],"data_type":"uint16",
            "chunk_grid":{{"name":"regular","configuration":{{"chunk_shape":[4,6]}}}},
            "chunk_key_encoding":{{"name":"default"}},"fill_value":7,
            "codecs":[{{"name":"sharding_indexed","configuration":{{"chunk_shape":[2,3],
              "codecs":[{{"name":"bytes","configuration":{{"endian":"little"}}}},
                        {{"name":"zstd","configuration":{{"level":0,"checksum":false}}}}],
              "index_codecs":[{{"name":"bytes","configuration":{{"endian":"little"}}}},{{"name":"crc32c"}}],
              "index_location":"{location}"}}}}]}}"#
        );
        crate::array::create_array(store, path, &metadata, false).unwrap();
        ArrayHandle::open(store.clone(), path).unwrap()
    }

    #[test]
    fn inner_chunks_read_by_zarrlib_equal_what_zarrs_reads() {
        use crate::selection::AxisSelection;
        let dir = temp_dir::TempDir::new().unwrap();
        let local = Arc::new(Store::open(dir.path().to_str().unwrap(), None).unwrap());
        let memory = Arc::new(Store::open("memory://", None).unwrap());
        for (store, location) in [(&local, "end"), (&local, "start"), (&memory, "end")] {
            let path = format!("a-{location}");
            let array = zstd_shards(store, &path, location);
            assert!(array.layout.shard_codecs.is_some());
            // Elements 0..120 with two inner chunks and one shard left at the fill value (not
            // stored), the shard in the last row only partly inside the array.
            let mut data: Vec<u16> = (0..120).map(|v| v * 3 + 1).collect();
            for (row, col) in [
                (0, 0),
                (0, 1),
                (0, 2),
                (1, 0),
                (1, 1),
                (1, 2),
                (4, 9),
                (5, 11),
            ] {
                data[row * 12 + col] = 7;
            }
            for row in 4..8 {
                for col in 6..12 {
                    data[row * 12 + col] = 7;
                }
            }
            let bytes: Vec<u8> = data.iter().flat_map(|v| v.to_ne_bytes()).collect();
            array.write_region(&[0, 0], &[10, 12], &bytes).unwrap();
            assert!(
                array
                    .array
                    .retrieve_encoded_chunk(&[1, 1])
                    .unwrap()
                    .is_none()
            );
            let regions: [([u64; 2], [u64; 2]); 7] = [
                ([0, 0], [10, 12]),
                ([0, 0], [2, 3]),
                ([1, 1], [1, 1]),
                ([3, 2], [4, 7]),
                ([4, 6], [4, 6]),
                ([8, 0], [2, 12]),
                ([0, 5], [10, 2]),
            ];
            for (start, shape) in regions {
                let len = (shape[0] * shape[1] * 2) as usize;
                let mut ours = vec![0u8; len];
                array.read_region(&start, &shape, &mut ours).unwrap();
                let subset =
                    ArraySubset::new_with_start_shape(start.to_vec(), shape.to_vec()).unwrap();
                let theirs: Vec<u8> = array
                    .array
                    .retrieve_array_subset::<ArrayBytes<'static>>(&subset)
                    .unwrap()
                    .into_fixed()
                    .unwrap()
                    .into_owned();
                assert_eq!(ours, theirs, "{location}: region {start:?} {shape:?}");
                // Twice: the second read uses the kept index (a memory store vouches for it).
                array.read_region(&start, &shape, &mut ours).unwrap();
                assert_eq!(ours, theirs, "{location}: region {start:?} {shape:?} again");
            }
            let mut chunk = vec![0u8; 4 * 6 * 2];
            array.read_chunk(&[1, 1], &mut chunk).unwrap();
            assert!(chunk.chunks(2).all(|v| v == 7u16.to_ne_bytes()));
            // Every third row from the last backwards, every other column.
            let axes = [
                AxisSelection {
                    start: 9,
                    step: -3,
                    count: 4,
                },
                AxisSelection {
                    start: 1,
                    step: 2,
                    count: 6,
                },
            ];
            let mut picked = vec![0u8; 4 * 6 * 2];
            array.read_selection(&axes, &mut picked).unwrap();
            let expected: Vec<u8> = [9usize, 6, 3, 0]
                .iter()
                .flat_map(|&r| {
                    let data = &data;
                    (0..6).map(move |c| data[r * 12 + 1 + 2 * c])
                })
                .flat_map(|v| v.to_ne_bytes())
                .collect();
            assert_eq!(picked, expected, "{location}: strided");
        }
    }

    #[test]
    fn requests_for_inner_chunks_are_batched_by_their_bytes() {
        use super::shard_decode::{BATCH_BYTES, batches};
        let small = (0, 1000);
        assert!(batches(&[]).is_empty());
        assert_eq!(batches(&[small, small, small]), vec![0..3]);
        let half = (0, BATCH_BYTES / 2);
        assert_eq!(batches(&[half, half, half]), vec![0..2, 2..3]);
        // One range larger than a batch is a request of its own.
        let huge = (0, BATCH_BYTES * 4);
        assert_eq!(batches(&[small, huge, small]), vec![0..1, 1..2, 2..3]);
        // An index whose entries all point at one large range cannot make one request hold it
        // once per entry.
        let same = vec![half; 64];
        assert_eq!(batches(&same).len(), 32);
    }

    #[test]
    fn the_cache_stays_within_its_bounds() {
        let store = Arc::new(Store::open("memory://", None).unwrap());
        let array = sharded(&store);
        let cache = &array.shard_cache;
        let decoder = array.array.partial_decoder(&[0, 0]).unwrap();
        for i in 0..(MAX_ENTRIES + 10) {
            let key = StoreKey::new(format!("k{i}")).unwrap();
            cache.insert(
                key,
                ValueVersion::Generation(1),
                Kept::Decoder(decoder.clone()),
            );
        }
        assert!(cache.len() <= MAX_ENTRIES);
        assert!(cache.lock().bytes <= MAX_BYTES);
        let newest = StoreKey::new(format!("k{}", MAX_ENTRIES + 9)).unwrap();
        assert!(cache.get(&newest, ValueVersion::Generation(1)).is_some());
        assert!(cache.get(&newest, ValueVersion::Generation(2)).is_none());
        assert!(cache.get(&newest, ValueVersion::Generation(1)).is_none());
    }
}
