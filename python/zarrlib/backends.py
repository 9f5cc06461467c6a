"""The backend registry: which implementation runs the functional API.

A backend is any object (a module will do) with the functional API's functions, taking the
same arguments minus ``backend``. ``"native"`` (the engine) is the default; the reference backend
on zarr-python is ``"reference"``, loaded on first use when zarr is installed.
"""

from __future__ import annotations

import importlib
import importlib.util
import threading
from collections.abc import Mapping, Sequence
from typing import Any, Protocol, cast

import numpy.typing as npt

from . import native_backend
from ._types import BackendLike, BasicSelection, ChunkCoords, Document, Metadata, NDArray, StoreLike


class Backend(Protocol):
    """What a backend provides: the functional API's functions, without ``backend``."""

    def create_new_group(self, metadata: Metadata, store: StoreLike, path: str) -> None: ...
    def create_overwrite_group(self, metadata: Metadata, store: StoreLike, path: str) -> None: ...
    def create_new_array(self, metadata: Metadata, store: StoreLike, path: str) -> None: ...
    def create_overwrite_array(self, metadata: Metadata, store: StoreLike, path: str) -> None: ...
    def read_metadata(self, store: StoreLike, path: str, *, use_consolidated: bool | None = None) -> Document: ...
    def delete_node(self, store: StoreLike, path: str) -> None: ...
    def list_children(
        self, store: StoreLike, path: str, *, use_consolidated: bool | None = None
    ) -> list[tuple[str, Document]]: ...
    def update_attributes(
        self, store: StoreLike, path: str, attributes: Mapping[str, Any], *, replace: bool = False
    ) -> Document: ...
    def consolidate_metadata(self, store: StoreLike, path: str = "") -> Document: ...
    def resize_array(self, metadata: Metadata, store: StoreLike, path: str, shape: Sequence[int]) -> Document: ...
    def append(
        self, metadata: Metadata, store: StoreLike, path: str, value: npt.ArrayLike, *, axis: int = 0
    ) -> Document: ...
    def read_chunk(
        self, metadata: Metadata, store: StoreLike, path: str, chunk_coords: ChunkCoords, *, out: NDArray | None = None
    ) -> NDArray: ...
    def read_encoded_chunk(
        self, metadata: Metadata, store: StoreLike, path: str, chunk_coords: ChunkCoords
    ) -> bytes | None: ...
    def write_chunk(
        self, metadata: Metadata, store: StoreLike, path: str, chunk_coords: ChunkCoords, value: npt.ArrayLike
    ) -> None: ...
    def delete_chunk(self, metadata: Metadata, store: StoreLike, path: str, chunk_coords: ChunkCoords) -> None: ...
    def read_region(
        self, metadata: Metadata, store: StoreLike, path: str, selection: BasicSelection, *, out: NDArray | None = None
    ) -> NDArray: ...
    def write_region(
        self, metadata: Metadata, store: StoreLike, path: str, selection: BasicSelection, value: npt.ArrayLike
    ) -> None: ...


#: The functional API's function names, in the order :class:`Backend` declares them.
FUNCTIONS = tuple(name for name, member in vars(Backend).items() if callable(member) and not name.startswith("_"))

DEFAULT = "native"

_backends: dict[str, Backend] = {"native": native_backend}
_lock = threading.Lock()

# Backends that register themselves on first use, so importing zarrlib does not import zarr.
_LAZY = {"reference": ("zarrlib.reference_backend", "zarr")}


def register_backend(name: str, backend: object) -> None:
    """Make ``backend`` available as ``backend=name``. It must have every functional function."""
    if not isinstance(name, str) or not name:
        raise ValueError("a backend name must be a non-empty str")
    missing = [f for f in FUNCTIONS if not callable(getattr(backend, f, None))]
    if missing:
        raise TypeError(f"backend {name!r} lacks {', '.join(missing)}")
    with _lock:
        _backends[name] = cast(Backend, backend)


def get_backend(name: str | None = None) -> Backend:
    """The backend registered as ``name`` (the default, ``"native"``, when None)."""
    key = DEFAULT if name is None else name
    backend = _backends.get(key)
    if backend is None and key in _LAZY:
        module, requirement = _LAZY[key]
        if importlib.util.find_spec(requirement) is None:
            raise ValueError(f"backend {key!r} needs {requirement}: pip install 'zarrlib[reference]'")
        register_backend(key, importlib.import_module(module))
        backend = _backends[key]
    if backend is None:
        raise ValueError(f"no backend named {key!r}; available: {', '.join(backend_names())}")
    return backend


def backend_names() -> list[str]:
    """The backends available: registered ones, and those that register on first use."""
    lazy = [name for name, (_, requirement) in _LAZY.items() if importlib.util.find_spec(requirement)]
    return sorted(set(_backends) | set(lazy))


def resolve(backend: BackendLike) -> Backend:
    """A backend given by name, by object, or None for the default."""
    if backend is None or isinstance(backend, str):
        return get_backend(backend)
    return backend
