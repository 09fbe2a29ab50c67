"""What metadata attaches to (contract core.md §9.10): a `(domainClassName, domainIdent)` pair
resolved to its object, and who may read or write metadata on it.

Tags, properties, descriptions and attached files all name their object this way, so the
lookup and the rules live here, below those areas and below the image, annotation and track
modules (which record metadata when they delete objects). Class names are Java's (core.md
§6.2); a legacy Grails name (`be.cytomine.project.Project`) is read as the current one, `_` may
stand for `.` (`be_cytomine_domain_project_Project`, as path segments write it), a short form
(the simple name in any case, `Project`, `imageinstance`) as its class, and the alias
`AnnotationDomain` (or the python client's `annotation`) names an annotation of either kind by
its id.

Rules: reading needs READ on the object's project (an abstract image: READ on its file's
storage or on a project using it). Writing on a project needs WRITE on it (its managers; a
guest never, whatever ADMINISTRATION they kept); on an image instance the user role and the
owner-or-mode check with the image's adder as owner; on an abstract image the user role and the
right to read it (the contract asks the role alone, and READ for attached files: an image one
may not see takes nothing from anyone); on an annotation a role and the owner-or-mode check
with its creator as owner; on a slice instance or a track, which have no creator, a role and
the owner-or-mode check with their image's adder as owner (core.md §7.4).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    String,
    and_,
    exists,
    literal,
    or_,
    select,
    union_all,
)

from db.engine import Connection, Lease
from db.id_lists import among
from db.models import (
    AbstractImage,
    ImageInstance,
    Project,
    ReviewedAnnotation,
    SliceInstance,
    Track,
    UploadedFile,
    UserAnnotation,
)
from resolvers.acl import entries_of
from resolvers.context import Context
from resolvers.errors import Forbidden, InvalidInput, NotFound
from resolvers.project_access import project_access, reader_of

__all__ = [
    "ABSTRACT_IMAGE_CLASS",
    "ANNOTATION_ALIAS",
    "IMAGE_INSTANCE_CLASS",
    "PROJECT_CLASS",
    "REVIEWED_ANNOTATION_CLASS",
    "SLICE_INSTANCE_CLASS",
    "TARGET_CLASSES",
    "TRACK_CLASS",
    "USER_ANNOTATION_CLASS",
    "Target",
    "class_name_of",
    "hold_target",
    "hold_targets",
    "project_column",
    "readable_condition",
    "readable_target",
    "simple_name",
    "targets_by_key",
    "writable_target",
]

PREFIX: Final = "be.cytomine."
DOMAIN_PREFIX: Final = PREFIX + "domain."
PROJECT_CLASS: Final = DOMAIN_PREFIX + "project.Project"
IMAGE_INSTANCE_CLASS: Final = DOMAIN_PREFIX + "image.ImageInstance"
ABSTRACT_IMAGE_CLASS: Final = DOMAIN_PREFIX + "image.AbstractImage"
SLICE_INSTANCE_CLASS: Final = DOMAIN_PREFIX + "image.SliceInstance"
TRACK_CLASS: Final = DOMAIN_PREFIX + "ontology.Track"
USER_ANNOTATION_CLASS: Final = DOMAIN_PREFIX + "ontology.UserAnnotation"
REVIEWED_ANNOTATION_CLASS: Final = DOMAIN_PREFIX + "ontology.ReviewedAnnotation"
ANNOTATION_ALIAS: Final = DOMAIN_PREFIX + "ontology.AnnotationDomain"
ANNOTATION_CLASSES: Final = (USER_ANNOTATION_CLASS, REVIEWED_ANNOTATION_CLASS)
#: Where the write rule asks for the user role rather than any role (§9.10).
USER_ROLE_CLASSES: Final = (IMAGE_INSTANCE_CLASS, ABSTRACT_IMAGE_CLASS)


@dataclass(frozen=True, slots=True)
class Source:
    """Where the objects of one class live: their table, the column naming their project (None:
    outside projects) and the one naming their owner for the owner-or-mode check."""

    model: Any
    project: Any
    owner: Any


def _adder_of(image_id: Any) -> Any:
    """Who added the image instance `image_id` names (a correlated subquery): the owner of its
    slices and tracks, which record no creator."""
    return select(ImageInstance.user_id).where(ImageInstance.id == image_id).scalar_subquery()


#: Every class metadata may attach to, with where its objects live.
SOURCES: Final[Mapping[str, Source]] = {
    PROJECT_CLASS: Source(Project, Project.id, Project.creator_id),
    IMAGE_INSTANCE_CLASS: Source(ImageInstance, ImageInstance.project_id, ImageInstance.user_id),
    ABSTRACT_IMAGE_CLASS: Source(AbstractImage, None, AbstractImage.user_id),
    USER_ANNOTATION_CLASS: Source(UserAnnotation, UserAnnotation.project_id,
                                  UserAnnotation.user_id),
    REVIEWED_ANNOTATION_CLASS: Source(ReviewedAnnotation, ReviewedAnnotation.project_id,
                                      ReviewedAnnotation.user_id),
    SLICE_INSTANCE_CLASS: Source(SliceInstance, SliceInstance.project_id,
                                 _adder_of(SliceInstance.image_id)),
    TRACK_CLASS: Source(Track, Track.project_id, _adder_of(Track.image_id)),
}  # fmt: skip
TARGET_CLASSES: Final = frozenset(SOURCES)
#: Short forms of the class names, lower-cased: simple names, and the client's `annotation`.
SHORT_FORMS: Final[Mapping[str, str]] = {
    **{name.rsplit(".", 1)[-1].lower(): name for name in (*SOURCES, ANNOTATION_ALIAS)},
    "annotation": ANNOTATION_ALIAS,
}


@dataclass(frozen=True, slots=True)
class Target:
    """An object metadata attaches to: its concrete class, id, project and owner."""

    class_name: str
    id: int
    project_id: int | None
    owner_id: int | None


def simple_name(class_name: str) -> str:
    """`be.cytomine.domain.project.Project` → `Project`, for messages."""
    return class_name.rsplit(".", 1)[-1]


def class_name_of(text: str | None) -> str:
    """The current class name of a supported class, or the annotation alias; `_` is read as
    `.` (no class name holds one), a legacy name (without `.domain`) as the current one, and
    a short form as its class: the simple name in any case (`Project`, `imageinstance`) or
    `annotation`, which the python client sends for an annotation of either kind. Anything
    else is a 400 (§9.10)."""
    name = (text or "").strip().replace("_", ".")
    if not name:
        raise InvalidInput("Property domainClassName must be set")
    if name.startswith(PREFIX) and not name.startswith(DOMAIN_PREFIX):
        name = DOMAIN_PREFIX + name.removeprefix(PREFIX)
    if name in TARGET_CLASSES or name == ANNOTATION_ALIAS:
        return name
    found = SHORT_FORMS.get(name.lower())
    if found is None:
        raise InvalidInput(f"Metadata cannot be attached to objects of class {text}")
    return found


def project_column(class_name: str, ident: Any) -> Any:
    """The project of the `class_name` object whose id is `ident` (a column), as a correlated
    subquery; NULL for objects outside projects."""
    source = SOURCES[class_name]
    if source.project is None:
        return literal(None, BigInteger)
    return select(source.project).where(source.model.id == ident).scalar_subquery()


def _lookup(class_name: str, ids: set[int]) -> Any:
    source = SOURCES[class_name]
    project = literal(None, BigInteger) if source.project is None else source.project
    return select(
        literal(class_name, String).label("class_name"),
        source.model.id.label("id"),
        project.label("project_id"),
        source.owner.label("owner_id"),
    ).where(among(source.model.id, ids))


async def targets_by_key(db: Lease, keys: list[tuple[str, int]]) -> list[Target | None]:
    """The objects named by (class name, id), None for a missing one, in one SELECT per batch;
    the annotation alias finds an annotation of either kind."""
    wanted: defaultdict[str, set[int]] = defaultdict(set)
    for class_name, ident in keys:
        for concrete in ANNOTATION_CLASSES if class_name == ANNOTATION_ALIAS else (class_name,):
            wanted[concrete].add(ident)
    parts: list[Any] = [_lookup(class_name, ids) for class_name, ids in wanted.items()]
    stmt: Any = parts[0] if len(parts) == 1 else union_all(*parts)
    async with db.read() as conn:
        found = {(row.class_name, row.id): Target(*row) for row in await conn.execute(stmt)}

    def target(class_name: str, ident: int) -> Target | None:
        if class_name != ANNOTATION_ALIAS:
            return found.get((class_name, ident))
        return found.get((USER_ANNOTATION_CLASS, ident)) or found.get(
            (REVIEWED_ANNOTATION_CLASS, ident)
        )

    return [target(*key) for key in keys]


async def _target(ctx: Context, class_name: str | None, ident: int | None) -> Target:
    """The object named, 400 for an unsupported class or no id, 404 when it does not exist."""
    ctx.require_viewer()
    name = class_name_of(class_name)
    if ident is None:
        raise InvalidInput("Property domainIdent must be set")
    found = await ctx.loader(targets_by_key).load((name, ident))
    if found is None:
        raise NotFound(simple_name(name), ident)
    return found


def _image_readable(reader: int) -> ColumnElement[bool]:
    """The `abstract_image` row of the enclosing statement is `reader`'s to read: READ on its
    file's storage, or on a project that uses it (§9.10)."""
    in_storage = select(literal(1)).where(
        UploadedFile.id == AbstractImage.uploaded_file_id,
        UploadedFile.storage_id.in_(entries_of(reader)),
    )
    in_project = select(literal(1)).where(
        ImageInstance.base_image_id == AbstractImage.id,
        ImageInstance.project_id.in_(entries_of(reader)),
    )
    return or_(exists(in_storage), exists(in_project))


