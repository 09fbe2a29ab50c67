"""What a project write must satisfy: the undo/redo spec, the checks on a project's fields,
and the rule that no term outside a project's ontology stays on its annotations.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import Row, func, select

from db.engine import Connection
from db.models import (
    AnnotationTerm,
    Ontology,
    Project,
    ReviewedAnnotation,
    ReviewedAnnotationTerm,
    Term,
    UserAnnotation,
)
from resolvers.acl import ADMINISTRATION, READ, require, require_recorded
from resolvers.command import Spec, register
from resolvers.context import Context
from resolvers.crud import table_of
from resolvers.errors import Forbidden, InvalidInput
from resolvers.project_access import READ_ONLY, RESTRICTED

__all__ = [
    "PROJECT",
    "ProjectFields",
]


# --- specs: how commands of projects are replayed --------------------------------------------


async def _authorize(ctx: Context, row: Mapping[str, Any]) -> None:
    """Replaying a project's command: a manager's change (no guest's, core.md §7.1)."""
    ctx.require_user("change a project")
    await require_recorded(ctx, row, ADMINISTRATION)


async def _terms_fit_the_ontology(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """A replay may give a project another ontology back: refused while its annotations carry
    terms outside it (put on since, from the ontology being replaced), as the edit would be."""
    for row in rows:
        terms, reviewed = await _stray_terms(conn, row["id"])
        if terms or reviewed:
            raise _terms_in_use(len(terms), reviewed)


PROJECT: Final = register(
    Spec("Project", Project, lambda row: f"{row['id']} ({row['name']})",
         project_of=lambda row: row["id"], authorize=_authorize, acl=True,
         after_replay=_terms_fit_the_ontology,
         counters=("count_images", "count_annotations", "count_reviewed_annotations"))
)  # fmt: skip


# --- fields ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProjectFields:
    """A project's writable fields, as a create or a full update (PUT) gives them.

    `users`, `admins` and `representatives` are optional id lists; on update, a list that is
    given replaces that part of the membership (core.md §9.3).
    """

    name: str | None = None
    ontology: int | None = None
    mode: str | None = None
    is_read_only: bool | None = None
    is_restricted: bool | None = None
    blind_mode: bool | None = None
    are_images_downloadable: bool | None = None
    is_closed: bool | None = None
    hide_users_layers: bool | None = None
    hide_admins_layers: bool | None = None
    users: list[int] | None = None
    admins: list[int] | None = None
    representatives: list[int] | None = None
    force_ontology_update: bool | None = None


def _mode(fields: ProjectFields) -> str:
    """`mode` when given; else isReadOnly wins over isRestricted, else CLASSIC (§7.4)."""
    if fields.mode is not None:
        return fields.mode
    if fields.is_read_only:
        return READ_ONLY
    return RESTRICTED if fields.is_restricted else "CLASSIC"


def _values(fields: ProjectFields) -> dict[str, Any]:
    name = (fields.name or "").strip()
    if not name:
        raise InvalidInput("Property name must be set")
    if len(name) > 255:
        raise InvalidInput("Property name is longer than 255 characters")
    return {
        "name": name,
        "ontology_id": fields.ontology,
        "mode": _mode(fields),
        "blind_mode": bool(fields.blind_mode),
        "are_images_downloadable": bool(fields.are_images_downloadable),
        "is_closed": bool(fields.is_closed),
        "hide_users_layers": bool(fields.hide_users_layers),
        "hide_admins_layers": bool(fields.hide_admins_layers),
    }


async def _check_ontology(ctx: Context, ontology_id: int | None) -> None:
    """The ontology must exist (400, as Cytomine reads a body reference) and be readable."""
    if ontology_id is None:
        return
    async with ctx.db.read() as conn:
        found = await conn.execute(select(Ontology.id).where(Ontology.id == ontology_id))
    if found.first() is None:
        raise InvalidInput(f"ontology was not found with id: {ontology_id}")
    await require(ctx, ontology_id, READ)


# --- terms outside the ontology --------------------------------------------------------------


async def _stray_terms(conn: Connection, project_id: int) -> tuple[Sequence[Row[Any]], int]:
    """The user term links on the project's annotations whose term is not of the project's
    ontology, and the number of such reviewed term links."""
    ontology = select(Project.ontology_id).where(Project.id == project_id).scalar_subquery()
    user_terms = (
        select(*table_of(AnnotationTerm).c)
        .join(UserAnnotation, UserAnnotation.id == AnnotationTerm.user_annotation_id)
        .join(Term, Term.id == AnnotationTerm.term_id)
        .where(UserAnnotation.project_id == project_id, Term.ontology_id.is_distinct_from(ontology))
        .order_by(AnnotationTerm.id)
    )
    reviewed_count = (
        select(func.count())
        .select_from(ReviewedAnnotationTerm)
        .join(
            ReviewedAnnotation,
            ReviewedAnnotation.id == ReviewedAnnotationTerm.reviewed_annotation_id,
        )
        .join(Term, Term.id == ReviewedAnnotationTerm.term_id)
        .where(
            ReviewedAnnotation.project_id == project_id, Term.ontology_id.is_distinct_from(ontology)
        )
    )
    terms = (await conn.execute(user_terms)).all()
    return terms, (await conn.execute(reviewed_count)).scalar_one()


def _terms_in_use(users: int, reviewed: int) -> Forbidden:
    return Forbidden(
        f"This project has {users + reviewed} associated terms: {users} terms from users, "
        f"0 terms from algorithms and {reviewed} reviewed terms. "
        "The ontology cannot be updated.",
        {
            "userAssociatedTermsCount": users,
            "algoAssociatedTermsCount": 0,
            "reviewedAssociatedTermsCount": reviewed,
        },
    )
