//! The local directory store: zarrs' `FilesystemStore` for listing, erasing and partial writes,
//! with zarrlib's own whole-value writes and its own reads.
//!
//! Why our own writes: `FilesystemStore::set` truncates the file in place and then calls
//! `sync_all` on every value. The fsync made raw and blosc writes 1.5-2.6x slower than every peer
//! (none of zarr-python, zarrista or tensorstore's default file driver pays it per chunk), and
//! the in-place truncation lets a concurrent reader, in this process or another, see a torn
//! chunk. Here a value is written to a temporary file beside its key and renamed over it, so a
//! reader sees the old value or the new one, never a mix; a crash leaves the old value. The
//! `sync` option adds `fsync` of the file before the rename and of the directory after it, for
//! callers who need writes on disk when the call returns.
//!
//! Every whole value is written this way: chunks and metadata documents (`zarr.json`, `.zarray`,
//! `.zgroup`, `.zattrs`, `.zmetadata`) alike, since the node and attribute code writes through
//! the same `set`. A writer killed mid-write leaves its temporary file behind: listings skip it
//! (and the process lock file, see `process_locks`), so it never shows as a key or a child, and
//! it goes with its node when the node is deleted or overwritten.
//!
//! Partial writes (`set_partial_many`) still go to zarrs, in place and synced: they are only
//! used for sharded arrays with partial encoding, where rewriting the whole shard would defeat
//! the purpose (zarrlib never turns partial encoding on).

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use unsafe_cell_slice::UnsafeCellSlice;

use zarrs::filesystem::FilesystemStore;

use crate::box_copy::Run;
use zarrs::storage::byte_range::{ByteRange, ByteRangeIterator, InvalidByteRangeError};
use zarrs::storage::{
    Bytes, ListableStorageTraits, MaybeBytesIterator, OffsetBytesIterator, ReadableStorageTraits,
    StorageError, StoreKey, StoreKeys, StoreKeysPrefixes, StorePrefix, WritableStorageTraits,
};

/// Tells the temporary files of concurrent writers apart within this process (the process id
/// does so across processes).
static NEXT_TEMPORARY: AtomicU64 = AtomicU64::new(0);

/// The temporary file a value is written to before it is renamed over `name`:
/// `.{name}.zarrlib-{process id}-{counter}.tmp`, recognised by `is_temporary`.
fn temporary_name(name: &str) -> String {
    format!(
        ".{name}.zarrlib-{}-{}.tmp",
        std::process::id(),
        NEXT_TEMPORARY.fetch_add(1, Ordering::Relaxed)
    )
}

/// Whether a file name is one of zarrlib's temporary files.
fn is_temporary(name: &str) -> bool {
    let Some(stem) = name
        .strip_prefix('.')
        .and_then(|rest| rest.strip_suffix(".tmp"))
    else {
        return false;
    };
    let Some((value, tag)) = stem.rsplit_once(".zarrlib-") else {
        return false;
    };
    let digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    !value.is_empty()
        && tag
            .split_once('-')
            .is_some_and(|(p, n)| digits(p) && digits(n))
}

/// Whether `key` is a file zarrlib keeps beside the values, which listings leave out: a
/// temporary file, or an array's process lock file.
fn is_internal(key: &StoreKey) -> bool {
    let name = key.as_str().rsplit('/').next().unwrap_or_default();
    is_temporary(name) || name == crate::process_locks::LOCK_FILE
}

fn without_internal(keys: StoreKeys) -> StoreKeys {
    keys.into_iter().filter(|key| !is_internal(key)).collect()
}

/// What a read of a whole value, or of runs of it, found at a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueRead {
    /// The value was there at the expected size, and was read.
    Read,
    /// There is no value: nothing was read.
    Missing,
    /// The value is there at another size, this one: nothing was read.
    OtherSize(u64),
}

#[derive(Debug)]
pub struct LocalStore {
    filesystem: FilesystemStore,
    sync: bool,
}

impl LocalStore {
    /// `filesystem` must not cache file handles: its cache would keep serving a file that a
    /// rename has replaced (the caller checks this when it parses the options).
    pub fn new(filesystem: FilesystemStore, sync: bool) -> Self {
        Self { filesystem, sync }
    }

    /// The path of the file holding `key`'s value.
    pub(crate) fn value_path(&self, key: &StoreKey) -> std::path::PathBuf {
        self.filesystem.key_to_fspath(key)
    }

