//! Object stores: S3, Google Cloud Storage, Azure Blob Storage and HTTP(S) servers, through the
//! `object_store` crate (via `zarrs_object_store`), driven from the engine's own tokio runtime.
//!
//! The runtime is made lazily, the first time a remote store is opened, and made again in a
//! process forked after that: a tokio runtime's threads do not survive `fork` (Dask and
//! multiprocessing workers). A store's client does not either (its pooled connections are the
//! parent's sockets), so each store keeps what it was opened from and rebuilds its client, once,
//! in the first call it serves in a new process.
//!
//! Calls block the calling thread (the engine's pool, or the host's thread) on the runtime;
//! called from inside a tokio runtime of the host's, they would panic, which the C ABI reports.

use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use object_store::path::Path;
use object_store::prefix::PrefixStore;
use object_store::{GetOptions, GetRange, ObjectStore};
use object_store::{ObjectStoreScheme, RetryConfig};
use serde_json::{Map, Value};
use tokio::runtime::{Handle, Runtime};
use url::Url;
use zarrs::storage::byte_range::{ByteRange, ByteRangeIterator};
use zarrs::storage::storage_adapter::async_to_sync::{
    AsyncToSyncBlockOn, AsyncToSyncStorageAdapter,
};
use zarrs::storage::{
    Bytes, ListableStorageTraits, MaybeBytes, MaybeBytesIterator, OffsetBytesIterator,
    ReadableStorageTraits, StorageError, StoreKey, StoreKeys, StoreKeysPrefixes, StorePrefix,
    WritableStorageTraits,
};
use zarrs_object_store::AsyncObjectStore;

use crate::error::{Error, ErrorKind, Result};

/// The object store kinds a URL can name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    S3,
    Gcs,
    Azure,
    Http,
}

impl Kind {
    /// The kind of store `scheme` names, if it is an object store scheme.
    pub(crate) fn of_scheme(scheme: &str) -> Option<Self> {
        match scheme {
            "s3" | "s3a" => Some(Self::S3),
            "gs" => Some(Self::Gcs),
            "az" | "azure" | "abfs" | "abfss" | "adl" => Some(Self::Azure),
            "http" | "https" => Some(Self::Http),
            _ => None,
        }
    }

    /// HTTP servers serve files: they take no writes and cannot list.
    pub(crate) fn is_read_only(self) -> bool {
        self == Self::Http
    }

    pub(crate) fn can_list(self) -> bool {
        self != Self::Http
    }

    /// What this kind calls the name in a URL's host: None for HTTP, where it is a server.
    fn bucket_noun(self) -> Option<&'static str> {
        match self {
            Self::S3 => Some("S3 bucket"),
            Self::Gcs => Some("GCS bucket"),
            Self::Azure => Some("Azure container"),
            Self::Http => None,
        }
    }
}

/// The engine's runtime for the process it was made in.
static RUNTIME: Mutex<Option<(u32, Arc<Runtime>)>> = Mutex::new(None);

/// A handle on the runtime, made for this process if it has none yet.
fn runtime() -> Result<Handle> {
    let mut slot = RUNTIME.lock().unwrap_or_else(|e| e.into_inner());
    let pid = std::process::id();
    match slot.as_ref() {
        Some((owner, runtime)) if *owner == pid => return Ok(runtime.handle().clone()),
        // Made before a fork: its threads are gone, and dropping it would wait for them.
        Some(_) => std::mem::forget(slot.take()),
        None => {}
    }
    // TLS through rustls needs a crypto provider for the process; one installed already (by
    // another user of this rustls) is as good.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("zarrlib-io")
        .enable_all()
        .build()
        .map_err(|err| {
            Error::new(
                ErrorKind::Internal,
                format!("cannot start the I/O runtime: {err}"),
            )
        })?;
    let handle = runtime.handle().clone();
    *slot = Some((pid, Arc::new(runtime)));
    Ok(handle)
}

