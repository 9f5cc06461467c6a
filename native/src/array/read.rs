//! Reading chunks and regions into the caller's buffer.
//!
//! Three paths: a whole unencoded chunk on a local store is read straight into the caller's
//! buffer; a small read, or one within one read unit, goes straight through zarrs; a larger one
//! is read unit by unit (a chunk, or an inner chunk of a sharded array) and each unit's elements
//! are copied into place by `box_copy`, whose runs cost a fraction of zarrs' view copies. An
//! unencoded chunk's part of a region goes into place with no buffer for the whole chunk
//! (`read_unencoded_unit`): from a local file slab by slab (`file_runs`), from an object store
//! frame by frame as its body arrives.

use std::borrow::Cow;
use std::sync::Mutex;

use rayon::prelude::*;
use unsafe_cell_slice::UnsafeCellSlice;
use zarrs::array::{
    ArrayBytes, ArrayBytesDecodeIntoTarget, ArrayBytesFixedDisjointView, ArrayBytesRaw, ArrayError,
    ArraySubset, CodecOptions, DataType, FillValue,
};
use zarrs::storage::StoreKey;

use super::ArrayHandle;
use super::checks::{internal, offsets};
use super::plan::ReadPlan;
use super::shard_cache::{InnerRead, ShardReads};
use crate::box_copy::{Place, Runs, StreamPlacer, for_each_run};
use crate::chunk_locks::Access;
use crate::config::{SMALL_BYTES, share};
use crate::error::{Error, ErrorKind, Result};
use crate::local_store::ValueRead;
use crate::selection::Selection;

/// Decoded elements of a read unit: the box `shape` they fill (C order), and where the piece
/// that was asked for starts in it.
pub(super) struct DecodedPiece {
    pub bytes: ArrayBytesRaw<'static>,
    pub shape: Vec<u64>,
    pub start: Vec<u64>,
}

impl ArrayHandle {
    pub fn read_chunk(&self, chunk: &[u64], out: &mut [u8]) -> Result<()> {
        self.check_fixed("read_chunk_vlen")?;
        let shape = self.chunk_shape_at(chunk)?;
        self.check_buffer(&shape, out.len())?;
        // An unencoded chunk is read straight into `out` by `read_subset`'s whole-chunk route.
        let plan = self.read_plan()?;
        let subset = self.array.chunk_subset(chunk)?;
        let _locks = plan
            .inner_chunks
            .then(|| self.locks.lock_one(Access::Read, chunk))
            .transpose()?;
        let splits = self.layout.splits_chunks;
        plan.settings.run_sized(1, out.len(), splits, |options| {
            self.read_subset(&plan, &subset, out, options)
        })
    }

    /// Read several chunks into `out`, one after another in the order given, each at its full
    /// chunk shape. Chunks are decoded in parallel.
    pub fn read_chunks(&self, chunks: &[&[u64]], out: &mut [u8]) -> Result<()> {
        self.check_fixed("read_chunk_vlen")?;
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
        let plan = self.read_plan()?;
        let _locks = plan
            .inner_chunks
            .then(|| self.locks.lock(Access::Read, chunks.len() as u64, chunks))
            .transpose()?;
        plan.settings.run_spread(chunks.len(), |options| {
            chunks
                .par_iter()
                .zip(pieces)
                .try_for_each(|(chunk, piece)| {
                    let subset = self.array.chunk_subset(chunk)?;
                    self.read_subset(&plan, &subset, piece, options)
                })
        })
    }

    pub fn read_region(&self, start: &[u64], shape: &[u64], out: &mut [u8]) -> Result<()> {
        self.check_fixed("read_region_vlen")?;
        let subset = self.region(start, shape)?;
        self.check_buffer(shape, out.len())?;
        if subset.num_elements() == 0 {
            return Ok(());
        }
        self.read_box(&self.read_plan()?, &subset, out)
    }

