//! Variable-length data types: `string` (UTF-8 text) and `bytes`, in Zarr v3 and as zarr-python
//! writes them in Zarr v2 (`|O` with a `vlen-utf8` or `vlen-bytes` filter).
//!
//! Their elements cross as two buffers, laid out as Apache Arrow's variable-size binary layout:
//! the elements' bytes one after another in C order, and `n + 1` offsets into them, element `i`
//! being `bytes[offsets[i]..offsets[i + 1]]`. A read decodes once into a [`VlenData`] that the
//! caller sizes its buffers from and then copies out of, so nothing is decoded twice and no
//! per-element call is needed. A write takes the two buffers as they are, checked first
//! (offsets monotonic and within the bytes, UTF-8 text for `string`).
//!
//! Reads and writes follow the fixed-size paths' policy (`plan`): the same size limit, chunk
//! locks, and whole-chunk decoding while checksums are validated.

use std::borrow::Cow;
use std::panic::{AssertUnwindSafe, catch_unwind};

use rayon::prelude::*;
use zarrs::array::{
    ArrayBytes, ArrayBytesOffsets, ArrayBytesRaw, ArraySubset, CodecOptions, update_array_bytes,
};
use zarrs::metadata::v3::ArrayMetadataV3;

use super::ArrayHandle;
use super::checks::internal;
use crate::chunk_locks::Access;
use crate::config::share;
use crate::error::{Error, ErrorKind, Result};

/// What the elements of a variable-length data type hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VlenKind {
    /// UTF-8 text (`string`).
    Utf8,
    /// Any bytes (`bytes`).
    Bytes,
}

impl VlenKind {
    /// The kind of the data type `v3` declares, or `None` for a type of fixed-size elements.
    /// zarrs reads zarr-python's v2 `|O` as `string` whatever its filter, so `|O` with
    /// `vlen-bytes` (zarr-python's v2 variable-length bytes) counts as `bytes`.
    pub(super) fn of(v3: &ArrayMetadataV3) -> Result<Option<Self>> {
        Ok(match v3.data_type.name() {
            "string" if v3.codecs.iter().any(|c| c.name() == "vlen-bytes") => Some(Self::Bytes),
            "string" => Some(Self::Utf8),
            "bytes" | "binary" | "variable_length_bytes" => Some(Self::Bytes),
            _ => None,
        })
    }

    /// The data type's name as the engine reports it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Utf8 => "string",
            Self::Bytes => "bytes",
        }
    }
}

/// Decoded variable-length elements, as zarrs hands them over: `offsets` (one more than there
/// are elements, monotonic) into `bytes`, which may start before the first offset.
pub struct VlenData {
    bytes: ArrayBytesRaw<'static>,
    offsets: ArrayBytesOffsets<'static>,
}

impl VlenData {
    pub(super) fn empty() -> Self {
        Self {
            bytes: Cow::Borrowed(&[]),
            // SAFETY: one offset is monotonic.
            offsets: unsafe { ArrayBytesOffsets::new_unchecked(vec![0]) },
        }
    }

    /// The decoded value of `num_elements` elements, checked to be variable-length bytes of
    /// that many elements.
    pub(super) fn from_array_bytes(bytes: ArrayBytes<'_>, num_elements: u64) -> Result<Self> {
        let (bytes, offsets) = bytes
            .into_variable()
            .map_err(|e| internal(&e))?
            .into_parts();
        if offsets.len() as u64 != num_elements + 1 || offsets.last() > bytes.len() {
            return Err(internal(&format!(
                "decoded {} offsets over {} bytes for {num_elements} elements",
                offsets.len(),
                bytes.len()
            )));
        }
        Ok(Self {
            bytes: Cow::Owned(bytes.into_owned()),
            offsets: offsets.into_owned(),
        })
    }

    /// Elements `bytes[offsets[i]..offsets[i + 1]]`, built by the engine (`offsets` monotonic,
    /// ending within `bytes`, at least one of them).
    pub(super) fn from_parts(bytes: Vec<u8>, offsets: Vec<usize>) -> Result<Self> {
        let checked = !offsets.is_empty()
            && offsets.windows(2).all(|w| w[0] <= w[1])
            && offsets.last().is_some_and(|&end| end <= bytes.len());
        if !checked {
            return Err(internal(&"variable-length elements built out of order"));
        }
        Ok(Self {
            bytes: Cow::Owned(bytes),
            // SAFETY: checked above to be monotonic and non-empty.
            offsets: unsafe { ArrayBytesOffsets::new_unchecked(offsets) },
        })
    }