/// Runs a store's futures to completion on the engine's runtime.
struct BlockOn(Handle);

impl AsyncToSyncBlockOn for BlockOn {
    fn block_on<F: core::future::Future>(&self, future: F) -> F::Output {
        self.0.block_on(future)
    }
}

type Adapter = AsyncToSyncStorageAdapter<AsyncObjectStore<Arc<dyn ObjectStore>>, BlockOn>;

/// A store's client in one process: zarrs' adapter, plus the object store under it and the
/// runtime, for the reads the adapter makes in two requests.
struct Client {
    adapter: Adapter,
    store: Arc<dyn ObjectStore>,
    runtime: Handle,
    /// Whether the store answers suffix ranges (Azure does not).
    suffix_ranges: bool,
}

/// What a remote store is opened from: enough to open it again in a forked process.
#[derive(Clone, Debug)]
struct Spec {
    kind: Kind,
    url: Url,
    /// object_store configuration keys and values.
    config: Vec<(String, String)>,
    retry: RetryConfig,
}

/// An object store, reopened in a process forked after it was opened.
pub(crate) struct Remote {
    spec: Spec,
    current: RwLock<(u32, Arc<Client>)>,
    /// Whether the bucket (or container) is known to exist: it answered a listing or gave a
    /// value, or a probe found it (see `Remote::bucket_missing`).
    bucket_seen: AtomicBool,
}

/// zarrlib's own options for remote stores; the rest are object_store's.
const RETRIES: &str = "retries";
const RETRY_TIMEOUT: &str = "retry_timeout";

/// Open the object store `url` names, of kind `kind`, with `options` (object_store configuration
/// keys in snake_case, plus `retries` and `retry_timeout`). Credentials and settings the options
/// leave out come from the environment variables object_store reads (`AWS_*`, `GOOGLE_*`,
/// `AZURE_*`).
pub(crate) fn open(kind: Kind, url: &str, options: &Map<String, Value>) -> Result<Remote> {
    let parsed = Url::parse(url)
        .map_err(|err| Error::invalid_argument(format!("invalid store URL {url:?}: {err}")))?;
    let host = parsed.host_str().unwrap_or_default();
    if host.is_empty() {
        return Err(Error::invalid_argument(format!(
            "store URL {url:?} names no bucket, container or host"
        )));
    }
    // object_store puts the bucket or container into request URIs unchecked, and panics signing
    // a request whose URI is not valid (found by fuzzing, tests/fuzz): only the characters
    // bucket and container names are made of pass. (An http(s) host is checked by the parser.)
    let name_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_');
    if kind != Kind::Http && !host.chars().all(name_char) {
        return Err(Error::invalid_argument(format!(
            "store URL {url:?}: {host:?} is not a bucket or container name (letters, digits, '.', '-' and '_')"
        )));
    }
    let mut retry = RetryConfig {
        // object_store retries for up to three minutes by default: a server that is down
        // would look like a hang.
        max_retries: 3,
        retry_timeout: Duration::from_secs(30),
        ..RetryConfig::default()
    };
    let mut config = Vec::new();
    for (key, value) in options {
        match key.as_str() {
            RETRIES => {
                retry.max_retries = value
                    .as_u64()
                    .and_then(|n| usize::try_from(n).ok())
                    .ok_or_else(|| wrong_type(key, value))?;
            }
            RETRY_TIMEOUT => {
                let text = value.as_str().ok_or_else(|| wrong_type(key, value))?;
                retry.retry_timeout = parse_duration(key, text)?;
            }
            _ => {
                let text = match value {
                    Value::String(s) => s.clone(),
                    Value::Bool(b) => b.to_string(),
                    Value::Number(n) => n.to_string(),
                    _ => return Err(wrong_type(key, value)),
                };
                check_key(kind, key)?;
                config.push((key.clone(), text));
            }
        }
    }
    // An http:// URL asks for plain HTTP; object_store refuses it unless allowed.
    if kind == Kind::Http && parsed.scheme() == "http" && !options.contains_key("allow_http") {
        config.push(("allow_http".to_owned(), "true".to_owned()));
    }
    let spec = Spec {
        kind,
        url: parsed,
        config,
        retry,
    };
    let adapter = spec.build()?;
    Ok(Remote {
        spec,
        current: RwLock::new((std::process::id(), adapter)),
        bucket_seen: AtomicBool::new(false),
    })
}

