"""Terms on annotations (contract images-annotations.md §3.11).

A user annotation's terms are links (annotation, term, who put it), unique per triple (409);
a reviewed annotation's are a plain set (resolvers/review.py). The term must be in the
ontology of the annotation's project (400). Reading needs READ on the project; changing a
user annotation's links needs the guest role, READ and the owner-or-mode check with the
annotation's creator as owner (core.md §7.4).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import Row, delete, select

from db.id_lists import among
from db.models import AnnotationTerm, ImageInstance, ReviewedAnnotationTerm, SecUser
from resolvers.annotation.reads import get_annotation
from resolvers.annotation.rows import terms_by_annotation
from resolvers.annotation.rules import ANNOTATION_TERM, check_terms
from resolvers.command import CommandLog
from resolvers.context import Context
from resolvers.crud import Changed, constraint_errors, insert_row, table_of
from resolvers.errors import NotFound
from resolvers.project_access import project_access
from resolvers.review import get_any_annotation, set_reviewed_terms

__all__ = [
    "TermLinks",
    "TermSet",
    "add_annotation_term",
    "get_annotation_term",
    "list_annotation_terms",
    "remove_annotation_term",
    "set_annotation_term",
]

LINK_TABLE: Final = table_of(AnnotationTerm)


@dataclass(frozen=True, slots=True)
class TermLinks:
    """The terms of an annotation: its AnnotationTerm rows for a user annotation; for a
    reviewed one, rows of (term_id, reviewed_annotation_id, reviewer_id = the image's
    reviewer)."""

    reviewed: bool
    rows: Sequence[Any]


async def list_annotation_terms(
    ctx: Context, annotation_id: int, *, user_id: int | None = None, not_user_id: int | None = None
) -> TermLinks:
    """The terms of an annotation of either kind, oldest first; for a user annotation only
    those `user_id` put, or those anyone but `not_user_id` put."""
    found = await get_any_annotation(ctx, annotation_id)
    if found.reviewed:
        stmt = (
            select(
                ReviewedAnnotationTerm.term_id,
                ReviewedAnnotationTerm.reviewed_annotation_id,
                ImageInstance.review_user_id.label("reviewer_id"),
            )
            .join(ImageInstance, ImageInstance.id == found.row.image_id)
            .where(ReviewedAnnotationTerm.reviewed_annotation_id == annotation_id)
            .order_by(ReviewedAnnotationTerm.id)
        )
        async with ctx.db.read() as conn:
            return TermLinks(True, (await conn.execute(stmt)).all())
    links = await ctx.loader(terms_by_annotation).load(annotation_id)
    return TermLinks(False, [
        link for link in links
        if (user_id is None or link.user_id == user_id)
        and (not_user_id is None or link.user_id != not_user_id)
    ])  # fmt: skip


async def get_annotation_term(
    ctx: Context, annotation_id: int, term_id: int, user_id: int | None = None
) -> Row[Any]:
    """The first link of a user annotation to a term (put by `user_id` when given), or 404."""
    await get_annotation(ctx, annotation_id)
    for link in await ctx.loader(terms_by_annotation).load(annotation_id):
        if link.term_id == term_id and (user_id is None or link.user_id == user_id):
            return link  # type: ignore[no-any-return]
    raise NotFound("AnnotationTerm", f"{annotation_id}/{term_id}", "annotation/term")


async def _editable(ctx: Context, annotation_id: int) -> Any:
    """A user annotation whose terms the caller may change (guest role, READ, owner-or-mode
    with its creator as owner)."""
    ctx.require_guest()
    annotation = await get_annotation(ctx, annotation_id)
    (await project_access(ctx, annotation.project_id)).require_owner_or_mode(annotation.user_id)
    return annotation


async def _term(ctx: Context, project_id: int, term_id: int) -> None:
    """An unknown term is a 404; a term outside the project's ontology a 400."""
    async with ctx.db.read() as conn:
        await check_terms(conn, project_id, [term_id], unknown_is_404=True)


async def _author(ctx: Context, user_id: int | None) -> int:
    """Who the link is put by: `user_id` when it names a user, else the caller (§3.11)."""
    viewer = ctx.require_viewer()
    if user_id is None or user_id == viewer.id:
        return viewer.id
    async with ctx.db.read() as conn:
        found = await conn.execute(select(SecUser.id).where(SecUser.id == user_id))
    return user_id if found.first() is not None else viewer.id