    /// Element `i`'s bytes.
    pub(super) fn element(&self, i: usize) -> &[u8] {
        &self.bytes[self.offsets[i]..self.offsets[i + 1]]
    }

    /// The number of elements.
    pub fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The elements' bytes, one after another.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes[self.offsets[0]..self.offsets.last()]
    }

    /// Copy the offsets (rebased to start at 0) and the bytes into the caller's buffers, which
    /// must hold exactly `len() + 1` offsets and `bytes().len()` bytes.
    pub fn copy_to(&self, offsets: &mut [u64], bytes: &mut [u8]) -> Result<()> {
        let source = self.bytes();
        if offsets.len() != self.offsets.len() || bytes.len() != source.len() {
            return Err(Error::new(
                ErrorKind::BufferSize,
                format!(
                    "buffers hold {} offsets and {} bytes, the {} elements need {} offsets and {} bytes",
                    offsets.len(),
                    bytes.len(),
                    self.len(),
                    self.offsets.len(),
                    source.len()
                ),
            ));
        }
        let base = self.offsets[0];
        for (to, &from) in offsets.iter_mut().zip(self.offsets.iter()) {
            *to = (from - base) as u64;
        }
        bytes.copy_from_slice(source);
        Ok(())
    }
}

impl VlenData {
    /// Copy the elements into `out` as fixed-width cells of `width` bytes each, padded with NUL
    /// bytes (numpy's `S<width>` layout): `out` must hold exactly `len() * width` bytes and no
    /// element may be longer than `width`.
    pub fn copy_padded(&self, width: usize, out: &mut [u8]) -> Result<()> {
        let expected = self.len().checked_mul(width);
        if expected != Some(out.len()) {
            return Err(Error::new(
                ErrorKind::BufferSize,
                format!(
                    "out is {} bytes, {} elements of {width} bytes need {expected:?}",
                    out.len(),
                    self.len()
                ),
            ));
        }
        if let Some(i) = self.offsets.windows(2).position(|w| w[1] - w[0] > width) {
            return Err(Error::invalid_argument(format!(
                "element {i} is longer than the width of {width} bytes"
            )));
        }
        for (cell, pair) in out
            .chunks_exact_mut(width.max(1))
            .zip(self.offsets.windows(2))
        {
            let item = &self.bytes[pair[0]..pair[1]];
            cell[..item.len()].copy_from_slice(item);
            cell[item.len()..].fill(0);
        }
        Ok(())
    }
}

/// Check a caller's elements: `offsets` (`num_elements + 1`, monotonic, within `bytes`), and for
/// text, that each element is UTF-8. Returns zarrs' form of them.
pub(super) fn vlen_arg<'a>(
    kind: VlenKind,
    num_elements: u64,
    offsets: &[u64],
    bytes: &'a [u8],
) -> Result<ArrayBytes<'a>> {
    if offsets.len() as u64 != num_elements + 1 {
        return Err(Error::new(
            ErrorKind::BufferSize,
            format!(
                "offsets holds {} values, {num_elements} elements need {}",
                offsets.len(),
                num_elements + 1
            ),
        ));
    }
    let mut rebased = Vec::with_capacity(offsets.len());
    let base = offsets[0];
    for (i, pair) in offsets.windows(2).enumerate() {
        if pair[1] < pair[0] || pair[1] > bytes.len() as u64 {
            return Err(Error::invalid_argument(format!(
                "element {i}: offsets {}..{} are decreasing or past the {} bytes given",
                pair[0],
                pair[1],
                bytes.len()
            )));
        }
    }
    if base > bytes.len() as u64 {
        return Err(Error::invalid_argument(format!(
            "element 0: offset {base} is past the {} bytes given",
            bytes.len()
        )));
    }
    // Offsets were checked to lie within `bytes`, so they fit in a usize.
    rebased.extend(offsets.iter().map(|&o| (o - base) as usize));
    let (base, end) = (base as usize, *offsets.last().unwrap_or(&0) as usize);
    let elements = &bytes[base..end];
    if kind == VlenKind::Utf8 {
        check_utf8(elements, &rebased)?;
    }
    // SAFETY: checked above to be monotonic.
    let offsets = unsafe { ArrayBytesOffsets::new_unchecked(rebased) };
    ArrayBytes::new_vlen(Cow::Borrowed(elements), offsets).map_err(|e| internal(&e))
}

