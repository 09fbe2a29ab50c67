"""`KeptValidation`: a document's validation errors kept across requests, found by identity
(`schema.per_document`): strawberry's own validation cache hashed the whole document at every
request."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from schema.per_document import PerDocument

__all__ = ["MAX_KEPT", "KeptValidation"]

#: Documents whose answers are kept, as many as the parser cache keeps documents.
MAX_KEPT: Final = 512

_ERRORS: Final[PerDocument[list[GraphQLError]]] = PerDocument(MAX_KEPT)


class KeptValidation(SchemaExtension):
    """Validate each parsed document once (see the module docstring)."""

    def on_validate(self) -> Iterator[None]:
        from strawberry.schema.schema import validate_document  # imports this module's users

        context = self.execution_context
        schema, document = context.schema._schema, context.graphql_document
        rules = tuple(context.validation_rules)
        assert document is not None  # validation follows a successful parse
        context.pre_execution_errors = _ERRORS.get(
            document, (schema, rules), lambda: validate_document(schema, document, rules)
        )
        yield
