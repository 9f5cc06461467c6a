"""Zarr data types as numpy dtypes.

The engine names every array's data type in its Zarr v3 form (a v2 ``"<u2"`` reports as
``"uint16"``) and hands elements over in native byte order, so each name maps to one native-order
numpy dtype. Types numpy cannot represent (``bfloat16``, sub-byte integers, 8-bit floats) raise
:class:`~zarrlib.errors.UnsupportedError`.
"""

from __future__ import annotations

import numpy as np

from ._types import Document, DType
from .errors import UnsupportedError

_SIMPLE_NAMES = "bool int8 int16 int32 int64 uint8 uint16 uint32 uint64 float16 float32 float64 complex64 complex128"
_SIMPLE = {name: np.dtype(name) for name in _SIMPLE_NAMES.split()}


def _datetime_dtype(kind: str, metadata: Document) -> DType:
    """numpy.datetime64 / numpy.timedelta64, whose unit the Zarr v3 document's data type
    configuration holds (zarrs reads no Zarr v2 datetimes)."""
    config = metadata["data_type"]["configuration"]
    scale = config.get("scale_factor", 1)
    return np.dtype(f"{kind}8[{scale if scale != 1 else ''}{config['unit']}]")


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
    elif data_type.startswith("r") and data_type[1:].isdigit():
        dtype = np.dtype(f"V{int(data_type[1:]) // 8}")
    else:
        raise UnsupportedError(f"data type {data_type!r} has no numpy equivalent")
    if dtype.itemsize != element_size:
        raise UnsupportedError(
            f"data type {data_type!r} has {element_size}-byte elements, numpy's {dtype} has {dtype.itemsize}"
        )
    return dtype