/// Check every element of text is UTF-8: the bytes as a whole, then that no element boundary
/// splits a character. Only on failure is the culprit looked for.
fn check_utf8(bytes: &[u8], offsets: &[usize]) -> Result<()> {
    let whole = std::str::from_utf8(bytes).is_ok();
    let boundaries = || {
        offsets
            .iter()
            .all(|&o| o == bytes.len() || (bytes[o] as i8) >= -0x40)
    };
    if whole && boundaries() {
        return Ok(());
    }
    let bad = offsets
        .windows(2)
        .position(|pair| std::str::from_utf8(&bytes[pair[0]..pair[1]]).is_err())
        .unwrap_or(0);
    Err(Error::invalid_argument(format!(
        "element {bad} of a string array is not valid UTF-8"
    )))
}

/// Run a decode, turning a panic into `CorruptData`: zarrs' variable-length decoders index the
/// stored lengths unchecked, so a chunk whose header claims more bytes than it holds panics there.
pub(super) fn decode_guarded<T>(decode: impl FnOnce() -> Result<T>) -> Result<T> {
    catch_unwind(AssertUnwindSafe(decode)).unwrap_or_else(|payload| {
        let detail = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        Err(Error::new(
            ErrorKind::CorruptData,
            format!("a chunk's variable-length encoding is malformed ({detail})"),
        ))
    })
}

impl ArrayHandle {
    /// The array's variable-length kind; an error naming the fixed-size call to use if its
    /// elements have a fixed size.
    pub(super) fn require_vlen(&self, fixed_call: &str) -> Result<VlenKind> {
        self.layout.vlen.ok_or_else(|| {
            Error::invalid_argument(format!(
                "the array's data type {:?} has fixed-size elements: use zarrlib_array_{fixed_call}",
                self.data_type_name()
            ))
        })
    }

    /// Check the array has fixed-size elements; an error naming the variable-length call to use
    /// if not.
    pub(super) fn check_fixed(&self, vlen_call: &str) -> Result<()> {
        match self.layout.vlen {
            None => Ok(()),
            Some(kind) => Err(Error::invalid_argument(format!(
                "the array's data type {:?} has variable-length elements: use zarrlib_array_{vlen_call}",
                kind.name()
            ))),
        }
    }

    /// Decode the chunk at `chunk`, at its full chunk shape.
    pub fn read_chunk_vlen(&self, chunk: &[u64]) -> Result<VlenData> {
        self.require_vlen("read_chunk")?;
        let shape = self.chunk_shape_at(chunk)?;
        let plan = self.read_plan()?;
        let num_elements = shape.iter().product::<u64>();
        let splits = self.layout.splits_chunks;
        // A whole chunk is one store request and is decoded whole: no lock, checksums checked.
        decode_guarded(|| {
            plan.settings.run_sized(1, usize::MAX, splits, |options| {
                let bytes = self.array.retrieve_chunk_opt(chunk, options)?;
                VlenData::from_array_bytes(bytes, num_elements)
            })
        })
    }

    /// Decode the region starting at `start` with extent `shape`, in C order.
    pub fn read_region_vlen(&self, start: &[u64], shape: &[u64]) -> Result<VlenData> {
        self.require_vlen("read_region")?;
        let subset = self.region(start, shape)?;
        if subset.num_elements() == 0 {
            return Ok(VlenData::empty());
        }
        let plan = self.read_plan()?;
        let chunks = self.region_chunks(&subset)?;
        let _locks = (plan.locks_partial_reads && !plan.whole_chunks)
            .then(|| self.lock_region(&chunks, Access::Read))
            .transpose()?;
        let splits = self.layout.splits_chunks;
        decode_guarded(|| {
            plan.settings
                .run_sized(chunks.num_elements(), usize::MAX, splits, |options| {
                    self.retrieve_vlen(&subset, plan.whole_chunks, options)
                })
        })
    }

