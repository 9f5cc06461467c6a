//! Array handle exports: open, describe, and read and write chunks and regions.
//!
//! Bulk data crosses in caller-allocated buffers of C-contiguous elements in native byte order,
//! with an explicit byte length that must match exactly (ZARRLIB_ERR_BUFFER_SIZE otherwise).
//!
//! Every export has one shape: inside `guard`, one `unsafe` block turns the C arguments into
//! safe values (each conversion checks its pointer), then one call into the core.

use std::ffi::{c_char, c_void};

use super::args::{
    Handle, bytes_arg, bytes_out, bytes_out_owned, chunk_list_arg, copy_to_out, free_handle,
    handle_arg, new_handle, out_arg, slice_arg, slice_out, str_arg, string_out,
};
use super::boundary::{guard, guard_value};
use super::store::zarrlib_store;
use crate::array::{ArrayHandle, ArrayOptions};
use crate::error::Result;
use crate::selection::AxisSelection;

/// An open array: its metadata parsed and codec chain built once. Thread-safe: any number of
/// threads may read and write through one handle at once; writes to the same chunk are
/// serialised. The handle keeps its store alive.
pub struct zarrlib_array {
    _private: [u8; 0],
}

impl Handle for zarrlib_array {
    type Value = ArrayHandle;
    const TAG: u64 = 0x7a61_7272_4152_5259; // "zarrARRY"
    const NAME: &'static str = "array";
}

// The header promises thread-safe handles; raw pointers hide that from the compiler, so check it.
const _: () = {
    const fn thread_safe<T: Send + Sync>() {}
    thread_safe::<ArrayHandle>();
};

/// Open the array stored at `path`. ZARRLIB_ERR_NOT_FOUND if there is no node,
/// ZARRLIB_ERR_NODE_KIND if it is a group. `*out` receives a handle to free with
/// `zarrlib_array_free`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zarrlib_array_open(
    store: *const zarrlib_store,
    path: *const c_char,
    out: *mut *mut zarrlib_array,
) -> i32 {
    guard(|| {
        // SAFETY: the arguments are as the header documents them (see `args`).
        let (store, path, out) = unsafe {
            (
                handle_arg(store)?,
                str_arg(path, "path")?,
                out_arg(out, "out")?,
            )
        };
        *out = new_handle(ArrayHandle::open(store.clone(), path)?);
        Ok(())
    })
}

/// Open the array at `path` as described by `metadata_json` (as for `zarrlib_array_create`),
/// without reading the store's metadata: the caller's document is authoritative.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zarrlib_array_open_with_metadata(
    store: *const zarrlib_store,
    path: *const c_char,
    metadata_json: *const c_char,
    out: *mut *mut zarrlib_array,
) -> i32 {
    guard(|| {
        // SAFETY: the arguments are as the header documents them (see `args`).
        let (store, path, metadata, out) = unsafe {
            (
                handle_arg(store)?,
                str_arg(path, "path")?,
                str_arg(metadata_json, "metadata_json")?,
                out_arg(out, "out")?,
            )
        };
        *out = new_handle(ArrayHandle::open_with_metadata(
            store.clone(),
            path,
            metadata,
        )?);
        Ok(())
    })
}

/// A new handle on the same array and store that uses `options_json` in place of some
/// process-wide settings, for that handle's calls only: a JSON object with any of
/// `store_empty_chunks` (bool), `validate_checksums` (bool) and `concurrent_target` (how many
/// chunks one call works on at once; 0 is the pool size); `null` keeps the process-wide value.
/// `array` keeps its own options. An unknown option or a value of the wrong type is
/// ZARRLIB_ERR_INVALID_ARGUMENT. On success `*out` receives a handle to free with
/// `zarrlib_array_free`; handles returned by `zarrlib_array_resize` and `zarrlib_array_append`
/// keep the options of the handle they came from.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zarrlib_array_with_options(
    array: *const zarrlib_array,
    options_json: *const c_char,
    out: *mut *mut zarrlib_array,
) -> i32 {
    guard(|| {
        // SAFETY: the arguments are as the header documents them (see `args`).
        let (array, options, out) = unsafe {
            (
                handle_arg(array)?,
                str_arg(options_json, "options_json")?,
                out_arg(out, "out")?,
            )
        };
        *out = new_handle(array.with_options(ArrayOptions::parse(options)?)?);
        Ok(())
    })
}

