//! Strided selections (numpy's basic slicing, negative steps included) of variable-length
//! arrays (`string`, `bytes`), read and written block by block on the strided selections'
//! machinery (`strided`): one block per chunk holding selected elements, so chunks the
//! selection skips are never touched.
//!
//! A read decodes, per block, the smallest region holding the block's elements, then gathers
//! the elements into one result in selection order: a first pass measures them (giving the
//! offsets), a second copies their bytes, each element straight to its place. A write replaces
//! the selected elements of each chunk, read first unless the block covers the whole chunk, and
//! stores the chunk back under its write lock.

use std::borrow::Cow;

use rayon::prelude::*;
use unsafe_cell_slice::UnsafeCellSlice;
use zarrs::array::{ArrayBytes, ArrayBytesOffsets, ArraySubset, CodecOptions};

use super::ArrayHandle;
use super::checks::internal;
use super::vlen::{VlenData, VlenKind, decode_guarded, vlen_arg};
use crate::chunk_locks::Access;
use crate::error::{Error, ErrorKind, Result};
use crate::selection::{AxisSelection, Blocks, Piece, Selection};

/// The number of elements `counts` selects, as a length the engine can allocate for.
pub(super) fn element_count(counts: &[u64]) -> Result<usize> {
    counts
        .iter()
        .try_fold(1u64, |acc, &n| acc.checked_mul(n))
        .and_then(|n| usize::try_from(n).ok())
        .filter(|&n| n < usize::MAX)
        .ok_or_else(|| too_large(&format!("a selection of shape {counts:?}")))
}

pub(super) fn too_large(what: &str) -> Error {
    Error::new(
        ErrorKind::Unsupported,
        format!("{what} is more than this machine can hold"),
    )
}

/// A zeroed vector of `len` values, or an error (not an abort) when memory runs out.
fn zeroed<T: Clone + Default>(len: usize, what: &str) -> Result<Vec<T>> {
    let mut values = Vec::new();
    values.try_reserve_exact(len).map_err(|_| too_large(what))?;
    values.resize(len, T::default());
    Ok(values)
}

impl ArrayHandle {
    /// Decode a strided selection of a variable-length array, elements in selection order
    /// (C order over the shape `counts`, as `read_selection` lays them out). Only chunks
    /// holding selected elements are read.
    pub fn read_selection_vlen(&self, axes: &[AxisSelection]) -> Result<VlenData> {
        self.require_vlen("read_selection")?;
        self.read_selected_vlen(&self.selection(axes)?)
    }

    /// Decode a checked selection of a variable-length array.
    pub(super) fn read_selected_vlen(&self, selection: &Selection) -> Result<VlenData> {
        if selection.is_empty() {
            return Ok(VlenData::empty());
        }
        if let Some((start, shape)) = selection.as_region() {
            return self.read_region_vlen(&start, &shape);
        }
        let count = element_count(&selection.counts())?;
        let plan = self.read_plan()?;
        let blocks = self.blocks_on(self.array.chunk_grid(), selection)?;
        let _locks = (plan.locks_partial_reads && !plan.whole_chunks)
            .then(|| self.lock_blocks(&blocks, Access::Read))
            .transpose()?;
        let decoded: Vec<(ArraySubset, VlenData)> = decode_guarded(|| {
            plan.settings.run_spread(blocks.len(), |options| {
                (0..blocks.len())
                    .into_par_iter()
                    .map(|b| {
                        let (start, shape) = selection.bounding_box(&blocks.get(b));
                        let piece = ArraySubset::new_with_start_shape(start, shape)
                            .map_err(|e| internal(&e))?;
                        let data = self.retrieve_vlen(&piece, plan.whole_chunks, options)?;
                        Ok((piece, data))
                    })
                    .collect()
            })
        })?;
        gather(count, |visit| {
            for_each_selected(selection, &blocks, &decoded, visit)
        })
    }

