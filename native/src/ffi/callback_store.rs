//! Stores made of the host's callbacks: any storage a host language has (a dict, a zarr-python
//! store, a database) serves the engine through a table of function pointers.
//!
//! The engine calls them from its own threads, concurrently. Values reach the engine through a
//! sink: a buffer the engine owns and lends to one callback, which appends to it with
//! `zarrlib_sink_write`, so a callback never allocates memory the engine must free.

use std::cell::RefCell;
use std::ffi::{CStr, CString, c_char, c_void};
use std::sync::Arc;

use zarrs::storage::byte_range::{ByteRange, ByteRangeIterator, InvalidByteRangeError};
use zarrs::storage::{
    Bytes, ListableStorageTraits, MaybeBytes, MaybeBytesIterator, OffsetBytesIterator,
    ReadableStorageTraits, StorageError, StoreKey, StoreKeys, StoreKeysPrefixes, StorePrefix,
    WritableStorageTraits, store_set_partial_many,
};

use super::args::{Handle, Tagged, bytes_arg, handle_arg, new_handle, opt_str_arg, out_arg};
use super::boundary::guard;
use super::status::{ZARRLIB_ERR_NOT_FOUND, ZARRLIB_ERR_READ_ONLY, ZARRLIB_OK, status_name};
use super::store::zarrlib_store;
use crate::error::Error;
use crate::store::Store;

/// A buffer the engine lends to one callback; the callback appends bytes to it with
/// `zarrlib_sink_write`. Valid only during that callback.
pub struct zarrlib_sink {
    _private: [u8; 0],
}

impl Handle for zarrlib_sink {
    type Value = RefCell<Vec<u8>>;
    const TAG: u64 = 0x7a61_7272_5349_4e4b; // "zarrSINK"
    const NAME: &'static str = "sink";
}

/// A store's callbacks. Every callback gets `user_data` first and returns a status:
/// `ZARRLIB_OK`; `ZARRLIB_ERR_NOT_FOUND` from `get` and `size` for a key that has no value;
/// any other status for a failure, whose message the callback may give with
/// `zarrlib_callback_error` (it reaches the caller's last error). Keys and prefixes are
/// NUL-terminated UTF-8, valid during the call; prefixes are empty (the whole store) or end with
/// `/`. Callbacks must be safe to call from several threads at once.
#[repr(C)]
pub struct zarrlib_store_callbacks {
    /// Passed to every callback; the engine never reads it.
    pub user_data: *mut c_void,
    /// Required. Append the bytes of `key`'s value from `offset`, `length` of them
    /// (`length == UINT64_MAX`: to the end of the value), to `sink`. A range past the value's
    /// end is an error.
    pub get: Option<
        unsafe extern "C" fn(
            user_data: *mut c_void,
            key: *const c_char,
            offset: u64,
            length: u64,
            sink: *mut zarrlib_sink,
        ) -> i32,
    >,
    /// Optional: write the size in bytes of `key`'s value to `*out_size`. Without it, a size is
    /// found by getting the whole value.
    pub size: Option<
        unsafe extern "C" fn(user_data: *mut c_void, key: *const c_char, out_size: *mut u64) -> i32,
    >,
    /// Store `data_len` bytes at `data` as `key`'s value, replacing any. With `erase` and
    /// `erase_prefix`, all three or none: none makes the store read-only (writes fail with
    /// `ZARRLIB_ERR_READ_ONLY`).
    pub set: Option<
        unsafe extern "C" fn(
            user_data: *mut c_void,
            key: *const c_char,
            data: *const u8,
            data_len: usize,
        ) -> i32,
    >,
    /// Remove `key`'s value; a key without one is not an error.
    pub erase: Option<unsafe extern "C" fn(user_data: *mut c_void, key: *const c_char) -> i32>,
    /// Remove every value whose key starts with `prefix`.
    pub erase_prefix:
        Option<unsafe extern "C" fn(user_data: *mut c_void, prefix: *const c_char) -> i32>,
    /// Optional: append to `sink` the keys under `prefix`, each followed by a NUL byte. With
    /// `one_level`, only what lies directly under it: keys, and the sub-prefixes (ending with
    /// `/`) holding deeper keys, each once. Without this callback the store cannot list, and
    /// listing fails with `ZARRLIB_ERR_UNSUPPORTED`.
    pub list: Option<
        unsafe extern "C" fn(
            user_data: *mut c_void,
            prefix: *const c_char,
            one_level: bool,
            sink: *mut zarrlib_sink,
        ) -> i32,
    >,
    /// Optional: called once, with `user_data`, after the store and every array handle made
    /// from it are freed (or when `zarrlib_store_from_callbacks` fails).
    pub destroy: Option<unsafe extern "C" fn(user_data: *mut c_void)>,
}

