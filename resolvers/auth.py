"""Who is calling: credential look-ups, login tokens, password checks and admin sessions
(contract core.md §2). The gateway parses headers; the SQL lives here."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from db.engine import Connection, Database, Lease
from db.models import AdminSession, AuthToken, SecRole, SecUser, SecUserSecRole
from resolvers.context import Context
from resolvers.errors import Forbidden, Unauthenticated
from resolvers.passwords import verify_password
from resolvers.sign_in_limit import begin_attempt, succeeded
from resolvers.viewer import Viewer

__all__ = [
    "SESSION_COOKIE",
    "Credential",
    "Identity",
    "Tokens",
    "check_password",
    "close_admin_session",
    "credential_by_public_key",
    "identity_by_token",
    "issue_token",
    "login",
    "logout",
    "open_admin_session",
    "prune_tokens",
    "short_term_token",
    "sign",
    "token_hash",
]

SHORT_TOKEN_SECONDS = 300
#: The cookie a browser login sets (`login(session: true)`).
SESSION_COOKIE = "cytogate_session"


@dataclass(frozen=True, slots=True)
class Identity:
    """An enabled user found by a token, and when it lapses by time: the token's expiry or the
    end of the user's open admin session, whichever comes first (None: neither)."""

    viewer: Viewer
    until: datetime | None = None


@dataclass(frozen=True, slots=True)
class Credential:
    """An enabled user found by public key, with the private key to check a signature, and
    when it lapses by time (the end of an open admin session; None: never)."""

    viewer: Viewer
    private_key: str
    until: datetime | None = None


@dataclass(frozen=True, slots=True)
class Tokens:
    token: str
    short_term_token: str
    expires: datetime


def sign(private_key: str, canonical: str) -> str:
    """Cytomine's signature: base64 of HMAC-SHA1 keyed by the private key's UTF-8 bytes."""
    digest = hmac.digest(private_key.encode(), canonical.encode(), "sha1")
    return base64.b64encode(digest).decode()


def token_hash(token: str) -> str:
    """Tokens are stored only as their SHA-256: a leaked table gives no usable token."""
    return hashlib.sha256(token.encode()).hexdigest()


def _viewer_query(now: datetime):  # type: ignore[no-untyped-def]
    """The user, their roles and whether an admin session is open: one statement."""
    roles = (
        select(func.coalesce(func.array_agg(SecRole.authority), []))
        .join(SecUserSecRole, SecRole.id == SecUserSecRole.sec_role_id)
        .where(SecUserSecRole.sec_user_id == SecUser.id)
        .scalar_subquery()
    )
    session_end = (
        select(func.max(AdminSession.expires))
        .where(AdminSession.user_id == SecUser.id, AdminSession.expires > now)
        .scalar_subquery()
    )
    return select(
        SecUser.id,
        SecUser.username,
        SecUser.private_key,
        roles.label("roles"),
        session_end.label("session_end"),
    ).where(SecUser.enabled.is_(True))


async def credential_by_public_key(db: Lease, public_key: str) -> Credential | None:
    now = datetime.now(UTC)
    async with db.read() as conn:
        row = (
            await conn.execute(_viewer_query(now).where(SecUser.public_key == public_key))
        ).first()
    if row is None:
        return None
    viewer = Viewer(row.id, row.username, frozenset(row.roles), row.session_end is not None)
    return Credential(viewer, row.private_key, row.session_end)


async def identity_by_token(db: Lease, token: str, method: str) -> Identity | None:
    """The user of a live bearer or session token; short-term tokens serve GET only."""
    now = datetime.now(UTC)
    stmt = (
        _viewer_query(now)
        .add_columns(AuthToken.get_only, AuthToken.expires)
        .join(AuthToken, AuthToken.user_id == SecUser.id)
        .where(AuthToken.token_hash == token_hash(token), AuthToken.expires > now)
    )
    async with db.read() as conn:
        row = (await conn.execute(stmt)).first()
    if row is None:
        return None
    if row.get_only and method not in ("GET", "HEAD"):
        raise Forbidden("A short-term token may only be used to read")
    viewer = Viewer(row.id, row.username, frozenset(row.roles), row.session_end is not None,
                    read_only=bool(row.get_only))  # fmt: skip
    ends = [row.expires, *([] if row.session_end is None else [row.session_end])]
    return Identity(viewer, min(ends))


async def issue_token(
    conn: Connection, user_id: int, lifetime: timedelta, *, get_only: bool = False
) -> str:
    """A new bearer token for the user, valid for `lifetime`; only its hash is stored."""
    token = secrets.token_urlsafe(32)
    await conn.execute(
        pg_insert(AuthToken).values(
            token_hash=token_hash(token),
            user_id=user_id,
            get_only=get_only,
            expires=datetime.now(UTC) + lifetime,
        )
    )
    return token


