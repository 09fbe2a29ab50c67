"""Reading credentials off a request: Cytomine's HMAC signature, bearer tokens, session cookies.

HMAC (contract core.md §2.1): the client signs `METHOD\\nMD5\\nTYPE\\nDATE` and, in client 3.x,
`\\nRESOURCE` (raw path and query). Every variant the clients produce is tried, each compared in
constant time. The `Date` must lie within `CYTOGATE_HMAC_MAX_SKEW` seconds (decision 2): client
4.x signs no path, so without that window a captured header would authorise any request.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from aiohttp import web

from db.engine import Lease
from resolvers.auth import SESSION_COOKIE, credential_by_public_key, sign, viewer_by_token
from resolvers.errors import Unauthenticated
from resolvers.viewer import Viewer
from settings import Settings

__all__ = ["Authentication", "authenticate", "canonical_strings"]


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
        yield f"{head}\n{resource}"  # client 3.x
        yield head  # client 4.x
        for scheme in schemes:  # client 3.x signing a root-path URL (/session/admin/…)
            yield f"{head}\n/api/{scheme}://{host}{resource}"


def _check_date(request: web.Request, max_skew: int) -> None:
    if max_skew == 0:
        return
    raw = request.headers.get("Date", "")
    try:
        sent = parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        raise Unauthenticated(f"The Date header {raw!r} cannot be read") from None
    if sent.tzinfo is None:
        sent = sent.replace(tzinfo=UTC)
    skew = abs((datetime.now(UTC) - sent).total_seconds())
    if skew > max_skew:
        raise Unauthenticated(
            f"The request's Date is {int(skew)} s away from the server's clock (at most "
            f"{max_skew} s allowed): check the client machine's clock"
        )


async def _hmac(request: web.Request, header: str, db: Lease, settings: Settings) -> Viewer:
    _, _, credentials = header.partition(" ")
    public_key, colon, signature = credentials.partition(":")
    if not colon or "Date" not in request.headers:
        raise Unauthenticated("Malformed CYTOMINE authorization header")
    credential = await credential_by_public_key(db, public_key.strip())
    # Unknown key and bad signature answer alike: the answer never says which keys exist.
    private_key = credential.private_key if credential else "0" * 36
    matched = False
    for canonical in canonical_strings(request, settings.public_path_prefix):
        matched |= hmac.compare_digest(sign(private_key, canonical), signature.strip())
    if credential is None or not matched:
        raise Unauthenticated("Bad API key or signature")
    _check_date(request, settings.hmac_max_skew)
    return credential.viewer


async def authenticate(request: web.Request, db: Lease, settings: Settings) -> Authentication:
    """Authenticate from the first credential present; raises `Unauthenticated` on a bad one."""
    header = request.headers.get("Authorization") or request.query.get("Authorization", "")
    if header.startswith("CYTOMINE "):
        return Authentication(await _hmac(request, header, db, settings))
    if header.startswith("Bearer "):
        token = header[len("Bearer ") :].strip()
        viewer = await viewer_by_token(db, token, request.method)
        if viewer is None:
            raise Unauthenticated("The token is invalid or has expired")
        return Authentication(viewer, token)
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        viewer = await viewer_by_token(db, cookie, request.method)
        if viewer is not None:
            return Authentication(viewer, cookie, by_cookie=True)
    return Authentication(None)