async def add_annotation_term(
    ctx: Context, annotation_id: int, term_id: int, user_id: int | None = None
) -> Changed:
    """Put a term on a user annotation, by `user_id` when it names a user, else by the caller;
    the same link twice is a 409."""
    viewer = ctx.require_guest()
    annotation = await _editable(ctx, annotation_id)
    await _term(ctx, annotation.project_id, term_id)
    author = await _author(ctx, user_id)
    if author != viewer.id:  # acting for another user: refused in restricted mode (§3.4)
        (await project_access(ctx, annotation.project_id)).require_owner_or_mode(None)
    values = {"user_annotation_id": annotation_id, "term_id": term_id, "user_id": author}
    async with ctx.db.transaction() as conn:
        with constraint_errors(f"Term {term_id} is already on annotation {annotation_id}"):
            link = await insert_row(conn, AnnotationTerm, values)
        command = await CommandLog(conn, viewer).add(ANNOTATION_TERM, link)
    return Changed(link, command)


async def remove_annotation_term(
    ctx: Context, annotation_id: int, term_id: int, user_id: int | None = None
) -> Changed:
    """Take a term off a user annotation: the link `user_id` put (default: the caller's);
    none is a 404."""
    viewer = ctx.require_guest()
    annotation = await _editable(ctx, annotation_id)
    author = viewer.id if user_id is None else user_id
    if author != viewer.id:
        (await project_access(ctx, annotation.project_id)).require_owner_or_mode(None)
    async with ctx.db.transaction() as conn:
        link = (
            await conn.execute(
                select(*LINK_TABLE.c)
                .where(
                    AnnotationTerm.user_annotation_id == annotation_id,
                    AnnotationTerm.term_id == term_id,
                    AnnotationTerm.user_id == author,
                )
                .with_for_update()
            )
        ).first()
        if link is None:
            key = f"{annotation_id}/{term_id}/{author}"
            raise NotFound("AnnotationTerm", key, "annotation/term/user")
        command = await CommandLog(conn, viewer).delete(ANNOTATION_TERM, link)
        await conn.execute(delete(AnnotationTerm).where(AnnotationTerm.id == link.id))
    return Changed(link, command)


@dataclass(frozen=True, slots=True)
class TermSet:
    """What setting an annotation's single term made: the new link of a user annotation, or
    the reviewed annotation whose term set was replaced; with the command either way."""

    changed: Changed
    reviewed: bool


async def set_annotation_term(
    ctx: Context, annotation_id: int, term_id: int, *, clear_for_all: bool = False
) -> TermSet:
    """Make `term_id` an annotation's only term (clear-before, §3.11). A user annotation loses
    the caller's links (everyone's with `clear_for_all`) and gets the term by the caller; a
    reviewed annotation's term set becomes {term} (its reviewer or an administrator). Taking
    others' links off takes the right `remove_annotation_term` asks for it."""
    found = await get_any_annotation(ctx, annotation_id)
    if found.reviewed:
        await _term(ctx, found.row.project_id, term_id)
        return TermSet(await set_reviewed_terms(ctx, annotation_id, [term_id]), True)
    viewer = ctx.require_guest()
    annotation = await _editable(ctx, annotation_id)
    access = await project_access(ctx, annotation.project_id)  # read before the transaction
    await _term(ctx, found.row.project_id, term_id)
    cleared = select(*LINK_TABLE.c).where(AnnotationTerm.user_annotation_id == annotation_id)
    if not clear_for_all:
        cleared = cleared.where(AnnotationTerm.user_id == viewer.id)
    async with ctx.db.transaction() as conn:
        log = CommandLog(conn, viewer)
        old = (await conn.execute(cleared.order_by(AnnotationTerm.id).with_for_update())).all()
        if any(link.user_id != viewer.id for link in old):  # as taking another's link off
            access.require_owner_or_mode(None)
        await log.delete_many(ANNOTATION_TERM, old)
        await conn.execute(
            delete(AnnotationTerm).where(among(AnnotationTerm.id, [r.id for r in old]))
        )
        values = {"user_annotation_id": annotation_id, "term_id": term_id, "user_id": viewer.id}
        with constraint_errors(f"Term {term_id} is already on annotation {annotation_id}"):
            link = await insert_row(conn, AnnotationTerm, values)
        command = await log.add(ANNOTATION_TERM, link)
    return TermSet(Changed(link, command), False)
