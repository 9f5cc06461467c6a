"""The functional API's contract (DESIGN section 3): nodes, chunks and their semantics."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

import zarrlib
from layouts import DTYPES, v2_array, v3_array, v3_sharded

GROUP_V3 = {"zarr_format": 3, "node_type": "group", "attributes": {"a": 1}}
GROUP_V2 = {"zarr_format": 2, "attributes": {"b": [1, 2]}}


# --- nodes --------------------------------------------------------------------------------


@pytest.mark.parametrize("group", [GROUP_V3, GROUP_V2], ids=["v3", "v2"])
def test_groups_round_trip_their_metadata(store, group):
    zarrlib.create_new_group(group, store, "")
    zarrlib.create_new_group(group, store, "g")
    assert zarrlib.read_metadata(store, "") == group
    assert zarrlib.read_metadata(store, "g") == group
    assert zarrlib.read_metadata(store, "/g/") == group


def test_metadata_may_be_given_as_json_text(store):
    zarrlib.create_new_group(json.dumps(GROUP_V3), store, "g")
    metadata = v3_array([4], [2])
    zarrlib.create_new_array(json.dumps(metadata), store, "a")
    assert zarrlib.read_metadata(store, "a") == metadata
    zarrlib.write_region(json.dumps(metadata), store, "a", ..., [1, 2, 3, 4])
    assert zarrlib.read_region(metadata, store, "a", ...).tolist() == [1, 2, 3, 4]


def test_create_new_refuses_any_existing_node(store):
    zarrlib.create_new_group(GROUP_V3, store, "g")
    zarrlib.create_new_array(v3_array([4], [2]), store, "a")
    for path in ("g", "a"):
        with pytest.raises(zarrlib.NodeExistsError):
            zarrlib.create_new_group(GROUP_V3, store, path)
        with pytest.raises(zarrlib.NodeExistsError):
            zarrlib.create_new_array(v3_array([4], [2]), store, path)


def test_create_overwrite_replaces_the_node_and_everything_under_it(store):
    zarrlib.create_new_group(GROUP_V3, store, "g")
    zarrlib.create_new_group(GROUP_V3, store, "g/sub")
    metadata = v3_array([4], [2])
    zarrlib.create_new_array(metadata, store, "g/sub/a")
    zarrlib.write_region(metadata, store, "g/sub/a", ..., [1, 2, 3, 4])

    zarrlib.create_overwrite_array(metadata, store, "g")
    assert zarrlib.read_metadata(store, "g") == metadata
    assert zarrlib.read_region(metadata, store, "g", ...).tolist() == [0, 0, 0, 0]
    with pytest.raises(zarrlib.NodeNotFoundError):
        zarrlib.read_metadata(store, "g/sub")
    zarrlib.create_overwrite_group(GROUP_V2, store, "g")
    assert zarrlib.read_metadata(store, "g") == GROUP_V2
    assert zarrlib.list_children(store, "g") == []


def test_missing_nodes_raise_node_not_found(store):
    for call in (
        lambda: zarrlib.read_metadata(store, "nope"),
        lambda: zarrlib.delete_node(store, "nope"),
        lambda: zarrlib.list_children(store, "nope"),
        lambda: zarrlib.list_children(store, ""),
    ):
        with pytest.raises(zarrlib.NodeNotFoundError) as caught:
            call()
        assert isinstance(caught.value, KeyError)
        assert "nope" in str(caught.value) or '""' in str(caught.value) or "''" in str(caught.value)


def test_delete_node_removes_the_subtree(store):
    zarrlib.create_new_group(GROUP_V3, store, "")
    zarrlib.create_new_group(GROUP_V3, store, "g")
    metadata = v3_array([4], [2])
    zarrlib.create_new_array(metadata, store, "g/a")
    zarrlib.write_chunk(metadata, store, "g/a", (0,), [5, 6])
    zarrlib.delete_node(store, "g")
    assert zarrlib.list_children(store, "") == []
    with pytest.raises(zarrlib.NodeNotFoundError):
        zarrlib.read_metadata(store, "g/a")
    assert zarrlib.read_encoded_chunk(metadata, store, "g/a", (0,)) is None


def test_list_children_gives_store_relative_paths_at_every_depth(store):
    array = v3_array([4], [2])
    zarrlib.create_new_group(GROUP_V3, store, "")
    zarrlib.create_new_group(GROUP_V3, store, "b")
    zarrlib.create_new_array(array, store, "a")
    zarrlib.create_new_group(GROUP_V2, store, "b/c")
    zarrlib.create_new_array(v2_array([3], [3]), store, "b/c/d")
    assert zarrlib.list_children(store, "") == [("a", array), ("b", GROUP_V3)]
    assert zarrlib.list_children(store, "b") == [("b/c", GROUP_V2)]
    assert zarrlib.list_children(store, "/b/c") == [("b/c/d", v2_array([3], [3]))]
    assert zarrlib.list_children(store, "a") == []


def test_nodes_cannot_be_created_inside_an_array(store):
    zarrlib.create_new_array(v3_array([4], [2]), store, "a")
    with pytest.raises(zarrlib.NodeKindError):
        zarrlib.create_new_group(GROUP_V3, store, "a/g")


@pytest.mark.parametrize("path", ["a/../b", "a//b", "./a"])
def test_malformed_paths_are_invalid_arguments(store, path):
    with pytest.raises(zarrlib.InvalidArgumentError):
        zarrlib.create_new_group(GROUP_V3, store, path)


@pytest.mark.parametrize(
    "metadata, error",
    [
        ({"zarr_format": 3, "node_type": "array"}, zarrlib.InvalidMetadataError),
        ({"node_type": "array"}, zarrlib.InvalidMetadataError),
        ({"zarr_format": 4, "node_type": "array"}, zarrlib.UnsupportedError),
        ({**v3_array([4], [2]), "codecs": [{"name": "no-such-codec"}]}, zarrlib.UnsupportedError),
        (["not", "a", "dict"], TypeError),
    ],
)
def test_bad_array_metadata_is_refused_and_nothing_is_written(store, metadata, error):
    with pytest.raises(error):
        zarrlib.create_new_array(metadata, store, "a")
    with pytest.raises(zarrlib.NodeNotFoundError):
        zarrlib.read_metadata(store, "a")


# --- chunks -------------------------------------------------------------------------------

LAYOUTS = {
    "v3-zstd": v3_array([10, 7], [4, 3], "int32", fill_value=-1),
    "v3-gzip": v3_array([10, 7], [4, 3], "int32", fill_value=-1, compressor="gzip"),
    "v3-sharded": v3_sharded([10, 7], [4, 3], [2, 3], "int32", fill_value=-1),
    "v2-blosc": v2_array([10, 7], [4, 3], "<i4", fill_value=-1),
    "v2-F-slash": v2_array([10, 7], [4, 3], ">i4", fill_value=-1, order="F", separator="/", compressor="zlib"),
}


@pytest.fixture(params=sorted(LAYOUTS))
def layout(request):
    return LAYOUTS[request.param]


def test_chunks_round_trip_and_edge_chunks_have_full_shape(store, layout):
    zarrlib.create_new_array(layout, store, "a")
    chunks = tuple(layout.get("chunks") or layout["chunk_grid"]["configuration"]["chunk_shape"])
    data = np.arange(np.prod(chunks), dtype=np.int32).reshape(chunks)
    zarrlib.write_chunk(layout, store, "a", (2, 2), data)
    got = zarrlib.read_chunk(layout, store, "a", (2, 2))
    assert got.dtype == np.dtype("int32") and got.dtype.isnative
    np.testing.assert_array_equal(got, data)
    # Only the in-bounds part of the edge chunk is array data.
    whole = zarrlib.read_region(layout, store, "a", ...)
    np.testing.assert_array_equal(whole[8:, 6:], data[:2, :1])
    assert (whole[:8] == -1).all()


def test_missing_chunks_read_as_the_fill_value(store, layout):
    zarrlib.create_new_array(layout, store, "a")
    chunk = zarrlib.read_chunk(layout, store, "a", (1, 1))
    assert (chunk == -1).all()
    assert zarrlib.read_encoded_chunk(layout, store, "a", (1, 1)) is None


def test_write_chunk_takes_exactly_the_chunk_shape(store):
    metadata = v3_array([10, 7], [4, 3])
    zarrlib.create_new_array(metadata, store, "a")
    for wrong in (np.zeros((4, 2)), np.zeros((3, 3)), np.zeros(12), 5):
        with pytest.raises(ValueError):
            zarrlib.write_chunk(metadata, store, "a", (0, 0), wrong)
    # The right shape in another dtype is cast, as numpy assignment casts.
    zarrlib.write_chunk(metadata, store, "a", (0, 0), np.full((4, 3), 7.0))
    assert (zarrlib.read_chunk(metadata, store, "a", (0, 0)) == 7).all()


def test_a_chunk_of_fill_value_is_erased_not_stored(store):
    metadata = v3_array([8], [4], fill_value=3)
    zarrlib.create_new_array(metadata, store, "a")
    zarrlib.write_chunk(metadata, store, "a", (0,), [1, 2, 3, 4])
    assert zarrlib.read_encoded_chunk(metadata, store, "a", (0,)) is not None
    zarrlib.write_chunk(metadata, store, "a", (0,), [3, 3, 3, 3])
    assert zarrlib.read_encoded_chunk(metadata, store, "a", (0,)) is None
    assert zarrlib.read_chunk(metadata, store, "a", (0,)).tolist() == [3, 3, 3, 3]


def test_delete_chunk_makes_it_read_as_fill(store, layout):
    zarrlib.create_new_array(layout, store, "a")
    zarrlib.write_region(layout, store, "a", ..., 5)
    zarrlib.delete_chunk(layout, store, "a", (0, 0))
    assert zarrlib.read_encoded_chunk(layout, store, "a", (0, 0)) is None
    assert (zarrlib.read_chunk(layout, store, "a", (0, 0)) == -1).all()
    assert (zarrlib.read_chunk(layout, store, "a", (0, 1)) == 5).all()


def test_encoded_chunks_are_the_stored_bytes(tmp_path):
    store = zarrlib.open_store(tmp_path)
    metadata = v3_array([8], [4], compressor=None)
    zarrlib.create_new_array(metadata, store, "a")
    zarrlib.write_chunk(metadata, store, "a", (1,), [1, 2, 3, 258])
    encoded = zarrlib.read_encoded_chunk(metadata, store, "a", (1,))
    assert encoded == np.array([1, 2, 3, 258], "<u2").tobytes()
    assert encoded == (tmp_path / "a" / "c" / "1").read_bytes()


@pytest.mark.parametrize(
    "call",
    [
        lambda m, s: zarrlib.read_chunk(m, s, "a", (3, 0)),
        lambda m, s: zarrlib.read_chunk(m, s, "a", (0, -1)),
        lambda m, s: zarrlib.read_encoded_chunk(m, s, "a", (0, 3)),
        lambda m, s: zarrlib.write_chunk(m, s, "a", (9, 9), np.zeros((4, 3), np.uint16)),
        lambda m, s: zarrlib.delete_chunk(m, s, "a", (3, 3)),
    ],
)
def test_chunks_outside_the_grid_are_out_of_bounds(store, call):
    metadata = v3_array([10, 7], [4, 3])
    zarrlib.create_new_array(metadata, store, "a")
    with pytest.raises(zarrlib.OutOfBoundsError):
        call(metadata, store)


def test_chunk_coordinates_must_match_the_dimensions(store):
    metadata = v3_array([10, 7], [4, 3])
    zarrlib.create_new_array(metadata, store, "a")
    with pytest.raises(zarrlib.InvalidArgumentError):
        zarrlib.read_chunk(metadata, store, "a", (0,))
    with pytest.raises(TypeError):
        zarrlib.read_chunk(metadata, store, "a", (0, 0.5))


def test_read_chunk_fills_out(store):
    metadata = v3_array([10, 7], [4, 3])
    zarrlib.create_new_array(metadata, store, "a")
    zarrlib.write_chunk(metadata, store, "a", (1, 1), np.arange(12).reshape(4, 3))
    out = np.empty((4, 3), np.uint16)
    assert zarrlib.read_chunk(metadata, store, "a", (1, 1), out=out) is out
    np.testing.assert_array_equal(out, np.arange(12).reshape(4, 3))
    with pytest.raises(ValueError):
        zarrlib.read_chunk(metadata, store, "a", (1, 1), out=np.empty((4, 3), np.int16))


def test_the_callers_metadata_is_authoritative(store):
    stored = v3_array([8], [4], "uint16")
    zarrlib.create_new_array(stored, store, "a")
    zarrlib.write_region(stored, store, "a", ..., np.arange(8))
    # The same chunks read through another description: as bytes, they are the stored
    # little-endian bytes of the uint16 values...
    as_bytes = v3_array([16], [8], "uint8")
    got = zarrlib.read_region(as_bytes, store, "a", ...)
    np.testing.assert_array_equal(got, np.frombuffer(np.arange(8, dtype="<u2").tobytes(), np.uint8))
    # ...and a larger shape with another fill value reads the chunks beyond as that fill.
    refilled = v3_array([12], [4], "uint16", fill_value=9)
    assert zarrlib.read_region(refilled, store, "a", slice(6, 12)).tolist() == [6, 7, 9, 9, 9, 9]


# --- data types ---------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("fmt", [2, 3])
def test_every_fixed_size_type_maps_to_its_native_numpy_dtype(store, dtype, fmt):
    fill = {"b": False, "c": [0.0, 0.0]}.get(np.dtype(dtype).kind, 0)
    if fmt == 3:
        metadata = v3_array([6, 5], [4, 2], dtype, fill_value=fill)
    else:
        metadata = v2_array(
            [6, 5],
            [4, 2],
            np.dtype(dtype).newbyteorder(">" if np.dtype(dtype).itemsize > 1 else "|"),
            fill_value=fill,
            compressor="zlib",
        )
    zarrlib.create_new_array(metadata, store, "a")
    rng = np.random.default_rng(1)
    data = (rng.random((6, 5)) * 100).astype(dtype)
    if np.dtype(dtype).kind == "c":
        data = data + 1j * data[::-1]
    zarrlib.write_region(metadata, store, "a", ..., data)
    got = zarrlib.read_region(metadata, store, "a", ...)
    assert got.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(got, data)
    assert zarrlib.Array.open(store, "a").dtype == np.dtype(dtype)


ML_DTYPES = [
    ("bfloat16", [1.5, -2.0, 0.0, 3.25]),
    ("float8_e4m3", [1.5, -2.0, 0.0, 3.25]),
    ("float8_e5m2", [1.5, -2.0, 0.0, 3.0]),
    ("float4_e2m1fn", [1.5, -2.0, 0.0, 3.0]),
    ("int4", [-8, -1, 0, 7]),
    ("uint4", [0, 1, 9, 15]),
    ("int2", [-2, -1, 0, 1]),
]


@pytest.mark.parametrize(("data_type", "values"), ML_DTYPES, ids=[name for name, _ in ML_DTYPES])
def test_data_types_numpy_lacks_take_ml_dtypes(store, data_type, values):
    ml_dtypes = pytest.importorskip("ml_dtypes")
    dtype = np.dtype(getattr(ml_dtypes, data_type))
    metadata = v3_array([6], [4], "uint8")
    metadata["data_type"] = data_type
    metadata["fill_value"] = values[1]
    metadata["codecs"] = [{"name": "bytes", "configuration": {"endian": "little"}}]
    zarrlib.create_new_array(metadata, store, "a")
    data = np.array(values, dtype)
    zarrlib.write_region(metadata, store, "a", slice(0, 4), data)
    got = zarrlib.read_region(metadata, store, "a", ...)
    assert got.dtype == dtype
    np.testing.assert_array_equal(got.astype(np.float64), [*values, values[1], values[1]])
    assert zarrlib.Array.open(store, "a").fill_value == data[1]
    if data_type in ("int4", "int2"):
        # zarrs holds them sign-extended in a byte (what its packbits codec and other readers expect).
        chunk = zarrlib.read_encoded_chunk(metadata, store, "a", (0,))
        assert chunk is not None and np.frombuffer(chunk, np.int8).tolist() == values


def test_data_types_numpy_lacks_name_ml_dtypes_without_it(store, monkeypatch):
    monkeypatch.setitem(sys.modules, "ml_dtypes", None)
    metadata = v3_array([4], [2], "uint16")
    metadata["data_type"] = "bfloat16"
    zarrlib.create_new_array(metadata, store, "a")
    with pytest.raises(zarrlib.UnsupportedError, match="bfloat16.*ml_dtypes"):
        zarrlib.read_region(metadata, store, "a", ...)


# --- v2 specifics ---------------------------------------------------------------------------


def test_v2_attributes_live_in_zattrs(tmp_path):
    store = zarrlib.open_store(tmp_path)
    metadata = v2_array([4], [2], attributes={"units": "m"})
    zarrlib.create_new_array(metadata, store, "a")
    assert json.loads((tmp_path / "a" / ".zattrs").read_text()) == {"units": "m"}
    assert "attributes" not in json.loads((tmp_path / "a" / ".zarray").read_text())
    assert zarrlib.read_metadata(store, "a") == metadata


def test_v2_fortran_order_and_slash_separator_store_what_zarr_python_expects(tmp_path):
    store = zarrlib.open_store(tmp_path)
    metadata = v2_array([4, 6], [2, 3], "<u2", order="F", separator="/", compressor=None)
    zarrlib.create_new_array(metadata, store, "a")
    data = np.arange(24, dtype=np.uint16).reshape(4, 6)
    zarrlib.write_region(metadata, store, "a", ..., data)
    stored = np.frombuffer((tmp_path / "a" / "1" / "0").read_bytes(), "<u2").reshape((2, 3), order="F")
    np.testing.assert_array_equal(stored, data[2:4, 0:3])


@pytest.mark.parametrize("unit", ["ns", "s"])
@pytest.mark.parametrize("kind", ["datetime64", "timedelta64"])
def test_numpy_time_types_keep_their_unit(store, kind, unit):
    metadata = v3_array([4], [2], "int64")
    metadata["data_type"] = {"name": f"numpy.{kind}", "configuration": {"unit": unit, "scale_factor": 1}}
    zarrlib.create_new_array(metadata, store, "a")
    data = np.arange(4).astype(f"{kind}[{unit}]")
    zarrlib.write_region(metadata, store, "a", ..., data)
    got = zarrlib.read_region(metadata, store, "a", ...)
    assert got.dtype == np.dtype(f"{kind}[{unit}]")
    np.testing.assert_array_equal(got, data)


def test_raw_bits_read_as_numpy_void(store):
    metadata = v3_array([4], [2], "uint8")
    metadata.update(data_type="r16", fill_value=[0, 0])
    zarrlib.create_new_array(metadata, store, "a")
    data = np.frombuffer(b"abcdefgh", dtype="V2")
    zarrlib.write_region(metadata, store, "a", ..., data)
    assert zarrlib.read_region(metadata, store, "a", ...).tobytes() == b"abcdefgh"


def test_a_metadata_dict_mutated_between_calls_is_seen():
    """Calls remember the canonical form of a dict passed again; a change to it, even one only
    of type (0 to 0.0), is a new document."""
    store = zarrlib.MemoryStore()
    metadata = zarrlib.array_metadata((4,), "float64", chunks=(2,), fill_value=1.0)
    zarrlib.create_new_array(metadata, store, "a")
    np.testing.assert_array_equal(zarrlib.read_region(metadata, store, "a", ...), [1, 1, 1, 1])
    metadata["fill_value"] = 5.0  # the caller's document is authoritative: nothing stored changes
    np.testing.assert_array_equal(zarrlib.read_region(metadata, store, "a", ...), [5, 5, 5, 5])
    metadata["shape"][0] = 2
    assert zarrlib.read_region(metadata, store, "a", ...).shape == (2,)
    metadata["fill_value"] = 5  # equal to 5.0, but a different document
    before = len(zarrlib.native_backend.cached_arrays(store))
    zarrlib.read_region(metadata, store, "a", ...)
    assert len(zarrlib.native_backend.cached_arrays(store)) == before + 1
