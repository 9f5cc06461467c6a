//! Turning C arguments into safe Rust values, with an error for every way they can be wrong.

use std::ffi::{CStr, c_char, c_void};

use crate::error::{Error, ErrorKind, Result};

pub(crate) fn null(name: &str) -> Error {
    Error::invalid_argument(format!("{name} is NULL"))
}

/// A required NUL-terminated UTF-8 string.
pub(crate) unsafe fn str_arg<'a>(ptr: *const c_char, name: &str) -> Result<&'a str> {
    if ptr.is_null() {
        return Err(null(name));
    }
    // SAFETY: the caller passes a NUL-terminated string that outlives the call.
    let text = unsafe { CStr::from_ptr(ptr) };
    text.to_str()
        .map_err(|_| Error::invalid_argument(format!("{name} is not valid UTF-8")))
}

/// An optional string: NULL means absent.
pub(crate) unsafe fn opt_str_arg<'a>(ptr: *const c_char, name: &str) -> Result<Option<&'a str>> {
    if ptr.is_null() {
        Ok(None)
    } else {
        unsafe { str_arg(ptr, name) }.map(Some)
    }
}

/// `len` values at `ptr`; NULL is allowed only when `len` is 0.
pub(crate) unsafe fn slice_arg<'a, T>(ptr: *const T, len: usize, name: &str) -> Result<&'a [T]> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(null(name));
    }
    if !ptr.is_aligned() {
        return Err(Error::invalid_argument(format!(
            "{name} is not aligned for its element type"
        )));
    }
    // SAFETY: the caller passes `len` readable values at `ptr`.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// A caller-owned output array of `len` values.
pub(crate) unsafe fn slice_out<'a, T>(ptr: *mut T, len: usize, name: &str) -> Result<&'a mut [T]> {
    if len == 0 {
        return Ok(&mut []);
    }
    if ptr.is_null() {
        return Err(null(name));
    }
    if !ptr.is_aligned() {
        return Err(Error::invalid_argument(format!(
            "{name} is not aligned for its element type"
        )));
    }
    // SAFETY: the caller passes `len` writable values at `ptr`, not aliased during the call.
    Ok(unsafe { std::slice::from_raw_parts_mut(ptr, len) })
}

pub(crate) unsafe fn bytes_arg<'a>(ptr: *const c_void, len: usize, name: &str) -> Result<&'a [u8]> {
    unsafe { slice_arg(ptr.cast::<u8>(), len, name) }
}

pub(crate) unsafe fn bytes_out<'a>(
    ptr: *mut c_void,
    len: usize,
    name: &str,
) -> Result<&'a mut [u8]> {
    unsafe { slice_out(ptr.cast::<u8>(), len, name) }
}

/// A required output location, checked before any work is done and written only on success.
pub(crate) unsafe fn out_arg<'a, T>(ptr: *mut T, name: &str) -> Result<&'a mut T> {
    // SAFETY: non-NULL output pointers point at writable storage for one `T`.
    unsafe { ptr.as_mut() }.ok_or_else(|| null(name))
}

/// Fill a caller's array of exactly the right length.
pub(crate) fn copy_to_out<T: Copy>(values: &[T], out: &mut [T], name: &str) -> Result<()> {
    if out.len() != values.len() {
        return Err(Error::new(
            ErrorKind::BufferSize,
            format!(
                "{name} holds {} values, {} are needed",
                out.len(),
                values.len()
            ),
        ));
    }
    out.copy_from_slice(values);
    Ok(())
}

/// Hand a string to the caller through `out`, who frees it with `zarrlib_string_free`.
pub(crate) unsafe fn string_out(
    out: *mut *mut c_char,
    name: &str,
    text: impl FnOnce() -> Result<String>,
) -> Result<()> {
    let out = unsafe { out_arg(out, name) }?;
    let text = std::ffi::CString::new(text()?)
        .map_err(|_| Error::new(ErrorKind::Internal, "string holds a NUL byte"))?;
    *out = text.into_raw();
    Ok(())
}

/// A handle type: a magic tag at the start lets a wrong or freed pointer be caught (often).
pub(crate) trait Handle {
    const MAGIC: u64;
    const NAME: &'static str;
    fn magic(&self) -> u64;
}

pub(crate) unsafe fn handle_ref<'a, H: Handle>(ptr: *const H) -> Result<&'a H> {
    if ptr.is_null() {
        return Err(null(H::NAME));
    }
    if !ptr.is_aligned() {
        return Err(Error::new(
            ErrorKind::InvalidHandle,
            format!("{} is not a valid handle", H::NAME),
        ));
    }
    // SAFETY: a non-NULL handle pointer came from this library and has not been freed.
    let handle = unsafe { &*ptr };
    if handle.magic() != H::MAGIC {
        return Err(Error::new(
            ErrorKind::InvalidHandle,
            format!("{} is not a live {} handle", H::NAME, H::NAME),
        ));
    }
    Ok(handle)
}

/// Box a handle for the caller.
pub(crate) fn into_handle<H>(handle: H) -> *mut H {
    Box::into_raw(Box::new(handle))
}

/// Free a handle; NULL and handles that fail the tag check are ignored.
pub(crate) unsafe fn free_handle<H: Handle>(ptr: *mut H, clear_magic: impl FnOnce(&mut H)) {
    if ptr.is_null() || !ptr.is_aligned() {
        return;
    }
    // SAFETY: as in `handle_ref`; the caller gives up the handle with this call.
    let handle = unsafe { &mut *ptr };
    if handle.magic() != H::MAGIC {
        return;
    }
    clear_magic(handle);
    drop(unsafe { Box::from_raw(ptr) });
}
