"""Selections beyond numpy's basic slicing, as engine calls.

- Orthogonal selections (zarr's ``oindex``): per axis an integer, a slice, an integer array or a
  boolean mask; the outer product is selected. One engine call with a list of indices per axis.
- Coordinate selections (zarr's ``vindex``): integer arrays broadcast together, one per axis, or
  one boolean mask of the array's shape. One engine call with the points.
- Block selections (zarr's ``blocks``): integers and slices over the chunk grid, a region.
- numpy indexing (``a[...]``): ``None`` (``np.newaxis``), and advanced indexing with integer
  arrays and boolean masks, with numpy's result exactly. A selection whose only advanced index
  is one 1-d array is one orthogonal call; any other reads the outer product of the indices each
  axis needs in one orthogonal call and lets numpy pick from it, unless that product is much
  larger than the result, when it is read as points in one coordinate call. Writes of advanced
  selections are one orthogonal or one coordinate call (numpy's last-assignment-wins included).

Every selection is checked here first: out-of-range indices raise ``OutOfBoundsError`` (an
``IndexError``), kinds numpy would refuse raise ``IndexError``, kinds zarr's accessors do not
take raise ``TypeError``.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._types import NDArray
from .errors import OutOfBoundsError

#: Read the outer product of the needed indices while it is at most this many times the result.
_OUTER_PRODUCT_FACTOR = 4


def _is_int(item: Any) -> bool:
    return (
        not isinstance(item, (bool, np.bool_)) and hasattr(type(item), "__index__") and not isinstance(item, np.ndarray)
    )


def _is_bool_scalar(item: Any) -> bool:
    return isinstance(item, (bool, np.bool_)) or (
        isinstance(item, np.ndarray) and item.ndim == 0 and item.dtype == bool
    )


def _as_index_array(item: Any) -> NDArray:
    """A list, tuple or array index as an array of integers or booleans (numpy's rules)."""
    array = np.asarray(item)
    if array.dtype == bool or np.issubdtype(array.dtype, np.integer):
        return array
    if array.size == 0:
        # numpy takes an empty list as an empty integer index.
        return array.astype(np.intp)
    raise IndexError(
        "only integers, slices (`:`), ellipsis (`...`), numpy.newaxis (`None`) and integer or boolean arrays "
        "are valid indices"
    )


def _is_array_like(item: Any) -> bool:
    return isinstance(item, (list, tuple, np.ndarray)) and not _is_bool_scalar(item)


def wrap_indices(indices: NDArray, extent: int, axis: int) -> NDArray:
    """Integer indices with negatives wrapped, as uint64, checked against ``extent``."""
    indices = np.asarray(indices)
    if indices.size:
        low, high = int(indices.min()), int(indices.max())
        if low < -extent or high >= extent:
            bad = low if low < -extent else high
            raise OutOfBoundsError(f"index {bad} is out of bounds for axis {axis} with size {extent}")
        if low < 0:
            indices = np.where(indices < 0, indices + extent, indices)
    return np.ascontiguousarray(indices, dtype=np.uint64)


def _mask_indices(mask: NDArray, shape: tuple[int, ...], first_axis: int) -> list[NDArray]:
    """The indices a boolean mask over axes ``first_axis...`` selects, one array per axis."""
    if mask.shape != shape:
        raise IndexError(
            f"boolean index did not match indexed array along axis {first_axis}; size of axis is {shape}, "
            f"size of the boolean index is {mask.shape}"
        )
    return [np.ascontiguousarray(i, dtype=np.uint64) for i in np.nonzero(mask)]


def _slice_indices(item: slice, extent: int) -> NDArray:
    return np.arange(*item.indices(extent), dtype=np.uint64)


def _expand_ellipsis(items: list[Any], consumed: list[int], ndim: int) -> list[Any]:
    """``items`` with one Ellipsis (or none) replaced by full slices, missing axes filled."""
    ellipses = [i for i, item in enumerate(items) if item is Ellipsis]
    if len(ellipses) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    used = sum(consumed)
    if used > ndim:
        raise IndexError(f"too many indices for array: array is {ndim}-dimensional, but {used} were indexed")
    if ellipses:
        at = ellipses[0]
        return items[:at] + [slice(None)] * (ndim - used) + items[at + 1 :]
    return items + [slice(None)] * (ndim - used)


def _items(selection: Any) -> list[Any]:
    return list(selection) if isinstance(selection, tuple) else [selection]


# --- orthogonal ------------------------------------------------------------------------------


@dataclass
class Orthogonal:
    """An orthogonal selection: the index list of every axis (uint64) and the result's shape."""

    lists: list[NDArray]
    shape: tuple[int, ...]

    @property
    def counts(self) -> tuple[int, ...]:
        return tuple(len(indices) for indices in self.lists)


def orthogonal(selection: Any, shape: tuple[int, ...]) -> Orthogonal:
    """zarr's orthogonal selection: per axis an integer (the axis is dropped), a slice, an
    integer array (1-d, any order, repeats allowed) or a boolean mask of the axis' length."""
    items = _items(selection)
    consumed = [0 if item is Ellipsis else 1 for item in items]
    items = _expand_ellipsis(items, consumed, len(shape))
    lists: list[NDArray] = []
    result: list[int] = []
    for axis, (item, extent) in enumerate(zip(items, shape, strict=True)):
        if isinstance(item, slice):
            lists.append(_slice_indices(item, extent))
        elif _is_int(item):
            lists.append(wrap_indices(np.array([operator.index(item)]), extent, axis))
            continue
        elif _is_array_like(item):
            array = _as_index_array(item)
            if array.ndim != 1:
                raise IndexError(
                    f"orthogonal selections take 1-d index arrays; axis {axis} has {array.ndim} dimensions"
                )
            if array.dtype == bool:
                lists.append(_mask_indices(array, (extent,), axis)[0])
            else:
                lists.append(wrap_indices(array, extent, axis))
        else:
            raise TypeError(
                "orthogonal selections take integers, slices, integer arrays and boolean masks; "
                f"got {type(item).__name__} on axis {axis}"
            )
        result.append(len(lists[-1]))
    return Orthogonal(lists, tuple(result))


# --- coordinates -----------------------------------------------------------------------------


@dataclass
class Coordinates:
    """Points, ``(len, ndim)`` uint64 C-contiguous, and the result's shape."""

    points: NDArray
    shape: tuple[int, ...]


def coordinates(selection: Any, shape: tuple[int, ...]) -> Coordinates:
    """zarr's coordinate selection: one integer array (or integer) per axis, broadcast together
    (the result has their broadcast shape), or one boolean mask of the array's shape."""
    items = _items(selection)
    if len(items) == 1 and _is_array_like(items[0]):
        mask = _as_index_array(items[0])
        if mask.dtype == bool:
            return mask_coordinates(mask, shape)
    if len(items) != len(shape):
        raise IndexError(f"a coordinate selection needs one index array per axis: {len(shape)}, got {len(items)}")
    arrays = []
    for axis, (item, extent) in enumerate(zip(items, shape, strict=True)):
        if not (_is_int(item) or _is_array_like(item)):
            raise TypeError(
                "coordinate selections take integer arrays (or integers), one per axis; "
                f"got {type(item).__name__} on axis {axis}"
            )
        array = np.asarray(operator.index(item)) if _is_int(item) else _as_index_array(item)
        if array.dtype == bool:
            raise TypeError(
                f"coordinate selections take one boolean mask of the array's shape, not a mask on axis {axis}"
            )
        arrays.append(wrap_indices(array, extent, axis))
    return _points_of(arrays)


def _points_of(arrays: list[NDArray]) -> Coordinates:
    """The points of integer arrays broadcast together."""
    try:
        broadcast = np.broadcast_arrays(*arrays) if arrays else []
    except ValueError:
        shapes = " ".join(str(a.shape) for a in arrays)
        raise IndexError(
            f"shape mismatch: indexing arrays could not be broadcast together with shapes {shapes}"
        ) from None
    result_shape = broadcast[0].shape if broadcast else ()
    points = np.empty((int(np.prod(result_shape)), len(arrays)), np.uint64)
    for axis, array in enumerate(broadcast):
        points[:, axis] = array.reshape(-1)
    return Coordinates(points, result_shape)


def mask_coordinates(mask: Any, shape: tuple[int, ...]) -> Coordinates:
    """The points of a boolean mask of the array's shape, in C order (numpy's ``a[mask]``)."""
    mask = np.asarray(mask)
    if mask.dtype != bool:
        raise TypeError(f"a mask selection takes a boolean array, not {mask.dtype}")
    if mask.shape != shape:
        raise IndexError(f"the mask has shape {mask.shape}, the array has shape {shape}")
    points = np.ascontiguousarray(np.argwhere(mask), dtype=np.uint64)
    return Coordinates(points, (len(points),))


# --- blocks ----------------------------------------------------------------------------------


def blocks(selection: Any, shape: tuple[int, ...], chunks: tuple[int, ...] | None) -> tuple[slice, ...]:
    """zarr's block selection: integers and slices (step 1) over the chunk grid, as the region of
    the array those chunks cover (integer axes are kept, as zarr keeps them)."""
    if chunks is None:
        raise TypeError("block selections need a regular chunk grid")
    items = _items(selection)
    consumed = [0 if item is Ellipsis else 1 for item in items]
    items = _expand_ellipsis(items, consumed, len(shape))
    region = []
    for axis, (item, extent, chunk) in enumerate(zip(items, shape, chunks, strict=True)):
        grid = -(-extent // chunk)
        if isinstance(item, slice):
            start, stop, step = item.indices(grid)
            if step != 1:
                raise IndexError(f"block selections take slices with step 1; axis {axis} has step {step}")
            stop = max(start, stop)
        elif _is_int(item):
            start = operator.index(item)
            if not -grid <= start < grid:
                raise OutOfBoundsError(f"block index {start} is out of bounds for axis {axis} with {grid} blocks")
            start = start + grid if start < 0 else start
            stop = start + 1
        else:
            raise TypeError(f"block selections take integers and slices; got {type(item).__name__} on axis {axis}")
        region.append(slice(min(start * chunk, extent), min(stop * chunk, extent)))
    return tuple(region)


# --- numpy indexing --------------------------------------------------------------------------


def is_basic(selection: Any) -> bool:
    """Whether ``selection`` is a numpy basic selection without ``None`` (the strided path)."""
    for item in _items(selection):
        if item is None or _is_bool_scalar(item) or _is_array_like(item):
            return False
    return True


@dataclass
class Advanced:
    """A numpy selection with advanced indices or ``None``, planned.

    ``basic``: the selection without ``None`` when it has no advanced index (then ``post``
    inserts the new axes into the basic result); otherwise ``lists`` are the indices every axis
    needs (an outer product read in one call) and ``post`` indexes that product into numpy's
    result. ``single`` marks a selection whose only advanced index is one 1-d array over
    slices: its orthogonal read is numpy's result as it is.
    """

    basic: tuple[Any, ...] | None
    lists: list[NDArray]
    post: tuple[Any, ...]
    single: bool


def advanced(selection: Any, shape: tuple[int, ...]) -> Advanced:
    """Plan a numpy selection that :func:`is_basic` refuses."""
    items = []
    for item in _items(selection):
        items.append(_as_index_array(item) if _is_array_like(item) else item)
    consumed = [
        0
        if item is Ellipsis or item is None or _is_bool_scalar(item)
        else (item.ndim if isinstance(item, np.ndarray) and item.dtype == bool else 1)
        for item in items
    ]
    items = _expand_ellipsis(items, consumed, len(shape))
    has_arrays = any(isinstance(item, np.ndarray) and not _is_bool_scalar(item) for item in items)
    if not has_arrays and not any(_is_bool_scalar(item) for item in items):
        basic = tuple(item for item in items if item is not None)
        post = tuple(None if item is None else slice(None) for item in items if not _is_int(item))
        return Advanced(basic, [], post, False)
    return _plan_advanced(items, shape)


def _plan_advanced(items: list[Any], shape: tuple[int, ...]) -> Advanced:
    lists: list[NDArray] = []
    post: list[Any] = []
    arrays = 0
    simple = True
    axis = 0
    for item in items:
        if item is None or _is_bool_scalar(item):
            post.append(item)
            simple = False
            continue
        if isinstance(item, slice):
            lists.append(_slice_indices(item, shape[axis]))
            post.append(slice(None))
            axis += 1
            continue
        if _is_int(item):
            lists.append(wrap_indices(np.array([operator.index(item)]), shape[axis], axis))
            post.append(0)
            simple = False
            axis += 1
            continue
        if item.dtype == bool:
            per_axis = _mask_indices(item, shape[axis : axis + item.ndim], axis)
            simple = simple and item.ndim == 1
        else:
            per_axis = [wrap_indices(item, shape[axis], axis)]
            simple = simple and item.ndim == 1
        for indices in per_axis:
            unique, inverse = np.unique(indices, return_inverse=True)
            lists.append(unique)
            post.append(inverse.reshape(indices.shape))
            arrays += 1
            axis += 1
    if simple and arrays == 1:
        # The caller's own list (repeats and order kept) gives numpy's result in one call.
        at = next(i for i, p in enumerate(post) if isinstance(p, np.ndarray))
        lists[at] = lists[at][post[at]]
        return Advanced(None, lists, (), True)
    return Advanced(None, lists, tuple(post), False)


def outer_is_small(plan: Advanced) -> bool:
    """Whether reading the outer product of ``plan.lists`` costs at most a few times the result."""
    outer = 1
    for indices in plan.lists:
        outer *= len(indices)
    return outer <= _OUTER_PRODUCT_FACTOR * max(result_size(plan), 1)


def result_size(plan: Advanced) -> int:
    return int(np.prod(result_shape(plan)))


def result_shape(plan: Advanced) -> tuple[int, ...]:
    """The shape of numpy's result for an advanced plan."""
    counts = tuple(len(indices) for indices in plan.lists)
    if plan.single:
        return counts
    shape: tuple[int, ...] = np.broadcast_to(np.empty((), np.uint8), counts)[plan.post].shape
    return shape


def points_of(plan: Advanced) -> Coordinates:
    """The element of the array behind each element of numpy's result, as points."""
    counts = tuple(len(indices) for indices in plan.lists)
    ndim = len(counts)
    per_axis = []
    for axis, indices in enumerate(plan.lists):
        ramp = np.arange(counts[axis], dtype=np.intp).reshape([-1 if a == axis else 1 for a in range(ndim)])
        positions = np.broadcast_to(ramp, counts)[plan.post]
        per_axis.append(indices[positions])
    return _points_of(per_axis) if per_axis else Coordinates(np.empty((1, 0), np.uint64), ())
