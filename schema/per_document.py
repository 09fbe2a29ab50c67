"""`PerDocument`: answers derived from a parsed document, kept across requests, found by the
document's identity.

strawberry's caches are keyed by the parsed document, and graphql-core's AST nodes hash their
whole tree each time: every request hashed its document again (4.5 % of a REST listing's CPU,
whose documents are long, in a profile). The parse cache (`KeptDocument`) hands out one
document object per query text, so the object's identity names the document; an entry keeps
its document alive, so that identity cannot pass to another object while the entry is kept. A
document parsed anew (evicted from the parser cache) gets its answers computed anew.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

__all__ = ["PerDocument"]

T = TypeVar("T")


class PerDocument(Generic[T]):
    """The answers for the documents last asked about, least recently used dropped.

    Args:
        size: entries kept at most (as many as the parser cache keeps documents).
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[tuple[int, Hashable], tuple[Any, T]] = OrderedDict()

    def get(self, document: Any, also: Hashable, compute: Callable[[], T]) -> T:
        """The answer for `document` and `also` (what else it depends on), computed once."""
        key = (id(document), also)
        found = self._entries.get(key)
        if found is not None:
            self._entries.move_to_end(key)
            return found[1]
        answer = compute()
        self._entries[key] = (document, answer)
        if len(self._entries) > self.size:
            self._entries.popitem(last=False)
        return answer

    def __len__(self) -> int:
        return len(self._entries)
