"""Stores: opening them, naming them in the functional API, metrics and the handle cache."""

from __future__ import annotations

import gc
import shutil
import weakref

import numpy as np
import pytest

import zarrlib
from layouts import v3_array, v3_sharded
from zarrlib import native_backend, store_routes

GROUP = {"zarr_format": 3, "node_type": "group"}


def roundtrip(store, path="a"):
    """Write an array through `store` and read it back; return the data written."""
    metadata = v3_array((6, 5), (4, 4))
    zarrlib.create_new_array(metadata, store, path)
    data = np.arange(30, dtype="uint16").reshape(6, 5)
    zarrlib.write_region(metadata, store, path, ..., data)
    np.testing.assert_array_equal(zarrlib.read_region(metadata, store, path, ...), data)
    return metadata, data


# --- opening stores -----------------------------------------------------------------------


@pytest.mark.parametrize("form", ["str", "path", "file_url"])
def test_open_local_store(tmp_path, form):
    directory = tmp_path / "d.zarr"
    url = {"str": str(directory), "path": directory, "file_url": directory.as_uri()}[form]
    store = zarrlib.open_store(url)
    assert isinstance(store, zarrlib.Store)
    metadata, data = roundtrip(store)
    # It really is the directory: the files are there, and another store sees the data.
    assert (directory / "a" / "zarr.json").is_file()
    other = zarrlib.open_store(str(directory))
    np.testing.assert_array_equal(zarrlib.read_region(metadata, other, "a", ...), data)
    assert zarrlib.read_metadata(other, "a")["shape"] == [6, 5]


def test_file_url_with_escaped_characters(tmp_path):
    directory = tmp_path / "with space %.zarr"
    store = zarrlib.open_store(directory.as_uri())
    zarrlib.create_new_group(GROUP, store, "g")
    assert (directory / "g" / "zarr.json").is_file()


def test_open_memory_store():
    store = zarrlib.open_store("memory://")
    assert isinstance(store, zarrlib.Store)
    roundtrip(store)


def test_memory_stores_are_independent():
    a, b = zarrlib.MemoryStore(), zarrlib.MemoryStore()
    assert isinstance(a, zarrlib.Store)
    zarrlib.create_new_group(GROUP, a, "g")
    assert zarrlib.node_kind(a, "g") == "group"
    assert zarrlib.node_kind(b, "g") is None
    with pytest.raises(zarrlib.NodeNotFoundError):
        zarrlib.read_metadata(b, "g")
    # Nor do two "memory://" URLs share contents.
    c = zarrlib.open_store("memory://")
    assert zarrlib.node_kind(c, "g") is None


@pytest.mark.parametrize("url", ["memory://", "local"])
def test_unknown_option(tmp_path, url):
    with pytest.raises(zarrlib.InvalidArgumentError) as excinfo:
        zarrlib.open_store(str(tmp_path) if url == "local" else url, no_such_option=True)
    assert isinstance(excinfo.value, ValueError)
    assert "no_such_option" in str(excinfo.value)


def test_known_local_options(tmp_path):
    store = zarrlib.open_store(tmp_path, file_handle_cache_size=4, direct_io=False)
    roundtrip(store)


@pytest.mark.parametrize("sync", [False, True])
def test_local_writes_replace_whole_files(tmp_path, sync):
    """Chunks are written to a temporary file and renamed into place: overwrites and deletes
    leave exactly the chunk files, with or without fsync."""
    store = zarrlib.open_store(tmp_path, sync=sync)
    metadata, data = roundtrip(store)
    zarrlib.write_region(metadata, store, "a", (slice(0, 4), slice(0, 4)), data[:4, :4] + 1)
    zarrlib.delete_chunk(metadata, store, "a", (1, 1))
    files = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert files == ["a/c/0/0", "a/c/0/1", "a/c/1/0", "a/zarr.json"]
    expected = data.copy()
    expected[:4, :4] += 1
    expected[4:, 4:] = 0
    np.testing.assert_array_equal(zarrlib.read_region(metadata, tmp_path, "a", ...), expected)


