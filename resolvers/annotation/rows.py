"""How user annotations are read: tables, the columns every read returns (the stored WKT
instead of the PostGIS geometry, and the term ids), and the batch loaders.
"""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy import BigInteger, Row, distinct, func, literal, select
from sqlalchemy.dialects.postgresql import ARRAY

from db.direct import Direct
from db.engine import Lease
from db.id_lists import among, among_bound, rows_by_id, rows_grouped
from db.models import AnnotationTerm, AnnotationTrack, UserAnnotation
from resolvers.crud import table_of

__all__ = [
    "ANNOTATION_COLUMNS",
    "ANNOTATION_TABLE",
    "STORED_COLUMNS",
    "TERM_IDS",
    "TERM_LINK_TABLE",
    "UNDATED",
    "annotations_by_id",
    "distinct_term_ids",
    "terms_by_annotation",
    "tracks_by_annotation",
    "undated_terms_by_annotation",
]


ANNOTATION_TABLE: Final = table_of(UserAnnotation)
TERM_LINK_TABLE: Final = table_of(AnnotationTerm)
#: The columns of an annotation row: everything but the PostGIS geometry, which is read back
#: through the stored WKT (and rebuilt from it when undo re-inserts a row).
STORED_COLUMNS: Final = tuple(c for c in ANNOTATION_TABLE.c if c.key != "location")


def distinct_term_ids(term_id: Any, linked: Any, annotation_id: Any) -> Any:
    """The distinct `term_id`s of the links whose `linked` column names the annotation (an
    empty array when none), as a correlated subquery."""
    return (
        select(func.coalesce(func.array_agg(distinct(term_id)), literal([], ARRAY(BigInteger))))
        .where(linked == annotation_id)
        .scalar_subquery()
    )


TERM_IDS: Final = distinct_term_ids(
    AnnotationTerm.term_id, AnnotationTerm.user_annotation_id, UserAnnotation.id
).label("term_ids")
#: What every read of a single annotation returns: the stored columns and its term ids.
ANNOTATION_COLUMNS: Final = (*STORED_COLUMNS, TERM_IDS)


# --- loaders ---------------------------------------------------------------------------------


_ANNOTATIONS: Final = Direct(select(*ANNOTATION_COLUMNS).where(among_bound(UserAnnotation.id)))


async def annotations_by_id(db: Lease, ids: list[int]) -> list[Row[Any] | None]:
    """User annotations by id (with their term ids), one SELECT for the batch."""
    return await rows_by_id(db, _ANNOTATIONS, ids)


def _links_of(*columns: Any) -> Any:
    """The SELECT of the term links of a batch of annotations (`ids`), oldest first."""
    return (
        select(*columns)
        .where(among_bound(AnnotationTerm.user_annotation_id))
        .order_by(AnnotationTerm.id)
    )


_TERMS_OF: Final = Direct(_links_of(*TERM_LINK_TABLE.c))
#: What `undated_terms_by_annotation` leaves out of a link.
UNDATED: Final = frozenset(("created", "updated"))
#: The links without their dates: the graph's usual read (`terms { term { … } }`), where
#: decoding two timestamps per link cost a tenth of the request.
_UNDATED_TERMS_OF: Final = Direct(
    _links_of(*(c for c in TERM_LINK_TABLE.c if c.key not in UNDATED))
)


async def _links_by_annotation(db: Lease, stmt: Direct, ids: list[int]) -> list[list[Any]]:
    return await rows_grouped(db, stmt, "user_annotation_id", ids, {"ids": ids})


async def terms_by_annotation(db: Lease, ids: list[int]) -> list[list[Any]]:
    """The term links of each user annotation, oldest first."""
    return await _links_by_annotation(db, _TERMS_OF, ids)


async def undated_terms_by_annotation(db: Lease, ids: list[int]) -> list[list[Any]]:
    """`terms_by_annotation` without the links' `created` and `updated`."""
    return await _links_by_annotation(db, _UNDATED_TERMS_OF, ids)


async def tracks_by_annotation(db: Lease, ids: list[int]) -> list[list[Any]]:
    """The track links of each user annotation."""
    stmt = (
        select(*table_of(AnnotationTrack).c)
        .where(among(AnnotationTrack.annotation_id, ids))
        .order_by(AnnotationTrack.id)
    )
    return await rows_grouped(db, stmt, "annotation_id", ids)
