"""`user_annotation (image_id, user_id) WHERE count_reviewed_annotations > 0`: an image's review
stats count its reviewed originals per author from this index alone (it holds the reviewed
ones only), where they counted every annotation of the image, or joined every reviewed copy
of the database to its original.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 23:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

INDEX = "ix_user_annotation_reviewed_image_id_user_id"


def upgrade() -> None:
    op.create_index(INDEX, "user_annotation", ["image_id", "user_id"],
                    postgresql_where=sa.text("count_reviewed_annotations > 0"))  # fmt: skip


def downgrade() -> None:
    op.drop_index(INDEX, table_name="user_annotation")
