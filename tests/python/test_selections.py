"""Basic selections (integers, slices with any step, Ellipsis) through ``read_region`` /
``write_region`` and ``Array.__getitem__`` / ``__setitem__``, checked against numpy."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import zarrlib
from layouts import v2_array, v3_array, v3_sharded

# --- helpers --------------------------------------------------------------------------------


def assert_same(actual, expected) -> None:
    """``actual`` is an ndarray equal to numpy's result in values, shape and dtype."""
    expected = np.asarray(expected)
    assert isinstance(actual, np.ndarray), type(actual)
    assert actual.shape == expected.shape
    assert actual.dtype == expected.dtype
    np.testing.assert_array_equal(actual, expected)


def sample_data(shape, dtype) -> np.ndarray:
    """Distinct, non-fill (non-zero) values."""
    size = int(np.prod(shape, dtype=np.int64))
    return (np.arange(size) + 1).astype(dtype).reshape(shape)


def stored(metadata, data, store=None, path="a"):
    """A store holding ``data`` in an array described by ``metadata``."""
    store = zarrlib.MemoryStore() if store is None else store
    zarrlib.create_new_array(metadata, store, path)
    zarrlib.write_region(metadata, store, path, Ellipsis, data)
    return store


def selected_indices(selection, shape) -> list[list[int]]:
    """Per axis, the (non-negative) indices a basic selection picks, computed by numpy."""
    result = []
    grids = np.indices(shape, sparse=True)
    for grid in grids:
        index = np.broadcast_to(grid, shape)[selection]
        result.append(sorted(set(np.asarray(index).ravel().tolist())))
    return result


# --- the arrays the parametrized selections run on ------------------------------------------

CASES = {
    0: dict(shape=(), chunks=(), dtype="int64"),
    1: dict(shape=(23,), chunks=(5,), dtype="uint16"),
    2: dict(shape=(13, 11), chunks=(4, 3), dtype="int32"),
    3: dict(shape=(7, 9, 10), chunks=(3, 4, 3), dtype="float64"),
}

S = slice
E = Ellipsis

SELECTIONS = {
    0: [(), E, (E,)],
    1: [
        0,
        5,
        22,
        -1,
        -23,
        np.int64(4),
        np.uint8(7),
        S(None),
        S(2, 19),
        S(3, 4),
        S(None, None, 2),
        S(1, None, 7),
        S(None, None, 11),
        S(0, 23, 22),
        S(None, None, -1),
        S(8, 1, -3),
        S(None, None, -6),
        S(-2, -20, -5),
        S(20, None, -9),
        S(5, 5),
        S(10, 2),
        S(2, 10, -1),
        S(30, 40),
        S(-100, 100),
        S(-3, None),
        S(None, -30),
        E,
        (E,),
        (E, 3),
        (3, E),
        (S(2, 20, 3), E),
        (E, S(None, None, -4)),
        (),
    ],
    2: [
        (3, 4),
        (-1, -1),
        (0, -11),
        3,
        -13,
        (S(1, 12, 5),),
        S(None, None, 6),
        (S(None, None, -1), S(None, None, 2)),
        (S(8, 1, -3), 7),
        (S(12, None, -5), S(10, None, -4)),
        (S(None, None, 6), S(None, None, 4)),
        (S(-2, None), S(None, -2)),
        (S(1, 12), S(2, 10)),
        (S(None), S(5, 5)),
        (S(4, 4), S(None, None, -1)),
        (S(7, 2), 3),
        (E, 2),
        (2, E),
        (E, S(None, None, -4)),
        (S(None, None, 5), E),
        (E, 1, 2),
        (1, E, 2),
        (),
        E,
        (E,),
    ],
    3: [
        (1, 2, 3),
        (-1, -1, -1),
        (-7, 0, 9),
        2,
        (2, 3),
        (S(None, None, -1),) * 3,
        (S(None, None, 4), S(1, None, 5), S(None, None, -4)),
        (0, S(8, 1, -3), S(None, None, 7)),
        (S(6, 0, -2), E),
        (S(0, 0), E, 1),
        (S(1, 6), S(2, 8), S(3, 9)),
        (S(1, 6, 2), 4, S(9, 0, -3)),
        (-1, E, -1),
        (E, 2),
        (1, E, S(None, None, -2)),
        (1, E, 2),
        (S(None), 2, E),
        (E, S(3, 3)),
        (E, S(None, None, 4), S(None, None, 4)),
        (S(None, None, 3), E, S(None, None, 4)),
        (E, 4, 5),
        (6, E),
        (),
        E,
        (E,),
    ],
}

