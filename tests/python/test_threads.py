"""Many Python threads using one array at once: through the functional API and through one
shared :class:`zarrlib.Array`, on a directory store and in memory."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import zarrlib
from layouts import v2_array, v3_array, v3_sharded

THREADS = 8
ROUNDS = 6


@pytest.fixture(params=["memory", "local"])
def any_store(request, tmp_path):
    if request.param == "memory":
        return zarrlib.MemoryStore()
    return zarrlib.open_store(tmp_path / "x.zarr")


def run_threads(work, count: int = THREADS) -> list:
    """Run ``work(k)`` for k in range(count) on ``count`` threads released together; re-raise
    the first failure."""
    barrier = threading.Barrier(count)

    def start(k):
        barrier.wait(timeout=60)
        return work(k)

    with ThreadPoolExecutor(max_workers=count) as pool:
        futures = [pool.submit(start, k) for k in range(count)]
        return [f.result(timeout=300) for f in futures]


def chunk_value(k: int, r: int, c: int, shape) -> np.ndarray:
    """A distinct block for thread k, round r, chunk column c (never all fill value)."""
    base = 1 + 100_000 * r + 10_000 * k + 1000 * c
    return (base + np.arange(int(np.prod(shape)))).reshape(shape).astype("int32")


# --- different chunks per thread ------------------------------------------------------------

SHAPE, CHUNKS = (64, 45), (8, 6)  # 8 chunk rows (one per thread); 8 chunk columns, the last 3 wide
COLUMNS = [(c * 6, min(c * 6 + 6, 45)) for c in range(8)]


def expected_blocks(rounds: int = ROUNDS) -> np.ndarray:
    expected = np.zeros(SHAPE, "int32")
    for k in range(THREADS):
        for c, (lo, hi) in enumerate(COLUMNS):
            expected[8 * k : 8 * k + 8, lo:hi] = chunk_value(k, rounds - 1, c, (8, hi - lo))
    return expected


@pytest.mark.parametrize("compressor", ["zstd", None])
def test_functional_threads_on_own_chunks(any_store, compressor):
    metadata = v3_array(SHAPE, CHUNKS, "int32", compressor=compressor)
    zarrlib.create_new_array(metadata, any_store, "a")

    def work(k):
        rows = slice(8 * k, 8 * k + 8)
        for r in range(ROUNDS):
            for c, (lo, hi) in enumerate(COLUMNS):
                value = chunk_value(k, r, c, (8, hi - lo))
                zarrlib.write_region(metadata, any_store, "a", (rows, slice(lo, hi)), value)
                np.testing.assert_array_equal(
                    zarrlib.read_region(metadata, any_store, "a", (rows, slice(lo, hi))), value
                )
            # Whole chunks too, through the chunk API.
            np.testing.assert_array_equal(
                zarrlib.read_chunk(metadata, any_store, "a", (k, 0)), chunk_value(k, r, 0, (8, 6))
            )
        return k

    assert run_threads(work) == list(range(THREADS))
    np.testing.assert_array_equal(zarrlib.read_region(metadata, any_store, "a", Ellipsis), expected_blocks())
    # A fresh handle opened from the store agrees.
    np.testing.assert_array_equal(zarrlib.Array.open(any_store, "a")[...], expected_blocks())


def test_shared_array_object_threads_on_own_chunks(any_store):
    metadata = v3_array(SHAPE, CHUNKS, "int32")
    array = zarrlib.Array.create(any_store, "a", metadata)

    def work(k):
        rows = slice(8 * k, 8 * k + 8)
        for r in range(ROUNDS):
            for c, (lo, hi) in enumerate(COLUMNS):
                value = chunk_value(k, r, c, (8, hi - lo))
                if c % 2:
                    array[rows, lo:hi] = value
                else:
                    array.write_chunk((k, c), np.pad(value, ((0, 0), (0, 6 - (hi - lo)))))
                np.testing.assert_array_equal(array[rows, lo:hi], value)
        return k

    assert run_threads(work) == list(range(THREADS))
    np.testing.assert_array_equal(array[...], expected_blocks())
    np.testing.assert_array_equal(zarrlib.read_region(metadata, any_store, "a", Ellipsis), expected_blocks())


def test_functional_threads_with_path_store(tmp_path):
    """A local path as the store: every thread maps it to the same native store."""
    location = str(tmp_path / "x.zarr")
    metadata = v3_array(SHAPE, CHUNKS, "int32")
    zarrlib.create_new_array(metadata, location, "a")

    def work(k):
        rows = slice(8 * k, 8 * k + 8)
        for r in range(ROUNDS):
            for c, (lo, hi) in enumerate(COLUMNS):
                zarrlib.write_region(metadata, location, "a", (rows, slice(lo, hi)), chunk_value(k, r, c, (8, hi - lo)))

    run_threads(work)
    np.testing.assert_array_equal(zarrlib.read_region(metadata, location, "a", Ellipsis), expected_blocks())
    reopened = zarrlib.open_store(tmp_path / "x.zarr")
    np.testing.assert_array_equal(zarrlib.Array.open(reopened, "a")[...], expected_blocks())


def test_mixed_functional_and_object_threads(any_store):
    """Half the threads write through the functional API, half through one Array object."""
    metadata = v3_array(SHAPE, CHUNKS, "int32")
    zarrlib.create_new_array(metadata, any_store, "a")
    array = zarrlib.Array.open(any_store, "a")

    def work(k):
        rows = slice(8 * k, 8 * k + 8)
        for r in range(ROUNDS):
            for c, (lo, hi) in enumerate(COLUMNS):
                value = chunk_value(k, r, c, (8, hi - lo))
                if k % 2:
                    zarrlib.write_region(metadata, any_store, "a", (rows, slice(lo, hi)), value)
                    got = array[rows, lo:hi]
                else:
                    array[rows, lo:hi] = value
                    got = zarrlib.read_region(metadata, any_store, "a", (rows, slice(lo, hi)))
                np.testing.assert_array_equal(got, value)

    run_threads(work)
    np.testing.assert_array_equal(array[...], expected_blocks())


# --- strided writes into the same chunks, at disjoint elements ------------------------------


def strided_value(k: int, r: int, count) -> np.ndarray:
    return (1 + 1000 * r + 100 * k + np.arange(int(np.prod(count)))).astype("int32").reshape(count)


LAYOUTS = {
    "v3_zstd": lambda: v3_array((400,), (16,), "int32"),
    "v3_raw": lambda: v3_array((400,), (16,), "int32", compressor=None),
    "v3_sharded": lambda: v3_sharded((400,), (64,), (16,), "int32"),
    "v2_blosc": lambda: v2_array((400,), (16,), "<i4"),
}


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_strided_functional_writes_lose_no_update(any_store, layout):
    metadata = LAYOUTS[layout]()
    zarrlib.create_new_array(metadata, any_store, "a")
    expected = np.zeros(400, "int32")

    def work(k):
        for r in range(ROUNDS):
            value = strided_value(k, r, len(range(k, 400, THREADS)))
            zarrlib.write_region(metadata, any_store, "a", slice(k, None, THREADS), value)
            # Other threads only touch other elements: this thread's last write must stand.
            np.testing.assert_array_equal(zarrlib.read_region(metadata, any_store, "a", slice(k, None, THREADS)), value)

    run_threads(work)
    for k in range(THREADS):
        expected[k::THREADS] = strided_value(k, ROUNDS - 1, len(range(k, 400, THREADS)))
    np.testing.assert_array_equal(zarrlib.read_region(metadata, any_store, "a", Ellipsis), expected)


def test_strided_shared_array_writes_lose_no_update(any_store):
    """Thread k writes column k::8 of every row: every chunk is written by all 8 threads."""
    metadata = v3_array((40, 64), (7, 16), "int32")
    array = zarrlib.Array.create(any_store, "a", metadata)

    def work(k):
        for r in range(ROUNDS):
            # Alternate the direction: negative steps write the same elements.
            selection = (
                (slice(None), slice(k, None, THREADS))
                if r % 2
                else (slice(None, None, -1), slice(64 - THREADS + k, None, -THREADS))
            )
            value = strided_value(k, r, (40, 8))
            array[selection] = value
            np.testing.assert_array_equal(array[selection], value)

    run_threads(work)
    expected = np.zeros((40, 64), "int32")
    last = ROUNDS - 1
    for k in range(THREADS):
        selection = (
            (slice(None), slice(k, None, THREADS))
            if last % 2
            else (slice(None, None, -1), slice(64 - THREADS + k, None, -THREADS))
        )
        expected[selection] = strided_value(k, last, (40, 8))
    np.testing.assert_array_equal(array[...], expected)
    np.testing.assert_array_equal(zarrlib.read_region(metadata, any_store, "a", Ellipsis), expected)


def test_strided_scalar_writes_from_functional_and_object(any_store):
    """Thread k sets a[k::8] to k + 1 round after round, half through each API."""
    metadata = v3_array((30, 50), (4, 5), "int32")
    zarrlib.create_new_array(metadata, any_store, "a")
    array = zarrlib.Array.open(any_store, "a")

    def work(k):
        for r in range(ROUNDS * 2):
            if (k + r) % 2:
                zarrlib.write_region(metadata, any_store, "a", slice(k, None, THREADS), k + 1 + r)
            else:
                array[k::THREADS] = k + 1 + r

    run_threads(work)
    expected = np.zeros((30, 50), "int32")
    for k in range(THREADS):
        expected[k::THREADS] = k + ROUNDS * 2
    np.testing.assert_array_equal(array[...], expected)
