"""Whole compressed chunks decoded straight into the caller's buffer (chunks stored as ``bytes``
in memory order then zstd or blosc, maybe wrapped in crc32c): every way of reading a whole
chunk (``read_chunk``, ``read_chunks``, a region that is one chunk, zarr-python's ``a[chunk]``
through zarrlib's codec pipeline, a whole read whose chunks are contiguous in the output) gives
what zarr-python reads, v2 and v3, over a local directory and an object store; a frame that is
truncated, too large, too small or garbage is ``CorruptDataError``, never a partial read
reported as a success; big-endian chunks still read the general way."""

from __future__ import annotations

import itertools
from pathlib import Path

import numcodecs
import numpy as np
import pytest
import zarr
from zarr.codecs import BloscCodec, BytesCodec, Crc32cCodec, ZstdCodec

import zarrlib
import zarrlib.pipeline  # noqa: F401  (registers the pipeline when the package runs from source)

SHAPE = (20, 12, 10)
#: Chunks that span the trailing axes whole (a whole read places each one contiguously), and
#: chunks that do not; both with an edge chunk on the first axis.
CHUNK_SHAPES = [(8, 12, 10), (8, 6, 10)]
#: The chunk left unstored: it reads as the fill value.
MISSING = (1, 0, 0)
FILL = 7


def _v3(compressors, serializer="auto"):
    return {"zarr_format": 3, "compressors": compressors, "serializer": serializer}


def _v2(compressor, dtype=None):
    return {"zarr_format": 2, "compressors": compressor, **({"dtype": dtype} if dtype else {})}


LAYOUTS = {
    "v3-zstd": _v3([ZstdCodec(level=1)]),
    "v3-zstd-checksum": _v3([ZstdCodec(level=3, checksum=True)]),
    "v3-blosc": _v3([BloscCodec(cname="lz4", clevel=5, shuffle="shuffle")]),
    "v3-zstd-crc32c": _v3([ZstdCodec(level=1), Crc32cCodec()]),
    "v3-blosc-crc32c": _v3([BloscCodec(cname="zstd", clevel=3, shuffle="bitshuffle"), Crc32cCodec()]),
    "v2-zstd": _v2(numcodecs.Zstd(level=1)),
    "v2-blosc": _v2(numcodecs.Blosc(cname="lz4", clevel=5, shuffle=numcodecs.Blosc.SHUFFLE)),
    # Unencoded: a region that is one whole chunk is read straight from the file, as read_chunk is.
    "v3-raw": _v3(None),
    "v2-raw": _v2(None),
    # Not in memory order: the general way.
    "v3-zstd-big-endian": _v3([ZstdCodec(level=1)], BytesCodec(endian="big")),
    "v2-zstd-big-endian": _v2(numcodecs.Zstd(level=1), ">u2"),
}


def write_array(path: Path, layout: str, chunks: tuple[int, ...]) -> np.ndarray:
    """The array as zarr-python writes it, one chunk not stored: the data a read should give."""
    options = dict(LAYOUTS[layout])
    dtype = options.pop("dtype", "uint16")
    data = (np.arange(np.prod(SHAPE)) * 7919 % 65521).astype("uint16").reshape(SHAPE)
    array = zarr.create_array(str(path), shape=SHAPE, chunks=chunks, dtype=dtype, fill_value=FILL, **options)
    array[...] = data
    chunk_file(path, array.metadata.zarr_format, MISSING).unlink()
    box = chunk_box(MISSING, chunks)
    data[box] = FILL
    return data


def chunk_file(path: Path, zarr_format: int, chunk: tuple[int, ...]) -> Path:
    return path / ("c/" + "/".join(map(str, chunk)) if zarr_format == 3 else ".".join(map(str, chunk)))


def chunk_box(chunk: tuple[int, ...], chunks: tuple[int, ...]) -> tuple[slice, ...]:
    return tuple(slice(i * n, (i + 1) * n) for i, n in zip(chunk, chunks, strict=True))


