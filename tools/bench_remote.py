#!/usr/bin/env python3
"""Benchmark reads of remote data, and of zarr-python's MemoryStore through the callback path.

Sources (one array each, uint16, written once by zarr-python with ``tools/bench.py``'s layouts):
  http     served by nginx on loopback (a static file server answering range requests)
  http-latency  the same through a proxy that holds each request back by --latency ms, as a
           remote server's round trip would; it also counts each reader's peak of requests in
           flight during one read_all
  s3       in a bucket of moto's S3 server on loopback (``moto[server]``, a Python server: it is
           the bottleneck for everyone, so the row measures how requests are issued)
  memory   a zarr-python ``MemoryStore``: zarrlib reaches it through its store callbacks, and the
           same data in a ``zarrlib.MemoryStore`` is the native path to compare with

Readers (columns), each skipped when its module is missing:
  zarrlib             zarrlib's own store for the source (``open_store(url)``); for memory, the
                      native ``zarrlib.MemoryStore``
  zarrlib-callbacks   (memory) zarrlib over the zarr-python MemoryStore, through the callbacks
  zarr-python/obstore zarr-python with an ObjectStore over obstore's HTTPStore / S3Store
  zarr-python/fsspec  zarr-python with an FsspecStore (HTTP, s3fs)
  zarrs/obstore       zarr-python with the zarrs codec pipeline on the obstore store
  zarrs/fsspec        zarr-python with the zarrs codec pipeline on the FsspecStore
  zarr-python         (memory) zarr-python on its MemoryStore
  tensorstore         tensorstore's zarr3 driver over its http or s3 kvstore

Operations (rows): read_all (``a[...]``) and read_chunks (every chunk's region read in turn).
Timing: best of --repeats runs, interleaved across readers in a rotated order, every result
checked against the data.

    python tools/bench_remote.py                  # 256^3, 64^3 chunks, all sources
    python tools/bench_remote.py --sources http --shape 128 --chunks 32 --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "python"))

from bench import make_data, short_error, write_layout  # noqa: E402

from servers import S3_CREDENTIALS, HttpServer, S3Server, free_port  # noqa: E402

SOURCES = ("http", "http-latency", "s3", "memory")
OPERATIONS = ("read_all", "read_chunks")


def regions(shape, chunks):
    """Every chunk's region, in C order."""
    import itertools

    grid = [range(0, n, c) for n, c in zip(shape, chunks, strict=True)]
    return [
        tuple(slice(s, min(s + c, n)) for s, c, n in zip(start, chunks, shape, strict=True))
        for start in itertools.product(*grid)
    ]


# --- servers ----------------------------------------------------------------------------------


class LatencyProxy:
    """An HTTP/1.1 proxy on loopback in front of the static server that holds each request back
    by ``latency`` seconds, as a remote store's round trip would, and counts the requests in
    flight (a request is in flight from its arrival until its response has been passed on: GET
    and HEAD only, responses delimited by Content-Length, as nginx sends static files)."""

    def __init__(self, upstream_port: int, latency: float):
        import asyncio
        import threading

        self.upstream_port, self.latency = upstream_port, latency
        self.in_flight = self.peak = 0
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._loop = asyncio.new_event_loop()
        threading.Thread(target=self._loop.run_forever, daemon=True).start()
        start = asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self._server = asyncio.run_coroutine_threadsafe(start, self._loop).result()

    async def _serve(self, client_reader, client_writer) -> None:
        import asyncio

        upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        try:
            while True:
                request = await client_reader.readuntil(b"\r\n\r\n")
                self.in_flight += 1
                self.peak = max(self.peak, self.in_flight)
                await asyncio.sleep(self.latency)
                upstream_writer.write(request)
                response = await upstream_reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in response.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                if request.startswith(b"HEAD ") or response.split(b" ")[1] in (b"204", b"304"):
                    length = 0
                client_writer.write(response + await upstream_reader.readexactly(length))
                await client_writer.drain()
                self.in_flight -= 1
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            client_writer.close()
            upstream_writer.close()

    def reset_peak(self) -> None:
        self.peak = self.in_flight

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._server.close)


# --- readers: each opens the source's array and returns an object with a[region] -----------------


def zarr_array(store, pipeline: str | None = None):
    import zarr

    path = pipeline or "zarr.core.codec_pipeline.BatchedCodecPipeline"
    with zarr.config.set({"codec_pipeline.path": path}):
        return zarr.open_array(store=store, mode="r")


class TensorstoreArray:
    def __init__(self, kvstore: dict):
        import tensorstore as ts

        self._array = ts.open({"driver": "zarr3", "kvstore": kvstore}, open=True, read=True).result()

    def __getitem__(self, region):
        return self._array[region].read().result()