    /// Decode `subset` (inside the array, not empty), in C order. zarrs' partial decoders strip
    /// checksums unchecked: with `whole_chunks` (checksums validated) the chunks are decoded
    /// whole (the subset grown to their bounds) and the subset cut out. Callers hold the locks
    /// and the panic guard (`decode_guarded`).
    pub(super) fn retrieve_vlen(
        &self,
        subset: &ArraySubset,
        whole_chunks: bool,
        options: &CodecOptions,
    ) -> Result<VlenData> {
        let bytes = if whole_chunks {
            let outer = self.chunks_box(&self.region_chunks(subset)?)?;
            let all: ArrayBytes<'static> = self.array.retrieve_array_subset_opt(&outer, options)?;
            let inner = subset
                .relative_to(outer.start())
                .map_err(|e| internal(&e))?;
            all.extract_array_subset(&inner, outer.shape(), self.array.data_type())
                .map_err(|e| internal(&e))?
                .into_owned()
        } else {
            self.array.retrieve_array_subset_opt(subset, options)?
        };
        VlenData::from_array_bytes(bytes, subset.num_elements())
    }

    /// The box the chunks of `chunks` (a subset of the chunk grid) cover, cut to the array.
    fn chunks_box(&self, chunks: &ArraySubset) -> Result<ArraySubset> {
        let first = self.array.chunk_subset(chunks.start())?;
        let last_chunk: Vec<u64> = std::iter::zip(chunks.start(), chunks.shape())
            .map(|(s, n)| s + n - 1)
            .collect();
        let last = self.array.chunk_subset(&last_chunk)?;
        let end = std::iter::zip(last.end_exc(), self.shape()).map(|(e, &s)| e.min(s));
        let shape = std::iter::zip(end, first.start())
            .map(|(e, s)| e - s)
            .collect();
        ArraySubset::new_with_start_shape(first.start().to_vec(), shape).map_err(|e| internal(&e))
    }

    /// Encode and store a whole chunk of variable-length elements.
    pub fn write_chunk_vlen(&self, chunk: &[u64], offsets: &[u64], bytes: &[u8]) -> Result<()> {
        let kind = self.require_vlen("write_chunk")?;
        let shape = self.chunk_shape_at(chunk)?;
        let data = vlen_arg(kind, shape.iter().product(), offsets, bytes)?;
        let settings = self.write_settings()?;
        let _locks = self.locks.lock_one(Access::Write, chunk)?;
        if !settings.store_empty_chunks && self.all_fill(&data) {
            return Ok(self.array.erase_chunk(chunk)?);
        }
        let splits = self.layout.splits_chunks;
        settings.run_sized(1, bytes.len(), splits, |options| {
            let options = options.with_store_empty_chunks(true);
            Ok(self.array.store_chunk_opt(chunk, data, &options)?)
        })
    }

    /// Whether every element of `data` is the fill value. zarrs' own test compares the bytes
    /// alone, without the offsets (so `["-", ""]` passes for a fill value of `"-"`, and
    /// `["a", "ba", "b"]` for `"ab"`, and such chunks would be erased): variable-length writes
    /// make this test instead and tell zarrs to store what they write.
    fn all_fill(&self, data: &ArrayBytes<'_>) -> bool {
        let fill = self.fill_value();
        let ArrayBytes::Variable(data) = data else {
            return false;
        };
        let (bytes, offsets) = (data.bytes(), data.offsets());
        offsets.windows(2).all(|w| &bytes[w[0]..w[1]] == fill)
    }

    /// Write a region of variable-length elements. Chunks the region covers only in part are
    /// read, updated and written back under their locks.
    pub fn write_region_vlen(
        &self,
        start: &[u64],
        shape: &[u64],
        offsets: &[u64],
        bytes: &[u8],
    ) -> Result<()> {
        let kind = self.require_vlen("write_region")?;
        let subset = self.region(start, shape)?;
        let data = vlen_arg(kind, subset.num_elements(), offsets, bytes)?;
        self.write_subset_vlen(&subset, &data)
    }

