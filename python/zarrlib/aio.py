"""Async mirrors of the functional API.

Each coroutine runs its synchronous counterpart on a worker thread (``asyncio.to_thread``). The
native calls release the GIL, so concurrent coroutines decode in parallel.
"""

from __future__ import annotations

import asyncio
import functools

from . import functional
from .backends import FUNCTIONS


def _mirror(function):
    @functools.wraps(function)
    async def mirrored(*args, **kwargs):
        return await asyncio.to_thread(function, *args, **kwargs)

    mirrored.__doc__ = f"Async mirror of :func:`zarrlib.{function.__name__}`.\n\n{function.__doc__}"
    return mirrored


for _name in FUNCTIONS:
    globals()[_name] = _mirror(getattr(functional, _name))

__all__ = list(FUNCTIONS)
