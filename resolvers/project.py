"""Projects: their rows and counters, creation, replacement and deletion, and the project
lists and bounds (contract core.md §4.3, §7.2–§7.4, §9.3).

The other project modules hold what a project has: `project_access` (who may do what in
one; the base of the others), `project_member` (members), `project_invitation` (inviting
someone new), `project_layer` (representatives and default layers). This module re-exports
them, so `resolvers.project` stays the area's one entry point.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Literal, cast

from sqlalchemy import (
    Row,
    and_,
    case,
    delete,
    exists,
    func,
    literal,
    select,
)
from sqlalchemy.orm import aliased

from db.engine import Connection, Lease
from db.models import (
    AclEntry,
    AnnotationTerm,
    Command,
    CommandHistory,
    Ontology,
    Project,
    ProjectRepresentativeUser,
    ReviewedAnnotation,
    ReviewedAnnotationTerm,
    Term,
    UserAnnotation,
)
from resolvers.acl import (
    ADMINISTRATION,
    CONTRIBUTOR,
    MANAGER,
    READ,
    allows,
    entries_of,
    grant,
    require,
    require_recorded,
    viewer_mask,
)
from resolvers.command import CommandLog, Spec, register, spec_of
from resolvers.context import Context
from resolvers.crud import (
    Changed,
    constraint_errors,
    insert_row,
    lock_row,
    table_of,
    update_row,
)
from resolvers.errors import Forbidden, InvalidInput, NotFound
from resolvers.listing import (
    Filter,
    Page,
    apply_filters,
    apply_sort,
    fetch_page,
)
from resolvers.metadata_target import PROJECT_CLASS
from resolvers.project_access import (
    PROJECT_TABLE,
    READ_ONLY,
    RESTRICTED,
    ProjectAccess,
    ProjectRow,
    existing_users,
    get_project,
    project_access,
    projects_by_id,
    reader_of,
    user_exists,
    visible_condition,
    visible_projects,
)
from resolvers.project_invitation import InvitationFields, invite_to_project
from resolvers.project_layer import (
    DEFAULT_LAYER,
    REPRESENTATIVE,
    DefaultLayerFields,
    RepresentativeFields,
    add_representative,
    create_default_layer,
    create_representative,
    default_layers_by_project,
    delete_default_layer,
    delete_representative,
    get_default_layer,
    get_representative,
    project_default_layers,
    project_representatives,
    representatives_by_project,
    set_representatives,
    update_default_layer,
)
from resolvers.project_member import (
    MEMBER_REPORT_COLUMNS,
    MemberQuery,
    MembershipChange,
    add_member,
    add_members,
    member_report,
    project_creator,
    project_members,
    remove_member,
    remove_members,
    set_members,
    user_layers,
)
from resolvers.tag import tag_filter
from resolvers.viewer import Viewer

__all__ = [
    "DEFAULT_LAYER",
    "MEMBER_REPORT_COLUMNS",
    "PROJECT",
    "REPRESENTATIVE",
    "Bounds",
    "DefaultLayerFields",
    "InvitationFields",
    "MemberQuery",
    "MembershipChange",
    "OpenedProject",
    "ProjectAccess",
    "ProjectExtras",
    "ProjectFields",
    "ProjectRelation",
    "ProjectRow",
    "RepresentativeFields",
    "add_member",
    "add_members",
    "create_default_layer",
    "create_project",
    "create_representative",
    "current_user_roles",
    "default_layers_by_project",
    "delete_default_layer",
    "delete_project",
    "delete_representative",
    "get_default_layer",
    "get_project",
    "get_representative",
    "invite_to_project",
    "last_activity",
    "last_opened_projects",
    "list_projects",
    "list_user_projects",
    "member_report",
    "members_count",
    "project_access",
    "project_bounds",
    "project_creator",
    "project_default_layers",
    "project_members",
    "project_representatives",
    "projects_by_id",
    "projects_by_ontology",
    "reader_of",
    "remove_member",
    "remove_members",
    "representatives_by_project",
    "update_default_layer",
    "update_project",
    "user_layers",
    "visible_condition",
    "visible_projects",
]


# --- specs: how commands of projects are replayed --------------------------------------------


async def _authorize(ctx: Context, row: Mapping[str, Any]) -> None:
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


# --- loaders ---------------------------------------------------------------------------------


async def projects_by_ontology(
    db: Lease, keys: list[tuple[int | None, int]]
) -> list[list[Row[Any]]]:
    """Batch loader: for each (reader, ontology id), the projects using the ontology that the
    reader may read (see `reader_of`), by name; one SELECT per distinct reader."""
    out: defaultdict[tuple[int | None, int], list[Row[Any]]] = defaultdict(list)
    by_reader: defaultdict[int | None, set[int]] = defaultdict(set)
    for reader, ontology_id in keys:
        by_reader[reader].add(ontology_id)
    async with db.read() as conn:
        for reader, ontology_ids in by_reader.items():
            stmt = visible_projects(reader).where(Project.ontology_id.in_(ontology_ids))
            for row in await conn.execute(stmt.order_by(Project.name)):
                out[(reader, row.ontology_id)].append(row)
    return [out[key] for key in keys]


def _members_count() -> Any:
    """Members of the current `project` row, as a correlated column."""
    return (
        select(func.count())
        .where(AclEntry.object_id == Project.id)
        .correlate(Project)
        .scalar_subquery()
        .label("members_count")
    )


def _last_activity() -> Any:
    """The newest history entry of the current `project` row, as a correlated column."""
    return (
        select(func.max(CommandHistory.created))
        .where(CommandHistory.project_id == Project.id)
        .correlate(Project)
        .scalar_subquery()
        .label("last_activity")
    )


async def _by_project(db: Lease, stmt: Any) -> dict[int, Any]:
    """A two-column SELECT (project id, value) as a mapping."""
    async with db.read() as conn:
        return {key: value for key, value in await conn.execute(stmt)}


async def members_count_by_project(db: Lease, ids: list[int]) -> list[int]:
    """How many members each project has; one GROUP BY for the batch."""
    stmt = (
        select(AclEntry.object_id, func.count())
        .where(AclEntry.object_id.in_(ids))
        .group_by(AclEntry.object_id)
    )
    found = await _by_project(db, stmt)
    return [int(found.get(key, 0)) for key in ids]


async def last_activity_by_project(db: Lease, ids: list[int]) -> list[datetime | None]:
    """The newest history entry of each project (None without history)."""
    stmt = (
        select(CommandHistory.project_id, func.max(CommandHistory.created))
        .where(CommandHistory.project_id.in_(ids))
        .group_by(CommandHistory.project_id)
    )
    found = await _by_project(db, stmt)
    return [found.get(key) for key in ids]


# --- writes ----------------------------------------------------------------------------------


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


async def create_project(ctx: Context, fields: ProjectFields) -> Changed:
    """Create a project: the caller manages it and represents it; `users` and `admins` join as
    contributors and managers (unknown ids are skipped, as Cytomine does)."""
    viewer = ctx.require_viewer()
    if not viewer.is_user:
        raise Forbidden("A guest may not create a project")
    values = _values(fields)
    await _check_ontology(ctx, values["ontology_id"])
    async with ctx.db.transaction() as conn:
        log = CommandLog(conn, viewer)
        with constraint_errors(f"Project {values['name']} already exist!"):
            row = await insert_row(conn, Project, {**values, "creator_id": viewer.id})
        await grant(conn, row.id, (viewer.id,), MANAGER)
        members = await existing_users(conn, [*(fields.users or ()), *(fields.admins or ())])
        await grant(conn, row.id, members, CONTRIBUTOR)
        admins = await existing_users(conn, fields.admins or ())
        await grant(conn, row.id, [a for a in admins if a != viewer.id], MANAGER)
        command = await log.add(PROJECT, row)
        await add_representative(conn, log, row.id, viewer.id)
    return Changed(row, command)


async def update_project(ctx: Context, project_id: int, fields: ProjectFields) -> Changed:
    """Replace a project's fields (managers); given member lists replace the membership."""
    viewer = ctx.require_viewer()
    (await project_access(ctx, project_id)).require_manager()
    values = _values(fields)
    await _check_ontology(ctx, values["ontology_id"])
    async with ctx.db.transaction() as conn:
        log = CommandLog(conn, viewer)
        with constraint_errors(f"Project {values['name']} already exist!"):
            before, after = await update_row(conn, Project, "Project", project_id, values)
        if before.ontology_id != after.ontology_id:
            await _release_terms(conn, log, project_id, force=bool(fields.force_ontology_update))
        if fields.users is not None:
            keep = {*fields.users, *(fields.admins or ()), viewer.id}
            await set_members(conn, project_id, keep, manager=False)
        if fields.admins is not None:
            await set_members(conn, project_id, {*fields.admins, viewer.id}, manager=True)
        if fields.representatives is not None:
            await set_representatives(conn, log, project_id, fields.representatives)
        command = await log.edit(PROJECT, before, after)
    return Changed(after, command)


