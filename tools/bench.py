#!/usr/bin/env python3
"""Benchmark zarrlib against other Zarr implementations on the same on-disk data.

For each layout (raw, zstd level 0, blosc, sharded) a uint16 array is written once, by
zarr-python's public API, into a temporary directory; every implementation then reads that same
data in the same run. Writes go to a fresh copy per implementation (the source's zarr.json in an
empty directory), so they never disturb the reads.

Implementations (columns): zarrlib (object API, ``zarrlib.Array.open``), zarrlib's functional API,
zarrlib's reference backend (``backend="reference"``, zarr-python underneath), zarr-python with
zarrlib's codec pipeline (``zarrlib-pipe``), zarr-python, zarr-python with the zarrs codec
pipeline, zarrista and tensorstore; a peer that cannot be
imported is skipped. Baselines: a numpy copy of the same bytes, and reading the stored chunk files
into one buffer (writing them, for the write rows).

The strings layout is a 1-d array of 100,000 variable-length strings (Zarr v3 ``string``,
vlen-utf8 and zstd, 10,000 per chunk, as ``zarr.create_array(dtype=str)`` writes it) and has one
row, read_all (numpy StringDType results, in seconds).

Operations (rows, per layout):
  read_all      whole-array read, ``a[...]``
  write_all     whole-array write, ``a[...] = data``
  read_chunks   every chunk read in turn (for the sharded layout a chunk is a shard); the
                chunk API where the implementation has one, else the chunk's region
  write_chunks  every chunk written in turn, likewise
  inner_chunk   (sharded layout only) one inner chunk's region read, µs per call
  strided       ``a[::4, ::4, ::4]`` (the step is --stride)
  small_reads   many random 8^3 region reads, µs per call
  vindex        one coordinate selection of 1,000,000 random points, ``a.vindex[i, j, k]``
  oindex        one orthogonal selection of 1,000 scattered rows along the last axis,
                ``a.oindex[rows, cols, :]`` (32 random indices on each leading axis of a 3-d
                array, 1,000 on the first of a 2-d one)

Timing: best of --repeats runs (time.perf_counter), page cache warm (the files were just written
and are read once before the reads are timed). The runs of one row are interleaved across the
implementations (run 1 of each, then run 2 of each, in a rotated order), so that on a shared,
noisy machine every column's best is taken over the same stretch of time. An implementation
stops repeating a row once its runs took --op-budget seconds (at least one run). Every read's
result is checked against the data, and every write is read back and checked; a failure shows
"error: ..." in its cell (in full in the JSON) and the run goes on. The JSON also has the
process's CPU time during each cell's best run (``cpu_seconds``, ``cpu_per_wall``): how many cores
the row kept busy, and what it cost whatever else ran on the machine.

zarrlib's library is loaded from a private copy (ZARRLIB_LIBRARY), so a rebuild or reinstall
during the run cannot pull the code from under it; its sha256 is in the JSON.

Peak memory of a whole-array read is measured per implementation in a fresh subprocess:
``ru_maxrss`` after the read minus ``ru_maxrss`` after imports and open, next to the result's
size.

    python tools/bench.py                         # the full run (512^3, 128^3 chunks)
    python tools/bench.py --quick                 # a smoke test (256^3, 64^3 chunks)
    python tools/bench.py --json out.json --png out.png
    python tools/bench.py --shape 1024,512,512 --chunks 256 --layouts zstd,sharded --impls zarrlib,tensorstore
    python tools/bench.py --threads 1             # every implementation limited to one engine thread
    python tools/bench.py --scaling --json s.json --png s.png   # how cost grows with size and threads
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib
import importlib.metadata
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import traceback

import numpy as np

LAYOUTS = ("raw", "zstd", "blosc", "sharded", "strings")
#: The number of elements of the strings layout's array.
STRINGS = 100_000
OPERATIONS = (
    "read_all",
    "write_all",
    "read_chunks",
    "write_chunks",
    "inner_chunk",
    "strided",
    "small_reads",
    "vindex",
    "oindex",
)
#: Operations that move the whole array (seconds, GB/s); the others are reported in µs per call
#: (inner_chunk, small_reads) or seconds (strided).
WHOLE = ("read_all", "write_all", "read_chunks", "write_chunks")
PER_CALL = ("inner_chunk", "small_reads")
WRITES = ("write_all", "write_chunks")

ZARRLIB = "zarrlib"
IMPLS = ("zarrlib", "zarrlib-func", "zarrlib-ref", "zarrlib-pipe", "zarr-python", "zarrs", "zarrista", "tensorstore")
#: Implementations that are not zarrlib: the ratio column compares zarrlib with the fastest.
PEERS = ("zarr-python", "zarrs", "zarrista", "tensorstore")
BASELINES = ("numpy-copy", "raw-files")
#: The pip distribution each implementation needs, for the versions line.
DISTRIBUTIONS = {
    "zarrlib": ("zarrlib",),
    "zarrlib-func": ("zarrlib",),
    "zarrlib-ref": ("zarrlib", "zarr"),
    "zarrlib-pipe": ("zarrlib", "zarr"),
    "zarr-python": ("zarr",),
    "zarrs": ("zarrs", "zarr"),
    "zarrista": ("zarrista",),
    "tensorstore": ("tensorstore",),
}


class Unsupported(Exception):
    """The implementation has no way to do this operation (shown as n/a, not as an error)."""


# --- layouts: written once by zarr-python ------------------------------------------------


def make_data(shape: tuple[int, ...], seed: int) -> np.ndarray:
    """A smooth ramp plus 4 bits of noise: compressible, never all zero in a chunk."""
    rng = np.random.default_rng(seed)
    data = rng.integers(0, 16, size=shape, dtype=np.uint16)
    ramp = np.zeros((), np.uint16)
    for axis, n in enumerate(shape):
        index = [None] * len(shape)
        index[axis] = slice(None)
        ramp = ramp + (np.arange(n, dtype=np.uint16) * np.uint16(1 + 2 * axis))[tuple(index)]
    data += ramp
    data |= np.uint16(1)  # no element equals the fill value 0
    return data


def write_layout(layout: str, directory: str, data: np.ndarray, chunks, inner) -> None:
    import zarr
    from zarr.codecs import BloscCodec, ZstdCodec

    kwargs = {"chunks": tuple(chunks), "compressors": None}
    if layout == "zstd":
        kwargs["compressors"] = ZstdCodec(level=0, checksum=False)
    elif layout == "blosc":
        kwargs["compressors"] = BloscCodec(cname="lz4", clevel=5, shuffle="shuffle", typesize=2)
    elif layout == "sharded":
        kwargs = {"chunks": tuple(inner), "shards": tuple(chunks), "compressors": ZstdCodec(level=0, checksum=False)}
    with zarr.config.set({"codec_pipeline.path": "zarr.core.codec_pipeline.BatchedCodecPipeline"}):
        array = zarr.create_array(
            store=directory,
            shape=data.shape,
            dtype=data.dtype,
            fill_value=0,
            zarr_format=3,
            overwrite=True,
            **kwargs,
        )
        array[...] = data


def data_files(directory: str) -> list[str]:
    """The stored chunk (or shard) files under ``directory``, metadata left out."""
    paths = []
    for root, _, files in os.walk(directory):
        paths.extend(os.path.join(root, f) for f in files if f != "zarr.json")
    return sorted(paths)


def fresh_copy(source: str, target: str) -> str:
    """An empty array with the source's metadata: somewhere for an implementation to write."""
    shutil.rmtree(target, ignore_errors=True)
    os.makedirs(target)
    shutil.copy(os.path.join(source, "zarr.json"), target)
    return target


# --- implementations ---------------------------------------------------------------------
#
# Each adapter opens an array directory and exposes the same operations. ``region`` arguments are
# tuples of slices; ``coords`` are chunk-grid coordinates.


class Impl:
    name = ""
    modules: tuple[str, ...] = ()

    def available(self) -> str | None:
        """None when usable, else why not."""
        for module in self.modules:
            try:
                importlib.import_module(module)
            except Exception as err:  # noqa: BLE001 - any import failure means skip
                return f"{module} not importable ({type(err).__name__}: {err})"
        return None

    def open(self, directory: str, writable: bool):
        raise NotImplementedError

    def read_all(self, h) -> np.ndarray:
        return self.read_region(h, (Ellipsis,))

    def write_all(self, h, data: np.ndarray) -> None:
        self.write_region(h, (Ellipsis,), data)

    def read_chunk(self, h, coords, region) -> np.ndarray:
        return self.read_region(h, region)

    def write_chunk(self, h, coords, region, block: np.ndarray) -> None:
        self.write_region(h, region, block)

    def read_region(self, h, region) -> np.ndarray:
        raise NotImplementedError

    def write_region(self, h, region, value) -> None:
        raise NotImplementedError

    def read_vindex(self, h, points) -> np.ndarray:
        raise Unsupported("no coordinate selections")

    def read_oindex(self, h, selection) -> np.ndarray:
        raise Unsupported("no orthogonal selections")


