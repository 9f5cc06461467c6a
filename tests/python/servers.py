"""Real servers on loopback for the store tests: moto's S3 server, nginx serving a directory over
HTTP (with range requests), Azurite (Azure) and fake-gcs-server (Google Cloud Storage). Each starts
on a free port and stops when its test session ends.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

#: The credentials moto accepts (any), passed explicitly so the tests never read the environment's.
S3_CREDENTIALS = {"access_key_id": "testing", "secret_access_key": "testing", "region": "us-east-1"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=1).close()  # noqa: S310 (loopback only)
            return
        except urllib.error.HTTPError:
            return  # the server answers
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


class S3Server:
    """moto's S3 server, in this process's threads."""

    def __init__(self) -> None:
        from moto.server import ThreadedMotoServer

        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self._server.start()
        wait_for(self.endpoint)

    def options(self, **extra) -> dict:
        """Store options for this server."""
        return {"endpoint": self.endpoint, "allow_http": True, **S3_CREDENTIALS, **extra}

    def client(self):
        """A boto3 S3 client of this server."""
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            region_name="us-east-1",
        )

    def new_bucket(self) -> str:
        name = f"b-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        return name

    def stop(self) -> None:
        self._server.stop()


class HttpServer:
    """nginx serving ``root`` read-only, as a static file server does (GET, HEAD and range
    requests), logging each request's method, path and status (:meth:`requests`)."""

    def __init__(self) -> None:
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        if not Path(nginx).exists():
            raise RuntimeError("nginx is needed for the HTTP store tests (Debian package nginx; .ci/run installs it)")
        self._dir = Path(tempfile.mkdtemp(prefix="zarrlib-nginx-"))
        self.root = self._dir / "www"
        self.root.mkdir()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        conf = self._dir / "nginx.conf"
        conf.write_text(
            f"""
            daemon off;
            master_process off;
            worker_processes 1;
            error_log {self._dir}/error.log;
            pid {self._dir}/nginx.pid;
            events {{ worker_connections 256; }}
            http {{
                log_format requests '$request_method $uri $status';
                access_log {self._dir}/access.log requests;
                client_body_temp_path {self._dir}/body;
                proxy_temp_path {self._dir}/proxy;
                fastcgi_temp_path {self._dir}/fastcgi;
                uwsgi_temp_path {self._dir}/uwsgi;
                scgi_temp_path {self._dir}/scgi;
                server {{
                    listen 127.0.0.1:{self.port};
                    root {self.root};
                }}
            }}
            """
        )
        self._process = subprocess.Popen(
            [nginx, "-p", str(self._dir), "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        wait_for(self.url)

    def requests(self) -> list[str]:
        """Every request served so far, one ``"METHOD /path STATUS"`` line each."""
        log = self._dir / "access.log"
        return log.read_text().splitlines() if log.exists() else []

    def stop(self) -> None:
        self._process.terminate()
        self._process.wait(timeout=10)
        shutil.rmtree(self._dir, ignore_errors=True)


#: Azurite's well-known development account.
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


class AzuriteServer:
    """Azurite's blob service (the Azure Storage emulator, from npm), in a temporary directory.
    ``tools/run_tests`` installs it under ``build-node``."""

    def __init__(self) -> None:
        installed = Path(__file__).parents[2] / "build-node" / "node_modules" / ".bin" / "azurite-blob"
        azurite = shutil.which("azurite-blob") or str(installed)
        if not Path(azurite).exists():
            raise RuntimeError("azurite is needed for the Azure store tests (tools/run_tests installs it with npm)")
        self._dir = Path(tempfile.mkdtemp(prefix="zarrlib-azurite-"))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._process = subprocess.Popen(
            [azurite, "--blobHost", "127.0.0.1", "--blobPort", str(self.port), "--location", str(self._dir)]
            + ["--silent", "--skipApiVersionCheck", "--loose"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        wait_for(f"{self.url}/{AZURITE_ACCOUNT}?comp=list")

    @property
    def connection_string(self) -> str:
        return (
            f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};AccountKey={AZURITE_KEY};"
            f"BlobEndpoint={self.url}/{AZURITE_ACCOUNT};"
        )

    def new_container(self) -> str:
        from azure.storage.blob import BlobServiceClient

        name = f"c-{uuid.uuid4().hex[:12]}"
        BlobServiceClient.from_connection_string(self.connection_string).create_container(name)
        return name

    def stop(self) -> None:
        self._process.terminate()
        self._process.wait(timeout=10)
        shutil.rmtree(self._dir, ignore_errors=True)


class GcsServer:
    """fake-gcs-server (a Go program; ``tools/run_tests`` installs it under ``build-go``), in memory.

    It serves GCS's JSON API and reads through the XML API, which object_store's GCS client uses
    for GET and HEAD, but not the XML API's PUT and DELETE (object_store's own tests run a fork
    that adds them): data go in through the JSON API (:meth:`upload`), and zarrlib reads them."""

    def __init__(self) -> None:
        installed = Path(__file__).parents[2] / "build-go" / "bin" / "fake-gcs-server"
        program = shutil.which("fake-gcs-server") or str(installed)
        if not Path(program).exists():
            raise RuntimeError(
                "fake-gcs-server is needed for the GCS store tests (tools/run_tests installs it with go)"
            )
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._process = subprocess.Popen(
            [program, "-scheme", "http", "-host", "127.0.0.1", "-port", str(self.port)]
            + ["-public-host", f"127.0.0.1:{self.port}", "-backend", "memory", "-log-level", "error"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        wait_for(f"{self.url}/storage/v1/b")

    def options(self, **extra) -> dict:
        """Store options for this server: object_store reads the server's address and "no OAuth"
        from a service account key, as its own tests against an emulator do."""
        key = {
            "gcs_base_url": self.url,
            "disable_oauth": True,
            "client_email": "",
            "private_key": "",
            "private_key_id": "",
        }
        return {"service_account_key": json.dumps(key), "allow_http": True, **extra}

    def _request(self, method: str, path: str, body: bytes = b"", content_type: str = "application/json") -> bytes:
        request = urllib.request.Request(
            self.url + path, data=body, method=method, headers={"Content-Type": content_type}
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (loopback only)
            return response.read()

    def new_bucket(self) -> str:
        name = f"b-{uuid.uuid4().hex[:12]}"
        self._request("POST", "/storage/v1/b", json.dumps({"name": name}).encode())
        return name

    def upload(self, bucket: str, key: str, value: bytes) -> None:
        name = urllib.parse.quote(key, safe="")
        self._request(
            "POST", f"/upload/storage/v1/b/{bucket}/o?uploadType=media&name={name}", value, "application/octet-stream"
        )

    def upload_tree(self, bucket: str, prefix: str, root: Path) -> None:
        """Every file under ``root``, as ``prefix/<its path under root>``."""
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            self.upload(bucket, f"{prefix}/{path.relative_to(root).as_posix()}", path.read_bytes())

    def stop(self) -> None:
        self._process.terminate()
        self._process.wait(timeout=10)
