"""Shared fixtures: stores of every kind."""

from __future__ import annotations

import pytest

import zarrlib


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
