"""Fields resolved for a whole list (`schema.executor.BATCHED`) answer exactly what graphql-core
gives when it calls their resolver for each item: same data, errors and nulls, with the
arguments (literals, variables, input objects) converted as strawberry converts them; and a
list's items cost one call of the list resolver, whose values' own loaded fields load once for
all of them."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pytest
import strawberry

from resolvers.context import Context
from schema.common import Info, loaded
from schema.executor import BATCHED, ListExecutionContext

#: Every call the list resolvers and loaders made: (name, the items' or keys' ids).
CALLS: list[tuple[str, list[Any]]] = []
#: The last key of the path each call of the list resolver was given.
KEYS: list[Any] = []


@dataclass
class TagRow:
    id: int
    label: str


TAGS = {1: TagRow(1, "one"), 2: TagRow(2, "two")}


async def tags_by_id(db: Any, keys: list[int]) -> list[TagRow | None]:
    CALLS.append(("tags_by_id", list(keys)))
    return [TAGS.get(key) for key in keys]


@dataclass
class NoteRow:
    id: int
    tag_id: int


@strawberry.type
class Tag:
    id: int
    label: str


@strawberry.type
class Note:
    id: int
    tag = loaded(tags_by_id, "tag_id", graphql_type=Tag | None)


@strawberry.type
class NotePage:
    total: int
    nodes: list[Note]


@strawberry.input
class NoteFilter:
    below: int
    even: bool = False


async def resolve_notes_many(
    roots: list[Any], info: Info, first: int = 2, where: NoteFilter | None = None
) -> list[NotePage | None]:
    """Each item's notes (ids 10·item + k), `first` of them; item 7's are missing (null) and
    a negative `first` is refused."""
    CALLS.append(("notes_many", [root.id for root in roots]))
    assert info.field_name == "notes"
    KEYS.append(info.path.key)
    if first < 0:
        raise ValueError("first must not be negative")
    pages: list[NotePage | None] = []
    for root in roots:
        notes = [NoteRow(10 * root.id + k, k % 2 + 1) for k in range(5)]
        if where is not None:
            notes = [n for n in notes if n.id < where.below and (not where.even or n.id % 2 == 0)]
        pages.append(None if root.id == 7 else NotePage(total=len(notes), nodes=notes[:first]))  # type: ignore[arg-type]
    return pages


async def resolve_notes(
    root: strawberry.Parent[Any],
    info: Info,
    first: int = 2,
    where: NoteFilter | None = None,
) -> NotePage | None:
    (found,) = await resolve_notes_many([root], info, first, where)
    return found


@dataclass
class ItemRow:
    id: int


@strawberry.type
class Item:
    id: int
    notes: NotePage | None = strawberry.field(
        resolver=resolve_notes, metadata={BATCHED: resolve_notes_many}
    )
    strict_notes: NotePage = strawberry.field(
        resolver=resolve_notes, metadata={BATCHED: resolve_notes_many}
    )


def schemas(n: int) -> tuple[strawberry.Schema, strawberry.Schema]:
    @strawberry.type
    class Query:
        @strawberry.field(graphql_type=list[Item])
        def items(self) -> Any:
            return [ItemRow(i) for i in range(n)]

    slow = strawberry.Schema(query=Query)
    fast = strawberry.Schema(query=Query, execution_context_class=ListExecutionContext)
    return slow, fast


def run(schema: strawberry.Schema, query: str, variables: dict[str, Any] | None = None) -> Any:
    """The answer and the calls it made, with a fresh context (fresh loaders)."""
    CALLS.clear()
    KEYS.clear()
    context = Context(SimpleNamespace(), None, None)  # type: ignore[arg-type]
    result = asyncio.run(schema.execute(query, variable_values=variables, context_value=context))
    errors = sorted((e.message, tuple(e.path or ())) for e in result.errors or ())
    return result.data, errors, list(CALLS)


QUERIES = [
    ("{ items { id notes { total nodes { id } } } }", None),
    ("{ items { id notes(first: 3) { nodes { id tag { label } } } } }", None),
    (
        "query($n: Int!) { items { notes(first: $n, where: {below: 33}) { total nodes { id } } } }",
        {"n": 4},
    ),
    (
        "query($w: NoteFilter) { items { a: notes(where: $w) { total } b: notes { total } } }",
        {"w": {"below": 60, "even": True}},
    ),
]


@pytest.mark.parametrize("query, variables", QUERIES)
def test_batched_fields_answer_like_graphql_core(query, variables):
    slow, fast = schemas(9)
    data, errors, _ = run(fast, query, variables)
    assert (data, errors) == run(slow, query, variables)[:2]
    assert errors == []


def test_a_list_costs_one_call_and_its_values_loaded_fields_one_batch():
    slow, fast = schemas(9)
    query = "{ items { id notes(first: 4) { nodes { id tag { id label } } } } }"
    _, _, calls = run(fast, query)
    assert calls == [("notes_many", list(range(9))), ("tags_by_id", [1, 2])], calls
    _, _, normal = run(slow, query)
    assert [name for name, _ in normal].count("notes_many") == 9


@pytest.mark.parametrize(
    "query",
    [
        "{ items { id notes(first: -1) { total } } }",  # the list resolver raises
        "{ items { id strictNotes { total } } }",  # null in a non-null field (item 7)
    ],
)
def test_errors_fall_back_to_the_normal_answer(query):
    slow, fast = schemas(9)
    fast_answer = run(fast, query)[:2]
    assert fast_answer == run(slow, query)[:2]
    assert fast_answer[1] != []


@pytest.mark.parametrize(
    "query, variables",
    [
        ("query($x: Boolean!) { items { id notes @include(if: $x) { total } } }", {"x": True}),
        ("query($x: Boolean!) { items { id notes @include(if: $x) { total } } }", {"x": False}),
        ("query($x: Boolean!) { items { notes { total nodes @skip(if: $x) { id } } } }",
         {"x": False}),
        ("{ items { ...F notes { total } } } fragment F on Item { notes { nodes { tag { id } } } }",
         None),
        ("{ items { ... on Item { a: notes(first: 1) { nodes { id } } } b: notes { total } } }",
         None),
        # one alias refused: the other keeps its own arguments' answer, the refused one is null
        ("{ items { id a: notes(first: -1) { total } b: notes(first: 3) { nodes { id } } } }",
         None),
    ],
)  # fmt: skip
def test_directives_fragments_and_aliases_answer_like_graphql_core(query, variables):
    slow, fast = schemas(9)
    assert run(fast, query, variables)[:2] == run(slow, query, variables)[:2]


def test_the_list_resolver_is_told_the_fields_path_under_the_list():
    _, fast = schemas(3)
    query = "{ items { a: notes { total } b: notes(first: 1) { total } } }"
    assert run(fast, query)[1] == []
    assert sorted(KEYS) == ["a", "b"]