def full_chunk(block: np.ndarray, chunk_shape) -> np.ndarray:
    """An edge chunk's block padded to the whole chunk shape, as chunk-write APIs take it."""
    chunk_shape = tuple(chunk_shape)
    if block.shape == chunk_shape:
        return block
    padded = np.zeros(chunk_shape, block.dtype)
    padded[tuple(slice(0, n) for n in block.shape)] = block
    return padded


class ZarrlibObject(Impl):
    name = "zarrlib"
    modules = ("zarrlib",)

    def open(self, directory, writable):
        import zarrlib

        return zarrlib.Array.open(zarrlib.open_store(directory), "")

    def read_chunk(self, h, coords, region):
        return h.read_chunk(coords)

    def write_chunk(self, h, coords, region, block):
        h.write_chunk(coords, full_chunk(block, h.shards or h.chunks))

    def read_region(self, h, region):
        return h[region]

    def write_region(self, h, region, value):
        h[region] = value

    def read_vindex(self, h, points):
        return h.vindex[points]

    def read_oindex(self, h, selection):
        return h.oindex[selection]


class ZarrlibFunctional(Impl):
    name = "zarrlib-func"
    modules = ("zarrlib",)
    backend = None

    def store(self, directory):
        import zarrlib

        return zarrlib.open_store(directory)

    def open(self, directory, writable):
        import zarrlib

        store = self.store(directory)
        return zarrlib.read_metadata(store, "", backend=self.backend), store

    def read_chunk(self, h, coords, region):
        import zarrlib

        return zarrlib.read_chunk(h[0], h[1], "", coords, backend=self.backend)

    def write_chunk(self, h, coords, region, block):
        import zarrlib

        chunks = h[0]["chunk_grid"]["configuration"]["chunk_shape"]
        zarrlib.write_chunk(h[0], h[1], "", coords, full_chunk(block, chunks), backend=self.backend)

    def read_region(self, h, region):
        import zarrlib

        return zarrlib.read_region(h[0], h[1], "", region, backend=self.backend)

    def write_region(self, h, region, value):
        import zarrlib

        zarrlib.write_region(h[0], h[1], "", region, value, backend=self.backend)


class ZarrlibReference(ZarrlibFunctional):
    name = "zarrlib-ref"
    modules = ("zarrlib", "zarr", "zarrlib.reference_backend")
    backend = "reference"

    def store(self, directory):
        from zarr.storage import LocalStore

        return LocalStore(directory)


class ZarrPython(Impl):
    name = "zarr-python"
    modules = ("zarr",)
    pipeline = "zarr.core.codec_pipeline.BatchedCodecPipeline"

    def open(self, directory, writable):
        import zarr

        with zarr.config.set({"codec_pipeline.path": self.pipeline}):
            array = zarr.open_array(store=directory, mode="r+" if writable else "r")
        pipeline = type(array._async_array.codec_pipeline)
        if f"{pipeline.__module__}.{pipeline.__name__}".rsplit(".", 1)[-1] != self.pipeline.rsplit(".", 1)[-1]:
            raise RuntimeError(f"opened with codec pipeline {pipeline.__name__}, not {self.pipeline}")
        return array

    def read_region(self, h, region):
        return h[region]

    def write_region(self, h, region, value):
        h[region] = value

    def read_vindex(self, h, points):
        return h.vindex[points]

    def read_oindex(self, h, selection):
        return h.oindex[selection]


class Zarrs(ZarrPython):
    name = "zarrs"
    modules = ("zarr", "zarrs")
    pipeline = "zarrs.ZarrsCodecPipeline"


class ZarrlibPipeline(ZarrPython):
    """zarr-python with zarrlib's codec pipeline (issue 12: it must beat the zarrs pipeline)."""

    name = "zarrlib-pipe"
    modules = ("zarr", "zarrlib")
    pipeline = "zarrlib.ZarrlibCodecPipeline"

    def open(self, directory, writable):
        import zarrlib.pipeline  # noqa: F401  (registers it where the entry point is not installed)

        return super().open(directory, writable)


class Zarrista(Impl):
    name = "zarrista"
    modules = ("zarrista",)

    def open(self, directory, writable):
        from zarrista import Array
        from zarrista.store import FilesystemStore

        array = Array.open(FilesystemStore(directory), "/")
        return array if writable else array.read_only()

    def read_chunk(self, h, coords, region):
        return h.retrieve_chunk(list(coords)).to_numpy()

    def write_chunk(self, h, coords, region, block):
        h.store_chunks(tuple(coords), full_chunk(block, h.chunk_shape(list(coords))))

    def read_region(self, h, region):
        if any(isinstance(s, slice) and s.step not in (None, 1) for s in region):
            raise Unsupported("no strided selections")
        return h.retrieve_array_subset(region).to_numpy()

    def write_region(self, h, region, value):
        h.store_array_subset(region, value)


class Tensorstore(Impl):
    name = "tensorstore"
    modules = ("tensorstore",)

    def open(self, directory, writable):
        import tensorstore as ts

        spec = {"driver": "zarr3", "kvstore": {"driver": "file", "path": directory}}
        if THREADS is not None:
            # Its two pools: decoding and copying, and file reads and writes.
            spec["context"] = {
                "data_copy_concurrency": {"limit": THREADS},
                "file_io_concurrency": {"limit": THREADS},
            }
        return ts.open(spec, open=True, read=True, write=writable).result()

    def read_region(self, h, region):
        return h[region].read().result()

    def write_region(self, h, region, value):
        h[region].write(value).result()

    def read_vindex(self, h, points):
        return h.vindex[points].read().result()

    def read_oindex(self, h, selection):
        return h.oindex[selection].read().result()


ADAPTERS = {
    cls.name: cls
    for cls in (
        ZarrlibObject,
        ZarrlibFunctional,
        ZarrlibReference,
        ZarrlibPipeline,
        ZarrPython,
        Zarrs,
        Zarrista,
        Tensorstore,
    )
}


# --- engine threads (--threads) -------------------------------------------------------------

#: The number of engine threads every implementation is limited to (--threads); None leaves
#: each its own default.
THREADS: int | None = None

#: How --threads reaches each implementation, for the JSON and the doc.
THREAD_KNOBS = {
    "zarrlib": "zarrlib.set_config(threads=N) (the engine's compute pool)",
    "zarrlib-func": "zarrlib.set_config(threads=N)",
    "zarrlib-ref": "zarr.config threading.max_workers=N (zarr-python underneath)",
    "zarrlib-pipe": "zarrlib.set_config(threads=N) and zarr.config threading.max_workers=N",
    "zarr-python": "zarr.config threading.max_workers=N (the executor its codecs and file I/O run on; "
    "the event loop thread comes on top)",
    "zarrs": "zarr.config threading.max_workers=N (the zarrs pipeline's num_threads) and RAYON_NUM_THREADS=N",
    "zarrista": "RAYON_NUM_THREADS=N (zarrs' global rayon pool; zarrista has no other knob)",
    "tensorstore": "context data_copy_concurrency and file_io_concurrency limit N",
}


def limit_threads(threads: int) -> None:
    """Limit every implementation to ``threads`` engine threads. Call before any of them is
    imported: rayon sizes its global pool (zarrista, the zarrs pipeline) from the environment on
    first use, and zarr-python makes its executor once."""
    global THREADS
    THREADS = threads
    os.environ["RAYON_NUM_THREADS"] = str(threads)
    with contextlib.suppress(ImportError):
        import zarr

        zarr.config.set({"threading.max_workers": threads})
    with contextlib.suppress(ImportError):
        import zarrlib

        zarrlib.set_config(threads=threads)


# --- timing ------------------------------------------------------------------------------


def short_error(err: BaseException) -> str:
    text = f"{type(err).__name__}: {err}".replace("\n", " ")
    return text if len(text) <= 200 else text[:197] + "..."


