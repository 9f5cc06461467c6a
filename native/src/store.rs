//! Stores: where a hierarchy lives. A store is opened from a URL and shared (it is `Send + Sync`)
//! by every node and array handle made from it.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::memory_store::CheckedMemoryStore;
use percent_encoding::percent_decode_str;
use serde_json::{Map, Value};
use zarrs::filesystem::{FilesystemStore, FilesystemStoreOptions};
use zarrs::storage::storage_adapter::performance_metrics::PerformanceMetricsStorageAdapter;
use zarrs::storage::{
    ReadableListableStorage, ReadableWritableListableStorage,
    ReadableWritableListableStorageTraits, StoreKey,
};
use zarrs_zip::ZipStorageAdapter;

use crate::error::{Error, ErrorKind, Result};
use crate::list_metrics::ListCounter;
use crate::local_store::LocalStore;
use crate::object_stores;
use crate::process_locks::ProcessLocks;
use crate::read_only::ReadOnly;
use crate::value_versions::VersionSource;

/// The counters of a metered store: zarrs' request counters, and listings around them.
struct Metered {
    requests: Arc<PerformanceMetricsStorageAdapter<dyn ReadableWritableListableStorageTraits>>,
    listings: Arc<ListCounter>,
    /// Values read from an object store straight into the caller's memory, around zarrs'
    /// counters: requests, and bytes.
    direct_reads: AtomicU64,
    direct_bytes_read: AtomicU64,
}

/// An open store. `id` tells stores apart for the chunk lock table (two handles on one store
/// object share locks; distinct store objects do not).
pub struct Store {
    pub storage: ReadableWritableListableStorage,
    /// The same store when it is a local directory store read unmetered: chunks stored
    /// unencoded are read from it straight into the caller's buffer.
    pub(crate) local: Option<Arc<LocalStore>>,
    /// The same, when the store may also be written unmetered: whole chunks are written to it
    /// straight from their encoded bytes, without the owned copy zarrs' `set` takes.
    pub(crate) local_writes: Option<Arc<LocalStore>>,
    /// The object store under this one, when it is one (not a zip file in one): chunks stored
    /// unencoded are streamed from it into the caller's buffer (`Store::read_remote_into`).
    remote: Option<Arc<object_stores::Remote>>,
    pub id: u64,
    /// Request counters, when the store was opened with the `metrics` option.
    metrics: Option<Metered>,
    /// Whether every request waits on a server or a host callback (object stores, zip files in
    /// them, callback stores), so calls keep many requests in flight (`config::Settings`).
    pub(crate) waits_on_requests: bool,
    /// Locks between processes, when a directory store was opened with `process_locks`.
    pub(crate) process_locks: Option<ProcessLocks>,
    /// Versions of values, for the stores that give them without a request (`value_versions`):
    /// zarrlib's local directory store and the memory store, metered or not.
    pub(crate) versions: Option<VersionSource>,
}

/// What a metered store has done since it was opened.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Metrics {
    pub reads: u64,
    pub bytes_read: u64,
    pub writes: u64,
    pub bytes_written: u64,
    pub keys_erased: u64,
    /// Listing requests (of a directory, a prefix, or the whole store).
    pub lists: u64,
}

impl Metrics {
    pub fn to_json(self) -> String {
        serde_json::json!({
            "reads": self.reads,
            "bytes_read": self.bytes_read,
            "writes": self.writes,
            "bytes_written": self.bytes_written,
            "keys_erased": self.keys_erased,
            "lists": self.lists,
        })
        .to_string()
    }
}

static NEXT_STORE_ID: AtomicU64 = AtomicU64::new(1);

/// Where a URL points.
#[derive(Debug, PartialEq, Eq)]
enum Location {
    Memory,
    Directory(PathBuf),
    Object(object_stores::Kind),
    /// `zip+URL`: the zip file at URL, in whatever store holds it.
    Zip(String),
}

