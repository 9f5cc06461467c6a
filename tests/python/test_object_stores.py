"""Object stores against real servers on loopback: S3 (moto's server), HTTP (nginx), Azure
(Azurite) and Google Cloud Storage (fake-gcs-server, reads), plus read-only stores of every kind."""

from __future__ import annotations

import multiprocessing
import tempfile
import time

import numpy as np
import pytest
import zarr
from hypothesis import given, settings
from hypothesis import strategies as st

import zarrlib
from layouts import v2_array, v3_array, v3_sharded
from servers import S3_CREDENTIALS, free_port
from test_differential import _build, _same_operations_on, array_specs, assert_equal, draw_writes

LAYOUTS = {
    "v3 zstd": v3_array((20, 30), (8, 16)),
    "v3 sharded": v3_sharded((20, 30), (10, 16), (5, 8)),
    "v2 blosc": v2_array((20, 30), (8, 16)),
}


def s3_store(server, bucket: str, prefix: str = "data.zarr", **options) -> zarrlib.Store:
    return zarrlib.open_store(f"s3://{bucket}/{prefix}", **server.options(**options))


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_s3_round_trip(s3_server, s3_bucket, layout):
    store = s3_store(s3_server, s3_bucket)
    metadata = LAYOUTS[layout]
    data = np.arange(600, dtype=np.uint16).reshape(20, 30)
    group = {"zarr_format": metadata["zarr_format"], "node_type": "group"}
    if metadata["zarr_format"] == 2:
        group = {"zarr_format": 2}
    zarrlib.create_new_group(group, store, "")
    zarrlib.create_new_group(group, store, "g")
    zarrlib.create_new_array(metadata, store, "g/a")
    zarrlib.write_region(metadata, store, "g/a", ..., data)
    zarrlib.write_region(metadata, store, "g/a", (slice(3, 9), slice(5, 25)), np.uint16(7))
    data[3:9, 5:25] = 7
    np.testing.assert_array_equal(zarrlib.read_region(metadata, store, "g/a", ...), data)
    np.testing.assert_array_equal(zarrlib.read_region(metadata, store, "g/a", (slice(1, 19, 3), 4)), data[1:19:3, 4])
    np.testing.assert_array_equal(zarrlib.Array.open(store, "g/a")[::2, ::5], data[::2, ::5])
    # Listing at every depth, and the documents as stored.
    assert [path for path, _ in zarrlib.list_children(store, "")] == ["g"]
    assert [path for path, _ in zarrlib.list_children(store, "g")] == ["g/a"]
    assert zarrlib.list_children(store, "g/a") == []
    assert zarrlib.read_metadata(store, "g/a")["shape"] == [20, 30]
    # A store on the same bucket without the prefix sees the hierarchy one level down.
    bucket_root = zarrlib.open_store(f"s3://{s3_bucket}", **s3_server.options())
    assert [path for path, _ in zarrlib.list_children(bucket_root, "data.zarr")] == ["data.zarr/g"]
    zarrlib.delete_node(store, "g/a")
    assert zarrlib.list_children(store, "g") == []
    with pytest.raises(zarrlib.NodeNotFoundError):
        zarrlib.read_metadata(store, "g/a")


@settings(max_examples=15)
@given(spec=array_specs(), data=st.data())
def test_s3_stores_what_a_local_store_stores(s3_server, spec, data):
    """Every layout the differential suite draws: the same operations on S3 and on a local
    directory leave the same documents and the same chunk bytes."""
    model, full, selection, value = draw_writes(spec, data)
    md = spec.metadata
    s3 = s3_store(s3_server, s3_server.new_bucket(), "root")
    with tempfile.TemporaryDirectory() as local:
        stores = [s3, zarrlib.open_store(local)]
        for store in stores:
            _build(spec, store, "native", full, selection, value)
        for path in ("", "g", "g/h", "b", "g/a"):
            assert zarrlib.read_metadata(stores[0], path) == zarrlib.read_metadata(stores[1], path)
        for path in ("", "g", "g/h"):
            assert zarrlib.list_children(stores[0], path) == zarrlib.list_children(stores[1], path)
        for coords in spec.chunk_coords():
            encoded = [zarrlib.read_encoded_chunk(md, store, "g/a", coords) for store in stores]
            if spec.uncompressed:
                assert encoded[0] == encoded[1], coords
            else:
                assert (encoded[0] is None) == (encoded[1] is None), coords
        assert_equal(zarrlib.read_region(md, s3, "g/a", Ellipsis), model)


