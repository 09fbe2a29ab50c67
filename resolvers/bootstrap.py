"""Start-up: on the first one, the four roles, the super-administrator and their storage
(contract core.md §9.1 bootstrap); on every one, the image-server record."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import BigInteger, func, insert, literal, select, update

from db.engine import Connection, Lease
from db.models import ImageServer, SecRole, SecUser, SecUserSecRole, Storage
from resolvers.acl import OWNER, grant
from resolvers.passwords import hash_password
from resolvers.viewer import ROLE_ORDER
from settings import Settings

__all__ = ["BootstrapAdmin", "bootstrap"]


@dataclass(frozen=True, slots=True)
class BootstrapAdmin:
    """The administrator created by this start, with the keys to print once."""

    username: str
    public_key: str
    private_key: str
    generated: bool


async def _describe_image_server(conn: Connection, settings: Settings) -> None:
    """Keep the one image-server record in step with the configuration (clients that list
    image servers find it): the external server's URL, or none for the built-in server; it
    is available either way (decision 8)."""
    url = settings.image_server_url or ""
    values = {"url": url, "available": True}
    first = (await conn.execute(select(ImageServer.id).order_by(ImageServer.id).limit(1))).first()
    if first is None:
        await conn.execute(insert(ImageServer).values(name="Image server", **values))
    else:
        await conn.execute(update(ImageServer).where(ImageServer.id == first.id).values(**values))


async def bootstrap(db: Lease, settings: Settings) -> BootstrapAdmin | None:
    """Create the roles and the first admin on an empty database; None when already done.

    The admin holds every role, ROLE_SUPER_ADMIN included, so client-3 scripts (whose
    `open_admin_session()` cannot succeed) still act as admin.
    """
    async with db.transaction() as conn:
        await conn.execute(select(func.pg_advisory_xact_lock(7_340_001)))
        await _describe_image_server(conn, settings)
        if (await conn.execute(select(SecRole.id).limit(1))).first() is None:
            for authority in ROLE_ORDER:
                await conn.execute(insert(SecRole).values(authority=authority))
        if (await conn.execute(select(SecUser.id).limit(1))).first() is not None:
            return None
        generated = settings.admin_public_key is None or settings.admin_private_key is None
        public_key = settings.admin_public_key or str(uuid.uuid4())
        private_key = settings.admin_private_key or str(uuid.uuid4())
        password = settings.admin_password
        user_id = (
            await conn.execute(
                insert(SecUser)
                .values(
                    username=settings.admin_username,
                    firstname="Super",
                    lastname="Admin",
                    email=f"{settings.admin_username}@localhost.localdomain",
                    origin="BOOTSTRAP",
                    password_hash=await hash_password(settings, password) if password else None,
                    public_key=public_key,
                    private_key=private_key,
                )
                .returning(SecUser.id)
            )
        ).scalar_one()
        await conn.execute(
            insert(SecUserSecRole).from_select(
                ["sec_user_id", "sec_role_id"], select(literal(user_id, BigInteger), SecRole.id)
            )
        )
        storage = await conn.execute(
            insert(Storage)
            .values(name=f"{settings.admin_username} storage", user_id=user_id)
            .returning(Storage.id)
        )
        await grant(conn, storage.scalar_one(), (user_id,), OWNER)
    return BootstrapAdmin(settings.admin_username, public_key, private_key, generated)