def http_readers(url: str) -> dict:
    import zarrlib

    def obstore_store():
        import obstore.store
        import zarr.storage

        return zarr.storage.ObjectStore(
            obstore.store.HTTPStore.from_url(url, client_options={"allow_http": True}), read_only=True
        )

    def fsspec_store():
        import zarr.storage

        return zarr.storage.FsspecStore.from_url(url, read_only=True)

    return {
        "zarrlib": lambda: zarrlib.open_array(zarrlib.open_store(url)),
        "zarr-python/obstore": lambda: zarr_array(obstore_store()),
        "zarr-python/fsspec": lambda: zarr_array(fsspec_store()),
        "zarrs/obstore": lambda: zarr_array(obstore_store(), "zarrs.ZarrsCodecPipeline"),
        "zarrs/fsspec": lambda: zarr_array(fsspec_store(), "zarrs.ZarrsCodecPipeline"),
        "tensorstore": lambda: TensorstoreArray({"driver": "http", "base_url": url}),
    }


def s3_readers(server: S3Server, bucket: str, prefix: str) -> dict:
    import zarrlib

    def obstore_store():
        import obstore.store
        import zarr.storage

        s3 = obstore.store.S3Store(
            bucket,
            prefix=prefix,
            endpoint=server.endpoint,
            region="us-east-1",
            access_key_id=S3_CREDENTIALS["access_key_id"],
            secret_access_key=S3_CREDENTIALS["secret_access_key"],
            client_options={"allow_http": True},
        )
        return zarr.storage.ObjectStore(s3, read_only=True)

    def fsspec_store():
        import zarr.storage

        options = {
            "key": S3_CREDENTIALS["access_key_id"],
            "secret": S3_CREDENTIALS["secret_access_key"],
            "endpoint_url": server.endpoint,
        }
        return zarr.storage.FsspecStore.from_url(f"s3://{bucket}/{prefix}", storage_options=options, read_only=True)

    kvstore = {
        "driver": "s3",
        "bucket": bucket,
        "path": f"{prefix}/",
        "endpoint": server.endpoint,
        "aws_region": "us-east-1",
        "aws_credentials": {"type": "environment"},
    }
    return {
        "zarrlib": lambda: zarrlib.open_array(zarrlib.open_store(f"s3://{bucket}/{prefix}", **server.options())),
        "zarr-python/obstore": lambda: zarr_array(obstore_store()),
        "zarr-python/fsspec": lambda: zarr_array(fsspec_store()),
        "zarrs/obstore": lambda: zarr_array(obstore_store(), "zarrs.ZarrsCodecPipeline"),
        "zarrs/fsspec": lambda: zarr_array(fsspec_store(), "zarrs.ZarrsCodecPipeline"),
        "tensorstore": lambda: TensorstoreArray(kvstore),
    }


def memory_readers(directory: str) -> dict:
    import zarr.storage

    import zarrlib

    source = zarr.storage.MemoryStore()
    for path in Path(directory).rglob("*"):
        if path.is_file():
            key = path.relative_to(directory).as_posix()
            zarr.core.sync.sync(source.set(key, zarr.core.buffer.cpu.Buffer.from_bytes(path.read_bytes())))
    native = zarrlib.MemoryStore()
    metadata = zarrlib.read_metadata(source, "")
    zarrlib.create_new_array(metadata, native, "")
    zarrlib.write_region(metadata, native, "", ..., zarrlib.open_array(source)[...])
    return {
        "zarrlib": lambda: zarrlib.open_array(native),
        "zarrlib-callbacks": lambda: zarrlib.open_array(source),
        "zarr-python": lambda: zarr_array(source),
        "zarrs": lambda: zarr_array(source, "zarrs.ZarrsCodecPipeline"),
    }


# --- timing ----------------------------------------------------------------------------------


def time_rows(source: str, readers: dict, data: np.ndarray, chunks, args) -> list[dict]:
    arrays, rows = {}, []
    for name, open_array in readers.items():
        try:
            arrays[name] = open_array()
        except Exception as err:  # a missing peer or one that cannot open the source
            rows.append({"source": source, "reader": name, "error": short_error(err)})
            if args.verbose:
                traceback.print_exc()
    chunk_regions = regions(data.shape, chunks)
    operations = {
        "read_all": lambda a: np.array_equal(a[...], data),
        "read_chunks": lambda a: all(np.array_equal(a[r], data[r]) for r in chunk_regions),
    }
    for op, run in operations.items():
        best: dict[str, float] = {}
        failed: dict[str, str] = {}
        names = list(arrays)
        for round_number in range(args.repeats):
            shift = round_number % max(len(names), 1)
            for name in names[shift:] + names[:shift]:
                if name in failed:
                    continue
                try:
                    start = time.perf_counter()
                    ok = run(arrays[name])
                    elapsed = time.perf_counter() - start
                    if not ok:
                        raise AssertionError("wrong values")
                    best[name] = min(best.get(name, elapsed), elapsed)
                except Exception as err:
                    failed[name] = short_error(err)
        for name in names:
            row = {"source": source, "op": op, "reader": name, "seconds": best.get(name), "error": failed.get(name)}
            rows.append(row)
            print(json.dumps(row), flush=True)
    return rows