/// Free an array handle. NULL is ignored, and so is a pointer that is not a live array handle.
/// Does not change the last error.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zarrlib_array_free(array: *mut zarrlib_array) {
    // SAFETY: the caller gives up the handle; `free_handle` checks it first.
    guard_value((), || unsafe { free_handle(array) })
}

/// Write the number of dimensions to `*out`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zarrlib_array_ndim(array: *const zarrlib_array, out: *mut usize) -> i32 {
    guard(|| {
        // SAFETY: the arguments are as the header documents them (see `args`).
        let (array, out) = unsafe { (handle_arg(array)?, out_arg(out, "out")?) };
        *out = array.ndim();
        Ok(())
    })
}

/// Write the array's shape to `out`, which holds `out_len` == ndim values.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zarrlib_array_shape(
    array: *const zarrlib_array,
    out: *mut u64,
    out_len: usize,
) -> i32 {
    guard(|| {
        // SAFETY: the arguments are as the header documents them (see `args`).
        let (array, out) = unsafe { (handle_arg(array)?, slice_out(out, out_len, "out")?) };
        copy_to_out(array.shape(), out, "out")
    })
}

/// Write the chunk shape of a regular chunk grid to `out` (`out_len` == ndim values).
/// ZARRLIB_ERR_UNSUPPORTED for other grids. Edge chunks have this full shape too.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zarrlib_array_chunk_shape(
    array: *const zarrlib_array,
    out: *mut u64,
    out_len: usize,
) -> i32 {
    guard(|| {
        // SAFETY: the arguments are as the header documents them (see `args`).
        let (array, out) = unsafe { (handle_arg(array)?, slice_out(out, out_len, "out")?) };
        copy_to_out(array.regular_chunk_shape()?, out, "out")
    })
}

/// Write the number of chunks along each dimension to `out` (`out_len` == ndim values).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zarrlib_array_chunk_grid_shape(
    array: *const zarrlib_array,
    out: *mut u64,
    out_len: usize,
) -> i32 {
    guard(|| {
        // SAFETY: the arguments are as the header documents them (see `args`).
        let (array, out) = unsafe { (handle_arg(array)?, slice_out(out, out_len, "out")?) };
        copy_to_out(array.chunk_grid_shape(), out, "out")
    })
}

/// The data type's Zarr v3 name ("uint16", "float32", "complex64", ...; v2 arrays report the
/// same names). `*out` receives a string to free with `zarrlib_string_free`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zarrlib_array_data_type(
    array: *const zarrlib_array,
    out: *mut *mut c_char,
) -> i32 {
    guard(|| {
        // SAFETY: the arguments are as the header documents them (see `args`).
        let (array, out) = unsafe { (handle_arg(array)?, out_arg(out, "out")?) };
        string_out(out, array.data_type_name().to_owned())
    })
}

/// Write the size in bytes of one element to `*out`: 0 for a variable-length data type
/// (`string`, `bytes`), whose elements are read and written with the `_vlen` calls.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zarrlib_array_element_size(
    array: *const zarrlib_array,
    out: *mut usize,
) -> i32 {
    guard(|| {
        // SAFETY: the arguments are as the header documents them (see `args`).
        let (array, out) = unsafe { (handle_arg(array)?, out_arg(out, "out")?) };
        *out = array.element_size();
        Ok(())
    })
}

/// Copy the fill value, one element in native byte order, into `out` (`out_len` == element size;
/// for a variable-length data type, the fill value's own length in bytes, which
/// `zarrlib_array_fill_value_length` reports; `out` may be NULL when that is 0).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zarrlib_array_fill_value(
    array: *const zarrlib_array,
    out: *mut c_void,
    out_len: usize,
) -> i32 {
    guard(|| {
        // SAFETY: the arguments are as the header documents them (see `args`).
        let (array, out) = unsafe { (handle_arg(array)?, bytes_out(out, out_len, "out")?) };
        copy_to_out(array.fill_value(), out, "out")
    })
}

/// Write the size in bytes of the fill value to `*out`: the buffer `zarrlib_array_fill_value`
/// takes. The element size for a fixed-size data type; for `string` and `bytes`, the fill
/// value's own length (a `string` fill value's UTF-8 bytes, no terminating NUL; 0 for an empty
/// one).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zarrlib_array_fill_value_length(
    array: *const zarrlib_array,
    out: *mut usize,
) -> i32 {
    guard(|| {
        // SAFETY: the arguments are as the header documents them (see `args`).
        let (array, out) = unsafe { (handle_arg(array)?, out_arg(out, "out")?) };
        *out = array.fill_value().len();
        Ok(())
    })
}

