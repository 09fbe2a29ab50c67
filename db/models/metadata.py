"""Metadata hung on domain objects: key/value properties, attached files and rich-text
descriptions (contract core.md §9.10–§9.13).

Like tag associations, each row names its object by Java class name and id, which no foreign
key can follow: the migration's triggers delete the metadata of a deleted project, image,
slice, track or annotation, however it is deleted. An attached file's bytes live under the
data directory (`path`, chosen by the server); a deleted row leaves its path in
`attached_file_trash` for the sweep (resolvers/metadata/files.py), which removes the file once
nothing can bring the row back.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, IdMixin, TimestampMixin

__all__ = ["AttachedFile", "AttachedFileTrash", "Description", "Property"]


class Property(IdMixin, TimestampMixin, Base):
    """A key/value pair on one object; keys are not unique (core.md §5.3)."""

    __tablename__ = "property"
    __table_args__ = (
        Index("ix_property_domain_ident_key", "domain_ident", "key"),
        Index("ix_property_domain_class_name_key_domain_ident", "domain_class_name", "key",
              "domain_ident"),
    )  # fmt: skip

    domain_class_name: Mapped[str] = mapped_column(String(255))
    domain_ident: Mapped[int]
    key: Mapped[str] = mapped_column(String(255))
    value: Mapped[str] = mapped_column(Text)


class Description(IdMixin, TimestampMixin, Base):
    """The rich text of one object: at most one per object."""

    __tablename__ = "description"
    __table_args__ = (UniqueConstraint("domain_class_name", "domain_ident"),)

    domain_class_name: Mapped[str] = mapped_column(String(255))
    domain_ident: Mapped[int] = mapped_column(index=True)
    data: Mapped[str] = mapped_column(Text)


class AttachedFile(IdMixin, TimestampMixin, Base):
    """A file attached to one object: the client's name, and where the server keeps it."""

    __tablename__ = "attached_file"

    domain_class_name: Mapped[str] = mapped_column(String(255))
    domain_ident: Mapped[int] = mapped_column(index=True)
    #: The name the client gave, without directories or control characters.
    filename: Mapped[str] = mapped_column(String(255))
    key: Mapped[str | None] = mapped_column(String(255))
    #: Where the bytes are, relative to the data directory; chosen by the server.
    path: Mapped[str] = mapped_column(String(255), unique=True)
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    content_type: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("sec_user.id", ondelete="SET NULL"), index=True
    )


class AttachedFileTrash(Base):
    """The path of a deleted attached file, until the sweep removes its bytes (or finds the
    row restored by an undo)."""

    __tablename__ = "attached_file_trash"

    path: Mapped[str] = mapped_column(String(255), primary_key=True)
    deleted: Mapped[datetime] = mapped_column(server_default=func.now())
