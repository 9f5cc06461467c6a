"""The metadata builders: every document they make is accepted by the engine and by zarr-python
alike (same shape, dtype, chunks, shards, order, fill value, names), and bad arguments are named."""

from __future__ import annotations

import math

import numpy as np
import pytest
import zarr

import zarrlib

CASES = [
    dict(shape=(20, 30), dtype="float32", chunks=(8, 7)),
    dict(shape=(20, 30), dtype="int16", chunks=(4, 6), shards=(8, 12), fill_value=-3),
    dict(shape=(9,), dtype="complex64", chunks=(4,), fill_value=1 + 2j, compressors="gzip"),
    dict(shape=(6, 5), dtype="float64", chunks=(4, 2), order="F", fill_value=float("nan")),
    dict(shape=(7, 3), dtype="bool", chunks=(2, 2), compressors=None, dimension_names=["t", None]),
    dict(shape=(5, 5), dtype="uint8", chunks=(2, 5), compressors="blosc", attributes={"units": "K"}),
    dict(shape=(5, 5), dtype="<u4", zarr_format=2, chunks=(2, 3), order="F", fill_value=7),
    dict(shape=(5,), dtype="float16", zarr_format=2, compressors="zlib", fill_value=float("-inf")),
    dict(shape=(4, 4), dtype="int64", zarr_format=2, compressors=None),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"v{c.get('zarr_format', 3)}-{c['dtype']}")
def test_built_documents_work_in_both_engines(case, tmp_path):
    metadata = zarrlib.array_metadata(**case)
    a = zarrlib.create_array(tmp_path, "a", metadata)
    data = np.arange(math.prod(case["shape"])).reshape(case["shape"]).astype(case["dtype"])
    a[...] = data
    z = zarr.open_array(tmp_path, path="a", mode="r")
    np.testing.assert_array_equal(z[...], data)
    assert z.shape == tuple(case["shape"])
    assert z.dtype == np.dtype(case["dtype"])
    assert z.chunks == tuple(case["chunks"]) if "chunks" in case else True
    if "shards" in case:
        assert z.shards == tuple(case["shards"])
    if case.get("dimension_names"):
        assert z.metadata.dimension_names == tuple(case["dimension_names"])
    fill = case.get("fill_value", 0)
    np.testing.assert_equal(np.asarray(z.fill_value), np.asarray(fill, dtype=case["dtype"]))
    assert dict(z.attrs) == case.get("attributes", {})
    # Unwritten parts read as the fill value through both.
    a.resize(tuple(n + 2 for n in case["shape"]))
    corner = (slice(-1, None),) * len(case["shape"])
    np.testing.assert_equal(a[corner], zarr.open_array(tmp_path, path="a", mode="r")[corner])


def test_defaults_are_zarr_pythons():
    doc = zarrlib.array_metadata((100,), "int32")
    assert doc["codecs"][-1] == {"name": "zstd", "configuration": {"level": 0, "checksum": False}}
    assert doc["fill_value"] == 0
    assert doc["chunk_grid"]["configuration"]["chunk_shape"] == [100]
    assert zarrlib.array_metadata((2,), bool)["fill_value"] is False
    big = zarrlib.array_metadata((10_000, 10_000), "float64")["chunk_grid"]["configuration"]["chunk_shape"]
    assert math.prod(big) * 8 <= zarrlib.metadata.AUTO_CHUNK_BYTES
    assert zarrlib.group_metadata() == {"zarr_format": 3, "node_type": "group", "attributes": {}}
    assert zarrlib.group_metadata(zarr_format=2, attributes={"a": 1}) == {"zarr_format": 2, "attributes": {"a": 1}}


@pytest.mark.parametrize(
    "arguments, error, named",
    [
        (dict(shape=(4,), dtype="U3"), ValueError, "dtype"),
        (dict(shape=(4,), dtype="nope"), TypeError, "dtype"),
        (dict(shape=(4, 4), dtype="i4", chunks=(2,)), ValueError, "chunks"),
        (dict(shape=(4,), dtype="i4", chunks=(0,)), ValueError, "chunks"),
        (dict(shape=(-4,), dtype="i4"), ValueError, "shape"),
        (dict(shape="4", dtype="i4"), TypeError, "shape"),
        (dict(shape=(4,), dtype="i4", chunks=(2,), shards=(3,)), ValueError, "shards"),
        (dict(shape=(4,), dtype="i4", shards=(4,), zarr_format=2), ValueError, "shards"),
        (dict(shape=(4,), dtype="i4", compressors="lzma"), ValueError, "compressors"),
        (dict(shape=(4,), dtype="i4", compressors=[{"id": "zstd"}]), TypeError, "compressors"),
        (dict(shape=(4,), dtype="i4", fill_value="x"), ValueError, "fill_value"),
        (dict(shape=(4,), dtype="i4", order="K"), ValueError, "order"),
        (dict(shape=(4,), dtype="i4", zarr_format=4), ValueError, "zarr_format"),
        (dict(shape=(4,), dtype="i4", dimension_names=["a", "b"]), ValueError, "dimension_names"),
        (dict(shape=(4,), dtype="i4", dimension_names=["a"], zarr_format=2), ValueError, "dimension_names"),
        (dict(shape=(4,), dtype="i4", attributes=[1]), TypeError, "attributes"),
    ],
)
def test_bad_arguments_are_named(arguments, error, named):
    with pytest.raises(error, match=named):
        zarrlib.array_metadata(**arguments)


