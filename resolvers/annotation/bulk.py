"""Many user annotations at once: a REST array or `annotationCreateMany` created as one
operation, and deletion by filter.

A create of many keeps every rule and answer of the create of one (resolvers/annotation/
writes.py): each element is checked on its own — where it goes (slice or image, loaded once per
place), who draws it, the read-only check, the geometry pipeline (over many elements at once,
`prepare_many`) and the terms of the project's ontology — and an element's error is that
element's answer. The elements that pass are written in steps of a few hundred, each one
statement inserting the step's annotations and their term links from arrays, with ids reserved
from the sequence beforehand; PostgreSQL writes a step while the next one is shaped; the
counters the batch changes are updated once, last, so that their rows stay locked only
between that update and the commit. One command per table under one transaction id records
the whole batch, which undo reverses as a whole. An element naming tracks is created as a
create of one, in its own transaction, since a track refuses a slice it already holds only
when written; so is one carrying properties (rare: PIMS's imported annotations).

A delete by filter removes, in one transaction and one command per table, the annotations a
listing with the same filter shows the caller, provided the caller may delete each of them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Final

import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import (
    BigInteger,
    Float,
    Integer,
    LargeBinary,
    String,
    bindparam,
    cast,
    delete,
    func,
    insert,
    literal_column,
    null,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY, array
from sqlalchemy.exc import DBAPIError

from db.engine import Connection
from db.id_lists import among
from db.models import AnnotationTerm, AnnotationTrack, SecUser, SharedAnnotation, Term
from db.models.base import ID_SEQUENCE
from resolvers.annotation.listing import AnnotationSearch, annotation_listing
from resolvers.annotation.rows import ANNOTATION_COLUMNS, ANNOTATION_TABLE, STORED_COLUMNS
from resolvers.annotation.rules import (
    ANNOTATION_TERM,
    SHARED_ANNOTATION,
    USER_ANNOTATION,
    AnnotationFields,
    _Place,
    _place,
)
from resolvers.annotation.writes import Created, create_annotation, require_terms_removable
from resolvers.command import JSON, CommandInfo, CommandLog, row_data
from resolvers.context import Context
from resolvers.crud import table_of
from resolvers.errors import CytogateError, InvalidInput, refused_value
from resolvers.geometry import Measures, Shaped, prepare_many
from resolvers.metadata import record_metadata
from resolvers.metadata_target import USER_ANNOTATION_CLASS
from resolvers.track import ANNOTATION_TRACK

__all__ = ["MAX_BULK", "Outcome", "create_annotations", "create_each", "delete_matching"]

#: Most annotations one call creates or deletes.
MAX_BULK: Final = 100_000
#: Elements shaped and inserted per step of a batch (`_write`). A step's statement must go out
#: whole when sent: what the socket does not take at once (about 200 kB) waits for the event
#: loop's next turn, after the next step is shaped, and PostgreSQL waits with it; ordinary
#: geometries take about 1 kB an element. Large enough that a statement costs little beside
#: its rows.
STEP: Final = 200

_LINKS: Final = table_of(AnnotationTerm)
#: The stored columns an INSERT gives (the rest are defaults: ids, dates, counters).
_WRITTEN: Final = {
    "id": BigInteger, "slice_id": BigInteger, "image_id": BigInteger, "project_id": BigInteger,
    "user_id": BigInteger, "wkt_location": String, "geometry_compression": Float,
    "area": Float, "area_unit": Integer, "perimeter": Float, "perimeter_unit": Integer,
    "centroid_x": Float, "centroid_y": Float,
}  # fmt: skip
#: The link columns an INSERT gives, and their arrays' names.
_LINK_WRITTEN: Final = {"id": "link_id", "user_annotation_id": "link_annotation",
                        "term_id": "link_term", "user_id": "link_user"}  # fmt: skip
#: The columns left to their defaults.
_ANNOTATION_DEFAULTED: Final = tuple(c for c in STORED_COLUMNS if c.key not in _WRITTEN)
_LINK_DEFAULTED: Final = tuple(c for c in _LINKS.c if c.key not in _LINK_WRITTEN)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one element: its annotation's id (with the annotation and its command
    when read back) or its error."""

    annotation_id: int | None = None
    created: Created | None = None
    error: CytogateError | None = None


