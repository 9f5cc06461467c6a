#!/usr/bin/env python3
"""Which tasks ``zarrlib.to_dask`` should make for a sharded array: one per shard, or one per
inner chunk.

A float32 array of --shape in shards of --shards is written to a directory store once for each
inner chunk shape of --inner; each row reads it whole through Dask (``x.sum().compute()``),
best of --repeats, on a ``distributed`` cluster of two worker processes of one thread each and
on Dask's threads.

    python tools/bench_dask.py                  # the default run
    python tools/bench_dask.py --quick --json dask.json
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Callable

import dask
import numpy as np
from distributed import Client, LocalCluster

import zarrlib


def best(run: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def rows(directory: str, inner_shapes: list[tuple[int, ...]], scheduler: str, repeats: int) -> list[dict]:
    found = []
    for inner in inner_shapes:
        path = "x".join(map(str, inner))
        for tasks, chunks in (("shard", None), ("inner chunk", inner)):
            x = zarrlib.to_dask(directory, path, chunks=chunks)
            x.sum().compute()  # warm: the first run starts the workers' engines
            seconds = best(lambda x=x: x.sum().compute(), repeats)
            found.append(
                {"scheduler": scheduler, "inner": inner, "tasks_per": tasks, "tasks": x.npartitions, "s": seconds}
            )
            print(f"{scheduler:<12} inner {str(inner):<11} per {tasks:<12} {x.npartitions:>5} tasks {seconds:.3f} s")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shape", type=int, default=4096, help="the array is shape x shape")
    parser.add_argument("--shards", type=int, default=1024, help="shards are shards x shards")
    parser.add_argument("--inner", type=int, nargs="+", default=[256, 128], help="inner chunk sides")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="a tiny run (checks the script works)")
    parser.add_argument("--json", help="write the rows to this file")
    args = parser.parse_args()
    if args.quick:
        args.shape, args.shards, args.inner, args.repeats = 256, 128, [64], 1
    directory = tempfile.mkdtemp(prefix="bench-dask-")
    data = (np.random.default_rng(0).standard_normal((args.shape, args.shape)) * 100).round().astype("float32")
    inner_shapes = [(side, side) for side in args.inner]
    for inner in inner_shapes:
        path = "x".join(map(str, inner))
        shards = (args.shards, args.shards)
        zarrlib.create_array(directory, path, shape=data.shape, dtype="float32", chunks=inner, shards=shards)[...] = (
            data
        )
    found = []
    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
        Client(cluster),
    ):
        found += rows(directory, inner_shapes, "distributed", args.repeats)
    with dask.config.set(scheduler="threads"):
        found += rows(directory, inner_shapes, "threads", args.repeats)
    if args.json:
        with open(args.json, "w") as out:
            json.dump(found, out, indent=1)


if __name__ == "__main__":
    main()
