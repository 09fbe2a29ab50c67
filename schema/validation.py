"""`KeptDocument`: each query text parsed once, within the token limit, and each parsed
document validated once, with the schema's limit rules.

One extension does what four did (strawberry's parser cache, token limiter and added rules, and
the kept validation): strawberry builds a context manager for each hook of each extension at
every request, which was about 6 % of a small query's CPU with six extensions.

The validation errors are found by the document's identity (`schema.per_document`):
strawberry's own validation cache hashed the whole document at every request. The parse cache
hands out one document object per query text, so that identity names the text.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import lru_cache
from typing import Final

from graphql import ASTValidationRule, DocumentNode, GraphQLError, parse
from strawberry.extensions import SchemaExtension

from schema.per_document import PerDocument

__all__ = ["MAX_KEPT", "KeptDocument"]

#: Query texts whose parsed documents are kept, and documents whose answers are kept.
MAX_KEPT: Final = 512

_ERRORS: Final[PerDocument[list[GraphQLError]]] = PerDocument(MAX_KEPT)


@lru_cache(maxsize=MAX_KEPT)
def _parsed(query: str, max_tokens: int) -> DocumentNode:
    return parse(query, max_tokens=max_tokens)


class KeptDocument(SchemaExtension):
    """See the module docstring.

    Args:
        max_tokens: the most tokens a query text may have (a syntax error past them).
        rules: validation rules added to GraphQL's own (the document's depth, its aliases).
    """

    def __init__(self, max_tokens: int, rules: Sequence[type[ASTValidationRule]] = ()) -> None:
        self.max_tokens = max_tokens
        self.rules = tuple(rules)

    def on_parse(self) -> Iterator[None]:
        # a syntax error (or too many tokens) escapes the operation (`schema.errors`)
        context = self.execution_context
        assert context.query is not None  # strawberry refuses a missing query before parsing
        context.graphql_document = _parsed(context.query, self.max_tokens)
        yield

    def on_validate(self) -> Iterator[None]:
        from strawberry.schema.schema import validate_document  # imports this module's users

        context = self.execution_context
        schema, document = context.schema._schema, context.graphql_document
        rules = (*context.validation_rules, *self.rules)
        assert document is not None  # validation follows a successful parse
        context.pre_execution_errors = _ERRORS.get(
            document, (schema, rules), lambda: validate_document(schema, document, rules)
        )
        yield
