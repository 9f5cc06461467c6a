//! Per-chunk write serialisation. zarrs writes a partly covered chunk by reading, modifying and
//! writing it back, with no locking of its own, so two concurrent writers to one chunk could lose
//! an update. Every write takes the locks of the chunks it touches, from a fixed table of striped
//! mutexes keyed by (store, array path, chunk). Locks are always taken in ascending stripe order,
//! so writers touching many chunks cannot deadlock.
//!
//! Callers take these locks on their own thread *before* entering the engine's thread pool: a pool
//! worker that blocked on a lock could otherwise be stolen into work that needs that same lock.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Mutex, MutexGuard};

const STRIPES: usize = 1024;

static LOCKS: [Mutex<()>; STRIPES] = [const { Mutex::new(()) }; STRIPES];

fn stripe(store_id: u64, array_path: &str, chunk: &[u64]) -> usize {
    let mut hasher = DefaultHasher::new();
    (store_id, array_path, chunk).hash(&mut hasher);
    (hasher.finish() % STRIPES as u64) as usize
}

/// Held locks; they are released when this is dropped.
pub struct ChunkLocks {
    _guards: Vec<MutexGuard<'static, ()>>,
}

/// Lock the stripes of every chunk in `chunks`.
pub fn lock_chunks<'a>(
    store_id: u64,
    array_path: &str,
    chunks: impl IntoIterator<Item = &'a [u64]>,
) -> ChunkLocks {
    let mut wanted = [false; STRIPES];
    for chunk in chunks {
        wanted[stripe(store_id, array_path, chunk)] = true;
    }
    let guards = wanted
        .iter()
        .enumerate()
        .filter(|(_, wanted)| **wanted)
        // A poisoned lock only means another writer panicked; the unit value it guards is fine.
        .map(|(i, _)| {
            LOCKS[i]
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
        })
        .collect();
    ChunkLocks { _guards: guards }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlapping_lock_sets_exclude_each_other() {
        let held = lock_chunks(1, "/a", [[0u64, 0].as_slice(), [0, 1].as_slice()]);
        let blocked = std::thread::spawn(|| {
            let start = std::time::Instant::now();
            let _l = lock_chunks(1, "/a", [[0u64, 1].as_slice()]);
            start.elapsed()
        });
        std::thread::sleep(std::time::Duration::from_millis(100));
        drop(held);
        assert!(blocked.join().unwrap() >= std::time::Duration::from_millis(50));
    }

    #[test]
    fn many_chunks_lock_each_stripe_once() {
        let chunks: Vec<Vec<u64>> = (0..5000).map(|i| vec![i]).collect();
        let locks = lock_chunks(2, "/big", chunks.iter().map(Vec::as_slice));
        assert!(locks._guards.len() <= STRIPES);
    }
}
