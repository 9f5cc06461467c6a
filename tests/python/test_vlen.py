"""Variable-length data types: ``string`` and ``bytes`` arrays, Zarr v3 and zarr-python's v2
``|O`` with vlen filters, through the functional API, Array objects and aio; checked against the
reference backend (zarr-python), and read across implementations both ways."""

from __future__ import annotations

import asyncio
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import zarrlib
import zarrlib.aio

zarr = pytest.importorskip("zarr")
from zarr.core.dtype import VariableLengthBytes  # noqa: E402

T = np.dtypes.StringDType()


def v3_strings(shape, chunks, fill="", *, codecs=None, data_type="string"):
    codec = "vlen-utf8" if data_type == "string" else "vlen-bytes"
    return {
        "zarr_format": 3,
        "node_type": "array",
        "shape": list(shape),
        "data_type": data_type,
        "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": list(chunks)}},
        "chunk_key_encoding": {"name": "default"},
        "fill_value": fill,
        "codecs": codecs
        or [{"name": codec, "configuration": {}}, {"name": "zstd", "configuration": {"level": 0, "checksum": False}}],
    }


def v2_objects(shape, chunks, filter_id="vlen-utf8", fill=None):
    return {
        "zarr_format": 2,
        "shape": list(shape),
        "chunks": list(chunks),
        "dtype": "|O",
        "compressor": {"id": "zstd", "level": 0},
        "fill_value": fill,
        "order": "C",
        "filters": [{"id": filter_id}],
    }


def sharded_strings(shape, chunks, inner):
    return v3_strings(
        shape,
        chunks,
        codecs=[
            {
                "name": "sharding_indexed",
                "configuration": {
                    "chunk_shape": list(inner),
                    "codecs": [{"name": "vlen-utf8", "configuration": {}}],
                    "index_codecs": [{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "crc32c"}],
                },
            }
        ],
    )


STRING_LAYOUTS = {
    "v3": v3_strings((7, 5), (3, 2), "-"),
    "v2": v2_objects((7, 5), (3, 2)),
    "v3_sharded": sharded_strings((7, 5), (4, 4), (2, 2)),
    "v3_crc32c": v3_strings((7, 5), (3, 2), codecs=[{"name": "vlen-utf8", "configuration": {}}, {"name": "crc32c"}]),
}
BYTES_LAYOUTS = {
    "v3": v3_strings((7, 5), (3, 2), "", data_type="bytes"),
    "v2": v2_objects((7, 5), (3, 2), "vlen-bytes"),
}

# Text that stresses the layout: empty strings, NULs (embedded and trailing), non-ASCII, and
# the separator bytes the reader joins elements with.
texts = st.text(st.characters(codec="utf-8"), max_size=6)
blobs = st.binary(max_size=6)


def string_values(shape, draw_text):
    return np.array(draw_text, dtype=object).reshape(shape)


def _fresh(tmp_path, name):
    path = tmp_path / name
    path.mkdir(parents=True, exist_ok=True)
    return str(path)


def _equal(a, b):
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape
    assert a.ravel().tolist() == b.ravel().tolist()


# --- differential: native against the reference backend ----------------------------------


@pytest.mark.parametrize("layout", sorted(STRING_LAYOUTS))
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_strings_match_the_reference_backend(tmp_path_factory, layout, data):
    metadata = STRING_LAYOUTS[layout]
    items = data.draw(st.lists(texts, min_size=35, max_size=35))
    value = np.array(items, dtype=T).reshape(7, 5)
    selection = data.draw(_selections())
    stores = {b: str(tmp_path_factory.mktemp(b)) for b in ("native", "reference")}
    for backend, store in stores.items():
        zarrlib.create_new_array(metadata, store, "a", backend=backend)
        zarrlib.write_region(metadata, store, "a", (slice(1, 6), slice(None)), value[1:6], backend=backend)
        zarrlib.write_region(metadata, store, "a", selection, value[selection], backend=backend)
    for reader in ("native", "reference"):
        results = [zarrlib.read_region(metadata, stores[w], "a", (...,), backend=reader) for w in stores]
        _equal(results[0], results[1])
        picked = [zarrlib.read_region(metadata, stores[w], "a", selection, backend=reader) for w in stores]
        _equal(picked[0], picked[1])
        _equal(picked[0], results[0][selection])
    chunk = [zarrlib.read_chunk(metadata, stores["native"], "a", (1, 1), backend=b) for b in stores]
    _equal(chunk[0], chunk[1])


def _selections():
    def axis(n):
        return st.one_of(
            st.integers(-n, n - 1),
            st.builds(
                slice,
                st.none() | st.integers(-n - 1, n + 1),
                st.none() | st.integers(-n - 1, n + 1),
                st.none() | st.sampled_from([1, 2, 3, -1, -2]),
            ),
        )

    return st.tuples(axis(7), axis(5))


@pytest.mark.parametrize("layout", sorted(BYTES_LAYOUTS))
@settings(max_examples=25, deadline=None)
@given(items=st.lists(blobs, min_size=35, max_size=35), chunk=st.tuples(st.integers(0, 2), st.integers(0, 2)))
def test_bytes_match_the_reference_backend(tmp_path_factory, layout, items, chunk):
    metadata = BYTES_LAYOUTS[layout]
    value = np.empty(35, object)
    value[:] = items
    value = value.reshape(7, 5)
    stores = {b: str(tmp_path_factory.mktemp(b)) for b in ("native", "reference")}
    for backend, store in stores.items():
        zarrlib.create_new_array(metadata, store, "a", backend=backend)
        zarrlib.write_region(metadata, store, "a", (slice(0, 6), slice(1, 5)), value[:6, 1:], backend=backend)
    for reader in ("native", "reference"):
        results = [zarrlib.read_region(metadata, stores[w], "a", (...,), backend=reader) for w in stores]
        _equal(results[0], results[1])
        assert results[0].dtype == object
        chunks = [zarrlib.read_chunk(metadata, stores[w], "a", chunk, backend=reader) for w in stores]
        _equal(chunks[0], chunks[1])


# --- cross-implementation ----------------------------------------------------------------


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
    _equal(a[...], expected)
    _equal(a[::-1, 1], expected[::-1, 1])
    _equal(a.read_chunk((0, 0)) if hasattr(a, "read_chunk") else a[:2, :2], expected[:2, :2])


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
        _equal(zarr.open_array(str(tmp_path))[...], expected)


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
        _equal(a[:], values)
        assert a.dtype == object
        zarr.create_array(
            str(tmp_path / "zl"), shape=(4,), chunks=(3,), dtype=VariableLengthBytes(), zarr_format=zarr_format
        )
        b = zarrlib.open(str(tmp_path / "zl"))
        b[:] = values[::-1]
        _equal(zarr.open_array(str(tmp_path / "zl"))[:], values[::-1])


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
