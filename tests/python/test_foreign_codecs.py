"""What other writers put in real data: zarr-python 3 writes, zarrlib reads (issue 13, items 2 and 8).

zarr-python writes each numcodecs codec it offers, Zarr v2 (``compressor=`` / ``filters=``
numcodecs objects) and Zarr v3 (``zarr.codecs.numcodecs`` classes and the ``"numcodecs.<name>"``
codec dictionaries they stand for, including the bare ``{"name": "numcodecs.zlib",
"configuration": {}}``), and each v2 data type of item 2, with a fill value and with
``fill_value=None``. zarrlib must read each array equal to zarr-python's own read of it (lossy
codecs such as quantize and bitround change the values, so the reference is zarr-python's read, not
the data written), or raise :class:`zarrlib.UnsupportedError` whose message names the codec or
data type. The matrix records the state honestly:

- a case in ``UNSUPPORTED`` must raise ``UnsupportedError`` naming the codec or type (the test
  fails once zarrlib reads it, so the entry is removed when support lands);
- a case in ``BROKEN`` fails some other way today (a wrong error class, a parser's message) and is
  a strict xfail whose reason says how.
"""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest

import zarrlib

zarr = pytest.importorskip("zarr")
numcodecs = pytest.importorskip("numcodecs")

from zarr.storage import LocalStore  # noqa: E402

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import zarr.codecs.numcodecs as zn  # noqa: E402

# zarr-python warns on every numcodecs codec in v3 metadata ("not in the Zarr version 3 specification").
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::DeprecationWarning")

SHAPE = (13, 10)
CHUNKS = (4, 3)
LABELS = ["apple", "kiwi", "plum"]


def sample(dtype) -> np.ndarray:
    """Deterministic data of ``dtype`` for the first ten rows (the last chunk row stays unwritten)."""
    dtype = np.dtype(dtype)
    rng = np.random.default_rng(7)
    shape = (10, SHAPE[1])
    n = math.prod(shape)
    if dtype.kind == "b":
        return rng.integers(0, 2, shape).astype(bool)
    if dtype.kind in "iu":
        # A slowly varying sequence (delta's case) with some noise.
        return (np.arange(n).reshape(shape) * 3 + rng.integers(-5, 5, shape)).astype(dtype)
    if dtype.kind == "f":
        return (rng.standard_normal(shape) * 100).astype(dtype)
    if dtype.kind == "c":
        return (rng.standard_normal(shape) * 100 + 1j * rng.standard_normal(shape)).astype(dtype)
    if dtype.kind == "U":
        return np.array(LABELS, dtype=dtype)[rng.integers(0, len(LABELS), shape)]
    if dtype.kind == "S":
        return np.array([b"ab", b"", b"xyz\x00q", b"\xff" * dtype.itemsize], dtype=dtype)[rng.integers(0, 4, shape)]
    if dtype.kind in "mM":
        return (rng.integers(-(10**12), 10**12, shape)).astype("i8").view(dtype)
    if dtype.kind == "V" and dtype.names:
        out = np.zeros(shape, dtype=dtype)
        for name in dtype.names:
            out[name] = rng.integers(-100, 100, out[name].shape).astype(out[name].dtype)
        return out
    if dtype.kind == "V":
        return rng.integers(0, 256, (*shape, dtype.itemsize), dtype=np.uint8).view(dtype).reshape(shape)
    raise AssertionError(f"no sample for {dtype}")


