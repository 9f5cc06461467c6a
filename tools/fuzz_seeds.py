#!/usr/bin/env python3
"""Write the fuzzers' seed corpora (tests/fuzz/corpus/TARGET/) from the zarr-python fixtures.

Usage: tools/fuzz_seeds.py FIXTURES OUT [FUZZ_CHUNKS_BINARY]

Each seed is an input in its harness's own format (see the comment at the top of each
tests/fuzz/fuzz_*.c): the fixtures' metadata documents for fuzz_metadata, their stored chunks
for fuzz_chunks (plus, given the built fuzz_chunks binary, one chunk per codec chain of its
table, encoded by the engine), their key sets for fuzz_listing and a zip of them for
fuzz_stores. Standard library only; `tools/fuzz seeds` runs it.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

# fuzz_chunks.c's ARRAYS table: the entries whose codec chain a fixture array shares, and that
# array (its chunk grid is the same: 7x5 in 3x2 chunks, or 6x4 shards of 3x2).
CHUNK_FIXTURES = {
    0: "v3.zarr/uint16_raw",
    1: "v3.zarr/uint16_big_endian",
    2: "v3.zarr/uint16_gzip",
    5: "v3.zarr/uint16_blosc",
    7: "v3.zarr/uint16_crc32c",
    8: "v3.zarr/uint16_transpose",
    9: "v3.zarr/uint16_sharded",
    24: "v2.zarr/uint16_raw",
    26: "v2.zarr/uint16_zlib",
    27: "v2.zarr/uint16_gzip",
    28: "v2.zarr/uint16_bz2",
    30: "v2.zarr/uint16_blosc",
    32: "v2.zarr/uint16_order_f",
}


def node_documents(fixtures: Path) -> list[tuple[str, str, dict]]:
    """(store, path, document) for every node; Zarr v2 attributes merged in as zarrlib takes them."""
    nodes = []
    for meta in sorted(fixtures.rglob("*")):
        if meta.name not in ("zarr.json", ".zarray", ".zgroup"):
            continue
        document = json.loads(meta.read_text())
        attrs = meta.parent / ".zattrs"
        if meta.name != "zarr.json" and attrs.exists():
            document["attributes"] = json.loads(attrs.read_text())
        relative = meta.parent.relative_to(fixtures)
        store, path = relative.parts[0], "/".join(relative.parts[1:])
        nodes.append((store, path, document))
    return nodes


def write(out: Path, target: str, name: str, data: bytes) -> None:
    folder = out / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)


def metadata_seeds(fixtures: Path, out: Path) -> None:
    for store, path, document in node_documents(fixtures):
        text = json.dumps(document, separators=(",", ":")).encode()
        is_array = document.get("node_type") == "array" or "shape" in document
        tag = f"{store.split('.')[0]}-{path.replace('/', '-') or 'root'}"
        # open_with_metadata, create (writing), or a group create; then the raw document.
        modes = [0x00, 0x81] if is_array else [0x02]
        raw = fixtures / store / path / (".zarray" if "shape" in document else ".zgroup")
        raw_mode = 3 if document.get("zarr_format") == 3 else (4 if is_array else 5)
        for mode in modes:
            write(out, "metadata", f"{tag}-{mode:02x}", bytes([mode]) + b"a\0" + text)
        raw_text = (fixtures / store / path / "zarr.json").read_bytes() if raw_mode == 3 else raw.read_bytes()
        write(out, "metadata", f"{tag}-raw", bytes([raw_mode | 0x80]) + b"a\0" + raw_text)


def _record_document(data_type: dict, fill_value: object, codecs: list) -> dict:
    return {
        "zarr_format": 3,
        "node_type": "array",
        "shape": [7, 5],
        "data_type": data_type,
        "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [3, 2]}},
        "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
        "fill_value": fill_value,
        "codecs": codecs,
        "attributes": {},
    }


#: Documents no fixture has: Zarr v3 records in both of zarr-python's forms (3.2 and later's
#: `struct` with a fill value per field and a nested record; 3.1's `structured` with a base64
#: fill value and a `bytes` codec without `endian`), as those versions write them.
EXTRA_DOCUMENTS = {
    "v3-record-struct": _record_document(
        {
            "name": "struct",
            "configuration": {
                "fields": [
                    {"name": "a", "data_type": "int32"},
                    {"name": "s", "data_type": {"name": "null_terminated_bytes", "configuration": {"length_bytes": 3}}},
                    {"name": "c", "data_type": "complex64"},
                    {
                        "name": "n",
                        "data_type": {
                            "name": "struct",
                            "configuration": {"fields": [{"name": "x", "data_type": "float32"}]},
                        },
                    },
                ]
            },
        },
        {"a": 7, "s": "eHk=", "c": ["NaN", 1.5], "n": {"x": "-Infinity"}},
        [{"name": "bytes", "configuration": {"endian": "big"}}, {"name": "gzip", "configuration": {"level": 1}}],
    ),
    "v3-record-structured": _record_document(
        {"name": "structured", "configuration": {"fields": [["a", "int32"], ["b", "float64"]]}},
        "BwAAAAAAAAAAAAAA",
        [{"name": "bytes"}],
    ),
}


def extra_metadata_seeds(out: Path) -> None:
    for tag, document in EXTRA_DOCUMENTS.items():
        text = json.dumps(document, separators=(",", ":")).encode()
        for mode in (0x00, 0x81):
            write(out, "metadata", f"{tag}-{mode:02x}", bytes([mode]) + b"a\0" + text)


def chunk_seeds(fixtures: Path, out: Path, binary: str | None) -> None:
    for index, array in CHUNK_FIXTURES.items():
        folder = fixtures / array
        v2 = array.startswith("v2")
        sharded = "sharded" in array
        edge = "1" if sharded else "2"
        for options, (row, col) in ((4, ("0", "0")), (5, (edge, edge))):
            key = f"{row}.{col}" if v2 else f"c/{row}/{col}"
            chunk = folder / key
            if chunk.exists():
                seed = bytes([index, options]) + chunk.read_bytes()
                write(out, "chunks", f"fixture-{index:02d}-{'edge' if options & 1 else 'first'}", seed)
    if binary:
        with tempfile.TemporaryDirectory() as scratch:
            env = dict(os.environ, ZARRLIB_FUZZ_WRITE_SEEDS=scratch)
            subprocess.run([binary], env=env, check=True)
            for seed in sorted(Path(scratch).iterdir()):
                write(out, "chunks", seed.name, seed.read_bytes())


def listing_seeds(fixtures: Path, out: Path) -> None:
    """Key sets of parts of the fixture stores: metadata documents as values, chunks as keys."""
    for store in ("v2.zarr", "v3.zarr"):
        root = fixtures / store
        groups = [["nested"], ["uint16_raw", "uint16_sharded", "bool"], ["uint16_gzip", "float32"]]
        for number, names in enumerate(groups):
            pairs = []
            for file in sorted(root.rglob("*")):
                relative = file.relative_to(root).as_posix()
                top = relative.split("/")[0]
                if not file.is_file() or (top not in names and "/" in relative):
                    continue
                value = file.read_bytes() if file.name.startswith((".z", "zarr.json")) else b"x"
                pairs.append(relative.encode() + b"\0" + value.replace(b"\0", b""))
            control = [0x10, 0x31, 0x02][number]
            path = names[0].encode()
            data = bytes([control]) + path + b"\0" + b"\0".join(pairs[:64])
            write(out, "listing", f"{store.split('.')[0]}-{number}", data)


def zip_of(root: Path, names: list[str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for file in sorted(root.rglob("*")):
            relative = file.relative_to(root).as_posix()
            if file.is_file() and ("/" not in relative or relative.split("/")[0] in names):
                archive.writestr(relative, file.read_bytes())
    return buffer.getvalue()


def store_seeds(fixtures: Path, out: Path) -> None:
    """memory://, directories, zip files (of fixture hierarchies), object store URLs."""
    seeds = {
        "memory": (0, b"", b"{}"),
        "memory-metrics": (0, b"", b'{"metrics":true,"read_only":false}'),
        "dir": (1, b"data.zarr", b'{"metrics":true}'),
        "dir-url-sync": (9, b"a/b.zarr", b'{"sync":true}'),
        "dir-cache": (1, b"c", b'{"file_handle_cache_size":4,"sync":true}'),
        "s3": (3, b"bucket/prefix", b'{"region":"us-east-1","access_key_id":"a","secret_access_key":"b","retries":0}'),
        "gs": (3 | 8, b"bucket/p", b'{"timeout":"1s"}'),
        "az": (3 | 16, b"container/p", b'{"account_name":"a","account_key":"a2V5"}'),
        "http": (3 | 32, b"host/path", b'{"retries":"2","retry_timeout":"5s"}'),
        "zip-s3": (3 | 48, b"bucket/data.zip", b'{"retries":1}'),
        "s3-refused": (4, b"bucket/data.zarr", b""),
        "http-refused": (4 | 8, b"data.zarr", b""),
    }
    for name, (control, tail, options) in seeds.items():
        write(out, "stores", name, bytes([control]) + tail + b"\0" + options + b"\0")
    for store in ("v2.zarr", "v3.zarr"):
        archive = zip_of(fixtures / store, ["nested", "uint16_gzip"])
        for form in range(3):
            control = 2 | (form << 3)
            write(out, "stores", f"zip-{store.split('.')[0]}-{form}", bytes([control]) + b"\0{}\0" + archive)


