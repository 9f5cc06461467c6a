"""The backend registry: which implementation runs the functional API.

A backend is any object (a module will do) with the functional API's functions, taking the
same arguments minus ``backend``. ``"native"`` (the engine) is the default; the reference backend
on zarr-python is ``"reference"``, loaded on first use when zarr is installed.
"""

from __future__ import annotations

import importlib
import importlib.util
import threading

from . import native_backend

FUNCTIONS = (
    "create_new_group",
    "create_overwrite_group",
    "create_new_array",
    "create_overwrite_array",
    "read_metadata",
    "delete_node",
    "list_children",
    "read_chunk",
    "read_encoded_chunk",
    "write_chunk",
    "delete_chunk",
    "read_region",
    "write_region",
)

DEFAULT = "native"

_backends: dict[str, object] = {"native": native_backend}
_lock = threading.Lock()

# Backends that register themselves on first use, so importing zarrlib does not import zarr.
_LAZY = {"reference": ("zarrlib.reference_backend", "zarr")}


def register_backend(name: str, backend) -> None:
    """Make ``backend`` available as ``backend=name``. It must have every functional function."""
    if not isinstance(name, str) or not name:
        raise ValueError("a backend name must be a non-empty str")
    missing = [f for f in FUNCTIONS if not callable(getattr(backend, f, None))]
    if missing:
        raise TypeError(f"backend {name!r} lacks {', '.join(missing)}")
    with _lock:
        _backends[name] = backend


def get_backend(name: str | None = None):
    """The backend registered as ``name`` (the default, ``"native"``, when None)."""
    key = DEFAULT if name is None else name
    backend = _backends.get(key)
    if backend is None and key in _LAZY:
        module, requirement = _LAZY[key]
        if importlib.util.find_spec(requirement) is None:
            raise ValueError(f"backend {key!r} needs {requirement}: pip install 'zarrlib[reference]'")
        backend = importlib.import_module(module)
        register_backend(key, backend)
    if backend is None:
        raise ValueError(f"no backend named {key!r}; available: {', '.join(backend_names())}")
    return backend


def backend_names() -> list[str]:
    """The backends available: registered ones, and those that register on first use."""
    lazy = [name for name, (_, requirement) in _LAZY.items() if importlib.util.find_spec(requirement)]
    return sorted(set(_backends) | set(lazy))


def resolve(backend):
    """A backend given by name, by object, or None for the default."""
    if backend is None or isinstance(backend, str):
        return get_backend(backend)
    return backend
