"""Engine-wide settings: the thread pool and the codec options every call uses."""

from __future__ import annotations

from typing import Any

from . import vlen
from ._native import check, ffi, lib

#: Settings this process chose with set_config, which zarrlib's own defaults then leave alone.
_chosen: dict[str, bool] = {}


def threads_chosen() -> bool:
    """Whether ``set_config(threads=...)`` was called in this process."""
    return _chosen.get("threads", False)


def size_pool(threads: int) -> None:
    """Resize the engine's compute pool as zarrlib's own default, leaving ``threads`` unchosen."""
    check(lib.zarrlib_config_set_thread_count(threads))


def get_config() -> dict[str, Any]:
    """The engine's settings: ``threads`` (pool size), ``io_threads`` (the size of the pool for
    stores that wait on every request, object stores and Python store objects: as many requests
    are in flight at once), ``concurrent_target`` (how many chunks
    and codec tasks one call runs at once; 0 is the pool size), ``validate_checksums`` and
    ``store_empty_chunks``, and ``max_chunk_bytes`` (the largest chunk, or inner chunk of a
    sharded array read by inner chunk, a call decodes or encodes whole; larger ones raise
    ``UnsupportedError`` before anything is allocated); and, kept in Python, ``string_dtype``:
    what ``string`` arrays read as, ``"StringDType"`` (numpy 2's ``numpy.dtypes.StringDType()``,
    the default) or ``"object"`` (object arrays of ``str``, as on numpy 1)."""
    threads = ffi.new("size_t *")
    check(lib.zarrlib_config_thread_count(threads))
    io_threads = ffi.new("size_t *")
    check(lib.zarrlib_config_io_thread_count(io_threads))
    return {
        "threads": threads[0],
        "io_threads": io_threads[0],
        "concurrent_target": lib.zarrlib_config_concurrent_target(),
        "validate_checksums": bool(lib.zarrlib_config_validate_checksums()),
        "store_empty_chunks": bool(lib.zarrlib_config_store_empty_chunks()),
        "max_chunk_bytes": lib.zarrlib_config_max_chunk_bytes(),
        "string_dtype": vlen.get_string_dtype(),
    }


def set_config(
    *,
    threads: int | None = None,
    io_threads: int | None = None,
    concurrent_target: int | None = None,
    validate_checksums: bool | None = None,
    store_empty_chunks: bool | None = None,
    max_chunk_bytes: int | None = None,
    string_dtype: str | None = None,
) -> None:
    """Change engine settings; those left None keep their value. ``threads=0`` means one per CPU,
    ``io_threads=0`` the default, 32.
    Settings are process-wide and apply to calls that start afterwards. Once ``threads`` is set,
    a Dask worker process keeps it rather than sizing the pool to the worker (see
    :func:`zarrlib.dask.fit_to_dask_worker`)."""
    sizes = (
        ("threads", threads),
        ("io_threads", io_threads),
        ("concurrent_target", concurrent_target),
        ("max_chunk_bytes", max_chunk_bytes),
    )
    for name, value in sizes:
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise ValueError(f"{name} must be a non-negative int, not {value!r}")
    for name, value in (("validate_checksums", validate_checksums), ("store_empty_chunks", store_empty_chunks)):
        if value is not None and not isinstance(value, bool):
            raise ValueError(f"{name} must be a bool, not {value!r}")
    if string_dtype is not None:
        vlen.set_string_dtype(string_dtype)
    if threads is not None:
        check(lib.zarrlib_config_set_thread_count(threads))
        _chosen["threads"] = True
    if io_threads is not None:
        check(lib.zarrlib_config_set_io_thread_count(io_threads))
    if concurrent_target is not None:
        check(lib.zarrlib_config_set_concurrent_target(concurrent_target))
    if validate_checksums is not None:
        check(lib.zarrlib_config_set_validate_checksums(validate_checksums))
    if store_empty_chunks is not None:
        check(lib.zarrlib_config_set_store_empty_chunks(store_empty_chunks))
    if max_chunk_bytes is not None:
        if max_chunk_bytes >= 2**64:
            raise ValueError(f"max_chunk_bytes must be below 2**64, not {max_chunk_bytes!r}")
        check(lib.zarrlib_config_set_max_chunk_bytes(max_chunk_bytes))
