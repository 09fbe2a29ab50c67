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

import importlib.util
from pathlib import Path
from types import ModuleType

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

#: The test the trigger function loses.
_SKIP = """
        IF current_setting('cytogate.counted_by_batch', true) = 'on' THEN
            RETURN NULL;
        END IF;"""


def _revision_0009() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "revision_0009", Path(__file__).with_name("0009_batch_counted_annotations.py")
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def upgrade() -> None:
    made: str = _revision_0009().COUNT
    assert _SKIP in made
    op.execute(made.replace(_SKIP, ""))


def downgrade() -> None:
    op.execute(_revision_0009().COUNT)
