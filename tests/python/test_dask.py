"""Dask: arrays and groups pickle, and Dask reads, computes and writes zarrlib arrays on a
distributed cluster of worker *processes* (each unpickling the arrays it is given), on a
directory store and on S3 (moto's server on loopback)."""

from __future__ import annotations

import os
import pickle

import dask.array as da
import numpy as np
import pytest
from distributed import Client, LocalCluster, get_task_stream

import zarrlib
from zarrlib.dask import aligned_chunks


@pytest.fixture(scope="module")
def client():
    """Two worker processes of one thread each, for the whole module (starting them is slow)."""
    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        yield client


@pytest.fixture(params=["directory", "s3"])
def shared_store(request, tmp_path):
    """A store every process can open: a directory, or a bucket on the S3 server."""
    if request.param == "directory":
        return zarrlib.open_store(tmp_path / "data.zarr")
    server = request.getfixturevalue("s3_server")
    return zarrlib.open_store(f"s3://{server.new_bucket()}/data.zarr", **server.options())


def test_arrays_and_groups_pickle(tmp_path):
    store = zarrlib.open_store(tmp_path / "data.zarr")
    root = zarrlib.Group.create(store, attributes={"title": "t"})
    a = root.create_array("a", shape=(6, 4), dtype="int16", chunks=(4, 4))
    a[...] = np.arange(24).reshape(6, 4)
    payload = pickle.dumps(a)
    again = pickle.loads(payload)
    assert (again.path, again.shape, again.dtype, again.metadata) == (a.path, a.shape, a.dtype, a.metadata)
    np.testing.assert_array_equal(again[...], a[...])
    again[5, :] = -1
    assert a[5].tolist() == [-1] * 4
    # Copies unpickled in one process share one store, and so the array's chunk locks.
    assert pickle.loads(payload).store is again.store
    group = pickle.loads(pickle.dumps(root))
    assert dict(group.attrs) == {"title": "t"} and group.keys() == ["a"]
    np.testing.assert_array_equal(group["a"][...], a[...])
    # Stores held in this process's memory cannot travel: a memory:// store, a store over Python objects.
    memory = zarrlib.create_array(zarrlib.MemoryStore(), "a", shape=(2,), dtype="int8")
    with pytest.raises(TypeError, match="memory:// store lives in this process"):
        pickle.dumps(memory)
    with pytest.raises(TypeError, match="memory:// store lives in this process"):
        pickle.dumps(zarrlib.Group.create(zarrlib.MemoryStore()))
    over_dict = zarrlib.create_array({}, "a", shape=(2,), dtype="int8")
    with pytest.raises(TypeError, match="store over a Python object .*cannot be pickled"):
        pickle.dumps(over_dict)


def test_arrays_over_zarr_python_stores_with_a_native_form_pickle_as_it(tmp_path):
    import zarr

    zarr.create_array(zarr.storage.LocalStore(tmp_path), name="a", shape=(3,), dtype="i2")[...] = [1, 2, 3]
    a = pickle.loads(pickle.dumps(zarrlib.open_array(zarr.storage.LocalStore(tmp_path), "a")))
    assert type(a.store) is zarrlib.Store and a.store.url == str(tmp_path) and a[...].tolist() == [1, 2, 3]


def test_dask_threads_work_with_stores_held_in_this_process():
    import dask

    store = zarrlib.MemoryStore()
    data = np.arange(100, dtype="uint8").reshape(10, 10)
    zarrlib.create_array(store, "a", shape=(10, 10), dtype="uint8", chunks=(3, 4))[...] = data
    with dask.config.set(scheduler="threads"):
        x = zarrlib.to_dask(store, "a")
        assert x.chunks == ((3, 3, 3, 1), (4, 4, 2))
        b = zarrlib.from_dask(x.T, store, "b", chunks=(5, 5))
        np.testing.assert_array_equal(b[...], data.T)
        np.testing.assert_array_equal(zarrlib.to_dask(store, "b").compute(), data.T)
    with pytest.raises(ValueError, match=r"shape \(10, 10\) is not x's shape \(10, 5\)"):
        zarrlib.from_dask(x[:, :5], store, "c", zarrlib.array_metadata((10, 10), "uint8"))
    with pytest.raises(TypeError, match="a metadata document or keywords"):
        zarrlib.from_dask(x, store, "c", zarrlib.array_metadata((10, 10), "uint8"), chunks=(2, 2))
    with pytest.raises(zarrlib.NodeExistsError):
        zarrlib.from_dask(x, store, "b")
    assert zarrlib.node_kind(store, "c") is None


def test_aligned_chunks():
    # Aligned blocks are kept, whatever their size; others become multiples of the unit.
    assert aligned_chunks(((20, 40, 40, 5),), (10,)) == ((20, 40, 40, 5),)
    assert aligned_chunks(((7,) * 14 + (2,),), (10,)) == ((10,) * 10,)
    assert aligned_chunks(((30, 30, 30, 10), (3, 3, 3)), (25, 3)) == ((25, 25, 25, 25), (3, 3, 3))
    assert aligned_chunks(((4, 4, 4),), (50,)) == ((12,),)
    assert aligned_chunks((), ()) == ()