@settings(max_examples=10)
@given(spec=array_specs(), data=st.data())
def test_both_backends_on_s3(s3_server, spec, data):
    """The differential suite on S3: each backend builds the hierarchy in its own bucket,
    given as a zarr-python ObjectStore over obstore (which the engine rebuilds natively and
    zarr-python uses as it is), and both read both buckets alike."""
    import obstore.store

    def bucket():
        s3 = obstore.store.S3Store(
            s3_server.new_bucket(),
            endpoint=s3_server.endpoint,
            region=S3_CREDENTIALS["region"],
            access_key_id=S3_CREDENTIALS["access_key_id"],
            secret_access_key=S3_CREDENTIALS["secret_access_key"],
            client_options={"allow_http": True},
        )
        return zarr.storage.ObjectStore(s3)

    roots = {"native": bucket(), "reference": bucket()}
    assert zarrlib.describe_store(roots["native"]).route == "native"
    _same_operations_on(spec, data, roots, exact_bytes=False)


def test_s3_credentials_from_the_environment(s3_server, s3_bucket, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", S3_CREDENTIALS["access_key_id"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", S3_CREDENTIALS["secret_access_key"])
    monkeypatch.setenv("AWS_REGION", S3_CREDENTIALS["region"])
    monkeypatch.setenv("AWS_ENDPOINT", s3_server.endpoint)
    monkeypatch.setenv("AWS_ALLOW_HTTP", "true")
    store = zarrlib.open_store(f"s3://{s3_bucket}")
    zarrlib.create_new_group({"zarr_format": 3, "node_type": "group"}, store, "")
    assert zarrlib.read_metadata(store, "")["node_type"] == "group"


def test_s3_errors_are_storage_errors_and_never_hang(s3_server):
    missing_bucket = s3_store(s3_server, "no-such-bucket", retries=0)
    with pytest.raises(zarrlib.StorageError):
        zarrlib.create_new_group({"zarr_format": 3, "node_type": "group"}, missing_bucket, "")
    # Nothing listens on the port: the configured timeout and retries bound the wait.
    options = {**S3_CREDENTIALS, "endpoint": f"http://127.0.0.1:{free_port()}", "allow_http": True}
    stopped = zarrlib.open_store("s3://bucket", **options, timeout="2s", retries=1, retry_timeout="5s")
    started = time.monotonic()
    with pytest.raises(zarrlib.StorageError):
        zarrlib.read_metadata(stopped, "")
    assert time.monotonic() - started < 60  # a hang guard, not a timing test


@pytest.mark.parametrize(
    ("options", "named"),
    [({"regoin": "x"}, "regoin"), ({"retries": -1}, "retries"), ({"timeout": []}, "timeout")],
)
def test_unknown_or_mistyped_object_store_options_are_named(options, named):
    with pytest.raises(zarrlib.InvalidArgumentError, match=named):
        zarrlib.open_store("s3://bucket/x", **options)


@pytest.mark.parametrize("url", ["gs://bucket/x", "az://container/x", "abfs://container/x"])
def test_other_object_store_schemes_check_their_options(url):
    with pytest.raises(zarrlib.InvalidArgumentError, match="no_such_option"):
        zarrlib.open_store(url, no_such_option=1)