async def _release_terms(
    conn: Connection, log: CommandLog, project_id: int, *, force: bool
) -> None:
    """After an ontology change no term outside the new ontology stays on the project's
    annotations (core.md §9.3): 403 with the counts while some remain, unless `force` lets the
    users' terms go (recorded, so undo restores them); reviewed terms always refuse it."""
    terms, reviewed = await _stray_terms(conn, project_id)
    if reviewed or (terms and not force):
        raise _terms_in_use(0 if force else len(terms), reviewed)
    if terms:
        await log.delete_many(spec_of("AnnotationTerm"), terms)
        await conn.execute(
            delete(AnnotationTerm).where(AnnotationTerm.id.in_([t.id for t in terms]))
        )


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


async def delete_project(ctx: Context, project_id: int) -> Changed:
    """Delete a project with its images (managers). Its history is erased and the deletion
    cannot be undone (decision 4): the cascade cannot be rebuilt from snapshots."""
    viewer = ctx.require_viewer()
    (await project_access(ctx, project_id)).require_manager().require_writable()
    async with ctx.db.transaction() as conn:
        row = await lock_row(conn, Project, "Project", project_id)
        await conn.execute(delete(Command).where(Command.project_id == project_id))
        command = await CommandLog(conn, viewer).delete(
            PROJECT, row, refuse_undo=True, project_id=None
        )
        await conn.execute(delete(Project).where(Project.id == project_id))
    return Changed(row, command)


