"""Real servers on loopback for the store tests: moto's S3 server and nginx serving a directory
over HTTP (with range requests). Each starts on a free port and stops when its test session ends.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
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
