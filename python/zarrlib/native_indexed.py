"""Selections beyond numpy's basic slicing on a native array: the calls that move numpy buffers
through the engine's orthogonal and coordinate selections (planned by :mod:`zarrlib.fancy`).
Each selection is one engine call, for variable-length arrays too (their ``_vlen`` calls)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from . import fancy, vlen
from ._native import check, ffi, lib
from ._types import NDArray
from .indexing import normalize_selection

if TYPE_CHECKING:
    from .native_array import NativeArray


def _finish(result: NDArray, out: NDArray | None) -> NDArray:
    """``result``, or ``out`` holding it."""
    if out is None:
        return result
    if not isinstance(out, np.ndarray):
        raise TypeError(f"out must be a numpy.ndarray, not {type(out).__name__}")
    if out.shape != result.shape:
        raise ValueError(f"out has shape {out.shape}, the selection has shape {result.shape}")
    if out.dtype != result.dtype:
        raise ValueError(f"out has dtype {out.dtype}, the array has dtype {result.dtype}")
    out[...] = result
    return out


def _value(array: NativeArray, value: npt.ArrayLike, shape: tuple[int, ...]) -> NDArray:
    from .native_array import _write_source

    return _write_source(value, shape, array.dtype)


def read_orthogonal_lists(array: NativeArray, lists: list[NDArray]) -> NDArray:
    """The outer product of ``lists`` (uint64 index arrays, one per axis): one engine call."""
    counts = [len(indices) for indices in lists]
    flat = np.concatenate(lists) if lists else np.empty(0, np.uint64)
    if array.vlen is not None and np.prod(counts, dtype=np.int64):
        handle, indices = array._handle, ffi.from_buffer("uint64_t[]", flat)
        return vlen.read(
            lambda o: lib.zarrlib_array_read_orthogonal_vlen(handle, indices, counts, len(counts), o),
            tuple(counts),
            array.vlen,
        )
    result = np.empty(counts, array.dtype)
    if result.size:
        check(
            lib.zarrlib_array_read_orthogonal(
                array._handle,
                ffi.from_buffer("uint64_t[]", flat),
                counts,
                len(counts),
                ffi.from_buffer(result, require_writable=True),
                result.nbytes,
            )
        )
    return result


def write_orthogonal_lists(array: NativeArray, lists: list[NDArray], source: NDArray) -> None:
    """Write ``source`` (C-contiguous, shape of the lists' counts) to the outer product of ``lists``."""
    if not source.size:
        return
    flat = np.concatenate(lists) if lists else np.empty(0, np.uint64)
    counts = [len(indices) for indices in lists]
    if array.vlen is not None:
        handle, indices = array._handle, ffi.from_buffer("uint64_t[]", flat)
        offsets, data = vlen.encode(source, tuple(counts), array.vlen)
        vlen.write(
            lambda *args: lib.zarrlib_array_write_orthogonal_vlen(handle, indices, counts, len(counts), *args),
            offsets,
            data,
        )
    else:
        check(
            lib.zarrlib_array_write_orthogonal(
                array._handle,
                ffi.from_buffer("uint64_t[]", flat),
                counts,
                len(counts),
                ffi.from_buffer(source),
                source.nbytes,
            )
        )


def read_points(array: NativeArray, coords: fancy.Coordinates) -> NDArray:
    """The elements at ``coords.points``, shaped ``coords.shape``: one engine call."""
    points = coords.points
    size = int(np.prod(coords.shape, dtype=np.int64))
    if array.vlen is not None and size:
        handle, flat = array._handle, ffi.from_buffer("uint64_t[]", points)
        return vlen.read(
            lambda o: lib.zarrlib_array_read_coordinates_vlen(handle, flat, size, array.ndim, o),
            coords.shape,
            array.vlen,
        )
    result = np.empty(coords.shape, array.dtype)
    if result.size:
        check(
            lib.zarrlib_array_read_coordinates(
                array._handle,
                ffi.from_buffer("uint64_t[]", points),
                result.size,
                array.ndim,
                ffi.from_buffer(result, require_writable=True),
                result.nbytes,
            )
        )
    return result


def write_points(array: NativeArray, coords: fancy.Coordinates, value: npt.ArrayLike) -> None:
    """Write ``value`` (broadcast to ``coords.shape``) to the points; a repeated point takes its
    last value, as in numpy."""
    if array.vlen is not None:
        size = int(np.prod(coords.shape, dtype=np.int64))
        if size:
            handle, flat = array._handle, ffi.from_buffer("uint64_t[]", coords.points)
            offsets, data = vlen.encode(value, coords.shape, array.vlen)
            vlen.write(
                lambda *args: lib.zarrlib_array_write_coordinates_vlen(handle, flat, size, array.ndim, *args),
                offsets,
                data,
            )
        return
    source = _value(array, value, coords.shape)
    if source.size:
        check(
            lib.zarrlib_array_write_coordinates(
                array._handle,
                ffi.from_buffer("uint64_t[]", coords.points),
                source.size,
                array.ndim,
                ffi.from_buffer(source),
                source.nbytes,
            )
        )


# --- the accessors' operations ---------------------------------------------------------------


def get_orthogonal(array: NativeArray, selection: Any, out: NDArray | None = None) -> NDArray:
    plan = fancy.orthogonal(selection, array.shape)
    return _finish(read_orthogonal_lists(array, plan.lists).reshape(plan.shape), out)


def set_orthogonal(array: NativeArray, selection: Any, value: npt.ArrayLike) -> None:
    plan = fancy.orthogonal(selection, array.shape)
    source = _value(array, value, plan.shape).reshape(plan.counts)
    write_orthogonal_lists(array, plan.lists, source)


def get_coordinates(array: NativeArray, selection: Any, out: NDArray | None = None) -> NDArray:
    axes = _index_arrays(array, selection)
    if axes is not None:
        return _finish(read_coordinate_axes(array, *axes), out)
    return _finish(read_points(array, fancy.coordinates(selection, array.shape)), out)


def _index_arrays(array: NativeArray, selection: Any) -> tuple[list[NDArray], tuple[int, ...]] | None:
    """A coordinate selection of a fixed-size array that is one integer ndarray per axis, all
    of one shape, as flat int64 arrays and that shape; ``None`` for anything else (which the
    general path plans). The engine wraps and checks such arrays itself: wrapping, casting and
    interleaving a million points here took 30 ms of a 160 ms read."""
    if array.vlen is not None or array.ndim == 0 or not isinstance(selection, tuple) or len(selection) != array.ndim:
        return None
    shape: tuple[int, ...] | None = None
    for item in selection:
        if not isinstance(item, np.ndarray) or item.dtype.kind not in "iu":
            return None
        # uint64 indices above int64's range would wrap to negatives.
        if item.dtype.kind == "u" and item.dtype.itemsize == 8:
            return None
        if shape is None:
            shape = item.shape
        elif item.shape != shape:
            return None
    if shape is None:
        return None
    lists: list[NDArray] = [np.ascontiguousarray(item, dtype=np.int64).reshape(-1) for item in selection]
    return lists, shape


def read_coordinate_axes(
    array: NativeArray, lists: list[NDArray], shape: tuple[int, ...], out: NDArray | None = None
) -> NDArray:
    """The elements at ``(lists[0][p], lists[1][p], ...)`` (flat int64 arrays of one length,
    negatives counting from the end), shaped ``shape``: one engine call, into ``out`` (a
    C-contiguous array of that shape and the array's dtype) when given."""
    if out is None:
        result = np.empty(shape, array.dtype)
    elif out.shape != shape or out.dtype != array.dtype or not out.flags.c_contiguous:
        return _finish(read_coordinate_axes(array, lists, shape), out)
    else:
        result = out
    if result.size:
        keep = [ffi.from_buffer("int64_t[]", indices) for indices in lists]
        check(
            lib.zarrlib_array_read_coordinate_axes(
                array._handle,
                ffi.new("int64_t *[]", keep),
                result.size,
                len(lists),
                ffi.from_buffer(result, require_writable=True),
                result.nbytes,
            )
        )
    return result


def set_coordinates(array: NativeArray, selection: Any, value: npt.ArrayLike) -> None:
    write_points(array, fancy.coordinates(selection, array.shape), value)


def get_mask(array: NativeArray, mask: Any, out: NDArray | None = None) -> NDArray:
    return _finish(read_points(array, fancy.mask_coordinates(mask, array.shape)), out)


def set_mask(array: NativeArray, mask: Any, value: npt.ArrayLike) -> None:
    write_points(array, fancy.mask_coordinates(mask, array.shape), value)


def get_numpy(array: NativeArray, selection: Any, out: NDArray | None = None) -> NDArray:
    """numpy's ``data[selection]`` for a selection with advanced indices or ``None``."""
    plan = fancy.advanced(selection, array.shape)
    if plan.basic is not None:
        return _finish(array.read(plan.basic)[plan.post], out)
    if plan.single:
        return _finish(read_orthogonal_lists(array, plan.lists), out)
    if fancy.outer_is_small(plan):
        return _finish(read_orthogonal_lists(array, plan.lists)[plan.post], out)
    return _finish(read_points(array, _plan_points(array, plan)), out)


def set_numpy(array: NativeArray, selection: Any, value: npt.ArrayLike) -> None:
    """numpy's ``data[selection] = value`` for a selection with advanced indices or ``None``."""
    plan = fancy.advanced(selection, array.shape)
    if plan.basic is not None:
        basic_shape = normalize_selection(plan.basic, array.shape).shape
        shape = np.empty(basic_shape, np.uint8)[plan.post].shape
        array.write(plan.basic, _value(array, value, shape).reshape(basic_shape))
        return
    if plan.single:
        write_orthogonal_lists(array, plan.lists, _value(array, value, fancy.result_shape(plan)))
        return
    write_points(array, _plan_points(array, plan), value)


def _plan_points(array: NativeArray, plan: fancy.Advanced) -> fancy.Coordinates:
    coords = fancy.points_of(plan)
    if array.ndim == 0:
        shape = fancy.result_shape(plan)
        return fancy.Coordinates(np.empty((int(np.prod(shape)), 0), np.uint64), shape)
    return coords
