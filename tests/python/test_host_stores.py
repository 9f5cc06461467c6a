"""zarr-python stores and mappings wherever a store is taken: rebuilt natively when they have a
declarative form (URL plus options), through the engine's store callbacks otherwise."""

from __future__ import annotations

import asyncio
import gc
import pickle
import threading
import types
import uuid
import weakref
from concurrent.futures import ThreadPoolExecutor

import fsspec
import numpy as np
import obstore.store
import pytest
import zarr
import zarr.storage
from zarr.core.sync import sync

import zarrlib
import zarrlib.aio
from layouts import v2_array, v3_array, v3_sharded
from servers import AZURITE_ACCOUNT, AZURITE_KEY
from zarrlib import host_stores, native_backend, store_routes

LAYOUTS = {
    "v3 zstd": v3_array((20, 30), (8, 16)),
    "v3 sharded": v3_sharded((20, 30), (10, 16), (5, 8)),
    "v2 blosc": v2_array((20, 30), (8, 16)),
}
DATA = np.arange(600, dtype=np.uint16).reshape(20, 30)
#: Generous: a deadlock shows as a timeout, never as a hung test run.
TIMEOUT = 120


def group_for(metadata: dict) -> dict:
    return {"zarr_format": 2} if metadata["zarr_format"] == 2 else {"zarr_format": 3, "node_type": "group"}


def write_hierarchy(store, metadata: dict, prefix: str = "") -> None:
    zarrlib.create_new_group(group_for(metadata), store, prefix)
    zarrlib.create_new_array(metadata, store, f"{prefix}/a".strip("/"))
    zarrlib.write_region(metadata, store, f"{prefix}/a".strip("/"), ..., DATA)


def check_round_trip(store, metadata: dict) -> None:
    """Write a group and an array through the engine, read them back, list, delete."""
    write_hierarchy(store, metadata)
    np.testing.assert_array_equal(zarrlib.read_region(metadata, store, "a", ...), DATA)
    np.testing.assert_array_equal(zarrlib.read_region(metadata, store, "a", (slice(3, 17), 5)), DATA[3:17, 5])
    assert [path for path, _ in zarrlib.list_children(store, "")] == ["a"]
    assert zarrlib.read_metadata(store, "a")["shape"] == [20, 30]
    zarrlib.delete_chunk(metadata, store, "a", (0, 0))
    assert zarrlib.read_encoded_chunk(metadata, store, "a", (0, 0)) is None
    zarrlib.delete_node(store, "a")
    with pytest.raises(zarrlib.NodeNotFoundError):
        zarrlib.read_metadata(store, "a")


class CountingStore(zarr.storage.MemoryStore):
    """A user's own subclass."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.gets = 0

    async def get(self, key, prototype, byte_range=None):
        self.gets += 1
        return await super().get(key, prototype, byte_range)


class PassThrough(zarr.storage.WrapperStore):
    """A user's own WrapperStore."""


CALLBACK_STORES = {
    "zarr MemoryStore": lambda tmp: zarr.storage.MemoryStore(),
    "LoggingStore": lambda tmp: zarr.storage.LoggingStore(zarr.storage.MemoryStore()),
    "WrapperStore subclass": lambda tmp: PassThrough(zarr.storage.MemoryStore()),
    "MemoryStore subclass": lambda tmp: CountingStore(),
    "FsspecStore (memory)": lambda tmp: zarr.storage.FsspecStore.from_url(f"memory://{uuid.uuid4().hex}"),
    "ObjectStore (obstore memory)": lambda tmp: zarr.storage.ObjectStore(obstore.store.MemoryStore()),
    "dict": lambda tmp: {},
    "FSMap (memory)": lambda tmp: fsspec.get_mapper(f"memory://{uuid.uuid4().hex}"),
}


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize("kind", sorted(CALLBACK_STORES))
def test_store_objects_through_callbacks(kind, layout, tmp_path):
    store = CALLBACK_STORES[kind](tmp_path)
    description = zarrlib.describe_store(store)
    assert description.route == "callbacks", description
    assert description.reason
    check_round_trip(store, LAYOUTS[layout])


