"""Images: the image server record, abstract images and slices, companion files, and their
instances in projects (contract images-annotations.md §1–§2)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, IdMixin, TimestampMixin

__all__ = [
    "AbstractImage",
    "AbstractSlice",
    "CompanionFile",
    "ImageInstance",
    "ImageServer",
    "SliceInstance",
]


class ImageServer(IdMixin, TimestampMixin, Base):
    """The image server pixel requests go to; one record is created at bootstrap."""

    __tablename__ = "image_server"

    name: Mapped[str] = mapped_column(String(255))
    url: Mapped[str] = mapped_column(Text)
    base_path: Mapped[str] = mapped_column(Text, server_default="")
    available: Mapped[bool] = mapped_column(Boolean, server_default="false")


class AbstractImage(IdMixin, TimestampMixin, Base):
    """A physical image in a storage: dimensions, calibration and format."""

    __tablename__ = "abstract_image"

    uploaded_file_id: Mapped[int | None] = mapped_column(
        ForeignKey("uploaded_file.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("sec_user.id", ondelete="SET NULL"), index=True
    )
    original_filename: Mapped[str] = mapped_column(Text)
    width: Mapped[int | None]
    height: Mapped[int | None]
    depth: Mapped[int] = mapped_column(server_default="1")
    duration: Mapped[int] = mapped_column(server_default="1")
    channels: Mapped[int] = mapped_column(server_default="1")
    sample_per_pixel: Mapped[int] = mapped_column(server_default="1")
    bit_per_sample: Mapped[int] = mapped_column(server_default="8")
    physical_size_x: Mapped[float | None] = mapped_column(Float)
    physical_size_y: Mapped[float | None] = mapped_column(Float)
    physical_size_z: Mapped[float | None] = mapped_column(Float)
    fps: Mapped[float | None] = mapped_column(Float)
    magnification: Mapped[int | None]
    colorspace: Mapped[str | None] = mapped_column(String(64))
    tile_size: Mapped[int] = mapped_column(server_default="256")


class AbstractSlice(IdMixin, TimestampMixin, Base):
    """One plane (channel, z, t) of an abstract image."""

    __tablename__ = "abstract_slice"
    __table_args__ = (UniqueConstraint("image_id", "channel", "z_stack", "time"),)

    image_id: Mapped[int] = mapped_column(ForeignKey("abstract_image.id", ondelete="CASCADE"))
    uploaded_file_id: Mapped[int | None] = mapped_column(
        ForeignKey("uploaded_file.id", ondelete="CASCADE"), index=True
    )
    mime: Mapped[str | None] = mapped_column(String(64))
    channel: Mapped[int] = mapped_column(server_default="0")
    z_stack: Mapped[int] = mapped_column(server_default="0")
    time: Mapped[int] = mapped_column(server_default="0")
    channel_name: Mapped[str | None] = mapped_column(String(255))
    channel_color: Mapped[str | None] = mapped_column(String(32))
    z_name: Mapped[str | None] = mapped_column(String(255))


class CompanionFile(IdMixin, TimestampMixin, Base):
    """An extra file of an image (e.g. an HDF5 profile)."""

    __tablename__ = "companion_file"
    __table_args__ = (UniqueConstraint("image_id", "uploaded_file_id"),)

    image_id: Mapped[int] = mapped_column(ForeignKey("abstract_image.id", ondelete="CASCADE"))
    uploaded_file_id: Mapped[int | None] = mapped_column(
        ForeignKey("uploaded_file.id", ondelete="CASCADE"), index=True
    )
    original_filename: Mapped[str] = mapped_column(Text)
    filename: Mapped[str] = mapped_column(Text)
    type: Mapped[str] = mapped_column(String(64))
    progress: Mapped[int] = mapped_column(server_default="0")


class ImageInstance(IdMixin, TimestampMixin, Base):
    """An abstract image placed in a project, with its own name, calibration overrides,
    review state and annotation counters (kept by triggers)."""

    __tablename__ = "image_instance"
    __table_args__ = (UniqueConstraint("project_id", "base_image_id"),)

    base_image_id: Mapped[int] = mapped_column(ForeignKey("abstract_image.id"), index=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("sec_user.id", ondelete="SET NULL"), index=True
    )
    instance_filename: Mapped[str | None] = mapped_column(Text)
    count_image_annotations: Mapped[int] = mapped_column(server_default="0")
    count_image_reviewed_annotations: Mapped[int] = mapped_column(server_default="0")
    review_start: Mapped[datetime | None]
    review_stop: Mapped[datetime | None]
    review_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("sec_user.id", ondelete="SET NULL")
    )
    magnification: Mapped[int | None]
    physical_size_x: Mapped[float | None] = mapped_column(Float)
    physical_size_y: Mapped[float | None] = mapped_column(Float)
    physical_size_z: Mapped[float | None] = mapped_column(Float)
    fps: Mapped[float | None] = mapped_column(Float)


class SliceInstance(IdMixin, TimestampMixin, Base):
    """One plane of an image instance: where annotations are drawn."""

    __tablename__ = "slice_instance"
    __table_args__ = (
        UniqueConstraint("base_slice_id", "image_id"),
        UniqueConstraint("id", "image_id", "project_id"),  # the key annotations reference
    )

    base_slice_id: Mapped[int] = mapped_column(ForeignKey("abstract_slice.id"), index=True)
    image_id: Mapped[int] = mapped_column(
        ForeignKey("image_instance.id", ondelete="CASCADE"), index=True
    )
    project_id: Mapped[int] = mapped_column(
        ForeignKey("project.id", ondelete="CASCADE"), index=True
    )
