"""Storages, their members, and the uploaded-file basics every storage-side module shares
(contract core.md §7.2, §9.7; images-annotations.md §2.1).

A storage is an ACL object: its owner holds READ|WRITE|ADMINISTRATION, a member READ|WRITE.
Everything uploaded into it (files, the abstract images and slices they become, companion files)
is read with READ on the storage and changed with WRITE on it. Membership changes are not
commands (core.md §8.1).

The uploaded-file spec and loader live here rather than in `resolvers.uploaded_file` because
abstract images, slices and companion files need them, and uploaded-file deletion needs those
in turn: this module is the bottom of that chain.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import Row, delete, exists, select

from db.direct import Direct
from db.engine import Connection, Lease
from db.id_lists import among, among_bound, rows_by_id
from db.models import AclEntry, SecUser, Storage, UploadedFile
from resolvers.acl import (
    ADMINISTRATION,
    OWNER,
    READ,
    WRITE,
    entries_of,
    grant,
    require,
    require_recorded,
    revoke,
)
from resolvers.command import CommandInfo, CommandLog, Spec, register, update_logged
from resolvers.context import Context
from resolvers.crud import Changed, insert_row, lock_row, table_of
from resolvers.errors import Forbidden, InvalidInput, NotFound
from resolvers.listing import Page, fetch_page
from resolvers.viewer import Viewer

__all__ = [
    "STORAGE",
    "STORAGE_MEMBER",
    "UPLOADED_FILE",
    "StorageFields",
    "add_storage_member",
    "create_storage",
    "create_storage_row",
    "delete_storage",
    "get_storage",
    "is_archive",
    "list_storage_members",
    "list_storages",
    "member_ids_by_storage",
    "readable_storages",
    "remove_storage_member",
    "storages_by_id",
    "update_storage",
    "uploaded_file_status",
    "uploaded_files_by_id",
]

STORAGE_TABLE: Final = table_of(Storage)
UPLOADED_FILE_TABLE: Final = table_of(UploadedFile)
#: What a storage member is granted (§7.2); the owner gets OWNER.
STORAGE_MEMBER: Final = READ | WRITE

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


def is_archive(content_type: str) -> bool:
    return content_type.upper() in ARCHIVE_TYPES


async def _may_administer(ctx: Context, row: Mapping[str, Any]) -> None:
    """ADMINISTRATION on the storage, live or, for a deleted storage coming back, as its
    snapshot recorded it (the owner's included)."""
    await require_recorded(ctx, row, ADMINISTRATION)


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


def readable_storages(viewer: Viewer) -> Any:
    """The ids of the storages the viewer reads (SELECT), or None for an admin: no limit."""
    if viewer.is_admin:
        return None
    return entries_of(viewer.id)


# --- loaders ---------------------------------------------------------------------------------


_STORAGES: Final = Direct(select(*STORAGE_TABLE.c).where(among_bound(Storage.id)))
_UPLOADED_FILES: Final = Direct(select(*UPLOADED_FILE_TABLE.c).where(among_bound(UploadedFile.id)))


async def storages_by_id(db: Lease, ids: list[int]) -> list[Row[Any] | None]:
    return await rows_by_id(db, _STORAGES, ids)


async def uploaded_files_by_id(db: Lease, ids: list[int]) -> list[Row[Any] | None]:
    return await rows_by_id(db, _UPLOADED_FILES, ids)


async def member_ids_by_storage(db: Lease, ids: list[int]) -> list[list[int]]:
    """The users holding rights on each storage, by username (the users themselves come from
    `resolvers.user.users_by_id`, which imports this module)."""
    stmt = (
        select(AclEntry.object_id, AclEntry.user_id)
        .join(SecUser, SecUser.id == AclEntry.user_id)
        .where(among(AclEntry.object_id, ids))
        .order_by(SecUser.username, SecUser.id)
    )
    grouped: defaultdict[int, list[int]] = defaultdict(list)
    async with db.read() as conn:
        for storage_id, user_id in await conn.execute(stmt):
            grouped[storage_id].append(user_id)
    return [grouped[key] for key in ids]


# --- reads -----------------------------------------------------------------------------------


async def list_storages(
    ctx: Context, *, every: bool = False, limit: int | None = None, offset: int = 0
) -> Page[Any]:
    """The storages the caller holds rights on; with `every`, an admin gets them all (§9.7)."""
    viewer = ctx.require_viewer()
    stmt = select(*STORAGE_TABLE.c).order_by(Storage.id)
    if not (every and viewer.is_admin):
        stmt = stmt.where(Storage.id.in_(entries_of(viewer.id)))
    async with ctx.db.read() as conn:
        return await fetch_page(conn, stmt, limit=ctx.page_limit(limit), offset=offset)


async def _storage(ctx: Context, storage_id: int, permission: int) -> Any:
    ctx.require_viewer()
    storage = await ctx.found(storages_by_id, storage_id, "Storage")
    await require(ctx, storage_id, permission)
    return storage


async def get_storage(ctx: Context, storage_id: int) -> Any:
    """One storage the caller may read."""
    return await _storage(ctx, storage_id, READ)


async def list_storage_members(ctx: Context, storage_id: int) -> list[int]:
    """The ids of the users holding rights on a storage the caller may read."""
    await _storage(ctx, storage_id, READ)
    return await ctx.loader(member_ids_by_storage).load(storage_id)


# --- writes ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StorageFields:
    """A storage's writable fields. Client-3 names the owner `user`, client-4 `userId`."""

    name: str | None = None
    user: int | None = None
    user_id: int | None = None


def _name(value: str | None) -> str:
    if value is None or not value.strip():
        raise InvalidInput("Property name must be set")
    if len(value) > 255:
        raise InvalidInput("Property name is longer than 255 characters")
    return value.strip()


def _owner(fields: StorageFields, current: int | None) -> int | None:
    """The owner the body asks for. A client re-sends both keys as it last read them, so when
    they disagree the one that differs from the current owner is the change."""
    given = {value for value in (fields.user_id, fields.user) if value is not None}
    if len(given) > 1:
        changed = given - {current}
        if len(changed) != 1:
            raise InvalidInput("user and userId name different owners")
        return changed.pop()
    return given.pop() if given else None


async def _user_exists(conn: Connection, user_id: int) -> None:
    found = await conn.execute(select(SecUser.id).where(SecUser.id == user_id))
    if found.first() is None:
        raise InvalidInput(f"user was not found with id: {user_id}")


async def create_storage_row(
    conn: Connection, log: CommandLog, name: str, owner_id: int, *, printed: bool = True
) -> tuple[Row[Any], CommandInfo]:
    """Insert a storage owned by `owner_id`, grant the owner's rights, record the command."""
    row = await insert_row(conn, Storage, {"name": name, "user_id": owner_id})
    await grant(conn, row.id, (owner_id,), OWNER)
    return row, await log.add(STORAGE, row, printed=printed)


async def create_storage(ctx: Context, fields: StorageFields) -> Changed:
    """Create a storage (ROLE_USER). Admins may give it to anyone; anyone else owns theirs."""
    viewer = ctx.require_user("create a storage")
    name = _name(fields.name)
    owner = _owner(fields, None) if viewer.is_admin else None
    async with ctx.db.transaction() as conn:
        if owner is not None:
            await _user_exists(conn, owner)
        row, command = await create_storage_row(
            conn, CommandLog(conn, viewer), name, viewer.id if owner is None else owner
        )
    return Changed(row, command)


async def update_storage(ctx: Context, storage_id: int, fields: StorageFields) -> Changed:
    """Rename a storage (ADMINISTRATION); only an admin gives it another owner, who then
    holds the owner's rights too."""
    viewer = ctx.require_user("change a storage")
    storage = await _storage(ctx, storage_id, ADMINISTRATION)
    name = _name(fields.name)
    owner = _owner(fields, storage.user_id)
    if owner is None:
        owner = storage.user_id
    if owner != storage.user_id and not viewer.is_admin:
        raise Forbidden("Only an administrator may give a storage another owner")
    async with ctx.db.transaction() as conn:
        if owner != storage.user_id:
            await _user_exists(conn, owner)
            await grant(conn, storage_id, (owner,), OWNER)
        _, after, command = await update_logged(
            CommandLog(conn, viewer), STORAGE, storage_id, {"name": name, "user_id": owner}
        )
    return Changed(after, command)


async def delete_storage(ctx: Context, storage_id: int) -> Changed:
    """Delete an empty storage and its rights (ADMINISTRATION); one holding files is refused
    (core.md §6.4)."""
    viewer = ctx.require_user("delete a storage")
    await _storage(ctx, storage_id, ADMINISTRATION)
    async with ctx.db.transaction() as conn:
        row = await lock_row(conn, Storage, "Storage", storage_id)
        holding = await conn.execute(select(exists().where(UploadedFile.storage_id == storage_id)))
        if holding.scalar_one():
            raise InvalidInput("Storage contains data")
        command = await CommandLog(conn, viewer).delete(STORAGE, row)
        await conn.execute(delete(Storage).where(Storage.id == storage_id))
    return Changed(row, command)


async def _member_target(conn: Connection, user_id: int) -> None:
    found = await conn.execute(select(SecUser.id).where(SecUser.id == user_id))
    if found.first() is None:
        raise NotFound("User", user_id)


async def add_storage_member(ctx: Context, storage_id: int, user_id: int) -> None:
    """Give a user READ and WRITE on a storage (its administrators); idempotent."""
    ctx.require_user("manage storage members")
    await _storage(ctx, storage_id, ADMINISTRATION)
    async with ctx.db.transaction() as conn:
        await _member_target(conn, user_id)
        await grant(conn, storage_id, (user_id,), STORAGE_MEMBER)


async def remove_storage_member(ctx: Context, storage_id: int, user_id: int) -> None:
    """Withdraw a user's rights on a storage: its administrators may remove anyone, a user
    may leave; the owner stays."""
    viewer = ctx.require_viewer()
    storage = await ctx.found(storages_by_id, storage_id, "Storage")
    if user_id != viewer.id:
        ctx.require_user("manage storage members")
        await require(ctx, storage_id, ADMINISTRATION)
    if user_id == storage.user_id:
        raise InvalidInput("The storage owner cannot be deleted.")
    async with ctx.db.transaction() as conn:
        await _member_target(conn, user_id)
        await revoke(conn, storage_id, user_id, OWNER)
