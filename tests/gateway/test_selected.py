"""`schema.common.selected`: the fields a query selects below the field being resolved, worked
out once per execution for a field met under many parents, and again for another execution
of the same document with other variables."""

from __future__ import annotations

import asyncio
from functools import partial
from types import SimpleNamespace
from typing import Any

import strawberry
from strawberry.extensions import ParserCache

from resolvers.context import Context
from schema.common import Info, selected


@strawberry.type
class Leaf:
    id: int
    label: str


@strawberry.type
class Parent:
    id: int

    @strawberry.field
    def leaves(self, info: Info) -> list[Leaf]:
        seen.append(selected(info, Leaf))
        return [Leaf(id=self.id, label=f"leaf {self.id}")]


@strawberry.type
class Query:
    @strawberry.field
    def parents(self) -> list[Parent]:
        return [Parent(id=i) for i in range(3)]


seen: list[frozenset[str]] = []
#: A parsed document is reused for the same text, as the server's schema does.
SCHEMA = strawberry.Schema(query=Query, extensions=[partial(ParserCache, maxsize=8)])
DOCUMENT = "query($label: Boolean!) { parents { leaves { id label @include(if: $label) } } }"


def test_each_execution_reads_its_own_selection_once_for_all_parents():
    context = Context(SimpleNamespace(), None, None)  # type: ignore[arg-type]

    async def run(label: bool) -> Any:
        result = await SCHEMA.execute(DOCUMENT, {"label": label}, context_value=context)
        assert result.errors is None
        return result.data

    seen.clear()
    with_label = asyncio.run(run(True))
    without = asyncio.run(run(False))
    assert with_label["parents"][2]["leaves"] == [{"id": 2, "label": "leaf 2"}]
    assert without["parents"][2]["leaves"] == [{"id": 2}]
    assert seen == [frozenset({"id", "label"})] * 3 + [frozenset({"id"})] * 3
    assert len(context.memo) == 2
