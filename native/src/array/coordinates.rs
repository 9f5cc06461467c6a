//! Coordinate selections (zarr's `vindex`): points read and written chunk by chunk. Points are
//! grouped by the read unit (for reads: a chunk, or an inner chunk of a sharded array) or the
//! chunk (for writes) holding them; each group decodes its unit once, the smallest box holding
//! its points where that is much less than the unit, and groups run in parallel.

use std::borrow::Cow;

use rayon::prelude::*;
use unsafe_cell_slice::UnsafeCellSlice;
use zarrs::array::{ArrayBytes, ArraySubset, ChunkGrid};

use super::ArrayHandle;
use super::checks::internal;
use super::plan::ReadPlan;
use super::read::unit_subset;
use crate::box_copy::byte_strides;
use crate::chunk_locks::Access;
use crate::error::{Error, ErrorKind, Result};
use crate::points::{Groups, Points, interleave_axes};

impl ArrayHandle {
    /// Read the `len` points `coords` (`ndim` coordinates each, one point after another) into
    /// `out`, one element per point in the order given.
    pub fn read_coordinates(
        &self,
        coords: &[u64],
        len: usize,
        ndim: usize,
        out: &mut [u8],
    ) -> Result<()> {
        self.check_fixed("read_coordinates_vlen")?;
        let points = self.points(coords, len, ndim)?;
        self.check_points_buffer(&points, out.len())?;
        if points.is_empty() {
            return Ok(());
        }
        let plan = self.read_plan()?;
        let groups = self.group_on(plan.grid, self.unit_shape(&plan), &points)?;
        let _locks = if plan.inner_chunks {
            let units = self.cells_of(plan.grid, &points, &groups)?;
            Some(self.lock_shards_of(plan.grid, units.into_iter())?)
        } else if plan.locks_partial_reads {
            let units = self.cells_of(plan.grid, &points, &groups)?;
            Some(self.locks.lock(Access::Read, units.len() as u64, units)?)
        } else {
            None
        };
        let cache = plan.inner_chunks.then(|| self.shard_reads());
        let element_size = self.element_size();
        let out = UnsafeCellSlice::new(out);
        plan.settings.run_spread(groups.len(), |options| {
            (0..groups.len()).into_par_iter().try_for_each(|g| {
                let group = groups.get(g);
                let unit = self.cell_of(plan.grid, points.get(group[0]))?;
                let unit_subset = unit_subset(&plan, &unit)?;
                let piece = bounding_box(groups.points(g).map(|(_, point)| point))?;
                let decoded =
                    self.decode_piece(&plan, &unit, &unit_subset, &piece, cache.as_ref(), options)?;
                // Where the decoded box starts in the array.
                let origin: Vec<u64> = std::iter::zip(piece.start(), &decoded.start)
                    .map(|(p, d)| p - d)
                    .collect();
                let strides = byte_strides(&decoded.shape, element_size);
                let gather = Gather {
                    groups: &groups,
                    group: g,
                    decoded: &decoded.bytes,
                    origin: &origin,
                    strides: &strides,
                    out: &out,
                };
                match element_size {
                    1 => gather.run::<1>(),
                    2 => gather.run::<2>(),
                    4 => gather.run::<4>(),
                    8 => gather.run::<8>(),
                    16 => gather.run::<16>(),
                    _ => gather.run_sized(element_size),
                }
                Ok(())
            })
        })
    }

    /// Read the `len` points given as one index list per axis (as `points::interleave_axes`
    /// takes them: numpy's `a[i, j, k]`, negative indices wrapped) into `out`.
    pub fn read_coordinate_axes(&self, axes: &[&[i64]], len: usize, out: &mut [u8]) -> Result<()> {
        self.check_fixed("read_coordinates_vlen")?;
        // The buffer first: a wrong one fails before the lists are copied.
        self.check_buffer(&[len as u64], out.len())?;
        let coords = interleave_axes(axes, len, self.shape())?;
        self.read_coordinates(&coords, len, axes.len(), out)
    }

