"""Unencoded chunks of object stores, streamed from the server's answer straight into the output
(frame by frame, no buffer for the whole chunk): reads over HTTP (nginx) and S3 (moto) equal the
local read, edge and missing chunks included, and a chunk of the wrong length, or an answer
that breaks off, is an error, never a partial read reported as a success."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import zarr

import zarrlib

SHAPE = (23, 30)
CHUNKS = (8, 16)
#: The chunk left unstored: it reads as the fill value.
MISSING = (1, 1)


def write_unencoded(path: Path, zarr_format: int, dtype: str) -> np.ndarray:
    """An array of unencoded chunks as zarr-python writes it, with edge chunks on both axes and
    one chunk not stored: the data a read should give."""
    data = (np.arange(np.prod(SHAPE)) * 3 + 1).astype(dtype).reshape(SHAPE)
    array = zarr.create_array(
        str(path),
        shape=SHAPE,
        chunks=CHUNKS,
        dtype=dtype,
        compressors=None,
        fill_value=7,
        zarr_format=zarr_format,
    )
    array[...] = data
    key = "c/1/1" if zarr_format == 3 else "1.1"
    (path / key).unlink()
    data[8:16, 16:30] = 7
    return data


def chunk_file(path: Path, zarr_format: int, chunk: tuple[int, int]) -> Path:
    return path / ("c/{}/{}" if zarr_format == 3 else "{}.{}").format(*chunk)


REGIONS = [
    (Ellipsis,),
    (slice(3, 21), slice(5, 29)),  # parts of chunks, edge chunks too
    (slice(8, 16), slice(0, 16)),  # exactly one chunk
    (slice(2, 19, 3), slice(None, None, -2)),  # steps
    (5, slice(None)),  # one row across chunks
    (slice(None), 17),  # one column: runs of one element
    (slice(9, 12), slice(17, 20)),  # inside the missing chunk
]


def check_reads(store: zarrlib.Store, local: zarrlib.Store, path: str, data: np.ndarray) -> None:
    array = zarrlib.Array.open(store, path)
    local_array = zarrlib.Array.open(local, path)
    for region in REGIONS:
        expected = data[region]
        np.testing.assert_array_equal(array[region], expected, err_msg=str(region))
        np.testing.assert_array_equal(local_array[region], expected, err_msg=str(region))
    grid = [(i, j) for i in range(3) for j in range(2)]
    for chunk in grid:
        np.testing.assert_array_equal(array.read_chunk(chunk), local_array.read_chunk(chunk), err_msg=str(chunk))
    np.testing.assert_array_equal(array.read_chunks(grid), local_array.read_chunks(grid))
    out = np.empty(CHUNKS, dtype=data.dtype)
    array.read_chunk(MISSING, out=out)
    assert (out == 7).all()


LAYOUTS = [(3, "uint16"), (3, "float64"), (2, "int32"), (2, "uint8")]


@pytest.mark.parametrize(("zarr_format", "dtype"), LAYOUTS)
def test_unencoded_arrays_over_http_read_as_locally(http_server, tmp_path, zarr_format, dtype):
    name = f"unencoded-v{zarr_format}-{dtype}.zarr"
    data = write_unencoded(http_server.root / name, zarr_format, dtype)
    store = zarrlib.open_store(f"{http_server.url}/{name}")
    check_reads(store, zarrlib.open_store(str(http_server.root / name)), "", data)


@pytest.mark.parametrize(("zarr_format", "dtype"), LAYOUTS)
def test_unencoded_arrays_on_s3_read_as_locally(s3_server, s3_bucket, tmp_path, zarr_format, dtype):
    local = tmp_path / "a.zarr"
    data = write_unencoded(local, zarr_format, dtype)
    client = s3_server.client()
    for file in local.rglob("*"):
        if file.is_file():
            client.put_object(Bucket=s3_bucket, Key=f"data.zarr/{file.relative_to(local)}", Body=file.read_bytes())
    store = zarrlib.open_store(f"s3://{s3_bucket}/data.zarr", **s3_server.options())
    check_reads(store, zarrlib.open_store(str(local)), "", data)


def test_streamed_reads_are_counted_by_metrics(http_server):
    name = "unencoded-metrics.zarr"
    data = write_unencoded(http_server.root / name, 3, "uint16")
    store = zarrlib.open_store(f"{http_server.url}/{name}", metrics=True)
    array = zarrlib.Array.open(store, "")
    before = store.metrics()
    np.testing.assert_array_equal(array[...], data)
    after = store.metrics()
    # Six chunks asked for, one not stored; five chunks' bytes.
    assert after["reads"] - before["reads"] == 6
    assert after["bytes_read"] - before["bytes_read"] == 5 * 8 * 16 * 2
    array.read_chunk((0, 0))
    assert store.metrics()["reads"] - after["reads"] == 1


@pytest.mark.parametrize("change", ["truncated", "longer"])
def test_a_chunk_of_the_wrong_length_is_corrupt_data(http_server, change):
    name = f"unencoded-{change}.zarr"
    path = http_server.root / name
    write_unencoded(path, 3, "uint16")
    file = chunk_file(path, 3, (0, 1))
    body = file.read_bytes()
    file.write_bytes(body[:-6] if change == "truncated" else body + b"\0\0")
    array = zarrlib.Array.open(zarrlib.open_store(f"{http_server.url}/{name}"), "")
    for read in (
        lambda: array[...],
        lambda: array[0:4, 16:20],
        lambda: array.read_chunk((0, 1)),
        lambda: array.read_chunks([(0, 0), (0, 1)]),
    ):
        with pytest.raises(zarrlib.CorruptDataError, match="c/0/1"):
            read()
    # The other chunks still read.
    np.testing.assert_array_equal(array.read_chunk((0, 0)).shape, CHUNKS)


class BreakingServer:
    """An HTTP server that answers GETs from a directory, but for one key sends a
    ``Content-Length`` of the whole file and then only half of it before closing the
    connection: a request failing mid-body."""

    def __init__(self, root: Path, broken: str) -> None:
        self.root = root
        self.broken = broken
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(16)
        self.url = f"http://127.0.0.1:{self._socket.getsockname()[1]}"
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self._socket.accept()
            except OSError:
                return
            threading.Thread(target=self._answer, args=(connection,), daemon=True).start()

    def _answer(self, connection: socket.socket) -> None:
        with connection:
            request = b""
            while b"\r\n\r\n" not in request:
                part = connection.recv(65536)
                if not part:
                    return
                request += part
            key = request.split(b" ")[1].decode().lstrip("/")
            file = self.root / key
            if not file.is_file():
                connection.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                return
            body = file.read_bytes()
            head = f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
            connection.sendall(head + (body[: len(body) // 2] if key == self.broken else body))

    def stop(self) -> None:
        self._socket.close()


def test_an_answer_breaking_off_mid_body_is_an_error(tmp_path):
    path = tmp_path / "a.zarr"
    write_unencoded(path, 3, "uint16")
    server = BreakingServer(tmp_path, "a.zarr/c/0/1")
    try:
        store = zarrlib.open_store(f"{server.url}/a.zarr", retries=0)
        array = zarrlib.Array.open(store, "")
        for read in (lambda: array[...], lambda: array.read_chunk((0, 1))):
            with pytest.raises((zarrlib.StorageError, zarrlib.CorruptDataError)):
                read()
        np.testing.assert_array_equal(array.read_chunk((0, 0)).shape, CHUNKS)
    finally:
        server.stop()


class SilentServer(BreakingServer):
    """An HTTP server that answers GETs from a directory, but for one key reads the request and
    never answers: a server that hangs."""

    def __init__(self, root: Path, silent: str) -> None:
        self.held: list[socket.socket] = []
        super().__init__(root, broken="")
        self.silent = silent

    def _answer(self, connection: socket.socket) -> None:
        request = connection.recv(65536, socket.MSG_PEEK)
        if request.split(b" ")[1:2] == [f"/{self.silent}".encode()]:
            self.held.append(connection)  # open, unanswered, until the test ends
            return
        super()._answer(connection)


def test_a_server_that_stops_answering_gives_a_storage_error_within_the_timeout(tmp_path):
    """A streamed chunk read runs as a task on the I/O runtime: object_store's timeout still
    ends it, and the caller gets the error (and can read on)."""
    path = tmp_path / "a.zarr"
    write_unencoded(path, 3, "uint16")
    server = SilentServer(tmp_path, "a.zarr/c/0/1")
    try:
        store = zarrlib.open_store(f"{server.url}/a.zarr", timeout="1s", retries=0)
        array = zarrlib.Array.open(store, "")
        started = time.monotonic()
        for read in (lambda: array.read_chunk((0, 1)), lambda: array[...]):
            with pytest.raises(zarrlib.StorageError):
                read()
        assert time.monotonic() - started < 60  # a hang guard, not a timing test
        np.testing.assert_array_equal(array.read_chunk((0, 0)).shape, CHUNKS)
    finally:
        server.stop()
        for connection in server.held:
            connection.close()


@pytest.mark.parametrize("compressor", ["blosc", "zlib", "zstd"])
def test_v2_compressed_chunks_are_never_taken_for_unencoded_ones(http_server, compressor):
    """zarrs' v3 form of a v2 array leaves out the codecs it cannot convert: the array's own
    compressor decides whether chunks are stored unencoded."""
    import numcodecs

    codec = {"blosc": numcodecs.Blosc(), "zlib": numcodecs.Zlib(), "zstd": numcodecs.Zstd()}[compressor]
    name = f"v2-{compressor}.zarr"
    data = np.arange(np.prod(SHAPE), dtype="uint16").reshape(SHAPE)
    array = zarr.create_array(
        str(http_server.root / name), shape=SHAPE, chunks=CHUNKS, dtype=data.dtype, compressors=codec, zarr_format=2
    )
    array[...] = data
    remote = zarrlib.Array.open(zarrlib.open_store(f"{http_server.url}/{name}"), "")
    np.testing.assert_array_equal(remote[...], data)
    np.testing.assert_array_equal(remote.read_chunk((0, 0)), data[:8, :16])
