"""One schema extension that gives every GraphQL error a code and hides unexpected ones.

Domain errors (resolvers/errors.py) keep their message and get `extensions.code` and
`extensions.errorValues`; errors of the document itself (syntax, validation, limits, variable
types) get `GRAPHQL_VALIDATION_FAILED` or `BAD_USER_INPUT`; anything else is a bug: logged once
with its traceback and shown as "Internal error".
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from resolvers.errors import domain_error, refused_value

__all__ = ["INTERNAL", "DomainErrors", "error_code"]

log = logging.getLogger(__name__)

INTERNAL = "INTERNAL_SERVER_ERROR"


def error_code(error: GraphQLError) -> str:
    """The code of a GraphQL error as this extension set it."""
    code = (error.extensions or {}).get("code")
    return code if isinstance(code, str) else INTERNAL


def _classify(error: GraphQLError) -> GraphQLError:
    if "code" in (error.extensions or {}):  # already classified (result and pre-execution
        return error  # lists may hold the same error): never log or rebuild it twice
    original = error.original_error
    domain = domain_error(original) if original is not None else None
    if domain is not None:
        extensions: dict[str, Any] = {"code": domain.code, "errorValues": domain.values}
        if domain.retry_after is not None:
            extensions["retryAfter"] = domain.retry_after
        return GraphQLError(domain.message, error.nodes, error.source, error.positions,
                            error.path, original, extensions)  # fmt: skip
    if original is None or (error.path is None and error.nodes):  # the document or variables
        code = "BAD_USER_INPUT" if "Variable" in error.message else "GRAPHQL_VALIDATION_FAILED"
        error.extensions = {**(error.extensions or {}), "code": code}
        return error
    if isinstance(original, GraphQLError) and (original.nodes or original.extensions):
        # graphql-core refusing an argument's value (located in the document), or an error
        # already classified: its code, at the place of the field it failed
        inner = _classify(original)
        return GraphQLError(inner.message, error.nodes, error.source, error.positions,
                            error.path, original, inner.extensions)  # fmt: skip
    # anything else, a value of ours its type refused (an Int past 32 bits) included, is a bug
    refused = refused_value(original)
    if refused is not None:
        return GraphQLError(refused.message, error.nodes, error.source, error.positions,
                            error.path, original,
                            {"code": "BAD_USER_INPUT", "errorValues": {}})  # fmt: skip
    log.error("unexpected error in %s", error.path, exc_info=original)
    return GraphQLError("Internal error", error.nodes, error.source, error.positions,
                        error.path, None, {"code": INTERNAL})  # fmt: skip


class DomainErrors(SchemaExtension):
    """Attach codes to the errors of every operation."""

    def on_operation(self) -> Iterator[None]:
        try:
            yield
        except GraphQLError as error:
            # KeptDocument parses inside its own hook: a syntax error (or too many tokens)
            # escapes the operation as an exception and strawberry builds its result outside.
            _classify(error)
            raise
        result = self.execution_context.result
        if result is not None and result.errors:
            result.errors = [_classify(error) for error in result.errors]
        pre = self.execution_context.pre_execution_errors
        if pre:
            self.execution_context.pre_execution_errors = [_classify(e) for e in pre]