PARAMS = [
    pytest.param(ndim, selection, id=f"{ndim}d-{i}-{selection!r}")
    for ndim, selections in SELECTIONS.items()
    for i, selection in enumerate(selections)
]


@pytest.fixture(scope="module")
def arrays():
    """Per dimension count: (metadata, store, numpy data, Array object)."""
    result = {}
    for ndim, case in CASES.items():
        metadata = v3_array(case["shape"], case["chunks"], case["dtype"])
        data = sample_data(case["shape"], case["dtype"])
        store = stored(metadata, data)
        result[ndim] = (metadata, store, data, zarrlib.Array.open(store, "a"))
    return result


@pytest.mark.parametrize(("ndim", "selection"), PARAMS)
def test_read_region_matches_numpy(arrays, ndim, selection):
    metadata, store, data, _ = arrays[ndim]
    assert_same(zarrlib.read_region(metadata, store, "a", selection), data[selection])


@pytest.mark.parametrize(("ndim", "selection"), PARAMS)
def test_getitem_matches_numpy(arrays, ndim, selection):
    _, _, data, array = arrays[ndim]
    assert_same(array[selection], data[selection])


@pytest.mark.parametrize(("ndim", "selection"), PARAMS)
def test_write_region_matches_numpy(ndim, selection):
    case = CASES[ndim]
    metadata = v3_array(case["shape"], case["chunks"], case["dtype"])
    expected = sample_data(case["shape"], case["dtype"])
    store = stored(metadata, expected)
    shape = np.asarray(expected[selection]).shape
    value = (1000 + np.arange(int(np.prod(shape, dtype=np.int64)))).astype(case["dtype"]).reshape(shape)
    zarrlib.write_region(metadata, store, "a", selection, value)
    expected[selection] = value
    assert_same(zarrlib.read_region(metadata, store, "a", Ellipsis), expected)


@pytest.mark.parametrize(("ndim", "selection"), PARAMS)
def test_setitem_matches_numpy(ndim, selection):
    case = CASES[ndim]
    metadata = v3_array(case["shape"], case["chunks"], case["dtype"], compressor="gzip")
    expected = sample_data(case["shape"], case["dtype"])
    array = zarrlib.Array.create(zarrlib.MemoryStore(), "a", metadata)
    array[...] = expected
    shape = np.asarray(expected[selection]).shape
    value = (2000 + np.arange(int(np.prod(shape, dtype=np.int64)))).astype(case["dtype"]).reshape(shape)
    array[selection] = value
    expected[selection] = value
    assert_same(array[...], expected)


def test_selections_on_local_store(store):
    """The same results on a directory store as in memory."""
    metadata = v3_array((13, 11), (4, 3), "int32")
    data = sample_data((13, 11), "int32")
    stored(metadata, data, store)
    for selection in SELECTIONS[2]:
        assert_same(zarrlib.read_region(metadata, store, "a", selection), data[selection])


# --- hypothesis: random shapes, chunk shapes and selections ---------------------------------


@st.composite
def array_and_selection(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=12))
    chunks = tuple(draw(st.integers(1, side + 1)) for side in shape)
    selection = draw(
        hnp.basic_indices(shape, allow_newaxis=False, allow_ellipsis=True).filter(
            lambda s: s is not None and not (isinstance(s, tuple) and any(i is None for i in s))
        )
    )
    return shape, chunks, selection


