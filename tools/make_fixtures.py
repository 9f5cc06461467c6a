#!/usr/bin/env python3
"""Write the zarr-python fixtures the native test suites read: tests/data/zarr-python/.

Two directory stores, v2.zarr and v3.zarr, each a root group (with attributes) holding small arrays
written through zarr-python's public API: every fixed-size data type, the v2 compressors, F order,
both dimension separators, big-endian v2 data, and v3 codecs (zstd, gzip, blosc, crc32c, transpose,
sharding). For each array the expected content is saved as raw C-order bytes in native byte order
(expected/<format>/<name>.bin), and manifest.json lists what every test should find.

Regenerate (needs zarr-python 3.1): python3 tools/make_fixtures.py
"""

import json
import shutil
from pathlib import Path

import numcodecs
import numpy as np
import zarr
from zarr.codecs import BloscCodec, BytesCodec, Crc32cCodec, GzipCodec, TransposeCodec, ZstdCodec

OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "zarr-python"
SHAPE = (7, 5)  # 3x2 chunks leave partial edge chunks on both axes
CHUNKS = (3, 2)

DTYPES = {
    "bool": "bool",
    "int8": "int8",
    "int16": "int16",
    "int32": "int32",
    "int64": "int64",
    "uint8": "uint8",
    "uint16": "uint16",
    "uint32": "uint32",
    "uint64": "uint64",
    "float16": "float16",
    "float32": "float32",
    "float64": "float64",
    "complex64": "complex64",
    "complex128": "complex128",
}


def values(dtype: str) -> np.ndarray:
    """Distinct, exactly representable values for every data type; no chunk is all fill value."""
    i = np.arange(np.prod(SHAPE)).reshape(SHAPE)
    kind = np.dtype(dtype).kind
    if kind == "b":
        return i % 3 != 1
    if kind in "iu":
        return ((i * 7 + 3) % 100).astype(dtype)
    if kind == "f":
        return (i * 0.5 - 3).astype(dtype)
    return (i * 0.5 + 1j * (i - 9)).astype(dtype)


