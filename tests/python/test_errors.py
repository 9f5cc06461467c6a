"""The exception classes: their builtin bases, their status codes, and real failures raising them."""

from __future__ import annotations

import numpy as np
import pytest

import zarrlib
from layouts import v3_array
from zarrlib import _native, errors

ffi, lib = _native.ffi, _native.lib

#: The builtin each class is documented to derive from (beyond ZarrlibError).
BUILTIN_BASES = {
    errors.NodeNotFoundError: (KeyError, LookupError),
    errors.NodeExistsError: (FileExistsError, OSError),
    errors.OutOfBoundsError: (IndexError, LookupError),
    errors.InvalidArgumentError: (ValueError,),
    errors.InvalidHandleError: (ValueError,),
    errors.InvalidMetadataError: (ValueError,),
    errors.BufferSizeError: (ValueError,),
    errors.CorruptDataError: (ValueError,),
    errors.NodeKindError: (TypeError,),
    errors.UnsupportedError: (NotImplementedError, RuntimeError),
    errors.StorageError: (OSError,),
    errors.InternalError: (RuntimeError,),
    errors.PanicError: (RuntimeError,),
    errors.ReadOnlyError: (PermissionError,),
}

#: Every status the library defines, from the header's ZARRLIB_OK and ZARRLIB_ERR_* constants (so a
#: status added to the library without a Python class fails the tests below).
STATUSES = {name: getattr(lib, name) for name in dir(lib) if name == "ZARRLIB_OK" or name.startswith("ZARRLIB_ERR_")}
ERROR_CODES = sorted((code for name, code in STATUSES.items() if name != "ZARRLIB_OK"), reverse=True)


def status_name(code: int) -> str:
    return ffi.string(lib.zarrlib_status_name(code)).decode()


def library_message() -> str:
    """This thread's last error message, read straight from the library."""
    length = lib.zarrlib_last_error_length()
    buffer = ffi.new("char[]", max(length, 1))
    lib.zarrlib_last_error_message(buffer, length)
    return ffi.string(buffer).decode()


def assert_library_error(excinfo, cls):
    err = excinfo.value
    assert type(err) is cls
    assert err.status == status_name_to_code()[cls.status_name]
    assert str(err) == err.message == library_message()
    assert err.message  # the library said something
    return err


def status_name_to_code() -> dict[str, int]:
    return {status_name(code): code for code in STATUSES.values()}


# --- the classes --------------------------------------------------------------------------


def test_every_class_is_listed_with_its_builtin():
    assert set(errors.ERROR_CLASSES) == set(BUILTIN_BASES)


@pytest.mark.parametrize("cls", errors.ERROR_CLASSES, ids=lambda c: c.__name__)
def test_class_bases(cls):
    assert issubclass(cls, errors.ZarrlibError)
    assert issubclass(cls, Exception)
    for builtin in BUILTIN_BASES[cls]:
        assert issubclass(cls, builtin)
    err = cls("something went wrong", -1)
    assert isinstance(err, errors.ZarrlibError)
    for builtin in BUILTIN_BASES[cls]:
        assert isinstance(err, builtin)
    # Exported at the top level too.
    assert getattr(zarrlib, cls.__name__) is cls


@pytest.mark.parametrize("cls", errors.ERROR_CLASSES, ids=lambda c: c.__name__)
def test_str_is_the_plain_message(cls):
    message = "no node at 'a/b'"
    err = cls(message, -5)
    assert str(err) == message
    assert err.message == message
    assert err.status == -5
    # Caught as its builtin, it still reads as the message (KeyError would quote it).
    try:
        raise err
    except BUILTIN_BASES[cls][0] as caught:
        assert str(caught) == message


def test_key_error_is_not_quoted():
    err = errors.NodeNotFoundError("missing", -5)
    assert str(err) == "missing"
    assert str(KeyError("missing")) == "'missing'"  # what it would be without the override


def test_os_error_keeps_the_message():
    err = errors.StorageError("disk on fire", -10)
    assert str(err) == "disk on fire"
    assert err.errno is None


def test_status_names_are_the_librarys():
    assert STATUSES["ZARRLIB_OK"] == 0
    assert len(ERROR_CODES) >= 14  # the constants were found
    # One code per status, each named by the library as the header names it.
    assert len(set(STATUSES.values())) == len(STATUSES)
    for name, code in STATUSES.items():
        assert status_name(code) == name
    assert all(code < 0 for code in ERROR_CODES)
    names = {code: status_name(code) for code in STATUSES.values()}
    class_names = {cls.status_name for cls in errors.ERROR_CLASSES}
    assert len(class_names) == len(errors.ERROR_CLASSES)
    for cls in errors.ERROR_CLASSES:
        assert cls.status_name in names.values(), cls
        assert cls.status_name != "ZARRLIB_OK"
    # Every error code maps to its own class.
    assert class_names == {names[code] for code in ERROR_CODES}
    # Codes past the last are unknown to the library.
    assert status_name(min(ERROR_CODES) - 1) == "ZARRLIB_UNKNOWN_STATUS"
    assert status_name(1) == "ZARRLIB_UNKNOWN_STATUS"


@pytest.mark.parametrize("code", ERROR_CODES)
def test_error_for_status_maps_every_code(code):
    name = status_name(code)
    err = errors.error_for_status(code, name, "the message")
    assert type(err) is not errors.ZarrlibError
    assert type(err).status_name == name
    assert err.status == code
    assert str(err) == "the message"


