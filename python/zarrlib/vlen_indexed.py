"""Orthogonal and coordinate selections of variable-length arrays (``string``, ``bytes``).

The engine moves variable-length elements as regions (offsets and bytes), not as index lists
or points, so these selections go chunk by chunk: for every chunk holding selected elements, the
box of it that spans them is read as a region (one engine call), and numpy picks the elements.
Writes read that box, set the elements and write the box back: like a strided write of a
variable-length array, this is not atomic against a concurrent writer to the box's other
elements.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from ._types import NDArray

if TYPE_CHECKING:
    from .native_array import NativeArray


def _chunk_shape(array: NativeArray) -> tuple[int, ...]:
    # An irregular grid has no one chunk shape: one box spanning the selection then.
    return array.chunk_shape or tuple(max(extent, 1) for extent in array.shape)


def _groups(indices: NDArray, chunk: int) -> list[NDArray]:
    """The positions in ``indices`` of the indices in each chunk along one axis."""
    keys = indices // chunk
    order = np.argsort(keys, kind="stable")
    _, starts = np.unique(keys[order], return_index=True)
    return np.split(order, starts[1:])


def _boxes(array: NativeArray, lists: list[NDArray]) -> Iterator[tuple[tuple[NDArray, ...], list[int], list[slice]]]:
    """For each chunk the outer product of ``lists`` touches: the positions of its elements in
    each list, the box's start, and the box as slices."""
    chunks = _chunk_shape(array)
    per_axis = [_groups(ix, c) for ix, c in zip(lists, chunks, strict=True)]
    for combo in itertools.product(*per_axis):
        picked = [ix[where] for ix, where in zip(lists, combo, strict=True)]
        starts = [int(p.min()) for p in picked]
        box = [slice(s, int(p.max()) + 1) for s, p in zip(starts, picked, strict=True)]
        yield combo, starts, box


def _local(lists: list[NDArray], combo: tuple[NDArray, ...], starts: list[int]) -> tuple[NDArray, ...]:
    return np.ix_(*[ix[where] - s for ix, where, s in zip(lists, combo, starts, strict=True)])


def read_orthogonal(array: NativeArray, lists: list[NDArray]) -> NDArray:
    """The outer product of ``lists`` (one index array per axis)."""
    lists = [np.asarray(ix, np.int64) for ix in lists]
    result = np.empty([len(ix) for ix in lists], array.dtype)
    if result.size:
        for combo, starts, box in _boxes(array, lists):
            region = array.read(tuple(box))
            result[np.ix_(*combo)] = region[_local(lists, combo, starts)]
    return result


def write_orthogonal(array: NativeArray, lists: list[NDArray], values: NDArray) -> None:
    """Write ``values`` (shaped as the lists' counts) to the outer product of ``lists``; a
    repeated index takes its last value, as in numpy."""
    lists = [np.asarray(ix, np.int64) for ix in lists]
    if values.size == 0:
        return
    for combo, starts, box in _boxes(array, lists):
        region = array.read(tuple(box))
        region[_local(lists, combo, starts)] = values[np.ix_(*combo)]
        array.write(tuple(box), region)


def _point_groups(array: NativeArray, points: NDArray) -> Iterator[tuple[NDArray, list[int], tuple[slice, ...]]]:
    """For each chunk holding some of ``points`` (``(n, ndim)``): their rows, and the box
    spanning them."""
    chunks = np.array(_chunk_shape(array), np.int64)
    coords = points.astype(np.int64)
    keys = coords // chunks if len(chunks) else np.zeros((len(coords), 0), np.int64)
    _, inverse = np.unique(keys, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    order = np.argsort(inverse, kind="stable")
    _, starts = np.unique(inverse[order], return_index=True)
    for rows in np.split(order, starts[1:]):
        picked = coords[rows]
        low = picked.min(axis=0)
        box = tuple(slice(int(lo), int(hi) + 1) for lo, hi in zip(low, picked.max(axis=0), strict=True))
        yield rows, [int(lo) for lo in low], box


def read_points(array: NativeArray, points: NDArray, shape: tuple[int, ...]) -> NDArray:
    """The elements at ``points`` (``(n, ndim)``), shaped ``shape``."""
    result = np.empty(len(points), array.dtype)
    if len(points):
        for rows, low, box in _point_groups(array, points):
            region = array.read(box)
            local = tuple((points[rows, axis].astype(np.int64) - low[axis]) for axis in range(array.ndim))
            result[rows] = region[local]
    return result.reshape(shape)


def write_points(array: NativeArray, points: NDArray, values: npt.ArrayLike, shape: tuple[int, ...]) -> None:
    """Write ``values`` (broadcast to ``shape``) to ``points``; a repeated point takes its last
    value, as in numpy."""
    flat: Any = np.broadcast_to(np.asarray(values, dtype=object), shape).reshape(-1)
    for rows, low, box in _point_groups(array, points):
        region = array.read(box)
        local = tuple((points[rows, axis].astype(np.int64) - low[axis]) for axis in range(array.ndim))
        region[local] = flat[rows]
        array.write(box, region)
