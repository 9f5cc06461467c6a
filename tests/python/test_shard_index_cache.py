"""The shard index cache (native/src/array/shard_cache.rs): an array handle keeps the shard
indexes it read between calls, and reads one again whenever the store says the shard changed.

Reads must stay right whoever rewrites a shard: another handle, another process, zarr-python,
a tool that writes in place and puts the old modification time back, a delete, or a write
through the same handle. And the cache must be used: a second read of a shard makes no index
request (store metrics count requests).

A local file's version is trusted only once its times are 2 s old (the mtime granularity trap,
see native/src/value_versions.rs), so the arrays these tests rewrite are all written first and
left to settle once, by one module-scoped fixture; each test then reads (keeping the index),
rewrites, and reads again twice: at once (the rewritten file is too new to trust, so its index
is read again whatever the kept version) and once the rewrite has settled too (only the changed
version tells the kept index is stale).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import zarrlib
from layouts import v3_sharded

#: How long a local file's times must be old before its version is trusted (value_versions.rs).
SETTLE = 2.0

SHAPE, SHARD, INNER = (16, 16, 16), (8, 8, 8), (4, 4, 4)


def sharded():
    """16^3 uint16 in 8^3 shards of 4^3 zstd inner chunks."""
    return v3_sharded(SHAPE, SHARD, INNER)


def data(seed: int) -> np.ndarray:
    """Elements whose shards all encode to the same size, laid out differently for each seed:
    in every shard, four inner chunks (chosen by the seed) hold random numbers, which zstd
    stores raw, and the other four one repeated value with equal bytes, which it stores as a
    run. A rewrite with another seed keeps every shard's size and moves its inner chunks, so an
    index kept from before would point at the wrong bytes."""
    rng = np.random.default_rng(seed)
    out = np.full(SHAPE, 257 * (seed % 200 + 1), dtype=np.uint16)
    for shard in np.ndindex(2, 2, 2):
        for inner in rng.permutation(8)[:4]:
            corner = [s * 8 + i * 4 for s, i in zip(shard, np.unravel_index(inner, (2, 2, 2)), strict=True)]
            out[tuple(slice(c, c + 4) for c in corner)] = rng.integers(0, 1 << 16, INNER, dtype=np.uint16)
    return out


def shard_sizes(root, name):
    return [os.path.getsize(shard_file(root, name, shard)) for shard in np.ndindex(2, 2, 2)]


#: The arrays the local tests rewrite, each written with data(0) before the pause.
LOCAL_ARRAYS = (
    "other_handle",
    "other_process",
    "zarr_python",
    "in_place",
    "deleted",
    "same_handle",
    "metered",
)


@pytest.fixture(scope="module")
def settled(tmp_path_factory):
    """A directory store holding the LOCAL_ARRAYS, written and then left to settle."""
    root = tmp_path_factory.mktemp("shard_cache")
    store = zarrlib.Store(str(root))
    for name in LOCAL_ARRAYS:
        zarrlib.Array.create(store, name, sharded())[...] = data(0)
    settle()
    return root


def settle():
    time.sleep(SETTLE + 0.2)


def reader(root, name):
    """A handle of its own, on a store object of its own, that has read (and kept) every shard."""
    array = zarrlib.Array.open(zarrlib.Store(str(root)), name)
    np.testing.assert_array_equal(array[...], data(0))
    return array


def shard_file(root, name, shard=(0, 0, 0)):
    return os.path.join(root, name, "c", *map(str, shard))


def test_a_shard_rewritten_through_another_handle_is_read_again(settled):
    array = reader(settled, "other_handle")
    writer = zarrlib.Array.open(zarrlib.Store(str(settled)), "other_handle")
    sizes = shard_sizes(settled, "other_handle")
    # Several rewrites of the same size, each within a second of the read before it.
    for seed in (1, 2, 3):
        writer[...] = data(seed)
        assert shard_sizes(settled, "other_handle") == sizes
        np.testing.assert_array_equal(array[2:10, 3:5, 1:9], data(seed)[2:10, 3:5, 1:9])
    writer[...] = data(4)
    settle()
    np.testing.assert_array_equal(array[2:10, 3:5, 1:9], data(4)[2:10, 3:5, 1:9])
    np.testing.assert_array_equal(array[...], data(4))


def test_a_shard_rewritten_by_another_process_is_read_again(settled):
    array = reader(settled, "other_process")
    script = textwrap.dedent(
        f"""
        import sys, numpy as np, zarrlib
        sys.path.insert(0, {os.path.dirname(__file__)!r})
        from test_shard_index_cache import data
        a = zarrlib.Array.open(zarrlib.Store({str(settled)!r}), "other_process")
        a[...] = data(7)
        """
    )
    sizes = shard_sizes(settled, "other_process")
    subprocess.run([sys.executable, "-c", script], check=True, env=os.environ.copy())
    assert shard_sizes(settled, "other_process") == sizes
    np.testing.assert_array_equal(array[1:3, 1:3, 1:3], data(7)[1:3, 1:3, 1:3])
    settle()
    np.testing.assert_array_equal(array[9:11, 1:3, 1:3], data(7)[9:11, 1:3, 1:3])
    np.testing.assert_array_equal(array[...], data(7))


def test_a_shard_rewritten_by_zarr_python_is_read_again(settled):
    zarr = pytest.importorskip("zarr")
    array = reader(settled, "zarr_python")
    theirs = zarr.open_array(os.path.join(settled, "zarr_python"), mode="r+")
    theirs[...] = data(11)
    np.testing.assert_array_equal(array[5:6, 0:16, 7:8], data(11)[5:6, 0:16, 7:8])
    settle()
    np.testing.assert_array_equal(array[5:6, 7:8, 0:16], data(11)[5:6, 7:8, 0:16])
    np.testing.assert_array_equal(array[...], data(11))


def test_a_rewrite_in_place_that_keeps_size_and_mtime_is_seen(settled, tmp_path):
    """A writer that keeps the inode, the size and the modification time (as `cp -p` onto an
    existing file does): only the status-change time moves."""
    array = reader(settled, "in_place")
    donor = zarrlib.Array.create(zarrlib.Store(str(tmp_path)), "donor", sharded())
    donor[...] = data(21)
    with open(shard_file(tmp_path, "donor"), "rb") as f:
        replacement = f.read()
    path = shard_file(settled, "in_place")
    before = os.stat(path)
    assert len(replacement) == before.st_size
    with open(path, "r+b") as f:
        f.write(replacement)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = os.stat(path)
    assert (after.st_ino, after.st_size, after.st_mtime_ns) == (before.st_ino, before.st_size, before.st_mtime_ns)
    expected = data(0)
    expected[0:8, 0:8, 0:8] = data(21)[0:8, 0:8, 0:8]
    np.testing.assert_array_equal(array[1:2, 1:7, 1:2], expected[1:2, 1:7, 1:2])
    settle()
    np.testing.assert_array_equal(array[1:7, 1:2, 1:2], expected[1:7, 1:2, 1:2])
    np.testing.assert_array_equal(array[...], expected)


def test_a_deleted_shard_reads_as_fill_value(settled):
    array = reader(settled, "deleted")
    os.remove(shard_file(settled, "deleted", (1, 0, 0)))
    expected = data(0)
    expected[8:16, 0:8, 0:8] = 0
    np.testing.assert_array_equal(array[9:10, 1:2, 2:3], expected[9:10, 1:2, 2:3])
    settle()
    np.testing.assert_array_equal(array[9:10, 1:2, 2:3], expected[9:10, 1:2, 2:3])
    np.testing.assert_array_equal(array[...], expected)


def test_an_inner_chunk_written_through_the_same_handle_is_read_back(settled):
    array = reader(settled, "same_handle")
    expected = data(0)
    expected[0:4, 0:4, 0:4] = 5
    array[0:4, 0:4, 0:4] = 5
    np.testing.assert_array_equal(array[0:2, 0:2, 0:2], expected[0:2, 0:2, 0:2])
    expected[4:8, 4:8, 4:8] = 9
    array.write_chunk((0, 0, 0), expected[0:8, 0:8, 0:8])
    np.testing.assert_array_equal(array[3:6, 3:6, 3:6], expected[3:6, 3:6, 3:6])
    np.testing.assert_array_equal(array[...], expected)


def reads_of(store, read) -> int:
    before = store.metrics()["reads"]
    read()
    return store.metrics()["reads"] - before


def test_a_second_read_of_a_shard_reads_no_index_from_a_local_store(settled):
    store = zarrlib.Store(str(settled), metrics=True)
    array = zarrlib.Array.open(store, "metered")
    first = reads_of(store, lambda: array[1:3, 1:3, 1:3])
    second = reads_of(store, lambda: array[1:3, 1:3, 1:3])
    # The first read fetches the index and the inner chunk, the second the inner chunk alone.
    assert (first, second) == (2, 1)


def test_a_second_read_of_a_shard_reads_no_index_from_a_memory_store():
    store = zarrlib.Store("memory://", metrics=True)
    array = zarrlib.Array.create(store, "a", sharded())
    array[...] = data(0)
    first = reads_of(store, lambda: array[1:3, 1:3, 1:3])
    second = reads_of(store, lambda: array[1:3, 1:3, 1:3])
    assert (first, second) == (2, 1)
    # A region over all eight shards, twice: the first reads the seven indexes not yet kept,
    # the second none.
    assert reads_of(store, lambda: array[3:13, 3:13, 3:13]) == 7 + 8 * 8
    assert reads_of(store, lambda: array[3:13, 3:13, 3:13]) == 8 * 8


def test_memory_store_rewrites_through_other_handles_are_seen():
    store = zarrlib.Store("memory://")
    array = zarrlib.Array.create(store, "a", sharded())
    writer = zarrlib.Array.open(store, "a")
    array[...] = data(0)
    np.testing.assert_array_equal(array[...], data(0))
    for seed in (1, 2):
        writer[...] = data(seed)
        np.testing.assert_array_equal(array[0:3, 0:3, 0:3], data(seed)[0:3, 0:3, 0:3])
    writer.delete_chunk((0, 0, 0))
    expected = data(2)
    expected[0:8, 0:8, 0:8] = 0
    np.testing.assert_array_equal(array[...], expected)