@dataclass(slots=True)
class _Planned:
    """An element that passed every check, ready to insert."""

    index: int
    user_id: int
    values: dict[str, Any]
    geometry: BaseGeometry
    terms: list[int]


_Key = tuple[int | None, int | None]


@dataclass(slots=True)
class _Checks:
    """What every element's checks need, read for the whole batch before any geometry: the
    places (or their errors), each element's place, the creators and the terms' ontologies;
    and the outcomes the checks decide."""

    viewer_id: int
    many: Sequence[AnnotationFields]
    outcomes: list[Outcome | None]
    places: dict[_Key, _Place | CytogateError]
    keys: list[_Key | None]
    authors: dict[int | None, int]
    terms: dict[int, int]

    def shape(self, indexes: range) -> list[_Planned]:
        """The elements of `indexes` that pass, in order: the geometry pipeline over the
        elements of each place and simplification bounds at once (an element's own bounds
        are its own, as in a create of one), then each element's own checks; a failing
        element's outcome becomes its error."""
        by_place: defaultdict[tuple[_Key, int | None, int | None], list[int]] = defaultdict(list)
        for index in indexes:
            key = self.keys[index]
            if key is None:
                continue
            found = self.places[key]
            if isinstance(found, CytogateError):
                self.outcomes[index] = Outcome(error=found)
            else:
                fields = self.many[index]
                by_place[(key, fields.min_point, fields.max_point)].append(index)
        planned: list[_Planned] = []
        for (key, min_point, max_point), chosen in by_place.items():
            found = self.places[key]
            assert not isinstance(found, CytogateError)
            shaped = prepare_many([self.many[i].location for i in chosen], found.width,
                                  found.height, found.physical_size_x,
                                  min_point=min_point, max_point=max_point)  # fmt: skip
            for index, result in zip(chosen, shaped, strict=True):
                item = self._checked(index, found, result)
                if item is not None:
                    planned.append(item)
        return sorted(planned, key=lambda item: item.index)

    def _checked(
        self, index: int, found: _Place, result: tuple[Shaped, Measures] | InvalidInput
    ) -> _Planned | None:
        """One element's checks after its geometry's, in the create of one's order."""
        fields = self.many[index]
        try:
            if isinstance(result, CytogateError):
                raise result
            user_id = self.authors.get(fields.user, self.viewer_id)
            if user_id != self.viewer_id:
                found.access.require_owner_or_mode(None)
            ontology = found.access.row.ontology_id  # a project without one takes no term
            for term_id in dict.fromkeys(fields.terms):
                if ontology is None or self.terms.get(term_id) != ontology:
                    raise InvalidInput(f"Term {term_id} is not in the ontology of the project")
        except CytogateError as error:
            self.outcomes[index] = Outcome(error=error)
            return None
        if self.outcomes[index] is not None:  # an unknown creator
            return None
        geometry, measures = result
        values = {
            "slice_id": found.slice_id, "image_id": found.image.id,
            "project_id": found.image.project_id, "user_id": user_id,
            "wkt_location": geometry.wkt, "geometry_compression": geometry.compression,
            "area": measures.area, "area_unit": measures.area_unit,
            "perimeter": measures.perimeter, "perimeter_unit": measures.perimeter_unit,
            "centroid_x": measures.centroid_x, "centroid_y": measures.centroid_y,
        }  # fmt: skip
        return _Planned(index, user_id, values, geometry.geometry,
                        list(dict.fromkeys(fields.terms)))  # fmt: skip

    def first_error(self, indexes: range) -> CytogateError | None:
        """The error of the first failing element of `indexes`, once they are all checked."""
        for index in indexes:
            outcome = self.outcomes[index]
            if outcome is not None and outcome.error is not None:
                return outcome.error
        return None


