"""numpy basic selections (integers, slices with any step, one Ellipsis) as engine selections.

A selection becomes, per axis, a start, a step and a count, which the engine reads or writes in
one call, touching only chunks that hold selected elements. Integer axes select one element and
are dropped from the result, as numpy drops them.
"""

from __future__ import annotations

import operator
from typing import Any, NamedTuple

import numpy as np

from ._types import BasicSelection
from .errors import OutOfBoundsError


class Selection(NamedTuple):
    """Per axis: first selected index, step (negative runs backwards), number selected."""

    starts: list[int]
    steps: list[int]
    counts: list[int]
    #: The result's shape: ``counts`` without the integer-indexed axes.
    shape: tuple[int, ...]

    @property
    def size(self) -> int:
        size = 1
        for count in self.counts:
            size *= count
        return size


def _expand(selection: BasicSelection, ndim: int) -> list[Any]:
    """The selection as one item per axis, Ellipsis expanded and missing trailing axes filled."""
    items = list(selection) if isinstance(selection, tuple) else [selection]
    ellipses = sum(1 for item in items if item is Ellipsis)
    if ellipses > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    if len(items) - ellipses > ndim:
        raise IndexError(
            f"too many indices for array: array is {ndim}-dimensional, but {len(items) - ellipses} were indexed"
        )
    if ellipses:
        at = next(i for i, item in enumerate(items) if item is Ellipsis)
        items[at : at + 1] = [slice(None)] * (ndim - len(items) + 1)
    return items + [slice(None)] * (ndim - len(items))


def normalize_selection(selection: BasicSelection, shape: tuple[int, ...]) -> Selection:
    """Check a numpy basic selection against ``shape``.

    Raises OutOfBoundsError (an IndexError) for out-of-range integers, IndexError for too many
    indices, TypeError for anything
    but integers, slices and Ellipsis (boolean and fancy indexing, ``None``).
    """
    starts, steps, counts, result_shape = [], [], [], []
    for axis, (item, extent) in enumerate(zip(_expand(selection, len(shape)), shape, strict=True)):
        if isinstance(item, slice):
            start, stop, step = item.indices(extent)
            count = len(range(start, stop, step))
            starts.append(start if count else 0)
            # The step only matters between selected elements (and may exceed int64 otherwise).
            steps.append(step if count > 1 else 1)
            counts.append(count)
            result_shape.append(count)
            continue
        if isinstance(item, (bool, np.bool_)) or not hasattr(type(item), "__index__"):
            raise TypeError(
                f"zarrlib selections take integers, slices and one Ellipsis; got {type(item).__name__} on axis {axis}"
            )
        index = operator.index(item)
        if not -extent <= index < extent:
            raise OutOfBoundsError(f"index {index} is out of bounds for axis {axis} with size {extent}")
        starts.append(index + extent if index < 0 else index)
        steps.append(1)
        counts.append(1)
    return Selection(starts, steps, counts, tuple(result_shape))


def broadcast_for_assignment(array: np.ndarray[Any, Any], shape: tuple[int, ...]) -> np.ndarray[Any, Any]:
    """``array`` broadcast to a selection's ``shape`` as numpy assignment does it (which also
    drops extra leading axes of length 1); ValueError naming both shapes otherwise."""
    while array.ndim > len(shape) and array.shape[0] == 1:
        array = array[0]
    try:
        return np.broadcast_to(array, shape)
    except ValueError:
        raise ValueError(
            f"could not broadcast a value of shape {array.shape} to the selection's shape {shape}"
        ) from None
