"""Shared fixtures (stores of every kind) and the hypothesis profiles.

``ZARRLIB_HYPOTHESIS_PROFILE`` picks the profile: ``default`` (quick, for the test command) or
``thorough`` (many more examples, for a long run).
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

import zarrlib

# gcsfs 2026.x by default probes each bucket's type over gRPC, which an emulator does not serve:
# a minute's timeout per bucket before it falls back to the JSON API the tests use.
os.environ.setdefault("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")

settings.register_profile("default", max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("ZARRLIB_HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(params=["memory", "local"])
def store(request, tmp_path):
    """A fresh store: in memory, or a local directory (as a zarrlib.Store)."""
    if request.param == "memory":
        return zarrlib.MemoryStore()
    return zarrlib.open_store(tmp_path / "store.zarr")


@pytest.fixture
def metered_store():
    """An in-memory store that counts its requests."""
    return zarrlib.MemoryStore(metrics=True)


@pytest.fixture(scope="session")
def s3_server():
    """moto's S3 server on loopback, for the whole session."""
    from servers import S3Server

    server = S3Server()
    yield server
    server.stop()


@pytest.fixture
def s3_bucket(s3_server):
    """A new, empty bucket on the S3 server: its name."""
    return s3_server.new_bucket()


@pytest.fixture(scope="session")
def http_server():
    """nginx serving a directory on loopback, for the whole session."""
    from servers import HttpServer

    server = HttpServer()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def gcs_server():
    """fake-gcs-server on loopback, for the whole session."""
    from servers import GcsServer

    server = GcsServer()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def azurite():
    """Azurite's blob service on loopback, for the whole session. object_store finds an
    emulator through ``AZURITE_BLOB_STORAGE_URL``."""
    from servers import AzuriteServer

    server = AzuriteServer()
    previous = os.environ.get("AZURITE_BLOB_STORAGE_URL")
    os.environ["AZURITE_BLOB_STORAGE_URL"] = server.url
    yield server
    if previous is None:
        del os.environ["AZURITE_BLOB_STORAGE_URL"]
    else:
        os.environ["AZURITE_BLOB_STORAGE_URL"] = previous
    server.stop()
