"""Engine settings: get_config / set_config and their effect on chunk I/O."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

import zarrlib
from layouts import v3_array

KEYS = {
    "threads",
    "io_threads",
    "concurrent_target",
    "validate_checksums",
    "store_empty_chunks",
    "max_chunk_bytes",
    "string_dtype",
}


@pytest.fixture(autouse=True)
def restore_config():
    """Every test leaves the process-wide settings as it found them."""
    original = zarrlib.get_config()
    try:
        yield original
    finally:
        zarrlib.set_config(**original)
        assert zarrlib.get_config() == original


def test_get_config():
    config = zarrlib.get_config()
    assert set(config) == KEYS
    assert type(config["threads"]) is int and config["threads"] >= 1
    assert type(config["concurrent_target"]) is int and config["concurrent_target"] >= 0
    assert type(config["validate_checksums"]) is bool
    assert type(config["store_empty_chunks"]) is bool
    assert config["string_dtype"] in ("StringDType", "object")
    # A copy: changing it changes nothing.
    config["threads"] = 12345
    assert zarrlib.get_config()["threads"] != 12345


@pytest.mark.parametrize("threads", [1, 3])
def test_threads_roundtrip(threads):
    zarrlib.set_config(threads=threads)
    assert zarrlib.get_config()["threads"] == threads
    # The engine still works on the new pool.
    store = zarrlib.MemoryStore()
    metadata = v3_array((16, 16), (4, 4))
    data = np.arange(256, dtype="uint16").reshape(16, 16)
    zarrlib.write_region(metadata, store, "a", ..., data)
    np.testing.assert_array_equal(zarrlib.read_region(metadata, store, "a", ...), data)


def test_threads_zero_is_one_per_cpu():
    zarrlib.set_config(threads=0)
    assert zarrlib.get_config()["threads"] >= 1


def test_io_threads_roundtrip():
    assert zarrlib.get_config()["io_threads"] == 32
    zarrlib.set_config(io_threads=4)
    assert zarrlib.get_config()["io_threads"] == 4
    zarrlib.set_config(io_threads=0)
    assert zarrlib.get_config()["io_threads"] == 32
    with pytest.raises(ValueError, match="io_threads"):
        zarrlib.set_config(io_threads=-1)


class SlowMapping(dict):
    """A store whose every read waits, as a server's would, and counts reads in flight."""

    def __init__(self):
        super().__init__()
        self.lock = threading.Lock()
        self.in_flight = self.peak = 0

    def __getitem__(self, key):
        with self.lock:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
        time.sleep(0.05)
        with self.lock:
            self.in_flight -= 1
        return super().__getitem__(key)


def test_stores_that_wait_keep_io_threads_requests_in_flight():
    """A store whose requests wait (here Python callbacks; object stores alike) is read on the
    I/O pool: as many chunks are requested at once as it has threads, not as many as CPUs."""
    zarrlib.set_config(io_threads=8)
    try:
        store = SlowMapping()
        metadata = v3_array((64, 16), (4, 16))
        data = np.arange(64 * 16, dtype="uint16").reshape(64, 16)
        zarrlib.write_region(metadata, store, "a", ..., data)
        store.peak = 0
        np.testing.assert_array_equal(zarrlib.read_region(metadata, store, "a", ...), data)
        assert store.peak >= 6, store.peak
    finally:
        zarrlib.set_config(io_threads=0)


@pytest.mark.parametrize("target", [0, 1, 5])
def test_concurrent_target_roundtrip(target):
    zarrlib.set_config(concurrent_target=target)
    assert zarrlib.get_config()["concurrent_target"] == target


@pytest.mark.parametrize("key", ["validate_checksums", "store_empty_chunks"])
@pytest.mark.parametrize("value", [True, False])
def test_flag_roundtrip(key, value):
    zarrlib.set_config(**{key: value})
    assert zarrlib.get_config()[key] is value


def test_unset_settings_keep_their_values(restore_config):
    zarrlib.set_config()
    assert zarrlib.get_config() == restore_config
    zarrlib.set_config(concurrent_target=2)
    expected = dict(restore_config, concurrent_target=2)
    assert zarrlib.get_config() == expected


@pytest.mark.parametrize("key", ["threads", "concurrent_target"])
@pytest.mark.parametrize("value", [-1, True, False, "2", 1.5, np.float64(2.0)])
def test_invalid_counts(restore_config, key, value):
    with pytest.raises(ValueError):
        zarrlib.set_config(**{key: value})
    assert zarrlib.get_config() == restore_config


def test_unknown_setting():
    with pytest.raises(TypeError):
        zarrlib.set_config(no_such_setting=1)


@pytest.mark.parametrize("key", ["validate_checksums", "store_empty_chunks"])
def test_flags_reject_str(restore_config, key):
    with pytest.raises(ValueError):
        zarrlib.set_config(**{key: "false"})
    assert zarrlib.get_config() == restore_config


