"""Variable-length data types (``string`` and ``bytes`` arrays) through the Python API: the
functional API, Array objects and aio, what reads return and writes take, and every read path.
The differential suite checks them against the reference backend and the cross-implementation
suite against zarr-python."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

import zarrlib
import zarrlib.aio
from layouts import v3_strings

zarr = pytest.importorskip("zarr")

T = np.dtypes.StringDType()


def _equal(a, b):
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape
    assert a.ravel().tolist() == b.ravel().tolist()


# --- the Python API -------------------------------------------------------------------------


def test_object_arrays_on_request(tmp_path):
    metadata = v3_strings((4,), (2,), "f")
    zarrlib.create_new_array(metadata, str(tmp_path), "a")
    zarrlib.write_region(metadata, str(tmp_path), "a", (slice(0, 2),), ["x", "y"])
    previous = zarrlib.get_config()["string_dtype"]
    try:
        zarrlib.set_config(string_dtype="object")
        result = zarrlib.read_region(metadata, str(tmp_path), "a", (...,))
        assert result.dtype == object
        assert result.tolist() == ["x", "y", "f", "f"]
        assert zarrlib.open(str(tmp_path / "a")).dtype == object
        with pytest.raises(ValueError):
            zarrlib.set_config(string_dtype="U")
    finally:
        zarrlib.set_config(string_dtype=previous)
    assert zarrlib.read_region(metadata, str(tmp_path), "a", (...,)).dtype == T


@pytest.mark.parametrize(
    "value",
    [
        np.array(["ab", "c"]),  # <U2
        np.array([b"ab", b"c"]),  # |S2
        np.array(["ab", "c"], dtype=object),
        np.array(["ab", "c"], dtype=T),
        ["ab", "c"],
    ],
)
def test_writes_take_any_string_array(tmp_path, value):
    metadata = v3_strings((2,), (2,))
    zarrlib.create_new_array(metadata, str(tmp_path), "a")
    zarrlib.write_chunk(metadata, str(tmp_path), "a", (0,), value)
    assert zarrlib.read_chunk(metadata, str(tmp_path), "a", (0,)).tolist() == ["ab", "c"]
    zarrlib.write_region(metadata, str(tmp_path), "a", (slice(None),), "same")
    assert zarrlib.read_region(metadata, str(tmp_path), "a", (...,)).tolist() == ["same", "same"]


def test_bad_values_raise(tmp_path):
    metadata = v3_strings((2,), (2,))
    store = str(tmp_path)
    zarrlib.create_new_array(metadata, store, "a")
    with pytest.raises(TypeError):
        zarrlib.write_region(metadata, store, "a", (...,), np.array([1, 2]))
    with pytest.raises(TypeError):
        zarrlib.write_region(metadata, store, "a", (...,), np.array(["a", None], dtype=object))
    with pytest.raises(zarrlib.InvalidArgumentError, match="element 1"):
        zarrlib.write_region(metadata, store, "a", (...,), np.array([b"ok", b"\xff"], dtype=object))
    with pytest.raises(ValueError):
        zarrlib.write_region(metadata, store, "a", (...,), np.array(["a", "b", "c"]))
    with pytest.raises(ValueError):
        zarrlib.read_region(metadata, store, "a", (...,), out=np.empty(2, np.float64))
    out = np.empty(2, object)
    assert zarrlib.read_region(metadata, store, "a", (...,), out=out) is out


def test_chunks_arrays_and_aio(tmp_path):
    metadata = v3_strings((5, 3), (2, 2), "-")
    store = zarrlib.open_store(str(tmp_path))
    zarrlib.create_new_array(metadata, store, "a")
    a = zarrlib.Array.open(store, "a")
    values = np.array([[f"{i}-{j}" for j in range(3)] for i in range(5)], dtype=T)
    a[...] = values
    _equal(a[...], values)
    _equal(a.read_chunk((2, 1)), np.array([["4-2", "-"], ["-", "-"]], dtype=T))
    stacked = a.read_chunks([(0, 0), (2, 1)])
    assert stacked.shape == (2, 2, 2)
    a.write_chunk((0, 0), np.array([["-", "-"], ["-", "-"]]))
    assert a.read_encoded_chunk((0, 0)) is None  # all fill: not stored

    async def main():
        await zarrlib.aio.write_region(metadata, store, "a", (slice(0, 1),), np.array([["p", "q", "r"]]))
        return await zarrlib.aio.read_region(metadata, store, "a", (0,))

    assert asyncio.run(main()).tolist() == ["p", "q", "r"]


def test_a_large_read_round_trips(tmp_path):
    n = 100_000
    values = np.array([f"s{i}" + "é" * (i % 3) for i in range(n)], dtype=T)
    metadata = v3_strings((n,), (10_000,))
    zarrlib.create_new_array(metadata, str(tmp_path), "a")
    zarrlib.write_region(metadata, str(tmp_path), "a", (...,), values)
    _equal(zarrlib.read_region(metadata, str(tmp_path), "a", (...,)), values)


@pytest.mark.parametrize(
    "items",
    [
        ["short", "x" * 100_000, ""],  # skewed: fixed-width cells would be too large
        ["tail\0", "a", "é"],  # a trailing NUL, which fixed-width cells would strip
        ["".join(map(chr, (0x1F, 0x1E, 0x1D, 0x1C, 0, 1, 2, 3))), "\0", "b"],  # no free separator
        ["", "", ""],
    ],
)
@pytest.mark.parametrize("string_dtype", ["StringDType", "object"])
def test_every_read_path_is_exact(tmp_path, items, string_dtype):
    metadata = v3_strings((3,), (2,))
    zarrlib.create_new_array(metadata, str(tmp_path), "a")
    zarrlib.write_region(metadata, str(tmp_path), "a", (...,), np.array(items, dtype=object))
    previous = zarrlib.get_config()["string_dtype"]
    try:
        zarrlib.set_config(string_dtype=string_dtype)
        assert zarrlib.read_region(metadata, str(tmp_path), "a", (...,)).tolist() == items
        assert zarrlib.read_chunk(metadata, str(tmp_path), "a", (1,)).tolist() == [items[2], ""]
    finally:
        zarrlib.set_config(string_dtype=previous)
    blobs = [item.encode() for item in items]
    bytes_metadata = v3_strings((3,), (2,), data_type="bytes")
    zarrlib.create_new_array(bytes_metadata, str(tmp_path), "b")
    zarrlib.write_region(bytes_metadata, str(tmp_path), "b", (...,), np.array(blobs, dtype=object))
    assert zarrlib.read_region(bytes_metadata, str(tmp_path), "b", (...,)).tolist() == blobs


@pytest.mark.parametrize("shards", [None, (4, 6)])
def test_orthogonal_and_coordinate_selections_match_numpy(shards, tmp_path):
    words = np.array([f"w{i}" * (i % 3) for i in range(48)], dtype=object).reshape(8, 6)
    a = zarrlib.create_array(tmp_path, "a", shape=(8, 6), chunks=(2, 3), shards=shards, dtype=str)
    a[...] = words
    store = zarrlib.open_store(tmp_path, metrics=True)
    a = zarrlib.open_array(store, "a")
    as_objects = lambda x: np.asarray(x, dtype=object)  # noqa: E731
    for selection in (([7, 0, 0], slice(1, 5)), ([1, 2], [5, 0]), (np.arange(8) % 3 == 0, slice(2, 3))):
        np.testing.assert_array_equal(as_objects(a.oindex[selection]), words[np.ix_(*_lists(selection, words.shape))])
    points = (np.array([[1, 7], [0, 0]]), np.array([[5, 0], [2, 2]]))
    np.testing.assert_array_equal(as_objects(a.vindex[points]), words[points])
    mask = words == ""
    np.testing.assert_array_equal(as_objects(a.vindex[mask]), words[mask])
    np.testing.assert_array_equal(as_objects(a[[3, 1], 2:4]), words[[3, 1], 2:4])
    # Only the chunks holding selected elements are read.
    before = store.metrics()["reads"]
    a.vindex[[0, 1], [0, 1]]
    assert store.metrics()["reads"] - before <= (2 if shards else 1) + 1  # (sharded: index and chunk)
    # Writes of the same kinds, a repeated index taking its last value.
    expected = words.copy()
    a.oindex[[5, 5, 0], [1, 4]] = np.array([["a", "b"], ["c", "d"], ["e", "f"]])
    expected[5, [1, 4]] = ["c", "d"]
    expected[0, [1, 4]] = ["e", "f"]
    a.vindex[[7, 2], [5, 3]] = "éé"
    expected[[7, 2], [5, 3]] = "éé"
    np.testing.assert_array_equal(as_objects(a[...]), expected)


@pytest.mark.parametrize("shards", [None, (4, 6)])
def test_strided_selections_match_numpy_in_one_call_per_selection(shards, tmp_path):
    words = np.array([f"s{i}" * (i % 4) for i in range(80)], dtype=object).reshape(10, 8)
    a = zarrlib.create_array(tmp_path, "a", shape=(10, 8), chunks=(2, 3), shards=shards, dtype=str)
    a[...] = words
    store = zarrlib.open_store(tmp_path, metrics=True)
    a = zarrlib.open_array(store, "a")
    as_objects = lambda x: np.asarray(x, dtype=object)  # noqa: E731
    selections = [
        (slice(None, None, 3), slice(1, None, 2)),
        (slice(None, None, -2), slice(7, 0, -3)),
        (4, slice(None, None, -1)),
        (slice(8, 1, -5), 6),
        (slice(3, 3), slice(None, None, 2)),
        (Ellipsis, slice(None, None, 7)),
    ]
    for selection in selections:
        np.testing.assert_array_equal(as_objects(a[selection]), words[selection])
    # Rows 0 and 8 of column 0 live in two chunks: only those are read.
    before = store.metrics()["reads"]
    a[::8, 0]
    assert store.metrics()["reads"] - before <= (4 if shards else 2)
    expected = words.copy()
    for k, selection in enumerate(selections):
        shape = expected[selection].shape
        value = np.array([f"v{k}.{i}é" for i in range(int(np.prod(shape)))], dtype=object).reshape(shape)
        a[selection] = value
        expected[selection] = value
    a[1::4, ::-3] = "\0x"
    expected[1::4, ::-3] = "\0x"
    np.testing.assert_array_equal(as_objects(a[...]), expected)
    b = zarrlib.create_array(tmp_path, "b", shape=(9,), chunks=(4,), dtype=bytes)
    b[::-2] = [b"\xff", b"", b"a", b"bc", b"d"]
    assert b[...].tolist() == [b"d", b"", b"bc", b"", b"a", b"", b"", b"", b"\xff"]
    with pytest.raises(ValueError):
        a[::2, ::2] = np.array(["x", "y"], dtype=object)


def test_strided_writes_to_one_chunk_from_threads_lose_nothing(tmp_path):
    import concurrent.futures

    a = zarrlib.create_array(tmp_path, "a", shape=(64,), chunks=(64,), dtype=str)

    def write(k):
        for round in range(20):
            a[k::8] = [f"{k}.{round}.{i}" for i in range(8)]

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(write, range(8)))
    assert a[...].tolist() == [f"{i % 8}.19.{i // 8}" for i in range(64)]


def test_vindex_writes_to_one_chunk_from_threads_lose_nothing(tmp_path):
    """A coordinate write is one engine call that updates the chunk under its lock. (Before, it
    read the box spanning the points, set them and wrote the box back: the boxes here overlap,
    so threads undid each other's points.)"""
    import concurrent.futures

    a = zarrlib.create_array(tmp_path, "a", shape=(8, 8), chunks=(8, 8), dtype=str)

    def write(k):
        for round in range(30):
            a.vindex[[k, 7], [7, k]] = [f"{k}.{round}", f"{k}.{round}"]

    with concurrent.futures.ThreadPoolExecutor(7) as pool:
        list(pool.map(write, range(7)))
    expected = np.full((8, 8), "", dtype=object)
    for k in range(7):
        expected[k, 7] = expected[7, k] = f"{k}.29"
    assert a[...].tolist() == expected.tolist()


def _lists(selection, shape):
    lists = []
    for item, extent in zip(selection, shape, strict=True):
        if isinstance(item, slice):
            lists.append(np.arange(extent)[item])
        else:
            item = np.asarray(item)
            lists.append(np.flatnonzero(item) if item.dtype == bool else item)
    return lists


@pytest.mark.parametrize("zarr_format", [2, 3])
def test_trailing_nuls_survive_scalar_and_list_writes(zarr_format, tmp_path):
    """numpy's fixed-width str dtype drops trailing NULs: a str or a list of them is written as
    given (found by the differential suite: "\\x00" written alone was stored as "")."""
    a = zarrlib.create_array(tmp_path, "a", shape=(3, 2), chunks=(3, 2), dtype=str, zarr_format=zarr_format)
    a[0, 0] = "\x00"
    a[1, :] = ["b\x00", "\x00\x00"]
    a[2] = "c\x00"
    assert zarrlib.open_array(tmp_path, "a")[...].tolist() == [["\x00", ""], ["b\x00", "\x00\x00"], ["c\x00", "c\x00"]]