    /// Write `data`, checked to hold the elements of `subset` (inside the array), in C order.
    pub(super) fn write_subset_vlen(
        &self,
        subset: &ArraySubset,
        data: &ArrayBytes<'_>,
    ) -> Result<()> {
        if subset.num_elements() == 0 {
            return Ok(());
        }
        let settings = self.write_settings()?;
        let chunks = self.region_chunks(subset)?;
        let _locks = self.lock_region(&chunks, Access::Write)?;
        let splits = self.layout.splits_chunks;
        let store_empty = settings.store_empty_chunks;
        let indices: Vec<Vec<u64>> = chunks.indices().into_iter().map(|c| c.to_vec()).collect();
        let bytes = data.size();
        decode_guarded(|| {
            settings.run_sized(chunks.num_elements(), bytes, splits, |options| {
                if indices.len() == 1 || options.concurrent_target() <= 1 {
                    return indices.iter().try_for_each(|chunk| {
                        self.write_vlen_piece(chunk, subset, data, store_empty, options)
                    });
                }
                let options = share(*options, indices.len());
                indices.par_iter().try_for_each(|chunk| {
                    self.write_vlen_piece(chunk, subset, data, store_empty, &options)
                })
            })
        })
    }

    /// Write the part of `data` (the elements of `region`) that falls in `chunk`: the chunk is
    /// replaced if the region covers it, else read, updated and written back. A chunk that ends
    /// up entirely the fill value is erased, unless `store_empty`. (zarrs' own region writes
    /// test for that on the bytes alone, see `all_fill`.)
    fn write_vlen_piece(
        &self,
        chunk: &[u64],
        region: &ArraySubset,
        data: &ArrayBytes<'_>,
        store_empty: bool,
        options: &CodecOptions,
    ) -> Result<()> {
        let data_type = self.array.data_type();
        let chunk_subset = self.array.chunk_subset(chunk)?;
        let overlap = chunk_subset.overlap(region).map_err(|e| internal(&e))?;
        let in_region = overlap
            .relative_to(region.start())
            .map_err(|e| internal(&e))?;
        let piece = data
            .extract_array_subset(&in_region, region.shape(), data_type)
            .map_err(|e| internal(&e))?;
        let new = if overlap == chunk_subset {
            piece
        } else {
            let old = self.array.retrieve_chunk_opt(chunk, options)?;
            let in_chunk = overlap
                .relative_to(chunk_subset.start())
                .map_err(|e| internal(&e))?;
            update_array_bytes(
                old,
                chunk_subset.shape(),
                &in_chunk,
                &piece,
                data_type.size(),
            )
            .map_err(|e| internal(&e))?
        };
        self.store_whole(chunk, new, store_empty, options)
    }

    /// Store a whole chunk, or erase it when every element is the fill value (unless
    /// `store_empty`): for variable-length types by the exact test of `all_fill`, for fixed-size
    /// ones by zarrs' (which compares bits).
    pub(super) fn store_whole(
        &self,
        chunk: &[u64],
        data: ArrayBytes<'_>,
        store_empty: bool,
        options: &CodecOptions,
    ) -> Result<()> {
        if !matches!(data, ArrayBytes::Variable(_)) {
            let options = options.with_store_empty_chunks(store_empty);
            return Ok(self.array.store_chunk_opt(chunk, data, &options)?);
        }
        if !store_empty && self.all_fill(&data) {
            return Ok(self.array.erase_chunk(chunk)?);
        }
        let options = options.with_store_empty_chunks(true);
        Ok(self.array.store_chunk_opt(chunk, data, &options)?)
    }
}

#[cfg(test)]
pub(super) mod tests {
    use std::sync::Arc;

    use zarrs::storage::{StoreKey, WritableStorageTraits};

    use super::*;
    use crate::array::create_array;
    use crate::store::Store;

