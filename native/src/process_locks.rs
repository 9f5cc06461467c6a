//! Advisory locks between processes on a local directory store: the `process_locks` option.
//!
//! Within a process, `chunk_locks` serialises writes to one chunk, so a partial write (read the
//! chunk, change part of it, write it back) never loses another's update. Processes share no
//! memory, so without more two of them writing parts of one chunk at once can each write back a
//! chunk that lacks the other's part. With the option, every chunk lock `chunk_locks` takes is
//! also taken in the array's lock file, `.zarrlib.lock` in the array's directory, as a POSIX
//! advisory lock on the byte of the lock's stripe: processes then serialise as threads do.
//!
//! On Linux the locks are open file description locks (`F_OFD_SETLKW`): each acquisition opens
//! the file itself and owns its locks, so threads of one process exclude each other as processes
//! do, and closing the file releases them (also when a process dies). Elsewhere the whole file
//! is locked (`File::lock`), which is correct but serialises every locked call on the array.
//! Stripes are locked in ascending order, as `chunk_locks` takes them, so no set of processes
//! can deadlock. The lock file holds no data; listings leave it out, and it goes with the array.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::PathBuf;

use crate::chunk_locks::Access;
use crate::error::{Error, ErrorKind, Result};

/// The name of the lock file in an array's directory.
pub(crate) const LOCK_FILE: &str = ".zarrlib.lock";

/// The process locks of a directory store: its root, and whether lock files may be created
/// (not in a read-only store, which then locks only against writers that made the file).
#[derive(Clone, Debug)]
pub struct ProcessLocks {
    root: PathBuf,
    create: bool,
}

impl ProcessLocks {
    pub fn new(root: PathBuf, create: bool) -> Self {
        Self { root, create }
    }

    /// The lock file of the array at the node path `array_path` ("/" or "/a/b").
    pub fn for_array(&self, array_path: &str) -> ArrayLockFile {
        let relative = array_path.trim_start_matches('/');
        ArrayLockFile {
            path: self.root.join(relative).join(LOCK_FILE),
            create: self.create,
        }
    }
}

/// One array's lock file.
#[derive(Debug)]
pub struct ArrayLockFile {
    path: PathBuf,
    create: bool,
}

/// Locks held in a lock file, released when this is dropped (the file is closed).
pub struct HeldFileLocks {
    #[allow(dead_code)] // Held only to be closed.
    file: File,
}

impl ArrayLockFile {
    /// The lock file, opened for this acquisition; `None` to run unlocked: in a read-only store
    /// (which never writes, and reads unlocked where no writer has made the file), or for a
    /// reader that cannot make the file (no writer can have locked there).
    fn open(&self, access: Access) -> io::Result<Option<File>> {
        if !self.create {
            let file = OpenOptions::new().read(true).open(&self.path);
            return Ok(file.ok().filter(|_| access == Access::Read));
        }
        let open = || {
            OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&self.path)
        };
        // The array's directory is missing only while nothing of the array is stored (one
        // opened from the caller's metadata alone): make it then.
        let opened = open().or_else(|err| match self.path.parent() {
            Some(directory) if err.kind() == io::ErrorKind::NotFound => {
                std::fs::create_dir_all(directory).and_then(|()| open())
            }
            _ => Err(err),
        });
        match opened {
            Ok(file) => Ok(Some(file)),
            Err(_) if access == Access::Read => Ok(None),
            Err(err) => Err(err),
        }
    }

    /// Lock `stripes` (ascending, each once) for `access`, waiting for other holders.
    pub fn lock(
        &self,
        access: Access,
        stripes: impl Iterator<Item = usize>,
    ) -> Result<Option<HeldFileLocks>> {
        let failed = |err: io::Error| {
            Error::new(
                ErrorKind::Storage,
                format!("cannot lock {}: {err}", self.path.display()),
            )
        };
        let Some(file) = self.open(access).map_err(failed)? else {
            return Ok(None);
        };
        lock_stripes(&file, access, stripes).map_err(failed)?;
        Ok(Some(HeldFileLocks { file }))
    }
}

/// Runs of consecutive stripes, as (first, count).
fn runs(stripes: impl Iterator<Item = usize>) -> Vec<(usize, usize)> {
    let mut runs: Vec<(usize, usize)> = Vec::new();
    for stripe in stripes {
        match runs.last_mut() {
            Some((first, count)) if *first + *count == stripe => *count += 1,
            _ => runs.push((stripe, 1)),
        }
    }
    runs
}

