"""The types of the API's arguments and results, for annotations."""

from __future__ import annotations

import os
from collections.abc import Iterable
from types import EllipsisType
from typing import TYPE_CHECKING, Any, SupportsIndex, TypeAlias

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from zarr.abc.store import Store as ZarrStore

    from .backends import Backend
    from .stores import Store

#: A numpy array of any shape and dtype.
NDArray: TypeAlias = npt.NDArray[Any]
#: A metadata document: the Zarr v3 ``zarr.json`` document, or for Zarr v2 the ``.zarray`` /
#: ``.zgroup`` document with the ``.zattrs`` content under ``"attributes"``.
Document: TypeAlias = dict[str, Any]
#: A metadata document as callers give it: the dict, or its JSON text.
Metadata: TypeAlias = "Document | str | bytes"
#: A store as callers name it: a :class:`zarrlib.Store`, a local path, or a zarr-python store
#: (the native backend takes zarr-python's ``LocalStore`` only).
StoreLike: TypeAlias = "Store | str | os.PathLike[str] | ZarrStore"
#: A backend by name (``"native"``, ``"reference"``, or any registered one) or as an object;
#: None is the default, ``"native"``.
BackendLike: TypeAlias = "str | Backend | None"
#: One axis of a numpy basic selection.
Index: TypeAlias = "SupportsIndex | slice | EllipsisType"
#: A numpy basic selection: integers, slices with any step, one Ellipsis.
BasicSelection: TypeAlias = "Index | tuple[Index, ...]"
#: A chunk's coordinates in the chunk grid (an integer for one-dimensional arrays).
ChunkCoords: TypeAlias = "int | np.integer[Any] | Iterable[SupportsIndex]"
#: A numpy dtype.
DType: TypeAlias = np.dtype[Any]
