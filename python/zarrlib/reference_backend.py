"""The functional API on zarr-python alone: the oracle for differential tests.

Metadata documents are parsed and validated by zarr-python, chunks go through zarr-python's codec
pipeline, and keys through zarr-python's store API. Casting and broadcasting values, checking
``out=`` and chunk coordinates are done here again, plainly with numpy, so that a bug in the
engine's own buffer code shows up in the differential tests. Nothing is shared with the engine's
path but the selection checks (``indexing``), which define the API rather than implement it, the
error classes, and the engine-wide setting ``store_empty_chunks``, which both backends obey.

Stores: a zarr-python store object is used as is; a local path (``str``/``os.PathLike``) and a
:class:`zarrlib.Store` on a local directory become a ``zarr.storage.LocalStore`` on that
directory. A ``zarrlib.MemoryStore`` lives inside the engine and cannot be reached from here.

Registered as ``backend="reference"`` when zarr is importable.
"""

from __future__ import annotations

import itertools
import json
import operator
import os
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import unquote, urlparse

import numpy as np
import numpy.typing as npt
import zarr
import zarr.errors
from zarr.abc.store import Store as ZarrStore
from zarr.core.array import Array as ZarrArray
from zarr.core.array import AsyncArray
from zarr.core.array_spec import ArrayConfigParams, ArraySpec
from zarr.core.buffer import BufferPrototype, cpu
from zarr.core.group import GroupMetadata
from zarr.core.metadata import ArrayV2Metadata, ArrayV3Metadata
from zarr.core.sync import sync
from zarr.storage import LocalStore, StorePath

from ._types import BasicSelection, ChunkCoords, Document, DType, Metadata, NDArray, StoreLike
from .errors import (
    InvalidArgumentError,
    InvalidMetadataError,
    NodeExistsError,
    NodeKindError,
    NodeNotFoundError,
    OutOfBoundsError,
    UnsupportedError,
)
from .indexing import Selection, normalize_selection
from .settings import get_config


class _BitwiseNDBuffer(cpu.NDBuffer):
    """zarr-python's NDBuffer, except that a chunk counts as empty (and is not stored) only when
    its bits equal the fill value's. zarr-python compares values with NaN equal to NaN and, for
    complex numbers, -0.0 equal to 0.0, so it drops chunks whose NaN payloads or signed zeros
    differ from the fill value and reads them back changed. The engine compares bits."""

    def all_equal(self, other: Any, equal_nan: bool = True) -> bool:
        data = np.asarray(self._data)
        if other is None or data.dtype.kind in "USTOV":
            return super().all_equal(other, equal_nan)
        data, fill = np.broadcast_arrays(data, np.asarray(other, dtype=data.dtype))
        void = f"V{data.dtype.itemsize}"
        return bool(np.array_equal(data.view(void), fill.view(void)))


_PROTOTYPE = BufferPrototype(buffer=cpu.Buffer, nd_buffer=_BitwiseNDBuffer)
# zarr-python's sharding codec accepts only its default prototype, so inside shards its own
# comparison decides which inner chunks are empty.
_SHARDED_PROTOTYPE = BufferPrototype(buffer=cpu.Buffer, nd_buffer=cpu.NDBuffer)
_V3_KEY = "zarr.json"
_V2_KEYS = (".zarray", ".zgroup", ".zattrs")


# --- stores and keys ----------------------------------------------------------------------


def zarr_store(store: StoreLike) -> ZarrStore:
    """The zarr-python store a caller's store argument names.

    A :class:`zarrlib.Store` is known by its ``url`` (this module takes nothing from the engine's
    side of the package)."""
    if isinstance(store, ZarrStore):
        return store
    if isinstance(store, (str, os.PathLike)):
        return LocalStore(os.fspath(store))
    # A zarrlib store over a zarr-python store object (through the engine's callbacks).
    source = getattr(store, "source", None)
    if isinstance(source, ZarrStore):
        return source
    url = getattr(store, "url", None)
    if isinstance(url, str):
        if url.lower().startswith("memory:"):
            raise TypeError("a zarrlib.MemoryStore lives inside the engine: the reference backend cannot reach it")
        if url.lower().startswith("file:"):
            url = unquote(urlparse(url).path)
        return LocalStore(url)
    raise TypeError(f"{type(store).__name__} is not a store the reference backend can use")


