"""Fast completion of big lists of plain objects (DESIGN.md "Performance principles").

graphql-core spends several microseconds on every field of every object it completes; on a
listing of thousands of annotations that dominates the request. Most list items are rows whose
selected fields are plain attribute reads of leaves (or of other such objects): no resolver,
permission or extension. For those, a plan is computed once per (type, selection set) from
graphql-core's own `collect_subfields` (so aliases, fragments, `@include`/`@skip` and
`__typename` behave exactly as usual), and turned into a small generated function that builds
each result dict in one expression, the way `dataclasses` generates `__init__`.

The items are mostly SQLAlchemy rows, whose attributes cost about 300 ns each where an index
costs 40: a generated function reads a row's columns by position, found once per result (the
rows of one result share their map of names to positions), and any other item by attribute.

GraphQL's rules are kept: every leaf goes through its scalar's or enum's `serialize` (the
built-in Int, Float, String and Boolean, and Long and JSON, are checked inline to the same
effect), and a null in a non-null position, or any value a serializer refuses, abandons the
fast path for that list, which is then completed the normal way and reports the error as
usual.

A field declared with `loaded` (schema/common.py) is a DataLoader read at an attribute of its
parent (an annotation's terms, a term link's term): on the items of a list, the plan leaves it
out of the generated function and fills it after, with one `load_many` for every item, its
values completed by a plan of their own; a whole graph of such fields costs one batch per
level, without a coroutine per field. A field declared with `BATCHED` (a resolver with
arguments, such as an image's `annotations`) is filled the same way by one call of its list
resolver for every item, and a list or object the items hold whose own items have such fields
(a connection's nodes) is completed for every item together, so that a graph of pages under
pages costs one batch per level too. Lists of anything else (other resolvers, abstract types,
`@stream`/`@defer`) take the normal path.
"""

from __future__ import annotations

import inspect
import weakref
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from graphql import (
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLError,
    GraphQLField,
    GraphQLFloat,
    GraphQLInt,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLResolveInfoHelpers,
    GraphQLScalarType,
    GraphQLString,
    GraphQLUnionType,
)
from graphql.execution.values import VariableValues, get_argument_values
from graphql.pyutils import Path
from sqlalchemy.engine import Row
from sqlalchemy.engine.row import BaseRow
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter, get_arguments
from strawberry.types.field import StrawberryField

from resolvers.listing import RowStream
from schema.coercion import coerce_list_variables

__all__ = [
    "LOADED",
    "PLANS",
    "CompletedRows",
    "ListExecutionContext",
    "Loaded",
    "Plan",
    "PlanCache",
    "field_reads",
]

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


#: The column positions of a SQLAlchemy row, by name (its result's, shared by its rows), read
#: through the slot's descriptor: a row's attribute costs about 300 ns where this and an index
#: cost 40 each, and the items of a list are mostly rows of one result.
_KEYS_OF: Final[Callable[[Any], dict[Any, int]]] = BaseRow.__dict__["_key_to_index"].__get__


def _positional(name: str) -> bool:
    """Whether a row's attribute `name` is its column's value: SQLAlchemy gives an attribute
    of the `Row` class (`t`, `count`…) precedence over a column of that name."""
    return not hasattr(Row, name)


def _column(items: list[Any], name: str) -> list[Any]:
    """`getattr(item, name)` for every item: by position for rows (`_KEYS_OF`)."""
    if not _positional(name):
        return [getattr(item, name) for item in items]
    values = []
    last: dict[Any, int] | None = None
    at: int | None = None
    for item in items:
        if type(item) is Row:
            keys = _KEYS_OF(item)
            if keys is not last:
                last, at = keys, keys.get(name)
            if at is not None:
                values.append(item[at])
                continue
        values.append(getattr(item, name))
    return values


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
    #: The loaded fields of the items, filled after the generated function (`Plan`).
    deferred: list[_Deferred] = field(default_factory=list)
    #: The items' attributes read by position when an item is a row: name → local variable.
    positions: dict[str, str] = field(default_factory=dict)

    def name(self, value: Any, prefix: str) -> str:
        self.counter += 1
        name = f"_{prefix}{self.counter}"
        self.names[name] = value
        return name

    def variable(self) -> str:
        self.counter += 1
        return f"v{self.counter}"


