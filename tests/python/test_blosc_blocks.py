"""Parts of blosc chunks decoded only in the blosc blocks that hold them (``blosc_blocks``):
region reads, strided selections, ``oindex`` and ``vindex`` of blosc arrays whose chunks have
many small blocks give numpy's answer, for every cname, shuffle and typesize zarr-python writes,
v2 and v3, across edge chunks and a missing chunk; a corrupt blosc chunk (cut short, a header
claiming more bytes, a block start or a block's compressed length pointing past the end) is
``CorruptDataError`` on every read path, never a crash or a wrong answer."""

from __future__ import annotations

import struct
from pathlib import Path

import numcodecs
import numpy as np
import pytest
import zarr
from zarr.codecs import BloscCodec

import zarrlib

SHAPE = (150, 140, 70)
#: Edge chunks on every axis. Chunks this large hold several blosc blocks (numcodecs 0.16
#: does not pass a forced blocksize on, and c-blosc makes one block of a chunk under 128 KiB).
CHUNKS = (64, 64, 64)
#: The chunk left unstored: it reads as the fill value.
MISSING = (1, 2, 0)
FILL = 3
#: Small blocks where the codec passes them on (see CHUNKS).
BLOCKSIZE = 256

CNAMES = ["lz4", "zstd"]
SHUFFLES = ["noshuffle", "shuffle", "bitshuffle"]
DTYPES = ["uint8", "uint16", "float64"]


