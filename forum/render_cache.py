"""Rendered reads kept in memory, and the entity tags derived from their keys.

A thread page is the same bytes for every reader of a kind (signed out, or the
secretariat that sees deleted text) until its board changes. Every write to a board
takes its next `seq` in the database, so a key that holds the board's `seq` is right
in every worker at once: a write makes new keys, and old entries simply stop being
asked for and age out. The same key gives the strong `ETag`, so a reader who already
has the page gets a 304 after one small query.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Hashable

from forum import __version__

CACHE_BYTES = 32 * 1024 * 1024


class RenderCache:
    """Least recently used renderings, bounded by their total size."""

    def __init__(self, max_bytes: int = CACHE_BYTES) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self._entries: OrderedDict[Hashable, tuple[object, int]] = OrderedDict()

    def get(self, key: Hashable) -> object | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        self._entries.move_to_end(key)
        return entry[0]

    def put(self, key: Hashable, value: object, size: int) -> None:
        """Keep `value`, counted as `size` bytes, dropping the least recently used."""
        if size > self.max_bytes:
            return
        old = self._entries.pop(key, None)
        if old is not None:
            self.size -= old[1]
        self._entries[key] = (value, size)
        self.size += size
        while self.size > self.max_bytes:
            _, (_, evicted) = self._entries.popitem(last=False)
            self.size -= evicted

    def __len__(self) -> int:
        return len(self._entries)


def etag_for(key: tuple[object, ...]) -> str:
    # The version is part of it: a new release may render the same rows differently.
    digest = hashlib.blake2b(repr((__version__, key)).encode(), digest_size=12).hexdigest()
    return f'"{digest}"'
