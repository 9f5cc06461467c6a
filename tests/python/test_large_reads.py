"""Reads large enough (over 256 KiB) to go unit by unit, and strided selections, which always do:
each chunk, or each inner chunk of a shard, is decoded on its own and copied into place by the
engine rather than through zarrs. They
must read exactly what numpy's model says, over partial edge chunks and inner chunks, chunks that
are not stored (the fill value), units read whole or in part, and in every layout."""

from __future__ import annotations

import numpy as np
import pytest

import zarrlib
from layouts import v2_array, v3_array, v3_sharded

SHAPE = (150, 130, 40)  # float64: 6.2 MB; no axis a multiple of its chunk edge
FILL = -1.5

LAYOUTS = {
    "raw": v3_array(SHAPE, (64, 48, 16), "float64", fill_value=FILL, compressor=None),
    "zstd": v3_array(SHAPE, (64, 48, 16), "float64", fill_value=FILL),
    "v2-blosc-F": v2_array(SHAPE, (64, 48, 16), "<f8", fill_value=FILL, order="F"),
    "sharded": v3_sharded(SHAPE, (64, 48, 16), (16, 12, 8), "float64", fill_value=FILL),
}

REGIONS = [
    (slice(None), slice(None), slice(None)),
    (slice(3, 149), slice(1, 129), slice(2, 39)),  # every unit in part at the edges
    (slice(60, 140), slice(40, 130), slice(0, 40)),
    (slice(10, 20), slice(None), slice(None)),  # thin: every unit in small part
    (slice(None, None, -1), slice(5, 100), slice(None)),  # reversed: a selection
    (slice(None, None, 3), slice(1, None, 5), slice(None, None, 2)),  # strided, unit by unit
    (slice(140, 2, -7), slice(None), slice(39, 0, -13)),
]


@pytest.fixture(scope="module", params=sorted(LAYOUTS))
def stored(request, tmp_path_factory):
    """An array with most chunks written and a few left unstored, and numpy's model of it."""
    metadata = LAYOUTS[request.param]
    path = tmp_path_factory.mktemp(request.param)
    zarrlib.create_new_array(metadata, path, "a")
    model = np.full(SHAPE, FILL)
    data = np.random.default_rng(7).normal(size=SHAPE)
    # Leave the first chunk (or shard) along axis 0 past row 64 unwritten in one corner.
    for region in [(slice(0, 150), slice(0, 48), slice(None)), (slice(0, 64), slice(48, 130), slice(None))]:
        zarrlib.write_region(metadata, path, "a", region, data[region])
        model[region] = data[region]
    return metadata, path, model


@pytest.mark.parametrize("region", REGIONS, ids=str)
@pytest.mark.parametrize("validate", [True, False], ids=["checksums", "no-checksums"])
def test_large_reads_match_numpy(stored, region, validate):
    metadata, path, model = stored
    previous = zarrlib.get_config()["validate_checksums"]
    zarrlib.set_config(validate_checksums=validate)
    try:
        got = zarrlib.read_region(metadata, path, "a", region)
        np.testing.assert_array_equal(got, model[region])
        array = zarrlib.Array.open(path, "a")
        np.testing.assert_array_equal(array[region], model[region])
    finally:
        zarrlib.set_config(validate_checksums=previous)


def test_large_chunk_reads_match_numpy(stored):
    metadata, path, model = stored
    array = zarrlib.Array.open(path, "a")
    chunks = metadata.get("chunks") or metadata["chunk_grid"]["configuration"]["chunk_shape"]
    for coords in [(0, 0, 0), (2, 2, 2), (1, 2, 0)]:
        got = array.read_chunk(coords)
        region = tuple(slice(c * n, min((c + 1) * n, s)) for c, n, s in zip(coords, chunks, SHAPE, strict=True))
        inside = tuple(slice(0, r.stop - r.start) for r in region)
        np.testing.assert_array_equal(got[inside], model[region])


def test_unencoded_chunks_read_straight_from_their_files(tmp_path):
    """A raw chunk is read from its file into the result; a missing file reads as the fill
    value and a file of the wrong size is corrupt, as through zarrs."""
    metadata = LAYOUTS["raw"]
    zarrlib.create_new_array(metadata, tmp_path, "a")
    array = zarrlib.Array.open(tmp_path, "a")
    block = np.random.default_rng(3).normal(size=(64, 48, 16))
    array.write_chunk((1, 0, 0), block)
    np.testing.assert_array_equal(array.read_chunk((1, 0, 0)), block)
    np.testing.assert_array_equal(array.read_chunks([(1, 0, 0), (0, 0, 0)])[0], block)
    assert (array.read_chunk((0, 0, 0)) == FILL).all()
    stored = tmp_path / "a" / "c" / "1" / "0" / "0"
    assert stored.read_bytes() == block.tobytes()
    stored.write_bytes(block.tobytes()[:-8])
    with pytest.raises(zarrlib.CorruptDataError):
        array.read_chunk((1, 0, 0))
