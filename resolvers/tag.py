"""Tags and their associations with projects, images and annotations (contract core.md
§9.14–§9.15), and the tag filters of the project, image and annotation listings.

A tag is global: any user creates one (its name unique whatever its case); its creator or an
administrator changes or deletes it, and once it is in use only an administrator renames it.
An association puts a tag on one object named by class and id (`resolvers.metadata_target`
resolves it and holds the read and write rules). Deleting a tag deletes its associations;
deleting an object deletes its associations too, by trigger, and the deleting mutations
record them first (`record_tags`) so that undo brings them back.

Undo and redo keep to the same rules and lose nothing silently: a non-administrator replays
nothing on a tag in use (an undone rename is a rename, an undone create a delete); the
database refuses to delete a tag that still has associations (the foreign key restricts), so
a replay that would take associations it did not record fails; and an association does not
come back on an object deleted since.

This module sits below the image, annotation and track modules, which call it when they
delete and filter: it reads their tables, never their modules.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any, Final

from sqlalchemy import Row, Select, and_, delete, exists, func, literal, select, tuple_

from db.engine import Connection, Lease
from db.id_lists import among, among_bound, rows_by_id
from db.models import SecUser, Tag, TagDomainAssociation
from resolvers.command import CommandLog, Spec, delete_logged, register, update_logged
from resolvers.context import Context
from resolvers.crud import Changed, constraint_errors, insert_row, lock_row, table_of
from resolvers.errors import Forbidden, InvalidInput
from resolvers.listing import Filter, Page, Related, apply_filters, fetch_page
from resolvers.metadata_target import (
    hold_target,
    hold_targets,
    readable_condition,
    readable_target,
    simple_name,
    writable_target,
)
from resolvers.project_access import reader_of
from resolvers.viewer import Viewer

__all__ = [
    "TAG",
    "TAG_DOMAIN_ASSOCIATION",
    "associations_by_id",
    "create_association",
    "create_tag",
    "delete_association",
    "delete_tag",
    "get_association",
    "get_tag",
    "list_associations",
    "list_domain_associations",
    "list_tags",
    "record_tags",
    "tag_filter",
    "tagged",
    "tags_by_domain",
    "tags_by_id",
    "update_tag",
]

TAG_TABLE: Final = table_of(Tag)
LINK_TABLE: Final = table_of(TagDomainAssociation)
_USER: Final = table_of(SecUser)
MAX_NAME: Final = 255
#: What the tag list filters on, by Cytomine's names.
TAG_FIELDS: Final[Mapping[str, Any]] = {
    "id": Tag.id,
    "name": Tag.name,
    "user": Tag.user_id,
    "created": Tag.created,
    "updated": Tag.updated,
}
#: What the association list filters on (core.md §4.4: any operator).
LINK_FIELDS: Final[Mapping[str, Any]] = {
    "id": TagDomainAssociation.id,
    "tag": TagDomainAssociation.tag_id,
    "domainIdent": TagDomainAssociation.domain_ident,
    "domainClassName": TagDomainAssociation.domain_class_name,
    "created": TagDomainAssociation.created,
    "updated": TagDomainAssociation.updated,
}


def _tags() -> Select[*tuple[Any, ...]]:
    """Tags with their creator's username (`creator_name`), as their JSON shows it."""
    return select(*TAG_TABLE.c, _USER.c.username.label("creator_name")).select_from(
        TAG_TABLE.outerjoin(_USER, _USER.c.id == TAG_TABLE.c.user_id)
    )


def _links() -> Select[*tuple[Any, ...]]:
    """Associations with their tag's name (`tag_name`)."""
    return select(*LINK_TABLE.c, Tag.name.label("tag_name")).join(
        Tag, Tag.id == TagDomainAssociation.tag_id
    )


#: Tags by name whatever the case, then by id.
TAG_ORDER: Final = (func.lower(Tag.name), Tag.id)


# --- loaders ---------------------------------------------------------------------------------


_TAGS: Final = _tags().where(among_bound(Tag.id))
_ASSOCIATIONS: Final = _links().where(among_bound(TagDomainAssociation.id))


async def tags_by_id(db: Lease, ids: list[int]) -> list[Row[Any] | None]:
    """Tags by id, one SELECT for the batch; None for an unknown id."""
    return await rows_by_id(db, _TAGS, ids)


async def associations_by_id(db: Lease, ids: list[int]) -> list[Row[Any] | None]:
    """Associations by id, one SELECT for the batch; None for an unknown id."""
    return await rows_by_id(db, _ASSOCIATIONS, ids)


