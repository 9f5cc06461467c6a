#!/usr/bin/env python3
"""The floor under the zstd-bound benchmark rows: what libzstd alone needs to decode the frames a
row reads, next to zarrlib and tensorstore reading the same row in the same run.

For each row (read_all, strided, oindex) of the zstd and sharded layouts that ``tools/bench.py``
wrote (``--tmpdir``, same shape, chunks and seed), this lists the zstd frames the row must decode
and how many bytes of each it needs (a strided or orthogonal read ends early in a frame; a prefix
decode stops there), and times ``native/examples/zstd_floor.rs``: libzstd 1.5.7 (the engine's own
build of it) decoding those frames from memory on the same number of threads, one reused context
and output buffer per thread, nothing else. Then zarrlib and tensorstore read the row, interleaved
with the floor, best of --repeats each. The floor leaves out reading the files, placing the
decoded elements and the call's own cost, so it is a lower bound for every reader.

    cargo build --release --example zstd_floor --manifest-path native/Cargo.toml
    python tools/zstd_floor.py --tmpdir /work/bench-data-full
"""

from __future__ import annotations

import argparse
import json
import os
import struct
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (the benchmark's adapters and selections)

HERE = os.path.dirname(os.path.abspath(__file__))
FLOOR = os.path.join(HERE, "..", "native", "target", "release", "examples", "zstd_floor")


def selections(shape, seed, stride, small_reads, small_size):
    """The strided and oindex selections of bench.py's run, drawn from its generator in its order."""
    rng = np.random.default_rng(seed + 1)
    for _ in range(small_reads):
        for s in shape:
            rng.integers(0, max(1, s - small_size + 1))
    for s in shape:
        rng.integers(0, s, 1_000_000)
    per_axis = 1000 if len(shape) <= 2 else round(1000 ** (1 / (len(shape) - 1)))
    rows = tuple(rng.integers(0, s, per_axis) for s in shape[:-1])
    return rows


def wanted_bytes(row, unit_start, n, itemsize, stride, rows):
    """Bytes of a C-order cubic unit of edge n at unit_start that a row needs, as a prefix, or 0."""
    if row == "read_all":
        return n**3 * itemsize
    if row == "strided":
        last = [((start + n - 1) // stride) * stride - start for start in unit_start]
        if any(x < 0 for x in last):
            return 0
        return ((last[0] * n + last[1]) * n + last[2] + 1) * itemsize
    # oindex: every element of the last axis, at the selected indices of the others.
    last = []
    for axis, start in enumerate(unit_start[:-1]):
        local = rows[axis][(rows[axis] >= start) & (rows[axis] < start + n)] - start
        if local.size == 0:
            return 0
        last.append(int(local.max()))
    return ((last[0] * n + last[1]) * n + n) * itemsize


def frames(layout, source, shape, chunk, inner):
    """(path, offset, length, unit_start, unit_edge) of every zstd frame of the layout."""
    grid = [range(0, s, chunk) for s in shape]
    for i in grid[0]:
        for j in grid[1]:
            for k in grid[2]:
                path = os.path.join(source, "c", str(i // chunk), str(j // chunk), str(k // chunk))
                if layout == "zstd":
                    yield path, 0, os.path.getsize(path), (i, j, k), chunk
                    continue
                # A shard: its index (offset, length per inner chunk, then a crc32c) at the end.
                per = chunk // inner
                count = per**3
                with open(path, "rb") as f:
                    f.seek(-(count * 16 + 4), os.SEEK_END)
                    index = struct.unpack(f"<{2 * count}Q", f.read(count * 16))
                for u in range(count):
                    offset, length = index[2 * u], index[2 * u + 1]
                    if offset == 2**64 - 1:
                        continue
                    a, b, c = u // (per * per), (u // per) % per, u % per
                    yield path, offset, length, (i + a * inner, j + b * inner, k + c * inner), inner


def run_floor(jobs, threads, repeats):
    out = subprocess.run([FLOOR, jobs, str(threads), str(repeats)], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tmpdir", required=True, help="the directory bench.py wrote its layouts in (--keep)")
    p.add_argument("--layouts", default="zstd,sharded")
    p.add_argument("--rows", default="read_all,strided,oindex")
    p.add_argument("--impls", default="zarrlib,tensorstore")
    p.add_argument("--shape", type=int, default=512)
    p.add_argument("--chunks", type=int, default=128)
    p.add_argument("--inner", type=int, default=32)
    p.add_argument("--stride", type=int, default=4)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--threads", type=int, default=2, help="the floor's decoding threads (default 2, the machine's cores)"
    )
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--json", help="write every number here")
    args = p.parse_args()
    shape = (args.shape,) * 3
    rows = selections(shape, args.seed, args.stride, 1000, 8)
    stride = (slice(None, None, args.stride),) * 3
    oindex = rows + (slice(None),)
    impls = {name: bench.ADAPTERS[name]() for name in args.impls.split(",")}
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for layout in args.layouts.split(","):
            source = os.path.join(args.tmpdir, layout, "source")
            units = list(frames(layout, source, shape, args.chunks, args.inner))
            handles = {name: impl.open(source, False) for name, impl in impls.items()}
            calls = {
                "read_all": lambda impl, h: impl.read_all(h),
                "strided": lambda impl, h: impl.read_region(h, stride),
                "oindex": lambda impl, h: impl.read_oindex(h, oindex),
            }
            for row in args.rows.split(","):
                jobs = os.path.join(tmp, f"{layout}-{row}.jobs")
                with open(jobs, "w") as f:
                    for path, offset, length, start, n in units:
                        want = wanted_bytes(row, start, n, 2, args.stride, rows)
                        if want:
                            f.write(f"{path}\t{offset}\t{length}\t{n**3 * 2}\t{want}\n")
                best = {name: float("inf") for name in impls}
                floor = float("inf")
                floor_1 = float("inf")
                detail = None
                for _ in range(args.repeats):
                    detail = run_floor(jobs, args.threads, 3)
                    floor = min(floor, detail["best"])
                    floor_1 = min(floor_1, run_floor(jobs, 1, 2)["best"])
                    for name, impl in impls.items():
                        t = time.perf_counter()
                        calls[row](impl, handles[name])
                        best[name] = min(best[name], time.perf_counter() - t)
                result = {
                    "layout": layout,
                    "row": row,
                    "floor": floor,
                    "floor_1_thread": floor_1,
                    "frames": detail["frames"],
                    "bytes_wanted": detail["bytes_wanted"],
                    "bytes_in_frames": detail["bytes_in_frames"],
                    **best,
                }
                results.append(result)
                ratios = "  ".join(f"{name} {best[name]:.3f} s ({best[name] / floor:.2f}× floor)" for name in impls)
                share = detail["bytes_wanted"] / detail["bytes_in_frames"]
                print(
                    f"{layout:8} {row:9} floor {floor:.3f} s ({args.threads} threads; 1 thread {floor_1:.3f} s), "
                    f"{detail['frames']} frames, {share:.0%} of their bytes  {ratios}",
                    flush=True,
                )
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"threads": args.threads, "repeats": args.repeats, "results": results}, f, indent=1)


if __name__ == "__main__":
    main()
