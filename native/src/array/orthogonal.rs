//! Orthogonal selections (zarr's `oindex`): a list of indices per axis, in any order with
//! duplicates allowed, selecting their outer product. They run on the strided selections'
//! block machinery (`strided`, and `vlen_selection` for variable-length types), which splits
//! listed axes into per-chunk pieces as it does strided ones, so only chunks holding selected
//! elements are read or written.

use super::ArrayHandle;
use super::vlen::VlenData;
use crate::error::Result;

impl ArrayHandle {
    /// Read the outer product of `indices` (one list per axis) into `out`, C-contiguous with
    /// shape `[indices[0].len(), ...]`, elements in the lists' order.
    pub fn read_orthogonal(&self, indices: &[&[u64]], out: &mut [u8]) -> Result<()> {
        self.check_fixed("read_orthogonal_vlen")?;
        self.read_selected(&self.orthogonal(indices)?, out)
    }

    /// Write the outer product of `indices` from `data` (laid out as `read_orthogonal` reads).
    /// Where an index repeats on an axis, the last of its entries in `data` is the one stored,
    /// as in numpy's assignment.
    pub fn write_orthogonal(&self, indices: &[&[u64]], data: &[u8]) -> Result<()> {
        self.check_fixed("write_orthogonal_vlen")?;
        self.write_selected(&self.orthogonal(indices)?, data)
    }

    /// Decode the outer product of `indices` of a variable-length array, elements in the
    /// lists' order (C order over their lengths).
    pub fn read_orthogonal_vlen(&self, indices: &[&[u64]]) -> Result<VlenData> {
        self.require_vlen("read_orthogonal")?;
        self.read_selected_vlen(&self.orthogonal(indices)?)
    }

    /// Write the outer product of `indices` of a variable-length array from `offsets` and
    /// `bytes` (laid out as `read_orthogonal_vlen` reads); a repeated index takes its last value.
    pub fn write_orthogonal_vlen(
        &self,
        indices: &[&[u64]],
        offsets: &[u64],
        bytes: &[u8],
    ) -> Result<()> {
        let kind = self.require_vlen("write_orthogonal")?;
        self.write_selected_vlen(kind, &self.orthogonal(indices)?, offsets, bytes)
    }
}
