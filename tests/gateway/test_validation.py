"""`schema.validation.KeptValidation`: a query text is validated once while its parsed document
is kept, its errors (or none) answered again each time, other texts validated on their own."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import strawberry
import strawberry.schema.schema as strawberry_schema
from strawberry.extensions import ParserCache

from schema.validation import KeptValidation


@strawberry.type
class Query:
    @strawberry.field
    def twice(self, n: int) -> int:
        return 2 * n


@pytest.fixture
def validations(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    seen: list[Any] = []
    validate = strawberry_schema.validate_document

    def counted(schema: Any, document: Any, rules: Any) -> Any:
        seen.append(document)
        return validate(schema, document, rules)

    monkeypatch.setattr(strawberry_schema, "validate_document", counted)
    return seen


def run(schema: strawberry.Schema, query: str) -> Any:
    return asyncio.run(schema.execute(query))


def test_a_text_is_validated_once_and_answers_each_time(validations):
    schema = strawberry.Schema(Query, extensions=[ParserCache, KeptValidation])
    for n in (1, 2, 3):
        assert run(schema, "{ twice(n: 21) }").data == {"twice": 42}, n
    assert len(validations) == 1
    assert run(schema, "{ other: twice(n: 1) }").data == {"other": 2}
    assert len(validations) == 2


def test_an_invalid_text_keeps_its_errors(validations):
    schema = strawberry.Schema(Query, extensions=[ParserCache, KeptValidation])
    first, second = run(schema, "{ twice }"), run(schema, "{ twice }")
    assert first.data is None and second.data is None
    assert [e.message for e in first.errors] == [e.message for e in second.errors]
    assert "is required" in first.errors[0].message
    assert len(validations) == 1