    const STRINGS: &str = r#"{"zarr_format":3,"node_type":"array","shape":[5,3],"data_type":"string",
        "chunk_grid":{"name":"regular","configuration":{"chunk_shape":[2,2]}},
        "chunk_key_encoding":{"name":"default"},"fill_value":"-",
        "codecs":[{"name":"vlen-utf8","configuration":{}},{"name":"zstd","configuration":{"level":0,"checksum":false}}]}"#;

    fn memory_array(metadata: &str) -> (Arc<Store>, ArrayHandle) {
        let store = Arc::new(Store::open("memory://", None).unwrap());
        create_array(&store, "a", metadata, false).unwrap();
        (store.clone(), ArrayHandle::open(store, "a").unwrap())
    }

    /// `items` as the offsets and bytes the C ABI's vlen calls take.
    pub(in crate::array) fn encode(items: &[impl AsRef<str>]) -> (Vec<u64>, Vec<u8>) {
        let mut offsets = vec![0];
        let mut bytes = Vec::new();
        for item in items {
            bytes.extend_from_slice(item.as_ref().as_bytes());
            offsets.push(bytes.len() as u64);
        }
        (offsets, bytes)
    }

    fn decode(data: &VlenData) -> Vec<String> {
        let mut offsets = vec![0; data.len() + 1];
        let mut bytes = vec![0; data.bytes().len()];
        data.copy_to(&mut offsets, &mut bytes).unwrap();
        offsets
            .windows(2)
            .map(|w| String::from_utf8(bytes[w[0] as usize..w[1] as usize].to_vec()).unwrap())
            .collect()
    }

    #[test]
    fn regions_round_trip_over_partial_chunks_and_fill() {
        let (_, array) = memory_array(STRINGS);
        assert_eq!(array.vlen_kind(), Some(VlenKind::Utf8));
        assert_eq!(array.element_size(), 0);
        let (offsets, bytes) = encode(&["a", "", "ß\0x", "日本"]);
        array
            .write_region_vlen(&[1, 1], &[2, 2], &offsets, &bytes)
            .unwrap();
        let all = decode(&array.read_region_vlen(&[0, 0], &[5, 3]).unwrap());
        let expected = [
            "-", "-", "-", "-", "a", "", "-", "ß\0x", "日本", "-", "-", "-", "-", "-", "-",
        ];
        assert_eq!(all, expected);
        let chunk = decode(&array.read_chunk_vlen(&[2, 1]).unwrap());
        assert_eq!(chunk, ["-", "-", "-", "-"]);
    }

    #[test]
    fn empty_strings_survive_partial_writes() {
        let (_, array) = memory_array(STRINGS);
        let (offsets, bytes) = encode(&[""]);
        array
            .write_region_vlen(&[1, 2], &[1, 1], &offsets, &bytes)
            .unwrap();
        assert_eq!(
            decode(&array.read_region_vlen(&[1, 2], &[1, 1]).unwrap()),
            [""]
        );
        assert_eq!(
            decode(&array.read_chunk_vlen(&[0, 1]).unwrap()),
            ["-", "-", "", "-"]
        );
    }

    #[test]
    fn padded_copies_fill_cells_and_check_the_width() {
        let (_, array) = memory_array(STRINGS);
        let (offsets, bytes) = encode(&["ab", "", "c"]);
        array
            .write_region_vlen(&[0, 0], &[1, 3], &offsets, &bytes)
            .unwrap();
        let data = array.read_region_vlen(&[0, 0], &[1, 3]).unwrap();
        let mut out = [9u8; 6];
        data.copy_padded(2, &mut out).unwrap();
        assert_eq!(&out, b"ab\0\0c\0");
        let err = data.copy_padded(1, &mut out[..3]).unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidArgument);
        let err = data.copy_padded(2, &mut out[..5]).unwrap_err();
        assert_eq!(err.kind, ErrorKind::BufferSize);
    }

    #[test]
    fn region_writes_erase_chunks_left_all_fill_and_keep_the_rest() {
        use zarrs::storage::ReadableStorageTraits;
        let (store, array) = memory_array(STRINGS);
        let key = StoreKey::new("a/c/0/1").unwrap();
        let (offsets, bytes) = encode(&["x", "y"]);
        array
            .write_region_vlen(&[0, 2], &[2, 1], &offsets, &bytes)
            .unwrap();
        assert!(store.storage.get(&key).unwrap().is_some());
        // Back to the fill value: the chunk goes.
        let (offsets, bytes) = encode(&["-", "-"]);
        array
            .write_region_vlen(&[0, 2], &[2, 1], &offsets, &bytes)
            .unwrap();
        assert!(store.storage.get(&key).unwrap().is_none());
        // Bytes that concatenate to fill values but are not: the chunk stays.
        let (offsets, bytes) = encode(&["--", ""]);
        array
            .write_region_vlen(&[0, 2], &[2, 1], &offsets, &bytes)
            .unwrap();
        assert!(store.storage.get(&key).unwrap().is_some());
        assert_eq!(
            decode(&array.read_region_vlen(&[0, 2], &[2, 1]).unwrap()),
            ["--", ""]
        );
    }

    #[test]
    fn bad_offsets_and_text_name_the_element() {
        let (_, array) = memory_array(STRINGS);
        let err = array
            .write_region_vlen(&[0, 0], &[1, 2], &[0, 2, 1], b"ab")
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidArgument);
        assert!(err.message.contains("element 1"), "{}", err.message);
        let err = array
            .write_region_vlen(&[0, 0], &[1, 2], &[0, 1], b"ab")
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::BufferSize);
        let err = array
            .write_region_vlen(&[0, 0], &[1, 2], &[0, 2, 3], b"a\xc3\xa9")
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidArgument);
        assert!(err.message.contains("element 0"), "{}", err.message);
        let err = array
            .write_region_vlen(&[0, 0], &[1, 2], &[0, 1, 3], b"a\xff\xfe")
            .unwrap_err();
        assert!(err.message.contains("element 1"), "{}", err.message);
        // Offsets need not start at 0.
        array
            .write_region_vlen(&[0, 0], &[1, 2], &[1, 2, 3], b"xab")
            .unwrap();
        assert_eq!(
            decode(&array.read_region_vlen(&[0, 0], &[1, 2]).unwrap()),
            ["a", "b"]
        );
    }

    #[test]
    fn fixed_and_variable_calls_refuse_the_other_kind() {
        let (_, array) = memory_array(STRINGS);
        let err = array
            .read_region(&[0, 0], &[1, 1], &mut [0; 8])
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidArgument);
        assert!(err.message.contains("read_region_vlen"), "{}", err.message);
        let fixed = STRINGS
            .replace(r#""string""#, r#""uint8""#)
            .replace(r#""-""#, "0")
            .replace(
                r#"{"name":"vlen-utf8","configuration":{}}"#,
                r#"{"name":"bytes"}"#,
            );
        let (_, array) = memory_array(&fixed);
        let err = array.read_region_vlen(&[0, 0], &[1, 1]).err().unwrap();
        assert!(
            err.message.contains("zarrlib_array_read_region"),
            "{}",
            err.message
        );
    }

    #[test]
    fn a_chunk_claiming_more_bytes_than_it_holds_is_corrupt() {
        let metadata = STRINGS.replace(
            r#",{"name":"zstd","configuration":{"level":0,"checksum":false}}"#,
            "",
        );
        let (store, array) = memory_array(&metadata);
        let mut chunk = 4u32.to_le_bytes().to_vec();
        chunk.extend_from_slice(&u32::MAX.to_le_bytes());
        chunk.extend_from_slice(b"abc");
        store
            .storage
            .set(&StoreKey::new("a/c/0/0").unwrap(), chunk.into())
            .unwrap();
        let err = array.read_chunk_vlen(&[0, 0]).err().unwrap();
        assert_eq!(err.kind, ErrorKind::CorruptData, "{}", err.message);
        let err = array.read_region_vlen(&[0, 0], &[1, 1]).err().unwrap();
        assert_eq!(err.kind, ErrorKind::CorruptData, "{}", err.message);
    }

    #[test]
    fn checksummed_chunks_are_read_whole_and_cut() {
        let metadata = STRINGS.replace(
            r#"{"name":"zstd","configuration":{"level":0,"checksum":false}}"#,
            r#"{"name":"crc32c"}"#,
        );
        let (_, array) = memory_array(&metadata);
        let items: Vec<String> = (0..15).map(|i| format!("s{i}")).collect();
        let (offsets, bytes) = encode(&items);
        array
            .write_region_vlen(&[0, 0], &[5, 3], &offsets, &bytes)
            .unwrap();
        let plan = array.read_plan().unwrap();
        assert!(plan.whole_chunks);
        let got = decode(&array.read_region_vlen(&[1, 1], &[3, 2]).unwrap());
        assert_eq!(got, ["s4", "s5", "s7", "s8", "s10", "s11"]);
    }
}
