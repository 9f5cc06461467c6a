//! Library-wide exports: version, status names, the last error, settings, and freeing what the
//! library hands out.

use std::ffi::{CString, c_char};

use super::args::out_arg;
use super::boundary::{guard, guard_value, with_last_error};
use super::status::status_name;
use crate::config;

/// The version of the zarrlib C ABI this header describes. `zarrlib_version()` returns the same
/// string for the library actually loaded.
pub const ZARRLIB_VERSION_MAJOR: u32 = 0;
pub const ZARRLIB_VERSION_MINOR: u32 = 1;
pub const ZARRLIB_VERSION_PATCH: u32 = 0;

/// The library's version, "MAJOR.MINOR.PATCH"; a static string, never freed.
#[unsafe(no_mangle)]
pub extern "C" fn zarrlib_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// The name of a status code ("ZARRLIB_ERR_NOT_FOUND"), or "ZARRLIB_UNKNOWN_STATUS"; a static
/// string, never freed.
#[unsafe(no_mangle)]
pub extern "C" fn zarrlib_status_name(status: i32) -> *const c_char {
    status_name(status).as_ptr().cast()
}

/// The size in bytes of a buffer that holds the last error message of this thread with its
/// terminating NUL, or 0 when the last call on this thread succeeded.
#[unsafe(no_mangle)]
pub extern "C" fn zarrlib_last_error_length() -> usize {
    guard_value(0, || with_last_error(|m| m.map_or(0, |m| m.len() + 1)))
}

/// Copy the last error message of this thread into `buffer` (`buffer_len` bytes), truncated at a
/// character boundary if it does not fit, and always NUL-terminated when `buffer_len > 0`.
/// Returns the number of bytes written, not counting the NUL. Does not change the last error.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zarrlib_last_error_message(
    buffer: *mut c_char,
    buffer_len: usize,
) -> usize {
    guard_value(0, || {
        if buffer.is_null() || buffer_len == 0 {
            return 0;
        }
        with_last_error(|message| {
            let message = message.unwrap_or_default();
            let mut n = message.len().min(buffer_len - 1);
            // Back off to a UTF-8 character boundary (continuation bytes are 0b10xxxxxx).
            while n > 0 && n < message.len() && (message[n] & 0xC0) == 0x80 {
                n -= 1;
            }
            // SAFETY: `buffer` has room for `buffer_len` > n bytes.
            unsafe {
                std::ptr::copy_nonoverlapping(message.as_ptr(), buffer.cast::<u8>(), n);
                *buffer.add(n) = 0;
            }
            n
        })
    })
}

/// Free a string the library returned. NULL is ignored. Does not change the last error.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zarrlib_string_free(string: *mut c_char) {
    guard_value((), || {
        if !string.is_null() {
            // SAFETY: the string came from `CString::into_raw` in this library.
            drop(unsafe { CString::from_raw(string) });
        }
    })
}

/// Free a byte buffer the library returned, passing the length it was returned with. NULL is
/// ignored. Does not change the last error.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zarrlib_bytes_free(data: *mut u8, data_len: usize) {
    guard_value((), || {
        if !data.is_null() {
            // SAFETY: the buffer came from a boxed slice of `data_len` bytes in this library.
            drop(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(data, data_len)) });
        }
    })
}

/// Size the engine's thread pool: `threads` worker threads, or one per CPU when 0. Calls already
/// running finish on the pool they started on.
#[unsafe(no_mangle)]
pub extern "C" fn zarrlib_config_set_thread_count(threads: usize) -> i32 {
    guard(|| config::set_thread_count(threads))
}

/// Write the number of threads in the engine's pool to `*out`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zarrlib_config_thread_count(out: *mut usize) -> i32 {
    guard(|| {
        // SAFETY: `out` is NULL or points at a writable `size_t`, as the header documents.
        let out = unsafe { out_arg(out, "out") }?;
        *out = config::thread_count()?;
        Ok(())
    })
}

