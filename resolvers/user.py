"""Users, roles and role links: reads, batch loaders and mutations (contract core.md §9.1–9.2)."""

from __future__ import annotations

import re
import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.errors import HeaderParseError
from email.headerregistry import Address
from typing import TYPE_CHECKING, Any, Final, Protocol, cast

from sqlalchemy import BigInteger, delete, func, insert, literal, select, update

from db.direct import Direct
from db.engine import Connection, Lease
from db.id_lists import among, among_bound, rows_by_id
from db.models import AuthToken, SecRole, SecUser, SecUserSecRole, Storage, UploadedFile
from resolvers.command import CommandLog, Spec, register, update_logged
from resolvers.context import Context
from resolvers.crud import (
    Changed,
    constraint_errors,
    delete_row,
    insert_row,
    lock_row,
    table_of,
)
from resolvers.errors import Forbidden, InvalidInput, NotFound
from resolvers.listing import Filter, Page, apply_filters, apply_sort, fetch_page
from resolvers.passwords import hash_password
from resolvers.storage import STORAGE, create_storage_row
from resolvers.viewer import ADMIN, GUEST, ROLE_RANK, SUPER_ADMIN, USER, Viewer

if TYPE_CHECKING:
    from settings import Settings

__all__ = [
    "USER_COLUMNS",
    "Changed",
    "UserFields",
    "UserRow",
    "add_user_role",
    "create_user",
    "define_roles",
    "delete_user",
    "get_role",
    "get_user",
    "get_user_role",
    "insert_user",
    "list_roles",
    "list_user_roles",
    "list_users",
    "new_user_values",
    "regenerate_keys",
    "remove_user_role",
    "roles_by_user",
    "set_password",
    "set_user_enabled",
    "update_user",
    "user_keys",
    "users_by_id",
]

USER_COLUMNS: Final = (
    SecUser.id,
    SecUser.created,
    SecUser.updated,
    SecUser.username,
    SecUser.firstname,
    SecUser.lastname,
    SecUser.email,
    SecUser.language,
    SecUser.is_developer,
    SecUser.enabled,
    SecUser.origin,
    SecUser.password_expired,
    SecUser.public_key,
    SecUser.private_key,
)
ROLE_COLUMNS: Final = (SecRole.id, SecRole.authority, SecRole.created)
LINK_COLUMNS: Final = (
    SecUserSecRole.id,
    SecUserSecRole.created,
    SecUserSecRole.updated,
    SecUserSecRole.sec_user_id.label("user_id"),
    SecUserSecRole.sec_role_id.label("role_id"),
    SecRole.authority,
)

LANGUAGES: Final[Mapping[str, str]] = {
    "ARABIC": "AR",
    "GERMAN": "DE",
    "GREEK": "EL",
    "ENGLISH": "EN",
    "FRENCH": "FR",
    "DUTCH": "NL",
    "SPANISH": "ES",
}
EMAIL: Final = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD: Final = 8

#: The role set `define.json` writes for each role (core.md §7.1).
CANONICAL_ROLES: Final[Mapping[str, tuple[str, ...]]] = {
    GUEST: (GUEST,),
    USER: (GUEST, USER),
    ADMIN: (GUEST, USER, ADMIN),
    SUPER_ADMIN: (GUEST, USER, ADMIN, SUPER_ADMIN),
}


class UserRow(Protocol):
    """A row of USER_COLUMNS."""

    id: int
    username: str
    firstname: str
    lastname: str
    email: str
    language: str
    is_developer: bool
    enabled: bool
    origin: str | None
    password_expired: bool
    public_key: str
    private_key: str


@dataclass(frozen=True, slots=True)
class UserFields:
    """The writable fields of a user, as a create or full update gives them."""

    username: str | None = None
    firstname: str | None = None
    lastname: str | None = None
    email: str | None = None
    password: str | None = None
    language: str | None = None
    is_developer: bool | None = None
    origin: str | None = None
    enabled: bool | None = None
    public_key: str | None = None
    private_key: str | None = None


