//! Array exports for selections by index lists: orthogonal selections (a list of indices per
//! axis, zarr's `oindex`) and coordinate selections (a list of points, zarr's `vindex`).
//!
//! Each is one call that touches only the chunks holding selected elements. Buffers are as in
//! `array`: C-contiguous elements in native byte order with an exact byte length; the `_vlen`
//! calls of variable-length arrays move elements as `zarrlib_vlen` describes.

use std::ffi::c_void;

use super::args::{bytes_arg, bytes_out, handle_arg, new_handle, out_arg, slice_arg};
use super::array::zarrlib_array;
use super::boundary::guard;
use super::vlen::zarrlib_vlen;
use crate::error::{Error, Result};

/// The per-axis lists of an orthogonal selection: `ndim` counts, and their sum of indices.
pub(super) unsafe fn index_lists_arg<'a>(
    indices: *const u64,
    counts: *const u64,
    ndim: usize,
) -> Result<Vec<&'a [u64]>> {
    // SAFETY: the caller passes `ndim` readable counts.
    let counts = unsafe { slice_arg(counts, ndim, "counts") }?;
    let total = counts
        .iter()
        .try_fold(0usize, |acc, &n| {
            usize::try_from(n).ok().and_then(|n| acc.checked_add(n))
        })
        .ok_or_else(|| Error::invalid_argument("the sum of counts overflows"))?;
    // SAFETY: the caller passes the sum of `counts` readable indices.
    let mut rest = unsafe { slice_arg(indices, total, "indices") }?;
    Ok(counts
        .iter()
        .map(|&n| {
            let (list, tail) = rest.split_at(n as usize);
            rest = tail;
            list
        })
        .collect())
}

/// `points` points of `ndim` coordinates each, one after another.
pub(super) unsafe fn coordinates_arg<'a>(
    coords: *const u64,
    points: usize,
    ndim: usize,
) -> Result<&'a [u64]> {
    let len = points
        .checked_mul(ndim)
        .ok_or_else(|| Error::invalid_argument("points * ndim overflows"))?;
    // SAFETY: the caller passes `points * ndim` readable coordinates.
    unsafe { slice_arg(coords, len, "coords") }
}

/// Decode an orthogonal selection into `out` (`out_len` bytes): on axis `i`, the `counts[i]`
/// indices that follow those of the axes before it in `indices` (so `indices` holds the sum of
/// `counts`), in any order, repeats allowed. The selection is their outer product (numpy's
/// `a[np.ix_(...)]`, zarr's `oindex`): `out` is C-contiguous with shape `counts`, elements in
/// the lists' order. Only chunks holding selected elements are read. ZARRLIB_ERR_OUT_OF_BOUNDS
/// (naming the axis and index) if an index is outside its axis, ZARRLIB_ERR_BUFFER_SIZE if
/// `out_len` is not the selection's size.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zarrlib_array_read_orthogonal(
    array: *const zarrlib_array,
    indices: *const u64,
    counts: *const u64,
    ndim: usize,
    out: *mut c_void,
    out_len: usize,
) -> i32 {
    guard(|| {
        // SAFETY: the arguments are as the header documents them (see `args`).
        let (array, lists, out) = unsafe {
            (
                handle_arg(array)?,
                index_lists_arg(indices, counts, ndim)?,
                bytes_out(out, out_len, "out")?,
            )
        };
        array.read_orthogonal(&lists, out)
    })
}

/// Write an orthogonal selection (as in `zarrlib_array_read_orthogonal`) from `data`
/// (`data_len` bytes, laid out as that call reads). Where an index repeats on an axis, the
/// last of its entries is the one stored, as in numpy's assignment. Each chunk holding
/// selected elements is read, updated and written back under that chunk's lock; other chunks
/// are not touched.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zarrlib_array_write_orthogonal(
    array: *const zarrlib_array,
    indices: *const u64,
    counts: *const u64,
    ndim: usize,
    data: *const c_void,
    data_len: usize,
) -> i32 {
    guard(|| {
        // SAFETY: the arguments are as the header documents them (see `args`).
        let (array, lists, data) = unsafe {
            (
                handle_arg(array)?,
                index_lists_arg(indices, counts, ndim)?,
                bytes_arg(data, data_len, "data")?,
            )
        };
        array.write_orthogonal(&lists, data)
    })
}