@pytest.mark.parametrize(
    "kind", ["zarr MemoryStore", "LoggingStore", "FsspecStore (memory)", "ObjectStore (obstore memory)"]
)
def test_zarr_python_reads_what_the_engine_wrote_through_callbacks(kind, tmp_path):
    store = CALLBACK_STORES[kind](tmp_path)
    write_hierarchy(store, LAYOUTS["v3 sharded"])
    np.testing.assert_array_equal(zarr.open_array(store, path="a", mode="r")[...], DATA)
    # And the reverse, on the same store object.
    zarr.create_array(store, name="b", shape=(7, 9), chunks=(3, 4), dtype="int32")[...] = np.arange(63).reshape(7, 9)
    np.testing.assert_array_equal(zarrlib.open_array(store, "b")[...], np.arange(63).reshape(7, 9))


def test_a_user_subclass_is_called(tmp_path):
    store = CountingStore()
    write_hierarchy(store, LAYOUTS["v3 zstd"])
    before = store.gets
    zarrlib.read_region(LAYOUTS["v3 zstd"], store, "a", ...)
    assert store.gets - before == 6  # one request per chunk of the 3 x 2 grid


def test_object_api_and_aio_on_a_zarr_memory_store():
    store = zarr.storage.MemoryStore()
    array = zarrlib.create_array(store, "t", shape=(10, 12), dtype="float32", chunks=(4, 5))
    array[...] = np.ones((10, 12), "float32")
    array.attrs["units"] = "m"
    assert zarrlib.open_array(store, "t").attrs["units"] == "m"
    np.testing.assert_array_equal(asyncio.run(zarrlib.aio.read_region(array.metadata, store, "t", ...)), 1)


def test_zip_store_writes_through_callbacks_and_reads_natively(tmp_path):
    path = tmp_path / "data.zip"
    with zarr.storage.ZipStore(path, mode="w") as writing:
        assert zarrlib.describe_store(writing).route == "callbacks"
        write_hierarchy(writing, LAYOUTS["v3 zstd"])
    reading = zarr.storage.ZipStore(path, mode="r")
    description = zarrlib.describe_store(reading)
    assert (description.route, description.url) == ("native", str(path))
    np.testing.assert_array_equal(zarrlib.read_region(LAYOUTS["v3 zstd"], reading, "a", ...), DATA)
    np.testing.assert_array_equal(zarr.open_array(reading, path="a", mode="r")[...], DATA)


# --- read-only ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda d: zarr.storage.MemoryStore(store_dict=d, read_only=True),
        types.MappingProxyType,
    ],
    ids=["zarr read_only", "read-only mapping"],
)
def test_read_only_store_objects_refuse_writes(make):
    writable: dict = {}
    metadata = LAYOUTS["v3 zstd"]
    source = zarr.storage.MemoryStore(store_dict=writable) if make is not types.MappingProxyType else writable
    write_hierarchy(source, metadata)
    store = make(writable)
    np.testing.assert_array_equal(zarrlib.read_region(metadata, store, "a", ...), DATA)
    with pytest.raises(zarrlib.ReadOnlyError):
        zarrlib.write_region(metadata, store, "a", (0, 0), 1)
    with pytest.raises(zarrlib.ReadOnlyError):
        zarrlib.delete_node(store, "a")
    with pytest.raises(PermissionError):
        zarrlib.create_new_group(group_for(metadata), store, "g")


def test_read_only_local_store_is_read_only_natively(tmp_path):
    write_hierarchy(str(tmp_path), LAYOUTS["v2 blosc"])
    store = zarr.storage.LocalStore(tmp_path, read_only=True)
    description = zarrlib.describe_store(store)
    assert description.route == "native" and description.options == {"read_only": True}
    np.testing.assert_array_equal(zarrlib.read_region(LAYOUTS["v2 blosc"], store, "a", ...), DATA)
    with pytest.raises(zarrlib.ReadOnlyError):
        zarrlib.write_region(LAYOUTS["v2 blosc"], store, "a", (0, 0), 1)


# --- failures and lifetime -------------------------------------------------------------------


class FailingStore(zarr.storage.MemoryStore):
    failing = False

    async def get(self, key, prototype, byte_range=None):
        if self.failing and key.endswith("c/1/1"):
            raise RuntimeError("the disk is on fire")
        return await super().get(key, prototype, byte_range)


def test_a_failing_callback_is_a_storage_error_with_its_message():
    store = FailingStore()
    write_hierarchy(store, LAYOUTS["v3 zstd"])
    store.failing = True
    with pytest.raises(zarrlib.StorageError, match="RuntimeError: the disk is on fire"):
        zarrlib.read_region(LAYOUTS["v3 zstd"], store, "a", ...)
    # Chunks that do not fail still read.
    np.testing.assert_array_equal(zarrlib.read_chunk(LAYOUTS["v3 zstd"], store, "a", (0, 0)), DATA[:8, :16])


