"""zarrlib: a native Zarr (v2 and v3) engine for Python.

The functional API (``create_new_array``, ``read_region``, ...) takes ``(metadata, store, path,
...)`` on every call; the object API (:class:`Array`, :class:`Group`) holds handles;
:mod:`zarrlib.aio` has async mirrors. The engine is a shared library loaded with cffi; the same
library serves C, C++ and any other language (see :func:`get_include` and :func:`get_library`).
"""

from __future__ import annotations

import sys

from . import _native
from .backends import backend_names, get_backend, register_backend
from .dask import from_dask, to_dask
from .errors import (
    BufferSizeError,
    CorruptDataError,
    InternalError,
    InvalidArgumentError,
    InvalidHandleError,
    InvalidMetadataError,
    NodeExistsError,
    NodeKindError,
    NodeNotFoundError,
    OutOfBoundsError,
    PanicError,
    ReadOnlyError,
    StorageError,
    UnsupportedError,
    ZarrlibError,
)
from .functional import (
    append,
    consolidate_metadata,
    create_new_array,
    create_new_group,
    create_overwrite_array,
    create_overwrite_group,
    delete_chunk,
    delete_node,
    list_children,
    read_chunk,
    read_encoded_chunk,
    read_metadata,
    read_region,
    resize_array,
    update_attributes,
    write_chunk,
    write_region,
)
from .hierarchy import Array, Group, create_array, node_kind, open, open_array, open_group
from .metadata import array_metadata, group_metadata
from .settings import get_config, set_config
from .store_routes import StoreDescription, describe_store
from .stores import MemoryStore, Store, open_store

#: The version of the native library this package loaded.
library_version = _native.LIBRARY_VERSION
#: The package's version: the package and its library are built together from the one version
#: written in native/Cargo.toml, and loading checks the library is the one the package expects.
__version__ = library_version


def get_include() -> str:
    """The directory holding ``zarrlib.h``, for building C extensions against this library."""
    return str(_native.HEADER_PATH.parent)


def __getattr__(name: str) -> object:
    # The codec pipeline imports zarr-python: only when asked for (zarr-python finds it by
    # this name, ``zarrlib.ZarrlibCodecPipeline``).
    if name in ("ZarrlibCodecPipeline", "pipeline_stats"):
        from . import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module 'zarrlib' has no attribute {name!r}")


if "zarr" in sys.modules:
    # zarr-python is loaded already: register the pipeline with it now (cheap then), so
    # selecting it by name works even where the entry point is not installed (a source tree).
    from . import pipeline as _pipeline  # noqa: F401


def get_library() -> str:
    """The path of the loaded native library."""
    return str(_native.library_path())


__all__ = [
    "Array",
    "BufferSizeError",
    "CorruptDataError",
    "ReadOnlyError",
    "Group",
    "InternalError",
    "InvalidArgumentError",
    "InvalidHandleError",
    "InvalidMetadataError",
    "MemoryStore",
    "NodeExistsError",
    "NodeKindError",
    "NodeNotFoundError",
    "OutOfBoundsError",
    "PanicError",
    "StorageError",
    "Store",
    "StoreDescription",
    "UnsupportedError",
    "ZarrlibCodecPipeline",
    "ZarrlibError",
    "append",
    "array_metadata",
    "backend_names",
    "consolidate_metadata",
    "create_array",
    "create_new_array",
    "create_new_group",
    "create_overwrite_array",
    "create_overwrite_group",
    "delete_chunk",
    "delete_node",
    "describe_store",
    "from_dask",
    "get_backend",
    "get_config",
    "get_include",
    "get_library",
    "group_metadata",
    "library_version",
    "list_children",
    "node_kind",
    "open",
    "open_array",
    "open_group",
    "open_store",
    "pipeline_stats",
    "read_chunk",
    "read_encoded_chunk",
    "read_metadata",
    "read_region",
    "register_backend",
    "resize_array",
    "set_config",
    "to_dask",
    "update_attributes",
    "write_chunk",
    "write_region",
]