fn wrong_type(key: &str, value: &Value) -> Error {
    Error::invalid_argument(format!("store option {key:?} has the wrong type: {value}"))
}

/// A duration as object_store's client options take them (`"30s"`, `"1.5s"`, `"500ms"`).
fn parse_duration(key: &str, text: &str) -> Result<Duration> {
    let bad = || {
        Error::invalid_argument(format!(
            "store option {key:?} is not a duration such as \"30s\" or \"500ms\": {text:?}"
        ))
    };
    let (number, unit) = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .map_or((text, ""), |at| text.split_at(at));
    let number: f64 = number.parse().map_err(|_| bad())?;
    let seconds = match unit.trim() {
        "ms" => number / 1000.0,
        "s" | "" => number,
        "m" | "min" => number * 60.0,
        _ => return Err(bad()),
    };
    Duration::try_from_secs_f64(seconds).map_err(|_| bad())
}

/// Refuse a configuration key the store kind does not know, naming it.
fn check_key(kind: Kind, key: &str) -> Result<()> {
    let known = match kind {
        Kind::S3 => object_store::aws::AmazonS3ConfigKey::from_str(key).is_ok(),
        Kind::Gcs => object_store::gcp::GoogleConfigKey::from_str(key).is_ok(),
        Kind::Azure => object_store::azure::AzureConfigKey::from_str(key).is_ok(),
        Kind::Http => object_store::ClientConfigKey::from_str(key).is_ok(),
    };
    if known {
        Ok(())
    } else {
        Err(Error::invalid_argument(format!(
            "unknown {kind:?} store option {key:?}"
        )))
    }
}

fn storage_error(err: object_store::Error) -> Error {
    Error::new(ErrorKind::Storage, err.to_string())
}

/// `builder` for `url` with the spec's configuration and retries, built. object_store's
/// builders share these methods but no trait.
macro_rules! configured {
    ($spec:expr, $builder:expr, $url:expr) => {{
        let mut builder = $builder.with_url($url);
        for (key, value) in &$spec.config {
            builder = builder.with_config(key.parse().map_err(storage_error)?, value);
        }
        let store = builder.with_retry($spec.retry.clone()).build();
        Arc::new(store.map_err(storage_error)?)
    }};
}

impl Spec {
    /// A client for this process.
    fn build(&self) -> Result<Arc<Client>> {
        let handle = runtime()?;
        let (_, path) = ObjectStoreScheme::parse(&self.url).map_err(|err| {
            Error::invalid_argument(format!("invalid store URL {}: {err}", self.url))
        })?;
        let url = self.url.as_str();
        let store: Arc<dyn ObjectStore> = match self.kind {
            Kind::S3 => configured!(self, object_store::aws::AmazonS3Builder::from_env(), url),
            Kind::Gcs => configured!(
                self,
                object_store::gcp::GoogleCloudStorageBuilder::from_env(),
                url
            ),
            Kind::Azure => configured!(
                self,
                object_store::azure::MicrosoftAzureBuilder::from_env(),
                url
            ),
            // The server's root; the URL's path becomes the store's prefix, as for buckets.
            Kind::Http => configured!(
                self,
                object_store::http::HttpBuilder::new(),
                &self.url[..url::Position::BeforePath]
            ),
        };
        let store: Arc<dyn ObjectStore> = if path == Path::default() {
            store
        } else {
            Arc::new(PrefixStore::new(store, path))
        };
        Ok(Arc::new(Client {
            adapter: AsyncToSyncStorageAdapter::new(
                Arc::new(AsyncObjectStore::new(store.clone())),
                BlockOn(handle.clone()),
            ),
            store,
            runtime: handle,
            suffix_ranges: self.kind != Kind::Azure,
        }))
    }
}