    /// Read a checked, non-empty region into `out`. Chunks with checksums to validate are
    /// decoded whole, block by block; otherwise the region is read as one subset.
    pub(super) fn read_box(
        &self,
        plan: &ReadPlan<'_>,
        subset: &ArraySubset,
        out: &mut [u8],
    ) -> Result<()> {
        // One whole chunk decodes straight into `out` (`direct`), its checksums validated.
        if plan.whole_chunks
            && (self.layout.direct.is_none() || self.direct_chunk(plan, subset)?.is_none())
        {
            let selection = Selection::contiguous(subset.start(), subset.shape());
            return self.read_blocks(plan, &selection, out);
        }
        let chunks = self.region_chunks(subset)?;
        let _locks = plan
            .locks_partial_reads
            .then(|| self.lock_region(&chunks, Access::Read))
            .transpose()?;
        // Inner chunks decoded one after another on the caller's thread took twice as long as
        // on the pool for two of them, and 1.9 times for three.
        let units = plan.units_in(subset, &chunks);
        let splits = self.layout.splits_chunks;
        plan.settings
            .run_sized(units, out.len(), splits, |options| {
                self.read_subset(plan, subset, out, options)
            })
    }

    /// The chunk's stored bytes, or `None` if it is not stored.
    pub fn read_encoded_chunk(&self, chunk: &[u64]) -> Result<Option<Vec<u8>>> {
        self.chunk_shape_at(chunk)?;
        Ok(self.array.retrieve_encoded_chunk(chunk)?)
    }

    /// Read a whole unencoded chunk from a local store straight into `out` (one copy, where
    /// zarrs reads the file into a buffer and copies that); a chunk that is not stored is the
    /// fill value. `false` if this array or store does not allow it, or the chunk's file is not
    /// at its full size: zarrs then reads it, and reports the mismatch. From an object store,
    /// the chunk's body goes into `out` as it arrives.
    fn read_unencoded_chunk(&self, chunk: &[u64], out: &mut [u8]) -> Result<bool> {
        if !self.layout.unencoded {
            return Ok(false);
        }
        let key = self.array.chunk_key(chunk);
        if let Some(local) = &self.store.local {
            let read = local
                .read_exact_into(&key, out)
                .map_err(|e| unencoded_read_error(&key, out.len() as u64, e))?;
            return Ok(match read {
                ValueRead::Read => true,
                // Not stored: no second look for the file through zarrs.
                ValueRead::Missing => {
                    fill_with(out, self.fill_value());
                    true
                }
                // zarrs reports it, as it always has.
                ValueRead::OtherSize(_) => false,
            });
        }
        if !self.store.streams_values() {
            return Ok(false);
        }
        let found = self
            .store
            .read_remote_into(&key, out.len() as u64, |at, frame| {
                let at = at as usize;
                out[at..at + frame.len()].copy_from_slice(frame);
            })?;
        if !found {
            fill_with(out, self.fill_value());
        }
        Ok(true)
    }

    /// The chunk whose box is exactly `subset`, when its stored value goes straight into the
    /// caller's buffer: decoded there (`direct`), or read there as it is (unencoded); `None`
    /// otherwise.
    fn direct_chunk(&self, plan: &ReadPlan<'_>, subset: &ArraySubset) -> Result<Option<Vec<u64>>> {
        if (self.layout.direct.is_none() && !self.layout.unencoded) || plan.inner_chunks {
            return Ok(None);
        }
        let grid = self.array.chunk_grid();
        let Ok(Some(chunks)) = grid.chunks_in_array_subset(subset) else {
            return Ok(None);
        };
        if chunks.num_elements() != 1 {
            return Ok(None);
        }
        let chunk = chunks.start().to_vec();
        let whole = grid.subset(&chunk).map_err(|e| internal(&e))?;
        Ok(whole.is_some_and(|whole| whole == *subset).then_some(chunk))
    }

    /// Decode whole chunk `chunk` straight into `out` (`direct`), exactly its bytes: the stored
    /// value is read and decompressed into `out`, with no buffer between; a chunk that is not
    /// stored is the fill value. Only for an array whose layout has a direct decode.
    fn read_direct_chunk(
        &self,
        chunk: &[u64],
        out: &mut [u8],
        options: &CodecOptions,
    ) -> Result<()> {
        let direct = self
            .layout
            .direct
            .as_ref()
            .ok_or_else(|| internal(&"no direct decode for this array's chunks"))?;
        let key = self.array.chunk_key(chunk);
        match self.store.storage.get(&key)? {
            Some(encoded) => direct.decode_into(&encoded, out, options).map_err(|e| {
                let err = Error::from(zarrs::array::ArrayError::CodecError(e));
                Error::new(err.kind, format!("chunk {key}: {}", err.message))
            })?,
            None => fill_with(out, self.fill_value()),
        }
        Ok(())
    }