def test_a_mapping_of_wrong_values_is_a_storage_error():
    store = {"zarr.json": 42}
    with pytest.raises(zarrlib.StorageError, match="TypeError"):
        zarrlib.read_metadata(store, "")


def test_the_python_side_is_released_once_the_last_handle_is_freed():
    """The engine calls ``destroy`` once, after the store and every array handle from it are
    freed; only then does the Python adapter (and the object it holds) go."""
    before = set(host_stores._live)
    store = host_stores.callback_store({})
    (handle,) = set(host_stores._live) - before
    adapter = weakref.ref(zarrlib._native.ffi.from_handle(host_stores._live[handle]))
    write_hierarchy(store, LAYOUTS["v3 zstd"])
    array = store.open_array("a")
    del store
    gc.collect()
    # The array handle keeps the store, and so its callbacks, alive.
    assert handle in host_stores._live and adapter() is not None
    np.testing.assert_array_equal(array.read(...), DATA)
    del array
    gc.collect()
    assert handle not in host_stores._live and adapter() is None


def test_callback_stores_do_not_pickle():
    store = store_routes.as_store(zarr.storage.MemoryStore())
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(store)


class ChunkDict(dict):
    """A dict that can be weakly referenced (a plain dict cannot)."""


@pytest.mark.parametrize(
    "make", [zarr.storage.MemoryStore, ChunkDict, dict], ids=["MemoryStore", "dict subclass", "dict"]
)
def test_the_same_object_is_the_same_native_store(make):
    """One native store per object across calls: one table of chunk locks, one handle cache."""
    source = make()
    store = store_routes.as_store(source)
    assert store_routes.as_store(source) is store
    assert store_routes.as_store(source) is not store_routes.as_store(make())
    metadata = LAYOUTS["v3 zstd"]
    write_hierarchy(source, metadata)
    for _ in range(3):
        np.testing.assert_array_equal(zarrlib.read_region(metadata, source, "a", ...), DATA)
    assert store_routes.as_store(source) is store
    assert len(native_backend.cached_arrays(source)) == 1


@pytest.mark.parametrize("make", [zarr.storage.MemoryStore, ChunkDict], ids=["MemoryStore", "dict subclass"])
def test_the_cache_does_not_keep_a_store_object_alive(make):
    """Dropped, the object goes, and with it its native store: the engine calls destroy."""
    gc.collect()
    live_before, cached_before = set(host_stores._live), len(store_routes._weak_callback_stores)
    source = make()
    write_hierarchy(source, LAYOUTS["v3 zstd"])
    np.testing.assert_array_equal(zarrlib.read_region(LAYOUTS["v3 zstd"], source, "a", ...), DATA)
    assert len(store_routes._weak_callback_stores) == cached_before + 1
    dead_source, dead_store = weakref.ref(source), weakref.ref(store_routes.as_store(source))
    del source
    gc.collect()
    assert dead_source() is None and dead_store() is None
    assert len(store_routes._weak_callback_stores) == cached_before
    assert set(host_stores._live) <= live_before  # destroy ran: the Python side is released


def test_objects_that_keep_a_store_keep_its_python_object():
    """An Array or Group over a temporary store object keeps the object (and so its data)."""
    array = zarrlib.create_array(zarr.storage.MemoryStore(), "t", shape=(10, 12), dtype="float32", chunks=(4, 5))
    group = zarrlib.Group.create(zarr.storage.MemoryStore(), attributes={"k": 1})
    gc.collect()
    array[...] = np.ones((10, 12), "float32")
    np.testing.assert_array_equal(array[...], 1)
    assert zarrlib.Group.open(group.store, "").attrs["k"] == 1


