"""Zarr data types as numpy dtypes.

The engine names every array's data type in its Zarr v3 form (a v2 ``"<u2"`` reports as
``"uint16"``) and hands elements over in native byte order, so each name maps to one native-order
numpy dtype. A Zarr v2 structured dtype reaches the engine as raw bits of its record size and
reads as the numpy structured dtype its document names; a Zarr v3 record (``struct``, or
zarr-python 3.1's ``structured``) reaches it as the record's bytes, fields in native order, and
reads as the structured dtype of its fields. Types numpy has no dtype for
(``bfloat16``, 8-bit and smaller floats, sub-byte integers) take ml_dtypes' when it is installed
and raise :class:`~zarrlib.errors.UnsupportedError` naming it otherwise.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._types import Document, DType
from .errors import UnsupportedError

_SIMPLE_NAMES = "bool int8 int16 int32 int64 uint8 uint16 uint32 uint64 float16 float32 float64 complex64 complex128"
_SIMPLE = {name: np.dtype(name) for name in _SIMPLE_NAMES.split()}


#: Zarr v3 names of the types ml_dtypes has a numpy dtype for (the same names there).
ML_DTYPES_NAMES = frozenset(
    "bfloat16 float8_e4m3 float8_e4m3fnuz float8_e4m3b11fnuz float8_e5m2 float8_e5m2fnuz "
    "float8_e3m4 float8_e8m0fnu float6_e2m3fn float6_e3m2fn float4_e2m1fn int4 uint4 int2 uint2".split()
)
#: ml_dtypes' sub-byte integers hold their value in the low bits of a byte; zarrs holds a signed
#: one sign-extended, so writes of these go through int8.
SIGN_EXTENDED = frozenset({"int4", "int2"})


def _ml_dtype(data_type: str) -> DType:
    try:
        import ml_dtypes
    except ImportError:
        raise UnsupportedError(
            f"data type {data_type!r} needs the ml_dtypes package for a numpy dtype (pip install ml_dtypes)"
        ) from None
    dtype: DType = np.dtype(getattr(ml_dtypes, data_type))
    return dtype


def _v2_fields(fields: list[list[Any]]) -> list[tuple[Any, ...]]:
    """numpy's description of a Zarr v2 structured dtype's fields, nested records included."""
    return [
        (f[0], _v2_fields(f[1]) if isinstance(f[1], list) else f[1], *([tuple(f[2])] if len(f) > 2 else []))
        for f in fields
    ]


def _structured_dtype(fields: list[list[Any]]) -> DType:
    """A Zarr v2 structured dtype (``[["a", "<i4"], ["b", "<f8", [2]], ["n", [["x", "<f4"]]]]``)
    as numpy's."""
    dtype: DType = np.dtype(_v2_fields(fields))
    return dtype


def _datetime_dtype(kind: str, metadata: Document) -> DType:
    """numpy.datetime64 / numpy.timedelta64, whose unit the Zarr v3 document's data type
    configuration holds (a Zarr v2 document names the numpy dtype)."""
    if metadata.get("zarr_format") == 2:
        named: DType = np.dtype(metadata["dtype"]).newbyteorder("=")
        return named
    return _unit_dtype(kind, metadata["data_type"]["configuration"])


def _unit_dtype(kind: str, config: Document) -> DType:
    scale = config.get("scale_factor", 1)
    return np.dtype(f"{kind}8[{scale if scale != 1 else ''}{config['unit']}]")


#: Zarr v3 names of the record types: zarr-python 3.2 and later write ``struct``, 3.1
#: ``structured``.
RECORD_NAMES = frozenset({"struct", "structured"})


def _v3_field_dtype(data_type: Any) -> DType:
    """The native-order numpy dtype of a Zarr v3 record field's data type document."""
    name, config = (
        (data_type, {}) if isinstance(data_type, str) else (data_type["name"], data_type.get("configuration") or {})
    )
    if name in _SIMPLE:
        return _SIMPLE[name]
    if name == "null_terminated_bytes":
        return np.dtype(f"S{config['length_bytes']}")
    if name == "raw_bytes":
        return np.dtype(f"V{config['length_bytes']}")
    if name == "fixed_length_utf32":
        return np.dtype(f"U{config['length_bytes'] // 4}")
    if name in ("numpy.datetime64", "numpy.timedelta64"):
        return _unit_dtype("M" if name == "numpy.datetime64" else "m", config)
    if name in RECORD_NAMES:
        return _record_dtype(config["fields"])
    if name.startswith("r") and name[1:].isdigit():
        return np.dtype(f"V{int(name[1:]) // 8}")
    raise UnsupportedError(f"data type {name!r} has no numpy equivalent inside a record")


def _record_dtype(fields: list[Any]) -> DType:
    """A Zarr v3 record's fields (``[{"name": "a", "data_type": "int32"}, ...]``, or
    ``[["a", "int32"], ...]`` as zarr-python 3.1 writes them) as a packed numpy structured dtype."""
    pairs = [(f["name"], f["data_type"]) if isinstance(f, dict) else (f[0], f[1]) for f in fields]
    dtype: DType = np.dtype([(name, _v3_field_dtype(data_type)) for name, data_type in pairs])
    return dtype


def numpy_dtype(data_type: str, metadata: Document, element_size: int) -> DType:
    """The native-order numpy dtype of an array's elements."""
    if data_type in _SIMPLE:
        dtype = _SIMPLE[data_type]
    elif data_type == "numpy.datetime64":
        dtype = _datetime_dtype("M", metadata)
    elif data_type == "numpy.timedelta64":
        dtype = _datetime_dtype("m", metadata)
    elif data_type == "fixed_length_utf32":
        # numpy's U: fixed-width UTF-32 code points in native order, NUL-padded.
        dtype = np.dtype(f"U{element_size // 4}")
    elif data_type == "null_terminated_bytes":
        dtype = np.dtype(f"S{element_size}")
    elif data_type == "raw_bytes":
        dtype = np.dtype(f"V{element_size}")
    elif data_type in RECORD_NAMES:
        dtype = _record_dtype(metadata["data_type"]["configuration"]["fields"])
    elif data_type in ML_DTYPES_NAMES:
        dtype = _ml_dtype(data_type)
    elif data_type.startswith("r") and data_type[1:].isdigit():
        fields = metadata.get("dtype") if metadata.get("zarr_format") == 2 else None
        dtype = _structured_dtype(fields) if isinstance(fields, list) else np.dtype(f"V{int(data_type[1:]) // 8}")
    else:
        raise UnsupportedError(f"data type {data_type!r} has no numpy equivalent")
    if dtype.itemsize != element_size:
        raise UnsupportedError(
            f"data type {data_type!r} has {element_size}-byte elements, numpy's {dtype} has {dtype.itemsize}"
        )
    return dtype
