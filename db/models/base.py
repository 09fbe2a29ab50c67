"""What every table shares: naming convention, the global id sequence, timestamps.

Cytomine gives every domain row an id from one sequence, so an id names one object across
types (`/api/domain/{class}/{id}` relies on it); cytogate keeps that rule.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from sqlalchemy import BigInteger, DateTime, MetaData, Sequence, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = ["ID_SEQUENCE", "Base", "IdMixin", "TimestampMixin"]

NAMING_CONVENTION: Final = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

ID_SEQUENCE: Final = Sequence("cytomine_id_seq", metadata=metadata, start=1)


class Base(DeclarativeBase):
    """Declarative base: Python `int` maps to BIGINT, `datetime` to timestamptz."""

    metadata = metadata
    type_annotation_map = {int: BigInteger, datetime: DateTime(timezone=True)}


class IdMixin:
    """A primary key drawn from the global id sequence."""

    id: Mapped[int] = mapped_column(
        BigInteger, ID_SEQUENCE, primary_key=True, server_default=ID_SEQUENCE.next_value()
    )


class TimestampMixin:
    """`created` set on insert; `updated` set on insert and on every update."""

    created: Mapped[datetime] = mapped_column(server_default=func.now())
    updated: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())
