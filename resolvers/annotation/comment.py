"""Comments on user annotations: Cytomine's SharedAnnotation (contract images-annotations.md
§3.4 "Comments", §9.9).

A comment is a message about an annotation from its sender to some users. Writing one takes the
user role and the owner-or-mode check on the annotation (core.md §7.4, the annotation's creator
as owner); reading takes READ on the project, and only the sender, the receivers and
administrators see a comment, as Cytomine shows them. The annotation's comment counter is kept
by a trigger. Cytomine also mails the receivers and can invite people by e-mail: cytogate sends
no mail, so neither is done.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy import ColumnElement, Row, func, literal, or_, select, true

from db.direct import Direct
from db.engine import Lease
from db.id_lists import among_bound, rows_by_id
from db.models import SharedAnnotation
from resolvers.annotation.reads import get_annotation
from resolvers.annotation.rules import SHARED_ANNOTATION
from resolvers.command import CommandLog
from resolvers.context import Context
from resolvers.crud import Changed, constraint_errors, insert_row, table_of
from resolvers.errors import Forbidden, InvalidInput, NotFound
from resolvers.listing import Page, fetch_page
from resolvers.project_access import existing_users, project_access
from resolvers.viewer import Viewer

__all__ = [
    "CommentFields",
    "comments_by_id",
    "create_comment",
    "get_comment",
    "list_comments",
]

COMMENT_TABLE: Final = table_of(SharedAnnotation)
MAX_COMMENT: Final = 10_000
MAX_RECEIVERS: Final = 1000


@dataclass(frozen=True, slots=True)
class CommentFields:
    """A new comment: on which annotation, what it says, to whom (user ids)."""

    annotation: int | None = None
    comment: str | None = None
    receivers: list[int] = field(default_factory=list)


_COMMENTS: Final = Direct(select(*COMMENT_TABLE.c).where(among_bound(SharedAnnotation.id)))


async def comments_by_id(db: Lease, ids: list[int]) -> list[Row[Any] | None]:
    """Comments by id, one SELECT for the batch."""
    return await rows_by_id(db, _COMMENTS, ids)


def _visible(viewer: Viewer) -> ColumnElement[bool]:
    """The comments the viewer reads: all for administrators, else those they sent or got."""
    if viewer.is_admin:
        return true()
    return or_(
        SharedAnnotation.sender_id == viewer.id,
        literal(viewer.id) == func.any(SharedAnnotation.receivers),
    )


def _sees(viewer: Viewer, row: Any) -> bool:
    return viewer.is_admin or row.sender_id == viewer.id or viewer.id in row.receivers


async def list_comments(
    ctx: Context, annotation_id: int, *, limit: int | None = None, offset: int = 0
) -> Page[Any]:
    """The comments on an annotation the caller sent or received, newest first (READ)."""
    viewer = ctx.require_viewer()
    await get_annotation(ctx, annotation_id)
    stmt = (
        select(*COMMENT_TABLE.c)
        .where(SharedAnnotation.user_annotation_id == annotation_id, _visible(viewer))
        .order_by(SharedAnnotation.created.desc(), SharedAnnotation.id.desc())
    )
    async with ctx.db.read() as conn:
        return await fetch_page(conn, stmt, limit=ctx.page_limit(limit), offset=offset)


async def get_comment(ctx: Context, annotation_id: int, comment_id: int) -> Any:
    """One comment on an annotation (READ); only its sender, receivers and administrators
    read it."""
    viewer = ctx.require_viewer()
    await get_annotation(ctx, annotation_id)
    row = await ctx.loader(comments_by_id).load(comment_id)
    if row is None or row.user_annotation_id != annotation_id:
        raise NotFound("SharedAnnotation", comment_id)
    if not _sees(viewer, row):
        raise Forbidden("Only the sender and the receivers of a comment read it")
    return row


def _text(value: str | None) -> str:
    if value is None or not value.strip():
        raise InvalidInput("Property comment must be set: the comment is empty")
    if len(value) > MAX_COMMENT:
        raise InvalidInput(f"Property comment is longer than {MAX_COMMENT} characters")
    return value


def _receivers(ids: Sequence[int]) -> list[int]:
    unique = list(dict.fromkeys(ids))
    if len(unique) > MAX_RECEIVERS:
        raise InvalidInput(f"A comment goes to at most {MAX_RECEIVERS} users")
    return unique


async def create_comment(ctx: Context, fields: CommentFields) -> Changed:
    """Comment an annotation, from the caller to `receivers` (every one must be a user: 400
    otherwise)."""
    viewer = ctx.require_user("comment annotations")
    if fields.annotation is None:
        raise InvalidInput("Which annotation is commented? annotationIdent must be set")
    annotation = await get_annotation(ctx, fields.annotation)
    (await project_access(ctx, annotation.project_id)).require_owner_or_mode(annotation.user_id)
    text = _text(fields.comment)
    receivers = _receivers(fields.receivers)
    async with ctx.db.transaction() as conn:
        known = set(await existing_users(conn, receivers))
        for receiver in receivers:
            if receiver not in known:
                raise InvalidInput(f"receivers: user was not found with id: {receiver}")
        values = {"user_annotation_id": annotation.id, "sender_id": viewer.id, "comment": text,
                  "receivers": receivers}  # fmt: skip
        with constraint_errors("Comment already exists", f"Annotation {annotation.id} is gone"):
            row = await insert_row(conn, SharedAnnotation, values)
        command = await CommandLog(conn, viewer).add(SHARED_ANNOTATION, row)
    return Changed(row, command)
