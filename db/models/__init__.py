"""Every table, imported here so `Base.metadata` is complete for Alembic and the drift test."""

from db.models.base import Base
from db.models.command import Command, CommandHistory, RedoStackItem, UndoStackItem
from db.models.user import AdminSession, AuthToken, SecRole, SecUser, SecUserSecRole

__all__ = [
    "AdminSession",
    "AuthToken",
    "Base",
    "Command",
    "CommandHistory",
    "RedoStackItem",
    "SecRole",
    "SecUser",
    "SecUserSecRole",
    "UndoStackItem",
]
