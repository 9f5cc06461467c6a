"""The functional API on the native engine (the default backend).

Every function takes the caller's metadata document as authoritative: array I/O goes through a
handle built from that document, never through what the store holds.

Array handles are cached per store (bounded, least recently used first out), keyed on the node
path and the canonical JSON of the metadata document, so repeated calls do not rebuild the codec
chain. A store's cache dies with the store.
"""

from __future__ import annotations

import pickle
import threading
import weakref
from collections.abc import Mapping, Sequence
from typing import Any

import numpy.typing as npt

from ._lru import LRU
from ._types import BasicSelection, ChunkCoords, Document, Metadata, NDArray, StoreLike
from .native_array import NativeArray
from .store_routes import as_store
from .stores import Store, canonical_json, node_path

#: How many array handles the cache keeps open per store.
HANDLE_CACHE_SIZE = 128

# A cached handle does not refer to its Store object, so the cache does not keep the store alive.
_caches: weakref.WeakKeyDictionary[Store, LRU[tuple[str, str], NativeArray]] = weakref.WeakKeyDictionary()
_caches_lock = threading.Lock()


def _cache(store: Store) -> LRU[tuple[str, str], NativeArray]:
    cache = _caches.get(store)
    if cache is None:
        with _caches_lock:
            cache = _caches.setdefault(store, LRU(HANDLE_CACHE_SIZE))
    return cache


#: The canonical JSON of the metadata dicts passed most recently, by identity, with a pickle of
#: each as it was then: a dict passed again unchanged skips the canonical JSON (a few times the
#: cost of the pickle that proves it unchanged; pickles tell 0, 0.0 and False apart, equality
#: does not). Holding the dict keeps its id from being reused while it is cached.
_recent_metadata: LRU[int, tuple[dict[str, Any], bytes, str]] = LRU(64)


def _metadata_key(metadata: Metadata) -> str:
    if type(metadata) is not dict:
        return canonical_json(metadata)
    try:
        snapshot = pickle.dumps(metadata, pickle.HIGHEST_PROTOCOL)
    except Exception:  # not picklable: canonical_json says what is wrong with it
        return canonical_json(metadata)
    recent = _recent_metadata.get(id(metadata))
    if recent is not None and recent[0] is metadata and recent[1] == snapshot:
        return recent[2]
    key = canonical_json(metadata)
    _recent_metadata.put(id(metadata), (metadata, snapshot, key))
    return key


def _array(metadata: Metadata, store: StoreLike, path: str) -> NativeArray:
    """The handle for ``metadata`` at ``path``, from the store's cache when one is open."""
    native_store = as_store(store)
    key = (node_path(path), _metadata_key(metadata))
    return _cache(native_store).get_or_make(key, lambda: native_store.open_array(*key))


def cached_arrays(store: StoreLike) -> list[tuple[str, str]]:
    """The ``(path, metadata JSON)`` keys of the handles cached for ``store``, least recently
    used first."""
    cache = _caches.get(as_store(store))
    return [] if cache is None else cache.keys()


def forget_arrays(store: StoreLike) -> None:
    """Drop the handles cached for ``store`` (they close once no caller still uses them)."""
    cache = _caches.get(as_store(store))
    if cache is not None:
        cache.clear()


def create_new_group(metadata: Metadata, store: StoreLike, path: str) -> None:
    as_store(store).create_group(path, metadata)


def create_overwrite_group(metadata: Metadata, store: StoreLike, path: str) -> None:
    as_store(store).create_group(path, metadata, overwrite=True)


def create_new_array(metadata: Metadata, store: StoreLike, path: str) -> None:
    as_store(store).create_array(path, metadata)


def create_overwrite_array(metadata: Metadata, store: StoreLike, path: str) -> None:
    as_store(store).create_array(path, metadata, overwrite=True)


def read_metadata(store: StoreLike, path: str, *, use_consolidated: bool | None = None) -> Document:
    return as_store(store).read_metadata(path, use_consolidated=use_consolidated)


def delete_node(store: StoreLike, path: str) -> None:
    as_store(store).delete_node(path)


def list_children(store: StoreLike, path: str, *, use_consolidated: bool | None = None) -> list[tuple[str, Document]]:
    return as_store(store).list_children(path, use_consolidated=use_consolidated)


def update_attributes(store: StoreLike, path: str, attributes: Mapping[str, Any], *, replace: bool = False) -> Document:
    return as_store(store).update_attributes(path, attributes, replace=replace)


def consolidate_metadata(store: StoreLike, path: str = "") -> Document:
    return as_store(store).consolidate(path)


def resize_array(metadata: Metadata, store: StoreLike, path: str, shape: Sequence[int]) -> Document:
    return _array(metadata, store, path).resize(shape).metadata


def append(metadata: Metadata, store: StoreLike, path: str, value: npt.ArrayLike, *, axis: int = 0) -> Document:
    return _array(metadata, store, path).append(value, axis).metadata


def read_chunk(
    metadata: Metadata, store: StoreLike, path: str, chunk_coords: ChunkCoords, *, out: NDArray | None = None
) -> NDArray:
    return _array(metadata, store, path).read_chunk(chunk_coords, out)


def read_encoded_chunk(metadata: Metadata, store: StoreLike, path: str, chunk_coords: ChunkCoords) -> bytes | None:
    return _array(metadata, store, path).read_encoded_chunk(chunk_coords)


def write_chunk(
    metadata: Metadata, store: StoreLike, path: str, chunk_coords: ChunkCoords, value: npt.ArrayLike
) -> None:
    _array(metadata, store, path).write_chunk(chunk_coords, value)


def delete_chunk(metadata: Metadata, store: StoreLike, path: str, chunk_coords: ChunkCoords) -> None:
    _array(metadata, store, path).delete_chunk(chunk_coords)


def read_region(
    metadata: Metadata, store: StoreLike, path: str, selection: BasicSelection, *, out: NDArray | None = None
) -> NDArray:
    return _array(metadata, store, path).read(selection, out)


def write_region(
    metadata: Metadata, store: StoreLike, path: str, selection: BasicSelection, value: npt.ArrayLike
) -> None:
    _array(metadata, store, path).write(selection, value)
