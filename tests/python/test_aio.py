"""zarrlib.aio: coroutine mirrors of the functional API, used concurrently with asyncio.gather."""

from __future__ import annotations

import asyncio
import inspect

import numpy as np
import pytest

import zarrlib
from layouts import v2_array, v3_array
from zarrlib import aio, functional

FUNCTIONAL_NAMES = {
    "create_new_group",
    "create_overwrite_group",
    "create_new_array",
    "create_overwrite_array",
    "read_metadata",
    "delete_node",
    "list_children",
    "read_chunk",
    "read_encoded_chunk",
    "write_chunk",
    "delete_chunk",
    "read_region",
    "write_region",
    "resize_array",
    "append",
    "update_attributes",
    "consolidate_metadata",
}


def test_all_lists_the_functional_api():
    assert set(aio.__all__) == FUNCTIONAL_NAMES
    assert len(aio.__all__) == len(set(aio.__all__))
    defined_in_functional = {
        name
        for name, obj in vars(functional).items()
        if inspect.isfunction(obj) and obj.__module__ == functional.__name__ and not name.startswith("_")
    }
    assert set(aio.__all__) == defined_in_functional


@pytest.mark.parametrize("name", sorted(FUNCTIONAL_NAMES))
def test_each_is_a_coroutine_function_mirroring_zarrlib(name):
    mirrored = getattr(aio, name)
    assert inspect.iscoroutinefunction(mirrored)
    assert mirrored.__name__ == name
    assert mirrored.__wrapped__ is getattr(zarrlib, name)
    assert inspect.signature(mirrored) == inspect.signature(getattr(zarrlib, name))
    assert f"zarrlib.{name}" in mirrored.__doc__
    # Calling it makes a coroutine, not a result.
    coroutine = mirrored()
    assert inspect.iscoroutine(coroutine)
    coroutine.close()


@pytest.fixture(params=["memory", "local"])
def any_store(request, tmp_path):
    if request.param == "memory":
        return zarrlib.MemoryStore()
    return zarrlib.open_store(tmp_path / "x.zarr")


SHAPE, CHUNKS = (64, 60), (8, 6)


def block(i: int, j: int, r: int = 0) -> np.ndarray:
    return (1 + 10_000 * r + 100 * i + j + np.arange(48)).astype("int32").reshape(8, 6)


def test_gather_region_writes_and_reads(any_store):
    metadata = v3_array(SHAPE, CHUNKS, "int32")
    coords = [(i, j) for i in range(8) for j in range(10)]

    def region(i, j):
        return (slice(8 * i, 8 * i + 8), slice(6 * j, 6 * j + 6))

    async def main():
        await aio.create_new_array(metadata, any_store, "a")
        results = await asyncio.gather(
            *(aio.write_region(metadata, any_store, "a", region(i, j), block(i, j)) for i, j in coords)
        )
        assert results == [None] * len(coords)
        reads = await asyncio.gather(*(aio.read_region(metadata, any_store, "a", region(i, j)) for i, j in coords))
        for (i, j), got in zip(coords, reads, strict=True):
            np.testing.assert_array_equal(got, block(i, j))
        # Strided reads spanning many chunks, concurrently, against the whole array.
        whole = await aio.read_region(metadata, any_store, "a", Ellipsis)
        selections = [(slice(k, None, 9), slice(None, None, -(k + 1))) for k in range(16)]
        strided = await asyncio.gather(*(aio.read_region(metadata, any_store, "a", s) for s in selections))
        return whole, selections, strided

    whole, selections, strided = asyncio.run(main())
    expected = np.zeros(SHAPE, "int32")
    for i, j in coords:
        expected[8 * i : 8 * i + 8, 6 * j : 6 * j + 6] = block(i, j)
    np.testing.assert_array_equal(whole, expected)
    for selection, got in zip(selections, strided, strict=True):
        np.testing.assert_array_equal(got, expected[selection])
    np.testing.assert_array_equal(zarrlib.read_region(metadata, any_store, "a", Ellipsis), expected)


def test_gather_strided_writes_into_shared_chunks(any_store):
    """Concurrent coroutines writing disjoint elements (a[k::8]) of the same chunks."""
    metadata = v3_array((200, 30), (16, 7), "int32")

    async def main():
        await aio.create_new_array(metadata, any_store, "a")
        for r in range(3):
            await asyncio.gather(
                *(aio.write_region(metadata, any_store, "a", slice(k, None, 8), 10 * r + k + 1) for k in range(8))
            )
        return await aio.read_region(metadata, any_store, "a", Ellipsis)

    got = asyncio.run(main())
    expected = np.zeros((200, 30), "int32")
    for k in range(8):
        expected[k::8] = 20 + k + 1
    np.testing.assert_array_equal(got, expected)


