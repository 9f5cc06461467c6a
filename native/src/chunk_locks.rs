//! Per-chunk serialisation of writes against writes, and of writes against reads that need it.
//!
//! zarrs writes a partly covered chunk by reading, modifying and writing it back, with no locking
//! of its own, so two concurrent writers to one chunk could lose an update. And a decoder that
//! reads part of a chunk in several store requests (a shard's index, then its inner chunks) could
//! see a concurrent writer replace the chunk between them. So writers take the locks of the chunks
//! they touch exclusively, and such readers take them shared.
//!
//! Each array (a store and a node path) has its own table of striped read-write locks, shared by
//! every handle open on that array, so a call that locks a whole table stalls that array alone.
//! Locks are always taken in ascending stripe order, so callers touching many chunks cannot
//! deadlock. Callers take them on their own thread *before* entering the engine's thread pool: a
//! pool worker that blocked on a lock could otherwise be stolen into work that needs that lock.
//!
//! A directory store opened with `process_locks` takes each lock in the array's lock file too,
//! after the table's (`process_locks`), so processes serialise as threads do.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{
    Arc, LazyLock, Mutex, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard, Weak,
};

use crate::error::Result;
use crate::process_locks::{ArrayLockFile, HeldFileLocks, ProcessLocks};

/// Stripes per array: more chunks than this in one call lock the whole table.
pub(crate) const STRIPES: usize = 256;

type Table = [RwLock<()>; STRIPES];
/// An array's identity: its store's id and its node path.
type ArrayKey = (u64, String);

/// The live tables, by store id and array path. Entries whose arrays are all closed are dropped
/// when the next table is made.
static TABLES: LazyLock<Mutex<HashMap<ArrayKey, Weak<Table>>>> = LazyLock::new(Default::default);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Shared: any number of readers at once.
    Read,
    /// Exclusive.
    Write,
}

/// The chunk locks of one array.
pub struct ArrayLocks {
    table: Arc<Table>,
    /// The array's lock file, when its store locks between processes.
    file: Option<ArrayLockFile>,
}

enum Guard<'a> {
    Read(#[allow(dead_code)] RwLockReadGuard<'a, ()>),
    Write(#[allow(dead_code)] RwLockWriteGuard<'a, ()>),
}

/// Held locks; they are released when this is dropped (the file's first).
pub struct ChunkLocks<'a> {
    #[allow(dead_code)] // Held only to be dropped.
    file: Option<HeldFileLocks>,
    #[allow(dead_code)] // Held only to be dropped.
    guards: Vec<Guard<'a>>,
}

impl ChunkLocks<'_> {
    #[cfg(test)]
    pub fn count(&self) -> usize {
        self.guards.len()
    }
}

fn stripe(chunk: &[u64]) -> usize {
    let mut hasher = DefaultHasher::new();
    chunk.hash(&mut hasher);
    (hasher.finish() % STRIPES as u64) as usize
}

impl ArrayLocks {
    /// The locks of the array at `array_path` in the store `store_id`: the same table for every
    /// handle open on that array, and its lock file when the store has `process`.
    pub fn of(store_id: u64, array_path: &str, process: Option<&ProcessLocks>) -> Self {
        let file = process.map(|locks| locks.for_array(array_path));
        let mut tables = TABLES.lock().unwrap_or_else(PoisonError::into_inner);
        let key = (store_id, array_path.to_owned());
        if let Some(table) = tables.get(&key).and_then(Weak::upgrade) {
            return Self { table, file };
        }
        tables.retain(|_, table| table.strong_count() > 0);
        let table = Arc::new([const { RwLock::new(()) }; STRIPES]);
        tables.insert(key, Arc::downgrade(&table));
        Self { table, file }
    }

