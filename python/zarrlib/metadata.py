"""Metadata documents without hand-written JSON: builders for the documents the functional API
takes, for Zarr v3 and v2, with zarr-python's defaults where a user would expect them.

>>> zarrlib.array_metadata((1000, 1000), "float32", chunks=(250, 250))
{'zarr_format': 3, 'node_type': 'array', 'shape': [1000, 1000], 'data_type': 'float32', ...}

Every builder returns a plain dict (the authoritative document); a bad argument is a
``ValueError`` or ``TypeError`` that names it.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from . import records
from ._types import Document

#: Chunks are chosen (when not given) to hold at most this many bytes, as zarr-python aims for
#: chunks of about a megabyte.
AUTO_CHUNK_BYTES = 1 << 20

_V3_NAMES = {
    "b": "bool",
    "i1": "int8",
    "i2": "int16",
    "i4": "int32",
    "i8": "int64",
    "u1": "uint8",
    "u2": "uint16",
    "u4": "uint32",
    "u8": "uint64",
    "f2": "float16",
    "f4": "float32",
    "f8": "float64",
    "c8": "complex64",
    "c16": "complex128",
}

Codecs = str | Mapping[str, Any] | Sequence[Mapping[str, Any]] | None


def _extents(value: object, name: str) -> list[int]:
    if isinstance(value, (int, np.integer)):
        value = (value,)
    if not isinstance(value, Sequence) and not isinstance(value, np.ndarray):
        raise TypeError(f"{name} must be a sequence of integers, not {type(value).__name__}")
    try:
        extents = [operator.index(v) for v in value]
    except TypeError:
        raise TypeError(f"{name} must be a sequence of integers, not {value!r}") from None
    if any(v < 0 for v in extents):
        raise ValueError(f"{name} {tuple(extents)} has a negative extent")
    return extents


def _dtype(dtype: npt.DTypeLike) -> np.dtype[Any]:
    try:
        resolved = np.dtype(dtype)
    except TypeError as err:
        raise TypeError(f"dtype {dtype!r} is not a numpy data type: {err}") from None
    if _type_key(resolved) not in _V3_NAMES and not records.is_record(resolved):
        raise ValueError(
            f"dtype {resolved} is not one the metadata builders support (fixed-size numbers, bool and records)"
        )
    return resolved


#: The codec (v3) or filter (v2) of each variable-length data type, as zarr-python writes them.
_VLEN_CODECS = {"string": "vlen-utf8", "bytes": "vlen-bytes"}


def _vlen_kind(dtype: object) -> str | None:
    """``"string"`` for Python's ``str`` (and ``"str"``, ``"string"``, numpy's StringDType),
    ``"bytes"`` for ``bytes``: the variable-length types; None for anything else."""
    if dtype in (str, "str", "string", np.str_) or type(dtype).__name__ == "StringDType":
        return "string"
    if isinstance(dtype, type) and dtype.__name__ == "StringDType":
        return "string"
    if dtype in (bytes, "bytes", np.bytes_):
        return "bytes"
    return None


def _vlen_fill_value(fill_value: Any, kind: str, zarr_format: int) -> Any:
    """A variable-length array's fill value: a str for strings ("" by default); bytes arrays
    take only the empty default (stored as zarr-python stores it)."""
    if kind == "string":
        if fill_value is None:
            return ""
        if not isinstance(fill_value, str):
            raise ValueError(f"fill_value {fill_value!r} is not a str (the array holds strings)")
        return fill_value
    if fill_value not in (None, b""):
        raise ValueError(f"fill_value {fill_value!r}: a bytes array's fill value is the empty default")
    return None if zarr_format == 2 else ""


def _type_key(dtype: np.dtype[Any]) -> str:
    return "b" if dtype.kind == "b" else f"{dtype.kind}{dtype.itemsize}"


def _v3_name(dtype: np.dtype[Any]) -> str:
    return _V3_NAMES[_type_key(dtype)]


def auto_chunks(shape: Sequence[int], itemsize: int) -> list[int]:
    """Chunks of at most :data:`AUTO_CHUNK_BYTES`: the whole array when it fits, otherwise the
    largest axis halved until it does (so chunks keep the array's proportions)."""
    chunks = [max(1, n) for n in shape]
    while math.prod(chunks) * itemsize > AUTO_CHUNK_BYTES and max(chunks) > 1:
        axis = chunks.index(max(chunks))
        chunks[axis] = math.ceil(chunks[axis] / 2)
    return chunks


def _fill_value(fill_value: Any, dtype: np.dtype[Any]) -> Any:
    """A fill value as the document stores it (NaN and infinities by name, complex as a pair)."""
    if fill_value is None:
        fill_value = False if dtype.kind == "b" else 0
    try:
        given = np.asarray(fill_value)
        value = given.astype(dtype)[()]
        exact = given.dtype.kind not in "USOV" and (value == given or (value != value and given != given))
    except (TypeError, ValueError, OverflowError):
        exact = False
    if not exact:
        raise ValueError(f"fill_value {fill_value!r} is not a value of dtype {dtype}")

    def real(x: Any) -> Any:
        if dtype.kind in "fc":
            if math.isnan(x):
                return "NaN"
            if math.isinf(x):
                return "Infinity" if x > 0 else "-Infinity"
            return float(x)
        return bool(x) if dtype.kind == "b" else int(x)

    if dtype.kind == "c":
        return [real(value.real), real(value.imag)]
    return real(value)


def _v3_codecs(compressors: Codecs, dtype: np.dtype[Any]) -> list[Any]:
    if compressors is None:
        return []
    if isinstance(compressors, str):
        presets = {
            "zstd": {"name": "zstd", "configuration": {"level": 0, "checksum": False}},
            "gzip": {"name": "gzip", "configuration": {"level": 5}},
            "blosc": {
                "name": "blosc",
                "configuration": {
                    "cname": "zstd",
                    "clevel": 5,
                    "shuffle": "shuffle" if dtype.itemsize > 1 else "noshuffle",
                    "typesize": dtype.itemsize,
                    "blocksize": 0,
                },
            },
        }
        if compressors not in presets:
            raise ValueError(f"compressors {compressors!r} is not one of {sorted(presets)}, None, or codec dicts")
        return [presets[compressors]]
    codecs = [compressors] if isinstance(compressors, Mapping) else list(compressors)
    for codec in codecs:
        if not isinstance(codec, Mapping) or not isinstance(codec.get("name"), str):
            raise TypeError(f'compressors: {codec!r} is not a codec dict with a "name"')
    return [dict(codec) for codec in codecs]


def _v2_compressor(compressors: Codecs) -> dict[str, Any] | None:
    if compressors is None:
        return None
    if isinstance(compressors, str):
        presets = {
            "zstd": {"id": "zstd", "level": 0},
            "gzip": {"id": "gzip", "level": 5},
            "zlib": {"id": "zlib", "level": 5},
            "blosc": {"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1, "blocksize": 0},
        }
        if compressors not in presets:
            raise ValueError(f"compressors {compressors!r} is not one of {sorted(presets)}, None, or a codec dict")
        return presets[compressors]
    if isinstance(compressors, Mapping) and isinstance(compressors.get("id"), str):
        return dict(compressors)
    if isinstance(compressors, Sequence) and len(compressors) == 1:
        return _v2_compressor(compressors[0])
    raise TypeError('compressors for Zarr v2 is one codec dict with an "id" (numcodecs\' form)')


def array_metadata(
    shape: Sequence[int] | int,
    dtype: npt.DTypeLike,
    *,
    chunks: Sequence[int] | int | None = None,
    shards: Sequence[int] | int | None = None,
    compressors: Codecs = "zstd",
    fill_value: Any = None,
    zarr_format: int = 3,
    order: str = "C",
    dimension_names: Sequence[str | None] | None = None,
    attributes: Mapping[str, Any] | None = None,
) -> Document:
    """The metadata document of an array.

    ``chunks`` is the chunk shape (chosen to hold about 1 MiB when omitted); with ``shards``
    (Zarr v3), chunks are the inner chunks of shards of that shape, each a whole number of
    chunks. ``compressors`` is ``"zstd"`` (the default, as zarr-python's), ``"gzip"``,
    ``"blosc"``, ``"zlib"`` (v2), ``None``, or codec dicts as the format writes them.
    ``fill_value`` defaults to 0 (False for bool, all zeros for a record). ``order="F"`` stores
    chunks in Fortran order (v3: a transpose codec; v2: ``"order": "F"``). ``dimension_names`` is
    Zarr v3 only. A numpy structured dtype (a record) is written as zarr-python writes it: in
    Zarr v3 as ``struct``, or as ``structured`` when the installed zarr-python is a 3.1 one
    (which cannot read ``struct``); see :mod:`zarrlib.records`.
    """
    if zarr_format not in (2, 3):
        raise ValueError(f"zarr_format must be 2 or 3, not {zarr_format!r}")
    extents = _extents(shape, "shape")
    vlen = _vlen_kind(dtype)
    resolved = np.dtype(object) if vlen else _dtype(dtype)
    # Variable-length elements: sized as zarr-python guesses them for its automatic chunks.
    itemsize = 16 if vlen else resolved.itemsize
    chunk_shape = auto_chunks(extents, itemsize) if chunks is None else _extents(chunks, "chunks")
    if len(chunk_shape) != len(extents):
        raise ValueError(f"chunks {tuple(chunk_shape)} has {len(chunk_shape)} dimensions, shape has {len(extents)}")
    if 0 in chunk_shape:
        raise ValueError(f"chunks {tuple(chunk_shape)} has an extent of 0")
    if order not in ("C", "F"):
        raise ValueError(f"order must be 'C' or 'F', not {order!r}")
    if dimension_names is not None and len(dimension_names) != len(extents):
        raise ValueError(f"dimension_names has {len(dimension_names)} names, shape has {len(extents)} dimensions")
    if attributes is not None and not isinstance(attributes, Mapping):
        raise TypeError(f"attributes must be a mapping, not {type(attributes).__name__}")
    record = not vlen and records.is_record(resolved)
    record_form = ""
    if record:
        records.check(resolved, zarr_format)
        record_form = "v2" if zarr_format == 2 else records.v3_form()
        record_fill = records.scalar(fill_value, resolved)
        fill = records.struct_fill(record_fill) if record_form == "struct" else records.base64_fill(record_fill)
    else:
        fill = _vlen_fill_value(fill_value, vlen, zarr_format) if vlen else _fill_value(fill_value, resolved)
    if zarr_format == 2:
        if shards is not None:
            raise ValueError("shards needs zarr_format=3 (Zarr v2 has no sharding)")
        if dimension_names is not None:
            raise ValueError("dimension_names needs zarr_format=3 (Zarr v2 has no dimension names)")
        return {
            "zarr_format": 2,
            "shape": extents,
            "chunks": chunk_shape,
            "dtype": "|O"
            if vlen
            else records.v2_dtype(resolved)
            if record
            else resolved.newbyteorder("<").str
            if resolved.itemsize > 1
            else resolved.str,
            "compressor": _v2_compressor(compressors),
            "fill_value": fill,
            "order": order,
            "filters": [{"id": _VLEN_CODECS[vlen]}] if vlen else None,
            "dimension_separator": ".",
            "attributes": dict(attributes or {}),
        }
    codecs = _v3_array_codecs(extents, chunk_shape, shards, compressors, resolved, order, vlen)
    document: Document = {
        "zarr_format": 3,
        "node_type": "array",
        "shape": extents,
        "data_type": vlen or (records.v3_data_type(resolved, record_form) if record else _v3_name(resolved)),
        "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": codecs[0]}},
        "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
        "fill_value": fill,
        "codecs": codecs[1],
        "attributes": dict(attributes or {}),
    }
    if dimension_names is not None:
        document["dimension_names"] = list(dimension_names)
    return document


