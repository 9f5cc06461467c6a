"""The object API: :class:`Array` and :class:`Group`, each holding its native handle.

>>> store = zarrlib.MemoryStore()
>>> root = zarrlib.Group.create(store, "")
>>> a = root.create_array("a", metadata)
>>> a[10:20, ::2] = 7
>>> a[12, :4]
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from . import native_indexed
from ._types import BasicSelection, ChunkCoords, Document, DType, Metadata, NDArray, StoreLike
from .accessors import BlockIndex, OIndex, VIndex
from .attributes import Attributes
from .errors import NodeKindError, NodeNotFoundError
from .metadata import array_metadata
from .native_array import NativeArray
from .store_routes import as_store
from .stores import Store, node_path


def node_kind(store: StoreLike, path: str = "") -> str | None:
    """``"array"``, ``"group"``, or None when nothing is at ``path``."""
    return as_store(store).node_kind(path)


def open(store: StoreLike, path: str = "") -> Array | Group:  # noqa: A001 - zarrlib.open, as zarr.open
    """The array or group at ``path``."""
    kind = node_kind(store, path)
    if kind is None:
        raise NodeNotFoundError(f"no node at {node_path(path)!r}")
    return (Array if kind == "array" else Group).open(store, path)


def create_array(
    store: StoreLike, path: str, metadata: Metadata | None = None, *, overwrite: bool = False, **properties: Any
) -> Array:
    """Create an array and open it: from its metadata document, or from the keywords of
    :func:`zarrlib.array_metadata`, e.g. ``create_array(store, "t", shape=(100, 100),
    dtype="float32", chunks=(10, 10))``. :class:`NodeExistsError` if a node is at ``path``
    unless ``overwrite``."""
    if metadata is None:
        if "shape" not in properties or "dtype" not in properties:
            raise TypeError("create_array needs a metadata document, or shape= and dtype=")
        metadata = array_metadata(**properties)
    elif properties:
        raise TypeError(f"create_array takes a metadata document or keywords, not both ({', '.join(properties)})")
    return Array.create(store, path, metadata, overwrite=overwrite)


def open_array(store: StoreLike, path: str = "") -> Array:
    """The array at ``path`` (:class:`NodeNotFoundError`, :class:`NodeKindError` otherwise)."""
    return Array.open(store, path)


def open_group(store: StoreLike, path: str = "") -> Group:
    """The group at ``path`` (:class:`NodeNotFoundError`, :class:`NodeKindError` otherwise)."""
    return Group.open(store, path)


def _sharding(metadata: Document) -> dict[str, Any] | None:
    """The configuration of a Zarr v3 array's sharding codec, if its chunks are shards."""
    for codec in metadata.get("codecs", []) if metadata.get("zarr_format") == 3 else []:
        if isinstance(codec, dict) and codec.get("name") == "sharding_indexed":
            configuration: dict[str, Any] = codec.get("configuration", {})
            return configuration
    return None


def _is_group(metadata: Document) -> bool:
    """Whether a metadata document describes a group (v2 documents have no node_type)."""
    return bool(metadata.get("node_type", "array" if "shape" in metadata else "group") == "group")


def _copy(document: Document) -> Document:
    copied: Document = json.loads(json.dumps(document))
    return copied


def _join(parent: str, name: str) -> str:
    name = node_path(name)
    return f"{parent}/{name}" if parent else name


def _reopen_array(store: Store, path: str, metadata: Document) -> Array:
    """Open a pickled array again, in the process that unpickles it."""
    return Array(store, store.open_array(path, metadata))


