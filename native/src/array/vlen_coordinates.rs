//! Coordinate selections (zarr's `vindex`) of variable-length arrays (`string`, `bytes`). Points
//! are grouped by the chunk holding them, as `coordinates` groups them for fixed-size types: a
//! read decodes, per chunk, the smallest box holding its points and gathers the points'
//! elements in the order given; a write reads each chunk holding points, replaces their elements
//! and stores the chunk back under its write lock. Chunks holding no point are not touched.

use rayon::prelude::*;
use zarrs::array::{ArrayBytes, ArraySubset};

use super::ArrayHandle;
use super::checks::internal;
use super::coordinates::{bounding_box, dense_offset};
use super::vlen::{VlenData, decode_guarded, vlen_arg};
use super::vlen_selection::gather;
use crate::box_copy::byte_strides;
use crate::chunk_locks::Access;
use crate::error::Result;

impl ArrayHandle {
    /// Decode the `len` points `coords` (`ndim` coordinates each, one point after another) of a
    /// variable-length array, one element per point in the order given.
    pub fn read_coordinates_vlen(
        &self,
        coords: &[u64],
        len: usize,
        ndim: usize,
    ) -> Result<VlenData> {
        self.require_vlen("read_coordinates")?;
        let points = self.points(coords, len, ndim)?;
        if points.is_empty() {
            return Ok(VlenData::empty());
        }
        let plan = self.read_plan()?;
        let (groups, chunks) = self.group_by_chunk(&points)?;
        let _locks = (plan.locks_partial_reads && !plan.whole_chunks)
            .then(|| self.locks.lock(Access::Read, chunks.len() as u64, &chunks))
            .transpose()?;
        let decoded: Vec<(ArraySubset, VlenData)> = decode_guarded(|| {
            plan.settings.run_spread(groups.len(), |options| {
                (0..groups.len())
                    .into_par_iter()
                    .map(|g| {
                        let piece = bounding_box(groups.points(g).map(|(_, point)| point))?;
                        let data = self.retrieve_vlen(&piece, plan.whole_chunks, options)?;
                        Ok((piece, data))
                    })
                    .collect()
            })
        })?;
        gather(points.len(), |visit| {
            (0..groups.len()).into_par_iter().for_each(|g| {
                let (piece, data) = &decoded[g];
                let strides = byte_strides(piece.shape(), 1);
                for (p, point) in groups.points(g) {
                    visit(
                        data.element(dense_offset(point, piece.start(), &strides)),
                        p,
                    );
                }
            });
        })
    }

    /// Write the points `coords` (as `read_coordinates_vlen` takes them) of a variable-length
    /// array from `offsets` and `bytes`, one element per point (checked as for
    /// `write_region_vlen`). Where a point repeats, the last of its values is the one stored, as
    /// in numpy.
    pub fn write_coordinates_vlen(
        &self,
        coords: &[u64],
        len: usize,
        ndim: usize,
        offsets: &[u64],
        bytes: &[u8],
    ) -> Result<()> {
        let kind = self.require_vlen("write_coordinates")?;
        let points = self.points(coords, len, ndim)?;
        let data = vlen_arg(kind, len as u64, offsets, bytes)?;
        if points.is_empty() {
            return Ok(());
        }
        let ArrayBytes::Variable(data) = &data else {
            return Err(internal(&"fixed-size bytes for a variable-length write"));
        };
        let (bytes, offsets) = (data.bytes(), data.offsets());
        let settings = self.write_settings()?;
        let store_empty = settings.store_empty_chunks;
        let (groups, chunks) = self.group_by_chunk(&points)?;
        let _locks = self
            .locks
            .lock(Access::Write, chunks.len() as u64, &chunks)?;
        decode_guarded(|| {
            settings.run_spread(groups.len(), |options| {
                (0..groups.len()).into_par_iter().try_for_each(|g| {
                    let chunk = &chunks[g];
                    let subset = self.array.chunk_subset(chunk)?;
                    let old = self.array.retrieve_chunk_opt(chunk, options)?;
                    let old = VlenData::from_array_bytes(old, subset.num_elements())?;
                    let mut items: Vec<&[u8]> = (0..old.len()).map(|i| old.element(i)).collect();
                    let strides = byte_strides(subset.shape(), 1);
                    // Points in ascending order: the last of equal points is written last.
                    for (p, point) in groups.points(g) {
                        let d = dense_offset(point, subset.start(), &strides);
                        items[d] = &bytes[offsets[p]..offsets[p + 1]];
                    }
                    self.store_items(chunk, &items, store_empty, options)
                })
            })
        })
    }
}
