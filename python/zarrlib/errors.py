"""The exceptions zarrlib raises: one class per C status code, all under :class:`ZarrlibError`.

Each class also derives from the builtin exception a Python caller would naturally catch
(a missing node is a ``KeyError``, an invalid argument a ``ValueError``, out of bounds an
``IndexError``), and carries the library's message and its status code.
"""

from __future__ import annotations


class ZarrlibError(Exception):
    """Base of every error the zarrlib engine reports."""

    #: The C status name (``ZARRLIB_ERR_*``) this class stands for.
    status_name = "ZARRLIB_ERR_UNKNOWN"

    def __init__(self, message: str, status: int | None = None):
        # Only the message goes to the builtin base: OSError, for one, reads two arguments as
        # (errno, strerror).
        super().__init__(message)
        self.message = message
        self.status = status

    def __str__(self) -> str:
        # KeyError would otherwise show the message quoted, as a key.
        return self.message


class InvalidArgumentError(ZarrlibError, ValueError):
    """An argument is invalid: a malformed path or URL, a wrong dimension count, a zero step."""

    status_name = "ZARRLIB_ERR_INVALID_ARGUMENT"


class InvalidHandleError(ZarrlibError, ValueError):
    """A native handle is not a live handle of the expected type."""

    status_name = "ZARRLIB_ERR_INVALID_HANDLE"


class BufferSizeError(ZarrlibError, ValueError):
    """A buffer's size does not match what the operation needs."""

    status_name = "ZARRLIB_ERR_BUFFER_SIZE"


class OutOfBoundsError(ZarrlibError, IndexError):
    """Chunk coordinates or a selection lie outside the array."""

    status_name = "ZARRLIB_ERR_OUT_OF_BOUNDS"


class NodeNotFoundError(ZarrlibError, KeyError):
    """No node exists at the path."""

    status_name = "ZARRLIB_ERR_NOT_FOUND"


class NodeExistsError(ZarrlibError, FileExistsError):
    """A node already exists at the path."""

    status_name = "ZARRLIB_ERR_ALREADY_EXISTS"


class NodeKindError(ZarrlibError, TypeError):
    """The node is of the wrong kind: a group where an array is needed, or a node inside an array."""

    status_name = "ZARRLIB_ERR_NODE_KIND"


class InvalidMetadataError(ZarrlibError, ValueError):
    """A metadata document is malformed or inconsistent."""

    status_name = "ZARRLIB_ERR_INVALID_METADATA"


class UnsupportedError(ZarrlibError, NotImplementedError):
    """A valid request the engine does not support: an unknown codec or data type, a store scheme."""

    status_name = "ZARRLIB_ERR_UNSUPPORTED"


class StorageError(ZarrlibError, OSError):
    """The store failed (an I/O error)."""

    status_name = "ZARRLIB_ERR_STORAGE"


class CorruptDataError(ZarrlibError, ValueError):
    """Stored chunk bytes could not be decoded: corrupt, truncated, or a checksum mismatch."""

    status_name = "ZARRLIB_ERR_CORRUPT_DATA"


class InternalError(ZarrlibError, RuntimeError):
    """An unexpected failure inside the engine."""

    status_name = "ZARRLIB_ERR_INTERNAL"


class PanicError(ZarrlibError, RuntimeError):
    """The engine panicked and abandoned the call (a bug: please report it)."""

    status_name = "ZARRLIB_ERR_PANIC"


class ReadOnlyError(ZarrlibError, PermissionError):
    """A write to a read-only store: HTTP, a zip file, or one opened with ``read_only=True``."""

    status_name = "ZARRLIB_ERR_READ_ONLY"


ERROR_CLASSES = (
    InvalidArgumentError,
    InvalidHandleError,
    BufferSizeError,
    OutOfBoundsError,
    NodeNotFoundError,
    NodeExistsError,
    NodeKindError,
    InvalidMetadataError,
    UnsupportedError,
    StorageError,
    CorruptDataError,
    InternalError,
    PanicError,
    ReadOnlyError,
)

_BY_STATUS_NAME = {cls.status_name: cls for cls in ERROR_CLASSES}


def error_for_status(status: int, status_name: str, message: str) -> ZarrlibError:
    """The exception for a status code, given its C name and the library's message."""
    return _BY_STATUS_NAME.get(status_name, ZarrlibError)(message, status)
