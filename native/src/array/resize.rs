//! Resizing and appending: a new shape for a stored array, with its chunks brought in line.
//!
//! Stored chunks keep one invariant: elements outside the array's shape are the fill value. So
//! growing an axis shows the fill value in the new part, never data from before a shrink (or
//! left by a writer that does not clear, as zarr-python's resize does not).
//!
//! The order of the steps is what keeps readers and crashes safe:
//! - growing first clears whatever lies beyond the old shape in edge chunks (invisible to anyone
//!   reading with the old metadata), then writes the new metadata;
//! - shrinking first writes the new metadata, then erases chunks wholly outside the new shape and
//!   clears edge chunks beyond it (invisible to anyone reading with the new metadata).
//!
//! A crash between the steps leaves either shape readable and correct; what it may leave behind
//! (data beyond the shape) is cleared by the next resize that grows over it. An append writes
//! the new data through a handle of the grown shape before the metadata that shows it.

use rayon::prelude::*;
use zarrs::array::{ArrayBytes, ArraySubset, update_array_bytes};

use super::ArrayHandle;
use super::checks::internal;
use crate::chunk_locks::Access;
use crate::config::{Settings, run_in_pool};
use crate::error::{Error, ErrorKind, Result};
use crate::node;

impl ArrayHandle {
    /// Resize the array to `shape` (same number of dimensions, any axis larger or smaller) and
    /// return a handle for the new shape. This handle keeps describing the old shape.
    pub fn resize(&self, shape: &[u64]) -> Result<ArrayHandle> {
        self.check_resizable(shape)?;
        let old = self.shape().to_vec();
        let union: Vec<u64> = old.iter().zip(shape).map(|(&o, &n)| o.max(n)).collect();
        let resized = self.with_shape(shape)?;
        let spanning = self.with_shape(&union)?;
        // Growing: beyond the old shape, on every axis that grows.
        if old.iter().zip(shape).any(|(o, n)| n > o) {
            let keep: Vec<u64> = old
                .iter()
                .zip(shape)
                .map(|(&o, &n)| if n > o { o } else { u64::MAX })
                .collect();
            spanning.keep_only(&old, &keep)?;
        }
        resized.store_metadata()?;
        // Shrinking: beyond the new shape.
        if old.iter().zip(shape).any(|(o, n)| n < o) {
            spanning.keep_only(&old, shape)?;
        }
        Ok(resized)
    }

    /// Append `data`, a C-contiguous block of `shape`, along `axis`: `shape` equals the array's
    /// shape on every other axis. Returns a handle for the grown array.
    pub fn append(&self, axis: usize, shape: &[u64], data: &[u8]) -> Result<ArrayHandle> {
        let old = self.shape().to_vec();
        self.check_ndim("the appended block", shape.len())?;
        if axis >= old.len() {
            return Err(Error::invalid_argument(format!(
                "axis {axis} is out of range for an array of {} dimensions",
                old.len()
            )));
        }
        if let Some(other) = (0..old.len()).find(|&a| a != axis && shape[a] != old[a]) {
            return Err(Error::invalid_argument(format!(
                "the appended block has shape {shape:?}; on axis {other} it must match the array's shape {old:?}"
            )));
        }
        let mut grown = old.clone();
        grown[axis] = old[axis].checked_add(shape[axis]).ok_or_else(|| {
            Error::new(
                ErrorKind::OutOfBounds,
                "the appended array would exceed 2^64 elements on its axis",
            )
        })?;
        self.check_resizable(&grown)?;
        let resized = self.with_shape(&grown)?;
        let mut start = vec![0; old.len()];
        start[axis] = old[axis];
        // What lies beyond the old shape in edge chunks is overwritten by the block itself.
        resized.write_region(&start, shape, data)?;
        resized.store_metadata()?;
        Ok(resized)
    }

    fn check_resizable(&self, shape: &[u64]) -> Result<()> {
        self.check_ndim("the new shape", shape.len())?;
        self.layout.regular_chunk_shape().map_err(|_| {
            Error::new(
                ErrorKind::Unsupported,
                "only arrays with a regular chunk grid can be resized",
            )
        })?;
        Ok(())
    }