    /// Write a strided selection of a variable-length array from `offsets` and `bytes`
    /// (elements laid out as `read_selection_vlen` reads them, checked as for
    /// `write_region_vlen`). Each chunk holding selected elements is read (unless the selection
    /// covers it), updated and written back under its write lock; other chunks are not touched.
    pub fn write_selection_vlen(
        &self,
        axes: &[AxisSelection],
        offsets: &[u64],
        bytes: &[u8],
    ) -> Result<()> {
        let kind = self.require_vlen("write_selection")?;
        self.write_selected_vlen(kind, &self.selection(axes)?, offsets, bytes)
    }

    /// Write `offsets` and `bytes`, checked to hold the elements of `selection` in selection
    /// order, to a checked selection of an array of variable-length `kind`.
    pub(super) fn write_selected_vlen(
        &self,
        kind: VlenKind,
        selection: &Selection,
        offsets: &[u64],
        bytes: &[u8],
    ) -> Result<()> {
        let count = element_count(&selection.counts())?;
        let data = vlen_arg(kind, count as u64, offsets, bytes)?;
        self.write_selection_elements(selection, &data)
    }

    /// Write checked elements `data` to a checked selection.
    fn write_selection_elements(&self, selection: &Selection, data: &ArrayBytes<'_>) -> Result<()> {
        if selection.is_empty() {
            return Ok(());
        }
        if let Some((start, shape)) = selection.as_region() {
            let subset =
                ArraySubset::new_with_start_shape(start, shape).map_err(|e| internal(&e))?;
            return self.write_subset_vlen(&subset, data);
        }
        let ArrayBytes::Variable(data) = data else {
            return Err(internal(&"fixed-size bytes for a variable-length write"));
        };
        let (bytes, offsets) = (data.bytes(), data.offsets());
        let element = |o: usize| &bytes[offsets[o]..offsets[o + 1]];
        let settings = self.write_settings()?;
        let store_empty = settings.store_empty_chunks;
        let blocks = self.blocks_on(self.array.chunk_grid(), selection)?;
        let _locks = self.lock_blocks(&blocks, Access::Write)?;
        decode_guarded(|| {
            settings.run_spread(blocks.len(), |options| {
                (0..blocks.len()).into_par_iter().try_for_each(|b| {
                    let block = blocks.get(b);
                    self.write_vlen_block(selection, &block, &element, store_empty, options)
                })
            })
        })
    }

    /// Replace the elements of one block in its chunk (`element(o)` being the value of the
    /// selection's element `o`), and store the chunk.
    fn write_vlen_block<'a>(
        &self,
        selection: &Selection,
        block: &[Piece],
        element: &(dyn Fn(usize) -> &'a [u8] + Sync),
        store_empty: bool,
        options: &CodecOptions,
    ) -> Result<()> {
        let chunk = Blocks::chunk(block);
        let subset = self.array.chunk_subset(&chunk)?;
        let size = usize::try_from(subset.num_elements()).map_err(|e| internal(&e))?;
        let covered = block.iter().map(Piece::count).product::<u64>() == subset.num_elements();
        // The chunk's elements, old or new, as slices of the old chunk or of the caller's data.
        let old = if covered {
            None
        } else {
            let old = self.array.retrieve_chunk_opt(&chunk, options)?;
            Some(VlenData::from_array_bytes(old, subset.num_elements())?)
        };
        let mut items: Vec<&[u8]> = match &old {
            None => vec![&[]; size],
            Some(old) => (0..size).map(|i| old.element(i)).collect(),
        };
        selection.for_each_element(block, subset.start(), subset.shape(), 1, |d, o| {
            items[d] = element(o);
        });
        self.store_items(&chunk, &items, store_empty, options)
    }

    /// Encode `items`, every element of `chunk` in C order, and store the chunk.
    pub(super) fn store_items(
        &self,
        chunk: &[u64],
        items: &[&[u8]],
        store_empty: bool,
        options: &CodecOptions,
    ) -> Result<()> {
        let total = items.iter().map(|item| item.len()).sum();
        let mut bytes = Vec::with_capacity(total);
        let mut offsets = Vec::with_capacity(items.len() + 1);
        offsets.push(0);
        for item in items {
            bytes.extend_from_slice(item);
            offsets.push(bytes.len());
        }
        let offsets = ArrayBytesOffsets::new(offsets).map_err(|e| internal(&e))?;
        let new = ArrayBytes::new_vlen(Cow::Owned(bytes), offsets).map_err(|e| internal(&e))?;
        self.store_whole(chunk, new, store_empty, options)
    }
}

