"""Projects, their representatives and default layers (contract core.md §9.3–9.6)."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, IdMixin, TimestampMixin

__all__ = ["Project", "ProjectDefaultLayer", "ProjectRepresentativeUser"]


class Project(IdMixin, TimestampMixin, Base):
    """A collaborative workspace: images, an ontology, members (ACL), a mode and flags.

    The counters are kept exact by triggers on the counted tables (migrations), so every path
    that adds or removes a row (a mutation, a cascade, an undo) keeps them right.
    """

    __tablename__ = "project"
    __table_args__ = (CheckConstraint("mode IN ('CLASSIC', 'RESTRICTED', 'READ_ONLY')", "mode"),)

    name: Mapped[str] = mapped_column(String(255), unique=True)
    ontology_id: Mapped[int | None] = mapped_column(ForeignKey("ontology.id"), index=True)
    creator_id: Mapped[int | None] = mapped_column(
        ForeignKey("sec_user.id", ondelete="SET NULL"), index=True
    )
    mode: Mapped[str] = mapped_column(String(16), server_default="CLASSIC")
    blind_mode: Mapped[bool] = mapped_column(server_default="false")
    are_images_downloadable: Mapped[bool] = mapped_column(server_default="false")
    is_closed: Mapped[bool] = mapped_column(server_default="false")
    hide_users_layers: Mapped[bool] = mapped_column(server_default="false")
    hide_admins_layers: Mapped[bool] = mapped_column(server_default="false")
    count_images: Mapped[int] = mapped_column(server_default="0")
    count_annotations: Mapped[int] = mapped_column(server_default="0")
    count_reviewed_annotations: Mapped[int] = mapped_column(server_default="0")


class ProjectRepresentativeUser(IdMixin, TimestampMixin, Base):
    """A contact person of a project; a project always keeps at least one."""

    __tablename__ = "project_representative_user"
    __table_args__ = (UniqueConstraint("project_id", "user_id"),)

    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("sec_user.id", ondelete="CASCADE"), index=True)


class ProjectDefaultLayer(IdMixin, TimestampMixin, Base):
    """A user's annotation layer the viewer shows (or hides) by default in a project."""

    __tablename__ = "project_default_layer"
    __table_args__ = (UniqueConstraint("project_id", "user_id"),)

    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("sec_user.id", ondelete="CASCADE"), index=True)
    hide_by_default: Mapped[bool] = mapped_column(server_default="false")