impl Remote {
    /// The client for this process: the one opened here, or one rebuilt after a fork.
    fn client(&self) -> std::result::Result<Arc<Client>, StorageError> {
        let pid = std::process::id();
        {
            let current = self.current.read().unwrap_or_else(|e| e.into_inner());
            if current.0 == pid {
                return Ok(current.1.clone());
            }
        }
        let mut current = self.current.write().unwrap_or_else(|e| e.into_inner());
        if current.0 != pid {
            let rebuilt = self
                .spec
                .build()
                .map_err(|err| StorageError::Other(err.message))?;
            // The parent's client holds the parent's connections: never dropped here, where
            // closing them would close the parent's sockets' shared descriptors' peers.
            std::mem::forget(std::mem::replace(&mut current.1, rebuilt));
            current.0 = pid;
        }
        Ok(current.1.clone())
    }

    /// Whether the store's bucket (or container) is missing. A missing bucket answers a GET as a
    /// missing key does (fake-gcs-server and GCS say only "Not Found"), so a store over one would
    /// read as empty: every node missing, every chunk the fill value. Before an absent value or a
    /// failure is taken at face value, the bucket is listed, once per store while it is not known
    /// to exist: a listing answers 404 (or, on fake-gcs-server, names the bucket) only when the
    /// bucket itself is missing. A failed probe (no permission to list) proves nothing, and the
    /// store then takes every answer as it comes.
    fn bucket_missing(&self, client: &Client) -> bool {
        if self.spec.kind.bucket_noun().is_none() || self.bucket_seen.load(Ordering::Relaxed) {
            return false;
        }
        let missing = match client
            .runtime
            .block_on(client.store.list_with_delimiter(None))
        {
            Ok(_) => false,
            Err(object_store::Error::NotFound { .. }) => true,
            Err(err) => {
                let text = err.to_string();
                let said = [
                    "NoSuchBucket",
                    "ContainerNotFound",
                    "no bucket named",
                    "404 Not Found",
                ];
                said.iter().any(|words| text.contains(words))
            }
        };
        if !missing {
            self.bucket_seen.store(true, Ordering::Relaxed);
        }
        missing
    }

    fn missing_bucket(&self) -> StorageError {
        let noun = self.spec.kind.bucket_noun().unwrap_or("bucket");
        let name = self.spec.url.host_str().unwrap_or_default();
        StorageError::Other(format!(
            "the {noun} {name:?} does not exist (store {})",
            self.spec.url
        ))
    }

    /// A read's result, unless it is an absent value or a failure because the bucket is missing.
    fn read<T>(
        &self,
        client: &Client,
        result: std::result::Result<Option<T>, StorageError>,
    ) -> std::result::Result<Option<T>, StorageError> {
        match result {
            Ok(Some(value)) => {
                self.bucket_seen.store(true, Ordering::Relaxed);
                Ok(Some(value))
            }
            Ok(None) if self.bucket_missing(client) => Err(self.missing_bucket()),
            Err(err) if said_not_found(&err) && self.bucket_missing(client) => {
                Err(self.missing_bucket())
            }
            other => other,
        }
    }

    /// A write's or listing's result, unless it failed because the bucket is missing.
    fn other<T>(
        &self,
        client: &Client,
        result: std::result::Result<T, StorageError>,
    ) -> std::result::Result<T, StorageError> {
        match result {
            Err(err) if said_not_found(&err) && self.bucket_missing(client) => {
                Err(self.missing_bucket())
            }
            other => other,
        }
    }
}

