//! What a store says about a value without reading it: a version that changes whenever the value
//! does, for the stores that can give one for free. Caches of what was decoded from a value (the
//! shard index cache, `array::shard_cache`) keep the version they saw and trust what they hold
//! only while the store still gives that same version.
//!
//! - Local directory store: the file's device, inode, size, modification and status-change times
//!   (nanoseconds), from one `stat`. zarrlib replaces a value by renaming a new file over it (a new
//!   inode); other writers may write in place (same inode) or keep the old modification time
//!   (`cp -p`, `rsync -t`; the status-change time still moves).
//! - Memory store: a generation per key, taken from a store-wide counter on every write and
//!   dropped when the key is erased (absent values have no generation).
//! - Object stores, callback stores and zip files have none: an ETag or a version would cost a
//!   request per read (a HEAD), which is what the cache is there to save.
//!
//! The timestamp trap. File times are stamped from a clock that ticks coarsely (a few
//! milliseconds on Linux, 2 s on FAT), so two writes of the same size in one tick, in place or
//! into a recycled inode, can leave every field of the version alike. As git does for its index
//! ("racy git"), a version is vouched for only when both file times are at least
//! [`SETTLE`] older than the moment just before the `stat`: any write after that moment stamps a
//! later time, so it cannot be mistaken for the version seen. A file written less than 2 s ago
//! has no version, and what is decoded from it is not kept (it is read again next time). This
//! assumes the file server's clock and this machine's agree to within that margin.
//!
//! Ordering. A version is taken before the value is read, and a memory store moves a key's
//! generation after the new value is in place: a cache may then hold an old version with a newer
//! value (it re-reads on its next use), never a new version with an old value.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use zarrs::storage::{StoreKey, StorePrefix};

use crate::local_store::LocalStore;

/// How old a file's times must be before its version is trusted.
pub(crate) const SETTLE: Duration = Duration::from_secs(2);

/// A version of one value: equal versions of one key mean equal values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ValueVersion {
    /// No value is stored at the key.
    Absent,
    /// A file's identity, size and times (nanoseconds since the epoch).
    File {
        device: u64,
        inode: u64,
        len: u64,
        modified: i128,
        changed: i128,
    },
    /// A memory store's generation of the key.
    Generation(u64),
}

/// Where versions come from: the store behind an array handle, when it gives them.
#[derive(Clone)]
pub(crate) enum VersionSource {
    Files(Arc<LocalStore>),
    Memory(Arc<Generations>),
}

impl VersionSource {
    /// The version of the value at `key` now, or `None` when the store cannot vouch for one (a
    /// file written too recently, or one that cannot be examined).
    pub(crate) fn version(&self, key: &StoreKey) -> Option<ValueVersion> {
        match self {
            Self::Files(local) => file_version(&local.value_path(key)),
            Self::Memory(generations) => Some(generations.version(key)),
        }
    }
}

#[cfg(unix)]
fn file_version(path: &std::path::Path) -> Option<ValueVersion> {
    use std::os::unix::fs::MetadataExt;
    // Taken before the stat: a write after it stamps at least this time (less one clock tick).
    let before = SystemTime::now();
    let metadata = match std::fs::metadata(path) {
        Ok(metadata) => metadata,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            return Some(ValueVersion::Absent);
        }
        Err(_) => return None,
    };
    if !metadata.is_file() {
        return None;
    }
    let nanos = |seconds: i64, nanos: i64| i128::from(seconds) * 1_000_000_000 + i128::from(nanos);
    let modified = nanos(metadata.mtime(), metadata.mtime_nsec());
    let changed = nanos(metadata.ctime(), metadata.ctime_nsec());
    let settled = before
        .checked_sub(SETTLE)
        .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
        .map(|t| t.as_nanos() as i128)?;
    if modified > settled || changed > settled {
        return None;
    }
    Some(ValueVersion::File {
        device: metadata.dev(),
        inode: metadata.ino(),
        len: metadata.len(),
        modified,
        changed,
    })
}

#[cfg(not(unix))]
fn file_version(_path: &std::path::Path) -> Option<ValueVersion> {
    // Without an inode and a status-change time, a rewrite that keeps the size and the
    // modification time would go unseen: no version, no cache.
    None
}

/// The generations of a memory store's keys. The store calls `wrote`/`erased` after each change
/// is in place.
#[derive(Default)]
pub(crate) struct Generations {
    next: AtomicU64,
    keys: RwLock<HashMap<StoreKey, u64>>,
}

impl Generations {
    fn version(&self, key: &StoreKey) -> ValueVersion {
        let keys = self.keys.read().unwrap_or_else(|e| e.into_inner());
        keys.get(key)
            .map_or(ValueVersion::Absent, |&g| ValueVersion::Generation(g))
    }

    pub(crate) fn wrote(&self, key: &StoreKey) {
        let generation = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        let mut keys = self.keys.write().unwrap_or_else(|e| e.into_inner());
        keys.insert(key.clone(), generation);
    }

    pub(crate) fn erased(&self, key: &StoreKey) {
        let mut keys = self.keys.write().unwrap_or_else(|e| e.into_inner());
        keys.remove(key);
    }

    pub(crate) fn erased_prefix(&self, prefix: &StorePrefix) {
        let mut keys = self.keys.write().unwrap_or_else(|e| e.into_inner());
        keys.retain(|key, _| !key.as_str().starts_with(prefix.as_str()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_generations_move_on_every_change() {
        let generations = Generations::default();
        let key = StoreKey::new("a/c/0").unwrap();
        assert_eq!(generations.version(&key), ValueVersion::Absent);
        generations.wrote(&key);
        let first = generations.version(&key);
        generations.wrote(&key);
        let second = generations.version(&key);
        assert_ne!(first, second);
        assert_ne!(first, ValueVersion::Absent);
        generations.erased_prefix(&StorePrefix::new("a/").unwrap());
        assert_eq!(generations.version(&key), ValueVersion::Absent);
        generations.wrote(&key);
        assert_ne!(generations.version(&key), second);
        generations.erased(&key);
        assert_eq!(generations.version(&key), ValueVersion::Absent);
    }

    #[cfg(unix)]
    #[test]
    fn files_written_just_now_have_no_version() {
        let dir = temp_dir::TempDir::new().unwrap();
        let path = dir.path().join("value");
        assert_eq!(file_version(&path), Some(ValueVersion::Absent));
        std::fs::write(&path, b"abc").unwrap();
        assert_eq!(file_version(&path), None);
    }
}