def write_with_zarr(root, zarr_format: int, dtype, *, fill_value=0, **kwargs) -> np.ndarray:
    """Create an array with zarr-python, write its first ten rows, return zarr-python's read."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        array = zarr.create_array(
            store=LocalStore(root),
            name="a",
            shape=SHAPE,
            chunks=CHUNKS,
            dtype=dtype,
            fill_value=fill_value,
            zarr_format=zarr_format,
            **kwargs,
        )
        array[:10, :] = sample(dtype)
        return zarr.open_array(store=LocalStore(root), path="a", mode="r")[...]


def assert_zarrlib_reads(root, expected: np.ndarray) -> None:
    array = zarrlib.Array.open(root, "a")
    assert array.shape == expected.shape
    got = array[...]
    assert got.dtype == expected.dtype.newbyteorder("=")
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(array[1:12:3, ::-2], expected[1:12:3, ::-2])


def check(root, expected: np.ndarray, unsupported: str | None) -> None:
    """zarrlib reads ``expected``, or (for a known unsupported case) says UNSUPPORTED naming it."""
    if unsupported is None:
        assert_zarrlib_reads(root, expected)
        return
    with pytest.raises(zarrlib.UnsupportedError) as info:
        zarrlib.Array.open(root, "a")[...]
    assert unsupported.lower() in str(info.value).lower(), str(info.value)
    assert "untagged enum" not in str(info.value)


# --- codecs -----------------------------------------------------------------------------------

#: name -> (dtype, v2 keyword arguments, v3 keyword arguments). The name is the numcodecs codec id.
CODECS = {
    "delta": ("int32", dict(filters=[numcodecs.Delta(dtype="<i4")]), dict(filters=[zn.Delta(dtype="<i4")])),
    "lz4": ("int32", dict(compressors=numcodecs.LZ4(acceleration=1)), dict(compressors=[zn.LZ4(acceleration=1)])),
    "lzma": ("int32", dict(compressors=numcodecs.LZMA(preset=1)), dict(compressors=[zn.LZMA(preset=1)])),
    "quantize": (
        "float64",
        dict(filters=[numcodecs.Quantize(digits=2, dtype="<f8")]),
        dict(filters=[zn.Quantize(digits=2, dtype="<f8")]),
    ),
    "bitround": (
        "float64",
        dict(filters=[numcodecs.BitRound(keepbits=6)]),
        dict(filters=[zn.BitRound(keepbits=6)]),
    ),
    "astype": (
        "float64",
        dict(filters=[numcodecs.AsType(encode_dtype="<f4", decode_dtype="<f8")]),
        dict(filters=[zn.AsType(encode_dtype="<f4", decode_dtype="<f8")]),
    ),
    "packbits": ("bool", dict(filters=[numcodecs.PackBits()]), dict(filters=[zn.PackBits()])),
    "categorize": (
        "<U5",
        dict(filters=[numcodecs.Categorize(labels=LABELS, dtype="<U5", astype="|u1")]),
        None,  # numcodecs has no v3 categorize
    ),
    "fixedscaleoffset": (
        "float64",
        dict(filters=[numcodecs.FixedScaleOffset(offset=10, scale=100, dtype="<f8", astype="<i4")]),
        dict(filters=[zn.FixedScaleOffset(offset=10, scale=100, dtype="<f8", astype="<i4")]),
    ),
    "fletcher32": ("int32", dict(compressors=numcodecs.Fletcher32()), dict(compressors=[zn.Fletcher32()])),
    "crc32": ("int32", dict(compressors=numcodecs.CRC32()), dict(compressors=[zn.CRC32()])),
    "adler32": ("int32", dict(compressors=numcodecs.Adler32()), dict(compressors=[zn.Adler32()])),
    "shuffle": (
        "int32",
        dict(filters=[numcodecs.Shuffle(elementsize=4)]),
        dict(compressors=[zn.Shuffle(elementsize=4)]),
    ),
    "zlib": ("int32", dict(compressors=numcodecs.Zlib(level=4)), dict(compressors=[zn.Zlib(level=4)])),
    "bz2": ("int32", dict(compressors=numcodecs.BZ2(level=2)), dict(compressors=[zn.BZ2(level=2)])),
    "zstd": ("int32", dict(compressors=numcodecs.Zstd(level=2)), dict(compressors=[zn.Zstd(level=2)])),
    "blosc": (
        "int32",
        dict(compressors=numcodecs.Blosc(cname="lz4", clevel=5, shuffle=numcodecs.Blosc.SHUFFLE)),
        dict(compressors=[zn.Blosc(cname="lz4", clevel=5, shuffle=numcodecs.Blosc.SHUFFLE)]),
    ),
    "gzip": ("int32", dict(compressors=numcodecs.GZip(level=3)), dict(compressors=[zn.GZip(level=3)])),
}

#: (format, codec) -> the name UnsupportedError must give: zarrlib cannot read these yet.
UNSUPPORTED: dict[tuple[int, str], str] = {}

#: (format, codec) -> how it fails today other than UNSUPPORTED naming the codec (strict xfail).
BROKEN: dict[tuple[int, str], str] = {}


def _codec_params(zarr_format: int, *, as_dict: bool = False):
    for name, (dtype, v2, v3) in CODECS.items():
        kwargs = v2 if zarr_format == 2 else v3
        if kwargs is None:
            continue
        if as_dict:
            kwargs = {key: [codec.to_dict() for codec in value] for key, value in kwargs.items()}
        marks = []
        if (zarr_format, name) in BROKEN:
            marks = [pytest.mark.xfail(strict=True, reason=BROKEN[zarr_format, name])]
        yield pytest.param(dtype, kwargs, UNSUPPORTED.get((zarr_format, name)), id=name, marks=marks)


@pytest.mark.parametrize(("dtype", "kwargs", "unsupported"), list(_codec_params(2)))
def test_v2_numcodecs(tmp_path, dtype, kwargs, unsupported):
    expected = write_with_zarr(tmp_path, 2, dtype, fill_value=None if dtype == "<U5" else 0, **kwargs)
    document = json.loads((tmp_path / "a" / ".zarray").read_text())
    assert document["compressor"] is not None or document["filters"]
    check(tmp_path, expected, unsupported)


@pytest.mark.parametrize(("dtype", "kwargs", "unsupported"), list(_codec_params(3)))
def test_v3_numcodecs_classes(tmp_path, dtype, kwargs, unsupported):
    expected = write_with_zarr(tmp_path, 3, dtype, **kwargs)
    names = [codec["name"] for codec in json.loads((tmp_path / "a" / "zarr.json").read_text())["codecs"]]
    assert any(name.startswith("numcodecs.") for name in names), names
    check(tmp_path, expected, unsupported)


@pytest.mark.parametrize(("dtype", "kwargs", "unsupported"), list(_codec_params(3, as_dict=True)))
def test_v3_numcodecs_dicts(tmp_path, dtype, kwargs, unsupported):
    """The same codecs given to zarr-python as ``{"name": "numcodecs.<id>", "configuration": ...}``."""
    expected = write_with_zarr(tmp_path, 3, dtype, **kwargs)
    check(tmp_path, expected, unsupported)


@pytest.mark.parametrize(
    ("codec", "unsupported"),
    [
        ("zlib", None),
        ("bz2", None),
        ("gzip", None),
        ("zstd", None),
        ("blosc", None),
        ("lz4", None),
        ("lzma", None),
        ("crc32", None),
        ("adler32", None),
        ("fletcher32", None),
    ],
)
def test_v3_numcodecs_default_configuration(tmp_path, codec, unsupported):
    """A codec's default configuration, as zarr-python writes it: ``"configuration": {}``."""
    expected = write_with_zarr(tmp_path, 3, "int32", compressors=[{"name": f"numcodecs.{codec}", "configuration": {}}])
    codecs = json.loads((tmp_path / "a" / "zarr.json").read_text())["codecs"]
    assert {"name": f"numcodecs.{codec}", "configuration": {}} in codecs, codecs
    check(tmp_path, expected, unsupported)


