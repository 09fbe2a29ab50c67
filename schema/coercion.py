"""List variables coerced from a plan made once per input type.

graphql-core coerces a variable's value by walking the type at every value: for each element of
an `annotationCreateEach` array it asks again what kind of type it holds, visits every field of
the input type (computing each absent one's default), then walks the whole value a second time
to check its nesting. For ten thousand elements that was 88 ms before any resolver ran, most of
what stood between a bulk write and PostgreSQL.

`coercer` builds, once per type, a function doing the same coercion as graphql-core's
`coerce_input_value` (the same results: null handling, a single value as a list of one, unknown
and required fields, defaults, `@oneOf`, `out_type`, the leaves' own coercion), with the
decisions about the type taken when it is built. It answers `Undefined` whenever graphql-core's
answer could differ or be an error (a value nested deeper than graphql-core allows, an explicit
`Undefined` in a dict), and the variable is then left to graphql-core, whose errors and messages
stay the contract's. `coerce_list_variables` applies it to the list variables of an operation;
the execution context (schema/executor.py) hands graphql-core the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

from graphql import (
    DocumentNode,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLSchema,
    OperationDefinitionNode,
    Undefined,
    is_input_type,
    is_required_input_field,
    type_from_ast,
)
from graphql.language.parser import MAX_NESTING_DEPTH
from graphql.pyutils import is_iterable
from graphql.utilities.coerce_input_value import coerce_default_value

__all__ = ["coerce_list_variables", "coercer"]

#: A coercion: the value and its nesting depth in, the coerced value or `Undefined` out.
Coercion = Callable[[Any, int], Any]

#: Where a schema keeps its coercions, one per type (wrapping types by their shape).
_CACHE: Final = "cytogate.coercions"


def coercer(type_: GraphQLInputType, cache: dict[Any, Coercion] | None = None) -> Coercion:
    """The coercion of values of `type_` (module docstring)."""
    cache = {} if cache is None else cache
    key = _key(type_)
    found = cache.get(key)
    if found is None:
        found = _build(type_, cache)
        cache[key] = found
    return found


def _key(type_: GraphQLInputType) -> Any:
    if isinstance(type_, GraphQLNonNull | GraphQLList):
        return (type(type_), _key(type_.of_type))
    return type_


def _build(type_: GraphQLInputType, cache: dict[Any, Coercion]) -> Coercion:
    if isinstance(type_, GraphQLNonNull):
        inner = coercer(type_.of_type, cache)

        def non_null(value: Any, depth: int) -> Any:
            if value is None or value is Undefined:
                return Undefined
            return inner(value, depth)

        return non_null
    if isinstance(type_, GraphQLList):
        return _list(coercer(type_.of_type, cache))
    if isinstance(type_, GraphQLInputObjectType):
        return _InputObject(type_, cache)
    leaf = type_.coerce_input_value

    def leaf_value(value: Any, depth: int) -> Any:
        if value is None or value is Undefined:
            return None
        try:
            return leaf(value)
        except Exception:  # graphql-core's own rule: any failure is Undefined
            return Undefined

    return leaf_value


def _list(item: Coercion) -> Coercion:
    def listed(value: Any, depth: int) -> Any:
        if value is None or value is Undefined:
            return None
        if depth >= MAX_NESTING_DEPTH:
            return Undefined  # graphql-core's nesting rule decides
        if not is_iterable(value):
            single = item(value, depth + 1)
            return Undefined if single is Undefined else [single]
        coerced: list[Any] = []
        append = coerced.append
        for element in value:
            one = item(element, depth + 1)
            if one is Undefined:
                return Undefined
            append(one)
        return coerced

    return listed


class _InputObject:
    """The coercion of one input object type; its fields' plan is made at the first value, so
    that types referring to themselves (a filter's `and`) are built once."""

    def __init__(self, type_: GraphQLInputObjectType, cache: dict[Any, Coercion]) -> None:
        self.type = type_
        self.cache = cache
        self.fields: dict[str, tuple[str, Coercion]] | None = None
        self.defaults: dict[str, Any] = {}
        self.required: frozenset[str] = frozenset()

    def _plan(self) -> dict[str, tuple[str, Coercion]]:
        fields: dict[str, tuple[str, Coercion]] = {}
        for name, field in self.type.fields.items():
            out = field.out_name or name
            fields[name] = (out, coercer(field.type, self.cache))
            if not is_required_input_field(field):
                default = coerce_default_value(field)
                if default is not Undefined:
                    self.defaults[out] = default
        self.required = frozenset(
            name for name, field in self.type.fields.items() if is_required_input_field(field)
        )
        self.fields = fields
        return fields

    def __call__(self, value: Any, depth: int) -> Any:
        if value is None or value is Undefined:
            return None
        if depth >= MAX_NESTING_DEPTH or not isinstance(value, dict):
            return Undefined
        fields = self.fields if self.fields is not None else self._plan()
        coerced = dict(self.defaults)
        for name, given in value.items():
            found = fields.get(name)
            if found is None or given is Undefined:
                return Undefined
            one = found[1](given, depth + 1)
            if one is Undefined:
                return Undefined
            coerced[found[0]] = one
        if self.required and not self.required <= value.keys():
            return Undefined
        if self.type.is_one_of and (
            len(value) != 1 or len(coerced) != 1 or next(iter(coerced.values())) is None
        ):
            return Undefined
        return self.type.out_type(coerced)


def _operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    """The operation graphql-core would run, or None where it would refuse."""
    chosen = None
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            if name is None:
                if chosen is not None:
                    return None
                chosen = definition
            elif definition.name is not None and definition.name.value == name:
                chosen = definition
    return chosen


def coerce_list_variables(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    raw: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """The coerced values of the operation's list variables given as lists, those the plan
    coerces (the others are graphql-core's to coerce and to refuse)."""
    if not raw:
        return {}
    operation = _operation(document, operation_name)
    if operation is None:
        return {}
    cache: dict[Any, Coercion] = schema.extensions.setdefault(_CACHE, {})
    coerced: dict[str, Any] = {}
    for definition in operation.variable_definitions or ():
        value = raw.get(definition.variable.name.value)
        if not isinstance(value, list):
            continue
        type_ = type_from_ast(schema, definition.type)
        nullable = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
        if not isinstance(nullable, GraphQLList) or not is_input_type(type_):
            continue
        one = coercer(type_, cache)(value, 0)
        if one is not Undefined:
            coerced[definition.variable.name.value] = one
    return coerced
