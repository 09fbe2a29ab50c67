"""`planned_input`: an input type whose values are built from a plan made once per type.

Strawberry converts an input value field by field, resolving each field's type again for every
value it builds; for an argument holding thousands of inputs (`annotationCreateEach`) or an
input of many fields asked on every request (a listing's filter) that is most of the cost of
the request before any resolver runs. The type's `from_input` hook (Strawberry's own extension
point for types that build their values) lets a type do the same conversion from a plan: which
fields are leaves (scalars, enums and lists of them, which graphql-core has already coerced and
which pass as they are, lists copied) and which need Strawberry's conversion (nested inputs,
`Maybe`), resolved on the first value and kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import MISSING
from typing import Any, TypeVar

from strawberry.scalars import is_scalar
from strawberry.types.arguments import InputContext
from strawberry.types.base import (
    StrawberryList,
    StrawberryMaybe,
    StrawberryOptional,
    get_object_definition,
)
from strawberry.types.enum import StrawberryEnumDefinition

__all__ = ["planned_input"]

T = TypeVar("T", bound=type)

#: How a field is built: as it comes, as a copied list, or by Strawberry's conversion.
AS_IS, COPIED, CONVERTED = 0, 1, 2


def _leaf(type_: Any, registry: Mapping[object, Any]) -> bool:
    return isinstance(type_, StrawberryEnumDefinition) or is_scalar(type_, registry)


def _kind(type_: Any, registry: Mapping[object, Any]) -> int:
    if isinstance(type_, StrawberryMaybe):
        return CONVERTED  # Strawberry wraps it in Some
    while isinstance(type_, StrawberryOptional):
        type_ = type_.of_type
    if _leaf(type_, registry):
        return AS_IS
    if isinstance(type_, StrawberryList):
        inner = type_.of_type
        while isinstance(inner, StrawberryOptional):
            inner = inner.of_type
        if _leaf(inner, registry):
            return COPIED
    return CONVERTED


def planned_input(cls: T) -> T:
    """Build `cls`'s values from a plan (module docstring); `cls` is a `@strawberry.input`."""
    definition = get_object_definition(cls, strict=True)
    plan: list[tuple[str, str, Any, int]] = []
    required: dict[str, None] = {
        field.python_name: None
        for field in definition.fields
        if field.default_value is MISSING and field.default_factory is MISSING
    }

    def from_input(built: type, value: Mapping[str, Any], context: InputContext) -> Any:
        if not plan:
            for field in definition.fields:
                type_ = field.resolve_type(type_definition=definition)
                name = context.config.name_converter.from_field(field)
                plan.append((name, field.python_name, type_, _kind(type_, context.scalar_registry)))
        kwargs: dict[str, Any] = dict(required)
        for name, python_name, type_, kind in plan:
            if name not in value:
                continue
            item = value[name]
            if kind == AS_IS or (item is None and kind == COPIED):
                kwargs[python_name] = item
            elif kind == COPIED:
                kwargs[python_name] = list(item)
            else:
                kwargs[python_name] = context.convert(item, type_, name)
        return built(**kwargs)

    definition.from_input = from_input
    return cls
