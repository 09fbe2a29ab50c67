"""Many user annotations at once: a REST array or `annotationCreateMany` created as one
operation, and deletion by filter.

A create of many keeps every rule and answer of the create of one (resolvers/annotation/
writes.py): each element is checked on its own, before anything is written — where it goes
(slice or image, loaded once per place), who draws it, the read-only check, the geometry
pipeline (over the whole batch at once, `prepare_many`) and the terms of the project's
ontology — and an element's error is that element's answer. The elements that pass are written
together: their ids from the sequence in one statement, the annotations from arrays in one
INSERT (so the counter triggers run once), their term links in another, and one command per
table under one transaction id, which undo reverses as a whole. An element naming tracks is
created as a create of one, in its own transaction, since a track refuses a slice it already
holds only when written.

A delete by filter removes, in one transaction and one command per table, the annotations a
listing with the same filter shows the caller, provided the caller may delete each of them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Final

import shapely
from sqlalchemy import (
    BigInteger,
    Float,
    Integer,
    LargeBinary,
    String,
    bindparam,
    delete,
    func,
    insert,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY

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
from resolvers.annotation.writes import Created, create_annotation
from resolvers.command import CommandInfo, CommandLog
from resolvers.context import Context
from resolvers.crud import table_of
from resolvers.errors import CytogateError, InvalidInput
from resolvers.geometry import prepare_many
from resolvers.metadata import record_metadata
from resolvers.metadata_target import USER_ANNOTATION_CLASS
from resolvers.track import ANNOTATION_TRACK

__all__ = ["MAX_BULK", "Outcome", "create_annotations", "create_each", "delete_matching"]

#: Most annotations one call creates or deletes.
MAX_BULK: Final = 100_000
#: Annotations and links written per statement: arrays keep a statement's size fixed, this
#: keeps its arrays' memory bounded.
CHUNK: Final = 20_000

_LINKS: Final = table_of(AnnotationTerm)
#: The stored columns an INSERT gives (the rest are defaults: ids, dates, counters).
_WRITTEN: Final = {
    "id": BigInteger, "slice_id": BigInteger, "image_id": BigInteger, "project_id": BigInteger,
    "user_id": BigInteger, "wkt_location": String, "geometry_compression": Float,
    "area": Float, "area_unit": Integer, "perimeter": Float, "perimeter_unit": Integer,
    "centroid_x": Float, "centroid_y": Float,
}  # fmt: skip
#: What an INSERT returns: the stored columns it leaves to their defaults (dates, counters),
#: and the id naming the row; the written values complete each row.
_DEFAULTED: Final = tuple(c for c in STORED_COLUMNS if c.key == "id" or c.key not in _WRITTEN)


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
    place: _Place
    user_id: int
    values: dict[str, Any]
    wkb: bytes
    terms: list[int]


async def create_each(
    ctx: Context, many: Sequence[AnnotationFields], *, rows: bool = True, atomic: bool = False
) -> list[Outcome]:
    """Create the elements that pass their checks, as one operation; one outcome per element,
    in order.

    Args:
        rows: read the created annotations back (the REST array answers with ids only).
        atomic: all or none: the first element's error is raised before anything is
            written, and the elements naming tracks join the batch's transaction.
    """
    viewer = ctx.require_guest()
    if len(many) > MAX_BULK:
        raise InvalidInput(f"At most {MAX_BULK} annotations may be created at once")
    outcomes: list[Outcome | None] = [None] * len(many)
    planned = await _plan(ctx, many, outcomes)
    refused = next((o.error for o in outcomes if o is not None and o.error is not None), None)
    if atomic and refused is not None:
        raise refused
    batch = [item for item in planned if not many[item.index].tracks]
    one_by_one = [item.index for item in planned if many[item.index].tracks]
    async with ctx.db.transaction() if atomic else _alone() as joined:
        if batch:
            async with ctx.db.transaction() as conn:
                inserted = await _insert(conn, CommandLog(conn, viewer), batch, rows=rows)
            for item, outcome in zip(batch, inserted, strict=True):
                outcomes[item.index] = outcome
        for index in one_by_one:
            try:
                made = await create_annotation(ctx, many[index])
                outcomes[index] = Outcome(made.row.id, made)
            except CytogateError as error:
                if joined is not None:
                    raise
                outcomes[index] = Outcome(error=error)
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


async def _plan(
    ctx: Context, many: Sequence[AnnotationFields], outcomes: list[Outcome | None]
) -> list[_Planned]:
    """Every element's checks, before any write; a failing element's outcome is its error."""
    viewer = ctx.require_viewer()
    places: dict[tuple[int | None, int | None], _Place | CytogateError] = {}
    by_place: defaultdict[tuple[int | None, int | None], list[int]] = defaultdict(list)
    for index, fields in enumerate(many):
        if fields.location is None or not fields.location.strip():
            outcomes[index] = Outcome(error=InvalidInput(
                "Property location must be set: a WKT geometry is required"))  # fmt: skip
            continue
        key = (fields.slice, None if fields.slice is not None else fields.image)
        if key not in places:
            try:
                place = await _place(ctx, *key)
                place.access.require_writable()
                places[key] = place
            except CytogateError as error:
                places[key] = error
        by_place[key].append(index)
    authors = await _authors(ctx, many, outcomes)
    terms = await _term_ontologies(ctx, many)
    planned: list[_Planned] = []
    for key, indexes in by_place.items():
        found = places[key]
        if isinstance(found, CytogateError):
            for index in indexes:
                outcomes[index] = Outcome(error=found)
            continue
        shaped = prepare_many([many[i].location for i in indexes], found.width, found.height,
                              found.physical_size_x,
                              min_point=_one(many, indexes, "min_point"),
                              max_point=_one(many, indexes, "max_point"))  # fmt: skip
        for index, result in zip(indexes, shaped, strict=True):
            fields = many[index]
            try:
                if isinstance(result, CytogateError):
                    raise result
                user_id = authors.get(fields.user, viewer.id)
                if user_id != viewer.id:
                    found.access.require_owner_or_mode(None)
                for term_id in dict.fromkeys(fields.terms):
                    if terms.get(term_id) != found.access.row.ontology_id:
                        raise InvalidInput(f"Term {term_id} is not in the ontology of the project")
            except CytogateError as error:
                outcomes[index] = Outcome(error=error)
                continue
            if outcomes[index] is not None:
                continue
            geometry, measures = result
            values = {
                "slice_id": found.slice_id, "image_id": found.image.id,
                "project_id": found.image.project_id, "user_id": user_id,
                "wkt_location": geometry.wkt, "geometry_compression": geometry.compression,
                "area": measures.area, "area_unit": measures.area_unit,
                "perimeter": measures.perimeter, "perimeter_unit": measures.perimeter_unit,
                "centroid_x": measures.centroid_x, "centroid_y": measures.centroid_y,
            }  # fmt: skip
            planned.append(_Planned(index, found, user_id, values,
                                    shapely.to_wkb(geometry.geometry),
                                    list(dict.fromkeys(fields.terms))))  # fmt: skip
    return sorted(planned, key=lambda item: item.index)


def _one(many: Sequence[AnnotationFields], indexes: list[int], name: str) -> int | None:
    """A simplification bound the elements of a place share (the batch API gives them once)."""
    values = {getattr(many[i], name) for i in indexes}
    return values.pop() if len(values) == 1 else None


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


async def _insert(
    conn: Connection, log: CommandLog, batch: list[_Planned], *, rows: bool
) -> list[Outcome]:
    """The batch's annotations, term links and commands, a statement per table and chunk."""
    stmt = select(ID_SEQUENCE.next_value()).select_from(func.generate_series(1, len(batch)))
    ids = [int(i) for i in (await conn.execute(stmt)).scalars()]
    for item, annotation_id in zip(batch, ids, strict=True):
        item.values["id"] = annotation_id
    written: list[dict[str, Any]] = []
    for start in range(0, len(batch), CHUNK):
        written += await _insert_annotations(conn, batch[start : start + CHUNK])
    command = await log.add_rows(USER_ANNOTATION, written)
    assert command is not None  # the batch is never empty
    links = [(item.values["id"], term, item.user_id) for item in batch for term in item.terms]
    linked: list[dict[str, Any]] = []
    for start in range(0, len(links), CHUNK):
        linked += await _insert_links(conn, links[start : start + CHUNK])
    await log.add_many(ANNOTATION_TERM, linked)
    read: dict[int, Any] = {}
    if rows:
        found = select(*ANNOTATION_COLUMNS).where(among(ANNOTATION_TABLE.c.id, ids))
        read = {row.id: row for row in await conn.execute(found)}
    return [Outcome(annotation_id, Created(read[annotation_id], command, []) if rows else None)
            for annotation_id in ids]  # fmt: skip