thread_local! {
    /// The message a failing callback gave on this thread, taken when the callback returns.
    static CALLBACK_ERROR: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Append `data_len` bytes at `data` to `sink`, from inside the callback the sink was lent to.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zarrlib_sink_write(
    sink: *mut zarrlib_sink,
    data: *const c_void,
    data_len: usize,
) -> i32 {
    guard(|| {
        // SAFETY: the arguments are as the header documents them (see `args`).
        let (sink, data) = unsafe { (handle_arg(sink)?, bytes_arg(data, data_len, "data")?) };
        sink.borrow_mut().extend_from_slice(data);
        Ok(())
    })
}

/// From inside a callback about to return a failure: the message that explains it (copied;
/// NULL clears it). It becomes part of the last error of the call the failure ends.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zarrlib_callback_error(message: *const c_char) {
    let text = if message.is_null() {
        None
    } else {
        // SAFETY: a non-NULL `message` is a NUL-terminated string, as the header documents.
        Some(
            unsafe { CStr::from_ptr(message) }
                .to_string_lossy()
                .into_owned(),
        )
    };
    CALLBACK_ERROR.with_borrow_mut(|slot| *slot = text);
}

/// Make a store whose I/O the host's `callbacks` do (copied: the struct need not outlive the
/// call). `options_json` may be NULL, or take `metrics` and `read_only` as for
/// `zarrlib_store_open`. `get` is required; `set`, `erase` and `erase_prefix` come all three or
/// none. On success `*out` receives a handle to free with `zarrlib_store_free`; on failure the
/// `destroy` callback has been called.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zarrlib_store_from_callbacks(
    callbacks: *const zarrlib_store_callbacks,
    options_json: *const c_char,
    out: *mut *mut zarrlib_store,
) -> i32 {
    guard(|| {
        if callbacks.is_null() {
            return Err(super::args::null("callbacks"));
        }
        // SAFETY: a non-NULL `callbacks` points at a struct as the header documents; it is
        // copied before anything else can fail, so `destroy` runs exactly once from here on.
        let storage = CallbackStorage(unsafe { std::ptr::read(callbacks) });
        // SAFETY: the arguments are as the header documents them (see `args`).
        let (options, out) = unsafe {
            (
                opt_str_arg(options_json, "options_json")?,
                out_arg(out, "out")?,
            )
        };
        let c = &storage.0;
        if c.get.is_none() {
            return Err(Error::invalid_argument("the get callback is required"));
        }
        let writes = [c.set.is_some(), c.erase.is_some(), c.erase_prefix.is_some()];
        if writes.contains(&true) && writes.contains(&false) {
            return Err(Error::invalid_argument(
                "the set, erase and erase_prefix callbacks come all three or none",
            ));
        }
        let store = Store::from_storage(Arc::new(storage), options)?;
        *out = new_handle(Arc::new(store));
        Ok(())
    })
}

/// The host's callbacks as a zarrs store. Dropped with the last store or array handle using
/// it, which calls `destroy`.
struct CallbackStorage(zarrlib_store_callbacks);

// SAFETY: the header requires callbacks that are safe to call from any thread at once, and
// `user_data` is only ever handed back to them.
unsafe impl Send for CallbackStorage {}
// SAFETY: as for `Send`.
unsafe impl Sync for CallbackStorage {}

impl Drop for CallbackStorage {
    fn drop(&mut self) {
        if let Some(destroy) = self.0.destroy {
            // SAFETY: the host's destroy callback, called once, with its own user_data.
            unsafe { destroy(self.0.user_data) }
        }
    }
}

