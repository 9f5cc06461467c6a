//! Process-wide engine settings: the thread pool and the codec options every I/O call passes to
//! zarrs explicitly (zarrs' plain calls ignore its own global config, so nothing relies on it).
//!
//! A call reads the settings once, as a [`Settings`] value, and every decision it makes (which
//! read path, whether to lock, what the codecs validate) follows that one snapshot: a setting
//! changed by another thread mid-call cannot split a call between two policies.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};

use rayon::{ThreadPool, ThreadPoolBuilder};
use zarrs::array::CodecOptions;

use crate::error::{Error, ErrorKind, Result};

static VALIDATE_CHECKSUMS: AtomicBool = AtomicBool::new(true);
static STORE_EMPTY_CHUNKS: AtomicBool = AtomicBool::new(false);
/// 0 means "as many as the pool has threads".
static CONCURRENT_TARGET: AtomicUsize = AtomicUsize::new(0);
static MAX_CHUNK_BYTES: AtomicU64 = AtomicU64::new(DEFAULT_MAX_CHUNK_BYTES);

/// The default of [`max_chunk_bytes`]: 2 GiB, above the chunks and shards Zarr data is written
/// with, below what a hostile document could make a host abort on.
pub const DEFAULT_MAX_CHUNK_BYTES: u64 = 1 << 31;

/// A pool of the engine's, and the process it was made in. A pool we own (rather than rayon's
/// global one) can be resized at any time, and keeps zarrlib's work apart from a host
/// application's own use of rayon.
struct PoolSlot {
    slot: RwLock<Option<(u32, Arc<ThreadPool>)>>,
    /// Its threads' names, followed by their number.
    prefix: &'static str,
    /// Its size until one is set: 0 for one thread per CPU.
    default_threads: usize,
}

/// The pool for work on stores that answer at memory or disk speed: one thread per CPU.
static POOL: PoolSlot = PoolSlot {
    slot: RwLock::new(None),
    prefix: POOL_THREAD_PREFIX,
    default_threads: 0,
};

/// The pool for work on stores whose every request waits on a server or a host callback
/// (object stores, callback stores): a blocked request holds its thread, so how many threads
/// the pool has is how many requests are in flight. Decoding on more threads than CPUs costs
/// little next to a round trip.
static IO_POOL: PoolSlot = PoolSlot {
    slot: RwLock::new(None),
    prefix: "zarrlib-io-",
    default_threads: DEFAULT_IO_THREADS,
};

/// The default size of the pool for stores that wait on requests.
pub const DEFAULT_IO_THREADS: usize = 32;

/// The name of the engine's pool threads, followed by their number.
pub(crate) const POOL_THREAD_PREFIX: &str = "zarrlib-";

fn build_pool(threads: usize, prefix: &'static str) -> Result<ThreadPool> {
    ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(move |i| format!("{prefix}{i}"))
        .build()
        .map_err(|err| {
            Error::new(
                ErrorKind::Internal,
                format!("cannot start thread pool: {err}"),
            )
        })
}

impl PoolSlot {
    /// The pool of this process. A pool's threads do not survive `fork`: a process forked after
    /// the pool was made (a Dask or multiprocessing worker) gets a new pool of as many threads,
    /// and the parent's is left alone (dropping it would wait for threads that are not there).
    fn get(&self) -> Result<Arc<ThreadPool>> {
        let pid = std::process::id();
        if let Some((owner, pool)) = self.slot.read().unwrap_or_else(|e| e.into_inner()).as_ref()
            && *owner == pid
        {
            return Ok(pool.clone());
        }
        let mut slot = self.slot.write().unwrap_or_else(|e| e.into_inner());
        match slot.take() {
            Some((owner, pool)) if owner == pid => *slot = Some((owner, pool)),
            Some((_, inherited)) => {
                let threads = inherited.current_num_threads();
                std::mem::forget(inherited);
                *slot = Some((pid, Arc::new(build_pool(threads, self.prefix)?)));
            }
            None => {
                let pool = build_pool(self.default_threads, self.prefix)?;
                *slot = Some((pid, Arc::new(pool)));
            }
        }
        Ok(slot.as_ref().expect("pool was just set").1.clone())
    }

