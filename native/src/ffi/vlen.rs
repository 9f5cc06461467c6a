//! Variable-length data type exports (`string`, `bytes`): reads into a library-owned result
//! that is sized and then copied out into two caller buffers (offsets and bytes), and writes
//! from such buffers. The layout is documented on `zarrlib_vlen`, which the header carries.

use std::ffi::c_void;

use super::args::{
    Handle, bytes_arg, bytes_out, free_handle, handle_arg, new_handle, out_arg, slice_arg,
    slice_out,
};
use super::array::{selection_arg, zarrlib_array};
use super::boundary::{guard, guard_value};
use crate::array::VlenData;

/// Variable-length data types: `string` (UTF-8 text) and `bytes` arrays, in Zarr v3 and as
/// zarr-python writes them in Zarr v2 (`|O` with a `vlen-utf8` or `vlen-bytes` filter).
///
/// Elements cross in two buffers laid out as Apache Arrow's variable-size binary layout:
/// `bytes`, the elements' bytes one after another in C order, and `offsets`, one more
/// `uint64_t` than there are elements, element `i` being `bytes[offsets[i] .. offsets[i+1]]`.
/// What the library writes has `offsets[0] == 0` and `offsets[n]` == the byte total. A `string`
/// element is UTF-8 with no terminating NUL (it may hold NUL characters).
///
/// Reading decodes once, into this library-owned result: `zarrlib_array_read_region_vlen` (or
/// `zarrlib_array_read_chunk_vlen`, `zarrlib_array_read_selection_vlen`) returns it,
/// `zarrlib_vlen_sizes` tells how large the two buffers must be, `zarrlib_vlen_copy` fills the
/// caller's buffers (as often as wanted), and `zarrlib_vlen_free` releases it. Read-only: threads may copy from one result at once.
/// Writing is one call taking both buffers (`zarrlib_array_write_region_vlen`,
/// `zarrlib_array_write_chunk_vlen`, `zarrlib_array_write_selection_vlen`).
///
/// The fixed-size calls (`zarrlib_array_read_region`, ...) fail on a variable-length array with
/// ZARRLIB_ERR_INVALID_ARGUMENT naming the call to use, and the `_vlen` calls likewise on a
/// fixed-size array. For a variable-length array `zarrlib_array_element_size` reports 0 and
/// `zarrlib_array_data_type` "string" or "bytes" (a v2 `|O` array with a `vlen-bytes` filter
/// is "bytes"). A chunk whose stored lengths run past its bytes is ZARRLIB_ERR_CORRUPT_DATA.
/// `zarrlib_array_fill_value_length` gives the size of the buffer `zarrlib_array_fill_value`
/// copies the fill value into.
pub struct zarrlib_vlen {
    _private: [u8; 0],
}

impl Handle for zarrlib_vlen {
    type Value = VlenData;
    const TAG: u64 = 0x7a61_7272_564c_454e; // "zarrVLEN"
    const NAME: &'static str = "vlen";
}

/// Decode the chunk at `chunk_coords` (`ndim` values) of a variable-length array, at its full
/// chunk shape (edge chunks included). A chunk that is not stored reads as the fill value.
/// `*out` receives a result to free with `zarrlib_vlen_free`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zarrlib_array_read_chunk_vlen(
    array: *const zarrlib_array,
    chunk_coords: *const u64,
    ndim: usize,
    out: *mut *mut zarrlib_vlen,
) -> i32 {
    guard(|| {
        // SAFETY: the arguments are as the header documents them (see `args`).
        let (array, coords, out) = unsafe {
            (
                handle_arg(array)?,
                slice_arg(chunk_coords, ndim, "chunk_coords")?,
                out_arg(out, "out")?,
            )
        };
        *out = new_handle(array.read_chunk_vlen(coords)?);
        Ok(())
    })
}