# --- batch loaders ---------------------------------------------------------------------------


_USERS: Final = Direct(select(*USER_COLUMNS).where(among_bound(SecUser.id)))


async def users_by_id(db: Lease, ids: list[int]) -> list[Any | None]:
    """Users by id, one SELECT for the batch; None for an unknown id."""
    return await rows_by_id(db, _USERS, ids)


async def roles_by_user(db: Lease, user_ids: list[int]) -> list[frozenset[str]]:
    """The real role authorities of each user, one SELECT for the batch."""
    stmt = (
        select(SecUserSecRole.sec_user_id, SecRole.authority)
        .join(SecRole, SecRole.id == SecUserSecRole.sec_role_id)
        .where(SecUserSecRole.sec_user_id.in_(user_ids))
    )
    async with db.read() as conn:
        rows = (await conn.execute(stmt)).all()
    grouped: defaultdict[int, set[str]] = defaultdict(set)
    for user_id, authority in rows:
        grouped[user_id].add(authority)
    return [frozenset(grouped[key]) for key in user_ids]


def highest_role(roles: frozenset[str]) -> str | None:
    return next((role for role in ROLE_RANK if role in roles), None)


# --- users: reads ----------------------------------------------------------------------------

USER_FILTERS: Final = {
    "id": SecUser.id,
    "username": SecUser.username,
    "firstname": SecUser.firstname,
    "lastname": SecUser.lastname,
    "email": SecUser.email,
    "language": SecUser.language,
    "origin": SecUser.origin,
    "enabled": SecUser.enabled,
    "isDeveloper": SecUser.is_developer,
    "created": SecUser.created,
    "updated": SecUser.updated,
}
_FULL_NAME: Final = SecUser.firstname + " " + SecUser.lastname
_HIGHEST_ROLE: Final = (
    select(func.min(func.array_position(list(ROLE_RANK), SecRole.authority)))
    .join(SecUserSecRole, SecRole.id == SecUserSecRole.sec_role_id)
    .where(SecUserSecRole.sec_user_id == SecUser.id)
    .scalar_subquery()
)


async def get_user(ctx: Context, *, id: int | None = None, username: str | None = None) -> Any:
    """One user by id or by username (case-insensitive); 404 when unknown."""
    ctx.require_guest()
    stmt = select(*USER_COLUMNS)
    if id is not None:
        stmt, key = stmt.where(SecUser.id == id), str(id)
    elif username is not None:
        stmt, key = stmt.where(func.lower(SecUser.username) == username.lower()), username
    else:
        raise InvalidInput("user: give an id or a username")
    async with ctx.db.read() as conn:
        row = (await conn.execute(stmt)).first()
    if row is None:
        raise NotFound("User", key)
    return row


async def user_by_public_key(ctx: Context, public_key: str) -> Any:
    ctx.require_guest()
    async with ctx.db.read() as conn:
        row = (
            await conn.execute(select(*USER_COLUMNS).where(SecUser.public_key == public_key))
        ).first()
    if row is None:
        raise NotFound("User", public_key, field="publicKey")
    return row