    /// The file holding `key`'s value and its size, or `None` if there is no value.
    fn open(&self, key: &StoreKey) -> std::io::Result<Option<(File, u64)>> {
        match File::open(self.filesystem.key_to_fspath(key)) {
            Ok(file) => {
                let size = file.metadata()?.len();
                Ok(Some((file, size)))
            }
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(err),
        }
    }

    /// Read the whole value at `key` straight into `out`, which must be exactly its size.
    /// `Missing` or `OtherSize`, with `out` untouched, if there is no value or its size
    /// differs.
    pub fn read_exact_into(&self, key: &StoreKey, out: &mut [u8]) -> std::io::Result<ValueRead> {
        let Some((file, size)) = self.open(key)? else {
            return Ok(ValueRead::Missing);
        };
        if size != out.len() as u64 {
            return Ok(ValueRead::OtherSize(size));
        }
        // Just opened: the file position is 0.
        (&file).read_exact(out)?;
        Ok(ValueRead::Read)
    }

    /// Read the runs `runs` of the value at `key`, which must be `length` bytes long, straight
    /// into their places in `target` (`file_runs::read_runs`). `Missing` or `OtherSize`, with
    /// `target` untouched, if there is no value or its size differs. One open file serves the
    /// whole read, so a value replaced meanwhile (renamed over, as `write_replacing` does) is
    /// read whole from its old file, as `read_exact_into` reads it; a value cut short in place
    /// while it is read (by a writer other than zarrlib) is `UnexpectedEof`.
    ///
    /// # Safety
    /// As `file_runs::read_runs`: the runs lie inside `target`, and no other thread touches
    /// their bytes of it during the call.
    pub unsafe fn read_runs_into(
        &self,
        key: &StoreKey,
        length: u64,
        runs: impl Iterator<Item = Run>,
        target: &UnsafeCellSlice<'_, u8>,
    ) -> std::io::Result<ValueRead> {
        let Some((file, size)) = self.open(key)? else {
            return Ok(ValueRead::Missing);
        };
        if size != length {
            return Ok(ValueRead::OtherSize(size));
        }
        // SAFETY: the caller's promise, passed on.
        unsafe { crate::file_runs::read_runs(&file, runs, target) }?;
        Ok(ValueRead::Read)
    }

    /// Write `value` as the whole value of `key`, replacing any value there atomically (see
    /// the module's notes). The caller's bytes go to the file as they are: no owned copy.
    pub(crate) fn write_replacing(&self, key: &StoreKey, value: &[u8]) -> std::io::Result<()> {
        let path = self.filesystem.key_to_fspath(key);
        let directory = path
            .parent()
            .ok_or_else(|| std::io::Error::other(format!("key {key} has no parent directory")))?;
        let name = path
            .file_name()
            .ok_or_else(|| std::io::Error::other(format!("key {key} has no file name")))?;
        let temporary = directory.join(temporary_name(&name.to_string_lossy()));
        // The directory is made only when the file cannot be created for want of it: creating
        // it first cost a `mkdir` and a `stat` per value even when it was there (all but the
        // first chunk of each directory).
        let created = match create_file(&temporary) {
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                create_directories(directory, self.sync)?;
                create_file(&temporary)
            }
            created => created,
        };
        let written = created
            .and_then(|file| fill_file(file, value, self.sync))
            .and_then(|()| std::fs::rename(&temporary, &path));
        if written.is_err() {
            // Best effort: the error that matters is the write's.
            let _ = std::fs::remove_file(&temporary);
        }
        written?;
        if self.sync {
            File::open(directory)?.sync_all()?;
        }
        Ok(())
    }
}

/// `create_dir_all`; with `sync`, each directory it creates is made durable too, by syncing the
/// directory that holds its entry (syncing the value's directory alone would not keep a new
/// directory's own entry).
fn create_directories(directory: &Path, sync: bool) -> std::io::Result<()> {
    if !sync {
        return std::fs::create_dir_all(directory);
    }
    let mut missing = Vec::new();
    let mut current = directory;
    while !current.as_os_str().is_empty() && !current.exists() {
        missing.push(current);
        match current.parent() {
            Some(parent) => current = parent,
            None => break,
        }
    }
    std::fs::create_dir_all(directory)?;
    for created in missing.iter().rev() {
        let parent = match created.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        File::open(parent)?.sync_all()?;
    }
    Ok(())
}

/// A new file at `path`; fails if one is there.
fn create_file(path: &Path) -> std::io::Result<File> {
    OpenOptions::new().write(true).create_new(true).open(path)
}

