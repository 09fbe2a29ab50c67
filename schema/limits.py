"""Limits on what one GraphQL document may ask of the server (DESIGN.md, "Connections and load").

Depth, aliases and tokens bound the document itself (`limit_rules`, and the token count
`schema.validation.KeptDocument` parses with), and `IntrospectionBound` its introspection. The
rules are built once per schema, not per request: validations are kept per document and rule
classes, so rules built per request (as `QueryDepthLimiter(...)` in a factory does) would never
hit them.

`RowBudget` bounds the work: before executing, it counts the list items the operation may
return, with its variables, as GitHub's node limit does. A paged list (a field with `first`)
returns at most its page, `first` clamped to `CYTOGATE_GRAPHQL_MAX_PAGE` (100 when absent, 0
for `first: 0`); nesting multiplies (ten images each with fifty annotations are five hundred
rows) and aliases add. A list without paging (the terms of an annotation, the slices of an
image: small by design, since the schema pages every list that can grow large) counts one item
per parent; a single object counts nothing. Its length is unknown before it runs, though, so
the paged lists below it count as if it held a whole page (`CYTOGATE_GRAPHQL_MAX_PAGE` items,
or the length of its longest list argument, as `annotationCreateEach`'s inputs, when longer):
else a page under each slice of an image, each term of an ontology or each element of a bulk
write would multiply past the budget unseen. A variable left out of the request counts with its
declared default, as it runs. A document over
`CYTOGATE_GRAPHQL_MAX_ROWS` is refused before anything runs, with `ROW_LIMIT_EXCEEDED`; every
answer reports its count in `extensions.cost`. The REST bridge's own documents are trusted
(`max=0` means every row to Cytomine clients) and not counted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final

import orjson
from graphql import (
    ASTValidationRule,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    ListValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
    VariableNode,
    get_named_type,
    get_nullable_type,
    is_list_type,
    type_from_ast,
    value_from_ast,
)
from graphql.type.definition import GraphQLNamedType
from strawberry.extensions import SchemaExtension
from strawberry.extensions.max_aliases import create_validator as aliases_rule
from strawberry.extensions.query_depth_limiter import create_validator as depth_rule

from resolvers.context import Context
from schema.per_document import PerDocument
from schema.validation import MAX_KEPT
from settings import Settings

__all__ = [
    "ROW_LIMIT_EXCEEDED",
    "IntrospectionBound",
    "RowBudget",
    "limit_rules",
    "row_budget",
    "rows_of",
]

ROW_LIMIT_EXCEEDED: Final = "ROW_LIMIT_EXCEEDED"
#: The page of a paged list whose `first` is not given.
DEFAULT_PAGE: Final = 100

ExtensionFactory = Callable[[], SchemaExtension]


@dataclass(frozen=True, slots=True)
class _Walk:
    """What counting one operation needs: the schema, its fragments, its variables."""

    schema: GraphQLSchema
    fragments: Mapping[str, FragmentDefinitionNode]
    variables: Mapping[str, Any]
    max_page: int

    def page(self, field: GraphQLField, node: FieldNode) -> int:
        """The rows a paged list field returns at most."""
        first: Any = DEFAULT_PAGE
        for argument in node.arguments or ():
            if argument.name.value == "first":
                if isinstance(argument.value, VariableNode):
                    first = self.variables.get(argument.value.name.value, DEFAULT_PAGE)
                else:
                    first = value_from_ast(argument.value, field.args["first"].type)
        size = first if isinstance(first, int) and not isinstance(first, bool) else DEFAULT_PAGE
        return max(0, min(size, self.max_page))

    def fan_out(self, node: FieldNode) -> int:
        """How many items an unpaged list is taken to hold for the paged lists below it: a
        page, or its longest list argument's length when longer (module docstring)."""
        longest = self.max_page
        for argument in node.arguments or ():
            value: Any = argument.value
            if isinstance(value, VariableNode):
                value = self.variables.get(value.name.value)
            elif isinstance(value, ListValueNode):
                value = value.values
            if isinstance(value, list | tuple):
                longest = max(longest, len(value))
        return longest

    def rows(
        self,
        selections: SelectionSetNode,
        parent: GraphQLNamedType,
        each: int,
        worst: int | None = None,
        *,
        page: bool = False,
    ) -> int:
        """The rows below `selections` of `each` objects of type `parent`, which may really be
        `worst` objects (more, below an unpaged list: module docstring); `page`: `selections`
        are a paged field's (a connection's), whose list is that page."""
        worst = each if worst is None else worst
        total = 0
        for node, owner in self._fields(selections, parent):
            field = owner.fields.get(node.name.value)
            if field is None or node.selection_set is None:
                continue  # a leaf, or __typename
            inner = get_named_type(field.type)
            listed = is_list_type(get_nullable_type(field.type))
            if "first" in field.args:
                count = worst * self.page(field, node)
                total += count if listed else 0
                total += self.rows(node.selection_set, inner, count, page=not listed)
            elif listed:
                total += each
                below = worst if page else worst * self.fan_out(node)
                total += self.rows(node.selection_set, inner, each, below)
            else:
                total += self.rows(node.selection_set, inner, each, worst)
        return total

    def _fields(
        self, selections: SelectionSetNode, parent: GraphQLNamedType
    ) -> Iterator[tuple[FieldNode, GraphQLObjectType]]:
        """The field nodes of `selections`, through fragments, with the type owning each."""
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                if isinstance(parent, GraphQLObjectType):
                    yield selection, parent
                else:  # an interface or union: count the field on any type that has it
                    owner = self._owner(parent, selection.name.value)
                    if owner is not None:
                        yield selection, owner
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                narrowed = self.schema.get_type(condition.name.value) if condition else parent
                yield from self._fields(selection.selection_set, narrowed or parent)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments.get(selection.name.value)
                if fragment is not None:
                    narrowed = self.schema.get_type(fragment.type_condition.name.value)
                    yield from self._fields(fragment.selection_set, narrowed or parent)

    def _owner(self, parent: GraphQLNamedType, name: str) -> GraphQLObjectType | None:
        for possible in self.schema.get_possible_types(parent):  # type: ignore[arg-type]
            if name in possible.fields:
                return possible
        return None


