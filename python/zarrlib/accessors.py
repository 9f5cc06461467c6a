"""zarr-python's selection accessors on :class:`zarrlib.Array`: ``oindex`` (orthogonal),
``vindex`` (coordinates, or one boolean mask) and ``blocks`` (chunks by grid position), each
read and written in one engine call (see :mod:`zarrlib.fancy`)."""

from __future__ import annotations

from typing import Any

import numpy.typing as npt

from . import fancy, native_indexed
from ._types import NDArray
from .native_array import NativeArray


class OIndex:
    """``array.oindex[selection]``: per axis an integer, a slice, an integer array or a boolean
    mask; the outer product is selected (integer axes are dropped)."""

    __slots__ = ("_native",)

    def __init__(self, native: NativeArray):
        self._native = native

    def __getitem__(self, selection: Any) -> NDArray:
        return native_indexed.get_orthogonal(self._native, selection)

    def __setitem__(self, selection: Any, value: npt.ArrayLike) -> None:
        native_indexed.set_orthogonal(self._native, selection, value)


class VIndex:
    """``array.vindex[selection]``: one integer array per axis, broadcast together (the result
    has their broadcast shape), or one boolean mask of the array's shape."""

    __slots__ = ("_native",)

    def __init__(self, native: NativeArray):
        self._native = native

    def __getitem__(self, selection: Any) -> NDArray:
        return native_indexed.get_coordinates(self._native, selection)

    def __setitem__(self, selection: Any, value: npt.ArrayLike) -> None:
        native_indexed.set_coordinates(self._native, selection, value)


class BlockIndex:
    """``array.blocks[selection]``: integers and slices (step 1) over the chunk grid; the region
    those chunks cover."""

    __slots__ = ("_native",)

    def __init__(self, native: NativeArray):
        self._native = native

    def region(self, selection: Any) -> tuple[slice, ...]:
        return fancy.blocks(selection, self._native.shape, self._native.chunk_shape)

    def __getitem__(self, selection: Any) -> NDArray:
        return self._native.read(self.region(selection))

    def __setitem__(self, selection: Any, value: npt.ArrayLike) -> None:
        self._native.write(self.region(selection), value)