@pytest.mark.parametrize("layout", ["raw", "zstd", "sharded"])
def test_local_region_writes_match_memory_writes(tmp_path, layout):
    """A region over whole and partial chunks, written to a local store (whose whole chunks go
    to their files straight from the encoded bytes) and to a memory store (through zarrs),
    stores the same chunk bytes; a whole chunk of fill value inside it is erased, or stored when
    empty chunks are stored."""
    if layout == "sharded":
        metadata = v3_sharded((12, 10), (4, 4), (2, 2))
    else:
        metadata = v3_array((12, 10), (4, 4), compressor=None if layout == "raw" else "zstd")
    local, memory = zarrlib.open_store(tmp_path), zarrlib.MemoryStore()
    data = (np.arange(120, dtype="uint16").reshape(12, 10) % 251) + 1
    data[4:8, 4:8] = 0  # chunk (1, 1): all fill value
    selection = (slice(1, 12), slice(0, 9))
    original = zarrlib.get_config()
    try:
        check_local_against_memory(metadata, local, memory, tmp_path, data, selection)
    finally:
        zarrlib.set_config(**original)


def check_local_against_memory(metadata, local, memory, tmp_path, data, selection):
    for empty_chunks in (False, True):
        zarrlib.set_config(store_empty_chunks=empty_chunks)
        for store in (local, memory):
            zarrlib.create_overwrite_array(metadata, store, "a")
            zarrlib.write_chunk(metadata, store, "a", (1, 1), np.full((4, 4), 7, "uint16"))
            zarrlib.write_region(metadata, store, "a", selection, data[selection])
            expected = np.zeros((12, 10), "uint16")
            expected[selection] = data[selection]
            np.testing.assert_array_equal(zarrlib.read_region(metadata, store, "a", ...), expected)
        for chunk in np.ndindex(3, 3):
            encoded = zarrlib.read_encoded_chunk(metadata, local, "a", chunk)
            assert encoded == zarrlib.read_encoded_chunk(metadata, memory, "a", chunk), chunk
        assert (zarrlib.read_encoded_chunk(metadata, local, "a", (1, 1)) is not None) == empty_chunks
        assert (tmp_path / "a/c/1/1").exists() == empty_chunks


@pytest.mark.parametrize("index_location", ["start", "end"])
def test_local_shards_are_the_shards_zarrs_writes(tmp_path, index_location):
    """Whole shards written to a local store (zarrlib's shard encoder, `shard_encode.rs`) are
    byte for byte those zarrs writes to a memory store when it lays inner chunks out in order
    (one codec thread): inner chunks of fill value left out, index at either end. The edge
    shard, written in part, goes through zarrs' read-modify-write on both."""
    metadata = v3_sharded((20, 16, 16), (8, 16, 16), (4, 4, 8))
    metadata["codecs"][0]["configuration"]["index_location"] = index_location
    data = (np.arange(20 * 16 * 16, dtype="uint16").reshape(20, 16, 16) % 1000) + 1
    data[0:4, 4:8, 0:8] = 0  # an inner chunk of fill value
    data[8:16, :, :] = 0  # a whole shard of fill value
    data[8, 0, 0] = 5  # ... but one element
    local, memory = zarrlib.open_store(tmp_path), zarrlib.MemoryStore()
    original = zarrlib.get_config()
    try:
        zarrlib.set_config(concurrent_target=1)
        for store in (local, memory):
            zarrlib.create_new_array(metadata, store, "a")
            zarrlib.write_region(metadata, store, "a", ..., data)
            np.testing.assert_array_equal(zarrlib.read_region(metadata, store, "a", ...), data)
        for shard in [(0, 0, 0), (1, 0, 0), (2, 0, 0)]:
            encoded = zarrlib.read_encoded_chunk(metadata, local, "a", shard)
            assert encoded == zarrlib.read_encoded_chunk(metadata, memory, "a", shard), shard
        zarrlib.set_config(concurrent_target=original["concurrent_target"])
        block = data[:8] + 3
        zarrlib.write_chunk(metadata, local, "a", (0, 0, 0), block)
        np.testing.assert_array_equal(zarrlib.read_chunk(metadata, local, "a", (0, 0, 0)), block)
        np.testing.assert_array_equal(zarrlib.read_region(metadata, tmp_path, "a", ...)[:8], block)
    finally:
        zarrlib.set_config(**original)


