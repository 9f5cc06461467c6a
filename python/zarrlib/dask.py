"""Dask: zarrlib arrays as Dask arrays, and Dask arrays written to zarrlib arrays.

:func:`to_dask` and :func:`from_dask` import dask when called: it is an optional dependency
(``pip install 'zarrlib[dask]'``). A :class:`zarrlib.Array` pickles as its store (URL and
options), path and metadata, so tasks run in worker processes (``distributed``) as well as in
threads; ``dask.array.from_array(a, chunks=a.chunks)`` and ``dask.array.store(x, a)`` take one
directly.

Locks. A task writing whole chunks (whole shards of a sharded array) needs no lock: pass
``lock=False`` to ``dask.array.store`` (its default, ``lock=True``, is one lock for the whole
cluster under ``distributed``, so every write waits for every other). Tasks writing parts of one
chunk are serialised by the engine's per-chunk locks within a process, but between worker
processes only on a directory store opened with ``process_locks=True``; object stores have no
such locks. :func:`from_dask` rechunks so that no two tasks share a chunk, and passes
``lock=False``.

Threads. A Dask worker process runs ``nthreads`` tasks at once, each of which may call the
engine, whose pool has one thread per CPU by default: several worker processes on one machine
would each start that many. So when a store, array or group is unpickled in a process that runs
one Dask worker, zarrlib sizes the engine's compute pool (``threads``) to the worker's
``nthreads``, unless ``zarrlib.set_config(threads=...)`` was called in that process (for example
by ``client.run(zarrlib.set_config, threads=4)`` or a worker plugin). The pool for stores that
wait on the network (``io_threads``) is left alone: its threads wait rather than compute.
"""

from __future__ import annotations

import itertools
import json
import math
import sys
from typing import TYPE_CHECKING, Any

from . import settings
from ._types import Metadata, StoreLike
from .hierarchy import Array
from .metadata import array_metadata
from .stores import canonical_json

if TYPE_CHECKING:
    import dask.array


def _this_processes_worker() -> Any:
    """The Dask worker this process runs, when it runs exactly one (a worker process started by
    a nanny, ``dask worker`` or ``LocalCluster(processes=True)``); None otherwise, including for
    a cluster of threads sharing this process, whose workers share one engine pool."""
    distributed = sys.modules.get("distributed")
    if distributed is None:
        return None
    workers = list(getattr(distributed.Worker, "_instances", ()))
    return workers[0] if len(workers) == 1 else None


def fit_to_dask_worker() -> None:
    """In a process running one Dask worker, size the engine's compute pool to the worker's
    ``nthreads``, unless this process chose ``threads`` with :func:`zarrlib.set_config`.
    zarrlib calls it when it unpickles a store (and so an array or group)."""
    if settings.threads_chosen():
        return
    worker = _this_processes_worker()
    if worker is None:
        return
    nthreads = int(worker.state.nthreads)
    if nthreads > 0 and settings.get_config()["threads"] != nthreads:
        settings.size_pool(nthreads)


def write_unit(array: Array) -> tuple[int, ...] | None:
    """The shape of the pieces an array is written in: its shards if sharded, else its chunks
    (None for a chunk grid that is not regular)."""
    return array.shards or array.chunks


def aligned_chunks(chunks: tuple[tuple[int, ...], ...], unit: tuple[int, ...]) -> tuple[tuple[int, ...], ...]:
    """Dask chunks whose boundaries fall on boundaries of ``unit`` (so no two blocks share a
    chunk): each axis's blocks are kept when they are aligned already, else made multiples of
    ``unit`` near their mean size."""
    aligned = []
    for blocks, size in zip(chunks, unit, strict=True):
        if all(edge % size == 0 for edge in itertools.accumulate(blocks[:-1])):
            aligned.append(tuple(blocks))
            continue
        total = sum(blocks)
        step = max(1, round(total / len(blocks) / size)) * size
        whole, rest = divmod(total, step)
        aligned.append((step,) * whole + ((rest,) if rest else ()))
    return tuple(aligned)


def to_dask(store: StoreLike, path: str = "", *, chunks: Any = None) -> dask.array.Array:
    """The array at ``path`` as a Dask array. By default each task reads one chunk (one shard of
    a sharded array: one request for its index and one engine call for its inner chunks);
    ``chunks`` takes anything ``dask.array.from_array`` does. In other processes the array is
    reopened from its store's URL and options, so a store held in this process (``memory://``,
    a store over Python objects) works with threads only."""
    import dask.array as da

    array = Array.open(store, path)
    if chunks is None:
        chunks = write_unit(array) or "auto"
    result: dask.array.Array = da.from_array(array, chunks=chunks, lock=False)  # type: ignore[no-untyped-call]
    return result


def from_dask(
    x: dask.array.Array,
    store: StoreLike,
    path: str,
    metadata: Metadata | None = None,
    *,
    overwrite: bool = False,
    **properties: Any,
) -> Array:
    """Write the Dask array ``x`` to a new array at ``path`` and return it. The new array is
    described by ``metadata``, or by the keywords of :func:`zarrlib.array_metadata` (``chunks``
    defaulting to ``x``'s block size; ``shards``, ``compressors``, ...) with ``x``'s shape and
    dtype. ``x`` is rechunked when its blocks do not fall on the array's chunks (shards), so no
    two tasks write one chunk and no lock is needed. :class:`NodeExistsError` if a node is at
    ``path``, unless ``overwrite``."""
    import dask.array as da

    if any(math.isnan(size) for blocks in x.chunks for size in blocks):
        raise ValueError("x has blocks of unknown size: call x.compute_chunk_sizes() first")
    if metadata is None:
        properties.setdefault("chunks", tuple(int(size) for size in x.chunksize))
        metadata = array_metadata(x.shape, x.dtype, **properties)
    elif properties:
        raise TypeError(f"from_dask takes a metadata document or keywords, not both ({', '.join(properties)})")
    shape = tuple(json.loads(canonical_json(metadata)).get("shape", ()))
    if shape != tuple(x.shape):
        raise ValueError(f"the metadata's shape {shape} is not x's shape {tuple(x.shape)}")
    array = Array.create(store, path, metadata, overwrite=overwrite)
    unit = write_unit(array)
    if unit is None:
        raise ValueError("from_dask writes arrays with a regular chunk grid only")
    aligned = x.rechunk(aligned_chunks(x.chunks, unit))  # type: ignore[no-untyped-call]
    da.store(aligned, array, lock=False)
    return array
