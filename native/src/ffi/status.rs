//! Status codes and node kinds. These values are part of the stable ABI: never renumber one.

use crate::error::ErrorKind;

/// The status every fallible function returns (as an int32_t).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum zarrlib_status {
    /// Success.
    ZARRLIB_OK = 0,
    /// An argument is invalid: a NULL pointer, a string that is not UTF-8, a malformed path or URL,
    /// a dimension count that does not match the array.
    ZARRLIB_ERR_INVALID_ARGUMENT = -1,
    /// A handle argument is not a live handle of the expected type.
    ZARRLIB_ERR_INVALID_HANDLE = -2,
    /// A buffer's length does not match the size the operation needs.
    ZARRLIB_ERR_BUFFER_SIZE = -3,
    /// Chunk coordinates or a region lie outside the array.
    ZARRLIB_ERR_OUT_OF_BOUNDS = -4,
    /// No node exists at the path.
    ZARRLIB_ERR_NOT_FOUND = -5,
    /// A node already exists at the path.
    ZARRLIB_ERR_ALREADY_EXISTS = -6,
    /// The node is of the wrong kind (a group where an array is needed, or a node inside an array).
    ZARRLIB_ERR_NODE_KIND = -7,
    /// A metadata document is malformed or inconsistent.
    ZARRLIB_ERR_INVALID_METADATA = -8,
    /// A valid request that zarrlib does not support (an unknown codec or data type, a store scheme).
    ZARRLIB_ERR_UNSUPPORTED = -9,
    /// The store failed (an I/O error).
    ZARRLIB_ERR_STORAGE = -10,
    /// Stored chunk bytes could not be decoded (corrupt, truncated, or a checksum mismatch).
    ZARRLIB_ERR_CORRUPT_DATA = -11,
    /// An unexpected failure inside the engine.
    ZARRLIB_ERR_INTERNAL = -12,
    /// The engine panicked; the call was abandoned. The message says where.
    ZARRLIB_ERR_PANIC = -13,
    /// A write to a read-only store (HTTP, a zip file, or one opened with `read_only`).
    ZARRLIB_ERR_READ_ONLY = -14,
}

/// The node kinds `zarrlib_node_kind` reports (as an int32_t).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum zarrlib_node_type {
    /// Nothing is at the path.
    ZARRLIB_NODE_NONE = 0,
    /// An array.
    ZARRLIB_NODE_ARRAY = 1,
    /// A group.
    ZARRLIB_NODE_GROUP = 2,
}

pub use zarrlib_node_type::*;
pub use zarrlib_status::*;

pub(crate) fn status_of(kind: ErrorKind) -> i32 {
    let status = match kind {
        ErrorKind::InvalidArgument => ZARRLIB_ERR_INVALID_ARGUMENT,
        ErrorKind::InvalidHandle => ZARRLIB_ERR_INVALID_HANDLE,
        ErrorKind::BufferSize => ZARRLIB_ERR_BUFFER_SIZE,
        ErrorKind::OutOfBounds => ZARRLIB_ERR_OUT_OF_BOUNDS,
        ErrorKind::NotFound => ZARRLIB_ERR_NOT_FOUND,
        ErrorKind::AlreadyExists => ZARRLIB_ERR_ALREADY_EXISTS,
        ErrorKind::NodeKind => ZARRLIB_ERR_NODE_KIND,
        ErrorKind::InvalidMetadata => ZARRLIB_ERR_INVALID_METADATA,
        ErrorKind::Unsupported => ZARRLIB_ERR_UNSUPPORTED,
        ErrorKind::Storage => ZARRLIB_ERR_STORAGE,
        ErrorKind::CorruptData => ZARRLIB_ERR_CORRUPT_DATA,
        ErrorKind::Internal => ZARRLIB_ERR_INTERNAL,
        ErrorKind::ReadOnly => ZARRLIB_ERR_READ_ONLY,
    };
    status as i32
}

/// NUL-terminated names, so `zarrlib_status_name` can hand out static C strings.
const STATUS_NAMES: [(zarrlib_status, &str); 15] = [
    (ZARRLIB_OK, "ZARRLIB_OK\0"),
    (
        ZARRLIB_ERR_INVALID_ARGUMENT,
        "ZARRLIB_ERR_INVALID_ARGUMENT\0",
    ),
    (ZARRLIB_ERR_INVALID_HANDLE, "ZARRLIB_ERR_INVALID_HANDLE\0"),
    (ZARRLIB_ERR_BUFFER_SIZE, "ZARRLIB_ERR_BUFFER_SIZE\0"),
    (ZARRLIB_ERR_OUT_OF_BOUNDS, "ZARRLIB_ERR_OUT_OF_BOUNDS\0"),
    (ZARRLIB_ERR_NOT_FOUND, "ZARRLIB_ERR_NOT_FOUND\0"),
    (ZARRLIB_ERR_ALREADY_EXISTS, "ZARRLIB_ERR_ALREADY_EXISTS\0"),
    (ZARRLIB_ERR_NODE_KIND, "ZARRLIB_ERR_NODE_KIND\0"),
    (
        ZARRLIB_ERR_INVALID_METADATA,
        "ZARRLIB_ERR_INVALID_METADATA\0",
    ),
    (ZARRLIB_ERR_UNSUPPORTED, "ZARRLIB_ERR_UNSUPPORTED\0"),
    (ZARRLIB_ERR_STORAGE, "ZARRLIB_ERR_STORAGE\0"),
    (ZARRLIB_ERR_CORRUPT_DATA, "ZARRLIB_ERR_CORRUPT_DATA\0"),
    (ZARRLIB_ERR_INTERNAL, "ZARRLIB_ERR_INTERNAL\0"),
    (ZARRLIB_ERR_PANIC, "ZARRLIB_ERR_PANIC\0"),
    (ZARRLIB_ERR_READ_ONLY, "ZARRLIB_ERR_READ_ONLY\0"),
];

pub(crate) fn status_name(code: i32) -> &'static str {
    STATUS_NAMES
        .iter()
        .find(|(status, _)| *status as i32 == code)
        .map_or("ZARRLIB_UNKNOWN_STATUS\0", |(_, name)| name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_has_its_own_name() {
        for (status, name) in STATUS_NAMES {
            assert_eq!(status_name(status as i32), name);
            assert_eq!(
                name.strip_suffix('\0'),
                Some(format!("{status:?}").as_str())
            );
        }
        assert_eq!(status_name(12345), "ZARRLIB_UNKNOWN_STATUS\0");
    }
}