@given(array_and_selection())
def test_hypothesis_read_matches_numpy(case):
    shape, chunks, selection = case
    metadata = v3_array(shape, chunks, "int32")
    data = sample_data(shape, "int32")
    store = stored(metadata, data)
    assert_same(zarrlib.read_region(metadata, store, "a", selection), data[selection])
    assert_same(zarrlib.Array.open(store, "a")[selection], data[selection])


@given(array_and_selection())
def test_hypothesis_write_matches_numpy(case):
    shape, chunks, selection = case
    metadata = v3_array(shape, chunks, "int32")
    expected = sample_data(shape, "int32")
    store = stored(metadata, expected)
    target_shape = np.asarray(expected[selection]).shape
    value = -(np.arange(int(np.prod(target_shape, dtype=np.int64))) + 1).astype("int32").reshape(target_shape)
    zarrlib.write_region(metadata, store, "a", selection, value)
    expected[selection] = value
    assert_same(zarrlib.read_region(metadata, store, "a", Ellipsis), expected)


# --- writes: strides, broadcasting, casting -------------------------------------------------

WRITE_SELECTIONS = [
    (S(None, None, -3), S(1, None, 4)),
    (S(8, 1, -3), E),
    (E, S(None, None, -1)),
    (S(None, None, 5), 2),
    (S(12, None, -7), S(10, None, -5)),
    (S(1, 12, 6), S(None, None, 4)),
]


@pytest.mark.parametrize("selection", WRITE_SELECTIONS, ids=repr)
def test_strided_write_then_full_read(store, selection):
    metadata = v3_array((13, 11), (4, 3), "int32")
    expected = sample_data((13, 11), "int32")
    stored(metadata, expected, store)
    shape = expected[selection].shape
    value = (-np.arange(1, int(np.prod(shape)) + 1, dtype="int32")).reshape(shape)
    zarrlib.write_region(metadata, store, "a", selection, value)
    expected[selection] = value
    assert_same(zarrlib.read_region(metadata, store, "a", Ellipsis), expected)
    # Reopened from the store, as an object.
    assert_same(zarrlib.Array.open(store, "a")[...], expected)


@pytest.mark.parametrize("selection", WRITE_SELECTIONS + [(3, 4), E], ids=repr)
def test_scalar_broadcast(selection):
    metadata = v3_array((13, 11), (4, 3), "int32")
    expected = sample_data((13, 11), "int32")
    store = stored(metadata, expected)
    zarrlib.write_region(metadata, store, "a", selection, 77)
    expected[selection] = 77
    assert_same(zarrlib.read_region(metadata, store, "a", Ellipsis), expected)
    array = zarrlib.Array.open(store, "a")
    array[selection] = np.int8(-5)
    expected[selection] = -5
    assert_same(array[...], expected)


def test_broadcast_from_lower_dim_value():
    metadata = v3_array((7, 9, 10), (3, 4, 3), "int32")
    expected = sample_data((7, 9, 10), "int32")
    store = stored(metadata, expected)
    selection = (S(None, None, 2), S(8, 0, -3), S(1, None, 4))  # shape (4, 3, 3)
    row = np.array([-1, -2, -3], dtype="int32")
    zarrlib.write_region(metadata, store, "a", selection, row)
    expected[selection] = row
    assert_same(zarrlib.read_region(metadata, store, "a", Ellipsis), expected)
    plane = np.array([[10], [20], [30]], dtype="int64")  # (3, 1) -> (4, 3, 3)
    array = zarrlib.Array.open(store, "a")
    array[selection] = plane
    expected[selection] = plane
    assert_same(array[...], expected)
    # A list is a value too.
    array[1, :, S(None, None, -3)] = [7, 8, 9, 10]
    expected[1, :, S(None, None, -3)] = [7, 8, 9, 10]
    assert_same(array[...], expected)


