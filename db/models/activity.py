"""Activity records: who was connected, who opened which project and image, where in an image
each user looked, and what they did to annotations (contract core.md §9.16–§9.19).

Every record takes its id from the global sequence, as Cytomine's do. They are written in
batches by the activity recorder (resolvers/activity/recorder.py), never updated, and pruned
after `CYTOGATE_ACTIVITY_DAYS`; values Cytomine stores when a record is closed (a connection's
duration, its viewed images) are computed when read. Records go with the user, project, image
or slice they name (foreign keys cascade).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Float, ForeignKey, Index, String, func
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import ID_SEQUENCE, Base

__all__ = [
    "AnnotationAction",
    "ImageConsultation",
    "PersistentConnection",
    "PositionFollower",
    "ProjectConnection",
    "UserPosition",
]


def _user() -> Mapped[int]:
    return mapped_column(ForeignKey("sec_user.id", ondelete="CASCADE"))


def _project() -> Mapped[int]:
    return mapped_column(ForeignKey("project.id", ondelete="CASCADE"))


class _Record:
    """An activity record: an id from the global sequence and when it happened."""

    id: Mapped[int] = mapped_column(
        BigInteger, ID_SEQUENCE, primary_key=True, server_default=ID_SEQUENCE.next_value()
    )
    created: Mapped[datetime] = mapped_column(server_default=func.now())


class PersistentConnection(_Record, Base):
    """A ping of a signed-in user, within a project or not: presence ("online" is a ping in
    the last 300 s) and the activity time of project connections."""

    __tablename__ = "persistent_connection"
    __table_args__ = (
        Index("ix_persistent_connection_project_id_created", "project_id", "created"),
        Index("ix_persistent_connection_user_id_created", "user_id", "created"),
    )

    user_id: Mapped[int] = _user()
    project_id: Mapped[int | None] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))


class ProjectConnection(_Record, Base):
    """A user opening a project (PersistentProjectConnection)."""

    __tablename__ = "project_connection"
    __table_args__ = (
        Index("ix_project_connection_project_id_user_id_created", "project_id", "user_id",
              "created"),
        Index("ix_project_connection_user_id_created", "user_id", "created"),
    )  # fmt: skip

    user_id: Mapped[int] = _user()
    project_id: Mapped[int] = _project()
    os: Mapped[str | None] = mapped_column(String(255))
    browser: Mapped[str | None] = mapped_column(String(255))
    browser_version: Mapped[str | None] = mapped_column(String(255))


class ImageConsultation(_Record, Base):
    """A user opening an image (PersistentImageConsultation), with the image's shown name at
    that time and the user's project connection then."""

    __tablename__ = "image_consultation"
    __table_args__ = (
        Index("ix_image_consultation_project_id_user_id_created", "project_id", "user_id",
              "created"),
        Index("ix_image_consultation_image_id_user_id_created", "image_id", "user_id",
              "created"),
        Index("ix_image_consultation_user_id_created", "user_id", "created"),
        Index("ix_image_consultation_project_connection_id", "project_connection_id"),
    )  # fmt: skip

    user_id: Mapped[int] = _user()
    image_id: Mapped[int] = mapped_column(ForeignKey("image_instance.id", ondelete="CASCADE"))
    project_id: Mapped[int] = _project()
    project_connection_id: Mapped[int | None] = mapped_column(
        ForeignKey("project_connection.id", ondelete="SET NULL")
    )
    mode: Mapped[str | None] = mapped_column(String(255))
    image_name: Mapped[str | None] = mapped_column(String(255))


class UserPosition(_Record, Base):
    """A user's viewport on a slice of an image (PersistentUserPosition): its four corners
    (top-left, top-right, bottom-right, bottom-left as x, y pairs), centre, zoom and rotation.
    The newest one of the last 60 s is the user's "last position"."""

    __tablename__ = "user_position"
    __table_args__ = (
        Index("ix_user_position_image_id_created", "image_id", "created"),
        Index("ix_user_position_project_id_created", "project_id", "created"),
        Index("ix_user_position_user_id_image_id_created", "user_id", "image_id", "created"),
        Index("ix_user_position_slice_id_created", "slice_id", "created"),
    )

    user_id: Mapped[int] = _user()
    image_id: Mapped[int] = mapped_column(ForeignKey("image_instance.id", ondelete="CASCADE"))
    slice_id: Mapped[int] = mapped_column(ForeignKey("slice_instance.id", ondelete="CASCADE"))
    project_id: Mapped[int] = _project()
    corners: Mapped[list[float]] = mapped_column(ARRAY(Float))
    x: Mapped[float] = mapped_column(Float)
    y: Mapped[float] = mapped_column(Float)
    zoom: Mapped[int]
    rotation: Mapped[float] = mapped_column(Float)
    broadcast: Mapped[bool]
    image_name: Mapped[str | None] = mapped_column(String(255))


class PositionFollower(Base):
    """A user following another's viewport on an image: when they last asked for it."""

    __tablename__ = "position_follower"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("sec_user.id", ondelete="CASCADE"), primary_key=True
    )
    image_id: Mapped[int] = mapped_column(
        ForeignKey("image_instance.id", ondelete="CASCADE"), primary_key=True
    )
    follower_id: Mapped[int] = mapped_column(
        ForeignKey("sec_user.id", ondelete="CASCADE"), primary_key=True
    )
    updated: Mapped[datetime] = mapped_column(server_default=func.now())


class AnnotationAction(_Record, Base):
    """Something a user did to an annotation in the viewer ("select"…)."""

    __tablename__ = "annotation_action"
    __table_args__ = (
        Index("ix_annotation_action_image_id_created", "image_id", "created"),
        Index("ix_annotation_action_slice_id_created", "slice_id", "created"),
        Index("ix_annotation_action_project_id_created", "project_id", "created"),
        Index("ix_annotation_action_user_id", "user_id"),
    )

    user_id: Mapped[int] = _user()
    image_id: Mapped[int] = mapped_column(ForeignKey("image_instance.id", ondelete="CASCADE"))
    slice_id: Mapped[int] = mapped_column(ForeignKey("slice_instance.id", ondelete="CASCADE"))
    project_id: Mapped[int] = _project()
    action: Mapped[str] = mapped_column(String(255))
    annotation_ident: Mapped[int]
    annotation_class_name: Mapped[str] = mapped_column(String(255))
    annotation_creator_id: Mapped[int | None]