/// Decode a coordinate selection into `out` (`out_len` bytes): `points` points of `ndim`
/// coordinates each, one point after another in `coords` (`points * ndim` values), in any
/// order, repeats allowed (numpy's `a[rows, cols]`, zarr's `vindex`). `out` holds one element
/// per point, in the order given. Points are grouped by chunk, so each chunk holding points is
/// decoded once and no other chunk is read. ZARRLIB_ERR_OUT_OF_BOUNDS (naming the point and
/// axis) if a point is outside the array, ZARRLIB_ERR_BUFFER_SIZE if `out_len` is not `points`
/// elements.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zarrlib_array_read_coordinates(
    array: *const zarrlib_array,
    coords: *const u64,
    points: usize,
    ndim: usize,
    out: *mut c_void,
    out_len: usize,
) -> i32 {
    guard(|| {
        // SAFETY: the arguments are as the header documents them (see `args`).
        let (array, coords, out) = unsafe {
            (
                handle_arg(array)?,
                coordinates_arg(coords, points, ndim)?,
                bytes_out(out, out_len, "out")?,
            )
        };
        array.read_coordinates(coords, points, ndim, out)
    })
}

/// Decode a coordinate selection given as one index list per axis into `out` (`out_len`
/// bytes): `axes` holds `ndim` pointers, each to `points` signed indices, point `p` being
/// `(axes[0][p], axes[1][p], ...)`; a negative index counts back from the end of its axis, as
/// in numpy. This is numpy's `a[rows, cols]` with the caller's integer arrays as they are:
/// no interleaving into points first. Otherwise as `zarrlib_array_read_coordinates`:
/// ZARRLIB_ERR_OUT_OF_BOUNDS (naming the index, axis and point) for an index outside its axis
/// after wrapping, ZARRLIB_ERR_BUFFER_SIZE if `out_len` is not `points` elements. The engine
/// holds a copy of the indices (`points * ndim` values) for the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zarrlib_array_read_coordinate_axes(
    array: *const zarrlib_array,
    axes: *const *const i64,
    points: usize,
    ndim: usize,
    out: *mut c_void,
    out_len: usize,
) -> i32 {
    guard(|| {
        // SAFETY: the arguments are as the header documents them (see `args`).
        let (array, axes, out) = unsafe {
            (
                handle_arg(array)?,
                axes_arg(axes, points, ndim)?,
                bytes_out(out, out_len, "out")?,
            )
        };
        array.read_coordinate_axes(&axes, points, out)
    })
}

/// `ndim` pointers to `points` indices each.
unsafe fn axes_arg<'a>(
    axes: *const *const i64,
    points: usize,
    ndim: usize,
) -> Result<Vec<&'a [i64]>> {
    // SAFETY: the caller passes `ndim` readable pointers.
    let pointers = unsafe { slice_arg(axes, ndim, "axes") }?;
    pointers
        .iter()
        .map(|&list| {
            // SAFETY: each pointer is to `points` readable indices.
            unsafe { slice_arg(list, points, "axes[i]") }
        })
        .collect()
}

/// Write a coordinate selection (as in `zarrlib_array_read_coordinates`) from `data`
/// (`data_len` bytes, one element per point). Where a point repeats, the last of its values is
/// the one stored, as in numpy's assignment. Each chunk holding points is read, updated and
/// written back under that chunk's lock; other chunks are not touched.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zarrlib_array_write_coordinates(
    array: *const zarrlib_array,
    coords: *const u64,
    points: usize,
    ndim: usize,
    data: *const c_void,
    data_len: usize,
) -> i32 {
    guard(|| {
        // SAFETY: the arguments are as the header documents them (see `args`).
        let (array, coords, data) = unsafe {
            (
                handle_arg(array)?,
                coordinates_arg(coords, points, ndim)?,
                bytes_arg(data, data_len, "data")?,
            )
        };
        array.write_coordinates(coords, points, ndim, data)
    })
}