def node_path(path: object) -> str:
    """A node path without leading or trailing '/'."""
    if not isinstance(path, str):
        raise TypeError(f"path must be a str, not {type(path).__name__}")
    return path.strip("/")


def _key(path: str, name: str) -> str:
    return f"{path}/{name}" if path else name


def _get(store: ZarrStore, key: str) -> bytes | None:
    buffer = sync(store.get(key, _PROTOTYPE))
    return None if buffer is None else buffer.to_bytes()


def _set(store: ZarrStore, key: str, data: bytes) -> None:
    sync(store.set(key, _PROTOTYPE.buffer.from_bytes(data)))


def _json(store: ZarrStore, key: str) -> Document | None:
    data = _get(store, key)
    if data is None:
        return None
    try:
        document: object = json.loads(data)
    except ValueError as err:
        raise InvalidMetadataError(f"{key} is not valid JSON: {err}") from None
    if not isinstance(document, dict):
        raise InvalidMetadataError(f"{key} is not a JSON object")
    return document


# --- metadata documents -------------------------------------------------------------------


def _document(metadata: Metadata) -> Document:
    document: object = json.loads(metadata) if isinstance(metadata, (str, bytes)) else metadata
    if not isinstance(document, dict):
        raise TypeError(f"metadata must be a dict (or its JSON text), not {type(document).__name__}")
    return document


def _check_format(document: Document, kind: str) -> int:
    zarr_format = document.get("zarr_format")
    if not isinstance(zarr_format, int) or zarr_format not in (2, 3) or isinstance(zarr_format, bool):
        if isinstance(zarr_format, int):
            raise UnsupportedError(f"unsupported zarr_format {zarr_format}")
        raise InvalidMetadataError('metadata has no integer "zarr_format"')
    node_type = document.get("node_type")
    if (zarr_format == 3 or node_type is not None) and node_type != kind:
        raise InvalidMetadataError(f"metadata has node_type {node_type!r}, expected {kind!r}")
    if not isinstance(document.get("attributes", {}), dict):
        raise InvalidMetadataError('"attributes" must be a JSON object')
    return zarr_format


def parse_array(document: Document) -> ArrayV2Metadata | ArrayV3Metadata:
    """zarr-python's parsed form of an array document."""
    zarr_format = _check_format(document, "array")
    try:
        parsed: ArrayV2Metadata | ArrayV3Metadata
        if zarr_format == 3:
            parsed = ArrayV3Metadata.from_dict(dict(document))
        else:
            parsed = ArrayV2Metadata.from_dict({k: v for k, v in document.items() if k != "node_type"})
        return parsed
    except (ValueError, TypeError, KeyError) as err:
        message = str(err)
        unsupported = "codec" in message.lower() and ("not found" in message or "unknown" in message.lower())
        raise (UnsupportedError if unsupported else InvalidMetadataError)(message) from err


def read_node(store: ZarrStore, path: str) -> Document | None:
    """The metadata document of the node at ``path`` (v2 attributes merged), or None."""
    document = _json(store, _key(path, _V3_KEY))
    if document is not None:
        if document.get("node_type") not in ("array", "group") or document.get("zarr_format") != 3:
            raise InvalidMetadataError(f"{_key(path, _V3_KEY)} is not a Zarr v3 node document")
        return document
    for key in (".zarray", ".zgroup"):
        document = _json(store, _key(path, key))
        if document is not None:
            document["attributes"] = _json(store, _key(path, ".zattrs")) or {}
            return document
    return None


def _is_array(document: Document) -> bool:
    return bool(document.get("node_type", "array" if "shape" in document else "group") == "array")


def _erase(store: ZarrStore, path: str) -> None:
    sync(store.delete_dir(path))
    for key in (_V3_KEY, *_V2_KEYS):
        sync(store.delete(_key(path, key)))


def _exists(store: ZarrStore, path: str) -> bool:
    return any(sync(store.exists(_key(path, key))) for key in (_V3_KEY, *_V2_KEYS[:2]))


