//! Blocks of strided and orthogonal selections read from unencoded chunks of a local store
//! row by row: only the rows of a chunk that hold selected elements are read from its file,
//! into a buffer of just those rows (`selection::Packing`), and the elements are picked out of
//! it.
//!
//! Why: a block's elements span most of its chunk (`[::4, ::4, ::4]` of a 128³ chunk selects
//! from index 0 to 124 on every axis), so the block used to read the whole chunk through zarrs,
//! 4 MiB into a fresh buffer (new pages to fault in), to pick a sixty-fourth of it. The rows
//! that hold its elements are 32 × 32 runs of 250 bytes; read slab by slab (`file_runs`), they
//! are a quarter of the chunk's bytes through the kernel and 250 KiB in the packed buffer,
//! which stays in the core's cache while the elements are picked.

use std::cell::RefCell;

use unsafe_cell_slice::UnsafeCellSlice;
use zarrs::array::ArraySubset;

use super::ArrayHandle;
use super::checks::internal;
use super::plan::ReadPlan;
use super::read::{unencoded_read_error, wrong_size};
use crate::error::Result;
use crate::local_store::ValueRead;
use crate::selection::{Packing, Piece, Selection};

/// Packed rows up to this size are read into a buffer the thread keeps (no page faults after
/// its first use); larger ones, of chunks of many MiB, into a buffer of their own, so that no
/// thread holds on to that much.
const KEPT_BYTES: usize = 8 << 20;

thread_local! {
    /// Each thread's buffer for packed rows, grown as needed up to `KEPT_BYTES` and kept.
    static PACKED_BUFFER: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Whether rows making up `packed` of a chunk's `whole` elements are better read as the whole
/// chunk, in one read straight into the packed buffer: copying most of the chunk's rows out of
/// slabs costs more than the rows left out save.
fn reads_whole(packed: u64, whole: u64) -> bool {
    2 * packed >= whole
}

impl ArrayHandle {
    /// Read the rows of unencoded chunk `unit` (whose box is `unit_subset`) that hold the
    /// elements of `block` of `selection`, from its local file, and hand them to `place` with
    /// their packing. `None` when the array or store does not allow it (not unencoded, not a
    /// local store, read by inner chunk); `Some(false)` when the chunk is not stored (`place`
    /// not called). A chunk whose file is not the chunk's size is corrupt data, whatever rows
    /// are read.
    pub(super) fn read_packed_rows(
        &self,
        plan: &ReadPlan<'_>,
        unit: &[u64],
        unit_subset: &ArraySubset,
        selection: &Selection,
        block: &[Piece],
        place: impl FnOnce(&[u8], &Packing),
    ) -> Result<Option<bool>> {
        let Some(local) = self.store.local.as_ref() else {
            return Ok(None);
        };
        if !self.layout.unencoded || plan.inner_chunks {
            return Ok(None);
        }
        let Some(mut packing) = selection.packing(block) else {
            return Ok(None);
        };
        if reads_whole(packing.elements(), unit_subset.num_elements()) {
            let (start, shape) = (unit_subset.start(), unit_subset.shape());
            packing = selection
                .packing_box(block, start, shape)
                .ok_or_else(|| internal(&"a 0-d block"))?;
        }
        let element_size = self.element_size();
        let length = self.byte_len(unit_subset.shape())?;
        let packed_bytes = self.byte_len(&packing.shape())?;
        let runs = packing.runs(unit_subset.start(), unit_subset.shape(), element_size);
        let key = self.array.chunk_key(unit);
        let read = |buffer: &mut [u8]| -> Result<bool> {
            let target = UnsafeCellSlice::new(buffer);
            // SAFETY: the runs lie inside the packed buffer (of the packing's shape), which
            // no other thread sees.
            let read = unsafe { local.read_runs_into(&key, length as u64, runs, &target) }
                .map_err(|e| unencoded_read_error(&key, length as u64, e))?;
            match read {
                ValueRead::Read => {
                    place(buffer, &packing);
                    Ok(true)
                }
                ValueRead::Missing => Ok(false),
                ValueRead::OtherSize(size) => Err(wrong_size(&key, size, length)),
            }
        };
        if packed_bytes > KEPT_BYTES {
            return read(&mut vec![0; packed_bytes]).map(Some);
        }
        // No other borrow of the buffer can be running on this thread: `read` neither calls
        // into rayon (which could run another block here) nor reads another block.
        PACKED_BUFFER
            .with_borrow_mut(|buffer| {
                if buffer.len() < packed_bytes {
                    buffer.resize(packed_bytes, 0);
                }
                read(&mut buffer[..packed_bytes])
            })
            .map(Some)
    }
}