def main() -> None:
    if OUT.exists():
        shutil.rmtree(OUT)
    manifest = []

    def record(fmt: int, name: str, array, expected: np.ndarray, data_type: str) -> None:
        native = np.ascontiguousarray(expected.astype(expected.dtype.newbyteorder("=")))
        target = OUT / "expected" / f"v{fmt}" / f"{name}.bin"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(native.tobytes())
        manifest.append(
            {
                "store": f"v{fmt}.zarr",
                "path": name,
                "zarr_format": fmt,
                "data_type": data_type,
                "shape": list(array.shape),
                "chunks": list(array.chunks),
                "element_size": native.dtype.itemsize,
                "expected": str(target.relative_to(OUT)),
            }
        )

    # --- Zarr v2 -------------------------------------------------------------------------------
    root = zarr.open_group(OUT / "v2.zarr", mode="w", zarr_format=2)
    root.attrs["description"] = "zarr-python v2 fixtures"
    for name, dtype in DTYPES.items():
        a = root.create_array(name, shape=SHAPE, chunks=CHUNKS, dtype=dtype, compressors=numcodecs.Zstd(level=1))
        a[...] = values(dtype)
        record(2, name, a, values(dtype), name)
    v2_variants = {
        "uint16_raw": dict(compressors=None),
        "uint16_zlib": dict(compressors=numcodecs.Zlib(level=5)),
        "uint16_gzip": dict(compressors=numcodecs.GZip(level=5)),
        "uint16_bz2": dict(compressors=numcodecs.BZ2(level=5)),
        "uint16_blosc": dict(compressors=numcodecs.Blosc(cname="lz4", clevel=5, shuffle=numcodecs.Blosc.SHUFFLE)),
        "uint16_blosc_bitshuffle": dict(
            compressors=numcodecs.Blosc(cname="zstd", clevel=3, shuffle=numcodecs.Blosc.BITSHUFFLE)
        ),
        "uint16_order_f": dict(compressors=numcodecs.Zstd(level=1), order="F"),
        "uint16_slash_separator": dict(
            compressors=numcodecs.Zstd(level=1), chunk_key_encoding={"name": "v2", "separator": "/"}
        ),
    }
    for name, options in v2_variants.items():
        a = root.create_array(name, shape=SHAPE, chunks=CHUNKS, dtype="uint16", **options)
        a[...] = values("uint16")
        record(2, name, a, values("uint16"), "uint16")
    for name, dtype, data_type in [("int32_big_endian", ">i4", "int32"), ("float64_big_endian", ">f8", "float64")]:
        a = root.create_array(name, shape=SHAPE, chunks=CHUNKS, dtype=dtype, compressors=numcodecs.Zlib(level=1))
        a[...] = values(dtype)
        record(2, name, a, values(dtype), data_type)
    # Only one block written: the rest must read as the fill value.
    a = root.create_array(
        "uint16_fill_partial",
        shape=SHAPE,
        chunks=CHUNKS,
        dtype="uint16",
        fill_value=42,
        compressors=numcodecs.Zstd(level=1),
    )
    a[0:3, 0:2] = 1
    expected = np.full(SHAPE, 42, dtype="uint16")
    expected[0:3, 0:2] = 1
    record(2, "uint16_fill_partial", a, expected, "uint16")
    sub = root.create_group("nested")
    sub.attrs["level"] = 1
    a = sub.create_array("leaf", shape=SHAPE, chunks=CHUNKS, dtype="int16", compressors=numcodecs.Zlib(level=1))
    a[...] = values("int16")
    a.attrs["units"] = "m"
    record(2, "nested/leaf", a, values("int16"), "int16")

    # --- Zarr v3 -------------------------------------------------------------------------------
    root = zarr.open_group(OUT / "v3.zarr", mode="w", zarr_format=3)
    root.attrs["description"] = "zarr-python v3 fixtures"
    for name, dtype in DTYPES.items():
        a = root.create_array(name, shape=SHAPE, chunks=CHUNKS, dtype=dtype, compressors=ZstdCodec(level=1))
        a[...] = values(dtype)
        record(3, name, a, values(dtype), name)
    v3_variants = {
        "uint16_raw": dict(compressors=None),
        "uint16_gzip": dict(compressors=GzipCodec(level=5)),
        "uint16_blosc": dict(compressors=BloscCodec(cname="lz4", clevel=5, shuffle="shuffle")),
        "uint16_crc32c": dict(compressors=[ZstdCodec(level=1), Crc32cCodec()]),
        "uint16_big_endian": dict(serializer=BytesCodec(endian="big"), compressors=None),
        "uint16_transpose": dict(filters=[TransposeCodec(order=(1, 0))], compressors=ZstdCodec(level=1)),
        "uint16_dot_separator": dict(
            compressors=ZstdCodec(level=1), chunk_key_encoding={"name": "default", "separator": "."}
        ),
    }
    for name, options in v3_variants.items():
        a = root.create_array(name, shape=SHAPE, chunks=CHUNKS, dtype="uint16", **options)
        a[...] = values("uint16")
        record(3, name, a, values("uint16"), "uint16")
    # Sharded: 6x4 shards of 3x2 inner chunks; the manifest's chunks are the shards.
    a = root.create_array(
        "uint16_sharded", shape=SHAPE, shards=(6, 4), chunks=CHUNKS, dtype="uint16", compressors=ZstdCodec(level=1)
    )
    a[...] = values("uint16")
    record(3, "uint16_sharded", a, values("uint16"), "uint16")
    manifest[-1]["chunks"] = [6, 4]
    a = root.create_array(
        "float32_fill_partial",
        shape=SHAPE,
        chunks=CHUNKS,
        dtype="float32",
        fill_value=float("nan"),
        compressors=ZstdCodec(level=1),
    )
    a[0:3, 0:2] = 1.5
    expected = np.full(SHAPE, np.nan, dtype="float32")
    expected[0:3, 0:2] = 1.5
    record(3, "float32_fill_partial", a, expected, "float32")
    sub = root.create_group("nested")
    sub.attrs["level"] = 1
    a = sub.create_array("leaf", shape=SHAPE, chunks=CHUNKS, dtype="int16", compressors=ZstdCodec(level=1))
    a[...] = values("int16")
    a.attrs["units"] = "m"
    record(3, "nested/leaf", a, values("int16"), "int16")

    (OUT / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    print(f"wrote {len(manifest)} arrays under {OUT}")


if __name__ == "__main__":
    main()