/// Whether a store at `location` waits on a server for every request.
fn waits_on_requests(location: &Location) -> bool {
    match location {
        Location::Object(_) => true,
        Location::Zip(inner) => parse_url(inner).is_ok_and(|inner| waits_on_requests(&inner)),
        Location::Memory | Location::Directory(_) => false,
    }
}

fn parse_url(url: &str) -> Result<Location> {
    if url.is_empty() {
        return Err(Error::invalid_argument("store URL is empty"));
    }
    let Some((scheme, rest)) = url.split_once("://") else {
        return Ok(Location::Directory(PathBuf::from(url)));
    };
    if let Some(inner) = scheme.to_ascii_lowercase().strip_prefix("zip+") {
        return Ok(Location::Zip(format!("{inner}://{rest}")));
    }
    match scheme.to_ascii_lowercase().as_str() {
        "memory" if rest.is_empty() => Ok(Location::Memory),
        "memory" => Err(Error::invalid_argument(format!(
            "memory store URL takes no name or path: {url:?} (use \"memory://\")"
        ))),
        "file" => {
            // file:///abs/path or file://localhost/abs/path (RFC 8089); other hosts are remote.
            let path = rest.strip_prefix("localhost").unwrap_or(rest);
            if !path.starts_with('/') {
                return Err(Error::invalid_argument(format!(
                    "file URL must name an absolute local path: {url:?}"
                )));
            }
            let decoded = percent_decode_str(path).decode_utf8().map_err(|_| {
                Error::invalid_argument(format!(
                    "file URL is not valid percent-encoded UTF-8: {url:?}"
                ))
            })?;
            Ok(Location::Directory(PathBuf::from(decoded.as_ref())))
        }
        other => match object_stores::Kind::of_scheme(other) {
            Some(kind) => Ok(Location::Object(kind)),
            None => Err(Error::new(
                ErrorKind::Unsupported,
                format!(
                    "unsupported store scheme {other:?} in {url:?}: supported are a local path, file://, memory://, s3://, gs://, az://, abfs://, http:// and https://"
                ),
            )),
        },
    }
}

/// Remove the boolean option `key` (false when absent).
fn take_bool(options: &mut Map<String, Value>, key: &str) -> Result<bool> {
    match options.remove(key) {
        None => Ok(false),
        Some(Value::Bool(on)) => Ok(on),
        Some(other) => Err(Error::invalid_argument(format!(
            "store option {key:?} has the wrong type: {other}"
        ))),
    }
}

fn parse_options(options_json: Option<&str>) -> Result<Map<String, Value>> {
    let Some(text) = options_json else {
        return Ok(Map::new());
    };
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(Error::invalid_argument(
            "store options must be a JSON object",
        )),
        Err(err) => Err(Error::invalid_argument(format!(
            "store options are not valid JSON: {err}"
        ))),
    }
}

/// The local store's options: `sync` (bool, default false: fsync each written value and its
/// directory), and zarrs' `direct_io` (bool) and `file_handle_cache_size` (integer).
fn local_store(
    path: &Path,
    options: &Map<String, Value>,
) -> Result<(ReadableWritableListableStorage, Option<Arc<LocalStore>>)> {
    let mut fs = FilesystemStoreOptions::default();
    let mut sync = None;
    let mut zarrs_writes = false;
    for (key, value) in options {
        match (key.as_str(), value) {
            ("sync", Value::Bool(on)) => sync = Some(*on),
            ("direct_io", Value::Bool(on)) => {
                fs.direct_io(*on);
                zarrs_writes |= *on;
            }
            ("file_handle_cache_size", Value::Number(n)) if n.as_u64().is_some() => {
                let size = usize::try_from(n.as_u64().unwrap_or_default())
                    .map_err(|_| Error::invalid_argument("file_handle_cache_size is too large"))?;
                fs.file_handle_cache_size(size);
                zarrs_writes |= size > 0;
            }
            ("sync" | "direct_io" | "file_handle_cache_size", _) => {
                return Err(Error::invalid_argument(format!(
                    "store option {key:?} has the wrong type: {value}"
                )));
            }
            _ => {
                return Err(Error::invalid_argument(format!(
                    "unknown filesystem store option {key:?}"
                )));
            }
        }
    }
    let filesystem = FilesystemStore::new_with_options(path, fs)
        .map_err(|err| Error::invalid_argument(err.to_string()))?;
    // zarrs' own writes (in place, always synced) keep its handle cache and direct I/O coherent;
    // the replacing writes of `LocalStore` would not.
    if zarrs_writes {
        if sync == Some(false) {
            return Err(Error::invalid_argument(
                "store option \"sync\": false cannot be combined with \"direct_io\" or \"file_handle_cache_size\", whose writes are always synced",
            ));
        }
        return Ok((Arc::new(filesystem), None));
    }
    let local = Arc::new(LocalStore::new(filesystem, sync.unwrap_or(false)));
    Ok((local.clone(), Some(local)))
}

