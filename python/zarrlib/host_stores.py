"""Python objects as stores, through the engine's store callbacks.

:func:`callback_store` wraps a zarr-python ``Store`` or a ``Mapping[str, bytes]`` (a ``dict``,
an fsspec ``FSMap``) in a native store made with ``zarrlib_store_from_callbacks``: the engine
calls back into Python for each get, set, erase and listing. Callbacks run on the engine's
threads, concurrently; cffi takes the GIL for each one and the engine runs without it.

zarr-python's store methods are coroutines. A callback runs one to completion on an event loop
of its own thread (made once per thread), or, when that thread already runs a loop (a caller
inside ``asyncio.run`` or on zarr-python's own loop thread, blocked in the engine call), on
zarrlib's background loop thread, so a caller blocked in the engine never holds up its own
callbacks. The exception is a store whose client lives on zarr-python's event loop (an
``FsspecStore`` over an asynchronous filesystem such as s3fs that could not be rebuilt natively):
its coroutines run on that loop, as zarr-python runs them, so such a store must not be used
synchronously from that loop's own thread (``zarrlib.aio`` calls are fine).
"""

from __future__ import annotations

import asyncio
import atexit
import json
import os
import sys
import threading
import weakref
from collections.abc import Callable, Coroutine, Iterable, Mapping, MutableMapping
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from . import _native
from ._native import check, ffi, lib
from .stores import Store

if TYPE_CHECKING:
    from zarr.abc.store import Store as ZarrStore

#: ``length`` of a get callback that reads to the end of the value.
_TO_END = 2**64 - 1


class StoreIO(Protocol):
    """What a callback store does, in Python terms. Keys and prefixes are ``str``; a prefix is
    empty (the whole store) or ends with ``/``."""

    read_only: bool
    listable: bool

    def get(self, key: str, offset: int, length: int | None) -> Any:
        """The bytes (any contiguous buffer) of ``key``'s value from ``offset``, ``length`` of
        them (None: to the end), or None when the key has no value."""

    def size(self, key: str) -> int | None: ...

    def set(self, key: str, data: bytes) -> None: ...

    def erase(self, key: str) -> None: ...

    def erase_prefix(self, prefix: str) -> None: ...

    def keys(self, prefix: str) -> Iterable[str]:
        """Every key under ``prefix``."""


# --- running zarr-python's coroutines from the engine's threads ------------------------------

_thread_loops = threading.local()
# Every per-thread loop, closed at exit: left to the garbage collector during interpreter
# shutdown, a loop's close fails noisily ("Exception ignored ... Invalid file descriptor").
_made_loops: list[tuple[int, asyncio.AbstractEventLoop]] = []
_background: tuple[int, asyncio.AbstractEventLoop] | None = None
_background_lock = threading.Lock()


def _thread_loop() -> asyncio.AbstractEventLoop:
    loop: asyncio.AbstractEventLoop | None = getattr(_thread_loops, "loop", None)
    # A loop made before a fork holds the parent's selector: a forked child makes its own.
    if loop is None or getattr(_thread_loops, "pid", None) != os.getpid():
        loop = asyncio.new_event_loop()
        _thread_loops.loop, _thread_loops.pid = loop, os.getpid()
        with _background_lock:
            _made_loops.append((os.getpid(), loop))
    return loop


@atexit.register
def _close_loops() -> None:
    with _background_lock:
        for pid, loop in _made_loops:
            if pid == os.getpid() and not loop.is_running() and not loop.is_closed():
                loop.close()
        _made_loops.clear()


def _background_loop() -> asyncio.AbstractEventLoop:
    global _background
    with _background_lock:
        if _background is None or _background[0] != os.getpid():
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="zarrlib-store-loop", daemon=True).start()
            _background = (os.getpid(), loop)
        return _background[1]


def _on_zarr_loop(coroutine: Coroutine[Any, Any, Any]) -> Any:
    from zarr.core.sync import sync

    return sync(coroutine)


def _loop_bound(store: Any) -> bool:
    """Whether a zarr-python store works only on zarr-python's own event loop: an FsspecStore
    over an asynchronous filesystem (s3fs, gcsfs, HTTP...) keeps its client sessions there.
    Synchronous filesystems, which zarr-python wraps, work on any loop."""
    while hasattr(store, "_store"):  # a WrapperStore: what it wraps decides
        store = store._store
    fs = getattr(store, "fs", None)
    return bool(getattr(fs, "async_impl", False)) and type(fs).__name__ != "AsyncFileSystemWrapper"


