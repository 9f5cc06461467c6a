//! Resize exports: a stored array given a new shape, by resizing or by appending along an axis.
//! Handles describe one shape for life, so each call returns a new handle for the new shape.

use std::ffi::c_void;

use super::args::{bytes_arg, handle_arg, new_handle, out_arg, slice_arg};
use super::array::zarrlib_array;
use super::boundary::guard;

/// Resize the array to `shape` (`ndim` values, the array's dimension count): any axis may grow
/// or shrink. Chunks wholly outside the new shape are erased and stored chunks partly outside it
/// are cleared beyond it, so growing again reads the fill value there. The new metadata is
/// written so that a reader never sees data it should not: when growing, after clearing what the
/// new shape shows; when shrinking, before erasing. `*out` receives a handle for the new shape (to
/// free with `zarrlib_array_free`); `array` keeps describing the old one. Regular chunk grids
/// only (ZARRLIB_ERR_UNSUPPORTED otherwise).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zarrlib_array_resize(
    array: *const zarrlib_array,
    shape: *const u64,
    ndim: usize,
    out: *mut *mut zarrlib_array,
) -> i32 {
    guard(|| {
        // SAFETY: the arguments are as the header documents them (see `args`).
        let (array, shape, out) = unsafe {
            (
                handle_arg(array)?,
                slice_arg(shape, ndim, "shape")?,
                out_arg(out, "out")?,
            )
        };
        *out = new_handle(array.resize(shape)?);
        Ok(())
    })
}

/// Append `data` (`data_len` bytes), a C-contiguous block of `shape` (`ndim` values), along
/// `axis`: the array grows by `shape[axis]` on that axis, and `shape` equals the array's shape
/// on every other axis (ZARRLIB_ERR_INVALID_ARGUMENT otherwise). The data is written before the
/// metadata that shows it, so a reader sees the old array or the whole new one. `*out` receives
/// a handle for the grown array (to free with `zarrlib_array_free`); `array` keeps describing the
/// old one.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zarrlib_array_append(
    array: *const zarrlib_array,
    axis: usize,
    shape: *const u64,
    ndim: usize,
    data: *const c_void,
    data_len: usize,
    out: *mut *mut zarrlib_array,
) -> i32 {
    guard(|| {
        // SAFETY: the arguments are as the header documents them (see `args`).
        let (array, shape, data, out) = unsafe {
            (
                handle_arg(array)?,
                slice_arg(shape, ndim, "shape")?,
                bytes_arg(data, data_len, "data")?,
                out_arg(out, "out")?,
            )
        };
        *out = new_handle(array.append(axis, shape, data)?);
        Ok(())
    })
}
