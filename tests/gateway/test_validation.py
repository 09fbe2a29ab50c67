"""`schema.validation.KeptDocument`: a query text is parsed and validated once while its parsed
document is kept, its errors (or none) answered again each time, other texts validated on
their own; the token limit and the added rules apply."""

from __future__ import annotations

import asyncio
from functools import partial
from typing import Any

import pytest
import strawberry
import strawberry.schema.schema as strawberry_schema
from strawberry.extensions.max_aliases import create_validator as aliases_rule

from schema.validation import KeptDocument


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
    schema = strawberry.Schema(Query, extensions=[partial(KeptDocument, 100)])
    for n in (1, 2, 3):
        assert run(schema, "{ twice(n: 21) }").data == {"twice": 42}, n
    assert len(validations) == 1
    assert run(schema, "{ other: twice(n: 1) }").data == {"other": 2}
    assert len(validations) == 2


def test_an_invalid_text_keeps_its_errors(validations):
    schema = strawberry.Schema(Query, extensions=[partial(KeptDocument, 100)])
    first, second = run(schema, "{ twice }"), run(schema, "{ twice }")
    assert first.data is None and second.data is None
    assert [e.message for e in first.errors] == [e.message for e in second.errors]
    assert "is required" in first.errors[0].message
    assert len(validations) == 1


def test_the_token_limit_and_the_added_rules_apply(validations):
    aliased = "{ a: twice(n: 1) b: twice(n: 2) }"
    schema = strawberry.Schema(Query, extensions=[partial(KeptDocument, 100, [aliases_rule(1)])])
    refused = run(schema, aliased)
    assert refused.data is None and "aliases" in refused.errors[0].message
    assert run(schema, "{ a: twice(n: 1) }").data == {"a": 2}
    tight = strawberry.Schema(Query, extensions=[partial(KeptDocument, 10)])
    (error,) = run(tight, aliased).errors
    assert "more than 10 tokens" in error.message
    assert run(tight, "{ twice(n: 4) }").data == {"twice": 8}
