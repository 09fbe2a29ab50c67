"""`KeptValidation`: a document's validation errors kept across requests, found by identity.

strawberry's `ValidationCache` is an `lru_cache` keyed by the parsed document, and graphql-core's
AST nodes hash their whole tree each time: every request hashed its document again (4.5 % of a
REST listing's CPU, whose documents are long, in a profile). The parser cache (`ParserCache`)
hands out one document object per query text, so the object's identity names the document; an
entry keeps its document alive, so that identity cannot pass to another object while the entry
is kept. A document parsed anew (evicted from the parser cache) is validated anew.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from typing import Any, Final

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

__all__ = ["KeptValidation"]

#: Documents whose errors are kept, as many as the parser cache keeps documents.
MAX_KEPT: Final = 512


class _Kept:
    """The validation errors of the documents last validated, least recently used dropped."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.entries: OrderedDict[tuple[Any, ...], tuple[Any, list[GraphQLError]]] = OrderedDict()

    def errors(self, schema: Any, document: Any, rules: tuple[Any, ...]) -> list[GraphQLError]:
        key = (id(schema), id(document), rules)
        found = self.entries.get(key)
        if found is not None:
            self.entries.move_to_end(key)
            return found[1]
        from strawberry.schema.schema import validate_document  # imports this module's users

        errors = validate_document(schema, document, rules)
        self.entries[key] = ((schema, document), errors)
        if len(self.entries) > self.size:
            self.entries.popitem(last=False)
        return errors


_KEPT: Final = _Kept(MAX_KEPT)


class KeptValidation(SchemaExtension):
    """Validate each parsed document once (see the module docstring)."""

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        context.pre_execution_errors = _KEPT.errors(
            context.schema._schema, context.graphql_document, tuple(context.validation_rules)
        )
        yield
