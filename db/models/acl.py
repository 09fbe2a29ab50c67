"""Access-control entries on projects, ontologies and storages (contract core.md §7.2).

One row per (object, user) holds the union of the granted permission bits; a check for
permission P passes when the highest granted bit is at least P, as Cytomine's ACL does.
Ids come from one global sequence, so `object_id` alone names the object; rows of a deleted
object are removed by a trigger on its table (migration 0002).
"""

from __future__ import annotations

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base

__all__ = ["AclEntry"]


class AclEntry(Base):
    """The permission bits a user holds on one project, ontology or storage."""

    __tablename__ = "acl_entry"

    object_id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("sec_user.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    mask: Mapped[int]
