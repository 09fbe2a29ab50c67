"""A bulk create counts its batch once again, last (revision 0010 undone).

Revision 0010 let the trigger count a bulk create's annotations at each step, to spare the
batch a counting statement after its last step (3–4 ms at 1 000 annotations). But a step's
counting locks the counters' rows, the image's and the whole project's, until the commit: a
batch of 10 000 then held every other annotation write in its project for its whole second.
Counted once, last (0009's way), the rows stay locked from that statement to the commit only.
The trigger leaves a batch's inserts to the batch again while `cytogate.counted_by_batch` is
on.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 07:40:00
"""

from __future__ import annotations

from alembic import op

from db.migrate import earlier_revision

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(earlier_revision("0009_batch_counted_annotations.py").COUNT)


def downgrade() -> None:
    earlier_revision("0010_annotations_counted_per_statement.py").upgrade()
