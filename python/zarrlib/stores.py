"""Stores: the native store handle with every node call on it, and how callers name a store.

A :class:`Store` holds a native store handle and makes every call about nodes: creating groups
and arrays, reading metadata, node kinds and children, deleting, and opening array handles
(:class:`~zarrlib.native_array.NativeArray`). Paths are store-relative (``""`` is the root; a
leading or trailing ``/`` is ignored); metadata documents are dicts or their JSON text.

The API also accepts local paths, zarr-python stores and mappings wherever it takes a store:
:mod:`zarrlib.store_routes` turns each into a :class:`Store`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

from . import _native
from ._native import check, ffi, lib
from ._types import Document, Metadata
from .errors import InvalidMetadataError
from .native_array import NativeArray


def canonical_json(metadata: object) -> str:
    """One JSON text per document, whatever its key order."""
    try:
        if isinstance(metadata, (str, bytes)):
            metadata = json.loads(metadata)
        if not isinstance(metadata, dict):
            raise TypeError(f"metadata must be a dict (or its JSON text), not {type(metadata).__name__}")
        return json.dumps(metadata, sort_keys=True, separators=(",", ":"))
    except RecursionError:
        raise InvalidMetadataError("the metadata document is nested too deeply") from None
    except json.JSONDecodeError as err:
        raise InvalidMetadataError(f"the metadata document is not valid JSON: {err}") from None


def node_path(path: object) -> str:
    """A node path in its one form: no leading or trailing '/'."""
    if not isinstance(path, str):
        raise TypeError(f"path must be a str, not {type(path).__name__}")
    return path.strip("/")


def _path(path: str) -> bytes:
    return _native.encode(node_path(path), "path")


def _metadata(metadata: Metadata) -> bytes:
    return _native.encode(canonical_json(metadata), "metadata")


def _consolidated(use_consolidated: bool | None) -> int:
    if use_consolidated is None:
        return int(lib.ZARRLIB_CONSOLIDATED_IF_PRESENT)
    if not isinstance(use_consolidated, bool):
        raise TypeError(f"use_consolidated must be None, True or False, not {use_consolidated!r}")
    return int(lib.ZARRLIB_CONSOLIDATED_REQUIRED if use_consolidated else lib.ZARRLIB_CONSOLIDATED_NEVER)


def _attributes_json(attributes: Mapping[str, Any]) -> str:
    if not isinstance(attributes, Mapping):
        raise TypeError(f"attributes must be a mapping, not {type(attributes).__name__}")
    # Integers of any size are kept exactly: the engine splices their digits, never a double.
    # Non-finite floats go as the bare NaN, Infinity and -Infinity that zarr-python writes.
    try:
        return json.dumps(dict(attributes), allow_nan=True)
    except (TypeError, ValueError) as err:
        raise TypeError(f"attributes must be JSON-serialisable: {err}") from None


_NODE_KINDS = {lib.ZARRLIB_NODE_ARRAY: "array", lib.ZARRLIB_NODE_GROUP: "group"}


class Store:
    """An open store: a local directory (a path or ``file://`` URL), ``memory://``, an object
    store (``s3://``, ``gs://``, ``az://``/``abfs://``, read-only ``http(s)://``), or a zip file
    (a path to an existing file, or ``zip+URL``), read-only.

    Options: ``metrics=True`` counts store requests (see :meth:`metrics`); ``read_only=True``
    refuses writes (:class:`ReadOnlyError`); for directories also ``sync`` (bool, default False:
    fsync each written value and its directory before returning), ``process_locks`` (bool,
    default False: serialise writes to one chunk between processes with advisory file locks, as
    threads always are), ``direct_io`` (bool) and ``file_handle_cache_size`` (int, both making
    writes in place); for object stores, object_store's configuration keys (``endpoint``,
    ``region``, ``access_key_id``, ...) plus ``retries`` and ``retry_timeout``. A directory
    store replaces a chunk or metadata file by renaming a finished temporary file over it, so
    readers never see a torn value, nor does anyone after a writer is killed.

    A store pickles as its URL and options (so Dask workers and other processes reopen it):
    credentials the options hold travel with it, the rest come from the environment of the
    process that unpickles it. A ``memory://`` store lives in this process only and refuses to
    pickle.
    """

    def __init__(self, url: str | os.PathLike[str], **options: Any):
        location: object = os.fspath(url)
        if not isinstance(location, str):
            raise TypeError(f"a store URL must be a str or os.PathLike, not {type(url).__name__}")
        options_json = _native.encode(json.dumps(options), "options") if options else ffi.NULL
        out = ffi.new("zarrlib_store **")
        check(lib.zarrlib_store_open(_native.encode(location, "url"), options_json, out))
        self._handle = ffi.gc(out[0], lib.zarrlib_store_free)
        #: The URL or path the store was opened with.
        self.url: str = location
        #: The options it was opened with.
        self.options: dict[str, Any] = dict(options)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.url!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        if self.url.lower().startswith("memory://"):
            raise TypeError(
                "a memory:// store lives in this process's memory and cannot be pickled; "
                "use a directory or an object store to share data between processes"
            )
        return (_reopen_store, (self.url, self.options))

    def metrics(self) -> dict[str, int]:
        """Requests made since the store was opened (needs ``metrics=True``): ``reads``,
        ``bytes_read``, ``writes``, ``bytes_written``, ``keys_erased``, ``lists`` (listings)."""
        counts: dict[str, int] = json.loads(_native.call_for_string(lib.zarrlib_store_metrics, self._handle))
        return counts

    # --- nodes ----------------------------------------------------------------------------

    def create_group(self, path: str, metadata: Metadata, *, overwrite: bool = False) -> None:
        """Create a group; :class:`NodeExistsError` if any node is at ``path``, unless
        ``overwrite``, which replaces it and everything under it."""
        check(lib.zarrlib_group_create(self._handle, _path(path), _metadata(metadata), overwrite))

    def create_array(self, path: str, metadata: Metadata, *, overwrite: bool = False) -> None:
        """Create an array, as :meth:`create_group` creates a group."""
        check(lib.zarrlib_array_create(self._handle, _path(path), _metadata(metadata), overwrite))

    def read_metadata(self, path: str, *, use_consolidated: bool | None = None) -> Document:
        """The metadata document of the node at ``path``; :class:`NodeNotFoundError` if none.
        ``use_consolidated=True`` answers from consolidated metadata (:class:`NodeNotFoundError`
        if none lists the node); otherwise the node's own document is read."""
        text = _native.call_for_string(
            lib.zarrlib_node_metadata_opt, self._handle, _path(path), _consolidated(use_consolidated)
        )
        document: Document = json.loads(text)
        return document

    def node_kind(self, path: str = "") -> str | None:
        """``"array"``, ``"group"``, or None when nothing is at ``path``."""
        out = ffi.new("int32_t *")
        check(lib.zarrlib_node_kind(self._handle, _path(path), out))
        return _NODE_KINDS.get(out[0])

    def delete_node(self, path: str) -> None:
        """Delete the node at ``path`` and everything under it; :class:`NodeNotFoundError` if none."""
        check(lib.zarrlib_node_delete(self._handle, _path(path)))

    def list_children(self, path: str, *, use_consolidated: bool | None = None) -> list[tuple[str, Document]]:
        """The direct children of the node at ``path``: ``(store-relative path, metadata)`` pairs,
        sorted by path. With ``use_consolidated=None`` (as zarr-python) they come from the
        consolidated metadata of the nearest group at or above ``path`` that lists it, if any,
        otherwise from listing the store; ``True`` requires consolidated metadata
        (:class:`NodeNotFoundError` without it), ``False`` always lists."""
        text = _native.call_for_string(
            lib.zarrlib_node_children_opt, self._handle, _path(path), _consolidated(use_consolidated)
        )
        return [(child_path, metadata) for child_path, metadata in json.loads(text)]

    def update_attributes(self, path: str, attributes: Mapping[str, Any], *, replace: bool = False) -> Document:
        """Merge ``attributes`` into the node's attributes (top-level keys, as ``dict.update``),
        or with ``replace`` make them the whole set, without touching data or other metadata.
        Returns the node's new metadata document."""
        text = _native.encode(_attributes_json(attributes), "attributes")
        document: Document = json.loads(
            _native.call_for_string(lib.zarrlib_node_update_attributes, self._handle, _path(path), text, replace)
        )
        return document

    def consolidate(self, path: str = "") -> Document:
        """Write the consolidated metadata of the group at ``path`` (every node below it, as
        zarr-python keeps it) and return the group's new metadata document."""
        text = _native.call_for_string(lib.zarrlib_node_consolidate, self._handle, _path(path))
        document: Document = json.loads(text)
        return document

    def open_array(self, path: str, metadata: Metadata | None = None) -> NativeArray:
        """A new handle on the array at ``path``: as the store describes it, or, given
        ``metadata``, as that document describes it (the store's is then not read)."""
        out = ffi.new("zarrlib_array **")
        if metadata is None:
            check(lib.zarrlib_array_open(self._handle, _path(path), out))
            return NativeArray(out[0], node_path(path))
        text = canonical_json(metadata)
        check(lib.zarrlib_array_open_with_metadata(self._handle, _path(path), _native.encode(text, "metadata"), out))
        return NativeArray(out[0], node_path(path), json.loads(text))


def _reopen_store(url: str, options: dict[str, Any]) -> Store:
    """Open a pickled store again, in the process that unpickles it: one store for every copy
    unpickled there (a Dask worker unpickles an array for many tasks), whose arrays then share
    their chunk locks. In a Dask worker process, the engine's pool is sized to the worker first."""
    from .dask import fit_to_dask_worker
    from .store_routes import cached_store

    fit_to_dask_worker()
    return cached_store(url, options)


class MemoryStore(Store):
    """A new, empty in-process store. Its contents live as long as the object."""

    def __init__(self, **options: Any):
        super().__init__("memory://", **options)


def open_store(url: str | os.PathLike[str], **options: Any) -> Store:
    """Open the store at ``url``: a local path, a ``file://`` URL, or ``memory://``."""
    return Store(url, **options)
