//! Store handles.

use std::ffi::c_char;
use std::sync::Arc;

use super::args::{
    Handle, free_handle, handle_arg, new_handle, opt_str_arg, out_arg, str_arg, string_out,
};
use super::boundary::{guard, guard_value};
use crate::store::Store;

/// An open store. Thread-safe: any number of threads may use one store handle at once. Array
/// handles opened from it keep the store alive after `zarrlib_store_free`.
pub struct zarrlib_store {
    _private: [u8; 0],
}

impl Handle for zarrlib_store {
    type Value = Arc<Store>;
    const TAG: u64 = 0x7a61_7272_5354_4f52; // "zarrSTOR"
    const NAME: &'static str = "store";
}

// The header promises thread-safe handles; raw pointers hide that from the compiler, so check it.
const _: () = {
    const fn thread_safe<T: Send + Sync>() {}
    thread_safe::<Arc<Store>>();
};

/// Open a store. `url` is a local directory (a plain path or a `file://` URL; created on the
/// first write if missing), `memory://` (a new, empty in-process store), or an object store:
/// `s3://bucket[/prefix]`, `gs://bucket[/prefix]`, `az://container[/prefix]` (also `abfs://`),
/// or `http(s)://host[/path]` (read-only, and it cannot list: listing is
/// ZARRLIB_ERR_UNSUPPORTED). A path or `file://` URL naming an existing file opens it as a zip
/// file, read-only; `zip+URL` opens a zip file held in any store (`zip+s3://bucket/a.zip`,
/// `zip+https://host/a.zip`), the options going to that store. `options_json` may be NULL, or a JSON object of store options:
/// `{"metrics": bool}` for every store (count requests for `zarrlib_store_metrics`),
/// `{"read_only": bool}` for every store (writes fail with ZARRLIB_ERR_READ_ONLY), and for
/// directories also `{"sync": bool, "process_locks": bool, "direct_io": bool,
/// "file_handle_cache_size": integer}`. A directory store writes each value (chunks and
/// metadata documents) to a temporary file and renames it over the key, so readers, and a
/// writer killed mid-write, leave the old value or the new one, never a mix; listings skip the
/// temporary files a killed writer leaves, which go with their node. `"sync": true` also fsyncs
/// the file and its directory (and directories it creates) before the call returns (default
/// false, as zarr-python). `"process_locks": true` takes each chunk lock in an advisory lock
/// file in the array's directory too (`.zarrlib.lock`), so partial writes to one chunk from
/// different processes are serialised as those from threads are; without it they may lose
/// updates. `direct_io` or a nonzero `file_handle_cache_size` makes writes go through zarrs'
/// store, in place (not atomic) and always synced (so `"sync": false` with them is an error). Object stores take object_store's
/// configuration keys in snake_case (for S3: `endpoint`, `region`, `access_key_id`,
/// `secret_access_key`, `session_token`, `allow_http`, `skip_signature`; for every kind:
/// `timeout`, a duration such as "30s"), plus `retries` (a count, default 3) and
/// `retry_timeout` (default "30s"); settings they leave out come from the environment (`AWS_*`,
/// `GOOGLE_*`, `AZURE_*`). Opening makes no request. An unknown option is
/// ZARRLIB_ERR_INVALID_ARGUMENT. On success `*out` receives a handle to free with
/// `zarrlib_store_free`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zarrlib_store_open(
    url: *const c_char,
    options_json: *const c_char,
    out: *mut *mut zarrlib_store,
) -> i32 {
    guard(|| {
        // SAFETY: the arguments are as the header documents them (see `args`).
        let (url, options, out) = unsafe {
            (
                str_arg(url, "url")?,
                opt_str_arg(options_json, "options_json")?,
                out_arg(out, "out")?,
            )
        };
        *out = new_handle(Arc::new(Store::open(url, options)?));
        Ok(())
    })
}

/// Free a store handle. NULL is ignored, and so is a pointer that is not a live store handle.
/// Does not change the last error.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zarrlib_store_free(store: *mut zarrlib_store) {
    // SAFETY: the caller gives up the handle; `free_handle` checks it first.
    guard_value((), || unsafe { free_handle(store) })
}

/// The request counters of a store opened with `{"metrics": true}`, as a JSON object
/// `{"reads", "bytes_read", "writes", "bytes_written", "keys_erased", "lists"}` counted since it was
/// opened (a read of a missing key counts as a read). For tests and diagnostics: to see how many
/// store requests an operation made. ZARRLIB_ERR_INVALID_ARGUMENT for a store opened without
/// the option. Free `*out_json` with `zarrlib_string_free`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zarrlib_store_metrics(
    store: *const zarrlib_store,
    out_json: *mut *mut c_char,
) -> i32 {
    guard(|| {
        // SAFETY: the arguments are as the header documents them (see `args`).
        let (store, out) = unsafe { (handle_arg(store)?, out_arg(out_json, "out_json")?) };
        string_out(out, store.metrics()?.to_json())
    })
}
