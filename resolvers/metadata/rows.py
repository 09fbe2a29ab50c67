"""How properties, descriptions and attached files are read: tables and batch loaders.

Loaders keyed by (class name, id) serve the metadata fields of every type of the graph: a list
of a thousand annotations with their properties costs one SELECT more, not a thousand.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Final

from sqlalchemy import Row, select, tuple_

from db.direct import Direct
from db.engine import Lease
from db.id_lists import among_bound, rows_by_id
from db.models import AttachedFile, Description, Property
from resolvers.crud import table_of

__all__ = [
    "ATTACHED_FILE_TABLE",
    "DESCRIPTION_TABLE",
    "PROPERTY_TABLE",
    "DomainKey",
    "attached_files_by_domain",
    "attached_files_by_id",
    "descriptions_by_domain",
    "properties_by_domain",
    "properties_by_id",
]

PROPERTY_TABLE: Final = table_of(Property)
DESCRIPTION_TABLE: Final = table_of(Description)
ATTACHED_FILE_TABLE: Final = table_of(AttachedFile)

#: An object metadata hangs from: (concrete class name, id).
DomainKey = tuple[str, int]


_PROPERTIES: Final = Direct(select(*PROPERTY_TABLE.c).where(among_bound(Property.id)))
_ATTACHED_FILES: Final = Direct(select(*ATTACHED_FILE_TABLE.c).where(among_bound(AttachedFile.id)))


async def properties_by_id(db: Lease, ids: list[int]) -> list[Row[Any] | None]:
    """Properties by id, one SELECT for the batch."""
    return await rows_by_id(db, _PROPERTIES, ids)


async def attached_files_by_id(db: Lease, ids: list[int]) -> list[Row[Any] | None]:
    """Attached files by id, one SELECT for the batch."""
    return await rows_by_id(db, _ATTACHED_FILES, ids)


async def _grouped(db: Lease, stmt: Any, keys: list[DomainKey]) -> list[list[Row[Any]]]:
    grouped: defaultdict[DomainKey, list[Row[Any]]] = defaultdict(list)
    async with db.read() as conn:
        for row in await conn.execute(stmt):
            grouped[(row.domain_class_name, row.domain_ident)].append(row)
    return [grouped[key] for key in keys]


async def properties_by_domain(db: Lease, keys: list[DomainKey]) -> list[list[Row[Any]]]:
    """The properties of each object, oldest first; one SELECT for the batch."""
    owner = tuple_(Property.domain_class_name, Property.domain_ident)
    stmt = select(*PROPERTY_TABLE.c).where(owner.in_(keys)).order_by(Property.id)
    return await _grouped(db, stmt, keys)


async def attached_files_by_domain(db: Lease, keys: list[DomainKey]) -> list[list[Row[Any]]]:
    """The attached files of each object, oldest first; one SELECT for the batch."""
    owner = tuple_(AttachedFile.domain_class_name, AttachedFile.domain_ident)
    stmt = select(*ATTACHED_FILE_TABLE.c).where(owner.in_(keys)).order_by(AttachedFile.id)
    return await _grouped(db, stmt, keys)


async def descriptions_by_domain(db: Lease, keys: list[DomainKey]) -> list[Row[Any] | None]:
    """The description of each object (None: it has none); one SELECT for the batch."""
    owner = tuple_(Description.domain_class_name, Description.domain_ident)
    stmt = select(*DESCRIPTION_TABLE.c).where(owner.in_(keys))
    groups = await _grouped(db, stmt, keys)
    return [group[0] if group else None for group in groups]