#[cfg(target_os = "linux")]
fn lock_stripes(
    file: &File,
    access: Access,
    stripes: impl Iterator<Item = usize>,
) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    for (first, count) in runs(stripes) {
        // SAFETY: `flock` is a plain C struct for which all zeroes is a valid value.
        let mut request: libc::flock = unsafe { std::mem::zeroed() };
        request.l_type = match access {
            Access::Read => libc::F_RDLCK,
            Access::Write => libc::F_WRLCK,
        } as libc::c_short;
        request.l_whence = libc::SEEK_SET as libc::c_short;
        request.l_start = first as libc::off_t;
        request.l_len = count as libc::off_t;
        // l_pid stays 0, as open file description locks require.
        loop {
            // SAFETY: the descriptor is open for the duration of the call and `request` is a
            // valid `flock` that outlives it.
            let status =
                unsafe { libc::fcntl(file.as_raw_fd(), libc::F_OFD_SETLKW, &raw mut request) };
            if status == 0 {
                break;
            }
            let err = io::Error::last_os_error();
            if err.kind() != io::ErrorKind::Interrupted {
                return Err(err);
            }
        }
    }
    Ok(())
}

#[cfg(not(target_os = "linux"))]
fn lock_stripes(
    file: &File,
    access: Access,
    stripes: impl Iterator<Item = usize>,
) -> io::Result<()> {
    if runs(stripes).is_empty() {
        return Ok(());
    }
    match access {
        Access::Read => file.lock_shared(),
        Access::Write => file.lock(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stripes_group_into_runs() {
        assert_eq!(runs([].into_iter()), []);
        assert_eq!(
            runs([0, 1, 2, 5, 7, 8].into_iter()),
            [(0, 3), (5, 1), (7, 2)]
        );
    }

    /// Two acquisitions in one process exclude each other (each owns its open file
    /// description), on overlapping stripes only; shared locks share.
    #[test]
    #[cfg(target_os = "linux")]
    fn acquisitions_exclude_each_other_on_overlapping_stripes() {
        use std::sync::atomic::{AtomicBool, Ordering};
        use std::time::Duration;
        let dir = temp_dir::TempDir::new().unwrap();
        let locks = ProcessLocks::new(dir.path().to_path_buf(), true).for_array("/a");
        let held = locks.lock(Access::Write, [1, 2].into_iter()).unwrap();
        assert!(dir.path().join("a").join(LOCK_FILE).is_file());
        // A disjoint stripe is free.
        drop(locks.lock(Access::Write, [3].into_iter()).unwrap());
        let readers = locks.lock(Access::Read, [5].into_iter()).unwrap();
        drop(locks.lock(Access::Read, [5].into_iter()).unwrap());
        drop(readers);
        let acquired = AtomicBool::new(false);
        std::thread::scope(|scope| {
            scope.spawn(|| {
                let _second = locks.lock(Access::Read, [0, 1].into_iter()).unwrap();
                acquired.store(true, Ordering::SeqCst);
            });
            std::thread::sleep(Duration::from_millis(200));
            assert!(
                !acquired.load(Ordering::SeqCst),
                "an overlapping lock was granted"
            );
            drop(held);
        });
        assert!(acquired.load(Ordering::SeqCst));
    }

    #[test]
    fn a_read_only_store_never_creates_the_lock_file() {
        let dir = temp_dir::TempDir::new().unwrap();
        let locks = ProcessLocks::new(dir.path().to_path_buf(), false).for_array("/a");
        assert!(locks.lock(Access::Read, [0].into_iter()).unwrap().is_none());
        assert!(
            locks
                .lock(Access::Write, [0].into_iter())
                .unwrap()
                .is_none()
        );
        assert!(!dir.path().join("a").exists());
        // Where a writer made the file, a read-only store's readers lock too.
        let writable = ProcessLocks::new(dir.path().to_path_buf(), true).for_array("/a");
        drop(
            writable
                .lock(Access::Write, [0].into_iter())
                .unwrap()
                .unwrap(),
        );
        assert!(locks.lock(Access::Read, [0].into_iter()).unwrap().is_some());
    }
}