async def list_users(
    ctx: Context,
    *,
    limit: int | None,
    offset: int = 0,
    sort: str | None = None,
    order: str | None = None,
    filters: Sequence[Filter] = (),
    with_roles: bool = False,
) -> Page[Any]:
    """Users, sorted by username by default; `fullName[ilike]` matches names, username and,
    for an administrator, e-mail. E-mails are an administrator's to see (contract decision 7):
    nobody else may filter or sort on them, which would reveal them a guess at a time."""
    viewer = ctx.require_guest()
    if not viewer.is_admin and (sort == "email" or any(c.field == "email" for c in filters)):
        raise Forbidden("Only administrators may filter or sort users by e-mail")
    stmt = apply_filters(select(*USER_COLUMNS), filters, USER_FILTERS)
    searched = _FULL_NAME + " " + SecUser.username
    if viewer.is_admin:
        searched = searched + " " + SecUser.email
    for condition in filters:
        if condition.field == "fullName" and condition.op in ("ilike", "like", "equals"):
            pattern = "%" + (condition.value or "").replace("*", "%") + "%"
            stmt = stmt.where(searched.ilike(pattern))
    sortable: dict[str, Any] = {**USER_FILTERS, "fullName": _FULL_NAME}
    if with_roles:
        sortable["role"] = _HIGHEST_ROLE
    elif sort == "role":
        raise InvalidInput("Cannot sort on role without argument withRoles")
    stmt = apply_sort(stmt, sort, order, sortable, default="username", tie=SecUser.id)
    async with ctx.db.read() as conn:
        return await fetch_page(conn, stmt, limit=ctx.page_limit(limit), offset=offset)


async def user_keys(
    ctx: Context,
    *,
    id: int | None = None,
    username: str | None = None,
    public_key: str | None = None,
) -> Any:
    """A user's key pair (the caller's when nothing names a user): only for that user or an
    admin (core.md §2.2), a super administrator's only for a super administrator
    (`_refuse_super_admin`), and never for a short-term token, which reads only: the private
    key would sign any write and outlive it."""
    viewer = ctx.require_viewer()
    if viewer.read_only:
        raise Forbidden("A short-term token may not read API keys")
    stmt = select(SecUser.id, SecUser.public_key, SecUser.private_key)
    if id is None and username is None and public_key is None:
        id = viewer.id
    if id is not None:
        stmt, key, field = stmt.where(SecUser.id == id), str(id), "id"
    elif username is not None:
        stmt, key, field = (
            stmt.where(func.lower(SecUser.username) == username.lower()),
            username,
            "id",
        )
    else:
        public_key = public_key or ""
        stmt, key, field = stmt.where(SecUser.public_key == public_key), public_key, "publicKey"
    async with ctx.db.read() as conn:
        row = (await conn.execute(stmt)).first()
        if row is None:
            raise NotFound("User", key, field=field)
        if row.id != viewer.id and not viewer.is_admin:
            raise Forbidden("Only the user or an administrator may read these keys")
        await _refuse_super_admin(conn, viewer, row.id)
    return row


# --- users: writes ---------------------------------------------------------------------------


def _new_key() -> str:
    return str(uuid.uuid4())


def _language(value: str | None) -> str:
    if value is None or value == "":
        return "EN"
    upper = value.strip().upper()
    if upper in LANGUAGES.values():
        return upper
    if upper in LANGUAGES:
        return LANGUAGES[upper]
    raise InvalidInput(f"Unknown language {value!r}: use one of {', '.join(LANGUAGES.values())}")


def _required(value: str | None, name: str, limit: int = 255) -> str:
    if value is None or not value.strip():
        raise InvalidInput(f"Property {name} must be set")
    if len(value) > limit:
        raise InvalidInput(f"Property {name} is longer than {limit} characters")
    return value.strip()


def _email(value: str | None) -> str:
    email = _required(value, "email", 254)
    if len(email) < 5 or not EMAIL.match(email) or not _one_mailbox(email):
        raise InvalidInput(f"{email!r} is not a valid e-mail address")
    return email


def _one_mailbox(email: str) -> bool:
    """Whether `email` is one plain address as mail headers read it (not `a,b@c.d`, `x:y@b.c`
    or `a@[b.c`): what is stored is where mail to the user goes."""
    try:
        return Address(addr_spec=email).addr_spec == email
    except (ValueError, IndexError, AttributeError, HeaderParseError):
        return False