# --- effects ------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype, fill_value", [("uint16", 0), ("uint16", 9), ("float32", 1.5)])
def test_store_empty_chunks(store, dtype, fill_value):
    metadata = v3_array((8, 8), (4, 4), dtype, fill_value=fill_value)
    zarrlib.create_new_array(metadata, store, "a")
    empty = np.full((4, 4), fill_value, dtype)

    zarrlib.set_config(store_empty_chunks=True)
    zarrlib.write_chunk(metadata, store, "a", (1, 0), empty)
    assert zarrlib.read_encoded_chunk(metadata, store, "a", (1, 0)) is not None
    np.testing.assert_array_equal(zarrlib.read_chunk(metadata, store, "a", (1, 0)), empty)

    zarrlib.set_config(store_empty_chunks=False)
    zarrlib.write_chunk(metadata, store, "a", (1, 0), empty)
    assert zarrlib.read_encoded_chunk(metadata, store, "a", (1, 0)) is None
    np.testing.assert_array_equal(zarrlib.read_chunk(metadata, store, "a", (1, 0)), empty)

    # A chunk with any other value is stored either way.
    other = empty.copy()
    other[2, 3] = fill_value + 1
    zarrlib.write_chunk(metadata, store, "a", (0, 1), other)
    assert zarrlib.read_encoded_chunk(metadata, store, "a", (0, 1)) is not None


def test_store_empty_chunks_with_write_region(store):
    metadata = v3_array((8, 8), (4, 4))
    zarrlib.create_new_array(metadata, store, "a")
    zarrlib.write_region(metadata, store, "a", (slice(0, 4), slice(0, 4)), 5)
    assert zarrlib.read_encoded_chunk(metadata, store, "a", (0, 0)) is not None
    zarrlib.set_config(store_empty_chunks=False)
    zarrlib.write_region(metadata, store, "a", (slice(0, 4), slice(0, 4)), 0)
    assert zarrlib.read_encoded_chunk(metadata, store, "a", (0, 0)) is None
    zarrlib.set_config(store_empty_chunks=True)
    zarrlib.write_region(metadata, store, "a", (slice(4, 8), slice(0, 4)), 0)
    assert zarrlib.read_encoded_chunk(metadata, store, "a", (1, 0)) is not None


def checksummed_array(tmp_path):
    """A local v3 array (bytes + crc32c) whose chunk (0, 0) has one data byte flipped."""
    root = tmp_path / "store.zarr"
    metadata = v3_array((8, 8), (4, 4), compressor=None)
    metadata["codecs"].append({"name": "crc32c"})
    zarrlib.create_new_array(metadata, root, "a")
    data = np.arange(16, dtype="uint16").reshape(4, 4) + 1000
    zarrlib.write_chunk(metadata, root, "a", (0, 0), data)
    chunk_file = root / "a" / "c" / "0" / "0"
    raw = bytearray(chunk_file.read_bytes())
    assert len(raw) == data.nbytes + 4  # the data, then its 4-byte checksum
    raw[2] ^= 0x01  # the low byte of element [0, 1]
    chunk_file.write_bytes(bytes(raw))
    corrupted = data.copy()
    corrupted[0, 1] ^= 0x01
    return metadata, root, corrupted


WHOLE_CHUNK = (slice(0, 4), slice(0, 4))
PART_OF_CHUNK = (slice(0, 2), slice(0, 2))


def test_validate_checksums(tmp_path):
    metadata, root, corrupted = checksummed_array(tmp_path)

    zarrlib.set_config(validate_checksums=True)
    with pytest.raises(zarrlib.CorruptDataError):
        zarrlib.read_chunk(metadata, root, "a", (0, 0))
    with pytest.raises(zarrlib.CorruptDataError):
        zarrlib.read_region(metadata, root, "a", WHOLE_CHUNK)
    with pytest.raises(zarrlib.CorruptDataError):
        zarrlib.read_region(metadata, root, "a", ...)

    zarrlib.set_config(validate_checksums=False)
    np.testing.assert_array_equal(zarrlib.read_chunk(metadata, root, "a", (0, 0)), corrupted)
    np.testing.assert_array_equal(zarrlib.read_region(metadata, root, "a", WHOLE_CHUNK), corrupted)

    zarrlib.set_config(validate_checksums=True)
    with pytest.raises(zarrlib.CorruptDataError):
        zarrlib.read_chunk(metadata, root, "a", (0, 0))


@pytest.mark.parametrize("selection", [PART_OF_CHUNK, (slice(0, 4, 2), slice(0, 4))], ids=["region", "strided"])
def test_validate_checksums_on_partial_reads(tmp_path, selection):
    metadata, root, corrupted = checksummed_array(tmp_path)
    zarrlib.set_config(validate_checksums=True)
    with pytest.raises(zarrlib.CorruptDataError):
        zarrlib.read_region(metadata, root, "a", selection)


def test_max_chunk_bytes_bounds_what_a_call_decodes_or_encodes_whole():
    assert zarrlib.get_config()["max_chunk_bytes"] == 2**31
    store = zarrlib.MemoryStore()
    metadata = v3_array((16, 16), (8, 8))  # 128-byte chunks of uint16
    data = np.arange(256, dtype="uint16").reshape(16, 16)
    zarrlib.write_region(metadata, store, "a", ..., data)
    zarrlib.set_config(max_chunk_bytes=127)
    assert zarrlib.get_config()["max_chunk_bytes"] == 127
    for call in [
        lambda: zarrlib.read_region(metadata, store, "a", ...),
        lambda: zarrlib.read_chunk(metadata, store, "a", (0, 0)),
        lambda: zarrlib.write_region(metadata, store, "a", (0, 0), np.uint16(1)),
    ]:
        with pytest.raises(zarrlib.UnsupportedError, match="128 bytes.*max_chunk_bytes"):
            call()
    zarrlib.set_config(max_chunk_bytes=128)
    np.testing.assert_array_equal(zarrlib.read_region(metadata, store, "a", ...), data)
    for bad in [-1, 2**64, 1.5, True]:
        with pytest.raises(ValueError, match="max_chunk_bytes"):
            zarrlib.set_config(max_chunk_bytes=bad)