def grid(chunks: tuple[int, ...]) -> list[tuple[int, ...]]:
    return list(itertools.product(*(range(-(-s // c)) for s, c in zip(SHAPE, chunks, strict=True))))


def in_bounds(chunk: tuple[int, ...], chunks: tuple[int, ...]) -> tuple[slice, ...]:
    """The part of a full-shape chunk read that lies inside the array."""
    return tuple(slice(0, min(n, s - i * n)) for i, n, s in zip(chunk, chunks, SHAPE, strict=True))


def check_reads(array: zarrlib.Array, data: np.ndarray, chunks: tuple[int, ...]) -> None:
    every = grid(chunks)
    stacked = array.read_chunks(every)
    out = np.empty(chunks, dtype=array.dtype)
    for chunk, from_many in zip(every, stacked, strict=True):
        box = chunk_box(chunk, chunks)
        inside = in_bounds(chunk, chunks)
        one = array.read_chunk(chunk)
        np.testing.assert_array_equal(one[inside], data[box], err_msg=str(chunk))
        np.testing.assert_array_equal(from_many, one, err_msg=str(chunk))
        array.read_chunk(chunk, out=out)
        np.testing.assert_array_equal(out, one, err_msg=str(chunk))
        np.testing.assert_array_equal(array[box], data[box], err_msg=str(chunk))
    np.testing.assert_array_equal(array[...], data)
    np.testing.assert_array_equal(array[8:20, :, :], data[8:20])
    assert (array.read_chunk(MISSING) == FILL).all()


@pytest.mark.parametrize("chunks", CHUNK_SHAPES, ids=str)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_whole_chunks_read_as_zarr_python_reads_them(tmp_path, layout, chunks):
    path = tmp_path / "a.zarr"
    data = write_array(path, layout, chunks)
    np.testing.assert_array_equal(zarr.open_array(str(path), mode="r")[...], data)
    array = zarrlib.Array.open(zarrlib.open_store(str(path)), "")
    check_reads(array, data, chunks)
    # zarr-python through zarrlib's pipeline: `a[chunk]` is one engine call for one whole chunk.
    with zarr.config.set({"codec_pipeline.path": "zarrlib.ZarrlibCodecPipeline"}):
        piped = zarr.open_array(str(path), mode="r")
        for chunk in grid(chunks):
            box = chunk_box(chunk, chunks)
            np.testing.assert_array_equal(piped[box], data[box], err_msg=str(chunk))
        np.testing.assert_array_equal(piped[...], data)


@pytest.mark.parametrize("layout", ["v3-zstd", "v3-blosc-crc32c", "v2-blosc"])
def test_whole_chunks_over_http_read_as_locally(http_server, layout):
    name = f"direct-{layout}.zarr"
    data = write_array(http_server.root / name, layout, CHUNK_SHAPES[0])
    array = zarrlib.Array.open(zarrlib.open_store(f"{http_server.url}/{name}"), "")
    check_reads(array, data, CHUNK_SHAPES[0])


def encode_like(layout: str, raw: bytes) -> bytes:
    """``raw`` encoded by the layout's compressor (no checksum wrapper)."""
    if "zstd" in layout.split("-")[1]:
        return bytes(numcodecs.Zstd(level=1).encode(raw))
    return bytes(numcodecs.Blosc(cname="lz4", clevel=5, shuffle=numcodecs.Blosc.SHUFFLE, typesize=2).encode(raw))


def corrupt_values(layout: str, stored: bytes, chunk_bytes: int) -> dict[str, bytes]:
    """Stored values that must not read: cut short, garbage, and (for a bare compressor) frames
    that decode to more or fewer bytes than the chunk holds."""
    values = {
        "truncated": stored[: len(stored) // 2],
        "garbage": bytes(np.random.default_rng(0).integers(0, 256, len(stored), dtype=np.uint8)),
        "empty": b"",
    }
    if "crc32c" not in layout:
        values["oversize"] = encode_like(layout, bytes(range(256)) * (chunk_bytes // 128))
        values["undersize"] = encode_like(layout, bytes(range(256)) * (chunk_bytes // 512))
    return values


@pytest.mark.parametrize("layout", ["v3-zstd", "v3-zstd-checksum", "v3-blosc", "v3-zstd-crc32c", "v2-zstd", "v2-blosc"])
def test_a_bad_stored_value_is_corrupt_data(tmp_path, layout):
    chunks = CHUNK_SHAPES[0]
    path = tmp_path / "a.zarr"
    data = write_array(path, layout, chunks)
    zarr_format = 2 if layout.startswith("v2") else 3
    file = chunk_file(path, zarr_format, (0, 0, 0))
    stored = file.read_bytes()
    chunk_bytes = int(np.prod(chunks)) * 2
    for change, value in corrupt_values(layout, stored, chunk_bytes).items():
        file.write_bytes(value)
        array = zarrlib.Array.open(zarrlib.open_store(str(path)), "")
        out = np.empty(chunks, dtype=array.dtype)
        for read in (
            lambda a, o: a.read_chunk((0, 0, 0)),
            lambda a, o: a.read_chunk((0, 0, 0), out=o),
            lambda a, o: a.read_chunks([(0, 0, 0), (2, 0, 0)]),
            lambda a, o: a[0:8, :, :],
            lambda a, o: a[...],
        ):
            with pytest.raises(zarrlib.CorruptDataError):
                read(array, out)
        # The other chunks still read.
        np.testing.assert_array_equal(array[8:20], data[8:20], err_msg=change)
    file.write_bytes(stored)
    np.testing.assert_array_equal(zarrlib.Array.open(zarrlib.open_store(str(path)), "")[...], data)


def test_checksums_are_validated_only_when_asked(tmp_path):
    chunks = CHUNK_SHAPES[0]
    path = tmp_path / "a.zarr"
    data = write_array(path, "v3-zstd-crc32c", chunks)
    file = chunk_file(path, 3, (0, 0, 0))
    stored = file.read_bytes()
    # The frame is intact, its checksum is not.
    file.write_bytes(stored[:-4] + bytes(b ^ 0xFF for b in stored[-4:]))
    array = zarrlib.Array.open(zarrlib.open_store(str(path)), "")
    with pytest.raises(zarrlib.CorruptDataError):
        array.read_chunk((0, 0, 0))
    with pytest.raises(zarrlib.CorruptDataError):
        array[0:8]
    unchecked = array._native.with_options(validate_checksums=False)
    np.testing.assert_array_equal(unchecked.read_chunk((0, 0, 0)), data[0:8])
    np.testing.assert_array_equal(unchecked.read(np.s_[0:8]), data[0:8])
    # Not validated, a frame that is cut short still does not decode.
    file.write_bytes(stored[: len(stored) // 2] + stored[-4:])
    with pytest.raises(zarrlib.CorruptDataError):
        unchecked.read_chunk((0, 0, 0))


@pytest.mark.parametrize("layout", ["v3-raw", "v2-raw"])
def test_a_cut_short_unencoded_chunk_is_corrupt_data(tmp_path, layout):
    chunks = CHUNK_SHAPES[0]
    path = tmp_path / "a.zarr"
    data = write_array(path, layout, chunks)
    file = chunk_file(path, 2 if layout.startswith("v2") else 3, (0, 0, 0))
    stored = file.read_bytes()
    file.write_bytes(stored[:-2])
    array = zarrlib.Array.open(zarrlib.open_store(str(path)), "")
    for read in (lambda: array.read_chunk((0, 0, 0)), lambda: array[0:8, :, :], lambda: array[...]):
        with pytest.raises(zarrlib.CorruptDataError):
            read()
    np.testing.assert_array_equal(array[8:20], data[8:20])
