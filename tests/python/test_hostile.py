"""Hostile and corrupt data: each case here once crashed the process, exhausted its memory or was
accepted and failed later. Each must now fail cleanly, with the library's own error, and reading a
decompression bomb must not grow the process by more than a small multiple of the chunk.

The reads run in a child process, so a regression shows as a failed test, not a dead test run,
and the child's peak RSS is measured on its own.
"""

from __future__ import annotations

import json
import lzma
import subprocess
import sys
import textwrap
import zlib
from pathlib import Path

import numcodecs
import numpy as np
import pytest

import zarrlib
from layouts import v3_array

#: How much a child process may grow while it reads a bomb stored for a tiny chunk.
RSS_BUDGET_MIB = 64
BOMB_BYTES = 256 << 20


def v3_metadata(codecs: list[dict], shape=(2, 2), dtype="uint8") -> dict:
    """One chunk of ``shape``, the ``bytes`` codec, then ``codecs``."""
    metadata = v3_array(shape, shape, dtype, compressor=None)
    metadata["codecs"] += codecs
    return metadata


def v2_metadata(compressor: dict) -> dict:
    return {
        "zarr_format": 2,
        "shape": [2, 2],
        "chunks": [2, 2],
        "dtype": "|u1",
        "compressor": compressor,
        "fill_value": 0,
        "order": "C",
        "filters": None,
    }


def gzip_bomb(size: int) -> bytes:
    """``size`` zero bytes, gzip-compressed without ever holding them."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = bytes(1 << 20)
    parts = [compressor.compress(block) for _ in range(size // len(block))]
    return b"".join(parts) + compressor.flush()


def lzma_bomb(size: int, format: int = lzma.FORMAT_XZ) -> bytes:
    """``size`` zero bytes, lzma-compressed at preset 9 (a 64 MiB dictionary) without ever
    holding them."""
    compressor = lzma.LZMACompressor(format=format, preset=9)
    block = bytes(1 << 20)
    parts = [compressor.compress(block) for _ in range(size // len(block))]
    return b"".join(parts) + compressor.flush()


def lzma_alone_claiming_dictionary(size: int) -> bytes:
    """A legacy .lzma header asking for a ``size``-byte dictionary (of unknown output size),
    then the start of a stream."""
    return bytes([0x5D]) + size.to_bytes(4, "little") + bytes([0xFF] * 8) + bytes(16)


def zstd_claiming(size: int) -> bytes:
    """A zstd frame whose header announces ``size`` bytes, holding none."""
    return bytes([0x28, 0xB5, 0x2F, 0xFD, 0xE0]) + size.to_bytes(8, "little") + bytes([1, 0, 0])


def with_crc32c(data: bytes) -> bytes:
    """``data`` followed by its CRC-32C, as the v3 ``crc32c`` codec stores it, so decoding gets
    past the checksum to the codec before it."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return data + (crc ^ 0xFFFFFFFF).to_bytes(4, "little")


CHILD = textwrap.dedent(
    """
    import json, resource, sys
    import zarrlib
    metadata, root, path = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3]
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    outcome = {}
    for name, call in [
        ("read_chunk", lambda: zarrlib.read_chunk(metadata, root, path, (0, 0))),
        ("read_region", lambda: zarrlib.read_region(metadata, root, path, (0, slice(0, 1)))),
    ]:
        try:
            call()
            outcome[name] = "no error"
        except zarrlib.ZarrlibError as err:
            outcome[name] = type(err).__name__
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    outcome["grew_mib"] = (after - before) / 1024
    print(json.dumps(outcome))
    """
)


def read_in_child(tmp_path: Path, metadata: dict, chunk_key: str, stored: bytes) -> dict:
    """Create the array, store ``stored`` as its one chunk, and read it in a child process."""
    zarrlib.create_new_array(metadata, tmp_path, "a")
    (tmp_path / "a" / chunk_key).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / "a" / chunk_key).write_bytes(stored)
    result = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(metadata), str(tmp_path), "a"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, f"the child died ({result.returncode}): {result.stderr[-2000:]}"
    return json.loads(result.stdout)


