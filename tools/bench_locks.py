#!/usr/bin/env python3
"""What the ``process_locks`` option of a directory store costs.

Each row is timed on a store opened without the option and on one opened with it (the same
directory), best of --repeats runs (alternating between the two), in microseconds per call; the
last column is the ratio.

Rows (int32 arrays, 64 x 64 chunks of 16 KiB, stored raw unless said otherwise):
  write_chunk     whole-chunk writes, cycling over 64 chunks (each takes one chunk lock)
  write_element   one-element writes (each reads, changes and writes back its chunk)
  write_region    a 256 x 256 region over 16 chunks, one call (16 chunk locks, one lock call)
  write_zstd      whole-chunk writes of a zstd-compressed array
  read_chunk      whole-chunk reads (no lock is taken: shows the baseline is unchanged)
  read_inner      one inner chunk of a sharded array (readers of shards take shared locks)
  4 processes     four processes each making --elements one-element writes to chunks of their
                  own, all at once: the wall time of the whole run, in milliseconds

    python tools/bench_locks.py                  # the default run
    python tools/bench_locks.py --quick --json locks.json
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

import zarrlib

CHUNK = (64, 64)
SHAPE = (512, 512)


def v3(codecs: list, chunks=CHUNK) -> dict:
    return {
        "zarr_format": 3,
        "node_type": "array",
        "shape": list(SHAPE),
        "data_type": "int32",
        "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": list(chunks)}},
        "chunk_key_encoding": {"name": "default"},
        "fill_value": 0,
        "codecs": codecs,
    }


BYTES = {"name": "bytes", "configuration": {"endian": "little"}}
ARRAYS = {
    "raw": v3([BYTES]),
    "zstd": v3([BYTES, {"name": "zstd", "configuration": {"level": 0, "checksum": False}}]),
    "sharded": v3(
        [
            {
                "name": "sharding_indexed",
                "configuration": {
                    "chunk_shape": [16, 16],
                    "codecs": [BYTES],
                    "index_codecs": [BYTES, {"name": "crc32c"}],
                },
            }
        ],
        chunks=(128, 128),
    ),
}


def operations(store: zarrlib.Store, calls: int) -> dict[str, tuple[Callable[[], object], int]]:
    """Each row's timed run on ``store`` and the number of calls it makes."""
    raw, zstd, sharded = (zarrlib.open_array(store, name) for name in ARRAYS)
    rng = np.random.default_rng(0)
    chunk = rng.integers(1, 1 << 30, CHUNK, dtype=np.int32)
    region = rng.integers(1, 1 << 30, (256, 256), dtype=np.int32)
    coords = [(i % 8, i // 8 % 8) for i in range(calls)]

    def write_chunks(array):
        return lambda: [array.write_chunk(c, chunk) for c in coords]

    def write_elements():
        for i in range(calls):
            raw[i % 512, i * 7 % 512] = i + 1

    def write_regions():
        for _ in range(calls // 16):
            raw[0:256, 0:256] = region

    return {
        "write_chunk": (write_chunks(raw), calls),
        "write_element": (write_elements, calls),
        "write_region": (write_regions, calls // 16),
        "write_zstd": (write_chunks(zstd), calls),
        "read_chunk": (lambda: [raw.read_chunk(c) for c in coords], calls),
        "read_inner": (lambda: [sharded[16 * (i % 8) : 16 * (i % 8) + 16, 0:16] for i in range(calls)], calls),
    }


def rows(directory: str, calls: int, repeats: int) -> dict[str, dict[str, float]]:
    """Microseconds per call of each row, unlocked and locked, best of ``repeats``. The runs of
    a row alternate between the two stores, so that both see the same stretch of a noisy
    machine."""
    stores = {
        "unlocked": zarrlib.open_store(directory),
        "locked": zarrlib.open_store(directory, process_locks=True),
    }
    runs = {kind: operations(store, calls) for kind, store in stores.items()}
    results: dict[str, dict[str, float]] = {kind: {} for kind in stores}
    for row in runs["unlocked"]:
        best = dict.fromkeys(stores, float("inf"))
        for _ in range(repeats):
            for kind in stores:
                run, count = runs[kind][row]
                started = time.perf_counter()
                run()
                best[kind] = min(best[kind], (time.perf_counter() - started) / count * 1e6)
        for kind in stores:
            results[kind][row] = best[kind]
    return results


def worker(directory: str, k: int, elements: int, locked: bool) -> None:
    array = zarrlib.open_array(zarrlib.open_store(directory, process_locks=locked), "raw")
    print("ready", flush=True)
    sys.stdin.readline()
    for i in range(elements):
        # Writer k writes in chunk row k only.
        array[64 * k + i % 64, i * 7 % 512] = i + 1


def processes(directory: str, elements: int, locked: bool) -> float:
    """Wall time (ms) of four processes each writing ``elements`` elements in its own chunks."""
    children = [
        subprocess.Popen(
            [sys.executable, __file__, "--worker", directory, str(k), str(elements), str(int(locked))],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for k in range(4)
    ]
    for child in children:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
    started = time.perf_counter()
    for child in children:
        assert child.stdin is not None
        child.stdin.write("go\n")
        child.stdin.flush()
    for child in children:
        child.wait()
        assert child.returncode == 0
    return (time.perf_counter() - started) * 1e3


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--calls", type=int, default=2000, help="calls per timed run (default 2000)")
    p.add_argument("--elements", type=int, default=2000, help="writes per process in the 4-process row")
    p.add_argument("--repeats", type=int, default=5, help="best of N runs (default 5)")
    p.add_argument("--quick", action="store_true", help="a smoke test: few calls, one run")
    p.add_argument("--json", help="write the results as JSON to this path")
    p.add_argument("--worker", nargs=4, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        worker(args.worker[0], int(args.worker[1]), int(args.worker[2]), args.worker[3] == "1")
        return 0
    if args.quick:
        args.calls, args.elements, args.repeats = 32, 32, 1
    with tempfile.TemporaryDirectory(prefix="zarrlib-bench-locks-") as tmp:
        directory = str(Path(tmp) / "locks.zarr")
        store = zarrlib.open_store(directory)
        for name, doc in ARRAYS.items():
            zarrlib.create_new_array(doc, store, name)
        zarrlib.open_array(store, "sharded")[...] = 1
        results = rows(directory, args.calls, args.repeats)
        wall = {"unlocked": float("inf"), "locked": float("inf")}
        for _ in range(args.repeats):
            for kind in wall:
                wall[kind] = min(wall[kind], processes(directory, args.elements, kind == "locked"))
        for kind, ms in wall.items():
            results[kind]["4 processes"] = ms
    print(f"{'row':<14} {'unlocked':>10} {'locked':>10} {'ratio':>6}")
    for row, unlocked in results["unlocked"].items():
        locked = results["locked"][row]
        unit = "ms" if row == "4 processes" else "µs"
        print(f"{row:<14} {unlocked:>7.1f} {unit} {locked:>7.1f} {unit} {locked / unlocked:>6.2f}")
    if args.json:
        Path(args.json).write_text(
            json.dumps({"zarrlib": zarrlib.__version__, "args": vars(args), "results": results}, indent=1)
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