async def _insert_annotations(conn: Connection, part: list[_Planned]) -> list[dict[str, Any]]:
    """One INSERT of annotations from arrays of their values (geometry from WKB)."""
    arrays: dict[str, list[Any]] = {name: [item.values[name] for item in part] for name in _WRITTEN}
    arrays["wkb"] = [item.wkb for item in part]
    columns = [func.unnest(_array(name, kind)).label(name) for name, kind in _WRITTEN.items()]
    location = func.ST_GeomFromWKB(func.unnest(_array("wkb", LargeBinary)), 0)
    stmt = (
        insert(ANNOTATION_TABLE)
        .from_select([*_WRITTEN, "location"], select(*columns, location.label("location")))
        .returning(*_DEFAULTED)
    )
    made = {row.id: row._mapping for row in await conn.execute(stmt, arrays)}
    return [{**item.values, **made[item.values["id"]]} for item in part]


async def _insert_links(conn: Connection, part: list[tuple[int, int, int]]) -> list[dict[str, Any]]:
    """One INSERT of (annotation, term, author) links from arrays."""
    names = ("user_annotation_id", "term_id", "user_id")
    arrays = {name: [link[i] for link in part] for i, name in enumerate(names)}
    source = select(*(func.unnest(_array(name, BigInteger)) for name in names))
    stmt = insert(_LINKS).from_select(list(names), source).returning(*_LINKS.c)
    return [dict(row._mapping) for row in await conn.execute(stmt, arrays)]


def _array(name: str, kind: Any) -> Any:
    """An array parameter, bound at execution: the statement stays the same for any batch."""
    return bindparam(name, type_=ARRAY(kind))


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
    stmt = select(*STORED_COLUMNS).where(listing.where)
    if ids is not None:
        if len(ids) > MAX_BULK:
            raise InvalidInput(f"At most {MAX_BULK} annotations may be deleted at once")
        stmt = stmt.where(among(ANNOTATION_TABLE.c.id, ids))
    async with ctx.db.transaction() as conn:
        doomed = (await conn.execute(stmt.order_by(ANNOTATION_TABLE.c.id).with_for_update())).all()
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
            children = await conn.execute(
                select(*table_of(model).c).where(among(column, doomed_ids))
            )
            await log.delete_many(spec, children.all())
        await record_metadata(conn, log, USER_ANNOTATION_CLASS, doomed_ids)
        command = await log.delete_rows(USER_ANNOTATION, doomed)
        await conn.execute(delete(ANNOTATION_TABLE).where(among(ANNOTATION_TABLE.c.id, doomed_ids)))
    return doomed_ids, command