type StorageResult<T> = std::result::Result<T, StorageError>;

fn c_string(text: &str) -> StorageResult<CString> {
    CString::new(text).map_err(|_| StorageError::Other(format!("key {text:?} holds a NUL byte")))
}

/// What a callback's status means: done, not found, or a failure with its message.
fn outcome(callback: &str, status: i32) -> StorageResult<bool> {
    let message = CALLBACK_ERROR.with_borrow_mut(Option::take);
    match status {
        s if s == ZARRLIB_OK as i32 => Ok(true),
        s if s == ZARRLIB_ERR_NOT_FOUND as i32 => Ok(false),
        s if s == ZARRLIB_ERR_READ_ONLY as i32 => Err(StorageError::ReadOnly),
        s => {
            let name = status_name(s).trim_end_matches('\0');
            let detail = message.map_or_else(String::new, |m| format!(": {m}"));
            Err(StorageError::Other(format!(
                "the store's {callback} callback failed ({name}){detail}"
            )))
        }
    }
}

/// Run `call` with a sink lent to it; the sink's bytes if the callback found a value.
fn with_sink(
    callback: &str,
    call: impl FnOnce(*mut zarrlib_sink) -> i32,
) -> StorageResult<Option<Vec<u8>>> {
    let mut sink = Tagged::<RefCell<Vec<u8>>>::lent::<zarrlib_sink>(RefCell::default());
    let status = call(sink.as_handle());
    let bytes = sink.take().into_inner();
    Ok(outcome(callback, status)?.then_some(bytes))
}

impl CallbackStorage {
    fn get_range(
        &self,
        key: &StoreKey,
        offset: u64,
        length: Option<u64>,
    ) -> StorageResult<MaybeBytes> {
        let get = self.0.get.expect("checked at creation");
        let c_key = c_string(key.as_str())?;
        let value = with_sink("get", |sink| {
            // SAFETY: the host's callback with its user_data, a NUL-terminated key and a sink,
            // all valid for the call.
            unsafe {
                get(
                    self.0.user_data,
                    c_key.as_ptr(),
                    offset,
                    length.unwrap_or(u64::MAX),
                    sink,
                )
            }
        })?;
        match (value, length) {
            (Some(bytes), Some(length)) if bytes.len() as u64 != length => {
                let range = ByteRange::FromStart(offset, Some(length));
                Err(InvalidByteRangeError::new(range, offset + bytes.len() as u64).into())
            }
            (value, _) => Ok(value.map(Bytes::from)),
        }
    }

    fn listing(&self, prefix: &str, one_level: bool) -> StorageResult<Vec<String>> {
        let Some(list) = self.0.list else {
            return Err(StorageError::Unsupported(
                "this callback store has no list callback: it cannot list its keys".into(),
            ));
        };
        let c_prefix = c_string(prefix)?;
        let bytes = with_sink("list", |sink| {
            // SAFETY: as in `get_range`.
            unsafe { list(self.0.user_data, c_prefix.as_ptr(), one_level, sink) }
        })?
        .unwrap_or_default();
        let text = String::from_utf8(bytes).map_err(|_| {
            StorageError::Other("the list callback gave keys that are not UTF-8".into())
        })?;
        Ok(text.split_terminator('\0').map(str::to_owned).collect())
    }

    fn write_call(&self, callback: &str, call: impl FnOnce() -> Option<i32>) -> StorageResult<()> {
        match call() {
            None => Err(StorageError::ReadOnly),
            Some(status) => outcome(callback, status).map(|_| ()),
        }
    }
}

fn keys(names: Vec<String>) -> StorageResult<StoreKeys> {
    let mut keys = names
        .iter()
        .map(|name| StoreKey::new(name.as_str()).map_err(StorageError::from))
        .collect::<StorageResult<Vec<_>>>()?;
    keys.sort();
    Ok(keys)
}

impl ReadableStorageTraits for CallbackStorage {
    fn get(&self, key: &StoreKey) -> StorageResult<MaybeBytes> {
        self.get_range(key, 0, None)
    }