def _create(document: Document, store_like: StoreLike, path: str, overwrite: bool) -> None:
    store = zarr_store(store_like)
    path = node_path(path)
    parts = path.split("/") if path else []
    for depth in range(len(parts)):
        ancestor = read_node(store, "/".join(parts[:depth]))
        if ancestor is not None and _is_array(ancestor):
            raise NodeKindError(f"cannot create a node inside the array at {'/'.join(parts[:depth])!r}")
    if overwrite:
        _erase(store, path)
    elif _exists(store, path):
        raise NodeExistsError(f"a node already exists at {path!r}")
    if document["zarr_format"] == 3:
        _set(store, _key(path, _V3_KEY), json.dumps(document, indent=2).encode())
        return
    body = {k: v for k, v in document.items() if k not in ("attributes", "node_type")}
    key = ".zarray" if _is_array(document) else ".zgroup"
    _set(store, _key(path, key), json.dumps(body, indent=2).encode())
    _set(store, _key(path, ".zattrs"), json.dumps(document.get("attributes", {}), indent=2).encode())


def _group_document(metadata: Metadata) -> Document:
    document = _document(metadata)
    _check_format(document, "group")
    try:
        GroupMetadata.from_dict(dict(document))
    except (ValueError, TypeError, KeyError) as err:
        raise InvalidMetadataError(str(err)) from err
    return document


def _array_document(metadata: Metadata) -> Document:
    document = _document(metadata)
    parse_array(document)
    return document


def create_new_group(metadata: Metadata, store: StoreLike, path: str) -> None:
    _create(_group_document(metadata), store, path, overwrite=False)


def create_overwrite_group(metadata: Metadata, store: StoreLike, path: str) -> None:
    _create(_group_document(metadata), store, path, overwrite=True)


def create_new_array(metadata: Metadata, store: StoreLike, path: str) -> None:
    _create(_array_document(metadata), store, path, overwrite=False)


def create_overwrite_array(metadata: Metadata, store: StoreLike, path: str) -> None:
    _create(_array_document(metadata), store, path, overwrite=True)


def _require(store: ZarrStore, path: str) -> Document:
    document = read_node(store, path)
    if document is None:
        raise NodeNotFoundError(f"no node at {path!r}")
    return document


def read_metadata(store: StoreLike, path: str, *, use_consolidated: bool | None = None) -> Document:
    zstore, node = zarr_store(store), node_path(path)
    if not use_consolidated:
        return _require(zstore, node)
    found = _consolidated_covering(zstore, node)
    if found is None:
        raise NodeNotFoundError(f"no consolidated metadata at or above {node!r} lists it")
    base, entries = found
    own = _below(base, node)
    return _require(zstore, node) if not own else entries[own]


def _below(base: str, target: str) -> str:
    return target if not base else target[len(base) :].lstrip("/")


def _consolidated_covering(zstore: ZarrStore, node: str) -> tuple[str, dict[str, Document]] | None:
    """The nearest group at or above ``node`` whose consolidated metadata (as zarr-python reads
    it) lists ``node``: its path and its entries, flattened, as documents."""
    parts = node.split("/") if node else []
    for depth in range(len(parts), -1, -1):
        base = "/".join(parts[:depth])
        try:
            group = zarr.open_group(zstore, path=base, mode="r", use_consolidated=True)
        except (ValueError, FileNotFoundError, TypeError, zarr.errors.NodeTypeValidationError):
            continue
        consolidated = group.metadata.consolidated_metadata
        if consolidated is None:
            continue
        entries = {name: _plain(meta.to_dict()) for name, meta in consolidated.flattened_metadata.items()}
        if base == node or _below(base, node) in entries:
            return base, entries
    return None


def _plain(document: Document) -> Document:
    """A zarr-python ``to_dict()`` document as JSON would give it back."""
    plain: Document = json.loads(json.dumps(document, default=str))
    plain.pop("consolidated_metadata", None)
    return plain


def delete_node(store: StoreLike, path: str) -> None:
    zstore, node = zarr_store(store), node_path(path)
    _require(zstore, node)
    _erase(zstore, node)


def list_children(store: StoreLike, path: str, *, use_consolidated: bool | None = None) -> list[tuple[str, Document]]:
    zstore, node = zarr_store(store), node_path(path)
    found = None if use_consolidated is False else _consolidated_covering(zstore, node)
    if found is not None:
        base, entries = found
        own = _below(base, node)
        if own and _is_array(entries[own]):
            return []
        prefix = f"{own}/" if own else ""
        below = sorted(name[len(prefix) :] for name in entries if name.startswith(prefix))
        return [(_key(node, name), entries[prefix + name]) for name in below if "/" not in name]
    if use_consolidated:
        raise NodeNotFoundError(f"no consolidated metadata at or above {node!r} lists it")
    if _is_array(_require(zstore, node)):
        return []

    async def names() -> list[str]:
        return [name async for name in zstore.list_dir(node)]

    children = []
    for child in sorted(sync(names())):
        child_path = _key(node, child)
        document = read_node(zstore, child_path)
        if document is not None:
            children.append((child_path, document))
    return children


