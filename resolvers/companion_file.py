"""Companion files: extra files of an abstract image, such as an HDF5 profile (contract
images-annotations.md §2.5, §9.3).

A companion file belongs to its image, so rights come from the image's storage: READ to read,
WRITE to change. Its uploaded file, when it has one, must be writable too when it is set.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import Row, select

from db.engine import Lease
from db.id_lists import among, rows_grouped
from db.models import CompanionFile
from resolvers.abstract_image import (
    abstract_images_by_id,
    get_abstract_image,
    require_storage_of_file,
)
from resolvers.acl import READ, WRITE, require
from resolvers.command import CommandLog, Spec, delete_logged, register, update_logged
from resolvers.context import Context
from resolvers.crud import Changed, constraint_errors, insert_row, table_of
from resolvers.errors import InvalidInput, NotFound
from resolvers.listing import Page, fetch_page
from resolvers.pixels import ImageServerRequest, PixelArgs, PixelTarget, image_server_request
from resolvers.storage import uploaded_files_by_id
from resolvers.user import users_by_id

__all__ = [
    "COMPANION_FILE",
    "CompanionFileFields",
    "companion_file_request",
    "companion_files_by_id",
    "companion_files_by_image",
    "companion_files_by_uploaded_file",
    "create_companion_file",
    "delete_companion_file",
    "get_companion_file",
    "get_companion_file_uploader",
    "list_companion_files",
    "update_companion_file",
]

COMPANION_TABLE: Final = table_of(CompanionFile)


async def _may_write(ctx: Context, row: Mapping[str, Any]) -> None:
    image = await ctx.loader(abstract_images_by_id).load(row["image_id"])
    if image is not None:
        await require_storage_of_file(ctx, image.uploaded_file_id, WRITE)


COMPANION_FILE: Final = register(
    Spec("CompanionFile", CompanionFile,
         lambda row: f"{row['id']} ({row['original_filename']})", authorize=_may_write)
)  # fmt: skip


# --- loaders ---------------------------------------------------------------------------------


async def companion_files_by_id(db: Lease, ids: list[int]) -> list[Row[Any] | None]:
    stmt = select(*COMPANION_TABLE.c).where(among(CompanionFile.id, ids))
    async with db.read() as conn:
        found = {row.id: row for row in await conn.execute(stmt)}
    return [found.get(key) for key in ids]


async def _grouped(db: Lease, column: Any, ids: list[int]) -> list[list[Row[Any]]]:
    stmt = select(*COMPANION_TABLE.c).where(among(column, ids)).order_by(CompanionFile.id)
    return await rows_grouped(db, stmt, column.key, ids)


async def companion_files_by_image(db: Lease, ids: list[int]) -> list[list[Row[Any]]]:
    """The companion files of each abstract image, oldest first."""
    return await _grouped(db, CompanionFile.image_id, ids)


async def companion_files_by_uploaded_file(db: Lease, ids: list[int]) -> list[list[Row[Any]]]:
    """The companion files stored in each uploaded file, oldest first."""
    return await _grouped(db, CompanionFile.uploaded_file_id, ids)


# --- reads -----------------------------------------------------------------------------------


async def _companion(ctx: Context, file_id: int, permission: int) -> Any:
    ctx.require_viewer()
    row = await ctx.found(companion_files_by_id, file_id, "CompanionFile")
    image = await ctx.loader(abstract_images_by_id).load(row.image_id)
    await require_storage_of_file(ctx, None if image is None else image.uploaded_file_id,
                                  permission)  # fmt: skip
    return row


async def get_companion_file(ctx: Context, file_id: int) -> Any:
    """One companion file (READ on its image's storage)."""
    return await _companion(ctx, file_id, READ)


async def list_companion_files(
    ctx: Context,
    *,
    image_id: int | None = None,
    uploaded_file_id: int | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> Page[Any]:
    """The companion files of an abstract image or stored in an uploaded file, oldest first."""
    stmt = select(*COMPANION_TABLE.c).order_by(CompanionFile.id)
    if image_id is not None:
        await get_abstract_image(ctx, image_id)
        stmt = stmt.where(CompanionFile.image_id == image_id)
    elif uploaded_file_id is not None:
        upload = await ctx.found(uploaded_files_by_id, uploaded_file_id, "UploadedFile")
        await require(ctx, upload.storage_id, READ)
        stmt = stmt.where(CompanionFile.uploaded_file_id == uploaded_file_id)
    else:
        raise InvalidInput("Give the image or the uploaded file whose companion files to list")
    async with ctx.db.read() as conn:
        return await fetch_page(conn, stmt, limit=ctx.page_limit(limit), offset=offset)


async def get_companion_file_uploader(ctx: Context, file_id: int) -> Any:
    """The user who uploaded a companion file; 404 when unknown."""
    row = await _companion(ctx, file_id, READ)
    upload = None
    if row.uploaded_file_id is not None:
        upload = await ctx.loader(uploaded_files_by_id).load(row.uploaded_file_id)
    user = None if upload is None else await ctx.loader(users_by_id).load(upload.user_id)
    if user is None:
        raise NotFound("User", "uploader")
    return user


async def companion_file_request(ctx: Context, row: Any, args: PixelArgs) -> ImageServerRequest:
    """The image-server request behind the download of a readable companion file."""
    upload = None
    if row.uploaded_file_id is not None:
        upload = await ctx.loader(uploaded_files_by_id).load(row.uploaded_file_id)
    path = None if upload is None else upload.filename
    target = PixelTarget(path, filename=row.original_filename)
    return await image_server_request(ctx, "CompanionFile", row.id, target, args)


# --- writes ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CompanionFileFields:
    uploaded_file: int | None = None
    image: int | None = None
    original_filename: str | None = None
    filename: str | None = None
    type: str | None = None
    progress: int | None = None


def _required(value: str | None, name: str, limit: int) -> str:
    if value is None or not value.strip():
        raise InvalidInput(f"Property {name} must be set")
    if len(value) > limit:
        raise InvalidInput(f"Property {name} is longer than {limit} characters")
    return value


def _values(fields: CompanionFileFields) -> dict[str, Any]:
    if fields.image is None:
        raise InvalidInput("Property image must be set")
    progress = 0 if fields.progress is None else fields.progress
    if not 0 <= progress <= 100:
        raise InvalidInput("Property progress must be between 0 and 100")
    filename = _required(fields.filename, "filename", 4096)
    original = fields.original_filename
    return {
        "image_id": fields.image,
        "uploaded_file_id": fields.uploaded_file,
        "original_filename": filename
        if original is None
        else _required(original, "originalFilename", 4096),
        "filename": filename,
        "type": _required(fields.type, "type", 64),
        "progress": progress,
    }


async def _check_targets(ctx: Context, values: Mapping[str, Any]) -> None:
    """The image and the uploaded file exist (400 otherwise) and their storages are writable."""
    image = await ctx.loader(abstract_images_by_id).load(values["image_id"])
    if image is None:
        raise InvalidInput(f"image was not found with id: {values['image_id']}")
    await require_storage_of_file(ctx, image.uploaded_file_id, WRITE)
    file_id = values["uploaded_file_id"]
    if file_id is not None:
        upload = await ctx.loader(uploaded_files_by_id).load(file_id)
        if upload is None:
            raise InvalidInput(f"uploadedFile was not found with id: {file_id}")
        await require(ctx, upload.storage_id, WRITE)


_DUPLICATE: Final = "A companion file of this image already refers to this uploaded file"


async def create_companion_file(ctx: Context, fields: CompanionFileFields) -> Changed:
    """Attach a file to an abstract image (WRITE on its storage)."""
    viewer = ctx.require_user("create companion files")
    values = _values(fields)
    await _check_targets(ctx, values)
    async with ctx.db.transaction() as conn:
        with constraint_errors(_DUPLICATE):
            row = await insert_row(conn, CompanionFile, values)
        command = await CommandLog(conn, viewer).add(COMPANION_FILE, row)
    return Changed(row, command)


async def update_companion_file(ctx: Context, file_id: int, fields: CompanionFileFields) -> Changed:
    """Replace a companion file's fields (WRITE on its image's storage and on the new one)."""
    viewer = ctx.require_user("change companion files")
    await _companion(ctx, file_id, WRITE)
    values = _values(fields)
    await _check_targets(ctx, values)
    async with ctx.db.transaction() as conn:
        _, after, command = await update_logged(
            CommandLog(conn, viewer), COMPANION_FILE, file_id, values, conflict=_DUPLICATE
        )
    return Changed(after, command)


async def delete_companion_file(ctx: Context, file_id: int) -> Changed:
    """Delete a companion file (WRITE on its image's storage)."""
    viewer = ctx.require_user("delete companion files")
    await _companion(ctx, file_id, WRITE)
    async with ctx.db.transaction() as conn:
        row, command = await delete_logged(CommandLog(conn, viewer), COMPANION_FILE, file_id)
    return Changed(row, command)