def test_value_with_leading_unit_axes_broadcasts_like_numpy():
    """numpy assignment drops leading length-1 axes of the value: a[0, :] = ones((1, n))."""
    metadata = v3_array((13, 11), (4, 3), "int32")
    expected = sample_data((13, 11), "int32")
    store = stored(metadata, expected)
    value = np.full((1, 11), -4, dtype="int32")
    expected[3, :] = value  # numpy accepts this
    zarrlib.write_region(metadata, store, "a", (3, S(None)), value)
    assert_same(zarrlib.read_region(metadata, store, "a", Ellipsis), expected)


@pytest.mark.parametrize("dtype", ["int16", "uint8", "int64"])
def test_float_values_into_int_array_cast_like_numpy(dtype):
    metadata = v3_array((13, 11), (4, 3), dtype)
    expected = sample_data((13, 11), dtype)
    store = stored(metadata, expected)
    selection = (S(1, None, 3), S(None, None, -2))  # (4, 6)
    value = np.linspace(0.2, 99.9, 24).reshape(4, 6)  # float64, non-negative
    zarrlib.write_region(metadata, store, "a", selection, value)
    expected[selection] = value
    assert_same(zarrlib.read_region(metadata, store, "a", Ellipsis), expected)
    array = zarrlib.Array.open(store, "a")
    array[2, 3] = 6.99
    expected[2, 3] = 6.99
    array[5] = 3.5
    expected[5] = 3.5
    assert_same(array[...], expected)
    if np.dtype(dtype).kind == "i":
        array[0, :] = -2.7
        expected[0, :] = -2.7
        assert_same(array[...], expected)


@pytest.mark.parametrize(
    ("selection", "value_shape"),
    [
        ((S(None, None, 2), S(None)), (6, 11)),  # selection is (7, 11)
        ((S(None), S(None)), (11, 13)),
        ((3, S(None)), (12,)),
        ((3, 4), (2,)),
        ((S(None, None, -3), S(1, None, 4)), (5, 2)),
    ],
    ids=repr,
)
def test_wrong_shaped_value_raises(selection, value_shape):
    metadata = v3_array((13, 11), (4, 3), "int32")
    expected = sample_data((13, 11), "int32")
    store = stored(metadata, expected)
    value = np.ones(value_shape, dtype="int32")
    with pytest.raises(ValueError):
        expected.copy()[selection] = value  # numpy refuses too
    with pytest.raises(ValueError):
        zarrlib.write_region(metadata, store, "a", selection, value)
    with pytest.raises(ValueError):
        zarrlib.Array.open(store, "a")[selection] = value
    assert_same(zarrlib.read_region(metadata, store, "a", Ellipsis), expected)


# --- errors ---------------------------------------------------------------------------------

BAD_INDEX = [
    ((13, 0), IndexError),
    ((0, 11), IndexError),
    ((-14, 0), IndexError),
    ((0, -12), IndexError),
    (13, IndexError),
    ((1, 2, 3), IndexError),
    ((1, 2, E, 3), IndexError),
    ((E, E), IndexError),
    ((E, 1, E), IndexError),
    # Integer arrays, boolean masks and None are numpy's advanced indexing:
    # test_indexed_selections.py checks them against numpy.
    ([1, 20], IndexError),
    ((np.array([1, 2]), 0, 0), IndexError),
    ((0, np.ones(12, bool)), IndexError),
    (1.0, TypeError),
    ((0, 2.5), TypeError),
    ((S(None, None, 0), 1), ValueError),
    ((1, S(1, 5, 0)), ValueError),
]


@pytest.mark.parametrize(("selection", "error"), BAD_INDEX, ids=repr)
def test_bad_selection_raises(selection, error):
    metadata = v3_array((13, 11), (4, 3), "int32")
    data = sample_data((13, 11), "int32")
    store = stored(metadata, data)
    array = zarrlib.Array.open(store, "a")
    with pytest.raises(error):
        zarrlib.read_region(metadata, store, "a", selection)
    with pytest.raises(error):
        array[selection]
    with pytest.raises(error):
        zarrlib.write_region(metadata, store, "a", selection, 0)
    with pytest.raises(error):
        array[selection] = 0
    assert_same(array[...], data)


