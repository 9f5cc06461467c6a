"""Several processes on one directory store at once.

- Four processes write disjoint chunks of one array (whole chunks, and regions spanning their
  chunks) while two others read the whole array again and again: every chunk a reader sees is
  one whole generation, never older than the last it saw, and the final array is all written.
- Four processes write single elements of the same chunk (each a read-modify-write of the
  chunk) with the store option ``process_locks``: no update is lost. Without the option such
  writes are unsafe across processes (each process reads the chunk, changes its part and writes
  the whole chunk back, so two overlapping writers can each write back a chunk without the
  other's part); within one process, threads are always serialised per chunk.
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

import zarrlib
from layouts import v3_array, v3_sharded
from reliability import (
    PARTIAL_CHUNK,
    SHARED_CHUNKS,
    SHARED_SHAPE,
    WRITERS,
    check_chunk,
    release,
    shared_metadata,
    start_child,
)

THOROUGH = os.environ.get("ZARRLIB_HYPOTHESIS_PROFILE") == "thorough"


def finish(child, timeout: float = 300) -> dict:
    out, _ = child.communicate(timeout=timeout)
    assert child.returncode == 0, f"child failed ({child.returncode}): {out}"
    return json.loads(out.strip().splitlines()[-1])


def test_writers_of_disjoint_chunks_and_readers(tmp_path):
    directory = tmp_path / "shared.zarr"
    zarrlib.create_new_array(shared_metadata(), zarrlib.open_store(directory), "a")
    rounds = 60 if THOROUGH else 12
    stop = tmp_path / "stop"
    readers = [start_child("reader", directory, stop) for _ in range(2)]
    writers = [start_child("disjoint-writer", directory, k, rounds) for k in range(WRITERS)]
    release(writers)
    for k, writer in enumerate(writers):
        assert finish(writer) == {"writer": k, "rounds": rounds}
    stop.touch()
    reads = [finish(reader)["reads"] for reader in readers]
    assert all(n >= 1 for n in reads)
    final = zarrlib.open_array(zarrlib.open_store(directory), "a")[...]
    columns = SHARED_SHAPE[1] // SHARED_CHUNKS[1]
    for r in range(SHARED_SHAPE[0] // SHARED_CHUNKS[0]):
        for c in range(columns):
            block = final[r * 16 : r * 16 + 16, c * 16 : c * 16 + 16]
            assert check_chunk(block, r * columns + c) == rounds


@pytest.mark.parametrize("layout", ["zstd", "sharded"])
def test_locked_partial_writes_to_one_chunk_lose_no_update(tmp_path, layout):
    directory = tmp_path / "partial.zarr"
    if layout == "sharded":
        metadata = v3_sharded(PARTIAL_CHUNK, PARTIAL_CHUNK, (8, 16), "int32")
    else:
        metadata = v3_array(PARTIAL_CHUNK, PARTIAL_CHUNK, "int32")
    zarrlib.create_new_array(metadata, zarrlib.open_store(directory), "p")
    rounds = PARTIAL_CHUNK[0] * PARTIAL_CHUNK[1] // WRITERS
    writers = [start_child("partial-writer", directory, k, rounds, "locked") for k in range(WRITERS)]
    release(writers)
    for k, writer in enumerate(writers):
        assert finish(writer) == {"writer": k}
    final = zarrlib.open_array(zarrlib.open_store(directory), "p")[...].ravel()
    index = np.arange(final.size)
    expected = (index % WRITERS) * 1000 + index // WRITERS + 1
    lost = np.flatnonzero(final != expected)
    assert lost.size == 0, f"{lost.size} of {final.size} updates lost"


def test_process_locks_is_an_option_of_directory_stores(tmp_path):
    with pytest.raises(zarrlib.InvalidArgumentError, match="process_locks"):
        zarrlib.open_store("memory://", process_locks=True)
    with pytest.raises(zarrlib.InvalidArgumentError, match="process_locks"):
        zarrlib.open_store(tmp_path / "x.zarr", process_locks="yes")
    store = zarrlib.open_store(tmp_path / "x.zarr", process_locks=True)
    zarrlib.create_new_group(zarrlib.group_metadata(), store, "")
    a = zarrlib.create_array(store, "a", shape=(4,), dtype="int32", chunks=(2,))
    a[1:3] = 5
    # The lock file lives in the array's directory, where no listing shows it, and it goes with
    # the array.
    assert (tmp_path / "x.zarr" / "a" / ".zarrlib.lock").is_file()
    assert [path for path, _ in zarrlib.list_children(store, "")] == ["a"]
    assert a[...].tolist() == [0, 5, 5, 0]
    # A read-only store never creates it, and reads.
    zarrlib.create_array(store, "b", shape=(4,), dtype="int32", chunks=(2,))
    reader = zarrlib.open_store(tmp_path / "x.zarr", process_locks=True, read_only=True)
    assert zarrlib.open_array(reader, "b")[...].tolist() == [0, 0, 0, 0]
    with pytest.raises(zarrlib.ReadOnlyError):
        zarrlib.open_array(reader, "b")[0] = 1
    assert not (tmp_path / "x.zarr" / "b" / ".zarrlib.lock").exists()
    zarrlib.delete_node(store, "a")
    assert not (tmp_path / "x.zarr" / "a").exists()
