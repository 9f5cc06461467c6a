//! Strided and orthogonal selections. A strided axis is a start, a step (negative steps run
//! backwards) and a count, which is what numpy's basic slicing (`a[3:40:5, ::-1, 7]`) selects;
//! a listed axis is any list of indices (unsorted, duplicates allowed), and a selection of such
//! axes is their outer product (zarr's orthogonal selection, `a.oindex[[7, 2, 2], 1:9]`).
//!
//! A selection is split into blocks, one per chunk that holds at least one selected element, so
//! a read or write never touches a chunk the selection skips. Each selected element belongs to
//! exactly one block, which is what lets blocks be processed in parallel into one buffer.

use rayon::prelude::*;

use crate::box_copy::{Run, byte_strides};
use crate::error::{Error, ErrorKind, Result};

/// One axis of a selection as a caller gives it: the `count` indices `start`, `start + step`, ...
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AxisSelection {
    pub start: u64,
    pub step: i64,
    pub count: u64,
}

/// A strided axis in ascending form: elements `lo + j * step` for `j` in `0..count`, stored at
/// position `j` of the caller's buffer, or `count - 1 - j` when the caller's step was negative.
#[derive(Clone, Copy, Debug)]
struct Strided {
    lo: u64,
    step: u64,
    count: u64,
    reversed: bool,
}

/// A listed axis in ascending form: element `indices[j]` is stored at position `positions[j]`
/// of the caller's buffer. Equal indices keep the caller's order, so a write visits the last
/// of them last and that one wins, as in numpy.
#[derive(Clone, Debug)]
struct Listed {
    indices: Vec<u64>,
    positions: Vec<u64>,
}

/// One checked axis; selected elements are numbered `j = 0..count` in ascending index order.
#[derive(Clone, Debug)]
enum Axis {
    Strided(Strided),
    Listed(Listed),
}

impl Axis {
    fn count(&self) -> u64 {
        match self {
            Axis::Strided(a) => a.count,
            Axis::Listed(a) => a.indices.len() as u64,
        }
    }

    fn index(&self, j: u64) -> u64 {
        match self {
            Axis::Strided(a) => a.lo + j * a.step,
            Axis::Listed(a) => a.indices[j as usize],
        }
    }

    fn position(&self, j: u64) -> u64 {
        match self {
            Axis::Strided(a) if a.reversed => a.count - 1 - j,
            Axis::Strided(_) => j,
            Axis::Listed(a) => a.positions[j as usize],
        }
    }

    /// The last selected element (numbering `j`, from `first` on) whose index is below `end`.
    fn last_before(&self, first: u64, end: u64) -> u64 {
        match self {
            Axis::Strided(a) => ((end - 1 - a.lo) / a.step).min(a.count - 1),
            Axis::Listed(a) => {
                let rest = &a.indices[first as usize..];
                (first + rest.partition_point(|&i| i < end) as u64).wrapping_sub(1)
            }
        }
    }

    /// Whether the axis selects a plain range (ascending by one), or at most one element.
    fn is_range(&self) -> bool {
        match self {
            Axis::Strided(a) => a.count <= 1 || (a.step == 1 && !a.reversed),
            Axis::Listed(a) => a.indices.len() <= 1,
        }
    }
}

/// A list of indices as a strided axis when it is an arithmetic progression (a slice the
/// caller spelled as a list): such axes copy runs instead of single elements.
fn as_strided(indices: &[u64]) -> Option<Strided> {
    let count = indices.len() as u64;
    let (&first, &last) = (indices.first()?, indices.last()?);
    if count == 1 {
        return Some(Strided {
            lo: first,
            step: 1,
            count,
            reversed: false,
        });
    }
    let (lo, hi, reversed) = if first < last {
        (first, last, false)
    } else {
        (last, first, true)
    };
    let step = (hi - lo) / (count - 1);
    let progression = step > 0
        && indices
            .windows(2)
            .all(|w| w[0].abs_diff(w[1]) == step && (w[0] < w[1]) != reversed);
    progression.then_some(Strided {
        lo,
        step,
        count,
        reversed,
    })
}