def test_gather_chunk_api_and_hierarchy(any_store):
    metadata = v2_array((32, 24), (8, 6), "<i4", compressor="zlib")

    async def main():
        await aio.create_new_group({"zarr_format": 2, "attributes": {"k": 1}}, any_store, "")
        await aio.create_new_array(metadata, any_store, "g/a")
        await aio.create_overwrite_group({"zarr_format": 2}, any_store, "g")  # drops g/a
        await aio.create_overwrite_array(metadata, any_store, "g/a")
        coords = [(i, j) for i in range(4) for j in range(4)]
        await asyncio.gather(*(aio.write_chunk(metadata, any_store, "g/a", c, block(*c)) for c in coords))
        chunks = await asyncio.gather(*(aio.read_chunk(metadata, any_store, "g/a", c) for c in coords))
        for c, got in zip(coords, chunks, strict=True):
            np.testing.assert_array_equal(got, block(*c))
        encoded = await asyncio.gather(*(aio.read_encoded_chunk(metadata, any_store, "g/a", c) for c in coords))
        assert all(isinstance(e, bytes) and e for e in encoded)
        await asyncio.gather(*(aio.delete_chunk(metadata, any_store, "g/a", c) for c in coords[:8]))
        deleted = await aio.read_encoded_chunk(metadata, any_store, "g/a", coords[0])
        zero = await aio.read_chunk(metadata, any_store, "g/a", coords[0])
        root_meta, children, array_meta = await asyncio.gather(
            aio.read_metadata(any_store, ""), aio.list_children(any_store, "g"), aio.read_metadata(any_store, "g/a")
        )
        whole = await aio.read_region(metadata, any_store, "g/a", Ellipsis)
        await aio.delete_node(any_store, "g")
        after = await aio.list_children(any_store, "")
        return deleted, zero, root_meta, children, array_meta, whole, after

    deleted, zero, root_meta, children, array_meta, whole, after = asyncio.run(main())
    assert deleted is None
    np.testing.assert_array_equal(zero, np.zeros((8, 6), "int32"))
    assert root_meta["zarr_format"] == 2 and root_meta["attributes"] == {"k": 1}
    assert [path for path, _ in children] == ["g/a"]
    assert array_meta["shape"] == [32, 24] and array_meta["chunks"] == [8, 6]
    expected = np.zeros((32, 24), "int32")
    for i in range(4):
        for j in range(4):
            if (i, j) not in [(a, b) for a in range(2) for b in range(4)]:
                expected[8 * i : 8 * i + 8, 6 * j : 6 * j + 6] = block(i, j)
    np.testing.assert_array_equal(whole, expected)
    assert after == []


def test_read_region_out(any_store):
    metadata = v3_array((20, 20), (6, 6), "int32")
    data = np.arange(400, dtype="int32").reshape(20, 20)
    zarrlib.create_new_array(metadata, any_store, "a")
    zarrlib.write_region(metadata, any_store, "a", Ellipsis, data)
    out = np.empty((7, 10), "int32")

    result = asyncio.run(
        aio.read_region(metadata, any_store, "a", (slice(None, None, 3), slice(None, None, -2)), out=out)
    )
    assert result is out
    np.testing.assert_array_equal(out, data[::3, ::-2])


def test_errors_propagate(any_store):
    metadata = v3_array((20, 20), (6, 6), "int32")
    zarrlib.create_new_array(metadata, any_store, "a")

    with pytest.raises(zarrlib.NodeNotFoundError):
        asyncio.run(aio.read_metadata(any_store, "missing"))
    with pytest.raises(KeyError):
        asyncio.run(aio.read_metadata(any_store, "missing/deeper"))
    with pytest.raises(zarrlib.NodeNotFoundError):
        asyncio.run(aio.delete_node(any_store, "missing"))
    with pytest.raises(zarrlib.NodeExistsError):
        asyncio.run(aio.create_new_array(metadata, any_store, "a"))
    with pytest.raises(IndexError):
        asyncio.run(aio.read_region(metadata, any_store, "a", (20, 0)))
    with pytest.raises(TypeError):
        asyncio.run(aio.write_region(metadata, any_store, "a", 1.5, 0))
    with pytest.raises(ValueError):
        asyncio.run(aio.write_region(metadata, any_store, "a", slice(None), np.ones((3, 3))))
    with pytest.raises(zarrlib.OutOfBoundsError):
        asyncio.run(aio.read_chunk(metadata, any_store, "a", (4, 0)))


def test_errors_in_gather_do_not_disturb_others(any_store):
    metadata = v3_array((20, 20), (6, 6), "int32")
    zarrlib.create_new_array(metadata, any_store, "a")
    zarrlib.write_region(metadata, any_store, "a", Ellipsis, 5)

    async def main():
        return await asyncio.gather(
            aio.read_region(metadata, any_store, "a", (slice(0, 6), slice(0, 6))),
            aio.read_metadata(any_store, "nope"),
            aio.read_region(metadata, any_store, "a", (99, 0)),
            aio.write_region(metadata, any_store, "a", (slice(6, 12), slice(None, None, 7)), 9),
            aio.read_region(metadata, any_store, "a", (slice(None), slice(None, None, 7))),
            return_exceptions=True,
        )

    first, missing, out_of_range, written, _ = asyncio.run(main())
    np.testing.assert_array_equal(first, np.full((6, 6), 5, "int32"))
    assert isinstance(missing, zarrlib.NodeNotFoundError)
    assert isinstance(out_of_range, IndexError)
    assert written is None
    expected = np.full((20, 20), 5, "int32")
    expected[6:12, ::7] = 9
    np.testing.assert_array_equal(zarrlib.read_region(metadata, any_store, "a", Ellipsis), expected)


def test_the_data_model_mirrors_run(tmp_path):
    async def main():
        metadata = v3_array((4,), (2,), "int32")
        await aio.create_new_group({"zarr_format": 3, "node_type": "group"}, tmp_path, "")
        await aio.create_new_array(metadata, tmp_path, "a")
        metadata = await aio.append(metadata, tmp_path, "a", np.arange(3, dtype="int32"))
        metadata = await aio.resize_array(metadata, tmp_path, "a", (6,))
        await aio.update_attributes(tmp_path, "a", {"k": 1})
        await aio.consolidate_metadata(tmp_path, "")
        return metadata, await aio.read_region(metadata, tmp_path, "a", ...)

    metadata, data = asyncio.run(main())
    assert metadata["shape"] == [6]
    np.testing.assert_array_equal(data, [0, 0, 0, 0, 0, 1])  # 4 fill values, then 0 1 2, cut to 6
    assert zarrlib.read_metadata(tmp_path, "a")["attributes"] == {"k": 1}
