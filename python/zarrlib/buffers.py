"""numpy buffers as both backends take and give them: chunk coordinates, read destinations and
write sources.

Reads allocate the result once (or take the caller's ``out=``); writes use a C-contiguous array of
the array's dtype as it is, and convert anything else (cast and broadcast as numpy assignment
would) first.
"""

from __future__ import annotations

import operator

import numpy as np

from .errors import OutOfBoundsError


def chunk_coords(coords, ndim: int) -> list[int]:
    """Chunk coordinates as a list of non-negative ints."""
    if isinstance(coords, (int, np.integer)):
        coords = (coords,)
    try:
        values = [operator.index(c) for c in coords]
    except TypeError:
        raise TypeError(f"chunk coordinates must be a sequence of integers, not {coords!r}") from None
    if any(v < 0 for v in values):
        raise OutOfBoundsError(f"chunk coordinates {tuple(values)} are negative")
    return values


def read_target(out: np.ndarray | None, shape: tuple[int, ...], dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
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


def write_source(value, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """``value`` as a C-contiguous array of ``dtype`` and ``shape``, copied only if it must be."""
    if (
        isinstance(value, np.ndarray)
        and value.dtype == dtype
        and value.shape == shape
        and value.flags.c_contiguous
    ):
        return value
    array = np.asarray(value, dtype=dtype)
    # numpy assignment also takes a value with extra leading axes of length 1.
    while array.ndim > len(shape) and array.shape[0] == 1:
        array = array[0]
    try:
        array = np.broadcast_to(array, shape)
    except ValueError:
        raise ValueError(
            f"could not broadcast a value of shape {array.shape} to the selection's shape {shape}"
        ) from None
    return np.ascontiguousarray(array)
