"""An annotation's slice, image and project are checked by one foreign key.

Each annotation carried three foreign keys (its slice, its image, its project), and PostgreSQL
checks a foreign key row by row: a bulk insert of ten thousand annotations with their term
links ran seventy thousand such checks, more than half of PostgreSQL's time for the statement.
One composite key to the slice instance (its id, image and project, unique there) checks the
three at once, and says more than the three did: the slice is a plane of that image, in that
project. An image holding annotations never changes project (resolvers/image), so the key
never has to follow a move; deleting a project or an image still removes its annotations,
through its slice instances.

Rows already stored are checked when the key is validated, under a lock that lets reads and
writes go on.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 22:50:00
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

TABLES = ("user_annotation", "reviewed_annotation")
#: The single keys the composite one replaces: column → table referred to.
SINGLE = {"slice_id": "slice_instance", "image_id": "image_instance", "project_id": "project"}
PLACE = ["slice_id", "image_id", "project_id"]
UNIQUE = "uq_slice_instance_id_image_id_project_id"


def _place_key(table: str) -> str:
    return f"fk_{table}_slice_id_slice_instance"


def upgrade() -> None:
    op.create_unique_constraint(UNIQUE, "slice_instance", ["id", "image_id", "project_id"])
    for table in TABLES:
        for column, referred in SINGLE.items():
            op.drop_constraint(f"fk_{table}_{column}_{referred}", table, type_="foreignkey")
        op.create_foreign_key(_place_key(table), table, "slice_instance", PLACE,
                              ["id", "image_id", "project_id"], ondelete="CASCADE",
                              postgresql_not_valid=True)  # fmt: skip
        op.execute(f"ALTER TABLE {table} VALIDATE CONSTRAINT {_place_key(table)}")


def downgrade() -> None:
    for table in TABLES:
        op.drop_constraint(_place_key(table), table, type_="foreignkey")
        for column, referred in SINGLE.items():
            op.create_foreign_key(f"fk_{table}_{column}_{referred}", table, referred, [column],
                                  ["id"], ondelete="CASCADE")  # fmt: skip
    op.drop_constraint(UNIQUE, "slice_instance", type_="unique")
