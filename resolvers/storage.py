"""Storages and the files uploaded into them (contract core.md §9.7, images-annotations.md
§2.1–§2.2)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncConnection

from db.engine import Database
from db.models import AclEntry, SecUser, Storage, UploadedFile
from db.models.base import ID_SEQUENCE
from resolvers.acl import ADMINISTRATION, OWNER, READ, WRITE, grant, require
from resolvers.command import CommandInfo, CommandLog, Spec, register
from resolvers.context import Context
from resolvers.crud import Changed, constraint_errors, insert_row, table_of
from resolvers.errors import Forbidden, InvalidInput, NotFound
from resolvers.listing import Page, fetch_page

__all__ = [
    "STORAGE",
    "UPLOADED_FILE",
    "UploadedFileFields",
    "create_storage_row",
    "create_uploaded_file",
    "get_storage",
    "get_uploaded_file",
    "is_archive",
    "list_storages",
    "storages_by_id",
    "uploaded_file_status",
    "uploaded_files_by_id",
]

STORAGE_TABLE: Final = table_of(Storage)
UPLOADED_FILE_TABLE: Final = table_of(UploadedFile)

#: Uploaded-file status codes (images-annotations.md §2.1): even < 100 in progress, even ≥ 100
#: done, odd failed. Any code may be written; unknown ones have no name.
STATUS_NAMES: Final[Mapping[int, str]] = {
    0: "UPLOADED", 10: "DETECTING_FORMAT", 11: "ERROR_FORMAT", 20: "EXTRACTING_DATA",
    21: "ERROR_EXTRACTION", 30: "CONVERTING", 31: "ERROR_CONVERSION", 40: "DEPLOYING",
    41: "ERROR_DEPLOYMENT", 50: "UNPACKING", 51: "ERROR_UNPACKING", 60: "CHECKING_INTEGRITY",
    61: "ERROR_INTEGRITY", 100: "DEPLOYED", 102: "EXTRACTED", 104: "CONVERTED", 106: "UNPACKED",
}  # fmt: skip
ARCHIVE_TYPES: Final = frozenset(("ZIP", "TAR", "GZTAR", "BZTAR", "XZTAR"))


def uploaded_file_status(code: int) -> str | None:
    return STATUS_NAMES.get(code)


async def _may_administer(ctx: Context, row: Mapping[str, Any]) -> None:
    await require(ctx, row["id"], ADMINISTRATION)


async def _may_write_storage_of(ctx: Context, row: Mapping[str, Any]) -> None:
    await require(ctx, row["storage_id"], WRITE)


STORAGE: Final = register(
    Spec("Storage", Storage, lambda row: f"{row['id']} ({row['name']})",
         authorize=_may_administer, acl=True)
)  # fmt: skip
UPLOADED_FILE: Final = register(
    Spec("UploadedFile", UploadedFile, lambda row: f"{row['id']} ({row['original_filename']})",
         authorize=_may_write_storage_of)
)  # fmt: skip


# --- loaders ---------------------------------------------------------------------------------


async def storages_by_id(db: Database, ids: list[int]) -> list[Row[Any] | None]:
    async with db.read() as conn:
        rows = (await conn.execute(select(*STORAGE_TABLE.c).where(Storage.id.in_(ids)))).all()
    found = {row.id: row for row in rows}
    return [found.get(key) for key in ids]


async def uploaded_files_by_id(db: Database, ids: list[int]) -> list[Row[Any] | None]:
    stmt = select(*UPLOADED_FILE_TABLE.c).where(UploadedFile.id.in_(ids))
    async with db.read() as conn:
        rows = (await conn.execute(stmt)).all()
    found = {row.id: row for row in rows}
    return [found.get(key) for key in ids]


# --- storages --------------------------------------------------------------------------------


async def list_storages(
    ctx: Context, *, every: bool = False, limit: int | None = None, offset: int = 0
) -> Page[Any]:
    """The storages the caller holds rights on; with `every`, an admin gets them all."""
    viewer = ctx.require_viewer()
    stmt = select(*STORAGE_TABLE.c).order_by(Storage.id)
    if not (every and viewer.is_admin):
        stmt = stmt.where(
            Storage.id.in_(select(AclEntry.object_id).where(AclEntry.user_id == viewer.id))
        )
    async with ctx.db.read() as conn:
        return await fetch_page(conn, stmt, limit=ctx.page_limit(limit), offset=offset)


async def get_storage(ctx: Context, storage_id: int) -> Any:
    """One storage the caller may read."""
    ctx.require_viewer()
    storage = await ctx.loader(storages_by_id).load(storage_id)
    if storage is None:
        raise NotFound("Storage", storage_id)
    await require(ctx, storage_id, READ)
    return storage


async def create_storage_row(
    conn: AsyncConnection, log: CommandLog, name: str, owner_id: int, *, printed: bool = True
) -> tuple[Row[Any], CommandInfo]:
    """Insert a storage owned by `owner_id`, grant the owner's rights, record the command."""
    row = await insert_row(conn, Storage, {"name": name, "user_id": owner_id})
    await grant(conn, row.id, (owner_id,), OWNER)
    return row, await log.add(STORAGE, row, printed=printed)


