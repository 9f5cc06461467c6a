"""Regions of unencoded chunks on a local directory, read in one copy: each chunk's part of the
region goes from its file straight into the output (slab by slab through a buffer the thread
keeps, or by the kernel for long runs). Every relation of chunk to region (inside it, partly
outside, edge chunks of a shape that is not a multiple of the chunk), v2 and v3, C and F order,
short and long runs, give what numpy and zarr-python give; a chunk not stored is the fill value;
a chunk file of the wrong size is ``CorruptDataError``, never a partial read.

Strided and orthogonal selections of such chunks read only the rows that hold selected elements
(or the whole chunk when they are most of it), and are checked the same ways."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import zarr

import zarrlib

FILL = 7

#: (shape, chunks, dtype): runs of a few bytes, runs of a row, chunks spanning the trailing axes
#: whole (a chunk's part is one run), runs that straddle the slab buffer, and runs long enough to
#: be read straight into place.
LAYOUTS = {
    "short-runs": ((21, 13, 11), (8, 6, 4), "uint16"),
    "row-runs": ((21, 13, 11), (8, 6, 11), "float64"),
    "whole-trailing": ((21, 13, 11), (8, 13, 11), "int32"),
    "straddling": ((5, 300, 130), (3, 256, 128), "uint32"),
    "long-runs": ((5, 70, 1100), (2, 64, 1100), "uint8"),
}

REGIONS = [
    (Ellipsis,),
    (slice(3, 19), slice(2, 12), slice(1, 10)),  # parts of chunks, edge chunks too
    (slice(8, 16),),  # chunks spanning the trailing axes of the output
    (slice(9, 12), slice(7, 9), slice(5, 8)),  # inside one chunk
    (slice(None), slice(None), slice(1, -1)),  # every chunk, less an element on the last axis
    (4,),  # one plane across chunks
    (slice(None), 3, slice(None)),  # one row of every chunk on the middle axis
    (slice(2, 20, 3), slice(None, None, -2), slice(None)),  # steps
]


def selections_for(shape: tuple[int, ...]) -> list[tuple[str, tuple]]:
    """Strided (``a[...]``) and orthogonal (``a.oindex[...]``) selections of an array of `shape`:
    steps both ways, integers among them, index lists unsorted and repeated, rows most of a chunk
    (read whole) and a few of it, each block's span of the last axis partial or whole."""
    rng = np.random.default_rng(len(shape) * 1000 + sum(shape))
    lists = tuple(rng.integers(0, n, max(2, n // 3)).tolist() for n in shape)  # unsorted, repeats
    dense = tuple(np.setdiff1d(np.arange(n), [n // 2]).tolist() for n in shape)  # all rows but one
    return [
        ("strided", (slice(None, None, 4), slice(None, None, 3), slice(None, None, 2))),
        ("strided", (slice(None, None, -2), slice(1, None, 3), slice(None, None, -5))),
        ("strided", (slice(2, 20, 7), slice(None, None, -1), slice(3, None, 4))),
        ("strided", (slice(None, None, 2), 5, slice(None, None, 3))),
        ("strided", (slice(1, None, 2), slice(None), slice(None))),
        ("strided", (slice(None), slice(None, None, 2), slice(1, -1))),
        ("strided", (-1, slice(None, None, -3), slice(None, None, 3))),
        ("oindex", lists),
        ("oindex", (*lists[:2], slice(None))),
        ("oindex", (lists[0], slice(None, None, 2), [shape[2] - 1, 0, shape[2] // 2, 0])),
        ("oindex", dense),
        ("oindex", (dense[0], [3, 1], slice(None))),
    ]


def read_selection(array, kind: str, selection: tuple) -> np.ndarray:
    return array.oindex[selection] if kind == "oindex" else array[selection]


def numpy_selection(data: np.ndarray, kind: str, selection: tuple) -> np.ndarray:
    if kind == "strided":
        return data[selection]
    # numpy's oindex: one axis at a time.
    for axis, index in enumerate(selection):
        data = data[(slice(None),) * axis + (index if isinstance(index, slice) else np.asarray(index),)]
    return data


def write_raw(path: Path, layout: str, zarr_format: int, order: str = "C") -> np.ndarray:
    """An unencoded array as zarr-python writes it, one chunk not stored: what a read should give."""
    shape, chunks, dtype = LAYOUTS[layout]
    data = (np.arange(np.prod(shape)) * 7919 % 65521).astype(dtype).reshape(shape)
    options = {"order": order} if zarr_format == 2 else {}
    array = zarr.create_array(
        str(path),
        shape=shape,
        chunks=chunks,
        dtype=dtype,
        compressors=None,
        fill_value=FILL,
        zarr_format=zarr_format,
        **options,
    )
    array[...] = data
    missing = (1, 0, 0)
    key = "c/1/0/0" if zarr_format == 3 else "1.0.0"
    (path / key).unlink()
    box = tuple(slice(i * n, (i + 1) * n) for i, n in zip(missing, chunks, strict=True))
    data[box] = FILL
    return data


def regions_for(shape: tuple[int, ...]) -> list[tuple]:
    """`REGIONS`, plus regions of this shape (a box in the middle, and one of the last chunk)."""
    middle = tuple(slice(n // 4, n - n // 4) for n in shape)
    tail = tuple(slice(n - 3, n) for n in shape)
    return [*REGIONS, middle, tail]


@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize(("zarr_format", "order"), [(3, "C"), (2, "C"), (2, "F")])
def test_regions_of_unencoded_chunks_read_as_numpy(tmp_path, layout, zarr_format, order):
    path = tmp_path / "a.zarr"
    data = write_raw(path, layout, zarr_format, order)
    array = zarrlib.Array.open(zarrlib.open_store(str(path)), "")
    # What zarr-python reads is what the regions are checked against.
    np.testing.assert_array_equal(zarr.open_array(str(path), mode="r")[...], data)
    metadata = zarrlib.read_metadata(str(path), "")
    for region in regions_for(data.shape):
        expected = data[region]
        got = array[region]
        np.testing.assert_array_equal(got, expected, err_msg=str(region))
        # Into the caller's buffer, over whatever was there.
        out = np.full(expected.shape, 0x5A, dtype=data.dtype)
        array.read(region, out=out)
        np.testing.assert_array_equal(out, expected, err_msg=str(region))
        # The functional API reads the same way.
        functional = zarrlib.read_region(metadata, str(path), "", region)
        np.testing.assert_array_equal(functional, expected, err_msg=str(region))


@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize(("zarr_format", "order"), [(3, "C"), (2, "C"), (2, "F")])
def test_strided_and_orthogonal_selections_of_unencoded_chunks_read_as_numpy(tmp_path, layout, zarr_format, order):
    path = tmp_path / "a.zarr"
    data = write_raw(path, layout, zarr_format, order)
    array = zarrlib.Array.open(zarrlib.open_store(str(path)), "")
    for kind, selection in selections_for(data.shape):
        expected = numpy_selection(data, kind, selection)
        got = read_selection(array, kind, selection)
        np.testing.assert_array_equal(got, expected, err_msg=f"{kind} {selection}")
    # Coordinate selections do not take the row reads; they read alike.
    points = tuple(np.arange(n)[::-1][: min(data.shape)] for n in data.shape)
    np.testing.assert_array_equal(array.vindex[points], data[points])


@pytest.mark.parametrize("concurrent_target", [1, 0])
def test_regions_read_alike_on_the_callers_thread_or_the_pool(tmp_path, concurrent_target):
    path = tmp_path / "a.zarr"
    data = write_raw(path, "straddling", 3)
    previous = zarrlib.get_config()["concurrent_target"]
    zarrlib.set_config(concurrent_target=concurrent_target)
    try:
        array = zarrlib.Array.open(zarrlib.open_store(str(path)), "")
        for region in regions_for(data.shape):
            np.testing.assert_array_equal(array[region], data[region], err_msg=str(region))
        for kind, selection in selections_for(data.shape):
            expected = numpy_selection(data, kind, selection)
            got = read_selection(array, kind, selection)
            np.testing.assert_array_equal(got, expected, err_msg=f"{kind} {selection}")
    finally:
        zarrlib.set_config(concurrent_target=previous)


@pytest.mark.parametrize("zarr_format", [3, 2])
@pytest.mark.parametrize("change", ["cut short", "longer", "empty"])
def test_an_unencoded_chunk_file_of_the_wrong_size_is_corrupt_data_in_any_region(tmp_path, zarr_format, change):
    path = tmp_path / "a.zarr"
    data = write_raw(path, "row-runs", zarr_format)
    file = path / ("c/2/0/0" if zarr_format == 3 else "2.0.0")
    stored = file.read_bytes()
    file.write_bytes({"cut short": stored[:-8], "longer": stored + b"\0" * 8, "empty": b""}[change])
    array = zarrlib.Array.open(zarrlib.open_store(str(path)), "")
    # Whole, across chunks, inside the chunk (an edge chunk), and all of it.
    for region in [(Ellipsis,), (slice(12, 20), slice(2, 9)), (slice(17, 19), 1, slice(2, 4)), (slice(16, 21),)]:
        with pytest.raises(zarrlib.CorruptDataError):
            array[region]
            pytest.fail(f"{region} read")
    # Strided and orthogonal selections: rows of it, most of it (read whole), one element.
    for kind, selection in [
        ("strided", (slice(None, None, 3), slice(None, None, 2))),
        ("strided", (slice(17, 20), slice(None, None, -1), slice(None, None, 2))),
        ("oindex", ([17, 0, 19, 19], [5, 1], slice(None))),
        ("oindex", (list(range(16, 21)), list(range(13)), [0, 2, 10])),
        ("oindex", ([18], [3, 4], [7, 9])),
    ]:
        with pytest.raises(zarrlib.CorruptDataError):
            read_selection(array, kind, selection)
            pytest.fail(f"{kind} {selection} read")
    with pytest.raises(zarrlib.CorruptDataError):
        array.read_chunk((2, 0, 0))
    # The chunks around it still read.
    np.testing.assert_array_equal(array[0:16], data[0:16])
    np.testing.assert_array_equal(array[8:16, 3:9], data[8:16, 3:9])
    np.testing.assert_array_equal(array[:16:3, ::-2], data[:16:3, ::-2])


def test_missing_unencoded_chunks_read_as_the_fill_value_in_every_read(tmp_path):
    path = tmp_path / "a.zarr"
    data = write_raw(path, "short-runs", 3)
    for file in (path / "c" / "2").rglob("*"):
        if file.is_file():
            file.unlink()
    data[16:21] = FILL
    array = zarrlib.Array.open(zarrlib.open_store(str(path)), "")
    for region in [(Ellipsis,), (slice(15, 21), slice(3, 9)), (slice(17, 19), 2, 3), (slice(7, 18),)]:
        np.testing.assert_array_equal(array[region], data[region], err_msg=str(region))
    for kind, selection in selections_for(data.shape):
        expected = numpy_selection(data, kind, selection)
        np.testing.assert_array_equal(read_selection(array, kind, selection), expected, err_msg=f"{kind} {selection}")
    np.testing.assert_array_equal(array.read_chunk((2, 0, 0)), np.full((8, 6, 4), FILL, data.dtype))
    np.testing.assert_array_equal(array.read_chunk((1, 0, 0)), np.full((8, 6, 4), FILL, data.dtype))
    chunks = array.read_chunks([(2, 2, 2), (0, 0, 0), (1, 0, 0)])
    assert (chunks[0] == FILL).all() and (chunks[2] == FILL).all()
    np.testing.assert_array_equal(chunks[1], data[0:8, 0:6, 0:4])


def _strace_works() -> bool:
    if shutil.which("strace") is None:
        return False
    try:
        return subprocess.run(["strace", "-o", os.devnull, "true"], capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.mark.skipif(sys.platform != "linux" or not _strace_works(), reason="needs strace (ptrace allowed)")
def test_a_missing_unencoded_chunk_is_looked_for_once_per_read(tmp_path):
    """read_chunk, read_chunks and a region that is one chunk look for a chunk's file once: a
    missing one is the fill value at once, with no second look through zarrs."""
    path = tmp_path / "a.zarr"
    write_raw(path, "short-runs", 3)
    missing = path / "c" / "1" / "0" / "0"
    assert not missing.exists()
    script = f"""
import numpy as np, zarrlib
array = zarrlib.Array.open(zarrlib.open_store({str(path)!r}), "")
assert (array.read_chunk((1, 0, 0)) == {FILL}).all()
assert (array.read_chunks([(1, 0, 0)]) == {FILL}).all()
assert (array[8:16, 0:6, 0:4] == {FILL}).all()
assert (array[9:15, 1:5, 1:3] == {FILL}).all()
"""
    trace = tmp_path / "trace"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    result = subprocess.run(
        ["strace", "-f", "-e", "trace=%file", "-o", str(trace), sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    looks = [line for line in trace.read_text().splitlines() if f'{missing}"' in line]
    assert len(looks) == 4, looks