def _check_password(password: str | None) -> str:
    if password is None or password == "":
        raise InvalidInput("Password is missing in JSON")
    if len(password) < MIN_PASSWORD:
        raise InvalidInput("Your password must have at least 8 characters!")
    if len(password) > 1024:
        raise InvalidInput("Your password must have at most 1024 characters!")
    return password


async def _admin_only(ctx: Context, row: Mapping[str, Any]) -> None:
    ctx.require_admin()


async def _refuse_super_admin(conn: Connection, viewer: Viewer, user_id: int) -> None:
    """`Forbidden` when `user_id` is another user holding ROLE_SUPER_ADMIN and the caller does
    not: only a super administrator grants that role, and an administrator who could read a
    super administrator's keys or set their password, e-mail, lock or roles would take the
    role by another road."""
    if user_id == viewer.id or SUPER_ADMIN in viewer.roles:
        return
    held = select(SecUserSecRole.id).join(SecRole, SecRole.id == SecUserSecRole.sec_role_id)
    held = held.where(SecUserSecRole.sec_user_id == user_id, SecRole.authority == SUPER_ADMIN)
    if (await conn.execute(held.limit(1))).first() is not None:
        raise Forbidden("Only a super administrator may do this to a super administrator")


USER_SPEC: Final = register(
    Spec("User", SecUser, lambda row: f"{row['id']} ({row['username']})",
         authorize=_admin_only)
)  # fmt: skip
LINK_SPEC: Final = register(
    Spec("SecUserSecRole", SecUserSecRole,
         lambda row: f"{row['sec_user_id']} ({row['sec_role_id']})", authorize=_admin_only)
)  # fmt: skip


async def _grant(conn: Connection, user_id: int, authorities: Sequence[str]) -> None:
    roles = select(literal(user_id, BigInteger), SecRole.id).where(
        SecRole.authority.in_(authorities)
    )
    await conn.execute(insert(SecUserSecRole).from_select(["sec_user_id", "sec_role_id"], roles))


async def new_user_values(settings: Settings, fields: UserFields) -> dict[str, Any]:
    """The row of a new user from `fields`, checked by the creation rules (core.md §9.1):
    required names, a valid e-mail, a password of 8 characters or more (hashed here)."""
    return {
        "username": _required(fields.username, "username"),
        "firstname": _required(fields.firstname, "firstname"),
        "lastname": _required(fields.lastname, "lastname"),
        "email": _email(fields.email),
        "language": _language(fields.language),
        "is_developer": bool(fields.is_developer),
        "origin": _required(fields.origin, "origin") if fields.origin else "ADMINISTRATOR",
        "enabled": True if fields.enabled is None else fields.enabled,
        "password_hash": await hash_password(settings, _check_password(fields.password)),
        "public_key": _new_key(),
        "private_key": _new_key(),
    }


async def insert_user(log: CommandLog, values: Mapping[str, Any]) -> Changed:
    """Insert a user made by `new_user_values` in the log's transaction, recorded as an add
    command, with ROLE_USER and a storage of their own; a taken username is a `Conflict`."""
    conn = log.conn
    with constraint_errors(f"User {values['username']} already exist!"):
        row = await insert_row(conn, SecUser, values)
    command = await log.add(USER_SPEC, row)
    await _grant(conn, row.id, (USER,))
    await create_storage_row(conn, log, f"{row.username} storage", row.id, printed=False)
    return Changed(row, command)


async def create_user(ctx: Context, fields: UserFields) -> Changed:
    """Create a user with fresh keys, ROLE_USER and a storage of their own; administrators
    only (decision 1)."""
    viewer = ctx.require_admin()
    values = await new_user_values(ctx.settings, fields)
    async with ctx.db.transaction() as conn:
        return await insert_user(CommandLog(conn, viewer), values)


