"""Descriptions of what many types share, given where a type does not describe it itself:
what introspection, GraphiQL's documentation and schema.graphql show.

Ids, dates, names, the pieces of a page, the command of a change, the ids of related objects
(`imageId`: the id of its image), the bounds of a list's fields, the root fields reading one
object by id and the payloads of mutations
mean the same everywhere, and the two kinds of images (of slices) share their dimensions: they
are described once here rather than on each of the hundreds of fields that carry them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

from graphql import (
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    get_named_type,
    get_nullable_type,
)

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
    "name": "Its name.",
}
#: Fields the two kinds of images share (an instance shows its abstract image's), and the two
#: kinds of slices.
IMAGE_FIELDS: Final[Mapping[str, str]] = {
    "width": "Its width in pixels, at full resolution.",
    "height": "Its height in pixels, at full resolution.",
    "depth": "How many z-planes it has.",
    "duration": "How many time points it has.",
    "samplePerPixel": "Samples per pixel (3 for RGB).",
    "bitPerSample": "Bits per sample.",
    "physicalSizeY": "µm per pixel along y.",
    "physicalSizeZ": "µm between z-planes.",
    "fps": "Frames per second of its time points.",
    "magnification": "The objective magnification it was scanned at.",
    "colorspace": "Its colour space.",
    "tileSize": "The side of its tiles, in pixels.",
    "originalFilename": "The name of the file it was uploaded as.",
}
CALIBRATION_FIELDS: Final[Mapping[str, str]] = {
    **IMAGE_FIELDS,
    "physicalSizeX": "µm per pixel along x.",
}
SLICE_FIELDS: Final[Mapping[str, str]] = {
    "mime": "Its format, as the image server names it (openslide/svs…).",
    "channel": "Its channel, from 0.",
    "zStack": "Its z-plane, from 0.",
    "time": "Its time point, from 0.",
    "channelName": "Its channel's name.",
    "channelColor": "Its channel's display colour.",
    "zName": "Its z-plane's name.",
}
BY_TYPE: Final[Mapping[str, Mapping[str, str]]] = {
    "AbstractImage": IMAGE_FIELDS,
    "ImageInstance": IMAGE_FIELDS,
    "AbstractSlice": SLICE_FIELDS,
    "SliceInstance": SLICE_FIELDS,
    "Calibration": CALIBRATION_FIELDS,
}
#: The command of a mutation's answer or a history entry.
COMMAND: Final = "The command that recorded the change: what undo and redo act on."
PAYLOAD: Final = (
    "What a mutation answers: the object as the change left it (as it was, for a deletion) "
    "and the command that recorded the change."
)
#: A payload's object: what the change concerns.
CHANGED: Final = "The {} as the change left it (as it was, for a deletion)."
_WORDS: Final = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def _id_of(name: str) -> str | None:
    """`imageId` → "The id of its image."; None for any other name."""
    if not name.endswith("Id") or len(name) <= 2:
        return None
    return f"The id of its {_words(name[:-2])}."


def _words(name: str) -> str:
    return _WORDS.sub(" ", name).lower()


def _named_by(field_name: str, fields: Mapping[str, object]) -> str | None:
    """`user` beside `userId` (`tracks` beside `trackIds`): "The user `userId` names."."""
    for key in (f"{field_name}Id", f"{field_name.removesuffix('s')}Ids"):
        if key in fields and key != field_name:
            return f"The {_words(field_name)} `{key}` names."
    return None


def _field_description(
    type_name: str, field_name: str, field_type: str, arguments: tuple[str, ...]
) -> str | None:
    if type_name == "Query" and arguments == ("id",):
        return f"One {_words(field_type)} by its id (NOT_FOUND when there is none)."
    if field_name == "command" and field_type == "Command":
        return COMMAND
    if type_name.endswith("Bounds") and field_type.endswith(("Bounds", "ValueRange")):
        return f"The range of `{field_name}` over the list."
    shared = BY_TYPE.get(type_name, {}).get(field_name)
    return shared or FIELDS.get(field_name) or _id_of(field_name)


def _input_description(type_name: str, field_name: str, field_type: GraphQLInputType) -> str | None:
    """An input's reference to other objects by id (`project: Long`, `terms: [Long!]`): "The
    id of its project.". A filter's fields say what they keep, so they are described where
    they are declared."""
    plain = type_name.endswith("Filter") or field_name.endswith("Ident")  # a domain's object
    if plain or get_named_type(field_type).name != "Long":
        return FIELDS.get(field_name)
    if isinstance(get_nullable_type(field_type), GraphQLList):
        return f"The ids of its {_words(field_name)}."
    return FIELDS.get(field_name) or f"The id of its {_words(field_name)}."


#: Arguments that mean the same on every field that takes them.
ARGUMENTS: Final[Mapping[str, str]] = {
    "first": "How many items the page holds at most (the server bounds it).",
    "offset": "How many items to skip before the page.",
    "sort": "The field the list is sorted by.",
    "order": "The sort's direction: asc or desc.",
    "filters": "Conditions on the items' fields, as the REST list's `field[op]=value`.",
    "filter": "What the listed items must match.",
    "input": "The fields to set.",
    "afterThan": "Only what was created after this moment.",
    "beforeThan": "Only what was created before this moment.",
    "domainClassName": "The class of the object it belongs to.",
    "domainIdent": "The id of the object it belongs to.",
}
#: Objects of more than one type, referred to by id alike (an image instance or an abstract
#: image, an annotation of either layer).
_KINDS: Final = frozenset(("image", "slice", "annotation"))
#: What a mutation's name adds to the object it changes (`projectUpdate`: a project).
_VERBS: Final = re.compile(r"(Create|Update|Delete|Show)$")


def _argument_description(
    schema: GraphQLSchema, type_name: str, field_name: str, name: str, arg_type: GraphQLInputType
) -> str | None:
    """A shared argument (`first`, `input`…), or a reference by id: `userId: Long` or
    `user: Long` ("The id of the user."), and the `id` of a root field named after a type
    (`project(id:)`, `projectUpdate(id:)`)."""
    if name in ARGUMENTS:
        return ARGUMENTS[name]
    if get_named_type(arg_type).name != "Long":
        return None
    if name == "id":
        subject = _VERBS.sub("", field_name) if type_name in ("Query", "Mutation") else ""
        return f"The id of the {_words(subject)}." if _names_objects(schema, subject) else None
    listed = isinstance(get_nullable_type(arg_type), GraphQLList)
    subject = name.removesuffix("Ids" if listed else "Id").removesuffix("s" if listed else "")
    if not _names_objects(schema, subject):
        return None
    return f"The ids of the {_words(subject)}s." if listed else f"The id of the {_words(subject)}."


def _names_objects(schema: GraphQLSchema, subject: str) -> bool:
    """`subject` (`imageInstance`) names a kind of object."""
    if subject in _KINDS:
        return True
    return bool(subject) and schema.get_type(subject[0].upper() + subject[1:]) is not None


def describe_shared(schema: GraphQLSchema) -> None:
    """Describe the undescribed shared fields, payload types and input references of
    `schema`, in place."""
    for type_ in schema.type_map.values():
        if type_.name.startswith("__"):
            continue
        if isinstance(type_, GraphQLInputObjectType):
            for name, input_field in type_.fields.items():
                if input_field.description is None:
                    input_field.description = _input_description(type_.name, name, input_field.type)
            continue
        if not isinstance(type_, GraphQLObjectType):
            continue
        payload = type_.name.endswith("Payload")
        if type_.description is None and payload:
            type_.description = PAYLOAD
        for name, field in type_.fields.items():
            for arg_name, arg in field.args.items():
                if arg.description is None:
                    arg.description = _argument_description(
                        schema, type_.name, name, arg_name, arg.type
                    )
            if field.description is None:
                field_type: GraphQLNamedType = get_named_type(field.type)
                field.description = (
                    _field_description(type_.name, name, field_type.name, tuple(field.args))
                    or _named_by(name, type_.fields)
                    or (CHANGED.format(_words(name)) if payload else None)
                )