    /// Read the part `piece` of unencoded chunk `unit` (whose box is `unit_subset`) into
    /// `target` (C order, of the shape and with the piece where `to` says), with no buffer for
    /// the whole chunk: from a local file, slab by slab through a buffer the thread keeps
    /// (`file_runs`), each byte moved once through memory; from an object store, run by run as
    /// the body's frames arrive. What is saved is zarrs' buffer for the whole chunk: a second
    /// copy of every byte, and that buffer's fresh pages. `None` when the array or store does
    /// not allow it; `Some(false)` when the chunk is not stored (nothing written). A chunk
    /// whose value is not the chunk's size is corrupt data, whatever part of it is read.
    fn read_unencoded_unit(
        &self,
        plan: &ReadPlan<'_>,
        unit: &[u64],
        unit_subset: &ArraySubset,
        piece: &ArraySubset,
        to: Place<'_>,
        target: &UnsafeCellSlice<'_, u8>,
    ) -> Result<Option<bool>> {
        let local = self.store.local.as_ref();
        if !(self.layout.unencoded
            && (local.is_some() || self.store.streams_values())
            && !plan.inner_chunks)
        {
            return Ok(None);
        }
        let length = self.byte_len(unit_subset.shape())? as u64;
        let piece_start = offsets(piece.start(), unit_subset.start());
        let from = Place {
            shape: unit_subset.shape(),
            start: &piece_start,
        };
        let runs = Runs::new(from, to, piece.shape(), self.element_size());
        let key = self.array.chunk_key(unit);
        if let Some(local) = local {
            // SAFETY: units do not overlap, so units read in parallel write disjoint bytes of
            // the target; the runs stay inside the target's shape.
            let read = unsafe { local.read_runs_into(&key, length, runs, target) }
                .map_err(|e| unencoded_read_error(&key, length, e))?;
            return match read {
                ValueRead::Read => Ok(Some(true)),
                ValueRead::Missing => Ok(Some(false)),
                // zarrs' partial decoders would read the runs of a longer file, or of a shorter
                // one that holds them, as if nothing were wrong.
                ValueRead::OtherSize(size) => Err(wrong_size(&key, size, length)),
            };
        }
        let mut placer = StreamPlacer::new(runs);
        let found = self.store.read_remote_into(&key, length, |at, frame| {
            placer.place(at as usize, frame, |to, bytes| {
                // SAFETY: units do not overlap, so units read in parallel write disjoint bytes
                // of the target; the runs stay inside the target's shape.
                let to = unsafe { target.index_mut(to..to + bytes.len()) };
                to.copy_from_slice(bytes);
            });
        })?;
        Ok(Some(found))
    }