def test_read_only_stores_refuse_every_write(s3_server, s3_bucket, tmp_path):
    metadata = v3_array((4,), (2,))
    writable = s3_store(s3_server, s3_bucket)
    zarrlib.create_new_array(metadata, writable, "a")
    zarrlib.write_region(metadata, writable, "a", ..., np.arange(4, dtype=np.uint16))
    zarrlib.create_new_array(metadata, tmp_path, "a")
    zarrlib.write_region(metadata, tmp_path, "a", ..., np.arange(4, dtype=np.uint16))
    for store in [
        s3_store(s3_server, s3_bucket, read_only=True),
        zarrlib.open_store(tmp_path, read_only=True),
    ]:
        writes = [
            lambda s: zarrlib.create_new_group({"zarr_format": 3, "node_type": "group"}, s, "g"),
            lambda s: zarrlib.write_region(metadata, s, "a", ..., np.zeros(4, np.uint16)),
            lambda s: zarrlib.write_chunk(metadata, s, "a", (0,), np.zeros(2, np.uint16)),
            lambda s: zarrlib.delete_chunk(metadata, s, "a", (0,)),
            lambda s: zarrlib.delete_node(s, "a"),
        ]
        for write in writes:
            with pytest.raises(zarrlib.ReadOnlyError) as raised:
                write(store)
            assert isinstance(raised.value, PermissionError)
        np.testing.assert_array_equal(zarrlib.read_region(metadata, store, "a", ...), np.arange(4))
    with pytest.raises(zarrlib.ReadOnlyError):
        zarrlib.create_new_array(metadata, zarrlib.MemoryStore(read_only=True), "a")


def _read_in_child(store, metadata, queue):
    queue.put(zarrlib.read_region(metadata, store, "a", ...).tolist())


def read_in_process(start_method: str, store, metadata) -> list:
    """Array "a" of ``store`` as a process started by ``start_method`` reads it (the store
    travels to it pickled, or inherited through fork)."""
    context = multiprocessing.get_context(start_method)
    queue = context.Queue()
    child = context.Process(target=_read_in_child, args=(store, metadata, queue))
    child.start()
    child.join(timeout=120)
    assert child.exitcode == 0
    return queue.get(timeout=5)


def test_a_forked_process_reopens_the_store(s3_server, s3_bucket):
    """The engine's runtime and the store's connections do not survive fork: both are made
    again in the child, which reads as the parent does."""
    store = s3_store(s3_server, s3_bucket)
    metadata = v3_array((6,), (2,))
    zarrlib.create_new_array(metadata, store, "a")
    zarrlib.write_region(metadata, store, "a", ..., np.arange(6, dtype=np.uint16))
    assert zarrlib.read_region(metadata, store, "a", ...).tolist() == list(range(6))
    assert read_in_process("fork", store, metadata) == list(range(6))
    # The parent's store still works.
    assert zarrlib.read_region(metadata, store, "a", ...).tolist() == list(range(6))


# --- HTTP ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def served(http_server):
    """Arrays zarr-python wrote, served over HTTP: ``(store URL, {path: data})``."""
    root = http_server.root / "written-by-zarr-python.zarr"
    data = np.arange(24 * 30, dtype=np.int32).reshape(24, 30)
    group = zarr.open_group(str(root), mode="w")
    arrays = {}
    for name, kwargs in {
        "v3": {"chunks": (8, 16), "compressors": zarr.codecs.ZstdCodec()},
        "sharded": {"chunks": (4, 5), "shards": (12, 15)},
    }.items():
        group.create_array(name, shape=data.shape, dtype=data.dtype, **kwargs)[...] = data
        arrays[name] = data
    v2 = zarr.open_group(str(http_server.root / "v2.zarr"), mode="w", zarr_format=2)
    v2.create_array("a", shape=data.shape, dtype=data.dtype, chunks=(8, 16))[...] = data
    return http_server.url, arrays, data


def test_http_reads_what_zarr_python_wrote(served):
    url, arrays, data = served
    store = zarrlib.open_store(f"{url}/written-by-zarr-python.zarr")
    for name in arrays:
        np.testing.assert_array_equal(zarrlib.Array.open(store, name)[...], data)
        np.testing.assert_array_equal(zarrlib.Array.open(store, name)[3:17:2, 5], data[3:17:2, 5])
    v2 = zarrlib.open_store(f"{url}/v2.zarr")
    np.testing.assert_array_equal(zarrlib.Array.open(v2, "a")[...], data)


def test_http_reads_one_inner_chunk_with_range_requests(served):
    url, _, data = served
    store = zarrlib.open_store(f"{url}/written-by-zarr-python.zarr", metrics=True)
    array = zarrlib.Array.open(store, "sharded")
    before = store.metrics()
    np.testing.assert_array_equal(array[0:4, 0:5], data[0:4, 0:5])
    read = store.metrics()["bytes_read"] - before["bytes_read"]
    # The index (9 entries of 16 bytes, and a checksum) and one 4x5 int32 inner chunk, not the
    # shard's 720 bytes of data.
    assert read < 12 * 15 * 4, read