def test_unknown_status_falls_back_to_the_base():
    err = errors.error_for_status(-99, "ZARRLIB_UNKNOWN_STATUS", "odd")
    assert type(err) is errors.ZarrlibError
    assert err.status == -99


def test_check_raises_the_class_for_the_status():
    for code in ERROR_CODES:
        with pytest.raises(errors.ZarrlibError) as excinfo:
            _native.check(code)
        assert type(excinfo.value).status_name == status_name(code)
        assert excinfo.value.status == code
    _native.check(0)


# --- real failures ------------------------------------------------------------------------

GROUP = {"zarr_format": 3, "node_type": "group"}


def test_missing_node(store):
    with pytest.raises(zarrlib.NodeNotFoundError) as excinfo:
        zarrlib.read_metadata(store, "nowhere/x")
    err = assert_library_error(excinfo, errors.NodeNotFoundError)
    assert "nowhere/x" in err.message
    assert isinstance(err, KeyError)


def test_existing_node(store):
    zarrlib.create_new_group(GROUP, store, "g")
    with pytest.raises(FileExistsError) as excinfo:
        zarrlib.create_new_group(GROUP, store, "g")
    assert_library_error(excinfo, errors.NodeExistsError)


def test_array_open_on_a_group(store):
    zarrlib.create_new_group(GROUP, store, "g")
    with pytest.raises(TypeError) as excinfo:
        zarrlib.Array.open(store, "g")
    assert_library_error(excinfo, errors.NodeKindError)


@pytest.mark.parametrize("child", ["group", "array"])
def test_node_inside_an_array(store, child):
    metadata = v3_array((4,), (2,))
    zarrlib.create_new_array(metadata, store, "a")
    with pytest.raises(zarrlib.NodeKindError) as excinfo:
        if child == "group":
            zarrlib.create_new_group(GROUP, store, "a/b")
        else:
            zarrlib.create_new_array(metadata, store, "a/b")
    assert_library_error(excinfo, errors.NodeKindError)
    assert zarrlib.node_kind(store, "a/b") is None


def test_invalid_metadata(store):
    with pytest.raises(ValueError) as excinfo:
        zarrlib.create_new_array({"zarr_format": 3, "node_type": "array"}, store, "a")
    assert_library_error(excinfo, errors.InvalidMetadataError)
    assert zarrlib.node_kind(store, "a") is None


def test_unknown_codec(store):
    metadata = v3_array((4,), (2,), compressor=None)
    metadata["codecs"].append({"name": "no_such_codec_xyz"})
    with pytest.raises(NotImplementedError) as excinfo:
        zarrlib.create_new_array(metadata, store, "a")
    err = assert_library_error(excinfo, errors.UnsupportedError)
    assert "no_such_codec_xyz" in err.message
    assert zarrlib.node_kind(store, "a") is None


def test_unsupported_zarr_format(store):
    metadata = v3_array((4,), (2,))
    metadata["zarr_format"] = 4
    with pytest.raises(zarrlib.UnsupportedError) as excinfo:
        zarrlib.create_new_array(metadata, store, "a")
    assert_library_error(excinfo, errors.UnsupportedError)


def test_unsupported_store_scheme():
    with pytest.raises(NotImplementedError) as excinfo:
        zarrlib.open_store("ftp://x")
    err = assert_library_error(excinfo, errors.UnsupportedError)
    assert "ftp" in err.message


def test_chunk_out_of_bounds(store):
    metadata = v3_array((8, 8), (4, 4))
    zarrlib.create_new_array(metadata, store, "a")
    with pytest.raises(IndexError) as excinfo:
        zarrlib.read_chunk(metadata, store, "a", (2, 0))
    assert_library_error(excinfo, errors.OutOfBoundsError)


def test_corrupt_chunk(tmp_path):
    root = tmp_path / "store.zarr"
    metadata = v3_array((8, 8), (4, 4))
    zarrlib.create_new_array(metadata, root, "a")
    data = np.arange(16, dtype="uint16").reshape(4, 4)
    zarrlib.write_chunk(metadata, root, "a", (0, 1), data)
    np.testing.assert_array_equal(zarrlib.read_chunk(metadata, root, "a", (0, 1)), data)
    chunk_file = root / "a" / "c" / "0" / "1"
    assert chunk_file.is_file()
    chunk_file.write_bytes(b"\x00garbage, not a zstd frame\xff" * 3)
    with pytest.raises(ValueError) as excinfo:
        zarrlib.read_chunk(metadata, root, "a", (0, 1))
    assert_library_error(excinfo, errors.CorruptDataError)


def test_invalid_path(store):
    with pytest.raises(ValueError) as excinfo:
        zarrlib.read_metadata(store, "a/../b")
    err = assert_library_error(excinfo, errors.InvalidArgumentError)
    assert "a/../b" in err.message


@pytest.mark.parametrize(
    "url_kind, option",
    [("memory", {"metrics": 1}), ("local", {"direct_io": "yes"}), ("local", {"file_handle_cache_size": -3})],
)
def test_store_option_of_the_wrong_type(tmp_path, url_kind, option):
    url = "memory://" if url_kind == "memory" else str(tmp_path)
    with pytest.raises(ValueError) as excinfo:
        zarrlib.open_store(url, **option)
    err = assert_library_error(excinfo, errors.InvalidArgumentError)
    assert next(iter(option)) in err.message
