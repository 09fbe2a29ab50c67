"""Uploaded files: the tree of files in a storage, their updates by the image server, their
deletion with everything made from them, and the four ways of listing them (contract
images-annotations.md §2.1–§2.2, §9.7).

A file's `l_tree` is the dot-separated id path from its root ("12.40.41"): a subtree is the
files whose path starts with the root's path and a dot. READ on the storage reads a file, WRITE
changes it.
"""

from __future__ import annotations

import posixpath
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import (
    BigInteger,
    String,
    case,
    delete,
    func,
    literal,
    null,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from db.engine import Connection, Lease
from db.models import AbstractImage, AbstractSlice, CompanionFile, SecUser, Storage, UploadedFile
from db.models.base import ID_SEQUENCE
from resolvers.abstract_image import (
    ABSTRACT_IMAGE,
    ABSTRACT_SLICE,
    abstract_images_by_uploaded_file,
    macro_url,
    refuse_used,
    slices_by_uploaded_file,
)
from resolvers.acl import READ, WRITE, require
from resolvers.command import CommandLog, update_logged
from resolvers.companion_file import COMPANION_FILE
from resolvers.context import Context
from resolvers.crud import Changed, constraint_errors, insert_row, lock_row, table_of
from resolvers.errors import Forbidden, InvalidInput
from resolvers.listing import (
    Filter,
    Page,
    apply_filters,
    apply_sort,
    fetch_page,
    pages_by_parent,
)
from resolvers.metadata import record_metadata
from resolvers.metadata_target import ABSTRACT_IMAGE_CLASS
from resolvers.pixels import (
    ImageServerRequest,
    PixelArgs,
    PixelTarget,
    image_server_request,
    pixel_url,
)
from resolvers.storage import (
    ARCHIVE_TYPES,
    UPLOADED_FILE,
    readable_storages,
    uploaded_files_by_id,
)

__all__ = [
    "UploadedFileFields",
    "children_by_uploaded_file",
    "children_of",
    "create_uploaded_file",
    "delete_uploaded_file",
    "file_macro_url",
    "file_thumb_url",
    "files_of_storage",
    "get_uploaded_file",
    "image_thumb_url",
    "list_uploaded_file_roots",
    "list_uploaded_files",
    "update_uploaded_file",
    "uploaded_file_request",
    "uploaded_files_by_storage",
]

FILE_TABLE: Final = table_of(UploadedFile)
#: Statuses of a file whose images are ready (DEPLOYED, CONVERTED): the roots listing shows
#: their image only then.
READY: Final = (100, 104)


# --- pages of several parents in one statement -----------------------------------------------

PageKey = tuple[int, int | None, int, bool]


async def _paged(
    db: Lease, keys: list[PageKey], parent: Any, order: Sequence[Any]
) -> list[Page[Any]]:
    """Batch pages keyed (parent id, limit, offset, roots only): one SELECT per paging."""
    by_paging: defaultdict[tuple[int | None, int, bool], list[int]] = defaultdict(list)
    for parent_id, limit, offset, roots in keys:
        by_paging[(limit, offset, roots)].append(parent_id)
    found: dict[PageKey, Page[Any]] = {}
    async with db.read() as conn:
        for (limit, offset, roots), parent_ids in by_paging.items():
            stmt = select(*FILE_TABLE.c)
            if roots:
                stmt = stmt.where(UploadedFile.parent_id.is_(None))
            pages = await pages_by_parent(conn, stmt, parent, order, parent_ids,
                                          limit=limit, offset=offset)  # fmt: skip
            for parent_id, page in pages.items():
                found[(parent_id, limit, offset, roots)] = page
    return [found[key] for key in keys]


async def uploaded_files_by_storage(db: Lease, keys: list[PageKey]) -> list[Page[Any]]:
    """A page of each storage's files, newest first (key: storage, limit, offset, roots)."""
    order = (UploadedFile.created.desc(), UploadedFile.id.desc())
    return await _paged(db, keys, UploadedFile.storage_id, order)


async def children_by_uploaded_file(db: Lease, keys: list[PageKey]) -> list[Page[Any]]:
    """A page of each file's children, oldest first (key: file, limit, offset, unused)."""
    order = (UploadedFile.created, UploadedFile.id)
    return await _paged(db, keys, UploadedFile.parent_id, order)


async def _primed(ctx: Context, page: Page[Any]) -> Page[Any]:
    """The page, its rows also handed to `uploaded_files_by_id` for the fields that follow."""
    ctx.loader(uploaded_files_by_id).prime_many({row.id: row for row in page.rows})
    return page


async def files_of_storage(
    ctx: Context, storage_id: int, *, limit: int | None, offset: int = 0, only_roots: bool = False
) -> Page[Any]:
    """A page of a storage's files (batched across storages), READ on it: the graph reaches
    a storage from any image a project shows, and its files are not the project's."""
    await require(ctx, storage_id, READ)
    key = (storage_id, ctx.page_limit(limit), offset, only_roots)
    return await _primed(ctx, await ctx.loader(uploaded_files_by_storage).load(key))


async def children_of(ctx: Context, file: Any, *, limit: int | None, offset: int = 0) -> Page[Any]:
    """A page of a file's children (batched across files), READ on its storage: the graph
    reaches an image's file from a project, and the rest of its tree is not the project's."""
    await require(ctx, file.storage_id, READ)
    key = (file.id, ctx.page_limit(limit), offset, False)
    return await _primed(ctx, await ctx.loader(children_by_uploaded_file).load(key))


# --- reads -----------------------------------------------------------------------------------


async def _file(ctx: Context, file_id: int, permission: int) -> Any:
    ctx.require_viewer()
    row = await ctx.found(uploaded_files_by_id, file_id, "UploadedFile")
    await require(ctx, row.storage_id, permission)
    return row


async def get_uploaded_file(ctx: Context, file_id: int) -> Any:
    """One uploaded file; READ on its storage."""
    return await _file(ctx, file_id, READ)


async def uploaded_file_request(ctx: Context, row: Any, args: PixelArgs) -> ImageServerRequest:
    """The image-server request behind the download of a readable uploaded file."""
    target = PixelTarget(row.filename, filename=row.original_filename)
    return await image_server_request(ctx, "UploadedFile", row.id, target, args)


def _in_readable_storages(ctx: Context, stmt: Any, table: Any = UploadedFile) -> Any:
    storages = readable_storages(ctx.require_viewer())
    return stmt if storages is None else stmt.where(table.storage_id.in_(storages))


FILE_FIELDS: Final[Mapping[str, Any]] = {
    "id": UploadedFile.id,
    "created": UploadedFile.created,
    "updated": UploadedFile.updated,
    "originalFilename": UploadedFile.original_filename,
    "filename": UploadedFile.filename,
    "ext": UploadedFile.ext,
    "contentType": UploadedFile.content_type,
    "size": UploadedFile.size,
    "status": UploadedFile.status,
    "parent": UploadedFile.parent_id,
    "storage": UploadedFile.storage_id,
    "user": UploadedFile.user_id,
}


async def list_uploaded_files(
    ctx: Context,
    *,
    root_id: int | None = None,
    every: bool = False,
    parent_id: int | None = None,
    only_roots: bool = False,
    sort: str | None = None,
    order: str | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> Page[Any]:
    """Uploaded files in one of three ways (§2.1, first match wins):

    - `root_id`: that file's whole subtree (itself first), by tree path, in storages the
      caller reads;
    - `every` (administrators only): every file;
    - otherwise the caller's own uploads in storages they read.

    The last two take `parent_id` (its children) and `only_roots`, newest first by default.
    """
    viewer = ctx.require_viewer()
    stmt = select(*FILE_TABLE.c)
    if root_id is not None:
        root = await _file(ctx, root_id, READ)
        stmt = _in_readable_storages(ctx, stmt).where(
            or_(UploadedFile.id == root_id, UploadedFile.l_tree.startswith(root.l_tree + "."))
        )
        stmt = stmt.order_by(UploadedFile.l_tree, UploadedFile.id)
    else:
        if every and not viewer.is_admin:
            raise Forbidden("Only an administrator may list every uploaded file")
        if not every:
            stmt = _in_readable_storages(ctx, stmt).where(UploadedFile.user_id == viewer.id)
        if parent_id is not None:
            stmt = stmt.where(UploadedFile.parent_id == parent_id)
        if only_roots:
            stmt = stmt.where(UploadedFile.parent_id.is_(None))
        stmt = apply_sort(stmt, sort, order, FILE_FIELDS, default="created",
                          default_order="desc", tie=UploadedFile.id.desc())  # fmt: skip
    async with ctx.db.read() as conn:
        return await fetch_page(conn, stmt, limit=ctx.page_limit(limit), offset=offset)


def _archive(column: Any) -> ColumnElement[bool]:
    return func.upper(column).in_(sorted(ARCHIVE_TYPES))


#: Sort keys of the roots listing; any other key sorts by `created` (§2.1).
ROOT_SORTS: Final = frozenset(
    ("contentType", "id", "created", "filename", "originalFilename", "size", "status")
)
#: Filters the roots listing always reads as `in`.
IN_ONLY: Final = frozenset(("storage", "user"))


def _descendants(ctx: Context) -> Any:
    """Per file of the readable storages: how many descendants it has and their total size.
    Each file counts once for every ancestor named in its tree path, so this is one pass over
    the files rather than one subtree scan per row."""
    below = aliased(UploadedFile)
    exploded = _in_readable_storages(
        ctx,
        select(
            func.unnest(func.string_to_array(below.l_tree, ".")).label("ancestor"),
            below.id.cast(String).label("own"),
            below.size,
        ),
        below,
    ).subquery()
    return (
        select(
            exploded.c.ancestor.cast(BigInteger).label("id"),
            func.count().label("n"),
            func.sum(exploded.c.size).cast(BigInteger).label("size"),
        )
        .where(exploded.c.ancestor != exploded.c.own)
        .group_by(exploded.c.ancestor)
        .subquery()
    )


def _roots_query(ctx: Context, tree_details: bool) -> Any:
    """The rows of the storage page: one per root file or archive member, with its first
    image's size and magnification and, with `tree_details`, its descendants' count and size."""
    parent = aliased(UploadedFile)
    image = (
        select(AbstractImage.id, AbstractImage.width, AbstractImage.height,
               AbstractImage.magnification)
        .where(AbstractImage.uploaded_file_id == UploadedFile.id)
        .order_by(AbstractImage.id)
        .limit(1)
        .lateral()
    )  # fmt: skip
    columns: list[Any] = [
        UploadedFile.id, UploadedFile.content_type, UploadedFile.created, UploadedFile.filename,
        UploadedFile.original_filename, UploadedFile.size, UploadedFile.status,
        UploadedFile.storage_id, UploadedFile.user_id, image.c.width, image.c.height,
        image.c.magnification,
        func.split_part(UploadedFile.l_tree, ".", 1).cast(BigInteger).label("root_id"),
        case((UploadedFile.status.in_(READY), image.c.id), else_=null()).label("image_id"),
        _archive(UploadedFile.content_type).label("is_archive"),
    ]  # fmt: skip
    tree = _descendants(ctx) if tree_details else None
    if tree is not None:
        total = UploadedFile.size + func.coalesce(tree.c.size, 0)
        columns += [func.coalesce(tree.c.n, 0).label("nb_children"), total.label("global_size")]
    else:
        columns += [literal(None, BigInteger).label("nb_children"),
                    literal(None, BigInteger).label("global_size")]  # fmt: skip
    stmt = (
        select(*columns)
        .select_from(UploadedFile)
        .outerjoin(parent, parent.id == UploadedFile.parent_id)
        .outerjoin(image, true())
        .where(
            ~_archive(UploadedFile.content_type),
            or_(UploadedFile.parent_id.is_(None), _archive(parent.content_type)),
        )
    )
    if tree is not None:
        stmt = stmt.outerjoin(tree, tree.c.id == UploadedFile.id)
    return _in_readable_storages(ctx, stmt).subquery()


async def list_uploaded_file_roots(
    ctx: Context,
    *,
    tree_details: bool = True,
    filters: Sequence[Filter] = (),
    sort: str | None = None,
    order: str | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> Page[Any]:
    """The storage page's rows (§2.1 `onlyRootsWithDetails`): root files that are not archives
    and the members of archives, in storages the caller reads, newest first. Filters apply to
    every column (`storage` and `user` as `in`); sorting by an unknown key sorts by `created`.
    """
    rows = _roots_query(ctx, tree_details)
    fields: dict[str, Any] = {
        "id": rows.c.id, "contentType": rows.c.content_type, "created": rows.c.created,
        "filename": rows.c.filename, "originalFilename": rows.c.original_filename,
        "size": rows.c.size, "status": rows.c.status, "storage": rows.c.storage_id,
        "user": rows.c.user_id, "width": rows.c.width, "height": rows.c.height,
        "magnification": rows.c.magnification, "root": rows.c.root_id, "image": rows.c.image_id,
    }  # fmt: skip
    sorts = set(ROOT_SORTS)
    if tree_details:
        fields.update(nbChildren=rows.c.nb_children, globalSize=rows.c.global_size)
        sorts.add("globalSize")
    wanted = [Filter(f.field, "in" if f.field in IN_ONLY else f.op, f.value) for f in filters]
    stmt = apply_filters(select(rows), wanted, fields)
    key = sort if sort in sorts else "created"
    stmt = apply_sort(stmt, key, order, {key: fields[key]}, default="created",
                      default_order="desc", tie=rows.c.id.desc())  # fmt: skip
    async with ctx.db.read() as conn:
        return await fetch_page(conn, stmt, limit=ctx.page_limit(limit), offset=offset)


def image_thumb_url(ctx: Context, image_id: int | None) -> str | None:
    """The thumbnail URL the tree listings give for an image (no size: the default)."""
    return None if image_id is None else pixel_url(ctx, "abstractimage", image_id, "thumb.png")


async def file_thumb_url(ctx: Context, row: Any) -> str | None:
    """A file's thumbnail: its first image's, else its first slice's (§2.1)."""
    images = await ctx.loader(abstract_images_by_uploaded_file).load(row.id)
    if images:
        return image_thumb_url(ctx, images[0].id)
    slices = await ctx.loader(slices_by_uploaded_file).load(row.id)
    return pixel_url(ctx, "abstractslice", slices[0].id, "thumb.png") if slices else None


async def file_macro_url(ctx: Context, row: Any) -> str | None:
    """The macro image of a file's first image, when its format has one."""
    images = await ctx.loader(abstract_images_by_uploaded_file).load(row.id)
    return macro_url(ctx, "abstractimage", images[0].id, row.content_type) if images else None


# --- writes ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UploadedFileFields:
    """An uploaded file's writable fields (what the python client and PIMS send)."""

    user: int | None = None
    storage: int | None = None
    parent: int | None = None
    original_filename: str | None = None
    filename: str | None = None
    ext: str | None = None
    content_type: str | None = None
    size: int | None = None
    status: int | None = None
    projects: list[int] | None = None


def _text(value: str | None, name: str, limit: int, *, required: bool = False) -> str:
    if value is None or (required and not value.strip()):
        if required:
            raise InvalidInput(f"Property {name} must be set")
        return ""
    if len(value) > limit:
        raise InvalidInput(f"Property {name} is longer than {limit} characters")
    return value


async def _file_values(
    ctx: Context, conn: Connection, fields: UploadedFileFields, current: Any | None
) -> dict[str, Any]:
    """Validated column values of a create (`current` None) or a full update.

    Registering a file for someone else, or handing a file to someone else, is for admins:
    the image server acts as the uploader.
    """
    viewer = ctx.require_viewer()
    if fields.user is None:
        raise InvalidInput("Property user must be set")
    if fields.storage is None:
        raise InvalidInput("Property storage must be set")
    user = await conn.execute(select(SecUser.id).where(SecUser.id == fields.user))
    if user.first() is None:
        raise InvalidInput(f"user was not found with id: {fields.user}")
    uploader_changes = current is None or fields.user != current.user_id
    if uploader_changes and fields.user != viewer.id and not viewer.is_admin:
        raise Forbidden("You may only register files you upload yourself")
    storage = await conn.execute(select(Storage.id).where(Storage.id == fields.storage))
    if storage.first() is None:
        raise InvalidInput(f"storage was not found with id: {fields.storage}")
    await require(ctx, fields.storage, WRITE)
    size = fields.size or 0
    if size < 0:
        raise InvalidInput("Property size must not be negative")
    filename = _text(fields.filename, "filename", 4096, required=True)
    await _refuse_foreign_folder(conn, filename, fields.storage, current)
    return {
        "user_id": fields.user,
        "storage_id": fields.storage,
        "parent_id": fields.parent,
        "original_filename": _text(
            fields.original_filename, "originalFilename", 4096, required=True
        ),
        "filename": filename,
        "ext": _text(fields.ext, "ext", 64),
        "content_type": _text(fields.content_type, "contentType", 255),
        "size": size,
        "status": 0 if fields.status is None else fields.status,
        "projects": list(fields.projects) if fields.projects is not None else None,
    }


def _top_folder(filename: str) -> str | None:
    """The folder of the image store a stored path lies in (its first part, as the store
    resolves it); None for a path the store never reads (absolute, or leaving the store)."""
    normal = posixpath.normpath(filename)
    if normal.startswith(("/", "../")) or normal in (".", ".."):
        return None
    return normal.split("/", 1)[0]


async def _refuse_foreign_folder(
    conn: Connection, filename: str, storage_id: int, current: Any | None
) -> None:
    """A stored path belongs to the storage its folder was uploaded to: naming a path in a
    folder that another storage's files name would hand the file (and its pixels) to anyone
    who may write a storage, past the download and membership rules of the projects that
    show it. The new path is normalised as the store resolves it; the stored ones are the
    server's own (`upload-<uuid>/…`)."""
    top = _top_folder(filename)
    if top is None:
        return
    stored = UploadedFile.filename
    foreign = select(UploadedFile.id).where(
        UploadedFile.storage_id != storage_id,
        or_(stored == top, stored.startswith(top + "/", autoescape=True)),
    )
    if current is not None:
        foreign = foreign.where(UploadedFile.id != current.id)
    if (await conn.execute(foreign.limit(1))).first() is not None:
        raise Forbidden("This path belongs to files of another storage")


async def _tree_path(
    ctx: Context, conn: Connection, file_id: int, parent_id: int | None, *, new_parent: bool
) -> str:
    """The file's id path from its root, "<root>.<…>.<id>"; a parent under the file itself
    would make a cycle. A `new_parent` needs WRITE on its storage: the child joins its tree,
    so the parent's deletion takes it along and a project using it blocks that deletion."""
    if parent_id is None:
        return str(file_id)
    parent = (
        await conn.execute(
            select(UploadedFile.l_tree, UploadedFile.storage_id).where(UploadedFile.id == parent_id)
        )
    ).first()
    if parent is None:
        raise InvalidInput(f"parent was not found with id: {parent_id}")
    if new_parent:
        await require(ctx, parent.storage_id, WRITE)
    if str(file_id) in parent.l_tree.split("."):
        raise InvalidInput("An uploaded file cannot be its own ancestor")
    return f"{parent.l_tree}.{file_id}"


async def create_uploaded_file(ctx: Context, fields: UploadedFileFields) -> Changed:
    """Register a file in a storage (WRITE on it), under `parent` when given."""
    viewer = ctx.require_user("upload files")
    async with ctx.db.transaction() as conn:
        values = await _file_values(ctx, conn, fields, None)
        file_id = int((await conn.execute(select(ID_SEQUENCE.next_value()))).scalar_one())
        values["l_tree"] = await _tree_path(ctx, conn, file_id, values["parent_id"],
                                            new_parent=True)  # fmt: skip
        with constraint_errors("This uploaded file already exists"):
            row = await insert_row(conn, UploadedFile, {"id": file_id, **values})
        command = await CommandLog(conn, viewer).add(UPLOADED_FILE, row)
    return Changed(row, command)


async def update_uploaded_file(ctx: Context, file_id: int, fields: UploadedFileFields) -> Changed:
    """Replace a file's fields: WRITE on its storage and on the new one. The image server
    moves status, size, format and path this way; a new parent moves the subtree with it."""
    viewer = ctx.require_user("change uploaded files")
    await _file(ctx, file_id, WRITE)
    async with ctx.db.transaction() as conn:
        current = await lock_row(conn, UploadedFile, "UploadedFile", file_id)
        values = await _file_values(ctx, conn, fields, current)
        moved = values["parent_id"] != current.parent_id
        values["l_tree"] = await _tree_path(ctx, conn, file_id, values["parent_id"],
                                            new_parent=moved)  # fmt: skip
        log = CommandLog(conn, viewer)
        before, after, command = await update_logged(log, UPLOADED_FILE, file_id, values)
        if after.l_tree != before.l_tree:
            await _move_subtree(conn, log, before.l_tree, after.l_tree)
    return Changed(after, command)


async def _move_subtree(conn: Connection, log: CommandLog, old: str, new: str) -> None:
    """Give the descendants of a file that moved their new tree paths, recorded so undo
    moves them back."""
    below = UploadedFile.l_tree.startswith(old + ".")
    previous = (
        await conn.execute(select(*FILE_TABLE.c).where(below).order_by(UploadedFile.id))
    ).all()
    if not previous:
        return
    tail = func.substr(UploadedFile.l_tree, len(old) + 1)  # ".<…>.<id>"
    moved = await conn.execute(
        update(UploadedFile).where(below).values(l_tree=new + tail).returning(*FILE_TABLE.c)
    )
    await log.edit_each(UPLOADED_FILE, previous, moved.all())


async def delete_uploaded_file(ctx: Context, file_id: int) -> Changed:
    """Delete a root file with its subtree and everything made from them (WRITE on its
    storage; §2.1): their abstract slices, companion files and abstract images (with their
    tag associations), refused (403) while a project uses one of them. Every row deleted is
    recorded, so undo brings the whole tree back, parents first."""
    viewer = ctx.require_user("delete uploaded files")
    found = await _file(ctx, file_id, WRITE)
    if found.parent_id is not None:
        raise Forbidden("Only a root uploaded file can be deleted; its parent holds this one")
    async with ctx.db.transaction() as conn:
        row = await lock_row(conn, UploadedFile, "UploadedFile", file_id)
        below = (
            await conn.execute(
                select(*FILE_TABLE.c)
                .where(UploadedFile.l_tree.startswith(row.l_tree + "."))
                .order_by(UploadedFile.l_tree)
                .with_for_update()
            )
        ).all()
        files = [file_id, *(child.id for child in below)]
        images = (
            await conn.execute(
                select(*table_of(AbstractImage).c)
                .where(AbstractImage.uploaded_file_id.in_(files))
                .with_for_update()
            )
        ).all()
        image_ids = [image.id for image in images]
        in_tree = _made_from(files, image_ids)
        slices = (
            await conn.execute(select(*table_of(AbstractSlice).c).where(in_tree(AbstractSlice)))
        ).all()
        companions = (
            await conn.execute(select(*table_of(CompanionFile).c).where(in_tree(CompanionFile)))
        ).all()
        await refuse_used(conn, image_ids, [piece.id for piece in slices])
        log = CommandLog(conn, viewer)
        await log.delete_many(ABSTRACT_SLICE, slices)
        await log.delete_many(COMPANION_FILE, companions)
        await record_metadata(conn, log, ABSTRACT_IMAGE_CLASS, image_ids)
        await log.delete_many(ABSTRACT_IMAGE, images)
        await log.delete_many(UPLOADED_FILE, below)
        command = await log.delete(UPLOADED_FILE, row)
        await conn.execute(delete(AbstractSlice).where(in_tree(AbstractSlice)))
        await conn.execute(delete(CompanionFile).where(in_tree(CompanionFile)))
        await conn.execute(delete(AbstractImage).where(AbstractImage.id.in_(image_ids)))
        await conn.execute(delete(UploadedFile).where(UploadedFile.id.in_(files)))
    return Changed(row, command)


def _made_from(files: list[int], image_ids: list[int]) -> Any:
    """A condition on slices or companion files: stored in one of the files or belonging to
    one of the images."""

    def condition(model: type[AbstractSlice] | type[CompanionFile]) -> ColumnElement[bool]:
        return or_(model.uploaded_file_id.in_(files), model.image_id.in_(image_ids))

    return condition
