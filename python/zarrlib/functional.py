"""The functional API: every operation is ``f(metadata, store, path, ...)``.

The metadata document (a dict, or its JSON text) is authoritative: array I/O follows it, not
what the store holds. ``store`` is a :class:`zarrlib.Store`, a local path, or a zarr-python
store; ``path`` is the node's store-relative path (``""`` is the root). ``backend`` picks the
implementation by name or object (default ``"native"``).

Metadata documents are the Zarr v3 ``zarr.json`` document, or for Zarr v2 the ``.zarray`` /
``.zgroup`` document with the ``.zattrs`` content under ``"attributes"``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy.typing as npt

from ._types import BackendLike, BasicSelection, ChunkCoords, Document, Metadata, NDArray, StoreLike
from .backends import resolve


def create_new_group(metadata: Metadata, store: StoreLike, path: str, *, backend: BackendLike = None) -> None:
    """Create a group; :class:`NodeExistsError` if any node is at ``path``."""
    resolve(backend).create_new_group(metadata, store, path)


def create_overwrite_group(metadata: Metadata, store: StoreLike, path: str, *, backend: BackendLike = None) -> None:
    """Create a group, replacing whatever node (and everything under it) is at ``path``."""
    resolve(backend).create_overwrite_group(metadata, store, path)


def create_new_array(metadata: Metadata, store: StoreLike, path: str, *, backend: BackendLike = None) -> None:
    """Create an array; :class:`NodeExistsError` if any node is at ``path``."""
    resolve(backend).create_new_array(metadata, store, path)


def create_overwrite_array(metadata: Metadata, store: StoreLike, path: str, *, backend: BackendLike = None) -> None:
    """Create an array, replacing whatever node (and everything under it) is at ``path``."""
    resolve(backend).create_overwrite_array(metadata, store, path)


def read_metadata(
    store: StoreLike, path: str, *, use_consolidated: bool | None = None, backend: BackendLike = None
) -> Document:
    """The metadata document of the node at ``path``; :class:`NodeNotFoundError` if none.
    ``use_consolidated=True`` answers from the consolidated metadata of a group at or above it
    (:class:`NodeNotFoundError` when none lists it); by default the node's own document is read
    (one request either way, and never stale)."""
    return resolve(backend).read_metadata(store, path, use_consolidated=use_consolidated)


def delete_node(store: StoreLike, path: str, *, backend: BackendLike = None) -> None:
    """Delete the node at ``path`` and everything under it; :class:`NodeNotFoundError` if none."""
    resolve(backend).delete_node(store, path)


def list_children(
    store: StoreLike, path: str, *, use_consolidated: bool | None = None, backend: BackendLike = None
) -> list[tuple[str, Document]]:
    """The direct children of the node at ``path``: ``(store-relative path, metadata)`` pairs,
    sorted by path; :class:`NodeNotFoundError` if there is no node.

    As in zarr-python, ``use_consolidated=None`` answers from consolidated metadata when a group
    at or above ``path`` has some that lists it (no listing of the store: what makes this work
    over HTTP), otherwise lists the store; ``True`` requires consolidated metadata
    (:class:`NodeNotFoundError` without it); ``False`` always lists."""
    return resolve(backend).list_children(store, path, use_consolidated=use_consolidated)


def update_attributes(
    store: StoreLike, path: str, attributes: Mapping[str, Any], *, replace: bool = False, backend: BackendLike = None
) -> Document:
    """Merge ``attributes`` into the attributes of the node at ``path`` (top-level keys, as
    ``dict.update``), or with ``replace=True`` make them the whole set. Data and the rest of the
    metadata are not rewritten (Zarr v2 writes ``.zattrs`` alone). Returns the node's new metadata
    document."""
    return resolve(backend).update_attributes(store, path, attributes, replace=replace)


def consolidate_metadata(store: StoreLike, path: str = "", *, backend: BackendLike = None) -> Document:
    """Write the consolidated metadata of the group at ``path``: every node below it, kept as
    zarr-python keeps it (Zarr v3 inside the group's ``zarr.json``, Zarr v2 in ``.zmetadata``).
    It is a snapshot: consolidate again after changing the hierarchy. Returns the group's new
    metadata document."""
    return resolve(backend).consolidate_metadata(store, path)


def resize_array(
    metadata: Metadata, store: StoreLike, path: str, shape: Sequence[int], *, backend: BackendLike = None
) -> Document:
    """Give the array a new shape (any axis larger or smaller) and return its new metadata
    document. Chunks wholly outside the new shape are erased and chunks partly outside it are
    cleared beyond it, so growing again reads the fill value. Readers never see the metadata
    point at data it should not: growing clears before writing the metadata, shrinking writes
    the metadata before erasing."""
    return resolve(backend).resize_array(metadata, store, path, shape)


def append(
    metadata: Metadata, store: StoreLike, path: str, value: npt.ArrayLike, *, axis: int = 0, backend: BackendLike = None
) -> Document:
    """Append ``value`` to the array along ``axis`` (its shape equals the array's on every
    other axis; one dimension fewer appends one slice) and return the new metadata document. The
    data is written before the metadata that shows it."""
    return resolve(backend).append(metadata, store, path, value, axis=axis)


def read_chunk(
    metadata: Metadata,
    store: StoreLike,
    path: str,
    chunk_coords: ChunkCoords,
    *,
    out: NDArray | None = None,
    backend: BackendLike = None,
) -> NDArray:
    """The whole chunk at ``chunk_coords``, edge chunks at full chunk shape; a chunk that is not
    stored reads as the fill value. ``out`` receives the data when given."""
    return resolve(backend).read_chunk(metadata, store, path, chunk_coords, out=out)


def read_encoded_chunk(
    metadata: Metadata, store: StoreLike, path: str, chunk_coords: ChunkCoords, *, backend: BackendLike = None
) -> bytes | None:
    """The chunk's stored (encoded) bytes, or None when it is not stored."""
    return resolve(backend).read_encoded_chunk(metadata, store, path, chunk_coords)


def write_chunk(
    metadata: Metadata,
    store: StoreLike,
    path: str,
    chunk_coords: ChunkCoords,
    value: npt.ArrayLike,
    *,
    backend: BackendLike = None,
) -> None:
    """Write a whole chunk (``value`` has exactly the chunk shape). A chunk that is entirely the
    fill value is not stored, and erased if present, unless ``store_empty_chunks`` is set."""
    resolve(backend).write_chunk(metadata, store, path, chunk_coords, value)


def delete_chunk(
    metadata: Metadata, store: StoreLike, path: str, chunk_coords: ChunkCoords, *, backend: BackendLike = None
) -> None:
    """Erase a chunk (it then reads as the fill value)."""
    resolve(backend).delete_chunk(metadata, store, path, chunk_coords)


def read_region(
    metadata: Metadata,
    store: StoreLike,
    path: str,
    selection: BasicSelection,
    *,
    out: NDArray | None = None,
    backend: BackendLike = None,
) -> NDArray:
    """``data[selection]`` for a numpy basic selection (integers, slices with any step, one
    Ellipsis), equal to numpy's result. Only chunks holding selected elements are read."""
    return resolve(backend).read_region(metadata, store, path, selection, out=out)


def write_region(
    metadata: Metadata,
    store: StoreLike,
    path: str,
    selection: BasicSelection,
    value: npt.ArrayLike,
    *,
    backend: BackendLike = None,
) -> None:
    """``data[selection] = value``, ``value`` broadcast and cast as numpy assignment does. Chunks
    the selection covers in part are read, updated and written back."""
    resolve(backend).write_region(metadata, store, path, selection, value)