def edgy(value: int) -> bytes:
    """fuzz_common.h's fz_edgy encoding of a small value."""
    return bytes([(value << 2) & 0xFF]) if value < 64 else bytes([2]) + struct.pack("<H", value)


def selection_seeds(out: Path) -> None:
    """One valid call of each kind on each of fuzz_selections.c's arrays."""
    for which in range(3):
        for op in range(8):
            for write_flag in (0, 0x80):
                starts, extents, steps = [2, 1, 0, 0], [3, 4, 1, 1], [1, 2, 1, 1]
                if op == 1:
                    starts, steps = [9, 1, 0, 0], [1, 3, 1, 1]
                if op == 2:
                    extents = [2, 3, 0, 0]
                if op == 6:
                    extents = [15, 9, 0, 0]
                if op == 7:
                    starts, extents = [0, 0, 0, 0], [1, 11, 0, 0]
                body = bytes([which, op | write_flag, 0]) + edgy(0) + bytes([1])
                for a, b, s in zip(starts, extents, steps, strict=True):
                    body += edgy(a) + edgy(b) + edgy(s)
                points = [3, 1, 0, 10, 5, 4, 2, 2]
                body += bytes([len(points)]) + b"".join(edgy(p) for p in points)
                write(out, "selections", f"a{which}-op{op}-{'w' if write_flag else 'r'}", body)


def main() -> None:
    fixtures, out = Path(sys.argv[1]), Path(sys.argv[2])
    binary = sys.argv[3] if len(sys.argv) > 3 else None
    for target in ("metadata", "chunks", "selections", "stores", "listing"):
        shutil.rmtree(out / target, ignore_errors=True)
    metadata_seeds(fixtures, out)
    extra_metadata_seeds(out)
    chunk_seeds(fixtures, out, binary)
    selection_seeds(out)
    store_seeds(fixtures, out)
    listing_seeds(fixtures, out)
    total = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    digest = hashlib.sha256(b"".join(f.read_bytes() for f in sorted(out.rglob("*")) if f.is_file()))
    print(f"seeds: {sum(1 for f in out.rglob('*') if f.is_file())} files, {total} bytes ({digest.hexdigest()[:12]})")


if __name__ == "__main__":
    main()