# --- v2 data types (item 2) and fill_value null -----------------------------------------------

STRUCTURED = [("a", "<i4"), ("b", "<f8"), ("e", "|b1")]

#: Every data type zarr-python writes in Zarr v2 (variable-length strings aside: the
#: cross-implementation tests have them), each written with a fill value and with ``None``.
DTYPES = {
    "bool": "|b1",
    **{name: np.dtype(name).str for name in "int8 int16 int32 int64 uint8 uint16 uint32 uint64".split()},
    **{name: np.dtype(name).str for name in "float16 float32 float64 complex64 complex128".split()},
    "datetime64-ns": "<M8[ns]",
    "datetime64-s": "<M8[s]",
    "timedelta64-ms": "<m8[ms]",
    "unicode": "<U12",
    "bytes": "|S6",
    "void": "|V6",
    "structured": STRUCTURED,
    # zarr-python cannot read its own null fill value for records with bytes or subarray fields.
    "structured-wide": [("a", "<i4"), ("c", "|S3"), ("d", "<u2", (2,))],
}


def _zarr_writes_subarray_fields() -> bool:
    """zarr-python 3.1 writes records with subarray fields; 3.4 refuses them (ValueError)."""
    dtype = np.dtype([("d", "<u2", (2,))])
    fill = np.zeros((), dtype)[()]
    try:
        zarr.create_array(store=zarr.storage.MemoryStore(), shape=(1,), dtype=dtype, fill_value=fill, zarr_format=2)
    except ValueError:
        return False
    return True


