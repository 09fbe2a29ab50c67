"""`planned_input` builds the same values Strawberry builds: leaves, lists (copied), nested
inputs, enums, `Maybe`, defaults and omitted fields alike."""

import asyncio
from enum import Enum
from typing import Any

import pytest
import strawberry

from schema.inputs import planned_input


@strawberry.enum
class Mode(Enum):
    FAST = "fast"
    SLOW = "slow"


def types(planned: bool) -> strawberry.Schema:
    wrap = planned_input if planned else (lambda cls: cls)

    @wrap
    @strawberry.input
    class Inner:
        x: int
        tags: list[str] | None = None

    @wrap
    @strawberry.input
    class Outer:
        name: str
        count: int | None = None
        mode: Mode = Mode.FAST
        ids: list[int] = strawberry.field(default_factory=list)
        inner: Inner | None = None
        inners: list[Inner] | None = None
        maybe: strawberry.Maybe[int | None] = None
        required_nullable: str | None

    seen: list[Any] = []

    @strawberry.type
    class Query:
        @strawberry.field
        def echo(self, items: list[Outer]) -> str:
            seen.append(items)
            return repr(items)

    schema = strawberry.Schema(query=Query)
    schema.seen = seen  # type: ignore[attr-defined]
    return schema


QUERY = "query($items: [Outer!]!) { echo(items: $items) }"
VALUES = [
    [{"name": "a", "requiredNullable": None}],
    [{"name": "b", "count": 3, "mode": "SLOW", "ids": [1, 2], "requiredNullable": "r",
      "inner": {"x": 1, "tags": ["p", "q"]}, "inners": [{"x": 2}, {"x": 3, "tags": None}],
      "maybe": 5}],
    [{"name": "c", "maybe": None, "count": None, "inner": None, "requiredNullable": "s"}] * 3,
]  # fmt: skip


@pytest.mark.parametrize("items", VALUES)
def test_planned_inputs_equal_strawberrys(items):
    answers = []
    for planned in (False, True):
        schema = types(planned)
        result = asyncio.run(schema.execute(QUERY, variable_values={"items": items}))
        assert result.errors is None, result.errors
        answers.append(result.data)
    assert answers[0] == answers[1]


def test_lists_are_copied():
    schema = types(True)
    asyncio.run(schema.execute(QUERY, variable_values={"items": VALUES[1]}))
    (built,) = schema.seen  # type: ignore[attr-defined]
    assert built[0].ids == [1, 2] and built[0].ids is not VALUES[1][0]["ids"]