fn fill_file(mut file: File, value: &[u8], sync: bool) -> std::io::Result<()> {
    file.write_all(value)?;
    if sync {
        file.sync_all()?;
    }
    Ok(())
}

/// Byte ranges of one value closer than this are read as one span: a gap costs less to read
/// than a system call. An 8³ uint16 read from an uncompressed 128³ chunk asks for 64 rows of
/// 16 bytes; in spans, it makes 8 reads (one per plane) instead of 64.
const COALESCE_GAP: u64 = 4096;

/// Read `ranges` (offset, length) of `file`, each as its own `Bytes`, in the order given.
/// Ranges less than `COALESCE_GAP` apart share one read; the pieces are slices of it.
fn read_ranges(file: &File, ranges: &[(u64, u64)]) -> std::io::Result<Vec<Bytes>> {
    let mut order: Vec<usize> = (0..ranges.len()).collect();
    order.sort_unstable_by_key(|&i| ranges[i].0);
    let mut out = vec![Bytes::new(); ranges.len()];
    let mut group = 0;
    while group < order.len() {
        let start = ranges[order[group]].0;
        let mut end = start + ranges[order[group]].1;
        let mut next = group + 1;
        while next < order.len() && ranges[order[next]].0 <= end.saturating_add(COALESCE_GAP) {
            end = end.max(ranges[order[next]].0 + ranges[order[next]].1);
            next += 1;
        }
        // Read into spare capacity: zero-filling a buffer that is then read over cost a memset
        // of every byte read.
        let length = usize::try_from(end - start).map_err(std::io::Error::other)?;
        let mut span = Vec::with_capacity(length);
        (&*file).seek(SeekFrom::Start(start))?;
        file.take(end - start).read_to_end(&mut span)?;
        if span.len() != length {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let span = Bytes::from(span);
        for &i in &order[group..next] {
            let from = (ranges[i].0 - start) as usize;
            out[i] = span.slice(from..from + ranges[i].1 as usize);
        }
        group = next;
    }
    Ok(out)
}

impl ReadableStorageTraits for LocalStore {
    /// One open file per call; nearby ranges coalesced (`read_ranges`). A value replaced while
    /// it is read is not torn: the open file keeps the old one.
    fn get_partial_many<'a>(
        &'a self,
        key: &StoreKey,
        byte_ranges: ByteRangeIterator<'a>,
    ) -> Result<MaybeBytesIterator<'a>, StorageError> {
        let Some((file, size)) = self.open(key)? else {
            return Ok(None);
        };
        let ranges = byte_ranges
            .map(|range| {
                let (offset, length) = match range {
                    ByteRange::FromStart(offset, None) => (offset, size.checked_sub(offset)),
                    ByteRange::FromStart(offset, Some(length)) => (
                        offset,
                        offset
                            .checked_add(length)
                            .filter(|&end| end <= size)
                            .map(|_| length),
                    ),
                    ByteRange::Suffix(length) => (
                        size.wrapping_sub(length),
                        (length <= size).then_some(length),
                    ),
                };
                length
                    .map(|length| (offset, length))
                    .ok_or_else(|| StorageError::from(InvalidByteRangeError::new(range, size)))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let values = read_ranges(&file, &ranges)?;
        Ok(Some(Box::new(values.into_iter().map(Ok))))
    }

    fn size_key(&self, key: &StoreKey) -> Result<Option<u64>, StorageError> {
        self.filesystem.size_key(key)
    }

    fn supports_get_partial(&self) -> bool {
        self.filesystem.supports_get_partial()
    }
}

impl WritableStorageTraits for LocalStore {
    fn set(&self, key: &StoreKey, value: Bytes) -> Result<(), StorageError> {
        Ok(self.write_replacing(key, &value)?)
    }

    fn set_partial_many(
        &self,
        key: &StoreKey,
        offset_values: OffsetBytesIterator,
    ) -> Result<(), StorageError> {
        self.filesystem.set_partial_many(key, offset_values)
    }

    fn erase(&self, key: &StoreKey) -> Result<(), StorageError> {
        self.filesystem.erase(key)
    }

    fn erase_prefix(&self, prefix: &StorePrefix) -> Result<(), StorageError> {
        self.filesystem.erase_prefix(prefix)
    }

    fn supports_set_partial(&self) -> bool {
        self.filesystem.supports_set_partial()
    }
}

/// Listings leave zarrlib's own files out (`is_internal`).
impl ListableStorageTraits for LocalStore {
    fn list(&self) -> Result<StoreKeys, StorageError> {
        Ok(without_internal(self.filesystem.list()?))
    }

    fn list_prefix(&self, prefix: &StorePrefix) -> Result<StoreKeys, StorageError> {
        Ok(without_internal(self.filesystem.list_prefix(prefix)?))
    }

    fn list_dir(&self, prefix: &StorePrefix) -> Result<StoreKeysPrefixes, StorageError> {
        let listing = self.filesystem.list_dir(prefix)?;
        Ok(StoreKeysPrefixes::new(
            without_internal(listing.keys().clone()),
            listing.prefixes().clone(),
        ))
    }

    fn size_prefix(&self, prefix: &StorePrefix) -> Result<u64, StorageError> {
        let mut size = 0;
        for key in self.list_prefix(prefix)? {
            size += self.size_key(&key)?.unwrap_or(0);
        }
        Ok(size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zarrs::filesystem::FilesystemStoreOptions;

    fn store(dir: &Path, sync: bool) -> LocalStore {
        let filesystem =
            FilesystemStore::new_with_options(dir, FilesystemStoreOptions::default()).unwrap();
        LocalStore::new(filesystem, sync)
    }

    fn files_in(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = walk(dir)
            .into_iter()
            .map(|path| {
                path.strip_prefix(dir)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        names.sort();
        names
    }

    fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
        let mut files = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                files.extend(walk(&path));
            } else {
                files.push(path);
            }
        }
        files
    }

    #[test]
    fn writes_replace_values_and_leave_no_temporary_files() {
        for sync in [false, true] {
            let dir = temp_dir::TempDir::new().unwrap();
            let store = store(dir.path(), sync);
            let key = StoreKey::new("a/c/0/1").unwrap();
            store.set(&key, Bytes::from_static(b"first value")).unwrap();
            store.set(&key, Bytes::from_static(b"second")).unwrap();
            assert_eq!(store.get(&key).unwrap().unwrap().as_ref(), b"second");
            store.set(&key, Bytes::new()).unwrap();
            assert_eq!(store.get(&key).unwrap().unwrap().len(), 0);
            assert_eq!(files_in(dir.path()), ["a/c/0/1"]);
            store.erase(&key).unwrap();
            assert!(store.get(&key).unwrap().is_none());
        }
    }

    #[test]
    fn temporary_names_are_recognised() {
        for name in ["zarr.json", "c", ".zattrs", ".zarray.tmp", "0.0"] {
            assert!(is_temporary(&temporary_name(name)), "{name}");
            assert!(!is_temporary(name), "{name}");
        }
        for name in [
            ".zarrlib-1-2.tmp",
            ".x.zarrlib-1.tmp",
            ".x.zarrlib-a-2.tmp",
            ".x.zarrlib-1-.tmp",
            "x.zarrlib-1-2.tmp",
            ".x.zarrlib-1-2",
        ] {
            assert!(!is_temporary(name), "{name}");
        }
    }

    /// What a writer killed between writing its temporary file and renaming it leaves behind
    /// (and the process lock file) is in no listing and no size.
    #[test]
    fn listings_skip_leftover_temporary_files() {
        let dir = temp_dir::TempDir::new().unwrap();
        let store = store(dir.path(), false);
        store
            .set(
                &StoreKey::new("a/zarr.json").unwrap(),
                Bytes::from_static(b"{}"),
            )
            .unwrap();
        store
            .set(&StoreKey::new("a/c/0").unwrap(), Bytes::from_static(b"abc"))
            .unwrap();
        for leftover in [
            format!("a/{}", temporary_name("zarr.json")),
            format!("a/c/{}", temporary_name("0")),
            format!("a/{}", crate::process_locks::LOCK_FILE),
        ] {
            std::fs::write(dir.path().join(leftover), b"partial value").unwrap();
        }
        let names = |keys: StoreKeys| -> Vec<String> {
            let mut names: Vec<String> = keys.iter().map(|k| k.as_str().to_owned()).collect();
            names.sort();
            names
        };
        assert_eq!(names(store.list().unwrap()), ["a/c/0", "a/zarr.json"]);
        let a = StorePrefix::new("a/").unwrap();
        assert_eq!(
            names(store.list_prefix(&a).unwrap()),
            ["a/c/0", "a/zarr.json"]
        );
        let listing = store.list_dir(&a).unwrap();
        assert_eq!(names(listing.keys().clone()), ["a/zarr.json"]);
        assert_eq!(listing.prefixes(), &[StorePrefix::new("a/c/").unwrap()]);
        assert_eq!(store.size_prefix(&a).unwrap(), 5);
        // They go with their node.
        store.erase_prefix(&a).unwrap();
        assert!(files_in(dir.path()).is_empty());
    }

    #[test]
    fn synced_writes_create_their_directories() {
        let dir = temp_dir::TempDir::new().unwrap();
        let root = dir.path().join("new/store");
        let store = store(&root, true);
        let key = StoreKey::new("a/b/c/0").unwrap();
        store.set(&key, Bytes::from_static(b"v")).unwrap();
        assert_eq!(store.get(&key).unwrap().unwrap().as_ref(), b"v");
        assert_eq!(files_in(&root), ["a/b/c/0"]);
    }

    #[test]
    fn a_failed_write_leaves_the_old_value_and_no_temporary_file() {
        let dir = temp_dir::TempDir::new().unwrap();
        let store = store(dir.path(), false);
        let key = StoreKey::new("a/0").unwrap();
        store.set(&key, Bytes::from_static(b"old")).unwrap();
        // A directory where the value's file should go makes the rename fail.
        let blocked = StoreKey::new("a/1").unwrap();
        std::fs::create_dir_all(dir.path().join("a/1/x")).unwrap();
        let err = store.set(&blocked, Bytes::from_static(b"new")).unwrap_err();
        assert!(matches!(err, StorageError::IOError(_)), "{err:?}");
        assert_eq!(store.get(&key).unwrap().unwrap().as_ref(), b"old");
        assert_eq!(files_in(dir.path()), ["a/0"]);
    }

    #[test]
    fn byte_ranges_read_alike_coalesced_or_not() {
        let dir = temp_dir::TempDir::new().unwrap();
        let store = store(dir.path(), false);
        let key = StoreKey::new("v").unwrap();
        let value: Vec<u8> = (0..20_000u32).map(|n| (n % 251) as u8).collect();
        store.set(&key, Bytes::from(value.clone())).unwrap();
        // Out of order, overlapping, adjacent, far apart, empty, suffix, to the end.
        let ranges = [
            ByteRange::FromStart(10_000, Some(16)),
            ByteRange::FromStart(16, Some(16)),
            ByteRange::FromStart(0, Some(32)),
            ByteRange::FromStart(272, Some(16)),
            ByteRange::FromStart(19_000, Some(0)),
            ByteRange::Suffix(100),
            ByteRange::FromStart(19_990, None),
        ];
        let got: Vec<Bytes> = store
            .get_partial_many(&key, Box::new(ranges.into_iter()))
            .unwrap()
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        for (range, bytes) in ranges.iter().zip(&got) {
            assert_eq!(
                bytes.as_ref(),
                &value[range.to_range_usize(20_000)],
                "{range:?}"
            );
        }
        assert_eq!(store.get(&key).unwrap().unwrap().as_ref(), &value[..]);
        assert_eq!(store.size_key(&key).unwrap(), Some(20_000));
        assert!(
            store
                .get(&StoreKey::new("missing").unwrap())
                .unwrap()
                .is_none()
        );
        for bad in [
            ByteRange::FromStart(19_999, Some(2)),
            ByteRange::FromStart(20_001, None),
            ByteRange::FromStart(u64::MAX, Some(2)),
            ByteRange::Suffix(20_001),
        ] {
            let err = store.get_partial(&key, bad).err().unwrap();
            assert!(
                matches!(err, StorageError::InvalidByteRangeError(_)),
                "{bad:?}: {err:?}"
            );
        }
    }

    #[test]
    fn readers_never_see_a_torn_value() {
        let dir = temp_dir::TempDir::new().unwrap();
        let store = store(dir.path(), false);
        let key = StoreKey::new("c/0").unwrap();
        let values: Vec<Bytes> = (0..4u8).map(|n| Bytes::from(vec![n; 1 << 20])).collect();
        store.set(&key, values[0].clone()).unwrap();
        std::thread::scope(|scope| {
            scope.spawn(|| {
                for round in 0..40 {
                    store.set(&key, values[round % 4].clone()).unwrap();
                }
            });
            for _ in 0..40 {
                let read = store.get(&key).unwrap().unwrap();
                assert_eq!(read.len(), 1 << 20);
                assert!(read.iter().all(|byte| *byte == read[0]), "a torn read");
            }
        });
    }
}