def test_conveniences_create_and_open(store):
    root = zarrlib.create_array  # the module-level convenience
    zarrlib.Group.create(store, "")
    a = root(store, "a", shape=(10, 10), dtype="uint16", chunks=(5, 5), fill_value=1)
    assert zarrlib.open_array(store, "a").shape == (10, 10)
    g = zarrlib.open_group(store, "")
    b = g.create_array("b", shape=(3,), dtype="float32", attributes={"x": 1})
    assert b.attrs == {"x": 1}
    assert sorted(g.keys()) == ["a", "b"]
    np.testing.assert_array_equal(a[...], np.ones((10, 10)))
    with pytest.raises(TypeError, match="shape= and dtype="):
        zarrlib.create_array(store, "c", dtype="i4")
    with pytest.raises(TypeError, match="not both"):
        zarrlib.create_array(store, "c", zarrlib.array_metadata(3, "i4"), shape=(3,))
    with pytest.raises(zarrlib.NodeExistsError):
        zarrlib.create_array(store, "a", shape=(1,), dtype="i1")
    with pytest.raises(zarrlib.NodeKindError):
        zarrlib.open_group(store, "a")


@pytest.mark.parametrize(("zarr_format", "shards"), [(2, None), (3, None), (3, (4, 4))])
def test_variable_length_strings_and_bytes(zarr_format, shards, tmp_path):
    words = np.array([[f"{i}é{j}" * (j % 3) for j in range(5)] for i in range(6)], dtype=object)
    a = zarrlib.create_array(
        tmp_path, "s", shape=(6, 5), chunks=(2, 2), shards=shards, dtype=str, zarr_format=zarr_format
    )
    b = zarrlib.create_array(tmp_path, "b", shape=(3,), chunks=(2,), dtype=bytes, zarr_format=zarr_format)
    a[...] = words
    b[...] = np.array([b"x", b"", b"\x00yz"], dtype=object)
    z = zarr.open_array(tmp_path, path="s", mode="r")
    np.testing.assert_array_equal(np.asarray(z[...], dtype=object), words)
    assert list(zarr.open_array(tmp_path, path="b", mode="r")[...]) == [b"x", b"", b"\x00yz"]
    assert z.fill_value == ""
    assert zarrlib.array_metadata((2,), str, fill_value="n/a")["fill_value"] == "n/a"
    with pytest.raises(ValueError, match="fill_value"):
        zarrlib.array_metadata((2,), str, fill_value=3)


RECORD = np.dtype([("a", "<i4"), ("b", "<f8"), ("s", "S3"), ("n", [("x", "u1")])])


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.filterwarnings("ignore:The data type .* does not have a Zarr V3 specification")
@pytest.mark.parametrize("zarr_format", [2, 3])
def test_records_take_the_form_zarr_python_writes(zarr_format, tmp_path):
    """A numpy structured dtype: Zarr v3 `struct`, or `structured` beside zarr-python 3.1 (which
    cannot read `struct`), as zarr-python itself writes it; Zarr v2 numpy's description."""
    dtype = RECORD if zarr_format == 3 else np.dtype([("a", "<i4"), ("b", "<f8"), ("s", "S3"), ("t", "<M8[s]")])
    fill = np.array((-1, 2.5, b"ab", (3,)) if zarr_format == 3 else (-1, 2.5, b"ab", 3), dtype)[()]
    doc = zarrlib.array_metadata((6,), dtype, chunks=(4,), fill_value=fill, zarr_format=zarr_format)
    z = zarr.create_array(
        tmp_path / "zarr", shape=(6,), chunks=(4,), dtype=dtype, fill_value=fill, zarr_format=zarr_format
    )
    written = z.metadata.to_dict()
    if zarr_format == 3:
        assert doc["data_type"] == written["data_type"]
        assert doc["data_type"]["name"] == zarrlib.records.v3_form()
        assert doc["fill_value"] == written["fill_value"]
        assert doc["codecs"][0] == written["codecs"][0]
    else:
        assert doc["dtype"] == [list(field) for field in written["dtype"]]
        assert doc["fill_value"] == written["fill_value"]
    a = zarrlib.create_array(tmp_path, "a", doc)
    assert a.dtype == dtype
    a[1:3] = np.array([(i, i / 2, b"xyz", (i,) if zarr_format == 3 else i) for i in (5, 6)], dtype)
    got = zarr.open_array(tmp_path / "a", mode="r")[...]
    assert got.tobytes() == a[...].tobytes()
    assert got[0].tobytes() == np.asarray(fill).tobytes()
    assert zarrlib.array_metadata((2,), RECORD)["fill_value"] in (
        {"a": 0, "b": 0.0, "s": "", "n": {"x": 0}},
        "A" * 22 + "==",
    )


@pytest.mark.parametrize(
    "arguments, named",
    [
        (dict(dtype=[("a", "<i4", (2,))]), "field 'a' is a subarray"),
        (dict(dtype=np.dtype([("a", "u1"), ("b", "<i4")], align=True)), "field 'b' is not packed"),
        (dict(dtype=[(("title", "a"), "<i4")]), "field 'a' has a title"),
        (dict(dtype=[("a", "<i4"), ("o", "O")]), "field 'o'"),
        (dict(dtype=[("a", "<i4")], fill_value="x"), "fill_value"),
        (dict(dtype=[("a", "<i4")], fill_value=(1, 2)), "fill_value"),
    ],
)
def test_bad_records_are_named(arguments, named):
    with pytest.raises(ValueError, match=named):
        zarrlib.array_metadata((4,), **arguments)