@pytest.mark.parametrize(
    ("name", "region", "most"),
    [
        # One request for the chunk.
        ("v3", (slice(0, 8), slice(0, 16)), 1),
        # The shard index (a suffix range) and one inner chunk.
        ("sharded", (slice(0, 4), slice(0, 5)), 2),
    ],
)
def test_http_reads_make_no_request_for_a_size(served, http_server, name, region, most):
    """A read of a value, whole or in ranges, is one GET per value or range: no HEAD first to
    learn the value's size, which zarrs' object_store adapter makes before every read."""
    url, _, data = served
    array = zarrlib.Array.open(zarrlib.open_store(f"{url}/written-by-zarr-python.zarr"), name)
    # nginx logs a request once it has answered it: the open's may still be on its way.
    time.sleep(0.2)
    seen = len(http_server.requests())
    np.testing.assert_array_equal(array[region], data[region])
    time.sleep(0.2)
    requests = [line for line in http_server.requests()[seen:] if f"/{name}/c/" in line]
    assert all(line.startswith("GET ") for line in requests), requests
    assert len(requests) <= most, requests


def test_http_stores_are_read_only_and_cannot_list(served):
    url, _, _ = served
    store = zarrlib.open_store(f"{url}/written-by-zarr-python.zarr")
    with pytest.raises(zarrlib.ReadOnlyError):
        zarrlib.create_new_group({"zarr_format": 3, "node_type": "group"}, store, "new")
    with pytest.raises(zarrlib.ReadOnlyError):
        zarrlib.Array.open(store, "v3")[0, 0] = 1
    with pytest.raises(zarrlib.UnsupportedError, match="cannot list"):
        zarrlib.list_children(store, "")
    with pytest.raises(zarrlib.NodeNotFoundError):
        zarrlib.read_metadata(store, "missing")


# --- zip files -------------------------------------------------------------------------------


def write_zip(path) -> np.ndarray:
    """A zip file zarr-python's ZipStore wrote: a group with a v3 and a sharded array."""
    data = np.arange(12 * 10, dtype=np.float64).reshape(12, 10)
    store = zarr.storage.ZipStore(path, mode="w")
    group = zarr.open_group(store, mode="w")
    group.create_array("plain", shape=data.shape, dtype=data.dtype, chunks=(5, 5))[...] = data
    group.create_array("sharded", shape=data.shape, dtype=data.dtype, chunks=(2, 5), shards=(6, 10))[...] = data
    store.close()
    return data


def check_zip_store(store) -> None:
    data = np.arange(12 * 10, dtype=np.float64).reshape(12, 10)
    assert sorted(path for path, _ in zarrlib.list_children(store, "")) == ["plain", "sharded"]
    for name in ["plain", "sharded"]:
        np.testing.assert_array_equal(zarrlib.Array.open(store, name)[...], data)
        np.testing.assert_array_equal(zarrlib.Array.open(store, name)[1:11:3, ::4], data[1:11:3, ::4])
    with pytest.raises(zarrlib.ReadOnlyError):
        zarrlib.Array.open(store, "plain")[0, 0] = 1
    with pytest.raises(zarrlib.ReadOnlyError):
        zarrlib.create_new_group({"zarr_format": 3, "node_type": "group"}, store, "g")


def test_a_zip_file_zarr_python_wrote_reads_equal(tmp_path):
    write_zip(tmp_path / "data.zip")
    check_zip_store(zarrlib.open_store(tmp_path / "data.zip"))
    check_zip_store(zarrlib.open_store(f"file://{tmp_path}/data.zip"))
    check_zip_store(zarrlib.open_store(f"zip+file://{tmp_path}/data.zip"))
    assert (tmp_path / "data.zip").stat().st_size > 0


