"""zarr-python's codec pipeline on the zarrlib engine.

Select it with ``zarr.config.set({"codec_pipeline.path": "zarrlib.ZarrlibCodecPipeline"})`` (or
the environment variable ``ZARR_CODEC_PIPELINE__PATH``; zarr-python finds it through the
``zarr.codec_pipeline`` entry point, without importing zarrlib first).

zarr-python builds one pipeline per array from its metadata and store
(:meth:`ZarrlibCodecPipeline.from_array_metadata_and_store`). Each ``read`` or ``write`` it
makes (one batch: every chunk a selection touches) becomes one engine call, which does the
store I/O itself (natively for stores with a declarative form, through the callback store
otherwise) and decodes or encodes the chunks in parallel without the GIL:
:mod:`zarrlib.batch_plan` recovers the selection from the batch. Batches that are not one
selection go chunk by chunk, still through the engine.

What the engine cannot open (a data type or codec it lacks) falls back to zarr-python's own
pipeline for that array: a ``WARNING`` record on the ``zarrlib`` logger and a count in
:func:`pipeline_stats`; with ``zarr.config`` key ``codec_pipeline.strict`` true, it raises.

zarr-python's settings map onto each engine call: ``array.write_empty_chunks`` (the array's
config) onto the engine's ``store_empty_chunks``, ``threading.max_workers`` onto how many chunks
one call works on at once, and ``codec_pipeline.validate_checksums`` (absent: the engine's
setting) onto checksum validation.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import threading
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import zarr
import zarr.abc.codec as zarr_codec_abc
from zarr.abc.codec import CodecPipeline
from zarr.core.codec_pipeline import BatchedCodecPipeline

from . import batch_plan, native_indexed
from .errors import ZarrlibError
from .fancy import Coordinates
from .native_array import NativeArray
from .store_routes import as_store
from .stores import Store, node_path

if TYPE_CHECKING:
    from typing_extensions import Self
    from zarr.abc.codec import Codec
    from zarr.abc.store import ByteGetter, ByteSetter
    from zarr.abc.store import Store as ZarrStore
    from zarr.core.array_spec import ArraySpec
    from zarr.core.buffer import Buffer, NDBuffer
    from zarr.core.metadata import ArrayMetadata

logger = logging.getLogger("zarrlib")

#: zarr-python 3.2 and later want one result per chunk from ``read``.
_READ_RETURNS_RESULTS = hasattr(zarr_codec_abc, "GetResult")

#: Engine calls on local and memory stores up to this many bytes run on the event loop's thread.
INLINE_BYTES = 1 << 20

#: How many parsed chunk keys a pipeline remembers (then it starts again).
LOCATED_KEYS = 1 << 16

_stats_lock = threading.Lock()
_stats = {"engine_arrays": 0, "fallback_arrays": 0, "engine_reads": 0, "engine_writes": 0, "chunk_by_chunk": 0}


class PipelineStrictError(ZarrlibError, RuntimeError):
    """Raised, with ``codec_pipeline.strict`` set, for an array the engine cannot run."""


def pipeline_stats() -> dict[str, int]:
    """Counts since the process started: arrays the pipeline runs on the engine
    (``engine_arrays``) and on zarr-python's pipeline (``fallback_arrays``), the engine reads and
    writes it made, and how many of those went chunk by chunk (``chunk_by_chunk``)."""
    with _stats_lock:
        return dict(_stats)


def _count(name: str) -> None:
    with _stats_lock:
        _stats[name] += 1


def _document(metadata: ArrayMetadata) -> dict[str, Any]:
    """The metadata document zarr-python would store for ``metadata``."""
    from zarr.core.buffer import default_buffer_prototype

    buffers = metadata.to_buffer_dict(default_buffer_prototype())
    name = "zarr.json" if metadata.zarr_format == 3 else ".zarray"
    document: dict[str, Any] = json.loads(buffers[name].to_bytes())
    return document


class Options(NamedTuple):
    """The engine options of a call (None: the engine's setting); hashable, to key handles."""

    store_empty_chunks: bool
    concurrent_target: int | None
    validate_checksums: bool | None


def _engine_options(spec: ArraySpec) -> Options:
    """The engine options for a call under zarr-python's settings now and ``spec``'s config."""
    validate = _setting("codec_pipeline", "validate_checksums")
    return Options(
        bool(spec.config.write_empty_chunks),
        _setting("threading", "max_workers"),
        None if validate is None else bool(validate),
    )


def _setting(section: str, name: str) -> Any:
    """``zarr.config.get(f"{section}.{name}", None)``, read straight from the config's dict
    (donfig's ``get`` takes microseconds, on every batch) as ``get`` reads it: a key under its
    own spelling, else under the other one (``-`` for ``_``), else None. A section that is not
    there under its own spelling goes through ``get``."""
    part = zarr.config.config.get(section)
    if not isinstance(part, dict):
        return zarr.config.get(f"{section}.{name}", None)
    if name in part:
        return part[name]
    return part.get(name.replace("_", "-") if "_" in name else name.replace("-", "_"))


class _Engine:
    """The native side of one pipeline: its store and the array handles it opened (one per
    array path and options)."""

    def __init__(self, metadata: ArrayMetadata, store: ZarrStore):
        self.metadata = metadata
        self.document = _document(metadata)
        self.store = as_store(store)
        # A callback store cached for a Python object references it only weakly: hold it here.
        self._source = store
        # Stores answering at memory or disk speed, with no Python callbacks: small calls on
        # them may run on the event loop's own thread.
        url = self.store.url.lower()
        self.inline = type(self.store) is Store and ("://" not in url or url.startswith(("file://", "memory://")))
        self._locate = batch_plan.chunk_locator(metadata.encode_chunk_key, len(metadata.shape))
        # Chunk keys already parsed: a batch names every chunk it touches by key, and the same
        # chunks come back batch after batch.
        self._located: dict[str, tuple[str, tuple[int, ...]]] = {}
        self._handles: dict[tuple[str, Options], NativeArray] = {}
        self._lock = threading.Lock()
        # Open once now: a document the engine cannot handle fails here, not on first use.
        self.chunk_shape: tuple[int, ...] | None = None
        self.chunk_shape = self.array("", Options(False, None, None)).chunk_shape

    def locate(self, key: str) -> tuple[str, tuple[int, ...]]:
        """The array path and chunk coordinates of the chunk key ``key``."""
        found = self._located.get(key)
        if found is None:
            if len(self._located) >= LOCATED_KEYS:
                self._located.clear()
            found = self._located[key] = self._locate(key)
        return found

    def array(self, path: str, options: Options, entries: list[batch_plan.Entry] | None = None) -> NativeArray:
        """The handle for ``path`` under ``options``, with a shape that holds every chunk of
        ``entries``.

        zarr-python resizes an array (``resize``, ``append``, xarray's appends) by replacing its
        metadata but keeping its pipeline, so a batch may reach past the shape this pipeline
        was built with. The handle then describes the array as reaching to the end of the
        chunks the batch touches: zarr-python's indexer keeps every selection inside the
        array's real shape, and whole chunks are what is read and written either way."""
        shape = list(self.metadata.shape)
        if entries and self.chunk_shape is not None:
            for coords, _, _ in entries:
                for axis, (coord, chunk) in enumerate(zip(coords, self.chunk_shape, strict=True)):
                    if (coord + 1) * chunk > shape[axis]:
                        shape[axis] = (coord + 1) * chunk
        key = (path, options)
        handle = self._handles.get(key)
        if handle is None or list(handle.shape) != shape:
            with self._lock:
                handle = self._handles.get(key)
                if handle is None or list(handle.shape) != shape:
                    # One handle per path and options: the one of the latest shape.
                    handle = self._handles[key] = self._open(path, options, shape)
        return handle

    def _open(self, path: str, options: Options, shape: list[int]) -> NativeArray:
        document = self.document
        if shape != list(self.metadata.shape):
            document = {**document, "shape": shape}
        handle = self.store.open_array(node_path(path), document)
        if any(value is not None for value in options):
            handle = handle.with_options(**options._asdict())
        return handle


class ZarrlibCodecPipeline(CodecPipeline):
    """A zarr-python ``CodecPipeline`` whose reads and writes run on the zarrlib engine."""

    def __init__(
        self,
        codecs: Iterable[Codec],
        metadata: ArrayMetadata | None = None,
        store: ZarrStore | None = None,
    ):
        self.codecs = tuple(codecs)
        self.metadata = metadata
        self.store = store
        # zarr-python's own pipeline: encode/decode of detached chunks, and every operation
        # of a pipeline without an array (zarr-python's sharding codec builds those).
        self._codec_pipeline = BatchedCodecPipeline.from_codecs(self.codecs)
        self._engine: _Engine | None = None
        self.fallback_reason: str | None = None
        if metadata is not None and store is not None:
            try:
                self._engine = _Engine(metadata, store)
            except (ZarrlibError, ValueError, TypeError) as error:
                self.fallback_reason = str(error)
                if zarr.config.get("codec_pipeline.strict", False):
                    # Not an UnsupportedError: zarr-python takes NotImplementedError from here
                    # to mean "build the pipeline from the codecs instead".
                    raise PipelineStrictError(f"zarrlib's engine cannot run this array: {error}") from error
                logger.warning("zarrlib: this array runs on zarr-python's codec pipeline, not the engine: %s", error)
                _count("fallback_arrays")
            else:
                _count("engine_arrays")

    # --- construction, identity and pickling ------------------------------------------------

    @classmethod
    def from_codecs(cls, codecs: Iterable[Codec]) -> Self:
        return cls(codecs)

    @classmethod
    def from_array_metadata_and_store(cls, array_metadata: ArrayMetadata, store: ZarrStore) -> Self:
        codecs = _codecs_of(array_metadata)
        return cls(codecs, array_metadata, store)

    def evolve_from_array_spec(self, array_spec: ArraySpec) -> Self:
        evolved = self._codec_pipeline.evolve_from_array_spec(array_spec)
        return type(self)(tuple(evolved), self.metadata, self.store)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_unpickle, (self.codecs, self.metadata, self.store))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ZarrlibCodecPipeline):
            return NotImplemented
        return self.codecs == other.codecs and self.metadata == other.metadata

    def __hash__(self) -> int:
        return hash(self.codecs)

    def __repr__(self) -> str:
        where = "zarr-python's pipeline" if self._engine is None else "the zarrlib engine"
        return f"ZarrlibCodecPipeline({len(self.codecs)} codecs, on {where})"

    def __iter__(self) -> Iterator[Codec]:
        return iter(self.codecs)

    # --- what zarr-python asks of every pipeline ----------------------------------------------

    @property
    def supports_partial_decode(self) -> bool:
        return bool(self._codec_pipeline.supports_partial_decode)

    @property
    def supports_partial_encode(self) -> bool:
        return bool(self._codec_pipeline.supports_partial_encode)

    def validate(self, *, shape: tuple[int, ...], dtype: Any, chunk_grid: Any) -> None:
        self._codec_pipeline.validate(shape=shape, dtype=dtype, chunk_grid=chunk_grid)

    def compute_encoded_size(self, byte_length: int, array_spec: ArraySpec) -> int:
        return int(self._codec_pipeline.compute_encoded_size(byte_length, array_spec))

    async def decode(
        self, chunk_bytes_and_specs: Iterable[tuple[Buffer | None, ArraySpec]]
    ) -> Iterable[NDBuffer | None]:
        decoded: Iterable[NDBuffer | None] = await self._codec_pipeline.decode(chunk_bytes_and_specs)
        return decoded

    async def encode(
        self, chunk_arrays_and_specs: Iterable[tuple[NDBuffer | None, ArraySpec]]
    ) -> Iterable[Buffer | None]:
        encoded: Iterable[Buffer | None] = await self._codec_pipeline.encode(chunk_arrays_and_specs)
        return encoded

    # --- reads and writes -----------------------------------------------------------------------

    async def read(
        self,
        batch_info: Iterable[tuple[ByteGetter, ArraySpec, Any, Any, bool]],
        out: NDBuffer,
        drop_axes: tuple[int, ...] = (),
    ) -> Any:
        if self._engine is None:
            return await self._codec_pipeline.read(batch_info, out, drop_axes)
        batch = list(batch_info)
        results: Any = None
        if batch:
            results = await self._statuses(batch)
            await self._run(self._read, self._engine, batch, out, drop_axes)
        if _READ_RETURNS_RESULTS:
            return tuple(results or ())
        return None

    async def write(
        self,
        batch_info: Iterable[tuple[ByteSetter, ArraySpec, Any, Any, bool]],
        value: NDBuffer,
        drop_axes: tuple[int, ...] = (),
    ) -> None:
        if self._engine is None:
            await self._codec_pipeline.write(batch_info, value, drop_axes)
            return
        batch = list(batch_info)
        if batch:
            await self._run(self._write, self._engine, batch, value, drop_axes)

    async def _run(
        self, work: Any, engine: _Engine, batch: list[Any], buffer: NDBuffer, drop_axes: tuple[int, ...]
    ) -> None:
        """Run an engine call off the event loop (the engine blocks; a store served through
        callbacks may need the loop), except a small one on a local or memory store, which takes
        less time than handing it to a thread would."""
        if engine.inline and _nbytes(buffer) <= INLINE_BYTES:
            work(engine, batch, buffer, drop_axes)
        else:
            await asyncio.to_thread(work, engine, batch, buffer, drop_axes)

    async def _statuses(self, batch: list[Any]) -> list[dict[str, str]]:
        """One ``GetResult`` per chunk (zarr-python 3.2+). The engine reads missing chunks as the
        fill value without saying which were missing, so the store is asked only when an entry's
        config has ``read_missing_chunks`` false (zarr-python then raises on a missing one);
        otherwise every chunk is reported present, which zarr-python does not consult."""
        if not _READ_RETURNS_RESULTS:
            return []
        if all(getattr(spec.config, "read_missing_chunks", True) for _, spec, *_ in batch):
            return [{"status": "present"} for _ in batch]
        found = await asyncio.gather(*(getter.exists() for getter, *_ in batch))
        return [{"status": "present" if present else "missing"} for present in found]

    def _entries(self, engine: _Engine, batch: list[Any]) -> tuple[str, list[batch_plan.Entry]]:
        entries = []
        path = None
        for getter, _spec, chunk_sel, out_sel, _complete in batch:
            chunk_path, coords = engine.locate(getter.path)
            if path is None:
                path = chunk_path
            elif chunk_path != path:
                raise ValueError(f"one batch spans two arrays, {path!r} and {chunk_path!r}")
            entries.append((coords, chunk_sel, out_sel))
        assert path is not None
        return path, entries

    def _read(self, engine: _Engine, batch: list[Any], out: NDBuffer, drop_axes: tuple[int, ...]) -> None:
        path, entries = self._entries(engine, batch)
        array = engine.array(path, _engine_options(batch[0][1]), entries)
        target = _host_array(out)
        _count("engine_reads")
        chunk_shape = array.chunk_shape
        if chunk_shape is not None:
            selection = batch_plan.basic(entries, chunk_shape, target.shape)
            if selection is not None:
                _into(target, array, lambda out: array.read_selection(selection, out=out))
                return
            plan = batch_plan.orthogonal(entries, chunk_shape, target.shape, drop_axes)
            if plan is not None:
                _read_orthogonal(array, plan, target)
                return
            if target.ndim == 1:
                if _dense(entries, target.size, chunk_shape):
                    if _gather_points(array, entries, target):
                        return
                elif array.vlen is None:
                    if _read_point_axes(array, entries, target):
                        return
                else:
                    points = batch_plan.points(entries, chunk_shape, target.shape[0])
                    if points is not None:
                        values = native_indexed.read_points(array, Coordinates(points.points, target.shape))
                        target[points.positions] = values
                        return
        if target.ndim != 1:
            _count("chunk_by_chunk")
        _gather(array, entries, target, drop_axes)

    def _write(self, engine: _Engine, batch: list[Any], value: NDBuffer, drop_axes: tuple[int, ...]) -> None:
        path, entries = self._entries(engine, batch)
        array = engine.array(path, _engine_options(batch[0][1]), entries)
        source = _host_array(value)
        _count("engine_writes")
        chunk_shape = array.chunk_shape
        if chunk_shape is not None:
            out_shape = _out_shape(entries, source, drop_axes)
            selection = None if out_shape is None else batch_plan.basic(entries, chunk_shape, out_shape)
            if selection is not None:
                array.write_selection(selection, source)
                return
            plan = None if out_shape is None else batch_plan.orthogonal(entries, chunk_shape, out_shape, drop_axes)
            if plan is not None:
                _write_orthogonal(array, plan, source, out_shape or ())
                return
            count = _points_count(entries)
            points = None if count is None else batch_plan.points(entries, chunk_shape, count)
            if points is not None:
                assert count is not None
                values = source if source.shape == () else source[points.positions]
                native_indexed.write_points(array, Coordinates(points.points, (count,)), values)
                return
        _count("chunk_by_chunk")
        for coords, chunk_sel, out_sel in entries:
            chunk = array.read_chunk(coords)
            piece = source if source.shape == () else source[out_sel]
            if drop_axes:
                piece = np.expand_dims(piece, drop_axes)
            chunk[chunk_sel] = piece
            array.write_chunk(coords, chunk)