/// Check a listed axis against its extent and put it in ascending form.
fn listed_axis(indices: &[u64], axis: usize, extent: u64) -> Result<Axis> {
    if let Some((position, &index)) = indices.iter().enumerate().find(|(_, i)| **i >= extent) {
        return Err(Error::new(
            ErrorKind::OutOfBounds,
            format!(
                "index {index} (entry {position} of the list for axis {axis}) is outside axis {axis} of extent {extent}"
            ),
        ));
    }
    if let Some(strided) = as_strided(indices) {
        return Ok(Axis::Strided(strided));
    }
    let mut positions: Vec<u64> = (0..indices.len() as u64).collect();
    // Stable, so equal indices keep the caller's order.
    positions.par_sort_by_key(|&p| indices[p as usize]);
    let sorted = positions.iter().map(|&p| indices[p as usize]).collect();
    Ok(Axis::Listed(Listed {
        indices: sorted,
        positions,
    }))
}

/// The selected elements `first..=last` (ascending numbering) of one axis that lie in chunk
/// `chunk` of that axis.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Piece {
    pub chunk: u64,
    first: u64,
    last: u64,
}

impl Piece {
    /// The number of selected elements in the piece (at least one).
    pub fn count(&self) -> u64 {
        self.last - self.first + 1
    }
}

/// A checked selection of an array.
#[derive(Debug)]
pub struct Selection {
    axes: Vec<Axis>,
}

impl Selection {
    /// Check `axes` against the array shape: steps are non-zero and every selected index lies
    /// inside the array.
    pub fn new(axes: &[AxisSelection], shape: &[u64]) -> Result<Self> {
        let mut checked = Vec::with_capacity(axes.len());
        for (axis, (sel, &extent)) in axes.iter().zip(shape).enumerate() {
            if sel.step == 0 {
                return Err(Error::invalid_argument(format!(
                    "selection step is 0 on axis {axis}"
                )));
            }
            let step = sel.step.unsigned_abs();
            let out_of_bounds = || {
                Error::new(
                    ErrorKind::OutOfBounds,
                    format!(
                        "selection of {} elements from {} by step {} leaves axis {axis} of extent {extent}",
                        sel.count, sel.start, sel.step
                    ),
                )
            };
            let lo = if sel.count == 0 {
                0
            } else {
                let span = (sel.count - 1)
                    .checked_mul(step)
                    .ok_or_else(out_of_bounds)?;
                let (lo, hi) = if sel.step > 0 {
                    (
                        sel.start,
                        sel.start.checked_add(span).ok_or_else(out_of_bounds)?,
                    )
                } else {
                    (
                        sel.start.checked_sub(span).ok_or_else(out_of_bounds)?,
                        sel.start,
                    )
                };
                if hi >= extent {
                    return Err(out_of_bounds());
                }
                lo
            };
            checked.push(Axis::Strided(Strided {
                lo,
                step,
                count: sel.count,
                reversed: sel.step < 0,
            }));
        }
        Ok(Self { axes: checked })
    }

    /// Check an orthogonal selection against the array shape: on each axis a list of indices
    /// inside the array, in any order, duplicates allowed.
    pub fn orthogonal(indices: &[&[u64]], shape: &[u64]) -> Result<Self> {
        let axes = std::iter::zip(indices, shape)
            .enumerate()
            .map(|(axis, (list, &extent))| listed_axis(list, axis, extent))
            .collect::<Result<_>>()?;
        Ok(Self { axes })
    }

    /// The region starting at `start` with extent `shape`, already checked against the array.
    pub fn contiguous(start: &[u64], shape: &[u64]) -> Self {
        let axes = std::iter::zip(start, shape)
            .map(|(&lo, &count)| {
                Axis::Strided(Strided {
                    lo,
                    step: 1,
                    count,
                    reversed: false,
                })
            })
            .collect();
        Self { axes }
    }

    /// The shape of the selected block, as the caller's buffer holds it.
    pub fn counts(&self) -> Vec<u64> {
        self.axes.iter().map(Axis::count).collect()
    }

    pub fn is_empty(&self) -> bool {
        self.axes.iter().any(|a| a.count() == 0)
    }

