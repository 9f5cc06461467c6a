//! Zip files checked before zarrs_zip opens them.
//!
//! zarrs_zip reads a zip's central directory by driving rc-zip's parser, feeding it the bytes it
//! asks for and nothing when it asks past the end of the file. rc-zip then waits for more, so a
//! zip whose central directory runs past its end (an entry's name length pointing beyond it)
//! made opening loop forever (found by fuzzing, tests/fuzz). zarrlib drives the same parser over
//! the same bytes first, and refuses a zip on which it stops making progress, or whose entries
//! zarrs_zip could not read (data past the end of the file, or a declared size past the limit).

use rc_zip::fsm::{ArchiveFsm, FsmResult};
use zarrs::storage::byte_range::ByteRange;
use zarrs::storage::{ReadableListableStorage, StoreKey};

use crate::error::{Error, Result};

/// Parse the central directory of the zip at `key` in `container`, as zarrs_zip will, failing
/// with `InvalidArgument` (naming `url`) where that parse would not end. A zip that is missing
/// or fails to parse otherwise is left to zarrs_zip, which reports it.
pub(crate) fn check_zip(
    container: &ReadableListableStorage,
    key: &StoreKey,
    url: &str,
) -> Result<()> {
    let Some(size) = container.size_key(key)? else {
        return Ok(());
    };
    let mut fsm = ArchiveFsm::new(size);
    // Reads that gave the parser no byte, in a row: one is how it learns of the end of the
    // file; a second means it waits for bytes that will never come.
    let mut empty_reads = 0;
    loop {
        if let Some(offset) = fsm.wants_read() {
            let space = fsm.space();
            let wanted = (space.len() as u64).min(size.saturating_sub(offset));
            let mut given = 0;
            if wanted > 0
                && let Some(bytes) =
                    container.get_partial(key, ByteRange::FromStart(offset, Some(wanted)))?
            {
                given = bytes.len().min(space.len());
                space[..given].copy_from_slice(&bytes[..given]);
            }
            fsm.fill(given);
            empty_reads = if given == 0 { empty_reads + 1 } else { 0 };
            if empty_reads > 1 {
                return Err(Error::invalid_argument(format!(
                    "{url:?} is not a zip file a store can be read from: its central directory runs past the end of the file"
                )));
            }
        }
        match fsm.process() {
            Ok(FsmResult::Continue(next)) => fsm = next,
            Ok(FsmResult::Done(archive)) => return check_entries(&archive, size, url),
            Err(_) => return Ok(()),
        }
    }
}

/// zarrs_zip reads an entry the same way, waiting forever for compressed bytes past the end of
/// the file, into a buffer of the size the entry declares (found by fuzzing): so each entry's
/// compressed bytes must lie within the file, and its size within the chunk size limit.
fn check_entries(archive: &rc_zip::Archive, size: u64, url: &str) -> Result<()> {
    for entry in archive.entries() {
        let refuse = |why: String| {
            Err(Error::invalid_argument(format!(
                "{url:?} is not a zip file a store can be read from: entry {:?} {why}",
                entry.name
            )))
        };
        // The local header holds 30 bytes and the name before the data (and an extra field,
        // whose length only that header has: reading each would cost a request per entry).
        let end = (entry.header_offset)
            .checked_add(30 + entry.name.len() as u64)
            .and_then(|start| start.checked_add(entry.compressed_size));
        if end.is_none_or(|end| end > size) {
            return refuse("runs past the end of the file".into());
        }
        let limit = crate::config::max_chunk_bytes();
        if entry.uncompressed_size > limit {
            let declared = entry.uncompressed_size;
            return refuse(format!(
                "declares {declared} bytes, more than the {limit}-byte limit"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;
    use std::time::Duration;

    use crate::error::ErrorKind;
    use crate::store::Store;

    /// A zip of one central directory entry whose name length (`name_len`) may run past the end
    /// of the file, and the end of central directory record after it.
    fn zip_with_name_length(name_len: u16) -> Vec<u8> {
        zip_with(name_len, 0)
    }

    /// As `zip_with_name_length`, the entry declaring `entry_size` bytes (stored, not deflated).
    fn zip_with(name_len: u16, entry_size: u32) -> Vec<u8> {
        let mut zip = Vec::new();
        zip.extend_from_slice(&0x0201_4b50u32.to_le_bytes()); // central directory header
        zip.extend_from_slice(&[20, 3, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0]); // versions, flags, method, time, date
        zip.extend_from_slice(&[0; 4]); // crc
        zip.extend_from_slice(&entry_size.to_le_bytes()); // compressed size
        zip.extend_from_slice(&entry_size.to_le_bytes()); // uncompressed size
        zip.extend_from_slice(&name_len.to_le_bytes());
        zip.extend_from_slice(&[0; 16]); // extra and comment lengths, disk, attributes, offset
        zip.extend_from_slice(b"zarr.json");
        let directory_size = zip.len() as u32;
        zip.extend_from_slice(&0x0605_4b50u32.to_le_bytes()); // end of central directory
        zip.extend_from_slice(&[0, 0, 0, 0, 1, 0, 1, 0]);
        zip.extend_from_slice(&directory_size.to_le_bytes());
        zip.extend_from_slice(&0u32.to_le_bytes());
        zip.extend_from_slice(&[0, 0]);
        zip
    }

    /// Open the zip `bytes` as a store, on another thread: within 20 seconds, or a failure.
    fn open(bytes: Vec<u8>) -> crate::error::Result<Store> {
        let dir = temp_dir::TempDir::new().unwrap();
        let path = dir.path().join("data.zip");
        std::fs::write(&path, bytes).unwrap();
        let (send, receive) = mpsc::channel();
        std::thread::spawn(move || {
            let _ = send.send(Store::open(path.to_str().unwrap(), None));
        });
        let opened = receive.recv_timeout(Duration::from_secs(20));
        drop(dir);
        opened.expect("opening the zip file did not end")
    }

    #[test]
    fn a_central_directory_past_the_end_of_the_file_is_refused() {
        let err = open(zip_with_name_length(0xffef)).err().unwrap();
        assert_eq!(err.kind, ErrorKind::InvalidArgument, "{}", err.message);
        assert!(err.message.contains("past the end"), "{}", err.message);
    }

    #[test]
    fn an_entry_past_the_end_of_the_file_is_refused() {
        let err = open(zip_with(9, 1000)).err().unwrap();
        assert_eq!(err.kind, ErrorKind::InvalidArgument, "{}", err.message);
        assert!(err.message.contains("runs past the end"), "{}", err.message);
    }

    #[test]
    fn a_zip_whose_entries_fit_opens() {
        assert!(open(zip_with_name_length(9)).is_ok());
    }
}
