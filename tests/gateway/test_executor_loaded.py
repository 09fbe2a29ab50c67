"""Loaded fields (`schema.common.loaded`) on the fast list path answer exactly what
graphql-core gives when it resolves each field on its own: same data, same errors, same
nulls; and a whole list costs one batch per loaded field, not one per item."""

from __future__ import annotations

import asyncio
import gc
import weakref
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, Optional

import pytest
import strawberry

from resolvers.context import Context
from schema.common import loaded
from schema.executor import ListExecutionContext, Plan
from tests.harness import spy

#: Every batch the loaders ran: (function name, keys).
BATCHES: list[tuple[str, list[Any]]] = []


@dataclass
class TagRow:
    id: int
    label: Any
    parent_id: int | None = None


@dataclass
class ItemRow:
    id: int
    tag_id: int | None
    group_id: int


TAGS = {1: TagRow(1, "one"), 2: TagRow(2, "two", parent_id=1), 3: TagRow(3, None)}


async def tags_by_id(db: Any, keys: list[int]) -> list[TagRow | BaseException | None]:
    BATCHES.append(("tags_by_id", list(keys)))
    return [ValueError("tag 99 is broken") if key == 99 else TAGS.get(key) for key in keys]


async def tags_by_group(db: Any, keys: list[int]) -> list[list[TagRow | None]]:
    BATCHES.append(("tags_by_group", list(keys)))
    return [[TAGS[1], TAGS[2]] if key % 2 else [TAGS[2]] for key in keys]


@strawberry.type
class Tag:
    id: int
    label: str
    parent = loaded(tags_by_id, "parent_id", graphql_type=Optional["Tag"])


@strawberry.type
class Item:
    id: int
    tag = loaded(tags_by_id, "tag_id", graphql_type=Tag | None)
    strict_tag = loaded(tags_by_id, "tag_id", graphql_type=Tag)
    group = loaded(tags_by_group, "group_id", graphql_type=list[Tag])


def schemas(items: list[ItemRow]) -> tuple[strawberry.Schema, strawberry.Schema]:
    @strawberry.type
    class Query:
        @strawberry.field(graphql_type=list[Item])
        def items(self) -> Any:
            return items

    slow = strawberry.Schema(query=Query)
    fast = strawberry.Schema(query=Query, execution_context_class=ListExecutionContext)
    return slow, fast


def run(schema: strawberry.Schema, query: str, *, trusted: bool = False) -> Any:
    """The answer and the batches it ran, with a fresh context (fresh loaders) each time;
    `trusted`: as the REST bridge runs its documents."""
    BATCHES.clear()
    context = Context(SimpleNamespace(), None, None, trusted=trusted)  # type: ignore[arg-type]
    result = asyncio.run(schema.execute(query, context_value=context))
    errors = sorted((e.message, tuple(e.path or ())) for e in result.errors or ())
    return result.data, errors, list(BATCHES)


def items(n: int, **change: Any) -> list[ItemRow]:
    made = [ItemRow(i, None if i % 4 == 0 else i % 2 + 1, i) for i in range(n)]
    for position, tag_id in change.items():
        made[int(position.removeprefix("at"))].tag_id = tag_id
    return made


QUERIES = [
    "{ items { id tag { id label } } }",
    "{ items { id group { id } } }",
    "{ items { id tag { id } group { id label } } }",
    "{ items { id t: tag { id } again: tag { id } } }",
]


@pytest.mark.parametrize("query", QUERIES)
def test_loaded_fields_answer_like_graphql_core(query):
    slow, fast = schemas(items(30))
    data, errors, _ = run(fast, query)
    assert (data, errors) == run(slow, query)[:2]
    assert errors == []


def test_a_list_costs_one_batch_per_loaded_field():
    _, fast = schemas(items(30))
    _, _, batches = run(fast, "{ items { id tag { id } group { id } } }")
    assert sorted(name for name, _ in batches) == ["tags_by_group", "tags_by_id"]
    assert [keys for name, keys in batches if name == "tags_by_id"] == [[2, 1]]


def test_null_keys_are_not_loaded_and_answer_null():
    _, fast = schemas(items(8))
    data, _, batches = run(fast, "{ items { id tag { id } } }")
    assert [row["tag"] for row in data["items"]][:2] == [None, {"id": 2}]
    assert all(None not in keys for _, keys in batches)


@pytest.mark.parametrize(
    "query, change",
    [
        ("{ items { id tag { id } } }", {"at3": 99}),  # the loader answers an error
        ("{ items { id strictTag { id } } }", {}),  # null in a non-null field
        ("{ items { id tag { id label } } }", {"at3": 3}),  # a null non-null leaf below
        ("{ items { id strictTag { id } } }", {"at5": 7}),  # not found where required
    ],
)
def test_errors_fall_back_to_the_normal_answer(query, change):
    slow, fast = schemas(items(8, **change))
    fast_answer = run(fast, query)[:2]
    assert fast_answer == run(slow, query)[:2]
    assert fast_answer[1] != []


def test_loaded_fields_take_the_fast_path(monkeypatch):
    plans = spy(monkeypatch, ListExecutionContext, "_plan")
    _, fast = schemas(items(6))
    run(fast, "{ items { id tag { id } group { label } } }")
    assert len(plans) == 1
    assert [deferred.response_key for deferred in plans[0].result.deferred] == ["tag", "group"]


def test_a_value_met_many_times_is_completed_once(monkeypatch):
    """A loader hands out one object per key: the 30 items' tags are two objects, completed
    once each (their own loaded fields with them) and shared by the items that name them."""
    runs = spy(monkeypatch, Plan, "run")
    slow, fast = schemas(items(30))
    query = "{ items { id tag { id label parent { id } } group { label parent { label } } } }"
    data, errors, _ = run(fast, query)
    assert (data, errors) == run(slow, query)[:2] and errors == []
    sizes = [len(call.args[0]) for call in runs]
    assert sizes[0] == 30 and max(sizes[1:]) <= 2, sizes
    assert data["items"][1]["tag"] == {"id": 2, "label": "two", "parent": {"id": 1}}
    # the REST bridge rewrites its results in place: each place gets its own
    runs.clear()
    bridged, errors, _ = run(fast, query, trusted=True)
    assert bridged == data and errors == []
    assert max(len(call.args[0]) for call in runs[1:]) > 2, runs
    tags = [row["tag"] for row in bridged["items"] if row["tag"] is not None]
    assert len({id(tag) for tag in tags}) == len(tags)


def test_an_execution_is_freed_as_soon_as_it_ends(monkeypatch):
    """No reference cycle keeps an execution (and through it the request's context, loaders
    and rows) alive until the collector runs: it goes when its last reference does."""
    made: list[weakref.ref[ListExecutionContext]] = []
    original = ListExecutionContext.__init__

    def init(self: ListExecutionContext, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        made.append(weakref.ref(self))

    monkeypatch.setattr(ListExecutionContext, "__init__", init)
    _, fast = schemas(items(30))
    gc.collect()
    gc.disable()
    try:
        data, errors, _ = run(fast, "{ items { id tag { id } group { id label } } }")
        assert errors == [] and len(data["items"]) == 30
        assert len(made) == 1 and made[0]() is None
    finally:
        gc.enable()
