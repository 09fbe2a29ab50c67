"""A bulk create's annotations are counted by the trigger again, statement by statement.

Revision 0009 let a bulk create count its whole batch once, after its last step, while the
transaction-local setting `cytogate.counted_by_batch` told the trigger to leave the batch's
inserts alone. Each step's statement is now written by PostgreSQL while the server shapes the
next, and PostgreSQL keeps up: the counting inside each step (about 1 ms) costs nothing a
client waits for, while the one count after the last step was waited for (3–4 ms at 1 000
annotations). The trigger therefore counts every insert again, without the setting.
`cytogate_add_user_annotations`, the counting in static SQL, stays as 0009 made it.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 07:20:00
"""

from __future__ import annotations

from typing import Final

from alembic import op

from db.migrate import earlier_revision

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

#: The test the trigger function loses.
_SKIP = """
        IF current_setting('cytogate.counted_by_batch', true) = 'on' THEN
            RETURN NULL;
        END IF;"""


#: The revision whose trigger function this one amends.
_0009: Final = "0009_batch_counted_annotations.py"


def upgrade() -> None:
    made: str = earlier_revision(_0009).COUNT
    assert _SKIP in made
    op.execute(made.replace(_SKIP, ""))


def downgrade() -> None:
    op.execute(earlier_revision(_0009).COUNT)
