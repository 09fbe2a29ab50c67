"""`property (domain_class_name, key, domain_ident)`: the distinct property keys of a class
are read by skipping through this index (resolvers/metadata/reads._keys_used), one probe a
key, instead of joining every property of the class to the annotations of the project or
image asked about.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 21:20:00
"""

from __future__ import annotations

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

INDEX = "ix_property_domain_class_name_key_domain_ident"


def upgrade() -> None:
    op.create_index(INDEX, "property", ["domain_class_name", "key", "domain_ident"])


def downgrade() -> None:
    op.drop_index(INDEX, table_name="property")