    /// A handle on the same array and store with its document's shape replaced.
    fn with_shape(&self, shape: &[u64]) -> Result<ArrayHandle> {
        let mut doc = self.doc.clone();
        doc.set_value("shape", serde_json::json!(shape));
        let mut handle = ArrayHandle::with_doc(self.store.clone(), self.array.path().clone(), doc)?;
        handle.options = self.options;
        Ok(handle)
    }

    fn store_metadata(&self) -> Result<()> {
        node::write_metadata(&self.store.storage, self.array.path(), &self.doc)
    }

    /// Make every element of the chunks holding `old` (the array's extent before a resize) that
    /// lies outside `[0, keep)` the fill value: chunks wholly outside are erased, others that are
    /// stored are rewritten. Only chunks not wholly inside `keep` are visited. `self` spans both
    /// shapes, so its grid holds every chunk concerned.
    fn keep_only(&self, old: &[u64], keep: &[u64]) -> Result<()> {
        let chunk = self.layout.regular_chunk_shape()?.to_vec();
        let grid: Vec<u64> = old
            .iter()
            .zip(&chunk)
            .map(|(&o, &c)| o.div_ceil(c))
            .collect();
        let inside: Vec<u64> = keep
            .iter()
            .zip(&chunk)
            .zip(&grid)
            .map(|((&k, &c), &g)| (k / c).min(g))
            .collect();
        let settings = self.write_settings()?;
        let boxes = shell(&grid, &inside);
        let walked: u128 = boxes.iter().map(|b| u128::from(b.num_elements())).sum();
        let visit: Vec<Vec<u64>> = if walked <= WALK_LIMIT {
            boxes
                .iter()
                .flat_map(|b| b.indices().into_iter().map(|index| index.to_vec()))
                .collect()
        } else {
            // A grid this large (a huge declared shape, or chunks of one element) is mostly
            // empty: visit the chunks that are stored, never every index of the grid.
            let in_shell = |index: &Vec<u64>| {
                index.iter().zip(&grid).all(|(i, g)| i < g)
                    && index.iter().zip(&inside).any(|(i, k)| i >= k)
            };
            self.stored_chunk_indices()?
                .into_iter()
                .filter(in_shell)
                .collect()
        };
        // A hostile variable-length chunk can make zarrs' decoder panic: that is corrupt data.
        super::vlen::decode_guarded(|| {
            run_in_pool(|| {
                visit
                    .into_par_iter()
                    .try_for_each(|index| self.keep_in_chunk(&settings, &index, &chunk, keep))
            })
        })
    }

    /// The indices of the chunks stored for this array: its keys listed, each parsed back into
    /// indices and kept only if the array's chunk key encoding gives that same key for them.
    fn stored_chunk_indices(&self) -> Result<Vec<Vec<u64>>> {
        let path = self.array.path();
        let prefix = node::node_prefix(path)?;
        let keys = self.store.storage.list_prefix(&prefix).map_err(|e| {
            Error::new(
                ErrorKind::Unsupported,
                format!(
                    "this resize clears more than {WALK_LIMIT} chunk positions, so it visits the \
                     stored chunks, which needs a store that can list: {e}"
                ),
            )
        })?;
        let ndim = self.shape().len();
        Ok(keys
            .iter()
            .filter_map(|key| {
                let relative = key.as_str().strip_prefix(prefix.as_str())?;
                let index = chunk_index_in(relative, ndim)?;
                (self.array.chunk_key(&index) == *key).then_some(index)
            })
            .collect())
    }

