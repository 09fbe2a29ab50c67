"""The annotations of each parent in the graph: `image { annotations }`, and the same on slices,
projects, users, terms and tracks.

One statement serves every parent of a level: the parents' ids are unnested and each one's page
is a LATERAL subquery (`ORDER BY id DESC LIMIT … OFFSET …` on the parent's index), so a page
costs its own rows whatever the parent holds, and the number of statements stays the same for
ten parents or a thousand. Totals, only when `totalCount` is selected, are a second grouped
statement. Which rows the caller sees is decided in SQL for every row (`visible_to`): the parents
of a level may lie in many projects (a user's or a term's annotations), each with its own
membership and hide-layer flags, and a parent reached through any path gets the same answer.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final

from sqlalchemy import BigInteger, Integer, and_, bindparam, func, select, true
from sqlalchemy.dialects.postgresql import ARRAY

from db.direct import Direct
from db.engine import Lease
from db.id_lists import among, position
from db.models import AnnotationTrack
from resolvers.annotation.listing import (
    USER_LAYER,
    AnnotationSearch,
    Reading,
    columns_of,
    conditions,
    visible_to,
)
from resolvers.context import Context
from resolvers.errors import CytogateError, InvalidInput
from resolvers.listing import Page

__all__ = ["PARENTS", "NestedQuery", "annotations_by_parent", "annotations_of"]

_T: Final = USER_LAYER.table
_LINKS: Final = USER_LAYER.links

#: How a parent names its annotations: a column of the annotation, or a link row.
PARENTS: Final[dict[str, Callable[[Any], Any]]] = {
    "image": lambda parent: _T.c.image_id == parent,
    "slice": lambda parent: _T.c.slice_id == parent,
    "project": lambda parent: _T.c.project_id == parent,
    "user": lambda parent: _T.c.user_id == parent,
    "term": lambda parent: _T.c.id.in_(
        select(USER_LAYER.linked).where(_LINKS.c.term_id == parent).correlate_except(_LINKS)
    ),
    "track": lambda parent: _T.c.id.in_(
        select(AnnotationTrack.annotation_id)
        .where(AnnotationTrack.track_id == parent)
        .correlate_except(AnnotationTrack)
    ),
}
#: A search without a filter.
_EVERY: Final = AnnotationSearch()
#: The annotation column grouping the totals of a parent kind (links are joined for the others).
_GROUPED: Final = {"image": "image_id", "slice": "slice_id", "project": "project_id",
                   "user": "user_id"}  # fmt: skip


@dataclass(frozen=True, slots=True)
class NestedQuery:
    """One page of one parent's annotations; hashable, so it keys a DataLoader.

    `viewer`: the caller's id, None for an administrator (who sees every row).
    """

    parent: str
    parent_id: int
    viewer: int | None
    search: AnnotationSearch
    limit: int | None
    offset: int
    wanted: frozenset[str]
    base: str
    counted: bool
    reads: frozenset[str] | None = None


def _hashable(search: AnnotationSearch) -> AnnotationSearch:
    """The search with its lists as tuples, so it can key a loader."""
    lists: dict[str, Any] = {
        f.name: tuple(value) for f in dataclasses.fields(search)
        if isinstance(value := getattr(search, f.name), list)
    }  # fmt: skip
    return dataclasses.replace(search, **lists)


async def annotations_of(
    ctx: Context,
    parent: str,
    parent_ids: Iterable[int],
    search: AnnotationSearch | None,
    *,
    wanted: Iterable[str] = (),
    limit: int | None = None,
    offset: int = 0,
    counted: bool = True,
    reads: frozenset[str] | None = None,
) -> list[Page[Any]]:
    """A page of the annotations of each parent that the caller may see, newest first,
    narrowed by `search` (None: no filter); `reads`: the stored columns the caller uses (None:
    all). The parents of a list ask together, so they share one batch."""
    viewer = ctx.require_viewer()
    if offset < 0 or (limit is not None and limit < 0):
        raise InvalidInput("first and offset must not be negative")
    if search is not None and (search.before_slice is not None or search.after_slice is not None):
        raise InvalidInput(
            "beforeSlice and afterSlice bound the root annotation listing (with "
            "tracks, in plane order); a parent's annotations do not take them"
        )
    shared = (
        None if viewer.is_admin else viewer.id,
        _EVERY if search is None or search == _EVERY else _hashable(search),
        ctx.page_limit(limit), offset, frozenset(wanted), ctx.public_url, counted, reads,
    )  # fmt: skip
    keys = [NestedQuery(parent, parent_id, *shared) for parent_id in parent_ids]
    return await ctx.loader(annotations_by_parent).load_many(keys)


async def annotations_by_parent(db: Lease, keys: list[NestedQuery]) -> list[Page[Any] | Exception]:
    """Batch loader: pages of many parents, one rows statement (and one totals statement when
    counted) per distinct (parent kind, caller, search, page, columns)."""
    groups: defaultdict[tuple[Any, ...], list[NestedQuery]] = defaultdict(list)
    for key in keys:
        groups[(key.parent, key.viewer, key.search, key.limit, key.offset, key.wanted,
                key.base, key.counted, key.reads)].append(key)  # fmt: skip
    found: dict[NestedQuery, Page[Any] | Exception] = {}
    for group in groups.values():
        try:
            pages = await _pages(db, group)
        except CytogateError as error:  # a bad filter: every key of the group is refused
            pages = dict.fromkeys((key.parent_id for key in group), error)
        for key in group:
            found[key] = pages[key.parent_id]
    return [found[key] for key in keys]


async def _pages(db: Lease, group: list[NestedQuery]) -> dict[int, Any]:
    first = group[0]
    ids = sorted({key.parent_id for key in group})
    probe = first.limit if first.counted or first.limit is None else first.limit + 1
    async with db.read() as conn:
        wanted = tuple(sorted(first.wanted))
        if first.search is _EVERY:  # the graph's usual case: its SELECT is kept
            where, _ = _seen_by(first.viewer)
            stmt = _kept_rows(first.parent, first.viewer, wanted, first.base, probe is not None,
                              first.reads)  # fmt: skip
        else:
            visible_rows, manages = visible_to(first.viewer)
            project = first.search.project  # the root listing's scope, a condition here
            where = and_(
                visible_rows(USER_LAYER),
                *await conditions(conn, USER_LAYER, first.search, visible_rows),
                *([] if project is None else [_T.c.project_id == project]),
            )
            stmt = _rows_select(first.parent, where, manages, wanted, first.base,
                                probe is not None, first.reads)  # fmt: skip
        bound = {"parents": ids, "offset": first.offset}
        if probe is not None:
            bound["probe"] = probe
        rows: defaultdict[int, list[Any]] = defaultdict(list)
        if probe != 0:
            result = await conn.fetch(stmt, bound)
            at = position(result, "_parent")
            for row in result.all():
                rows[row[at]].append(row)
        totals = await _totals(conn, first, ids, where) if first.counted else {}
    pages: dict[int, Any] = {}
    for parent_id in ids:
        found = rows.get(parent_id, [])
        if first.counted:
            total = totals.get(parent_id, 0)
        else:  # the probe row, past the page, says whether another page follows
            total = first.offset + len(found)
            found = found[: first.limit] if first.limit is not None else found
        pages[parent_id] = Page(rows=found, total=total, offset=first.offset, limit=first.limit)
    return pages


def _rows_select(
    parent: str, where: Any, manages: Any, wanted: tuple[str, ...], base: str, probed: bool,
    reads: frozenset[str] | None,
) -> Any:  # fmt: skip
    """The SELECT of a page of annotations per parent: the parents' ids (`parents`), the
    offset and the rows read (`probe`, when `probed`) bound at execution."""
    parents = select(
        func.unnest(bindparam("parents", type_=ARRAY(BigInteger))).label("parent_id")
    ).subquery("parents")
    keys = (
        select(_T.c.id)
        .where(PARENTS[parent](parents.c.parent_id), where)
        .order_by(_T.c.id.desc())
        .offset(bindparam("offset", type_=Integer))
        .correlate(parents)  # its own annotation table, not the outer query's
    )
    if probed:
        keys = keys.limit(bindparam("probe", type_=Integer))
    page = keys.lateral("page")
    reading = Reading(USER_LAYER, manages, base, reads)
    columns, source = columns_of(
        reading, wanted, parents.join(page, true()).join(_T, _T.c.id == page.c.id)
    )
    return (
        select(parents.c.parent_id.label("_parent"), *columns)
        .select_from(source)
        .order_by(parents.c.parent_id, _T.c.id.desc())
    )


@lru_cache(maxsize=128)
def _seen_by(viewer: int | None) -> tuple[Any, Any]:
    """The user annotations `viewer` sees, and "the viewer manages the row's project"
    (`visible_to`), built once per caller."""
    visible_rows, manages = visible_to(viewer)
    return visible_rows(USER_LAYER), manages


@lru_cache(maxsize=128)
def _kept_rows(
    parent: str, viewer: int | None, wanted: tuple[str, ...], base: str, probed: bool,
    reads: frozenset[str] | None,
) -> Direct:  # fmt: skip
    """`_rows_select` without a filter, built once per (parent kind, caller, columns): building
    it cost more than running it."""
    where, manages = _seen_by(viewer)
    return Direct(_rows_select(parent, where, manages, wanted, base, probed, reads))


#: The links grouping the totals of a term's or a track's annotations, aliased: a filter's own
#: test of an annotation's terms or tracks (a correlated subquery on the table) must read the
#: annotation's links, not be correlated to the one link a group stands on.
_GROUPING_LINKS: Final = {
    "term": (_LINKS.alias("grouped_links"), "term_id", USER_LAYER.linked.key),
    "track": (AnnotationTrack.__table__.alias("grouped_tracks"), "track_id", "annotation_id"),
}


async def _totals(conn: Any, first: NestedQuery, ids: list[int], where: Any) -> dict[int, int]:
    """Each parent's number of visible matching annotations, grouped in one statement."""
    column = _GROUPED.get(first.parent)
    parent: Any
    if column is not None:
        parent = _T.c[column]
        stmt = select(parent, func.count()).where(among(parent, ids), where).group_by(parent)
    else:
        links, grouped, linked = _GROUPING_LINKS[first.parent]
        parent = links.c[grouped]
        stmt = (
            select(parent, func.count(func.distinct(_T.c.id)))
            .join(links, links.c[linked] == _T.c.id)
            .where(among(parent, ids), where)
            .group_by(parent)
        )
    return {int(key): int(n) for key, n in await conn.execute(stmt)}