class Array:
    """A Zarr array. Index it like numpy (basic selections) to read and write regions.

    It pickles as its store (URL and options), path and metadata, so other processes (Dask
    workers) read and write the same data; an array in a ``memory://`` store or a store over
    Python objects refuses to pickle.
    """

    def __init__(self, store: Store, native: NativeArray):
        self.store = store
        self._native = native
        # A callback store cached for a Python object references it only weakly: hold it here.
        self._source = getattr(store, "source", None)

    @classmethod
    def open(cls, store: StoreLike, path: str) -> Array:
        """Open the array at ``path``: :class:`NodeNotFoundError` if nothing is there,
        :class:`NodeKindError` if it is a group."""
        native_store = as_store(store)
        return cls(native_store, native_store.open_array(path))

    @classmethod
    def create(cls, store: StoreLike, path: str, metadata: Metadata, *, overwrite: bool = False) -> Array:
        """Create an array from its metadata document and open it."""
        native_store = as_store(store)
        native_store.create_array(path, metadata, overwrite=overwrite)
        return cls.open(native_store, path)

    def __reduce__(self) -> tuple[Any, ...]:
        # The store pickles as its URL and options (a memory:// or callback store refuses to);
        # the metadata travels too, so the process that unpickles opens the array without a read.
        return (_reopen_array, (self.store, self.path, self._native.metadata))

    # --- description ----------------------------------------------------------------------

    @property
    def path(self) -> str:
        return self._native.path

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    @property
    def metadata(self) -> Document:
        """The metadata document (a copy)."""
        return _copy(self._native.metadata)

    @property
    def attrs(self) -> Attributes:
        """The user attributes: a mutable mapping that writes each change through to the store."""
        return Attributes(self.store, self.path, lambda: self._native.metadata, self._metadata_changed)

    def update_attributes(self, attributes: Mapping[str, Any]) -> None:
        """Merge ``attributes`` into the attributes, with one write (as zarr-python's)."""
        self.attrs.update(attributes)

    def _metadata_changed(self, metadata: Document) -> None:
        self._native.metadata = metadata

    @property
    def zarr_format(self) -> int:
        return int(self._native.metadata["zarr_format"])

    @property
    def shape(self) -> tuple[int, ...]:
        return self._native.shape

    @property
    def ndim(self) -> int:
        return self._native.ndim

    @property
    def dtype(self) -> DType:
        return self._native.dtype

    @property
    def chunks(self) -> tuple[int, ...] | None:
        """The chunk shape, as zarr-python means it: for a sharded array, the shape of the inner
        chunks (the shards are :attr:`shards`). None for a chunk grid that is not regular."""
        sharding = _sharding(self._native.metadata)
        if sharding is not None:
            return tuple(sharding["chunk_shape"])
        return self._native.chunk_shape

    @property
    def shards(self) -> tuple[int, ...] | None:
        """The shard shape of a sharded array (the unit of ``read_chunk``/``write_chunk`` and
        ``blocks``), None otherwise."""
        return self._native.chunk_shape if _sharding(self._native.metadata) is not None else None

    @property
    def chunk_grid_shape(self) -> tuple[int, ...]:
        """How many chunks there are along each axis."""
        return self._native.chunk_grid_shape

    @property
    def fill_value(self) -> Any:
        return self._native.fill_value

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def nbytes(self) -> int:
        return self.size * self.dtype.itemsize

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of a 0-dimensional array")
        return self.shape[0]

    def __repr__(self) -> str:
        shards = f" shards={self.shards}" if self.shards else ""
        return (
            f"<zarrlib.Array {self.path or '/'!r} shape={self.shape} dtype={self.dtype} chunks={self.chunks}{shards}>"
        )

    # --- data -----------------------------------------------------------------------------

    def __getitem__(self, selection: BasicSelection) -> NDArray:
        return self._native.read(selection)

    def __setitem__(self, selection: BasicSelection, value: npt.ArrayLike) -> None:
        self._native.write(selection, value)

    def read(self, selection: BasicSelection = Ellipsis, *, out: NDArray | None = None) -> NDArray:
        """``self[selection]``, decoded into ``out`` when given."""
        return self._native.read(selection, out)

    # zarr-python's selection accessors and methods (see zarrlib.fancy for what each takes).

    @property
    def oindex(self) -> OIndex:
        """Orthogonal selections: ``a.oindex[[3, 1], 2:9]`` (integers, slices, integer arrays,
        boolean masks per axis; the outer product)."""
        return OIndex(self._native)

    @property
    def vindex(self) -> VIndex:
        """Coordinate selections: ``a.vindex[rows, cols]`` (integer arrays broadcast together),
        or ``a.vindex[mask]`` (a boolean mask of the array's shape)."""
        return VIndex(self._native)

    @property
    def blocks(self) -> BlockIndex:
        """Block selections: ``a.blocks[1, :2]`` (integers and slices over the chunk grid)."""
        return BlockIndex(self._native)

    def get_basic_selection(self, selection: BasicSelection = Ellipsis, *, out: NDArray | None = None) -> NDArray:
        return self._native.read(selection, out)

    def set_basic_selection(self, selection: BasicSelection, value: npt.ArrayLike) -> None:
        self._native.write(selection, value)

    def get_orthogonal_selection(self, selection: Any, *, out: NDArray | None = None) -> NDArray:
        return native_indexed.get_orthogonal(self._native, selection, out)

    def set_orthogonal_selection(self, selection: Any, value: npt.ArrayLike) -> None:
        native_indexed.set_orthogonal(self._native, selection, value)

    def get_coordinate_selection(self, selection: Any, *, out: NDArray | None = None) -> NDArray:
        return native_indexed.get_coordinates(self._native, selection, out)

    def set_coordinate_selection(self, selection: Any, value: npt.ArrayLike) -> None:
        native_indexed.set_coordinates(self._native, selection, value)

    def get_mask_selection(self, mask: Any, *, out: NDArray | None = None) -> NDArray:
        return native_indexed.get_mask(self._native, mask, out)

    def set_mask_selection(self, mask: Any, value: npt.ArrayLike) -> None:
        native_indexed.set_mask(self._native, mask, value)

    def get_block_selection(self, selection: Any, *, out: NDArray | None = None) -> NDArray:
        return self._native.read(self.blocks.region(selection), out)

    def set_block_selection(self, selection: Any, value: npt.ArrayLike) -> None:
        self._native.write(self.blocks.region(selection), value)

    def __array__(self, dtype: npt.DTypeLike | None = None, copy: bool | None = None) -> NDArray:
        if copy is False:
            raise ValueError("a zarrlib.Array is read from its store: a copy cannot be avoided")
        data = self._native.read(Ellipsis)
        return data if dtype is None else data.astype(dtype, copy=False)

    def read_chunk(self, chunk_coords: ChunkCoords, *, out: NDArray | None = None) -> NDArray:
        """The whole chunk at ``chunk_coords`` (full chunk shape; fill value when absent)."""
        return self._native.read_chunk(chunk_coords, out)

    def read_chunks(self, chunk_coords_list: Iterable[ChunkCoords]) -> NDArray:
        """Several whole chunks, decoded in parallel, stacked along a new first axis."""
        return self._native.read_chunks(chunk_coords_list)

    def read_encoded_chunk(self, chunk_coords: ChunkCoords) -> bytes | None:
        """The chunk's stored bytes, or None when it is not stored."""
        return self._native.read_encoded_chunk(chunk_coords)

    def write_chunk(self, chunk_coords: ChunkCoords, value: npt.ArrayLike) -> None:
        """Write a whole chunk; ``value`` has exactly the chunk shape."""
        self._native.write_chunk(chunk_coords, value)

    def delete_chunk(self, chunk_coords: ChunkCoords) -> None:
        """Erase a chunk; it then reads as the fill value."""
        self._native.delete_chunk(chunk_coords)

    # --- shape ----------------------------------------------------------------------------

    def resize(self, shape: Iterable[int] | int) -> None:
        """Give the array a new shape (any axis larger or smaller). Chunks wholly outside it are
        erased and those partly outside are cleared beyond it, so growing again reads the fill
        value there."""
        self._native = self._native.resize(shape if isinstance(shape, Iterable) else (shape,))

    def append(self, value: npt.ArrayLike, axis: int = 0) -> tuple[int, ...]:
        """Append ``value`` along ``axis`` (its shape matches on every other axis; one dimension
        fewer appends one slice) and return the new shape. The data is written before the
        metadata that shows it, so readers see the old array or the whole new one."""
        self._native = self._native.append(value, axis)
        return self.shape


