"""Command snapshots are stored as `json` compressed with lz4.

A bulk write records the snapshots of every row it made in one command (ten thousand
annotations: about 5 MB of JSON). As `jsonb` compressed with pglz, PostgreSQL spent about
200 ms converting and compressing that document; as `json` with lz4, about 50 ms. Nothing
queries inside a snapshot but the sweep of attached files, which reads it with the `json`
functions; replay reads the whole document back either way. lz4 is used where the server
was built with it (Debian's is); pglz stays otherwise.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 18:10:00
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _compress(method: str) -> None:
    op.execute(f"""
        DO $$ BEGIN
            ALTER TABLE command ALTER COLUMN data SET COMPRESSION {method};
        EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN NULL;
        END $$""")


def upgrade() -> None:
    op.execute("ALTER TABLE command ALTER COLUMN data TYPE json USING data::json")
    _compress("lz4")


def downgrade() -> None:
    op.execute("ALTER TABLE command ALTER COLUMN data TYPE jsonb USING data::jsonb")
    _compress("pglz")
