"""Failed sign-ins, counted so that too many make the next ones wait.

A password sign-in is the one credential a caller can guess at: API keys and tokens are long
random strings. Each failure is a row (username tried, address, date) that every gateway
process counts alike; the upkeep forgets those older than the window.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 16:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sign_in_failure",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("username", sa.String(length=255), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column(
            "created", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_in_failure")),
    )
    op.create_index("ix_sign_in_failure_address_created", "sign_in_failure", ["address", "created"])
    op.create_index(op.f("ix_sign_in_failure_created"), "sign_in_failure", ["created"])


def downgrade() -> None:
    op.drop_table("sign_in_failure")
