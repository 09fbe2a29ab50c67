"""Permissions on projects, ontologies and storages (contract core.md §7.2).

Masks are Cytomine's: READ=1, WRITE=2, CREATE=4, DELETE=8, ADMINISTRATION=16. A user's row
holds the union of the bits granted to them; a check for P passes when the highest bit held is
at least P (ADMINISTRATION implies every other permission, WRITE implies READ).

An ontology's permissions are partly derived rather than stored: members of a project using the
ontology READ it, and its managers administer it. Deriving them at read time keeps them right
when a project changes ontology or loses a member, with no state to recompute.

Admins-by-now bypass every check (§7.1); resolvers call `require` after finding the object, so
an unknown id is a 404 and a known one the caller may not touch is a 403.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any, Final

from sqlalchemy import (
    BigInteger,
    Select,
    bindparam,
    case,
    delete,
    func,
    literal,
    select,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert

from db.engine import Connection, Lease
from db.models import AclEntry, Project
from resolvers.context import Context
from resolvers.errors import Forbidden

__all__ = [
    "ADMINISTRATION",
    "CONTRIBUTOR",
    "DELETE",
    "MANAGER",
    "OWNER",
    "READ",
    "WRITE",
    "acl_masks",
    "allows",
    "entries_of",
    "grant",
    "mask_of",
    "require",
    "require_recorded",
    "revoke",
]

READ: Final = 1
WRITE: Final = 2
CREATE: Final = 4
DELETE: Final = 8
ADMINISTRATION: Final = 16

#: What each role is granted (§7.2): a project contributor, a project manager, a storage owner.
CONTRIBUTOR: Final = READ
MANAGER: Final = READ | ADMINISTRATION
OWNER: Final = READ | WRITE | ADMINISTRATION
STORAGE_MEMBER: Final = READ | WRITE


def allows(mask: int, permission: int) -> bool:
    """True when the highest permission in `mask` is at least `permission`."""
    return mask > 0 and 1 << (mask.bit_length() - 1) >= permission


def entries_of(user_id: Any, *, managed: bool = False) -> Select[int]:
    """The ids of the objects (projects, storages, ontologies) the user holds an ACL entry on,
    or with `managed` ADMINISTRATION on: the subquery every "may read" condition tests."""
    stmt = select(AclEntry.object_id).where(AclEntry.user_id == user_id)
    return stmt.where(AclEntry.mask >= ADMINISTRATION) if managed else stmt


def _masks_query(user_id: int, object_ids: list[int]):  # type: ignore[no-untyped-def]
    """(object_id, mask) for the objects among `object_ids` the user holds bits on."""
    ids = bindparam("ids", object_ids, type_=ARRAY(BigInteger))
    direct = select(AclEntry.object_id.label("object_id"), AclEntry.mask.label("mask")).where(
        AclEntry.user_id == user_id, AclEntry.object_id == func.any(ids)
    )
    derived = (
        select(
            Project.ontology_id.label("object_id"),
            case((AclEntry.mask >= ADMINISTRATION, MANAGER), else_=literal(READ)).label("mask"),
        )
        .join(AclEntry, (AclEntry.object_id == Project.id) & (AclEntry.user_id == user_id))
        .where(Project.ontology_id == func.any(ids))
    )
    both = union_all(direct, derived).subquery()
    return select(both.c.object_id, func.bit_or(both.c.mask)).group_by(both.c.object_id)


async def mask_of(conn: Connection, user_id: int, object_id: int) -> int:
    """The bits `user_id` holds on one object (0: none), read on `conn`."""
    row = (await conn.execute(_masks_query(user_id, [object_id]))).first()
    return int(row[1]) if row else 0


async def acl_masks(db: Lease, keys: list[tuple[int, int]]) -> list[int]:
    """Batch loader: the mask of each (user id, object id); one SELECT per distinct user."""
    by_user: defaultdict[int, list[int]] = defaultdict(list)
    for user_id, object_id in keys:
        by_user[user_id].append(object_id)
    found: dict[tuple[int, int], int] = {}
    async with db.read() as conn:
        for user_id, object_ids in by_user.items():
            for object_id, mask in await conn.execute(_masks_query(user_id, object_ids)):
                found[(user_id, object_id)] = int(mask)
    return [found.get(key, 0) for key in keys]


async def viewer_mask(ctx: Context, object_id: int) -> int:
    """The caller's bits on an object (batched per request)."""
    viewer = ctx.require_viewer()
    return await ctx.loader(acl_masks).load((viewer.id, object_id))


async def require(
    ctx: Context, object_id: int, permission: int, message: str | None = None
) -> None:
    """Raise `Forbidden` unless the caller is admin-by-now or holds `permission` on the object."""
    viewer = ctx.require_viewer()
    if viewer.is_admin:
        return
    if not allows(await viewer_mask(ctx, object_id), permission):
        raise Forbidden(message or "You don't have the right to read or modify this resource!")


async def require_recorded(ctx: Context, row: Mapping[str, Any], permission: int) -> None:
    """`require` for undo/redo of an ACL-bearing object given by its snapshot: an object that
    is being re-created has no live entries yet, so the entries recorded with it count too."""
    viewer = ctx.require_viewer()
    if viewer.is_admin:
        return
    mask = await viewer_mask(ctx, row["id"])
    for user_id, bits in row.get("_acl", ()):
        if user_id == viewer.id:
            mask |= bits
    if not allows(mask, permission):
        raise Forbidden("You don't have the right to read or modify this resource!")


async def grant(conn: Connection, object_id: int, user_ids: Iterable[int], bits: int) -> None:
    """Add `bits` to each user's entry on the object (created when missing)."""
    rows = [{"object_id": object_id, "user_id": user_id, "mask": bits} for user_id in user_ids]
    if not rows:
        return
    stmt = pg_insert(AclEntry).values(rows)
    stmt = stmt.on_conflict_do_update(
        index_elements=[AclEntry.object_id, AclEntry.user_id],
        set_={"mask": AclEntry.mask.op("|")(stmt.excluded.mask)},
    )
    await conn.execute(stmt)


async def revoke(conn: Connection, object_id: int, user_id: int, bits: int) -> None:
    """Remove `bits` from the user's entry on the object; an entry left empty is deleted."""
    await conn.execute(
        update(AclEntry)
        .where(AclEntry.object_id == object_id, AclEntry.user_id == user_id)
        .values(mask=AclEntry.mask.op("&")(~bits))
    )
    await conn.execute(
        delete(AclEntry).where(
            AclEntry.object_id == object_id, AclEntry.user_id == user_id, AclEntry.mask == 0
        )
    )
