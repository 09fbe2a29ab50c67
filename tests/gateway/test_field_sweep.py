"""Every root field of the GraphQL schema, queries and mutations, called with the values a
careless or hostile caller would send (ids that name nothing or overflow PostgreSQL's integer,
empty and odd text, negative numbers), answers data or errors with a code of the contract,
never an internal error: what `test_route_sweep.py` holds for REST, for the graph. Arguments
are built from the schema itself, so a new field is covered the day it is added.

Integer ids are first those of a real scene (a project with its ontology and term, an image,
an annotation), so that calls reach past the lookups, then ids that name nothing. Left out:
uploads (they need a file), and the key regeneration and logout, which would change or revoke
the credentials the sweep signs with. As in the REST sweep, the calls are made as the
superadmin and as a contributor of the project.
"""

from __future__ import annotations

from typing import Any, Final

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    Undefined,
    get_named_type,
)

from schema.errors import INTERNAL
from tests.gateway.conftest import Scene
from tests.harness import Api, interface

#: Values per scalar, each tried in turn for every argument of that type; the call of variant
#: i gives every argument its i-th value (modulo), so the first call is all well-typed values
#: and reaches the resolvers, and later ones mix odd values in.
Scalars = dict[str, tuple[Any, ...]]
SCALARS: Final[Scalars] = {
    "Int": (0, -1, 2**31 - 1),
    "Long": (0, -1, 2**62, 2**31),  # the test puts the ids of a real scene first
    "ID": ("0", "x", "9223372036854775808"),
    "Float": (0.0, -1.5, 1e300),
    "String": ("", "x", "../..", "POLYGON((0 0"),
    "Boolean": (True, False),
    "DateTime": ("2026-01-01T00:00:00+00:00", "1970-01-01T00:00:00Z", "9999-12-31T23:59:59Z"),
    "JSON": ({}, [], "x", None, 2**70),
}
#: Mutations that would change or revoke the credentials the sweep signs with, or need a file.
LEFT_OUT: Final = ("userKeysRegenerate", "logout", "imageUpload", "attachedFileCreate")


def _values(kind: GraphQLInputType, variant: int, scalars: Scalars, depth: int = 0) -> Any:
    """The `variant`-th value of `kind` (required input fields filled, optional ones
    omitted)."""
    if isinstance(kind, GraphQLNonNull):
        return _values(kind.of_type, variant, scalars, depth)
    if isinstance(kind, GraphQLList):
        return [_values(kind.of_type, variant, scalars, depth)]
    if isinstance(kind, GraphQLEnumType):
        names = list(kind.values)
        return names[variant % len(names)]
    if isinstance(kind, GraphQLInputObjectType):
        if depth > 3:
            return {}
        return {
            name: _values(field.type, variant, scalars, depth + 1)
            for name, field in kind.fields.items()
            if isinstance(field.type, GraphQLNonNull) and field.default_value is Undefined
        }
    assert isinstance(kind, GraphQLScalarType)
    choices = scalars[kind.name]
    return choices[variant % len(choices)]


def _variants(field: GraphQLField, scalars: Scalars) -> int:
    """How many calls cover every value of every argument's scalars at least once."""
    counts = [1]
    for argument in field.args.values():
        named = get_named_type(argument.type)
        if isinstance(named, GraphQLScalarType):
            counts.append(len(scalars[named.name]))
        elif isinstance(named, GraphQLEnumType):
            counts.append(len(named.values))
        else:
            counts.append(4)
    return max(counts)


def _document(operation: str, name: str, field: GraphQLField) -> str:
    """`name`'s call with every argument a variable, selecting only `__typename` of an
    object (or nothing more of a leaf)."""
    arguments = ", ".join(f"{arg}: ${arg}" for arg in field.args)
    declared = ", ".join(f"${arg}: {argument.type}" for arg, argument in field.args.items())
    head = f"{operation} ({declared})" if declared else operation
    call = f"{name}({arguments})" if arguments else name
    leaf = isinstance(get_named_type(field.type), GraphQLScalarType | GraphQLEnumType)
    return f"{head} {{ {call}{'' if leaf else ' { __typename }'} }}"


@pytest.mark.parametrize("caller", ["superadmin", "contributor"])
@pytest.mark.parametrize("operation", ["query", "mutation"])
def test_no_root_field_answers_odd_arguments_with_an_internal_error(
    api: Api, settings: Any, scene: Scene, operation: str, caller: str
) -> None:
    scalars = {**SCALARS, "Long": (*scene.ids, *SCALARS["Long"])}
    if caller == "contributor":
        api = scene.member["api"]
    schema = interface(settings).schema._schema
    root = schema.query_type if operation == "query" else schema.mutation_type
    assert root is not None
    internal: list[str] = []
    for name, field in sorted(root.fields.items()):
        if name in LEFT_OUT:
            continue
        document = _document(operation, name, field)
        for variant in range(_variants(field, scalars)):
            variables = {arg: _values(argument.type, variant, scalars)
                         for arg, argument in field.args.items()}  # fmt: skip
            response = api.post("/graphql", json={"query": document, "variables": variables})
            # a 503 only for what this server is not configured for (mail), by its words
            assert response.status_code < 500 or "is not configured" in response.text, response.text
            errors = response.json().get("errors") or []
            codes = [(error.get("extensions") or {}).get("code") for error in errors]
            if INTERNAL in codes or None in codes:
                internal.append(f"{document} {variables} → {response.text[:300]}")
    assert not internal, "\n".join(internal)
