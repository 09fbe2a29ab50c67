"""Cytomine JSON conventions GraphQL cannot say: class names, epoch-millisecond dates."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Final

__all__ = [
    "CLASS_NAMES",
    "CLASS_PREFIX",
    "JSON",
    "Shape",
    "domain",
    "epoch_ms",
    "epoch_ms_number",
    "snapshot_json",
]

JSON = dict[str, Any]
Shape = Callable[[JSON], JSON]

CLASS_PREFIX: Final = "be.cytomine.domain."
DATE_KEYS: Final = ("created", "updated")

#: The Java class of each command-based domain (core.md §6.2), for replayed snapshots.
CLASS_NAMES: Final[Mapping[str, str]] = {
    domain: CLASS_PREFIX + package + "." + domain
    for package, domains in (
        ("security", ("User", "SecUserSecRole")),
        ("project", ("Project", "ProjectDefaultLayer", "ProjectRepresentativeUser")),
        ("ontology", ("Ontology", "Term", "RelationTerm", "UserAnnotation", "ReviewedAnnotation",
                      "AnnotationTerm", "Track", "AnnotationTrack", "SharedAnnotation")),
        ("image", ("UploadedFile", "AbstractImage", "AbstractSlice", "CompanionFile",
                   "ImageInstance", "SliceInstance")),
        ("image.server", ("Storage",)),
        ("meta", ("Tag", "TagDomainAssociation")),
        ("processing", ("Software", "SoftwareProject")),
    )
    for domain in domains
}  # fmt: skip


def epoch_ms_number(iso: str | None) -> int | None:
    """An ISO-8601 date as a number of epoch milliseconds: what Cytomine's raw SQL rows and
    activity dates carry (images-annotations.md §0)."""
    if iso is None:
        return None
    return int(datetime.fromisoformat(iso).timestamp() * 1000)


def epoch_ms(iso: str | None) -> str | None:
    """An ISO-8601 date as Cytomine's string of epoch milliseconds (domain JSON)."""
    number = epoch_ms_number(iso)
    return None if number is None else str(number)


def domain_json(node: JSON, full_class: str) -> JSON:
    """Add `class` and turn `created`/`updated` into epoch-ms strings."""
    node["class"] = full_class
    for key in DATE_KEYS:
        if key in node:
            node[key] = epoch_ms(node[key])
    return node


def domain(class_name: str, *, hide_null: tuple[str, ...] = ()) -> Shape:
    """A shaper that adds `class`, turns `created`/`updated` into epoch-ms strings and drops
    the `hide_null` keys when they are null (fields that exist only for some callers)."""
    full = CLASS_PREFIX + class_name

    def shape(node: JSON) -> JSON:
        node = domain_json(node, full)
        for key in hide_null:
            if node.get(key, 0) is None:
                del node[key]
        return node

    return shape


def _camel(column: str) -> str:
    head, *rest = column.removesuffix("_id").split("_")
    return head + "".join(word.title() for word in rest)


def snapshot_json(domain: str, data: JSON) -> JSON:
    """A command's row snapshot in Cytomine's JSON style: camelCase keys without `_id`,
    epoch-ms dates and the class (replayed objects carry no richer form)."""
    node = {_camel(key): value for key, value in data.items() if not key.startswith("_")}
    return domain_json(node, CLASS_NAMES.get(domain, CLASS_PREFIX + domain))
