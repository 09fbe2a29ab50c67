"""Annotations: user and reviewed annotations, their terms, comments and the per-slice index
(contract images-annotations.md §3).

Geometries are PostGIS `geometry` (SRID 0: pixel space) with GiST indexes; the WKT the client
reads back is stored beside it, so listings read text instead of running ST_AsText per row and
a saved WKT round-trips byte for byte. Area, perimeter (with Cytomine's unit codes) and centroid
are computed at write time. Counters are kept by triggers (migration 0003).
"""

from __future__ import annotations

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, IdMixin, TimestampMixin

__all__ = [
    "AnnotationIndex",
    "AnnotationTerm",
    "ReviewedAnnotation",
    "ReviewedAnnotationTerm",
    "SharedAnnotation",
    "UserAnnotation",
]


def _placed() -> ForeignKeyConstraint:
    """An annotation's slice, image and project name one slice instance, as it is (its image's
    plane, in that image's project): one foreign key checks the three together, where three
    would each be checked row by row on every insert (migration 0008)."""
    return ForeignKeyConstraint(
        ["slice_id", "image_id", "project_id"],
        ["slice_instance.id", "slice_instance.image_id", "slice_instance.project_id"],
        ondelete="CASCADE",
    )


class _Located:
    """What both kinds of annotation hold: where they are (`_placed`) and what they measure."""

    slice_id: Mapped[int]
    image_id: Mapped[int]
    project_id: Mapped[int]
    location: Mapped[str] = mapped_column(Geometry(spatial_index=False))  # SRID 0: pixels
    wkt_location: Mapped[str] = mapped_column(Text)
    geometry_compression: Mapped[float] = mapped_column(Float, server_default="0")
    area: Mapped[float] = mapped_column(Float)
    area_unit: Mapped[int] = mapped_column(SmallInteger)
    perimeter: Mapped[float] = mapped_column(Float)
    perimeter_unit: Mapped[int] = mapped_column(SmallInteger)
    centroid_x: Mapped[float] = mapped_column(Float)
    centroid_y: Mapped[float] = mapped_column(Float)
    count_comments: Mapped[int] = mapped_column(server_default="0")


class UserAnnotation(IdMixin, TimestampMixin, _Located, Base):
    """A geometry drawn by a user on one slice of an image."""

    __tablename__ = "user_annotation"
    __table_args__ = (
        _placed(),
        Index("ix_user_annotation_location", "location", postgresql_using="gist"),
        Index("ix_user_annotation_slice_id_id", "slice_id", text("id DESC")),
        # a listing of an image or a project filtered by users, from the index alone (0015)
        Index(
            "ix_user_annotation_image_id_id",
            "image_id",
            text("id DESC"),
            postgresql_include=["user_id"],
        ),
        Index(
            "ix_user_annotation_project_id_id",
            "project_id",
            text("id DESC"),
            postgresql_include=["user_id"],
        ),
        # what a user drew in a span, in a project or an image, from the index alone (0013)
        Index(
            "ix_user_annotation_user_id_created",
            "user_id",
            "created",
            postgresql_include=["project_id", "image_id"],
        ),
        # the reviewed originals of an image by author, for its review stats (0016)
        Index(
            "ix_user_annotation_reviewed_image_id_user_id",
            "image_id",
            "user_id",
            postgresql_where=text("count_reviewed_annotations > 0"),
        ),
    )

    user_id: Mapped[int] = mapped_column(ForeignKey("sec_user.id", ondelete="CASCADE"))
    count_reviewed_annotations: Mapped[int] = mapped_column(server_default="0")


class ReviewedAnnotation(IdMixin, TimestampMixin, _Located, Base):
    """The validated copy of an annotation, made during the review of its image.

    `parent_ident` names the original without a foreign key: deleting the original leaves
    its reviewed copy in place (§3.4).
    """

    __tablename__ = "reviewed_annotation"
    __table_args__ = (
        _placed(),
        Index("ix_reviewed_annotation_location", "location", postgresql_using="gist"),
        Index("ix_reviewed_annotation_image_id_id", "image_id", text("id DESC")),
        Index("ix_reviewed_annotation_slice_id_id", "slice_id", text("id DESC")),
        Index("ix_reviewed_annotation_project_id_id", "project_id", text("id DESC")),
        Index("uq_reviewed_annotation_parent_ident", "parent_ident", unique=True),
    )

    user_id: Mapped[int] = mapped_column(ForeignKey("sec_user.id", ondelete="CASCADE"), index=True)
    review_user_id: Mapped[int] = mapped_column(
        ForeignKey("sec_user.id", ondelete="CASCADE"), index=True
    )
    parent_ident: Mapped[int | None] = mapped_column(BigInteger)
    parent_class_name: Mapped[str | None] = mapped_column(String(128))
    status: Mapped[int] = mapped_column(server_default="1")


class AnnotationTerm(IdMixin, TimestampMixin, Base):
    """A term put on a user annotation by a user."""

    __tablename__ = "annotation_term"
    __table_args__ = (
        Index(
            "uq_annotation_term_annotation_term_user",
            "user_annotation_id",
            "term_id",
            "user_id",
            unique=True,
        ),
        # a term's annotations by id, from the index alone (0013)
        Index("ix_annotation_term_term_id_user_annotation_id", "term_id", "user_annotation_id"),
    )

    user_annotation_id: Mapped[int] = mapped_column(
        ForeignKey("user_annotation.id", ondelete="CASCADE")
    )
    term_id: Mapped[int] = mapped_column(ForeignKey("term.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("sec_user.id", ondelete="CASCADE"), index=True)


class ReviewedAnnotationTerm(IdMixin, Base):
    """A term of a reviewed annotation (a plain set: no author)."""

    __tablename__ = "reviewed_annotation_term"
    __table_args__ = (UniqueConstraint("reviewed_annotation_id", "term_id"),)

    reviewed_annotation_id: Mapped[int] = mapped_column(
        ForeignKey("reviewed_annotation.id", ondelete="CASCADE")
    )
    term_id: Mapped[int] = mapped_column(ForeignKey("term.id", ondelete="CASCADE"), index=True)


class SharedAnnotation(IdMixin, TimestampMixin, Base):
    """A comment on a user annotation, sent to some users."""

    __tablename__ = "shared_annotation"

    user_annotation_id: Mapped[int] = mapped_column(
        ForeignKey("user_annotation.id", ondelete="CASCADE"), index=True
    )
    sender_id: Mapped[int] = mapped_column(ForeignKey("sec_user.id", ondelete="CASCADE"))
    comment: Mapped[str] = mapped_column(Text)
    receivers: Mapped[list[int]] = mapped_column(ARRAY(BigInteger))


class AnnotationIndex(Base):
    """Per (user, slice): annotations the user created, and reviewed annotations they made."""

    __tablename__ = "annotation_index"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("sec_user.id", ondelete="CASCADE"), primary_key=True
    )
    slice_id: Mapped[int] = mapped_column(
        ForeignKey("slice_instance.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    count_annotation: Mapped[int] = mapped_column(server_default="0")
    count_reviewed_annotation: Mapped[int] = mapped_column(server_default="0")