async def create_each(
    ctx: Context, many: Sequence[AnnotationFields], *, rows: bool = True, atomic: bool = False
) -> list[Outcome]:
    """Create the elements that pass their checks, as one operation; one outcome per element,
    in order.

    Args:
        rows: read the created annotations back (the REST array answers with ids only).
        atomic: all or none: the first element's error is raised and nothing is written,
            and the elements naming tracks (or carrying properties) join the batch's
            transaction.
    """
    viewer = ctx.require_guest()
    if len(many) > MAX_BULK:
        raise InvalidInput(f"At most {MAX_BULK} annotations may be created at once")
    outcomes: list[Outcome | None] = [None] * len(many)
    checks = await _checks(ctx, many, outcomes)
    if all(key is None for key in checks.keys):  # nothing to shape: every element failed
        if atomic and (refused := checks.first_error(range(len(many)))) is not None:
            raise refused
        return [outcome or Outcome(error=InvalidInput("Not created")) for outcome in outcomes]
    async with ctx.db.transaction() if atomic else _alone() as joined:
        async with ctx.db.transaction() as conn:
            tracked = await _write(conn, CommandLog(conn, viewer), checks,
                                   atomic=atomic, rows=rows)  # fmt: skip
        for index in tracked:
            try:
                made = await create_annotation(ctx, many[index])
                outcomes[index] = Outcome(made.row.id, made)
            except (CytogateError, DBAPIError) as error:
                # a value PostgreSQL refuses (a NUL byte in a property) is this element's
                # answer too: the batch before it is committed, the answer must say so
                refused = error if isinstance(error, CytogateError) else refused_value(error)
                if joined is not None or refused is None:
                    raise
                outcomes[index] = Outcome(error=refused)
    return [outcome or Outcome(error=InvalidInput("Not created")) for outcome in outcomes]


async def create_annotations(ctx: Context, many: Sequence[AnnotationFields]) -> list[Created]:
    """Create several annotations as one operation: all of them, or none (the first element's
    error)."""
    outcomes = await create_each(ctx, many, atomic=True)
    return [outcome.created for outcome in outcomes if outcome.created is not None]


@asynccontextmanager
async def _alone() -> AsyncIterator[None]:
    """No enclosing transaction: each write commits on its own."""
    yield None


async def _checks(
    ctx: Context, many: Sequence[AnnotationFields], outcomes: list[Outcome | None]
) -> _Checks:
    """What the elements' checks read from the database, once for the batch; an element
    without a location, or naming an unknown creator, gets its error here."""
    viewer = ctx.require_viewer()
    places: dict[_Key, _Place | CytogateError] = {}
    keys: list[_Key | None] = []
    for index, fields in enumerate(many):
        if fields.location is None or not fields.location.strip():
            outcomes[index] = Outcome(error=InvalidInput(
                "Property location must be set: a WKT geometry is required"))  # fmt: skip
            keys.append(None)
            continue
        key = (fields.slice, None if fields.slice is not None else fields.image)
        if key not in places:
            try:
                place = await _place(ctx, *key)
                place.access.require_writable()
                places[key] = place
            except CytogateError as error:
                places[key] = error
        keys.append(key)
    authors = await _authors(ctx, many, outcomes)
    terms = await _term_ontologies(ctx, many)
    return _Checks(viewer.id, many, outcomes, places, keys, authors, terms)


