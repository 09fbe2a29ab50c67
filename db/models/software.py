"""The software registry and its association with projects (contract README, decision 9).

Running software is out of scope: these rows only describe it.
"""

from __future__ import annotations

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, IdMixin, TimestampMixin

__all__ = ["Software", "SoftwareProject"]


class Software(IdMixin, TimestampMixin, Base):
    """An analysis program known to the server."""

    __tablename__ = "software"

    name: Mapped[str] = mapped_column(String(255))
    software_version: Mapped[str | None] = mapped_column(String(255))
    deprecated: Mapped[bool] = mapped_column(server_default="false")
    execute_command: Mapped[str | None] = mapped_column(Text)
    pulling_command: Mapped[str | None] = mapped_column(Text)
    source_path: Mapped[str | None] = mapped_column(Text)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("sec_user.id", ondelete="SET NULL"), index=True
    )


class SoftwareProject(IdMixin, TimestampMixin, Base):
    """A software made available in a project."""

    __tablename__ = "software_project"
    __table_args__ = (UniqueConstraint("software_id", "project_id"),)

    software_id: Mapped[int] = mapped_column(ForeignKey("software.id", ondelete="CASCADE"))
    project_id: Mapped[int] = mapped_column(
        ForeignKey("project.id", ondelete="CASCADE"), index=True
    )