#: What a field declared with `loaded` (schema/common.py) carries: the request's loader for
#: `fn` at the parent's attribute `key` gives its value.
LOADED: Final = "cytogate.loaded"
#: What a field resolved for a whole list carries (schema/annotation_nested.py): a function of
#: the list's items and the field's arguments (as its resolver takes them, `info` included)
#: giving each item's value, in order.
BATCHED: Final = "cytogate.batched"


@dataclass(frozen=True, slots=True)
class Loaded:
    """A field loaded in batches: `fn` at the parent's `key` attribute; `lighter`, the
    attributes another loader leaves out of the values, and that loader."""

    fn: Any
    key: str
    lighter: tuple[frozenset[str], Any] | None = None

    async def fetch(self, items: list[Any], execution: Any, path: Path) -> list[Any]:
        """The items' values (None where an item's key is), in order; `path`: the field's
        under the list, as for every source."""
        keys = _column(items, self.key)
        present = [key for key in keys if key is not None]
        found = iter(await execution.context_value.loader(self.fn).load_many(present))
        return [None if key is None else next(found) for key in keys]


@dataclass(frozen=True, slots=True)
class _Held:
    """A list or object the items hold whose own items have deferred fields (a connection's
    nodes and their terms): completed together for every item, so those load once."""

    name: str

    async def fetch(self, items: list[Any], execution: Any, path: Path) -> list[Any]:
        return _column(items, self.name)


@dataclass(frozen=True, slots=True)
class _Resolved:
    """A field resolved for all the items at once by its `BATCHED` function, with the
    arguments of its node (the same for every item) converted as strawberry converts them."""

    resolve_many: Callable[..., Awaitable[list[Any]]]
    definition: GraphQLField
    field: StrawberryField
    details: tuple[Any, ...]
    parent_type: GraphQLObjectType

    async def fetch(self, items: list[Any], execution: Any, path: Path) -> list[Any]:
        first = self.details[0]
        given = get_argument_values(self.definition, first.node, execution.variable_values,
                                    first.fragment_variable_values)  # fmt: skip
        # the Info of the field on every item: its path names the field under the list
        raw = execution.build_resolve_info(
            self.definition, [details.node for details in self.details], self.parent_type, path
        )
        schema = execution.schema._strawberry_schema
        info = schema.config.info_class(_raw_info=raw, _field=self.field)
        _, arguments = get_arguments(
            field=self.field, source=None, info=info,
            kwargs=given, config=schema.config,
            scalar_registry=schema.schema_converter.scalar_registry,
        )  # fmt: skip
        arguments.pop(self.field.base_resolver.parent_parameter.name)  # type: ignore[union-attr]
        found = await self.resolve_many(items, **arguments)
        if len(found) != len(items):
            raise _Bail
        return found


@dataclass(frozen=True, slots=True)
class _Deferred:
    """A field of a list's items filled after their plain fields, for the whole list at once
    (`source`), its values completed by their own plan."""

    response_key: str
    source: Loaded | _Held | _Resolved
    many: bool
    non_null: bool
    items_non_null: bool
    plan: Plan


@dataclass(frozen=True, slots=True)
class Plan:
    """How a list's items complete: a generated function for their plain fields, then each
    deferred field in one step for all of them (when there are any, completion is awaited).
    `path`: the list's (it names the Info of a batched field)."""

    build: Callable[[Any], list[dict[str, Any]]]
    deferred: tuple[_Deferred, ...] = ()

    def run(self, items: Any, execution: Any, path: Path) -> Any:
        out = self.build(items)
        if not self.deferred:
            return out
        return self._fill(items, out, execution, path)

    async def _fill(self, items: Any, out: list[dict[str, Any]], execution: Any, path: Path) -> Any:
        for deferred in self.deferred:
            below = path.add_key(deferred.response_key)
            try:
                found = await deferred.source.fetch(items, execution, below)
            except Exception:  # an error of a loader or resolver: the normal path reports it
                raise _Bail from None
            complete = _complete_lists if deferred.many else _complete_objects
            values = await complete(deferred, found, execution, below)
            if deferred.non_null and any(value is None for value in values):
                raise _Bail
            for row, value in zip(out, values, strict=True):
                row[deferred.response_key] = value
        return out