    /// The selection as a plain region `(start, shape)` when it is one: every axis ascending by
    /// one (or selecting at most one element).
    pub fn as_region(&self) -> Option<(Vec<u64>, Vec<u64>)> {
        let start = |a: &Axis| if a.count() == 0 { 0 } else { a.index(0) };
        self.axes
            .iter()
            .all(Axis::is_range)
            .then(|| (self.axes.iter().map(start).collect(), self.counts()))
    }

    /// Per axis, the pieces of the selection chunk by chunk. `chunk_along(axis, index)` gives the
    /// chunk holding `index` on `axis` and the end (exclusive) of that chunk on that axis.
    pub fn pieces(
        &self,
        chunk_along: impl Fn(usize, u64) -> Result<(u64, u64)>,
    ) -> Result<Vec<Vec<Piece>>> {
        self.axes
            .iter()
            .enumerate()
            .map(|(number, axis)| {
                let mut pieces = Vec::new();
                let mut j = 0;
                while j < axis.count() {
                    let (chunk, end) = chunk_along(number, axis.index(j))?;
                    let last = axis.last_before(j, end);
                    if last < j || last == u64::MAX {
                        return Err(Error::new(
                            ErrorKind::Internal,
                            format!("the chunk holding index {} ends at {end}", axis.index(j)),
                        ));
                    }
                    pieces.push(Piece {
                        chunk,
                        first: j,
                        last,
                    });
                    j = last + 1;
                }
                Ok(pieces)
            })
            .collect()
    }

    /// The smallest region holding every selected element of a block: `(start, shape)`.
    pub fn bounding_box(&self, block: &[Piece]) -> (Vec<u64>, Vec<u64>) {
        self.axes
            .iter()
            .zip(block)
            .map(|(axis, piece)| {
                let start = axis.index(piece.first);
                (start, axis.index(piece.last) - start + 1)
            })
            .unzip()
    }

    /// Call `visit(dense_offset, buffer_offset)` with the byte offsets of every element of a
    /// block: in a dense C-contiguous array of `element_size`-byte elements with origin
    /// `dense_start` and shape `dense_shape` (which must hold the block), and in the caller's
    /// buffer of shape `counts()`.
    pub fn for_each_element(
        &self,
        block: &[Piece],
        dense_start: &[u64],
        dense_shape: &[u64],
        element_size: usize,
        visit: impl FnMut(usize, usize),
    ) {
        let dense_strides = byte_strides(dense_shape, element_size);
        let inner_origin = dense_start.last().copied().unwrap_or(0);
        let outer_offset = |axis: usize, j: u64| {
            (self.axes[axis].index(j) - dense_start[axis]) * dense_strides[axis]
        };
        self.walk(block, inner_origin, element_size, outer_offset, visit);
    }

    /// `for_each_element` for the block's elements packed by `packing` (which must be the
    /// block's): dense offsets are offsets in the packed rows.
    pub fn for_each_packed_element(
        &self,
        block: &[Piece],
        packing: &Packing,
        element_size: usize,
        visit: impl FnMut(usize, usize),
    ) {
        let strides = byte_strides(&packing.shape(), element_size);
        let outer_offset = |axis: usize, j: u64| {
            packing.slots[axis][(j - block[axis].first) as usize] * strides[axis]
        };
        self.walk(
            block,
            packing.inner_start,
            element_size,
            outer_offset,
            visit,
        );
    }

    /// Visit every element of a block: `outer_offset(axis, j)` is the dense byte offset of
    /// selected element `j` on an axis but the last; the last axis is dense from index
    /// `inner_origin`, `element_size` bytes apart.
    fn walk(
        &self,
        block: &[Piece],
        inner_origin: u64,
        element_size: usize,
        outer_offset: impl Fn(usize, u64) -> u64,
        mut visit: impl FnMut(usize, usize),
    ) {
        let ndim = self.axes.len();
        let buffer_strides = byte_strides(&self.counts(), element_size);
        if ndim == 0 {
            visit(0, 0);
            return;
        }
        // An odometer over every axis but the last; the last axis is a simple loop.
        let inner = ndim - 1;
        let inner_axis = &self.axes[inner];
        // The offsets of `j` on the outer axes.
        let outer_offsets = |j: &[u64]| {
            let mut dense = 0;
            let mut buffer = 0;
            for (axis_number, axis) in self.axes[..inner].iter().enumerate() {
                dense += outer_offset(axis_number, j[axis_number]);
                buffer += axis.position(j[axis_number]) * buffer_strides[axis_number];
            }
            (dense, buffer)
        };
        let row = Row {
            piece: block[inner],
            origin: inner_origin,
            dense_stride: element_size as u64,
            buffer_stride: buffer_strides[inner],
            element_size,
        };
        let mut j: Vec<u64> = block.iter().map(|p| p.first).collect();
        loop {
            row.visit(inner_axis, outer_offsets(&j), &mut visit);
            // Advance the outer axes.
            let mut axis = inner;
            loop {
                if axis == 0 {
                    return;
                }
                axis -= 1;
                if j[axis] < block[axis].last {
                    j[axis] += 1;
                    break;
                }
                j[axis] = block[axis].first;
            }
        }
    }

