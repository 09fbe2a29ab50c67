"""Storages and the files uploaded into them (contract core.md §9.7, images-annotations.md
§2.1)."""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, IdMixin, TimestampMixin

__all__ = ["Storage", "UploadedFile"]


class Storage(IdMixin, TimestampMixin, Base):
    """A place files are uploaded to; its owner and members hold ACL entries on it."""

    __tablename__ = "storage"

    name: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[int] = mapped_column(ForeignKey("sec_user.id", ondelete="CASCADE"), index=True)


class UploadedFile(IdMixin, TimestampMixin, Base):
    """A file in a storage, possibly the child of another (archive members, conversions).

    `l_tree` is the dot-separated id path from the root ("12.40.41"); a prefix index serves
    subtree queries without the ltree extension.
    """

    __tablename__ = "uploaded_file"
    __table_args__ = (
        Index("ix_uploaded_file_l_tree", "l_tree", postgresql_ops={"l_tree": "text_pattern_ops"}),
    )

    user_id: Mapped[int] = mapped_column(ForeignKey("sec_user.id", ondelete="CASCADE"), index=True)
    storage_id: Mapped[int] = mapped_column(ForeignKey("storage.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("uploaded_file.id", ondelete="CASCADE"), index=True
    )
    original_filename: Mapped[str] = mapped_column(Text)
    filename: Mapped[str] = mapped_column(Text)
    ext: Mapped[str] = mapped_column(String(64), server_default="")
    content_type: Mapped[str] = mapped_column(String(255), server_default="")
    size: Mapped[int] = mapped_column(BigInteger, server_default="0")
    status: Mapped[int] = mapped_column(server_default="0")
    projects: Mapped[list[int] | None] = mapped_column(ARRAY(BigInteger))
    l_tree: Mapped[str] = mapped_column(Text, server_default="")