async def _complete_lists(
    deferred: _Deferred, groups: list[Any], execution: Any, path: Path
) -> list[Any]:
    """Each list completed by the deferred field's plan (None for a null list); the lists
    are completed as one, and cut back into lists by their lengths."""
    flat = [value for group in groups if group is not None for value in group]
    nulls = _holds_none(flat)
    if nulls and deferred.items_non_null:
        raise _Bail
    present = [value for value in flat if value is not None] if nulls else flat
    done = await _distinct_once(deferred.plan, present, execution, path)
    if nulls:
        completed = iter(done)
        done = [None if value is None else next(completed) for value in flat]
    out: list[Any] = []
    at = 0
    for group in groups:
        if group is None:
            out.append(None)
        else:
            out.append(done[at : at + len(group)])
            at += len(group)
    return out


def _holds_none(values: list[Any]) -> bool:
    """Whether `values` hold None, decided without comparing each value with None (a row's
    `==` costs a microsecond): by the types they have (None is NoneType's only value)."""
    return type(None) in set(map(type, values))


async def _complete_objects(
    deferred: _Deferred, values: list[Any], execution: Any, path: Path
) -> list[Any]:
    """Each object completed by the deferred field's plan (None for a null one)."""
    if not _holds_none(values):
        completed: list[Any] = await _distinct_once(deferred.plan, values, execution, path)
        return completed
    present = [value for value in values if value is not None]
    found = iter(await _distinct_once(deferred.plan, present, execution, path))
    return [None if value is None else next(found) for value in values]


def _row_head(positions: dict[str, str]) -> list[str]:
    """The lines at the top of a completer's loop that decide `fast` (read the attributes in
    `positions` by position): the item is a row with a position for each of them (a name two
    columns share has none: its attribute raises), found once for the rows of a result
    (`_KEYS_OF`)."""
    if not positions:
        return []
    found_get = ", ".join(f"keys.get({name!r})" for name in positions)
    return [
        "        if type(item) is not _Row:",
        "            fast = False",
        "        else:",
        "            keys = _keys_of(item)",
        "            if keys is not last:",
        f"                last, found = keys, ({found_get},)",
        "                known = None not in found",
        "                if known:",
        f"                    {', '.join(positions.values())}, = found",
        "            fast = known",
    ]


async def _distinct_once(plan: Plan, values: list[Any], execution: Any, path: Path) -> list[Any]:
    """`values` completed by `plan`, each distinct object once where the caller's results may
    share them (`Context.shares_results`): the values of a loaded key (the term of 900 links,
    ten terms) are the loader's cached objects, completed once then."""
    if getattr(execution.context_value, "shares_results", False):
        ids = list(map(id, values))
        if len(set(ids)) < len(ids):
            distinct = dict(zip(ids, values, strict=True))
            completed = await _awaited(plan.run(list(distinct.values()), execution, path))
            done = dict(zip(distinct, completed, strict=True))
            return [done[key] for key in ids]
    every: list[Any] = await _awaited(plan.run(values, execution, path))
    return every


