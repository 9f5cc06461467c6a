//! Store handles.

use std::ffi::c_char;
use std::sync::Arc;

use super::args::{
    Handle, free_handle, handle_ref, into_handle, opt_str_arg, out_arg, str_arg, string_out,
};
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
/// NULL, or a JSON object of store options: `{"metrics": bool}` for every store (count requests
/// for `zarrlib_store_metrics`), and for directories also `{"sync": bool, "direct_io": bool,
/// "file_handle_cache_size": integer}`. A directory store writes each value to a temporary file
/// and renames it over the key, so readers see the old value or the new one, never a mix;
/// `"sync": true` also fsyncs the file and its directory before the call returns (default false,
/// as zarr-python). `direct_io` or a nonzero `file_handle_cache_size` makes writes go through
/// zarrs' store, in place and always synced (so `"sync": false` with them is an error). An
/// unknown option is ZARRLIB_ERR_INVALID_ARGUMENT. On success `*out` receives a handle to free
/// with `zarrlib_store_free`.
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

/// The request counters of a store opened with `{"metrics": true}`, as a JSON object
/// `{"reads", "bytes_read", "writes", "bytes_written", "keys_erased"}` counted since it was
/// opened (a read of a missing key counts as a read). For tests and diagnostics: to see how many
/// store requests an operation made. ZARRLIB_ERR_INVALID_ARGUMENT for a store opened without
/// the option. Free `*out_json` with `zarrlib_string_free`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zarrlib_store_metrics(
    store: *const zarrlib_store,
    out_json: *mut *mut c_char,
) -> i32 {
    guard(|| {
        let store = unsafe { store_arg(store) }?;
        unsafe { string_out(out_json, "out_json", || Ok(store.metrics()?.to_json())) }
    })
}
