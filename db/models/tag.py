"""Tags and their associations with domain objects (contract core.md §9.14–§9.15).

An association names its object by Java class name and id, as Cytomine does: a foreign key
cannot point into several tables, so the migration's triggers delete the associations of a
deleted project, image, slice, track or annotation (core.md §6.4), however it is deleted.
"""

from __future__ import annotations

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, func, text
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, IdMixin, TimestampMixin

__all__ = ["Tag", "TagDomainAssociation"]


class Tag(IdMixin, TimestampMixin, Base):
    """A label any user may create; its name is unique whatever its case."""

    __tablename__ = "tag"
    __table_args__ = (Index("uq_tag_name_lower", func.lower(text("name")), unique=True),)

    name: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("sec_user.id", ondelete="SET NULL"), index=True
    )


class TagDomainAssociation(IdMixin, TimestampMixin, Base):
    """A tag put on one object, named by its concrete class and id; once per object."""

    __tablename__ = "tag_domain_association"
    __table_args__ = (UniqueConstraint("tag_id", "domain_class_name", "domain_ident"),)

    #: RESTRICT: a tag goes only once its associations are gone, and recorded (undo included).
    tag_id: Mapped[int] = mapped_column(ForeignKey("tag.id", ondelete="RESTRICT"))
    domain_class_name: Mapped[str] = mapped_column(String(255))
    domain_ident: Mapped[int] = mapped_column(index=True)
