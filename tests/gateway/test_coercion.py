"""List variables coerced from plans (schema/coercion.py) give exactly what graphql-core gives,
or leave the value to graphql-core: over every input type of the real schema, valid values and
broken ones, and over the input features the schema does not use itself."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import (
    GraphQLArgument,
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLField,
    GraphQLFloat,
    GraphQLID,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLString,
    Undefined,
    coerce_input_value,
    get_named_type,
    get_nullable_type,
    parse,
)
from graphql.language.parser import MAX_NESTING_DEPTH

from schema.coercion import coerce_list_variables, coercer
from schema.executor import ListExecutionContext
from schema.root import build_schema
from settings import Settings

SCHEMA = build_schema(Settings())._schema

#: A valid value of each scalar the schema's inputs use (Upload is never sent as JSON).
SAMPLES: dict[str, Any] = {
    "String": "text",
    "Int": 7,
    "Float": 1.5,
    "Boolean": True,
    "ID": "9",
    "Long": "12345678901",
    "DateTime": "2026-12-06T10:00:00+00:00",
    "JSON": {"any": [1, "two"]},
}


def _valid(type_: GraphQLInputType, depth: int = 0) -> Any:
    """A value of `type_` with every field given."""
    nullable = get_nullable_type(type_)  # type: ignore[arg-type]
    if isinstance(nullable, GraphQLList):
        return [_valid(nullable.of_type, depth + 1), _valid(nullable.of_type, depth + 1)]
    if isinstance(nullable, GraphQLInputObjectType):
        if depth > 4:  # a type holding itself: stop where a field may be null
            return {n: _valid(f.type, depth + 1) for n, f in nullable.fields.items()
                    if isinstance(f.type, GraphQLNonNull)}  # fmt: skip
        return {name: _valid(field.type, depth + 1) for name, field in nullable.fields.items()}
    if isinstance(nullable, GraphQLEnumType):
        return next(iter(nullable.values))
    return SAMPLES[nullable.name]


def _inputs() -> list[GraphQLInputObjectType]:
    return [
        type_
        for name, type_ in SCHEMA.type_map.items()
        if isinstance(type_, GraphQLInputObjectType)
        and not name.startswith("__")
        and all(get_named_type(f.type).name != "Upload" for f in type_.fields.values())
    ]


def _agrees(value: Any, type_: GraphQLInputType) -> Any:
    """The plan's coercion of `value`, checked against graphql-core's."""
    planned = coercer(type_)(value, 0)
    expected = coerce_input_value(value, type_)
    assert planned is Undefined or planned == expected, (type_, value)
    return planned


@pytest.mark.parametrize("type_", _inputs(), ids=lambda t: t.name)
def test_every_input_type_of_the_schema_coerces_as_graphql_core_does(
    type_: GraphQLInputObjectType,
) -> None:
    full = _valid(type_)
    assert _agrees([full, full], GraphQLList(type_)) is not Undefined
    assert _agrees([{}], GraphQLList(GraphQLNonNull(type_))) is not Undefined or any(
        isinstance(field.type, GraphQLNonNull) for field in type_.fields.values()
    )
    for name, field in type_.fields.items():
        for broken in (None, "text", 3.5, [], {"unknown": 1}, [[1]], True):
            _agrees([{**full, name: broken}], GraphQLList(type_))
        without = {key: value for key, value in full.items() if key != name}
        _agrees([without], GraphQLList(type_))
        if isinstance(get_nullable_type(field.type), GraphQLList):  # type: ignore[arg-type]
            single = _valid(get_nullable_type(field.type).of_type)  # type: ignore[union-attr]
            assert _agrees([{**full, name: single}], GraphQLList(type_)) is not Undefined
    for broken in ("text", [full, None], [full, {"unknown": 1}], [full, 3]):
        assert _agrees(broken, GraphQLList(GraphQLNonNull(type_))) is Undefined


ODD = GraphQLScalarType("Odd", coerce_input_value=lambda v: v if v % 2 else 1 / 0)
COLOUR = GraphQLEnumType("Colour", {"RED": "red", "BLUE": "blue"})
POINT = GraphQLInputObjectType(
    "Point",
    lambda: {
        "x": GraphQLInputField(GraphQLNonNull(GraphQLFloat), out_name="x_"),
        "y": GraphQLInputField(GraphQLFloat, default_value=2.5),
        "label": GraphQLInputField(GraphQLString),
        "colour": GraphQLInputField(COLOUR, default_value="red"),
        "odd": GraphQLInputField(GraphQLList(GraphQLList(ODD))),
        "next": GraphQLInputField(POINT),
    },
    out_type=lambda value: ("point", tuple(sorted(value.items(), key=repr))),
)
ONE_OF = GraphQLInputObjectType(
    "OneOf",
    {"a": GraphQLInputField(GraphQLInt), "b": GraphQLInputField(GraphQLID)},
    is_one_of=True,
)
CASES: list[tuple[GraphQLInputType, list[Any]]] = [
    (POINT, [{"x": 1}, {"x": 1, "y": None}, {"x": None}, {"y": 1}, {"x": "1"},
             {"x": 1, "colour": "BLUE"}, {"x": 1, "colour": "GREEN"}, {"x": 1, "odd": 3},
             {"x": 1, "odd": [3, 5]}, {"x": 1, "odd": [[3], None, [None]]}, {"x": 1, "odd": [2]},
             {"x": 1, "next": {"x": 2, "next": {"x": 3}}}, {"x": 1, "next": {"y": 2}},
             {"x": 1, "label": Undefined}, {"x": 1, "other": None}, [], "x"]),
    (ONE_OF, [{"a": 1}, {"b": "x"}, {"a": 1, "b": "x"}, {"a": None}, {}, {"c": 1}]),
    (GraphQLInt, [1, 2**31, 1.0, 1.5, "1", True, None]),
    (GraphQLBoolean, [True, 0, "true", None]),
]  # fmt: skip


@pytest.mark.parametrize(("type_", "values"), CASES, ids=lambda c: str(c)[:20])
def test_input_features_coerce_as_graphql_core_does(
    type_: GraphQLInputType, values: list[Any]
) -> None:
    for value in values:
        for wrapped in (GraphQLList(type_), GraphQLList(GraphQLNonNull(type_))):
            _agrees([value], wrapped)
            _agrees(value, wrapped)
    planned = coercer(GraphQLList(POINT))([{"x": 1, "next": {"x": 2}}], 0)
    assert planned == coerce_input_value([{"x": 1, "next": {"x": 2}}], GraphQLList(POINT))
    assert planned is not Undefined


def test_values_nested_deeper_than_graphql_core_allows_are_left_to_it() -> None:
    deep: Any = 1
    for _ in range(MAX_NESTING_DEPTH + 5):
        deep = [deep]
    type_: GraphQLInputType = GraphQLInt
    for _ in range(MAX_NESTING_DEPTH + 5):
        type_ = GraphQLList(type_)
    assert coercer(type_)(deep, 0) is Undefined
    shallow: Any = [1]
    assert coercer(GraphQLList(GraphQLList(GraphQLInt)))([shallow], 0) == [[1]]


ECHO = GraphQLSchema(
    GraphQLObjectType(
        "Query",
        {
            "echo": GraphQLField(
                GraphQLString,
                args={
                    "points": GraphQLArgument(GraphQLList(POINT)),
                    "n": GraphQLArgument(GraphQLInt),
                },
                resolve=lambda _root, _info, **args: repr(args),
            )
        },
    )
)


def test_an_operations_list_variables_reach_its_executor_coerced_with_their_source() -> None:
    document = parse(
        "query A($points: [Point], $n: Int, $names: [String!]) { echo(points: $points, n: $n) }"
        " query B($points: [Point]) { echo(points: $points) }"
    )
    raw = {"points": [{"x": 1}, {"x": 2, "y": 1}], "n": 3, "names": "one"}
    assert coerce_list_variables(ECHO, document, None, raw) == {}  # two operations: refused
    planned = coerce_list_variables(ECHO, document, "A", raw)
    assert list(planned) == ["points"]  # `names` is not given as a list: graphql-core's
    built = ListExecutionContext.build(ECHO, document, raw_variable_values=raw, operation_name="A")
    assert isinstance(built, ListExecutionContext)
    expected = coerce_input_value(raw["points"], GraphQLList(POINT))
    assert built.variable_values.coerced == {"points": expected, "n": 3, "names": ["one"]}
    assert built.variable_values.sources["points"].value == raw["points"]
    broken = {"points": [{"x": 1}, {"x": "no"}]}
    errors = ListExecutionContext.build(ECHO, document, raw_variable_values=broken,
                                        operation_name="B")  # fmt: skip
    assert isinstance(errors, list)
    assert [error.message for error in errors] == [
        "Variable '$points' has invalid value at [1].x: Float cannot represent non numeric "
        "value: 'no'"
    ]
