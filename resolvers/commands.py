"""Recording commands: every create, edit and delete leaves a command, a history row and an
undo-stack item, in the same transaction as the write (contract core.md §8)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final, Literal

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from db.models import Command, CommandHistory, UndoStackItem
from resolvers.viewer import Viewer

__all__ = ["Action", "CommandInfo", "record_command", "snapshot"]

Action = Literal["ADD", "EDIT", "DELETE"]
VERBS: Final[Mapping[str, str]] = {"ADD": "added", "EDIT": "edited", "DELETE": "deleted"}


@dataclass(frozen=True, slots=True)
class CommandInfo:
    """What a mutation tells its caller about the command it recorded."""

    id: int
    action: str
    domain: str
    message: str
    print_message: bool = True


def snapshot(row: Any) -> dict[str, Any]:
    """A JSON-ready copy of a row (dates as ISO text), as the command's undo data."""
    out: dict[str, Any] = {}
    for key, value in row._mapping.items():
        if key.startswith("_"):
            continue
        out[key] = value.isoformat() if isinstance(value, datetime | date) else value
    return out


async def record_command(
    conn: AsyncConnection,
    viewer: Viewer,
    action: Action,
    domain: str,
    data: dict[str, Any],
    *,
    label: str,
    project_id: int | None = None,
    transaction_id: int | None = None,
) -> CommandInfo:
    """Store the command, its history row and the undo item; return what the caller shows.

    Args:
        domain: Cytomine's simple class name ("User", "SecUserSecRole", …).
        data: the snapshot undo needs (the new object, the deleted one, or previous/new).
        label: the object's part of the message, e.g. "77 (jdoe)".
    """
    message = f"{domain} {label} {VERBS[action]}"
    command_id = (
        await conn.execute(
            insert(Command)
            .values(
                type=action,
                user_id=viewer.id,
                project_id=project_id,
                domain=domain,
                service_name=f"{domain}Service",
                data=data,
                action_message=f"{message} by {viewer.username}",
                transaction_id=transaction_id,
            )
            .returning(Command.id)
        )
    ).scalar_one()
    await conn.execute(
        insert(CommandHistory).values(
            command_id=command_id, user_id=viewer.id, project_id=project_id, message=message
        )
    )
    await conn.execute(
        insert(UndoStackItem).values(
            command_id=command_id, user_id=viewer.id, transaction_id=transaction_id
        )
    )
    return CommandInfo(id=command_id, action=action, domain=domain, message=message)