    /// The rows of a block's selected elements, packed (`Packing`): on every axis but the last
    /// the distinct indices the block selects, on the last the span from its first selected
    /// index to its last. `None` for a 0-d selection.
    pub fn packing(&self, block: &[Piece]) -> Option<Packing> {
        let (inner, outer) = self.axes.split_last()?;
        let rows = std::iter::zip(outer, block)
            .map(|(axis, piece)| {
                let mut rows: Vec<u64> =
                    (piece.first..=piece.last).map(|j| axis.index(j)).collect();
                // Listed axes may repeat an index; strided ones never do.
                rows.dedup();
                rows
            })
            .collect();
        let piece = block[outer.len()];
        let inner_start = inner.index(piece.first);
        let inner_extent = inner.index(piece.last) - inner_start + 1;
        Some(self.packing_of(block, rows, inner_start, inner_extent))
    }

    /// The packing of every row of the box `start`, `shape` (which holds the block): the box
    /// itself, in C order. `None` for a 0-d selection.
    pub fn packing_box(&self, block: &[Piece], start: &[u64], shape: &[u64]) -> Option<Packing> {
        let (&inner_start, outer_start) = start.split_last()?;
        let (&inner_extent, outer_shape) = shape.split_last()?;
        let rows = std::iter::zip(outer_start, outer_shape)
            .map(|(&start, &extent)| (start..start + extent).collect())
            .collect();
        Some(self.packing_of(block, rows, inner_start, inner_extent))
    }

    /// The packing with `rows` on the outer axes (ascending, holding every index the block
    /// selects there), where each selected element's row is found.
    fn packing_of(
        &self,
        block: &[Piece],
        rows: Vec<Vec<u64>>,
        inner_start: u64,
        inner_extent: u64,
    ) -> Packing {
        let slots = std::iter::zip(&self.axes, block)
            .zip(&rows)
            .map(|((axis, piece), rows)| {
                // Both ascending: one walk along the rows.
                let mut slot = 0;
                (piece.first..=piece.last)
                    .map(|j| {
                        let index = axis.index(j);
                        while rows[slot] < index {
                            slot += 1;
                        }
                        slot as u64
                    })
                    .collect()
            })
            .collect();
        Packing {
            rows,
            slots,
            inner_start,
            inner_extent,
        }
    }
}

/// The rows of one block's selected elements, packed into a C-order buffer of their own: on
/// every axis but the last, the rows `rows` (ascending indices of the array), on the last the
/// span `inner_start..inner_start + inner_extent`. An unencoded chunk is read row by row into
/// it (`runs`), and the block's elements are picked out of it
/// (`Selection::for_each_packed_element`): for `[::4, ::4, ::4]` of a 128³ chunk, 32 × 32 rows
/// instead of the chunk's 128 × 128.
#[derive(Debug)]
pub struct Packing {
    /// Per axis but the last, the array indices of its rows, ascending.
    rows: Vec<Vec<u64>>,
    /// Per axis but the last, for each selected element of the block's piece (from its first),
    /// the row holding it.
    slots: Vec<Vec<u64>>,
    inner_start: u64,
    inner_extent: u64,
}

impl Packing {
    /// The shape of the packed buffer.
    pub fn shape(&self) -> Vec<u64> {
        let mut shape: Vec<u64> = self.rows.iter().map(|rows| rows.len() as u64).collect();
        shape.push(self.inner_extent);
        shape
    }