/// The array's metadata document as JSON. `*out_json` receives a string to free with
/// `zarrlib_string_free`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zarrlib_array_metadata(
    array: *const zarrlib_array,
    out_json: *mut *mut c_char,
) -> i32 {
    guard(|| {
        // SAFETY: the arguments are as the header documents them (see `args`).
        let (array, out) = unsafe { (handle_arg(array)?, out_arg(out_json, "out_json")?) };
        string_out(out, array.metadata_json())
    })
}

/// Decode the chunk at `chunk_coords` (`ndim` values) into `out` (`out_len` bytes), at its full
/// chunk shape (edge chunks included). A chunk that is not stored reads as the fill value.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zarrlib_array_read_chunk(
    array: *const zarrlib_array,
    chunk_coords: *const u64,
    ndim: usize,
    out: *mut c_void,
    out_len: usize,
) -> i32 {
    guard(|| {
        // SAFETY: the arguments are as the header documents them (see `args`).
        let (array, coords, out) = unsafe {
            (
                handle_arg(array)?,
                slice_arg(chunk_coords, ndim, "chunk_coords")?,
                bytes_out(out, out_len, "out")?,
            )
        };
        array.read_chunk(coords, out)
    })
}

/// Decode `num_chunks` chunks in one call, in parallel. `chunk_coords` holds `num_chunks * ndim`
/// values, one chunk's coordinates after another; the chunks land in `out` (`out_len` bytes) one
/// after another in that order, each at its full chunk shape.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zarrlib_array_read_chunks(
    array: *const zarrlib_array,
    chunk_coords: *const u64,
    num_chunks: usize,
    ndim: usize,
    out: *mut c_void,
    out_len: usize,
) -> i32 {
    guard(|| {
        // SAFETY: the arguments are as the header documents them (see `args`).
        let (array, chunks, out) = unsafe {
            (
                handle_arg(array)?,
                chunk_list_arg(chunk_coords, num_chunks, ndim, "chunk_coords")?,
                bytes_out(out, out_len, "out")?,
            )
        };
        array.read_chunks(&chunks, out)
    })
}

/// The stored (encoded) bytes of the chunk at `chunk_coords`. On success `*out_data` and
/// `*out_data_len` receive a buffer and its length in bytes, to free with
/// `zarrlib_bytes_free(*out_data, *out_data_len)`, or NULL and 0 when the chunk is not stored.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zarrlib_array_read_encoded_chunk(
    array: *const zarrlib_array,
    chunk_coords: *const u64,
    ndim: usize,
    out_data: *mut *mut u8,
    out_data_len: *mut usize,
) -> i32 {
    guard(|| {
        // SAFETY: the arguments are as the header documents them (see `args`).
        let (array, coords, out_data, out_data_len) = unsafe {
            (
                handle_arg(array)?,
                slice_arg(chunk_coords, ndim, "chunk_coords")?,
                out_arg(out_data, "out_data")?,
                out_arg(out_data_len, "out_data_len")?,
            )
        };
        bytes_out_owned(array.read_encoded_chunk(coords)?, out_data, out_data_len);
        Ok(())
    })
}

/// Encode and store a whole chunk from `data` (`data_len` bytes: the full chunk shape). A chunk
/// that is entirely the fill value is erased instead, unless storing empty chunks is configured.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zarrlib_array_write_chunk(
    array: *const zarrlib_array,
    chunk_coords: *const u64,
    ndim: usize,
    data: *const c_void,
    data_len: usize,
) -> i32 {
    guard(|| {
        // SAFETY: the arguments are as the header documents them (see `args`).
        let (array, coords, data) = unsafe {
            (
                handle_arg(array)?,
                slice_arg(chunk_coords, ndim, "chunk_coords")?,
                bytes_arg(data, data_len, "data")?,
            )
        };
        array.write_chunk(coords, data)
    })
}

/// Erase the chunk at `chunk_coords`; it then reads as the fill value. Erasing a chunk that is
/// not stored succeeds.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zarrlib_array_delete_chunk(
    array: *const zarrlib_array,
    chunk_coords: *const u64,
    ndim: usize,
) -> i32 {
    guard(|| {
        // SAFETY: the arguments are as the header documents them (see `args`).
        let (array, coords) = unsafe {
            (
                handle_arg(array)?,
                slice_arg(chunk_coords, ndim, "chunk_coords")?,
            )
        };
        array.delete_chunk(coords)
    })
}