def test_zero_d_array_rejects_indices():
    metadata = v3_array((), (), "int32")
    store = stored(metadata, np.array(5, dtype="int32"))
    with pytest.raises(IndexError):
        zarrlib.read_region(metadata, store, "a", 0)
    with pytest.raises(IndexError):
        zarrlib.read_region(metadata, store, "a", (S(None),))
    with pytest.raises(IndexError):
        zarrlib.write_region(metadata, store, "a", 0, 1)


# --- out= -----------------------------------------------------------------------------------


@pytest.fixture
def grid():
    metadata = v3_array((13, 11), (4, 3), "int32")
    data = sample_data((13, 11), "int32")
    return metadata, stored(metadata, data), data


@pytest.mark.parametrize("selection", [E, (S(8, 1, -3), S(None, None, 4)), (3, S(None, None, -1)), (2, 3)], ids=repr)
def test_out_contiguous_is_filled_and_returned(grid, selection):
    metadata, store, data = grid
    expected = np.asarray(data[selection])
    out = np.full(expected.shape, -1, dtype="int32")
    result = zarrlib.read_region(metadata, store, "a", selection, out=out)
    assert result is out
    assert_same(out, expected)
    out2 = np.full(expected.shape, -1, dtype="int32")
    result = zarrlib.Array.open(store, "a").read(selection, out=out2)
    assert result is out2
    assert_same(out2, expected)


@pytest.mark.parametrize("selection", [E, (S(8, 1, -3), S(None, None, 4)), (S(None, None, -2), S(1, 9))], ids=repr)
def test_out_non_contiguous_view_is_filled(grid, selection):
    metadata, store, data = grid
    expected = data[selection]
    big = np.full((40, 40), -1, dtype="int32")
    rows, cols = expected.shape
    view = big[3 : 3 + 2 * rows : 2, 30 : 30 - cols : -1]
    assert view.shape == expected.shape and not view.flags.c_contiguous
    result = zarrlib.read_region(metadata, store, "a", selection, out=view)
    assert result is view
    assert_same(view, expected)
    # Nothing outside the view was touched.
    mask = np.ones(big.shape, bool)
    mask[3 : 3 + 2 * rows : 2, 30 : 30 - cols : -1] = False
    assert (big[mask] == -1).all()
    # A Fortran-ordered out as well.
    fortran = np.zeros(expected.shape, dtype="int32", order="F")
    assert zarrlib.Array.open(store, "a").read(selection, out=fortran) is fortran
    assert_same(fortran, expected)


@pytest.mark.parametrize(
    "out",
    [
        np.empty((4, 4), "int32"),
        np.empty((3,), "int32"),
        np.empty((4, 3, 1), "int32"),
        np.empty((4, 3), "int64"),
        np.empty((4, 3), "uint32"),
        np.empty((4, 3), "float32"),
    ],
    ids=lambda o: f"{o.shape}-{o.dtype}",
)
def test_out_wrong_shape_or_dtype(grid, out):
    metadata, store, _ = grid
    selection = (S(None, 8, 2), S(1, None, 4))  # (4, 3) int32
    with pytest.raises(ValueError):
        zarrlib.read_region(metadata, store, "a", selection, out=out)
    with pytest.raises(ValueError):
        zarrlib.Array.open(store, "a").read(selection, out=out)


def test_out_read_only(grid):
    metadata, store, data = grid
    out = np.zeros((13, 11), "int32")
    out.flags.writeable = False
    with pytest.raises(ValueError):
        zarrlib.read_region(metadata, store, "a", E, out=out)
    assert (out == 0).all()
    view = np.zeros((4, 3), "int32")[:]
    view.flags.writeable = False
    with pytest.raises(ValueError):
        zarrlib.Array.open(store, "a").read((S(None, 8, 2), S(1, None, 4)), out=view)


# --- only the chunks holding selected elements are touched ----------------------------------


