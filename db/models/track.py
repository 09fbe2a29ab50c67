"""Tracks: one object followed through the planes of an image (contract
images-annotations.md §4)."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, IdMixin, TimestampMixin

__all__ = ["AnnotationTrack", "Track"]


class Track(IdMixin, TimestampMixin, Base):
    """A named, coloured track on an image; unique by name within the image."""

    __tablename__ = "track"
    __table_args__ = (UniqueConstraint("image_id", "name"),)

    name: Mapped[str] = mapped_column(String(255))
    color: Mapped[str | None] = mapped_column(String(64))
    image_id: Mapped[int] = mapped_column(ForeignKey("image_instance.id", ondelete="CASCADE"))
    project_id: Mapped[int] = mapped_column(
        ForeignKey("project.id", ondelete="CASCADE"), index=True
    )


class AnnotationTrack(IdMixin, TimestampMixin, Base):
    """An annotation in a track, on the annotation's slice: a track holds at most one
    annotation per slice."""

    __tablename__ = "annotation_track"
    __table_args__ = (
        UniqueConstraint("track_id", "slice_id"),
        UniqueConstraint("annotation_id", "track_id"),
    )

    annotation_id: Mapped[int] = mapped_column(
        ForeignKey("user_annotation.id", ondelete="CASCADE"), index=True
    )
    annotation_class_name: Mapped[str] = mapped_column(String(128))
    track_id: Mapped[int] = mapped_column(ForeignKey("track.id", ondelete="CASCADE"))
    slice_id: Mapped[int] = mapped_column(
        ForeignKey("slice_instance.id", ondelete="CASCADE"), index=True
    )
