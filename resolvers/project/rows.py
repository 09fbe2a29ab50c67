"""How projects are read beyond their own row (`resolvers.project_access`): batch loaders
for their counters and for the projects of an ontology, the columns the project list sorts and
filters on, and where "last opened" projects come from.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Final

from sqlalchemy import Row, func, literal, select

from db.engine import Lease
from db.id_lists import among
from db.models import AclEntry, CommandHistory, Project, ProjectConnection
from resolvers.acl import entries_of
from resolvers.metadata_target import PROJECT_CLASS
from resolvers.project_access import reader_of, visible_condition, visible_projects
from resolvers.tag import tag_filter
from resolvers.viewer import Viewer

__all__ = [
    "BOUNDED",
    "DEFAULT_LAST_OPENED",
    "EXTRA_FLAGS",
    "LAST_OPENED_SOURCES",
    "PROJECT_FILTERS",
    "PROJECT_RELATED",
    "last_activity_by_project",
    "members_count_by_project",
    "projects_by_ontology",
]


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
        .where(among(AclEntry.object_id, ids))
        .group_by(AclEntry.object_id)
    )
    found = await _by_project(db, stmt)
    return [int(found.get(key, 0)) for key in ids]


async def last_activity_by_project(db: Lease, ids: list[int]) -> list[datetime | None]:
    """The newest history entry of each project (None without history)."""
    stmt = (
        select(CommandHistory.project_id, func.max(CommandHistory.created))
        .where(among(CommandHistory.project_id, ids))
        .group_by(CommandHistory.project_id)
    )
    found = await _by_project(db, stmt)
    return [found.get(key) for key in ids]


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


# --- last opened -----------------------------------------------------------------------------


def _recently_created(viewer: Viewer) -> Any:
    return select(Project.id.label("id"), Project.created.label("date")).where(
        visible_condition(reader_of(viewer))
    )


def _connected(viewer: Viewer) -> Any:
    """The projects the viewer opened (their project connections, core.md §9.16), with when
    they last did, among those they may still read."""
    c = ProjectConnection
    stmt = select(c.project_id.label("id"), func.max(c.created).label("date"))
    stmt = stmt.where(c.user_id == viewer.id)
    if not viewer.is_admin:
        stmt = stmt.where(c.project_id.in_(entries_of(viewer.id)))
    return stmt.group_by(c.project_id)


#: Where "last opened" rows come from, in order: (opened, SELECT of `id`, `date` of projects
#: the viewer may read). The viewer's project connections first; the list is completed from
#: recently created projects (core.md §9.3).
LAST_OPENED_SOURCES: Final[tuple[tuple[bool, Callable[[Viewer], Any]], ...]] = (
    (True, _connected),
    (False, _recently_created),
)
DEFAULT_LAST_OPENED: Final = 5