#: data type -> why zarr-python (this version) cannot write it: those cases are skipped.
DTYPE_UNWRITABLE: dict[str, str] = (
    {}
    if _zarr_writes_subarray_fields()
    else {"structured-wide": f"zarr-python {zarr.__version__} refuses structured dtypes with subarray fields"}
)

#: data type -> the name UnsupportedError gives (v2): zarrlib cannot read these.
DTYPE_UNSUPPORTED: dict[str, str] = {}

#: data type -> how fill_value null fails today other than as DTYPE_UNSUPPORTED says (strict xfail).
NULL_FILL_BROKEN: dict[str, str] = {}

#: data type -> how it fails today other than as DTYPE_UNSUPPORTED says (strict xfail).
DTYPE_BROKEN: dict[str, str] = {}


def _dtype_params(broken: dict[str, str], skip=()):
    for key, dtype in DTYPES.items():
        if key in skip:
            continue
        marks = [pytest.mark.xfail(strict=True, reason=broken[key])] if key in broken else []
        if key in DTYPE_UNWRITABLE:
            marks.append(pytest.mark.skip(reason=DTYPE_UNWRITABLE[key]))
        yield pytest.param(dtype, DTYPE_UNSUPPORTED.get(key), id=key, marks=marks)


def _fill(dtype):
    """A fill value other than zero for ``dtype``, as zarr-python takes it."""
    dtype = np.dtype(dtype)
    if dtype.kind in "mM":
        return np.array(5, dtype="i8").view(dtype)[()]
    if dtype.kind == "U":
        return "none"
    if dtype.kind == "S":
        return b"nil"
    if dtype.kind == "V":
        return np.frombuffer(bytes(range(1, dtype.itemsize + 1)), dtype)[0]
    if dtype.kind == "b":
        return True
    return np.ones((), dtype)[()]


@pytest.mark.parametrize(("dtype", "unsupported"), list(_dtype_params(DTYPE_BROKEN)))
def test_v2_dtype(tmp_path, dtype, unsupported):
    expected = write_with_zarr(tmp_path, 2, dtype, fill_value=_fill(dtype))
    check(tmp_path, expected, unsupported)
    if unsupported is None:
        assert_same(zarrlib.Array.open(tmp_path, "a").fill_value, np.asarray(_fill(dtype), expected.dtype))


@pytest.mark.parametrize(("dtype", "unsupported"), list(_dtype_params(NULL_FILL_BROKEN, skip={"structured-wide"})))
def test_v2_dtype_null_fill_value(tmp_path, dtype, unsupported):
    """``fill_value=None``: zarr-python writes null and reads unwritten chunks as zero, empty or NaT."""
    expected = write_with_zarr(tmp_path, 2, dtype, fill_value=None)
    assert json.loads((tmp_path / "a" / ".zarray").read_text())["fill_value"] is None
    check(tmp_path, expected, unsupported)


def assert_same(got, expected) -> None:
    """The same bytes in ``expected``'s dtype: NaN and NaT equal to themselves."""
    assert np.asarray(got, expected.dtype).tobytes() == expected.tobytes()


@pytest.mark.parametrize(
    ("dtype", "name"),
    [
        pytest.param(
            [("a", "<f8"), ("b", ">i4" if np.little_endian else "<i4")], "b", id="field-in-foreign-byte-order"
        ),
    ],
)
def test_v2_structured_dtypes_zarrlib_cannot_carry_name_the_field(tmp_path, dtype, name):
    """Records reach the engine as raw bits, which it never reorders: fields must be in this
    machine's byte order (native/src/dtypes/structured.rs)."""
    write_with_zarr(tmp_path, 2, dtype)
    with pytest.raises(zarrlib.UnsupportedError, match=f"field {name!r}".replace("'", '"')):
        zarrlib.Array.open(tmp_path, "a")


