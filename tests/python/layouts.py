"""Metadata documents for common array layouts, shared by the tests."""

from __future__ import annotations

import numpy as np

#: Every fixed-size data type with a plain numpy equivalent, by its Zarr v3 name.
DTYPES = (
    "bool",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "float16",
    "float32",
    "float64",
    "complex64",
    "complex128",
)


def v3_array(shape, chunks, dtype="uint16", *, fill_value=0, compressor="zstd", attributes=None):
    """A Zarr v3 array document: regular chunks, little-endian bytes, optional compressor."""
    codecs = [{"name": "bytes", "configuration": {"endian": "little"}}]
    if np.dtype(dtype).itemsize == 1:
        codecs = [{"name": "bytes"}]
    if compressor == "zstd":
        codecs.append({"name": "zstd", "configuration": {"level": 1, "checksum": False}})
    elif compressor == "gzip":
        codecs.append({"name": "gzip", "configuration": {"level": 1}})
    doc = {
        "zarr_format": 3,
        "node_type": "array",
        "shape": list(shape),
        "data_type": str(np.dtype(dtype)),
        "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": list(chunks)}},
        "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
        "fill_value": fill_value,
        "codecs": codecs,
    }
    if attributes is not None:
        doc["attributes"] = attributes
    return doc


def v3_sharded(shape, shard, inner, dtype="uint16", *, fill_value=0):
    """A Zarr v3 array whose chunks are shards of `inner`-shaped zstd chunks."""
    doc = v3_array(shape, shard, dtype, fill_value=fill_value, compressor=None)
    doc["codecs"] = [
        {
            "name": "sharding_indexed",
            "configuration": {
                "chunk_shape": list(inner),
                "codecs": [
                    {"name": "bytes", "configuration": {"endian": "little"}},
                    {"name": "zstd", "configuration": {"level": 1, "checksum": False}},
                ],
                "index_codecs": [
                    {"name": "bytes", "configuration": {"endian": "little"}},
                    {"name": "crc32c"},
                ],
            },
        }
    ]
    return doc


def v2_array(
    shape, chunks, dtype="<u2", *, fill_value=0, order="C", separator=".", compressor="blosc", attributes=None
):
    """A Zarr v2 array document (`.zarray` with `.zattrs` under "attributes")."""
    compressors = {
        "blosc": {"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1, "blocksize": 0},
        "zlib": {"id": "zlib", "level": 1},
        None: None,
    }
    return {
        "zarr_format": 2,
        "shape": list(shape),
        "chunks": list(chunks),
        "dtype": np.dtype(dtype).str,
        "compressor": compressors[compressor],
        "fill_value": fill_value,
        "order": order,
        "filters": None,
        "dimension_separator": separator,
        "attributes": attributes or {},
    }