/// Decode the region starting at `start` with extent `shape` (`ndim` values each) of a
/// variable-length array, elements in C order. ZARRLIB_ERR_OUT_OF_BOUNDS if the region leaves
/// the array. `*out` receives a result to free with `zarrlib_vlen_free`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zarrlib_array_read_region_vlen(
    array: *const zarrlib_array,
    start: *const u64,
    shape: *const u64,
    ndim: usize,
    out: *mut *mut zarrlib_vlen,
) -> i32 {
    guard(|| {
        // SAFETY: the arguments are as the header documents them (see `args`).
        let (array, start, shape, out) = unsafe {
            (
                handle_arg(array)?,
                slice_arg(start, ndim, "start")?,
                slice_arg(shape, ndim, "shape")?,
                out_arg(out, "out")?,
            )
        };
        *out = new_handle(array.read_region_vlen(start, shape)?);
        Ok(())
    })
}

/// Decode a strided selection of a variable-length array, as `zarrlib_array_read_selection`
/// selects it: on axis `i`, the `count[i]` indices `start[i]`, `start[i] + step[i]`, ...
/// (`step[i]` non-zero, negative to run backwards; numpy's basic slicing). The result holds
/// the elements in C order over the shape `count`, in selection order. Only chunks holding
/// selected elements are read. ZARRLIB_ERR_OUT_OF_BOUNDS if a selected index leaves the array,
/// ZARRLIB_ERR_INVALID_ARGUMENT for a zero step or a wrong `ndim`. `*out` receives a result to
/// free with `zarrlib_vlen_free`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zarrlib_array_read_selection_vlen(
    array: *const zarrlib_array,
    start: *const u64,
    step: *const i64,
    count: *const u64,
    ndim: usize,
    out: *mut *mut zarrlib_vlen,
) -> i32 {
    guard(|| {
        // SAFETY: the arguments are as the header documents them (see `args`).
        let (array, axes, out) = unsafe {
            (
                handle_arg(array)?,
                selection_arg(start, step, count, ndim)?,
                out_arg(out, "out")?,
            )
        };
        *out = new_handle(array.read_selection_vlen(&axes)?);
        Ok(())
    })
}

/// Write the number of elements of a result to `*out_elements` and the total of their bytes to
/// `*out_bytes`: `zarrlib_vlen_copy` takes `*out_elements + 1` offsets and `*out_bytes` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zarrlib_vlen_sizes(
    vlen: *const zarrlib_vlen,
    out_elements: *mut usize,
    out_bytes: *mut usize,
) -> i32 {
    guard(|| {
        // SAFETY: the arguments are as the header documents them (see `args`).
        let (vlen, elements, bytes) = unsafe {
            (
                handle_arg(vlen)?,
                out_arg(out_elements, "out_elements")?,
                out_arg(out_bytes, "out_bytes")?,
            )
        };
        *elements = vlen.len();
        *bytes = vlen.bytes().len();
        Ok(())
    })
}

/// Copy a result into the caller's buffers: `offsets` holds `offsets_len` == elements + 1
/// values and `bytes` `bytes_len` == the byte total (see `zarrlib_vlen_sizes`; `bytes` may be
/// NULL when that is 0). ZARRLIB_ERR_BUFFER_SIZE if either length differs.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zarrlib_vlen_copy(
    vlen: *const zarrlib_vlen,
    offsets: *mut u64,
    offsets_len: usize,
    bytes: *mut c_void,
    bytes_len: usize,
) -> i32 {
    guard(|| {
        // SAFETY: the arguments are as the header documents them (see `args`).
        let (vlen, offsets, bytes) = unsafe {
            (
                handle_arg(vlen)?,
                slice_out(offsets, offsets_len, "offsets")?,
                bytes_out(bytes, bytes_len, "bytes")?,
            )
        };
        vlen.copy_to(offsets, bytes)
    })
}

/// Copy a result into `out` as fixed-width cells of `width` bytes, one per element in order,
/// each padded with NUL bytes (numpy's `S<width>` layout; a reader cannot tell an element's own
/// trailing NULs from the padding). `out_len` == elements * `width`; ZARRLIB_ERR_BUFFER_SIZE
/// otherwise, ZARRLIB_ERR_INVALID_ARGUMENT if an element is longer than `width`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zarrlib_vlen_copy_padded(
    vlen: *const zarrlib_vlen,
    width: usize,
    out: *mut c_void,
    out_len: usize,
) -> i32 {
    guard(|| {
        // SAFETY: the arguments are as the header documents them (see `args`).
        let (vlen, out) = unsafe { (handle_arg(vlen)?, bytes_out(out, out_len, "out")?) };
        vlen.copy_padded(width, out)
    })
}