@pytest.mark.parametrize("dtype", ["|S6", "<M8[ns]", "<m8[10ms]"])
def test_v3_dtype(tmp_path, dtype):
    expected = write_with_zarr(tmp_path, 3, dtype, fill_value=_fill(dtype))
    check(tmp_path, expected, None)


# --- the reverse: zarrlib writes numcodecs codecs, zarr-python reads them -------------------

BYTES = {"name": "bytes", "configuration": {"endian": "little"}}


def nc(name: str, **configuration) -> dict:
    """zarr-python's v3 form of numcodecs codec ``name``."""
    return {"name": f"numcodecs.{name}", "configuration": configuration}


#: codec -> (dtype, v2 fields, v3 codec list or None, whether zarrlib's chunks are the very bytes
#: zarr-python writes for the same data). liblz4 and lz4_flex, and zlib and flate2, may compress
#: alike data differently; both decode either.
OWN_CODECS = {
    "lz4": ("int32", {"compressor": {"id": "lz4", "acceleration": 1}}, [BYTES, nc("lz4")], False),
    "crc32": ("int32", {"compressor": {"id": "crc32"}}, [BYTES, nc("crc32")], True),
    "crc32-end": (
        "int32",
        {"compressor": {"id": "crc32", "location": "end"}},
        [BYTES, nc("crc32", location="end")],
        True,
    ),
    "lzma": (
        "int32",
        {"compressor": {"id": "lzma", "format": 1, "check": -1, "preset": 1, "filters": None}},
        [BYTES, nc("lzma", preset=1)],
        True,
    ),
    "lzma-alone": (
        "int32",
        {"compressor": {"id": "lzma", "format": 2, "check": -1, "preset": None, "filters": None}},
        [BYTES, nc("lzma", format=2)],
        True,
    ),
    "delta": (
        "int32",
        {"filters": [{"id": "delta", "dtype": "<i4", "astype": "<i2"}]},
        [nc("delta", dtype="<i4", astype="<i2"), BYTES],
        True,
    ),
    "quantize": (
        "float64",
        {"filters": [{"id": "quantize", "digits": 2, "dtype": "<f8", "astype": "<f4"}]},
        # zarr-python's v3 quantize keeps the array's data type past the codec: no astype there.
        [nc("quantize", digits=2, dtype="<f8"), BYTES],
        True,
    ),
    "astype": (
        "float64",
        {"filters": [{"id": "astype", "encode_dtype": "<f4", "decode_dtype": "<f8"}]},
        [nc("astype", encode_dtype="<f4", decode_dtype="<f8"), BYTES],
        True,
    ),
    "bitround": (
        "float64",
        {"filters": [{"id": "bitround", "keepbits": 6}]},
        [nc("bitround", keepbits=6), BYTES],
        True,
    ),
    "packbits": ("bool", {"filters": [{"id": "packbits"}]}, [nc("packbits"), {"name": "bytes"}], True),
    "categorize": (
        "<U5",
        {"filters": [{"id": "categorize", "labels": LABELS, "dtype": "<U5", "astype": "|u1"}]},
        None,
        True,
    ),
    "delta-zstd": (
        "int64",
        {"filters": [{"id": "delta", "dtype": "<i8"}], "compressor": {"id": "zstd", "level": 3, "checksum": False}},
        [nc("delta", dtype="<i8"), BYTES, nc("zstd")],
        False,
    ),
    "gzip": ("int32", {"compressor": {"id": "gzip", "level": 5}}, [BYTES, nc("gzip")], False),
    "blosc": (
        "int32",
        {"compressor": {"id": "blosc", "cname": "zstd", "clevel": 3, "shuffle": 2, "blocksize": 0}},
        [BYTES, nc("blosc", cname="zstd", clevel=3, shuffle=-1)],
        False,
    ),
}


