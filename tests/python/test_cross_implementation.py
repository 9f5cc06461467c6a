"""Cross-implementation checks: zarr-python and zarrlib read what the other wrote.

Part 1 writes arrays and groups with zarr-python's public API (``zarr.create_array``,
``zarr.open_group``, ``Group.create_group`` / ``create_array``, ``zarr.consolidate_metadata``)
into a local directory and reads them back through zarrlib's object API (``Array.open``,
``Group.open``) and its functional API (``read_metadata``, ``read_region``, ``list_children``).

Part 2 creates arrays and groups with zarrlib from Zarr v2 and v3 metadata documents, writes
them through zarrlib (``write_region``, strided writes, ``write_chunk``) and opens them with
``zarr.open_array`` / ``zarr.open_group``.

Every comparison is against a numpy mirror of what was written (``assert_array_equal`` treats
NaN as equal to NaN). Known differences are strict xfails whose reason names the cause.
"""

from __future__ import annotations

import base64
import json
import math
import warnings

import numpy as np
import pytest

import zarrlib
from layouts import DTYPES, v2_array, v3_array, v3_sharded
from zarrlib import records

zarr = pytest.importorskip("zarr")
numcodecs = pytest.importorskip("numcodecs")

# zarr.consolidate_metadata warns that v3 consolidated metadata is not in the specification.
pytestmark = pytest.mark.filterwarnings("ignore:Consolidated metadata is currently not part")

from zarr.codecs import (  # noqa: E402
    BloscCodec,
    BytesCodec,
    Crc32cCodec,
    GzipCodec,
    ShardingCodec,
    TransposeCodec,
    ZstdCodec,
)
from zarr.core.dtype import VariableLengthBytes  # noqa: E402
from zarr.storage import LocalStore  # noqa: E402

#: Shape and chunks chosen so that the last chunk along each axis is a partial edge chunk.
SHAPE = (13, 10)
CHUNKS = (4, 3)

#: Strided selections read back through both APIs (numpy basic selections).
SELECTIONS = [
    Ellipsis,
    (slice(None, None, 2), slice(1, None, 3)),
    (slice(None, None, -1), 2),
    (slice(3, 12), slice(None, None, -4)),
    (7, slice(None)),
    (slice(11, 1, -3), slice(8, None)),
]
#: The selections zarr-python takes (it has no negative steps).
POSITIVE_SELECTIONS = [
    Ellipsis,
    (slice(None, None, 2), slice(1, None, 3)),
    (slice(3, 12), slice(None, None, 4)),
    (7, slice(None)),
    (slice(1, 12, 3), 8),
]


# --- helpers --------------------------------------------------------------------------------


