"""The indexes a listing of a project or an image walks carry the author:
`user_annotation (project_id, id DESC) INCLUDE (user_id)` for `(project_id, id DESC)`, the same
for `(image_id, id DESC)`. The web UI sends the users shown (every member by default) with each of
its annotation lists; with only the scope and the id in the index, that filter made the
count read the whole table (a parallel scan of a million rows), where it now reads the index
alone: a term's list of a project of a million annotations, 357 → 143 ms.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 21:25:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

SCOPES = ("project_id", "image_id")


def _name(scope: str) -> str:
    return f"ix_user_annotation_{scope}_id"


def _replace(scope: str, included: list[str]) -> None:
    """Build the new index beside the old one under a temporary name, then swap them, so
    listings keep an index to walk throughout."""
    name, building = _name(scope), f"{_name(scope)}_next"
    columns: list[str | sa.ColumnElement[object]] = [scope, sa.literal_column("id DESC")]
    op.create_index(building, "user_annotation", columns, postgresql_include=included)
    op.drop_index(name, table_name="user_annotation")
    op.execute(f"ALTER INDEX {building} RENAME TO {name}")


def upgrade() -> None:
    for scope in SCOPES:
        _replace(scope, ["user_id"])


def downgrade() -> None:
    for scope in SCOPES:
        _replace(scope, [])
