"""Image instances and slice instances: images placed in projects (contract
images-annotations.md §2.6–§2.7)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from sqlalchemy import Row, select

from db.engine import Database
from db.models import ImageInstance, SliceInstance
from resolvers.command import Spec, register
from resolvers.context import Context
from resolvers.crud import table_of
from resolvers.project import project_access

__all__ = ["IMAGE_INSTANCE", "SLICE_INSTANCE", "image_instances_by_id", "slice_instances_by_id"]

IMAGE_TABLE: Final = table_of(ImageInstance)
SLICE_TABLE: Final = table_of(SliceInstance)


async def _may_edit_image(ctx: Context, row: Mapping[str, Any]) -> None:
    """Owner-or-mode on the image's project, with the image's creator as owner (§6)."""
    (await project_access(ctx, row["project_id"])).require_writable().require_owner_or_mode(
        row["user_id"]
    )


async def _may_edit_slice(ctx: Context, row: Mapping[str, Any]) -> None:
    (await project_access(ctx, row["project_id"])).require_writable()


IMAGE_INSTANCE: Final = register(
    Spec("ImageInstance", ImageInstance, lambda row: f"{row['id']} ({row['base_image_id']})",
         project_of=lambda row: row["project_id"], authorize=_may_edit_image,
         counters=("count_image_annotations", "count_image_reviewed_annotations"))
)  # fmt: skip
SLICE_INSTANCE: Final = register(
    Spec("SliceInstance", SliceInstance, lambda row: str(row["id"]),
         project_of=lambda row: row["project_id"], authorize=_may_edit_slice)
)  # fmt: skip


async def image_instances_by_id(db: Database, ids: list[int]) -> list[Row[Any] | None]:
    async with db.read() as conn:
        rows = (await conn.execute(select(*IMAGE_TABLE.c).where(ImageInstance.id.in_(ids)))).all()
    found = {row.id: row for row in rows}
    return [found.get(key) for key in ids]


async def slice_instances_by_id(db: Database, ids: list[int]) -> list[Row[Any] | None]:
    async with db.read() as conn:
        rows = (await conn.execute(select(*SLICE_TABLE.c).where(SliceInstance.id.in_(ids)))).all()
    found = {row.id: row for row in rows}
    return [found.get(key) for key in ids]