    /// Lock `count` chunks, listed by `chunks`. Past the number of stripes, the whole table is
    /// locked and the list is never walked. Fails only when the lock file cannot be locked.
    pub fn lock<C: AsRef<[u64]>>(
        &self,
        access: Access,
        count: u64,
        chunks: impl IntoIterator<Item = C>,
    ) -> Result<ChunkLocks<'_>> {
        let mut wanted = [count > STRIPES as u64; STRIPES];
        if count <= STRIPES as u64 {
            chunks
                .into_iter()
                .for_each(|chunk| wanted[stripe(chunk.as_ref())] = true);
        }
        // A poisoned lock only means another caller panicked; the unit value it guards is fine.
        let guards = (0..STRIPES)
            .filter(|&i| wanted[i])
            .map(|i| match access {
                Access::Read => {
                    Guard::Read(self.table[i].read().unwrap_or_else(|p| p.into_inner()))
                }
                Access::Write => {
                    Guard::Write(self.table[i].write().unwrap_or_else(|p| p.into_inner()))
                }
            })
            .collect();
        let file = match &self.file {
            Some(file) => file.lock(access, (0..STRIPES).filter(|&i| wanted[i]))?,
            None => None,
        };
        Ok(ChunkLocks { file, guards })
    }

    /// Lock one chunk.
    pub fn lock_one(&self, access: Access, chunk: &[u64]) -> Result<ChunkLocks<'_>> {
        self.lock(access, 1, [chunk])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Each test names arrays of a store id of its own: tests run in parallel in one process.

    /// Whether another thread could take `access` on `chunk` of `locks` right now (without
    /// waiting).
    fn available(locks: &ArrayLocks, access: Access, chunk: &[u64]) -> bool {
        let lock = &locks.table[stripe(chunk)];
        std::thread::scope(|scope| {
            scope
                .spawn(|| match access {
                    Access::Read => lock.try_read().is_ok(),
                    Access::Write => lock.try_write().is_ok(),
                })
                .join()
                .unwrap()
        })
    }

    #[test]
    fn writers_exclude_readers_and_writers() {
        let locks = ArrayLocks::of(101, "/a", None);
        let held = locks.lock(Access::Write, 2, [[0, 0], [0, 1]]).unwrap();
        assert!(!available(&locks, Access::Write, &[0, 1]));
        assert!(!available(&locks, Access::Read, &[0, 0]));
        drop(held);
        assert!(available(&locks, Access::Write, &[0, 1]));
    }

    #[test]
    fn readers_share_and_exclude_writers() {
        let locks = ArrayLocks::of(102, "/a", None);
        let held = locks.lock_one(Access::Read, &[5, 5]).unwrap();
        assert!(available(&locks, Access::Read, &[5, 5]));
        assert!(!available(&locks, Access::Write, &[5, 5]));
        drop(held);
        assert!(available(&locks, Access::Write, &[5, 5]));
    }

    #[test]
    fn handles_on_one_array_share_locks_and_other_arrays_do_not_stall() {
        let first = ArrayLocks::of(103, "/a", None);
        let second = ArrayLocks::of(103, "/a", None);
        let other_path = ArrayLocks::of(103, "/b", None);
        let other_store = ArrayLocks::of(104, "/a", None);
        // More chunks than stripes: the whole table of this one array.
        let held = first
            .lock(
                Access::Write,
                STRIPES as u64 + 1,
                std::iter::empty::<[u64; 1]>(),
            )
            .unwrap();
        assert_eq!(held.count(), STRIPES);
        assert!(!available(&second, Access::Read, &[7]));
        assert!(available(&other_path, Access::Write, &[7]));
        assert!(available(&other_store, Access::Write, &[7]));
    }

    #[test]
    fn many_chunks_lock_each_stripe_once() {
        let locks = ArrayLocks::of(105, "/big", None);
        let chunks: Vec<Vec<u64>> = (0..STRIPES as u64).map(|i| vec![i, 3]).collect();
        let held = locks
            .lock(Access::Read, chunks.len() as u64, &chunks)
            .unwrap();
        assert!(held.count() <= STRIPES);
    }

    #[test]
    fn tables_of_closed_arrays_are_dropped() {
        let weak = Arc::downgrade(&ArrayLocks::of(106, "/gone", None).table);
        assert!(weak.upgrade().is_none());
        let _next = ArrayLocks::of(106, "/next", None);
        let tables = TABLES.lock().unwrap();
        assert!(!tables.contains_key(&(106, "/gone".to_owned())));
    }
}