def run(coroutine: Coroutine[Any, Any, Any]) -> Any:
    """Run a store coroutine to completion from synchronous code on any thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return _thread_loop().run_until_complete(coroutine)
    return asyncio.run_coroutine_threadsafe(coroutine, _background_loop()).result()


# --- the two kinds of Python store -----------------------------------------------------------


def holder(obj: Any, weak: bool) -> Callable[[], Any]:
    """A function returning ``obj``: holding it, or, when ``weak``, only weakly referencing it
    (then raising ``ReferenceError`` once it is gone)."""
    if not weak:
        return lambda: obj
    ref = weakref.ref(obj)
    name = type(obj).__name__

    def target() -> Any:
        value = ref()
        if value is None:
            raise ReferenceError(f"the {name} this store reads and writes has been garbage collected")
        return value

    return target


class ZarrStoreIO:
    """A zarr-python ``Store`` (any: memory, zip, wrappers, fsspec, obstore, a user's own)."""

    listable = True

    def __init__(self, store: ZarrStore, *, weak: bool = False):
        from zarr.core.buffer import default_buffer_prototype

        self._target = holder(store, weak)
        self.read_only = bool(store.read_only)
        self._prototype = default_buffer_prototype()
        self._run = _on_zarr_loop if _loop_bound(store) else run
        # Some stores (ZipStore) open only when asked to; zarr-python opens them on first use.
        if not getattr(store, "_is_open", True):
            self._run(store._ensure_open())

    @property
    def store(self) -> ZarrStore:
        store: ZarrStore = self._target()
        return store

    def get(self, key: str, offset: int, length: int | None) -> Any:
        from zarr.abc.store import OffsetByteRequest, RangeByteRequest

        byte_range: Any = None
        if length is not None:
            byte_range = RangeByteRequest(offset, offset + length)
        elif offset:
            byte_range = OffsetByteRequest(offset)
        buffer = self._run(self.store.get(key, self._prototype, byte_range))
        return None if buffer is None else np.ascontiguousarray(buffer.as_numpy_array())

    def size(self, key: str) -> int | None:
        try:
            return int(self._run(self.store.getsize(key)))
        except FileNotFoundError:
            return None

    def set(self, key: str, data: bytes) -> None:
        self._run(self.store.set(key, self._prototype.buffer.from_bytes(data)))

    def erase(self, key: str) -> None:
        self._run(self.store.delete(key))

    def erase_prefix(self, prefix: str) -> None:
        self._run(self.store.delete_dir(prefix))

    def keys(self, prefix: str) -> list[str]:
        async def collect() -> list[str]:
            return [key async for key in self.store.list_prefix(prefix)]

        keys: list[str] = self._run(collect())
        return keys


class MappingIO:
    """A ``Mapping`` of ``str`` keys to bytes-like values; read-only unless mutable."""

    listable = True

    def __init__(self, mapping: Mapping[str, Any], *, weak: bool = False):
        self._target = holder(mapping, weak)
        self.read_only = not isinstance(mapping, MutableMapping)

    @property
    def mapping(self) -> Mapping[str, Any]:
        mapping: Mapping[str, Any] = self._target()
        return mapping

    def get(self, key: str, offset: int, length: int | None) -> Any:
        try:
            value = memoryview(self.mapping[key]).cast("B")
        except KeyError:
            return None
        return value[offset:] if length is None else value[offset : offset + length]

    def size(self, key: str) -> int | None:
        try:
            return memoryview(self.mapping[key]).nbytes
        except KeyError:
            return None

    def _mutable(self) -> MutableMapping[str, Any]:
        assert isinstance(self.mapping, MutableMapping)
        return self.mapping

    def set(self, key: str, data: bytes) -> None:
        self._mutable()[key] = data

    def erase(self, key: str) -> None:
        try:
            del self._mutable()[key]
        except KeyError:
            pass

    def erase_prefix(self, prefix: str) -> None:
        for key in self.keys(prefix):
            self.erase(key)

    def keys(self, prefix: str) -> list[str]:
        # list() first: a dict's copy is atomic under the GIL, while other engine threads may
        # change the mapping between the steps of a Python loop.
        return [key for key in list(self.mapping) if isinstance(key, str) and key.startswith(prefix)]


# --- the callbacks ---------------------------------------------------------------------------

#: The adapters of live callback stores, by the address of their ``user_data`` handle: the
#: handle must stay alive until the engine calls ``destroy``.
_live: dict[int, Any] = {}
_live_lock = threading.Lock()


def _io(user_data: Any) -> StoreIO:
    io: StoreIO = ffi.from_handle(user_data)
    return io


def _text(key: Any) -> str:
    text: str = ffi.string(key).decode("utf-8")
    return text


def _write(sink: Any, data: Any) -> int:
    view = memoryview(data)
    status: int = lib.zarrlib_sink_write(sink, ffi.from_buffer(view), view.nbytes)
    return status


def _callback(signature: str, body: Callable[..., int]) -> Any:
    """A C callback running ``body(io, *args)``; an exception becomes a storage failure whose
    message (the exception's type and text) reaches the caller's last error."""

    def call(user_data: Any, *args: Any) -> int:
        try:
            return body(_io(user_data), *args)
        except Exception as err:
            lib.zarrlib_callback_error(f"{type(err).__name__}: {err}".encode("utf-8", "replace"))
            return int(lib.ZARRLIB_ERR_STORAGE)

    return ffi.callback(signature, call, error=lib.ZARRLIB_ERR_INTERNAL)


def _get(io: StoreIO, key: Any, offset: int, length: int, sink: Any) -> int:
    wanted = None if length == _TO_END else length
    value = io.get(_text(key), offset, wanted)
    if value is None:
        return int(lib.ZARRLIB_ERR_NOT_FOUND)
    if wanted is not None and memoryview(value).nbytes != wanted:
        raise ValueError(f"the range {offset}..{offset + wanted} runs past the end of the value")
    return _write(sink, value)


def _size(io: StoreIO, key: Any, out_size: Any) -> int:
    size = io.size(_text(key))
    if size is None:
        return int(lib.ZARRLIB_ERR_NOT_FOUND)
    out_size[0] = size
    return 0


def _set(io: StoreIO, key: Any, data: Any, data_len: int) -> int:
    # Copied: the engine's buffer lives only during the call, the store keeps the value.
    io.set(_text(key), bytes(ffi.buffer(data, data_len)))
    return 0


def _erase(io: StoreIO, key: Any) -> int:
    io.erase(_text(key))
    return 0


def _erase_prefix(io: StoreIO, prefix: Any) -> int:
    io.erase_prefix(_text(prefix))
    return 0


def one_level(prefix: str, keys: Iterable[str]) -> list[str]:
    """What lies directly under ``prefix``: its keys, and once each, the sub-prefixes (ending
    with ``/``) of deeper keys."""
    names = set()
    for key in keys:
        head, slash, _ = key[len(prefix) :].partition("/")
        names.add(prefix + head + slash)
    return sorted(names)


def _list(io: StoreIO, prefix: Any, directly_under: bool, sink: Any) -> int:
    text = _text(prefix)
    keys = io.keys(text)
    names = one_level(text, keys) if directly_under else keys
    return _write(sink, b"".join(name.encode("utf-8") + b"\0" for name in names))


def _destroy(user_data: Any) -> None:
    with _live_lock:
        _live.pop(int(ffi.cast("uintptr_t", user_data)), None)


_CALLBACKS = {
    "get": _callback("int32_t(void *, const char *, uint64_t, uint64_t, zarrlib_sink *)", _get),
    "size": _callback("int32_t(void *, const char *, uint64_t *)", _size),
    "set": _callback("int32_t(void *, const char *, const uint8_t *, size_t)", _set),
    "erase": _callback("int32_t(void *, const char *)", _erase),
    "erase_prefix": _callback("int32_t(void *, const char *)", _erase_prefix),
    "list": _callback("int32_t(void *, const char *, bool, zarrlib_sink *)", _list),
    "destroy": ffi.callback("void(void *)", _destroy),
}
_WRITES = ("set", "erase", "erase_prefix")


class CallbackStore(Store):
    """A native store whose I/O a Python object does, through the engine's callbacks.

    It lives in this process only: pickling it raises ``TypeError``. Made with ``weak=True`` (as
    :mod:`zarrlib.store_routes` caches them), it only weakly references the Python object, so
    that its cache does not keep the object alive: whoever holds such a store for later
    (:class:`~zarrlib.Array`, :class:`~zarrlib.Group`, the codec pipeline) also holds
    :attr:`source`, and a call after the object is gone is a :class:`StorageError`.
    """

    def __init__(self, source: object, io: StoreIO, *, weak: bool = False, **options: Any):
        handle = ffi.new_handle(io)
        with _live_lock:
            _live[int(ffi.cast("uintptr_t", handle))] = handle
        callbacks = ffi.new("zarrlib_store_callbacks *")
        callbacks.user_data = handle
        for name, function in _CALLBACKS.items():
            if (name in _WRITES and io.read_only) or (name == "list" and not io.listable):
                continue
            setattr(callbacks, name, function)
        options_json = _native.encode(json.dumps(options), "options") if options else ffi.NULL
        out = ffi.new("zarrlib_store **")
        check(lib.zarrlib_store_from_callbacks(callbacks, options_json, out))
        self._handle = ffi.gc(out[0], lib.zarrlib_store_free)
        self.url = f"callbacks:{type(source).__module__}.{type(source).__qualname__}"
        self.options = dict(options)
        self._source = holder(source, weak)

    @property
    def source(self) -> object:
        """The Python object whose methods do the I/O (None once a weakly referenced one is gone)."""
        try:
            return self._source()
        except ReferenceError:
            return None

    def __reduce__(self) -> tuple[Any, ...]:
        raise TypeError(
            f"a store over a Python object ({self.url.removeprefix('callbacks:')}) lives in this "
            "process and cannot be pickled; use a directory or an object store to share data between processes"
        )


def callback_store(obj: object, *, weak: bool = False, **options: Any) -> CallbackStore:
    """A callback store over a zarr-python ``Store`` or a ``Mapping[str, bytes]``, holding it
    (or, with ``weak``, weakly referencing it: see :class:`CallbackStore`)."""
    # Only an imported class can have instances: zarr-python is not imported for a mapping.
    abc = sys.modules.get("zarr.abc.store")
    if abc is not None and isinstance(obj, abc.Store):
        return CallbackStore(obj, ZarrStoreIO(obj, weak=weak), weak=weak, **options)
    if isinstance(obj, Mapping):
        return CallbackStore(obj, MappingIO(obj, weak=weak), weak=weak, **options)
    raise TypeError(f"{type(obj).__name__} is neither a zarr-python store nor a mapping")