async def login(ctx: Context, username: str, password: str, remember_me: bool = False) -> Tokens:
    """Check a username and password; issue a token and a 300-second read-only token.

    One message for every failure, so the answer never says whether a username exists; too
    many failures make the next tries wait (resolvers/sign_in_limit.py), existing user or not.
    """
    attempt = await begin_attempt(ctx, username)
    async with ctx.db.read() as conn:
        row = (
            await conn.execute(
                select(SecUser.id, SecUser.password_hash, SecUser.enabled).where(
                    func.lower(SecUser.username) == username.lower()
                )
            )
        ).first()
    valid = await verify_password(ctx.settings, row.password_hash if row else None, password)
    if row is None or not valid or not row.enabled:
        raise Forbidden("Bad username or password")
    await succeeded(ctx, attempt)
    lifetime = (
        timedelta(days=ctx.settings.remember_me_days)
        if remember_me
        else timedelta(hours=ctx.settings.token_hours)
    )
    async with ctx.db.transaction() as conn:
        await conn.execute(delete(AuthToken).where(AuthToken.expires < func.now()))
        token = await issue_token(conn, row.id, lifetime)
        short = await issue_token(
            conn, row.id, timedelta(seconds=SHORT_TOKEN_SECONDS), get_only=True
        )
    return Tokens(token, short, datetime.now(UTC) + lifetime)


async def short_term_token(ctx: Context) -> str:
    """A fresh 300-second read-only token for the caller, as a signed-in ping gives (core.md
    §2.6): what a browser page puts in the URLs of its `<img>` tags."""
    viewer = ctx.require_viewer()
    if viewer.read_only:
        raise Forbidden("A short-term token cannot bring another one: it would never expire")
    async with ctx.db.transaction() as conn:
        return await issue_token(
            conn, viewer.id, timedelta(seconds=SHORT_TOKEN_SECONDS), get_only=True
        )


async def prune_tokens(db: Database) -> int:
    """Forget the expired tokens (pings issue one every time); returns how many went."""
    async with db.transaction() as conn:
        gone = await conn.execute(delete(AuthToken).where(AuthToken.expires < func.now()))
    return int(gone.rowcount)


async def logout(ctx: Context, token: str | None) -> None:
    """Revoke the token the caller used (bearer or cookie), if any."""
    if token is None:
        return
    async with ctx.db.transaction() as conn:
        await conn.execute(delete(AuthToken).where(AuthToken.token_hash == token_hash(token)))


async def check_password(ctx: Context, password: str | None) -> None:
    """`security_check`: the caller's own password, or 401; limited as sign-ins are."""
    viewer = ctx.require_viewer()
    attempt = await begin_attempt(ctx, viewer.username)
    async with ctx.db.read() as conn:
        stored = (
            await conn.execute(select(SecUser.password_hash).where(SecUser.id == viewer.id))
        ).scalar_one_or_none()
    if not password or not await verify_password(ctx.settings, stored, password):
        raise Unauthenticated("No matching password")
    await succeeded(ctx, attempt)


def _writer(ctx: Context) -> Viewer:
    """The caller of a change that arrives over GET: refused to a short-term token, which
    core accepts for reads only (core.md §2.3)."""
    viewer = ctx.require_viewer()
    if viewer.read_only:
        raise Forbidden("A short-term token may only be used to read")
    return viewer


async def open_admin_session(ctx: Context) -> Viewer:
    """Activate ROLE_ADMIN for the caller for the configured time (decision 3); not with a
    short-term token, which only reads."""
    viewer = _writer(ctx)
    if not viewer.holds_admin_role:
        raise Forbidden("You are not an admin!")
    expires = datetime.now(UTC) + timedelta(minutes=ctx.settings.admin_session_minutes)
    stmt = pg_insert(AdminSession).values(user_id=viewer.id, expires=expires)
    stmt = stmt.on_conflict_do_update(
        index_elements=[AdminSession.user_id], set_={"opened": func.now(), "expires": expires}
    )
    async with ctx.db.transaction() as conn:
        await conn.execute(stmt)
    return dataclasses.replace(viewer, admin_session=True)


async def close_admin_session(ctx: Context) -> Viewer:
    viewer = _writer(ctx)
    if not viewer.holds_admin_role:
        raise Forbidden("You are not an admin!")
    async with ctx.db.transaction() as conn:
        await conn.execute(delete(AdminSession).where(AdminSession.user_id == viewer.id))
    return dataclasses.replace(viewer, admin_session=False)