# --- the project list ------------------------------------------------------------------------

PROJECT_FILTERS: Final[Mapping[str, Any]] = {
    "id": Project.id,
    "name": Project.name,
    "ontology": Project.ontology_id,
    "mode": Project.mode,
    "blindMode": Project.blind_mode,
    "areImagesDownloadable": Project.are_images_downloadable,
    "isClosed": Project.is_closed,
    "hideUsersLayers": Project.hide_users_layers,
    "hideAdminsLayers": Project.hide_admins_layers,
    "created": Project.created,
    "updated": Project.updated,
    "numberOfImages": Project.count_images,
    "numberOfAnnotations": Project.count_annotations,
    "numberOfReviewedAnnotations": Project.count_reviewed_annotations,
    "numberOfJobAnnotations": literal(0),
}
#: Filter-only keys: the ids of the project's tags (core.md §4.4).
PROJECT_RELATED: Final[Mapping[str, Any]] = {"tag": tag_filter(Project.id, PROJECT_CLASS)}
#: Sort and filter keys that exist only with a `with…` flag (core.md §4.3–4.4).
EXTRA_FLAGS: Final[Mapping[str, str]] = {
    "membersCount": "withMembersCount",
    "lastActivity": "withLastActivity",
    "currentUserRole": "withCurrentUserRoles",
}


@dataclass(frozen=True, slots=True)
class ProjectExtras:
    """The computed columns a project list carries (the `with…` flags)."""

    members_count: bool = False
    last_activity: bool = False
    current_user_roles: bool = False


def _with_extras(stmt: Any, viewer: Viewer, extras: ProjectExtras) -> tuple[Any, dict[str, Any]]:
    """Add the requested computed columns to a project SELECT, in the same statement; returns
    it with the sort/filter keys they open."""
    keys: dict[str, Any] = {}
    if extras.members_count:
        keys["membersCount"] = _members_count()
    if extras.last_activity:
        keys["lastActivity"] = _last_activity()
    if extras.current_user_roles:
        mine = aliased(AclEntry)
        stmt = stmt.outerjoin(mine, and_(mine.object_id == Project.id, mine.user_id == viewer.id))
        represents = exists().where(
            ProjectRepresentativeUser.project_id == Project.id,
            ProjectRepresentativeUser.user_id == viewer.id,
        )
        keys["currentUserRole"] = case(
            (mine.mask >= ADMINISTRATION, "manager"), (mine.mask > 0, "contributor")
        ).label("current_user_role")
        stmt = stmt.add_columns(
            (func.coalesce(mine.mask, 0) >= ADMINISTRATION).label("current_user_admin"),
            represents.label("current_user_representative"),
        )
    return stmt.add_columns(*keys.values()), keys


