//! The panic boundary and the thread-local last error.
//!
//! Since Rust 1.81 a panic unwinding out of an `extern "C"` function aborts the process, and
//! zarrs still has internal `unwrap`s, so every export runs its body through `guard` (or
//! `guard_value` for exports that return a value rather than a status).

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::ffi::CString;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Mutex, Once, PoisonError};

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

thread_local! {
    /// Whether this thread is inside an export's panic boundary.
    static IN_BOUNDARY: Cell<bool> = const { Cell::new(false) };
}

/// Where the last panic inside the engine happened ("file:line:column"): the hook records it on
/// the panicking thread, which may be a pool worker while the boundary that catches it is on
/// the caller's thread.
static LAST_PANIC_LOCATION: Mutex<Option<String>> = Mutex::new(None);

/// Install, once, a panic hook that records where engine panics happen instead of printing them
/// (the boundary reports them as ZARRLIB_ERR_PANIC with that place). Panics elsewhere in the
/// process go to the hook that was there before.
fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let on_pool = std::thread::current()
                .name()
                .is_some_and(|name| name.starts_with(crate::config::POOL_THREAD_PREFIX));
            if !(IN_BOUNDARY.get() || on_pool) {
                return previous(info);
            }
            let location = info
                .location()
                .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()));
            *LAST_PANIC_LOCATION
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = location;
        }));
    });
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    let detail = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic payload".to_owned());
    let location = LAST_PANIC_LOCATION
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take()
        .unwrap_or_else(|| "an unknown place".to_owned());
    format!("internal panic at {location} (please report it): {detail}")
}

/// Run `body` inside the panic boundary: `Err` with the panic's message if it panicked.
fn catch<T>(body: impl FnOnce() -> T) -> std::result::Result<T, String> {
    install_panic_hook();
    let outer = IN_BOUNDARY.replace(true);
    let result = catch_unwind(AssertUnwindSafe(body));
    IN_BOUNDARY.set(outer);
    result.map_err(|payload| panic_message(payload.as_ref()))
}

/// Run a fallible export body: clear the last error, catch panics, map errors to status codes.
pub(crate) fn guard(body: impl FnOnce() -> Result<()>) -> i32 {
    clear_last_error();
    match catch(body) {
        Ok(Ok(())) => ZARRLIB_OK as i32,
        Ok(Err(err)) => {
            let code = status_of(err.kind);
            set_last_error(err.message);
            code
        }
        Err(message) => {
            set_last_error(message);
            ZARRLIB_ERR_PANIC as i32
        }
    }
}

/// Run an export body that returns a value rather than a status, yielding `fallback` if it
/// panics. It leaves the last error as it was, unless it panics.
pub(crate) fn guard_value<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    catch(body).unwrap_or_else(|message| {
        set_last_error(message);
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
    fn panics_are_caught_with_where_they_happened() {
        assert_eq!(guard(|| panic!("boom")), ZARRLIB_ERR_PANIC as i32);
        let message = with_last_error(|m| String::from_utf8_lossy(m.unwrap()).into_owned());
        assert!(message.contains("boom"), "{message}");
        assert!(message.contains("boundary.rs:"), "{message}");
        assert_eq!(guard_value(7, || panic!("boom")), 7);
    }

    #[test]
    fn panics_on_the_pool_say_where_they_happened() {
        let status =
            guard(|| crate::config::run_in_pool(|| -> Result<()> { panic!("in the pool") }));
        assert_eq!(status, ZARRLIB_ERR_PANIC as i32);
        let message = with_last_error(|m| String::from_utf8_lossy(m.unwrap()).into_owned());
        assert!(message.contains("in the pool"), "{message}");
        assert!(message.contains("boundary.rs:"), "{message}");
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