def test_local_writes_make_directories_removed_behind_their_back(tmp_path):
    """A chunk directory another program removed is made again by the next write into it."""
    store = zarrlib.open_store(tmp_path)
    metadata, data = roundtrip(store)
    shutil.rmtree(tmp_path / "a/c")
    zarrlib.write_region(metadata, store, "a", ..., data + 1)
    np.testing.assert_array_equal(zarrlib.read_region(metadata, store, "a", ...), data + 1)
    zarrlib.write_chunk(metadata, store, "a", (0, 1), np.full((4, 4), 3, "uint16"))
    assert (tmp_path / "a/c/0/1").is_file()


def test_read_only_local_store_refuses_chunk_writes(tmp_path):
    metadata, data = roundtrip(zarrlib.open_store(tmp_path))
    store = zarrlib.open_store(tmp_path, read_only=True)
    with pytest.raises(PermissionError):
        zarrlib.write_region(metadata, store, "a", ..., data + 1)
    with pytest.raises(PermissionError):
        zarrlib.write_chunk(metadata, store, "a", (0, 0), np.ones((4, 4), "uint16"))
    np.testing.assert_array_equal(zarrlib.read_region(metadata, store, "a", ...), data)


@pytest.mark.parametrize(
    "options",
    [{"sync": "yes"}, {"sync": False, "direct_io": True}, {"sync": False, "file_handle_cache_size": 2}],
)
def test_conflicting_local_options(tmp_path, options):
    with pytest.raises(zarrlib.InvalidArgumentError):
        zarrlib.open_store(tmp_path, **options)


def test_file_is_not_a_store(tmp_path):
    not_a_dir = tmp_path / "file.txt"
    not_a_dir.write_text("hello")
    with pytest.raises(zarrlib.ZarrlibError) as excinfo:
        zarrlib.open_store(not_a_dir)
    assert isinstance(excinfo.value, zarrlib.InvalidArgumentError)
    assert not_a_dir.read_text() == "hello"
    with pytest.raises(zarrlib.ZarrlibError):
        zarrlib.create_new_group(GROUP, not_a_dir, "")


@pytest.mark.parametrize("url", ["memory://name", "file://remotehost/x", ""])
def test_malformed_urls(url):
    with pytest.raises(zarrlib.InvalidArgumentError):
        zarrlib.open_store(url)


def test_store_url_type():
    with pytest.raises(TypeError):
        zarrlib.open_store(42)


# --- store arguments of the functional API ------------------------------------------------


def test_functional_api_takes_paths(tmp_path):
    directory = tmp_path / "d.zarr"
    metadata, data = roundtrip(directory, "p")
    roundtrip(str(directory), "s")
    np.testing.assert_array_equal(zarrlib.read_region(metadata, str(directory), "p", ...), data)
    np.testing.assert_array_equal(zarrlib.read_region(metadata, zarrlib.open_store(directory), "s", ...), data)


def test_paths_share_one_store(tmp_path, monkeypatch):
    directory = tmp_path / "d.zarr"
    store = store_routes.as_store(directory)
    assert isinstance(store, zarrlib.Store)
    assert store_routes.as_store(directory) is store
    assert store_routes.as_store(str(directory)) is store
    # A relative path names the same directory.
    monkeypatch.chdir(tmp_path)
    assert store_routes.as_store("d.zarr") is store
    # A Store passes through.
    assert store_routes.as_store(store) is store
    # Another directory is another store.
    assert store_routes.as_store(tmp_path / "other.zarr") is not store


