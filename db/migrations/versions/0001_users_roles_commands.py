"""PostGIS, the global id sequence, users, roles, admin sessions, tokens and commands.

Revision ID: 0001
Revises:
Create Date: 2026-11-25 18:45:14.227869
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.execute(sa.schema.CreateSequence(sa.Sequence("cytomine_id_seq", start=1)))
    op.create_table(
        "sec_role",
        sa.Column("authority", sa.String(length=64), nullable=False),
        sa.Column(
            "created", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=True
        ),
        sa.Column(
            "id",
            sa.BigInteger(),
            server_default=sa.text("nextval('cytomine_id_seq')"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sec_role")),
        sa.UniqueConstraint("authority", name=op.f("uq_sec_role_authority")),
    )
    op.create_table(
        "sec_user",
        sa.Column("username", sa.String(length=255), nullable=False),
        sa.Column("firstname", sa.String(length=255), nullable=False),
        sa.Column("lastname", sa.String(length=255), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("language", sa.String(length=2), server_default="EN", nullable=False),
        sa.Column("is_developer", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("enabled", sa.Boolean(), server_default="true", nullable=False),
        sa.Column("origin", sa.String(length=255), nullable=True),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("password_expired", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("public_key", sa.String(length=64), nullable=False),
        sa.Column("private_key", sa.String(length=64), nullable=False),
        sa.Column(
            "id",
            sa.BigInteger(),
            server_default=sa.text("nextval('cytomine_id_seq')"),
            nullable=False,
        ),
        sa.Column(
            "created", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column(
            "updated", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sec_user")),
        sa.UniqueConstraint("public_key", name=op.f("uq_sec_user_public_key")),
    )
    op.create_index(
        "uq_sec_user_username_lower",
        "sec_user",
        [sa.literal_column("lower(username)")],
        unique=True,
    )
    op.create_table(
        "admin_session",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "opened", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("expires", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["sec_user.id"],
            name=op.f("fk_admin_session_user_id_sec_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_admin_session")),
    )
    op.create_table(
        "auth_token",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("get_only", sa.Boolean(), server_default="false", nullable=False),
        sa.Column(
            "created", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("expires", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["sec_user.id"],
            name=op.f("fk_auth_token_user_id_sec_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_auth_token")),
    )
    op.create_index(op.f("ix_auth_token_user_id"), "auth_token", ["user_id"], unique=False)
    op.create_table(
        "command",
        sa.Column("type", sa.String(length=8), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("project_id", sa.BigInteger(), nullable=True),
        sa.Column("domain", sa.String(length=64), nullable=False),
        sa.Column("service_name", sa.String(length=64), nullable=False),
        sa.Column("data", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("action_message", sa.Text(), nullable=False),
        sa.Column("print_message", sa.Boolean(), server_default="true", nullable=False),
        sa.Column("transaction_id", sa.BigInteger(), nullable=True),
        sa.Column("refuse_undo", sa.Boolean(), server_default="false", nullable=False),
        sa.Column(
            "id",
            sa.BigInteger(),
            server_default=sa.text("nextval('cytomine_id_seq')"),
            nullable=False,
        ),
        sa.Column(
            "created", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column(
            "updated", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["sec_user.id"],
            name=op.f("fk_command_user_id_sec_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_command")),
    )
    op.create_index(op.f("ix_command_project_id"), "command", ["project_id"], unique=False)
    op.create_index(op.f("ix_command_user_id"), "command", ["user_id"], unique=False)
    op.create_table(
        "sec_user_sec_role",
        sa.Column("sec_user_id", sa.BigInteger(), nullable=False),
        sa.Column("sec_role_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "id",
            sa.BigInteger(),
            server_default=sa.text("nextval('cytomine_id_seq')"),
            nullable=False,
        ),
        sa.Column(
            "created", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column(
            "updated", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["sec_role_id"],
            ["sec_role.id"],
            name=op.f("fk_sec_user_sec_role_sec_role_id_sec_role"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["sec_user_id"],
            ["sec_user.id"],
            name=op.f("fk_sec_user_sec_role_sec_user_id_sec_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sec_user_sec_role")),
        sa.UniqueConstraint(
            "sec_user_id", "sec_role_id", name=op.f("uq_sec_user_sec_role_sec_user_id_sec_role_id")
        ),
    )
    op.create_table(
        "command_history",
        sa.Column("command_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("project_id", sa.BigInteger(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("prefix_action", sa.String(length=8), server_default="", nullable=False),
        sa.Column(
            "id",
            sa.BigInteger(),
            server_default=sa.text("nextval('cytomine_id_seq')"),
            nullable=False,
        ),
        sa.Column(
            "created", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column(
            "updated", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["command_id"],
            ["command.id"],
            name=op.f("fk_command_history_command_id_command"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["sec_user.id"],
            name=op.f("fk_command_history_user_id_sec_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_command_history")),
    )
    op.create_index(
        op.f("ix_command_history_command_id"), "command_history", ["command_id"], unique=False
    )
    op.create_index(
        op.f("ix_command_history_project_id"), "command_history", ["project_id"], unique=False
    )
    op.create_index(
        op.f("ix_command_history_user_id"), "command_history", ["user_id"], unique=False
    )
    op.create_table(
        "redo_stack_item",
        sa.Column("command_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("transaction_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "id",
            sa.BigInteger(),
            server_default=sa.text("nextval('cytomine_id_seq')"),
            nullable=False,
        ),
        sa.Column(
            "created", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column(
            "updated", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["command_id"],
            ["command.id"],
            name=op.f("fk_redo_stack_item_command_id_command"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["sec_user.id"],
            name=op.f("fk_redo_stack_item_user_id_sec_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_redo_stack_item")),
    )
    op.create_index(
        op.f("ix_redo_stack_item_command_id"), "redo_stack_item", ["command_id"], unique=False
    )
    op.create_index(
        op.f("ix_redo_stack_item_user_id"), "redo_stack_item", ["user_id"], unique=False
    )
    op.create_table(
        "undo_stack_item",
        sa.Column("command_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("transaction_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "id",
            sa.BigInteger(),
            server_default=sa.text("nextval('cytomine_id_seq')"),
            nullable=False,
        ),
        sa.Column(
            "created", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column(
            "updated", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["command_id"],
            ["command.id"],
            name=op.f("fk_undo_stack_item_command_id_command"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["sec_user.id"],
            name=op.f("fk_undo_stack_item_user_id_sec_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_undo_stack_item")),
    )
    op.create_index(
        op.f("ix_undo_stack_item_command_id"), "undo_stack_item", ["command_id"], unique=False
    )
    op.create_index(
        op.f("ix_undo_stack_item_user_id"), "undo_stack_item", ["user_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_undo_stack_item_user_id"), table_name="undo_stack_item")
    op.drop_index(op.f("ix_undo_stack_item_command_id"), table_name="undo_stack_item")
    op.drop_table("undo_stack_item")
    op.drop_index(op.f("ix_redo_stack_item_user_id"), table_name="redo_stack_item")
    op.drop_index(op.f("ix_redo_stack_item_command_id"), table_name="redo_stack_item")
    op.drop_table("redo_stack_item")
    op.drop_index(op.f("ix_command_history_user_id"), table_name="command_history")
    op.drop_index(op.f("ix_command_history_project_id"), table_name="command_history")
    op.drop_index(op.f("ix_command_history_command_id"), table_name="command_history")
    op.drop_table("command_history")
    op.drop_table("sec_user_sec_role")
    op.drop_index(op.f("ix_command_user_id"), table_name="command")
    op.drop_index(op.f("ix_command_project_id"), table_name="command")
    op.drop_table("command")
    op.drop_index(op.f("ix_auth_token_user_id"), table_name="auth_token")
    op.drop_table("auth_token")
    op.drop_table("admin_session")
    op.drop_index("uq_sec_user_username_lower", table_name="sec_user")
    op.drop_table("sec_user")
    op.drop_table("sec_role")
    op.execute(sa.schema.DropSequence(sa.Sequence("cytomine_id_seq")))