    /// Write the points `coords` (as `read_coordinates` takes them) from `data`, one element per
    /// point. Each chunk holding points is read, updated and written back under its write lock;
    /// where a point repeats, the last of its values is the one stored, as in numpy.
    pub fn write_coordinates(
        &self,
        coords: &[u64],
        len: usize,
        ndim: usize,
        data: &[u8],
    ) -> Result<()> {
        self.check_fixed("write_coordinates_vlen")?;
        let points = self.points(coords, len, ndim)?;
        self.check_points_buffer(&points, data.len())?;
        if points.is_empty() {
            return Ok(());
        }
        let settings = self.write_settings()?;
        let (groups, chunks) = self.group_by_chunk(&points)?;
        let _locks = self
            .locks
            .lock(Access::Write, chunks.len() as u64, &chunks)?;
        let element_size = self.element_size();
        let written = settings.run_spread(groups.len(), |options| {
            (0..groups.len()).into_par_iter().try_for_each(|g| {
                let chunk = &chunks[g];
                let subset = self.array.chunk_subset(chunk)?;
                let mut dense = vec![0u8; self.byte_len(subset.shape())?];
                self.decode_into(&subset, &mut dense, options)?;
                let strides = byte_strides(subset.shape(), element_size);
                for (p, point) in groups.points(g) {
                    let d = dense_offset(point, subset.start(), &strides);
                    let o = p * element_size;
                    dense[d..d + element_size].copy_from_slice(&data[o..o + element_size]);
                }
                let bytes = ArrayBytes::new_flen(Cow::Owned(dense));
                Ok(self.array.store_chunk_opt(chunk, bytes, options)?)
            })
        });
        self.forget_shards(&chunks);
        written
    }

    fn check_points_buffer(&self, points: &Points<'_>, len: usize) -> Result<()> {
        self.check_buffer(&[points.len() as u64], len)
    }

    /// `points` grouped by the chunk holding them, and each group's chunk.
    pub(super) fn group_by_chunk(&self, points: &Points<'_>) -> Result<(Groups, Vec<Vec<u64>>)> {
        let grid = self.array.chunk_grid();
        let groups = self.group_on(grid, self.layout.chunk_shape.clone(), points)?;
        let chunks = self.cells_of(grid, points, &groups)?;
        Ok((groups, chunks))
    }

    /// The cell shape of the plan's grid when it is regular (the chunk shape, or the inner
    /// chunk shape of a sharded array read by inner chunk); `None` for other grids.
    fn unit_shape(&self, plan: &ReadPlan<'_>) -> Option<Vec<u64>> {
        if plan.inner_chunks {
            let origin = vec![0; self.ndim()];
            plan.grid.chunk_shape_u64(&origin).ok().flatten()
        } else {
            self.layout.chunk_shape.clone()
        }
    }

    /// Group `points` by cell of `grid`: by division when its cells are `regular`, otherwise
    /// by asking the grid.
    fn group_on(
        &self,
        grid: &ChunkGrid,
        regular: Option<Vec<u64>>,
        points: &Points<'_>,
    ) -> Result<Groups> {
        match regular {
            Some(cell_shape) => points.group_regular(&cell_shape, self.shape()),
            None => points.group(|point, cell| {
                cell.copy_from_slice(&self.cell_of(grid, point)?);
                Ok(())
            }),
        }
    }

    /// The cell of `grid` holding each group of `points`.
    fn cells_of(
        &self,
        grid: &ChunkGrid,
        points: &Points<'_>,
        groups: &Groups,
    ) -> Result<Vec<Vec<u64>>> {
        (0..groups.len())
            .map(|g| self.cell_of(grid, points.get(groups.get(g)[0])))
            .collect()
    }

