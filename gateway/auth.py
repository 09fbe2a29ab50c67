"""Reading credentials off a request: Cytomine's HMAC signature, bearer tokens, session cookies.

HMAC (contract core.md §2.1): the client signs `METHOD\\nMD5\\nTYPE\\nDATE` and, in client 3.x,
`\\nRESOURCE` (raw path and query). Every variant the clients produce is tried, each compared in
constant time. The `Date` must lie within `CYTOGATE_HMAC_MAX_SKEW` seconds (decision 2): client
4.x signs no path, so without that window a captured header would authorise any request.

A bearer token may also come in the query string as `Authorization=Bearer …` (core.md §2, on
every route), and as `auth=…`, the newer Cytomine's name, only on the pixel routes browsers
embed in `<img>` tags (`Route.auth_param`, images-annotations.md §2.10, §3.14). An HMAC
signature is read from the header only.

The identity a key, token or cookie stands for is kept a few seconds
(`CYTOGATE_AUTH_CACHE_SECONDS`; `credentials`, a `db.memo.Memo` forgotten at once when this
process writes a user, role, admin session or token): a script's burst of calls, or a
viewer's tiles, then reads no database to authenticate. The signature itself is checked on
every request. Another process's change (a key or token revoked, a user disabled) counts
within the memo's lifetime.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, Hashable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import lru_cache
from typing import Final, TypeVar

from aiohttp import web

from db.engine import Lease
from db.memo import Memo
from resolvers.auth import (
    SESSION_COOKIE,
    Credential,
    Identity,
    credential_by_public_key,
    identity_by_token,
    sign,
    token_hash,
)
from resolvers.errors import Unauthenticated
from resolvers.viewer import Viewer
from rest_compat.routes import NO_TRAITS, Traits
from settings import Settings

__all__ = ["CREDENTIAL_TABLES", "Authentication", "Credentials", "authenticate",
           "canonical_strings"]  # fmt: skip

#: The tables an identity is read from (`credential_by_public_key`, `identity_by_token`).
CREDENTIAL_TABLES: Final = frozenset(
    ("sec_user", "sec_role", "sec_user_sec_role", "admin_session", "auth_token")
)
#: Identities by key or token, for the routes that reuse their checks.
Credentials = Memo[Hashable, Credential | Identity]
#: Date headers whose moment `_sent_at` keeps.
DATES_KEPT: Final = 256
T = TypeVar("T", Credential, Identity)


@dataclass(frozen=True, slots=True)
class Authentication:
    """Who the request is from (None: anonymous), the token it carried, if any, and whether
    that token came in the session cookie (which a browser sends on its own)."""

    viewer: Viewer | None
    token: str | None = None
    by_cookie: bool = False


def canonical_strings(request: web.Request, prefix: str = "") -> Iterator[str]:
    """Every canonical string a Cytomine client may have signed for this request."""
    method = request.method
    md5 = request.headers.get("Content-MD5", "")
    date = request.headers.get("Date", "")
    declared = request.headers.get("Content-Type", "")
    content_types = (declared, "") if declared else ("",)
    resource = prefix + request.raw_path
    host = request.headers.get("Host", "")
    schemes = dict.fromkeys(
        [request.headers.get("X-Forwarded-Proto", "http"), "http", "https"]
    )  # ordered, unique
    for content_type in content_types:
        head = f"{method}\n{md5}\n{content_type}\n{date}"
        yield head  # client 4.x, the client most requests come from, first
        yield f"{head}\n{resource}"  # client 3.x
        for scheme in schemes:  # client 3.x signing a root-path URL (/session/admin/…)
            yield f"{head}\n/api/{scheme}://{host}{resource}"


@lru_cache(maxsize=DATES_KEPT)
def _sent_at(raw: str) -> datetime | None:
    """The moment a Date header names (UTC when it names no zone), None when unreadable; kept
    per header value, which a client repeats for every request of the same second."""
    try:
        sent = parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return None
    return sent if sent.tzinfo is not None else sent.replace(tzinfo=UTC)


def _check_date(request: web.Request, max_skew: int) -> None:
    if max_skew == 0:
        return
    raw = request.headers.get("Date", "")
    sent = _sent_at(raw)
    if sent is None:
        raise Unauthenticated(f"The Date header {raw!r} cannot be read")
    skew = abs((datetime.now(UTC) - sent).total_seconds())
    if skew > max_skew:
        raise Unauthenticated(
            f"The request's Date is {int(skew)} s away from the server's clock (at most "
            f"{max_skew} s allowed): check the client machine's clock"
        )


async def _remembered(
    memo: Credentials | None, key: Hashable, load: Callable[[], Awaitable[T | None]]
) -> T | None:
    """What `load` gives, through `memo` when there is one (absences are not kept), kept no
    longer than it holds by itself (`until`: a token's expiry, an admin session's end)."""
    if memo is None:
        return await load()
    found = memo.get(key)
    if found is not None:
        return found  # type: ignore[return-value]
    generation = memo.generation
    loaded = await load()
    if loaded is not None:
        until = loaded.until
        lapses = None if until is None else (until - datetime.now(UTC)).total_seconds()
        memo.put(key, loaded, generation, lapses=lapses)
    return loaded


async def _hmac(
    request: web.Request, header: str, db: Lease, settings: Settings, memo: Credentials | None
) -> Viewer:
    _, _, credentials = header.partition(" ")
    public_key, colon, signature = credentials.partition(":")
    if not colon or "Date" not in request.headers:
        raise Unauthenticated("Malformed CYTOMINE authorization header")
    public_key = public_key.strip()
    credential = await _remembered(
        memo, ("key", public_key), lambda: credential_by_public_key(db, public_key)
    )
    # Unknown key and bad signature answer alike: the answer never says which keys exist.
    private_key = credential.private_key if credential else "0" * 36
    # The first match ends the search: which form matched tells nothing to a caller who could
    # sign it, and a signature that matches none is compared with every form.
    sent = signature.strip()
    forms = canonical_strings(request, settings.public_path_prefix)
    matched = any(hmac.compare_digest(sign(private_key, form), sent) for form in forms)
    if credential is None or not matched:
        raise Unauthenticated("Bad API key or signature")
    _check_date(request, settings.hmac_max_skew)
    return credential.viewer


def _presented(request: web.Request, auth_param: bool) -> str:
    """The credentials of the Authorization header, else a bearer token of the query string
    (`auth` only where the route allows it)."""
    header = request.headers.get("Authorization")
    if header:
        return header
    value = request.query.get("Authorization", "")
    if value.startswith("Bearer "):
        return value
    token = request.query.get("auth", "").removeprefix("Bearer ").strip() if auth_param else ""
    return f"Bearer {token}" if token else ""


async def _token_viewer(
    db: Lease, token: str, method: str, memo: Credentials | None
) -> Viewer | None:
    reading = method in ("GET", "HEAD")
    found = await _remembered(
        memo, ("token", token_hash(token), reading), lambda: identity_by_token(db, token, method)
    )
    return None if found is None else found.viewer


async def authenticate(
    request: web.Request,
    db: Lease,
    settings: Settings,
    traits: Traits = NO_TRAITS,
    credentials: Credentials | None = None,
) -> Authentication:
    """Authenticate from the first credential present; raises `Unauthenticated` on a bad one.

    Args:
        traits: what the request's route allows (the `auth` parameter).
        credentials: the identities kept for a few seconds (module docstring).
    """
    header = _presented(request, traits.auth_param)
    if header.startswith("CYTOMINE "):
        return Authentication(await _hmac(request, header, db, settings, credentials))
    if header.startswith("Bearer "):
        token = header[len("Bearer ") :].strip()
        viewer = await _token_viewer(db, token, request.method, credentials)
        if viewer is None:
            raise Unauthenticated("The token is invalid or has expired")
        return Authentication(viewer, token)
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        viewer = await _token_viewer(db, cookie, request.method, credentials)
        if viewer is not None:
            return Authentication(viewer, cookie, by_cookie=True)
    return Authentication(None)
