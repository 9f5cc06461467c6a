"""zarr-python's batches of chunk projections, turned back into one engine call.

zarr-python's indexers hand a codec pipeline one entry per chunk: the chunk's key, the part of
the chunk selected (``chunk_selection``) and where it lands in the output (``out_selection``).
The engine reads and writes whole selections in one call, decoding chunks in parallel, so this
module recovers the selection the entries came from:

- an *orthogonal* selection (basic indexing, blocks, ``oindex``): per axis, the array index of
  every output position, which the entries give chunk by chunk; the engine then reads a strided
  selection (each axis an arithmetic progression) or an orthogonal one (index lists);
- *points* (``vindex``, masks): the coordinates of every output element, as one index list
  per axis for reads (the engine interleaves them) or interleaved points for writes.

A batch that is neither (or that covers only part of the output) gets ``None``, and the pipeline
goes chunk by chunk instead. Every recovered plan is checked to cover the output exactly once.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._types import NDArray
from .indexing import Selection

#: One entry of a batch: chunk coordinates, chunk selection, output selection.
Entry = tuple[tuple[int, ...], Any, Any]


@dataclass(frozen=True)
class OrthogonalPlan:
    """Per array axis: an int (an axis the output drops) or the index array of the output
    axis it becomes."""

    axes: list[int | NDArray]

    def as_selection(self) -> tuple[int | slice, ...] | None:
        """The plan as a strided selection (ints and slices), when every kept axis is an
        arithmetic progression with a positive step; else None."""
        items: list[int | slice] = []
        for axis in self.axes:
            if isinstance(axis, int):
                items.append(axis)
                continue
            if len(axis) == 0:
                return None
            start = int(axis[0])
            if len(axis) == 1:
                items.append(slice(start, start + 1))
                continue
            steps = np.diff(axis)
            step = int(steps[0])
            if step <= 0 or not np.all(steps == step):
                return None
            items.append(slice(start, int(axis[-1]) + 1, step))
        return tuple(items)

    def lists(self) -> list[NDArray]:
        """Every axis as a uint64 index list (a dropped axis as a list of one)."""
        return [np.array([a], np.uint64) if isinstance(a, int) else a.astype(np.uint64) for a in self.axes]


@dataclass(frozen=True)
class PointsPlan:
    """Coordinates, ``(n, ndim)`` uint64, in the batch's order (chunk by chunk), and the output
    position of each."""

    points: NDArray
    positions: NDArray


@dataclass(frozen=True)
class PointAxesPlan:
    """A points selection as one int64 index list per axis (every index non-negative), in the
    batch's order (chunk by chunk), and where each point lands in the output: ``None`` when
    point ``p`` lands at ``p`` (the entries' outputs are consecutive slices from 0), else a
    permutation of the output positions."""

    axes: list[NDArray]
    positions: NDArray | None


def chunk_locator(
    encode_chunk_key: Callable[[tuple[int, ...]], str], ndim: int
) -> Callable[[str], tuple[str, tuple[int, ...]]]:
    """A function from a chunk's store key to ``(array path, chunk coordinates)``: the numbers at
    the end of the key, checked by encoding them again with the array's chunk key encoding."""
    separators = re.compile(r"[/.]")

    def locate(key: str) -> tuple[str, tuple[int, ...]]:
        parts = separators.split(key)
        try:
            coords = tuple(int(p) for p in parts[len(parts) - ndim :]) if ndim else ()
        except ValueError:
            raise ValueError(f"{key!r} is not a chunk key of this array") from None
        suffix = encode_chunk_key(coords)
        head = key[: len(key) - len(suffix)]
        if not key.endswith(suffix) or head not in ("",) and not head.endswith("/"):
            raise ValueError(f"{key!r} is not a chunk key of this array (expected it to end in {suffix!r})")
        return head.rstrip("/"), coords

    return locate


def _indices(item: Any, offset: int) -> NDArray | None:
    """The indices a slice, integer array or 1-d mask selects, plus ``offset``; None for
    anything else. (zarr-python 3.2+ hands an orthogonal selection's mask on one axis to the
    pipeline as each chunk's part of the mask.)"""
    if isinstance(item, slice):
        return np.arange(item.start or 0, item.stop, item.step or 1, dtype=np.int64) + offset
    if isinstance(item, np.ndarray) and item.dtype.kind in "iu":
        return item.reshape(-1).astype(np.int64) + offset
    if isinstance(item, np.ndarray) and item.dtype == np.bool_ and item.ndim == 1:
        return np.flatnonzero(item).astype(np.int64) + offset
    return None


def _is_int(item: Any) -> bool:
    return isinstance(item, (int, np.integer)) and not isinstance(item, bool)


def basic(entries: Sequence[Entry], chunk_shape: Sequence[int], out_shape: tuple[int, ...]) -> Selection | None:
    """The strided selection (per axis a start, a positive step and a count) that entries made
    only of slices and ints come from, if they cover ``out_shape`` exactly; None otherwise.
    This is ``orthogonal`` without index arrays: basic indexing and blocks, the common case, in
    pure Python, handed to the engine as it is (no selection to normalize again)."""
    ndim = len(chunk_shape)
    fixed: list[int | None] = [None] * ndim
    starts: list[int | None] = [None] * ndim
    steps: list[int] = [1] * ndim
    spans: list[set[tuple[int, int]]] = [set() for _ in range(ndim)]
    boxes: set[tuple[tuple[int, int], ...]] = set()
    covered = 0
    for coords, chunk_sel, out_sel in entries:
        if type(chunk_sel) is not tuple or type(out_sel) is not tuple or len(chunk_sel) != ndim:
            return None
        out_axis = 0
        volume = 1
        box = []
        for axis in range(ndim):
            item = chunk_sel[axis]
            offset = coords[axis] * chunk_shape[axis]
            if type(item) is not slice:
                if not _is_int(item) or item < 0 or fixed[axis] not in (None, offset + item):
                    return None
                fixed[axis] = offset + int(item)
                continue
            if out_axis >= len(out_sel):
                return None
            target = out_sel[out_axis]
            out_axis += 1
            if type(target) is not slice or target.step not in (None, 1):
                return None
            step = item.step or 1
            if step < 0:
                return None
            count = len(range(item.start or 0, item.stop, step))
            first = target.start or 0
            if count != target.stop - first or first < 0 or target.stop > out_shape[out_axis - 1]:
                return None
            start = offset + (item.start or 0) - first * step
            if starts[axis] is None:
                starts[axis], steps[axis] = start, step
            elif start != starts[axis] or (step != steps[axis] and count > 1):
                return None
            spans[axis].add((first, count))
            box.append((first, count))
            volume *= count
        if out_axis != len(out_sel):
            return None
        boxes.add(tuple(box))
        covered += volume
    product = 1
    for axis_spans in spans:
        product *= max(len(axis_spans), 1)
    total = 1
    for extent in out_shape:
        total *= extent
    if len(boxes) != len(entries) or product != len(entries) or covered != total:
        return None
    first_indices: list[int] = []
    strides: list[int] = []
    counts: list[int] = []
    kept = 0
    for axis in range(ndim):
        index = fixed[axis]
        if index is not None:
            first_indices.append(index)
            strides.append(1)
            counts.append(1)
            continue
        first = starts[axis]
        if first is None or first < 0 or kept >= len(out_shape):
            return None
        extent = out_shape[kept]
        kept += 1
        # As ``indexing.normalize_selection`` gives them: the step only between two elements.
        first_indices.append(first if extent else 0)
        strides.append(steps[axis] if extent > 1 else 1)
        counts.append(extent)
    if kept != len(out_shape):
        return None
    return Selection(first_indices, strides, counts, tuple(out_shape))


def orthogonal(
    entries: Sequence[Entry], chunk_shape: Sequence[int], out_shape: tuple[int, ...], drop_axes: tuple[int, ...]
) -> OrthogonalPlan | None:
    """The orthogonal selection ``entries`` come from, if they cover ``out_shape`` exactly."""
    ndim = len(chunk_shape)
    maps: list[NDArray | None] = [None] * ndim
    fixed: list[int | None] = [None] * ndim
    # Entries of one batch share each axis's projection across the chunks of the other axes:
    # each distinct one is applied once.
    spans_by_key: list[dict[Any, tuple[int, int]]] = [{} for _ in range(ndim)]
    spans: list[set[tuple[int, int]]] = [set() for _ in range(ndim)]
    boxes: set[tuple[tuple[int, int], ...]] = set()
    covered = 0
    for coords, chunk_sel, out_sel in entries:
        if not isinstance(chunk_sel, tuple) or not isinstance(out_sel, tuple) or len(chunk_sel) != ndim:
            return None
        out_axis = 0
        volume = 1
        box: list[tuple[int, int]] = []
        for axis in range(ndim):
            item = chunk_sel[axis]
            offset = coords[axis] * chunk_shape[axis]
            if _is_int(item) or axis in drop_axes:
                index = int(item) if _is_int(item) else _single(item)
                if index is None or fixed[axis] not in (None, index + offset):
                    return None
                fixed[axis] = index + offset
                continue
            if out_axis >= len(out_sel):
                return None
            target = out_sel[out_axis]
            extent = out_shape[out_axis]
            out_axis += 1
            key = _key(coords[axis], item, target)
            if key is None or key not in spans_by_key[axis]:
                positions = _indices(target, 0)
                values = _indices(item, offset)
                if positions is None or values is None or len(values) != len(positions):
                    return None
                if len(positions) and (positions.min() < 0 or positions.max() >= extent):
                    return None
                current = maps[axis]
                if current is None:
                    current = maps[axis] = np.full(extent, -1, np.int64)
                previous = current[positions]
                if np.any((previous != -1) & (previous != values)):
                    return None
                current[positions] = values
                span = (int(positions[0]) if len(positions) else 0, len(positions))
                if key is not None:
                    spans_by_key[axis][key] = span
            else:
                span = spans_by_key[axis][key]
            spans[axis].add(span)
            box.append(span)
            volume *= span[1]
        if out_axis != len(out_sel):
            return None
        boxes.add(tuple(box))
        covered += volume
    # Exactly once: distinct boxes, as many as the product of each axis's distinct spans, whose
    # volumes add up to the output's.
    product = int(np.prod([len(s) for s in spans if s], dtype=np.int64))
    if len(boxes) != len(entries) or product != len(entries):
        return None
    if covered != int(np.prod(out_shape, dtype=np.int64)):
        return None
    axes: list[int | NDArray] = []
    for axis in range(ndim):
        if fixed[axis] is not None:
            axes.append(int(fixed[axis]))  # type: ignore[arg-type]
            continue
        current = maps[axis]
        if current is None or np.any(current < 0):
            return None
        axes.append(current)
    kept = [a for a in axes if not isinstance(a, int)]
    if len(kept) != len(out_shape):
        return None
    return OrthogonalPlan(axes)


def _single(item: Any) -> int | None:
    """The one index of an integer array of one element (an axis ``oindex`` drops)."""
    if isinstance(item, np.ndarray) and item.size == 1 and item.dtype.kind in "iu":
        return int(item.reshape(-1)[0])
    return None


def _key(coord: int, item: Any, target: Any) -> tuple[Any, ...] | None:
    """A hashable identity of one axis's projection: slices by value, index arrays by content
    (zarr-python pairs each axis's projections across the chunks of the other axes, as new
    arrays each time: of 64 entries of a 3-d ``oindex``, only 4 distinct projections per axis).
    None for anything else (applied each time)."""
    item_key = _content(item)
    target_key = _content(target)
    if item_key is None or target_key is None:
        return None
    return (coord, item_key, target_key)


def _content(item: Any) -> Any:
    if isinstance(item, slice):
        return ("slice", item.start, item.stop, item.step)
    if isinstance(item, np.ndarray) and item.dtype.kind in "iub":
        return (item.dtype.str, item.shape, item.tobytes())
    return None


def points(entries: Sequence[Entry], chunk_shape: Sequence[int], count: int) -> PointsPlan | None:
    """The coordinates ``entries`` (of a points selection: per chunk, one integer array per axis
    and a slice or array of output positions) give the ``count`` output elements."""
    ndim = len(chunk_shape)
    positions: list[NDArray] = []
    columns: list[list[NDArray]] = [[] for _ in range(ndim)]
    for coords, chunk_sel, out_sel in entries:
        if isinstance(out_sel, tuple) or not isinstance(chunk_sel, tuple) or len(chunk_sel) != ndim:
            return None
        where = _indices(out_sel, 0)
        if where is None:
            return None
        for axis in range(ndim):
            values = _indices(chunk_sel[axis], coords[axis] * chunk_shape[axis])
            if values is None or len(values) != len(where):
                return None
            columns[axis].append(values)
        positions.append(where)
    if not positions:
        return None
    order = np.concatenate(positions)
    # Every output element exactly once.
    if len(order) != count or (count and (order.min() < 0 or order.max() >= count)):
        return None
    seen = np.zeros(count, bool)
    seen[order] = True
    if not seen.all():
        return None
    result = np.empty((count, ndim), np.uint64)
    for axis in range(ndim):
        result[:, axis] = np.concatenate(columns[axis])
    return PointsPlan(result, order)


def point_axes(entries: Sequence[Entry], chunk_shape: Sequence[int], count: int) -> PointAxesPlan | None:
    """``points`` for a read: the coordinates as one int64 list per axis, each chunk's part
    written in place with the chunk's offset added (no interleaving into ``(n, ndim)`` points
    and no cast: the engine takes the lists as they are). None where ``points`` would give None,
    or when an index is negative (the engine would count it from the end)."""
    ndim = len(chunk_shape)
    if not entries or ndim == 0:
        return None
    axes = [np.empty(count, np.int64) for _ in range(ndim)]
    positions = np.empty(count, np.intp)
    in_order = True
    at = 0
    for coords, chunk_sel, out_sel in entries:
        if isinstance(out_sel, tuple) or not isinstance(chunk_sel, tuple) or len(chunk_sel) != ndim:
            return None
        if type(out_sel) is slice and out_sel.step in (None, 1) and out_sel.start is not None:
            size = out_sel.stop - out_sel.start
            if size < 0 or at + size > count:
                return None
            positions[at : at + size] = np.arange(out_sel.start, out_sel.stop)
            in_order = in_order and out_sel.start == at
        else:
            where = _indices(out_sel, 0)
            if where is None or at + len(where) > count:
                return None
            size = len(where)
            positions[at : at + size] = where
            in_order = False
        for axis in range(ndim):
            item = chunk_sel[axis]
            offset = coords[axis] * chunk_shape[axis]
            part = axes[axis][at : at + size]
            if isinstance(item, np.ndarray) and item.dtype.kind in "iu" and item.shape == (size,):
                np.add(item, offset, out=part, casting="unsafe")
                continue
            values = _indices(item, offset)
            if values is None or len(values) != size:
                return None
            part[...] = values
        at += size
    # Every output element exactly once, and no index the engine would wrap (a uint64 index
    # past int64's range is negative here too).
    if at != count or any(count and int(np.min(axis)) < 0 for axis in axes):
        return None
    if in_order:
        return PointAxesPlan(axes, None)
    if count and (int(np.min(positions)) < 0 or int(np.max(positions)) >= count):
        return None
    seen = np.zeros(count, bool)
    seen[positions] = True
    if not seen.all():
        return None
    return PointAxesPlan(axes, positions)
