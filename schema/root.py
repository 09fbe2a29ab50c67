"""The schema: every area's queries and mutations merged, with limits and error codes."""

from __future__ import annotations

from functools import partial

import strawberry
from strawberry.extensions import (
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from gateway.errors import DomainErrors
from gateway.settings import Settings
from schema.common import SCALARS
from schema.user import UserMutation, UserQuery

__all__ = ["build_schema"]

Query = merge_types("Query", (UserQuery,))
Mutation = merge_types("Mutation", (UserMutation,))


def build_schema(settings: Settings) -> strawberry.Schema:
    """The schema with this configuration's limits on depth, aliases and tokens."""
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        config=StrawberryConfig(scalar_map=SCALARS),
        extensions=[
            DomainErrors,
            partial(QueryDepthLimiter, max_depth=settings.graphql_max_depth),
            partial(MaxAliasesLimiter, max_alias_count=settings.graphql_max_aliases),
            partial(MaxTokensLimiter, max_token_count=settings.graphql_max_tokens),
            partial(ParserCache, maxsize=512),
            partial(ValidationCache, maxsize=512),
        ],
    )
