"""Child processes of the reliability tests (test_crash.py, test_processes.py, test_soak.py),
and what their parents share with them. Run as ``python -m reliability ROLE ARGS...`` with this
directory on ``PYTHONPATH`` (:func:`child_env`); each role prints ``ready`` once it has opened
its store, then does its work (writers first wait for the parent's ``go``, :func:`release`).

- ``crash-writer DIR LOG START``: applies :func:`operation` for generations START, START+1, ...
  to the store at DIR until it is killed, logging ``begin G`` and ``end G`` around each.
- ``disjoint-writer DIR K ROUNDS``: writes the chunks of rows owned by writer K, ROUNDS times.
- ``reader DIR STOP``: reads the whole array until the file STOP exists, checking each chunk.
- ``partial-writer DIR K ROUNDS locked|unlocked``: ROUNDS one-element writes into the one chunk
  of array ``p``, with or without the store option ``process_locks``.
- ``soak memory|directory CALLS``: CALLS mixed calls, printing RSS and open descriptors at
  checkpoints.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

import zarrlib

HERE = Path(__file__).resolve().parent


def child_env() -> dict[str, str]:
    """The environment of a child process: this directory and the zarrlib the parent imported
    on its path (the library path, ZARRLIB_LIBRARY, is inherited)."""
    env = dict(os.environ)
    package_root = str(Path(zarrlib.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(HERE), package_root, env.get("PYTHONPATH")) if p)
    return env


def start_child(*args: object) -> subprocess.Popen[str]:
    """Start ``python -m reliability ARGS`` and wait for its ``ready`` line."""
    child = subprocess.Popen(
        [sys.executable, "-m", "reliability", *map(str, args)],
        env=child_env(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    line = child.stdout.readline()
    if line.strip() != "ready":
        child.kill()
        raise RuntimeError(f"child {args} did not start: {line!r}")
    return child


def release(children: list[subprocess.Popen[str]]) -> None:
    """Let children waiting in :func:`wait_for_go` go, all at once."""
    for child in children:
        assert child.stdin is not None
        child.stdin.write("go\n")
        child.stdin.flush()


def wait_for_go() -> None:
    """Report ready, then wait for the parent's :func:`release`, so that siblings started one
    after another do their work at the same time."""
    print("ready", flush=True)
    sys.stdin.readline()


# --- crash consistency ---------------------------------------------------------------------

#: The arrays the crash writer writes: a Zarr v3 array stored raw and a Zarr v2 array with zlib
#: and its attributes in .zattrs. Chunks of 32 KiB, so that a kill often lands mid-write.
CRASH_SHAPE, CRASH_CHUNKS = (256, 256), (64, 64)


def crash_arrays() -> dict[str, dict[str, Any]]:
    from layouts import v2_array, v3_array

    return {
        "v3": v3_array(CRASH_SHAPE, CRASH_CHUNKS, "float64", compressor=None),
        "v2": v2_array(CRASH_SHAPE, CRASH_CHUNKS, "<f8", compressor="zlib"),
    }


def operation(generation: int) -> dict[str, Any]:
    """What generation ``generation`` of the crash writer does, the same in the writer and in
    the parent's model: a region write (most), a whole-chunk write, or an attribute update."""
    rng = np.random.default_rng(generation)
    name = str(rng.choice(["v3", "v2"]))
    kind = rng.choice(["region", "chunk", "attributes"], p=[0.7, 0.15, 0.15])
    if kind == "attributes":
        # Up to 64 KiB of attributes, so that the document takes a while to write too.
        return {
            "name": name,
            "kind": "attributes",
            "attrs": {"generation": generation, "pad": "x" * int(rng.integers(0, 65536))},
        }
    if kind == "chunk":
        coords = tuple(int(rng.integers(0, n // c)) for n, c in zip(CRASH_SHAPE, CRASH_CHUNKS, strict=True))
        region = tuple(slice(i * c, i * c + c) for i, c in zip(coords, CRASH_CHUNKS, strict=True))
        value = generation + rng.random(CRASH_CHUNKS)
        return {"name": name, "kind": "chunk", "coords": coords, "region": region, "value": value}
    starts = [int(rng.integers(0, n)) for n in CRASH_SHAPE]
    region = tuple(slice(s, int(rng.integers(s + 1, n + 1))) for s, n in zip(starts, CRASH_SHAPE, strict=True))
    value = generation + rng.random(tuple(r.stop - r.start for r in region))
    return {"name": name, "kind": "region", "region": region, "value": value}


def crash_writer(directory: str, log: str, start: int) -> None:
    store = zarrlib.open_store(directory)
    arrays = crash_arrays()
    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    print("ready", flush=True)
    generation = start
    while True:
        op = operation(generation)
        os.write(fd, f"begin {generation}\n".encode())
        metadata = arrays[op["name"]]
        if op["kind"] == "attributes":
            zarrlib.update_attributes(store, op["name"], op["attrs"], replace=True)
        elif op["kind"] == "chunk":
            zarrlib.write_chunk(metadata, store, op["name"], op["coords"], op["value"])
        else:
            zarrlib.write_region(metadata, store, op["name"], op["region"], op["value"])
        os.write(fd, f"end {generation}\n".encode())
        generation += 1


# --- processes sharing one array -----------------------------------------------------------

#: The array of test_processes.py: 8 x 8 chunks of 16 x 16 int32; writer k owns chunk rows 2k
#: and 2k + 1.
SHARED_SHAPE, SHARED_CHUNKS, WRITERS = (128, 128), (16, 16), 4


def shared_metadata() -> dict[str, Any]:
    from layouts import v3_array

    return v3_array(SHARED_SHAPE, SHARED_CHUNKS, "int32")


def chunk_content(chunk_id: int, generation: int) -> np.ndarray:
    """The content of chunk ``chunk_id`` (row-major number) written in ``generation``: every
    element tells both apart, and a chunk holds one generation or it is torn."""
    size = SHARED_CHUNKS[0] * SHARED_CHUNKS[1]
    return (generation * 1_000_000 + chunk_id * 1000 + np.arange(size, dtype=np.int32)).reshape(SHARED_CHUNKS)


def check_chunk(block: np.ndarray, chunk_id: int) -> int:
    """The generation chunk ``chunk_id`` holds (0 for the fill value); AssertionError if it is
    torn or belongs elsewhere."""
    if not block.any():
        return 0
    generation = int(block.flat[0]) // 1_000_000
    expected = chunk_content(chunk_id, generation)
    assert np.array_equal(block, expected), f"chunk {chunk_id} is not one whole generation"
    return generation


def disjoint_writer(directory: str, k: int, rounds: int) -> None:
    store = zarrlib.open_store(directory)
    array = zarrlib.open_array(store, "a")
    wait_for_go()
    grid_columns = SHARED_SHAPE[1] // SHARED_CHUNKS[1]
    rows = range(2 * k, 2 * k + 2)
    for generation in range(1, rounds + 1):
        # Even generations write both chunk rows in one region call, odd ones chunk by chunk.
        if generation % 2 == 0:
            block = np.concatenate(
                [
                    np.concatenate(
                        [chunk_content(r * grid_columns + c, generation) for c in range(grid_columns)], axis=1
                    )
                    for r in rows
                ]
            )
            array[rows[0] * SHARED_CHUNKS[0] : (rows[-1] + 1) * SHARED_CHUNKS[0], :] = block
        else:
            for r in rows:
                for c in range(grid_columns):
                    array.write_chunk((r, c), chunk_content(r * grid_columns + c, generation))
    print(json.dumps({"writer": k, "rounds": rounds}), flush=True)


def reader(directory: str, stop: str) -> None:
    store = zarrlib.open_store(directory)
    array = zarrlib.open_array(store, "a")
    print("ready", flush=True)
    grid = [n // c for n, c in zip(SHARED_SHAPE, SHARED_CHUNKS, strict=True)]
    seen: dict[int, int] = {}
    reads = 0
    while True:
        stopping = os.path.exists(stop)
        data = array[...]
        reads += 1
        for r in range(grid[0]):
            for c in range(grid[1]):
                block = data[r * 16 : r * 16 + 16, c * 16 : c * 16 + 16]
                chunk_id = r * grid[1] + c
                generation = check_chunk(block, chunk_id)
                # A chunk never goes back to an older generation.
                assert generation >= seen.get(chunk_id, 0), f"chunk {chunk_id} went back"
                seen[chunk_id] = generation
        if stopping:
            break
    print(json.dumps({"reads": reads}), flush=True)


#: test_processes.py's partial writes: one chunk of PARTIAL_CHUNK elements, written one element at
#: a time by every writer (writer k, round r: element r * WRITERS + k), so that each element is
#: written once and a lost update leaves one at the fill value.
PARTIAL_CHUNK = (16, 64)


def partial_writer(directory: str, k: int, rounds: int, locked: str) -> None:
    store = zarrlib.open_store(directory, process_locks=locked == "locked")
    array = zarrlib.open_array(store, "p")
    wait_for_go()
    for r in range(rounds):
        index = np.unravel_index(r * WRITERS + k, PARTIAL_CHUNK)
        array[index] = k * 1000 + r + 1
    print(json.dumps({"writer": k}), flush=True)


# --- the soak test -------------------------------------------------------------------------


def resources() -> dict[str, int]:
    """This process's resident memory (bytes) and open file descriptors."""
    with open("/proc/self/statm") as statm:
        resident_pages = int(statm.read().split()[1])
    return {"rss": resident_pages * os.sysconf("SC_PAGE_SIZE"), "fds": len(os.listdir("/proc/self/fd"))}


def soak(kind: str, calls: int, checkpoints: int = 10) -> None:
    """At least ``calls`` mixed calls of the API on a ``kind`` store (``memory`` or a
    directory), about one in four failing, reporting :func:`resources` after each ``calls /
    checkpoints`` calls as JSON lines."""
    import tempfile

    from layouts import v2_array, v3_array, v3_sharded, v3_strings

    directory = tempfile.mkdtemp(prefix="zarrlib-soak-")
    store = zarrlib.MemoryStore() if kind == "memory" else zarrlib.open_store(Path(directory) / "s.zarr")
    documents = {
        "v3": v3_array((64, 64), (16, 16), "float32"),
        "v2": v2_array((64, 64), (16, 16), "<i4"),
        "sharded": v3_sharded((64, 64), (32, 32), (8, 8)),
        "strings": v3_strings((64,), (16,)),
    }
    zarrlib.create_overwrite_group(zarrlib.group_metadata(), store, "")
    for name, doc in documents.items():
        zarrlib.create_overwrite_array(doc, store, name)
    rng = np.random.default_rng(0)
    print("ready", flush=True)
    if kind == "memory":
        read_only = zarrlib.MemoryStore(read_only=True)
    else:
        read_only = zarrlib.open_store(Path(directory) / "s.zarr", read_only=True)
    steps = _soak_steps(store, read_only, documents)
    made, step = 0, 0
    for checkpoint in range(1, checkpoints + 1):
        while made < calls * checkpoint // checkpoints:
            made += steps[step % len(steps)](rng)
            step += 1
        print(json.dumps({"calls": made, **resources()}), flush=True)


def _soak_steps(store: zarrlib.Store, read_only: zarrlib.Store, documents: dict[str, dict[str, Any]]) -> list[Any]:
    """The calls the soak test cycles through: reads, writes, metadata, and calls that fail."""
    v3, v2, sharded, strings = (documents[n] for n in ("v3", "v2", "sharded", "strings"))

    def expect(error: type[BaseException], call: Any, *args: Any) -> None:
        try:
            call(*args)
        except error:
            return
        raise AssertionError(f"{call.__name__} did not fail")

    # Each step returns how many calls of the API it made.
    def write_region(rng: np.random.Generator) -> int:
        # Parts of four chunks.
        zarrlib.write_region(v3, store, "v3", (slice(5, 21), slice(3, 19)), rng.random((16, 16), dtype=np.float32))
        return 1

    def read_region(rng: np.random.Generator) -> int:
        zarrlib.read_region(v3, store, "v3", (slice(None, None, -3), 7))
        return 1

    def v2_chunk(rng: np.random.Generator) -> int:
        zarrlib.write_chunk(v2, store, "v2", (1, 2), rng.integers(0, 9, (16, 16), dtype=np.int32))
        zarrlib.read_chunk(v2, store, "v2", (1, 2))
        zarrlib.delete_chunk(v2, store, "v2", (0, 0))
        return 3

    def object_api(rng: np.random.Generator) -> int:
        a = zarrlib.open_array(store, "sharded")
        a[3:40, 10:12] = 7
        a.oindex[[1, 5, 60], :]
        a.vindex[[1, 2, 3], [4, 5, 6]]
        return 4

    def vlen(rng: np.random.Generator) -> int:
        zarrlib.write_region(strings, store, "strings", (slice(0, 20),), ["é" * int(n) for n in rng.integers(0, 9, 20)])
        zarrlib.read_region(strings, store, "strings", (slice(None),))
        return 2

    def metadata(rng: np.random.Generator) -> int:
        zarrlib.update_attributes(store, "v2", {"n": int(rng.integers(0, 100))})
        zarrlib.read_metadata(store, "v3")
        zarrlib.list_children(store, "")
        return 3

    def lifecycle(rng: np.random.Generator) -> int:
        zarrlib.create_overwrite_array(v3, store, "tmp")
        zarrlib.append(v3, store, "tmp", np.ones((4, 64), np.float32))
        zarrlib.delete_node(store, "tmp")
        return 3

    def errors(rng: np.random.Generator) -> int:
        expect(zarrlib.NodeNotFoundError, zarrlib.read_metadata, store, "missing")
        expect(zarrlib.OutOfBoundsError, zarrlib.read_chunk, v3, store, "v3", (9, 9))
        expect(ValueError, zarrlib.write_region, v3, store, "v3", (slice(0, 2),), np.ones((3, 3), np.float32))
        expect(zarrlib.InvalidMetadataError, zarrlib.create_overwrite_array, {"zarr_format": 3}, store, "bad")
        expect(zarrlib.NodeExistsError, zarrlib.create_new_array, v3, store, "v3")
        expect(zarrlib.ReadOnlyError, zarrlib.write_chunk, v2, read_only, "v2", (0, 0), np.ones((16, 16), np.int32))
        return 6

    # Reads and writes most often; about one call in four fails.
    return [
        write_region,
        read_region,
        v2_chunk,
        read_region,
        object_api,
        vlen,
        write_region,
        metadata,
        lifecycle,
        errors,
    ]


def main(argv: list[str]) -> None:
    role, args = argv[0], argv[1:]
    if role == "crash-writer":
        crash_writer(args[0], args[1], int(args[2]))
    elif role == "disjoint-writer":
        disjoint_writer(args[0], int(args[1]), int(args[2]))
    elif role == "reader":
        reader(args[0], args[1])
    elif role == "partial-writer":
        partial_writer(args[0], int(args[1]), int(args[2]), args[3])
    elif role == "soak":
        soak(args[0], int(args[1]))
    else:
        raise SystemExit(f"unknown role {role!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