def _v3_array_codecs(
    shape: list[int],
    chunks: list[int],
    shards: Sequence[int] | int | None,
    compressors: Codecs,
    dtype: np.dtype[Any],
    order: str,
    vlen: str | None = None,
) -> tuple[list[int], list[Any]]:
    """The chunk grid's chunk shape and the codec list of a v3 array."""
    if vlen:
        serializer: dict[str, Any] = {"name": _VLEN_CODECS[vlen], "configuration": {}}
    elif records.is_record(dtype):
        # As zarr-python writes them: 3.1's `structured` names no byte order (and stores
        # little-endian); `struct` names it when a field has more than one byte.
        multi_byte = any(dtype.fields[name][0].itemsize > 1 for name in dtype.names or ())  # type: ignore[index]
        serializer = (
            {"name": "bytes", "configuration": {"endian": "little"}}
            if multi_byte and records.v3_form() == "struct"
            else {"name": "bytes"}
        )
    elif dtype.itemsize > 1:
        serializer = {"name": "bytes", "configuration": {"endian": "little"}}
    else:
        serializer = {"name": "bytes"}
    codecs: list[Any] = [serializer, *_v3_codecs(compressors, np.dtype("u1") if vlen else dtype)]
    if order == "F":
        codecs.insert(0, {"name": "transpose", "configuration": {"order": list(range(len(shape)))[::-1]}})
    if shards is None:
        return chunks, codecs
    shard_shape = _extents(shards, "shards")
    if len(shard_shape) != len(shape) or any(s == 0 or s % c for s, c in zip(shard_shape, chunks, strict=True)):
        raise ValueError(f"shards {tuple(shard_shape)} must be a whole number of chunks {tuple(chunks)} on every axis")
    sharding = {
        "name": "sharding_indexed",
        "configuration": {
            "chunk_shape": chunks,
            "codecs": codecs,
            "index_codecs": [{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "crc32c"}],
            "index_location": "end",
        },
    }
    return shard_shape, [sharding]


def group_metadata(*, zarr_format: int = 3, attributes: Mapping[str, Any] | None = None) -> Document:
    """The metadata document of a group."""
    if attributes is not None and not isinstance(attributes, Mapping):
        raise TypeError(f"attributes must be a mapping, not {type(attributes).__name__}")
    if zarr_format == 3:
        return {"zarr_format": 3, "node_type": "group", "attributes": dict(attributes or {})}
    if zarr_format == 2:
        return {"zarr_format": 2, "attributes": dict(attributes or {})}
    raise ValueError(f"zarr_format must be 2 or 3, not {zarr_format!r}")