    /// `keep_only` for the chunk at `index`: the kept box of the stored chunk copied into a
    /// chunk of fill values (zarrs' array-bytes operations, so variable-length types work too).
    fn keep_in_chunk(
        &self,
        settings: &Settings,
        index: &[u64],
        chunk: &[u64],
        keep: &[u64],
    ) -> Result<()> {
        let start: Vec<u64> = index.iter().zip(chunk).map(|(i, c)| i * c).collect();
        let kept: Vec<u64> = start
            .iter()
            .zip(chunk)
            .zip(keep)
            .map(|((&s, &c), &k)| k.saturating_sub(s).min(c))
            .collect();
        let _lock = self.locks.lock_one(Access::Write, index)?;
        // Whatever is done to the chunk below replaces or erases it.
        self.forget_shards([index]);
        if kept.contains(&0) {
            return Ok(self.array.erase_chunk(index)?);
        }
        let options = settings.codec_options(1);
        let Some(stored) = self
            .array
            .retrieve_chunk_if_exists_opt::<ArrayBytes>(index, &options)?
        else {
            return Ok(());
        };
        let data_type = self.array.data_type();
        let kept = ArraySubset::new_with_shape(kept);
        let piece = stored
            .extract_array_subset(&kept, chunk, data_type)
            .map_err(|e| internal(&e))?;
        let elements = chunk.iter().product::<u64>();
        let fill = ArrayBytes::new_fill_value(data_type, elements, self.array.fill_value())
            .map_err(|e| internal(&e))?;
        let cleared = update_array_bytes(fill, chunk, &kept, &piece, data_type.size())
            .map_err(|e| internal(&e))?;
        self.store_whole(index, cleared, settings.store_empty_chunks, &options)
    }
}

/// How many chunk positions a resize visits one by one; above it, it lists the stored chunks.
const WALK_LIMIT: u128 = 1 << 16;

/// The chunk indices a key (relative to the array) would name under any of Zarr's chunk key
/// encodings (`c/1/2`, `c.1.2`, `1.2`, `1/2`, `c` or `0` for no dimensions); the caller checks
/// the array's encoding gives back the same key.
fn chunk_index_in(relative: &str, ndim: usize) -> Option<Vec<u64>> {
    let numbers = relative.strip_prefix('c').unwrap_or(relative);
    let numbers = numbers.trim_start_matches(['/', '.']);
    if ndim == 0 {
        return Some(Vec::new());
    }
    let index: Vec<u64> = numbers
        .split(['/', '.'])
        .map(|n| n.parse().ok())
        .collect::<Option<_>>()?;
    (index.len() == ndim).then_some(index)
}

/// The chunks of a grid of `grid` chunks per axis that are not among the first `inside` on every
/// axis, as disjoint boxes of chunk indices: for each axis, the chunks past `inside` on it that
/// are inside on the axes before it.
fn shell(grid: &[u64], inside: &[u64]) -> Vec<ArraySubset> {
    (0..grid.len())
        .filter(|&axis| inside[axis] < grid[axis])
        .map(|axis| {
            let ranges: Vec<std::ops::Range<u64>> = (0..grid.len())
                .map(|a| match a.cmp(&axis) {
                    std::cmp::Ordering::Less => 0..inside[a],
                    std::cmp::Ordering::Equal => inside[a]..grid[a],
                    std::cmp::Ordering::Greater => 0..grid[a],
                })
                .collect();
            ArraySubset::new_with_ranges(&ranges)
        })
        .filter(|chunks| chunks.num_elements() > 0)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{chunk_index_in, shell};

    #[test]
    fn chunk_keys_parse_back_into_indices() {
        assert_eq!(chunk_index_in("c/1/20", 2), Some(vec![1, 20]));
        assert_eq!(chunk_index_in("c.1.20", 2), Some(vec![1, 20]));
        assert_eq!(chunk_index_in("3.4.5", 3), Some(vec![3, 4, 5]));
        assert_eq!(chunk_index_in("c", 0), Some(vec![]));
        assert_eq!(chunk_index_in("zarr.json", 1), None);
        assert_eq!(chunk_index_in("c/1", 2), None);
    }

    #[test]
    fn the_shell_covers_each_chunk_outside_the_inside_once() {
        let boxes = shell(&[4, 5, 3], &[2, 5, 1]);
        let mut seen: Vec<Vec<u64>> = boxes
            .iter()
            .flat_map(|b| b.indices().into_iter().map(|i| i.to_vec()))
            .collect();
        seen.sort();
        let mut expected = Vec::new();
        for i in 0..4 {
            for j in 0..5 {
                for k in 0..3 {
                    if !(i < 2 && j < 5 && k < 1) {
                        expected.push(vec![i, j, k]);
                    }
                }
            }
        }
        assert_eq!(seen, expected);
        assert!(shell(&[2, 2], &[2, 2]).is_empty());
    }
}