/// Size the pool that calls on stores waiting on every request (object stores, zip files in
/// them, callback stores) run on: `threads` threads, each holding one request in flight, or 32
/// when 0. Calls already running finish on the pool they started on.
#[unsafe(no_mangle)]
pub extern "C" fn zarrlib_config_set_io_thread_count(threads: usize) -> i32 {
    guard(|| config::set_io_thread_count(threads))
}

/// Write the number of threads in the pool for stores that wait on requests to `*out`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zarrlib_config_io_thread_count(out: *mut usize) -> i32 {
    guard(|| {
        // SAFETY: `out` is NULL or points at a writable `size_t`, as the header documents.
        let out = unsafe { out_arg(out, "out") }?;
        *out = config::io_thread_count()?;
        Ok(())
    })
}

/// How many chunks and codec tasks one call may run at once; 0 (the default) means the number of
/// threads in the pool.
#[unsafe(no_mangle)]
pub extern "C" fn zarrlib_config_set_concurrent_target(target: usize) -> i32 {
    guard(|| {
        config::set_concurrent_target(target);
        Ok(())
    })
}

/// The concurrency target set with `zarrlib_config_set_concurrent_target` (0: the number of
/// threads in the pool).
#[unsafe(no_mangle)]
pub extern "C" fn zarrlib_config_concurrent_target() -> usize {
    guard_value(0, config::concurrent_target)
}

/// Whether decoding verifies checksums (crc32c and the like); default true.
#[unsafe(no_mangle)]
pub extern "C" fn zarrlib_config_set_validate_checksums(validate: bool) -> i32 {
    guard(|| {
        config::set_validate_checksums(validate);
        Ok(())
    })
}

/// Whether decoding verifies checksums (see `zarrlib_config_set_validate_checksums`).
#[unsafe(no_mangle)]
pub extern "C" fn zarrlib_config_validate_checksums() -> bool {
    guard_value(true, config::validate_checksums)
}

/// Whether a written chunk that is entirely the fill value is stored (true) or erased (false,
/// the default).
#[unsafe(no_mangle)]
pub extern "C" fn zarrlib_config_set_store_empty_chunks(store: bool) -> i32 {
    guard(|| {
        config::set_store_empty_chunks(store);
        Ok(())
    })
}

/// Whether written chunks that are entirely the fill value are stored (see
/// `zarrlib_config_set_store_empty_chunks`).
#[unsafe(no_mangle)]
pub extern "C" fn zarrlib_config_store_empty_chunks() -> bool {
    guard_value(false, config::store_empty_chunks)
}

/// The largest chunk, in bytes, a call decodes or encodes whole (default 2 GiB). A write to an
/// array whose chunks are larger, or a read of one that would decode such a chunk (for a
/// sharded array read by inner chunk, an inner chunk), fails with `ZARRLIB_ERR_UNSUPPORTED`
/// before allocating anything: chunk shapes come from metadata, which may be hostile, and an
/// allocation that fails aborts the process.
#[unsafe(no_mangle)]
pub extern "C" fn zarrlib_config_set_max_chunk_bytes(bytes: u64) -> i32 {
    guard(|| {
        config::set_max_chunk_bytes(bytes);
        Ok(())
    })
}

/// The limit set with `zarrlib_config_set_max_chunk_bytes`.
#[unsafe(no_mangle)]
pub extern "C" fn zarrlib_config_max_chunk_bytes() -> u64 {
    guard_value(config::DEFAULT_MAX_CHUNK_BYTES, config::max_chunk_bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_constants_match_the_crate() {
        let version =
            format!("{ZARRLIB_VERSION_MAJOR}.{ZARRLIB_VERSION_MINOR}.{ZARRLIB_VERSION_PATCH}");
        assert_eq!(version, env!("CARGO_PKG_VERSION"));
        // SAFETY: `zarrlib_version` returns a static NUL-terminated string.
        let c = unsafe { std::ffi::CStr::from_ptr(zarrlib_version()) };
        assert_eq!(c.to_str().unwrap(), version);
    }
}