    /// The number of elements of the packed buffer.
    pub fn elements(&self) -> u64 {
        self.shape().iter().product()
    }

    /// The runs that read the packed rows from a C-order array of shape `shape` starting at
    /// `start` (a chunk, which holds them): source offsets in it, target offsets in the packed
    /// buffer, in increasing order; rows adjacent in both merge into one run (whole planes, or
    /// a whole chunk, become one).
    pub fn runs(&self, start: &[u64], shape: &[u64], element_size: usize) -> PackedRuns {
        let strides = byte_strides(shape, element_size);
        let inner = self.rows.len();
        // Per axis, the byte offset in the source of each of its rows.
        let offsets: Vec<Vec<usize>> = self
            .rows
            .iter()
            .enumerate()
            .map(|(axis, rows)| {
                let offset = |row: &u64| ((row - start[axis]) * strides[axis]) as usize;
                rows.iter().map(offset).collect()
            })
            .collect();
        PackedRuns {
            base: ((self.inner_start - start[inner]) * strides[inner]) as usize,
            len: self.inner_extent as usize * element_size,
            index: vec![0; offsets.len()],
            offsets,
            target: 0,
            pending: None,
            done: false,
        }
    }
}

/// The runs of `Packing::runs`.
pub struct PackedRuns {
    /// Per axis but the last, the source byte offset of each of its rows.
    offsets: Vec<Vec<usize>>,
    /// The source byte offset of the rows' first element on the last axis.
    base: usize,
    /// The bytes of one row.
    len: usize,
    /// An odometer over the rows.
    index: Vec<usize>,
    target: usize,
    /// A row read ahead that did not merge with the run before it.
    pending: Option<Run>,
    done: bool,
}

impl PackedRuns {
    /// The next row, unmerged.
    fn row(&mut self) -> Option<Run> {
        if self.done {
            return None;
        }
        let source = self.base
            + std::iter::zip(&self.offsets, &self.index)
                .map(|(offsets, &i)| offsets[i])
                .sum::<usize>();
        let run = Run {
            source,
            target: self.target,
            len: self.len,
        };
        self.target += self.len;
        let mut axis = self.index.len();
        loop {
            if axis == 0 {
                self.done = true;
                break;
            }
            axis -= 1;
            self.index[axis] += 1;
            if self.index[axis] < self.offsets[axis].len() {
                break;
            }
            self.index[axis] = 0;
        }
        Some(run)
    }
}

impl Iterator for PackedRuns {
    type Item = Run;

    fn next(&mut self) -> Option<Run> {
        let mut run = self.pending.take().or_else(|| self.row())?;
        // Targets are always adjacent: a row that follows in the source too extends the run.
        while let Some(next) = self.row() {
            if next.source != run.source + run.len {
                self.pending = Some(next);
                break;
            }
            run.len += next.len;
        }
        Some(run)
    }
}

/// The innermost axis' part of a block, visited row by row.
struct Row {
    piece: Piece,
    /// Where the dense array starts on this axis.
    origin: u64,
    dense_stride: u64,
    buffer_stride: u64,
    element_size: usize,
}

impl Row {
    /// Visit the row's elements, the outer axes being at byte offsets `(dense, buffer)`.
    fn visit(
        &self,
        axis: &Axis,
        (dense, buffer): (u64, u64),
        visit: &mut impl FnMut(usize, usize),
    ) {
        let offsets = |index: u64, position: u64| {
            (
                (dense + (index - self.origin) * self.dense_stride) as usize,
                (buffer + position * self.buffer_stride) as usize,
            )
        };
        let piece = self.piece;
        match axis {
            Axis::Strided(a) => {
                let (mut dense, mut buffer) =
                    offsets(axis.index(piece.first), axis.position(piece.first));
                let dense_step = (a.step * self.dense_stride) as usize;
                for _ in piece.first..=piece.last {
                    visit(dense, buffer);
                    dense += dense_step;
                    if a.reversed {
                        buffer = buffer.wrapping_sub(self.element_size);
                    } else {
                        buffer += self.element_size;
                    }
                }
            }
            Axis::Listed(a) => {
                for k in piece.first as usize..=piece.last as usize {
                    let (dense, buffer) = offsets(a.indices[k], a.positions[k]);
                    visit(dense, buffer);
                }
            }
        }
    }
}