def test_functional_calls_on_a_path_reuse_array_handles(tmp_path):
    directory = tmp_path / "d.zarr"
    metadata = v3_array((8,), (4,))
    zarrlib.create_new_array(metadata, directory, "a")
    for i in range(5):
        zarrlib.write_chunk(metadata, directory, "a", (1,), np.full(4, i, "uint16"))
        zarrlib.read_chunk(metadata, str(directory), "a", (1,))
    assert len(native_backend.cached_arrays(directory)) == 1


@pytest.mark.parametrize("url", ["memory://", "MEMORY://", "memory://x"])
def test_memory_url_in_functional_api(url):
    with pytest.raises(ValueError, match="MemoryStore"):
        zarrlib.create_new_group(GROUP, url, "g")


@pytest.mark.parametrize("value", [42, 3.5, None, b"/tmp/x", object()])
def test_non_stores_are_rejected(value):
    with pytest.raises(TypeError):
        zarrlib.read_metadata(value, "")


def test_zarr_local_store(tmp_path):
    zarr = pytest.importorskip("zarr")
    directory = tmp_path / "z.zarr"
    zstore = zarr.storage.LocalStore(str(directory))
    assert store_routes.as_store(zstore) is store_routes.as_store(directory)
    metadata, data = roundtrip(zstore)
    native = zarrlib.open_store(directory)
    np.testing.assert_array_equal(zarrlib.read_region(metadata, native, "a", ...), data)
    assert zarrlib.read_metadata(native, "a")["shape"] == [6, 5]
    # And zarr-python reads what zarrlib wrote.
    np.testing.assert_array_equal(zarr.open_array(store=str(directory), path="a", mode="r")[...], data)


# --- metrics ------------------------------------------------------------------------------


def test_metrics_need_the_option(tmp_path):
    for store in (zarrlib.MemoryStore(), zarrlib.open_store(tmp_path), zarrlib.MemoryStore(metrics=False)):
        with pytest.raises(zarrlib.InvalidArgumentError):
            store.metrics()


def diff(after: dict, before: dict) -> dict:
    return {key: after[key] - before[key] for key in after}


def test_metrics_count_chunk_requests(metered_store):
    store = metered_store
    keys = {"reads", "bytes_read", "writes", "bytes_written", "keys_erased", "lists"}
    start = store.metrics()
    assert set(start) == keys
    metadata = v3_array((8, 8), (4, 4))
    zarrlib.create_new_array(metadata, store, "a")
    created = store.metrics()
    assert created["writes"] == 1  # the one zarr.json
    data = np.arange(16, dtype="uint16").reshape(4, 4)

    # Writing a whole chunk encodes it and stores it with one request; the array handle is made
    # from the caller's metadata without reading the store.
    before = store.metrics()
    zarrlib.write_chunk(metadata, store, "a", (0, 1), data)
    after_write = store.metrics()
    encoded = zarrlib.read_encoded_chunk(metadata, store, "a", (0, 1))
    assert encoded is not None
    assert diff(after_write, before) == {
        "reads": 0,
        "bytes_read": 0,
        "writes": 1,
        "bytes_written": len(encoded),
        "keys_erased": 0,
        "lists": 0,
    }

    # Reading a whole chunk is one request for its stored bytes (as is read_encoded_chunk).
    before = store.metrics()
    np.testing.assert_array_equal(zarrlib.read_chunk(metadata, store, "a", (0, 1)), data)
    assert diff(store.metrics(), before) == {
        "reads": 1,
        "bytes_read": len(encoded),
        "writes": 0,
        "bytes_written": 0,
        "keys_erased": 0,
        "lists": 0,
    }

    # A chunk that is not stored is one read of a missing key.
    before = store.metrics()
    assert (zarrlib.read_chunk(metadata, store, "a", (1, 1)) == 0).all()
    assert diff(store.metrics(), before) == {
        "reads": 1,
        "bytes_read": 0,
        "writes": 0,
        "bytes_written": 0,
        "keys_erased": 0,
        "lists": 0,
    }

    # Writing a chunk of fill values erases it (store_empty_chunks is off by default).
    assert zarrlib.get_config()["store_empty_chunks"] is False
    before = store.metrics()
    zarrlib.write_chunk(metadata, store, "a", (0, 1), np.zeros((4, 4), "uint16"))
    assert diff(store.metrics(), before) == {
        "reads": 0,
        "bytes_read": 0,
        "writes": 0,
        "bytes_written": 0,
        "keys_erased": 1,
        "lists": 0,
    }
    assert zarrlib.read_encoded_chunk(metadata, store, "a", (0, 1)) is None