def chunk_grid(shape, chunks):
    """Every chunk's coordinates and region, C order."""
    grid = [-(-s // c) for s, c in zip(shape, chunks, strict=True)]
    result = []
    for coords in np.ndindex(*grid):
        region = tuple(slice(i * c, min((i + 1) * c, s)) for i, c, s in zip(coords, chunks, shape, strict=True))
        result.append((tuple(int(i) for i in coords), region))
    return result


class Bench:
    def __init__(self, args):
        self.args = args
        self.shape = tuple(args.shape)
        self.chunks = tuple(args.chunks)
        self.inner = tuple(args.inner)
        self.results: list[dict] = []
        self.memory: list[dict] = []
        self.skipped: dict[str, str] = {}
        self.impls: dict[str, Impl] = {}
        for name in args.impls:
            impl = ADAPTERS[name]()
            why = impl.available()
            if why is None:
                self.impls[name] = impl
            else:
                self.skipped[name] = why
                print(f"skipped {name}: {why}", flush=True)

    # -- bookkeeping --

    def record(
        self, layout, op, impl, *, seconds=None, times=None, cpu=None, calls=1, nbytes=None, error=None, na=None
    ):
        entry = {"layout": layout, "operation": op, "implementation": impl}
        if error is not None:
            entry["error"] = error
        elif na is not None:
            entry["unsupported"] = na
        else:
            entry["seconds"] = seconds
            entry["times"] = times
            entry["calls"] = calls
            if cpu is not None:
                # CPU seconds of the whole process during the best run: how many cores it kept busy.
                entry["cpu_seconds"] = cpu
                entry["cpu_per_wall"] = cpu / seconds if seconds else None
            if op in PER_CALL:
                entry["us_per_call"] = seconds / calls * 1e6
            if nbytes is not None and op in WHOLE:
                entry["gb_per_s"] = nbytes / seconds / 1e9
        self.results.append(entry)
        print(f"  {layout:8s} {op:13s} {impl:13s} {format_cell(entry)}", flush=True)

    def run_op(self, layout, op, impl, fn, check=None, calls=1, nbytes=None):
        """Time one implementation's ``fn`` alone (best of N), then ``check`` its result."""
        self.run_round(layout, op, {impl: (fn, check)}, calls=calls, nbytes=nbytes)

    def run_round(self, layout, op, tasks, calls=1, nbytes=None):
        """Time every implementation's ``fn`` for one cell row, interleaved: run 1 of each, then
        run 2 of each (in a rotated order), and so on, so that each column's best of N is taken
        across the same stretch of time and load. An implementation stops once its runs took
        --op-budget seconds. ``check`` sees the first run's result (outside the timing).
        ``tasks`` maps implementation name to ``(fn, check)``."""
        args = self.args
        names = list(tasks)
        times = {name: [] for name in names}
        cpus = {name: [] for name in names}
        failed: dict[str, tuple[str, str]] = {}
        done: set[str] = set()
        for rep in range(max(1, args.repeats)):
            shift = rep % len(names)
            for name in names[shift:] + names[:shift]:
                if name in done:
                    continue
                fn, check = tasks[name]
                result = None
                gc.collect()
                try:
                    c0 = time.process_time()
                    t0 = time.perf_counter()
                    result = fn()
                    elapsed = time.perf_counter() - t0
                    cpu = time.process_time() - c0
                    if rep == 0 and check is not None:
                        check(result)
                except Unsupported as err:
                    failed[name] = ("na", str(err))
                    done.add(name)
                    continue
                except Exception as err:  # noqa: BLE001 - a failing peer must not stop the run
                    if args.verbose:
                        traceback.print_exc()
                    failed[name] = ("error", short_error(err))
                    done.add(name)
                    continue
                finally:
                    del result
                times[name].append(elapsed)
                cpus[name].append(cpu)
                if sum(times[name]) > args.op_budget:
                    done.add(name)
        for name in names:
            if name in failed:
                kind, message = failed[name]
                self.record(layout, op, name, **{kind: message})
            else:
                best = min(range(len(times[name])), key=times[name].__getitem__)
                self.record(
                    layout,
                    op,
                    name,
                    seconds=times[name][best],
                    times=times[name],
                    cpu=cpus[name][best],
                    calls=calls,
                    nbytes=nbytes,
                )

    # -- the run --

    def run(self, workdir):
        args = self.args
        t0 = time.perf_counter()
        print(f"data: uint16 {self.shape}, chunks {self.chunks}, shard inner chunks {self.inner}", flush=True)
        data = make_data(self.shape, args.seed)
        rng = np.random.default_rng(args.seed + 1)
        size = args.small_size
        origins = [
            tuple(int(rng.integers(0, max(1, s - size + 1))) for s in self.shape) for _ in range(args.small_reads)
        ]
        small = [
            tuple(slice(o, min(o + size, s)) for o, s in zip(origin, self.shape, strict=True)) for origin in origins
        ]
        strided = (slice(None, None, args.stride),) * len(self.shape)
        inner_coords = tuple(
            min(i, -(-c // n) - 1) for i, c, n in zip((1, 2, 3, 1, 1, 1), self.chunks, self.inner, strict=False)
        )
        inner_region = tuple(
            slice(i * n, min((i + 1) * n, s)) for i, n, s in zip(inner_coords, self.inner, self.shape, strict=True)
        )
        grid = chunk_grid(self.shape, self.chunks)
        blocks = [np.ascontiguousarray(data[region]) for _, region in grid]
        points = tuple(rng.integers(0, s, 1_000_000) for s in self.shape)
        per_axis = 1000 if len(self.shape) <= 2 else round(1000 ** (1 / (len(self.shape) - 1)))
        rows = tuple(rng.integers(0, s, per_axis) for s in self.shape[:-1]) + (slice(None),)
        self.meta = {
            "strided_selection": "[" + ", ".join([f"::{args.stride}"] * len(self.shape)) + "]",
            "inner_chunk_region": [[s.start, s.stop] for s in inner_region],
            "small_reads": {"count": len(small), "size": size},
        }
        self.layout_sizes = {}
        work = {
            "data": data,
            "grid": grid,
            "blocks": blocks,
            "inner_region": inner_region,
            "strided": strided,
            "small": small,
            "points": points,
            "rows": rows,
        }

        for layout in args.layouts:
            print(f"\n== layout {layout}", flush=True)
            if layout == "strings":
                if "read_all" in args.ops:
                    self.run_strings(workdir)
                continue
            source = os.path.join(workdir, layout, "source")
            try:
                self.write_or_reuse(layout, source, data)
            except Exception as err:  # noqa: BLE001
                print(f"  could not write layout {layout}: {short_error(err)}", flush=True)
                for op in args.ops:
                    if op != "inner_chunk" or layout == "sharded":
                        for name in self.impls:
                            self.record(layout, op, name, error=f"layout not written: {short_error(err)}")
                continue
            os.sync()  # no writeback of the layout during the timings
            files = data_files(source)
            stored = sum(os.path.getsize(f) for f in files)
            print(
                f"  {len(files)} files, {stored / 2**20:.1f} MiB stored ({data.nbytes / max(stored, 1):.2f}x)",
                flush=True,
            )
            self.layout_sizes[layout] = {"files": len(files), "stored_bytes": stored}
            self.baselines(layout, data, files, workdir)
            self.run_reads(layout, source, work)
            self.run_writes(layout, source, workdir, work)
            if args.memory and layout in args.memory_layouts:
                self.measure_memory(layout, source, data)
            if not args.keep:
                shutil.rmtree(os.path.join(workdir, layout), ignore_errors=True)
            print(f"  ({time.perf_counter() - t0:.0f} s so far)", flush=True)
        self.elapsed = time.perf_counter() - t0

    def write_or_reuse(self, layout, source, data):
        """Write the layout, or with --reuse keep the one a run with the same layout, shape,
        chunks and seed left in the same place (its stamp sits beside it, not among the chunk
        files). Reads are checked against the data either way."""
        args = self.args
        stamp_path = source + ".json"
        stamp = {"layout": layout, "shape": self.shape, "chunks": self.chunks, "inner": self.inner, "seed": args.seed}
        stamp = json.loads(json.dumps(stamp))
        if args.reuse and os.path.isfile(stamp_path) and os.path.isfile(os.path.join(source, "zarr.json")):
            with open(stamp_path) as f:
                if json.load(f) == stamp:
                    print(f"  reusing the layout written before in {source}", flush=True)
                    return
        with contextlib.suppress(FileNotFoundError):
            os.remove(stamp_path)
        write_layout(layout, source, data, self.chunks, self.inner)
        with open(stamp_path, "w") as f:
            json.dump(stamp, f)

    def run_strings(self, workdir):
        """The strings layout: a whole-array read of 100,000 variable-length strings."""
        import zarr

        rng = np.random.default_rng(self.args.seed)
        lengths = rng.integers(0, 24, STRINGS)
        words = [f"{i}:" + "abcdéfgh日本"[: n % 11] * (1 + n // 11) for i, n in enumerate(lengths)]
        expected = np.array(words, dtype=np.dtypes.StringDType())
        source = os.path.join(workdir, "strings", "source")
        zarr.create_array(source, shape=expected.shape, chunks=(10_000,), dtype=str, overwrite=True)[...] = expected
        os.sync()

        def check(result):
            if not (result.shape == expected.shape and (np.asarray(result, dtype=object) == words).all()):
                raise AssertionError("strings read back wrong")

        tasks = {}
        for name, impl in self.impls.items():
            try:
                handle = impl.open(source, writable=False)
            except Exception as err:  # noqa: BLE001
                self.record("strings", "read_all", name, error=f"open: {short_error(err)}")
                continue
            tasks[name] = (lambda impl=impl, h=handle: impl.read_all(h), check)
        self.run_round("strings", "read_all", tasks, calls=STRINGS)
        if not self.args.keep:
            shutil.rmtree(os.path.join(workdir, "strings"), ignore_errors=True)

    def baselines(self, layout, data, files, workdir):
        args = self.args
        nbytes = data.nbytes
        for op in ("read_all", "write_all"):
            if op in args.ops:
                self.run_op(layout, op, "numpy-copy", lambda: data.copy(), nbytes=nbytes)
        sizes = [os.path.getsize(f) for f in files]
        total = sum(sizes)

        def read_files():
            buffer = bytearray(total)
            view = memoryview(buffer)
            offset = 0
            for path, n in zip(files, sizes, strict=True):
                with open(path, "rb", buffering=0) as f:
                    got = f.readinto(view[offset : offset + n])
                    if got != n:
                        raise OSError(f"short read of {path}")
                offset += n
            return buffer

        read_files()  # warm the page cache
        if "read_all" in args.ops:
            self.run_op(layout, "read_all", "raw-files", read_files, nbytes=nbytes)
        if "write_all" in args.ops:
            contents = [open(f, "rb").read() for f in files]
            source = os.path.join(workdir, layout, "source")
            target = os.path.join(workdir, layout, "raw-files-copy")
            outputs = [os.path.join(target, os.path.relpath(path, source)) for path in files]
            for out in outputs:
                os.makedirs(os.path.dirname(out), exist_ok=True)

            def write_files():
                for out, content in zip(outputs, contents, strict=True):
                    with open(out, "wb", buffering=0) as f:
                        f.write(content)

            self.run_op(layout, "write_all", "raw-files", write_files, nbytes=nbytes)
            del contents
            shutil.rmtree(target, ignore_errors=True)
            os.sync()

    def run_reads(self, layout, source, work):
        """Every read operation, each timed interleaved across the implementations."""
        ops = [op for op in self.args.ops if op not in WRITES and (op != "inner_chunk" or layout == "sharded")]
        if not ops:
            return
        data, grid, blocks = work["data"], work["grid"], work["blocks"]
        handles = {}
        for name, impl in self.impls.items():
            try:
                handles[name] = impl.open(source, writable=False)
            except Exception as err:  # noqa: BLE001
                if self.args.verbose:
                    traceback.print_exc()
                for op in ops:
                    self.record(layout, op, name, error=f"open: {short_error(err)}")

        def equal(expected):
            def check(result):
                result = np.asarray(result)
                if result.shape != expected.shape or not np.array_equal(result, expected):
                    raise AssertionError("wrong result")

            return check

        def check_chunks(results):
            for (_, region), block, got in zip(grid, blocks, results, strict=True):
                # read_chunk APIs return edge chunks at full chunk shape.
                got = np.asarray(got)[tuple(slice(0, s.stop - s.start) for s in region)]
                if not np.array_equal(got, block):
                    raise AssertionError("wrong result")

        small, inner_region, strided = work["small"], work["inner_region"], work["strided"]
        points, rows = work["points"], work["rows"]

        def check_small(results):
            for region, got in zip(small, results, strict=True):
                if not np.array_equal(np.asarray(got), data[region]):
                    raise AssertionError("wrong result")

        calls = self.args.inner_calls

        def tasks_for(op):
            tasks = {}
            for name, h in handles.items():
                impl = self.impls[name]
                if op == "read_all":
                    tasks[name] = (lambda impl=impl, h=h: impl.read_all(h), equal(data))
                elif op == "read_chunks":
                    tasks[name] = (lambda impl=impl, h=h: [impl.read_chunk(h, c, r) for c, r in grid], check_chunks)
                elif op == "inner_chunk":

                    def inner(impl=impl, h=h):
                        for _ in range(calls - 1):
                            impl.read_region(h, inner_region)
                        return impl.read_region(h, inner_region)

                    tasks[name] = (inner, equal(data[inner_region]))
                elif op == "strided":
                    tasks[name] = (lambda impl=impl, h=h: impl.read_region(h, strided), equal(data[strided]))
                elif op == "small_reads":
                    tasks[name] = (lambda impl=impl, h=h: [impl.read_region(h, r) for r in small], check_small)
                elif op == "vindex":
                    tasks[name] = (lambda impl=impl, h=h: impl.read_vindex(h, points), equal(data[points]))
                elif op == "oindex":
                    tasks[name] = (lambda impl=impl, h=h: impl.read_oindex(h, rows), equal(data[np.ix_(*rows[:-1])]))
            return tasks

        for op in ops:
            if handles:
                count = {"inner_chunk": calls, "small_reads": len(small)}.get(op, 1)
                self.run_round(layout, op, tasks_for(op), calls=count, nbytes=data.nbytes)
        handles.clear()

    def run_writes(self, layout, source, workdir, work):
        """Each write operation into a fresh copy per implementation, timed interleaved; the
        copy is read back and checked after the first run."""
        data, grid, blocks = work["data"], work["grid"], work["blocks"]
        for op in WRITES:
            if op not in self.args.ops:
                continue
            tasks, targets = {}, []
            for name, impl in self.impls.items():
                target = fresh_copy(source, os.path.join(workdir, layout, f"write-{name}-{op}"))
                targets.append(target)
                try:
                    writer = impl.open(target, writable=True)
                except Exception as err:  # noqa: BLE001
                    self.record(layout, op, name, error=f"open: {short_error(err)}")
                    continue
                if op == "write_all":
                    fn = lambda impl=impl, w=writer: impl.write_all(w, data)  # noqa: E731
                else:

                    def fn(impl=impl, w=writer):
                        for (coords, region), block in zip(grid, blocks, strict=True):
                            impl.write_chunk(w, coords, region, block)

                tasks[name] = (fn, lambda _, target=target: self.check_written(target, data))
            if tasks:
                self.run_round(layout, op, tasks, nbytes=data.nbytes)
            tasks.clear()
            for target in targets:
                shutil.rmtree(target, ignore_errors=True)
            os.sync()

    def check_written(self, directory, data):
        """Read a written copy back with an independent reader (tensorstore, else zarr-python)."""
        for reader in ("tensorstore", "zarr-python", "zarrlib"):
            impl = self.impls.get(reader) or ADAPTERS[reader]()
            if impl.available() is None:
                break
        got = impl.read_all(impl.open(directory, writable=False))
        if not np.array_equal(np.asarray(got), data):
            raise AssertionError(f"written data reads back wrong (read with {impl.name})")

    # -- memory --

    def measure_memory(self, layout, directory, data):
        """Peak memory of a whole-array read, per implementation, each in a fresh subprocess."""
        print(f"  peak memory of a whole-array read ({layout}, fresh subprocess each):", flush=True)
        for name in self.impls:
            command = [sys.executable, os.path.abspath(__file__), "--memory-child", name, directory]
            entry = {"layout": layout, "implementation": name, "result_bytes": data.nbytes}
            try:
                done = subprocess.run(command, capture_output=True, text=True, timeout=600)
                lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
                if done.returncode != 0 or not lines:
                    raise RuntimeError((done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1])
                child = json.loads(lines[-1])
                if "error" in child:
                    raise RuntimeError(child["error"])
                entry.update(child)
                entry["delta_bytes"] = (child["peak_kib"] - child["baseline_kib"]) * 1024
            except Exception as err:  # noqa: BLE001
                entry["error"] = short_error(err)
            self.memory.append(entry)
            print(f"  {layout:8s} memory        {name:13s} {format_memory(entry)}", flush=True)


def _proc_status() -> dict:
    """VmRSS and VmHWM (KiB) from /proc/self/status; {} where there is none."""
    try:
        with open("/proc/self/status") as f:
            return {k: int(v.split()[0]) for k, v in (line.split(":", 1) for line in f) if k in ("VmRSS", "VmHWM")}
    except (OSError, ValueError):
        return {}


def _reset_peak() -> bool:
    """Reset the process's resident high-water mark to its current RSS (Linux)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def memory_child(name: str, directory: str) -> None:
    """Run in a fresh process: import, open, note the resident high-water mark, read everything,
    note it again.

    ru_maxrss is not used where /proc allows better: Linux carries ru_maxrss across fork and exec,
    so a child of the (large) benchmark process starts with the parent's peak. VmHWM belongs to
    the process's own address space and can be reset (clear_refs) right before the read.
    """
    try:
        impl = ADAPTERS[name]()
        why = impl.available()
        if why:
            raise RuntimeError(why)
        handle = impl.open(directory, writable=False)
        gc.collect()
        if _reset_peak() and _proc_status():
            method = "VmHWM"
            baseline = _proc_status()["VmRSS"]
        else:
            method = "ru_maxrss"
            baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        result = impl.read_all(handle)
        peak = _proc_status()["VmHWM"] if method == "VmHWM" else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(
            json.dumps(
                {"baseline_kib": baseline, "peak_kib": peak, "method": method, "nbytes": int(np.asarray(result).nbytes)}
            )
        )
    except Exception as err:  # noqa: BLE001
        print(json.dumps({"error": short_error(err)}))


# --- reporting ---------------------------------------------------------------------------


def format_cell(entry: dict | None, gbps: bool = True) -> str:
    if entry is None:
        return ""
    if "error" in entry:
        return "error: " + entry["error"]
    if "unsupported" in entry:
        return "n/a"
    if "us_per_call" in entry:
        return f"{entry['us_per_call']:.1f} µs"
    text = f"{entry['seconds']:.3f} s"
    if gbps and "gb_per_s" in entry:
        text += f" {entry['gb_per_s']:.2f}GB/s"
    return text


def format_memory(entry: dict) -> str:
    if "error" in entry:
        return "error: " + entry["error"]
    mib = entry["delta_bytes"] / 2**20
    return (
        f"{mib:7.1f} MiB ({entry['delta_bytes'] / entry['result_bytes']:.2f}x the result; "
        f"{entry['baseline_kib'] / 1024:.0f} MiB resident before the read, {entry['method']})"
    )


def value(entry):
    if entry is None or "seconds" not in entry:
        return None
    return entry["seconds"]


def ratios(results, layouts, ops):
    """Per (layout, op): zarrlib's time over the fastest peer's, and which peer that was."""
    index = {(r["layout"], r["operation"], r["implementation"]): r for r in results}
    out = {}
    for layout in layouts:
        for op in ops:
            mine = value(index.get((layout, op, ZARRLIB)))
            peers = [(value(index.get((layout, op, p))), p) for p in PEERS]
            peers = [(v, p) for v, p in peers if v is not None]
            if mine is None or not peers:
                continue
            best, who = min(peers)
            out[(layout, op)] = {"ratio": mine / best, "fastest_peer": who}
    return out


def table(results, layouts, ops, columns, ratio_map) -> str:
    index = {(r["layout"], r["operation"], r["implementation"]): r for r in results}
    header = ["layout", "operation", *columns, "zarrlib/fastest peer"]
    rows = []
    for layout in layouts:
        for op in ops:
            cells = [index.get((layout, op, c)) for c in columns]
            if all(c is None for c in cells):
                continue
            ratio = ratio_map.get((layout, op))
            rows.append(
                [
                    layout,
                    op,
                    *[format_cell(c) for c in cells],
                    f"{ratio['ratio']:.2f} ({ratio['fastest_peer']})" if ratio else "",
                ]
            )
    # Error messages are long: the table shows their first words, the JSON has them whole.
    rows = [[cell if not cell.startswith("error") else cell[:28] for cell in row] for row in rows]
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(header, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    previous = None
    for row in rows:
        if previous is not None and row[0] != previous:
            lines.append("")
        previous = row[0]
        lines.append("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return "\n".join(lines)


def plot(path, results, layouts, ops, columns, title="") -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print(f"matplotlib is not installed: no chart written to {path} (pip install matplotlib)")
        return
    index = {(r["layout"], r["operation"], r["implementation"]): r for r in results}
    ops = [op for op in ops if any((layout, op, c) in index for layout in layouts for c in columns)]
    ncols = 2
    nrows = -(-len(ops) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(16, 4.2 * nrows), squeeze=False)
    colors = plt.get_cmap("tab10")
    for ax, op in zip(axes.flat, ops, strict=False):
        op_layouts = [layout for layout in layouts if any((layout, op, c) in index for c in columns)]
        width = 0.8 / max(1, len(columns))
        for j, column in enumerate(columns):
            xs, ys = [], []
            for i, layout in enumerate(op_layouts):
                entry = index.get((layout, op, column))
                if entry is None or "seconds" not in entry:
                    continue
                xs.append(i + (j - (len(columns) - 1) / 2) * width)
                ys.append(entry["us_per_call"] if op in PER_CALL else entry["seconds"])
            ax.bar(xs, ys, width, label=column, color=colors(j % 10))
        ax.set_xticks(range(len(op_layouts)))
        ax.set_xticklabels(op_layouts)
        ax.set_yscale("log")
        ax.set_ylabel("µs per call" if op in PER_CALL else "seconds (best of N)")
        ax.set_title(op)
        ax.grid(axis="y", which="both", alpha=0.3)
    for ax in list(axes.flat)[len(ops) :]:
        ax.axis("off")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", ncol=len(columns), bbox_to_anchor=(0.5, 0.985))
    if title:
        fig.suptitle(title, y=0.998, fontsize=11)
    fig.tight_layout(rect=(0, 0, 1, 0.955))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    print(f"wrote {path}")


def versions() -> dict:
    out = {}
    for dist in ("zarrlib", "numpy", "zarr", "numcodecs", "zarrs", "zarrista", "tensorstore", "matplotlib"):
        try:
            out[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            pass
    return out


# --- how cost grows (--scaling) ------------------------------------------------------------
#
# The same rows, layouts, implementations and timing as a normal run, repeated for arrays of
# growing size (cubes of --sizes, the chunk shape fixed) and with 1 and 2 engine threads. Each
# (size, thread count) runs in a fresh process, because the thread knobs of rayon (zarrista, the
# zarrs pipeline) and zarr-python's executor take effect only once per process. The thread counts
# of one size share the layouts written once (--reuse).

SCALING_SIZES = (128, 256, 512, 1024)
SCALING_LAYOUTS = ("raw", "zstd")
SCALING_IMPLS = ("zarrlib", "zarr-python", "zarrs", "zarrista", "tensorstore")


def mem_available() -> int | None:
    """MemAvailable from /proc/meminfo, in bytes (None where there is none)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return None


def scaling_fits(nbytes: int, args, workdir: str) -> str | None:
    """None when a run over an array of ``nbytes`` fits in memory and on disk now, else why not.

    Memory, in the bench process: the data, its chunk-by-chunk copy (the write_chunks blocks), a
    result, a check's temporaries (a boolean per element) and a peer's working set (up to 1.4x its
    result in a whole read: see the peak-memory table of a full run), about 5x the array, plus 1 GiB
    of interpreter and libraries. Disk: each layout's source and one copy per implementation while
    a write row runs."""
    need = 5 * nbytes + 2**30
    available = mem_available()
    if available is not None and need > 0.9 * available:
        return f"needs about {need / 2**30:.1f} GiB of memory and {available / 2**30:.1f} GiB are available"
    disk = (len(args.layouts) + len(args.impls) + 1) * nbytes
    free = shutil.disk_usage(workdir).free
    if disk > 0.9 * free:
        return f"needs about {disk / 2**30:.1f} GiB of disk and {free / 2**30:.1f} GiB are free in {workdir}"
    return None


def scaling_main(args, workdir: str, stack: contextlib.ExitStack) -> int:
    """Run the bench once per size and thread count, each in a fresh process, then report."""
    ndim = len(args.chunks)
    load_before = os.getloadavg()
    print(
        f"scaling: sizes {', '.join(f'{n}^{ndim}' for n in args.sizes)}, threads "
        f"{', '.join(map(str, args.scaling_threads))}; layouts {','.join(args.layouts)}; rows {','.join(args.ops)}; "
        f"load average {load_before[0]:.2f} on {os.cpu_count()} CPUs",
        flush=True,
    )
    runs, skipped = [], []
    t0 = time.perf_counter()
    with stack:
        for size in args.sizes:
            shape = (size,) * ndim
            nbytes = int(np.prod(shape)) * 2
            size_dir = os.path.join(workdir, f"scaling-{size}")
            for threads in args.scaling_threads:
                label = f"{size}^{ndim} with {threads} thread{'s' if threads > 1 else ''}"
                why = scaling_fits(nbytes, args, workdir)
                if why is not None:
                    print(f"\n== skipping {label}: {why}", flush=True)
                    skipped.append({"size": size, "threads": threads, "reason": why})
                    continue
                print(f"\n== {label} ({nbytes / 2**20:.0f} MiB)", flush=True)
                os.makedirs(size_dir, exist_ok=True)
                out = os.path.join(size_dir, f"threads-{threads}.json")
                with contextlib.suppress(FileNotFoundError):
                    os.remove(out)
                command = [
                    sys.executable,
                    os.path.abspath(__file__),
                    "--shape",
                    ",".join(map(str, shape)),
                    "--chunks",
                    ",".join(map(str, args.chunks)),
                    "--inner",
                    ",".join(map(str, args.inner)),
                    "--layouts",
                    ",".join(args.layouts),
                    "--ops",
                    ",".join(args.ops),
                    "--impls",
                    ",".join(args.impls),
                    "--repeats",
                    str(args.repeats),
                    "--op-budget",
                    str(args.op_budget),
                    "--seed",
                    str(args.seed),
                    "--threads",
                    str(threads),
                    "--no-memory",
                    "--tmpdir",
                    size_dir,
                    "--keep",
                    "--reuse",
                    "--json",
                    out,
                    *(["--verbose"] if args.verbose else []),
                ]
                started = time.perf_counter()
                done = subprocess.run(command, env=dict(os.environ, RAYON_NUM_THREADS=str(threads)))
                if done.returncode != 0 or not os.path.isfile(out):
                    reason = f"the run failed (exit {done.returncode})"
                    print(f"== {label}: {reason}", flush=True)
                    skipped.append({"size": size, "threads": threads, "reason": reason})
                    continue
                with open(out) as f:
                    child = json.load(f)
                runs.append(
                    {
                        "size": size,
                        "shape": list(shape),
                        "threads": threads,
                        "nbytes": nbytes,
                        "elapsed_s": time.perf_counter() - started,
                        "load_average_before": child["environment"]["load_average_before"],
                        "load_average_after": child["environment"]["load_average_after"],
                        "layout_sizes": child.get("layout_sizes", {}),
                        "skipped_implementations": child.get("skipped", {}),
                        "results": child["results"],
                    }
                )
            if not args.keep:
                shutil.rmtree(size_dir, ignore_errors=True)
    load_after = os.getloadavg()
    document = {
        "config": {
            "sizes": list(args.sizes),
            "threads": list(args.scaling_threads),
            "dtype": "uint16",
            "chunks": list(args.chunks),
            "inner_chunks": list(args.inner),
            "layouts": args.layouts,
            "operations": args.ops,
            "implementations": args.impls,
            "repeats": args.repeats,
            "op_budget_s": args.op_budget,
            "seed": args.seed,
            "thread_knobs": {n: THREAD_KNOBS[n] for n in args.impls},
        },
        "environment": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "mem_total_bytes": os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"),
            "load_average_before": load_before,
            "load_average_after": load_after,
            "versions": versions(),
            "zarrlib_library": snapshot_library_info(),
        },
        "skipped": skipped,
        "runs": runs,
        "elapsed_s": time.perf_counter() - t0,
    }
    if args.json:
        with open(args.json, "w") as f:
            json.dump(document, f, indent=2)
        print(f"wrote {args.json}")
    scaling_report(document, args.png)
    return 0


def snapshot_library_info() -> dict:
    """The library the runs loaded (its path and sha256), as the JSON of a normal run has it."""
    import hashlib

    path = os.environ.get("ZARRLIB_LIBRARY")
    if not path or not os.path.isfile(path):
        return {}
    with open(path, "rb") as f:
        return {"loaded_from": path, "sha256": hashlib.sha256(f.read()).hexdigest()}


def merge_scaling(paths: list[str]) -> dict:
    """The scaling documents at ``paths`` as one: a (size, thread count) run of a later document
    replaces the same run of an earlier one (a size measured again on a quieter machine, say).
    The first document's config and environment stay, with the sizes and thread counts of all
    and every document's load averages and source kept."""
    documents = []
    for path in paths:
        with open(path) as f:
            documents.append(json.load(f))
    if len(documents) == 1:
        return documents[0]
    merged = json.loads(json.dumps(documents[0]))
    runs = {}
    for path, document in zip(paths, documents, strict=True):
        for run in document["runs"]:
            runs[(run["size"], run["threads"])] = {**run, "from": os.path.basename(path)}
    merged["runs"] = [runs[k] for k in sorted(runs)]
    merged["config"]["sizes"] = sorted({k[0] for k in runs} | {s["size"] for d in documents for s in d["skipped"]})
    merged["config"]["threads"] = sorted({k[1] for k in runs})
    merged["skipped"] = [s for d in documents for s in d["skipped"] if (s["size"], s["threads"]) not in runs]
    merged["merged_from"] = [
        {"path": os.path.basename(p), "environment": d["environment"], "elapsed_s": d["elapsed_s"]}
        for p, d in zip(paths, documents, strict=True)
    ]
    merged["elapsed_s"] = sum(d["elapsed_s"] for d in documents)
    return merged


def scaling_index(document: dict) -> dict:
    """(layout, operation, implementation, threads, size) -> result entry."""
    index = {}
    for run in document["runs"]:
        for r in run["results"]:
            index[(r["layout"], r["operation"], r["implementation"], run["threads"], run["size"])] = r
    return index


def growth_exponent(points: list[tuple[int, float]]) -> float | None:
    """The slope of log(seconds) against log(bytes), least squares: 1.0 is linear in bytes."""
    if len(points) < 2:
        return None
    x = np.log([p[0] for p in points])
    y = np.log([p[1] for p in points])
    return float(np.polyfit(x, y, 1)[0])


def scaling_summary(document: dict) -> list[dict]:
    """Per layout, row, implementation and thread count: GB/s at each size, the growth exponent
    over the sizes with more than one chunk, and what the largest thread count buys over one."""
    config = document["config"]
    index = scaling_index(document)
    sizes, threads = config["sizes"], config["threads"]
    ndim = len(config["chunks"])
    chunk_edge = min(config["chunks"])
    rows = []
    for layout in config["layouts"]:
        for op in config["operations"]:
            for impl in [*config["implementations"], *BASELINES]:
                for t in threads:
                    cells = {n: index.get((layout, op, impl, t, n)) for n in sizes}
                    timed = {n: e["seconds"] for n, e in cells.items() if e and "seconds" in e}
                    if not any(cells.values()):
                        continue
                    several = [(n**ndim * 2, timed[n]) for n in sizes if n in timed and n > chunk_edge]
                    cpu = {n: e["cpu_seconds"] for n, e in cells.items() if e and e.get("cpu_seconds")}
                    several_cpu = [(n**ndim * 2, cpu[n]) for n in sizes if n in cpu and n > chunk_edge]
                    speedup = {}
                    if t == max(threads) and t != min(threads):
                        for n in sizes:
                            one = index.get((layout, op, impl, min(threads), n))
                            if n in timed and one and "seconds" in one:
                                speedup[n] = one["seconds"] / timed[n]
                    rows.append(
                        {
                            "layout": layout,
                            "operation": op,
                            "implementation": impl,
                            "threads": t,
                            "seconds": timed,
                            "gb_per_s": {n: e.get("gb_per_s") for n, e in cells.items() if e and "seconds" in e},
                            "cpu_per_wall": {
                                n: e.get("cpu_per_wall") for n, e in cells.items() if e and "seconds" in e
                            },
                            "errors": {
                                n: e.get("error") or e.get("unsupported")
                                for n, e in cells.items()
                                if e and "seconds" not in e
                            },
                            "exponent": growth_exponent(several),
                            # CPU time grows with the work whatever else runs on the machine: on a
                            # busy one, its exponent says more about linearity than the wall time's.
                            "cpu_exponent": growth_exponent(several_cpu),
                            "speedup_over_one_thread": speedup,
                        }
                    )
    return rows


def scaling_table(document: dict, summary: list[dict]) -> str:
    config = document["config"]
    sizes = config["sizes"]
    ndim = len(config["chunks"])
    header = [
        "layout",
        "row",
        "implementation",
        "threads",
        *[f"{n}^{ndim} GB/s" for n in sizes],
        "exponent",
        "cpu exponent",
        "cores busy",
        "2T/1T",
    ]
    lines = []
    for row in summary:
        largest = max(row["seconds"], default=None)
        cells = []
        for n in sizes:
            if n in row["gb_per_s"]:
                cells.append(f"{row['gb_per_s'][n]:.2f}")
            elif n in row["errors"]:
                cells.append("error" if row["errors"][n] else "n/a")
            else:
                cells.append("")
        busy = row["cpu_per_wall"].get(largest) if largest else None
        speedup = row["speedup_over_one_thread"].get(largest) if largest else None
        lines.append(
            [
                row["layout"],
                row["operation"],
                row["implementation"],
                str(row["threads"]),
                *cells,
                f"{row['exponent']:.2f}" if row["exponent"] is not None else "",
                f"{row['cpu_exponent']:.2f}" if row["cpu_exponent"] is not None else "",
                f"{busy:.2f}" if busy is not None else "",
                f"{speedup:.2f}" if speedup else "",
            ]
        )
    widths = [max(len(r[i]) for r in [header, *lines]) for i in range(len(header))]
    out = ["  ".join(c.ljust(w) for c, w in zip(header, widths, strict=True)).rstrip()]
    out.append("  ".join("-" * w for w in widths))
    previous = None
    for line in lines:
        if previous is not None and line[:2] != previous:
            out.append("")
        previous = line[:2]
        out.append("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip())
    return "\n".join(out)


def scaling_report(document: dict, png: str | None) -> None:
    """Print the table of a scaling run and draw its chart."""
    summary = scaling_summary(document)
    config, env = document["config"], document["environment"]
    ndim = len(config["chunks"])
    print(
        f"\nhow cost grows: uint16 cubes, chunks {'x'.join(map(str, config['chunks']))}; GB/s of decoded data "
        f"(best of {config['repeats']}); exponent = slope of log(time) against log(bytes) over the sizes above "
        f"one chunk (1.00 = linear), of wall time and of the process's CPU time; "
        f"cores busy = process CPU time / wall time at the largest size; "
        f"2T/1T = time with 1 thread / time with {max(config['threads'])} at the largest size"
    )
    print(scaling_table(document, summary))
    for skip in document["skipped"]:
        print(f"skipped {skip['size']}^{ndim} with {skip['threads']} threads: {skip['reason']}")
    loads = [
        (r["size"], r["threads"], r["load_average_before"][0], r["load_average_after"][0]) for r in document["runs"]
    ]
    print(
        "load average (1-minute) before/after each run: "
        + "; ".join(f"{n}^{ndim} {t}T {a:.2f}/{b:.2f}" for n, t, a, b in loads)
        + f"; {env['cpus']} CPUs; total {document['elapsed_s']:.0f} s"
    )
    if png:
        plot_scaling(png, document)


def plot_scaling(path: str, document: dict) -> None:
    """Log-log time against bytes, one line per implementation (baselines dashed), a panel per
    layout and row (rows of panels) and thread count (columns), a dotted guide of slope 1."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print(f"matplotlib is not installed: no chart written to {path} (pip install matplotlib)")
        return
    config = document["config"]
    index = scaling_index(document)
    threads = config["threads"]
    panels = [(layout, op) for layout in config["layouts"] for op in config["operations"]]
    panels = [p for p in panels if any(k[:2] == p for k in index)]
    if not panels:
        print(f"no results: no chart written to {path}")
        return
    ndim = len(config["chunks"])
    fig, axes = plt.subplots(
        len(panels), len(threads), figsize=(6.2 * len(threads), 3.4 * len(panels)), squeeze=False, sharex=True
    )
    colors = plt.get_cmap("tab10")
    impls = list(config["implementations"])
    lines = [*impls, *BASELINES]
    for i, (layout, op) in enumerate(panels):
        for j, t in enumerate(threads):
            ax = axes[i][j]
            for k, impl in enumerate(lines):
                xs, ys = [], []
                for n in config["sizes"]:
                    entry = index.get((layout, op, impl, t, n))
                    if entry and "seconds" in entry:
                        xs.append(n**ndim * 2 / 1e6)
                        ys.append(entry["seconds"])
                if not xs:
                    continue
                style = {"numpy-copy": ("--", "0.35"), "raw-files": ("-.", "0.6")}.get(impl, ("-", colors(k % 10)))
                ax.plot(
                    xs,
                    ys,
                    marker=None if impl in BASELINES else "o",
                    linestyle=style[0],
                    color=style[1],
                    label=impl,
                )
            # A guide of slope 1 (time proportional to bytes) through zarrlib's (or any) first point.
            first = next(
                (
                    (n**ndim * 2 / 1e6, index[key]["seconds"])
                    for impl in lines
                    for n in config["sizes"]
                    if (key := (layout, op, impl, t, n)) in index and "seconds" in index[key]
                ),
                None,
            )
            if first:
                x0, y0 = first
                x1 = max(config["sizes"]) ** ndim * 2 / 1e6
                ax.plot([x0, x1], [y0, y0 * x1 / x0], linestyle=":", color="black", linewidth=1.0, label="∝ bytes")
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_title(f"{layout} {op}, {t} thread{'s' if t > 1 else ''}", fontsize=10)
            ax.grid(which="both", alpha=0.3)
            if j == 0:
                ax.set_ylabel("seconds (best of N)")
            if i == len(panels) - 1:
                ax.set_xlabel("array size, MB (uint16 cubes " + ", ".join(f"{n}^{ndim}" for n in config["sizes"]) + ")")
    handles, labels = [], []
    for ax in axes.flat:
        for h, label in zip(*ax.get_legend_handles_labels(), strict=True):
            if label not in labels:
                handles.append(h)
                labels.append(label)
    fig.legend(handles, labels, loc="upper center", ncol=min(len(labels), 8), bbox_to_anchor=(0.5, 0.995))
    loads = [v[0] for r in document["runs"] for v in (r["load_average_before"], r["load_average_after"])] or [0.0]
    fig.suptitle(
        f"How cost grows: chunks {'x'.join(map(str, config['chunks']))}, log-log, lower is better "
        f"(1-minute load average {min(loads):.1f}-{max(loads):.1f} during the runs, "
        f"{document['environment']['cpus']} CPUs)",
        y=0.975,
        fontsize=11,
    )
    fig.tight_layout(rect=(0, 0, 1, 0.965))
    fig.savefig(path, dpi=90)
    plt.close(fig)
    print(f"wrote {path}")


# --- command line --------------------------------------------------------------------------


def dims(text: str, ndim: int | None = None) -> tuple[int, ...]:
    values = tuple(int(v) for v in text.replace("x", ",").split(",") if v)
    if any(v <= 0 for v in values):
        raise argparse.ArgumentTypeError(f"sizes must be positive: {text!r}")
    return values


def names(allowed):
    def parse(text: str) -> list[str]:
        values = [v.strip() for v in text.split(",") if v.strip()]
        bad = [v for v in values if v not in allowed]
        if bad:
            raise argparse.ArgumentTypeError(f"unknown {', '.join(bad)}; choose from {', '.join(allowed)}")
        return values

    return parse


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 1)[1],
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="smoke test: 256^3 with 64^3 chunks (16^3 inner), 2 repeats, 200 small reads",
    )
    p.add_argument("--shape", type=dims, help="array shape, e.g. 512 or 512,512,512 (default 512^3)")
    p.add_argument("--chunks", type=dims, help="chunk shape, and the shard shape of the sharded layout (default 128)")
    p.add_argument("--inner", type=dims, help="inner chunk shape of the sharded layout (default 32)")
    p.add_argument(
        "--layouts",
        type=names(LAYOUTS),
        help=f"comma list of {','.join(LAYOUTS)} (default all; with --scaling {','.join(SCALING_LAYOUTS)})",
    )
    p.add_argument(
        "--ops",
        type=names(OPERATIONS),
        help=f"comma list of {','.join(OPERATIONS)} (default all; with --scaling {','.join(WHOLE)})",
    )
    p.add_argument(
        "--impls",
        type=names(IMPLS),
        help=f"comma list of {','.join(IMPLS)} (default all; with --scaling {','.join(SCALING_IMPLS)})",
    )
    p.add_argument(
        "--threads",
        type=int,
        help="limit every implementation to N engine threads where it has a knob (default: each its own)",
    )
    p.add_argument(
        "--reuse",
        action="store_true",
        help="with --tmpdir, read the layouts a run with the same shape, chunks and seed wrote there "
        "instead of writing them again",
    )
    p.add_argument(
        "--scaling",
        action="store_true",
        help="how cost grows: the run once per array size (--sizes) and thread count (--scaling-threads), "
        "each in a fresh process; --json and --png get the curves",
    )
    p.add_argument(
        "--sizes",
        type=dims,
        default=SCALING_SIZES,
        help=f"with --scaling: edges of the cubic arrays (default {','.join(map(str, SCALING_SIZES))})",
    )
    p.add_argument(
        "--scaling-threads",
        type=dims,
        default=(1, 2),
        help="with --scaling: the thread counts (default 1,2)",
    )
    p.add_argument(
        "--scaling-from",
        metavar="JSON",
        help="draw the chart (--png) and print the table from the JSON a scaling run wrote, without running; "
        "a comma list merges several (later runs of a size and thread count replace earlier ones) and --json "
        "writes the merged document",
    )
    p.add_argument("--repeats", type=int, help="best of N runs per cell (default 3)")
    p.add_argument(
        "--op-budget",
        type=float,
        default=8.0,
        help="an implementation stops repeating a cell once its runs took this many seconds "
        "(at least one run; default 8)",
    )
    p.add_argument("--small-reads", type=int, help="how many random small region reads (default 1000)")
    p.add_argument("--small-size", type=int, default=8, help="edge of a small region read (default 8)")
    p.add_argument("--inner-calls", type=int, default=100, help="inner-chunk reads per timed run (default 100)")
    p.add_argument("--stride", type=int, default=4, help="step of the strided read on every axis (default 4)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-memory", dest="memory", action="store_false", help="skip the peak-memory subprocesses")
    p.add_argument(
        "--memory-layouts",
        type=names(LAYOUTS),
        default=["zstd", "sharded"],
        help="layouts whose whole-array read's peak memory is measured (default zstd,sharded)",
    )
    p.add_argument("--tmpdir", help="where to write the arrays (default: a new temporary directory)")
    p.add_argument("--keep", action="store_true", help="keep the written arrays")
    p.add_argument("--json", help="write the results as JSON to this path")
    p.add_argument("--png", help="write a bar chart (matplotlib) to this path")
    p.add_argument("--verbose", action="store_true", help="print tracebacks of failures")
    p.add_argument("--memory-child", nargs=2, metavar=("IMPL", "DIR"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.memory_child:
        return args
    default_shape, default_chunks, default_inner = ((256,), (64,), (16,)) if args.quick else ((512,), (128,), (32,))
    shape = args.shape or default_shape
    ndim = len(shape) if len(shape) > 1 else 3
    if args.chunks and len(args.chunks) > 1 and len(shape) == 1:
        ndim = len(args.chunks)

    def expand(v):
        v = tuple(v)
        if len(v) == 1:
            v = v * ndim
        if len(v) != ndim:
            p.error(f"{v} does not have {ndim} dimensions")
        return v

    args.shape = expand(shape)
    args.chunks = expand(args.chunks or default_chunks)
    args.inner = expand(args.inner or default_inner)
    if any(c % i for c, i in zip(args.chunks, args.inner, strict=True)):
        p.error(f"the inner chunk shape {args.inner} must divide the shard (chunk) shape {args.chunks}")
    if min(args.shape) < args.small_size:
        p.error("the array is smaller than a small read")
    if args.threads is not None and args.threads < 1:
        p.error("--threads must be at least 1")
    if args.reuse and not args.tmpdir:
        p.error("--reuse needs --tmpdir")
    args.layouts = args.layouts or list(SCALING_LAYOUTS if args.scaling else LAYOUTS)
    args.ops = args.ops or list(WHOLE if args.scaling else OPERATIONS)
    args.impls = args.impls or list(SCALING_IMPLS if args.scaling else IMPLS)
    if args.scaling and "strings" in args.layouts:
        p.error("the strings layout has no size to scale")
    args.repeats = args.repeats or (2 if args.quick else 3)
    args.small_reads = args.small_reads or (200 if args.quick else 1000)
    return args


def snapshot_library(workdir: str) -> dict:
    """Load zarrlib's library from a private copy (through ``ZARRLIB_LIBRARY``, which the
    memory subprocesses inherit), so a rebuild or reinstall of the package while the benchmark
    runs cannot swap the code under it (an in-place overwrite of a loaded library crashes the
    process). Returns the path and sha256 of what is benchmarked."""
    import hashlib
    import importlib.util

    source = os.environ.get("ZARRLIB_LIBRARY")
    if not source:
        spec = importlib.util.find_spec("zarrlib")
        if spec is None or not spec.submodule_search_locations:
            return {}
        package = list(spec.submodule_search_locations)[0]
        names = [
            n for n in ("libzarrlib.so", "libzarrlib.dylib", "zarrlib.dll") if os.path.isfile(os.path.join(package, n))
        ]
        if not names:
            return {}
        source = os.path.join(package, names[0])
        copy = os.path.join(workdir, "lib", names[0])
        os.makedirs(os.path.dirname(copy), exist_ok=True)
        shutil.copy2(source, copy)
        os.environ["ZARRLIB_LIBRARY"] = copy
        path = copy
    else:
        path = source
    with open(path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    return {"library": source, "loaded_from": path, "sha256": digest}


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.memory_child:
        memory_child(*args.memory_child)
        return 0
    if args.scaling_from:
        document = merge_scaling(args.scaling_from.split(","))
        if args.json:
            with open(args.json, "w") as f:
                json.dump(document, f, indent=2)
            print(f"wrote {args.json}")
        scaling_report(document, args.png)
        return 0

    stack = contextlib.ExitStack()
    if args.tmpdir:
        workdir = os.path.abspath(args.tmpdir)
        os.makedirs(workdir, exist_ok=True)
    else:
        workdir = stack.enter_context(tempfile.TemporaryDirectory(prefix="zarrlib-bench-"))
    library = snapshot_library(workdir)
    if library:
        print(
            f"zarrlib library: {library['library']} (sha256 {library['sha256'][:16]}), loaded from a copy", flush=True
        )
    if args.scaling:
        return scaling_main(args, workdir, stack)
    if args.threads is not None:
        limit_threads(args.threads)
        print(f"engine threads limited to {args.threads} where an implementation has a knob", flush=True)
    bench = Bench(args)
    load_before = os.getloadavg()
    if load_before[0] > 0.5:
        print(
            f"note: load average {load_before[0]:.2f} before the run: other processes compete for the CPUs, "
            "and timings will be noisy",
            flush=True,
        )
    print(f"python {platform.python_version()}, {os.cpu_count()} CPUs; versions: {versions()}", flush=True)
    if "zarrlib" in bench.impls:
        import zarrlib

        print(f"zarrlib config: {zarrlib.get_config()}", flush=True)
    with stack:
        bench.run(workdir)

    columns = [c for c in IMPLS if c in bench.impls] + list(BASELINES)
    ratio_map = ratios(bench.results, args.layouts, args.ops)
    print()
    print(
        f"uint16 {'x'.join(map(str, args.shape))}, chunks {'x'.join(map(str, args.chunks))} "
        f"(sharded: shards {'x'.join(map(str, args.chunks))} of {'x'.join(map(str, args.inner))} zstd inner chunks); "
        f"best of {args.repeats}; seconds, GB/s of decoded data, or µs per call"
    )
    print(
        f"strided = {bench.meta['strided_selection']}; "
        f"inner_chunk = one {'x'.join(map(str, args.inner))} inner chunk region, {args.inner_calls} calls; "
        f"small_reads = {args.small_reads} random {args.small_size}^{len(args.shape)} regions"
    )
    print(table(bench.results, args.layouts, args.ops, columns, ratio_map))
    if bench.skipped:
        print("\nskipped: " + "; ".join(f"{k} ({v})" for k, v in bench.skipped.items()))
    errors = [r for r in bench.results if "error" in r]
    if errors:
        print("\nerrors:")
        for r in errors:
            print(f"  {r['layout']} {r['operation']} {r['implementation']}: {r['error']}")
    if bench.memory:
        print(
            "\npeak memory of a whole-array read (fresh process per implementation: peak resident size during "
            f"the read minus resident size before it; the result is {np.prod(args.shape) * 2 / 2**20:.1f} MiB)"
        )
        for entry in bench.memory:
            print(f"  {entry['layout']:8s} {entry['implementation']:13s} {format_memory(entry)}")
    load_after = os.getloadavg()
    print(
        f"\ntotal {bench.elapsed:.0f} s; load average before {load_before[0]:.2f}, after {load_after[0]:.2f} "
        f"(1-minute; {os.cpu_count()} CPUs)"
    )

    if args.json:
        document = {
            "config": {
                "shape": args.shape,
                "dtype": "uint16",
                "chunks": args.chunks,
                "inner_chunks": args.inner,
                "layouts": args.layouts,
                "operations": args.ops,
                "repeats": args.repeats,
                "op_budget_s": args.op_budget,
                "stride": args.stride,
                "small_reads": args.small_reads,
                "small_size": args.small_size,
                "inner_calls": args.inner_calls,
                "seed": args.seed,
                "threads": args.threads,
                "thread_knobs": {n: THREAD_KNOBS[n] for n in bench.impls} if args.threads is not None else None,
                **bench.meta,
            },
            "environment": {
                "python": platform.python_version(),
                "platform": platform.platform(),
                "cpus": os.cpu_count(),
                "load_average_before": load_before,
                "load_average_after": load_after,
                "versions": versions(),
                "zarrlib_config": __import__("zarrlib").get_config() if "zarrlib" in bench.impls else None,
                "zarrlib_library": library,
            },
            "skipped": bench.skipped,
            "layout_sizes": getattr(bench, "layout_sizes", {}),
            "results": bench.results,
            "ratios": [{"layout": layout, "operation": o, **v} for (layout, o), v in ratio_map.items()],
            "memory": bench.memory,
            "elapsed_s": bench.elapsed,
        }
        with open(args.json, "w") as f:
            json.dump(document, f, indent=2, default=lambda o: o.item() if hasattr(o, "item") else str(o))
        print(f"wrote {args.json}")
    if args.png:
        title = (
            f"uint16 {'x'.join(map(str, args.shape))}, chunks {'x'.join(map(str, args.chunks))}, "
            f"sharded: {'x'.join(map(str, args.inner))} inner; best of {args.repeats}; log scale, lower is better"
        )
        plot(args.png, bench.results, args.layouts, args.ops, columns, title)
    return 0


if __name__ == "__main__":
    sys.exit(main())
