//! Array handle exports: open, describe, and read and write chunks and regions.
//!
//! Bulk data crosses in caller-allocated buffers of C-contiguous elements in native byte order,
//! with an explicit byte length that must match exactly (ZARRLIB_ERR_BUFFER_SIZE otherwise).

use std::ffi::{c_char, c_void};

use super::args::{
    Handle, bytes_arg, bytes_out, copy_to_out, free_handle, handle_ref, into_handle, out_arg,
    slice_arg, slice_out, str_arg, string_out,
};
use super::boundary::{guard, guard_value};
use super::store::{store_arg, zarrlib_store};
use crate::array::ArrayHandle;
use crate::error::{Error, Result};
use crate::selection::AxisSelection;

/// An open array: its metadata parsed and codec chain built once. Thread-safe: any number of
/// threads may read and write through one handle at once; writes to the same chunk are
/// serialised. The handle keeps its store alive.
pub struct zarrlib_array {
    magic: u64,
    array: ArrayHandle,
}

// The header promises thread-safe handles; raw pointers hide that from the compiler, so check it.
const _: () = {
    const fn thread_safe<T: Send + Sync>() {}
    thread_safe::<zarrlib_array>();
    thread_safe::<super::store::zarrlib_store>();
};

impl Handle for zarrlib_array {
    const MAGIC: u64 = 0x7a61_7272_4152_5259; // "zarrARRY"
    const NAME: &'static str = "array";
    fn magic(&self) -> u64 {
        self.magic
    }
}

unsafe fn array_arg<'a>(array: *const zarrlib_array) -> Result<&'a ArrayHandle> {
    unsafe { handle_ref(array) }.map(|handle| &handle.array)
}

/// Run `body` on the array argument inside the panic boundary.
unsafe fn with_array(
    array: *const zarrlib_array,
    body: impl FnOnce(&ArrayHandle) -> Result<()>,
) -> i32 {
    guard(|| body(unsafe { array_arg(array) }?))
}

fn new_handle(array: ArrayHandle) -> *mut zarrlib_array {
    into_handle(zarrlib_array {
        magic: zarrlib_array::MAGIC,
        array,
    })
}

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
        let store = unsafe { store_arg(store) }?;
        let path = unsafe { str_arg(path, "path") }?;
        let out = unsafe { out_arg(out, "out") }?;
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
        let store = unsafe { store_arg(store) }?;
        let path = unsafe { str_arg(path, "path") }?;
        let metadata = unsafe { str_arg(metadata_json, "metadata_json") }?;
        let out = unsafe { out_arg(out, "out") }?;
        *out = new_handle(ArrayHandle::open_with_metadata(
            store.clone(),
            path,
            metadata,
        )?);
        Ok(())
    })
}

/// Free an array handle. NULL is ignored.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zarrlib_array_free(array: *mut zarrlib_array) {
    guard_value((), || unsafe { free_handle(array, |h| h.magic = 0) })
}

/// Write the number of dimensions to `*out`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zarrlib_array_ndim(array: *const zarrlib_array, out: *mut usize) -> i32 {
    unsafe {
        with_array(array, |array| {
            *out_arg(out, "out")? = array.ndim();
            Ok(())
        })
    }
}

/// Write the array's shape to `out`, which holds `out_len` == ndim values.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zarrlib_array_shape(
    array: *const zarrlib_array,
    out: *mut u64,
    out_len: usize,
) -> i32 {
    unsafe {
        with_array(array, |array| {
            copy_to_out(array.shape(), slice_out(out, out_len, "out")?, "out")
        })
    }
}

/// Write the chunk shape of a regular chunk grid to `out` (`out_len` == ndim values).
/// ZARRLIB_ERR_UNSUPPORTED for other grids. Edge chunks have this full shape too.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zarrlib_array_chunk_shape(
    array: *const zarrlib_array,
    out: *mut u64,
    out_len: usize,
) -> i32 {
    unsafe {
        with_array(array, |array| {
            let out = slice_out(out, out_len, "out")?;
            copy_to_out(array.regular_chunk_shape()?, out, "out")
        })
    }
}

