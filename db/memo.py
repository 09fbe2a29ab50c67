"""`Memo`: answers derived from the database, kept a few seconds by one process so that a burst
of identical requests (the tiles of a slide) reads the database once.

An entry lives at most `ttl` seconds, at most `size` entries are kept (oldest out first), and
every entry is dropped as soon as a transaction of this process commits a write to one of the
tables the memo depends on (`Database.watch` delivers the tables written). Another process's
writes are seen once the entries expire: `ttl` is the staleness bound, and each user of a
memo says why that bound is safe for what it keeps.

A value computed while a write commits must not outlive the write: `put` takes the
`generation` read before the computation started and drops the value when a write came in
between.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Collection, Hashable
from typing import Generic, TypeVar

__all__ = ["Memo"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Memo(Generic[K, V]):
    """See the module docstring.

    Args:
        depends_on: the tables whose writes make every entry stale.
        ttl: seconds an entry is kept at most.
        size: entries kept at most.
    """

    def __init__(self, depends_on: Collection[str], *, ttl: float, size: int) -> None:
        self.depends_on = frozenset(depends_on)
        self.ttl = ttl
        self.size = size
        #: Bumped by every write the memo depends on (see `put`).
        self.generation = 0
        self._items: OrderedDict[K, tuple[float, V]] = OrderedDict()

    def get(self, key: K) -> V | None:
        """The value kept for `key`, unless it expired."""
        found = self._items.get(key)
        if found is None:
            return None
        if found[0] < time.monotonic():
            del self._items[key]
            return None
        return found[1]

    def put(self, key: K, value: V, generation: int, *, lapses: float | None = None) -> None:
        """Keep `value`, computed from what the database held at `generation`; `lapses`: the
        seconds after which it stops being true by itself (a token's expiry), when sooner than
        `ttl`."""
        kept = self.ttl if lapses is None else min(self.ttl, lapses)
        if generation != self.generation or kept <= 0:
            return
        self._items[key] = (time.monotonic() + kept, value)
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)

    def written(self, tables: Collection[str]) -> None:
        """Forget everything when a committed write touched a table the memo depends on."""
        if self.depends_on.isdisjoint(tables):
            return
        self.generation += 1
        self._items.clear()

    def __len__(self) -> int:
        return len(self._items)
