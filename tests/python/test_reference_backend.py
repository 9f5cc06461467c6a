"""The reference backend (zarr-python alone): registration and the stores it accepts."""

from __future__ import annotations

import numpy as np
import pytest
import zarr

import zarrlib
from layouts import v2_array, v3_array
from zarrlib import reference_backend

GROUP = {"zarr_format": 3, "node_type": "group"}


def test_reference_is_registered_on_first_use():
    assert "reference" in zarrlib.backend_names()
    assert zarrlib.get_backend("reference") is reference_backend


def test_it_takes_zarr_python_stores_the_engine_cannot():
    store = zarr.storage.MemoryStore()
    metadata = v3_array([6], [4])
    zarrlib.create_new_group(GROUP, store, "", backend="reference")
    zarrlib.create_new_array(metadata, store, "a", backend="reference")
    zarrlib.write_region(metadata, store, "a", slice(None, None, -1), np.arange(6), backend="reference")
    assert zarrlib.read_region(metadata, store, "a", ..., backend="reference").tolist() == [5, 4, 3, 2, 1, 0]
    assert zarrlib.list_children(store, "", backend="reference") == [("a", metadata)]
    # zarr-python's own API sees what the reference backend wrote.
    assert zarr.open_array(store, path="a", mode="r")[:].tolist() == [5, 4, 3, 2, 1, 0]


@pytest.mark.parametrize("form", ["path", "str", "store", "file-url"])
def test_local_stores_in_every_form_reach_the_same_directory(tmp_path, form):
    argument = {
        "path": tmp_path,
        "str": str(tmp_path),
        "store": zarrlib.open_store(tmp_path),
        "file-url": zarrlib.open_store(tmp_path.as_uri()),
    }[form]
    metadata = v2_array([5], [2], "<i2", order="F")
    zarrlib.create_new_array(metadata, argument, "a", backend="reference")
    zarrlib.write_region(metadata, argument, "a", ..., [1, 2, 3, 4, 5], backend="reference")
    assert zarrlib.read_region(metadata, tmp_path, "a", ...).tolist() == [1, 2, 3, 4, 5]


def test_an_engine_memory_store_is_out_of_its_reach():
    with pytest.raises(TypeError, match="MemoryStore"):
        zarrlib.read_metadata(zarrlib.MemoryStore(), "", backend="reference")
    with pytest.raises(TypeError):
        zarrlib.read_metadata(42, "", backend="reference")


@pytest.mark.parametrize(
    "metadata, error",
    [
        ({"zarr_format": 3, "node_type": "array"}, zarrlib.InvalidMetadataError),
        ({"zarr_format": 4, "node_type": "array"}, zarrlib.UnsupportedError),
        ({"node_type": "array"}, zarrlib.InvalidMetadataError),
        ({**v3_array([4], [2]), "node_type": "group"}, zarrlib.InvalidMetadataError),
    ],
)
def test_bad_documents_get_the_engines_error_classes(tmp_path, metadata, error):
    for backend in ("native", "reference"):
        with pytest.raises(error):
            zarrlib.create_new_array(metadata, tmp_path, "a", backend=backend)


def test_node_semantics_match_the_engine(tmp_path):
    for backend in ("native", "reference"):
        root = tmp_path / backend
        zarrlib.create_new_group(GROUP, root, "", backend=backend)
        zarrlib.create_new_array(v3_array([4], [2]), root, "a", backend=backend)
        with pytest.raises(zarrlib.NodeExistsError):
            zarrlib.create_new_group(GROUP, root, "a", backend=backend)
        with pytest.raises(zarrlib.NodeKindError):
            zarrlib.create_new_group(GROUP, root, "a/b", backend=backend)
        with pytest.raises(zarrlib.NodeNotFoundError):
            zarrlib.delete_node(root, "missing", backend=backend)
        zarrlib.create_overwrite_group(GROUP, root, "a", backend=backend)
        assert zarrlib.read_metadata(root, "a", backend=backend) == GROUP
    native = zarrlib.list_children(tmp_path / "native", "", backend="reference")
    reference = zarrlib.list_children(tmp_path / "reference", "", backend="native")
    assert native == reference == [("a", GROUP)]
