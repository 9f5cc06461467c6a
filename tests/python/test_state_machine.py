"""Stateful property tests: random sequences of calls on the Python API, each checked against a
plain numpy (and dict) model of the hierarchy, on a memory store and on a directory store.

hypothesis drives a ``RuleBasedStateMachine``: arrays of several layouts (Zarr v3 with and
without a compressor, sharded, Zarr v2 in C and F order, variable-length strings) are created,
overwritten and deleted at a few paths under the root and under a group (which is deleted and
overwritten too); regions (numpy basic selections, negative steps included) and whole chunks are
written and read, chunks deleted, arrays resized and appended to, attributes merged, replaced
and changed through ``Array.attrs``, and calls that must fail are made in between. After every
step every array is read whole and compared with the model, with its metadata, attributes and
the children of each group. The number of runs follows the hypothesis profile (conftest.py).
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

import zarrlib
from layouts import v2_array, v3_array, v3_sharded, v3_strings

#: Where arrays live: two under the root, one under the group "g".
SLOTS = ("a", "b", "g/c")
GROUPS = ("", "g")
LAYOUTS = ("v3", "v3-raw", "sharded", "v2-C", "v2-F", "strings")
DTYPES = ("int16", "uint8", "float64")


@dataclass
class ModelArray:
    """What one array should hold: its metadata document, every element, its attributes."""

    metadata: dict[str, Any]
    data: np.ndarray
    fill: Any
    chunks: tuple[int, ...]
    attrs: dict[str, Any] = field(default_factory=dict)

    @property
    def strings(self) -> bool:
        return self.data.dtype == object


def chunk_shape(metadata: dict[str, Any]) -> tuple[int, ...]:
    """The chunk shape of the chunk API: for a sharded array, the shard shape."""
    if metadata["zarr_format"] == 2:
        return tuple(metadata["chunks"])
    return tuple(metadata["chunk_grid"]["configuration"]["chunk_shape"])


def array_document(layout: str, shape: tuple[int, ...], chunks: tuple[int, ...], dtype: str, fill: Any):
    if layout == "v3":
        return v3_array(shape, chunks, dtype, fill_value=fill)
    if layout == "v3-raw":
        return v3_array(shape, chunks, dtype, fill_value=fill, compressor=None)
    if layout == "sharded":
        inner = tuple(max(1, c // 2) for c in chunks)
        shard = tuple(i * 2 for i in inner)
        return v3_sharded(shape, shard, inner, dtype, fill_value=fill)
    if layout.startswith("v2"):
        compressor = "zlib" if dtype == "float64" else "blosc"
        return v2_array(shape, chunks, np.dtype(dtype).str, fill_value=fill, order=layout[-1], compressor=compressor)
    return v3_strings(shape, chunks, fill)


def as_list(values: np.ndarray) -> list:
    return np.asarray(values).tolist()


def assert_same(model: ModelArray, got: np.ndarray, expected: np.ndarray) -> None:
    got = np.asarray(got)
    assert got.shape == expected.shape
    if model.strings:
        assert as_list(got) == as_list(expected)
    else:
        np.testing.assert_array_equal(got, expected)


# --- strategies ------------------------------------------------------------------------------

WORDS = st.text(alphabet="abcdé€😀 ", max_size=4)
ATTRIBUTES = st.dictionaries(
    st.sampled_from(["units", "n", "tags", "nested"]),
    st.one_of(st.integers(-5, 5), st.text(max_size=3), st.lists(st.integers(0, 3), max_size=2), st.none()),
    max_size=3,
)


@st.composite
def specs(draw):
    layout = draw(st.sampled_from(LAYOUTS))
    ndim = draw(st.integers(1, 2))
    shape = tuple(draw(st.lists(st.integers(0, 9), min_size=ndim, max_size=ndim)))
    chunks = tuple(draw(st.lists(st.integers(1, 4), min_size=ndim, max_size=ndim)))
    dtype = "string" if layout == "strings" else draw(st.sampled_from(DTYPES))
    fill = draw(WORDS) if layout == "strings" else draw(st.integers(0, 3))
    return layout, shape, chunks, dtype, fill


def selection_for(data, shape: tuple[int, ...]) -> tuple:
    """A numpy basic selection of ``shape``: per axis an integer or a slice with any step."""
    selection = []
    for extent in shape:
        if extent > 0 and data.draw(st.booleans()):
            selection.append(data.draw(st.integers(-extent, extent - 1)))
        else:
            start = data.draw(st.none() | st.integers(-extent - 2, extent + 2))
            stop = data.draw(st.none() | st.integers(-extent - 2, extent + 2))
            step = data.draw(st.sampled_from([None, 1, 2, 3, -1, -2]))
            selection.append(slice(start, stop, step))
    return tuple(selection)


def values_for(data, model: ModelArray, shape: tuple[int, ...]) -> np.ndarray:
    """Values of ``shape`` for ``model``'s data type, drawn by hypothesis (seeded for numbers)."""
    if model.strings:
        words = data.draw(st.lists(WORDS, min_size=int(np.prod(shape)), max_size=int(np.prod(shape))))
        return np.array(words, dtype=object).reshape(shape)
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    return rng.integers(0, 200, size=shape).astype(model.data.dtype)


