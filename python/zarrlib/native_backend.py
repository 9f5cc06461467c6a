"""The functional API on the native engine (the default backend).

Every function takes the caller's metadata document as authoritative: array I/O goes through a
handle built from that document (cached per store), never through what the store holds.
"""

from __future__ import annotations

import numpy as np

from .stores import as_store


def create_new_group(metadata, store, path: str) -> None:
    as_store(store).create_group(path, metadata)


def create_overwrite_group(metadata, store, path: str) -> None:
    as_store(store).create_group(path, metadata, overwrite=True)


def create_new_array(metadata, store, path: str) -> None:
    as_store(store).create_array(path, metadata)


def create_overwrite_array(metadata, store, path: str) -> None:
    as_store(store).create_array(path, metadata, overwrite=True)


def read_metadata(store, path: str) -> dict:
    return as_store(store).read_metadata(path)


def delete_node(store, path: str) -> None:
    as_store(store).delete_node(path)


def list_children(store, path: str) -> list[tuple[str, dict]]:
    return as_store(store).list_children(path)


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
