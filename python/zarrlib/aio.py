"""Async mirrors of the functional API.

Each coroutine runs its synchronous counterpart on a worker thread (``asyncio.to_thread``). The
native calls release the GIL, so concurrent coroutines decode in parallel.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

from . import functional
from .backends import FUNCTIONS

P = ParamSpec("P")
R = TypeVar("R")


def _mirror(function: Callable[P, R]) -> Callable[P, Coroutine[Any, Any, R]]:
    @functools.wraps(function)
    async def mirrored(*args: P.args, **kwargs: P.kwargs) -> R:
        return await asyncio.to_thread(function, *args, **kwargs)

    mirrored.__doc__ = f"Async mirror of :func:`zarrlib.{function.__name__}`.\n\n{function.__doc__}"
    return mirrored


create_new_group = _mirror(functional.create_new_group)
create_overwrite_group = _mirror(functional.create_overwrite_group)
create_new_array = _mirror(functional.create_new_array)
create_overwrite_array = _mirror(functional.create_overwrite_array)
read_metadata = _mirror(functional.read_metadata)
delete_node = _mirror(functional.delete_node)
list_children = _mirror(functional.list_children)
read_chunk = _mirror(functional.read_chunk)
read_encoded_chunk = _mirror(functional.read_encoded_chunk)
write_chunk = _mirror(functional.write_chunk)
delete_chunk = _mirror(functional.delete_chunk)
read_region = _mirror(functional.read_region)
write_region = _mirror(functional.write_region)
update_attributes = _mirror(functional.update_attributes)
consolidate_metadata = _mirror(functional.consolidate_metadata)
resize_array = _mirror(functional.resize_array)
append = _mirror(functional.append)

__all__ = list(FUNCTIONS)
