//! Per-chunk serialisation of writes against writes, and of writes against reads that need it.
//!
//! zarrs writes a partly covered chunk by reading, modifying and writing it back, with no locking
//! of its own, so two concurrent writers to one chunk could lose an update. And a decoder that
//! reads part of a chunk in several store requests (a shard's index, then its inner chunks) could
//! see a concurrent writer replace the chunk between them. So writers take the locks of the chunks
//! they touch exclusively, and such readers take them shared.
//!
//! The locks are a fixed table of striped read-write locks keyed by (store, array path, chunk).
//! Locks are always taken in ascending stripe order, so callers touching many chunks cannot
//! deadlock. Callers take them on their own thread *before* entering the engine's thread pool: a
//! pool worker that blocked on a lock could otherwise be stolen into work that needs that lock.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

pub(crate) const STRIPES: usize = 1024;

static LOCKS: Table = [const { RwLock::new(()) }; STRIPES];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Shared: any number of readers at once.
    Read,
    /// Exclusive.
    Write,
}

/// Which chunks to lock.
pub enum Chunks<'a, I: Iterator<Item = &'a [u64]>> {
    These(I),
    /// Every stripe: cheaper than hashing chunks when there are more chunks than stripes.
    All,
}

fn stripe(store_id: u64, array_path: &str, chunk: &[u64]) -> usize {
    let mut hasher = DefaultHasher::new();
    (store_id, array_path, chunk).hash(&mut hasher);
    (hasher.finish() % STRIPES as u64) as usize
}

type Table = [RwLock<()>; STRIPES];

enum Guard {
    Read(#[allow(dead_code)] RwLockReadGuard<'static, ()>),
    Write(#[allow(dead_code)] RwLockWriteGuard<'static, ()>),
}

/// Held locks; they are released when this is dropped.
pub struct ChunkLocks {
    #[allow(dead_code)] // Held only to be dropped.
    guards: Vec<Guard>,
}

impl ChunkLocks {
    #[cfg(test)]
    pub fn count(&self) -> usize {
        self.guards.len()
    }
}

pub fn lock_chunks<'a, I: Iterator<Item = &'a [u64]>>(
    store_id: u64,
    array_path: &str,
    access: Access,
    chunks: Chunks<'a, I>,
) -> ChunkLocks {
    lock_in(&LOCKS, store_id, array_path, access, chunks)
}

fn lock_in<'a, I: Iterator<Item = &'a [u64]>>(
    table: &'static Table,
    store_id: u64,
    array_path: &str,
    access: Access,
    chunks: Chunks<'a, I>,
) -> ChunkLocks {
    let mut wanted = [false; STRIPES];
    match chunks {
        Chunks::These(chunks) => {
            chunks.for_each(|chunk| wanted[stripe(store_id, array_path, chunk)] = true)
        }
        Chunks::All => wanted = [true; STRIPES],
    }
    // A poisoned lock only means another caller panicked; the unit value it guards is fine.
    let guards = (0..STRIPES)
        .filter(|&i| wanted[i])
        .map(|i| match access {
            Access::Read => Guard::Read(table[i].read().unwrap_or_else(|p| p.into_inner())),
            Access::Write => Guard::Write(table[i].write().unwrap_or_else(|p| p.into_inner())),
        })
        .collect();
    ChunkLocks { guards }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Each test has a table of its own: tests run in parallel, and the global table is shared.
    fn new_table() -> &'static Table {
        Box::leak(Box::new([const { RwLock::new(()) }; STRIPES]))
    }

    fn lock<'a>(table: &'static Table, access: Access, chunks: &'a [&'a [u64]]) -> ChunkLocks {
        lock_in(
            table,
            1,
            "/a",
            access,
            Chunks::These(chunks.iter().copied()),
        )
    }

    /// Whether another thread could take `access` on `chunk` right now (without waiting).
    fn available(table: &'static Table, access: Access, chunk: &'static [u64]) -> bool {
        std::thread::spawn(move || {
            let lock = &table[stripe(1, "/a", chunk)];
            match access {
                Access::Read => lock.try_read().is_ok(),
                Access::Write => lock.try_write().is_ok(),
            }
        })
        .join()
        .unwrap()
    }

    #[test]
    fn writers_exclude_readers_and_writers() {
        let table = new_table();
        let held = lock(table, Access::Write, &[&[0, 0], &[0, 1]]);
        assert!(!available(table, Access::Write, &[0, 1]));
        assert!(!available(table, Access::Read, &[0, 0]));
        drop(held);
        assert!(available(table, Access::Write, &[0, 1]));
    }

    #[test]
    fn readers_share_and_exclude_writers() {
        let table = new_table();
        let held = lock(table, Access::Read, &[&[5, 5]]);
        assert!(available(table, Access::Read, &[5, 5]));
        assert!(!available(table, Access::Write, &[5, 5]));
        drop(held);
        assert!(available(table, Access::Write, &[5, 5]));
    }

    #[test]
    fn many_chunks_lock_each_stripe_once() {
        let chunks: Vec<Vec<u64>> = (0..5000).map(|i| vec![i]).collect();
        let locks = lock_chunks(
            2,
            "/big",
            Access::Read,
            Chunks::These(chunks.iter().map(Vec::as_slice)),
        );
        assert!(locks.count() <= STRIPES);
        drop(locks);
        let all = lock_chunks::<std::iter::Empty<&[u64]>>(2, "/big", Access::Read, Chunks::All);
        assert_eq!(all.count(), STRIPES);
    }
}