async def update_user(ctx: Context, user_id: int, fields: UserFields) -> Changed:
    """Replace a user's profile (PUT semantics, core.md §1.11); self or administrator."""
    viewer = ctx.require_viewer()
    if viewer.id != user_id and not viewer.is_admin:
        raise Forbidden("You can only update your own profile")
    values: dict[str, Any] = {
        "username": _required(fields.username, "username"),
        "firstname": _required(fields.firstname, "firstname"),
        "lastname": _required(fields.lastname, "lastname"),
        "email": _email(fields.email),
        "language": _language(fields.language),
        "is_developer": bool(fields.is_developer),
    }
    if fields.password:
        values["password_hash"] = await hash_password(
            ctx.settings, _check_password(fields.password)
        )
        values["password_expired"] = False
    if fields.public_key == "" or fields.private_key == "":
        values["public_key"], values["private_key"] = _new_key(), _new_key()
    if fields.enabled is not None and viewer.is_admin:
        if not fields.enabled and user_id == viewer.id:
            raise InvalidInput("You cannot lock yourself")
        values["enabled"] = fields.enabled
    return await _edit_user(ctx, viewer, user_id, values)


async def _edit_user(ctx: Context, viewer: Viewer, user_id: int, values: dict[str, Any]) -> Changed:
    async with ctx.db.transaction() as conn:
        await _refuse_super_admin(conn, viewer, user_id)
        username = values.get("username", "")
        _, after, command = await update_logged(
            CommandLog(conn, viewer),
            USER_SPEC,
            user_id,
            values,
            conflict=f"User {username} already exist!",
        )
        if "password_hash" in values:
            await _end_tokens(conn, user_id)
    return Changed(after, command)


async def _end_tokens(conn: Connection, user_id: int) -> None:
    """A new password ends every login token of the user (an invitation's too): a leaked token
    does not outlive a password reset, and the user signs in again with the new password."""
    await conn.execute(delete(AuthToken).where(AuthToken.user_id == user_id))


async def set_user_enabled(ctx: Context, user_id: int, enabled: bool) -> Changed:
    """Lock or unlock a user (administrators); a locked user can no longer authenticate."""
    viewer = ctx.require_admin()
    async with ctx.db.read() as conn:
        current = (await conn.execute(select(SecUser.enabled).where(SecUser.id == user_id))).first()
    if current is None:
        raise NotFound("User", user_id)
    if current.enabled == enabled:
        raise InvalidInput("User already unlocked !" if enabled else "User already locked !")
    if not enabled and user_id == viewer.id:
        raise InvalidInput("You cannot lock yourself")
    return await _edit_user(ctx, viewer, user_id, {"enabled": enabled})


async def set_password(ctx: Context, user_id: int, password: str | None) -> Any:
    """Change a password (self or administrator); not a command (core.md §8.1). The user's
    login tokens end with it."""
    viewer = ctx.require_viewer()
    if viewer.id != user_id and not viewer.is_admin:
        raise Forbidden("You can only change your own password")
    hashed = await hash_password(ctx.settings, _check_password(password))
    async with ctx.db.transaction() as conn:
        await _refuse_super_admin(conn, viewer, user_id)
        row = (
            await conn.execute(
                update(SecUser)
                .where(SecUser.id == user_id)
                .values(password_hash=hashed, password_expired=False)
                .returning(*USER_COLUMNS)
            )
        ).first()
        if row is not None:
            await _end_tokens(conn, user_id)
    if row is None:
        raise NotFound("User", user_id)
    return row


async def regenerate_keys(ctx: Context) -> Any:
    """Give the caller a new key pair; the old one stops working at once."""
    viewer = ctx.require_viewer()
    async with ctx.db.transaction() as conn:
        return (
            await conn.execute(
                update(SecUser)
                .where(SecUser.id == viewer.id)
                .values(public_key=_new_key(), private_key=_new_key())
                .returning(SecUser.id, SecUser.public_key, SecUser.private_key)
            )
        ).one()


