"""What the schema calls to read one user annotation (listings are
`resolvers.annotation.listing`).
"""

from __future__ import annotations

from typing import Any

from resolvers.annotation.rows import annotations_by_id
from resolvers.context import Context
from resolvers.project import project_access

__all__ = ["get_annotation"]


async def get_annotation(ctx: Context, annotation_id: int) -> Any:
    """One user annotation; READ on its project."""
    row = await ctx.found(annotations_by_id, annotation_id, "UserAnnotation")
    (await project_access(ctx, row.project_id)).require_read()
    return row
