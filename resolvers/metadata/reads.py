"""What the schema calls to read properties, descriptions and attached files: each once the
caller may read the object they hang from (READ on its project, core.md §9.10)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import BigInteger, and_, func, lateral, literal, select, true, union
from sqlalchemy.orm import aliased

from db.models import (
    AttachedFile,
    Description,
    ImageInstance,
    Property,
    ReviewedAnnotation,
    UserAnnotation,
)
from resolvers.context import Context
from resolvers.errors import Forbidden, InvalidInput, NotFound
from resolvers.listing import Page, fetch_page
from resolvers.metadata.rows import (
    ATTACHED_FILE_TABLE,
    DESCRIPTION_TABLE,
    PROPERTY_TABLE,
    attached_files_by_id,
    descriptions_by_domain,
    properties_by_id,
)
from resolvers.metadata_target import (
    IMAGE_INSTANCE_CLASS,
    REVIEWED_ANNOTATION_CLASS,
    USER_ANNOTATION_CLASS,
    Target,
    readable_target,
    simple_name,
)
from resolvers.project_access import project_access

__all__ = [
    "AnnotationPropertyPosition",
    "FileDownload",
    "PropertyKey",
    "annotation_property_keys",
    "annotation_property_positions",
    "attached_file_download",
    "get_attached_file",
    "get_description",
    "get_property",
    "get_property_by_key",
    "image_property_keys",
    "list_attached_files",
    "list_descriptions",
    "list_properties",
]


def _belongs(row: Any, target: Target) -> bool:
    return bool(row.domain_class_name == target.class_name and row.domain_ident == target.id)


# --- properties ------------------------------------------------------------------------------


async def get_property(
    ctx: Context, property_id: int, class_name: str | None = None, ident: int | None = None
) -> Any:
    """One property, when the caller may read its object; with an object named (a domain
    path), 404 unless the property is that object's (core.md §12)."""
    ctx.require_viewer()
    row = await ctx.found(properties_by_id, property_id, "Property")
    if class_name is not None or ident is not None:
        target = await readable_target(ctx, class_name, ident)
        if not _belongs(row, target):
            raise NotFound("Property", property_id)
    else:
        await readable_target(ctx, row.domain_class_name, row.domain_ident)
    return row


async def get_property_by_key(
    ctx: Context, class_name: str | None, ident: int | None, key: str
) -> Any:
    """The object's property with that key (the oldest when several share it); 404 if none."""
    target = await readable_target(ctx, class_name, ident)
    stmt = (
        select(*PROPERTY_TABLE.c)
        .where(_of(Property, target), Property.key == key)
        .order_by(Property.id)
        .limit(1)
    )
    async with ctx.db.read() as conn:
        row = (await conn.execute(stmt)).first()
    if row is None:
        raise NotFound("Property", key, "key")
    return row


def _of(model: Any, target: Target) -> Any:
    return and_(model.domain_class_name == target.class_name, model.domain_ident == target.id)


async def list_properties(
    ctx: Context,
    class_name: str | None,
    ident: int | None,
    *,
    limit: int | None = None,
    offset: int = 0,
) -> Page[Any]:
    """The object's properties, oldest first (404 for an unknown object, READ on it)."""
    target = await readable_target(ctx, class_name, ident)
    stmt = select(*PROPERTY_TABLE.c).where(_of(Property, target)).order_by(Property.id)
    async with ctx.db.read() as conn:
        return await fetch_page(conn, stmt, limit=ctx.page_limit(limit), offset=offset)


@dataclass(frozen=True, slots=True)
class PropertyKey:
    """A property key used on annotations, with the annotation's author when asked for."""

    key: str
    user_id: int | None


async def _project_or_image(ctx: Context, project: int | None, image: int | None) -> Any:
    """The condition on annotation rows for `idProject` or `idImage` (READ on the project)."""
    if project is not None:
        (await project_access(ctx, project)).require_read()
        return lambda model: model.project_id == project
    if image is not None:
        target = await readable_target(ctx, IMAGE_INSTANCE_CLASS, image)
        return lambda model: model.image_id == target.id
    raise InvalidInput("You must specify at least 'idProject' or 'idImage'")


async def annotation_property_keys(
    ctx: Context, project: int | None, image: int | None, *, with_user: bool = False
) -> list[PropertyKey]:
    """The distinct property keys of the annotations (both layers) of a project or an image,
    with each annotation author when `with_user` (core.md §9.11), by key."""
    where = await _project_or_image(ctx, project, image)
    parts = []
    for model, class_name in ((UserAnnotation, USER_ANNOTATION_CLASS),
                              (ReviewedAnnotation, REVIEWED_ANNOTATION_CLASS)):  # fmt: skip
        owner = and_(model.id == Property.domain_ident, Property.domain_class_name == class_name)
        if with_user:
            parts.append(
                select(Property.key, model.user_id.label("user_id"))
                .join(model, owner)
                .where(where(model))
            )
        else:
            parts.append(_keys_used(class_name, model, owner, where))
    found = union(*parts).subquery()
    stmt = select(found.c.key, found.c.user_id).order_by(found.c.key, found.c.user_id)
    async with ctx.db.read() as conn:
        return [PropertyKey(key, user_id) for key, user_id in await conn.execute(stmt)]


