//! Argument checks: dimension counts, chunk coordinates, regions, selections and buffer sizes,
//! each failing with the error a caller can act on.

use zarrs::array::ArraySubset;

use super::ArrayHandle;
use crate::error::{Error, ErrorKind, Result};
use crate::points::Points;
use crate::selection::{AxisSelection, Selection};

/// An engine fault: something the checks should have made impossible.
pub(super) fn internal(err: &dyn std::fmt::Display) -> Error {
    Error::new(ErrorKind::Internal, err.to_string())
}

/// Where `inner` starts relative to `outer`, per axis (`inner` lies inside `outer`).
pub(super) fn offsets(inner: &[u64], outer: &[u64]) -> Vec<u64> {
    std::iter::zip(inner, outer).map(|(i, o)| i - o).collect()
}

fn product(shape: &[u64]) -> Option<u64> {
    shape.iter().try_fold(1u64, |acc, &d| acc.checked_mul(d))
}

impl ArrayHandle {
    pub(super) fn check_ndim(&self, what: &str, len: usize) -> Result<()> {
        if len != self.ndim() {
            return Err(Error::invalid_argument(format!(
                "{what} has {len} dimensions, the array has {}",
                self.ndim()
            )));
        }
        Ok(())
    }

    /// Check `chunk` names a chunk of the grid and return its shape.
    pub(super) fn chunk_shape_at(&self, chunk: &[u64]) -> Result<Vec<u64>> {
        self.check_ndim("chunk coordinates", chunk.len())?;
        let grid = self.chunk_grid_shape();
        if chunk.iter().zip(grid).any(|(c, g)| c >= g) {
            return Err(Error::new(
                ErrorKind::OutOfBounds,
                format!("chunk {chunk:?} is outside the chunk grid {grid:?}"),
            ));
        }
        Ok(self
            .array
            .chunk_shape(chunk)?
            .iter()
            .map(|d| d.get())
            .collect())
    }

    /// The bytes a C-contiguous block of `shape` takes.
    pub(super) fn byte_len(&self, shape: &[u64]) -> Result<usize> {
        product(shape)
            .and_then(|n| n.checked_mul(self.element_size() as u64))
            .and_then(|n| usize::try_from(n).ok())
            .ok_or_else(|| {
                Error::invalid_argument(format!(
                    "a region of shape {shape:?} is too large to address"
                ))
            })
    }

    /// Check a caller's buffer holds exactly a block of `shape`.
    pub(super) fn check_buffer(&self, shape: &[u64], len: usize) -> Result<()> {
        let expected = self.byte_len(shape)?;
        if len != expected {
            return Err(Error::new(
                ErrorKind::BufferSize,
                format!(
                    "buffer is {len} bytes, a block of shape {shape:?} of {}-byte elements needs {expected}",
                    self.element_size()
                ),
            ));
        }
        Ok(())
    }

    /// Check a region lies inside the array and return it as a subset.
    pub(super) fn region(&self, start: &[u64], shape: &[u64]) -> Result<ArraySubset> {
        self.check_ndim("region start", start.len())?;
        self.check_ndim("region shape", shape.len())?;
        let array_shape = self.shape();
        for (axis, ((&s, &n), &extent)) in start.iter().zip(shape).zip(array_shape).enumerate() {
            if s.checked_add(n).is_none_or(|end| end > extent) {
                return Err(Error::new(
                    ErrorKind::OutOfBounds,
                    format!(
                        "region start {start:?} shape {shape:?} exceeds the array shape {array_shape:?} on axis {axis}"
                    ),
                ));
            }
        }
        ArraySubset::new_with_start_shape(start.to_vec(), shape.to_vec())
            .map_err(|e| Error::invalid_argument(e.to_string()))
    }

    /// Check a selection against the array.
    pub(super) fn selection(&self, axes: &[AxisSelection]) -> Result<Selection> {
        self.check_ndim("selection", axes.len())?;
        Selection::new(axes, self.shape())
    }

    /// Check an orthogonal selection (a list of indices per axis) against the array.
    pub(super) fn orthogonal(&self, indices: &[&[u64]]) -> Result<Selection> {
        self.check_ndim("orthogonal selection", indices.len())?;
        Selection::orthogonal(indices, self.shape())
    }

    /// Check `coords` holds `len` points of the array (point-major, `ndim` values each).
    pub(super) fn points<'a>(
        &self,
        coords: &'a [u64],
        len: usize,
        ndim: usize,
    ) -> Result<Points<'a>> {
        self.check_ndim("coordinates", ndim)?;
        Points::new(coords, len, ndim, self.shape())
    }

    /// The chunks a region touches, as a subset of the chunk grid.
    pub(super) fn region_chunks(&self, subset: &ArraySubset) -> Result<ArraySubset> {
        self.array
            .chunks_in_array_subset(subset)
            .map_err(|e| Error::invalid_argument(e.to_string()))?
            .ok_or_else(|| Error::new(ErrorKind::OutOfBounds, "region lies outside the chunk grid"))
    }
}
