"""numpy structured dtypes (records) as the metadata builders write them.

Zarr v3 has two forms, one per zarr-python line: 3.2 and later write ``struct`` (the
zarr-extensions type: ``{"name": "a", "data_type": "int32"}`` fields, a fill value per field, a
``bytes`` codec with ``endian``) and read 3.1's form too; 3.1 writes ``structured`` (``["a",
"int32"]`` fields, a base64 fill value, a ``bytes`` codec without ``endian``) and cannot read
``struct``. The builders write ``struct`` unless the installed zarr-python is a 3.1 one, so that
what zarrlib creates opens with the zarr-python beside it. Zarr v2 has one form, numpy's
(``[["a", "<i4"], ["b", "<f8", [2]]]`` with a base64 fill value). Multi-byte fields are stored
little-endian either way.
"""

from __future__ import annotations

import base64
import functools
import math
from typing import Any

import numpy as np

from ._types import DType

#: Zarr v3 names of the fixed-size numeric types (numpy kind and size).
_V3_NUMBERS = {
    "b1": "bool",
    **{f"i{n}": f"int{8 * n}" for n in (1, 2, 4, 8)},
    **{f"u{n}": f"uint{8 * n}" for n in (1, 2, 4, 8)},
    **{f"f{n}": f"float{8 * n}" for n in (2, 4, 8)},
    "c8": "complex64",
    "c16": "complex128",
}


@functools.cache
def v3_form() -> str:
    """``"struct"``, or ``"structured"`` when the installed zarr-python is a 3.1 one (it has no
    ``struct`` and cannot read it)."""
    try:
        from zarr.core.dtype.npy import structured
    except ImportError:
        return "struct"
    return "struct" if hasattr(structured, "Struct") else "structured"


def is_record(dtype: DType) -> bool:
    return dtype.fields is not None


def check(dtype: DType, zarr_format: int) -> None:
    """Refuse a record the builders cannot describe, naming the field: titles, gaps or padding
    (numpy's ``align=True``), and (Zarr v3) subarray fields, which zarr-python 3.4 refuses too."""
    offset = 0
    for name in dtype.names or ():
        field, at, *title = dtype.fields[name]  # type: ignore[index]
        if title:
            raise ValueError(f"dtype: field {name!r} has a title, which Zarr records cannot hold")
        if at != offset:
            raise ValueError(f"dtype: field {name!r} is not packed (at byte {at}, not {offset}): pass a packed dtype")
        offset += field.itemsize
        if field.subdtype is not None:
            if zarr_format == 3:
                raise ValueError(f"dtype: field {name!r} is a subarray, which Zarr v3 records cannot hold")
            field = field.subdtype[0]
        if is_record(field):
            check(field, zarr_format)
        elif _key(field) not in _V3_NUMBERS and field.kind not in "SUVMm":
            raise ValueError(f"dtype: field {name!r} has dtype {field}, which a Zarr record cannot hold")
    if offset != dtype.itemsize:
        raise ValueError(f"dtype {dtype} has padding after its last field: pass a packed dtype")


def _key(dtype: DType) -> str:
    return f"{dtype.kind}{dtype.itemsize}"


def _field_data_type(dtype: DType, form: str) -> Any:
    if is_record(dtype):
        return v3_data_type(dtype, form)
    if _key(dtype) in _V3_NUMBERS:
        return _V3_NUMBERS[_key(dtype)]
    if dtype.kind == "S":
        return {"name": "null_terminated_bytes", "configuration": {"length_bytes": dtype.itemsize}}
    if dtype.kind == "U":
        return {"name": "fixed_length_utf32", "configuration": {"length_bytes": dtype.itemsize}}
    if dtype.kind == "V":
        return {"name": "raw_bytes", "configuration": {"length_bytes": dtype.itemsize}}
    unit, scale = np.datetime_data(dtype)
    name = "numpy.datetime64" if dtype.kind == "M" else "numpy.timedelta64"
    return {"name": name, "configuration": {"unit": unit, "scale_factor": scale}}


def v3_data_type(dtype: DType, form: str) -> dict[str, Any]:
    """The Zarr v3 data type document of a (checked) record dtype in ``form``."""
    fields: list[Any] = []
    for name in dtype.names or ():
        data_type = _field_data_type(dtype.fields[name][0], form)  # type: ignore[index]
        fields.append({"name": name, "data_type": data_type} if form == "struct" else [name, data_type])
    return {"name": form, "configuration": {"fields": fields}}


def v2_dtype(dtype: DType) -> list[list[Any]]:
    """The Zarr v2 ``dtype`` of a (checked) record dtype: numpy's description, little-endian."""

    def field(name: str) -> list[Any]:
        base = dtype.fields[name][0]  # type: ignore[index]
        shape = list(base.shape)
        base = base.base
        described: Any = v2_dtype(base) if is_record(base) else base.newbyteorder("<").str
        return [name, described, shape] if shape else [name, described]

    return [field(name) for name in dtype.names or ()]


def scalar(fill_value: Any, dtype: DType) -> np.ndarray:
    """The fill value as a 0-d array of the record dtype (zeros when None)."""
    if fill_value is None:
        return np.zeros((), dtype)
    try:
        value = np.array(fill_value, dtype=dtype)
    except (TypeError, ValueError, OverflowError):
        value = None
    if value is None or value.shape != ():
        raise ValueError(f"fill_value {fill_value!r} is not a record of dtype {dtype}")
    return value


def base64_fill(value: np.ndarray) -> str:
    """A record's fill value as its bytes, multi-byte fields little-endian, in base64."""
    little = value.astype(value.dtype.newbyteorder("<"))
    return base64.standard_b64encode(little.tobytes()).decode()


def _number(value: Any, dtype: DType) -> Any:
    if dtype.kind == "b":
        return bool(value)
    if dtype.kind in "iu":
        return int(value)
    if dtype.kind == "c":
        return [_number(value.real, np.dtype("f8")), _number(value.imag, np.dtype("f8"))]
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return float(value)


def _field_fill(value: np.ndarray) -> Any:
    dtype = value.dtype
    if is_record(dtype):
        return struct_fill(value)
    if dtype.kind == "S":
        return base64.standard_b64encode(value.item()).decode()
    if dtype.kind == "V":
        return base64.standard_b64encode(value.tobytes()).decode()
    if dtype.kind == "U":
        return str(value.item())
    if dtype.kind in "Mm":
        # As zarr-python writes it: the count (NaT as the smallest int64).
        return int(value.view("i8"))
    return _number(value[()], dtype)


def struct_fill(value: np.ndarray) -> dict[str, Any]:
    """A record's fill value per field, as zarr-python 3.2 and later write ``struct``'s."""
    return {name: _field_fill(value[name]) for name in value.dtype.names or ()}