def sample(shape, dtype, seed=0) -> np.ndarray:
    """Deterministic data of ``dtype`` spanning its range (NaN and infinities for floats)."""
    dtype = np.dtype(dtype).newbyteorder("=")
    rng = np.random.default_rng(seed)
    n = math.prod(shape)
    if dtype.fields is not None:
        return _record_sample(shape, dtype, seed)
    if dtype.kind == "b":
        values = rng.integers(0, 2, n).astype(bool)
    elif dtype.kind in "iu":
        info = np.iinfo(dtype)
        values = rng.integers(info.min, info.max, n, dtype=dtype, endpoint=True)
    elif dtype.kind == "f":
        values = (rng.standard_normal(n) * 1000).astype(dtype)
        values[::11] = np.nan
        values[5::23] = np.inf
        values[7::29] = -np.inf
    elif dtype.kind == "c":
        parts = (rng.standard_normal((2, n)) * 1000).astype(dtype)
        values = (parts[0] + 1j * parts[1]).astype(dtype)
        values[::13] = complex(np.nan, 1.0)
    elif dtype.kind in "SV":
        values = rng.integers(0, 256, (n, dtype.itemsize), dtype=np.uint8).view(dtype).ravel()
    elif dtype.kind == "U":
        letters = np.array(list("abcdéß日本 "))
        values = np.array(["".join(rng.choice(letters, rng.integers(0, dtype.itemsize // 4 + 1))) for _ in range(n)])
    elif dtype.kind in "mM":
        values = rng.integers(-(2**40), 2**40, n).view(dtype)
        values[::17] = np.array("NaT", dtype)
    else:  # pragma: no cover - only the types above are sampled
        raise AssertionError(dtype)
    return values.reshape(shape)


def _record_sample(shape, dtype, seed) -> np.ndarray:
    """Records with every field sampled as above, floats finite (records compare field by
    field, where NaN is unequal to itself)."""
    values = np.zeros(shape, dtype)
    for index, name in enumerate(dtype.names):
        field = sample(shape, dtype.fields[name][0], seed + index)
        if field.dtype.kind in "fc":
            field = np.nan_to_num(field, nan=1.5, posinf=2.5, neginf=-3.5)
        if field.dtype.kind in "mM":
            field[np.isnat(field)] = np.array(0, field.dtype)
        values[name] = field
    return values


def special_fill(dtype):
    """A fill value other than zarr's default for ``dtype`` (NaN for floats)."""
    kind = np.dtype(dtype).kind
    if kind == "b":
        return True
    if kind == "i":
        return -7
    if kind == "u":
        return 7
    if kind == "f":
        return np.nan
    return complex(1.5, -2.0)


def assert_same_fill(actual, expected) -> None:
    np.testing.assert_array_equal(np.asarray(actual), np.asarray(expected))


def assert_zarrlib_reads(root, name: str, expected: np.ndarray, *, fill_value=None, attributes=None) -> None:
    """zarrlib (object and functional API) reads ``expected`` from the array at ``name``."""
    array = zarrlib.Array.open(root, name)
    assert array.shape == expected.shape
    assert array.dtype == expected.dtype.newbyteorder("=")
    np.testing.assert_array_equal(array[...], expected)
    np.testing.assert_array_equal(np.asarray(array), expected)
    metadata = zarrlib.read_metadata(root, name)
    for selection in SELECTIONS:
        np.testing.assert_array_equal(array[selection], expected[selection], err_msg=f"Array[{selection}]")
        np.testing.assert_array_equal(
            zarrlib.read_region(metadata, root, name, selection),
            expected[selection],
            err_msg=f"read_region({selection})",
        )
    if fill_value is not None:
        assert_same_fill(array.fill_value, np.asarray(fill_value, dtype=expected.dtype))
    if attributes is not None:
        assert metadata.get("attributes", {}) == attributes
        assert array.attrs == attributes


def write_with_zarr(root, name: str, dtype, *, fill_value, zarr_format, chunks=CHUNKS, **kwargs) -> np.ndarray:
    """Create an array with zarr-python, fill all but the last row of chunks, return the mirror.

    The last chunk row (row 12) stays unwritten, so it reads as the fill value; rows 9-11 are
    written only in part of their chunk."""
    array = zarr.create_array(
        store=LocalStore(root),
        name=name,
        shape=SHAPE,
        chunks=chunks,
        dtype=dtype,
        fill_value=fill_value,
        zarr_format=zarr_format,
        **kwargs,
    )
    # A v2 fill_value of null reads as the data type's zero in zarr-python.
    fill = array.fill_value if array.fill_value is not None else np.zeros((), array.dtype)[()]
    expected = np.full(SHAPE, fill, dtype=array.dtype)
    data = sample((10, SHAPE[1]), dtype)
    array[:10, :] = data
    expected[:10, :] = data
    np.testing.assert_array_equal(array[...], expected)  # zarr-python agrees with the mirror
    return expected


def zarrlib_written(root, name: str, metadata: dict, *, seed: int = 1) -> np.ndarray:
    """Create ``metadata`` at ``name`` with zarrlib and write data through every write path:
    functional write_region (a block and a strided selection), the object API's strided
    assignment and write_chunk. Returns the numpy mirror; elements never written keep the
    fill value."""
    zarrlib.create_new_array(metadata, root, name)
    array = zarrlib.Array.open(root, name)
    dtype = array.dtype
    shape = array.shape
    expected = np.full(shape, array.fill_value, dtype=dtype)

    block = sample((6, shape[1] - 2), dtype, seed)
    zarrlib.write_region(metadata, root, name, (slice(1, 7), slice(2, None)), block)
    expected[1:7, 2:] = block

    strided = sample(expected[8::2, ::-3].shape, dtype, seed + 1)
    zarrlib.write_region(metadata, root, name, (slice(8, None, 2), slice(None, None, -3)), strided)
    expected[8::2, ::-3] = strided

    more = sample(expected[::5, 1::2].shape, dtype, seed + 2)
    array[::5, 1::2] = more
    expected[::5, 1::2] = more

    chunk_shape = array.shards or array.chunks
    chunk = sample(chunk_shape, dtype, seed + 3)
    zarrlib.write_chunk(metadata, root, name, (1, 0), chunk)
    expected[chunk_shape[0] : 2 * chunk_shape[0], : chunk_shape[1]] = chunk[
        : min(chunk_shape[0], shape[0] - chunk_shape[0]), : min(chunk_shape[1], shape[1])
    ]

    np.testing.assert_array_equal(array[...], expected)  # zarrlib agrees with the mirror
    return expected


def assert_zarr_reads(root, name: str, expected: np.ndarray, *, fill_value, attributes=None) -> None:
    """zarr-python reads ``expected`` (data, shape, dtype, fill value, attributes)."""
    array = zarr.open_array(root / name, mode="r")
    assert array.shape == expected.shape
    assert array.dtype == expected.dtype.newbyteorder(array.dtype.byteorder)
    np.testing.assert_array_equal(array[...], expected)
    for selection in POSITIVE_SELECTIONS:
        np.testing.assert_array_equal(array[selection], expected[selection], err_msg=f"zarr[{selection}]")
    assert_same_fill(array.fill_value, np.asarray(fill_value, dtype=expected.dtype))
    if attributes is not None:
        assert dict(array.attrs) == attributes


# --- 1. zarr-python writes, zarrlib reads -----------------------------------------------------


@pytest.mark.parametrize("zarr_format", [2, 3])
@pytest.mark.parametrize("dtype", DTYPES)
def test_zarr_dtypes_read_by_zarrlib(tmp_path, dtype, zarr_format):
    fill = special_fill(dtype)
    attributes = {"dtype": dtype, "nested": {"list": [1, 2.5, None, "x"]}, "flag": True}
    expected = write_with_zarr(tmp_path, "a", dtype, fill_value=fill, zarr_format=zarr_format, attributes=attributes)
    assert_zarrlib_reads(tmp_path, "a", expected, fill_value=fill, attributes=attributes)


@pytest.mark.parametrize("dtype", DTYPES)
def test_zarr_v2_null_fill_value_read_by_zarrlib(tmp_path, dtype):
    """fill_value=None: zarr writes a v2 fill_value of null and reads missing chunks as zero."""
    expected = write_with_zarr(tmp_path, "a", dtype, fill_value=None, zarr_format=2)
    assert json.loads((tmp_path / "a" / ".zarray").read_text())["fill_value"] is None
    assert_zarrlib_reads(tmp_path, "a", expected, fill_value=np.zeros((), dtype)[()])


@pytest.mark.parametrize("zarr_format", [2, 3])
@pytest.mark.parametrize("fill", [0.0, 1.5, -0.0, np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("dtype", ["float16", "float64"])
def test_zarr_float_fill_values_read_by_zarrlib(tmp_path, dtype, fill, zarr_format):
    expected = write_with_zarr(tmp_path, "a", dtype, fill_value=fill, zarr_format=zarr_format)
    assert_zarrlib_reads(tmp_path, "a", expected, fill_value=fill)
    assert np.signbit(zarrlib.Array.open(tmp_path, "a").fill_value) == np.signbit(fill)


V2_CODECS = {
    "none": dict(compressors=None),
    "gzip": dict(compressors=numcodecs.GZip(level=5)),
    "zlib": dict(compressors=numcodecs.Zlib(level=3)),
    "zstd": dict(compressors=numcodecs.Zstd(level=3)),
    "bz2": dict(compressors=numcodecs.BZ2(level=1)),
    "blosc-noshuffle": dict(compressors=numcodecs.Blosc(cname="lz4", clevel=5, shuffle=numcodecs.Blosc.NOSHUFFLE)),
    "blosc-shuffle": dict(compressors=numcodecs.Blosc(cname="zstd", clevel=3, shuffle=numcodecs.Blosc.SHUFFLE)),
    "blosc-bitshuffle": dict(
        compressors=numcodecs.Blosc(cname="blosclz", clevel=9, shuffle=numcodecs.Blosc.BITSHUFFLE)
    ),
    "blosc-autoshuffle": dict(compressors=numcodecs.Blosc(cname="lz4hc", shuffle=numcodecs.Blosc.AUTOSHUFFLE)),
    "order-F": dict(order="F"),
    "order-F-blosc": dict(order="F", compressors=numcodecs.Blosc(shuffle=numcodecs.Blosc.SHUFFLE)),
    "separator-slash": dict(chunk_key_encoding={"name": "v2", "separator": "/"}),
    "separator-dot": dict(chunk_key_encoding={"name": "v2", "separator": "."}),
    "order-F-separator-slash": dict(order="F", chunk_key_encoding={"name": "v2", "separator": "/"}),
    "lz4": dict(compressors=numcodecs.LZ4()),
}

#: v2 codecs zarrlib cannot read (tests/python/test_foreign_codecs.py has the whole numcodecs matrix).
V2_UNSUPPORTED: dict[str, str] = {}


def _v2_params():
    for key, kwargs in V2_CODECS.items():
        marks = []
        if key in V2_UNSUPPORTED:
            marks = [pytest.mark.xfail(strict=True, raises=zarrlib.UnsupportedError, reason=V2_UNSUPPORTED[key])]
        yield pytest.param(kwargs, id=key, marks=marks)


@pytest.mark.parametrize("dtype", ["int32", "float64"])
@pytest.mark.parametrize("kwargs", list(_v2_params()))
def test_zarr_v2_codecs_read_by_zarrlib(tmp_path, kwargs, dtype):
    attributes = {"codec": repr(kwargs)}
    expected = write_with_zarr(tmp_path, "a", dtype, fill_value=3, zarr_format=2, attributes=attributes, **kwargs)
    document = json.loads((tmp_path / "a" / ".zarray").read_text())
    if "order" in kwargs:
        assert document["order"] == "F"
    separator = kwargs.get("chunk_key_encoding", {}).get("separator", ".")
    assert document["dimension_separator"] == separator
    # A stored chunk key uses the separator: chunk (2, 1) is "2.1" or "2/1".
    assert (tmp_path / "a" / f"2{separator}1").is_file()
    assert_zarrlib_reads(tmp_path, "a", expected, fill_value=3, attributes=attributes)


def test_zarr_v2_delta_filter_read_by_zarrlib(tmp_path):
    """A delta chunk depends on all its elements: partial reads decode it whole, and an unwritten
    chunk reads as the fill value (not as a run of encoded fill values)."""
    expected = write_with_zarr(
        tmp_path, "a", "int32", fill_value=3, zarr_format=2, filters=[numcodecs.Delta(dtype="<i4")]
    )
    assert_zarrlib_reads(tmp_path, "a", expected, fill_value=3)


V3_CODECS = {
    "none": dict(compressors=None),
    "gzip": dict(compressors=GzipCodec(level=6)),
    "zstd": dict(compressors=ZstdCodec(level=3)),
    "zstd-checksum": dict(compressors=ZstdCodec(level=3, checksum=True)),
    "blosc-noshuffle": dict(compressors=BloscCodec(cname="lz4", clevel=5, shuffle="noshuffle")),
    "blosc-shuffle": dict(compressors=BloscCodec(cname="zstd", clevel=3, shuffle="shuffle")),
    "blosc-bitshuffle": dict(compressors=BloscCodec(cname="blosclz", clevel=9, shuffle="bitshuffle")),
    "crc32c": dict(compressors=[ZstdCodec(level=1), Crc32cCodec()]),
    "crc32c-only": dict(compressors=[Crc32cCodec()]),
    "big-endian": dict(serializer=BytesCodec(endian="big"), compressors=GzipCodec()),
    "transpose": dict(filters=[TransposeCodec(order=(1, 0))]),
    "config-order-F": dict(config={"order": "F"}),
    "order-kwarg-F": dict(order="F"),  # zarr warns that `order` has no effect on v3 metadata
    "sharding": dict(shards=(8, 6)),
    "sharding-crc32c": dict(shards=(8, 9), compressors=[ZstdCodec(level=1), Crc32cCodec()]),
    "sharding-uncompressed": dict(shards=(12, 6), compressors=None),
    "sharding-index-start": dict(
        chunks=(8, 6),  # the shard shape: the sharding codec is the serializer here
        serializer=ShardingCodec(chunk_shape=(4, 3), codecs=[BytesCodec(), GzipCodec()], index_location="start"),
        compressors=None,
    ),
    "separator-dot": dict(chunk_key_encoding={"name": "default", "separator": "."}),
    "separator-slash": dict(chunk_key_encoding={"name": "default", "separator": "/"}),
    "v2-encoding-dot": dict(chunk_key_encoding={"name": "v2", "separator": "."}),
    "v2-encoding-slash": dict(chunk_key_encoding={"name": "v2", "separator": "/"}),
}


def _chunk_key(kwargs, document) -> str:
    """The stored key of the chunk (or shard) holding element (9, 4)."""
    encoding = kwargs.get("chunk_key_encoding", {"name": "default", "separator": "/"})
    separator = encoding["separator"]
    grid = document["chunk_grid"]["configuration"]["chunk_shape"]
    coords = separator.join(str(index // size) for index, size in zip((9, 4), grid, strict=True))
    return f"c{separator}{coords}" if encoding["name"] == "default" else coords


@pytest.mark.filterwarnings("ignore:The `order` keyword argument has no effect")
@pytest.mark.parametrize("dtype", ["int16", "float64"])
@pytest.mark.parametrize("kwargs", list(V3_CODECS.values()), ids=list(V3_CODECS))
def test_zarr_v3_codecs_read_by_zarrlib(tmp_path, kwargs, dtype):
    expected = write_with_zarr(tmp_path, "a", dtype, fill_value=3, zarr_format=3, attributes={"k": "v"}, **kwargs)
    document = json.loads((tmp_path / "a" / "zarr.json").read_text())
    assert "order" not in document  # v3 has no order: F order is a transpose codec or memory layout
    if "config" in kwargs or "order" in kwargs:
        assert [codec["name"] for codec in document["codecs"]][0] == "bytes"
    assert (tmp_path / "a" / _chunk_key(kwargs, document)).is_file()
    assert_zarrlib_reads(tmp_path, "a", expected, fill_value=3, attributes={"k": "v"})


@pytest.mark.parametrize("zarr_format", [2, 3])
def test_zarr_big_endian_dtype_read_by_zarrlib(tmp_path, zarr_format):
    """A big-endian numpy dtype (v2 ">i4"; v3 the bytes codec's endian "big")."""
    expected = write_with_zarr(tmp_path, "a", ">i4", fill_value=-1, zarr_format=zarr_format)
    array = zarrlib.Array.open(tmp_path, "a")
    assert array.dtype == np.dtype("int32")
    assert_zarrlib_reads(tmp_path, "a", expected.astype("=i4"), fill_value=-1)


@pytest.mark.parametrize("zarr_format", [2, 3])
def test_zarr_scalar_and_1d_arrays_read_by_zarrlib(tmp_path, zarr_format):
    store = LocalStore(tmp_path)
    scalar = zarr.create_array(store=store, name="s", shape=(), dtype="float32", zarr_format=zarr_format, fill_value=0)
    scalar[...] = 2.5
    line = zarr.create_array(store=store, name="l", shape=(17,), chunks=(5,), dtype="uint8", zarr_format=zarr_format)
    line[...] = np.arange(17, dtype="uint8")
    assert zarrlib.Array.open(tmp_path, "s")[...] == np.float32(2.5)
    assert zarrlib.read_region(zarrlib.read_metadata(tmp_path, "s"), tmp_path, "s", ...) == np.float32(2.5)
    np.testing.assert_array_equal(zarrlib.Array.open(tmp_path, "l")[::-4], np.arange(17, dtype="uint8")[::-4])
    np.testing.assert_array_equal(
        zarrlib.read_region(zarrlib.read_metadata(tmp_path, "l"), tmp_path, "l", slice(3, None, 5)),
        np.arange(17, dtype="uint8")[3::5],
    )


def test_dimension_names_cross(tmp_path):
    zarr.create_array(
        store=str(tmp_path), name="z", shape=(4, 3), chunks=(2, 2), dtype="int8", dimension_names=["y", "x"]
    )
    metadata = zarrlib.read_metadata(tmp_path, "z")
    assert metadata["dimension_names"] == ["y", "x"]
    zarrlib.create_new_array({**metadata, "dimension_names": ["t", None]}, tmp_path, "l")
    assert zarr.open_array(tmp_path / "l", mode="r").metadata.dimension_names == ("t", None)


def _build_zarr_hierarchy(root, zarr_format: int) -> dict[str, np.ndarray]:
    """A root group with nested groups and arrays made with zarr-python; returns the arrays."""
    group = zarr.open_group(LocalStore(root), mode="w", zarr_format=zarr_format, attributes={"level": "root", "n": 0})
    arrays = {}
    a = group.create_array("a", shape=(6, 5), chunks=(4, 2), dtype="int32", fill_value=-1, attributes={"name": "a"})
    arrays["a"] = sample((6, 5), "int32", 3)
    a[...] = arrays["a"]
    g1 = group.create_group("g1", attributes={"level": 1})
    b = g1.create_array("b", shape=(9,), chunks=(4,), dtype="float32", fill_value=np.nan, attributes={"name": "b"})
    arrays["g1/b"] = np.full((9,), np.nan, dtype="float32")
    arrays["g1/b"][2:7] = np.arange(5, dtype="float32")
    b[2:7] = arrays["g1/b"][2:7]
    g2 = g1.create_group("g2", attributes={"level": 2, "deep": [1, [2, 3]]})
    c = g2.create_array("c", shape=(3, 4, 5), chunks=(2, 2, 2), dtype="uint16", fill_value=0)
    arrays["g1/g2/c"] = sample((3, 4, 5), "uint16", 4)
    c[...] = arrays["g1/g2/c"]
    group.create_group("empty")
    return arrays


EXPECTED_ATTRS = {
    "": {"level": "root", "n": 0},
    "g1": {"level": 1},
    "g1/g2": {"level": 2, "deep": [1, [2, 3]]},
    "empty": {},
}
EXPECTED_CHILDREN = {
    "": ["a", "empty", "g1"],
    "g1": ["g1/b", "g1/g2"],
    "g1/g2": ["g1/g2/c"],
    "empty": [],
}


@pytest.mark.parametrize("consolidated", [False, True], ids=["plain", "consolidated"])
@pytest.mark.parametrize("zarr_format", [2, 3])
def test_zarr_hierarchy_read_by_zarrlib(tmp_path, zarr_format, consolidated):
    arrays = _build_zarr_hierarchy(tmp_path, zarr_format)
    if consolidated:
        zarr.consolidate_metadata(LocalStore(tmp_path), zarr_format=zarr_format)
        if zarr_format == 2:
            assert (tmp_path / ".zmetadata").is_file()
        else:
            assert "consolidated_metadata" in json.loads((tmp_path / "zarr.json").read_text())

    zgroup = zarr.open_group(LocalStore(tmp_path), mode="r", zarr_format=zarr_format)
    for path, names in EXPECTED_CHILDREN.items():
        zmembers = sorted(zgroup[path].keys()) if path else sorted(zgroup.keys())
        assert [child.rsplit("/", 1)[-1] for child in names] == zmembers
        children = zarrlib.list_children(tmp_path, path)
        assert [child for child, _ in children] == names
        for child, metadata in children:
            assert metadata["zarr_format"] == zarr_format
            is_array = child in arrays
            assert ("shape" in metadata) == is_array
            assert metadata.get("attributes", {}) == dict(zgroup[child].attrs)
        group = zarrlib.Group.open(tmp_path, path)
        assert group.attrs == EXPECTED_ATTRS[path]
        assert group.keys() == [child.rsplit("/", 1)[-1] for child in names]
        assert zarrlib.read_metadata(tmp_path, path).get("attributes", {}) == EXPECTED_ATTRS[path]
        assert zarrlib.node_kind(tmp_path, path) == "group"

    for path, data in arrays.items():
        assert zarrlib.node_kind(tmp_path, path) == "array"
        array = zarrlib.Group.open(tmp_path)[path]
        np.testing.assert_array_equal(array[...], data)
        metadata = zarrlib.read_metadata(tmp_path, path)
        np.testing.assert_array_equal(zarrlib.read_region(metadata, tmp_path, path, ...), data)
        np.testing.assert_array_equal(
            zarrlib.read_region(metadata, tmp_path, path, (slice(None, None, -2),)), data[::-2]
        )
        assert metadata.get("attributes", {}) == dict(zgroup[path].attrs)
    assert "\n" in zarrlib.Group.open(tmp_path).tree()


# --- 2. zarrlib writes, zarr-python reads -----------------------------------------------------


def _v3_codec_document(codecs, dtype="int16", *, fill_value=3, separator="/", encoding="default", attributes=None):
    doc = v3_array(SHAPE, CHUNKS, dtype, fill_value=fill_value, compressor=None, attributes=attributes)
    doc["codecs"] = codecs
    doc["chunk_key_encoding"] = {"name": encoding, "configuration": {"separator": separator}}
    return doc


BYTES_LE = {"name": "bytes", "configuration": {"endian": "little"}}


def _blosc(shuffle, cname="lz4", typesize=2):
    return {
        "name": "blosc",
        "configuration": {"cname": cname, "clevel": 5, "shuffle": shuffle, "typesize": typesize, "blocksize": 0},
    }


V3_DOCUMENTS = {
    "layout-zstd": lambda: v3_array(SHAPE, CHUNKS, "int16", fill_value=3),
    "layout-gzip": lambda: v3_array(SHAPE, CHUNKS, "int16", fill_value=3, compressor="gzip"),
    "layout-none": lambda: v3_array(SHAPE, CHUNKS, "int16", fill_value=3, compressor=None),
    "layout-sharded": lambda: v3_sharded(SHAPE, (8, 6), (4, 3), "int16", fill_value=3),
    "blosc-noshuffle": lambda: _v3_codec_document([BYTES_LE, _blosc("noshuffle")]),
    "blosc-shuffle": lambda: _v3_codec_document([BYTES_LE, _blosc("shuffle", "zstd")]),
    "blosc-bitshuffle": lambda: _v3_codec_document([BYTES_LE, _blosc("bitshuffle", "blosclz")]),
    "gzip-crc32c": lambda: _v3_codec_document(
        [BYTES_LE, {"name": "gzip", "configuration": {"level": 6}}, {"name": "crc32c"}]
    ),
    "big-endian": lambda: _v3_codec_document([{"name": "bytes", "configuration": {"endian": "big"}}]),
    "transpose-F": lambda: _v3_codec_document(
        [
            {"name": "transpose", "configuration": {"order": [1, 0]}},
            BYTES_LE,
            {"name": "zstd", "configuration": {"level": 1, "checksum": True}},
        ]
    ),
    "sharding-index-start": lambda: _v3_codec_document(
        [
            {
                "name": "sharding_indexed",
                "configuration": {
                    "chunk_shape": [2, 3],
                    "codecs": [BYTES_LE, _blosc("shuffle")],
                    "index_codecs": [BYTES_LE],
                    "index_location": "start",
                },
            }
        ]
    ),
    "separator-dot": lambda: _v3_codec_document([BYTES_LE], separator="."),
    "v2-encoding-dot": lambda: _v3_codec_document([BYTES_LE], encoding="v2", separator="."),
    "v2-encoding-slash": lambda: _v3_codec_document([BYTES_LE], encoding="v2", separator="/"),
}


@pytest.mark.parametrize("make_document", list(V3_DOCUMENTS.values()), ids=list(V3_DOCUMENTS))
def test_zarrlib_v3_codecs_read_by_zarr(tmp_path, make_document):
    metadata = make_document()
    if metadata["codecs"][0]["name"] == "sharding_indexed":
        # The chunk grid is the shard grid: write_chunk writes whole shards.
        metadata["chunk_grid"]["configuration"]["chunk_shape"] = [8, 6]
    metadata["attributes"] = {"written_by": "zarrlib", "codecs": [c["name"] for c in metadata["codecs"]]}
    expected = zarrlib_written(tmp_path, "a", metadata)
    assert_zarr_reads(tmp_path, "a", expected, fill_value=3, attributes=metadata["attributes"])
    # And zarrlib reads back what it wrote from the stored document alone.
    assert_zarrlib_reads(tmp_path, "a", expected, fill_value=3, attributes=metadata["attributes"])


def _v2_document(dtype="<i2", **kwargs):
    return v2_array(SHAPE, CHUNKS, dtype, fill_value=3, **kwargs)


def _with_compressor(compressor, **kwargs):
    doc = _v2_document(**kwargs)
    doc["compressor"] = compressor
    return doc


V2_DOCUMENTS = {
    "layout-blosc": lambda: _v2_document(),
    "layout-zlib": lambda: _v2_document(compressor="zlib"),
    "layout-none": lambda: _v2_document(compressor=None),
    "order-F": lambda: _v2_document(order="F"),
    "order-F-slash": lambda: _v2_document(order="F", separator="/"),
    "separator-slash": lambda: _v2_document(separator="/"),
    "gzip": lambda: _with_compressor({"id": "gzip", "level": 5}),
    "zstd": lambda: _with_compressor({"id": "zstd", "level": 3}),
    "bz2": lambda: _with_compressor({"id": "bz2", "level": 1}),
    "blosc-noshuffle": lambda: _with_compressor(
        {"id": "blosc", "cname": "zstd", "clevel": 3, "shuffle": 0, "blocksize": 0}
    ),
    "blosc-bitshuffle": lambda: _with_compressor(
        {"id": "blosc", "cname": "lz4hc", "clevel": 3, "shuffle": 2, "blocksize": 0}
    ),
    "big-endian": lambda: _v2_document(">i2"),
}


@pytest.mark.parametrize("make_document", list(V2_DOCUMENTS.values()), ids=list(V2_DOCUMENTS))
def test_zarrlib_v2_codecs_read_by_zarr(tmp_path, make_document):
    metadata = make_document()
    metadata["attributes"] = {"written_by": "zarrlib", "compressor": metadata["compressor"]}
    expected = zarrlib_written(tmp_path, "a", metadata)
    assert json.loads((tmp_path / "a" / ".zattrs").read_text()) == metadata["attributes"]
    stored = json.loads((tmp_path / "a" / ".zarray").read_text())
    assert stored["order"] == metadata["order"]
    assert stored.get("dimension_separator", ".") == metadata["dimension_separator"]
    separator = metadata["dimension_separator"]
    assert (tmp_path / "a" / f"1{separator}0").is_file()  # written by write_chunk
    assert_zarr_reads(tmp_path, "a", expected, fill_value=3, attributes=metadata["attributes"])
    zarray = zarr.open_array(tmp_path / "a", mode="r")
    assert zarray.metadata.zarr_format == 2
    assert zarray.order == metadata["order"]
    assert_zarrlib_reads(tmp_path, "a", expected, fill_value=3, attributes=metadata["attributes"])


def _v2_dtype_document(dtype, fill_value):
    doc = _v2_document(np.dtype(dtype).str, compressor=None)
    doc["fill_value"] = _v2_fill_json(fill_value)
    return doc


def _v2_fill_json(value):
    """A fill value as Zarr v2 JSON (NaN and the infinities as strings; complex as [re, im])."""
    if isinstance(value, complex):
        return [_v2_fill_json(value.real), _v2_fill_json(value.imag)]
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    return value


@pytest.mark.parametrize("zarr_format", [2, 3])
@pytest.mark.parametrize("dtype", DTYPES)
def test_zarrlib_dtypes_read_by_zarr(tmp_path, dtype, zarr_format):
    fill = special_fill(dtype)
    if zarr_format == 2:
        metadata = _v2_dtype_document(dtype, fill)
    else:
        metadata = v3_array(SHAPE, CHUNKS, dtype, fill_value=_v2_fill_json(fill), compressor="gzip")
    metadata["attributes"] = {"dtype": dtype}
    expected = zarrlib_written(tmp_path, "a", metadata, seed=5)
    assert_zarr_reads(tmp_path, "a", expected, fill_value=fill, attributes={"dtype": dtype})


@pytest.mark.parametrize("zarr_format", [2, 3])
@pytest.mark.parametrize("api", ["functional", "object"])
def test_zarrlib_hierarchy_read_by_zarr(tmp_path, zarr_format, api):
    root_attrs = {"made_by": "zarrlib", "n": [1, 2]}
    if zarr_format == 3:
        array_doc = v3_array((7, 5), (3, 2), "float32", fill_value="NaN", attributes={"name": "x"})
    else:
        array_doc = v2_array((7, 5), (3, 2), "<f4", fill_value="NaN", attributes={"name": "x"})
    data = sample((7, 5), "float32", 9)

    if api == "functional":
        group_doc = {"zarr_format": 3, "node_type": "group"} if zarr_format == 3 else {"zarr_format": 2}
        zarrlib.create_new_group({**group_doc, "attributes": root_attrs}, tmp_path, "")
        zarrlib.create_new_group({**group_doc, "attributes": {"level": 1}}, tmp_path, "g1")
        zarrlib.create_new_group(group_doc, tmp_path, "g1/g2")
        zarrlib.create_new_group(group_doc, tmp_path, "empty")
        for path in ("x", "g1/x", "g1/g2/x"):
            zarrlib.create_new_array(array_doc, tmp_path, path)
            zarrlib.write_region(array_doc, tmp_path, path, ..., data)
    else:
        root = zarrlib.Group.create(tmp_path, zarr_format=zarr_format, attributes=root_attrs)
        g1 = root.create_group("g1", zarr_format=zarr_format, attributes={"level": 1})
        g2 = g1.create_group("g2", zarr_format=zarr_format)
        root.create_group("empty", zarr_format=zarr_format)
        for group in (root, g1, g2):
            group.create_array("x", array_doc)[...] = data

    zgroup = zarr.open_group(tmp_path, mode="r")
    assert zgroup.metadata.zarr_format == zarr_format
    assert dict(zgroup.attrs) == root_attrs
    assert sorted(zgroup.keys()) == ["empty", "g1", "x"]
    assert sorted(name for name, _ in zgroup.members()) == ["empty", "g1", "x"]
    assert sorted(name for name, _ in zgroup.members(max_depth=None)) == [
        "empty",
        "g1",
        "g1/g2",
        "g1/g2/x",
        "g1/x",
        "x",
    ]
    assert sorted(zgroup["g1"].keys()) == ["g2", "x"]
    assert dict(zgroup["g1"].attrs) == {"level": 1}
    assert dict(zgroup["g1/g2"].attrs) == {}
    assert list(zgroup["empty"].keys()) == []
    assert isinstance(zgroup["g1/g2"], zarr.Group)
    for path in ("x", "g1/x", "g1/g2/x"):
        zarray = zgroup[path]
        assert isinstance(zarray, zarr.Array)
        np.testing.assert_array_equal(zarray[...], data)
        assert dict(zarray.attrs) == {"name": "x"}
        assert np.isnan(zarray.fill_value)
        assert zarray.chunks == (3, 2)
    # zarr can open (and consolidate) a hierarchy zarrlib made; zarrlib still reads it.
    zarr.consolidate_metadata(LocalStore(tmp_path), zarr_format=zarr_format)
    consolidated = zarr.open_group(tmp_path, mode="r", use_consolidated=True)
    assert sorted(consolidated.keys()) == ["empty", "g1", "x"]
    assert zarrlib.Group.open(tmp_path).attrs == root_attrs
    assert zarrlib.Group.open(tmp_path).keys() == ["empty", "g1", "x"]


def test_zarr_appends_to_a_zarrlib_array_and_back(tmp_path):
    """Alternate writers on one v3 array: each sees the other's updates."""
    metadata = v3_array((10, 10), (4, 4), "int64", fill_value=-1)
    zarrlib.create_new_array(metadata, tmp_path, "a")
    expected = np.full((10, 10), -1, dtype="int64")
    zarrlib.write_region(metadata, tmp_path, "a", (slice(0, 5), slice(None)), 1)
    expected[:5] = 1
    zarray = zarr.open_array(tmp_path / "a", mode="r+")
    zarray[3:8, ::3] = 2
    expected[3:8, ::3] = 2
    np.testing.assert_array_equal(zarrlib.read_region(metadata, tmp_path, "a", ...), expected)
    zarrlib.Array.open(tmp_path, "a")[::-2, 1] = 3
    expected[::-2, 1] = 3
    np.testing.assert_array_equal(zarr.open_array(tmp_path / "a", mode="r")[...], expected)
    # Writing the fill value everywhere erases the chunks: zarr reads the fill value, too.
    zarrlib.write_region(metadata, tmp_path, "a", ..., -1)
    assert not [p for p in (tmp_path / "a").rglob("*") if p.is_file() and p.name != "zarr.json"]
    np.testing.assert_array_equal(zarr.open_array(tmp_path / "a", mode="r")[...], np.full((10, 10), -1))


ROUND_TRIP = {
    "v2-blosc-F": dict(zarr_format=2, order="F", compressors=numcodecs.Blosc(shuffle=numcodecs.Blosc.BITSHUFFLE)),
    "v2-slash-zlib": dict(
        zarr_format=2, compressors=numcodecs.Zlib(), chunk_key_encoding={"name": "v2", "separator": "/"}
    ),
    "v3-sharded-crc32c": dict(zarr_format=3, shards=(8, 6), compressors=[ZstdCodec(), Crc32cCodec()]),
    "v3-dot-blosc": dict(
        zarr_format=3,
        compressors=BloscCodec(shuffle="shuffle"),
        chunk_key_encoding={"name": "default", "separator": "."},
    ),
    "v3-transpose": dict(zarr_format=3, filters=[TransposeCodec(order=(1, 0))], compressors=GzipCodec()),
}


@pytest.mark.parametrize("kwargs", list(ROUND_TRIP.values()), ids=list(ROUND_TRIP))
def test_zarrlib_updates_a_zarr_array(tmp_path, kwargs):
    """zarr creates and fills an array, zarrlib updates it in part (strided writes that split
    chunks and shards, a whole chunk), zarr reads the result."""
    kwargs = dict(kwargs)
    expected = write_with_zarr(tmp_path, "a", "uint32", fill_value=5, **kwargs)
    metadata = zarrlib.read_metadata(tmp_path, "a")
    update = sample(expected[1::3, ::-2].shape, "uint32", 11)
    zarrlib.write_region(metadata, tmp_path, "a", (slice(1, None, 3), slice(None, None, -2)), update)
    expected[1::3, ::-2] = update
    array = zarrlib.Array.open(tmp_path, "a")
    array[12, :] = 9  # the row zarr left unwritten
    expected[12, :] = 9
    unit = array.shards or array.chunks  # what write_chunk writes
    chunk = sample(unit, "uint32", 12)
    array.write_chunk((0, 1), chunk)
    region = expected[: unit[0], unit[1] : 2 * unit[1]]
    region[...] = chunk[: region.shape[0], : region.shape[1]]  # an edge chunk is cut off
    assert_zarr_reads(tmp_path, "a", expected, fill_value=5)
    assert_zarrlib_reads(tmp_path, "a", expected, fill_value=5)


# --- variable-length data types and fixed-width strings ------------------------------------------

T = np.dtypes.StringDType()


def _same_elements(a, b):
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape
    assert a.ravel().tolist() == b.ravel().tolist()


WRITTEN = np.array([["a", "", "ß\0x"], ["日本語", "\x1f\x1e", "tail\0"], ["", "x" * 40, "é"]], dtype=T)


@pytest.mark.parametrize("zarr_format", [2, 3])
@pytest.mark.parametrize("dtype", [str, T])
def test_zarrlib_reads_what_zarr_python_writes(tmp_path, zarr_format, dtype):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        z = zarr.create_array(str(tmp_path), shape=(3, 3), chunks=(2, 2), dtype=dtype, zarr_format=zarr_format)
        z[:2, :] = WRITTEN[:2]
    a = zarrlib.open(str(tmp_path))
    assert a.dtype == T
    assert a.fill_value == ""
    expected = WRITTEN.copy()
    expected[2] = ""
    _same_elements(a[...], expected)
    _same_elements(a[::-1, 1], expected[::-1, 1])
    _same_elements(a.read_chunk((0, 0)) if hasattr(a, "read_chunk") else a[:2, :2], expected[:2, :2])


@pytest.mark.parametrize("zarr_format", [2, 3])
def test_zarr_python_reads_what_zarrlib_writes(tmp_path, zarr_format):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        zarr.create_array(str(tmp_path), shape=(3, 3), chunks=(2, 2), dtype=str, zarr_format=zarr_format, fill_value="")
    a = zarrlib.open(str(tmp_path))
    a[...] = WRITTEN
    a[2, ::2] = np.array(["U1", "U2"])  # a fixed-width numpy array
    expected = WRITTEN.copy()
    expected[2, ::2] = ["U1", "U2"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _same_elements(zarr.open_array(str(tmp_path))[...], expected)


@pytest.mark.parametrize("zarr_format", [2, 3])
def test_bytes_cross_both_ways(tmp_path, zarr_format):
    values = np.array([b"a", b"", b"\x00\xff", b"xyz\x00"], dtype=object)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        z = zarr.create_array(
            str(tmp_path / "zp"), shape=(4,), chunks=(3,), dtype=VariableLengthBytes(), zarr_format=zarr_format
        )
        z[:] = values
        a = zarrlib.open(str(tmp_path / "zp"))
        _same_elements(a[:], values)
        assert a.dtype == object
        zarr.create_array(
            str(tmp_path / "zl"), shape=(4,), chunks=(3,), dtype=VariableLengthBytes(), zarr_format=zarr_format
        )
        b = zarrlib.open(str(tmp_path / "zl"))
        b[:] = values[::-1]
        _same_elements(zarr.open_array(str(tmp_path / "zl"))[:], values[::-1])


@pytest.mark.parametrize("zarr_format", [2, 3])
def test_fixed_width_unicode_crosses_both_ways(tmp_path, zarr_format):
    values = np.array(["ab", "", "日本x", "abcde"], dtype="<U5")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        z = zarr.create_array(str(tmp_path), shape=(4,), chunks=(3,), dtype="<U5", zarr_format=zarr_format)
        z[:] = values
        a = zarrlib.open(str(tmp_path))
        assert a.dtype == np.dtype("U5")
        _same_elements(a[:], values)
        a[1:3] = values[:2]
        _same_elements(z[:], np.array(["ab", "ab", "", "abcde"]))


# --- Zarr v3 records (numpy structured dtypes; issue 13 items 2 and 8) ---------------------------
#
# zarr-python 3.1 writes them as `structured` ([name, type] fields, base64 fill value, `bytes`
# without `endian`), 3.2 and later as `struct` ({"name", "data_type"} fields, a fill value per
# field, `bytes` with `endian`) and read both; 3.1 cannot read `struct`. zarrlib reads both and
# its builders write the form of the zarr-python installed (zarrlib.records).

RECORDS = {
    "numbers": [("a", "<i4"), ("b", "<f8"), ("c", "|b1")],
    "every-kind": [
        ("i1", "i1"),
        ("u2", "<u2"),
        ("i8", "<i8"),
        ("f2", "<f2"),
        ("f4", "<f4"),
        ("c8", "<c8"),
        ("c16", "<c16"),
        ("b", "?"),
        ("s", "S5"),
        ("u", "<U3"),
        ("t", "<M8[ms]"),
        ("d", "<m8[10s]"),
    ],
    "raw-bytes": [("v", "V3"), ("a", "<i2")],
    "nested": [("a", "<u4"), ("n", [("x", "<f4"), ("y", "u1"), ("z", [("w", "<i2")])])],
    "single-bytes": [("a", "u1"), ("b", "i1"), ("s", "S2")],
    "big-endian": [("a", ">i4"), ("b", ">f8")],
}


def record_fill(dtype) -> np.void:
    """A record other than zeros: every field set (inf for floats; NaN is unequal to itself in
    records, and the Rust tests cover it)."""
    dtype = np.dtype(dtype)
    value = np.zeros((), dtype)
    for name in dtype.names:
        field = dtype.fields[name][0]
        if field.fields is not None:
            value[name] = record_fill(field)
        elif field.kind in "fc":
            value[name] = np.inf
        elif field.kind in "iu":
            value[name] = 7
        elif field.kind == "b":
            value[name] = True
        elif field.kind in "SV":
            value[name] = np.frombuffer(b"\x01n" * field.itemsize, "u1")[: field.itemsize].view(field)[0]
        elif field.kind == "U":
            value[name] = "nï"
        else:
            value[name] = np.array(5, "i8").view(field)
    return value[()]


def _zarr_record_problem(key: str, writer: str) -> str | None:
    """Why this zarr-python cannot write (``writer="zarr"``) or read back a record, if it cannot."""
    if key == "big-endian" and writer == "zarr" and records.v3_form() == "structured":
        return "zarr-python 3.1 stores big-endian records as they are but reads them as little-endian"
    if key == "raw-bytes" and writer == "zarr" and records.v3_form() == "structured":
        return "zarr-python 3.1 cannot cast a raw bytes field's fill value"
    return None


#: zarr-python warns that records and fixed-width bytes have no stable Zarr v3 specification.
def _quiet_records(test):
    test = pytest.mark.filterwarnings("ignore::UserWarning")(test)
    return pytest.mark.filterwarnings("ignore:The data type .* does not have a Zarr V3 specification")(test)


def _record_params(writer: str):
    for key, fields in RECORDS.items():
        problem = _zarr_record_problem(key, writer)
        yield pytest.param(np.dtype(fields), id=key, marks=[pytest.mark.skip(reason=problem)] if problem else [])


@_quiet_records
@pytest.mark.parametrize("dtype", list(_record_params("zarr")))
def test_zarr_records_read_by_zarrlib(tmp_path, dtype):
    expected = write_with_zarr(tmp_path, "a", dtype, fill_value=record_fill(dtype), zarr_format=3)
    written = json.loads((tmp_path / "a" / "zarr.json").read_text())
    assert written["data_type"]["name"] == records.v3_form()
    assert_zarrlib_reads(tmp_path, "a", expected, fill_value=record_fill(dtype))


@_quiet_records
@pytest.mark.parametrize("shards", [None, (8, 6)])
@pytest.mark.parametrize("dtype", list(_record_params("zarrlib")))
def test_zarrlib_records_read_by_zarr(tmp_path, dtype, shards):
    fill = record_fill(dtype)
    metadata = zarrlib.array_metadata(SHAPE, dtype, chunks=CHUNKS, shards=shards, fill_value=fill)
    assert metadata["data_type"]["name"] == records.v3_form()
    expected = zarrlib_written(tmp_path, "a", metadata)
    if shards and records.v3_form() == "structured":
        pytest.skip("zarr-python 3.1 cannot read sharded records (it hashes the fill value, a numpy void)")
    assert_zarr_reads(tmp_path, "a", expected, fill_value=fill)


#: Zarr v2 records zarrlib reads (and writes): flat or nested, fields in this machine's order.
V2_RECORDS = {key: np.dtype(RECORDS[key]) for key in ("numbers", "every-kind", "nested")}
#: zarr-python writes no Zarr v2 record with datetime fields ("cannot include dtype 'M' in a
#: buffer").
V2_ZARR_WRITES = {
    "numbers": V2_RECORDS["numbers"],
    "every-kind-but-datetimes": np.dtype([f for f in RECORDS["every-kind"] if np.dtype(f[1]).kind not in "Mm"]),
    "nested": V2_RECORDS["nested"],
}


@_quiet_records
@pytest.mark.parametrize("dtype", list(V2_ZARR_WRITES.values()), ids=list(V2_ZARR_WRITES))
def test_zarr_v2_records_read_by_zarrlib(tmp_path, dtype):
    expected = write_with_zarr(tmp_path, "a", dtype, fill_value=record_fill(dtype), zarr_format=2)
    assert_zarrlib_reads(tmp_path, "a", expected, fill_value=record_fill(dtype))


@_quiet_records
@pytest.mark.parametrize("key", [*V2_RECORDS, "big-endian"])
def test_zarrlib_v2_records_read_by_zarr(tmp_path, key):
    dtype = np.dtype(RECORDS[key])
    fill = record_fill(dtype)
    metadata = zarrlib.array_metadata(SHAPE, dtype, chunks=CHUNKS, fill_value=fill, zarr_format=2)
    expected = zarrlib_written(tmp_path, "a", metadata)
    if key == "nested" and records.v3_form() == "structured":
        pytest.skip("zarr-python 3.1 cannot read nested Zarr v2 records, its own included")
    assert_zarr_reads(tmp_path, "a", expected.astype(expected.dtype.newbyteorder("<")), fill_value=fill)


def _v3_record_array(data_type, fill_value, codecs, shape, chunks) -> dict:
    return {
        "zarr_format": 3,
        "node_type": "array",
        "shape": shape,
        "data_type": data_type,
        "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": chunks}},
        "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
        "fill_value": fill_value,
        "codecs": codecs,
    }


def _record_document(form: str, endian: str | None) -> dict:
    """np.dtype([("a", "<i4"), ("s", "S2"), ("c", "<c8")]) in Zarr v3 ``form``."""
    types = [("a", "int32"), ("s", {"name": "null_terminated_bytes", "configuration": {"length_bytes": 2}})]
    types.append(("c", "complex64"))
    if form == "struct":
        fields = [{"name": name, "data_type": data_type} for name, data_type in types]
        fill = {"a": -5, "s": "eHk=", "c": ["Infinity", 2.5]}
    else:
        fields = [[name, data_type] for name, data_type in types]
        little = np.array((-5, b"xy", complex(np.inf, 2.5)), "<i4,S2,<c8")
        fill = base64.standard_b64encode(little.tobytes()).decode()
    bytes_codec = {"name": "bytes", **({"configuration": {"endian": endian}} if endian else {})}
    codecs = [bytes_codec, {"name": "gzip", "configuration": {"level": 1}}]
    return _v3_record_array({"name": form, "configuration": {"fields": fields}}, fill, codecs, [7], [3])


@_quiet_records
@pytest.mark.parametrize(("form", "endian"), [("struct", "little"), ("struct", "big"), ("structured", None)])
def test_record_forms_cross_both_ways(tmp_path, form, endian):
    """Both forms (and a big-endian `bytes` codec) through zarrlib, and zarr-python reads the
    ones it knows: a field in every byte order (`c`'s two halves are reversed one by one)."""
    metadata = _record_document(form, endian)
    zarrlib.create_new_array(metadata, tmp_path, "a")
    array = zarrlib.Array.open(tmp_path, "a")
    dtype = np.dtype([("a", "=i4"), ("s", "S2"), ("c", "=c8")])
    assert array.dtype == dtype
    fill = np.array((-5, b"xy", complex(np.inf, 2.5)), dtype)
    assert array.fill_value.tobytes() == fill.tobytes()
    values = np.array([(i - 3, bytes([97 + i, 98]), complex(i, -i)) for i in range(5)], dtype)
    array[1:6] = values
    expected = np.full(7, fill, dtype)
    expected[1:6] = values
    np.testing.assert_array_equal(array[...], expected)
    stored = (tmp_path / "a" / "c" / "0").read_bytes()
    assert len(stored) > 0
    if form == "struct" and records.v3_form() == "structured":
        return  # zarr-python 3.1 cannot read `struct`
    z = zarr.open_array(tmp_path / "a", mode="r")
    np.testing.assert_array_equal(z[...].astype(dtype), expected)
    assert np.asarray(z.fill_value).astype(dtype).tobytes() == fill.tobytes()


@pytest.mark.parametrize(
    ("data_type", "named"),
    [
        ("string", "string"),
        ({"name": "no_such_type"}, "no_such_type"),
    ],
)
def test_record_fields_zarrlib_cannot_carry_are_named(tmp_path, data_type, named):
    fields = [{"name": "a", "data_type": "int8"}, {"name": "x", "data_type": data_type}]
    data_type = {"name": "struct", "configuration": {"fields": fields}}
    metadata = _v3_record_array(data_type, {"a": 0}, [{"name": "bytes"}], [4], [2])
    with pytest.raises(zarrlib.UnsupportedError, match=f'{named}.*field "x"'):
        zarrlib.create_new_array(metadata, tmp_path, "a")


# --- 3. zstd both ways (zarrlib's own zstd codec, issue 15 item 1) -----------------------------

#: Levels (negative, zarr's default 0, positive) and checksum flags both writers take.
ZSTD_CONFIGURATIONS = [(-5, False), (0, False), (1, True), (3, False), (9, True)]

#: Chunks of 300x260 uint16 (152 KiB: more than one zstd block), the last row partial.
ZSTD_SHAPE = (700, 260)
ZSTD_CHUNKS = (300, 260)

#: Regions near the start of a chunk (decoded as a prefix of the frame), near its end, across
#: chunks, strided, and whole chunks.
ZSTD_SELECTIONS = [
    (slice(0, 2), slice(0, 5)),
    (slice(300, 301), slice(7, 9)),
    (slice(290, 310), slice(250, 260)),
    (slice(5, 650, 7), slice(None, None, 3)),
    (slice(300, 600), slice(None)),
    (slice(None), slice(None)),
]


def _zstd_sample() -> np.ndarray:
    rng = np.random.default_rng(15)
    ramp = np.arange(math.prod(ZSTD_SHAPE), dtype=np.uint32).reshape(ZSTD_SHAPE) // 7
    return (ramp + rng.integers(0, 16, ZSTD_SHAPE)).astype("<u2")


def _assert_zarrlib_reads_zstd(root, expected: np.ndarray) -> None:
    array = zarrlib.Array.open(root, "a")
    for selection in ZSTD_SELECTIONS:
        np.testing.assert_array_equal(array[selection], expected[selection], err_msg=f"{selection}")


@pytest.mark.parametrize("zarr_format", [2, 3])
@pytest.mark.parametrize(("level", "checksum"), ZSTD_CONFIGURATIONS)
def test_zstd_written_by_zarrlib_read_by_zarr(tmp_path, zarr_format, level, checksum):
    if zarr_format == 3:
        metadata = v3_array(ZSTD_SHAPE, ZSTD_CHUNKS, "uint16", compressor=None)
        metadata["codecs"].append({"name": "zstd", "configuration": {"level": level, "checksum": checksum}})
    else:
        metadata = v2_array(ZSTD_SHAPE, ZSTD_CHUNKS, "<u2", fill_value=0, compressor=None)
        metadata["compressor"] = {"id": "zstd", "level": level, "checksum": checksum}
    zarrlib.create_new_array(metadata, tmp_path, "a")
    expected = _zstd_sample()
    zarrlib.Array.open(tmp_path, "a")[...] = expected
    read = zarr.open_array(tmp_path / "a", mode="r")
    np.testing.assert_array_equal(read[...], expected)
    compressor = read.compressors[0]
    configuration = compressor.to_dict() if zarr_format == 3 else compressor.get_config()
    assert configuration.get("configuration", configuration)["level"] == level
    _assert_zarrlib_reads_zstd(tmp_path, expected)


@pytest.mark.parametrize("zarr_format", [2, 3])
@pytest.mark.parametrize(("level", "checksum"), ZSTD_CONFIGURATIONS)
def test_zstd_written_by_zarr_read_by_zarrlib(tmp_path, zarr_format, level, checksum):
    compressor = (
        ZstdCodec(level=level, checksum=checksum)
        if zarr_format == 3
        else numcodecs.Zstd(level=level, checksum=checksum)
    )
    array = zarr.create_array(
        store=LocalStore(tmp_path),
        name="a",
        shape=ZSTD_SHAPE,
        chunks=ZSTD_CHUNKS,
        dtype="<u2",
        fill_value=0,
        zarr_format=zarr_format,
        compressors=compressor,
    )
    expected = _zstd_sample()
    array[...] = expected
    _assert_zarrlib_reads_zstd(tmp_path, expected)
