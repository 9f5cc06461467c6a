"""Which native store a caller's store argument becomes.

Everything the API takes as a store ends up as a :class:`~zarrlib.stores.Store`, by one of two
routes, which :func:`describe_store` reports:

- **native**: the object has a declarative form, a URL plus options, and the engine opens that
  itself, so no request goes through Python. Local paths; zarr-python's ``LocalStore``; a
  ``ZipStore`` opened read-only; an ``ObjectStore`` over obstore's S3, GCS, Azure, HTTP or local
  stores; an ``FsspecStore`` or fsspec mapper over s3fs, gcsfs, adlfs, HTTP or the local
  filesystem, when every option has a native equivalent (otherwise the reason names the first
  that has none).
- **callbacks**: anything else that is a zarr-python ``Store`` (``MemoryStore``, ``LoggingStore``
  and other wrappers, a ``ZipStore`` open for writing, a user's subclass) or a ``Mapping`` of
  ``str`` to bytes (a ``dict``, an fsspec ``FSMap``): the engine calls back into Python for
  its I/O (:mod:`zarrlib.host_stores`).

A zarr-python store opened read-only is read-only either way. Stores made here are cached, so
repeated calls with the same object (or the same path) share one native store, its chunk
locks and the array handles cached for it.

A callback store is cached for as long as its Python object lives, and the cache does not keep
the object alive: it references the object weakly, and so does the cached store (the objects
that keep a store for later, :class:`~zarrlib.Array`, :class:`~zarrlib.Group` and the codec
pipeline, hold the object too). Entries are keyed by ``id()`` and checked against the weak
reference, so an object that reuses a dead one's ``id()`` never gets its store. Objects that
cannot be weakly referenced (a plain ``dict``) are held in a small least-recently-used cache
instead: sharing one native store between calls is what serialises concurrent writes to one
chunk, and without a weak reference nothing says when the object is dropped, so such an object
lives until :data:`STORE_CACHE_SIZE` others push it out or :func:`forget_store` drops it. A
``dict`` subclass (``class Chunks(dict): pass``) can be weakly referenced.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from ._lru import LRU
from ._types import StoreLike
from .host_stores import CallbackStore, callback_store
from .stores import Store

#: How many stores made from paths and store objects are kept (the least recently used is dropped).
STORE_CACHE_SIZE = 32

#: Option names whose values describe_store does not show.
_SECRETS = {
    "secret_access_key", "session_token", "access_key", "sas_key", "sas_token", "client_secret", "token",
    "bearer_token", "service_account_key",
}  # fmt: skip


@dataclass(frozen=True)
class StoreDescription:
    """How the engine reaches a store object: ``route`` is ``"native"`` (it opens ``url`` with
    ``options`` itself) or ``"callbacks"`` (it calls back into the Python object); ``reason``
    says why."""

    route: Literal["native", "callbacks"]
    url: str | None
    options: dict[str, Any] = field(default_factory=dict)
    reason: str = ""

    def __repr__(self) -> str:
        shown = {key: "***" if key in _SECRETS else value for key, value in self.options.items()}
        return f"StoreDescription(route={self.route!r}, url={self.url!r}, options={shown!r}, reason={self.reason!r})"


def _module(name: str) -> Any:
    """A module if it is imported: an object can only be an instance of a class already loaded."""
    return sys.modules.get(name)


def _read_only(obj: object, options: dict[str, Any]) -> dict[str, Any]:
    return {**options, "read_only": True} if getattr(obj, "read_only", False) else options


def _native(url: str, options: dict[str, Any], reason: str) -> StoreDescription:
    return StoreDescription("native", url, options, reason)


def _callbacks(reason: str) -> StoreDescription:
    return StoreDescription("callbacks", None, {}, reason)


# --- obstore (zarr-python's ObjectStore) ---------------------------------------------------------


def _joined(scheme: str, bucket: str, prefix: str | None) -> str:
    return f"{scheme}://{bucket}/{prefix.strip('/')}" if prefix else f"{scheme}://{bucket}"


def _obstore_retries(store: Any) -> dict[str, Any]:
    retry = getattr(store, "retry_config", None) or {}
    options: dict[str, Any] = {}
    if "max_retries" in retry:
        options["retries"] = int(retry["max_retries"])
    if "retry_timeout" in retry:
        options["retry_timeout"] = f"{retry['retry_timeout'].total_seconds()}s"
    return options


#: obstore's object stores: the URL scheme of each, and the configuration key naming its bucket.
_OBSTORE_BUCKETS = {"S3Store": ("s3", "bucket"), "GCSStore": ("gs", "bucket"), "AzureStore": ("az", "container_name")}


def _describe_obstore(store: Any) -> StoreDescription:
    kind = type(store).__name__
    if kind not in (*_OBSTORE_BUCKETS, "LocalStore", "HTTPStore"):
        return _callbacks(f"obstore {kind} has no native equivalent")
    if getattr(store, "credential_provider", None) is not None:
        return _callbacks(f"obstore {kind} with a Python credential provider")
    if kind == "LocalStore":
        return _native(os.path.abspath(store.prefix or "/"), {}, "obstore LocalStore: a local directory")
    options = {key: str(value) for key, value in (store.client_options or {}).items()}
    options.update(_obstore_retries(store))
    if kind == "HTTPStore":
        return _native(store.url, options, "obstore HTTPStore: the engine's HTTP store")
    scheme, bucket_key = _OBSTORE_BUCKETS[kind]
    config = dict(store.config)
    url = _joined(scheme, config.pop(bucket_key), store.prefix)
    options.update((key, str(value)) for key, value in config.items())
    return _native(url, options, f"obstore {kind}: the engine's object store")


# --- fsspec --------------------------------------------------------------------------------------

#: s3fs's storage options and the native option each becomes.
_S3FS_OPTIONS = {"key": "access_key_id", "secret": "secret_access_key", "token": "session_token"}


def _describe_s3fs(fs: Any, path: str) -> StoreDescription:
    options: dict[str, Any] = {}
    for key, value in fs.storage_options.items():
        if key == "asynchronous" or value is None:
            continue
        if key in _S3FS_OPTIONS:
            options[_S3FS_OPTIONS[key]] = value
        elif key == "anon":
            if value:
                options["skip_signature"] = "true"
        elif key == "endpoint_url":
            options["endpoint"] = value
            if value.startswith("http://"):
                options["allow_http"] = "true"
        elif key == "client_kwargs" and set(value) <= {"region_name", "endpoint_url"}:
            if "region_name" in value:
                options["region"] = value["region_name"]
            if "endpoint_url" in value:
                options["endpoint"] = value["endpoint_url"]
        else:
            return _callbacks(f"s3fs option {key!r} has no native equivalent")
    return _native(f"s3://{path.strip('/')}", options, "fsspec s3fs: the engine's S3 store")


def _seconds(value: Any) -> str:
    """A timeout in seconds (fsspec's form) as a duration the engine takes."""
    return f"{float(value)}s"


def _endpoint(options: dict[str, Any], key: str, url: str) -> None:
    options[key] = url.rstrip("/")
    if url.startswith("http://"):
        options["allow_http"] = "true"


#: gcsfs options that change nothing the engine does with keys and values: bucket listing and
#: creation (``project``, ``default_location``), file objects, fsspec's caches (the engine keeps
#: none, so it is never stale), pickling, and the event loop.
_GCSFS_IGNORED = {
    "asynchronous", "loop", "project", "default_location", "block_size", "cache_timeout",
    "listings_expiry_time", "use_listings_cache", "skip_instance_cache", "secure_serialize",
    "check_connection", "timeout", "finalize_on_close", "mrd_pool_cache_size", "max_mrd_pool_cache_queue_size",
}  # fmt: skip

#: How gcsfs authenticated (``fs.credentials.method``), for the methods object_store's own
#: credential chain takes the same way: application default credentials (the environment's
#: ``GOOGLE_APPLICATION_CREDENTIALS`` or gcloud's well-known file) and the metadata server.
_GCSFS_DEFAULT_METHODS = {"google_default", "cloud"}


def _gcsfs_token(fs: Any, token: Any, options: dict[str, Any]) -> str | None:
    """Put gcsfs's credentials into ``options``; the reason when they have no native form."""
    method = getattr(getattr(fs, "credentials", None), "method", None)
    if token == "anon" or (token is None and method == "anon"):
        options["skip_signature"] = "true"
    elif token in (None, "google_default", "cloud"):
        if token is None and method not in _GCSFS_DEFAULT_METHODS:
            return f"gcsfs credentials found by method {method!r}"
    elif isinstance(token, dict) and token.get("type") == "service_account":
        options["service_account_key"] = json.dumps(token)
    elif isinstance(token, (str, os.PathLike)) and os.path.isfile(token):
        try:
            with open(token, encoding="utf-8") as file:
                kind = json.load(file).get("type")
        except (OSError, ValueError, AttributeError):
            return "gcsfs token file is not a JSON credentials file"
        # A service account's key, or other application default credentials (a user's).
        options["service_account" if kind == "service_account" else "application_credentials"] = os.fspath(token)
    elif isinstance(token, str) and token not in ("cache", "browser"):
        options["bearer_token"] = token  # gcsfs takes any other text as an access token
    else:
        shown = repr(token) if isinstance(token, str) else f"a {type(token).__name__}"  # never a secret's text
        return f"gcsfs option 'token' ({shown}) has no native equivalent"
    return None


def _describe_gcsfs(fs: Any, path: str) -> StoreDescription:
    options: dict[str, Any] = {}
    settings = dict(fs.storage_options)
    reason = _gcsfs_token(fs, settings.pop("token", None), options)
    if reason:
        return _callbacks(reason)
    for key, value in settings.items():
        if key in _GCSFS_IGNORED or value is None:
            continue
        if key == "endpoint_url":
            continue  # below, with the emulator's environment variable
        elif key == "access" and value in ("read_only", "read_write", "full_control"):
            if value == "read_only":
                options["read_only"] = True
        elif key == "requests_timeout":
            options["timeout"] = _seconds(value)
        elif key in ("consistency",) and value == "none":
            continue
        elif key in ("requester_pays", "version_aware") and not value:
            continue
        elif key == "session_kwargs" and not value:
            continue
        else:
            return _callbacks(f"gcsfs option {key!r} has no native equivalent")
    # gcsfs's endpoint: the option, else STORAGE_EMULATOR_HOST, else Google's.
    location = str(fs._location)
    if location.rstrip("/") != "https://storage.googleapis.com":
        _endpoint(options, "base_url", location)
    return _native(f"gs://{path.strip('/')}", options, "fsspec gcsfs: the engine's GCS store")


#: adlfs options that change nothing the engine does with keys and values: file objects,
#: fsspec's caches, transfer concurrency (the engine sets its own), the event loop.
_ADLFS_IGNORED = {
    "asynchronous", "loop", "blocksize", "default_fill_cache", "default_cache_type", "max_concurrency",
    "assume_container_exists", "skip_instance_cache", "use_listings_cache", "listings_expiry_time",
    "max_paths", "socket_timeout",
}  # fmt: skip

#: adlfs's credential options and the native option each becomes.
_ADLFS_OPTIONS = {
    "account_name": "account_name",
    "account_key": "access_key",
    "client_id": "client_id",
    "client_secret": "client_secret",
    "tenant_id": "tenant_id",
}


def _connection_string(text: str, options: dict[str, Any]) -> str | None:
    """An Azure connection string's parts as options; the reason when one has no native form."""
    parts = dict(part.split("=", 1) for part in text.split(";") if "=" in part)
    if parts.get("UseDevelopmentStorage", "").lower() == "true":
        options["use_emulator"] = "true"  # Azurite, where AZURITE_BLOB_STORAGE_URL says
        return None
    for name, value in parts.items():
        if name == "AccountName":
            options["account_name"] = value
        elif name == "AccountKey":
            options["access_key"] = value
        elif name == "SharedAccessSignature":
            options["sas_token"] = value.lstrip("?")
        elif name == "BlobEndpoint":
            _endpoint(options, "endpoint", value)
        elif name not in (
            "DefaultEndpointsProtocol",
            "EndpointSuffix",
            "QueueEndpoint",
            "TableEndpoint",
            "FileEndpoint",
        ):
            return f"Azure connection string part {name!r} has no native equivalent"
    if "endpoint" not in options and "account_name" in options:
        scheme = parts.get("DefaultEndpointsProtocol", "https")
        suffix = parts.get("EndpointSuffix", "core.windows.net")
        _endpoint(options, "endpoint", f"{scheme}://{options['account_name']}.blob.{suffix}")
    return None


def _describe_adlfs(fs: Any, path: str) -> StoreDescription:
    options: dict[str, Any] = {}
    settings = dict(fs.storage_options)
    connection = settings.pop("connection_string", None)
    if connection is None and "account_name" not in settings:
        # adlfs reads it from the environment; object_store does not.
        connection = os.environ.get("AZURE_STORAGE_CONNECTION_STRING")
    if connection:
        reason = _connection_string(connection, options)
        if reason:
            return _callbacks(reason)
    for key, value in settings.items():
        if key in _ADLFS_IGNORED or value is None:
            continue
        if key in _ADLFS_OPTIONS:
            options[_ADLFS_OPTIONS[key]] = value
        elif key == "sas_token":
            options["sas_token"] = value.lstrip("?")
        elif key == "anon":
            if value:
                options["skip_signature"] = "true"
        elif key == "account_host":
            _endpoint(options, "endpoint", f"https://{value}")
        elif key == "timeout":
            options["timeout"] = _seconds(value)
        elif key == "connection_timeout":
            options["connect_timeout"] = _seconds(value)
        elif key == "location_mode" and value == "primary":
            continue
        elif key == "version_aware" and not value:
            continue
        else:
            return _callbacks(f"adlfs option {key!r} has no native equivalent")
    return _native(f"az://{path.strip('/')}", options, "fsspec adlfs: the engine's Azure store")


def _describe_fsspec(fs: Any, path: str) -> StoreDescription:
    # zarr-python wraps synchronous filesystems for its async API.
    fs = getattr(fs, "sync_fs", fs)
    kind = type(fs).__name__
    protocols = fs.protocol if isinstance(fs.protocol, tuple) else (fs.protocol,)
    extra = {key for key in fs.storage_options if key not in ("asynchronous", "auto_mkdir")}
    if "s3" in protocols:
        return _describe_s3fs(fs, path)
    classes = {cls.__name__ for cls in type(fs).__mro__}
    if "gs" in protocols and "GCSFileSystem" in classes:
        return _describe_gcsfs(fs, path)
    if "az" in protocols and "AzureBlobFileSystem" in classes:
        return _describe_adlfs(fs, path)
    if "file" in protocols and not extra:
        return _native(fs._strip_protocol(path), {}, "fsspec LocalFileSystem: a local directory")
    if ("http" in protocols or "https" in protocols) and not extra:
        return _native(path, {}, "fsspec HTTPFileSystem: the engine's HTTP store")
    if extra:
        return _callbacks(f"fsspec {kind} options {sorted(extra)} have no native equivalent")
    return _callbacks(f"fsspec {kind} has no native equivalent")


# --- zarr-python stores and mappings -------------------------------------------------------------


def _describe_zarr_store(obj: Any) -> StoreDescription:
    storage = _module("zarr.storage")
    if storage is not None:
        if isinstance(obj, storage.LocalStore):
            return _native(os.path.abspath(obj.root), _read_only(obj, {}), "zarr-python LocalStore: a local directory")
        if isinstance(obj, storage.ZipStore):
            if obj.read_only and os.path.isfile(obj.path):
                return _native(os.fspath(obj.path), {}, "zarr-python ZipStore opened read-only: the engine's zip store")
            return _callbacks("zarr-python ZipStore open for writing")
        if isinstance(obj, storage.ObjectStore):
            description = _describe_obstore(obj.store)
        elif isinstance(obj, storage.FsspecStore):
            description = _describe_fsspec(obj.fs, obj.path)
        else:
            return _callbacks(f"{type(obj).__name__} holds its data in Python")
        if description.url is not None:
            description = _native(description.url, _read_only(obj, description.options), description.reason)
        return description
    return _callbacks(f"{type(obj).__name__} holds its data in Python")


def describe_store(obj: object) -> StoreDescription:
    """How the engine reaches ``obj`` when it is passed as a store, without opening it."""
    if isinstance(obj, Store):
        source = getattr(obj, "source", None)
        if source is not None:
            return _callbacks(f"a callback store over {type(source).__name__}")
        return _native(obj.url, dict(obj.options), "a zarrlib store")
    if isinstance(obj, (str, os.PathLike)):
        location = os.fspath(obj)
        if isinstance(location, str) and location.lower().startswith("memory:"):
            raise ValueError("a memory store must be passed as an object: use zarrlib.MemoryStore()")
        if isinstance(location, str) and "://" not in location:
            location = os.path.abspath(location)
        return _native(os.fsdecode(location), {}, "a path or URL")
    abc = _module("zarr.abc.store")
    if abc is not None and isinstance(obj, abc.Store):
        return _describe_zarr_store(obj)
    mapping = _module("fsspec.mapping")
    if mapping is not None and isinstance(obj, mapping.FSMap):
        description = _describe_fsspec(obj.fs, obj.root)
        if description.route == "native":
            return description
    if isinstance(obj, Mapping):
        return _callbacks(f"a {type(obj).__name__} mapping holds its data in Python")
    raise TypeError(
        f"{type(obj).__module__}.{type(obj).__qualname__} is not a store: pass a zarrlib.Store, a local path, "
        "a zarr-python store or a mapping of str to bytes"
    )


_native_stores: LRU[str, Store] = LRU(STORE_CACHE_SIZE)
#: Callback stores over objects that cannot be weakly referenced, by identity, each holding its
#: object (so its id cannot be reused while cached).
_held_callback_stores: LRU[int, tuple[object, Store]] = LRU(STORE_CACHE_SIZE)


class _WeakCallbackStores:
    """Callback stores by the identity of their object, each kept while the object lives."""

    def __init__(self) -> None:
        self._entries: dict[int, tuple[weakref.ref[Any], CallbackStore]] = {}
        # Reentrant: the garbage collector may run a removal callback on a thread that holds it.
        self._lock = threading.RLock()

    def get_or_make(self, obj: object) -> CallbackStore:
        key = id(obj)
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[0]() is obj:
                return entry[1]
        store = callback_store(obj, weak=True)  # outside the lock: it calls into the engine

        def forget(ref: weakref.ref[Any]) -> None:
            with self._lock:
                # Only this object's entry: a new object with the same id may have one now.
                if key in self._entries and self._entries[key][0] is ref:
                    del self._entries[key]

        ref = weakref.ref(obj, forget)
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[0]() is obj:
                return entry[1]  # another thread made one first
            self._entries[key] = (ref, store)
        return store

    def forget(self, obj: object) -> None:
        with self._lock:
            entry = self._entries.get(id(obj))
            if entry is not None and entry[0]() is obj:
                del self._entries[id(obj)]

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


_weak_callback_stores = _WeakCallbackStores()


def _weakly_referenceable(obj: object) -> bool:
    try:
        weakref.ref(obj)
    except TypeError:
        return False
    return True


def cached_store(url: str, options: dict[str, Any]) -> Store:
    """The store at ``url`` with ``options``: one per process while in use (so its handles share
    one table of chunk locks and one set of connections), opened on first use."""
    key = json.dumps([url, options], sort_keys=True)
    return _native_stores.get_or_make(key, lambda: Store(url, **options))


def as_store(obj: StoreLike | Mapping[str, Any]) -> Store:
    """The native store a caller's store argument names."""
    if isinstance(obj, Store):
        return obj
    description = describe_store(obj)
    if description.url is not None:
        return cached_store(description.url, description.options)
    if _weakly_referenceable(obj):
        return _weak_callback_stores.get_or_make(obj)
    held = _held_callback_stores.get(id(obj))
    if held is not None and held[0] is obj:
        return held[1]
    made = callback_store(obj)
    _held_callback_stores.put(id(obj), (obj, made))
    return made


def forget_store(obj: object) -> None:
    """Drop the native store cached for the Python store object ``obj`` (it closes once nothing
    else uses it): needed only for objects that cannot be weakly referenced, such as a ``dict``,
    which the cache otherwise holds until others push it out."""
    _weak_callback_stores.forget(obj)
    held = _held_callback_stores.get(id(obj))
    if held is not None and held[0] is obj:
        _held_callback_stores.pop(id(obj))
