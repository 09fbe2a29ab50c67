"""The fast list completion gives exactly what graphql-core gives (DESIGN.md "Performance
principles"): same data, same errors, for every selection feature it claims to support."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any

import pytest
import strawberry
from sqlalchemy.engine import Row as SqlRow
from sqlalchemy.engine.result import SimpleResultMetaData
from strawberry.extensions import ParserCache

from schema.executor import PLANS, ListExecutionContext, PlanCache
from tests.harness import spy


@strawberry.enum
class Colour(Enum):
    RED = "red"
    BLUE = "blue"


@strawberry.type
class Point:
    x: float
    y: float


@strawberry.type
class Item:
    id: int
    name: str
    note: str | None
    created: datetime
    colour: Colour
    centroid: Point
    tags: list[str]
    maybe: list[int | None] | None

    @strawberry.field
    def shout(self) -> str:
        return self.name.upper()


@dataclass
class Row:
    """What resolvers hand over: a row, not a strawberry object."""

    id: int
    name: Any
    note: str | None
    created: datetime
    colour: Colour
    centroid: Any
    tags: list[Any]
    maybe: list[int | None] | None


def rows(n: int, **change: Any) -> list[Row]:
    made = [
        Row(i, f"item{i}", None if i % 2 else "n", datetime(2025, 1, 1, tzinfo=UTC),
            Colour.RED if i % 3 else Colour.BLUE, Point(x=i / 2, y=1.5), ["a", "b"], [1, None])
        for i in range(n)
    ]  # fmt: skip
    for key, value in change.items():
        setattr(made[-1], key, value)
    return made


def build(items: list[Row], *extensions: Any) -> tuple[strawberry.Schema, strawberry.Schema]:
    @strawberry.type
    class Query:
        @strawberry.field(graphql_type=list[Item])
        def items(self) -> Any:
            return items

        @strawberry.field(graphql_type=list[Item | None])
        def loose(self) -> Any:
            return [*items, None]

    slow = strawberry.Schema(query=Query)
    fast = strawberry.Schema(query=Query, execution_context_class=ListExecutionContext,
                             extensions=list(extensions))  # fmt: skip
    return slow, fast


def run(schema: strawberry.Schema, query: str, variables: dict[str, Any] | None = None) -> Any:
    result = asyncio.run(schema.execute(query, variable_values=variables))
    return result.data, [(e.message, e.path) for e in result.errors or ()]


QUERIES = [
    "{ items { id name note created colour centroid { x y } tags maybe } }",
    "{ items { __typename key: id alias: name ...F } } fragment F on Item { colour tags }",
    "query($on: Boolean!) { items { id note @include(if: $on) name @skip(if: $on) } }",
    "{ items { id shout } }",
    "{ loose { id name } }",
    "{ items { id } items { name } }",
]


@pytest.mark.parametrize("query", QUERIES)
def test_fast_path_answers_like_graphql_core(query):
    slow, fast = build(rows(50))
    for on in (True, False):
        assert run(fast, query, {"on": on}) == run(slow, query, {"on": on})


@pytest.mark.parametrize(
    "change",
    [{"name": None}, {"name": 12}, {"centroid": None}, {"tags": ["a", None]}, {"colour": "x"}],
)
def test_bad_values_give_the_normal_errors(change):
    slow, fast = build(rows(5, **change))
    query = "{ items { id name colour centroid { x } tags } }"
    assert run(fast, query) == run(slow, query)


def test_fast_path_really_runs_for_plain_lists(monkeypatch):
    _, fast = build(rows(3))
    plans = spy(monkeypatch, ListExecutionContext, "_plan")
    run(fast, "{ items { id name } }")
    run(fast, "{ items { id shout } }")
    kinds = ["fast" if call.result is not None else "slow" for call in plans]
    assert kinds[0] == "fast"
    assert "slow" in kinds[1:]


def cached(items: list[Row]) -> strawberry.Schema:
    """The fast schema with a plan cache shared across executions and the parser cache (the
    same query text gives the same document), as build_schema sets them."""
    _, fast = build(items, ParserCache)
    fast._schema.extensions = {**(fast._schema.extensions or {}), PLANS: PlanCache()}
    return fast


def test_plans_are_compiled_once_across_requests(monkeypatch):
    compiles = spy(monkeypatch, ListExecutionContext, "_compile")
    slow, _ = build(rows(4))
    fast = cached(rows(4))
    query = "{ items { id name centroid { x } } }"
    answers = [run(fast, query) for _ in range(5)]
    assert answers == [run(slow, query)] * 5
    assert [str(call.args[0]) for call in compiles] == ["Item!"]


def test_conditional_selections_are_planned_once_per_value_of_their_conditions(monkeypatch):
    compiles = spy(monkeypatch, ListExecutionContext, "_compile")
    slow, _ = build(rows(6))
    fast = cached(rows(6))
    query = QUERIES[2]
    for on in (True, False, True, False):
        assert run(fast, query, {"on": on}) == run(slow, query, {"on": on})
    assert [str(call.args[0]) for call in compiles] == ["Item!"] * 2


@pytest.mark.parametrize("query", QUERIES)
def test_shared_plans_answer_like_graphql_core(query):
    slow, _ = build(rows(20))
    fast = cached(rows(20))
    for on in (True, False, True, False):
        assert run(fast, query, {"on": on}) == run(slow, query, {"on": on})


FIELDS = ["id", "name", "note", "created", "colour", "centroid", "tags", "maybe"]


def sql_rows(items: list[Row], columns: list[str]) -> list[Any]:
    """The items as the rows of one SQLAlchemy result with these columns, in this order."""
    meta = SimpleResultMetaData(columns)
    return [SqlRow(meta, None, meta._key_to_index, tuple(getattr(item, c, 0) for c in columns))
            for item in items]  # fmt: skip


@pytest.mark.parametrize("query", QUERIES)
def test_rows_of_several_results_answer_like_graphql_core(query):
    """Rows are read by position (their result's), whatever mix of results and other objects
    a list holds."""
    made = rows(40)
    mixed = [*sql_rows(made[:15], FIELDS), *made[15:20], *sql_rows(made[20:30], FIELDS[::-1]),
             *sql_rows(made[30:], ["extra", *FIELDS[3:], *FIELDS[:3]])]  # fmt: skip
    slow, fast = build(mixed)
    for on in (True, False):
        assert run(fast, query, {"on": on}) == run(slow, query, {"on": on})


@pytest.mark.parametrize("change", [{"name": None}, {"name": 12}, {"colour": "x"}])
def test_bad_values_of_rows_give_the_normal_errors(change):
    slow, fast = build(sql_rows(rows(5, **change), FIELDS))
    query = "{ items { id name colour centroid { x } tags } }"
    assert run(fast, query) == run(slow, query)


def test_a_column_named_like_an_attribute_of_rows_reads_as_the_attribute():
    """A row's attribute `t` is the row as a tuple, not the column `t`: both paths read the
    attribute."""

    @strawberry.type
    class Named:
        t: int

    @strawberry.type
    class Query:
        @strawberry.field(graphql_type=list[Named])
        def named(self) -> Any:
            meta = SimpleResultMetaData(["t"])
            return [SqlRow(meta, None, meta._key_to_index, (n,)) for n in range(3)]

    slow = strawberry.Schema(query=Query)
    fast = strawberry.Schema(query=Query, execution_context_class=ListExecutionContext)
    with pytest.warns(DeprecationWarning):
        answer = run(fast, "{ named { t } }")
        assert answer == run(slow, "{ named { t } }") and answer[1] != []
