"""Commands, their history and the per-user undo/redo stacks (contract core.md §8)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, ForeignKey, String, Text
from sqlalchemy.dialects.postgresql import JSON
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, IdMixin, TimestampMixin

__all__ = ["Command", "CommandHistory", "RedoStackItem", "UndoStackItem"]


class Command(IdMixin, TimestampMixin, Base):
    """One create, edit or delete, with the snapshot undo needs."""

    __tablename__ = "command"

    type: Mapped[str] = mapped_column(String(8))  # ADD | EDIT | DELETE
    user_id: Mapped[int] = mapped_column(ForeignKey("sec_user.id", ondelete="CASCADE"), index=True)
    project_id: Mapped[int | None] = mapped_column(index=True)
    domain: Mapped[str] = mapped_column(String(64))  # Cytomine simple class name, e.g. "User"
    service_name: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    action_message: Mapped[str] = mapped_column(Text)
    print_message: Mapped[bool] = mapped_column(Boolean, server_default="true")
    transaction_id: Mapped[int | None]
    refuse_undo: Mapped[bool] = mapped_column(server_default="false")


class CommandHistory(IdMixin, TimestampMixin, Base):
    """What `commandhistory.json` lists: one row per command run, undone or redone."""

    __tablename__ = "command_history"

    command_id: Mapped[int] = mapped_column(
        ForeignKey("command.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("sec_user.id", ondelete="CASCADE"), index=True)
    project_id: Mapped[int | None] = mapped_column(index=True)
    message: Mapped[str] = mapped_column(Text)
    prefix_action: Mapped[str] = mapped_column(String(8), server_default="")


class _StackItem(IdMixin, TimestampMixin):
    """A command on one of a user's two stacks."""

    command_id: Mapped[int] = mapped_column(
        ForeignKey("command.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("sec_user.id", ondelete="CASCADE"), index=True)
    transaction_id: Mapped[int | None]


class UndoStackItem(_StackItem, Base):
    """A command the user may undo."""

    __tablename__ = "undo_stack_item"


class RedoStackItem(_StackItem, Base):
    """An undone command the user may redo."""

    __tablename__ = "redo_stack_item"
