"""The backend registry: looking backends up, registering them, and routing functional calls."""

from __future__ import annotations

import uuid

import numpy as np
import pytest

import zarrlib
from layouts import v3_array
from zarrlib import backends, native_backend

GROUP = {"zarr_format": 3, "node_type": "group"}


def unique_name(prefix: str = "test") -> str:
    return f"{prefix}-{uuid.uuid4().hex}"


class Recording:
    """A backend that records each call's function name and delegates to the native backend."""

    def __init__(self):
        self.calls: list[str] = []
        for function in backends.FUNCTIONS:
            setattr(self, function, self._recorder(function))

    def _recorder(self, function):
        target = getattr(native_backend, function)

        def call(*args, **kwargs):
            self.calls.append(function)
            return target(*args, **kwargs)

        return call


# --- lookup -------------------------------------------------------------------------------


def test_default_backend_is_native():
    assert backends.DEFAULT == "native"
    assert zarrlib.get_backend() is native_backend
    assert zarrlib.get_backend("native") is native_backend
    assert zarrlib.get_backend(None) is zarrlib.get_backend("native")
    assert "native" in zarrlib.backend_names()
    for function in backends.FUNCTIONS:
        assert callable(getattr(native_backend, function))


def test_unknown_backend_lists_the_names():
    with pytest.raises(ValueError) as excinfo:
        zarrlib.get_backend("nope")
    message = str(excinfo.value)
    assert "nope" in message
    names = zarrlib.backend_names()
    assert names == sorted(names)
    for name in names:
        assert name in message


def test_unknown_backend_in_a_functional_call():
    with pytest.raises(ValueError, match="no backend named"):
        zarrlib.create_new_group(GROUP, zarrlib.MemoryStore(), "g", backend="nope")


def test_functional_api_covers_the_backend_functions():
    for function in backends.FUNCTIONS:
        assert callable(getattr(zarrlib, function)), function


# --- registering --------------------------------------------------------------------------


def test_register_object_without_functions():
    name = unique_name()
    with pytest.raises(TypeError):
        zarrlib.register_backend(name, object())
    assert name not in zarrlib.backend_names()


def test_register_object_missing_one_function():
    partial = Recording()
    del partial.write_region
    name = unique_name()
    with pytest.raises(TypeError, match="write_region"):
        zarrlib.register_backend(name, partial)
    assert name not in zarrlib.backend_names()


def test_register_object_with_a_function_that_is_not_callable():
    broken = Recording()
    broken.read_chunk = "not a function"
    with pytest.raises(TypeError, match="read_chunk"):
        zarrlib.register_backend(unique_name(), broken)


@pytest.mark.parametrize("name", ["", None, 3, b"bytes"])
def test_register_invalid_name(name):
    before = zarrlib.backend_names()
    with pytest.raises(ValueError):
        zarrlib.register_backend(name, Recording())
    assert zarrlib.backend_names() == before


def test_register_and_get():
    recording = Recording()
    name = unique_name()
    zarrlib.register_backend(name, recording)
    assert zarrlib.get_backend(name) is recording
    assert name in zarrlib.backend_names()
    assert zarrlib.get_backend() is native_backend  # the default is unchanged


def test_a_module_is_a_backend():
    name = unique_name()
    zarrlib.register_backend(name, native_backend)
    assert zarrlib.get_backend(name) is native_backend


# --- routing ------------------------------------------------------------------------------