def test_no_mix_up_after_an_id_is_reused():
    """A store whose object is gone never serves a new object that got the same id(), and says
    what happened if it is used again."""
    source = ChunkDict()
    kept = store_routes.as_store(source)  # the native store, without its object
    write_hierarchy(source, LAYOUTS["v3 zstd"])
    old_id = id(source)
    del source
    gc.collect()
    with pytest.raises(zarrlib.StorageError, match="garbage collected"):
        kept.read_metadata("a")
    # Make objects until one reuses the id (CPython reuses freed memory at once, most times).
    reused, made = None, []
    for _ in range(10_000):
        candidate = ChunkDict()
        if id(candidate) == old_id:
            reused = candidate
            break
        made.append(candidate)
    if reused is None:
        pytest.skip("no new object reused the dead one's id()")
    store = store_routes.as_store(reused)
    assert store is not kept and store.source is reused
    with pytest.raises(zarrlib.NodeNotFoundError):
        zarrlib.read_metadata(reused, "a")  # the new, empty object, not the old one's data


def test_a_plain_dict_is_held_until_forgotten():
    """A dict cannot be weakly referenced: the cache holds it (bounded) until forget_store."""
    source: dict = {}
    store = weakref.ref(store_routes.as_store(source))
    dead = store_routes.as_store(source)
    del dead
    store_routes.forget_store(source)
    gc.collect()
    assert store() is None
    assert store_routes.as_store(source) is store_routes.as_store(source)


# --- no deadlock ------------------------------------------------------------------------------


def finishes(function, *args):
    """Run ``function`` on a thread; fail (rather than hang) if it does not finish in time."""
    result: list = []
    thread = threading.Thread(target=lambda: result.append(function(*args)), daemon=True)
    thread.start()
    thread.join(TIMEOUT)
    assert not thread.is_alive(), f"{function.__name__} did not finish in {TIMEOUT} s: a deadlock"
    assert result, f"{function.__name__} failed"
    return result[0]


@pytest.fixture(params=["zarr MemoryStore", "FsspecStore (memory)", "ObjectStore (obstore memory)"])
def shared_store(request, tmp_path):
    store = CALLBACK_STORES[request.param](tmp_path)
    write_hierarchy(store, LAYOUTS["v3 sharded"])
    return store


def test_eight_threads_at_once(shared_store):
    metadata = LAYOUTS["v3 sharded"]

    def band(i: int) -> bool:
        rows = slice(i * 2, i * 2 + 2)
        zarrlib.write_region(metadata, shared_store, "a", rows, DATA[rows] + 1)
        return bool((zarrlib.read_region(metadata, shared_store, "a", rows) == DATA[rows] + 1).all())

    def run() -> list[bool]:
        with ThreadPoolExecutor(8) as pool:
            return list(pool.map(band, range(8)))

    assert finishes(run) == [True] * 8


def test_from_inside_asyncio_run(shared_store):
    metadata = LAYOUTS["v3 sharded"]

    async def main() -> bool:
        # Through zarrlib.aio, and blocking the running loop with a plain call.
        via_aio = await zarrlib.aio.read_region(metadata, shared_store, "a", ...)
        blocking = zarrlib.read_region(metadata, shared_store, "a", ...)
        return bool((via_aio == DATA).all() and (blocking == DATA).all())

    assert finishes(asyncio.run, main())


def test_from_zarr_pythons_own_loop_thread(shared_store):
    metadata = LAYOUTS["v3 sharded"]

    async def on_zarrs_loop() -> bool:
        # zarr-python's loop thread is blocked in this call while the engine calls the store.
        zarrlib.write_region(metadata, shared_store, "a", (0, 0), 7)
        return bool(zarrlib.read_region(metadata, shared_store, "a", (0, 0)) == 7)

    assert finishes(sync, on_zarrs_loop())


# --- declarative stores rebuilt natively ----------------------------------------------------------


def test_local_stores_are_native(tmp_path):
    for store in (
        zarr.storage.LocalStore(tmp_path),
        zarr.storage.ObjectStore(obstore.store.LocalStore(tmp_path)),
        zarr.storage.FsspecStore.from_url(f"file://{tmp_path}"),
    ):
        description = zarrlib.describe_store(store)
        assert description.route == "native", description
    write_hierarchy(zarr.storage.ObjectStore(obstore.store.LocalStore(tmp_path)), LAYOUTS["v3 zstd"])
    np.testing.assert_array_equal(zarrlib.read_region(LAYOUTS["v3 zstd"], str(tmp_path), "a", ...), DATA)


def s3_object_store(server, bucket: str, **extra) -> zarr.storage.ObjectStore:
    return zarr.storage.ObjectStore(
        obstore.store.S3Store(
            bucket,
            prefix="data.zarr",
            endpoint=server.endpoint,
            region="us-east-1",
            access_key_id="testing",
            secret_access_key="testing",
            client_options={"allow_http": True},
            **extra,
        )
    )


