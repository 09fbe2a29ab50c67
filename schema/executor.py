"""Fast completion of big lists of plain objects (DESIGN.md "Performance principles").

graphql-core spends several microseconds on every field of every object it completes; on a
listing of thousands of annotations that dominates the request. Most list items are rows whose
selected fields are plain attribute reads of leaves (or of other such objects): no resolver,
permission or extension. For those, a plan is computed once per (type, selection set) from
graphql-core's own `collect_subfields` (so aliases, fragments, `@include`/`@skip` and
`__typename` behave exactly as usual), and turned into a small generated function that builds
each result dict in one expression, the way `dataclasses` generates `__init__`.

GraphQL's rules are kept: every leaf goes through its scalar's or enum's `serialize` (the
built-in Int, Float, String and Boolean, and Long and JSON, are checked inline to the same
effect), and a null in a non-null position, or any value a serializer refuses, abandons the
fast path for that list, which is then completed the normal way and reports the error as
usual. Lists of anything else
(resolvers, DataLoaders, abstract types, `@stream`/`@defer`) take the normal path.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Final

from graphql import (
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLFloat,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLScalarType,
    GraphQLString,
)
from graphql.pyutils import Path
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter

__all__ = ["PLANS", "ListExecutionContext", "PlanCache"]

_MAX_INT: Final = 2**31 - 1
#: Inline checks for built-in scalars: the value passes unchanged exactly when the scalar's
#: `serialize` would return it unchanged; anything else goes through `serialize` itself.
_INLINE: Final[dict[str, str]] = {
    GraphQLInt.name: "type({v}) is int and -{m} - 1 <= {v} <= {m}",
    GraphQLFloat.name: "type({v}) is float and {v} == {v} and {v} not in (_inf, -_inf)",
    GraphQLString.name: "type({v}) is str",
    GraphQLBoolean.name: "type({v}) is bool",
}
_BUILT_IN: Final = {t.name: t for t in (GraphQLInt, GraphQLFloat, GraphQLString, GraphQLBoolean)}


def _inline_check(type_: GraphQLScalarType | GraphQLEnumType) -> str | None:
    """The inline test under which a value passes `type_.serialize` unchanged, if known: the
    built-in scalars', and our own scalars' whose serializer is `int` (Long) or the identity
    (JSON, whose values the response encoder writes as they are)."""
    if _BUILT_IN.get(type_.name) is type_:
        return _INLINE[type_.name]
    if isinstance(type_, GraphQLScalarType):
        if type_.serialize is int:
            return "type({v}) is int"
        probe = object()
        if type_.name == "JSON" and type_.serialize(probe) is probe:
            return "True"
    return None


class _Bail(Exception):
    """The fast path met something only the normal path handles properly."""


def _serialize(serialize: Callable[[Any], Any], value: Any) -> Any:
    try:
        serialized = serialize(value)
    except Exception:  # the normal path turns the refusal into a located GraphQL error
        raise _Bail from None
    if serialized is None:
        raise _Bail
    return serialized


def _bail() -> Any:
    raise _Bail


def _unwrap(type_: GraphQLOutputType) -> tuple[GraphQLOutputType, bool]:
    if isinstance(type_, GraphQLNonNull):
        return type_.of_type, True
    return type_, False


@dataclass
class _Source:
    """A generated function being written: its lines and the objects it refers to."""

    lines: list[str]
    names: dict[str, Any]
    counter: int = 0

    def name(self, value: Any, prefix: str) -> str:
        self.counter += 1
        name = f"_{prefix}{self.counter}"
        self.names[name] = value
        return name

    def variable(self) -> str:
        self.counter += 1
        return f"v{self.counter}"


Completer = Callable[[Any], Any]


#: Key of the schema's plan cache in `GraphQLSchema.extensions` (set by `plan_cache`).
PLANS: Final = "cytogate.plans"
#: Plans kept per schema: each is a few hundred bytes of generated code.
MAX_PLANS: Final = 1024


class PlanCache:
    """The completers of lists, kept across requests: a parsed document is reused for the same
    query text (the parser cache), so its field nodes identify a selection. An entry keeps its
    type and nodes alive, so their ids cannot be reused by other objects while it is kept."""

    def __init__(self, size: int = MAX_PLANS) -> None:
        self.size = size
        self.entries: OrderedDict[tuple[object, ...], tuple[object, Completer | None]] = (
            OrderedDict()
        )

    def get(self, key: tuple[object, ...]) -> tuple[object, Completer | None] | None:
        found = self.entries.get(key)
        if found is not None:
            self.entries.move_to_end(key)
        return found

    def put(self, key: tuple[object, ...], keep: object, completer: Completer | None) -> None:
        self.entries[key] = (keep, completer)
        if len(self.entries) > self.size:
            self.entries.popitem(last=False)


#: Directives whose effect on a selection depends only on their `if` argument.
_CONDITIONS: Final = frozenset(("include", "skip"))


def _conditions(selections: Any, fragments: dict[str, Any], found: set[str]) -> bool:
    """Gather into `found` the variables the `@include`/`@skip` below these selections read
    (through fragments); False when another directive (`@defer`…) or a fragment with arguments
    appears, whose plan is then not shared."""
    for selection in selections or ():
        for directive in selection.directives or ():
            if directive.name.value not in _CONDITIONS:
                return False
            for argument in directive.arguments or ():
                if argument.value.kind == "variable":
                    found.add(argument.value.name.value)
        if selection.kind == "fragment_spread":
            fragment = fragments[selection.name.value]
            if fragment.variable_signatures:
                return False
            below = fragment.definition.selection_set
        else:
            below = selection.selection_set
        if below is not None and not _conditions(below.selections, fragments, found):
            return False
    return True


class ListExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's execution context with the fast path for lists of plain objects."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._plans: dict[tuple[int, int], tuple[Any, Completer | None]] = {}

    def complete_iterable_value(
        self,
        item_type: GraphQLOutputType,
        field_details_list: Any,
        info: GraphQLResolveInfo[Any],
        path: Path,
        items: Iterable[Any],
        position_context: Any,
    ) -> Any:
        if isinstance(items, list | tuple) and not self.get_stream_usage(field_details_list, path):
            complete = self._plan(item_type, field_details_list)
            if complete is not None:
                try:
                    return complete(items)
                except _Bail:
                    pass
        return super().complete_iterable_value(
            item_type, field_details_list, info, path, items, position_context
        )

    def _plan(self, item_type: GraphQLOutputType, field_details_list: Any) -> Completer | None:
        """The completer of a list's items: from the schema's plan cache, keyed by the
        selection's nodes and the values of the variables its `@include`/`@skip` read (the
        REST listings choose their columns so); memoised for this request alone, like
        `collect_subfields` (keeping the list alive so its id is not reused while the request
        runs), when other directives make the plan depend on more."""
        key = (id(item_type), id(field_details_list))
        cached = self._plans.get(key)
        if cached is not None:
            return cached[1]
        nodes = tuple(details.node for details in field_details_list)
        shared: PlanCache | None = (self.schema.extensions or {}).get(PLANS)
        read: set[str] = set()
        if shared is None or not _conditions(nodes, self.fragments, read):
            completer = self._compile(item_type, field_details_list)
        else:
            coerced = self.variable_values.coerced
            values = tuple(bool(coerced.get(name)) for name in sorted(read))
            shared_key = (id(item_type), *map(id, nodes), values)
            found = shared.get(shared_key)
            if found is None:
                found = ((item_type, nodes), self._compile(item_type, field_details_list))
                shared.put(shared_key, *found)
            completer = found[1]
        self._plans[key] = (field_details_list, completer)
        return completer

    def _compile(self, item_type: GraphQLOutputType, field_details_list: Any) -> Completer | None:
        source = _Source(["def complete(items):", "    out = []", "    for item in items:"],
                         {"_Bail": _Bail, "_bail": _bail, "_serialize": _serialize,
                          "_inf": float("inf")})  # fmt: skip
        result = self._value(source, "item", item_type, field_details_list, "        ")
        if result is None:
            return None
        source.lines += [f"        out.append({result})", "    return out"]
        namespace = dict(source.names)
        exec("\n".join(source.lines), namespace)  # built from the schema only, no input
        return namespace["complete"]  # type: ignore[no-any-return]

    def _value(
        self, source: _Source, value: str, type_: GraphQLOutputType, details: Any, indent: str
    ) -> str | None:
        """Emit lines computing the completed `value`; return the expression holding it, or
        None when this type cannot take the fast path."""
        inner, non_null = _unwrap(type_)
        done = source.variable()
        if non_null:
            source.lines.append(f"{indent}if {value} is None: _bail()")
        else:
            source.lines += [f"{indent}if {value} is None: {done} = None", f"{indent}else:"]
            indent += "    "
        if isinstance(inner, GraphQLList):
            item = source.variable()
            source.lines += [f"{indent}{done} = []", f"{indent}for {item} in {value}:"]
            completed = self._value(source, item, inner.of_type, details, indent + "    ")
            if completed is None:
                return None
            source.lines.append(f"{indent}    {done}.append({completed})")
        elif isinstance(inner, GraphQLScalarType | GraphQLEnumType):
            check = _inline_check(inner)
            serialize = source.name(inner.serialize, "s")
            if check == "True":
                source.lines.append(f"{indent}{done} = {value}")
            elif check is not None:
                test = check.format(v=value, m=_MAX_INT)
                source.lines.append(
                    f"{indent}{done} = {value} if {test} else _serialize({serialize}, {value})"
                )
            else:
                source.lines.append(f"{indent}{done} = _serialize({serialize}, {value})")
        elif isinstance(inner, GraphQLObjectType):
            built = self._object(source, value, inner, details, indent)
            if built is None:
                return None
            source.lines.append(f"{indent}{done} = {built}")
        else:
            return None
        return done

    def _object(
        self, source: _Source, value: str, type_: GraphQLObjectType, details: Any, indent: str
    ) -> str | None:
        if type_.is_type_of is not None:
            return None
        grouped, defer_usages, _ = self.collect_subfields(type_, details)
        if defer_usages:
            return None
        entries: list[str] = []
        for response_key, sub_details in grouped.items():
            name = sub_details[0].node.name.value
            if name == "__typename":
                entries.append(f"{response_key!r}: {type_.name!r}")
                continue
            definition = type_.fields[name]
            extensions = definition.extensions or {}
            field = extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
            if field is None or not field.is_basic_field:
                return None
            read = source.variable()
            source.lines.append(f"{indent}{read} = {value}.{field.python_name}")
            completed = self._value(source, read, definition.type, sub_details, indent)
            if completed is None:
                return None
            entries.append(f"{response_key!r}: {completed}")
        return "{" + ", ".join(entries) + "}"