/// A visitor of selected elements: `visit(element, o)`, `o` being the element's place in the
/// result.
pub(super) type Visit<'v> = &'v (dyn Fn(&[u8], usize) + Sync);

/// `count` selected elements gathered into one result, in order: `for_each(visit)` calls
/// `visit` once for every `o` in `0..count`, possibly from several threads at once. A first
/// pass measures the elements (giving the offsets), a second copies each to its place.
pub(super) fn gather(count: usize, for_each: impl Fn(Visit<'_>)) -> Result<VlenData> {
    let mut lengths: Vec<usize> = zeroed(count + 1, "the selection's offsets")?;
    {
        let cells = UnsafeCellSlice::new(&mut lengths[..count]);
        for_each(&|item, o| {
            // SAFETY: each `o` is visited once, so concurrent visits write disjoint entries.
            unsafe { *cells.index_mut(o) = item.len() };
        });
    }
    // Lengths to offsets, in place: offsets[i] = sum of lengths before i.
    let mut total = 0usize;
    for entry in &mut lengths {
        let length = *entry;
        *entry = total;
        total = total
            .checked_add(length)
            .ok_or_else(|| too_large("the selection's bytes"))?;
    }
    let offsets = lengths;
    let mut bytes: Vec<u8> = zeroed(total, "the selection's bytes")?;
    {
        let cells = UnsafeCellSlice::new(&mut bytes);
        for_each(&|item, o| {
            // SAFETY: each `o` is visited once, and its bytes are its own range.
            let target = unsafe { cells.index_mut(offsets[o]..offsets[o] + item.len()) };
            target.copy_from_slice(item);
        });
    }
    VlenData::from_parts(bytes, offsets)
}

/// Calls `visit(element, o)` for every selected element, with `o` its place in the selection,
/// blocks in parallel, out of each block's decoded region (`decoded`, one per block: the region
/// and its elements). Every selected element belongs to exactly one block, so each `o` is
/// visited once.
fn for_each_selected(
    selection: &Selection,
    blocks: &Blocks,
    decoded: &[(ArraySubset, VlenData)],
    visit: Visit<'_>,
) {
    (0..blocks.len()).into_par_iter().for_each(|b| {
        let (region, data) = &decoded[b];
        selection.for_each_element(&blocks.get(b), region.start(), region.shape(), 1, |d, o| {
            visit(data.element(d), o)
        });
    });
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::array::create_array;
    use crate::array::vlen::tests::encode;
    use crate::store::Store;

    /// A 7 x 5 string array in chunks of 3 x 2, fill value "-".
    const STRINGS: &str = r#"{"zarr_format":3,"node_type":"array","shape":[7,5],"data_type":"string",
        "chunk_grid":{"name":"regular","configuration":{"chunk_shape":[3,2]}},
        "chunk_key_encoding":{"name":"default"},"fill_value":"-",
        "codecs":[{"name":"vlen-utf8","configuration":{}}]}"#;

    fn array(metadata: &str) -> ArrayHandle {
        let store = Arc::new(Store::open("memory://", None).unwrap());
        create_array(&store, "a", metadata, false).unwrap();
        ArrayHandle::open(store, "a").unwrap()
    }

    fn decode(data: &VlenData) -> Vec<String> {
        (0..data.len())
            .map(|i| String::from_utf8(data.element(i).to_vec()).unwrap())
            .collect()
    }

    fn axis(start: u64, step: i64, count: u64) -> AxisSelection {
        AxisSelection { start, step, count }
    }

    /// `[6:0:-2, 1::3]` (rows 6, 4, 2; columns 1, 4) of a 7 x 5 array, as flat indices.
    fn picked() -> Vec<usize> {
        [6, 4, 2]
            .iter()
            .flat_map(|r| [1, 4].iter().map(move |c| r * 5 + c))
            .collect()
    }

    #[test]
    fn strided_selections_read_and_write_in_numpy_order() {
        let array = array(STRINGS);
        let all: Vec<String> = (0..35)
            .map(|i| "x".repeat(i % 4) + &i.to_string())
            .collect();
        let (offsets, bytes) = encode(&all);
        array
            .write_region_vlen(&[0, 0], &[7, 5], &offsets, &bytes)
            .unwrap();
        let axes = [axis(6, -2, 3), axis(1, 3, 2)];
        let got = decode(&array.read_selection_vlen(&axes).unwrap());
        let want: Vec<String> = picked().iter().map(|&i| all[i].clone()).collect();
        assert_eq!(got, want);

        let new: Vec<String> = (0..6).map(|i| format!("n{i}é")).collect();
        let (offsets, bytes) = encode(&new);
        array.write_selection_vlen(&axes, &offsets, &bytes).unwrap();
        let mut model = all.clone();
        for (k, &i) in picked().iter().enumerate() {
            model[i] = new[k].clone();
        }
        let whole = decode(&array.read_region_vlen(&[0, 0], &[7, 5]).unwrap());
        assert_eq!(whole, model);
        // A strided selection that is a region takes the region path.
        let got = decode(
            &array
                .read_selection_vlen(&[axis(2, 1, 2), axis(4, -1, 1)])
                .unwrap(),
        );
        assert_eq!(got, [model[14].clone(), model[19].clone()]);
    }

    #[test]
    fn selections_covering_whole_chunks_replace_them() {
        // Chunks of one row: `[::2]` covers chunks 0, 2, 4, 6 whole.
        let metadata = STRINGS.replace(r#""chunk_shape":[3,2]"#, r#""chunk_shape":[1,5]"#);
        let array = array(&metadata);
        let rows: Vec<String> = (0..20).map(|i| format!("r{i}")).collect();
        let (offsets, bytes) = encode(&rows);
        array
            .write_selection_vlen(&[axis(0, 2, 4), axis(0, 1, 5)], &offsets, &bytes)
            .unwrap();
        let whole = decode(&array.read_region_vlen(&[0, 0], &[7, 5]).unwrap());
        for (i, item) in whole.iter().enumerate() {
            let (row, col) = (i / 5, i % 5);
            let want = if row % 2 == 0 {
                rows[row / 2 * 5 + col].clone()
            } else {
                "-".to_owned()
            };
            assert_eq!(item, &want, "element {i}");
        }
    }

    #[test]
    fn bad_selections_and_buffers_are_refused() {
        let array = array(STRINGS);
        let err = array
            .read_selection_vlen(&[axis(0, 0, 2), axis(0, 1, 1)])
            .err()
            .unwrap();
        assert_eq!(err.kind, ErrorKind::InvalidArgument);
        let err = array
            .read_selection_vlen(&[axis(0, 4, 3), axis(0, 1, 1)])
            .err()
            .unwrap();
        assert_eq!(err.kind, ErrorKind::OutOfBounds);
        let err = array.read_selection_vlen(&[axis(0, 1, 1)]).err().unwrap();
        assert_eq!(err.kind, ErrorKind::InvalidArgument);
        let axes = [axis(0, 2, 2), axis(0, 2, 2)];
        let err = array
            .write_selection_vlen(&axes, &[0, 1, 2, 3], b"abc")
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::BufferSize);
        let err = array
            .write_selection_vlen(&axes, &[0, 1, 2, 3, 9], b"abcd")
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidArgument);
        let err = array
            .write_selection_vlen(&axes, &[0, 1, 2, 3, 4], b"ab\xffd")
            .unwrap_err();
        assert!(err.message.contains("element 2"), "{}", err.message);
        let empty = array
            .read_selection_vlen(&[axis(0, 2, 0), axis(9, 1, 0)])
            .unwrap();
        assert!(empty.is_empty());
    }
}
