"""The attached-file sweep: the bytes of deleted attached files go once nothing can bring their
row back.

Deleting an attached file's row (directly, or with its object through the triggers) is a
command that undo may reverse, so the bytes cannot go with the row: a trigger keeps the path
in `attached_file_trash` instead, and `sweep_files`, run by the server's upkeep task every few
minutes (and by tests on demand), removes each trashed file whose row is not back and that no
undo or redo item of any user can restore; its trash entry goes with it. A file whose row
came back leaves the trash; one an undo could restore stays there until the item is gone (the
undo and redo stacks are erased with a project, with a user, or never). A project's deletion
cannot be undone, so the files of its objects go at the next sweep.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any, Final

from sqlalchemy import String, cast, delete, exists, func, select, true, union

from db.engine import Database
from db.models import AttachedFile, AttachedFileTrash, Command, RedoStackItem, UndoStackItem

__all__ = ["sweep_files"]

log = logging.getLogger(__name__)

#: Trash entries looked at per sweep.
BATCH: Final = 1000


def _restorable_paths() -> Any:
    """The paths of attached-file snapshots held by a command some user may still undo or
    redo (a single snapshot, an edit's two, or a cascade's `rows`)."""
    stacked = union(select(UndoStackItem.command_id), select(RedoStackItem.command_id))
    data = Command.data
    snapshots = func.json_array_elements(
        func.coalesce(
            data["rows"],
            func.json_build_array(
                func.coalesce(data["previousAttachedFile"], data),
                func.coalesce(data["newAttachedFile"], data),
            ),
        )
    ).table_valued("value")
    path = cast(snapshots.c.value.op("->>")("path"), String)
    return (
        select(path)
        .select_from(Command)
        .join(snapshots, true())
        .where(Command.domain == "AttachedFile", Command.id.in_(stacked), path.is_not(None))
    )


def _remove(root: Path, path: str) -> None:
    """Remove one file of the data directory (a path leading out of it is left alone)."""
    target = (root / path).resolve()
    if root.resolve() not in target.parents:
        log.warning("attached file path %r is outside the data directory", path)
        return
    target.unlink(missing_ok=True)


async def sweep_files(db: Database, root: Path) -> int:
    """Remove the trashed files nothing can restore; returns how many went."""
    async with db.transaction() as conn:
        restored = exists().where(AttachedFile.path == AttachedFileTrash.path)
        await conn.execute(delete(AttachedFileTrash).where(restored))
        stmt = (
            select(AttachedFileTrash.path)
            .where(AttachedFileTrash.path.not_in(_restorable_paths()))
            .order_by(AttachedFileTrash.deleted)
            .limit(BATCH)
            .with_for_update(skip_locked=True)
        )
        paths = list((await conn.execute(stmt)).scalars())
        for path in paths:
            await asyncio.to_thread(_remove, root, path)
        if paths:
            await conn.execute(delete(AttachedFileTrash).where(AttachedFileTrash.path.in_(paths)))
    return len(paths)
