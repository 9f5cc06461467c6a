"""Resize and append, attributes, and consolidated metadata: against a numpy model, against the
reference backend (zarr-python), and read back by zarr-python itself."""

from __future__ import annotations

import asyncio
import json
import math
import pickle

import numpy as np
import pytest
import zarr
from hypothesis import given
from hypothesis import strategies as st

import zarrlib
import zarrlib.aio
from layouts import v2_array, v3_array, v3_sharded

# --- resize and append --------------------------------------------------------------------


def _layout(kind, shape, chunks, fill):
    if kind == "v2":
        return v2_array(shape, chunks, "<i4", fill_value=fill)
    if kind == "sharded":
        inner = [max(1, c // 2) for c in chunks]
        shard = [i * 2 for i in inner]
        return v3_sharded(shape, shard, inner, "int32", fill_value=fill)
    return v3_array(shape, chunks, "int32", fill_value=fill)


def _resized_model(model, shape, fill):
    grown = np.full(shape, fill, model.dtype)
    common = tuple(slice(0, min(a, b)) for a, b in zip(model.shape, shape, strict=True))
    grown[common] = model[common]
    return grown


shapes = st.lists(st.integers(0, 9), min_size=1, max_size=3)


@given(
    kind=st.sampled_from(["v3", "v2", "sharded"]),
    start=shapes,
    data=st.data(),
)
def test_resizes_and_appends_follow_a_numpy_model(kind, start, data):
    ndim = len(start)
    chunks = data.draw(st.lists(st.integers(1, 4), min_size=ndim, max_size=ndim))
    fill = -7
    store = zarrlib.MemoryStore()
    metadata = _layout(kind, start, chunks, fill)
    zarrlib.create_new_array(metadata, store, "a")
    model = np.arange(1, int(np.prod(start)) + 1, dtype="int32").reshape(start)
    zarrlib.write_region(metadata, store, "a", ..., model)
    for _ in range(data.draw(st.integers(1, 4))):
        if data.draw(st.booleans()):
            shape = data.draw(st.lists(st.integers(0, 9), min_size=ndim, max_size=ndim))
            metadata = zarrlib.resize_array(metadata, store, "a", shape)
            model = _resized_model(model, shape, fill)
        else:
            axis = data.draw(st.integers(0, ndim - 1))
            extra = list(model.shape)
            extra[axis] = data.draw(st.integers(0, 5))
            value = np.random.default_rng(len(extra)).integers(-100, 100, extra, dtype="int32")
            metadata = zarrlib.append(metadata, store, "a", value, axis=axis)
            model = np.concatenate([model, value], axis=axis)
        assert metadata["shape"] == list(model.shape)
        assert zarrlib.read_metadata(store, "a")["shape"] == list(model.shape)
        np.testing.assert_array_equal(zarrlib.read_region(metadata, store, "a", ...), model)


@pytest.mark.parametrize("kind", ["v3", "v2", "sharded"])
def test_resize_and_append_match_the_reference_backend(kind, tmp_path):
    """zarr-python's resize (with the edge clearing the API promises) and append, on the same
    steps: the stored arrays read equal through both backends."""
    results = []
    for backend in ("native", "reference"):
        path = tmp_path / backend
        metadata = _layout(kind, [7, 5], [3, 2], -1)
        zarrlib.create_new_array(metadata, path, "a", backend=backend)
        zarrlib.write_region(metadata, path, "a", ..., np.arange(35, dtype="int32").reshape(7, 5), backend=backend)
        for step in ([4, 3], [8, 6], "append0", [10, 2], "append1"):
            if step == "append0":
                metadata = zarrlib.append(metadata, path, "a", np.full((2, 6), 9, "int32"), backend=backend)
            elif step == "append1":
                metadata = zarrlib.append(metadata, path, "a", np.full(10, 5, "int32"), axis=1, backend=backend)
            else:
                metadata = zarrlib.resize_array(metadata, path, "a", step, backend=backend)
        results.append((metadata["shape"], zarrlib.read_region(metadata, path, "a", ...)))
        # zarr-python reads what either wrote.
        np.testing.assert_array_equal(zarr.open_array(path, path="a", mode="r")[...], results[-1][1])
    assert results[0][0] == results[1][0] == [10, 3]
    np.testing.assert_array_equal(results[0][1], results[1][1])


def test_shrinking_erases_chunks_outside_and_clears_edges(tmp_path):
    store = zarrlib.open_store(tmp_path, metrics=True)
    metadata = v3_array((8, 8), (4, 4), "int32", fill_value=3)
    zarrlib.create_new_array(metadata, store, "a")
    zarrlib.write_region(metadata, store, "a", ..., np.ones((8, 8), "int32"))
    before = store.metrics()
    small = zarrlib.resize_array(metadata, store, "a", (2, 8))
    after = store.metrics()
    assert after["keys_erased"] - before["keys_erased"] == 2  # the chunk row 1, wholly outside
    chunks = sorted(str(p.relative_to(tmp_path / "a")) for p in (tmp_path / "a").rglob("*") if p.is_file())
    assert chunks == ["c/0/0", "c/0/1", "zarr.json"]
    grown = zarrlib.resize_array(small, store, "a", (8, 8))
    expected = np.full((8, 8), 3, "int32")
    expected[:2] = 1
    np.testing.assert_array_equal(zarrlib.read_region(grown, store, "a", ...), expected)


@pytest.mark.parametrize("zarr_format", [2, 3])
@pytest.mark.parametrize("store_kind", ["dir", "memory"])
def test_resizes_of_an_enormous_grid_visit_only_stored_chunks(zarr_format, store_kind, tmp_path):
    """A declared grid of 2^40 chunks (hostile metadata, or chunks of one element) resizes in
    the time its stored chunks take: the engine lists them instead of visiting every position."""
    store = zarrlib.open_store(tmp_path if store_kind == "dir" else "memory://", metrics=True)
    build = v2_array if zarr_format == 2 else v3_array
    metadata = build((2**40, 4), (1, 2), "uint16", fill_value=7)
    zarrlib.create_new_array(metadata, store, "a")
    zarrlib.write_region(metadata, store, "a", (slice(0, 3), slice(0, 4)), np.ones((3, 4), "uint16"))
    last = (slice(2**40 - 1, 2**40), slice(0, 4))
    zarrlib.write_region(metadata, store, "a", last, np.ones((1, 4), "uint16"))
    small = zarrlib.resize_array(metadata, store, "a", (2, 3))
    assert store.metrics()["keys_erased"] == 4  # the chunks of rows 2 and 2^40-1
    np.testing.assert_array_equal(zarrlib.read_region(small, store, "a", ...), np.ones((2, 3)))
    grown = zarrlib.resize_array(small, store, "a", (2**40, 4))
    expected = np.full((3, 4), 7, "uint16")
    expected[:2, :3] = 1
    np.testing.assert_array_equal(zarrlib.read_region(grown, store, "a", (slice(0, 3), slice(0, 4))), expected)
    np.testing.assert_array_equal(zarrlib.read_region(grown, store, "a", last), np.full((1, 4), 7))


def test_growing_clears_what_another_writer_left_beyond_the_shape(tmp_path):
    """zarr-python's resize does not clear edge chunks: growing again with zarrlib shows the
    fill value, not the old data."""
    z = zarr.create_array(tmp_path, shape=(6,), chunks=(4,), dtype="int32", fill_value=0)
    z[:] = np.arange(1, 7)
    z.resize((2,))
    metadata = zarrlib.read_metadata(tmp_path, "")
    grown = zarrlib.resize_array(metadata, tmp_path, "", (6,))
    np.testing.assert_array_equal(zarrlib.read_region(grown, tmp_path, "", ...), [1, 2, 0, 0, 0, 0])


def test_the_array_object_resizes_and_appends(store):
    a = zarrlib.Array.create(store, "a", v3_array((4, 3), (2, 2), "float64", fill_value=0.5))
    a[...] = 1.0
    a.resize((2, 3))
    assert a.shape == (2, 3)
    assert a.append(np.full(3, 2.0)) == (3, 3)
    assert a.append(np.zeros((3, 1)), axis=-1) == (3, 4)
    expected = np.array([[1, 1, 1, 0], [1, 1, 1, 0], [2, 2, 2, 0]], "float64")
    np.testing.assert_array_equal(a[...], expected)
    assert zarrlib.Array.open(store, "a").shape == (3, 4)
    a.resize(5 if a.ndim == 1 else (5, 4))
    np.testing.assert_array_equal(a[3:], np.full((2, 4), 0.5))


def test_bad_resizes_and_appends_are_refused_without_change(store):
    metadata = v3_array((4, 3), (2, 2), "int32")
    zarrlib.create_new_array(metadata, store, "a")
    with pytest.raises(ValueError, match="dimensions"):
        zarrlib.resize_array(metadata, store, "a", (4,))
    with pytest.raises(ValueError, match="outside"):
        zarrlib.resize_array(metadata, store, "a", (-1, 3))
    with pytest.raises(ValueError, match="cannot append"):
        zarrlib.append(metadata, store, "a", np.zeros((2, 2)))
    with pytest.raises(IndexError):
        zarrlib.append(metadata, store, "a", np.zeros((2, 3)), axis=2)
    assert zarrlib.read_metadata(store, "a")["shape"] == [4, 3]
    irregular = dict(metadata, chunk_grid={"name": "rectilinear", "configuration": {}})
    with pytest.raises(zarrlib.ZarrlibError):
        zarrlib.resize_array(irregular, store, "a", (5, 3))


def test_resizing_a_read_only_store_is_refused(tmp_path):
    metadata = v3_array((4,), (2,), "int32")
    zarrlib.create_new_array(metadata, tmp_path, "a")
    store = zarrlib.open_store(tmp_path, read_only=True)
    with pytest.raises(zarrlib.ReadOnlyError):
        zarrlib.resize_array(metadata, store, "a", (8,))
    with pytest.raises(zarrlib.ReadOnlyError):
        zarrlib.update_attributes(store, "a", {"x": 1})


# --- attributes ---------------------------------------------------------------------------


@pytest.mark.parametrize("zarr_format", [2, 3])
def test_attributes_change_without_touching_data(zarr_format, tmp_path):
    make = v2_array if zarr_format == 2 else v3_array
    metadata = make((4,), (2,), attributes={"a": 1, "b": {"c": 2}})
    zarrlib.create_new_array(metadata, tmp_path, "x")
    zarrlib.write_region(metadata, tmp_path, "x", ..., np.arange(4))
    chunk_files = sorted(
        p for p in (tmp_path / "x").rglob("*") if p.is_file() and not p.name.startswith((".z", "zarr"))
    )
    stamps = [p.stat().st_mtime_ns for p in chunk_files]
    array_doc = (tmp_path / "x" / ".zarray").read_bytes() if zarr_format == 2 else None

    new = zarrlib.update_attributes(tmp_path, "x", {"b": [3], "d": None})
    assert new["attributes"] == {"a": 1, "b": [3], "d": None}
    assert zarrlib.read_metadata(tmp_path, "x")["attributes"] == new["attributes"]
    assert zarrlib.update_attributes(tmp_path, "x", {"only": 1}, replace=True)["attributes"] == {"only": 1}
    assert [p.stat().st_mtime_ns for p in chunk_files] == stamps
    if array_doc is not None:
        assert (tmp_path / "x" / ".zarray").read_bytes() == array_doc
    assert dict(zarr.open_array(tmp_path, path="x", mode="r").attrs) == {"only": 1}
    np.testing.assert_array_equal(zarrlib.read_region(metadata, tmp_path, "x", ...), np.arange(4))


# Python keeps integers whole and zarr-python stores them so; none of these is a double.
WIDE = {
    "big": 2**70 + 1,
    "negative": -(2**70) - 3,
    "u64_plus_one": 2**64,
    "max_u64": 2**64 - 1,
    "nested": {"list": [1, 10**30 + 7, {"deep": -(2**80) - 1}], "s": "1180591620717411303425"},
    "float": 1.5,
}


def _exactly(value, expected):
    """Equal, with every integer an int (2**70 + 1 == float(2**70 + 1) is False, but be plain)."""
    assert value == expected
    assert json.dumps(value, sort_keys=True) == json.dumps(expected, sort_keys=True)


@pytest.mark.parametrize("zarr_format", [2, 3])
@pytest.mark.filterwarnings("ignore::UserWarning")
def test_attributes_beyond_64_bits_read_exactly_on_every_route(zarr_format, tmp_path):
    root = zarr.open_group(tmp_path, mode="w", zarr_format=zarr_format, attributes=WIDE)
    root.create_array("a", shape=(2,), dtype="i4", attributes=dict(WIDE, own=2**99 + 1))
    root.create_group("g", attributes={"g": -(2**65)})
    a_attrs = dict(WIDE, own=2**99 + 1)

    _attributes_on_every_route(tmp_path, zarr_format, WIDE, a_attrs, {"g": -(2**65)}, _exactly)
    # The document handed back opens the array (the caller's document keeps them exact too).
    metadata = zarrlib.read_metadata(tmp_path, "a")
    assert zarrlib.read_region(metadata, tmp_path, "a", ...).shape == (2,)


def _attributes_on_every_route(tmp_path, zarr_format, root_attrs, a_attrs, g_attrs, same):
    """The attributes of the group at the root, its array "a" and its group "g" (written by
    zarr-python) read as ``same`` as expected through every route a host has: functional,
    objects, aio, the reference backend, pickling, and consolidated metadata as zarr-python writes
    it and as zarrlib does (answered without listing, and read back by zarr-python)."""
    same(zarrlib.read_metadata(tmp_path, "")["attributes"], root_attrs)
    same(zarrlib.read_metadata(tmp_path, "a")["attributes"], a_attrs)
    same(zarrlib.Group.open(tmp_path, "").attrs.asdict(), root_attrs)
    same(zarrlib.Array.open(tmp_path, "a").attrs.asdict(), a_attrs)
    same(zarrlib.open(tmp_path, "a").attrs.asdict(), a_attrs)
    same(dict(zarrlib.list_children(tmp_path, ""))["a"]["attributes"], a_attrs)
    same(asyncio.run(zarrlib.aio.read_metadata(tmp_path, "a"))["attributes"], a_attrs)
    same(zarrlib.read_metadata(tmp_path, "a", backend="reference")["attributes"], a_attrs)
    same(pickle.loads(pickle.dumps(zarrlib.Array.open(tmp_path, "a"))).attrs.asdict(), a_attrs)
    same(pickle.loads(pickle.dumps(zarrlib.Group.open(tmp_path, ""))).attrs.asdict(), root_attrs)

    for consolidate in (
        lambda: zarr.consolidate_metadata(tmp_path, zarr_format=zarr_format),
        lambda: zarrlib.consolidate_metadata(tmp_path, ""),
    ):
        consolidate()
        store = zarrlib.open_store(tmp_path, metrics=True)
        children = dict(zarrlib.list_children(store, "", use_consolidated=True))
        assert store.metrics()["lists"] == 0
        same(children["a"]["attributes"], a_attrs)
        same(children["g"]["attributes"], g_attrs)
        same(zarrlib.read_metadata(store, "a", use_consolidated=True)["attributes"], a_attrs)
        opened = zarr.open_group(tmp_path, mode="r", use_consolidated=True)
        same(dict(opened.attrs), root_attrs)
        same(dict(opened["a"].attrs), a_attrs)


@pytest.mark.parametrize("zarr_format", [2, 3])
def test_attribute_updates_keep_integers_beyond_64_bits(zarr_format, tmp_path):
    zarr.open_group(tmp_path, mode="w", zarr_format=zarr_format).create_array(
        "a", shape=(2,), dtype="i4", attributes={"n": 2**70 + 1, "keep": 1}
    )
    new = zarrlib.update_attributes(tmp_path, "a", {"x": -(2**71) - 1, "keep": [2**66]})
    expected = {"n": 2**70 + 1, "keep": [2**66], "x": -(2**71) - 1}
    _exactly(new["attributes"], expected)
    _exactly(dict(zarr.open_array(tmp_path, path="a", mode="r").attrs), expected)
    group = zarrlib.Group.create(tmp_path, "g", attributes={"m": 10**25 + 1})
    group.attrs["o"] = 10**26 + 1
    del group.attrs["m"]
    _exactly(dict(zarr.open_group(tmp_path, path="g", mode="r").attrs), {"o": 10**26 + 1})
    replaced = zarrlib.update_attributes(tmp_path, "a", {"only": 2**64}, replace=True)
    _exactly(replaced["attributes"], {"only": 2**64})
    _exactly(dict(zarr.open_array(tmp_path, path="a", mode="r").attrs), {"only": 2**64})
    # Beyond the attributes, such a number is still refused (zarrs reads it rounded).
    with pytest.raises(zarrlib.UnsupportedError, match="18446744073709551616"):
        zarrlib.create_new_array(dict(v3_array((2,), (2,)), fill_value=2**64), tmp_path, "b")


# Python's json (and so zarr-python, and xarray through it) writes non-finite floats as the bare
# tokens NaN, Infinity and -Infinity: not JSON, but what real datasets hold (`_FillValue`,
# `valid_min`...).
NON_FINITE = {
    "nan": math.nan,
    "inf": math.inf,
    "ninf": -math.inf,
    "_FillValue": math.nan,
    "valid_range": [-math.inf, math.inf],
    "nested": {"list": [1.5, math.nan, {"deep": -math.inf}], "s": "NaN", "t": "-Infinity", "n": None},
}


def _same(value, expected):
    """Equal as JSON text, with Python's tokens for the non-finite floats (NaN equals nothing)."""
    assert json.dumps(value, sort_keys=True) == json.dumps(expected, sort_keys=True)


@pytest.mark.parametrize("zarr_format", [2, 3])
@pytest.mark.filterwarnings("ignore::UserWarning")
def test_non_finite_attributes_read_as_zarr_python_writes_them(zarr_format, tmp_path):
    root = zarr.open_group(tmp_path, mode="w", zarr_format=zarr_format, attributes=NON_FINITE)
    a_attrs = dict(NON_FINITE, own=[math.inf])
    root.create_array("a", shape=(3,), dtype="f4", fill_value=np.nan, attributes=a_attrs)
    root.create_group("g", attributes={"g": -math.inf})
    # What zarr-python stored: the bare tokens, not JSON.
    stored = (tmp_path / ("zarr.json" if zarr_format == 3 else ".zattrs")).read_text()
    assert '"nan": NaN' in stored and "-Infinity" in stored

    _attributes_on_every_route(tmp_path, zarr_format, NON_FINITE, a_attrs, {"g": -math.inf}, _same)
    assert math.isnan(zarrlib.read_metadata(tmp_path, "a")["attributes"]["nan"])
    # The document handed back opens the array; the array's fill value (quoted "NaN") is intact.
    metadata = zarrlib.read_metadata(tmp_path, "a")
    assert np.isnan(zarrlib.read_region(metadata, tmp_path, "a", ...)).all()
    assert np.isnan(zarrlib.Array.open(tmp_path, "a")[...]).all()


@pytest.mark.parametrize("zarr_format", [2, 3])
def test_non_finite_attribute_updates_write_what_zarr_python_writes(zarr_format, tmp_path):
    for backend in ("native", "reference"):
        path = tmp_path / backend
        zarr.open_group(path, mode="w", zarr_format=zarr_format).create_array(
            "a", shape=(2,), dtype="i4", attributes={"n": math.nan, "keep": 1}
        )
        new = zarrlib.update_attributes(path, "a", {"x": -math.inf, "keep": [math.inf, 2.5]}, backend=backend)
        expected = {"n": math.nan, "keep": [math.inf, 2.5], "x": -math.inf}
        _same(new["attributes"], expected)
        _same(dict(zarr.open_array(path, path="a", mode="r").attrs), expected)
        replaced = zarrlib.update_attributes(path, "a", {"only": {"v": math.nan}}, replace=True, backend=backend)
        _same(replaced["attributes"], {"only": {"v": math.nan}})
        _same(dict(zarr.open_array(path, path="a", mode="r").attrs), {"only": {"v": math.nan}})
    # Both backends stored the same document (zarr-python's json layout, tokens bare).
    name = "zarr.json" if zarr_format == 3 else ".zattrs"
    native, reference = ((tmp_path / b / "a" / name).read_text() for b in ("native", "reference"))
    _same(json.loads(native), json.loads(reference))
    assert '"v": NaN' in native

    group = zarrlib.Group.create(tmp_path, "g", zarr_format=zarr_format, attributes={"m": math.inf})
    group.attrs["o"] = -math.inf
    group.attrs.update(p=[math.nan])
    del group.attrs["m"]
    _same(dict(group.attrs), {"o": -math.inf, "p": [math.nan]})
    _same(dict(zarr.open_group(tmp_path, path="g", mode="r").attrs), {"o": -math.inf, "p": [math.nan]})
    array = zarrlib.Array.open(tmp_path / "native", "a")
    array.attrs["valid_min"] = -math.inf
    _same(
        zarrlib.Array.open(tmp_path / "native", "a").attrs.asdict(), {"only": {"v": math.nan}, "valid_min": -math.inf}
    )
    _same(
        asyncio.run(zarrlib.aio.update_attributes(tmp_path / "native", "a", {"w": math.nan}))["attributes"],
        {"only": {"v": math.nan}, "valid_min": -math.inf, "w": math.nan},
    )


@pytest.mark.parametrize("zarr_format", [2, 3])
def test_non_finite_tokens_outside_attributes_are_refused_by_name(zarr_format, tmp_path):
    # A caller's document: a float fill value is named in quotes ("NaN"); bare, it is refused.
    make = v2_array if zarr_format == 2 else v3_array
    metadata = dict(make((2,), (2,), "<f4" if zarr_format == 2 else "float32"), fill_value=math.nan)
    with pytest.raises(zarrlib.InvalidMetadataError, match=r'NaN in "fill_value"'):
        zarrlib.create_new_array(metadata, tmp_path, "b")
    # A stored document: the node does not open, and the message says where the token is.
    zarrlib.create_new_array(dict(metadata, fill_value="NaN"), tmp_path, "c")
    name = "zarr.json" if zarr_format == 3 else ".zarray"
    document = json.loads((tmp_path / "c" / name).read_text())
    document["fill_value"] = -math.inf
    (tmp_path / "c" / name).write_text(json.dumps(document))
    with pytest.raises(zarrlib.InvalidMetadataError, match=rf'c/{name} holds the bare token -Infinity in "fill_value"'):
        zarrlib.read_metadata(tmp_path, "c")
    with pytest.raises(zarrlib.InvalidMetadataError, match="-Infinity"):
        zarrlib.Array.open(tmp_path, "c")


@pytest.mark.parametrize("zarr_format", [2, 3])
def test_attribute_updates_match_the_reference_backend(zarr_format, tmp_path):
    for backend in ("native", "reference"):
        path = tmp_path / backend
        group = {"zarr_format": 3, "node_type": "group"} if zarr_format == 3 else {"zarr_format": 2}
        zarrlib.create_new_group(dict(group, attributes={"k": 0, "keep": "yes"}), path, "g", backend=backend)
        zarrlib.update_attributes(path, "g", {"k": 1, "new": [1, 2]}, backend=backend)
        zarrlib.update_attributes(path, "g", {"k": 2}, backend=backend)
        assert zarrlib.read_metadata(path, "g")["attributes"] == {"k": 2, "keep": "yes", "new": [1, 2]}
        zarrlib.update_attributes(path, "g", {"z": True}, replace=True, backend=backend)
        assert zarrlib.read_metadata(path, "g")["attributes"] == {"z": True}


def test_attrs_are_a_mapping_that_writes_through(store):
    root = zarrlib.Group.create(store, "", attributes={"title": "t"})
    root.attrs["n"] = 1
    root.attrs.update({"m": [1, 2]}, o="x")
    del root.attrs["title"]
    assert root.attrs == {"n": 1, "m": [1, 2], "o": "x"}
    assert zarrlib.Group.open(store, "").attrs == {"n": 1, "m": [1, 2], "o": "x"}
    a = root.create_array("a", v3_array((2,), (2,)))
    a.attrs["units"] = "m"
    a.update_attributes({"scale": 2})
    assert zarrlib.Array.open(store, "a").attrs.asdict() == {"units": "m", "scale": 2}
    a.attrs.put({})
    assert len(zarrlib.Array.open(store, "a").attrs) == 0
    with pytest.raises(KeyError):
        del a.attrs["missing"]
    with pytest.raises(TypeError, match="JSON"):
        a.attrs["bad"] = object()
    with pytest.raises(zarrlib.NodeNotFoundError):
        zarrlib.update_attributes(store, "nothing", {})
    with pytest.raises(TypeError, match="mapping"):
        zarrlib.update_attributes(store, "a", [("x", 1)])


# --- consolidated metadata ----------------------------------------------------------------


def _hierarchy(path, zarr_format):
    root = zarr.open_group(path, mode="w", zarr_format=zarr_format)
    root.attrs["title"] = "root"
    sub = root.create_group("sub")
    sub.create_array("x", shape=(4,), chunks=(2,), dtype="int16")
    sub.create_group("deeper").create_array("y", shape=(2, 2), dtype="float32")
    root.create_array("z", shape=(3,), dtype="uint8")
    return root


@pytest.mark.parametrize("zarr_format", [2, 3])
@pytest.mark.filterwarnings("ignore::UserWarning")
def test_consolidated_metadata_written_by_zarr_python_answers_without_listing(zarr_format, tmp_path):
    _hierarchy(tmp_path, zarr_format)
    zarr.consolidate_metadata(tmp_path, zarr_format=zarr_format)
    store = zarrlib.open_store(tmp_path, metrics=True)
    expected = {
        "": ["sub", "z"],
        "sub": ["sub/deeper", "sub/x"],
        "sub/deeper": ["sub/deeper/y"],
        "sub/x": [],
    }
    for node, children in expected.items():
        before = store.metrics()
        listed = zarrlib.list_children(store, node)
        assert store.metrics()["lists"] == before["lists"], node
        assert [p for p, _ in listed] == children
        assert [p for p, _ in zarrlib.list_children(store, node, use_consolidated=False)] == children
        assert zarrlib.list_children(store, node, use_consolidated=True) == listed
    # Only the use_consolidated=False calls on groups listed.
    assert store.metrics()["lists"] == 3
    x = zarrlib.read_metadata(store, "sub/x", use_consolidated=True)
    assert x["shape"] == [4]
    group = zarrlib.Group.open(store, "")
    assert "sub/\n" in group.tree() + "\n"


@pytest.mark.parametrize("zarr_format", [2, 3])
@pytest.mark.filterwarnings("ignore::UserWarning")
def test_zarr_python_reads_the_consolidated_metadata_zarrlib_writes(zarr_format, tmp_path):
    _hierarchy(tmp_path, zarr_format)
    zarrlib.consolidate_metadata(tmp_path, "")
    # Remove what a listing would find, so that only consolidated metadata can answer.
    key = "zarr.json" if zarr_format == 3 else ".zgroup"
    (tmp_path / "sub" / "deeper" / key).unlink()
    root = zarr.open_group(tmp_path, mode="r", use_consolidated=True)
    assert sorted(root.keys()) == ["sub", "z"]
    assert sorted(root["sub"].keys()) == ["deeper", "x"]
    assert root["sub/x"].shape == (4,)
    assert root.attrs["title"] == "root"
    assert [p for p, _ in zarrlib.list_children(tmp_path, "sub")] == ["sub/deeper", "sub/x"]
    ref = zarrlib.list_children(tmp_path, "sub", backend="reference")
    assert [p for p, _ in ref] == ["sub/deeper", "sub/x"]


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_consolidated_metadata_is_a_snapshot_and_can_be_required(tmp_path):
    root = zarrlib.Group.create(tmp_path, "")
    root.create_group("a")
    with pytest.raises(zarrlib.NodeNotFoundError, match="consolidated"):
        zarrlib.list_children(tmp_path, "", use_consolidated=True)
    root.consolidate_metadata()
    assert "consolidated_metadata" in root.metadata
    root.create_group("b")
    assert [p for p, _ in zarrlib.list_children(tmp_path, "")] == ["a"]
    assert [p for p, _ in zarrlib.list_children(tmp_path, "", use_consolidated=False)] == ["a", "b"]
    zarrlib.consolidate_metadata(tmp_path)
    assert [p for p, _ in zarrlib.list_children(tmp_path, "")] == ["a", "b"]
    with pytest.raises(zarrlib.NodeNotFoundError):
        zarrlib.read_metadata(tmp_path, "c", use_consolidated=True)
    with pytest.raises(zarrlib.NodeKindError):
        zarrlib.Array.create(tmp_path, "arr", v3_array((1,), (1,)))
        zarrlib.consolidate_metadata(tmp_path, "arr")
    with pytest.raises(TypeError):
        zarrlib.list_children(tmp_path, "", use_consolidated="yes")


def test_corrupt_consolidated_metadata_is_invalid_metadata(tmp_path):
    zarrlib.Group.create(tmp_path, "", zarr_format=2)
    (tmp_path / ".zmetadata").write_text(json.dumps({"zarr_consolidated_format": 1, "metadata": []}))
    with pytest.raises(zarrlib.InvalidMetadataError, match="zmetadata"):
        zarrlib.list_children(tmp_path, "")
    doc = {"zarr_format": 3, "node_type": "group", "consolidated_metadata": {"kind": "other"}}
    (tmp_path / ".zmetadata").unlink()
    (tmp_path / ".zgroup").unlink()
    (tmp_path / ".zattrs").unlink()
    (tmp_path / "zarr.json").write_text(json.dumps(doc))
    with pytest.raises(zarrlib.InvalidMetadataError, match="inline"):
        zarrlib.list_children(tmp_path, "")


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_consolidated_metadata_makes_listing_work_over_http(http_server, tmp_path):
    _hierarchy(http_server.root / "h.zarr", 3)
    zarr.consolidate_metadata(http_server.root / "h.zarr")
    store = zarrlib.open_store(f"{http_server.url}/h.zarr")
    assert [p for p, _ in zarrlib.list_children(store, "sub")] == ["sub/deeper", "sub/x"]
    with pytest.raises(zarrlib.UnsupportedError):
        zarrlib.list_children(store, "sub", use_consolidated=False)


@pytest.mark.parametrize("zarr_format", [2, 3])
def test_string_arrays_resize_and_append(zarr_format, tmp_path):
    z = zarr.create_array(tmp_path, shape=(5,), chunks=(2,), dtype=str, zarr_format=zarr_format, fill_value="")
    z[:] = ["a", "bb", "", "dddd", "é"]
    a = zarrlib.open_array(tmp_path)
    a.resize((3,))
    a.resize((6,))
    assert a[...].tolist() == ["a", "bb", "", "", "", ""]
    a.append(np.array(["x", "yz"], dtype=object))
    assert a[...].tolist() == ["a", "bb", "", "", "", "", "x", "yz"]
    assert zarr.open_array(tmp_path, mode="r")[...].tolist() == a[...].tolist()
