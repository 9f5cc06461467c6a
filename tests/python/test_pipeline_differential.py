"""zarrlib's codec pipeline against numpy, on drawn arrays and selections.

Hypothesis draws v2 and v3 arrays (1-d to 3-d, partial edge chunks, sharding, compressors, a
big-endian v2 dtype) and selections of every kind zarr-python hands a pipeline: basic (integers,
slices with any step), orthogonal (unsorted and repeated index lists, masks), coordinate
(``vindex``, dense and sparse) and blocks. Each read through zarr-python on the pipeline must
equal numpy's answer on a model of the array, each write must leave the array numpy's model
says (read back through zarr-python's own pipeline too), and no batch may go chunk by chunk:
``pipeline_stats()["chunk_by_chunk"]`` stays where it was.
"""

from __future__ import annotations

import numcodecs
import numpy as np
import pytest
import zarr
from hypothesis import given
from hypothesis import strategies as st

import zarrlib
import zarrlib.pipeline  # registers the pipeline when the package runs from source

OURS = "zarrlib.ZarrlibCodecPipeline"
DEFAULT = "zarr.core.codec_pipeline.BatchedCodecPipeline"


@st.composite
def arrays(draw: st.DrawFn) -> tuple[dict, np.ndarray]:
    ndim = draw(st.integers(1, 3))
    shape = tuple(draw(st.lists(st.integers(1, 9), min_size=ndim, max_size=ndim)))
    chunks = tuple(draw(st.integers(1, side)) for side in shape)
    layout = draw(st.sampled_from(["v3", "v3-zstd", "v3-sharded", "v2", "v2-big-endian"]))
    kwargs: dict = {"shape": shape, "chunks": chunks, "fill_value": 7}
    dtype = draw(st.sampled_from(["int16", "float32", "uint8"]))
    if layout == "v3":
        kwargs.update(zarr_format=3, compressors=None)
    elif layout == "v3-zstd":
        kwargs.update(zarr_format=3, compressors=zarr.codecs.ZstdCodec(level=1))
    elif layout == "v3-sharded":
        inner = tuple(draw(st.integers(1, c)) for c in chunks)
        # zarr-python wants shards made of whole inner chunks.
        shards = tuple(-(-c // i) * i for c, i in zip(chunks, inner, strict=True))
        kwargs.update(zarr_format=3, chunks=inner, shards=shards, compressors=zarr.codecs.ZstdCodec(level=1))
    elif layout == "v2":
        kwargs.update(zarr_format=2, compressors=numcodecs.Zlib(level=1))
    else:
        kwargs.update(zarr_format=2, compressors=None)
        dtype = ">i4"
    kwargs["dtype"] = dtype
    size = int(np.prod(shape))
    data = np.arange(size, dtype="int64").reshape(shape) * 3 % 251
    return kwargs, data.astype(dtype)


def _index_list(draw: st.DrawFn, side: int, unique: bool) -> np.ndarray:
    items = draw(st.lists(st.integers(0, side - 1), min_size=1, max_size=2 * side, unique=unique))
    return np.array(items)


@st.composite
def selections(draw: st.DrawFn, shape: tuple[int, ...], writing: bool) -> tuple[str, tuple]:
    kind = draw(st.sampled_from(["basic", "oindex", "oindex-mask", "vindex", "vindex-dense", "blocks"]))
    if kind == "basic":
        items: list = []
        for side in shape:
            if draw(st.booleans()):
                items.append(draw(st.integers(-side, side - 1)))
            else:
                start = draw(st.none() | st.integers(-side, side))
                stop = draw(st.none() | st.integers(-side, side))
                step = draw(st.none() | st.sampled_from([1, 2, 3]))  # zarr-python refuses negative steps
                items.append(slice(start, stop, step))
        return kind, tuple(items)
    if kind == "oindex":
        # Writes through repeated indices have no one answer: unique ones there.
        items = [
            _index_list(draw, side, writing)
            if draw(st.booleans())
            else slice(None, None, draw(st.sampled_from([1, 2])))
            for side in shape
        ]
        return kind, tuple(items)
    if kind == "oindex-mask":
        axis = draw(st.integers(0, len(shape) - 1))
        mask = np.array(draw(st.lists(st.booleans(), min_size=shape[axis], max_size=shape[axis])))
        mask[draw(st.integers(0, shape[axis] - 1))] = True
        return "oindex", tuple(mask if a == axis else slice(None) for a in range(len(shape)))
    if kind in ("vindex", "vindex-dense"):
        size = int(np.prod(shape))
        if kind == "vindex-dense":
            # Every element, shuffled (the pipeline decodes whole chunks for dense points).
            flat = np.array(draw(st.permutations(range(size))))
        else:
            flat = np.array(draw(st.lists(st.integers(0, size - 1), min_size=1, max_size=8, unique=writing)))
        return "vindex", np.unravel_index(flat, shape)
    block = tuple(draw(st.integers(0, 1)) for _ in shape)
    return kind, block


def _expected_block(shape: tuple[int, ...], chunks: tuple[int, ...], block: tuple[int, ...]) -> tuple:
    return tuple(slice(b * c, min((b + 1) * c, s)) for b, c, s in zip(block, chunks, shape, strict=True))


def _model_selection(kind: str, selection: tuple, shape: tuple[int, ...], chunks: tuple[int, ...]) -> tuple:
    if kind == "oindex":
        lists = [
            np.arange(s)[item] if not isinstance(item, np.ndarray) or item.dtype == bool else item
            for item, s in zip(selection, shape, strict=True)
        ]
        lists = [np.nonzero(item)[0] if item.dtype == bool else item for item in lists]
        return np.ix_(*lists)
    if kind == "blocks":
        return _expected_block(shape, chunks, selection)
    return selection


def _get(array: zarr.Array, kind: str, selection: tuple) -> np.ndarray:
    if kind == "oindex":
        return array.oindex[selection]
    if kind == "vindex":
        return array.vindex[selection]
    if kind == "blocks":
        return array.blocks[selection]
    return array[selection]


def _set(array: zarr.Array, kind: str, selection: tuple, value: np.ndarray) -> None:
    if kind == "oindex":
        array.oindex[selection] = value
    elif kind == "vindex":
        array.vindex[selection] = value
    elif kind == "blocks":
        array.blocks[selection] = value
    else:
        array[selection] = value


@pytest.mark.filterwarnings("ignore::UserWarning")
@given(data=st.data())
def test_reads_and_writes_of_every_selection_kind_match_numpy(data):
    kwargs, values = data.draw(arrays())
    store = zarr.storage.MemoryStore()
    with zarr.config.set({"codec_pipeline.path": OURS}):
        array = zarr.create_array(store, name="a", **kwargs)
    assert isinstance(array._async_array.codec_pipeline, zarrlib.ZarrlibCodecPipeline)
    before = zarrlib.pipeline_stats()["chunk_by_chunk"]
    array[...] = values
    model = values.copy()
    # Blocks are the chunk grid's cells: shards, where the array has them.
    shape, chunks = values.shape, array.shards or array.chunks
    for writing in (False, True, False):
        kind, selection = data.draw(selections(shape, writing))
        where = _model_selection(kind, selection, shape, chunks)
        if kind == "blocks" and any(s.start >= s.stop for s in where):
            continue
        if writing:
            value = (np.arange(model[where].size).reshape(model[where].shape) + 100).astype(model.dtype)
            _set(array, kind, selection, value)
            model[where] = value
        else:
            np.testing.assert_array_equal(_get(array, kind, selection), model[where])
    np.testing.assert_array_equal(array[...], model)
    with zarr.config.set({"codec_pipeline.path": DEFAULT}):
        np.testing.assert_array_equal(zarr.open_array(store, path="a", mode="r")[...], model)
    assert zarrlib.pipeline_stats()["chunk_by_chunk"] == before