async def tags_by_domain(db: Lease, keys: list[tuple[str, int]]) -> list[list[Row[Any]]]:
    """The tags of each object named by (class name, id), by name; one SELECT for the batch."""
    owner = (TagDomainAssociation.domain_class_name, TagDomainAssociation.domain_ident)
    stmt = (
        _tags()
        .add_columns(*owner)
        .join(TagDomainAssociation, TagDomainAssociation.tag_id == Tag.id)
        .where(tuple_(*owner).in_(keys))
        .order_by(*TAG_ORDER)
    )
    grouped: defaultdict[tuple[str, int], list[Row[Any]]] = defaultdict(list)
    async with db.read() as conn:
        for row in await conn.execute(stmt):
            grouped[(row.domain_class_name, row.domain_ident)].append(row)
    return [grouped[key] for key in keys]


# --- specs: how commands of these domains are replayed ---------------------------------------


def _may_edit(viewer: Viewer, creator_id: int | None) -> None:
    """A tag's creator or an administrator (core.md §7.5)."""
    if not viewer.is_admin and creator_id != viewer.id:
        raise Forbidden("Only the tag's creator or an administrator may change it")


async def _may_replay_tag(ctx: Context, row: Mapping[str, Any]) -> None:
    """Who may undo or redo a tag's command: its creator or an administrator, and only an
    administrator renames a tag in use, as directly. A replay removing the tag is its delete
    again: the associations it recorded go with it, and the foreign key refuses (400) while
    others, unrecorded, remain."""
    viewer = ctx.require_viewer()
    _may_edit(viewer, row.get("user_id"))
    if not viewer.is_admin:
        async with ctx.db.transaction() as conn:  # joins the replay's own
            name = await conn.scalar(select(Tag.name).where(Tag.id == row["id"]))
            if name is not None and name != row["name"] and await _in_use(conn, row["id"]):
                raise Forbidden("Only an administrator may rename a tag that is in use")


async def _may_edit_link(ctx: Context, row: Mapping[str, Any]) -> None:
    """Replaying an association's command follows the meta rule on its object."""
    await writable_target(ctx, row["domain_class_name"], row["domain_ident"])


