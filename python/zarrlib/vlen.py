"""Variable-length data types: ``string`` and ``bytes`` arrays (Zarr v3, and zarr-python's Zarr v2
``|O`` with a ``vlen-utf8`` or ``vlen-bytes`` filter).

The engine hands elements over as Arrow-style buffers (``n + 1`` offsets into the elements'
bytes, see ``zarrlib_vlen`` in the header): one call decodes, one sizes, one copies. Turning
those buffers into Python strings without a Python-level loop: the elements are joined with a
separator byte that none of them holds (found with a C-speed search), then decoded and split
once, in C. Writes go the other way: the elements are joined once, and their byte lengths
measured with ``map`` (no bytecode per element).

``string`` arrays read as ``numpy.dtypes.StringDType()`` (numpy 2), or as object arrays of
``str`` when ``zarrlib.set_config(string_dtype="object")`` says so (and always on numpy 1);
``bytes`` arrays read as object arrays of ``bytes``. Writes take ``str``, ``bytes``, object and
StringDType arrays of any width.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from ._native import check, ffi, lib
from ._types import Document, DType, NDArray
from .indexing import broadcast_for_assignment

#: The names the engine reports for variable-length data types.
VLEN_TYPES = ("string", "bytes")

_STRING_DTYPES = ("StringDType", "object")
_string_dtype = "StringDType"

# Bytes that never occur inside a multi-byte UTF-8 character, tried in turn as the separator.
_SEPARATORS = (0x1F, 0x1E, 0x1D, 0x1C, 0x00, 0x01, 0x02, 0x03)


def has_string_dtype() -> bool:
    return hasattr(np, "dtypes") and hasattr(np.dtypes, "StringDType")


def get_string_dtype() -> str:
    return _string_dtype


def set_string_dtype(name: str) -> None:
    """What ``string`` arrays read as: ``"StringDType"`` (numpy 2's variable-width strings, the
    default) or ``"object"`` (object arrays of ``str``)."""
    global _string_dtype
    if name not in _STRING_DTYPES:
        raise ValueError(f"string_dtype must be one of {_STRING_DTYPES}, not {name!r}")
    _string_dtype = name


def numpy_vlen_dtype(data_type: str) -> DType:
    """The dtype reads of a ``string`` or ``bytes`` array return now."""
    if data_type == "string" and _string_dtype == "StringDType" and has_string_dtype():
        string_dtype: DType = np.dtype(np.dtypes.StringDType())
        return string_dtype
    return np.dtype(object)


def fill_value(data_type: str, metadata: Document) -> str | bytes:
    """The fill value of a ``string`` or ``bytes`` array as its document states it (Zarr v2's
    null and zarr-python's 0 mean empty)."""
    value = metadata.get("fill_value")
    if data_type == "string":
        return value if isinstance(value, str) else ""
    if isinstance(value, list):
        return bytes(value)
    if isinstance(value, str) and metadata.get("zarr_format") == 3:
        return base64.b64decode(value)
    return value.encode() if isinstance(value, str) else b""


def read(call: Callable[[Any], int], shape: tuple[int, ...], data_type: str) -> NDArray:
    """Run a ``zarrlib_array_read_*_vlen`` call (given its ``zarrlib_vlen **``) and return the
    elements as an array of ``shape``."""
    out = ffi.new("zarrlib_vlen **")
    check(call(out))
    vlen = ffi.gc(out[0], lib.zarrlib_vlen_free)
    elements = ffi.new("size_t *")
    nbytes = ffi.new("size_t *")
    check(lib.zarrlib_vlen_sizes(vlen, elements, nbytes))
    offsets = np.empty(elements[0] + 1, np.uint64)
    data = bytearray(nbytes[0])
    check(
        lib.zarrlib_vlen_copy(
            vlen,
            ffi.from_buffer("uint64_t[]", offsets, require_writable=True),
            len(offsets),
            ffi.from_buffer(data),
            len(data),
        )
    )
    dtype = numpy_vlen_dtype(data_type)
    padded = _padded(vlen, offsets, data) if dtype.kind == "T" or data_type == "bytes" else None
    ffi.release(vlen)
    if padded is not None:
        # numpy decodes fixed-width bytes into StringDType as UTF-8, in C.
        return padded.astype(dtype).reshape(shape)
    items = _split(data, offsets, text=data_type == "string")
    return np.array(items, dtype=dtype).reshape(shape)


def _padded(vlen: Any, offsets: NDArray, data: bytearray) -> NDArray | None:
    """The elements as a fixed-width ``S`` array, when that is exact (no element ends in a NUL
    byte, which ``S`` would strip) and small (cells at most 4 times the elements' bytes)."""
    n = len(offsets) - 1
    lengths = np.diff(offsets)
    width = max(int(lengths.max()) if n else 0, 1)
    if n * width > max(4 * len(data), 1 << 16):
        return None
    ends = offsets[1:][lengths > 0].astype(np.intp) - 1
    if ends.size and not np.frombuffer(data, np.uint8)[ends].all():
        return None
    cells = np.empty(n, f"S{width}")
    check(lib.zarrlib_vlen_copy_padded(vlen, width, ffi.from_buffer(cells, require_writable=True), cells.nbytes))
    return cells


def _split(data: bytearray, offsets: NDArray, *, text: bool) -> list[Any]:
    """The elements ``data[offsets[i]:offsets[i+1]]``, decoded as UTF-8 when ``text``."""
    n = len(offsets) - 1
    if n <= 1:
        item = bytes(data[: int(offsets[-1])])
        return [item.decode() if text else item] if n else []
    for sep in _SEPARATORS:
        if data.find(sep.to_bytes(1, "little")) < 0:
            break
    else:
        # Every candidate separator occurs in the data: element by element.
        bounds = offsets.tolist()
        pieces = list(map(bytes(data).__getitem__, map(slice, bounds[:-1], bounds[1:])))
        return list(map(bytes.decode, pieces)) if text else pieces
    joined = np.insert(np.frombuffer(data, np.uint8), offsets[1:-1].astype(np.intp), sep).tobytes()
    if text:
        return joined.decode().split(chr(sep))
    return joined.split(sep.to_bytes(1, "little"))


def encode(value: npt.ArrayLike, shape: tuple[int, ...], data_type: str) -> tuple[NDArray, bytes]:
    """``value`` broadcast to ``shape`` as numpy assignment would, as C-order offsets and bytes.
    ``str`` elements are encoded as UTF-8; ``bytes`` elements are taken as they are (the engine
    checks that a ``string`` array's are UTF-8)."""
    # Python strings and lists of them as objects: numpy's fixed-width str and bytes dtypes
    # drop trailing NULs ("\x00" would be written as "").
    array = value if isinstance(value, np.ndarray) else np.asarray(value, dtype=object)
    if array.dtype.kind not in "USOT":
        raise TypeError(f"a {data_type} array takes str or bytes elements, not {array.dtype}")
    array = broadcast_for_assignment(array, shape)
    items = array.ravel().tolist()
    kinds = set(map(type, items))
    if kinds <= {str}:
        data = "".join(items).encode()
        # UTF-8 takes one byte per character exactly when all are ASCII.
        ascii_only = len(data) == sum(map(len, items))
        lengths = map(len, items) if ascii_only else map(len, map(str.encode, items))
    elif kinds <= {bytes}:
        data = b"".join(items)
        lengths = map(len, items)
    else:
        for kind in kinds - {str, bytes}:
            raise TypeError(f"a {data_type} array takes str or bytes elements, not {kind.__name__}")
        encoded = [item.encode() if isinstance(item, str) else item for item in items]
        data = b"".join(encoded)
        lengths = map(len, encoded)
    offsets = np.zeros(len(items) + 1, np.uint64)
    np.cumsum(np.fromiter(lengths, np.uint64, len(items)), out=offsets[1:])
    return offsets, data


def write(call: Callable[[Any, int, Any, int], int], offsets: NDArray, data: bytes) -> None:
    """Run a ``zarrlib_array_write_*_vlen`` call given its offsets and bytes arguments."""
    check(call(ffi.from_buffer("uint64_t[]", offsets), len(offsets), ffi.from_buffer(data), len(data)))
