"""Descriptions of what many types share, given where a type does not describe it itself:
what introspection, GraphiQL's documentation and schema.graphql show.

Ids, dates, the pieces of a page, the command of a change, the ids of related objects
(`imageId`: the id of its image) and the payloads of mutations mean the same everywhere, so
they are described once here rather than on each of the hundreds of fields that carry them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

from graphql import GraphQLNamedType, GraphQLObjectType, GraphQLSchema

__all__ = ["describe_shared"]

FIELDS: Final[Mapping[str, str]] = {
    "id": "Its id.",
    "created": "When it was created.",
    "updated": "When it last changed.",
    "totalCount": "How many items the whole list holds, over all its pages.",
    "nodes": "The items of this page.",
    "pageInfo": "Where this page lies in the list.",
    "min": "The smallest value.",
    "max": "The largest value.",
}
#: The command of a mutation's answer or a history entry.
COMMAND: Final = "The command that recorded the change: what undo and redo act on."
PAYLOAD: Final = (
    "What a mutation answers: the object as the change left it (as it was, for a deletion) "
    "and the command that recorded the change."
)
_WORDS: Final = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def _id_of(name: str) -> str | None:
    """`imageId` → "The id of its image."; None for any other name."""
    if not name.endswith("Id") or len(name) <= 2:
        return None
    words = _WORDS.sub(" ", name[:-2]).lower()
    return f"The id of its {words}."


def _field_description(field_name: str, type_name: str) -> str | None:
    if field_name == "command" and type_name == "Command":
        return COMMAND
    return FIELDS.get(field_name) or _id_of(field_name)


def describe_shared(schema: GraphQLSchema) -> None:
    """Describe the undescribed shared fields and payload types of `schema`, in place."""
    for type_ in schema.type_map.values():
        if type_.name.startswith("__") or not isinstance(type_, GraphQLObjectType):
            continue
        if type_.description is None and type_.name.endswith("Payload"):
            type_.description = PAYLOAD
        for name, field in type_.fields.items():
            if field.description is None:
                field_type: GraphQLNamedType = _named(field.type)
                field.description = _field_description(name, field_type.name)


def _named(type_: object) -> GraphQLNamedType:
    while hasattr(type_, "of_type"):
        type_ = type_.of_type
    return type_  # type: ignore[return-value]