def _refuse_missing_flags(sort: str | None, filters: Sequence[Filter], opened: set[str]) -> None:
    for key, flag in EXTRA_FLAGS.items():
        if key in opened:
            continue
        if sort == key:
            raise InvalidInput(f"Cannot sort on {key} without argument {flag}")
        if any(f.field == key for f in filters):
            raise InvalidInput(f"Cannot filter on {key} without argument {flag}")


async def list_projects(
    ctx: Context,
    *,
    limit: int | None,
    offset: int = 0,
    sort: str | None = None,
    order: str | None = None,
    filters: Sequence[Filter] = (),
    user_id: int | None = None,
    ontology_id: int | None = None,
    extras: ProjectExtras = ProjectExtras(),
) -> Page[Any]:
    """The projects the caller may read (all for admins), optionally those `user_id` is a
    member of or those using `ontology_id`; newest first by default (core.md §4.3). `extras`
    adds computed columns, which may then be sorted and filtered on."""
    viewer = ctx.require_viewer()
    stmt = visible_projects(reader_of(viewer))
    if user_id is not None:
        async with ctx.db.read() as conn:
            await user_exists(conn, user_id)
        member = entries_of(user_id)
        stmt = stmt.where(Project.id.in_(member))
    if ontology_id is not None:
        async with ctx.db.read() as conn:
            found = await conn.execute(select(Ontology.id).where(Ontology.id == ontology_id))
        if found.first() is None:
            raise NotFound("Ontology", ontology_id)
        stmt = stmt.where(Project.ontology_id == ontology_id)
    stmt, opened = _with_extras(stmt, viewer, extras)
    _refuse_missing_flags(sort, filters, set(opened))
    columns = {**PROJECT_FILTERS, **opened}
    stmt = apply_filters(stmt, filters, {**columns, **PROJECT_RELATED})
    stmt = apply_sort(stmt, sort, order, columns, default="created",
                      default_order="desc", tie=Project.id)  # fmt: skip
    async with ctx.db.read() as conn:
        return await fetch_page(conn, stmt, limit=ctx.page_limit(limit), offset=offset)


def _computed(row: Any, key: str) -> tuple[bool, Any]:
    """A computed column the row was read with, if it was (see `_with_extras`)."""
    mapping = getattr(row, "_mapping", None)
    if mapping is not None and key in mapping:
        return True, mapping[key]
    return False, None


async def members_count(ctx: Context, project: Any) -> int:
    """How many members the project has: from its row when listed with the flag, else batched."""
    known, value = _computed(project, "members_count")
    if known:
        return int(value)
    return await ctx.loader(members_count_by_project).load(project.id)


async def last_activity(ctx: Context, project: Any) -> datetime | None:
    """When the project's newest history entry was written (None without history)."""
    known, value = _computed(project, "last_activity")
    if known:
        return cast("datetime | None", value)
    return await ctx.loader(last_activity_by_project).load(project.id)


async def current_user_roles(ctx: Context, project: Any) -> tuple[bool, bool]:
    """Whether the caller manages and whether they represent the project (its ACL and its
    representative rows, not the caller's global role)."""
    viewer = ctx.require_viewer()
    known, admin = _computed(project, "current_user_admin")
    if known:
        return bool(admin), bool(project.current_user_representative)
    mask = await viewer_mask(ctx, project.id)
    representatives = await ctx.loader(representatives_by_project).load(project.id)
    return allows(mask, ADMINISTRATION), any(r.user_id == viewer.id for r in representatives)


@dataclass(frozen=True, slots=True)
class Bounds:
    """The smallest and largest value of a field over a set of rows (None when empty)."""

    min: Any
    max: Any