# --- array data ---------------------------------------------------------------------------


def _check_out(out: object, shape: tuple[int, ...], dtype: DType) -> None:
    """Refuse an ``out=`` the result cannot be put in."""
    if out is None:
        return
    if not isinstance(out, np.ndarray):
        raise TypeError(f"out must be a numpy.ndarray, not {type(out).__name__}")
    if (out.shape, out.dtype, out.flags.writeable) != (shape, dtype, True):
        raise ValueError(f"out must be a writeable {shape} array of {dtype}, not a {out.shape} array of {out.dtype}")


def _deliver(data: NDArray, out: NDArray | None) -> NDArray:
    """The result: ``data`` itself, or copied into the caller's ``out``."""
    if out is None:
        return data
    out[...] = data
    return out


def _assigned(value: npt.ArrayLike, shape: tuple[int, ...], dtype: DType) -> NDArray:
    """``value`` cast and broadcast to ``shape`` by numpy assignment itself, the rule the API
    promises for writes."""
    data = np.empty(shape, dtype)
    data[...] = value
    return data


class _ReferenceArray:
    """An array as zarr-python sees it, from the caller's document."""

    def __init__(self, metadata: Metadata, store: StoreLike, path: str):
        self.path = node_path(path)
        self.metadata = parse_array(_document(metadata))
        self.store_path = StorePath(zarr_store(store), self.path)
        # mypy checks for Python 3.10, which lacks the typing.NotRequired zarr-python marks "order" with.
        config: ArrayConfigParams = {"write_empty_chunks": get_config()["store_empty_chunks"]}  # type: ignore[typeddict-item]
        self.array: AsyncArray[Any]
        sharded = False
        if isinstance(self.metadata, ArrayV2Metadata):
            config["order"] = self.metadata.order
            self.array = AsyncArray(self.metadata, self.store_path, config=config)
            grid = self.metadata.chunks
        else:
            self.array = AsyncArray(self.metadata, self.store_path, config=config)
            # By its JSON form: the grid's class moved in zarr-python 3.2 (rectilinear grids came).
            chunk_grid: Any = self.metadata.chunk_grid.to_dict()
            if chunk_grid.get("name") != "regular":
                raise UnsupportedError("the reference backend reads only regular chunk grids")
            grid = tuple(chunk_grid["configuration"]["chunk_shape"])
            sharded = any(codec.to_dict().get("name") == "sharding_indexed" for codec in self.metadata.codecs)
        native = np.dtype(self.metadata.dtype.to_native_dtype())
        # Variable-length strings and objects have no byte order.
        self.dtype: DType = native if native.kind in "OT" else native.newbyteorder("=")
        self.shape = tuple(self.metadata.shape)
        self.chunk_shape = tuple(grid)
        self.sharded = sharded
        self.prototype = _SHARDED_PROTOTYPE if sharded else _PROTOTYPE

    def chunk(self, chunk_coords: ChunkCoords) -> tuple[StorePath, ArraySpec]:
        """The chunk's coordinates, checked against the grid, and its store path and spec."""
        if isinstance(chunk_coords, (int, np.integer)):
            chunk_coords = (chunk_coords,)
        try:
            coords = tuple(operator.index(c) for c in chunk_coords)
        except TypeError:
            raise TypeError(f"chunk coordinates must be a sequence of integers, not {chunk_coords!r}") from None
        if any(c < 0 for c in coords):
            raise OutOfBoundsError(f"chunk coordinates {coords} are negative")
        if len(coords) != len(self.shape):
            raise InvalidArgumentError(
                f"chunk coordinates have {len(coords)} dimensions, the array has {len(self.shape)}"
            )
        grid = tuple(-(-s // c) if c else 0 for s, c in zip(self.shape, self.chunk_shape, strict=True))
        if any(c >= g for c, g in zip(coords, grid, strict=True)):
            raise OutOfBoundsError(f"chunk {list(coords)} is outside the chunk grid {list(grid)}")
        # Built here: zarr-python 3.2 dropped the v3 metadata's get_chunk_spec. Grids are regular.
        spec = ArraySpec(
            shape=self.chunk_shape,
            dtype=self.metadata.dtype,
            fill_value=self.metadata.fill_value,
            config=self.array.config,
            prototype=self.prototype,
        )
        return self.store_path / self.metadata.encode_chunk_key(coords), spec

    def whole_chunk(self) -> tuple[slice, ...]:
        return tuple(slice(0, c) for c in self.chunk_shape)

    def read_chunk(self, chunk_coords: ChunkCoords, out: NDArray | None) -> NDArray:
        key_path, spec = self.chunk(chunk_coords)
        _check_out(out, self.chunk_shape, self.dtype)
        data = np.empty(self.chunk_shape, self.dtype)
        buffer = self.prototype.nd_buffer.from_numpy_array(data)
        whole = self.whole_chunk()
        sync(self.array.codec_pipeline.read([(key_path, spec, whole, whole, True)], buffer, drop_axes=()))
        return _deliver(data, out)

    def write_chunk(self, chunk_coords: ChunkCoords, value: npt.ArrayLike) -> None:
        key_path, spec = self.chunk(chunk_coords)
        array = np.asarray(value)
        if array.shape != self.chunk_shape:
            raise ValueError(f"a chunk has shape {self.chunk_shape}, the value has shape {array.shape}")
        buffer = self.prototype.nd_buffer.from_numpy_array(_assigned(array, self.chunk_shape, self.dtype))
        whole = self.whole_chunk()
        sync(self.array.codec_pipeline.write([(key_path, spec, whole, whole, True)], buffer, drop_axes=()))

    def positive(self, selection: BasicSelection) -> tuple[Selection, tuple[slice, ...], tuple[slice, ...]]:
        """A selection as zarr-python takes it (steps >= 1, integers kept as length-1 slices),
        and how to turn its result into numpy's: axes to reverse and the result shape."""
        sel = normalize_selection(selection, self.shape)
        slices: list[slice] = []
        reverse: list[slice] = []
        for start, step, count in zip(sel.starts, sel.steps, sel.counts, strict=True):
            if count == 0:
                slices.append(slice(0, 0))
                reverse.append(slice(None))
                continue
            low = start if step > 0 else start + (count - 1) * step
            slices.append(slice(low, low + (count - 1) * abs(step) + 1, abs(step)))
            reverse.append(slice(None, None, -1) if step < 0 else slice(None))
        return sel, tuple(slices), tuple(reverse)

    def read(self, selection: BasicSelection, out: NDArray | None) -> NDArray:
        sel, slices, reverse = self.positive(selection)
        _check_out(out, sel.shape, self.dtype)
        data = np.empty(sel.shape, self.dtype)
        if sel.size:
            selected = ZarrArray(self.array).get_basic_selection(slices, prototype=self.prototype)
            data[...] = np.asarray(selected).reshape(sel.counts)[reverse].reshape(sel.shape)
        return _deliver(data, out)

    def write(self, selection: BasicSelection, value: npt.ArrayLike) -> None:
        sel, slices, reverse = self.positive(selection)
        source = _assigned(value, sel.shape, self.dtype)
        if not sel.size:
            return
        if self.sharded:
            ZarrArray(self.array).set_basic_selection(
                slices, source.reshape(sel.counts)[reverse], prototype=self.prototype
            )
            return
        # Chunk by chunk: read the whole chunk, assign with numpy, write it whole. zarr-python's
        # partial writes decide emptiness with its own numeric comparison (for complex numbers
        # -0.0 equals 0.0), where whole-chunk writes go through the bitwise buffer above.
        indices = [
            start + step * np.arange(count)
            for start, step, count in zip(sel.starts, sel.steps, sel.counts, strict=True)
        ]
        values = source.reshape(sel.counts)
        per_axis = [
            [(int(c), np.flatnonzero(idx // size == c)) for c in np.unique(idx // size)]
            for idx, size in zip(indices, self.chunk_shape, strict=True)
        ]
        for combination in itertools.product(*per_axis):
            coords = tuple(c for c, _ in combination)
            picked = tuple(positions for _, positions in combination)
            local = tuple(
                idx[positions] - c * size
                for idx, (c, positions), size in zip(indices, combination, self.chunk_shape, strict=True)
            )
            chunk = self.read_chunk(coords, None)
            chunk[np.ix_(*local)] = values[np.ix_(*picked)]
            self.write_chunk(coords, chunk)


def read_chunk(
    metadata: Metadata, store: StoreLike, path: str, chunk_coords: ChunkCoords, *, out: NDArray | None = None
) -> NDArray:
    return _ReferenceArray(metadata, store, path).read_chunk(chunk_coords, out)


def read_encoded_chunk(metadata: Metadata, store: StoreLike, path: str, chunk_coords: ChunkCoords) -> bytes | None:
    array = _ReferenceArray(metadata, store, path)
    key_path, _ = array.chunk(chunk_coords)
    return _get(key_path.store, key_path.path)


def write_chunk(
    metadata: Metadata, store: StoreLike, path: str, chunk_coords: ChunkCoords, value: npt.ArrayLike
) -> None:
    _ReferenceArray(metadata, store, path).write_chunk(chunk_coords, value)


def delete_chunk(metadata: Metadata, store: StoreLike, path: str, chunk_coords: ChunkCoords) -> None:
    array = _ReferenceArray(metadata, store, path)
    key_path, _ = array.chunk(chunk_coords)
    sync(key_path.store.delete(key_path.path))


def read_region(
    metadata: Metadata, store: StoreLike, path: str, selection: BasicSelection, *, out: NDArray | None = None
) -> NDArray:
    return _ReferenceArray(metadata, store, path).read(selection, out)


def write_region(
    metadata: Metadata, store: StoreLike, path: str, selection: BasicSelection, value: npt.ArrayLike
) -> None:
    _ReferenceArray(metadata, store, path).write(selection, value)


# --- attributes, consolidated metadata, resizing --------------------------------------------


def update_attributes(store: StoreLike, path: str, attributes: Mapping[str, Any], *, replace: bool = False) -> Document:
    zstore, node = zarr_store(store), node_path(path)
    _require(zstore, node)
    opened = zarr.open(zstore, path=node, mode="r+")
    if replace:
        opened.attrs.put(dict(attributes))
    else:
        opened.update_attributes(dict(attributes))
    return _require(zstore, node)


def consolidate_metadata(store: StoreLike, path: str = "") -> Document:
    zstore, node = zarr_store(store), node_path(path)
    if _is_array(_require(zstore, node)):
        raise NodeKindError(f"the node at {node!r} is an array; only groups hold consolidated metadata")
    zarr.consolidate_metadata(zstore, path=node or None, zarr_format=_require(zstore, node)["zarr_format"])
    return _require(zstore, node)


def _clear_edges(array: _ReferenceArray, keep: Sequence[int], extent: Sequence[int]) -> None:
    """Write the fill value over the parts of edge chunks in ``[0, extent)`` that lie outside
    ``[0, keep)``: zarr-python's resize leaves them, the API promises they read as fill."""
    fill = array.array.metadata.fill_value
    for axis, (k, e, c) in enumerate(zip(keep, extent, array.chunk_shape, strict=True)):
        end = min(e, -(-k // c) * c)
        if end > k:
            region = tuple(slice(k, end) if a == axis else slice(0, n) for a, n in enumerate(extent))
            ZarrArray(array.array)[region] = fill


def resize_array(metadata: Metadata, store: StoreLike, path: str, shape: Sequence[int]) -> Document:
    array = _ReferenceArray(metadata, store, path)
    old, new = array.shape, tuple(operator.index(n) for n in shape)
    if len(new) != len(old):
        raise ValueError(f"the new shape {new} has {len(new)} dimensions, the array has {len(old)}")
    _clear_edges(array, new, old)
    ZarrArray(array.array).resize(new)
    grown = _ReferenceArray(_require(array.store_path.store, array.path), store, path)
    _clear_edges(grown, old, new)
    return _require(array.store_path.store, array.path)


def append(metadata: Metadata, store: StoreLike, path: str, value: npt.ArrayLike, *, axis: int = 0) -> Document:
    array = _ReferenceArray(metadata, store, path)
    data = np.asarray(value, dtype=array.dtype)
    if data.ndim == len(array.shape) - 1:
        data = np.expand_dims(data, axis)
    ZarrArray(array.array).append(data, axis=axis)
    return _require(array.store_path.store, array.path)