async def _authors(
    ctx: Context, many: Sequence[AnnotationFields], outcomes: list[Outcome | None]
) -> dict[int | None, int]:
    """The creators named by the elements, checked to exist in one SELECT; an element naming
    an unknown user gets the create's 400."""
    viewer = ctx.require_viewer()
    named = {fields.user for fields in many if fields.user not in (None, viewer.id)}
    found: set[int] = set()
    if named:
        async with ctx.db.read() as conn:
            stmt = select(SecUser.id).where(SecUser.id.in_(named))
            found = set((await conn.execute(stmt)).scalars())
    for index, fields in enumerate(many):
        if fields.user is not None and fields.user != viewer.id and fields.user not in found:
            outcomes[index] = Outcome(error=InvalidInput(
                f"user was not found with id: {fields.user}"))  # fmt: skip
    return {user: user for user in found}


async def _term_ontologies(ctx: Context, many: Sequence[AnnotationFields]) -> dict[int, int]:
    """The ontology of every term an element names, in one SELECT."""
    named = {term for fields in many for term in fields.terms}
    if not named:
        return {}
    async with ctx.db.read() as conn:
        stmt = select(Term.id, Term.ontology_id).where(Term.id.in_(named))
        return {int(term): int(ontology) for term, ontology in await conn.execute(stmt)}


class _Opening:
    """What a batch reads before its first step, in one statement sent while the first step
    is shaped: ids reserved from the sequence (the annotations', the links', and the two
    commands'), and what the INSERTs leave to the columns' defaults (creation dates,
    counters). The defaults are the same for every row of a transaction (`now()`,
    constants), so a row's snapshot is its written values and these, and the INSERTs return
    nothing. The statement also leaves the batch's counting to `_COUNT_BATCH`."""

    def __init__(self, row: Any, annotations: int) -> None:
        ids, *values = row
        self.command_ids: tuple[int, int] = (ids[0], ids[1])
        self.annotation_ids = iter(ids[2 : 2 + annotations])
        self.link_ids = iter(ids[2 + annotations :])
        defaults = iter(values)
        self.annotation: JSON = row_data({c.key: next(defaults) for c in _ANNOTATION_DEFAULTED})
        self.link: JSON = row_data({c.key: next(defaults) for c in _LINK_DEFAULTED})

    @staticmethod
    def statement() -> Any:
        """The opening SELECT, `wanted` ids bound at execution."""
        reserved = (
            select(func.array_agg(ID_SEQUENCE.next_value()))
            .select_from(func.generate_series(1, bindparam("wanted", type_=Integer)))
            .scalar_subquery()
        )
        defaults = map(_default_of, (*_ANNOTATION_DEFAULTED, *_LINK_DEFAULTED))
        return select(reserved, *defaults,
                      func.set_config("cytogate.counted_by_batch", "on", True))  # fmt: skip


def _default_of(column: Any) -> Any:
    """The column's default as an expression of its type (NULL without one)."""
    default = column.server_default
    if default is None:
        return cast(null(), column.type)
    arg = default.arg
    return cast(literal_column(arg) if isinstance(arg, str) else arg, column.type)


class _Step:
    """One step of a batch: its annotations and their term links in one statement sent to
    PostgreSQL, and their snapshots."""

    def __init__(
        self, answer: asyncio.Future[Any], annotations: list[JSON], links: list[JSON]
    ) -> None:
        self.answer = answer
        self.annotations = annotations
        self.links = links

    @classmethod
    async def send(cls, conn: Connection, part: list[_Planned], opening: _Opening) -> _Step:
        arrays: dict[str, list[Any]] = {name: [item.values[name] for item in part]
                                        for name in _WRITTEN}  # fmt: skip
        arrays["wkb"] = list(shapely.to_wkb([item.geometry for item in part]))
        links = [{"id": next(opening.link_ids), "user_annotation_id": item.values["id"],
                  "term_id": term, "user_id": item.user_id, **opening.link}
                 for item in part for term in item.terms]  # fmt: skip
        for column, name in _LINK_WRITTEN.items():
            arrays[name] = [link[column] for link in links]
        answer = await conn.send(_INSERT_STEP, arrays)
        return cls(answer, [{**item.values, **opening.annotation} for item in part], links)