def touched_chunks(selection, shape, chunks) -> tuple[int, int]:
    """(chunks holding a selected element, those of them the selection covers only in part),
    computed from the selected index sets per axis."""
    per_axis = selected_indices(selection, shape)
    touched = partial = 0
    grid = [range(-(-extent // size)) for extent, size in zip(shape, chunks, strict=True)]
    for coords in itertools.product(*grid):
        holds, whole = True, True
        for axis, c in enumerate(coords):
            lo, hi = c * chunks[axis], min((c + 1) * chunks[axis], shape[axis])
            picked = [i for i in per_axis[axis] if lo <= i < hi]
            if not picked:
                holds = False
                break
            if len(picked) != hi - lo:
                whole = False
        if holds:
            touched += 1
            partial += not whole
    return touched, partial


COUNT_CASES = [
    ((23, 17), (4, 5), (S(None, None, 6), S(None, None, 7))),
    ((23, 17), (4, 5), (S(None, None, -6), S(1, None, 9))),
    ((23, 17), (4, 5), (S(21, 2, -9), S(16, None, -11))),
    ((30, 20, 12), (4, 3, 5), (S(1, None, 7), S(None, None, -5), S(2, None, 6))),
    ((100,), (8,), (S(3, None, 17),)),
    ((100,), (8,), (S(None, None, -9),)),
]


@pytest.mark.parametrize(("shape", "chunks", "selection"), COUNT_CASES, ids=repr)
def test_strided_read_reads_only_touched_chunks(metered_store, shape, chunks, selection):
    store = metered_store
    metadata = v3_array(shape, chunks, "int32", compressor="zstd")
    data = sample_data(shape, "int32")
    stored(metadata, data, store)
    touched, _ = touched_chunks(selection, shape, chunks)
    all_chunks = int(np.prod([-(-e // c) for e, c in zip(shape, chunks, strict=True)]))
    assert 0 < touched < all_chunks
    before = store.metrics()
    result = zarrlib.read_region(metadata, store, "a", selection)
    after = store.metrics()
    assert_same(result, data[selection])
    assert after["reads"] - before["reads"] == touched
    assert after["writes"] == before["writes"]


@pytest.mark.parametrize(("shape", "chunks", "selection"), COUNT_CASES, ids=repr)
def test_strided_write_touches_only_touched_chunks(metered_store, shape, chunks, selection):
    store = metered_store
    metadata = v3_array(shape, chunks, "int32", compressor="zstd")
    expected = sample_data(shape, "int32")
    stored(metadata, expected, store)
    touched, partial = touched_chunks(selection, shape, chunks)
    # Every step exceeds the chunk size, so no chunk is covered whole: each is read and rewritten.
    assert partial == touched
    target_shape = expected[selection].shape
    value = -(np.arange(int(np.prod(target_shape))) + 1).astype("int32").reshape(target_shape)
    before = store.metrics()
    zarrlib.write_region(metadata, store, "a", selection, value)
    after = store.metrics()
    assert after["writes"] - before["writes"] == touched
    assert after["reads"] - before["reads"] == partial
    assert after["keys_erased"] == before["keys_erased"]
    expected[selection] = value
    assert_same(zarrlib.read_region(metadata, store, "a", Ellipsis), expected)


def test_touched_chunks_helper():
    """The independent count itself, on a hand-worked case."""
    # Rows 0, 6, 12, 18 -> chunks 0, 1, 3, 4 of 6; columns 0, 7, 14 -> chunks 0, 1, 2 of 4.
    assert touched_chunks((S(None, None, 6), S(None, None, 7)), (23, 17), (4, 5)) == (12, 12)
    # A whole-array selection covers every chunk entirely.
    assert touched_chunks((S(None), S(None)), (23, 17), (4, 5)) == (24, 0)


# --- sharded and v2 layouts -----------------------------------------------------------------

LAYOUT_SELECTIONS = [
    E,
    (S(None, None, 3), S(None, None, 4)),
    (S(None, None, -5), S(1, None, 7)),
    (S(17, 2, -4), S(None, None, -1)),
    (4, S(None, None, 5)),
    (S(2, 19, 9), -3),
]


def layout_metadata(layout):
    if layout == "v3_sharded":
        return v3_sharded((20, 18), (8, 6), (4, 3), "uint16")
    if layout == "v2_F_slash":
        return v2_array((20, 18), (6, 4), "<u2", order="F", separator="/")
    if layout == "v2_F_slash_zlib":
        return v2_array((20, 18), (6, 4), "<i4", order="F", separator="/", compressor="zlib")
    raise AssertionError(layout)


@pytest.mark.parametrize("layout", ["v3_sharded", "v2_F_slash", "v2_F_slash_zlib"])
@pytest.mark.parametrize("selection", LAYOUT_SELECTIONS, ids=repr)
def test_layouts_read_strided(store, layout, selection):
    metadata = layout_metadata(layout)
    dtype = np.dtype(metadata.get("dtype", metadata.get("data_type")))
    data = sample_data((20, 18), dtype)
    stored(metadata, data, store)
    assert_same(zarrlib.read_region(metadata, store, "a", selection), data[selection])
    assert_same(zarrlib.Array.open(store, "a")[selection], data[selection])


@pytest.mark.parametrize("layout", ["v3_sharded", "v2_F_slash", "v2_F_slash_zlib"])
def test_layouts_write_strided(store, layout):
    metadata = layout_metadata(layout)
    dtype = np.dtype(metadata.get("dtype", metadata.get("data_type"))).newbyteorder("=")
    expected = sample_data((20, 18), dtype)
    stored(metadata, expected, store)
    array = zarrlib.Array.open(store, "a")
    for n, selection in enumerate(LAYOUT_SELECTIONS[1:], start=1):
        shape = expected[selection].shape
        value = (1000 * n + np.arange(int(np.prod(shape)))).astype(dtype).reshape(shape)
        if n % 2:
            zarrlib.write_region(metadata, store, "a", selection, value)
        else:
            array[selection] = value
        expected[selection] = value
        assert_same(array[...], expected)
    assert_same(zarrlib.read_region(metadata, store, "a", Ellipsis), expected)


# --- odd shapes and extreme slice values ----------------------------------------------------


@pytest.mark.parametrize(("shape", "chunks"), [((0, 5), (2, 2)), ((3, 0, 2), (1, 1, 1)), ((5,), (10,))], ids=repr)
@pytest.mark.parametrize("selection", [E, (S(None, None, -1),), (S(1, None, 3),), (E, S(4, 0, -2))], ids=repr)
def test_empty_and_oversized_chunk_arrays(shape, chunks, selection):
    metadata = v3_array(shape, chunks, "int32")
    expected = sample_data(shape, "int32")
    store = stored(metadata, expected)
    assert_same(zarrlib.read_region(metadata, store, "a", selection), expected[selection])
    value = np.full(expected[selection].shape, -9, "int32")
    zarrlib.write_region(metadata, store, "a", selection, value)
    expected[selection] = value
    assert_same(zarrlib.read_region(metadata, store, "a", E), expected)


@pytest.mark.parametrize(
    "selection",
    [S(None, None, 10**18), S(None, None, -(10**18)), S(-(10**20), 10**20, 3), S(10**20, None, -4)],
    ids=repr,
)
def test_huge_slice_bounds_and_steps(selection):
    metadata = v3_array((10,), (3,), "int32")
    data = sample_data((10,), "int32")
    store = stored(metadata, data)
    assert_same(zarrlib.read_region(metadata, store, "a", selection), data[selection])


def test_step_beyond_int64_selects_like_numpy():
    metadata = v3_array((10,), (3,), "int32")
    data = sample_data((10,), "int32")
    store = stored(metadata, data)
    assert_same(zarrlib.read_region(metadata, store, "a", S(None, None, 2**63)), data[:: 2**63])