impl Remote {
    /// Read the whole value of `key`, which must be `length` bytes long, as its body arrives:
    /// `place(offset, frame)` for each network frame in order, with no buffer for the whole
    /// value (zarrs' `get` collects the body into one fresh buffer, a copy per frame into pages
    /// the kernel zeroes first). `Ok(false)` when the value is not stored.
    ///
    /// A value of another length, or a body that ends early or runs long, is `CorruptData`, and
    /// a request failing mid-body is a storage error: `place` may have had some of the frames
    /// then, so the caller's output is not to be used.
    pub(crate) fn read_exact_with(
        &self,
        key: &StoreKey,
        length: u64,
        mut place: impl FnMut(u64, &[u8]) + Send,
    ) -> Result<bool> {
        let client = self.client()?;
        let path = Path::from(key.as_str());
        let corrupt = |what: String| {
            Error::new(
                ErrorKind::CorruptData,
                format!("{key}: {what}, the chunk is {length} bytes"),
            )
        };
        let store = &client.store;
        let streamed = async move {
            let result = match store.get_opts(&path, GetOptions::default()).await {
                Ok(result) => result,
                Err(object_store::Error::NotFound { .. }) => return Ok(Ok(None)),
                Err(err) => return Ok(Err(StorageError::Other(err.to_string()))),
            };
            let size = result.range.end - result.range.start;
            if size != length {
                return Err(corrupt(format!("the stored value is {size} bytes")));
            }
            let mut body = result.into_stream();
            let mut at = 0u64;
            while let Some(frame) = std::future::poll_fn(|cx| body.as_mut().poll_next(cx)).await {
                let frame = frame.map_err(storage_error)?;
                let end = at + frame.len() as u64;
                if end > length {
                    return Err(corrupt(format!("the store sent more than {length} bytes")));
                }
                place(at, &frame);
                at = end;
            }
            if at != length {
                return Err(corrupt(format!(
                    "the store's answer ended after {at} bytes"
                )));
            }
            Ok(Ok(Some(())))
        };
        let streamed = if waits_alone() {
            run_to_end(&client.runtime, streamed)?
        } else {
            client.runtime.block_on(streamed)
        }?;
        Ok(self.read(&client, streamed)?.is_some())
    }
}

/// Whether the calling thread waits for its requests alone, where `run_to_end` runs them as
/// tasks: not one of the engine's pool threads, and not in a runtime's context.
fn waits_alone() -> bool {
    rayon::current_thread_index().is_none() && Handle::try_current().is_err()
}

/// Run `future` to its end on `runtime` for a caller that waits for it alone: as a task, the
/// calling thread waiting for it once.
///
/// Why not `block_on`: polled on the calling thread, a request's body comes through a channel
/// from the connection's task, which runs on a worker and reads the socket there, so every
/// frame of the body wakes the caller and every poll of the body wakes the worker back (about
/// ten cross-thread wake-ups per 512 KiB chunk over loopback, twice tensorstore's). As a task,
/// the request and its connection run on the same worker, which hands frames from one to the
/// other without a wake-up across threads; the caller sleeps through the request and is woken
/// once.
///
/// On the engine's pool threads, which keep many requests in flight, each on its own thread,
/// the future is polled in place (`block_on`): what it does with the body (copying it into the
/// output run by run) then runs on as many threads as there are requests, where as tasks it
/// would all run on the runtime's two workers (a whole raw read over loopback took a third
/// more CPU, and longer, that way). Inside a runtime's context (the host's), where `block_on`
/// refuses (and the C ABI reports it, as for every other request), it is polled in place too:
/// no task is spawned that could outlive the call.
///
/// `future` may borrow from the caller's stack: the caller does not return before the task has
/// ended (completed, panicked or been cancelled with the runtime), and tokio drops a task's
/// future before it reports the task's end, so nothing the future borrows is used after that.
fn run_to_end<'a, T: Send + 'static>(
    runtime: &Handle,
    future: impl std::future::Future<Output = T> + Send + 'a,
) -> Result<T> {
    if !waits_alone() {
        return Ok(runtime.block_on(future));
    }
    let boxed: std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>> =
        Box::pin(future);
    // SAFETY: see above: the task ends, and its future is dropped, before this function returns.
    let boxed: std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'static>> =
        unsafe { std::mem::transmute(boxed) };
    let task = runtime.spawn(boxed);
    match runtime.block_on(task) {
        Ok(result) => Ok(result),
        Err(err) if err.is_panic() => Err(Error::new(
            ErrorKind::Internal,
            "a request's task panicked on the I/O runtime",
        )),
        Err(_) => Err(Error::new(
            ErrorKind::Storage,
            "the I/O runtime stopped during a request",
        )),
    }
}

