"""Attributes as a mutable mapping that writes through to the store.

Every change is one native call that rewrites only the attributes (``zarr.json`` with its other
members as stored, or ``.zattrs`` for Zarr v2), never data. Reads come from the node's metadata
as this object last saw it: changes made through it show at once, changes made elsewhere after
the node was opened do not (as in zarr-python); :meth:`Attributes.refresh` reads them again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, MutableMapping
from typing import Any

from ._types import Document
from .stores import Store


class Attributes(MutableMapping[str, Any]):
    """The attributes of one node. ``update`` merges in one write; ``put`` replaces them all."""

    def __init__(self, store: Store, path: str, metadata: Callable[[], Document], changed: Callable[[Document], None]):
        self._store = store
        self._path = path
        self._metadata = metadata
        self._changed = changed

    def _current(self) -> dict[str, Any]:
        attributes: dict[str, Any] = self._metadata().get("attributes", {})
        return attributes

    def __getitem__(self, key: str) -> Any:
        return self._current()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._current()))

    def __len__(self) -> int:
        return len(self._current())

    def __setitem__(self, key: str, value: Any) -> None:
        self.update({key: value})

    def __delitem__(self, key: str) -> None:
        remaining = dict(self._current())
        del remaining[key]
        self.put(remaining)

    def update(self, other: Any = (), /, **changes: Any) -> None:
        """Merge keys in with one write (``dict.update``'s arguments)."""
        merged = dict(other, **changes)
        self._changed(self._store.update_attributes(self._path, merged))

    def put(self, attributes: Mapping[str, Any]) -> None:
        """Replace every attribute with ``attributes``, in one write."""
        self._changed(self._store.update_attributes(self._path, attributes, replace=True))

    def refresh(self) -> None:
        """Read the attributes from the store again."""
        self._changed(self._store.read_metadata(self._path))

    def asdict(self) -> dict[str, Any]:
        """A copy as a plain dict."""
        return dict(self._current())

    def __repr__(self) -> str:
        return f"Attributes({self._current()!r})"