/// Free a result. NULL is ignored, and so is a pointer that is not a live result. Does not
/// change the last error.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zarrlib_vlen_free(vlen: *mut zarrlib_vlen) {
    // SAFETY: the caller gives up the handle; `free_handle` checks it first.
    guard_value((), || unsafe { free_handle(vlen) })
}

/// Encode and store a whole chunk of a variable-length array from `offsets` (`offsets_len` ==
/// the chunk's element count + 1, monotonic) and `bytes` (`bytes_len` bytes, at least the last
/// offset; may be NULL when 0). Offsets need not start at 0. ZARRLIB_ERR_BUFFER_SIZE for a wrong
/// number of offsets, ZARRLIB_ERR_INVALID_ARGUMENT (naming the element) for offsets that
/// decrease or pass the bytes, or a `string` element that is not UTF-8. A chunk that is entirely
/// the fill value is erased instead, unless storing empty chunks is configured.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zarrlib_array_write_chunk_vlen(
    array: *const zarrlib_array,
    chunk_coords: *const u64,
    ndim: usize,
    offsets: *const u64,
    offsets_len: usize,
    bytes: *const c_void,
    bytes_len: usize,
) -> i32 {
    guard(|| {
        // SAFETY: the arguments are as the header documents them (see `args`).
        let (array, coords, offsets, bytes) = unsafe {
            (
                handle_arg(array)?,
                slice_arg(chunk_coords, ndim, "chunk_coords")?,
                slice_arg(offsets, offsets_len, "offsets")?,
                bytes_arg(bytes, bytes_len, "bytes")?,
            )
        };
        array.write_chunk_vlen(coords, offsets, bytes)
    })
}

/// Write the region starting at `start` with extent `shape` (`ndim` values each) of a
/// variable-length array from `offsets` and `bytes`, elements in C order, checked as for
/// `zarrlib_array_write_chunk_vlen`. Chunks the region covers only in part are read, updated and
/// written back under their locks, so concurrent writers to one chunk never lose an update.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zarrlib_array_write_region_vlen(
    array: *const zarrlib_array,
    start: *const u64,
    shape: *const u64,
    ndim: usize,
    offsets: *const u64,
    offsets_len: usize,
    bytes: *const c_void,
    bytes_len: usize,
) -> i32 {
    guard(|| {
        // SAFETY: the arguments are as the header documents them (see `args`).
        let (array, start, shape, offsets, bytes) = unsafe {
            (
                handle_arg(array)?,
                slice_arg(start, ndim, "start")?,
                slice_arg(shape, ndim, "shape")?,
                slice_arg(offsets, offsets_len, "offsets")?,
                bytes_arg(bytes, bytes_len, "bytes")?,
            )
        };
        array.write_region_vlen(start, shape, offsets, bytes)
    })
}

/// Write a strided selection (as in `zarrlib_array_read_selection_vlen`) of a variable-length
/// array from `offsets` and `bytes`, elements laid out as that call reads them and checked as
/// for `zarrlib_array_write_chunk_vlen` (`offsets_len` == the number of selected elements + 1).
/// Each chunk holding selected elements is read (unless the selection covers it), updated and
/// written back under that chunk's lock, so concurrent writers to one chunk never lose an
/// update; other chunks are not touched.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zarrlib_array_write_selection_vlen(
    array: *const zarrlib_array,
    start: *const u64,
    step: *const i64,
    count: *const u64,
    ndim: usize,
    offsets: *const u64,
    offsets_len: usize,
    bytes: *const c_void,
    bytes_len: usize,
) -> i32 {
    guard(|| {
        // SAFETY: the arguments are as the header documents them (see `args`).
        let (array, axes, offsets, bytes) = unsafe {
            (
                handle_arg(array)?,
                selection_arg(start, step, count, ndim)?,
                slice_arg(offsets, offsets_len, "offsets")?,
                bytes_arg(bytes, bytes_len, "bytes")?,
            )
        };
        array.write_selection_vlen(&axes, offsets, bytes)
    })
}