    /// Replace the pool with one of `threads` threads (0: the default). Calls already running
    /// keep the pool they started on.
    fn set(&self, threads: usize) -> Result<()> {
        let threads = if threads == 0 {
            self.default_threads
        } else {
            threads
        };
        let new_pool = Arc::new(build_pool(threads, self.prefix)?);
        let old = self
            .slot
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .replace((std::process::id(), new_pool));
        // A pool inherited through fork has no threads to join.
        if let Some((owner, pool)) = old
            && owner != std::process::id()
        {
            std::mem::forget(pool);
        }
        Ok(())
    }
}

/// Replace the pool with one of `threads` threads (0: one per CPU). Calls already running keep
/// the pool they started on.
pub fn set_thread_count(threads: usize) -> Result<()> {
    POOL.set(threads)
}

pub fn thread_count() -> Result<usize> {
    Ok(POOL.get()?.current_num_threads())
}

/// Replace the pool for stores that wait on requests with one of `threads` threads (0: the
/// default, [`DEFAULT_IO_THREADS`]).
pub fn set_io_thread_count(threads: usize) -> Result<()> {
    IO_POOL.set(threads)
}

pub fn io_thread_count() -> Result<usize> {
    Ok(IO_POOL.get()?.current_num_threads())
}

/// Run `work` on the engine's pool, so zarrs' parallel iterators use its threads.
pub fn run_in_pool<T: Send>(work: impl FnOnce() -> Result<T> + Send) -> Result<T> {
    POOL.get()?.install(work)
}

/// Up to this many bytes, an operation is small: work on one chunk runs on the caller's thread
/// even when its codecs could use more threads (handing it to the pool and waiting for a worker
/// to wake costs about 13 µs, ten times a small read itself), and reads go straight through
/// zarrs rather than unit by unit (see `ArrayHandle::read_subset`).
pub(crate) const SMALL_BYTES: usize = 256 * 1024;

pub fn set_validate_checksums(value: bool) {
    VALIDATE_CHECKSUMS.store(value, Ordering::Relaxed);
}

pub fn validate_checksums() -> bool {
    VALIDATE_CHECKSUMS.load(Ordering::Relaxed)
}

pub fn set_store_empty_chunks(value: bool) {
    STORE_EMPTY_CHUNKS.store(value, Ordering::Relaxed);
}

pub fn store_empty_chunks() -> bool {
    STORE_EMPTY_CHUNKS.load(Ordering::Relaxed)
}

pub fn set_concurrent_target(value: usize) {
    CONCURRENT_TARGET.store(value, Ordering::Relaxed);
}

pub fn concurrent_target() -> usize {
    CONCURRENT_TARGET.load(Ordering::Relaxed)
}

/// The largest chunk (or, for reads by inner chunk, inner chunk) a call may decode or encode
/// whole, in bytes. A chunk is declared by its array's metadata, which may come from anyone:
/// without a limit, a document declaring terabyte chunks makes the first write (or a read of a
/// compressed chunk) allocate a terabyte, and Rust aborts the host process when that fails.
pub fn set_max_chunk_bytes(value: u64) {
    MAX_CHUNK_BYTES.store(value, Ordering::Relaxed);
}

pub fn max_chunk_bytes() -> u64 {
    MAX_CHUNK_BYTES.load(Ordering::Relaxed)
}

/// The settings one call runs with, read once when it starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Settings {
    pub validate_checksums: bool,
    pub store_empty_chunks: bool,
    /// How many chunks and codec tasks may run at once; 0: as many as the pool has threads.
    pub concurrent_target: usize,
    /// See [`max_chunk_bytes`].
    pub max_chunk_bytes: u64,
    /// Whether the call's store waits on every request (a server, a host callback): its work
    /// then runs on the pool for such stores, which keeps more requests in flight.
    pub waits_on_requests: bool,
}

impl Settings {
    /// The settings in force now.
    pub fn current() -> Self {
        Self {
            validate_checksums: validate_checksums(),
            store_empty_chunks: store_empty_chunks(),
            concurrent_target: concurrent_target(),
            max_chunk_bytes: max_chunk_bytes(),
            waits_on_requests: false,
        }
    }

    /// Run `work` on the pool for this call's store.
    fn run_in_pool<T: Send>(&self, work: impl FnOnce() -> Result<T> + Send) -> Result<T> {
        let pool = if self.waits_on_requests {
            &IO_POOL
        } else {
            &POOL
        };
        pool.get()?.install(work)
    }