async def _write(
    conn: Connection, log: CommandLog, checks: _Checks, *, atomic: bool, rows: bool
) -> list[int]:
    """Shape and insert the batch step by step, then record one command per table; the
    indexes of the elements naming tracks or carrying properties are returned, to be created
    one by one.

    Nothing waits for PostgreSQL while there is shaping to do (`Connection.send`): the
    opening statement runs while the first step is shaped, each step's INSERT while the next
    one is, and the commands and the counting are sent behind the last step's INSERT, so a
    large batch costs about the larger of the two sides instead of their sum. The counting
    goes last: the counters' rows (the image's, the whole project's) stay locked from it to
    the commit only, so other annotation writers in the project are not held for the time
    the batch takes to write. An atomic batch raises the first error once every element
    before it is checked; its transaction then rolls back what was written.
    """
    count = len(checks.many)
    candidates = [checks.many[i] for i, key in enumerate(checks.keys) if key is not None]
    wanted = 2 + len(candidates) + sum(len(fields.terms) for fields in candidates)
    sent: list[asyncio.Future[Any]] = [await conn.send(_OPENING, {"wanted": wanted})]
    opening: _Opening | None = None
    batch: list[_Planned] = []
    tracked: list[int] = []
    snapshots: list[JSON] = []
    links: list[JSON] = []
    try:
        for start in range(0, count, STEP):
            indexes = range(start, min(start + STEP, count))
            shaped = checks.shape(indexes)
            if opening is None:
                opening = _Opening((await sent[0]).one(), len(candidates))
            part: list[_Planned] = []
            for item in shaped:
                if checks.many[item.index].tracks or checks.many[item.index].properties is not None:
                    tracked.append(item.index)
                else:
                    item.values["id"] = next(opening.annotation_ids)
                    part.append(item)
            if atomic and (refused := checks.first_error(indexes)) is not None:
                raise refused
            if not part:
                continue
            step = await _Step.send(conn, part, opening)
            snapshots += step.annotations
            links += step.links
            batch += part
            sent.append(step.answer)
            if len(sent) > 2:
                await sent[-2]  # the step before: PostgreSQL is now on this one
        command = None
        if batch:
            assert opening is not None
            command_id, link_command_id = opening.command_ids
            command, recorded = await log.send_snapshots(USER_ANNOTATION, snapshots, command_id)
            sent.append(recorded)
            if links:
                _, recorded = await log.send_snapshots(ANNOTATION_TERM, links, link_command_id,
                                                       printed=False)  # fmt: skip
                sent.append(recorded)
        counts = {name: [item.values[f"{name}_id"] for item in batch] for name in _COUNTED}
        sent.append(await conn.send(_COUNT_BATCH, counts))
        for answer in sent:
            await answer
    finally:
        for answer in sent:  # whatever their outcome: the transaction ends after them
            with contextlib.suppress(BaseException):
                await answer
    if command is None:
        return tracked
    read: dict[int, Any] = {}
    if rows:
        made = [item.values["id"] for item in batch]
        found = select(*ANNOTATION_COLUMNS).where(among(ANNOTATION_TABLE.c.id, made))
        read = {row.id: row for row in await conn.execute(found)}
    for item in batch:
        annotation_id = item.values["id"]
        created = Created(read[annotation_id], command, []) if rows else None
        checks.outcomes[item.index] = Outcome(annotation_id, created)
    return tracked


def _array(name: str, kind: Any) -> Any:
    """An array parameter, bound at execution: the statement stays the same for any batch."""
    return bindparam(name, type_=ARRAY(kind))


#: One step: its annotations from arrays of their values (geometry from WKB), and their term
#: links from arrays, in one statement (the links' keys are checked at its end, when the
#: annotations are in).
_INSERT_STEP: Final = (
    insert(_LINKS)
    .from_select(
        list(_LINK_WRITTEN),
        select(*(func.unnest(_array(name, BigInteger)) for name in _LINK_WRITTEN.values())),
    )
    .add_cte(
        insert(ANNOTATION_TABLE)
        .from_select(
            [*_WRITTEN, "location"],
            select(
                *(func.unnest(_array(name, kind)).label(name) for name, kind in _WRITTEN.items()),
                func.ST_GeomFromWKB(func.unnest(_array("wkb", LargeBinary)), 0).label("location"),
            ),
        )
        .cte("annotations")
    )
)


