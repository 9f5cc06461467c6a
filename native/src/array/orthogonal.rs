//! Orthogonal selections (zarr's `oindex`): a list of indices per axis, in any order with
//! duplicates allowed, selecting their outer product. They run on the strided selections'
//! block machinery (`strided`), which splits listed axes into per-chunk pieces as it does
//! strided ones, so only chunks holding selected elements are read or written.

use super::ArrayHandle;
use crate::error::Result;

impl ArrayHandle {
    /// Read the outer product of `indices` (one list per axis) into `out`, C-contiguous with
    /// shape `[indices[0].len(), ...]`, elements in the lists' order.
    pub fn read_orthogonal(&self, indices: &[&[u64]], out: &mut [u8]) -> Result<()> {
        self.read_selected(&self.orthogonal(indices)?, out)
    }

    /// Write the outer product of `indices` from `data` (laid out as `read_orthogonal` reads).
    /// Where an index repeats on an axis, the last of its entries in `data` is the one stored,
    /// as in numpy's assignment.
    pub fn write_orthogonal(&self, indices: &[&[u64]], data: &[u8]) -> Result<()> {
        self.write_selected(&self.orthogonal(indices)?, data)
    }
}