ZSTD = {"name": "zstd", "configuration": {"level": 0, "checksum": False}}
BOMBS = {
    "zstd frame claiming 2^60 bytes, v3": (v3_metadata([ZSTD]), "c/0/0", lambda: zstd_claiming(1 << 60)),
    "zstd frame claiming 2^60 bytes, v3 with crc32c": (
        v3_metadata([ZSTD, {"name": "crc32c"}]),
        "c/0/0",
        lambda: with_crc32c(zstd_claiming(1 << 60)),
    ),
    "zstd frame claiming 2^60 bytes, v2": (
        v2_metadata({"id": "zstd", "level": 1}),
        "0.0",
        lambda: zstd_claiming(1 << 60),
    ),
    "zstd bomb, v3": (
        v3_metadata([ZSTD]),
        "c/0/0",
        lambda: numcodecs.Zstd(level=3).encode(np.zeros(64 << 20, np.uint8)),
    ),
    "gzip bomb, v3": (
        v3_metadata([{"name": "gzip", "configuration": {"level": 5}}]),
        "c/0/0",
        lambda: gzip_bomb(BOMB_BYTES),
    ),
    "gzip bomb, v2": (v2_metadata({"id": "gzip", "level": 5}), "0.0", lambda: gzip_bomb(BOMB_BYTES)),
    "zlib bomb, v2": (
        v2_metadata({"id": "zlib", "level": 5}),
        "0.0",
        lambda: zlib.compress(bytes(64 << 20), 9),
    ),
    "bz2 bomb, v2": (
        v2_metadata({"id": "bz2", "level": 9}),
        "0.0",
        lambda: numcodecs.BZ2(level=9).encode(np.zeros(64 << 20, np.uint8)),
    ),
    "lzma bomb, v2": (
        v2_metadata({"id": "lzma", "format": 1, "check": -1, "preset": None, "filters": None}),
        "0.0",
        lambda: lzma_bomb(64 << 20),
    ),
    "lzma bomb, v3": (
        v3_metadata([{"name": "numcodecs.lzma", "configuration": {}}]),
        "c/0/0",
        lambda: lzma_bomb(64 << 20),
    ),
    "lzma-alone bomb, v2": (
        v2_metadata({"id": "lzma", "format": 2, "check": -1, "preset": None, "filters": None}),
        "0.0",
        lambda: lzma_bomb(64 << 20, lzma.FORMAT_ALONE),
    ),
    "lzma header asking for a 4 GiB dictionary, v2": (
        v2_metadata({"id": "lzma", "format": 2, "check": -1, "preset": None, "filters": None}),
        "0.0",
        lambda: lzma_alone_claiming_dictionary(2**32 - 1),
    ),
    "blosc header claiming 2 GiB, v2": (
        v2_metadata({"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 0, "blocksize": 0}),
        "0.0",
        lambda: (
            bytes([2, 1, 1, 1])
            + (2**31 - 17).to_bytes(4, "little")
            + (4096).to_bytes(4, "little")
            + (32).to_bytes(4, "little")
            + bytes(16)
        ),
    ),
}


@pytest.mark.parametrize("case", sorted(BOMBS))
def test_decompression_bombs_are_corrupt_data_within_bounded_memory(tmp_path, case):
    metadata, key, make = BOMBS[case]
    outcome = read_in_child(tmp_path, metadata, key, make())
    assert outcome["read_chunk"] == "CorruptDataError"
    assert outcome["read_region"] == "CorruptDataError"
    assert outcome["grew_mib"] < RSS_BUDGET_MIB, outcome


def test_a_blosc_typesize_c_blosc_cannot_take_is_refused_at_create(tmp_path):
    blosc = {
        "name": "blosc",
        "configuration": {"cname": "lz4", "clevel": 5, "shuffle": "shuffle", "typesize": 2**32, "blocksize": 0},
    }
    with pytest.raises(zarrlib.InvalidMetadataError, match="typesize"):
        zarrlib.create_new_array(v3_metadata([blosc]), tmp_path, "a")
    assert not (tmp_path / "a").exists()


@pytest.mark.parametrize("name", [".zarray", ".zgroup", ".zattrs", "zarr.json", ".zmetadata"])
def test_nodes_cannot_take_the_names_of_metadata_documents(tmp_path, name):
    zarrlib.create_new_group({"zarr_format": 2}, tmp_path, "")
    with pytest.raises(zarrlib.InvalidArgumentError, match="metadata document"):
        zarrlib.create_new_group({"zarr_format": 2}, tmp_path, name)
    with pytest.raises(zarrlib.InvalidArgumentError, match="metadata document"):
        zarrlib.create_new_array(v2_metadata({"id": "zlib", "level": 1}), tmp_path, f"g/{name}")
    # The group is untouched and still works.
    assert zarrlib.read_metadata(tmp_path, "") == {"zarr_format": 2, "attributes": {}}
    assert zarrlib.list_children(tmp_path, "") == []


def test_chunk_coordinates_past_uint64_are_out_of_bounds(tmp_path):
    metadata = v3_metadata([ZSTD])
    zarrlib.create_new_array(metadata, tmp_path, "a")
    for coords in [(2**64, 0), (0, 2**70)]:
        with pytest.raises(zarrlib.OutOfBoundsError):
            zarrlib.read_chunk(metadata, tmp_path, "a", coords)
        with pytest.raises(zarrlib.OutOfBoundsError):
            zarrlib.write_chunk(metadata, tmp_path, "a", coords, np.zeros((2, 2), np.uint8))


def test_metadata_nested_too_deeply_is_invalid_metadata(tmp_path):
    deep: dict = {}
    for _ in range(5000):
        deep = {"x": deep}
    metadata = {**v3_metadata([ZSTD]), "attributes": deep}
    with pytest.raises(zarrlib.InvalidMetadataError):
        zarrlib.create_new_array(metadata, tmp_path, "a")
    with pytest.raises(zarrlib.InvalidMetadataError):
        zarrlib.read_chunk(metadata, tmp_path, "a", (0, 0))
    # Deep, but within what the engine's JSON parser takes, is fine in the attributes.
    shallow: dict = {}
    for _ in range(50):
        shallow = {"x": shallow}
    zarrlib.create_new_array({**v3_metadata([ZSTD]), "attributes": shallow}, tmp_path, "b")


def test_a_corrupt_inner_chunk_of_a_checksummed_shard_fails_every_read(tmp_path):
    """Partial reads of a shard whose inner chunks carry crc32c returned the corrupted values
    while a whole-chunk read reported the corruption."""
    bytes_codec = {"name": "bytes", "configuration": {"endian": "little"}}
    sharding = {
        "name": "sharding_indexed",
        "configuration": {
            "chunk_shape": [4, 4],
            "codecs": [bytes_codec, {"name": "crc32c"}],
            "index_codecs": [bytes_codec, {"name": "crc32c"}],
        },
    }
    metadata = {**v3_metadata([], shape=(8, 8), dtype="uint16"), "codecs": [sharding]}
    zarrlib.create_new_array(metadata, tmp_path, "a")
    zarrlib.write_region(metadata, tmp_path, "a", ..., np.arange(64, dtype=np.uint16).reshape(8, 8))
    shard = tmp_path / "a" / "c" / "0" / "0"
    stored = bytearray(shard.read_bytes())
    stored[2] ^= 0xFF  # element (0, 1) of the first inner chunk; its checksum is left as it was
    shard.write_bytes(bytes(stored))
    array = zarrlib.Array.open(tmp_path, "a")
    for selection in [(slice(0, 2), slice(0, 2)), (0, slice(None)), ..., (slice(None, None, 2), slice(None, None, 2))]:
        with pytest.raises(zarrlib.CorruptDataError):
            array[selection]
    with pytest.raises(zarrlib.CorruptDataError):
        array.read_chunk((0, 0))


def run_in_child(code: str) -> dict:
    """Run ``code`` in a child process and return what it stored in ``outcome``, plus how much
    the child grew while running it (``grew_mib``)."""
    script = (
        "import json, resource, sys\nimport numpy as np\nimport zarrlib\noutcome = {}\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        + textwrap.dedent(code)
        + "\noutcome['grew_mib'] = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024"
        + "\nprint(json.dumps(outcome))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"the child died ({result.returncode}): {result.stderr[-2000:]}"
    return json.loads(result.stdout)


def test_chunks_far_larger_than_the_array_are_refused_before_anything_is_allocated(tmp_path):
    """A [4] array of 2^40-byte chunks: a one-element read or any write made the engine allocate
    the declared chunk, and the failed allocation aborted the process."""
    metadata = v3_metadata([{"name": "gzip", "configuration": {"level": 1}}], shape=(4,))
    metadata["chunk_grid"]["configuration"]["chunk_shape"] = [2**40]
    zarrlib.create_new_array(metadata, tmp_path, "a")
    (tmp_path / "a" / "c").mkdir()
    (tmp_path / "a" / "c" / "0").write_bytes(gzip_bomb(1 << 20))
    outcome = run_in_child(
        f"""
        metadata, root = {metadata!r}, {str(tmp_path)!r}
        for name, call in [
            ("read", lambda: zarrlib.read_region(metadata, root, "a", (slice(0, 1),))),
            ("write", lambda: zarrlib.write_region(metadata, root, "a", (slice(0, 1),), np.ones(1, np.uint8))),
        ]:
            try:
                call()
                outcome[name] = "no error"
            except zarrlib.ZarrlibError as err:
                outcome[name] = f"{{type(err).__name__}}: {{err}}"
        """
    )
    for name in ["read", "write"]:
        assert outcome[name].startswith("UnsupportedError"), outcome
        assert "max_chunk_bytes" in outcome[name], outcome
    assert outcome["grew_mib"] < RSS_BUDGET_MIB, outcome
    # The limit is a setting: chunks up to it are read and written.
    assert zarrlib.get_config()["max_chunk_bytes"] == 2**31


def test_reading_part_of_an_unstored_checksummed_chunk_allocates_only_that_part(tmp_path):
    """2x2 elements of an unstored [2, 2^28] int32 chunk with crc32c (2 GiB): reads that validate
    checksums decode whole chunks, and made the whole declared chunk of fill value."""
    codecs = [{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "crc32c"}]
    metadata = v3_array((2, 2**28), (2, 2**28), "int32", compressor=None)
    metadata["codecs"] = codecs
    metadata["fill_value"] = 7
    zarrlib.create_new_array(metadata, tmp_path, "a")
    outcome = run_in_child(
        f"""
        metadata, root = {metadata!r}, {str(tmp_path)!r}
        outcome["region"] = zarrlib.read_region(metadata, root, "a", (slice(0, 2), slice(5, 7))).tolist()
        outcome["strided"] = zarrlib.Array.open(root, "a")[:, 10:20:5].tolist()
        """
    )
    assert outcome["region"] == outcome["strided"] == [[7, 7], [7, 7]]
    assert outcome["grew_mib"] < RSS_BUDGET_MIB, outcome


def test_the_last_chunks_of_an_axis_of_extent_near_2_64(tmp_path):
    """Where the last chunk ends past 2^64 elements, zarrs' arithmetic wrapped: wrong values, an
    InternalError, or a strided read that allocated until the process was killed."""
    metadata = v3_metadata([ZSTD], shape=(2**64 - 1,))
    metadata["chunk_grid"]["configuration"]["chunk_shape"] = [3]  # 3 divides 2^64 - 1
    metadata["fill_value"] = 3
    zarrlib.create_new_array(metadata, tmp_path, "a")
    end = slice(2**64 - 3, 2**64 - 1)
    assert zarrlib.read_region(metadata, tmp_path, "a", (end,)).tolist() == [3, 3]
    zarrlib.write_region(metadata, tmp_path, "a", (end,), np.array([1, 2], np.uint8))
    assert zarrlib.read_region(metadata, tmp_path, "a", (end,)).tolist() == [1, 2]
    assert zarrlib.read_chunk(metadata, tmp_path, "a", ((2**64 - 2) // 3,)).tolist() == [3, 1, 2]
    assert zarrlib.Array.open(tmp_path, "a")[2**64 - 5 :: 2].tolist() == [3, 1]
    # Chunks of 7 elements: the last one would end past 2^64.
    metadata["chunk_grid"]["configuration"]["chunk_shape"] = [7]
    with pytest.raises(zarrlib.InvalidMetadataError, match="past 2\\^64"):
        zarrlib.create_new_array(metadata, tmp_path, "b")
    with pytest.raises(zarrlib.InvalidMetadataError, match="past 2\\^64"):
        zarrlib.read_region(metadata, tmp_path, "a", (end,))


@pytest.mark.parametrize("index_location", ["start", "end"])
def test_a_shard_index_entry_ending_past_2_64_is_corrupt_data(tmp_path, index_location):
    """An index entry whose offset plus size passes 2^64, under a valid index checksum, panicked
    in zarrs' sharding codec."""
    bytes_codec = {"name": "bytes", "configuration": {"endian": "little"}}
    sharding = {
        "name": "sharding_indexed",
        "configuration": {
            "chunk_shape": [2],
            "codecs": [bytes_codec],
            "index_codecs": [bytes_codec, {"name": "crc32c"}],
            "index_location": index_location,
        },
    }
    metadata = {**v3_metadata([], shape=(4,)), "codecs": [sharding]}
    zarrlib.create_new_array(metadata, tmp_path, "a")
    zarrlib.write_region(metadata, tmp_path, "a", ..., np.arange(4, dtype=np.uint8))
    shard = tmp_path / "a" / "c" / "0"
    stored = shard.read_bytes()
    index_at = 0 if index_location == "start" else len(stored) - 36
    index = bytearray(stored[index_at : index_at + 32])
    index[:8] = (2**64 - 2).to_bytes(8, "little")
    index_with_crc = with_crc32c(bytes(index))
    shard.write_bytes(stored[:index_at] + index_with_crc + stored[index_at + 36 :])
    array = zarrlib.Array.open(tmp_path, "a")
    for call in [lambda: array[...], lambda: array[0:1], lambda: array.read_chunk((0,))]:
        with pytest.raises(zarrlib.CorruptDataError, match="shard index"):
            call()
    with pytest.raises(zarrlib.CorruptDataError, match="shard index"):
        array[1:2] = np.array([9], np.uint8)


@pytest.mark.parametrize(
    "damage",
    ["truncated in the first block", "fewer bytes than the chunk", "claims 2^60 bytes", "not zstd"],
)
# Rows spanning most of the chunk (decoded whole but for its last planes), or a small part of it
# (zarrs' partial decoder, through the same prefix decoding).
@pytest.mark.parametrize("rows", [([1, 20, 5], [0, 63]), ([1, 5, 2], [0, 3])])
def test_orthogonal_reads_that_decode_a_zstd_prefix_still_report_corrupt_frames(tmp_path, damage, rows):
    """An orthogonal read whose rows end early in a chunk decodes the frame only that far
    (``zstd_codec::decode_at_least``); a damaged frame is still corrupt data, not a short read."""
    shape = (32, 64, 64)
    metadata = v3_array(shape, shape, "uint16")
    data = np.random.default_rng(0).integers(0, 50, shape, dtype="uint16")
    zarrlib.create_new_array(metadata, tmp_path, "a")
    zarrlib.write_region(metadata, tmp_path, "a", ..., data)
    selection = (*rows, slice(None))
    np.testing.assert_array_equal(zarrlib.Array.open(tmp_path, "a").oindex[selection], data[np.ix_(*rows)])
    stored = {
        "truncated in the first block": numcodecs.Zstd(level=0).encode(data.tobytes())[:200],
        "fewer bytes than the chunk": numcodecs.Zstd(level=0).encode(data[:16].tobytes()),
        "claims 2^60 bytes": zstd_claiming(1 << 60),
        "not zstd": b"\0" * 64,
    }[damage]
    (tmp_path / "a" / "c" / "0" / "0" / "0").write_bytes(stored)
    with pytest.raises(zarrlib.CorruptDataError):
        zarrlib.Array.open(tmp_path, "a").oindex[selection]