def write_array(path: Path, zarr_format: int, cname: str, shuffle: str, dtype: str) -> np.ndarray:
    """The array as zarr-python writes it, one chunk not stored: the data a read should give."""
    if zarr_format == 3:
        compressors = [BloscCodec(cname=cname, clevel=5, shuffle=shuffle, blocksize=BLOCKSIZE)]
    else:
        number = {"noshuffle": numcodecs.Blosc.NOSHUFFLE, "shuffle": numcodecs.Blosc.SHUFFLE}.get(
            shuffle, numcodecs.Blosc.BITSHUFFLE
        )
        compressors = numcodecs.Blosc(cname=cname, clevel=5, shuffle=number, blocksize=BLOCKSIZE)
    rng = np.random.default_rng(7)
    # Runs of repeated values, so blocks compress (and some store as they are).
    data = np.repeat(rng.integers(0, 200, size=int(np.prod(SHAPE)) // 4 + 1), 4)[: int(np.prod(SHAPE))]
    data = data.astype(dtype).reshape(SHAPE)
    array = zarr.create_array(
        str(path),
        shape=SHAPE,
        chunks=CHUNKS,
        dtype=dtype,
        fill_value=FILL,
        compressors=compressors,
        zarr_format=zarr_format,
    )
    array[...] = data
    chunk_file(path, zarr_format, MISSING).unlink()
    data[tuple(slice(i * n, (i + 1) * n) for i, n in zip(MISSING, CHUNKS, strict=True))] = FILL
    return data


def chunk_file(path: Path, zarr_format: int, chunk: tuple[int, ...]) -> Path:
    return path / ("c/" + "/".join(map(str, chunk)) if zarr_format == 3 else ".".join(map(str, chunk)))


def check_reads(array: zarrlib.Array, data: np.ndarray, seed: int) -> None:
    rng = np.random.default_rng(seed)
    # Small regions (inside one chunk, or across a few), and large ones.
    for _ in range(40):
        size = rng.integers(1, [6, 6, 6] if rng.random() < 0.7 else SHAPE, endpoint=True)
        start = [int(rng.integers(0, s - n + 1)) for s, n in zip(SHAPE, size, strict=True)]
        box = tuple(slice(b, b + int(n)) for b, n in zip(start, size, strict=True))
        np.testing.assert_array_equal(array[box], data[box], err_msg=str(box))
    # A row, a plane, a column.
    for box in [(5, 3, slice(None)), (slice(None), 20, 4), (17, slice(None), slice(None))]:
        np.testing.assert_array_equal(array[box], data[box], err_msg=str(box))
    # Strided selections, negative steps too.
    for box in [
        (slice(None, None, 3), slice(None, None, 5), slice(None, None, 7)),
        (slice(None, None, 16), slice(1, None, 12), slice(None)),
        (slice(None, None, -4), slice(3, 20, 2), slice(22, 0, -9)),
        (slice(None, None, 2), slice(None, None, 2), slice(None, None, 2)),
    ]:
        np.testing.assert_array_equal(array[box], data[box], err_msg=str(box))
    # Orthogonal selections: random indices (unsorted, repeated) per axis.
    for count in (1, 3, 9):
        rows, cols = (rng.integers(0, n, size=count) for n in SHAPE[:2])
        np.testing.assert_array_equal(array.oindex[rows, cols, :], data[np.ix_(rows, cols, np.arange(SHAPE[2]))])
        depths = rng.integers(0, SHAPE[2], size=count)
        np.testing.assert_array_equal(array.oindex[rows, :, depths], data[np.ix_(rows, np.arange(SHAPE[1]), depths)])
    # Points.
    points = tuple(rng.integers(0, n, size=200) for n in SHAPE)
    np.testing.assert_array_equal(array.vindex[points], data[points])
    np.testing.assert_array_equal(array[...], data)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shuffle", SHUFFLES)
@pytest.mark.parametrize("cname", CNAMES)
@pytest.mark.parametrize("zarr_format", [3, 2])
def test_partial_reads_of_blosc_chunks_give_numpys_answer(tmp_path, zarr_format, cname, shuffle, dtype):
    path = tmp_path / "a.zarr"
    data = write_array(path, zarr_format, cname, shuffle, dtype)
    np.testing.assert_array_equal(zarr.open_array(str(path), mode="r")[...], data)
    array = zarrlib.Array.open(zarrlib.open_store(str(path)), "")
    check_reads(array, data, seed=len(cname) * 100 + len(shuffle) * 10 + len(dtype))


def test_blosc_chunks_with_the_default_blocksize(tmp_path):
    """One block per chunk (zarr-python's default blocksize for small chunks), and chunks
    blosc stores as they are (random bytes do not compress)."""
    path = tmp_path / "a.zarr"
    data = np.random.default_rng(1).integers(0, 2**16, size=SHAPE, dtype="uint16")
    array = zarr.create_array(str(path), shape=SHAPE, chunks=CHUNKS, dtype="uint16", compressors=[BloscCodec()])
    array[...] = data
    check_reads(zarrlib.Array.open(zarrlib.open_store(str(path)), ""), data, seed=1)


def blosc_header(stored: bytes) -> tuple[int, int, int, int, int]:
    """flags, typesize, nbytes, blocksize, cbytes of a blosc buffer."""
    _, _, flags, typesize, nbytes, blocksize, cbytes = struct.unpack_from("<BBBBIII", stored)
    return flags, typesize, nbytes, blocksize, cbytes


def corrupt_values(stored: bytes) -> dict[str, bytes]:
    flags, _, nbytes, blocksize, cbytes = blosc_header(stored)
    assert not flags & 0x2, "the chunk must be compressed to have a table of block starts"
    nblocks = -(-nbytes // blocksize)
    assert nblocks > 4
    # Block 3's start, and the compressed length it points at.
    table = 16 + 3 * 4
    (start,) = struct.unpack_from("<I", stored, table)

    def changed(at: int, value: int) -> bytes:
        return stored[:at] + struct.pack("<I", value) + stored[at + 4 :]

    return {
        "truncated": stored[:-7],
        "claims more bytes": changed(4, nbytes + 2),
        "claims more compressed bytes": changed(12, cbytes + 100),
        "block start past the end": changed(table, len(stored) + 64),
        "block start at the last bytes": changed(table, len(stored) - 2),
        "compressed length past the end": changed(start, len(stored)),
        "negative compressed length": changed(start, 0xFFFFFFF0),
        "zero blocksize": changed(8, 0),
    }


@pytest.mark.parametrize("zarr_format", [3, 2])
def test_a_corrupt_blosc_chunk_is_corrupt_data_on_every_path(tmp_path, zarr_format):
    path = tmp_path / "a.zarr"
    data = write_array(path, zarr_format, "lz4", "shuffle", "uint16")
    file = chunk_file(path, zarr_format, (0, 0, 0))
    stored = file.read_bytes()
    # Every read needs block 3 of chunk (0, 0, 0), which the changes below break: a read that
    # needs no broken block decodes none and reads as it should.
    _, _, _, blocksize, _ = blosc_header(stored)
    p = 3 * blocksize // (CHUNKS[1] * CHUNKS[2] * 2)
    reads = {
        "small region": lambda a: a[p : p + 2, 2:5, 3:4],
        "region across chunks": lambda a: a[p : p + 60, 10:14, :],
        "strided": lambda a: a[p::3, ::4, ::3],
        "oindex": lambda a: a.oindex[[12, p, 9], [1, 7], :],
        "vindex": lambda a: a.vindex[[12, p], [1, 7], [0, 9]],
        "chunk": lambda a: a.read_chunk((0, 0, 0)),
        "whole": lambda a: a[...],
    }
    for change, value in corrupt_values(stored).items():
        file.write_bytes(value)
        array = zarrlib.Array.open(zarrlib.open_store(str(path)), "")
        for name, read in reads.items():
            with pytest.raises(zarrlib.CorruptDataError):
                read(array)
                pytest.fail(f"{change}: {name} read")
        # The other chunks still read.
        np.testing.assert_array_equal(array[CHUNKS[0] :, :, :], data[CHUNKS[0] :], err_msg=change)
    file.write_bytes(stored)
    check_reads(zarrlib.Array.open(zarrlib.open_store(str(path)), ""), data, seed=3)