    /// Decode `subset` of the array into `out`, laid out C-contiguously with shape `subset.shape()`.
    pub(super) fn decode_into(
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
                self.element_size(),
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

    /// Decode `subset` into `out` (C order, the subset's shape). A subset within one read unit,
    /// or a small one, goes straight through zarrs. A larger one is read unit by unit, in
    /// parallel where `options` allow, and each unit's elements are copied into place. A sharded
    /// array read by inner chunk goes through the handle's shard index cache (`shard_cache`),
    /// which reads a shard's index again only when the shard has changed.
    fn read_subset(
        &self,
        plan: &ReadPlan<'_>,
        subset: &ArraySubset,
        out: &mut [u8],
        options: &CodecOptions,
    ) -> Result<()> {
        if let Some(chunk) = self.direct_chunk(plan, subset)? {
            if self.layout.direct.is_some() {
                return self.read_direct_chunk(&chunk, out, options);
            }
            // A region that is one whole unencoded chunk (a small array read whole, say) is
            // read as `read_chunk` reads it, straight from the file into `out`.
            if self.read_unencoded_chunk(&chunk, out)? {
                return Ok(());
            }
        }
        // Unencoded chunks of a local store go into place from their files, every region,
        // whatever its size (`read_unencoded_unit`): no chunk buffer, one open per chunk.
        let local_runs = self.layout.unencoded && self.store.local.is_some() && !plan.inner_chunks;
        let by_unit = |units: &ArraySubset| {
            // On a store that waits on requests, zarrs' way costs a round trip per chunk: its
            // partial decoders ask whether the chunk exists (a HEAD) before reading it.
            local_runs
                || plan.settings.waits_on_requests
                || (units.num_elements() > 1 && out.len() > SMALL_BYTES)
        };
        let cache = plan.inner_chunks.then(|| self.shard_reads());
        // zarrlib's own inner-chunk reads take every read of a sharded array they can: one
        // request per shard, no copies on the way.
        let own_reads = cache.as_ref().is_some_and(ShardReads::reads_inner_chunks);
        let units = match plan.grid.chunks_in_array_subset(subset) {
            Ok(Some(units)) if own_reads || by_unit(&units) => units,
            // zarrs' copies cost little here, and it sets up a sharded read with less: an 8³
            // read across two inner chunks took 290 µs unit by unit, 210 µs through zarrs.
            // A sharded one decodes straight into `out` too, through the kept shard indexes.
            _ => {
                return match &cache {
                    Some(reads) => reads.decode_into(subset, out, options),
                    None => self.decode_into(subset, out, options),
                };
            }
        };
        let target = UnsafeCellSlice::new(out);
        let element_size = self.element_size();
        // Where the part `piece` of a unit goes in `out`.
        let target_start = |piece: &ArraySubset| offsets(piece.start(), subset.start());
        // Copy the decoded part `piece` of a unit into place.
        let place = |piece: &ArraySubset, decoded: &DecodedPiece| {
            let start = target_start(piece);
            let from = Place {
                shape: &decoded.shape,
                start: &decoded.start,
            };
            let to = Place {
                shape: subset.shape(),
                start: &start,
            };
            for_each_run(from, to, piece.shape(), element_size, |from, to, len| {
                // SAFETY: units do not overlap, so units copied in parallel write disjoint
                // bytes of `out`; `for_each_run` stays inside the subset's shape.
                let to = unsafe { target.index_mut(to..to + len) };
                to.copy_from_slice(&decoded.bytes[from..from + len]);
            });
        };
        if let Some(reads) = &cache {
            let mut wanted = Vec::with_capacity(usize::try_from(units.num_elements()).unwrap_or(0));
            for unit in &units.indices() {
                let unit_subset = unit_subset(plan, &unit)?;
                let piece = unit_subset.overlap(subset).map_err(|e| internal(&e))?;
                let whole = wants_whole(plan, &unit_subset, &piece);
                wanted.push(InnerRead {
                    unit_subset,
                    piece,
                    whole,
                });
            }
            return reads.read_units(&wanted, options, &|i, decoded| {
                place(&wanted[i].piece, &decoded);
                Ok(())
            });
        }
        let read_unit = |unit: &[u64], options: &CodecOptions| -> Result<()> {
            let unit_subset = unit_subset(plan, unit)?;
            let piece = unit_subset.overlap(subset).map_err(|e| internal(&e))?;
            let start = target_start(&piece);
            if self.layout.direct.is_some()
                && piece == unit_subset
                && let Some(at) = contiguous_at(&start, piece.shape(), subset.shape())
            {
                let at = at * element_size;
                let len = self.byte_len(piece.shape())?;
                // SAFETY: units do not overlap, so units read in parallel write disjoint bytes
                // of `out`; the box is inside the subset's shape, contiguous from `at`.
                let to = unsafe { target.index_mut(at..at + len) };
                return self.read_direct_chunk(unit, to, options);
            }
            let to = Place {
                shape: subset.shape(),
                start: &start,
            };
            let decoded =
                match self.read_unencoded_unit(plan, unit, &unit_subset, &piece, to, &target)? {
                    Some(true) => return Ok(()),
                    // Not stored: no second request to learn that again.
                    Some(false) => self.fill_piece(&piece)?,
                    None => self.decode_piece(plan, unit, &unit_subset, &piece, None, options)?,
                };
            place(&piece, &decoded);
            Ok(())
        };
        let units: Vec<Vec<u64>> = units.indices().into_iter().map(|u| u.to_vec()).collect();
        if options.concurrent_target() <= 1 {
            // On the caller's thread, or a share of a call already spread over the pool.
            return units.iter().try_for_each(|unit| read_unit(unit, options));
        }
        let options = share(*options, units.len());
        units
            .par_iter()
            .try_for_each(|unit| read_unit(unit, &options))
    }

    /// Decode the part `piece` of read unit `unit` (whose box is `unit_subset`). Most of a unit
    /// is decoded whole (a partial read of uncompressed data is one store request per row), and
    /// every unit when the plan validates checksums; less, just the piece.
    pub(super) fn decode_piece(
        &self,
        plan: &ReadPlan<'_>,
        unit: &[u64],
        unit_subset: &ArraySubset,
        piece: &ArraySubset,
        cache: Option<&ShardReads<'_>>,
        options: &CodecOptions,
    ) -> Result<DecodedPiece> {
        let whole = wants_whole(plan, unit_subset, piece);
        if let Some(reads) = cache {
            let wanted = [InnerRead {
                unit_subset: unit_subset.clone(),
                piece: piece.clone(),
                whole,
            }];
            let decoded = Mutex::new(None);
            reads.read_units(&wanted, options, &|_, piece| {
                *decoded.lock().unwrap_or_else(|e| e.into_inner()) = Some(piece);
                Ok(())
            })?;
            return decoded
                .into_inner()
                .unwrap_or_else(|e| e.into_inner())
                .ok_or_else(|| internal(&format!("read unit {unit:?} was not decoded")));
        }
        let prefix = whole
            .then(|| self.prefix_of(plan, unit_subset, piece))
            .flatten();
        let (bytes, shape, start): (ArrayBytes<'static>, _, _) = if let Some(prefix) = prefix {
            // The unit's leading planes, up to the piece's last: decoded as far as needed.
            let Some(encoded) = self.array.retrieve_encoded_chunk(unit)? else {
                return self.fill_piece(piece);
            };
            let unit_bytes = self.byte_len(unit_subset.shape())?;
            let prefix_bytes = self.byte_len(prefix.shape())?;
            let size = u64::try_from(unit_bytes).map_err(|e| internal(&e))?;
            let (decoded, stopped) = crate::zstd_codec::decode_at_least(
                &encoded,
                prefix_bytes,
                size,
                options.validate_checksums(),
            )
            .map_err(ArrayError::from)?;
            let shape = if stopped {
                prefix.shape().to_vec()
            } else if decoded.len() == unit_bytes {
                unit_subset.shape().to_vec()
            } else {
                let err = ArrayError::UnexpectedChunkDecodedSize(decoded.len(), unit_bytes);
                return Err(err.into());
            };
            let start = offsets(piece.start(), unit_subset.start());
            (ArrayBytes::new_flen(Cow::Owned(decoded)), shape, start)
        } else if whole {
            let bytes = match self.array.retrieve_chunk_if_exists_opt(unit, options)? {
                Some(bytes) => bytes,
                // A chunk that is not stored is the fill value: only the piece asked for is
                // made, not the whole declared chunk (which may be far larger).
                None => return self.fill_piece(piece),
            };
            let start = offsets(piece.start(), unit_subset.start());
            (bytes, unit_subset.shape().to_vec(), start)
        } else {
            let relative = piece
                .relative_to(unit_subset.start())
                .map_err(|e| internal(&e))?;
            let bytes = self
                .array
                .retrieve_chunk_subset_opt(unit, &relative, options)?;
            (
                bytes,
                piece.shape().to_vec(),
                vec![0; piece.dimensionality()],
            )
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

    /// The leading planes (along the first axis, relative to the unit) of read unit
    /// `unit_subset` that hold `piece`, when the codecs decode them for less than the whole unit
    /// (`bytes` then `zstd`, decoded by `zstd_codec::decode_at_least`) and they leave out at
    /// least a sixteenth of it. For 8 random planes of 128 (an orthogonal
    /// selection of 32 random rows of 512) the last one is about the 114th.
    fn prefix_of(
        &self,
        plan: &ReadPlan<'_>,
        unit_subset: &ArraySubset,
        piece: &ArraySubset,
    ) -> Option<ArraySubset> {
        if !self.layout.decodes_prefixes || plan.whole_chunks || plan.settings.waits_on_requests {
            return None;
        }
        let planes = piece.end_exc().first()? - unit_subset.start().first()?;
        let unit_planes = *unit_subset.shape().first()?;
        if 16 * planes > 15 * unit_planes {
            return None;
        }
        let mut shape = unit_subset.shape().to_vec();
        shape[0] = planes;
        ArraySubset::new_with_start_shape(vec![0; shape.len()], shape).ok()
    }

    /// The fill value over `piece`.
    pub(super) fn fill_piece(&self, piece: &ArraySubset) -> Result<DecodedPiece> {
        let bytes = fill(
            self.array.data_type(),
            self.array.fill_value(),
            piece.num_elements(),
        )?;
        Ok(DecodedPiece {
            bytes,
            shape: piece.shape().to_vec(),
            start: vec![0; piece.dimensionality()],
        })
    }
}

/// The fill value over `elements` elements.
pub(super) fn fill(
    data_type: &DataType,
    fill_value: &FillValue,
    elements: u64,
) -> Result<ArrayBytesRaw<'static>> {
    ArrayBytes::new_fill_value(data_type, elements, fill_value)
        .map_err(|e| internal(&e))?
        .into_fixed()
        .map_err(|e| internal(&e))
}

/// A raw chunk whose file is not the chunk's size: corrupt, never read as far as it goes.
pub(super) fn wrong_size(key: &StoreKey, size: u64, length: impl std::fmt::Display) -> Error {
    Error::new(
        ErrorKind::CorruptData,
        format!("chunk {key}: its file holds {size} bytes, the chunk {length}"),
    )
}

/// The error of a failed read of unencoded chunk `key`, `length` bytes long, from a local file:
/// a file that ends early (cut short in place while it was read) is corrupt data, like one
/// found short when it was opened.
pub(super) fn unencoded_read_error(key: &StoreKey, length: u64, err: std::io::Error) -> Error {
    if err.kind() == std::io::ErrorKind::UnexpectedEof {
        return Error::new(
            ErrorKind::CorruptData,
            format!("chunk {key}: its file ended before the chunk's {length} bytes"),
        );
    }
    zarrs::storage::StorageError::from(err).into()
}

/// `out` filled with copies of one element's bytes, `element`.
fn fill_with(out: &mut [u8], element: &[u8]) {
    if element.iter().all(|&b| b == element[0]) {
        out.fill(element.first().copied().unwrap_or(0));
        return;
    }
    let mut done = element.len().min(out.len());
    out[..done].copy_from_slice(&element[..done]);
    // Doubling: each copy takes what is filled so far.
    while done < out.len() {
        let next = (2 * done).min(out.len());
        out.copy_within(0..next - done, done);
        done = next;
    }
}

/// Whether to decode all of read unit `unit_subset` for the part `piece` of it. Most of a unit
/// is decoded whole (a partial read of uncompressed data is one store request per row), and
/// every unit when the plan validates checksums; less, just the piece. On a store that waits on
/// requests, one request for the whole unit beats the several a partial decoder makes (whether
/// the chunk exists, then a range per run of elements).
pub(super) fn wants_whole(
    plan: &ReadPlan<'_>,
    unit_subset: &ArraySubset,
    piece: &ArraySubset,
) -> bool {
    plan.whole_chunks
        || plan.settings.waits_on_requests
        || 2 * piece.num_elements() >= unit_subset.num_elements()
}

/// The box of read unit `unit` of the plan's grid.
pub(super) fn unit_subset(plan: &ReadPlan<'_>, unit: &[u64]) -> Result<ArraySubset> {
    plan.grid
        .subset(unit)
        .map_err(|e| internal(&e))?
        .ok_or_else(|| internal(&format!("no read unit {unit:?}")))
}

/// Where a box of shape `shape` starting at `start` in a C-order array of shape `outer` begins,
/// as an element offset, if the box is one contiguous run of the array: every axis after the
/// first one it does not span whole is spanned whole, every axis before it has extent 1.
fn contiguous_at(start: &[u64], shape: &[u64], outer: &[u64]) -> Option<usize> {
    // The first axis from which on the box spans `outer` whole.
    let whole_from = (0..shape.len())
        .rev()
        .take_while(|&axis| shape[axis] == outer[axis])
        .last()
        .unwrap_or(shape.len());
    // The axis before it may be partial; the ones before that must have extent 1.
    if whole_from > 1 && shape[..whole_from - 1].iter().any(|&n| n != 1) {
        return None;
    }
    let mut at = 0u64;
    for axis in 0..outer.len() {
        at = at.checked_mul(outer[axis])?.checked_add(start[axis])?;
    }
    usize::try_from(at).ok()
}