def test_a_deflated_zip_file_reads_equal(tmp_path):
    """Zip tools (``zip -r``, Python's zipfile, archive managers) deflate entries by default;
    zarr-python's ZipStore stores them."""
    import zipfile

    write_zip(tmp_path / "stored.zip")
    with zipfile.ZipFile(tmp_path / "stored.zip") as source:
        with zipfile.ZipFile(tmp_path / "deflated.zip", "w", zipfile.ZIP_DEFLATED) as target:
            for info in source.infolist():
                target.writestr(info.filename, source.read(info))
    with zipfile.ZipFile(tmp_path / "deflated.zip") as check:
        assert {info.compress_type for info in check.infolist()} == {zipfile.ZIP_DEFLATED}
    check_zip_store(zarrlib.open_store(tmp_path / "deflated.zip"))


def test_a_file_that_is_not_a_zip_file_is_not_a_store(tmp_path):
    (tmp_path / "notes.txt").write_text("not a zip file")
    with pytest.raises(zarrlib.InvalidArgumentError, match="zip"):
        zarrlib.open_store(tmp_path / "notes.txt")
    with pytest.raises(zarrlib.StorageError):
        zarrlib.open_store(f"zip+file://{tmp_path}/missing.zip")


def test_a_zip_file_in_a_bucket(s3_server, s3_bucket, tmp_path):
    import boto3

    write_zip(tmp_path / "data.zip")
    client = boto3.client(
        "s3",
        endpoint_url=s3_server.endpoint,
        **{"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "region_name": "us-east-1"},
    )
    client.upload_file(str(tmp_path / "data.zip"), s3_bucket, "archive/data.zip")
    check_zip_store(zarrlib.open_store(f"zip+s3://{s3_bucket}/archive/data.zip", **s3_server.options()))


def test_a_zip_file_over_http(http_server):
    write_zip(http_server.root / "data.zip")
    check_zip_store(zarrlib.open_store(f"zip+{http_server.url}/data.zip"))


def write_zip_bomb(path, size: int, *, lie: bool) -> None:
    """A zip holding a v3 array of one 64-byte chunk whose entry is ``size`` deflated zeros
    (about a thousandth of that stored), declaring its true size or (``lie``) 64 bytes."""
    import json
    import struct
    import zipfile

    document = v3_array((64,), (64,), "uint8", compressor=None)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("zarr.json", json.dumps(document))
        with archive.open("c/0", "w") as entry:
            for _ in range(size >> 20):
                entry.write(bytes(1 << 20))
    data = bytearray(path.read_bytes())
    if lie:  # the local header's and the central directory's uncompressed size of c/0
        for signature, size_at, name_length_at, name_at in ((b"PK\x03\x04", 22, 26, 30), (b"PK\x01\x02", 24, 28, 46)):
            at = data.find(signature)
            while at >= 0:
                length = struct.unpack_from("<H", data, at + name_length_at)[0]
                if data[at + name_at : at + name_at + length] == b"c/0":
                    struct.pack_into("<I", data, at + size_at, 64)
                at = data.find(signature, at + 4)
    path.write_bytes(bytes(data))


def test_zip_bombs_are_bounded_on_every_route(s3_server, s3_bucket, http_server, tmp_path):
    """Deflate bombs in a zip, read locally, from a bucket and over HTTP: an entry declaring more
    than ``max_chunk_bytes`` is refused when the zip opens, and one lying about its size fails
    once it has produced the size it declared; neither makes the engine allocate the bomb."""
    from test_hostile import run_in_child

    client = s3_server.client()
    urls = {}
    for kind in ("honest", "lying"):
        name = f"bomb-{kind}-{tmp_path.name}.zip"
        write_zip_bomb(http_server.root / name, 256 << 20, lie=kind == "lying")
        client.upload_file(str(http_server.root / name), s3_bucket, name)
        urls[kind] = [str(http_server.root / name), f"zip+s3://{s3_bucket}/{name}", f"zip+{http_server.url}/{name}"]
    outcome = run_in_child(
        f"""
        zarrlib.set_config(max_chunk_bytes=64 << 20)
        urls, options = {urls!r}, {s3_server.options()!r}
        for kind, routes in urls.items():
            for url in routes:
                try:
                    store = zarrlib.open_store(url, **(options if url.startswith("zip+s3") else {{}}))
                    zarrlib.Array.open(store, "")[...]
                    outcome[kind + " " + url] = "read"
                except zarrlib.ZarrlibError as error:
                    outcome[kind + " " + url] = type(error).__name__ + ": " + str(error)
        """
    )
    grew = outcome.pop("grew_mib")
    assert len(outcome) == 6, outcome
    for key, result in outcome.items():
        if key.startswith("honest"):
            assert result.startswith("InvalidArgumentError") and "limit" in result, (key, result)
        else:
            assert result.startswith("StorageError"), (key, result)
    assert grew < 64, f"the child grew {grew:.0f} MiB reading zip bombs"


# --- Azure (Azurite) -------------------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["az", "abfs"])
def test_azure_round_trip(azurite, scheme):
    container = azurite.new_container()
    store = zarrlib.open_store(f"{scheme}://{container}/data.zarr", use_emulator=True, retries=1)
    metadata = LAYOUTS["v3 sharded"]
    data = np.arange(600, dtype=np.uint16).reshape(20, 30)
    zarrlib.create_new_group({"zarr_format": 3, "node_type": "group"}, store, "")
    zarrlib.create_new_array(metadata, store, "a")
    zarrlib.write_region(metadata, store, "a", ..., data)
    np.testing.assert_array_equal(zarrlib.Array.open(store, "a")[2:19:4, 3:29:5], data[2:19:4, 3:29:5])
    assert [path for path, _ in zarrlib.list_children(store, "")] == ["a"]
    zarrlib.delete_node(store, "a")
    assert zarrlib.list_children(store, "") == []


# --- Google Cloud Storage (fake-gcs-server) --------------------------------------------------


def test_gcs_reads_what_zarr_python_wrote(gcs_server, tmp_path):
    data = np.arange(600, dtype=np.uint16).reshape(20, 30)
    source = zarr.open_group(tmp_path / "v3", mode="w")
    source.create_array("plain", shape=data.shape, dtype=data.dtype, chunks=(8, 16))[...] = data
    source.create_array("sharded", shape=data.shape, dtype=data.dtype, chunks=(5, 8), shards=(10, 16))[...] = data
    source.create_group("inner").attrs["title"] = "inner"
    zarr.create_array(tmp_path / "v2", shape=data.shape, dtype="<f8", chunks=(8, 16), zarr_format=2)[...] = data
    bucket = gcs_server.new_bucket()
    gcs_server.upload_tree(bucket, "data.zarr", tmp_path / "v3")
    gcs_server.upload_tree(bucket, "legacy.zarr", tmp_path / "v2")

    store = zarrlib.open_store(f"gs://{bucket}/data.zarr", **gcs_server.options(retries=1))
    for name in ["plain", "sharded"]:
        array = zarrlib.Array.open(store, name)
        np.testing.assert_array_equal(array[...], data)
        np.testing.assert_array_equal(array[2:19:4, 3:29:5], data[2:19:4, 3:29:5])
    assert sorted(path for path, _ in zarrlib.list_children(store, "")) == ["inner", "plain", "sharded"]
    assert zarrlib.Group.open(store, "inner").attrs["title"] == "inner"
    legacy = zarrlib.open_store(f"gs://{bucket}/legacy.zarr", **gcs_server.options(retries=1))
    np.testing.assert_array_equal(zarrlib.Array.open(legacy, "")[...], data.astype("<f8"))


def test_gcs_errors_are_clear(gcs_server):
    bucket = gcs_server.new_bucket()
    empty = zarrlib.open_store(f"gs://{bucket}/data.zarr", **gcs_server.options(retries=0))
    with pytest.raises(zarrlib.NodeNotFoundError):
        zarrlib.Array.open(empty, "a")
    # No server at all: a storage error, within the retry timeout, never a hang.
    options = gcs_server.options(retries=0)
    options["service_account_key"] = options["service_account_key"].replace(str(gcs_server.port), str(free_port()))
    gone = zarrlib.open_store(f"gs://{bucket}/data.zarr", **options)
    started = time.monotonic()
    with pytest.raises(zarrlib.StorageError):
        zarrlib.Array.open(gone, "a")
    assert time.monotonic() - started < 30


# --- a missing bucket or container ---------------------------------------------------------


def missing_bucket_store(kind: str, request) -> zarrlib.Store:
    """A store whose bucket (or container) does not exist, on the emulator of ``kind``."""
    if kind == "S3":
        return s3_store(request.getfixturevalue("s3_server"), "no-such-bucket", retries=0)
    if kind == "GCS":
        return zarrlib.open_store(
            "gs://no-such-bucket/data.zarr", **request.getfixturevalue("gcs_server").options(retries=0)
        )
    request.getfixturevalue("azurite")
    return zarrlib.open_store("az://no-such-container/data.zarr", use_emulator=True, retries=0)


@pytest.mark.parametrize("kind", ["S3", "GCS", "Azure"])
def test_a_missing_bucket_is_a_storage_error_that_names_it(kind, request):
    """A missing bucket answers a read as a missing key does (fake-gcs-server says only "Not
    Found"): without a check, the store would read as empty, every node missing and every chunk
    the fill value. Every first use says the bucket is missing instead, naming it."""
    store = missing_bucket_store(kind, request)
    noun = "container" if kind == "Azure" else "bucket"
    name = f"no-such-{noun}"
    calls = {
        "read_metadata": lambda: zarrlib.read_metadata(store, ""),
        "list_children": lambda: zarrlib.list_children(store, ""),
        "Group.open": lambda: zarrlib.Group.open(store, ""),
        "read_chunk": lambda: zarrlib.read_chunk(LAYOUTS["v3 zstd"], store, "a", (0, 0)),
        "create_new_group": lambda: zarrlib.create_new_group({"zarr_format": 3, "node_type": "group"}, store, ""),
    }
    for call, function in calls.items():
        with pytest.raises(zarrlib.StorageError, match=f'{kind} {noun} "{name}" does not exist') as raised:
            function()
        assert not isinstance(raised.value, zarrlib.NodeNotFoundError), call


def test_a_missing_key_in_an_existing_bucket_is_still_just_missing(s3_server, s3_bucket, gcs_server):
    """The check runs only while the bucket is not known to exist, and finds it."""
    for store in (
        s3_store(s3_server, s3_bucket, retries=0),
        zarrlib.open_store(f"gs://{gcs_server.new_bucket()}/data.zarr", **gcs_server.options(retries=0)),
    ):
        with pytest.raises(zarrlib.NodeNotFoundError):
            zarrlib.read_metadata(store, "")
        assert (zarrlib.read_chunk(LAYOUTS["v3 zstd"], store, "a", (0, 0)) == 0).all()


# --- pickling --------------------------------------------------------------------------------


def test_stores_pickle_as_their_url_and_options(s3_server, s3_bucket, tmp_path, monkeypatch):
    import pickle

    metadata = v3_array((4,), (2,))
    local = zarrlib.open_store(tmp_path / "d.zarr", sync=True)
    s3 = s3_store(s3_server, s3_bucket)
    for store in [local, s3]:
        zarrlib.create_new_array(metadata, store, "a")
        zarrlib.write_region(metadata, store, "a", ..., np.arange(4, dtype=np.uint16))
        again = pickle.loads(pickle.dumps(store))
        assert type(again) is zarrlib.Store and again.url == store.url and again.options == store.options
        assert zarrlib.read_region(metadata, again, "a", ...).tolist() == [0, 1, 2, 3]
    # Credentials left out of the options come from the environment where it is unpickled.
    bare = zarrlib.open_store(f"s3://{s3_bucket}/data.zarr", endpoint=s3_server.endpoint, allow_http=True)
    payload = pickle.dumps(bare)
    assert b"testing" not in payload
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    assert zarrlib.read_region(metadata, pickle.loads(payload), "a", ...).tolist() == [0, 1, 2, 3]
    with pytest.raises(TypeError, match="memory"):
        pickle.dumps(zarrlib.MemoryStore())


def test_a_spawned_process_reopens_a_pickled_store(s3_server, s3_bucket):
    store = s3_store(s3_server, s3_bucket)
    metadata = v3_array((6,), (4,))
    zarrlib.create_new_array(metadata, store, "a")
    zarrlib.write_region(metadata, store, "a", ..., np.arange(6, dtype=np.uint16))
    assert read_in_process("spawn", store, metadata) == list(range(6))