async def _awaited(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


def field_reads(fields: Iterable[Any]) -> frozenset[str] | None:
    """The attributes of a value that these strawberry fields of its type read: a plain field
    its own, a loaded one its key; None as soon as one has a resolver of its own, which may
    read any. A read that returns only these attributes serves the fields."""
    reads: set[str] = set()
    for one in fields:
        loaded = (one.metadata or {}).get(LOADED)
        if loaded is not None:
            reads.add(loaded.key)
        elif one.is_basic_field:
            reads.add(one.python_name)
        else:
            return None
    return frozenset(reads)


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
        self.entries: OrderedDict[tuple[object, ...], tuple[object, Plan | None]] = OrderedDict()

    def get(self, key: tuple[object, ...]) -> tuple[object, Plan | None] | None:
        found = self.entries.get(key)
        if found is not None:
            self.entries.move_to_end(key)
        return found

    def put(self, key: tuple[object, ...], keep: object, completer: Plan | None) -> None:
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


#: A stream holds its request's database connection until its last row: what completes its
#: rows may not wait (a loader would wait for the stream, which waits for it); lists whose
#: fields may are read whole first (`_complete_read`), and this guards the rest.
_STREAM_READS: Final = "the fields of a streamed list may not read the database"


def _not_basic(field: StrawberryField | None) -> bool:
    return field is None or not field.is_basic_field


def _may_wait(field: StrawberryField | None) -> bool:
    metadata: Mapping[str, Any] = (field.metadata or {}) if field is not None else {}
    return field is None or field.is_async or LOADED in metadata or BATCHED in metadata


class CompletedRows:
    """A `RowStream` completed as it is read: partitions of result dicts, for the REST bridge
    to write as they come (only the bridge's own documents ask for whole lists). `complete`
    turns a partition of rows into its results; an error there ends the stream (the answer is
    already under way)."""

    def __init__(
        self, rows: RowStream, complete: Callable[[list[Any]], Awaitable[list[Any]]]
    ) -> None:
        self.rows = rows
        self.complete = complete

    async def __aiter__(self) -> AsyncIterator[list[Any]]:
        async for partition in self.rows:
            yield await self.complete(list(partition))


def _weak_helpers(executor: Any) -> GraphQLResolveInfoHelpers:
    """The resolvers' async helpers of `executor`, reaching it through a weak reference.

    graphql-core makes them bound methods of the executor, which holds them: a reference cycle
    through which every request's whole execution (its context, loaders, rows and futures)
    stayed alive until the collector's oldest generation ran, then took it 100–900 ms to free
    hundreds of requests at once. Resolvers only call them while the executor runs."""
    ref = weakref.ref(executor)

    def gather(values: Any) -> Any:
        return ref().gather_async_work(values)  # type: ignore[union-attr]

    def track(values: Any) -> None:
        ref().track_async_work(values)  # type: ignore[union-attr]

    return GraphQLResolveInfoHelpers(gather=gather, track=track)


class ListExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's execution context with the fast path for lists of plain objects (and for
    list variables, `build`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.async_helpers = _weak_helpers(self)
        self._plans: dict[tuple[int, int], tuple[Any, Plan | None]] = {}

    @classmethod
    def build(
        cls,
        schema: Any,
        document: Any,
        root_value: Any = None,
        context_value: Any = None,
        raw_variable_values: dict[str, Any] | None = None,
        operation_name: str | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        """graphql-core's executor, with the list variables coerced from the schema's plans
        (schema/coercion.py): graphql-core is handed an empty tuple in their place, and the
        coerced values replace the empty list it made of it."""
        planned = coerce_list_variables(schema, document, operation_name, raw_variable_values)
        raw = raw_variable_values
        if planned and raw is not None:
            raw = {**raw, **dict.fromkeys(planned, ())}
        built = super().build(
            schema, document, root_value, context_value, raw, operation_name, *args, **kwargs
        )
        if planned and raw_variable_values is not None and isinstance(built, cls):
            values = built.variable_values
            sources = dict(values.sources)
            for name in planned:
                sources[name] = sources[name]._replace(value=raw_variable_values[name])
            built.variable_values = VariableValues(sources, {**values.coerced, **planned})
        return built

    def complete_list_value(
        self,
        return_type: Any,
        field_details_list: Any,
        info: GraphQLResolveInfo[Any],
        path: Path,
        result: Any,
        position_context: Any,
    ) -> Any:
        """A `RowStream` stays a stream (`CompletedRows`), each partition completed by the
        list's plan, or the normal way where there is none; lists go on. Where the items' fields
        read the database (loaders), which the stream's cursor holds, every row is read first
        and the list completed as any other."""
        if not isinstance(result, RowStream):
            return super().complete_list_value(
                return_type, field_details_list, info, path, result, position_context
            )
        plan = self._plan(return_type.of_type, field_details_list)
        if plan.deferred if plan is not None else self._awaits(return_type, field_details_list):
            return self._complete_read(
                return_type, field_details_list, info, path, result, position_context
            )

        async def complete(partition: list[Any]) -> list[Any]:
            if plan is not None:
                try:
                    return plan.build(partition)
                except _Bail:
                    pass  # the normal path says what is wrong
            errors = len(self.collected_errors.errors)
            try:
                done = super(ListExecutionContext, self).complete_list_value(
                    return_type, field_details_list, info, path, partition, position_context
                )
            except GraphQLError as error:
                raise ValueError(f"a streamed row could not be completed: {error}") from None
            if inspect.isawaitable(done):
                if inspect.iscoroutine(done):
                    done.close()
                raise TypeError(_STREAM_READS)
            if len(self.collected_errors.errors) > errors:
                first = self.collected_errors.errors[errors]
                raise ValueError(f"a streamed row could not be completed: {first}")
            return done

        return CompletedRows(result, complete)

    async def _complete_read(
        self,
        return_type: Any,
        field_details_list: Any,
        info: GraphQLResolveInfo[Any],
        path: Path,
        rows: RowStream,
        position_context: Any,
    ) -> Any:
        every = [row async for partition in rows for row in partition]
        done = super().complete_list_value(
            return_type, field_details_list, info, path, every, position_context
        )
        return await done if inspect.isawaitable(done) else done

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
            plan = self._plan(item_type, field_details_list)
            if plan is not None:
                try:
                    result = plan.run(items, self, path)
                except _Bail:
                    pass
                else:
                    if not inspect.isawaitable(result):
                        return result
                    return self._or_normally(result, item_type, field_details_list, info, path,
                                             items, position_context)  # fmt: skip
        return super().complete_iterable_value(
            item_type, field_details_list, info, path, items, position_context
        )

    async def _or_normally(self, result: Any, *normal: Any) -> Any:
        """The awaited fast completion, or the normal one when it met what only that path
        handles (the loaders' values are cached: nothing is read twice)."""
        try:
            return await result
        except _Bail:
            return await _awaited(super().complete_iterable_value(*normal))

    def _plan(self, item_type: GraphQLOutputType, field_details_list: Any) -> Plan | None:
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

    def _compile(self, item_type: GraphQLOutputType, field_details_list: Any) -> Plan | None:
        source = _Source([], {"_Bail": _Bail, "_bail": _bail, "_serialize": _serialize,
                              "_inf": float("inf"), "_Row": Row, "_keys_of": _KEYS_OF})  # fmt: skip
        result = self._value(source, "item", item_type, field_details_list, "        ")
        if result is None:
            return None
        lines = ["def complete(items):", "    out = []", "    last, known = None, False",
                 "    for item in items:", *_row_head(source.positions), *source.lines,
                 f"        out.append({result})", "    return out"]  # fmt: skip
        namespace = dict(source.names)
        exec("\n".join(lines), namespace)  # built from the schema only, no input
        return Plan(namespace["complete"], tuple(source.deferred))

    def _deferred(
        self, response_key: str, source: Loaded | _Held | _Resolved, type_: GraphQLOutputType,
        details: Any,
    ) -> _Deferred | None:  # fmt: skip
        """A deferred field of the items: its kind, nullability and the plan of its values."""
        inner, non_null = _unwrap(type_)
        many = isinstance(inner, GraphQLList)
        items_non_null = False
        if many:
            inner, items_non_null = _unwrap(inner.of_type)  # type: ignore[union-attr]
        if not isinstance(inner, GraphQLObjectType):
            return None
        plan = self._compile(inner, details)
        if plan is None:
            return None
        if isinstance(source, Loaded) and source.lighter is not None:
            reads = self._reads(inner, details)
            if reads is not None and not source.lighter[0] & reads:
                source = Loaded(source.lighter[1], source.key)
        return _Deferred(response_key, source, many, non_null, items_non_null, plan)

    def _item_field(
        self, response_key: str, parent_type: GraphQLObjectType, definition: GraphQLField,
        field: StrawberryField, details: Any,
    ) -> _Deferred | bool:  # fmt: skip
        """How a field of the items is filled: deferred (loaded, batched, or holding values
        with deferred fields of their own), True when inline, False when the list cannot be
        planned."""
        metadata: Mapping[str, Any] = field.metadata or {}
        loaded = metadata.get(LOADED)
        if loaded is not None and not definition.args:
            return self._deferred(response_key, loaded, definition.type, details) or False
        resolve_many = metadata.get(BATCHED)
        if resolve_many is not None and not field.extensions:
            resolved = _Resolved(resolve_many, definition, field, tuple(details), parent_type)
            return self._deferred(response_key, resolved, definition.type, details) or False
        if not field.is_basic_field:
            return False
        if not self._defers(definition.type, details):
            return True
        held = self._deferred(response_key, _Held(field.python_name), definition.type, details)
        return held or False

    def _awaits(self, type_: GraphQLOutputType, details: Any) -> bool:
        """Whether completing the selection `details` of values of `type_` may wait (an async
        resolver, a loaded or batched field, an abstract type's members): a stream's rows are
        completed without waiting, since its cursor holds the database until the last one."""
        return self._selects(type_, details, _may_wait, abstract=True)

    def _defers(self, type_: GraphQLOutputType, details: Any) -> bool:
        """Whether the selection `details` of values of `type_` (or of its lists' items) has
        fields the values' plan would defer."""
        return self._selects(type_, details, _not_basic, abstract=False)

    def _selects(
        self,
        type_: GraphQLOutputType,
        details: Any,
        test: Callable[[StrawberryField | None], bool],
        *,
        abstract: bool,
    ) -> bool:
        """Whether the selection `details` of values of `type_` (or of its lists' items) has,
        at any depth, a field `test` holds for (None: not one of strawberry's); an interface
        or union counts as `abstract`."""
        inner = type_
        while isinstance(inner, GraphQLNonNull | GraphQLList):
            inner = inner.of_type
        if isinstance(inner, GraphQLInterfaceType | GraphQLUnionType):
            return abstract
        if not isinstance(inner, GraphQLObjectType):
            return False
        grouped, _, _ = self.collect_subfields(inner, details)
        for sub_details in grouped.values():
            definition = inner.fields.get(sub_details[0].node.name.value)
            if definition is None:  # __typename
                continue
            field = (definition.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
            if test(field) or self._selects(definition.type, sub_details, test, abstract=abstract):
                return True
        return False

    def _reads(self, type_: GraphQLObjectType, details: Any) -> frozenset[str] | None:
        """The attributes the selection `details` reads from values of `type_`
        (`field_reads`)."""
        grouped, _, _ = self.collect_subfields(type_, details)
        fields = [(type_.fields[name].extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
                  for name in (sub[0].node.name.value for sub in grouped.values())
                  if name != "__typename"]  # fmt: skip
        return None if None in fields else field_reads(fields)

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
            if field is None:
                return None
            if value == "item":
                how = self._item_field(response_key, type_, definition, field, sub_details)
                if how is False:
                    return None
                if isinstance(how, _Deferred):
                    source.deferred.append(how)
                    entries.append(f"{response_key!r}: None")  # filled after, in its place
                    continue
            elif not field.is_basic_field:
                return None
            read = source.variable()
            name = field.python_name
            if value == "item" and _positional(name):
                at = source.positions.setdefault(name, f"p{len(source.positions)}")
                source.lines.append(f"{indent}{read} = item[{at}] if fast else item.{name}")
            else:
                source.lines.append(f"{indent}{read} = {value}.{name}")
            completed = self._value(source, read, definition.type, sub_details, indent)
            if completed is None:
                return None
            entries.append(f"{response_key!r}: {completed}")
        return "{" + ", ".join(entries) + "}"