/// Decode the region starting at `start` with extent `shape` (`ndim` values each) into `out`
/// (`out_len` bytes), C-contiguous. ZARRLIB_ERR_OUT_OF_BOUNDS if the region leaves the array.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zarrlib_array_read_region(
    array: *const zarrlib_array,
    start: *const u64,
    shape: *const u64,
    ndim: usize,
    out: *mut c_void,
    out_len: usize,
) -> i32 {
    guard(|| {
        // SAFETY: the arguments are as the header documents them (see `args`).
        let (array, start, shape, out) = unsafe {
            (
                handle_arg(array)?,
                slice_arg(start, ndim, "start")?,
                slice_arg(shape, ndim, "shape")?,
                bytes_out(out, out_len, "out")?,
            )
        };
        array.read_region(start, shape, out)
    })
}

/// Write the region starting at `start` with extent `shape` from `data` (`data_len` bytes),
/// C-contiguous. Chunks the region covers only in part are read, updated and written back.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zarrlib_array_write_region(
    array: *const zarrlib_array,
    start: *const u64,
    shape: *const u64,
    ndim: usize,
    data: *const c_void,
    data_len: usize,
) -> i32 {
    guard(|| {
        // SAFETY: the arguments are as the header documents them (see `args`).
        let (array, start, shape, data) = unsafe {
            (
                handle_arg(array)?,
                slice_arg(start, ndim, "start")?,
                slice_arg(shape, ndim, "shape")?,
                bytes_arg(data, data_len, "data")?,
            )
        };
        array.write_region(start, shape, data)
    })
}

/// The axes of a strided selection: `ndim` values at each of `start`, `step` and `count`.
pub(super) unsafe fn selection_arg(
    start: *const u64,
    step: *const i64,
    count: *const u64,
    ndim: usize,
) -> Result<Vec<AxisSelection>> {
    // SAFETY: the caller passes `ndim` readable values at each pointer.
    let (start, step, count) = unsafe {
        (
            slice_arg(start, ndim, "start")?,
            slice_arg(step, ndim, "step")?,
            slice_arg(count, ndim, "count")?,
        )
    };
    Ok((0..ndim)
        .map(|axis| AxisSelection {
            start: start[axis],
            step: step[axis],
            count: count[axis],
        })
        .collect())
}

/// Decode a strided selection into `out` (`out_len` bytes): on axis `i`, the `count[i]` indices
/// `start[i]`, `start[i] + step[i]`, ... (`step[i]` non-zero, negative to run backwards), which is
/// what numpy's basic slicing selects. `out` is C-contiguous with shape `count`, elements in
/// selection order. Only chunks holding selected elements are read. ZARRLIB_ERR_OUT_OF_BOUNDS if
/// a selected index leaves the array, ZARRLIB_ERR_INVALID_ARGUMENT for a zero step.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zarrlib_array_read_selection(
    array: *const zarrlib_array,
    start: *const u64,
    step: *const i64,
    count: *const u64,
    ndim: usize,
    out: *mut c_void,
    out_len: usize,
) -> i32 {
    guard(|| {
        // SAFETY: the arguments are as the header documents them (see `args`).
        let (array, axes, out) = unsafe {
            (
                handle_arg(array)?,
                selection_arg(start, step, count, ndim)?,
                bytes_out(out, out_len, "out")?,
            )
        };
        array.read_selection(&axes, out)
    })
}

/// Write a strided selection (as in `zarrlib_array_read_selection`) from `data` (`data_len`
/// bytes). Each chunk holding selected elements is read, updated and written back under that
/// chunk's lock, so concurrent writers to one chunk never lose an update; other chunks are not
/// touched.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zarrlib_array_write_selection(
    array: *const zarrlib_array,
    start: *const u64,
    step: *const i64,
    count: *const u64,
    ndim: usize,
    data: *const c_void,
    data_len: usize,
) -> i32 {
    guard(|| {
        // SAFETY: the arguments are as the header documents them (see `args`).
        let (array, axes, data) = unsafe {
            (
                handle_arg(array)?,
                selection_arg(start, step, count, ndim)?,
                bytes_arg(data, data_len, "data")?,
            )
        };
        array.write_selection(&axes, data)
    })
}
