//! The panic boundary and the thread-local last error.
//!
//! Since Rust 1.81 a panic unwinding out of an `extern "C"` function aborts the process, and
//! zarrs still has internal `unwrap`s, so every export runs its body through `guard` (or
//! `guard_value` for exports that return a value rather than a status).

use std::any::Any;
use std::cell::RefCell;
use std::ffi::CString;
use std::panic::{AssertUnwindSafe, catch_unwind};

use super::status::{ZARRLIB_ERR_PANIC, ZARRLIB_OK, status_of};
use crate::error::Result;

thread_local! {
    /// The message of the last failed call on this thread, NUL-terminated for C.
    static LAST_ERROR: RefCell<Option<CString>> = const { RefCell::new(None) };
}

fn set_last_error(message: String) {
    // Interior NULs would truncate the C string silently; make them visible instead.
    let message = CString::new(message.replace('\0', "\\0")).expect("NULs were replaced");
    LAST_ERROR.with(|slot| *slot.borrow_mut() = Some(message));
}

pub(crate) fn clear_last_error() {
    LAST_ERROR.with(|slot| *slot.borrow_mut() = None);
}

/// Read the last error's bytes (without the terminating NUL).
pub(crate) fn with_last_error<T>(read: impl FnOnce(Option<&[u8]>) -> T) -> T {
    LAST_ERROR.with(|slot| read(slot.borrow().as_ref().map(|m| m.as_bytes())))
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    let detail = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic payload".to_owned());
    format!("internal panic (please report it): {detail}")
}

/// Run a fallible export body: clear the last error, catch panics, map errors to status codes.
pub(crate) fn guard(body: impl FnOnce() -> Result<()>) -> i32 {
    clear_last_error();
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => ZARRLIB_OK as i32,
        Ok(Err(err)) => {
            let code = status_of(err.kind);
            set_last_error(err.message);
            code
        }
        Err(payload) => {
            set_last_error(panic_message(payload.as_ref()));
            ZARRLIB_ERR_PANIC as i32
        }
    }
}

/// Run an infallible export body that returns a value, yielding `fallback` if it panics.
pub(crate) fn guard_value<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|payload| {
        set_last_error(panic_message(payload.as_ref()));
        fallback
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{Error, ErrorKind};
    use crate::ffi::status::*;

    #[test]
    fn errors_become_codes_and_messages() {
        assert_eq!(
            guard(|| Err(Error::new(ErrorKind::NotFound, "gone"))),
            ZARRLIB_ERR_NOT_FOUND as i32
        );
        assert_eq!(
            with_last_error(|m| m.map(<[u8]>::to_vec)),
            Some(b"gone".to_vec())
        );
        assert_eq!(guard(|| Ok(())), ZARRLIB_OK as i32);
        assert!(with_last_error(|m| m.is_none()));
    }

    #[test]
    fn panics_are_caught() {
        assert_eq!(guard(|| panic!("boom")), ZARRLIB_ERR_PANIC as i32);
        assert!(with_last_error(
            |m| String::from_utf8_lossy(m.unwrap()).contains("boom")
        ));
        assert_eq!(guard_value(7, || panic!("boom")), 7);
    }

    #[test]
    fn errors_are_per_thread() {
        guard(|| Err(Error::invalid_argument("here")));
        std::thread::spawn(|| assert!(with_last_error(|m| m.is_none())))
            .join()
            .unwrap();
        assert!(with_last_error(|m| m.is_some()));
    }
}
