"""Storages and their members (contract core.md §9.7)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from db.models import Storage
from resolvers.acl import ADMINISTRATION, OWNER, grant, require
from resolvers.command import CommandInfo, CommandLog, Spec, register
from resolvers.context import Context
from resolvers.crud import insert_row

__all__ = ["STORAGE", "create_storage_row"]


async def _authorize(ctx: Context, row: Mapping[str, Any]) -> None:
    await require(ctx, row["id"], ADMINISTRATION)


STORAGE: Final = register(
    Spec("Storage", Storage, lambda row: f"{row['id']} ({row['name']})",
         authorize=_authorize, acl=True)
)  # fmt: skip


async def create_storage_row(
    conn: AsyncConnection, log: CommandLog, name: str, owner_id: int, *, printed: bool = True
) -> tuple[Row[Any], CommandInfo]:
    """Insert a storage owned by `owner_id`, grant the owner's rights, record the command."""
    row = await insert_row(conn, Storage, {"name": name, "user_id": owner_id})
    await grant(conn, row.id, (owner_id,), OWNER)
    return row, await log.add(STORAGE, row, printed=printed)