async def _require_readable(ctx: Context, target: Target) -> None:
    viewer = ctx.require_viewer()
    if target.class_name == ABSTRACT_IMAGE_CLASS:
        reader = reader_of(viewer)
        if reader is None:
            return
        async with ctx.db.read() as conn:
            stmt = select(_image_readable(reader)).where(AbstractImage.id == target.id)
            readable = (await conn.execute(stmt)).scalar()
        if not readable:
            raise Forbidden("You may not read this image: no storage or project of yours has it")
    elif target.project_id is not None:
        (await project_access(ctx, target.project_id)).require_read()


async def readable_target(ctx: Context, class_name: str | None, ident: int | None) -> Target:
    """The object, when the caller may read its metadata: READ on its project (an abstract
    image: on its storage or a project using it)."""
    target = await _target(ctx, class_name, ident)
    await _require_readable(ctx, target)
    return target


async def writable_target(ctx: Context, class_name: str | None, ident: int | None) -> Target:
    """The object, when the caller may change its metadata (the "meta rule" of §9.10)."""
    target = await _target(ctx, class_name, ident)
    if target.class_name in USER_ROLE_CLASSES:
        ctx.require_user(f"change the metadata of a {simple_name(target.class_name)}")
    else:
        ctx.require_guest()
    if target.class_name == ABSTRACT_IMAGE_CLASS:
        await _require_readable(ctx, target)
    if target.project_id is None:
        return target
    access = await project_access(ctx, target.project_id)
    if target.class_name == PROJECT_CLASS:
        access.require_change()  # a manager who is no guest (core.md §7.5)
    else:
        access.require_owner_or_mode(target.owner_id)
    return target