/// Whether a failure is the server saying something is not there (a missing bucket among the
/// possibilities), rather than, say, a server that does not answer: only then is the bucket
/// probed, so a server that is down is not waited for twice.
fn said_not_found(err: &StorageError) -> bool {
    let text = err.to_string();
    text.contains("404") || text.to_ascii_lowercase().contains("not found")
}

/// The ranges as offsets, when every one has both ends.
fn bounded_ranges(ranges: &[ByteRange]) -> Option<Vec<std::ops::Range<u64>>> {
    ranges
        .iter()
        .map(|range| match *range {
            ByteRange::FromStart(offset, Some(length)) => Some(offset..offset.checked_add(length)?),
            _ => None,
        })
        .collect()
}

/// One range as object_store asks for it; None for the whole value.
fn get_range(range: ByteRange) -> Option<GetRange> {
    match range {
        ByteRange::FromStart(0, None) => None,
        ByteRange::FromStart(offset, None) => Some(GetRange::Offset(offset)),
        ByteRange::FromStart(offset, Some(length)) => {
            Some(GetRange::Bounded(offset..offset.saturating_add(length)))
        }
        ByteRange::Suffix(length) => Some(GetRange::Suffix(length)),
    }
}

fn not_found_is_none<T>(
    result: std::result::Result<T, object_store::Error>,
) -> std::result::Result<Option<T>, StorageError> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(object_store::Error::NotFound { .. }) => Ok(None),
        Err(err) => Err(StorageError::Other(err.to_string())),
    }
}

/// `bytes`, when they are as long as `expected` (if known) says.
fn checked_length(
    key: &StoreKey,
    range: impl std::fmt::Debug,
    expected: Option<u64>,
    bytes: Bytes,
) -> std::result::Result<Bytes, StorageError> {
    match expected {
        Some(length) if bytes.len() as u64 != length => Err(StorageError::Other(format!(
            "{key}: the store returned {} bytes for the range {range:?}",
            bytes.len()
        ))),
        _ => Ok(bytes),
    }
}