def test_dask_reads_computes_and_writes_back(client, shared_store):
    data = np.arange(120 * 90, dtype="float64").reshape(120, 90)
    plain = zarrlib.create_array(shared_store, "plain", shape=data.shape, dtype="float64", chunks=(40, 30))
    sharded = zarrlib.create_array(
        shared_store, "sharded", shape=data.shape, dtype="float64", chunks=(20, 15), shards=(40, 30)
    )
    plain[...] = data
    sharded[...] = data
    # dask.array.from_array on the arrays themselves: tasks in the worker processes read them.
    for source in (plain, sharded):
        x = da.from_array(source, chunks=source.chunks)
        assert x.chunksize == source.chunks
        assert x.sum().compute() == data.sum()
    # dask.array.store into an array: chunk-aligned blocks need no lock.
    out = zarrlib.create_array(shared_store, "out", shape=data.shape, dtype="float64", chunks=(40, 30))
    with get_task_stream(client) as stream:
        da.store(da.from_array(plain, chunks=plain.chunks) * 2 + 1, out, lock=False)
    assert len({task["worker"] for task in stream.data}) == 2
    np.testing.assert_array_equal(out[...], data * 2 + 1)
    # The helpers: tasks aligned to shards when reading; from_dask rechunks unaligned blocks.
    x = zarrlib.to_dask(shared_store, "sharded")
    assert x.chunksize == (40, 30)
    y = zarrlib.from_dask((x - 1).rechunk((7, 11)), shared_store, "y", zarrlib.array_metadata(data.shape, "f8"))
    np.testing.assert_array_equal(y[...], data - 1)
    z = zarrlib.from_dask(x.rechunk((50, 50)), shared_store, "z", shards=None, chunks=(20, 20))
    assert z.chunks == (20, 20)
    # Read again, through Dask, what the workers wrote.
    np.testing.assert_array_equal(zarrlib.to_dask(shared_store, "z").compute(), data)
    np.testing.assert_array_equal(zarrlib.to_dask(shared_store, "y", chunks=(60, 45)).compute(), data - 1)


def test_unaligned_writes_from_two_processes_lose_nothing_with_process_locks(client, tmp_path):
    # 64 tasks, eight to a chunk, each rewriting its part of a 256 KiB chunk, from two processes.
    store = zarrlib.open_store(tmp_path / "locked.zarr", process_locks=True)
    target = zarrlib.create_array(store, "a", shape=(8 * 65536,), dtype="int32", chunks=(65536,))
    x = da.arange(1, 8 * 65536 + 1, chunks=8192, dtype="int32")
    with get_task_stream(client) as stream:
        da.store(x, target, lock=False)
    assert len({task["worker"] for task in stream.data}) == 2
    np.testing.assert_array_equal(target[...], np.arange(1, 8 * 65536 + 1, dtype="int32"))


def _engine_threads(array: zarrlib.Array) -> tuple[int, int]:
    """Run in a worker: the engine's pool size after the worker unpickled ``array``."""
    array[:1]
    return os.getpid(), zarrlib.get_config()["threads"]


def test_worker_processes_size_the_engine_pool_to_the_worker(client, tmp_path):
    a = zarrlib.create_array(tmp_path / "t.zarr", "a", shape=(4,), dtype="int8")
    here = zarrlib.get_config()["threads"]
    workers = list(client.scheduler_info()["workers"])

    def threads_in_each_worker():
        futures = [client.submit(_engine_threads, a, workers=[w], pure=False) for w in workers]
        return dict(client.gather(futures))

    # One thread per worker thread, in each worker process; this process keeps its own.
    found = threads_in_each_worker()
    assert len(found) == 2 and os.getpid() not in found and set(found.values()) == {1}
    pickle.loads(pickle.dumps(a))
    assert zarrlib.get_config()["threads"] == here
    # A worker whose process chose its pool size keeps it (set by client.run, or a worker plugin).
    client.run(zarrlib.set_config, threads=2)
    try:
        assert set(threads_in_each_worker().values()) == {2}
    finally:
        client.run(zarrlib.set_config, threads=1)


# --- zarr-python with the zarrlib pipeline selected (da.from_zarr, da.to_zarr) ------------------------
# The lead adds these here, on the `client` fixture above (python/zarrlib/pipeline.py).


def _pipeline_stats_and_threads() -> tuple[dict[str, int], int]:
    return zarrlib.pipeline_stats(), zarrlib.get_config()["threads"]


def test_zarr_python_arrays_on_the_pipeline_in_worker_processes(client, tmp_path):
    """da.from_zarr and da.to_zarr with zarrlib's pipeline selected: the zarr-python arrays
    pickle with their pipeline, and the workers' reads and writes run on the engine."""
    import zarr

    import zarrlib.pipeline  # noqa: F401  (registers it when the package runs from source)

    with zarr.config.set({"codec_pipeline.path": "zarrlib.ZarrlibCodecPipeline"}):
        source = zarr.create_array(
            tmp_path / "in.zarr", shape=(400, 300), chunks=(100, 100), shards=(200, 300), dtype="f8"
        )
        source[...] = np.arange(400 * 300, dtype="f8").reshape(400, 300)
        x = da.from_zarr(source, chunks=source.shards)  # a task per shard
        assert x.chunks == ((200, 200), (300,))
        before = {w: stats["engine_reads"] for w, (stats, _) in client.run(_pipeline_stats_and_threads).items()}
        total = float(x.sum().compute())
        (x * 2).to_zarr(str(tmp_path / "out.zarr"), component="doubled")
        after = client.run(_pipeline_stats_and_threads)
    assert total == float(np.arange(400 * 300, dtype="f8").sum())
    assert sum(stats["engine_reads"] for stats, _ in after.values()) > sum(before.values())
    assert sum(stats["engine_writes"] for stats, _ in after.values()) > 0
    assert {threads for _, threads in after.values()} == {1}  # sized to each worker's one thread
    doubled = zarr.open_array(tmp_path / "out.zarr", path="doubled", mode="r")
    np.testing.assert_array_equal(doubled[...], 2 * source[...])