# --- the machine -----------------------------------------------------------------------------


class HierarchyMachine(RuleBasedStateMachine):
    """The hierarchy under test and its model. Subclasses pick the store."""

    def make_store(self) -> zarrlib.Store:
        raise NotImplementedError

    def __init__(self) -> None:
        super().__init__()
        self.store = self.make_store()
        self.arrays: dict[str, ModelArray] = {}
        self.groups: dict[str, dict[str, Any]] = {}

    def teardown(self) -> None:
        directory = getattr(self, "directory", None)
        if directory is not None:
            shutil.rmtree(directory, ignore_errors=True)

    @initialize()
    def make_groups(self) -> None:
        for path in GROUPS:
            zarrlib.create_overwrite_group(zarrlib.group_metadata(), self.store, path)
            self.groups[path] = {}

    # --- nodes ---------------------------------------------------------------------------

    @rule(slot=st.sampled_from(SLOTS), spec=specs(), overwrite=st.booleans())
    def create_array(self, slot, spec, overwrite):
        layout, shape, chunks, dtype, fill = spec
        metadata = array_document(layout, shape, chunks, dtype, fill)
        if not overwrite and (slot in self.arrays or slot in self.groups):
            with pytest.raises(zarrlib.NodeExistsError):
                zarrlib.create_new_array(metadata, self.store, slot)
            return
        create = zarrlib.create_overwrite_array if overwrite else zarrlib.create_new_array
        create(metadata, self.store, slot)
        numpy_dtype = object if dtype == "string" else np.dtype(dtype)
        self.arrays[slot] = ModelArray(
            metadata=zarrlib.read_metadata(self.store, slot),
            data=np.full(shape, fill, dtype=numpy_dtype),
            fill=fill,
            chunks=chunk_shape(metadata),
        )

    @rule(overwrite=st.booleans(), attrs=ATTRIBUTES)
    def create_group_g(self, overwrite, attrs):
        metadata = zarrlib.group_metadata(attributes=attrs)
        if not overwrite and "g" in self.groups:
            with pytest.raises(zarrlib.NodeExistsError):
                zarrlib.create_new_group(metadata, self.store, "g")
            return
        if overwrite:
            zarrlib.create_overwrite_group(metadata, self.store, "g")
            # Overwriting replaces everything under the node.
            self.arrays.pop("g/c", None)
        else:
            # Only a node at the path itself stands in the way; nodes below it stay.
            zarrlib.create_new_group(metadata, self.store, "g")
        self.groups["g"] = dict(attrs)

    @rule(path=st.sampled_from((*SLOTS, "g")))
    def delete_node(self, path):
        if path not in self.arrays and path not in self.groups:
            with pytest.raises(zarrlib.NodeNotFoundError):
                zarrlib.delete_node(self.store, path)
            return
        zarrlib.delete_node(self.store, path)
        self.arrays.pop(path, None)
        self.groups.pop(path, None)
        if path == "g":
            self.arrays.pop("g/c", None)

    # --- data ----------------------------------------------------------------------------

    @precondition(lambda self: self.arrays)
    @rule(data=st.data())
    def write_region(self, data):
        slot = data.draw(st.sampled_from(sorted(self.arrays)))
        model = self.arrays[slot]
        selection = selection_for(data, model.data.shape)
        # With Ellipsis, numpy keeps a 0-d array (not an element) when every axis is an integer.
        target = model.data[(*selection, ...)]
        value = values_for(data, model, target.shape)
        zarrlib.write_region(model.metadata, self.store, slot, selection, value)
        model.data[selection] = value

    @precondition(lambda self: self.arrays)
    @rule(data=st.data())
    def read_region(self, data):
        slot = data.draw(st.sampled_from(sorted(self.arrays)))
        model = self.arrays[slot]
        selection = selection_for(data, model.data.shape)
        expected = model.data[(*selection, ...)]
        assert_same(model, zarrlib.read_region(model.metadata, self.store, slot, selection), expected)

    def _chunk(self, data, model: ModelArray) -> tuple[int, ...] | None:
        grid = [-(-n // c) for n, c in zip(model.data.shape, model.chunks, strict=True)]
        if 0 in grid:
            return None
        return tuple(data.draw(st.integers(0, g - 1)) for g in grid)

    def _in_bounds(self, model: ModelArray, coords: tuple[int, ...]) -> tuple[slice, ...]:
        return tuple(
            slice(i * c, min(i * c + c, n)) for i, c, n in zip(coords, model.chunks, model.data.shape, strict=True)
        )

    @precondition(lambda self: self.arrays)
    @rule(data=st.data())
    def write_chunk(self, data):
        slot = data.draw(st.sampled_from(sorted(self.arrays)))
        model = self.arrays[slot]
        coords = self._chunk(data, model)
        if coords is None:
            return
        # A whole chunk, past the array's edge too: what lies beyond must never show again.
        value = values_for(data, model, model.chunks)
        zarrlib.write_chunk(model.metadata, self.store, slot, coords, value)
        region = self._in_bounds(model, coords)
        model.data[region] = value[tuple(slice(0, r.stop - r.start) for r in region)]

    @precondition(lambda self: self.arrays)
    @rule(data=st.data())
    def read_chunk(self, data):
        slot = data.draw(st.sampled_from(sorted(self.arrays)))
        model = self.arrays[slot]
        coords = self._chunk(data, model)
        if coords is None:
            return
        chunk = zarrlib.read_chunk(model.metadata, self.store, slot, coords)
        assert chunk.shape == model.chunks
        region = self._in_bounds(model, coords)
        assert_same(model, chunk[tuple(slice(0, r.stop - r.start) for r in region)], model.data[region])

    @precondition(lambda self: self.arrays)
    @rule(data=st.data())
    def delete_chunk(self, data):
        slot = data.draw(st.sampled_from(sorted(self.arrays)))
        model = self.arrays[slot]
        coords = self._chunk(data, model)
        if coords is None:
            return
        zarrlib.delete_chunk(model.metadata, self.store, slot, coords)
        model.data[self._in_bounds(model, coords)] = model.fill

    # --- shape ---------------------------------------------------------------------------

    @precondition(lambda self: self.arrays)
    @rule(data=st.data(), through_object=st.booleans())
    def resize(self, data, through_object):
        slot = data.draw(st.sampled_from(sorted(self.arrays)))
        model = self.arrays[slot]
        shape = tuple(data.draw(st.integers(0, 11)) for _ in model.data.shape)
        if through_object:
            zarrlib.open_array(self.store, slot).resize(shape)
        else:
            zarrlib.resize_array(model.metadata, self.store, slot, shape)
        resized = np.full(shape, model.fill, dtype=model.data.dtype)
        overlap = tuple(slice(0, min(a, b)) for a, b in zip(shape, model.data.shape, strict=True))
        resized[overlap] = model.data[overlap]
        model.data = resized
        model.metadata = zarrlib.read_metadata(self.store, slot)

    @precondition(lambda self: self.arrays)
    @rule(data=st.data(), through_object=st.booleans())
    def append(self, data, through_object):
        slot = data.draw(st.sampled_from(sorted(self.arrays)))
        model = self.arrays[slot]
        axis = data.draw(st.integers(0, model.data.ndim - 1))
        shape = list(model.data.shape)
        shape[axis] = data.draw(st.integers(0, 5))
        value = values_for(data, model, tuple(shape))
        if through_object:
            assert zarrlib.open_array(self.store, slot).append(value, axis=axis) == tuple(
                n + (shape[axis] if a == axis else 0) for a, n in enumerate(model.data.shape)
            )
        else:
            zarrlib.append(model.metadata, self.store, slot, value, axis=axis)
        model.data = np.concatenate([model.data, value], axis=axis)
        model.metadata = zarrlib.read_metadata(self.store, slot)

    # --- attributes ----------------------------------------------------------------------

    def _attrs(self, path: str) -> dict[str, Any]:
        return self.arrays[path].attrs if path in self.arrays else self.groups[path]

    @rule(data=st.data(), attrs=ATTRIBUTES, replace=st.booleans())
    def update_attributes(self, data, attrs, replace):
        path = data.draw(st.sampled_from((*GROUPS, *SLOTS)))
        if path not in self.arrays and path not in self.groups:
            with pytest.raises(zarrlib.NodeNotFoundError):
                zarrlib.update_attributes(self.store, path, attrs)
            return
        document = zarrlib.update_attributes(self.store, path, attrs, replace=replace)
        model = self._attrs(path)
        if replace:
            model.clear()
        model.update(attrs)
        assert document.get("attributes", {}) == model
        self._refresh(path)

    def _refresh(self, path: str) -> None:
        # The functional API takes the metadata as authoritative: a resize through it writes the
        # attributes the caller's document holds, so the model keeps the current document.
        if path in self.arrays:
            self.arrays[path].metadata = zarrlib.read_metadata(self.store, path)

    @precondition(lambda self: self.arrays)
    @rule(data=st.data(), key=st.sampled_from(["units", "n", "extra"]), value=st.integers(), delete=st.booleans())
    def array_attrs(self, data, key, value, delete):
        slot = data.draw(st.sampled_from(sorted(self.arrays)))
        attrs = zarrlib.open_array(self.store, slot).attrs
        model = self.arrays[slot].attrs
        if delete:
            if key in model:
                del attrs[key]
                del model[key]
            else:
                with pytest.raises(KeyError):
                    del attrs[key]
        else:
            # Integers of any size, beyond 64 bits too: the engine keeps their digits.
            attrs[key] = value
            model[key] = value
        self._refresh(slot)

    # --- calls that must fail, leaving everything as it was ------------------------------

    @precondition(lambda self: self.arrays)
    @rule(data=st.data(), kind=st.sampled_from(["chunk", "region", "shape", "ndim", "attrs"]))
    def failing_call(self, data, kind):
        slot = data.draw(st.sampled_from(sorted(self.arrays)))
        model = self.arrays[slot]
        if kind == "chunk":
            grid = [-(-n // c) for n, c in zip(model.data.shape, model.chunks, strict=True)]
            with pytest.raises(zarrlib.OutOfBoundsError):
                zarrlib.read_chunk(model.metadata, self.store, slot, tuple(grid))
        elif kind == "region":
            with pytest.raises(IndexError):
                zarrlib.write_region(model.metadata, self.store, slot, (model.data.shape[0],), model.fill)
        elif kind == "shape":
            bad = tuple(n + 2 for n in model.data.shape)
            with pytest.raises(ValueError):
                zarrlib.write_region(model.metadata, self.store, slot, ..., np.zeros(bad, dtype=model.data.dtype))
        elif kind == "ndim":
            with pytest.raises(ValueError):
                zarrlib.resize_array(model.metadata, self.store, slot, (*model.data.shape, 1))
        else:
            with pytest.raises(TypeError):
                zarrlib.update_attributes(self.store, slot, {"x": object()})

    # --- checked after every step --------------------------------------------------------

    @invariant()
    def everything_reads_as_modelled(self):
        for slot, model in self.arrays.items():
            assert_same(model, zarrlib.read_region(model.metadata, self.store, slot, ...), model.data)
            stored = zarrlib.read_metadata(self.store, slot)
            assert stored["shape"] == list(model.data.shape)
            assert stored.get("attributes", {}) == model.attrs
        for path, attrs in self.groups.items():
            assert zarrlib.read_metadata(self.store, path).get("attributes", {}) == attrs

    @invariant()
    def children_are_the_modelled_nodes(self):
        if "" not in self.groups:
            return
        root = {p for p in SLOTS if "/" not in p and p in self.arrays} | ({"g"} if "g" in self.groups else set())
        assert [path for path, _ in zarrlib.list_children(self.store, "")] == sorted(root)
        if "g" in self.groups:
            assert [path for path, _ in zarrlib.list_children(self.store, "g")] == sorted(
                p for p in SLOTS if p.startswith("g/") and p in self.arrays
            )


class MemoryMachine(HierarchyMachine):
    def make_store(self) -> zarrlib.Store:
        return zarrlib.MemoryStore()


class DirectoryMachine(HierarchyMachine):
    def make_store(self) -> zarrlib.Store:
        self.directory = tempfile.mkdtemp(prefix="zarrlib-machine-")
        return zarrlib.open_store(Path(self.directory) / "store.zarr")


TestMemoryStore = MemoryMachine.TestCase
TestDirectoryStore = DirectoryMachine.TestCase