/// The blocks of a selection: one per combination of pieces, enumerated without being stored
/// (a selection may touch millions of chunks).
pub struct Blocks {
    pieces: Vec<Vec<Piece>>,
}

impl Blocks {
    pub fn new(pieces: Vec<Vec<Piece>>) -> Self {
        Self { pieces }
    }

    pub fn len(&self) -> usize {
        self.pieces.iter().map(Vec::len).product()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Block number `index` (the last axis varies fastest).
    pub fn get(&self, mut index: usize) -> Vec<Piece> {
        // Built from the last axis backwards; a 0-d selection is one empty block.
        let mut block: Vec<Piece> = self
            .pieces
            .iter()
            .rev()
            .map(|pieces| {
                let piece = pieces[index % pieces.len()];
                index /= pieces.len();
                piece
            })
            .collect();
        block.reverse();
        block
    }

    pub fn chunk(block: &[Piece]) -> Vec<u64> {
        block.iter().map(|p| p.chunk).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn axis(start: u64, step: i64, count: u64) -> AxisSelection {
        AxisSelection { start, step, count }
    }

    /// Chunks of 10 along every axis.
    fn tens(_axis: usize, index: u64) -> Result<(u64, u64)> {
        Ok((index / 10, (index / 10 + 1) * 10))
    }

    #[test]
    fn steps_and_bounds_are_checked() {
        let err = Selection::new(&[axis(0, 0, 3)], &[10]).unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidArgument);
        let err = Selection::new(&[axis(2, 4, 3)], &[10]).unwrap_err();
        assert_eq!(err.kind, ErrorKind::OutOfBounds);
        let err = Selection::new(&[axis(2, -2, 3)], &[10]).unwrap_err();
        assert_eq!(err.kind, ErrorKind::OutOfBounds);
        let err = Selection::new(&[axis(0, i64::MAX, 3)], &[10]).unwrap_err();
        assert_eq!(err.kind, ErrorKind::OutOfBounds);
        assert!(Selection::new(&[axis(4, -2, 3)], &[10]).is_ok());
        assert!(Selection::new(&[axis(99, 5, 0)], &[10]).unwrap().is_empty());
    }

    #[test]
    fn pieces_skip_chunks_without_selected_elements() {
        // 5, 30, 55, 80: one element in each of chunks 0, 3, 5, 8.
        let selection = Selection::new(&[axis(5, 25, 4)], &[100]).unwrap();
        let chunks: Vec<u64> = selection.pieces(tens).unwrap()[0]
            .iter()
            .map(|p| p.chunk)
            .collect();
        assert_eq!(chunks, [0, 3, 5, 8]);
        // 3, 6, ..., 27: every chunk from 0 to 2, three pieces.
        let selection = Selection::new(&[axis(27, -3, 9)], &[100]).unwrap();
        let pieces = &selection.pieces(tens).unwrap()[0];
        assert_eq!(
            pieces,
            &[
                Piece {
                    chunk: 0,
                    first: 0,
                    last: 2
                },
                Piece {
                    chunk: 1,
                    first: 3,
                    last: 5
                },
                Piece {
                    chunk: 2,
                    first: 6,
                    last: 8
                },
            ]
        );
    }

    #[test]
    fn a_zero_dimensional_selection_is_one_empty_block() {
        let selection = Selection::new(&[], &[]).unwrap();
        let blocks = Blocks::new(selection.pieces(tens).unwrap());
        assert_eq!(blocks.len(), 1);
        assert!(blocks.get(0).is_empty());
        let mut visits = Vec::new();
        selection.for_each_element(&blocks.get(0), &[], &[], 4, |d, b| visits.push((d, b)));
        assert_eq!(visits, [(0, 0)]);
    }

    #[test]
    fn elements_land_where_numpy_puts_them() {
        // A 2-D selection [8:1:-3, 1:20:9] of a 10 x 20 array of element i = row * 20 + col.
        let selection = Selection::new(&[axis(8, -3, 3), axis(1, 9, 3)], &[10, 20]).unwrap();
        let blocks = Blocks::new(selection.pieces(tens).unwrap());
        let mut out = vec![0u32; 9];
        for b in 0..blocks.len() {
            let block = blocks.get(b);
            selection.for_each_element(&block, &[0, 0], &[10, 20], 1, |dense, buffer| {
                out[buffer] = dense as u32;
            });
        }
        let rows = [8u32, 5, 2];
        let cols = [1u32, 10, 19];
        let want: Vec<u32> = rows
            .iter()
            .flat_map(|r| cols.iter().map(move |c| r * 20 + c))
            .collect();
        assert_eq!(out, want);
        assert_eq!(blocks.len(), 2);
        assert_eq!(selection.as_region(), None);
    }

    #[test]
    fn listed_axes_land_where_numpy_puts_them() {
        // rows [12, 3, 12, 0] x cols [5, 1, 19] of a 20 x 20 array of element row * 20 + col.
        let rows: &[u64] = &[12, 3, 12, 0];
        let cols: &[u64] = &[5, 1, 19];
        let selection = Selection::orthogonal(&[rows, cols], &[20, 20]).unwrap();
        assert_eq!(selection.counts(), [4, 3]);
        let blocks = Blocks::new(selection.pieces(tens).unwrap());
        // Rows in chunks 0 and 1, columns in chunks 0 and 1.
        assert_eq!(blocks.len(), 4);
        let mut out = vec![u32::MAX; 12];
        for b in 0..blocks.len() {
            selection.for_each_element(&blocks.get(b), &[0, 0], &[20, 20], 1, |dense, buffer| {
                out[buffer] = dense as u32;
            });
        }
        let want: Vec<u32> = rows
            .iter()
            .flat_map(|&r| cols.iter().map(move |&c| (r * 20 + c) as u32))
            .collect();
        assert_eq!(out, want);
    }

    #[test]
    fn repeated_indices_are_visited_in_the_callers_order() {
        let selection = Selection::orthogonal(&[&[4, 2, 4, 4]], &[10]).unwrap();
        let blocks = Blocks::new(selection.pieces(tens).unwrap());
        let mut visits = Vec::new();
        selection.for_each_element(&blocks.get(0), &[0], &[10], 1, |d, b| visits.push((d, b)));
        assert_eq!(visits, [(2, 1), (4, 0), (4, 2), (4, 3)]);
    }

    #[test]
    fn index_lists_are_checked_and_progressions_become_strided() {
        let err = Selection::orthogonal(&[&[1, 2], &[0, 10]], &[10, 10]).unwrap_err();
        assert_eq!(err.kind, ErrorKind::OutOfBounds);
        assert!(err.message.contains("index 10") && err.message.contains("axis 1"));
        let selection = Selection::orthogonal(&[&[9, 6, 3], &[2, 3, 4]], &[10, 10]).unwrap();
        assert!(matches!(&selection.axes[0], Axis::Strided(a) if a.reversed && a.step == 3));
        assert_eq!(selection.as_region(), None);
        let selection = Selection::orthogonal(&[&[7], &[2, 3, 4]], &[10, 10]).unwrap();
        assert_eq!(selection.as_region(), Some((vec![7, 2], vec![1, 3])));
        let selection = Selection::orthogonal(&[&[], &[5, 5]], &[10, 10]).unwrap();
        assert!(selection.is_empty());
        assert!(matches!(&selection.axes[1], Axis::Listed(_)));
    }

    fn run(source: usize, target: usize, len: usize) -> Run {
        Run {
            source,
            target,
            len,
        }
    }

    /// Every block's elements picked out of its packed rows (read from the chunk by the
    /// packing's runs) are the elements picked out of the whole chunk: strided axes with
    /// negative steps, listed axes with repeats, blocks at the array's edge, and the whole
    /// chunk's box as the packing.
    #[test]
    fn packed_rows_hold_what_the_chunk_holds() {
        let shape = [23u64, 17, 19];
        let chunk = [10u64, 10, 10];
        let element_size = 2;
        let strided = Selection::new(&[axis(21, -4, 6), axis(0, 3, 6), axis(2, 5, 4)], &shape);
        let listed: &[&[u64]] = &[&[22, 3, 3, 9, 0, 12], &[16, 5, 5, 5], &[18, 1, 1, 2, 13]];
        let one_row = Selection::new(&[axis(4, 1, 1), axis(7, -1, 5), axis(3, 2, 8)], &shape);
        let selections = [
            strided.unwrap(),
            Selection::orthogonal(listed, &shape).unwrap(),
            one_row.unwrap(),
        ];
        for (n, selection) in selections.iter().enumerate() {
            let blocks = Blocks::new(selection.pieces(tens).unwrap());
            let total: u64 = selection.counts().iter().product();
            let mut want = vec![0u8; total as usize * element_size];
            let mut got_packed = want.clone();
            let mut got_box = want.clone();
            for b in 0..blocks.len() {
                let block = blocks.get(b);
                let start: Vec<u64> = block.iter().zip(chunk).map(|(p, c)| p.chunk * c).collect();
                // The chunk's bytes: each element's bytes tell its place in the array.
                let elements = chunk.iter().product::<u64>() as usize;
                let bytes: Vec<u8> = (0..elements)
                    .flat_map(|i| {
                        let v = (i as u16) ^ ((b as u16) << 10);
                        v.to_le_bytes()
                    })
                    .collect();
                selection.for_each_element(&block, &start, &chunk, element_size, |d, o| {
                    want[o..o + element_size].copy_from_slice(&bytes[d..d + element_size]);
                });
                let packing = selection.packing(&block).unwrap();
                let whole = selection.packing_box(&block, &start, &chunk).unwrap();
                assert_eq!(whole.elements(), elements as u64);
                // The whole box is one run: the chunk read in one piece.
                let runs: Vec<Run> = whole.runs(&start, &chunk, element_size).collect();
                assert_eq!(runs, [run(0, 0, bytes.len())], "{n}");
                for (packing, got) in [(&packing, &mut got_packed), (&whole, &mut got_box)] {
                    let mut packed = vec![0xEEu8; packing.elements() as usize * element_size];
                    let mut last_end = 0;
                    for run in packing.runs(&start, &chunk, element_size) {
                        // In order, and never more than the packed buffer holds.
                        assert!(run.source >= last_end && run.len > 0, "{n}");
                        last_end = run.source + run.len;
                        let to = &mut packed[run.target..run.target + run.len];
                        to.copy_from_slice(&bytes[run.source..run.source + run.len]);
                    }
                    selection.for_each_packed_element(&block, packing, element_size, |d, o| {
                        got[o..o + element_size].copy_from_slice(&packed[d..d + element_size]);
                    });
                }
            }
            assert!(got_packed == want, "selection {n}, packed rows");
            assert!(got_box == want, "selection {n}, the whole chunk");
        }
    }

    /// A packing holds each distinct row once: repeated indices share a row, and the last axis
    /// spans the block's first selected index to its last.
    #[test]
    fn packings_hold_each_row_once() {
        let selection = Selection::orthogonal(&[&[7, 2, 2, 7, 5], &[9, 3, 4]], &[10, 10]).unwrap();
        let blocks = Blocks::new(selection.pieces(tens).unwrap());
        assert_eq!(blocks.len(), 1);
        let packing = selection.packing(&blocks.get(0)).unwrap();
        assert_eq!(packing.shape(), [3, 7]);
        assert_eq!(packing.rows, [vec![2, 5, 7]]);
        assert_eq!(packing.slots, [vec![0, 0, 1, 2, 2]]);
        // Rows 2, 5 and 7 of a 10 x 10 chunk of 1-byte elements, from column 3 to 9.
        let runs: Vec<Run> = packing.runs(&[0, 0], &[10, 10], 1).collect();
        assert_eq!(runs, [run(23, 0, 7), run(53, 7, 7), run(73, 14, 7)]);
        // Adjacent rows spanning the last axis whole merge into one run.
        let selection = Selection::orthogonal(&[&[3, 4, 6], &[0, 9]], &[10, 10]).unwrap();
        let packing = selection.packing(&Blocks::new(selection.pieces(tens).unwrap()).get(0));
        let runs: Vec<Run> = packing.unwrap().runs(&[0, 0], &[10, 10], 1).collect();
        assert_eq!(runs, [run(30, 0, 20), run(60, 20, 10)]);
        assert!(Selection::new(&[], &[]).unwrap().packing(&[]).is_none());
    }
}