async def delete_user(ctx: Context, user_id: int) -> Changed:
    """Delete a user and what hangs from it (administrators; never yourself).

    Refused while one of the user's storages holds files (core.md §9.1). Role links and
    storages are recorded before the user goes, so undo brings them back with it.
    """
    viewer = ctx.require_admin()
    if user_id == viewer.id:
        raise InvalidInput("You cannot delete yourself")
    async with ctx.db.transaction() as conn:
        row = await lock_row(conn, SecUser, "User", user_id)
        await _refuse_super_admin(conn, viewer, user_id)
        storages = (
            await conn.execute(select(*table_of(Storage).c).where(Storage.user_id == user_id))
        ).all()
        holding = select(UploadedFile.id).where(
            among(UploadedFile.storage_id, [storage.id for storage in storages])
        )
        if (await conn.execute(holding.limit(1))).first() is not None:
            raise InvalidInput(
                f"Storage contains data, cannot delete user {row.username}: delete its files first"
            )
        links = (
            await conn.execute(
                select(*table_of(SecUserSecRole).c).where(SecUserSecRole.sec_user_id == user_id)
            )
        ).all()
        log = CommandLog(conn, viewer)
        await log.delete_many(LINK_SPEC, links)
        await log.delete_many(STORAGE, storages)
        command = await log.delete(USER_SPEC, row)
        await conn.execute(delete(SecUser).where(SecUser.id == user_id))
    return Changed(row, command)


# --- roles -----------------------------------------------------------------------------------


async def list_roles(ctx: Context) -> Sequence[Any]:
    """Every role in bootstrap order (clients index the last one as ROLE_GUEST)."""
    ctx.require_guest()
    async with ctx.db.read() as conn:
        return (await conn.execute(select(*ROLE_COLUMNS).order_by(SecRole.id))).all()


async def get_role(ctx: Context, role_id: int) -> Any:
    ctx.require_guest()
    async with ctx.db.read() as conn:
        row = (await conn.execute(select(*ROLE_COLUMNS).where(SecRole.id == role_id))).first()
    if row is None:
        raise NotFound("SecRole", role_id)
    return row


def _links() -> Any:
    return select(*LINK_COLUMNS).join(SecRole, SecRole.id == SecUserSecRole.sec_role_id)


async def _user_exists(conn: Connection, user_id: int) -> None:
    if (await conn.execute(select(SecUser.id).where(SecUser.id == user_id))).first() is None:
        raise NotFound("User", user_id)


async def list_user_roles(ctx: Context, user_id: int) -> Sequence[Any]:
    """The role links of a user, oldest first."""
    ctx.require_guest()
    async with ctx.db.read() as conn:
        await _user_exists(conn, user_id)
        stmt = _links().where(SecUserSecRole.sec_user_id == user_id).order_by(SecRole.id)
        return (await conn.execute(stmt)).all()


async def get_user_role(ctx: Context, user_id: int, role_id: int) -> Any:
    ctx.require_guest()
    stmt = _links().where(
        SecUserSecRole.sec_user_id == user_id, SecUserSecRole.sec_role_id == role_id
    )
    async with ctx.db.read() as conn:
        row = (await conn.execute(stmt)).first()
    if row is None:
        raise NotFound("SecUserSecRole", f"user={user_id}, role={role_id}", field="key")
    return row


async def _role_authority(conn: Connection, role_id: int) -> str:
    """The authority of a role; 404 when unknown."""
    authority = (
        await conn.execute(select(SecRole.authority).where(SecRole.id == role_id))
    ).scalar_one_or_none()
    if authority is None:
        raise NotFound("SecRole", role_id)
    return str(authority)