/// A store as opened, before zarrlib's own options wrap it.
enum Access {
    /// With the local directory store behind it, when it is one, and where versions of its
    /// values come from, when they do.
    ReadWrite(
        ReadableWritableListableStorage,
        Option<Arc<LocalStore>>,
        Option<VersionSource>,
    ),
    /// With why it cannot list, when it cannot.
    ReadOnly(ReadableListableStorage, Option<&'static str>),
}

fn read_only_store(
    inner: ReadableListableStorage,
    unlistable: Option<&'static str>,
) -> ReadableWritableListableStorage {
    Arc::new(ReadOnly { inner, unlistable })
}

/// Open the store `url` names with the options zarrlib does not handle itself; with the object
/// store, when it is one.
fn open_storage(
    url: &str,
    options: &Map<String, Value>,
) -> Result<(Access, Option<Arc<object_stores::Remote>>)> {
    let mut object_store = None;
    let access = match parse_url(url)? {
        Location::Memory => {
            if let Some(key) = options.keys().next() {
                return Err(Error::invalid_argument(format!(
                    "unknown memory store option {key:?}"
                )));
            }
            let memory = Arc::new(CheckedMemoryStore::new());
            let versions = VersionSource::Memory(memory.generations());
            Access::ReadWrite(memory, None, Some(versions))
        }
        Location::Directory(path) if path.is_file() => {
            // An existing file is a zip file: the store is its contents.
            let parent = match path.parent() {
                Some(parent) if !parent.as_os_str().is_empty() => parent,
                _ => Path::new("."),
            };
            let name = path.file_name().and_then(|n| n.to_str()).ok_or_else(|| {
                Error::invalid_argument(format!("store path {} has no file name", path.display()))
            })?;
            let (container, _) = local_store(parent, options)?;
            Access::ReadOnly(open_zip(container.readable_listable(), name, url)?, None)
        }
        Location::Directory(path) => {
            if path.exists() && !path.is_dir() {
                return Err(Error::invalid_argument(format!(
                    "store path {} exists and is neither a directory nor a file",
                    path.display()
                )));
            }
            let (storage, local) = local_store(&path, options)?;
            // zarrs' own file store (direct I/O, file handle cache) gives none: its cached
            // handles may still read a file that a rename has replaced.
            let versions = local.clone().map(VersionSource::Files);
            Access::ReadWrite(storage, local, versions)
        }
        Location::Object(kind) => {
            let remote = Arc::new(object_stores::open(kind, url, options)?);
            object_store = Some(remote.clone());
            if kind.is_read_only() {
                let why =
                    "an HTTP store cannot list its keys (no children, no listing of a prefix)";
                Access::ReadOnly(remote, (!kind.can_list()).then_some(why))
            } else {
                Access::ReadWrite(remote, None, None)
            }
        }
        Location::Zip(inner) => {
            let (container_url, name) = inner
                .rsplit_once('/')
                .ok_or_else(|| Error::invalid_argument(format!("{url:?} names no zip file")))?;
            let container = match open_storage(container_url, options)?.0 {
                Access::ReadWrite(storage, _, _) => storage.readable_listable(),
                Access::ReadOnly(storage, _) => storage,
            };
            Access::ReadOnly(open_zip(container, name, url)?, None)
        }
    };
    Ok((access, object_store))
}

/// The directory whose arrays' lock files a `process_locks` store uses, as an absolute path
/// (a later change of working directory must not move them).
fn lock_root(url: &str) -> Result<PathBuf> {
    match parse_url(url)? {
        Location::Directory(path) if !path.is_file() => std::path::absolute(&path).map_err(|err| {
            Error::invalid_argument(format!("store path {}: {err}", path.display()))
        }),
        _ => Err(Error::invalid_argument(
            "store option \"process_locks\" is for local directory stores",
        )),
    }
}

/// The zip file `name` in `container`, as a read-only store.
fn open_zip(
    container: ReadableListableStorage,
    name: &str,
    url: &str,
) -> Result<ReadableListableStorage> {
    let key =
        StoreKey::new(name).map_err(|err| Error::invalid_argument(format!("{url:?}: {err}")))?;
    crate::zip_check::check_zip(&container, &key, url)?;
    match ZipStorageAdapter::new(container, key) {
        Ok(zip) => Ok(Arc::new(zip)),
        Err(zarrs_zip::ZipStorageAdapterCreateError::StorageError(err)) => Err(err.into()),
        Err(err) => Err(Error::invalid_argument(format!(
            "{url:?} is not a zip file a store can be read from: {err}"
        ))),
    }
}

impl Store {
    /// Open the store at `url`: a local directory (plain path or `file://` URL, created on the
    /// first write if missing), `memory://` (a new, empty in-process store), or an object store
    /// (`s3://`, `gs://`, `az://`/`abfs://`, and `http(s)://`, which is read-only and cannot
    /// list). A path or `file://` URL naming an existing file, or `zip+URL` for a zip file in any
    /// store, opens that zip file as a read-only store.
    ///
    /// Options: `metrics` (bool, every kind of store) counts requests and bytes for
    /// [`Store::metrics`]; `read_only` (bool, every kind) refuses writes; `process_locks` (bool,
    /// directories) serialises writes to a chunk between processes (`process_locks`); the other
    /// local directory options are listed at `local_store`, the object store ones at
    /// `object_stores::open`.
    pub fn open(url: &str, options_json: Option<&str>) -> Result<Self> {
        let mut options = parse_options(options_json)?;
        let metered = take_bool(&mut options, "metrics")?;
        let read_only = take_bool(&mut options, "read_only")?;
        let locked = take_bool(&mut options, "process_locks")?;
        let (access, remote) = open_storage(url, &options)?;
        let mut store = Self::with_access(access, read_only, metered);
        store.remote = remote;
        store.waits_on_requests = waits_on_requests(&parse_url(url)?);
        if locked {
            store.process_locks = Some(ProcessLocks::new(lock_root(url)?, !read_only));
        }
        Ok(store)
    }

