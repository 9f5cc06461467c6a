//! Coordinate selections: a list of points (zarr's `vindex`, numpy's indexing by one integer
//! array per axis), grouped by the chunk holding them so that each chunk is read or written
//! once, and chunks holding no point are never touched.

use rayon::prelude::*;

use crate::error::{Error, ErrorKind, Result};

/// Points of an array: `ndim` coordinates each, one point after another, each inside the
/// array.
#[derive(Clone, Copy, Debug)]
pub struct Points<'a> {
    coords: &'a [u64],
    ndim: usize,
    len: usize,
}

/// Points grouped by the grid cell (chunk) holding them: the points of group `g` are
/// `order[starts[g]..starts[g + 1]]`, in ascending point order (so a write visits the last of
/// several equal points last, and that one wins, as in numpy's assignment).
#[derive(Debug)]
pub struct Groups {
    order: Vec<usize>,
    starts: Vec<usize>,
}

impl<'a> Points<'a> {
    /// Check `coords` holds `len` points of `ndim` coordinates inside `shape` (a 0-d array's
    /// points have no coordinates).
    pub fn new(coords: &'a [u64], len: usize, ndim: usize, shape: &[u64]) -> Result<Self> {
        if len.checked_mul(ndim) != Some(coords.len()) {
            return Err(Error::invalid_argument(format!(
                "{} coordinates are not {len} points of {ndim} dimensions",
                coords.len()
            )));
        }
        let outside = coords
            .par_chunks(ndim.max(1))
            .position_first(|point| point.iter().zip(shape).any(|(i, n)| i >= n));
        if let Some(p) = outside {
            let point = &coords[p * ndim..(p + 1) * ndim];
            let axis = (0..ndim).find(|&a| point[a] >= shape[a]).unwrap_or(0);
            return Err(Error::new(
                ErrorKind::OutOfBounds,
                format!(
                    "point {p} {point:?} has index {} on axis {axis}, outside its extent {}",
                    point[axis], shape[axis]
                ),
            ));
        }
        Ok(Self { coords, ndim, len })
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn get(&self, p: usize) -> &'a [u64] {
        &self.coords[p * self.ndim..(p + 1) * self.ndim]
    }

    /// Group the points by cell of a grid of `grid_shape` cells. `cell_of(point, cell)` writes
    /// the cell holding `point` into `cell`. Groups come in C order of their cells.
    pub fn group(
        &self,
        grid_shape: &[u64],
        cell_of: impl Fn(&[u64], &mut [u64]) -> Result<()> + Sync,
    ) -> Result<Groups> {
        let ndim = self.ndim;
        let cell = |p: usize| -> Result<Vec<u64>> {
            let mut cell = vec![0; ndim];
            cell_of(self.get(p), &mut cell)?;
            Ok(cell)
        };
        let fits = grid_shape
            .iter()
            .try_fold(1u64, |acc, &n| acc.checked_mul(n))
            .is_some();
        let mut order: Vec<usize> = (0..self.len()).collect();
        let cells = if fits {
            // One number per cell (its C-order rank): a sort of plain integer pairs.
            let mut keyed: Vec<(u64, usize)> = (0..self.len())
                .into_par_iter()
                .map(|p| Ok((ravel(&cell(p)?, grid_shape), p)))
                .collect::<Result<_>>()?;
            keyed.par_sort_unstable();
            order.iter_mut().zip(&keyed).for_each(|(o, k)| *o = k.1);
            Cells::Ranks(keyed.into_iter().map(|k| k.0).collect())
        } else {
            // More cells than a u64 counts: compare the cells themselves.
            let cells: Vec<u64> = (0..self.len())
                .into_par_iter()
                .map(cell)
                .collect::<Result<Vec<_>>>()?
                .concat();
            let of = |p: usize| &cells[p * ndim..(p + 1) * ndim];
            order.par_sort_unstable_by(|&a, &b| of(a).cmp(of(b)).then(a.cmp(&b)));
            let sorted = order.iter().flat_map(|&p| of(p).iter().copied()).collect();
            Cells::Coords(sorted, ndim)
        };
        let starts = (0..order.len())
            .filter(|&i| i == 0 || !cells.same(i - 1, i))
            .chain(std::iter::once(order.len()))
            .collect();
        Ok(Groups { order, starts })
    }
}

/// The cells of the sorted points, to find where groups start.
enum Cells {
    Ranks(Vec<u64>),
    Coords(Vec<u64>, usize),
}

impl Cells {
    fn same(&self, a: usize, b: usize) -> bool {
        match self {
            Cells::Ranks(ranks) => ranks[a] == ranks[b],
            Cells::Coords(coords, n) => coords[a * n..(a + 1) * n] == coords[b * n..(b + 1) * n],
        }
    }
}

/// The C-order rank of `cell` in a grid of `grid_shape` (whose size fits a u64).
fn ravel(cell: &[u64], grid_shape: &[u64]) -> u64 {
    cell.iter()
        .zip(grid_shape)
        .fold(0, |acc, (&c, &n)| acc * n + c)
}

impl Groups {
    pub fn len(&self) -> usize {
        self.starts.len().saturating_sub(1)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The points of group `g`, in ascending order.
    pub fn get(&self, g: usize) -> &[usize] {
        &self.order[self.starts[g]..self.starts[g + 1]]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Cells of 10 along every axis.
    fn tens(point: &[u64], cell: &mut [u64]) -> Result<()> {
        point.iter().zip(cell).for_each(|(i, c)| *c = i / 10);
        Ok(())
    }

    fn groups_of(points: &Points<'_>, grid: &[u64]) -> Vec<Vec<usize>> {
        let groups = points.group(grid, tens).unwrap();
        (0..groups.len()).map(|g| groups.get(g).to_vec()).collect()
    }

    #[test]
    fn points_are_checked() {
        let err = Points::new(&[1, 2, 3], 2, 2, &[10, 10]).unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidArgument);
        let err = Points::new(&[1, 2, 3, 10], 2, 2, &[10, 10]).unwrap_err();
        assert_eq!(err.kind, ErrorKind::OutOfBounds);
        assert!(err.message.contains("point 1") && err.message.contains("axis 1"));
        assert!(Points::new(&[], 0, 2, &[10, 10]).unwrap().is_empty());
    }

    #[test]
    fn points_of_a_zero_dimensional_array_are_one_group() {
        let points = Points::new(&[], 3, 0, &[]).unwrap();
        assert_eq!(groups_of(&points, &[]), [vec![0, 1, 2]]);
    }

    #[test]
    fn points_group_by_cell_in_point_order() {
        let coords = [25, 3, 4, 5, 25, 9, 4, 5, 1, 1];
        let points = Points::new(&coords, 5, 2, &[30, 30]).unwrap();
        assert_eq!(points.len(), 5);
        // Cells (2, 0), (0, 0), (2, 0), (0, 0), (0, 0).
        assert_eq!(groups_of(&points, &[3, 3]), [vec![1, 3, 4], vec![0, 2]]);
    }

    #[test]
    fn grids_with_more_cells_than_a_u64_counts_group_the_same() {
        let coords = [25, 3, 4, 5, 25, 9, 4, 5, 1, 1];
        let points = Points::new(&coords, 5, 2, &[u64::MAX, u64::MAX]).unwrap();
        let huge = [u64::MAX / 10 + 1; 2];
        assert_eq!(groups_of(&points, &huge), groups_of(&points, &[3, 3]));
    }
}