def _own_document(zarr_format: int, dtype: str, fields) -> dict:
    fill = "" if dtype == "<U5" else False if dtype == "bool" else 0
    if zarr_format == 2:
        return {
            "zarr_format": 2,
            "shape": list(SHAPE),
            "chunks": list(CHUNKS),
            "dtype": np.dtype(dtype).str,
            "compressor": None,
            "filters": None,
            "fill_value": fill,
            "order": "C",
            **fields,
        }
    return {
        "zarr_format": 3,
        "node_type": "array",
        "shape": list(SHAPE),
        "data_type": str(np.dtype(dtype)),
        "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": list(CHUNKS)}},
        "chunk_key_encoding": {"name": "default"},
        "fill_value": fill,
        "codecs": fields,
    }


def _own_params():
    for name, (dtype, v2, v3, identical) in OWN_CODECS.items():
        yield pytest.param(2, dtype, v2, identical, id=f"v2-{name}")
        if v3 is not None:
            yield pytest.param(3, dtype, v3, identical, id=f"v3-{name}")


def _chunks(root) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted((root / "a").rglob("*"))
        if path.is_file() and path.name not in (".zarray", ".zattrs", "zarr.json")
    }


@pytest.mark.parametrize(("zarr_format", "dtype", "fields", "identical"), list(_own_params()))
def test_zarrlib_writes_numcodecs_read_by_zarr(tmp_path, zarr_format, dtype, fields, identical):
    """zarr-python reads what zarrlib writes as zarrlib reads it; for lossless codecs, the data
    written. Where the format allows, zarrlib's chunks are byte for byte zarr-python's."""
    metadata = _own_document(zarr_format, dtype, fields)
    ours, theirs = tmp_path / "zarrlib", tmp_path / "zarr"
    zarrlib.create_new_array(metadata, ours, "a")
    zarrlib.create_new_array(metadata, theirs, "a")
    data = sample(dtype)
    array = zarrlib.Array.open(ours, "a")
    array[:10, :] = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        zarr.open_array(store=LocalStore(theirs), path="a", mode="r+")[:10, :] = data
        read_by_zarr = zarr.open_array(store=LocalStore(ours), path="a", mode="r")[...]
    got = array[...]
    np.testing.assert_array_equal(read_by_zarr, got)
    np.testing.assert_array_equal(zarrlib.Array.open(theirs, "a")[...], got)
    lossy = any(name in str(fields) for name in ("quantize", "bitround", "astype"))
    if not lossy:
        np.testing.assert_array_equal(got[:10], data)
    assert _chunks(ours).keys() == _chunks(theirs).keys()
    if identical:
        assert _chunks(ours) == _chunks(theirs)


def _dtype_writes():
    for key in DTYPES:
        marks = [pytest.mark.skip(reason=DTYPE_UNWRITABLE[key])] if key in DTYPE_UNWRITABLE else []
        yield pytest.param(2, DTYPES[key], "fill", id=f"v2-{key}", marks=marks)
        if key != "structured-wide":
            yield pytest.param(2, DTYPES[key], None, id=f"v2-{key}-null-fill")
    for dtype in ["|S6", "<M8[ns]", "<m8[10ms]", "<U12"]:
        yield pytest.param(3, dtype, "fill", id=f"v3-{dtype}")