impl Client {
    /// `future`'s output, run as one task on the runtime (`run_to_end`).
    fn wait<T: Send + 'static>(
        &self,
        future: impl std::future::Future<Output = T> + Send,
    ) -> std::result::Result<T, StorageError> {
        run_to_end(&self.runtime, future).map_err(|err| StorageError::Other(err.message))
    }

    /// Ranges of one value in one round of requests, none of them for the value's size: bounded
    /// ranges together (object_store coalesces close ones), others one request each, with the
    /// range in the request. zarrs' adapter asks for the size first (a HEAD) on every partial
    /// read, a second round trip.
    fn get_ranges(
        &self,
        key: &StoreKey,
        ranges: &[ByteRange],
    ) -> std::result::Result<MaybeBytesIterator<'static>, StorageError> {
        let path = Path::from(key.as_str());
        let values = if let Some(bounded) = bounded_ranges(ranges) {
            let future = self.store.get_ranges(&path, &bounded);
            let Some(values) = not_found_is_none(self.wait(future)?)? else {
                return Ok(None);
            };
            std::iter::zip(bounded, values)
                .map(|(range, bytes)| {
                    checked_length(key, &range, Some(range.end - range.start), bytes)
                })
                .collect::<Vec<_>>()
        } else if !self.suffix_ranges && ranges.iter().any(|r| matches!(r, ByteRange::Suffix(_))) {
            // zarrs' adapter turns suffixes into bounded ranges, after asking for the size.
            let values = self
                .adapter
                .get_partial_many(key, Box::new(ranges.iter().copied()))?;
            let Some(values) = values else {
                return Ok(None);
            };
            values.collect()
        } else {
            let mut values = Vec::with_capacity(ranges.len());
            for &range in ranges {
                let options = GetOptions {
                    range: get_range(range),
                    ..GetOptions::default()
                };
                let future = async { self.store.get_opts(&path, options).await?.bytes().await };
                let Some(bytes) = not_found_is_none(self.wait(future)?)? else {
                    return Ok(None);
                };
                let expected = match range {
                    ByteRange::FromStart(_, length) => length,
                    ByteRange::Suffix(length) => Some(length),
                };
                values.push(checked_length(key, range, expected, bytes));
            }
            values
        };
        Ok(Some(Box::new(values.into_iter())))
    }
}

impl ReadableStorageTraits for Remote {
    fn get(&self, key: &StoreKey) -> std::result::Result<MaybeBytes, StorageError> {
        // Not through zarrs' adapter, whose `get` is a partial read of the whole value: a HEAD
        // for its size, then a ranged GET.
        let whole = [ByteRange::FromStart(0, None)];
        let client = self.client()?;
        let value = match client.get_ranges(key, &whole) {
            Ok(Some(mut values)) => values.next().transpose(),
            Ok(None) => Ok(None),
            Err(err) => Err(err),
        };
        self.read(&client, value)
    }

    fn get_partial_many<'a>(
        &'a self,
        key: &StoreKey,
        byte_ranges: ByteRangeIterator<'a>,
    ) -> std::result::Result<MaybeBytesIterator<'a>, StorageError> {
        let ranges: Vec<ByteRange> = byte_ranges.collect();
        let client = self.client()?;
        let values = client.get_ranges(key, &ranges);
        self.read(&client, values)
    }

    fn size_key(&self, key: &StoreKey) -> std::result::Result<Option<u64>, StorageError> {
        let client = self.client()?;
        let size = client.adapter.size_key(key);
        self.read(&client, size)
    }

    fn supports_get_partial(&self) -> bool {
        true
    }
}

impl WritableStorageTraits for Remote {
    fn set(&self, key: &StoreKey, value: Bytes) -> std::result::Result<(), StorageError> {
        let client = self.client()?;
        let result = client.adapter.set(key, value);
        self.other(&client, result)
    }

    fn set_partial_many(
        &self,
        key: &StoreKey,
        offset_values: OffsetBytesIterator,
    ) -> std::result::Result<(), StorageError> {
        let client = self.client()?;
        let result = client.adapter.set_partial_many(key, offset_values);
        self.other(&client, result)
    }

    fn erase(&self, key: &StoreKey) -> std::result::Result<(), StorageError> {
        let client = self.client()?;
        let result = client.adapter.erase(key);
        self.other(&client, result)
    }

    fn erase_prefix(&self, prefix: &StorePrefix) -> std::result::Result<(), StorageError> {
        let client = self.client()?;
        let result = client.adapter.erase_prefix(prefix);
        self.other(&client, result)
    }

    fn supports_set_partial(&self) -> bool {
        false
    }
}

impl ListableStorageTraits for Remote {
    fn list(&self) -> std::result::Result<StoreKeys, StorageError> {
        let client = self.client()?;
        let result = client.adapter.list();
        self.other(&client, result)
    }

