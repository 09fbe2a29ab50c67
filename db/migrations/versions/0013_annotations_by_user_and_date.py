"""User annotations indexed by author and date, in place of the author alone.

A project connection's and an image consultation's `countCreatedAnnotations` count the
annotations their user drew between their start and their close. With only the author
indexed, each count read every annotation of the user (tens of milliseconds a row for a user
of 200 000 annotations, so a page of a hundred connections took seconds and a whole history
ran past the statement timeout); with the date beside the author it reads the window's rows.
The composite index also serves every lookup by author alone, so it replaces the old one and
inserts maintain as many indexes as before.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 18:50:00
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_user_annotation_user_id_created", "user_annotation", ["user_id", "created"])
    op.drop_index("ix_user_annotation_user_id", table_name="user_annotation")


def downgrade() -> None:
    op.create_index("ix_user_annotation_user_id", "user_annotation", ["user_id"])
    op.drop_index("ix_user_annotation_user_id_created", table_name="user_annotation")
