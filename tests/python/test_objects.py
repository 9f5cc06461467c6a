"""The object API: Array and Group hold native handles over the same engine."""

from __future__ import annotations

import numpy as np
import pytest

import zarrlib
from layouts import v2_array, v3_array


@pytest.fixture
def tree(store):
    """/ (v3 group) with arrays `a` (v3) and `sub/b` (v2)."""
    root = zarrlib.Group.create(store, attributes={"title": "t"})
    a = root.create_array("a", v3_array([10, 7], [4, 3], "int32", fill_value=-1, attributes={"u": 1}))
    sub = root.create_group("sub", zarr_format=2, attributes={"x": 2})
    sub.create_array("b", v2_array([5], [2], "<f8", fill_value=0.5))
    return store, root, a


def test_array_describes_itself(tree):
    store, _, a = tree
    assert a.shape == (10, 7) and a.ndim == 2 and len(a) == 10
    assert a.dtype == np.dtype("int32")
    assert a.chunks == (4, 3) and a.chunk_grid_shape == (3, 3)
    assert a.fill_value == -1 and a.size == 70 and a.nbytes == 280
    assert a.path == "a" and a.name == "a" and a.zarr_format == 3
    assert a.attrs == {"u": 1}
    assert a.metadata == zarrlib.read_metadata(store, "a")
    assert "shape=(10, 7)" in repr(a)
    b = zarrlib.Array.open(store, "sub/b")
    assert b.fill_value == 0.5 and b.zarr_format == 2 and b.name == "b"


def test_array_indexing_reads_and_writes_like_numpy(tree):
    _, _, a = tree
    data = np.arange(70, dtype=np.int32).reshape(10, 7)
    a[...] = data
    np.testing.assert_array_equal(a[::-2, 1:6:2], data[::-2, 1:6:2])
    a[3, ::3] = 0
    data[3, ::3] = 0
    np.testing.assert_array_equal(np.asarray(a), data)
    np.testing.assert_array_equal(np.array(a, dtype=np.float64), data.astype(np.float64))
    out = np.empty((2, 7), np.int32)
    assert a.read((slice(4, 6),), out=out) is out
    np.testing.assert_array_equal(out, data[4:6])


def test_array_chunk_methods(tree):
    _, _, a = tree
    a.write_chunk((1, 2), np.full((4, 3), 5))
    assert (a.read_chunk((1, 2)) == 5).all()
    assert a.read_encoded_chunk((1, 2)) is not None
    stacked = a.read_chunks([(1, 2), (0, 0)])
    assert stacked.shape == (2, 4, 3)
    assert (stacked[0] == 5).all() and (stacked[1] == -1).all()
    a.delete_chunk((1, 2))
    assert a.read_encoded_chunk((1, 2)) is None
    with pytest.raises(zarrlib.OutOfBoundsError):
        a.read_chunks([(0, 0), (5, 0)])


def test_zero_dimensional_arrays(store):
    a = zarrlib.Array.create(store, "s", v3_array([], [], "float64", fill_value=1.5))
    assert a.shape == () and a[()] == 1.5
    a[...] = 4.0
    assert a[...] == 4.0
    with pytest.raises(TypeError):
        len(a)


def test_array_open_errors(tree):
    store, _, _ = tree
    with pytest.raises(zarrlib.NodeNotFoundError):
        zarrlib.Array.open(store, "missing")
    with pytest.raises(zarrlib.NodeKindError):
        zarrlib.Array.open(store, "sub")
    with pytest.raises(zarrlib.NodeExistsError):
        zarrlib.Array.create(store, "a", v3_array([1], [1]))
    replaced = zarrlib.Array.create(store, "a", v3_array([3], [1]), overwrite=True)
    assert replaced.shape == (3,)


def test_group_navigation(tree):
    store, root, _ = tree
    assert root.attrs == {"title": "t"} and root.attributes == root.attrs
    assert root.keys() == ["a", "sub"] and list(root) == ["a", "sub"]
    assert "a" in root and "sub/b" in root and "nope" not in root
    names = [(name, type(node).__name__) for name, node in root.children()]
    assert names == [("a", "Array"), ("sub", "Group")]
    sub = root["sub"]
    assert isinstance(sub, zarrlib.Group) and sub.attrs == {"x": 2} and sub.metadata["zarr_format"] == 2
    b = root["sub/b"]
    assert isinstance(b, zarrlib.Array) and b.path == "sub/b"
    with pytest.raises(zarrlib.NodeNotFoundError):
        root["nope"]
    assert isinstance(zarrlib.open(store), zarrlib.Group)
    assert isinstance(zarrlib.open(store, "a"), zarrlib.Array)
    assert zarrlib.node_kind(store, "sub") == "group" and zarrlib.node_kind(store, "x") is None
    with pytest.raises(zarrlib.NodeNotFoundError):
        zarrlib.open(store, "x")
    assert root.tree().splitlines() == [
        "/",
        "  a (10, 7) int32 chunks=(4, 3) (v3)",
        "  sub/",
        "    b (5,) float64 chunks=(2,) (v2)",
    ]


def test_group_open_and_create_errors(tree):
    store, _, _ = tree
    with pytest.raises(zarrlib.NodeKindError):
        zarrlib.Group.open(store, "a")
    with pytest.raises(zarrlib.NodeNotFoundError):
        zarrlib.Group.open(store, "missing")
    with pytest.raises(zarrlib.NodeExistsError):
        zarrlib.Group.create(store, "sub")
    with pytest.raises(ValueError):
        zarrlib.Group.create(store, "new", zarr_format=4)
    fresh = zarrlib.Group.create(store, "sub", overwrite=True)
    assert fresh.keys() == []


def test_objects_and_the_functional_api_see_the_same_data(tree):
    store, _, a = tree
    metadata = a.metadata
    zarrlib.write_region(metadata, store, "a", (slice(0, 4), slice(0, 3)), 9)
    assert (a[0:4, 0:3] == 9).all()
    a[9, 6] = 11
    assert zarrlib.read_region(metadata, store, "a", (9, 6)) == 11


def test_chunks_and_shards_mean_what_they_mean_in_zarr_python(tmp_path):
    import zarr

    z = zarr.create_array(tmp_path, shape=(16, 16), chunks=(2, 4), shards=(8, 8), dtype="int8")
    a = zarrlib.open_array(tmp_path)
    assert (a.chunks, a.shards) == (z.chunks, z.shards) == ((2, 4), (8, 8))
    assert a.chunk_grid_shape == (2, 2)  # the grid of shards, what read_chunk addresses
    assert a.read_chunk((1, 1)).shape == (8, 8)
    plain = zarrlib.create_array(tmp_path / "p", "", shape=(4,), dtype="i1", chunks=(2,))
    assert (plain.chunks, plain.shards) == ((2,), None)