class Group:
    """A Zarr group: attributes and named children. It pickles as :class:`Array` does."""

    def __init__(self, store: Store, path: str, metadata: Document):
        self.store = store
        self._source = getattr(store, "source", None)  # as Array does
        self.path = path
        self._metadata = metadata

    @classmethod
    def open(cls, store: StoreLike, path: str = "") -> Group:
        """Open the group at ``path``: :class:`NodeNotFoundError` if nothing is there,
        :class:`NodeKindError` if it is an array."""
        native_store = as_store(store)
        path = node_path(path)
        metadata = native_store.read_metadata(path)
        if not _is_group(metadata):
            raise NodeKindError(f"the node at {path!r} is an array, not a group")
        return cls(native_store, path, metadata)

    @classmethod
    def create(
        cls,
        store: StoreLike,
        path: str = "",
        *,
        zarr_format: int = 3,
        attributes: Mapping[str, Any] | None = None,
        overwrite: bool = False,
    ) -> Group:
        """Create a group (Zarr v3 unless ``zarr_format=2``) and open it."""
        metadata: Document
        if zarr_format == 3:
            metadata = {"zarr_format": 3, "node_type": "group"}
        elif zarr_format == 2:
            metadata = {"zarr_format": 2}
        else:
            raise ValueError(f"zarr_format must be 2 or 3, not {zarr_format!r}")
        if attributes:
            metadata["attributes"] = dict(attributes)
        native_store = as_store(store)
        native_store.create_group(path, metadata, overwrite=overwrite)
        return cls.open(native_store, path)

    def __reduce__(self) -> tuple[Any, ...]:
        return (Group, (self.store, self.path, self._metadata))

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    @property
    def metadata(self) -> Document:
        """The metadata document (a copy)."""
        return _copy(self._metadata)

    @property
    def attrs(self) -> Attributes:
        """The user attributes: a mutable mapping that writes each change through to the store."""
        return Attributes(self.store, self.path, lambda: self._metadata, self._metadata_changed)

    attributes = attrs

    def update_attributes(self, attributes: Mapping[str, Any]) -> None:
        """Merge ``attributes`` into the attributes, with one write (as zarr-python's)."""
        self.attrs.update(attributes)

    def _metadata_changed(self, metadata: Document) -> None:
        self._metadata = metadata

    def consolidate_metadata(self) -> None:
        """Write the consolidated metadata of this group (every node below it), so that reading
        the hierarchy needs no listing of the store; write it again after changing the hierarchy."""
        self._metadata = self.store.consolidate(self.path)

    def children(self) -> list[tuple[str, Array | Group]]:
        """The direct children as ``(name, node)`` pairs, sorted by name."""
        result: list[tuple[str, Array | Group]] = []
        for child_path, metadata in self.store.list_children(self.path):
            name = child_path.rsplit("/", 1)[-1]
            # The listing carries each child's metadata: build from it rather than read it again.
            node: Array | Group
            if _is_group(metadata):
                node = Group(self.store, child_path, metadata)
            else:
                node = Array(self.store, self.store.open_array(child_path, metadata))
            result.append((name, node))
        return result

    def keys(self) -> list[str]:
        return [child_path.rsplit("/", 1)[-1] for child_path, _ in self.store.list_children(self.path)]

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def __contains__(self, name: str) -> bool:
        return node_kind(self.store, _join(self.path, name)) is not None

    def __getitem__(self, name: str) -> Array | Group:
        """The child (or deeper descendant, ``"a/b"``) called ``name``."""
        path = _join(self.path, name)
        kind = node_kind(self.store, path)
        if kind is None:
            raise NodeNotFoundError(f"no node at {path!r}")
        return Array.open(self.store, path) if kind == "array" else Group.open(self.store, path)

    def create_group(
        self,
        name: str,
        *,
        zarr_format: int = 3,
        attributes: Mapping[str, Any] | None = None,
        overwrite: bool = False,
    ) -> Group:
        """Create a child group (keywords as for :meth:`Group.create`)."""
        return Group.create(
            self.store, _join(self.path, name), zarr_format=zarr_format, attributes=attributes, overwrite=overwrite
        )

    def create_array(
        self, name: str, metadata: Metadata | None = None, *, overwrite: bool = False, **properties: Any
    ) -> Array:
        """Create a child array from its metadata document, or from the keywords of
        :func:`zarrlib.array_metadata` (``shape=``, ``dtype=``, ``chunks=``, ...)."""
        return create_array(self.store, _join(self.path, name), metadata, overwrite=overwrite, **properties)

    def tree(self) -> str:
        """The hierarchy under this group, one node per line."""
        lines = [f"/{self.path}" if self.path else "/"]

        def walk(group: Group, indent: str) -> None:
            for name, node in group.children():
                if isinstance(node, Group):
                    lines.append(f"{indent}{name}/")
                    walk(node, indent + "  ")
                else:
                    shards = f" shards={node.shards}" if node.shards else ""
                    lines.append(
                        f"{indent}{name} {node.shape} {node.dtype} chunks={node.chunks}{shards} (v{node.zarr_format})"
                    )

        walk(self, "  ")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<zarrlib.Group {self.path or '/'!r}>"