async def _objects_still_exist(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Restored associations must be on existing objects (kept so until the transaction ends):
    one deleted since the association was recorded makes the replay a 400, never an orphan."""
    keys = [(row["domain_class_name"], row["domain_ident"]) for row in rows]
    missing = await hold_targets(conn, keys)
    if missing:
        named = ", ".join(f"{simple_name(class_name)} {ident}" for class_name, ident in missing)
        raise InvalidInput(
            f"Cannot restore TagDomainAssociation: {named} no longer exists (restore it first)"
        )


def _link_message(row: Mapping[str, Any], verb: str) -> str:
    """§8.4 names an association by its tag's name and its object."""
    tag = row.get("tag_name", row["tag_id"])
    return (
        f"TagDomainAssociation between {tag} and {row['domain_ident']} "
        f"{row['domain_class_name']} {verb}"
    )


TAG: Final = register(
    Spec("Tag", Tag, lambda row: f"{row['id']} ({row['name']})", authorize=_may_replay_tag)
)
#: Snapshots carry `tag_name` and `project_id` beside the columns, for messages and histories.
TAG_DOMAIN_ASSOCIATION: Final = register(
    Spec("TagDomainAssociation", TagDomainAssociation, lambda row: str(row["id"]),
         message=_link_message, project_of=lambda row: row.get("project_id"),
         authorize=_may_edit_link, after_replay=_objects_still_exist)
)  # fmt: skip


# --- filters ---------------------------------------------------------------------------------


def _owned_by(ident: Any, class_name: str) -> Any:
    """The associations of the `class_name` object(s) whose id is `ident` (a value or a
    column)."""
    return and_(
        TagDomainAssociation.domain_ident == ident,
        TagDomainAssociation.domain_class_name == class_name,
    )


def tag_filter(ident: Any, class_name: str) -> Related:
    """The `tag` filter field of a listing of `class_name` objects whose id is `ident`: the ids
    of their tags (`tag[in]=4,5`; `null` among them also keeps untagged objects)."""
    return Related(TagDomainAssociation.tag_id, _owned_by(ident, class_name))


def tagged(ident: Any, class_name: str, tag_ids: Sequence[int] | None = None) -> Any:
    """EXISTS an association of the object (with one of `tag_ids` when given)."""
    stmt = select(literal(1)).where(_owned_by(ident, class_name))
    if tag_ids:
        stmt = stmt.where(TagDomainAssociation.tag_id.in_(tag_ids))
    return exists(stmt)


# --- tags ------------------------------------------------------------------------------------


def _name(value: str | None) -> str:
    """A tag's name as stored: trimmed, required (400) and at most `MAX_NAME` long."""
    name = (value or "").strip()
    if not name:
        raise InvalidInput("Property name must be set: a tag needs a name")
    if len(name) > MAX_NAME:
        raise InvalidInput(f"Property name is longer than {MAX_NAME} characters")
    return name


def _duplicate(name: str) -> str:
    """The 409 message of a name taken whatever its case, in Cytomine's words."""
    return f"Tag {name} already exist!"


async def _read_tag(conn: Connection, tag_id: int) -> Row[Any]:
    """A tag as its JSON shows it, read in the writing transaction (the loader's copy is
    stale)."""
    return (await conn.execute(_tags().where(Tag.id == tag_id))).one()


async def get_tag(ctx: Context, tag_id: int) -> Any:
    """One tag; any authenticated caller reads tags."""
    ctx.require_viewer()
    return await ctx.found(tags_by_id, tag_id, "Tag")


async def list_tags(
    ctx: Context, *, filters: Sequence[Filter] = (), limit: int | None = None, offset: int = 0
) -> Page[Any]:
    """Every tag, by name whatever the case (callers with a role, core.md §9.14)."""
    ctx.require_guest()
    stmt = apply_filters(_tags(), filters, TAG_FIELDS).order_by(*TAG_ORDER)
    async with ctx.db.read() as conn:
        return await fetch_page(conn, stmt, limit=ctx.page_limit(limit), offset=offset)


async def create_tag(ctx: Context, name: str | None) -> Changed:
    """Create a tag (the user role); its creator is the caller, its name unique whatever the
    case (409)."""
    viewer = ctx.require_user("create tags")
    tag_name = _name(name)
    async with ctx.db.transaction() as conn:
        with constraint_errors(_duplicate(tag_name)):
            row = await insert_row(conn, Tag, {"name": tag_name, "user_id": viewer.id})
        command = await CommandLog(conn, viewer).add(TAG, row)
        tag = await _read_tag(conn, row.id)
    ctx.loader(tags_by_id).prime(tag.id, tag)
    return Changed(tag, command)


async def update_tag(ctx: Context, tag_id: int, name: str | None) -> Changed:
    """Rename a tag (its creator or an administrator); a tag in use is renamed only by an
    administrator (403), and the name stays unique (409)."""
    viewer = ctx.require_viewer()
    _may_edit(viewer, (await get_tag(ctx, tag_id)).user_id)
    new_name = _name(name)
    async with ctx.db.transaction() as conn:
        current = await lock_row(conn, Tag, "Tag", tag_id)
        if new_name != current.name and not viewer.is_admin and await _in_use(conn, tag_id):
            raise Forbidden("Only an administrator may rename a tag that is in use")
        log = CommandLog(conn, viewer)
        _, _, command = await update_logged(log, TAG, tag_id, {"name": new_name},
                                            conflict=_duplicate(new_name))  # fmt: skip
        tag = await _read_tag(conn, tag_id)
    return Changed(tag, command)


async def _in_use(conn: Connection, tag_id: int) -> bool:
    """Whether the tag is on any object (then only an administrator renames it)."""
    found = select(exists().where(TagDomainAssociation.tag_id == tag_id))
    return bool((await conn.execute(found)).scalar_one())


async def delete_tag(ctx: Context, tag_id: int) -> Changed:
    """Delete a tag (its creator or an administrator) with its associations, recorded first so
    that undo brings them back after the tag (core.md §6.4)."""
    viewer = ctx.require_viewer()
    _may_edit(viewer, (await get_tag(ctx, tag_id)).user_id)
    async with ctx.db.transaction() as conn:
        await lock_row(conn, Tag, "Tag", tag_id)  # no association is added meanwhile
        tag = await _read_tag(conn, tag_id)
        log = CommandLog(conn, viewer)
        of_tag = TagDomainAssociation.tag_id == tag_id
        await _record_links(log, of_tag)
        await conn.execute(delete(TagDomainAssociation).where(of_tag))
        _, command = await delete_logged(log, TAG, tag_id)
    return Changed(tag, command)


# --- associations ----------------------------------------------------------------------------


async def _record_links(log: CommandLog, where: Any) -> None:
    """Record the associations `where` selects as one silent delete command, which undo
    replays after their tag or object is back (recorded before it, undone after it)."""
    rows = (await log.conn.execute(_links().where(where).order_by(TagDomainAssociation.id))).all()
    await log.delete_many(TAG_DOMAIN_ASSOCIATION, rows)


async def record_tags(conn: Connection, log: CommandLog, class_name: str, ids: Any) -> None:
    """Record, as a silent delete command, the associations of objects about to be deleted
    (`ids`: a list or a SELECT of ids of `class_name` objects); the trigger then deletes them
    with their objects, and undo brings them back."""
    await _record_links(log, and_(TagDomainAssociation.domain_class_name == class_name,
                                  among(TagDomainAssociation.domain_ident, ids)))  # fmt: skip


async def get_association(ctx: Context, association_id: int) -> Any:
    """One association, when the caller may read its object."""
    ctx.require_viewer()
    row = await ctx.found(associations_by_id, association_id, "TagDomainAssociation")
    await readable_target(ctx, row.domain_class_name, row.domain_ident)
    return row


async def list_domain_associations(
    ctx: Context,
    class_name: str | None,
    ident: int | None,
    *,
    filters: Sequence[Filter] = (),
    limit: int | None = None,
    offset: int = 0,
) -> Page[Any]:
    """The associations of one object (READ on it; 404 when it does not exist), filtered as
    `list_associations`, oldest first."""
    target = await readable_target(ctx, class_name, ident)
    stmt = apply_filters(_links().where(_owned_by(target.id, target.class_name)), filters,
                         LINK_FIELDS)  # fmt: skip
    async with ctx.db.read() as conn:
        return await fetch_page(conn, stmt.order_by(TagDomainAssociation.id),
                                limit=ctx.page_limit(limit), offset=offset)  # fmt: skip


async def list_associations(
    ctx: Context, *, filters: Sequence[Filter] = (), limit: int | None = None, offset: int = 0
) -> Page[Any]:
    """Every association whose object the caller may read, filtered (`tag`, `domainIdent`,
    `domainClassName` with any operator), by class name descending then id (§9.15); paged in
    SQL after filtering."""
    viewer = ctx.require_viewer()
    readable = readable_condition(reader_of(viewer), TagDomainAssociation.domain_class_name,
                                  TagDomainAssociation.domain_ident)  # fmt: skip
    stmt = apply_filters(_links().where(readable), filters, LINK_FIELDS).order_by(
        TagDomainAssociation.domain_class_name.desc(), TagDomainAssociation.id
    )
    async with ctx.db.read() as conn:
        return await fetch_page(conn, stmt, limit=ctx.page_limit(limit), offset=offset)


async def create_association(
    ctx: Context, tag_id: int | None, class_name: str | None, ident: int | None
) -> Changed:
    """Put a tag on an object (the meta rule of core.md §9.10): the tag must exist (400), the
    object too (404), and a tag goes on an object once (409)."""
    viewer = ctx.require_viewer()
    target = await writable_target(ctx, class_name, ident)
    if tag_id is None:
        raise InvalidInput("Property tag must be set: which tag?")
    async with ctx.db.transaction() as conn:
        tag = (await conn.execute(select(Tag.name).where(Tag.id == tag_id))).first()
        if tag is None:
            raise InvalidInput(f"tag was not found with id: {tag_id}")
        await hold_target(conn, target)
        values = {"tag_id": tag_id, "domain_class_name": target.class_name,
                  "domain_ident": target.id}  # fmt: skip
        taken = f"Tag {tag.name} is already on {simple_name(target.class_name)} {target.id}"
        with constraint_errors(taken, f"tag was not found with id: {tag_id}"):
            row = await insert_row(conn, TagDomainAssociation, values)
        snapshot = {**row._mapping, "tag_name": tag.name, "project_id": target.project_id}
        command = await CommandLog(conn, viewer).add(TAG_DOMAIN_ASSOCIATION, snapshot)
        link = (await conn.execute(_links().where(TagDomainAssociation.id == row.id))).one()
    return Changed(link, command)


async def delete_association(ctx: Context, association_id: int) -> Changed:
    """Take a tag off an object (the meta rule); the tag and the object stay."""
    viewer = ctx.require_viewer()
    current = await ctx.found(associations_by_id, association_id, "TagDomainAssociation")
    target = await writable_target(ctx, current.domain_class_name, current.domain_ident)
    async with ctx.db.transaction() as conn:
        row = await lock_row(conn, TagDomainAssociation, "TagDomainAssociation", association_id)
        snapshot = {**row._mapping, "tag_name": current.tag_name, "project_id": target.project_id}
        command = await CommandLog(conn, viewer).delete(TAG_DOMAIN_ASSOCIATION, snapshot)
        await conn.execute(
            delete(TagDomainAssociation).where(TagDomainAssociation.id == association_id)
        )
    return Changed(current, command)
