"""A tour of zarrlib on a temporary local directory (``python -m zarrlib demo``)."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

import zarrlib


def _best_of(repeats: int, function: Callable[[], object]) -> float:
    """The fastest of several timed runs, in seconds."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def run(directory: Path, print: Callable[..., None] = print) -> None:  # noqa: A002 - the tour prints through `print`
    print(f"zarrlib {zarrlib.__version__} (native library {zarrlib.library_version}) in {directory}")
    store = zarrlib.open_store(directory / "tour.zarr")
    root = zarrlib.Group.create(store, attributes={"title": "zarrlib tour"})
    print("\n1. A group and three arrays")
    temperature = root.create_array(
        "temperature", shape=(2048, 2048), dtype="float32", chunks=(256, 256), attributes={"units": "K"}
    )
    print(f"   v3, zstd:        {temperature}")
    sharded = root.create_group("images").create_array(
        "stack", shape=(64, 512, 512), dtype="uint16", chunks=(16, 64, 64), shards=(16, 256, 256)
    )
    print(f"   v3, sharded:     {sharded}")
    counts_metadata = zarrlib.array_metadata(
        (500, 300),
        "int32",
        chunks=(100, 100),
        zarr_format=2,
        compressors="blosc",
        fill_value=-1,
        attributes={"source": "demo"},
    )
    zarrlib.create_new_array(counts_metadata, store, "counts")
    print(f"   v2, blosc:       {zarrlib.open_array(store, 'counts')}")

    print("\n2. Writing and reading regions")
    rng = np.random.default_rng(0)
    field = (273.15 + 30 * rng.random((2048, 2048))).astype(np.float32)
    temperature[...] = field
    print(
        f"   wrote {field.nbytes / 2**20:.0f} MiB to temperature; temperature[500, 100:104] = "
        f"{np.array2string(temperature[500, 100:104], precision=2)}"
    )
    every_hundredth = temperature[::200, ::-300]
    print(
        f"   temperature[::200, ::-300] has shape {every_hundredth.shape} and equals numpy's: "
        f"{np.array_equal(every_hundredth, field[::200, ::-300])}"
    )
    sharded[8:40, 100:300, 100:300] = np.arange(32 * 200 * 200, dtype=np.uint16).reshape(32, 200, 200)
    print(f"   sharded[8:40, 100:300, 100:300] written; sharded[8, 100, 100:103] = {sharded[8, 100, 100:103]}")
    zarrlib.write_region(counts_metadata, store, "counts", (slice(0, 250), slice(None)), 7)
    window = zarrlib.read_region(counts_metadata, store, "counts", (slice(248, 252), 0))
    print(f"   counts[0:250] = 7 through the functional API; counts[248:252, 0] = {window} (fill -1)")
    encoded = temperature.read_encoded_chunk((0, 0))
    assert encoded is not None  # the chunk was just written
    print(
        f"   chunk (0, 0) of temperature: {len(encoded)} bytes stored, {temperature.read_chunk((0, 0)).nbytes} decoded"
    )

    print("\n3. Growing, attributes, consolidated metadata")
    counts_metadata = zarrlib.append(counts_metadata, store, "counts", np.full((20, 300), 5, np.int32))
    print(f"   appended 20 rows: counts is now {tuple(counts_metadata['shape'])}")
    temperature.attrs["calibrated"] = True
    print(f"   temperature.attrs = {dict(temperature.attrs)} (written through, data untouched)")
    images = zarrlib.open_group(store, "images")
    images.consolidate_metadata()
    listed = [path for path, _ in zarrlib.list_children(store, "images", use_consolidated=True)]
    print(f"   images/ consolidated (one document, as zarr-python writes it): lists {listed} without a store listing")

    print("\n4. The hierarchy")
    for line in root.tree().splitlines():
        print(f"   {line}")
    print(f"   list_children(store, 'images') -> {[p for p, _ in zarrlib.list_children(store, 'images')]}")

    print("\n5. Whole-array read throughput (best of 5)")
    out = np.empty(temperature.shape, temperature.dtype)
    read_seconds = _best_of(5, lambda: temperature.read(out=out))
    copy_target = np.empty_like(field)
    copy_seconds = _best_of(5, lambda: np.copyto(copy_target, field))
    gib = field.nbytes / 2**30
    print(
        f"   zarrlib read (zstd, {temperature.chunk_grid_shape[0] * temperature.chunk_grid_shape[1]} chunks): "
        f"{read_seconds * 1e3:7.2f} ms  {gib / read_seconds:6.2f} GiB/s"
    )
    print(f"   numpy copy of the same bytes:      {copy_seconds * 1e3:7.2f} ms  {gib / copy_seconds:6.2f} GiB/s")
    print(f"   data read back equals what was written: {np.array_equal(out, field)}")


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="zarrlib-demo-") as directory:
        run(Path(directory))