    /// The cell of `grid` holding `point` (a checked point of the array).
    fn cell_of(&self, grid: &ChunkGrid, point: &[u64]) -> Result<Vec<u64>> {
        grid.chunk_indices(point)
            .map_err(|e| internal(&e))?
            .ok_or_else(|| Error::new(ErrorKind::OutOfBounds, format!("no chunk holds {point:?}")))
    }
}

/// One group's points copied from its decoded box into the output, one element per point.
struct Gather<'a> {
    groups: &'a Groups,
    group: usize,
    decoded: &'a [u8],
    /// Where the decoded box starts in the array, and its byte strides.
    origin: &'a [u64],
    strides: &'a [u64],
    out: &'a UnsafeCellSlice<'a, u8>,
}

impl Gather<'_> {
    /// For elements of `N` bytes: a copy of a known size per point, which compiles to one move
    /// (a copy of a run-time size is a `memcpy` call per point: 4 % of a million-point read of
    /// a zstd array, with 2-byte elements). The points of a group land anywhere in a decoded
    /// chunk of megabytes, so nearly every copy misses the cache: the element `AHEAD` points
    /// on is prefetched while this one is copied, so the misses overlap instead of queueing.
    fn run<const N: usize>(&self) {
        const AHEAD: usize = 16;
        // (output offset, decoded offset) of every point: as many as the group has points.
        let places: Vec<(usize, usize)> = self
            .groups
            .points(self.group)
            .map(|(p, point)| (p * N, dense_offset(point, self.origin, self.strides)))
            .collect();
        for (i, &(o, d)) in places.iter().enumerate() {
            if let Some(&(_, next)) = places.get(i + AHEAD) {
                prefetch(self.decoded.as_ptr().wrapping_add(next));
            }
            let mut element = [0u8; N];
            element.copy_from_slice(&self.decoded[d..d + N]);
            // SAFETY: each point is in exactly one group, so groups running in parallel write
            // disjoint elements of `out`.
            let target = unsafe { self.out.index_mut(o..o + N) };
            target.copy_from_slice(&element);
        }
    }

    /// For elements of any other size.
    fn run_sized(&self, element_size: usize) {
        for (p, point) in self.groups.points(self.group) {
            let d = dense_offset(point, self.origin, self.strides);
            let o = p * element_size;
            // SAFETY: as in `run`.
            let target = unsafe { self.out.index_mut(o..o + element_size) };
            target.copy_from_slice(&self.decoded[d..d + element_size]);
        }
    }
}

/// Ask the CPU to bring the cache line at `address` in (a hint: it never faults, whatever the
/// address).
#[cfg(target_arch = "x86_64")]
fn prefetch(address: *const u8) {
    use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
    // SAFETY: a prefetch reads nothing and cannot fault; SSE is part of x86_64's baseline.
    unsafe { _mm_prefetch::<_MM_HINT_T0>(address.cast()) };
}

#[cfg(not(target_arch = "x86_64"))]
fn prefetch(_address: *const u8) {}

/// The smallest box holding `points` (at least one).
pub(super) fn bounding_box<'a>(mut points: impl Iterator<Item = &'a [u64]>) -> Result<ArraySubset> {
    let first = points
        .next()
        .ok_or_else(|| internal(&"an empty group of points"))?;
    let (mut lo, mut hi) = (first.to_vec(), first.to_vec());
    for point in points {
        for (axis, &i) in point.iter().enumerate() {
            lo[axis] = lo[axis].min(i);
            hi[axis] = hi[axis].max(i);
        }
    }
    let shape = std::iter::zip(&lo, &hi).map(|(l, h)| h - l + 1).collect();
    ArraySubset::new_with_start_shape(lo, shape).map_err(|e| internal(&e))
}

/// The byte offset of `point` in a C-order box starting at `origin` with byte `strides`.
pub(super) fn dense_offset(point: &[u64], origin: &[u64], strides: &[u64]) -> usize {
    let mut offset = 0;
    for ((i, o), s) in point.iter().zip(origin).zip(strides) {
        offset += (i - o) * s;
    }
    offset as usize
}