    /// A store whose I/O `storage` does, made by the host (the C ABI's callback stores), which
    /// refuses what it cannot do itself. Options: `metrics` and `read_only`, as for `open`.
    pub fn from_storage(
        storage: ReadableWritableListableStorage,
        options_json: Option<&str>,
    ) -> Result<Self> {
        let mut options = parse_options(options_json)?;
        let metered = take_bool(&mut options, "metrics")?;
        let read_only = take_bool(&mut options, "read_only")?;
        if let Some(key) = options.keys().next() {
            return Err(Error::invalid_argument(format!(
                "unknown callback store option {key:?}"
            )));
        }
        let access = Access::ReadWrite(storage, None, None);
        let mut store = Self::with_access(access, read_only, metered);
        store.waits_on_requests = true;
        Ok(store)
    }

    fn with_access(access: Access, read_only: bool, metered: bool) -> Self {
        let writable = !read_only && matches!(access, Access::ReadWrite(..));
        let (storage, local, versions) = match access {
            Access::ReadWrite(storage, local, versions) if !read_only => (storage, local, versions),
            // Direct reads from a local store stay: they are reads.
            Access::ReadWrite(storage, local, versions) => (
                read_only_store(storage.readable_listable(), None),
                local,
                versions,
            ),
            Access::ReadOnly(storage, unlistable) => {
                (read_only_store(storage, unlistable), None, None)
            }
        };
        let (storage, metrics) = if metered {
            let requests = Arc::new(PerformanceMetricsStorageAdapter::new(storage));
            let listings = Arc::new(ListCounter {
                inner: requests.clone(),
                lists: AtomicU64::new(0),
            });
            let outer = listings.clone() as ReadableWritableListableStorage;
            let metered = Metered {
                requests,
                listings,
                direct_reads: AtomicU64::new(0),
                direct_bytes_read: AtomicU64::new(0),
            };
            (outer, Some(metered))
        } else {
            (storage, None)
        };
        Self {
            storage,
            // Reads around the metering adapter would go uncounted.
            local_writes: local.clone().filter(|_| !metered && writable),
            local: local.filter(|_| !metered),
            remote: None,
            id: NEXT_STORE_ID.fetch_add(1, Ordering::Relaxed),
            metrics,
            waits_on_requests: false,
            process_locks: None,
            // A version is not a request: metering leaves it be.
            versions,
        }
    }

