//! Store handles.

use std::ffi::c_char;
use std::sync::Arc;

use super::args::{Handle, free_handle, handle_ref, into_handle, opt_str_arg, out_arg, str_arg};
use super::boundary::{guard, guard_value};
use crate::store::Store;

/// An open store. Thread-safe: any number of threads may use one store handle at once. Array
/// handles opened from it keep the store alive after `zarrlib_store_free`.
pub struct zarrlib_store {
    magic: u64,
    pub(crate) store: Arc<Store>,
}

impl Handle for zarrlib_store {
    const MAGIC: u64 = 0x7a61_7272_5354_4f52; // "zarrSTOR"
    const NAME: &'static str = "store";
    fn magic(&self) -> u64 {
        self.magic
    }
}

pub(crate) unsafe fn store_arg<'a>(
    store: *const zarrlib_store,
) -> crate::error::Result<&'a Arc<Store>> {
    unsafe { handle_ref(store) }.map(|handle| &handle.store)
}

/// Open a store. `url` is a local directory (a plain path or a `file://` URL; created on the
/// first write if missing) or `memory://` (a new, empty in-process store). `options_json` may be
/// NULL, or a JSON object of store options: for directories `{"direct_io": bool,
/// "file_handle_cache_size": integer}`. On success `*out` receives a handle to free with
/// `zarrlib_store_free`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zarrlib_store_open(
    url: *const c_char,
    options_json: *const c_char,
    out: *mut *mut zarrlib_store,
) -> i32 {
    guard(|| {
        let url = unsafe { str_arg(url, "url") }?;
        let options = unsafe { opt_str_arg(options_json, "options_json") }?;
        let out = unsafe { out_arg(out, "out") }?;
        let store = Store::open(url, options)?;
        *out = into_handle(zarrlib_store {
            magic: zarrlib_store::MAGIC,
            store: Arc::new(store),
        });
        Ok(())
    })
}

/// Free a store handle. NULL is ignored.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zarrlib_store_free(store: *mut zarrlib_store) {
    guard_value((), || unsafe { free_handle(store, |h| h.magic = 0) })
}