async def add_user_role(ctx: Context, user_id: int, role_id: int) -> Changed:
    """Grant a role. Admin roles, or any role to a guest-only user, need an administrator."""
    viewer = ctx.require_viewer()
    if not viewer.is_user:
        raise Forbidden()
    async with ctx.db.transaction() as conn:
        await _user_exists(conn, user_id)
        authority = await _role_authority(conn, role_id)
        current = (await roles_by_user(ctx.db, [user_id]))[0]
        needs_admin = authority in (ADMIN, SUPER_ADMIN) or current <= {GUEST}
        if needs_admin and not viewer.is_admin:
            raise Forbidden("Only an administrator may grant this role")
        if authority == SUPER_ADMIN and SUPER_ADMIN not in viewer.roles:
            raise Forbidden("Only a super administrator may grant ROLE_SUPER_ADMIN")
        with constraint_errors(f"User {user_id} already has role {authority}"):
            link = await insert_row(
                conn, SecUserSecRole, {"sec_user_id": user_id, "sec_role_id": role_id}
            )
        command = await CommandLog(conn, viewer).add(LINK_SPEC, link)
        row = (await conn.execute(_links().where(SecUserSecRole.id == link.id))).one()
    return Changed(row, command)


def _refuse_own_role(viewer: Viewer, user_id: int, authorities: set[str]) -> None:
    if viewer.id == user_id and authorities - {SUPER_ADMIN}:
        raise Forbidden("You cannot remove you a role")


async def remove_user_role(ctx: Context, user_id: int, role_id: int) -> Changed:
    """Withdraw a role (administrators; never one of your own but ROLE_SUPER_ADMIN)."""
    viewer = ctx.require_admin()
    async with ctx.db.transaction() as conn:
        row = (
            await conn.execute(
                _links().where(
                    SecUserSecRole.sec_user_id == user_id, SecUserSecRole.sec_role_id == role_id
                )
            )
        ).first()
        if row is None:
            raise NotFound("SecUserSecRole", f"user={user_id}, role={role_id}", field="key")
        _refuse_own_role(viewer, user_id, {row.authority})
        await _refuse_super_admin(conn, viewer, user_id)
        link = await delete_row(conn, SecUserSecRole, "SecUserSecRole", row.id)
        command = await CommandLog(conn, viewer).delete(LINK_SPEC, link)
    return Changed(row, command)


async def define_roles(ctx: Context, user_id: int, role_id: int) -> list[Any]:
    """Replace a user's roles by the canonical set of `role_id`; returns the active roles."""
    viewer = ctx.require_admin()
    async with ctx.db.transaction() as conn:
        await _user_exists(conn, user_id)
        authority = await _role_authority(conn, role_id)
        wanted = set(CANONICAL_ROLES[authority])
        current = set(
            (
                await conn.execute(
                    select(SecRole.authority)
                    .join(SecUserSecRole, SecRole.id == SecUserSecRole.sec_role_id)
                    .where(SecUserSecRole.sec_user_id == user_id)
                )
            ).scalars()
        )
        _refuse_own_role(viewer, user_id, current - wanted)
        if SUPER_ADMIN in current and current != wanted:
            await _refuse_super_admin(conn, viewer, user_id)
        if SUPER_ADMIN in wanted - current and SUPER_ADMIN not in viewer.roles:
            raise Forbidden("Only a super administrator may grant ROLE_SUPER_ADMIN")
        await conn.execute(
            delete(SecUserSecRole).where(
                SecUserSecRole.sec_user_id == user_id,
                SecUserSecRole.sec_role_id.in_(
                    select(SecRole.id).where(SecRole.authority.in_(current - wanted))
                ),
            )
        )
        if wanted - current:
            await _grant(conn, user_id, sorted(wanted - current))
        roles = (
            await conn.execute(
                select(*ROLE_COLUMNS).where(SecRole.authority.in_(wanted)).order_by(SecRole.id)
            )
        ).all()
    active = Viewer(id=user_id, username="", roles=frozenset(wanted)).active_roles
    return [row for row in roles if row.authority in active]


def user_row(row: Any) -> UserRow:
    """Describe a row of USER_COLUMNS to mypy."""
    return cast(UserRow, row)