    fn get_partial_many<'a>(
        &'a self,
        key: &StoreKey,
        byte_ranges: ByteRangeIterator<'a>,
    ) -> StorageResult<MaybeBytesIterator<'a>> {
        let mut values = Vec::new();
        let mut size = None;
        for range in byte_ranges {
            let (offset, length) = match range {
                ByteRange::FromStart(offset, length) => (offset, length),
                ByteRange::Suffix(length) => {
                    if size.is_none() {
                        size = self.size_key(key)?;
                    }
                    let Some(size) = size else {
                        return Ok(None);
                    };
                    let offset = size
                        .checked_sub(length)
                        .ok_or_else(|| InvalidByteRangeError::new(range, size))?;
                    (offset, Some(length))
                }
            };
            match self.get_range(key, offset, length)? {
                Some(bytes) => values.push(Ok(bytes)),
                None => return Ok(None),
            }
        }
        Ok(Some(Box::new(values.into_iter())))
    }

    fn size_key(&self, key: &StoreKey) -> StorageResult<Option<u64>> {
        let Some(size) = self.0.size else {
            return Ok(self.get(key)?.map(|bytes| bytes.len() as u64));
        };
        let c_key = c_string(key.as_str())?;
        let mut out = 0u64;
        // SAFETY: as in `get_range`; `out` is valid for the call.
        let status = unsafe { size(self.0.user_data, c_key.as_ptr(), &mut out) };
        Ok(outcome("size", status)?.then_some(out))
    }

    fn supports_get_partial(&self) -> bool {
        true
    }
}

impl WritableStorageTraits for CallbackStorage {
    fn set(&self, key: &StoreKey, value: Bytes) -> StorageResult<()> {
        let c_key = c_string(key.as_str())?;
        self.write_call("set", || {
            let set = self.0.set?;
            // SAFETY: as in `get_range`; `value` is valid for the call.
            Some(unsafe {
                set(
                    self.0.user_data,
                    c_key.as_ptr(),
                    value.as_ptr(),
                    value.len(),
                )
            })
        })
    }

    fn set_partial_many(
        &self,
        key: &StoreKey,
        offset_values: OffsetBytesIterator,
    ) -> StorageResult<()> {
        store_set_partial_many(self, key, offset_values)
    }

    fn erase(&self, key: &StoreKey) -> StorageResult<()> {
        let c_key = c_string(key.as_str())?;
        self.write_call("erase", || {
            let erase = self.0.erase?;
            // SAFETY: as in `get_range`.
            Some(unsafe { erase(self.0.user_data, c_key.as_ptr()) })
        })
    }

    fn erase_prefix(&self, prefix: &StorePrefix) -> StorageResult<()> {
        let c_prefix = c_string(prefix.as_str())?;
        self.write_call("erase_prefix", || {
            let erase_prefix = self.0.erase_prefix?;
            // SAFETY: as in `get_range`.
            Some(unsafe { erase_prefix(self.0.user_data, c_prefix.as_ptr()) })
        })
    }

    fn supports_set_partial(&self) -> bool {
        false
    }
}

impl ListableStorageTraits for CallbackStorage {
    fn list(&self) -> StorageResult<StoreKeys> {
        keys(self.listing("", false)?)
    }

    fn list_prefix(&self, prefix: &StorePrefix) -> StorageResult<StoreKeys> {
        keys(self.listing(prefix.as_str(), false)?)
    }

    fn list_dir(&self, prefix: &StorePrefix) -> StorageResult<StoreKeysPrefixes> {
        let (prefixes, names): (Vec<String>, Vec<String>) = self
            .listing(prefix.as_str(), true)?
            .into_iter()
            .partition(|name| name.ends_with('/'));
        let mut prefixes = prefixes
            .iter()
            .map(|name| StorePrefix::new(name.as_str()).map_err(StorageError::from))
            .collect::<StorageResult<Vec<_>>>()?;
        prefixes.sort();
        prefixes.dedup();
        Ok(StoreKeysPrefixes::new(keys(names)?, prefixes))
    }

    fn size_prefix(&self, prefix: &StorePrefix) -> StorageResult<u64> {
        let mut total = 0u64;
        for key in self.list_prefix(prefix)? {
            total += self.size_key(&key)?.unwrap_or(0);
        }
        Ok(total)
    }
}