def _nbytes(buffer: NDBuffer) -> int:
    array = buffer.as_ndarray_like()
    return int(array.size) * int(array.dtype.itemsize)


#: How many bytes of decoded chunks a chunk-by-chunk read holds at once.
GATHER_BYTES = 64 << 20


def _dense(entries: list[batch_plan.Entry], count: int, chunk_shape: tuple[int, ...]) -> bool:
    """Whether a points selection picks so many elements of each chunk (one in 64 or more)
    that decoding whole chunks and picking with numpy beats reading points."""
    return count * 64 >= len(entries) * math.prod(chunk_shape)


def _gather(
    array: NativeArray, entries: list[batch_plan.Entry], target: np.ndarray[Any, Any], drop_axes: tuple[int, ...]
) -> None:
    """Whole chunks decoded in parallel (a group of them at a time), then numpy picks each
    entry's part into ``target``: dense points, and batches no plan recovers."""
    per_group = max(1, GATHER_BYTES // max(1, math.prod(array.chunk_shape or (1,)) * array.dtype.itemsize))
    for first in range(0, len(entries), per_group):
        group = entries[first : first + per_group]
        chunks = array.read_chunks([coords for coords, _, _ in group])
        for chunk, (_, chunk_sel, out_sel) in zip(chunks, group, strict=True):
            piece = chunk[chunk_sel]
            if drop_axes:
                piece = piece.squeeze(axis=drop_axes)
            target[out_sel] = piece


def _gather_points(array: NativeArray, entries: list[batch_plan.Entry], target: np.ndarray[Any, Any]) -> bool:
    """Dense points (``vindex``, masks) into the 1-d ``target``: the chunks decoded whole in
    parallel (a group at a time, as ``_gather``), then per chunk one flat ``take`` of its points
    (the chunk is still in cache; one gather over all chunks measured 1.7x slower, and the
    multi-axis fancy index ``_gather`` uses 2.4x). False (nothing read) when the entries are not
    points: per chunk, one integer array per axis and a slice or integer array of outputs."""
    chunk_shape = array.chunk_shape
    if chunk_shape is None or array.vlen is not None or target.dtype != array.dtype:
        return False
    ndim = len(chunk_shape)
    for _coords, chunk_sel, out_sel in entries:
        if type(chunk_sel) is not tuple or len(chunk_sel) != ndim:
            return False
        if not all(isinstance(item, np.ndarray) and item.dtype.kind in "iu" for item in chunk_sel):
            return False
        if not (type(out_sel) is slice or (isinstance(out_sel, np.ndarray) and out_sel.dtype.kind in "iu")):
            return False
    per_group = max(1, GATHER_BYTES // max(1, math.prod(chunk_shape) * array.dtype.itemsize))
    for first in range(0, len(entries), per_group):
        group = entries[first : first + per_group]
        chunks = array.read_chunks([coords for coords, _, _ in group]).reshape(len(group), -1)
        for chunk, (_coords, chunk_sel, out_sel) in zip(chunks, group, strict=True):
            # ravel_multi_index refuses an index outside the chunk (ValueError): no other
            # element is ever picked.
            target[out_sel] = chunk.take(np.ravel_multi_index(chunk_sel, chunk_shape))
    return True


def _read_point_axes(array: NativeArray, entries: list[batch_plan.Entry], target: np.ndarray[Any, Any]) -> bool:
    """Sparse points of a fixed-size array into the 1-d ``target``: one engine call on the
    batch's coordinates as index lists (``zarrlib_array_read_coordinate_axes``), then numpy puts
    each value at its output position (zarr-python sorts the points by chunk). Straight into
    ``target`` when the points are already in output order. False (nothing read) when the
    entries are not points."""
    plan = batch_plan.point_axes(entries, array.chunk_shape or (), target.shape[0])
    if plan is None:
        return False
    if plan.positions is None:
        _into(target, array, lambda out: native_indexed.read_coordinate_axes(array, plan.axes, target.shape, out))
    else:
        target[plan.positions] = native_indexed.read_coordinate_axes(array, plan.axes, target.shape)
    return True


def _unpickle(
    codecs: tuple[Codec, ...], metadata: ArrayMetadata | None, store: ZarrStore | None
) -> ZarrlibCodecPipeline:
    """A pipeline pickled into another process: in a Dask worker, the engine's pool is sized to
    the worker's threads first (as unpickled zarrlib stores do)."""
    from .dask import fit_to_dask_worker

    fit_to_dask_worker()
    return ZarrlibCodecPipeline(codecs, metadata, store)


def _points_count(entries: list[batch_plan.Entry]) -> int | None:
    """How many elements a points selection's entries write (None if they are not one)."""
    count = 0
    for _coords, _chunk_sel, out_sel in entries:
        if isinstance(out_sel, slice):
            count += out_sel.stop - out_sel.start
        elif isinstance(out_sel, np.ndarray) and out_sel.ndim == 1:
            count += len(out_sel)
        else:
            return None
    return count


def _host_array(buffer: NDBuffer) -> np.ndarray[Any, Any]:
    """The numpy array behind a zarr-python buffer (written in place by reads)."""
    array: Any = buffer.as_ndarray_like()
    if not isinstance(array, np.ndarray):
        raise TypeError(f"zarrlib's pipeline works on host memory (numpy arrays), not {type(array).__name__}")
    return array


def _into(target: np.ndarray[Any, Any], array: NativeArray, read: Any) -> None:
    """Run ``read(out)`` straight into ``target`` when it has the engine's dtype, else into a
    new array copied over (zarr-python's dtype for the array may differ in byte order)."""
    if target.dtype == array.dtype:
        read(target)
    else:
        np.copyto(target, read(None))


def _out_shape(
    entries: list[batch_plan.Entry], source: np.ndarray[Any, Any], drop_axes: tuple[int, ...]
) -> tuple[int, ...] | None:
    """The shape of the selection a write covers: the value's, unless it is a scalar; then the
    extent the entries' output slices reach (None when they are not slices)."""
    if source.shape != ():
        return tuple(source.shape)
    extent: list[int] | None = None
    for _coords, _chunk_sel, out_sel in entries:
        if not isinstance(out_sel, tuple) or not all(isinstance(s, slice) for s in out_sel):
            return None
        stops = [s.stop for s in out_sel]
        extent = stops if extent is None else [max(a, b) for a, b in zip(extent, stops, strict=True)]
    return None if extent is None else tuple(extent)


def _read_orthogonal(array: NativeArray, plan: batch_plan.OrthogonalPlan, target: np.ndarray[Any, Any]) -> None:
    selection = plan.as_selection()
    if selection is not None:
        _into(target, array, lambda out: array.read(selection, out=out))
        return
    result = native_indexed.read_orthogonal_lists(array, plan.lists())
    np.copyto(target, result.reshape(target.shape))


def _write_orthogonal(
    array: NativeArray, plan: batch_plan.OrthogonalPlan, source: np.ndarray[Any, Any], out_shape: tuple[int, ...]
) -> None:
    selection = plan.as_selection()
    if selection is not None:
        array.write(selection, source)
        return
    lists = plan.lists()
    values = np.ascontiguousarray(np.broadcast_to(source, out_shape).reshape([len(ix) for ix in lists]), array.dtype)
    native_indexed.write_orthogonal_lists(array, lists, values)


def _codecs_of(metadata: ArrayMetadata) -> tuple[Codec, ...]:
    if metadata.zarr_format == 3:
        return tuple(metadata.codecs)
    from zarr.codecs._v2 import V2Codec

    return (V2Codec(filters=metadata.filters, compressor=metadata.compressor),)


# zarr-python registers pipelines under their module and name; users type this one.
ZarrlibCodecPipeline.__module__ = "zarrlib"
# Importing this module is enough to select the pipeline by name, installed or not (installed,
# zarr-python also finds it through the ``zarr.codec_pipeline`` entry point).
zarr.registry.register_pipeline(ZarrlibCodecPipeline)
