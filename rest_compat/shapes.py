"""Cytomine JSON conventions GraphQL cannot say: class names, epoch-millisecond dates."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Final

__all__ = ["CLASS_PREFIX", "JSON", "Shape", "domain", "epoch_ms"]

JSON = dict[str, Any]
Shape = Callable[[JSON], JSON]

CLASS_PREFIX: Final = "be.cytomine.domain."
DATE_KEYS: Final = ("created", "updated")


def epoch_ms(iso: str | None) -> str | None:
    """An ISO-8601 date as Cytomine's string of epoch milliseconds."""
    if iso is None:
        return None
    return str(int(datetime.fromisoformat(iso).timestamp() * 1000))


def domain(class_name: str, *, hide_null: tuple[str, ...] = ()) -> Shape:
    """A shaper that adds `class`, turns `created`/`updated` into epoch-ms strings and drops
    the `hide_null` keys when they are null (fields that exist only for some callers)."""
    full = CLASS_PREFIX + class_name

    def shape(node: JSON) -> JSON:
        node["class"] = full
        for key in DATE_KEYS:
            if key in node:
                node[key] = epoch_ms(node[key])
        for key in hide_null:
            if node.get(key, 0) is None:
                del node[key]
        return node

    return shape
