//! Process-wide engine settings: the thread pool and the codec options every I/O call passes to
//! zarrs explicitly (zarrs' plain calls ignore its own global config, so nothing relies on it).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};

use rayon::{ThreadPool, ThreadPoolBuilder};
use zarrs::array::CodecOptions;

use crate::error::{Error, ErrorKind, Result};

static VALIDATE_CHECKSUMS: AtomicBool = AtomicBool::new(true);
static STORE_EMPTY_CHUNKS: AtomicBool = AtomicBool::new(false);
/// 0 means "as many as the pool has threads".
static CONCURRENT_TARGET: AtomicUsize = AtomicUsize::new(0);

/// The engine's own pool. A pool we own (rather than rayon's global one) can be resized at any
/// time, and keeps zarrlib's work apart from a host application's own use of rayon.
static POOL: RwLock<Option<Arc<ThreadPool>>> = RwLock::new(None);

fn build_pool(threads: usize) -> Result<ThreadPool> {
    ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("zarrlib-{i}"))
        .build()
        .map_err(|err| {
            Error::new(
                ErrorKind::Internal,
                format!("cannot start thread pool: {err}"),
            )
        })
}

fn pool() -> Result<Arc<ThreadPool>> {
    if let Some(pool) = POOL.read().unwrap_or_else(|e| e.into_inner()).as_ref() {
        return Ok(pool.clone());
    }
    let mut slot = POOL.write().unwrap_or_else(|e| e.into_inner());
    if slot.is_none() {
        *slot = Some(Arc::new(build_pool(0)?));
    }
    Ok(slot.as_ref().expect("pool was just set").clone())
}

/// Replace the pool with one of `threads` threads (0: one per CPU). Calls already running keep
/// the pool they started on.
pub fn set_thread_count(threads: usize) -> Result<()> {
    let new_pool = Arc::new(build_pool(threads)?);
    *POOL.write().unwrap_or_else(|e| e.into_inner()) = Some(new_pool);
    Ok(())
}

pub fn thread_count() -> Result<usize> {
    Ok(pool()?.current_num_threads())
}

/// Run `work` on the engine's pool, so zarrs' parallel iterators use its threads.
pub fn run_in_pool<T: Send>(work: impl FnOnce() -> Result<T> + Send) -> Result<T> {
    pool()?.install(work)
}

/// Up to this many bytes, an operation is small: work on one chunk runs on the caller's thread
/// even when its codecs could use more threads (handing it to the pool and waiting for a worker
/// to wake costs about 13 µs, ten times a small read itself), and reads go straight through
/// zarrs rather than unit by unit (see `ArrayHandle::read_subset`).
pub(crate) const SMALL_BYTES: usize = 256 * 1024;

/// Run `work`, which touches `units` chunks (or, for reads of a sharded array, inner chunks) and
/// `bytes` bytes of the caller's buffer, with the codec options in force. One unit runs on the caller's thread (codecs single-threaded) when
/// it is small or when its codecs cannot split it across threads anyway (`splits_chunks`
/// false: everything but sharding); the rest runs on the engine's pool. A large chunk sent
/// through the pool for nothing cost more than the hop: writing 64 raw 4 MiB chunks one call at
/// a time took 0.14 s through the pool and 0.08 s on the caller's thread.
pub fn run_sized<T: Send>(
    units: u64,
    bytes: usize,
    splits_chunks: bool,
    work: impl FnOnce(&CodecOptions) -> Result<T> + Send,
) -> Result<T> {
    if units <= 1 && (bytes <= SMALL_BYTES || !splits_chunks) {
        return work(&codec_options().with_concurrent_target(1));
    }
    run_in_pool(|| work(&codec_options()))
}

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

/// The options for one call, read from the current settings. Call inside `run_in_pool`, where
/// rayon's current pool is the engine's.
pub fn codec_options() -> CodecOptions {
    let target = match concurrent_target() {
        0 => rayon::current_num_threads(),
        n => n,
    };
    CodecOptions::default()
        .with_validate_checksums(validate_checksums())
        .with_store_empty_chunks(store_empty_chunks())
        .with_concurrent_target(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_runs_on_a_resizable_pool() {
        set_thread_count(3).unwrap();
        assert_eq!(thread_count().unwrap(), 3);
        let inside = run_in_pool(|| Ok(rayon::current_num_threads())).unwrap();
        assert_eq!(inside, 3);
        set_thread_count(0).unwrap();
        assert!(thread_count().unwrap() >= 1);
    }

    #[test]
    fn codec_options_follow_settings() {
        set_concurrent_target(7);
        assert_eq!(codec_options().concurrent_target(), 7);
        set_concurrent_target(0);
        assert_eq!(
            codec_options().concurrent_target(),
            rayon::current_num_threads()
        );
    }
}