#: The opening statement (`_Opening`).
_OPENING: Final = _Opening.statement()
#: The annotation keys the counters follow (db/migrations 0009); until `_COUNT_BATCH`, this
#: transaction's inserts of annotations leave the counters to it (set by `_OPENING`).
_COUNTED: Final = ("image", "project", "user", "slice")
#: The batch's annotations counted in (each one +1), and the counting trigger back on.
_KEYS: Final = {name: _array(name, BigInteger) for name in _COUNTED}
_COUNT_BATCH: Final = select(
    func.cytogate_add_user_annotations(
        func.array_fill(1, array([func.cardinality(_KEYS["image"])])), *_KEYS.values()
    ),
    func.set_config("cytogate.counted_by_batch", "", True),
)


# --- delete by filter ------------------------------------------------------------------------


async def delete_matching(
    ctx: Context, query: AnnotationSearch, ids: Sequence[int] | None = None
) -> tuple[list[int], CommandInfo | None]:
    """Delete the annotations a listing of `query` shows the caller (only those of `ids` when
    given), with their term and track links, comments and tag associations, in one
    transaction and one command per table; undo brings them all back.

    The caller must be allowed to delete each one (owner-or-mode, core.md §7.4): a read-only
    project refuses non-managers, a restricted one refuses them others' annotations; a refusal
    deletes nothing.
    """
    viewer = ctx.require_guest()
    if not query.scoped:
        raise InvalidInput("Deleting annotations needs a project, image or slice filter")
    async with ctx.db.read() as conn:
        listing = await annotation_listing(ctx, conn, query)
    stmt = select(*STORED_COLUMNS).select_from(listing.source).where(listing.where)
    if ids is not None:
        if len(ids) > MAX_BULK:
            raise InvalidInput(f"At most {MAX_BULK} annotations may be deleted at once")
        stmt = stmt.where(among(ANNOTATION_TABLE.c.id, ids))
    async with ctx.db.transaction() as conn:
        locked = stmt.order_by(ANNOTATION_TABLE.c.id).with_for_update(of=ANNOTATION_TABLE)
        doomed = (await conn.execute(locked)).all()
        if len(doomed) > MAX_BULK:
            raise InvalidInput(f"At most {MAX_BULK} annotations may be deleted at once: narrow "
                               "the filter")  # fmt: skip
        access = listing.access
        if access is not None:  # owner-or-mode for each creator, before anything is deleted
            for owner in sorted({row.user_id for row in doomed}):
                access.require_owner_or_mode(owner)
        if not doomed:
            return [], None
        doomed_ids = [row.id for row in doomed]
        log = CommandLog(conn, viewer)
        for model, spec, column in (
            (AnnotationTerm, ANNOTATION_TERM, AnnotationTerm.user_annotation_id),
            (AnnotationTrack, ANNOTATION_TRACK, AnnotationTrack.annotation_id),
            (SharedAnnotation, SHARED_ANNOTATION, SharedAnnotation.user_annotation_id),
        ):
            children = (
                await conn.execute(select(*table_of(model).c).where(among(column, doomed_ids)))
            ).all()
            if model is AnnotationTerm and access is not None:
                require_terms_removable(access, children)
            await log.delete_many(spec, children)
        await record_metadata(conn, log, USER_ANNOTATION_CLASS, doomed_ids)
        command = await log.delete_rows(USER_ANNOTATION, doomed)
        await conn.execute(delete(ANNOTATION_TABLE).where(among(ANNOTATION_TABLE.c.id, doomed_ids)))
    return doomed_ids, command