/// Write the number of chunks along each dimension to `out` (`out_len` == ndim values).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zarrlib_array_chunk_grid_shape(
    array: *const zarrlib_array,
    out: *mut u64,
    out_len: usize,
) -> i32 {
    unsafe {
        with_array(array, |array| {
            copy_to_out(
                array.chunk_grid_shape(),
                slice_out(out, out_len, "out")?,
                "out",
            )
        })
    }
}

/// The data type's Zarr v3 name ("uint16", "float32", "complex64", ...; v2 arrays report the
/// same names). `*out` receives a string to free with `zarrlib_string_free`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zarrlib_array_data_type(
    array: *const zarrlib_array,
    out: *mut *mut c_char,
) -> i32 {
    unsafe {
        with_array(array, |array| {
            string_out(out, "out", || Ok(array.data_type_name().to_owned()))
        })
    }
}

/// Write the size in bytes of one element to `*out`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zarrlib_array_element_size(
    array: *const zarrlib_array,
    out: *mut usize,
) -> i32 {
    unsafe {
        with_array(array, |array| {
            *out_arg(out, "out")? = array.element_size();
            Ok(())
        })
    }
}

/// Copy the fill value, one element in native byte order, into `out` (`out_len` == element size).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zarrlib_array_fill_value(
    array: *const zarrlib_array,
    out: *mut c_void,
    out_len: usize,
) -> i32 {
    unsafe {
        with_array(array, |array| {
            copy_to_out(array.fill_value(), bytes_out(out, out_len, "out")?, "out")
        })
    }
}

/// The array's metadata document as JSON. `*out_json` receives a string to free with
/// `zarrlib_string_free`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zarrlib_array_metadata(
    array: *const zarrlib_array,
    out_json: *mut *mut c_char,
) -> i32 {
    unsafe {
        with_array(array, |array| {
            string_out(out_json, "out_json", || Ok(array.metadata_json()))
        })
    }
}

/// Decode the chunk at `chunk_coords` (`ndim` values) into `out`, at its full chunk shape (edge
/// chunks included). A chunk that is not stored reads as the fill value.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zarrlib_array_read_chunk(
    array: *const zarrlib_array,
    chunk_coords: *const u64,
    ndim: usize,
    out: *mut c_void,
    out_len: usize,
) -> i32 {
    unsafe {
        with_array(array, |array| {
            let coords = slice_arg(chunk_coords, ndim, "chunk_coords")?;
            array.read_chunk(coords, bytes_out(out, out_len, "out")?)
        })
    }
}

/// Decode `num_chunks` chunks in one call, in parallel. `chunk_coords` holds `num_chunks * ndim`
/// values, one chunk's coordinates after another; the chunks land in `out` one after another in
/// that order, each at its full chunk shape.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zarrlib_array_read_chunks(
    array: *const zarrlib_array,
    chunk_coords: *const u64,
    num_chunks: usize,
    ndim: usize,
    out: *mut c_void,
    out_len: usize,
) -> i32 {
    unsafe {
        with_array(array, |array| {
            let count = num_chunks
                .checked_mul(ndim)
                .ok_or_else(|| Error::invalid_argument("num_chunks * ndim overflows"))?;
            let coords = slice_arg(chunk_coords, count, "chunk_coords")?;
            if ndim != array.ndim() {
                return Err(Error::invalid_argument(format!(
                    "ndim is {ndim}, the array has {}",
                    array.ndim()
                )));
            }
            let chunks: Vec<&[u64]> = if ndim == 0 {
                vec![&[]; num_chunks]
            } else {
                coords.chunks(ndim).collect()
            };
            array.read_chunks(&chunks, bytes_out(out, out_len, "out")?)
        })
    }
}

/// The stored (encoded) bytes of the chunk at `chunk_coords`. On success `*out_data` and
/// `*out_len` receive a buffer to free with `zarrlib_bytes_free(*out_data, *out_len)`, or NULL and
/// 0 when the chunk is not stored.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zarrlib_array_read_encoded_chunk(
    array: *const zarrlib_array,
    chunk_coords: *const u64,
    ndim: usize,
    out_data: *mut *mut u8,
    out_len: *mut usize,
) -> i32 {
    unsafe {
        with_array(array, |array| {
            let coords = slice_arg(chunk_coords, ndim, "chunk_coords")?;
            let out_data = out_arg(out_data, "out_data")?;
            let out_len = out_arg(out_len, "out_len")?;
            match array.read_encoded_chunk(coords)? {
                Some(bytes) => {
                    let boxed = bytes.into_boxed_slice();
                    *out_len = boxed.len();
                    *out_data = Box::into_raw(boxed).cast::<u8>();
                }
                None => {
                    *out_data = std::ptr::null_mut();
                    *out_len = 0;
                }
            }
            Ok(())
        })
    }
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
    unsafe {
        with_array(array, |array| {
            let coords = slice_arg(chunk_coords, ndim, "chunk_coords")?;
            array.write_chunk(coords, bytes_arg(data, data_len, "data")?)
        })
    }
}