def _keys_used(class_name: str, model: Any, owner: Any, where: Any) -> Any:
    """The keys of a class's properties that one of the listed annotations carries: the
    distinct keys of the class skipped through from the index on (class, key), each kept if
    the first property of that key on such an annotation is found. A project's million
    annotations with 400 000 properties: the join of all of them took 1.2 s; a handful of
    keys, each found at once, take milliseconds."""
    later = aliased(Property)
    keys = (
        select(func.min(Property.key).label("key"))
        .where(Property.domain_class_name == class_name)
        .cte(f"keys_{model.__tablename__}", recursive=True)
    )
    following = (
        select(func.min(later.key))
        .where(later.domain_class_name == class_name, later.key > keys.c.key)
        .scalar_subquery()
    )
    keys = keys.union_all(select(following).where(keys.c.key.is_not(None)))
    carried = lateral(
        select(literal(1).label("found"))
        .select_from(Property)
        .join(model, owner)
        .where(Property.key == keys.c.key, where(model))
        .limit(1)
    )
    return (
        select(keys.c.key, literal(None, BigInteger).label("user_id"))
        .join_from(keys, carried, true())
        .where(keys.c.key.is_not(None))
    )


async def image_property_keys(ctx: Context, project: int) -> list[str]:
    """The distinct property keys of a project's image instances, by key."""
    (await project_access(ctx, project)).require_read()
    stmt = (
        select(Property.key)
        .join(ImageInstance, and_(ImageInstance.id == Property.domain_ident,
                                  Property.domain_class_name == IMAGE_INSTANCE_CLASS))
        .where(ImageInstance.project_id == project)
        .distinct()
        .order_by(Property.key)
    )  # fmt: skip
    async with ctx.db.read() as conn:
        return list((await conn.execute(stmt)).scalars())


@dataclass(frozen=True, slots=True)
class AnnotationPropertyPosition:
    """The centre of an annotation carrying a property, with the property's value."""

    annotation_id: int
    x: float
    y: float
    value: str


def _box(text: str) -> Any:
    """ "minX,minY,maxX,maxY" as a PostGIS envelope (400 otherwise)."""
    try:
        values = [float(part) for part in text.split(",")]
    except ValueError:
        values = []
    if len(values) != 4 or not all(map(math.isfinite, values)):
        raise InvalidInput(f"bbox {text!r} is not four finite numbers")
    x1, y1, x2, y2 = values
    return func.ST_MakeEnvelope(min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2), 0)


async def annotation_property_positions(
    ctx: Context, user_id: int, image_id: int, key: str, bbox: str | None = None
) -> list[AnnotationPropertyPosition]:
    """The centres of a user's annotations on an image that carry the property `key` (within
    `bbox` when given), with its value (core.md §9.11); READ on the image's project."""
    target = await readable_target(ctx, IMAGE_INSTANCE_CLASS, image_id)
    stmt = (
        select(UserAnnotation.id, UserAnnotation.centroid_x, UserAnnotation.centroid_y,
               Property.value)
        .join(Property, and_(Property.domain_ident == UserAnnotation.id,
                             Property.domain_class_name == USER_ANNOTATION_CLASS))
        .where(UserAnnotation.image_id == target.id, UserAnnotation.user_id == user_id,
               Property.key == key)
        .order_by(UserAnnotation.id, Property.id)
    )  # fmt: skip
    if bbox:
        stmt = stmt.where(func.ST_Intersects(UserAnnotation.location, _box(bbox)))
    async with ctx.db.read() as conn:
        rows = (await conn.execute(stmt)).all()
    return [AnnotationPropertyPosition(*row) for row in rows]


# --- descriptions ----------------------------------------------------------------------------


async def get_description(ctx: Context, class_name: str | None, ident: int | None) -> Any:
    """The object's description; 404 when it has none."""
    target = await readable_target(ctx, class_name, ident)
    row = await ctx.loader(descriptions_by_domain).load((target.class_name, target.id))
    if row is None:
        raise NotFound("Description", f"{simple_name(target.class_name)} {target.id}", "domain")
    return row


async def list_descriptions(ctx: Context, *, limit: int | None = None, offset: int = 0) -> Any:
    """Every description, oldest first (administrators)."""
    ctx.require_admin()
    stmt = select(*DESCRIPTION_TABLE.c).order_by(Description.id)
    async with ctx.db.read() as conn:
        return await fetch_page(conn, stmt, limit=ctx.page_limit(limit), offset=offset)


# --- attached files --------------------------------------------------------------------------


async def get_attached_file(ctx: Context, file_id: int) -> Any:
    """One attached file, when the caller may read its object."""
    ctx.require_viewer()
    row = await ctx.found(attached_files_by_id, file_id, "AttachedFile")
    await readable_target(ctx, row.domain_class_name, row.domain_ident)
    return row


async def list_attached_files(
    ctx: Context,
    class_name: str | None = None,
    ident: int | None = None,
    *,
    limit: int | None = None,
    offset: int = 0,
) -> Page[Any]:
    """The object's attached files (READ on it), or every one (administrators); oldest
    first."""
    stmt = select(*ATTACHED_FILE_TABLE.c).order_by(AttachedFile.id)
    if class_name is None and ident is None:
        ctx.require_admin()
    else:
        target = await readable_target(ctx, class_name, ident)
        stmt = stmt.where(_of(AttachedFile, target))
    async with ctx.db.read() as conn:
        return await fetch_page(conn, stmt, limit=ctx.page_limit(limit), offset=offset)


@dataclass(frozen=True, slots=True)
class FileDownload:
    """What a download sends: the file on disk, its name and type."""

    path: Path
    filename: str
    content_type: str
    size: int
    sha256: str


async def attached_file_download(ctx: Context, file_id: int) -> FileDownload:
    """Where an attached file's bytes are, for the REST download route only: the path is the
    server's business (GraphQL clients download through `AttachedFile.url`)."""
    if not ctx.trusted:
        raise Forbidden("Download attached files through their url")
    row = await get_attached_file(ctx, file_id)
    path = ctx.settings.data_root / row.path
    return FileDownload(path, row.filename, row.content_type, row.size, row.sha256)