def rows_of(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: Mapping[str, Any],
    max_page: int,
) -> int:
    """The rows `operation` may return at most, as the module docstring counts them."""
    root = schema.get_root_type(operation.operation)
    if root is None:
        return 0
    given = {**_defaults(schema, operation), **variables}
    return _Walk(schema, fragments, given, max_page).rows(operation.selection_set, root, 1)


def _defaults(schema: GraphQLSchema, operation: OperationDefinitionNode) -> dict[str, Any]:
    """The default values the operation declares for its variables: what a variable left out
    of the request is when the operation runs."""
    defaults: dict[str, Any] = {}
    for definition in operation.variable_definitions or ():
        type_ = type_from_ast(schema, definition.type)
        if definition.default_value is not None and type_ is not None:
            value = value_from_ast(definition.default_value, type_)  # type: ignore[arg-type]
            defaults[definition.variable.name.value] = value
    return defaults


#: The rows of the documents last counted.
_COUNTS: Final[PerDocument[int]] = PerDocument(MAX_KEPT)


class RowBudget(SchemaExtension):
    """Refuse an operation that may return more rows than the configured budget, before it runs;
    report the count of every other one in `extensions.cost`."""

    def __init__(self, max_rows: int, max_page: int) -> None:
        self.max_rows = max_rows
        self.max_page = max_page
        self.rows: int | None = None

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context.context
        document = self.execution_context.graphql_document
        if document is not None and not (isinstance(context, Context) and context.trusted):
            self.rows = self._kept_count(document)
            if self.rows > self.max_rows:
                raise GraphQLError(
                    f"This document may return up to {self.rows} rows, more than the "
                    f"{self.max_rows} allowed (CYTOGATE_GRAPHQL_MAX_ROWS): ask for smaller "
                    "pages or fewer lists",
                    extensions={
                        "code": ROW_LIMIT_EXCEEDED,
                        "cost": {"rows": self.rows, "limit": self.max_rows},
                    },
                )
        yield

    def get_results(self) -> dict[str, Any]:
        if self.rows is None:
            return {}
        return {"cost": {"rows": self.rows, "limit": self.max_rows}}

    def _kept_count(self, document: Any) -> int:
        """`_count`, kept per document, operation and variables: walking the document was
        about 2 % of a small query's CPU, at every request."""
        context = self.execution_context
        try:
            variables = orjson.dumps(context.variables, option=orjson.OPT_SORT_KEYS)
        except TypeError:  # not JSON (a caller of its own): counted each time
            return self._count(document)
        also = (context.schema._schema, context.operation_name, variables, self.max_page)
        return _COUNTS.get(document, also, lambda: self._count(document))

    def _count(self, document: Any) -> int:
        fragments: dict[str, FragmentDefinitionNode] = {}
        operations: list[OperationDefinitionNode] = []
        for definition in document.definitions:
            if isinstance(definition, FragmentDefinitionNode):
                fragments[definition.name.value] = definition
            elif isinstance(definition, OperationDefinitionNode):
                operations.append(definition)
        name = self.execution_context.operation_name
        chosen = next(
            (op for op in operations if name is None or (op.name and op.name.value == name)), None
        )
        if chosen is None:
            return 0
        schema = self.execution_context.schema._schema
        variables = self.execution_context.variables or {}
        return rows_of(schema, chosen, fragments, variables, self.max_page)


class IntrospectionBound(ValidationRule):
    """The schema's introspection (`__schema`) once per document, and no list inside an
    introspection aliased.

    The depth limit leaves introspection fields out and the row budget counts no rows there,
    so thirty aliases of `__schema { types { fields { type { fields … } } } }` (a few hundred
    tokens, open to anyone) held the event loop for over ten seconds and answered 9 MB. What
    tools send (GraphiQL's, codegen's introspection query) asks for it once, without aliases;
    `__type(name:)` stays free to alias, each being one type."""

    def __init__(self, context: ValidationContext) -> None:
        super().__init__(context)
        self.schemas = 0

    def enter_field(self, node: FieldNode, *_: Any) -> None:
        if node.name.value == "__schema":
            self.schemas += 1
            if self.schemas > 1:
                self.report_error(GraphQLError(
                    "A document may ask for the schema's introspection (`__schema`) once",
                    node,
                ))  # fmt: skip
            return
        parent = self.context.get_parent_type()
        if node.alias and node.selection_set and parent and parent.name.startswith("__"):
            self.report_error(GraphQLError(
                f"The introspection's `{node.name.value}` may not be aliased", node
            ))  # fmt: skip


def limit_rules(settings: Settings) -> list[type[ASTValidationRule]]:
    """The document rules of a schema (its depth, its aliases, its introspection), built
    once."""
    return [
        depth_rule(settings.graphql_max_depth, should_ignore=None),
        aliases_rule(settings.graphql_max_aliases),
        IntrospectionBound,
    ]


def row_budget(settings: Settings) -> ExtensionFactory:
    """The row budget of a schema, as the factory of its per-request extension."""
    return lambda: RowBudget(settings.graphql_max_rows, settings.graphql_max_page)