def s3_fsspec_store(server, bucket: str, **extra) -> zarr.storage.FsspecStore:
    options = {"key": "testing", "secret": "testing", "endpoint_url": server.endpoint, **extra}
    return zarr.storage.FsspecStore.from_url(f"s3://{bucket}/data.zarr", storage_options=options)


@pytest.mark.parametrize("make", [s3_object_store, s3_fsspec_store], ids=["obstore S3Store", "s3fs"])
def test_s3_store_objects_are_rebuilt_natively(s3_server, s3_bucket, make):
    store = make(s3_server, s3_bucket)
    description = zarrlib.describe_store(store)
    assert (description.route, description.url) == ("native", f"s3://{s3_bucket}/data.zarr"), description
    assert "testing" not in repr(description).replace("access_key_id': 'testing", "")
    native = store_routes.as_store(store)
    assert native.url == description.url and not hasattr(native, "source")
    write_hierarchy(store, LAYOUTS["v3 sharded"])
    # zarr-python, through the very same store object, reads what the engine wrote.
    np.testing.assert_array_equal(zarr.open_array(store, path="a", mode="r")[...], DATA)
    # The native store pickles, so Dask workers can reopen it.
    np.testing.assert_array_equal(
        zarrlib.read_region(LAYOUTS["v3 sharded"], pickle.loads(pickle.dumps(native)), "a", ...), DATA
    )


def test_s3fs_options_without_a_native_equivalent_go_through_callbacks(s3_server, s3_bucket):
    store = s3_fsspec_store(s3_server, s3_bucket, config_kwargs={"max_pool_connections": 4})
    description = zarrlib.describe_store(store)
    assert description.route == "callbacks" and "config_kwargs" in description.reason
    check_round_trip(store, LAYOUTS["v3 zstd"])


def write_with_zarr_python(store) -> None:
    """A v3 sharded array, a v2 array and a group, written by zarr-python through ``store``."""
    root = zarr.open_group(store, mode="w")
    root.create_array("sharded", shape=DATA.shape, dtype=DATA.dtype, chunks=(5, 8), shards=(10, 16))[...] = DATA
    root.create_group("inner").attrs["title"] = "inner"
    zarr.create_array(store, name="v2", shape=DATA.shape, dtype="<f8", chunks=(8, 16), zarr_format=2)[...] = DATA


def check_zarr_python_data(store) -> None:
    """What :func:`write_with_zarr_python` wrote, read by zarrlib through ``store``."""
    np.testing.assert_array_equal(zarrlib.open_array(store, "sharded")[...], DATA)
    np.testing.assert_array_equal(zarrlib.open_array(store, "sharded")[2:19:4, 3:29:5], DATA[2:19:4, 3:29:5])
    np.testing.assert_array_equal(zarrlib.open_array(store, "v2")[...], DATA.astype("<f8"))
    assert zarrlib.Group.open(store, "inner").attrs["title"] == "inner"
    assert sorted(path for path, _ in zarrlib.list_children(store, "")) == ["inner", "sharded", "v2"]


def gcsfs_store(server, bucket: str, **extra) -> zarr.storage.FsspecStore:
    options = {"endpoint_url": server.url, "token": "anon", **extra}
    return zarr.storage.FsspecStore.from_url(f"gs://{bucket}/data.zarr", storage_options=options)


def test_gcsfs_store_objects_are_rebuilt_natively(gcs_server):
    """zarr-python writes through gcsfs (fake-gcs-server's JSON API) and zarrlib reads through the
    very same store object, natively: fake-gcs-server's XML API takes no writes, so the engine
    does not write here."""
    bucket = gcs_server.new_bucket()
    store = gcsfs_store(gcs_server, bucket, requests_timeout=30)
    description = zarrlib.describe_store(store)
    assert (description.route, description.url) == ("native", f"gs://{bucket}/data.zarr"), description
    assert description.options == {
        "skip_signature": "true",
        "base_url": gcs_server.url,
        "allow_http": "true",
        "timeout": "30.0s",
    }
    assert not hasattr(store_routes.as_store(store), "source")
    write_with_zarr_python(store)
    check_zarr_python_data(store)
    # An fsspec mapper over gcsfs, and gcsfs finding the emulator through its environment variable.
    mapper = fsspec.get_mapper(f"gs://{bucket}/data.zarr", endpoint_url=gcs_server.url, token="anon")
    assert zarrlib.describe_store(mapper).route == "native"
    np.testing.assert_array_equal(zarrlib.open_array(mapper, "sharded")[...], DATA)