async def hold_targets(conn: Connection, keys: Iterable[tuple[str, int]]) -> list[tuple[str, int]]:
    """Lock the objects named by (class name, id) against deletion until the transaction ends
    (KEY SHARE: edits pass), so metadata is never attached to an object deleted meanwhile;
    returns the keys whose object does not exist (an unsupported class: none does)."""
    wanted: defaultdict[str, set[int]] = defaultdict(set)
    for class_name, ident in keys:
        wanted[class_name].add(ident)
    missing: list[tuple[str, int]] = []
    for class_name, ids in wanted.items():
        source = SOURCES.get(class_name)
        found: set[int] = set()
        if source is not None:
            stmt = select(source.model.id).where(among(source.model.id, ids))
            found = set((await conn.execute(stmt.with_for_update(key_share=True))).scalars())
        missing += [(class_name, ident) for ident in sorted(ids - found)]
    return missing


async def hold_target(conn: Connection, target: Target) -> None:
    """`hold_targets` for one object; 404 when it is already gone."""
    if await hold_targets(conn, [(target.class_name, target.id)]):
        raise NotFound(simple_name(target.class_name), target.id)


def readable_condition(reader: int | None, class_name: Any, ident: Any) -> ColumnElement[bool]:
    """SQL condition on (class name, id) columns: the object exists and `reader` may read its
    metadata (None: an administrator, who reads every existing one)."""
    parts: list[ColumnElement[bool]] = []
    for name, source in SOURCES.items():
        found = select(literal(1)).where(source.model.id == ident)
        if reader is not None and source.project is not None:
            found = found.where(source.project.in_(entries_of(reader)))
        elif reader is not None and name == ABSTRACT_IMAGE_CLASS:
            found = found.where(_image_readable(reader))
        parts.append(and_(class_name == name, exists(found)))
    return or_(*parts)