#: Fields the project bounds cover (core.md §9.3), by their Cytomine names.
BOUNDED: Final[Mapping[str, Any]] = {
    "created": Project.created,
    "updated": Project.updated,
    "mode": Project.mode,
    "name": Project.name,
    "numberOfAnnotations": Project.count_annotations,
    "numberOfJobAnnotations": literal(0),
    "numberOfReviewedAnnotations": Project.count_reviewed_annotations,
    "numberOfImages": Project.count_images,
}


async def project_bounds(ctx: Context, *, with_members_count: bool = False) -> dict[str, Bounds]:
    """Min and max of each bounded field over the projects the caller may read, in one SELECT;
    `members` (member counts) with the flag. The web UI sizes its list filters with them."""
    viewer = ctx.require_viewer()
    fields = dict(BOUNDED)
    if with_members_count:
        fields["members"] = _members_count()
    inner = (
        select(*(column.label(key) for key, column in fields.items()))
        .where(visible_condition(reader_of(viewer)))
        .subquery()
    )
    aggregates = [agg(inner.c[key]) for key in fields for agg in (func.min, func.max)]
    async with ctx.db.read() as conn:
        row = (await conn.execute(select(*aggregates))).one()
    return {key: Bounds(row[2 * i], row[2 * i + 1]) for i, key in enumerate(fields)}


ProjectRelation = Literal["MEMBER", "MANAGER", "CREATOR"]


async def list_user_projects(
    ctx: Context,
    user_id: int,
    relation: ProjectRelation = "MEMBER",
    *,
    limit: int | None = None,
    offset: int = 0,
) -> Page[Any]:
    """The projects a user is a member of, manages or created, by name (the user themself or
    an administrator: it reveals memberships the caller may not share)."""
    viewer = ctx.require_viewer()
    if viewer.id != user_id and not viewer.is_admin:
        raise Forbidden("Only the user or an administrator may list these projects")
    async with ctx.db.read() as conn:
        await user_exists(conn, user_id)
    stmt = select(*PROJECT_TABLE.c)
    if relation == "CREATOR":
        stmt = stmt.where(Project.creator_id == user_id)
    else:
        stmt = stmt.where(Project.id.in_(entries_of(user_id, managed=relation == "MANAGER")))
    stmt = stmt.order_by(Project.name, Project.id)
    async with ctx.db.read() as conn:
        return await fetch_page(conn, stmt, limit=ctx.page_limit(limit), offset=offset)


@dataclass(frozen=True, slots=True)
class OpenedProject:
    """A project in the caller's "last opened" list: when, and whether it was really opened
    or only completes the list as a recently created project."""

    project_id: int
    date: datetime
    opened: bool


def _recently_created(viewer: Viewer) -> Any:
    return select(Project.id.label("id"), Project.created.label("date")).where(
        visible_condition(reader_of(viewer))
    )


#: Where "last opened" rows come from, in order: (opened, SELECT of `id`, `date` of projects
#: the viewer may read). Project connections (activity, not built yet) are the first source,
#: opened; until they exist every row completes the list from recently created projects.
LAST_OPENED_SOURCES: Final[tuple[tuple[bool, Callable[[Viewer], Any]], ...]] = (
    (False, _recently_created),
)
DEFAULT_LAST_OPENED: Final = 5


async def last_opened_projects(ctx: Context, limit: int | None = None) -> list[OpenedProject]:
    """The caller's last opened projects, newest first, completed up to `limit` (default 5)
    from each following source; a project appears once."""
    viewer = ctx.require_viewer()
    wanted = limit or DEFAULT_LAST_OPENED
    if wanted < 0:
        raise InvalidInput("max must not be negative")
    wanted = min(wanted, ctx.page_limit(wanted) or wanted)
    found: list[OpenedProject] = []
    async with ctx.db.read() as conn:
        for opened, source in LAST_OPENED_SOURCES:
            if len(found) >= wanted:
                break
            rows = source(viewer).subquery()
            seen = [item.project_id for item in found]
            stmt = (
                select(rows.c.id, rows.c.date)
                .where(rows.c.id.not_in(seen) if seen else literal(True))
                .order_by(rows.c.date.desc(), rows.c.id.desc())
                .limit(wanted - len(found))
            )
            found += [OpenedProject(pid, date, opened) for pid, date in await conn.execute(stmt)]
    return found