def in_flight(proxy: LatencyProxy, readers: dict, data: np.ndarray) -> list[dict]:
    """Each reader's peak of requests in flight during one read_all through the latency proxy."""
    rows = []
    for name, open_array in readers.items():
        try:
            array = open_array()
            proxy.reset_peak()
            ok = np.array_equal(array[...], data)
        except Exception as err:
            rows.append({"source": "http-latency", "op": "in_flight", "reader": name, "error": short_error(err)})
            continue
        rows.append({"source": "http-latency", "op": "in_flight", "reader": name, "peak": proxy.peak if ok else None})
        print(json.dumps(rows[-1]), flush=True)
    return rows


def table(rows: list[dict], data_bytes: int) -> str:
    lines = []
    for source in SOURCES:
        timed = [r for r in rows if r.get("source") == source and r.get("op") in OPERATIONS]
        if not timed:
            continue
        readers = list(dict.fromkeys(r["reader"] for r in timed))
        lines.append(f"\n{source}: seconds (best), zarrlib / fastest peer")
        lines.append("| op | " + " | ".join(readers) + " | zarrlib / fastest peer |")
        lines.append("|---|" + "---|" * (len(readers) + 1))
        for op in OPERATIONS:
            cells, peers = [], []
            for reader in readers:
                (row,) = [r for r in timed if r["op"] == op and r["reader"] == reader] or [{}]
                seconds = row.get("seconds")
                cells.append(f"{seconds:.3f}" if seconds is not None else (row.get("error") or "n/a")[:40])
                if seconds is not None and not reader.startswith("zarrlib"):
                    peers.append(seconds)
            (ours,) = [r.get("seconds") for r in timed if r["op"] == op and r["reader"] == "zarrlib"] or [None]
            ratio = f"{ours / min(peers):.2f}" if ours and peers else "n/a"
            lines.append(f"| {op} | " + " | ".join(cells) + f" | {ratio} |")
        in_flight = [r for r in rows if r.get("source") == source and r.get("op") == "in_flight"]
        if in_flight:
            lines.append(
                "peak requests in flight during read_all (through the latency proxy): "
                + ", ".join(f"{r['reader']} {r.get('peak', r.get('error'))}" for r in in_flight)
            )
    lines.append(f"\narray: {data_bytes / 2**20:.0f} MiB")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sources", default=",".join(SOURCES))
    parser.add_argument("--shape", type=int, default=256, help="edge of the cubic array")
    parser.add_argument("--chunks", type=int, default=64, help="edge of the cubic chunks")
    parser.add_argument("--layout", default="zstd", help="a tools/bench.py layout (raw, zstd, blosc, sharded)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--latency", type=float, default=20, help="ms the http-latency proxy adds to each request")
    parser.add_argument("--json", help="write the rows here")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    # tensorstore's s3 kvstore takes credentials from the environment.
    os.environ.setdefault("AWS_ACCESS_KEY_ID", S3_CREDENTIALS["access_key_id"])
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", S3_CREDENTIALS["secret_access_key"])
    shape, chunks = (args.shape,) * 3, (args.chunks,) * 3
    data = make_data(shape, seed=1)
    rows: list[dict] = []
    with tempfile.TemporaryDirectory() as workdir:
        array_dir = os.path.join(workdir, "www", "a.zarr")
        write_layout(args.layout, array_dir, data, chunks, tuple(c // 4 for c in chunks))
        sources = args.sources.split(",")
        if "http" in sources or "http-latency" in sources:
            nginx = HttpServer()
            shutil.copytree(array_dir, nginx.root / "a.zarr")
            proxy = LatencyProxy(nginx.port, args.latency / 1000)
            try:
                if "http" in sources:
                    rows += time_rows("http", http_readers(f"{nginx.url}/a.zarr"), data, chunks, args)
                if "http-latency" in sources:
                    slow = http_readers(f"{proxy.url}/a.zarr")
                    rows += time_rows("http-latency", slow, data, chunks, args)
                    rows += in_flight(proxy, slow, data)
            finally:
                proxy.stop()
                nginx.stop()
        if "s3" in sources:
            server = S3Server()
            try:
                bucket = server.new_bucket()
                import zarrlib

                upload = zarrlib.open_store(f"s3://{bucket}/a.zarr", **server.options())
                metadata = zarrlib.read_metadata(array_dir, "")
                zarrlib.create_new_array(metadata, upload, "")
                zarrlib.write_region(metadata, upload, "", ..., data)
                rows += time_rows("s3", s3_readers(server, bucket, "a.zarr"), data, chunks, args)
            finally:
                server.stop()
        if "memory" in sources:
            rows += time_rows("memory", memory_readers(array_dir), data, chunks, args)
    print(table(rows, data.nbytes))
    if args.json:
        Path(args.json).write_text(json.dumps({"args": vars(args), "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