/// Decode an orthogonal selection (as in `zarrlib_array_read_orthogonal`) of a variable-length
/// array: `*out` receives a result holding the elements in the lists' order (C order over
/// `counts`), to size, copy and free as `zarrlib_vlen` describes. Only chunks holding selected
/// elements are read.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zarrlib_array_read_orthogonal_vlen(
    array: *const zarrlib_array,
    indices: *const u64,
    counts: *const u64,
    ndim: usize,
    out: *mut *mut zarrlib_vlen,
) -> i32 {
    guard(|| {
        // SAFETY: the arguments are as the header documents them (see `args`).
        let (array, lists, out) = unsafe {
            (
                handle_arg(array)?,
                index_lists_arg(indices, counts, ndim)?,
                out_arg(out, "out")?,
            )
        };
        *out = new_handle(array.read_orthogonal_vlen(&lists)?);
        Ok(())
    })
}

/// Write an orthogonal selection (as in `zarrlib_array_read_orthogonal`) of a variable-length
/// array from `offsets` and `bytes`, elements laid out as `zarrlib_array_read_orthogonal_vlen`
/// reads them and checked as for `zarrlib_array_write_chunk_vlen` (`offsets_len` == the number
/// of selected elements + 1). Where an index repeats on an axis, the last of its entries is the
/// one stored. Each chunk holding selected elements is read (unless the selection covers it),
/// updated and written back under that chunk's lock; other chunks are not touched.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zarrlib_array_write_orthogonal_vlen(
    array: *const zarrlib_array,
    indices: *const u64,
    counts: *const u64,
    ndim: usize,
    offsets: *const u64,
    offsets_len: usize,
    bytes: *const c_void,
    bytes_len: usize,
) -> i32 {
    guard(|| {
        // SAFETY: the arguments are as the header documents them (see `args`).
        let (array, lists, offsets, bytes) = unsafe {
            (
                handle_arg(array)?,
                index_lists_arg(indices, counts, ndim)?,
                slice_arg(offsets, offsets_len, "offsets")?,
                bytes_arg(bytes, bytes_len, "bytes")?,
            )
        };
        array.write_orthogonal_vlen(&lists, offsets, bytes)
    })
}

/// Decode a coordinate selection (as in `zarrlib_array_read_coordinates`) of a variable-length
/// array: `*out` receives a result holding one element per point in the order given, to size,
/// copy and free as `zarrlib_vlen` describes. Only chunks holding points are read.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zarrlib_array_read_coordinates_vlen(
    array: *const zarrlib_array,
    coords: *const u64,
    points: usize,
    ndim: usize,
    out: *mut *mut zarrlib_vlen,
) -> i32 {
    guard(|| {
        // SAFETY: the arguments are as the header documents them (see `args`).
        let (array, coords, out) = unsafe {
            (
                handle_arg(array)?,
                coordinates_arg(coords, points, ndim)?,
                out_arg(out, "out")?,
            )
        };
        *out = new_handle(array.read_coordinates_vlen(coords, points, ndim)?);
        Ok(())
    })
}

/// Write a coordinate selection (as in `zarrlib_array_read_coordinates`) of a variable-length
/// array from `offsets` and `bytes`, one element per point (`offsets_len` == `points` + 1),
/// checked as for `zarrlib_array_write_chunk_vlen`. Where a point repeats, the last of its
/// values is the one stored. Each chunk holding points is read, updated and written back under
/// that chunk's lock; other chunks are not touched.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zarrlib_array_write_coordinates_vlen(
    array: *const zarrlib_array,
    coords: *const u64,
    points: usize,
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
                coordinates_arg(coords, points, ndim)?,
                slice_arg(offsets, offsets_len, "offsets")?,
                bytes_arg(bytes, bytes_len, "bytes")?,
            )
        };
        array.write_coordinates_vlen(coords, points, ndim, offsets, bytes)
    })
}
