"""An open native array handle and its I/O: the one place numpy buffers meet the C ABI.

Reads allocate the result once (or take the caller's ``out=``) and the engine decodes straight
into it; writes hand a C-contiguous array of the array's dtype over as it is, without a copy,
and convert anything else (cast and broadcast as numpy assignment would) first.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import numpy.typing as npt

from . import _native, native_indexed, vlen
from ._native import check, ffi, lib
from ._types import BasicSelection, ChunkCoords, Document, DType, NDArray
from .dtypes import SIGN_EXTENDED, numpy_dtype
from .errors import OutOfBoundsError
from .fancy import is_basic
from .indexing import Selection, broadcast_for_assignment, normalize_selection


def _chunk_coords(coords: ChunkCoords) -> list[int]:
    """Chunk coordinates as a list of non-negative ints."""
    if isinstance(coords, (int, np.integer)):
        coords = (coords,)
    try:
        values = [operator.index(c) for c in coords]
    except TypeError:
        raise TypeError(f"chunk coordinates must be a sequence of integers, not {coords!r}") from None
    if any(v < 0 for v in values):
        raise OutOfBoundsError(f"chunk coordinates {tuple(values)} are negative")
    # The engine takes uint64_t coordinates: larger ones lie outside any chunk grid.
    if any(v >= 1 << 64 for v in values):
        raise OutOfBoundsError(f"chunk coordinates {tuple(values)} lie outside any chunk grid")
    return values


def _read_target(out: NDArray | None, shape: tuple[int, ...], dtype: DType) -> tuple[NDArray, NDArray]:
    """The array to return and the C-contiguous buffer the engine decodes into (the same array
    unless the caller's ``out`` is not C-contiguous)."""
    if out is None:
        result = np.empty(shape, dtype)
        return result, result
    if not isinstance(out, np.ndarray):
        raise TypeError(f"out must be a numpy.ndarray, not {type(out).__name__}")
    if out.shape != shape:
        raise ValueError(f"out has shape {out.shape}, the selection has shape {shape}")
    if out.dtype != dtype:
        raise ValueError(f"out has dtype {out.dtype}, the array has dtype {dtype}")
    if not out.flags.writeable:
        raise ValueError("out is read-only")
    if out.flags.c_contiguous:
        return out, out
    return out, np.empty(shape, dtype)


def _write_source(value: npt.ArrayLike, shape: tuple[int, ...], dtype: DType) -> NDArray:
    """``value`` as a C-contiguous array of ``dtype`` and ``shape``, copied only if it must be."""
    if dtype.name in SIGN_EXTENDED:
        # The engine holds signed sub-byte integers sign-extended in a byte, ml_dtypes in its low bits.
        return broadcast_for_assignment(np.asarray(value, dtype=dtype), shape).astype(np.int8, order="C")
    if isinstance(value, np.ndarray) and value.dtype == dtype and value.shape == shape and value.flags.c_contiguous:
        return value
    return np.ascontiguousarray(broadcast_for_assignment(np.asarray(value, dtype=dtype), shape))


def _uint64s(getter: Callable[..., int], handle: Any, count: int) -> tuple[int, ...]:
    out = ffi.new("uint64_t[]", count)
    check(getter(handle, out, count))
    return tuple(out)


class NativeArray:
    """An open array: metadata parsed and codec chain built once, shared by every thread."""

    __slots__ = (
        "_handle",
        "path",
        "metadata",
        "shape",
        "ndim",
        "_dtype",
        "vlen",
        "chunk_shape",
        "chunk_grid_shape",
    )
    path: str
    metadata: Document
    ndim: int
    shape: tuple[int, ...]
    chunk_grid_shape: tuple[int, ...]
    #: None for a chunk grid that is not regular.
    chunk_shape: tuple[int, ...] | None
    #: "string" or "bytes" for a variable-length data type, else None.
    vlen: str | None

    def __init__(self, handle: Any, path: str, metadata: Document | None = None):
        """Take ownership of an array handle; ``metadata`` is its document (read from the
        handle when None). Stores open arrays: see :meth:`zarrlib.Store.open_array`."""
        self._handle = ffi.gc(handle, lib.zarrlib_array_free)
        self.path = path
        if metadata is None:
            metadata = json.loads(_native.call_for_string(lib.zarrlib_array_metadata, handle))
        self.metadata = metadata
        ndim = ffi.new("size_t *")
        check(lib.zarrlib_array_ndim(handle, ndim))
        self.ndim = ndim[0]
        self.shape = _uint64s(lib.zarrlib_array_shape, handle, self.ndim)
        self.chunk_grid_shape = _uint64s(lib.zarrlib_array_chunk_grid_shape, handle, self.ndim)
        # Only regular grids have one chunk shape; reading a chunk of another grid fails cleanly.
        try:
            self.chunk_shape = _uint64s(lib.zarrlib_array_chunk_shape, handle, self.ndim)
        except NotImplementedError:
            self.chunk_shape = None
        element_size = ffi.new("size_t *")
        check(lib.zarrlib_array_element_size(handle, element_size))
        data_type = _native.call_for_string(lib.zarrlib_array_data_type, handle)
        self.vlen = data_type if data_type in vlen.VLEN_TYPES else None
        if self.vlen is None:
            self._dtype = numpy_dtype(data_type, metadata, element_size[0])

    @property
    def dtype(self) -> DType:
        """The dtype reads return (for ``string`` arrays, as the ``string_dtype`` setting says)."""
        if self.vlen is not None:
            return vlen.numpy_vlen_dtype(self.vlen)
        return self._dtype

    @property
    def fill_value(self) -> Any:
        if self.vlen is not None:
            return vlen.fill_value(self.vlen, self.metadata)
        out = np.empty((), self.dtype)
        check(lib.zarrlib_array_fill_value(self._handle, ffi.from_buffer(out), out.nbytes))
        return out[()]

    # --- chunks ---------------------------------------------------------------------------

    def _whole_chunk_shape(self) -> tuple[int, ...]:
        if self.chunk_shape is None:
            # Let the engine say why (a chunk grid that is not regular).
            return _uint64s(lib.zarrlib_array_chunk_shape, self._handle, self.ndim)
        return self.chunk_shape

    def read_chunk(self, coords: ChunkCoords, out: NDArray | None = None) -> NDArray:
        """The whole chunk at ``coords`` (edge chunks at full chunk shape; fill value if absent)."""
        coords = _chunk_coords(coords)
        if self.vlen is not None:
            shape = self._whole_chunk_shape()
            handle = self._handle
            read = vlen.read(
                lambda o: lib.zarrlib_array_read_chunk_vlen(handle, coords, len(coords), o), shape, self.vlen
            )
            return _vlen_result(read, out)
        result, target = _read_target(out, self._whole_chunk_shape(), self.dtype)
        check(
            lib.zarrlib_array_read_chunk(
                self._handle, coords, len(coords), ffi.from_buffer(target, require_writable=True), target.nbytes
            )
        )
        if target is not result:
            result[...] = target
        return result

    def read_chunks(self, coords_list: Iterable[ChunkCoords]) -> NDArray:
        """Several whole chunks decoded in parallel, stacked: shape ``(len(coords_list), *chunk_shape)``."""
        coords = [_chunk_coords(c) for c in coords_list]
        if self.vlen is not None:
            chunks = [self.read_chunk(c) for c in coords]
            return np.stack(chunks) if chunks else np.empty((0, *self._whole_chunk_shape()), self.dtype)
        flat = [c for chunk in coords for c in chunk]
        result = np.empty((len(coords), *self._whole_chunk_shape()), self.dtype)
        check(
            lib.zarrlib_array_read_chunks(
                self._handle,
                flat,
                len(coords),
                self.ndim,
                ffi.from_buffer(result, require_writable=True),
                result.nbytes,
            )
        )
        return result

    def read_encoded_chunk(self, coords: ChunkCoords) -> bytes | None:
        """The chunk's stored bytes, or None when it is not stored."""
        coords = _chunk_coords(coords)
        data = ffi.new("uint8_t **")
        length = ffi.new("size_t *")
        check(lib.zarrlib_array_read_encoded_chunk(self._handle, coords, len(coords), data, length))
        if data[0] == ffi.NULL:
            return None
        try:
            return bytes(ffi.buffer(data[0], length[0]))
        finally:
            lib.zarrlib_bytes_free(data[0], length[0])

    def write_chunk(self, coords: ChunkCoords, value: npt.ArrayLike) -> None:
        """Write a whole chunk; ``value`` must have exactly the chunk shape."""
        coords = _chunk_coords(coords)
        shape = self._whole_chunk_shape()
        value = np.asarray(value)
        if value.shape != shape:
            raise ValueError(f"a chunk has shape {shape}, the value has shape {value.shape}")
        if self.vlen is not None:
            handle = self._handle
            offsets, data = vlen.encode(value, shape, self.vlen)
            vlen.write(
                lambda *args: lib.zarrlib_array_write_chunk_vlen(handle, coords, len(coords), *args), offsets, data
            )
            return
        source = _write_source(value, shape, self.dtype)
        check(lib.zarrlib_array_write_chunk(self._handle, coords, len(coords), ffi.from_buffer(source), source.nbytes))

    def delete_chunk(self, coords: ChunkCoords) -> None:
        coords = _chunk_coords(coords)
        check(lib.zarrlib_array_delete_chunk(self._handle, coords, len(coords)))

    # --- selections -----------------------------------------------------------------------

    def read(self, selection: BasicSelection, out: NDArray | None = None) -> NDArray:
        """``array[selection]``, as numpy would return it: basic selections on the strided
        path, ``None`` and advanced indexing through :mod:`zarrlib.native_indexed`."""
        if out is None and type(selection) is tuple and self.vlen is None:
            result = self._read_box(selection)
            if result is not None:
                return result
        if not is_basic(selection):
            return native_indexed.get_numpy(self, selection, out)
        return self.read_selection(normalize_selection(selection, self.shape), out)

    def read_selection(self, sel: Selection, out: NDArray | None = None) -> NDArray:
        """Read a selection already checked against the shape (``read`` after its checks; the
        codec pipeline, whose plan yields checked selections, calls it directly)."""
        if self.vlen is not None:
            return _vlen_result(self._read_vlen(sel), out)
        result, target = _read_target(out, sel.shape, self.dtype)
        if sel.size:
            check(
                lib.zarrlib_array_read_selection(
                    self._handle,
                    sel.starts,
                    sel.steps,
                    sel.counts,
                    self.ndim,
                    ffi.from_buffer(target, require_writable=True),
                    target.nbytes,
                )
            )
        if target is not result:
            result[...] = target
        return result

    def _read_box(self, selection: tuple[Any, ...]) -> NDArray | None:
        """The commonest small read, kept to a few microseconds of Python: a tuple of one
        in-range int or step-1 slice per axis, read as a region. None for anything else (the
        general path then checks and reads it)."""
        shape = self.shape
        if len(selection) != len(shape):
            return None
        starts, counts, result_shape = [], [], []
        for item, extent in zip(selection, shape, strict=True):
            if type(item) is slice and item.step is None:
                start, stop, _ = item.indices(extent)
                count = stop - start if stop > start else 0
                starts.append(start)
                counts.append(count)
                result_shape.append(count)
            elif type(item) is int and 0 <= item < extent:
                starts.append(item)
                counts.append(1)
            else:
                return None
        result = np.empty(result_shape, self._dtype)
        if result.size:
            check(
                lib.zarrlib_array_read_region(
                    self._handle,
                    starts,
                    counts,
                    len(counts),
                    ffi.from_buffer(result, require_writable=True),
                    result.nbytes,
                )
            )
        return result

    def write(self, selection: BasicSelection, value: npt.ArrayLike) -> None:
        """``array[selection] = value``: value broadcast and cast as numpy assignment does."""
        if not is_basic(selection):
            native_indexed.set_numpy(self, selection, value)
            return
        self.write_selection(normalize_selection(selection, self.shape), value)

    def write_selection(self, sel: Selection, value: npt.ArrayLike) -> None:
        """Write a selection already checked against the shape (see :meth:`read_selection`)."""
        if self.vlen is not None:
            self._write_vlen(sel, value)
            return
        source = _write_source(value, sel.shape, self.dtype)
        if sel.size:
            check(
                lib.zarrlib_array_write_selection(
                    self._handle,
                    sel.starts,
                    sel.steps,
                    sel.counts,
                    self.ndim,
                    ffi.from_buffer(source),
                    source.nbytes,
                )
            )

    # --- variable-length data types ---------------------------------------------------------

    def _read_vlen(self, sel: Selection) -> NDArray:
        """A strided selection of a variable-length array, in one engine call."""
        handle, kind = self._handle, self.vlen
        assert kind is not None
        if not sel.size:
            return np.empty(sel.shape, self.dtype)
        return vlen.read(
            lambda o: lib.zarrlib_array_read_selection_vlen(handle, sel.starts, sel.steps, sel.counts, self.ndim, o),
            sel.shape,
            kind,
        )

    def _write_vlen(self, sel: Selection, value: npt.ArrayLike) -> None:
        """Write a strided selection of a variable-length array, in one engine call (which
        updates each chunk under its lock)."""
        handle, kind = self._handle, self.vlen
        assert kind is not None
        # Python strings and lists of them as objects: numpy's fixed-width str and bytes dtypes
        # drop trailing NULs ("\x00" would be written as "").
        array = value if isinstance(value, np.ndarray) else np.asarray(value, dtype=object)
        if array.dtype.kind not in "USOT":
            raise TypeError(f"a {kind} array takes str or bytes elements, not {array.dtype}")
        while array.ndim > len(sel.shape) and array.shape[0] == 1:
            array = array[0]
        try:
            array = np.broadcast_to(array, sel.shape).reshape(sel.counts)
        except ValueError:
            raise ValueError(
                f"could not broadcast a value of shape {array.shape} to the selection's shape {sel.shape}"
            ) from None
        if not sel.size:
            return
        offsets, data = vlen.encode(array, tuple(sel.counts), kind)
        vlen.write(
            lambda *args: lib.zarrlib_array_write_selection_vlen(
                handle, sel.starts, sel.steps, sel.counts, self.ndim, *args
            ),
            offsets,
            data,
        )

    def with_options(self, **options: Any) -> NativeArray:
        """A handle on the same array whose calls use ``options`` in place of the process-wide
        settings (:func:`zarrlib.set_config`): ``store_empty_chunks``, ``validate_checksums``
        and ``concurrent_target``; None keeps the process-wide value."""
        out = ffi.new("zarrlib_array **")
        check(lib.zarrlib_array_with_options(self._handle, json.dumps(options).encode(), out))
        return NativeArray(out[0], self.path, self.metadata)

    # --- shape ----------------------------------------------------------------------------

    def resize(self, shape: Iterable[int] | int) -> NativeArray:
        """Resize the stored array (any axis larger or smaller) and return a handle for the new
        shape; this one keeps the old shape. Chunks outside the new shape are erased, and those
        partly outside are cleared beyond it, so growing again reads the fill value there."""
        new_shape = _shape(shape, self.ndim)
        out = ffi.new("zarrlib_array **")
        check(lib.zarrlib_array_resize(self._handle, new_shape, len(new_shape), out))
        return NativeArray(out[0], self.path)

    def append(self, value: npt.ArrayLike, axis: int = 0) -> NativeArray:
        """Append ``value`` along ``axis`` (its shape matches the array's on every other axis; a
        value with one dimension fewer is one slice) and return a handle for the grown array."""
        axis = operator.index(axis)
        if not -self.ndim <= axis < self.ndim:
            raise IndexError(f"axis {axis} is out of bounds for an array of {self.ndim} dimensions")
        axis %= self.ndim
        array = np.asarray(value)
        if array.ndim == self.ndim - 1:
            array = np.expand_dims(array, axis)
        shape = list(self.shape)
        if array.ndim == self.ndim:
            shape[axis] = array.shape[axis]
        if array.shape != tuple(shape):
            raise ValueError(
                f"cannot append a value of shape {array.shape} along axis {axis} of an array of shape {self.shape}"
            )
        if self.vlen is not None:
            # No variable-length append call: grow, then write (readers may see the fill value
            # in the new part until the write lands).
            grown = self.resize([*self.shape[:axis], self.shape[axis] + array.shape[axis], *self.shape[axis + 1 :]])
            grown.write(
                tuple(slice(self.shape[axis], None) if a == axis else slice(None) for a in range(self.ndim)), array
            )
            return grown
        source = _write_source(array, array.shape, self.dtype)
        out = ffi.new("zarrlib_array **")
        check(
            lib.zarrlib_array_append(self._handle, axis, shape, len(shape), ffi.from_buffer(source), source.nbytes, out)
        )
        return NativeArray(out[0], self.path)


def _vlen_result(result: NDArray, out: NDArray | None) -> NDArray:
    """A variable-length read's result, copied into the caller's ``out`` if given (a
    StringDType or object array of the result's shape)."""
    if out is None:
        return result
    if not isinstance(out, np.ndarray):
        raise TypeError(f"out must be a numpy.ndarray, not {type(out).__name__}")
    if out.shape != result.shape:
        raise ValueError(f"out has shape {out.shape}, the selection has shape {result.shape}")
    if out.dtype.kind not in "OT":
        raise ValueError(f"out has dtype {out.dtype}, a variable-length array reads into StringDType or object")
    out[...] = result
    return out


def _shape(shape: Iterable[int] | int, ndim: int) -> list[int]:
    """A new shape: ``ndim`` non-negative integers."""
    extents = (shape,) if isinstance(shape, (int, np.integer)) else shape
    try:
        values = [operator.index(n) for n in extents]
    except TypeError:
        raise TypeError(f"a shape must be a sequence of integers, not {shape!r}") from None
    if len(values) != ndim:
        raise ValueError(f"the new shape {tuple(values)} has {len(values)} dimensions, the array has {ndim}")
    if any(n < 0 or n >= 1 << 64 for n in values):
        raise ValueError(f"the new shape {tuple(values)} has an extent outside 0..2^64")
    return values
