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
        // SAFETY: as for `str_arg`, now that `ptr` is not NULL.
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
    // SAFETY: the caller passes `len` readable bytes at `ptr`.
    unsafe { slice_arg(ptr.cast::<u8>(), len, name) }
}

pub(crate) unsafe fn bytes_out<'a>(
    ptr: *mut c_void,
    len: usize,
    name: &str,
) -> Result<&'a mut [u8]> {
    // SAFETY: the caller passes `len` writable bytes at `ptr`, not aliased during the call.
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

/// `num_chunks` chunk coordinates of `ndim` values each, one chunk after another at `ptr`.
pub(crate) unsafe fn chunk_list_arg<'a>(
    ptr: *const u64,
    num_chunks: usize,
    ndim: usize,
    name: &str,
) -> Result<Vec<&'a [u64]>> {
    let count = num_chunks
        .checked_mul(ndim)
        .ok_or_else(|| Error::invalid_argument(format!("{name}: num_chunks * ndim overflows")))?;
    // SAFETY: the caller passes `num_chunks * ndim` readable values at `ptr`.
    let coords = unsafe { slice_arg(ptr, count, name) }?;
    Ok(if ndim == 0 {
        vec![&[]; num_chunks]
    } else {
        coords.chunks(ndim).collect()
    })
}

/// Hand a byte buffer (or NULL and 0 for `None`) to the caller through `out_data` and
/// `out_data_len`; the caller frees it with `zarrlib_bytes_free`.
pub(crate) fn bytes_out_owned(
    bytes: Option<Vec<u8>>,
    out_data: &mut *mut u8,
    out_data_len: &mut usize,
) {
    match bytes {
        // An empty value keeps a non-NULL (dangling) pointer: it is stored, with no bytes.
        Some(bytes) => {
            let boxed = bytes.into_boxed_slice();
            *out_data_len = boxed.len();
            *out_data = Box::into_raw(boxed).cast::<u8>();
        }
        None => {
            *out_data = std::ptr::null_mut();
            *out_data_len = 0;
        }
    }
}

/// Hand a string to the caller through `out`, who frees it with `zarrlib_string_free`.
pub(crate) fn string_out(out: &mut *mut c_char, text: String) -> Result<()> {
    let text = std::ffi::CString::new(text)
        .map_err(|_| Error::new(ErrorKind::Internal, "string holds a NUL byte"))?;
    *out = text.into_raw();
    Ok(())
}

/// A handle as the library allocates it: a tag naming its kind, then the value. `#[repr(C)]`
/// puts the tag first in every kind of handle, so the tag of any pointer to a live handle can be
/// read before the pointer is trusted to be of the kind a function expects.
#[repr(C)]
pub(crate) struct Tagged<T> {
    tag: u64,
    value: T,
}

/// A handle type of the C ABI: an opaque type standing for `Tagged<Self::Value>`.
pub(crate) trait Handle {
    type Value;
    /// Nonzero and distinct per kind; a freed handle's tag is set to 0.
    const TAG: u64;
    const NAME: &'static str;
}

fn invalid_handle<H: Handle>() -> Error {
    Error::new(
        ErrorKind::InvalidHandle,
        format!("the {} argument is not a live {} handle", H::NAME, H::NAME),
    )
}

/// Check a pointer is a live handle of kind `H` and borrow its value. Detected: NULL, a
/// misaligned pointer, and a live handle of another kind. A freed handle is usually detected (its
/// tag is cleared) but its memory may have been reused: using one is the caller's error.
pub(crate) unsafe fn handle_arg<'a, H: Handle>(ptr: *const H) -> Result<&'a H::Value> {
    if ptr.is_null() {
        return Err(null(H::NAME));
    }
    let tagged = ptr.cast::<Tagged<H::Value>>();
    if !tagged.is_aligned() {
        return Err(invalid_handle::<H>());
    }
    // SAFETY: a pointer the library handed out points at a `Tagged` value whose first field is a
    // `u64` tag, whatever its kind; reading the tag alone forms no reference to the value.
    let tag = unsafe { std::ptr::addr_of!((*tagged).tag).read() };
    if tag != H::TAG {
        return Err(invalid_handle::<H>());
    }
    // SAFETY: the tag says this is a live handle of kind `H`, so it holds a `H::Value`.
    Ok(unsafe { &(*tagged).value })
}

impl<T> Tagged<T> {
    /// A handle of kind `H` the engine owns and lends to the host for one callback, at a stable
    /// address (the engine's stack); `take` ends the loan.
    pub(crate) fn lent<H: Handle<Value = T>>(value: T) -> Self {
        Self { tag: H::TAG, value }
    }

    /// The pointer a callback receives.
    pub(crate) fn as_handle<H: Handle<Value = T>>(&mut self) -> *mut H {
        std::ptr::from_mut(self).cast()
    }

    /// End the loan: the handle's tag is cleared in place, so a host that kept the pointer past
    /// its callback is caught while the memory has not been reused, and the value comes back.
    pub(crate) fn take(&mut self) -> T
    where
        T: Default,
    {
        // SAFETY: a write to a field of a value borrowed mutably here; volatile so that it is
        // not elided as a dead store.
        unsafe { std::ptr::addr_of_mut!(self.tag).write_volatile(0) };
        std::mem::take(&mut self.value)
    }
}

/// Box a value as a handle of kind `H` for the caller.
pub(crate) fn new_handle<H: Handle>(value: H::Value) -> *mut H {
    Box::into_raw(Box::new(Tagged { tag: H::TAG, value })).cast()
}

/// Free a handle; NULL and pointers that are not a live handle of kind `H` are ignored.
pub(crate) unsafe fn free_handle<H: Handle>(ptr: *mut H) {
    // SAFETY: as for `handle_arg`; the caller gives up the handle with this call.
    if unsafe { handle_arg(ptr.cast_const()) }.is_err() {
        return;
    }
    let tagged = ptr.cast::<Tagged<H::Value>>();
    // SAFETY: `handle_arg` found a live handle of kind `H`, which `new_handle` boxed. The tag is
    // cleared first (a volatile write, which the free cannot elide) so a later use of this
    // pointer is caught while the memory has not been reused.
    unsafe {
        std::ptr::addr_of_mut!((*tagged).tag).write_volatile(0);
        drop(Box::from_raw(tagged));
    }
}