# --- uploaded files --------------------------------------------------------------------------


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


async def get_uploaded_file(ctx: Context, file_id: int) -> Any:
    """One uploaded file; READ on its storage."""
    ctx.require_viewer()
    row = await ctx.loader(uploaded_files_by_id).load(file_id)
    if row is None:
        raise NotFound("UploadedFile", file_id)
    await require(ctx, row.storage_id, READ)
    return row


def _text(value: str | None, name: str, *, required: bool = False) -> str:
    if value is None or (required and not value.strip()):
        if required:
            raise InvalidInput(f"Property {name} must be set")
        return ""
    if len(value) > 4096:
        raise InvalidInput(f"Property {name} is longer than 4096 characters")
    return value


async def _uploaded_file_values(
    ctx: Context, conn: AsyncConnection, fields: UploadedFileFields
) -> dict[str, Any]:
    """Validated column values; the uploader is the caller unless an admin says otherwise."""
    viewer = ctx.require_viewer()
    if fields.user is None:
        raise InvalidInput("Property user must be set")
    if fields.storage is None:
        raise InvalidInput("Property storage must be set")
    user = await conn.execute(select(SecUser.id).where(SecUser.id == fields.user))
    if user.first() is None:
        raise InvalidInput(f"user was not found with id: {fields.user}")
    if fields.user != viewer.id and not viewer.is_admin:
        raise Forbidden("You may only register files you upload yourself")
    storage = await conn.execute(select(Storage.id).where(Storage.id == fields.storage))
    if storage.first() is None:
        raise InvalidInput(f"storage was not found with id: {fields.storage}")
    await require(ctx, fields.storage, WRITE)
    size = fields.size or 0
    if size < 0:
        raise InvalidInput("Property size must not be negative")
    return {
        "user_id": fields.user,
        "storage_id": fields.storage,
        "parent_id": fields.parent,
        "original_filename": _text(fields.original_filename, "originalFilename", required=True),
        "filename": _text(fields.filename, "filename", required=True),
        "ext": _text(fields.ext, "ext"),
        "content_type": _text(fields.content_type, "contentType"),
        "size": size,
        "status": 0 if fields.status is None else fields.status,
        "projects": list(fields.projects) if fields.projects is not None else None,
    }


async def _tree_path(conn: AsyncConnection, file_id: int, parent_id: int | None) -> str:
    """The file's id path from its root: "<root>.<…>.<id>"."""
    if parent_id is None:
        return str(file_id)
    parent = (
        await conn.execute(select(UploadedFile.l_tree).where(UploadedFile.id == parent_id))
    ).first()
    if parent is None:
        raise InvalidInput(f"parent was not found with id: {parent_id}")
    return f"{parent.l_tree}.{file_id}"


async def create_uploaded_file(ctx: Context, fields: UploadedFileFields) -> Changed:
    """Register a file in a storage (WRITE on it), under `parent` when given."""
    viewer = ctx.require_viewer()
    if not viewer.is_user:
        raise Forbidden("A guest may not upload files")
    async with ctx.db.transaction() as conn:
        values = await _uploaded_file_values(ctx, conn, fields)
        file_id = int((await conn.execute(select(ID_SEQUENCE.next_value()))).scalar_one())
        values["l_tree"] = await _tree_path(conn, file_id, values["parent_id"])
        with constraint_errors("This uploaded file already exists"):
            row = await insert_row(conn, UploadedFile, {"id": file_id, **values})
        command = await CommandLog(conn, viewer).add(UPLOADED_FILE, row)
    return Changed(row, command)


def is_archive(content_type: str) -> bool:
    return content_type.upper() in ARCHIVE_TYPES