@pytest.mark.parametrize(("zarr_format", "dtype", "fill"), list(_dtype_writes()))
def test_zarrlib_writes_dtypes_as_zarr_python_does(tmp_path, zarr_format, dtype, fill):
    """zarrlib writes each data type into the document zarr-python made, and its chunks are
    zarr-python's byte for byte; zarr-python reads them back."""
    theirs, ours = tmp_path / "zarr", tmp_path / "zarrlib"
    fill_value = _fill(dtype) if fill else None
    expected = write_with_zarr(theirs, zarr_format, dtype, fill_value=fill_value, compressors=None)
    metadata = zarrlib.read_metadata(theirs, "a")
    zarrlib.create_new_array(metadata, ours, "a")
    zarrlib.Array.open(ours, "a")[:10, :] = sample(dtype)
    assert _chunks(ours) == _chunks(theirs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        read_by_zarr = zarr.open_array(store=LocalStore(ours), path="a", mode="r")[...]
    assert read_by_zarr.tobytes() == expected.tobytes()


# --- what zarrlib cannot read is named (issue 13 item 8) -------------------------------------


def _v2_doc(dtype="<i4", compressor=None, filters=None, fill_value=0) -> dict:
    return {
        "zarr_format": 2,
        "shape": [4],
        "chunks": [2],
        "dtype": dtype,
        "compressor": compressor,
        "filters": filters,
        "fill_value": fill_value,
        "order": "C",
    }


def _v3_doc(data_type="int32", codecs=None, fill_value=0) -> dict:
    return {
        "zarr_format": 3,
        "node_type": "array",
        "shape": [4],
        "data_type": data_type,
        "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [2]}},
        "chunk_key_encoding": {"name": "default"},
        "fill_value": fill_value,
        "codecs": codecs or [BYTES],
    }


#: A document zarrlib cannot read -> (error class, what its message must name).
UNREADABLE = {
    "v3-record-with-a-string-field": (
        _v3_doc(
            {"name": "structured", "configuration": {"fields": [["a", "int32"], ["s", "string"]]}},
            fill_value="AAAAAA==",
        ),
        zarrlib.UnsupportedError,
        'field "s"',
    ),
    "v3-record-fill-value": (
        _v3_doc(
            {"name": "struct", "configuration": {"fields": [{"name": "a", "data_type": "int32"}]}}, fill_value={"b": 1}
        ),
        zarrlib.InvalidMetadataError,
        "fill",
    ),
    "v3-unknown-type": (_v3_doc("float128"), zarrlib.UnsupportedError, "float128"),
    "v2-unknown-type": (_v2_doc("<f16"), zarrlib.UnsupportedError, "<f16"),
    "v2-generic-datetime": (_v2_doc("<M8"), zarrlib.UnsupportedError, "<M8"),
    "v2-nested-structured-object-field": (_v2_doc([["a", [["x", "|O"]]]]), zarrlib.UnsupportedError, '"x"'),
    "v2-not-a-dtype": (_v2_doc({"a": 1}), zarrlib.InvalidMetadataError, "dtype"),
    "v2-jenkins": (_v2_doc(compressor={"id": "jenkins_lookup3"}), zarrlib.UnsupportedError, "jenkins_lookup3"),
    "v3-jenkins": (_v3_doc(codecs=[BYTES, nc("jenkins_lookup3")]), zarrlib.UnsupportedError, "jenkins_lookup3"),
    "v3-pcodec": (_v3_doc(codecs=[nc("pcodec")]), zarrlib.UnsupportedError, "pcodec"),
    "v2-lzma-filters": (
        _v2_doc(compressor={"id": "lzma", "format": 1, "check": -1, "preset": None, "filters": [{"id": 33}]}),
        zarrlib.UnsupportedError,
        "lzma with custom filters",
    ),
    "v2-lzma-raw": (
        _v2_doc(compressor={"id": "lzma", "format": 3, "check": -1, "preset": None, "filters": None}),
        zarrlib.UnsupportedError,
        "lzma format 3",
    ),
    "v2-categorize-object": (
        _v2_doc("|O", filters=[{"id": "categorize", "labels": ["a"], "dtype": "|O", "astype": "|u1"}], fill_value=""),
        zarrlib.UnsupportedError,
        "categorize",
    ),
    "v3-blosc-configuration": (
        _v3_doc(codecs=[BYTES, {"name": "blosc", "configuration": {"cname": "lz5", "clevel": 1, "shuffle": "x"}}]),
        zarrlib.InvalidMetadataError,
        "blosc",
    ),
    "v3-transpose-configuration": (
        _v3_doc(codecs=[{"name": "transpose", "configuration": {"order": "Z"}}, BYTES]),
        zarrlib.InvalidMetadataError,
        "transpose",
    ),
}


@pytest.mark.parametrize("case", list(UNREADABLE))
def test_what_zarrlib_cannot_read_is_named(tmp_path, case):
    document, error, name = UNREADABLE[case]
    with pytest.raises(error) as info:
        zarrlib.create_new_array(document, tmp_path, "a")
    assert name in str(info.value), str(info.value)
    assert "untagged enum" not in str(info.value)