    /// Whether whole values can be streamed into the caller's memory (`read_remote_into`).
    pub(crate) fn streams_values(&self) -> bool {
        self.remote.is_some()
    }

    /// Read the whole value of `key`, `length` bytes long, from the object store under this
    /// store as its body arrives, `place(offset, frame)` for each frame in order: `Ok(false)` if
    /// the value is not stored, or this store is not an object store. See
    /// `Remote::read_exact_with` for what a value of another length gives.
    pub(crate) fn read_remote_into(
        &self,
        key: &StoreKey,
        length: u64,
        place: impl FnMut(u64, &[u8]) + Send,
    ) -> Result<bool> {
        let Some(remote) = &self.remote else {
            return Ok(false);
        };
        let found = remote.read_exact_with(key, length, place);
        // Counted as zarrs' adapter counts a `get`: a request, found or not, and its bytes.
        if let Some(metered) = &self.metrics {
            metered.direct_reads.fetch_add(1, Ordering::Relaxed);
            if let Ok(true) = found {
                metered
                    .direct_bytes_read
                    .fetch_add(length, Ordering::Relaxed);
            }
        }
        found
    }

    /// The request counters, or an error when the store was opened without `metrics`.
    pub fn metrics(&self) -> Result<Metrics> {
        let metered = self.metrics.as_ref().ok_or_else(|| {
            Error::invalid_argument("the store was opened without the \"metrics\" option")
        })?;
        let count = |n: usize| n as u64;
        let requests = &metered.requests;
        let direct = |n: &AtomicU64| n.load(Ordering::Relaxed);
        Ok(Metrics {
            reads: count(requests.reads()) + direct(&metered.direct_reads),
            bytes_read: count(requests.bytes_read()) + direct(&metered.direct_bytes_read),
            writes: count(requests.writes()),
            bytes_written: count(requests.bytes_written()),
            keys_erased: count(requests.keys_erased()),
            lists: metered.listings.lists.load(Ordering::Relaxed),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_map_to_locations() {
        assert_eq!(parse_url("memory://").unwrap(), Location::Memory);
        assert_eq!(
            parse_url("data/x.zarr").unwrap(),
            Location::Directory("data/x.zarr".into())
        );
        assert_eq!(
            parse_url("file:///tmp/a%20b").unwrap(),
            Location::Directory("/tmp/a b".into())
        );
        assert_eq!(
            parse_url("file://localhost/tmp/a").unwrap(),
            Location::Directory("/tmp/a".into())
        );
        assert_eq!(parse_url("").unwrap_err().kind, ErrorKind::InvalidArgument);
        assert_eq!(
            parse_url("file://host/x").unwrap_err().kind,
            ErrorKind::InvalidArgument
        );
        assert_eq!(
            parse_url("memory://x").unwrap_err().kind,
            ErrorKind::InvalidArgument
        );
        assert_eq!(
            parse_url("s3://bucket/x").unwrap(),
            Location::Object(object_stores::Kind::S3)
        );
        assert_eq!(
            parse_url("ftp://host/x").unwrap_err().kind,
            ErrorKind::Unsupported
        );
    }

    #[test]
    fn options_are_checked() {
        assert!(Store::open("memory://", Some("{}")).is_ok());
        assert_eq!(
            Store::open("memory://", Some("[1]")).err().unwrap().kind,
            ErrorKind::InvalidArgument
        );
        assert_eq!(
            Store::open("memory://", Some("{\"x\":1}"))
                .err()
                .unwrap()
                .kind,
            ErrorKind::InvalidArgument
        );
        let dir = temp_dir::TempDir::new().unwrap();
        let url = dir.path().to_str().unwrap();
        assert!(Store::open(url, Some("{\"file_handle_cache_size\": 8}")).is_ok());
        assert!(Store::open(url, Some("{\"sync\": true, \"direct_io\": false}")).is_ok());
        for conflicting in [
            "{\"sync\": false, \"direct_io\": true}",
            "{\"sync\": false, \"file_handle_cache_size\": 8}",
            "{\"sync\": 1}",
        ] {
            assert_eq!(
                Store::open(url, Some(conflicting)).err().unwrap().kind,
                ErrorKind::InvalidArgument,
                "{conflicting}"
            );
        }
        assert_eq!(
            Store::open(url, Some("{\"direct_io\": 1}"))
                .err()
                .unwrap()
                .kind,
            ErrorKind::InvalidArgument
        );
    }

    #[test]
    fn a_file_is_not_a_store() {
        let dir = temp_dir::TempDir::new().unwrap();
        let file = dir.child("a-file");
        std::fs::write(&file, b"not a store").unwrap();
        let err = Store::open(file.to_str().unwrap(), None).err().unwrap();
        assert_eq!(err.kind, ErrorKind::InvalidArgument);
    }

    #[test]
    fn metered_stores_count_requests() {
        use zarrs::storage::{ReadableStorageTraits, StoreKey, WritableStorageTraits};
        let plain = Store::open("memory://", None).unwrap();
        assert_eq!(
            plain.metrics().unwrap_err().kind,
            ErrorKind::InvalidArgument
        );
        assert_eq!(
            Store::open("memory://", Some("{\"metrics\": 1}"))
                .err()
                .unwrap()
                .kind,
            ErrorKind::InvalidArgument
        );
        let store = Store::open("memory://", Some("{\"metrics\": true}")).unwrap();
        let key = StoreKey::new("a/c/0").unwrap();
        store.storage.set(&key, vec![1u8, 2, 3].into()).unwrap();
        store.storage.get(&key).unwrap();
        store
            .storage
            .get(&StoreKey::new("missing").unwrap())
            .unwrap();
        store.storage.erase(&key).unwrap();
        store
            .storage
            .list_dir(&zarrs::storage::StorePrefix::root())
            .unwrap();
        let metrics = store.metrics().unwrap();
        assert_eq!(
            metrics,
            Metrics {
                reads: 2,
                bytes_read: 3,
                writes: 1,
                bytes_written: 3,
                keys_erased: 1,
                lists: 1,
            }
        );
    }

    #[test]
    fn stores_get_distinct_ids() {
        let a = Store::open("memory://", None).unwrap();
        let b = Store::open("memory://", None).unwrap();
        assert_ne!(a.id, b.id);
    }
}