def exercise(store, backend):
    """Every functional function once, through `backend`; checks the results."""
    metadata = v3_array((8, 8), (4, 4))
    zarrlib.create_new_group(GROUP, store, "", backend=backend)
    zarrlib.create_overwrite_group(GROUP, store, "g", backend=backend)
    zarrlib.create_new_array(metadata, store, "a", backend=backend)
    zarrlib.create_overwrite_array(metadata, store, "g/b", backend=backend)
    assert zarrlib.read_metadata(store, "a", backend=backend)["shape"] == [8, 8]
    assert [path for path, _ in zarrlib.list_children(store, "", backend=backend)] == ["a", "g"]
    chunk = np.arange(16, dtype="uint16").reshape(4, 4)
    zarrlib.write_chunk(metadata, store, "a", (0, 1), chunk, backend=backend)
    np.testing.assert_array_equal(zarrlib.read_chunk(metadata, store, "a", (0, 1), backend=backend), chunk)
    assert zarrlib.read_encoded_chunk(metadata, store, "a", (0, 1), backend=backend) is not None
    zarrlib.delete_chunk(metadata, store, "a", (0, 1), backend=backend)
    assert zarrlib.read_encoded_chunk(metadata, store, "a", (0, 1), backend=backend) is None
    zarrlib.write_region(metadata, store, "a", (slice(2, 6), 3), 7, backend=backend)
    assert (zarrlib.read_region(metadata, store, "a", (slice(2, 6), 3), backend=backend) == 7).all()
    grown = zarrlib.resize_array(metadata, store, "a", (8, 10), backend=backend)
    assert grown["shape"] == [8, 10]
    assert zarrlib.append(grown, store, "a", np.ones((1, 10)), backend=backend)["shape"] == [9, 10]
    assert zarrlib.update_attributes(store, "a", {"k": 1}, backend=backend)["attributes"] == {"k": 1}
    assert zarrlib.consolidate_metadata(store, "", backend=backend)["node_type"] == "group"
    zarrlib.delete_node(store, "g", backend=backend)
    assert zarrlib.node_kind(store, "g") is None


EXPECTED_CALLS = [
    "create_new_group",
    "create_overwrite_group",
    "create_new_array",
    "create_overwrite_array",
    "read_metadata",
    "list_children",
    "write_chunk",
    "read_chunk",
    "read_encoded_chunk",
    "delete_chunk",
    "read_encoded_chunk",
    "write_region",
    "read_region",
    "resize_array",
    "append",
    "update_attributes",
    "consolidate_metadata",
    "delete_node",
]


def test_calls_reach_a_backend_named(store):
    recording = Recording()
    name = unique_name()
    zarrlib.register_backend(name, recording)
    exercise(store, name)
    assert recording.calls == EXPECTED_CALLS
    assert set(recording.calls) == set(backends.FUNCTIONS)


def test_calls_reach_a_backend_passed_as_an_object(store):
    recording = Recording()  # not registered: an object needs no name
    exercise(store, recording)
    assert recording.calls == EXPECTED_CALLS


def test_calls_without_backend_do_not_reach_others(store):
    recording = Recording()
    zarrlib.register_backend(unique_name(), recording)
    exercise(store, None)
    assert recording.calls == []


def test_arguments_reach_the_backend_unchanged():
    seen = []

    class Spy(Recording):
        def __init__(self):
            super().__init__()
            original = self.read_chunk

            def read_chunk(metadata, store, path, chunk_coords, *, out=None):
                seen.append((metadata, store, path, chunk_coords, out))
                return original(metadata, store, path, chunk_coords, out=out)

            self.read_chunk = read_chunk

    spy = Spy()
    store = zarrlib.MemoryStore()
    metadata = v3_array((4,), (2,), fill_value=5)
    out = np.empty(2, "uint16")
    result = zarrlib.read_chunk(metadata, store, "x", (1,), out=out, backend=spy)
    assert result is out
    assert (out == 5).all()
    assert len(seen) == 1
    assert seen[0][0] is metadata and seen[0][1] is store and seen[0][2] == "x"
    assert seen[0][3] == (1,) and seen[0][4] is out


def test_errors_come_through_the_backend():
    recording = Recording()
    with pytest.raises(zarrlib.NodeNotFoundError):
        zarrlib.read_metadata(zarrlib.MemoryStore(), "missing", backend=recording)
    assert recording.calls == ["read_metadata"]


def test_registering_a_name_again_replaces_the_backend():
    first, second = Recording(), Recording()
    name = unique_name()
    zarrlib.register_backend(name, first)
    zarrlib.register_backend(name, second)  # registering again replaces
    assert zarrlib.get_backend(name) is second
    assert zarrlib.backend_names().count(name) == 1
