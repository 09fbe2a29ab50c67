"""Indexes that let counts at scale read their own rows, each in place of a narrower one (so
inserts maintain as many indexes as before).

- `user_annotation (user_id, created) INCLUDE (project_id, image_id)` for `(user_id)`: a
  project connection's or an image consultation's `countCreatedAnnotations` counts what its
  user drew during it, and a listing filtered by user counts the user's annotations in a
  project or an image. With only the author indexed, each count read every annotation of the
  user from the table (a page of connections took seconds, a whole history ran past the
  statement timeout); now an index-only scan of the span.
- `annotation_term (term_id, user_annotation_id)` for `(term_id)`: a listing filtered by term
  joins the term's links to the annotations by id, from the index alone.
- `user_position (slice_id, created)` for `(slice_id)`: a slice's positions, newest first, a
  page at a time.

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

#: (table, old index, old columns, new index, new columns, included columns)
_REPLACED: tuple[tuple[str, str, list[str], str, list[str], list[str]], ...] = (
    ("user_annotation", "ix_user_annotation_user_id", ["user_id"],
     "ix_user_annotation_user_id_created", ["user_id", "created"], ["project_id", "image_id"]),
    ("annotation_term", "ix_annotation_term_term_id", ["term_id"],
     "ix_annotation_term_term_id_user_annotation_id", ["term_id", "user_annotation_id"], []),
    ("user_position", "ix_user_position_slice_id", ["slice_id"],
     "ix_user_position_slice_id_created", ["slice_id", "created"], []),
)  # fmt: skip


def upgrade() -> None:
    for table, old, _, new, columns, included in _REPLACED:
        op.create_index(new, table, columns, postgresql_include=included)
        op.drop_index(old, table_name=table)


def downgrade() -> None:
    for table, old, old_columns, new, _, _ in _REPLACED:
        op.create_index(old, table, old_columns)
        op.drop_index(new, table_name=table)
