"""Selections beyond numpy's basic slicing: ``oindex``, ``vindex``, ``blocks``, ``None`` and
numpy's advanced indexing through ``a[...]``, read and written, each checked against numpy on
the same data (v2 and v3, sharded and not), plus store metrics showing only chunks holding
selected elements are touched."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import zarrlib
from layouts import v2_array, v3_array, v3_sharded

S = slice
E = Ellipsis


def assert_same(actual, expected) -> None:
    expected = np.asarray(expected)
    assert isinstance(actual, np.ndarray), type(actual)
    assert actual.shape == expected.shape
    assert actual.dtype == expected.dtype
    np.testing.assert_array_equal(actual, expected)


def sample_data(shape, dtype="int32") -> np.ndarray:
    size = int(np.prod(shape, dtype=np.int64))
    return (np.arange(size) + 1).astype(dtype).reshape(shape)


LAYOUTS = {
    "v3": lambda shape, chunks: v3_array(shape, chunks, "int32"),
    "v3-sharded": lambda shape, chunks: v3_sharded(shape, [2 * c for c in chunks], chunks, "int32"),
    "v2": lambda shape, chunks: v2_array(shape, chunks, "<i4"),
    "v2-F": lambda shape, chunks: v2_array(shape, chunks, "<i4", order="F"),
}


def make(layout, shape, chunks, data=None, store=None):
    store = zarrlib.MemoryStore() if store is None else store
    metadata = LAYOUTS[layout](shape, chunks)
    array = zarrlib.Array.create(store, "a", metadata, overwrite=True)
    data = sample_data(shape) if data is None else data
    array[...] = data
    return array, data


def check_read_and_write(array, data, get, put):
    """``get(a)`` equals numpy's on the data; ``put(a, v)`` changes what numpy's does."""
    expected = get(data)
    assert_same(get(array), expected)
    value = -(np.arange(expected.size, dtype="int32") + 1).reshape(expected.shape)
    model = data.copy()
    put(model, value)
    put(array, value)
    assert_same(array[...], model)
    array[...] = data


# --- numpy indexing through a[...] ----------------------------------------------------------

NUMPY_SELECTIONS = [
    [3, 0, 12, 3],
    ([5, 1],),
    (S(None), [10, 0, 0]),
    ([1, 2], [3, 4]),
    ([[0, 12], [5, 5]], [[1], [2]]),
    (1, [2, 3]),
    ([2, 3], 1),
    ([0, 12], S(2, 9, 3)),
    (S(None), None, [1, 2]),
    ([1, 2], None, S(2, 5)),
    (E, [-1, 0]),
    (None, 3),
    (None, E, None),
    (S(None, None, -2), None, 4),
    (np.arange(13) % 3 == 0,),
    (S(1, 4), np.arange(11) % 2 == 1),
    (np.array(2), [1, 2]),
    [],
    ([], S(None)),
    (np.array([], dtype=np.int64), np.array([], dtype=np.int64)),
    True,
    (False, E),
    (S(None), [-11, 10]),
]


@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("selection", NUMPY_SELECTIONS, ids=repr)
def test_numpy_indexing_matches_numpy(layout, selection):
    array, data = make(layout, (13, 11), (4, 3))

    def put(target, value):
        target[selection] = value

    check_read_and_write(array, data, lambda a: a[selection], put)


def test_full_shape_mask_matches_numpy():
    array, data = make("v3", (13, 11), (4, 3))
    mask = (data % 7) == 1
    check_read_and_write(array, data, lambda a: a[mask], lambda a, v: a.__setitem__(mask, v))


def test_diagonal_points_read_as_points(metered_store):
    """Two long index arrays selecting a diagonal: read as points, not as their outer product
    (which would touch every chunk)."""
    store = metered_store
    array, data = make("v3", (40, 40), (10, 10), store=store)
    rows = np.arange(40)
    before = store.metrics()
    assert_same(array[rows, rows], data[rows, rows])
    assert store.metrics()["reads"] - before["reads"] == 4


def test_repeated_points_last_assignment_wins():
    array, data = make("v3", (13, 11), (4, 3))
    rows, cols = [1, 5, 1, 1], [2, 2, 2, 2]
    value = np.array([10, 20, 30, 40], dtype="int32")
    array[rows, cols] = value
    data[rows, cols] = value
    assert_same(array[...], data)
    array.vindex[rows, cols] = value[::-1]
    data[rows, cols] = value[::-1]
    assert_same(array[...], data)
    array.oindex[[3, 3], [4, 4]] = np.array([[1, 2], [3, 4]], dtype="int32")
    data[np.ix_([3, 3], [4, 4])] = np.array([[1, 2], [3, 4]], dtype="int32")
    assert_same(array[...], data)


# --- oindex, vindex, blocks -----------------------------------------------------------------

ORTHOGONAL = [
    ([3, 0, 12, 3], S(None)),
    ([5, 1], [10, 0, 0]),
    (1, [2, 3]),
    (np.arange(13) % 4 == 0, np.arange(11) % 3 != 0),
    (S(None, None, -3), [7]),
    (E, [-1]),
    ([], [1, 2]),
    (-1, -1),
]


def ix(selection, shape):
    """numpy's outer product for an orthogonal selection: the ``np.ix_`` index and the result's
    shape (integer axes dropped)."""
    sel = list(selection) if isinstance(selection, tuple) else [selection]
    ellipsis = [i for i, item in enumerate(sel) if item is E]
    if ellipsis:
        at = ellipsis[0]
        sel[at : at + 1] = [S(None)] * (len(shape) - len(sel) + 1)
    lists, result = [], []
    for item, n in zip(sel, shape, strict=True):
        if isinstance(item, slice):
            lists.append(np.arange(n)[item])
        elif isinstance(item, int):
            lists.append(np.array([item % n]))
            continue
        else:
            item = np.asarray(item, dtype=bool if np.asarray(item).dtype == bool else np.intp)
            lists.append(np.nonzero(item)[0] if item.dtype == bool else item)
        result.append(len(lists[-1]))
    return np.ix_(*lists), tuple(result)


@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("selection", ORTHOGONAL, ids=repr)
def test_oindex_matches_numpy(layout, selection):
    array, data = make(layout, (13, 11), (4, 3))
    index, shape = ix(selection, data.shape)

    def get(a):
        if isinstance(a, np.ndarray):
            return a[index].reshape(shape)
        return a.oindex[selection]

    def put(a, value):
        if isinstance(a, np.ndarray):
            a[index] = value.reshape(a[index].shape)
        else:
            a.oindex[selection] = value

    check_read_and_write(array, data, get, put)
    assert_same(array.get_orthogonal_selection(selection), data[index].reshape(shape))


VINDEX = [
    ([3, 0, 12, 3], [1, 1, 10, 1]),
    ([[0, 12], [5, 5]], [[1], [2]]),
    (4, [2, 3, -1]),
    (np.array([], dtype=np.int64), np.array([], dtype=np.int64)),
]


@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("selection", VINDEX, ids=repr)
def test_vindex_matches_numpy(layout, selection):
    array, data = make(layout, (13, 11), (4, 3))

    def get(a):
        return a[selection] if isinstance(a, np.ndarray) else a.vindex[selection]

    def put(a, value):
        if isinstance(a, np.ndarray):
            a[selection] = value
        else:
            a.vindex[selection] = value

    check_read_and_write(array, data, get, put)
    assert_same(array.get_coordinate_selection(selection), data[selection])


# One integer ndarray per axis, all of one shape: read through the engine's per-axis call
# (negatives wrapped there), whatever their integer type; uint64 takes the general path.
VINDEX_ARRAYS = [
    (np.array([3, 0, 12, -1, -13]), np.array([1, -11, 10, 1, 0])),
    (np.array([[0, 12], [-5, 5]], dtype=np.int32), np.array([[1, 2], [3, -4]], dtype=np.int8)),
    (np.array([7, 7, 2], dtype=np.uint8), np.array([0, 10, 5], dtype=np.uint16)),
    (np.array([12, 0], dtype=np.uint64), np.array([10, 3], dtype=np.uint64)),
    (np.arange(12)[::-3], np.arange(4)),
]


@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("selection", VINDEX_ARRAYS, ids=repr)
def test_vindex_of_index_arrays_matches_numpy(layout, selection):
    array, data = make(layout, (13, 11), (4, 3))
    assert_same(array.vindex[selection], data[selection])
    out = np.empty(selection[0].shape, "int32")
    assert array.get_coordinate_selection(selection, out=out) is out
    assert_same(out, data[selection])


@pytest.mark.parametrize("dtype", ["|u1", "<u2", "<i4", "<f8", "<c16", "|S3", "<U3"])
def test_vindex_of_every_element_size_matches_numpy(dtype):
    """The engine copies each point's element with a copy of its size (1, 2, 4, 8 and 16 bytes
    have their own) from chunks that hold many points: every size picks the right bytes."""
    shape, chunks = (40, 30), (16, 8)
    data = (np.arange(40 * 30) % 251).astype(dtype).reshape(shape)
    metadata = v2_array(shape, chunks, dtype, fill_value=None)
    array = zarrlib.Array.create(zarrlib.MemoryStore(), "a", metadata, overwrite=True)
    array[...] = data
    rng = np.random.default_rng(11)
    points = (rng.integers(-40, 40, 5000), rng.integers(0, 30, 5000))
    assert_same(array.vindex[points], data[points])
    assert_same(array.vindex[points[0][:7], points[1][:7]], data[points[0][:7], points[1][:7]])


@pytest.mark.parametrize("bad", [(np.array([0, 13]), np.array([0, 0])), (np.array([0]), np.array([-12]))])
def test_vindex_of_index_arrays_out_of_bounds(bad):
    array, data = make("v3", (13, 11), (4, 3))
    with pytest.raises(IndexError):
        data[bad]
    with pytest.raises(zarrlib.OutOfBoundsError, match="out of bounds"):
        array.vindex[bad]


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_mask_selections_match_numpy(layout):
    array, data = make(layout, (13, 11), (4, 3))
    mask = (data % 5) == 2
    assert_same(array.vindex[mask], data[mask])
    assert_same(array.get_mask_selection(mask), data[mask])
    value = np.arange(int(mask.sum()), dtype="int32")
    array.set_mask_selection(mask, value)
    data[mask] = value
    assert_same(array[...], data)


BLOCKS = [(1, 2), (S(None), 3), (S(1, 3), S(None)), (-1, -1), (E, 0), S(2, 9)]


@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("selection", BLOCKS, ids=repr)
def test_blocks_match_numpy(layout, selection):
    array, data = make(layout, (13, 11), (4, 3))
    # Worked out independently: block b of an axis of chunk c covers [b*c, (b+1)*c).
    sel = list(selection) if isinstance(selection, tuple) else [selection]
    if E in sel:
        at = sel.index(E)
        sel[at : at + 1] = [S(None)] * (3 - len(sel))
    sel += [S(None)] * (2 - len(sel))
    expected = data
    for axis, (item, c, n) in enumerate(zip(sel, array.shards or array.chunks, data.shape, strict=True)):
        grid = -(-n // c)
        if isinstance(item, int) and not -grid <= item < grid:
            # No such block (the shards of the sharded layout are twice the chunks).
            with pytest.raises(IndexError):
                array.blocks[selection]
            return
        blocks = range(grid)[item] if isinstance(item, slice) else [range(grid)[item]]
        rows = [i for b in blocks for i in range(b * c, min((b + 1) * c, n))]
        expected = np.take(expected, rows, axis=axis)
    region = array.blocks.region(selection)
    assert_same(array.blocks[selection], expected)
    assert_same(array.get_block_selection(selection), expected)
    value = -np.ones(expected.shape, "int32")
    array.blocks[selection] = value
    data[region] = value
    assert_same(array[...], data)


# --- errors ---------------------------------------------------------------------------------

BAD = [
    (lambda a: a[[0, 13]], IndexError),
    (lambda a: a[[0, -14]], IndexError),
    (lambda a: a[[1.5]], IndexError),
    (lambda a: a[[1, 2], [1, 2, 3]], IndexError),
    (lambda a: a[np.ones(12, bool)], IndexError),
    (lambda a: a[0, 0, [0]], IndexError),
    (lambda a: a.oindex[[0, 13], :], IndexError),
    (lambda a: a.oindex[[[0, 1]], :], IndexError),
    (lambda a: a.oindex[None, 1], TypeError),
    (lambda a: a.vindex[[0, 1], :], TypeError),
    (lambda a: a.vindex[[0, 1]], IndexError),
    (lambda a: a.vindex[[0, 1], [0, 11]], IndexError),
    (lambda a: a.vindex[np.ones((13, 10), bool)], IndexError),
    (lambda a: a.blocks[4, 0], IndexError),
    (lambda a: a.blocks[::2], IndexError),
    (lambda a: a.blocks[[0, 1]], TypeError),
]


@pytest.mark.parametrize(("call", "error"), BAD)
def test_bad_selections_raise(call, error):
    array, data = make("v3", (13, 11), (4, 3))
    with pytest.raises(error):
        call(array)
    assert_same(array[...], data)


# --- chunks touched -------------------------------------------------------------------------


def chunks_of(points, chunks):
    return {tuple(int(i) // c for i, c in zip(p, chunks, strict=True)) for p in points}


def test_selections_read_and_write_only_chunks_holding_selected_elements(metered_store):
    store = metered_store
    shape, chunks = (40, 30), (4, 5)
    array, data = make("v3", shape, chunks, store=store)
    rows, cols = [37, 2, 2, 19], [0, 29, 14]
    cases = [
        (lambda: array.oindex[rows, cols], {(r, c) for r in rows for c in cols}),
        (lambda: array.vindex[rows, [0, 29, 14, 14]], set(zip(rows, [0, 29, 14, 14], strict=True))),
        (lambda: array[rows, S(None)], {(r, c) for r in rows for c in range(0, 30, 5)}),
        (lambda: array.blocks[2, 3], {(8, 15)}),
    ]
    for read, points in cases:
        touched = chunks_of(points, chunks)
        before = store.metrics()
        read()
        after = store.metrics()
        assert after["reads"] - before["reads"] == len(touched)
        assert after["writes"] == before["writes"]
    touched = chunks_of({(r, c) for r in rows for c in cols}, chunks)
    before = store.metrics()
    array.oindex[rows, cols] = 7
    after = store.metrics()
    assert after["reads"] - before["reads"] == len(touched)
    assert after["writes"] - before["writes"] == len(touched)
    points = list(zip(rows, [0, 29, 14, 14], strict=True))
    touched = chunks_of(points, chunks)
    before = store.metrics()
    array.vindex[rows, [0, 29, 14, 14]] = 8
    after = store.metrics()
    assert after["reads"] - before["reads"] == len(touched)
    assert after["writes"] - before["writes"] == len(touched)


# --- hypothesis: random shapes, chunks and index arrays --------------------------------------


@st.composite
def array_and_indices(draw):
    ndim = draw(st.integers(1, 3))
    shape = tuple(draw(st.integers(1, 9)) for _ in range(ndim))
    chunks = tuple(draw(st.integers(1, n)) for n in shape)
    layout = draw(st.sampled_from(sorted(LAYOUTS)))
    lists = [draw(st.lists(st.integers(-n, n - 1), max_size=6)) for n in shape]
    points = draw(st.integers(0, 8))
    coords = [draw(st.lists(st.integers(-n, n - 1), min_size=points, max_size=points)) for n in shape]
    return layout, shape, chunks, lists, coords


@settings(max_examples=60, deadline=None)
@given(array_and_indices())
def test_hypothesis_matches_numpy(case):
    layout, shape, chunks, lists, coords = case
    array, data = make(layout, shape, chunks)
    index = np.ix_(*[np.asarray(x, dtype=np.intp) for x in lists])
    assert_same(array.oindex[tuple(lists)], data[index])
    coords_index = tuple(np.asarray(x, dtype=np.intp) for x in coords)
    assert_same(array.vindex[coords_index], data[coords_index])
    assert_same(array[coords_index], data[coords_index])
    # numpy with one list on the first axis and everything else whole.
    first = np.asarray(lists[0], dtype=np.intp)
    assert_same(array[first], data[first])
    value = -(np.arange(data[index].size, dtype="int32") + 1).reshape(data[index].shape)
    array.oindex[tuple(lists)] = value
    data[index] = value
    assert_same(array[...], data)
    value = -(np.arange(len(coords[0]), dtype="int32") + 100)
    array.vindex[coords_index] = value
    data[coords_index] = value
    assert_same(array[...], data)


# --- the functional API ---------------------------------------------------------------------


def test_read_region_and_write_region_take_numpy_selections():
    store = zarrlib.MemoryStore()
    metadata = v3_array((13, 11), (4, 3), "int32")
    zarrlib.create_new_array(metadata, store, "a")
    data = sample_data((13, 11))
    zarrlib.write_region(metadata, store, "a", E, data)
    for selection in ([3, 1], ([1, 2], [3, 4]), (None, S(2, 5)), data > 40):
        assert_same(zarrlib.read_region(metadata, store, "a", selection), data[selection])
    zarrlib.write_region(metadata, store, "a", ([1, 2], [3, 4]), 0)
    data[[1, 2], [3, 4]] = 0
    assert_same(zarrlib.read_region(metadata, store, "a", E), data)