    fn list_prefix(&self, prefix: &StorePrefix) -> std::result::Result<StoreKeys, StorageError> {
        let client = self.client()?;
        let result = client.adapter.list_prefix(prefix);
        self.other(&client, result)
    }

    fn list_dir(
        &self,
        prefix: &StorePrefix,
    ) -> std::result::Result<StoreKeysPrefixes, StorageError> {
        let client = self.client()?;
        let result = client.adapter.list_dir(prefix);
        self.other(&client, result)
    }

    fn size_prefix(&self, prefix: &StorePrefix) -> std::result::Result<u64, StorageError> {
        let client = self.client()?;
        let result = client.adapter.size_prefix(prefix);
        self.other(&client, result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_as_object_store_takes_them() {
        assert_eq!(parse_duration("t", "30s").unwrap(), Duration::from_secs(30));
        assert_eq!(
            parse_duration("t", "1.5s").unwrap(),
            Duration::from_millis(1500)
        );
        assert_eq!(
            parse_duration("t", "500ms").unwrap(),
            Duration::from_millis(500)
        );
        assert_eq!(parse_duration("t", "2m").unwrap(), Duration::from_secs(120));
        for bad in ["", "s", "3 days", "-1s", "1e999s"] {
            assert!(parse_duration("t", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn unknown_options_are_named() {
        let options: Map<String, Value> =
            serde_json::from_str(r#"{"region":"us-east-1","regoin":"x"}"#).unwrap();
        let err = open(Kind::S3, "s3://bucket/prefix", &options)
            .err()
            .unwrap();
        assert_eq!(err.kind, ErrorKind::InvalidArgument);
        assert!(err.message.contains("\"regoin\""), "{}", err.message);
        let options: Map<String, Value> = serde_json::from_str(r#"{"retries":"x"}"#).unwrap();
        let err = open(Kind::S3, "s3://bucket", &options).err().unwrap();
        assert!(err.message.contains("retries"), "{}", err.message);
        let err = open(Kind::S3, "s3:///x", &Map::new()).err().unwrap();
        assert_eq!(err.kind, ErrorKind::InvalidArgument);
    }

    #[test]
    fn a_bucket_name_that_cannot_be_in_a_request_is_refused() {
        let options: Map<String, Value> = serde_json::from_str(
            r#"{"endpoint":"http://127.0.0.1:1","allow_http":true,"region":"us-east-1",
            "access_key_id":"a","secret_access_key":"b","timeout":"1s","retries":0}"#,
        )
        .unwrap();
        for (kind, url) in [
            (Kind::S3, "s3://bucket`.zarr/a"),
            (Kind::S3, "s3://b{x}/a"),
            (Kind::Gcs, "gs://b{c}/a"),
            (Kind::Azure, "az://c`d/a"),
        ] {
            let err = open(kind, url, &options).err().expect(url);
            assert_eq!(err.kind, ErrorKind::InvalidArgument, "{}", err.message);
            assert!(err.message.contains("not a bucket"), "{}", err.message);
        }
        // Names as the clouds allow them still open.
        assert!(open(Kind::S3, "s3://my-bucket.v2_old/a", &options).is_ok());
    }

    #[test]
    fn a_remote_store_opens_without_a_request() {
        let options: Map<String, Value> = serde_json::from_str(
            r#"{"endpoint":"http://127.0.0.1:1","allow_http":true,"region":"us-east-1",
            "access_key_id":"a","secret_access_key":"b","timeout":"1s","retries":0}"#,
        )
        .unwrap();
        let remote = open(Kind::S3, "s3://bucket/a/b", &options).unwrap();
        // Nothing listens on port 1: a storage error, quickly.
        let err = remote
            .get(&StoreKey::new("zarr.json").unwrap())
            .unwrap_err();
        assert!(!err.to_string().is_empty());
    }
}