/// Erase the chunk at `chunk_coords`; it then reads as the fill value. Erasing a chunk that is
/// not stored succeeds.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zarrlib_array_delete_chunk(
    array: *const zarrlib_array,
    chunk_coords: *const u64,
    ndim: usize,
) -> i32 {
    unsafe {
        with_array(array, |array| {
            array.delete_chunk(slice_arg(chunk_coords, ndim, "chunk_coords")?)
        })
    }
}

unsafe fn region_args<'a>(
    start: *const u64,
    shape: *const u64,
    ndim: usize,
) -> Result<(&'a [u64], &'a [u64])> {
    Ok((unsafe { slice_arg(start, ndim, "start") }?, unsafe {
        slice_arg(shape, ndim, "shape")
    }?))
}

/// Decode the region starting at `start` with extent `shape` (`ndim` values each) into `out`,
/// C-contiguous. ZARRLIB_ERR_OUT_OF_BOUNDS if the region leaves the array.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zarrlib_array_read_region(
    array: *const zarrlib_array,
    start: *const u64,
    shape: *const u64,
    ndim: usize,
    out: *mut c_void,
    out_len: usize,
) -> i32 {
    unsafe {
        with_array(array, |array| {
            let (start, shape) = region_args(start, shape, ndim)?;
            array.read_region(start, shape, bytes_out(out, out_len, "out")?)
        })
    }
}

/// Write the region starting at `start` with extent `shape` from `data`, C-contiguous. Chunks the
/// region covers only in part are read, updated and written back.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zarrlib_array_write_region(
    array: *const zarrlib_array,
    start: *const u64,
    shape: *const u64,
    ndim: usize,
    data: *const c_void,
    data_len: usize,
) -> i32 {
    unsafe {
        with_array(array, |array| {
            let (start, shape) = region_args(start, shape, ndim)?;
            array.write_region(start, shape, bytes_arg(data, data_len, "data")?)
        })
    }
}

unsafe fn selection_args(
    start: *const u64,
    step: *const i64,
    count: *const u64,
    ndim: usize,
) -> Result<Vec<AxisSelection>> {
    let start = unsafe { slice_arg(start, ndim, "start") }?;
    let step = unsafe { slice_arg(step, ndim, "step") }?;
    let count = unsafe { slice_arg(count, ndim, "count") }?;
    Ok((0..ndim)
        .map(|axis| AxisSelection {
            start: start[axis],
            step: step[axis],
            count: count[axis],
        })
        .collect())
}

/// Decode a strided selection into `out`: on axis `i`, the `count[i]` indices `start[i]`,
/// `start[i] + step[i]`, ... (`step[i]` non-zero, negative to run backwards), which is what
/// numpy's basic slicing selects. `out` is C-contiguous with shape `count`, elements in selection
/// order. Only chunks holding selected elements are read. ZARRLIB_ERR_OUT_OF_BOUNDS if a selected
/// index leaves the array, ZARRLIB_ERR_INVALID_ARGUMENT for a zero step.
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
    unsafe {
        with_array(array, |array| {
            let axes = selection_args(start, step, count, ndim)?;
            array.read_selection(&axes, bytes_out(out, out_len, "out")?)
        })
    }
}

/// Write a strided selection (as in `zarrlib_array_read_selection`) from `data`. Each chunk
/// holding selected elements is read, updated and written back under that chunk's lock, so
/// concurrent writers to one chunk never lose an update; other chunks are not touched.
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
    unsafe {
        with_array(array, |array| {
            let axes = selection_args(start, step, count, ndim)?;
            array.write_selection(&axes, bytes_arg(data, data_len, "data")?)
        })
    }
}