    /// The codec options for work that may use `threads` threads at once.
    pub fn codec_options(&self, threads: usize) -> CodecOptions {
        let target = match self.concurrent_target {
            0 => threads,
            n => n,
        };
        CodecOptions::default()
            .with_validate_checksums(self.validate_checksums)
            .with_store_empty_chunks(self.store_empty_chunks)
            .with_concurrent_target(target)
    }

    /// Run `work`, which touches `units` chunks (or, for reads of a sharded array, inner chunks)
    /// and `bytes` bytes of the caller's buffer. One unit runs on the caller's thread (codecs
    /// single-threaded) when it is small or when its codecs cannot split it across threads anyway
    /// (`splits_chunks` false: everything but sharding); the rest runs on the engine's pool. A
    /// large chunk sent through the pool for nothing cost more than the hop: writing 64 raw 4 MiB
    /// chunks one call at a time took 0.14 s through the pool and 0.08 s on the caller's thread.
    pub fn run_sized<T: Send>(
        &self,
        units: u64,
        bytes: usize,
        splits_chunks: bool,
        work: impl FnOnce(&CodecOptions) -> Result<T> + Send,
    ) -> Result<T> {
        if units <= 1 && (bytes <= SMALL_BYTES || !splits_chunks) {
            return work(&self.codec_options(1));
        }
        self.run_in_pool(|| work(&self.codec_options(rayon::current_num_threads())))
    }

    /// Run `work` on the engine's pool, spread over `parallel` tasks at once: each task's codec
    /// chain gets an equal share of the concurrency target.
    pub fn run_spread<T: Send>(
        &self,
        parallel: usize,
        work: impl FnOnce(&CodecOptions) -> Result<T> + Send,
    ) -> Result<T> {
        self.run_in_pool(|| {
            let options = self.codec_options(rayon::current_num_threads());
            work(&share(options, parallel))
        })
    }
}

/// `options` for work spread over `parallel` tasks at once.
pub(crate) fn share(options: CodecOptions, parallel: usize) -> CodecOptions {
    let share = (options.concurrent_target() / parallel.max(1)).max(1);
    options.with_concurrent_target(share)
}

// These tests touch no process-wide setting: unit tests run in parallel in one process.
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pool_has_the_threads_asked_for() {
        let pool = build_pool(3, POOL_THREAD_PREFIX).unwrap();
        assert_eq!(pool.install(rayon::current_num_threads), 3);
    }

    #[test]
    fn codec_options_follow_the_snapshot() {
        let settings = Settings {
            validate_checksums: false,
            store_empty_chunks: true,
            concurrent_target: 7,
            max_chunk_bytes: DEFAULT_MAX_CHUNK_BYTES,
            waits_on_requests: false,
        };
        let options = settings.codec_options(2);
        assert_eq!(options.concurrent_target(), 7);
        assert!(!options.validate_checksums());
        assert!(options.store_empty_chunks());
        let by_pool = Settings {
            concurrent_target: 0,
            ..settings
        };
        assert_eq!(by_pool.codec_options(5).concurrent_target(), 5);
        assert_eq!(share(by_pool.codec_options(8), 3).concurrent_target(), 2);
        assert_eq!(share(by_pool.codec_options(2), 5).concurrent_target(), 1);
    }

    #[test]
    fn small_single_units_run_on_the_callers_thread() {
        let settings = Settings::current();
        let here = std::thread::current().id();
        let thread = |units, bytes, splits| {
            settings
                .run_sized(units, bytes, splits, |_| Ok(std::thread::current().id()))
                .unwrap()
        };
        assert_eq!(thread(1, 1024, true), here);
        assert_eq!(thread(1, 10 * SMALL_BYTES, false), here);
        assert_ne!(thread(2, 1024, false), here);
        assert_ne!(thread(1, 10 * SMALL_BYTES, true), here);
    }

    #[test]
    fn stores_that_wait_on_requests_run_on_the_io_pool() {
        let name = |waits_on_requests| {
            let settings = Settings {
                waits_on_requests,
                ..Settings::current()
            };
            settings
                .run_sized(2, 1024, false, |options| {
                    let thread = std::thread::current().name().unwrap_or("").to_owned();
                    Ok((thread, options.concurrent_target()))
                })
                .unwrap()
        };
        let (io_thread, io_target) = name(true);
        assert!(io_thread.starts_with("zarrlib-io-"), "{io_thread}");
        assert_eq!(io_target, io_thread_count().unwrap());
        let (thread, _) = name(false);
        assert!(!thread.starts_with("zarrlib-io-"), "{thread}");
    }
}