def test_gcsfs_through_the_emulator_variable(gcs_server, monkeypatch):
    bucket = gcs_server.new_bucket()
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs_server.url)
    store = zarr.storage.FsspecStore.from_url(f"gs://{bucket}/data.zarr", storage_options={"token": "anon"})
    description = zarrlib.describe_store(store)
    assert description.route == "native" and description.options["base_url"] == gcs_server.url, description
    write_with_zarr_python(store)
    check_zarr_python_data(store)


def test_gcsfs_options_without_a_native_equivalent_go_through_callbacks(gcs_server):
    """The engine writes through gcsfs's callbacks (its JSON API uploads), and reads back."""
    store = gcsfs_store(gcs_server, gcs_server.new_bucket(), session_kwargs={"trust_env": False})
    description = zarrlib.describe_store(store)
    assert description.route == "callbacks" and "'session_kwargs'" in description.reason, description
    write_with_zarr_python(store)
    check_zarr_python_data(store)
    write_hierarchy(store, LAYOUTS["v3 zstd"], "engine")
    np.testing.assert_array_equal(zarr.open_array(store, path="engine/a", mode="r")[...], DATA)
    for extra, named in [({"requester_pays": True}, "requester_pays"), ({"consistency": "md5"}, "consistency")]:
        other = zarr.storage.FsspecStore.from_url(
            "gs://bucket/x", storage_options={"endpoint_url": gcs_server.url, **extra}
        )
        description = zarrlib.describe_store(other)
        assert description.route == "callbacks" and named in description.reason, description


def adlfs_store(azurite, container: str, **extra) -> zarr.storage.FsspecStore:
    options = {"connection_string": azurite.connection_string, **extra}
    return zarr.storage.FsspecStore.from_url(f"az://{container}/data.zarr", storage_options=options)


def test_adlfs_store_objects_are_rebuilt_natively(azurite):
    container = azurite.new_container()
    store = adlfs_store(azurite, container)
    description = zarrlib.describe_store(store)
    assert (description.route, description.url) == ("native", f"az://{container}/data.zarr"), description
    assert description.options["endpoint"] == f"{azurite.url}/{AZURITE_ACCOUNT}"
    assert AZURITE_KEY not in repr(description)
    assert not hasattr(store_routes.as_store(store), "source")
    # zarr-python writes through adlfs, zarrlib reads through the same object, natively.
    write_with_zarr_python(store)
    check_zarr_python_data(store)
    # And the reverse: the engine writes to Azurite, zarr-python reads through adlfs.
    write_hierarchy(store, LAYOUTS["v3 sharded"], "engine")
    np.testing.assert_array_equal(zarr.open_array(store, path="engine/a", mode="r")[...], DATA)
    # Account name and key as separate options, through an fsspec mapper.
    mapper = fsspec.get_mapper(
        f"az://{container}/data.zarr", account_name=AZURITE_ACCOUNT, account_key=AZURITE_KEY, timeout=30
    )
    description = zarrlib.describe_store(mapper)
    assert description.route == "native" and description.options["timeout"] == "30.0s", description


def test_adlfs_options_without_a_native_equivalent_go_through_callbacks(azurite):
    store = adlfs_store(azurite, azurite.new_container(), read_timeout=30)
    description = zarrlib.describe_store(store)
    assert description.route == "callbacks" and "'read_timeout'" in description.reason, description
    check_round_trip(store, LAYOUTS["v3 zstd"])
    write_with_zarr_python(store)
    check_zarr_python_data(store)


def test_http_store_objects_are_rebuilt_natively(http_server):
    directory = http_server.root / f"h{uuid.uuid4().hex[:8]}.zarr"
    write_hierarchy(str(directory), LAYOUTS["v3 sharded"])
    url = f"{http_server.url}/{directory.name}"
    for store in (
        zarr.storage.ObjectStore(obstore.store.HTTPStore.from_url(url), read_only=True),
        zarr.storage.FsspecStore.from_url(url, read_only=True),
    ):
        description = zarrlib.describe_store(store)
        assert (description.route, description.url) == ("native", url), description
        np.testing.assert_array_equal(zarrlib.read_region(LAYOUTS["v3 sharded"], store, "a", ...), DATA)
