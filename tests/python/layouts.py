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


def v3_strings(shape, chunks, fill="", *, codecs=None, data_type="string"):
    """A Zarr v3 `string` (or `bytes`) array document: vlen-utf8 (vlen-bytes) and zstd."""
    codec = "vlen-utf8" if data_type == "string" else "vlen-bytes"
    return {
        "zarr_format": 3,
        "node_type": "array",
        "shape": list(shape),
        "data_type": data_type,
        "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": list(chunks)}},
        "chunk_key_encoding": {"name": "default"},
        "fill_value": fill,
        "codecs": codecs
        or [{"name": codec, "configuration": {}}, {"name": "zstd", "configuration": {"level": 0, "checksum": False}}],
    }


def v2_objects(shape, chunks, filter_id="vlen-utf8", fill=None):
    """A Zarr v2 `|O` array document as zarr-python writes strings (or, with vlen-bytes, bytes)."""
    return {
        "zarr_format": 2,
        "shape": list(shape),
        "chunks": list(chunks),
        "dtype": "|O",
        "compressor": {"id": "zstd", "level": 0},
        "fill_value": fill,
        "order": "C",
        "filters": [{"id": filter_id}],
    }


def sharded_strings(shape, chunks, inner):
    """A sharded Zarr v3 `string` array document (vlen-utf8 inner chunks, crc32c on the index)."""
    return v3_strings(
        shape,
        chunks,
        codecs=[
            {
                "name": "sharding_indexed",
                "configuration": {
                    "chunk_shape": list(inner),
                    "codecs": [{"name": "vlen-utf8", "configuration": {}}],
                    "index_codecs": [{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "crc32c"}],
                },
            }
        ],
    )
