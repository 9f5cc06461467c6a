"""The functional API on the native engine (the default backend).

Every function takes the caller's metadata document as authoritative: array I/O goes through a
handle built from that document (cached per store), never through what the store holds.
"""

from __future__ import annotations

import json

import numpy as np

from . import _native
from ._native import check, lib
from .stores import as_store, canonical_json, node_path

name = "native"


def _create(create, metadata, store, path, overwrite: bool) -> None:
    native_store = as_store(store)
    check(
        create(
            native_store._handle,
            _native.encode(node_path(path), "path"),
            _native.encode(canonical_json(metadata), "metadata"),
            overwrite,
        )
    )


def create_new_group(metadata, store, path: str) -> None:
    _create(lib.zarrlib_group_create, metadata, store, path, overwrite=False)


def create_overwrite_group(metadata, store, path: str) -> None:
    _create(lib.zarrlib_group_create, metadata, store, path, overwrite=True)


def create_new_array(metadata, store, path: str) -> None:
    _create(lib.zarrlib_array_create, metadata, store, path, overwrite=False)


def create_overwrite_array(metadata, store, path: str) -> None:
    _create(lib.zarrlib_array_create, metadata, store, path, overwrite=True)


def read_metadata(store, path: str) -> dict:
    native_store = as_store(store)
    text = _native.call_for_string(
        lib.zarrlib_node_metadata, native_store._handle, _native.encode(node_path(path), "path")
    )
    return json.loads(text)


def delete_node(store, path: str) -> None:
    native_store = as_store(store)
    check(lib.zarrlib_node_delete(native_store._handle, _native.encode(node_path(path), "path")))


def list_children(store, path: str) -> list[tuple[str, dict]]:
    native_store = as_store(store)
    text = _native.call_for_string(
        lib.zarrlib_node_children, native_store._handle, _native.encode(node_path(path), "path")
    )
    return [(child_path, metadata) for child_path, metadata in json.loads(text)]


def read_chunk(metadata, store, path: str, chunk_coords, *, out=None) -> np.ndarray:
    return as_store(store).cached_array(path, metadata).read_chunk(chunk_coords, out)


def read_encoded_chunk(metadata, store, path: str, chunk_coords) -> bytes | None:
    return as_store(store).cached_array(path, metadata).read_encoded_chunk(chunk_coords)


def write_chunk(metadata, store, path: str, chunk_coords, value) -> None:
    as_store(store).cached_array(path, metadata).write_chunk(chunk_coords, value)


def delete_chunk(metadata, store, path: str, chunk_coords) -> None:
    as_store(store).cached_array(path, metadata).delete_chunk(chunk_coords)


def read_region(metadata, store, path: str, selection, *, out=None) -> np.ndarray:
    return as_store(store).cached_array(path, metadata).read(selection, out)


def write_region(metadata, store, path: str, selection, value) -> None:
    as_store(store).cached_array(path, metadata).write(selection, value)