# --- the functional API's handle cache ----------------------------------------------------


def test_one_array_is_one_cached_handle(store):
    metadata = v3_array((8, 8), (4, 4))
    zarrlib.create_new_array(metadata, store, "a")
    assert len(native_backend.cached_arrays(store)) == 0
    reordered = dict(reversed(list(metadata.items())))
    as_text = __import__("json").dumps(metadata)
    for i in range(20):
        doc = (metadata, reordered, as_text)[i % 3]
        path = ("a", "/a", "a/")[i % 3]
        zarrlib.write_chunk(doc, store, path, (i % 2, 0), np.full((4, 4), i, "uint16"))
        zarrlib.read_chunk(doc, store, path, (i % 2, 0))
        zarrlib.read_region(doc, store, path, (slice(1, 3), 2))
    assert len(native_backend.cached_arrays(store)) == 1


def test_another_document_is_another_handle():
    store = zarrlib.MemoryStore()
    a = v3_array((8,), (4,))
    b = v3_array((8,), (4,), fill_value=7)
    zarrlib.read_chunk(a, store, "x", (0,))
    assert (zarrlib.read_chunk(b, store, "x", (0,)) == 7).all()
    assert len(native_backend.cached_arrays(store)) == 2


def test_handle_cache_is_bounded():
    store = zarrlib.MemoryStore()
    size = native_backend.HANDLE_CACHE_SIZE
    metadata = v3_array((4,), (2,), fill_value=3)
    for i in range(size + 20):
        assert (zarrlib.read_chunk(metadata, store, f"a{i}", (1,)) == 3).all()
        assert len(native_backend.cached_arrays(store)) == min(i + 1, size)
    assert len(native_backend.cached_arrays(store)) == size
    # The least recently used went first; the newest are kept.
    cached_paths = {path for path, _ in native_backend.cached_arrays(store)}
    assert f"a{size + 19}" in cached_paths
    assert "a0" not in cached_paths
    # Evicted handles still work when needed again.
    zarrlib.write_chunk(metadata, store, "a0", (0,), np.array([1, 2], "uint16"))
    np.testing.assert_array_equal(zarrlib.read_chunk(metadata, store, "a0", (0,)), [1, 2])
    assert len(native_backend.cached_arrays(store)) == size


def test_forget_arrays(store):
    metadata = v3_array((4,), (2,))
    zarrlib.read_chunk(metadata, store, "a", (0,))
    assert len(native_backend.cached_arrays(store)) == 1
    native_backend.forget_arrays(store)
    assert len(native_backend.cached_arrays(store)) == 0


def test_the_handle_cache_dies_with_its_store():
    gc.collect()
    caches = len(native_backend._caches)
    store = zarrlib.MemoryStore()
    zarrlib.read_chunk(v3_array((4,), (2,)), store, "a", (0,))
    assert len(native_backend.cached_arrays(store)) == 1
    assert len(native_backend._caches) == caches + 1
    dead = weakref.ref(store)
    del store
    gc.collect()
    assert dead() is None  # the cached handle did not keep its store alive
    assert len(native_backend._caches) == caches
