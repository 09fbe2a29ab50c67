"""The middleware every request passes: a lease on the database, authentication (a change
that rides the session cookie alone only from the server's own pages), one JSON error shape per
surface, and one access line.

Every answer built here says how long the server took to handle it (`Server-Timing: app;dur=`,
milliseconds from the request's first step to its answer, before the body is sent): what a
client waited beyond that was spent queueing, on the network or in the client.

Errors are JSON whatever their origin: a domain error keeps its status and message, a refused
transport (a bad body, a wrong method, a body the HTTP parser refused) its status, and anything
else is a bug, logged once with its traceback and answered 500. `/graphql` answers in GraphQL's
shape (`errors` a list, each with `extensions.code`); every other path in Cytomine's (core.md
§5.1). A 503 carries `Retry-After`.
"""

from __future__ import annotations

import itertools
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestPayloadError
from aiohttp.web_request import BaseRequest

from gateway import graphiql
from gateway.auth import Authentication, authenticate
from gateway.state import (
    AUTH,
    BRIDGE,
    CONTEXT,
    CREDENTIALS,
    DATABASE,
    LEASE,
    PIXEL_GATE,
    SETTINGS,
)
from resolvers.context import Context
from resolvers.errors import CytogateError, Forbidden, Unauthenticated, domain_error
from resolvers.forwarded import caller_address, public_origin
from rest_compat.envelopes import NO_STORE, error_body, json_response
from rest_compat.pixel_gate import TURN
from rest_compat.routes import Traits
from settings import Settings

__all__ = [
    "ANONYMOUS",
    "GRAPHQL_PATH",
    "error_response",
    "middleware",
    "no_sniff",
    "refusal_message",
]

log = logging.getLogger("cytogate")
access_log = logging.getLogger("cytogate.access")
#: Request ids: a random prefix per process and a counter, unique across processes and
#: restarts as uuid4 was, without a system call for every request (a viewer asks hundreds).
_ID_PREFIX: Final = secrets.token_hex(4)
_ID_COUNTER: Final = itertools.count(1)

GRAPHQL_PATH: Final = "/graphql"
#: Reachable without credentials (core.md §2); every other /api route answers 401 to anonymous.
ANONYMOUS: Final = frozenset(
    ("/server/ping", "/server/ping.json", "/status.json", "/api/authenticate", GRAPHQL_PATH)
).union(graphiql.ASSET_PATHS)
#: The GraphQL code of a transport-level refusal, by HTTP status.
CODE_BY_STATUS: Final[Mapping[int, str]] = {
    400: "BAD_REQUEST",
    401: "UNAUTHENTICATED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    500: "INTERNAL_SERVER_ERROR",
    503: "UNAVAILABLE",
}

#: Methods that change nothing: a page of another site may make a browser send them freely.
SAFE_METHODS: Final = frozenset(("GET", "HEAD", "OPTIONS"))
#: `Sec-Fetch-Site` values of a request a page of this very server (or the user) made.
OWN_SITE: Final = frozenset(("same-origin", "none"))

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def error_response(
    request: BaseRequest,
    message: str,
    status: int,
    *,
    code: str | None = None,
    values: Mapping[str, Any] | None = None,
    retry_after: int | None = None,
) -> web.Response:
    """An error answer in the shape of the request's surface (GraphQL or Cytomine REST)."""
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    if request.path == GRAPHQL_PATH:
        extensions: dict[str, Any] = {
            "code": code or CODE_BY_STATUS.get(status, "BAD_REQUEST"),
            "errorValues": dict(values or {}),
        }
        if retry_after is not None:
            extensions["retryAfter"] = retry_after
        body: Any = {"data": None, "errors": [{"message": message, "extensions": extensions}]}
        return json_response(body, status=status, headers=headers)
    return json_response(error_body(message, values), status=status, headers=headers)


def refusal_message(error: BaseException | str) -> str:
    """What aiohttp's HTTP parser said of a request it refused, on one line (it points at the
    offending byte on lines of their own)."""
    text = error.message if isinstance(error, HttpProcessingError) else str(error)
    lines = (line.strip() for line in text.splitlines())
    return "Malformed HTTP request: " + " ".join(line for line in lines if line.strip("^"))


def _domain_response(request: web.Request, error: CytogateError) -> web.Response:
    return error_response(request, error.message, error.status, code=error.code,
                          values=error.values, retry_after=error.retry_after)  # fmt: skip


def _apply_cookies(request: web.Request, response: web.StreamResponse) -> None:
    ctx: Context | None = request.get(CONTEXT)
    if ctx is None or response.prepared:
        return
    settings = request.app[SETTINGS]
    # the caller reached us over TLS (a URL's scheme is case-insensitive: HTTPS:// too)
    secure = ctx.public_url[:6].lower() == "https:"
    for name, value in ctx.cookies.items():
        if value is None:
            response.del_cookie(name, path="/")
        else:
            response.set_cookie(
                name, value, path="/", httponly=True, samesite="Lax", secure=secure,
                max_age=settings.token_hours * 3600,
            )  # fmt: skip


def _authority(netloc: str) -> str:
    """A host and port as compared across headers: lower-cased, the default ports dropped
    (browsers leave them out of `Origin`, some proxies put them in `Host`)."""
    return netloc.lower().removesuffix(":80").removesuffix(":443")


def _from_own_page(request: web.Request, settings: Settings) -> bool:
    """Whether a browser sent `request` from a page of this server or of an origin that
    `CYTOGATE_CORS_ORIGINS` lists (not `*`, which allows no cookies), as its headers tell:
    `Sec-Fetch-Site` where the browser sends it, else `Origin` against the host the caller
    addressed (the `Host` header, a trusted proxy's `X-Forwarded-Host`, `CYTOGATE_PUBLIC_URL`).
    A request with neither header (a script, a browser too old to send them) counts as one."""
    origin = request.headers.get("Origin")
    listed = settings.cors_origins if settings.cors_origins != ("*",) else ()
    if origin is not None and origin.rstrip("/").lower() in listed:
        return True
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site.lower() in OWN_SITE
    if origin is None:
        return True
    try:
        parts = urlsplit(origin)
    except ValueError:  # an unclosed IPv6 bracket
        return False
    if parts.scheme not in ("http", "https") or not parts.netloc or "@" in parts.netloc:
        return False  # "null" (a sandboxed frame, a redirect across sites) or garbage
    own = {request.host, public_origin(request, settings.trusted_proxies).partition("://")[2]}
    if settings.public_url:
        own.add(urlsplit(settings.public_url).netloc)
    return _authority(parts.netloc) in {_authority(host) for host in own}


def _check_cookie_origin(request: web.Request) -> None:
    """Refuse a change authenticated by the session cookie alone that a page of another site
    made the browser send (CSRF): `SameSite=Lax` keeps the cookie off cross-site posts, but
    not off those of another port or subdomain of the same site, nor in older browsers; and
    REST bodies are read whatever their declared type, so a plain HTML form can post one."""
    if not request[AUTH].by_cookie or request.method in SAFE_METHODS:
        return
    if not _from_own_page(request, request.app[SETTINGS]):
        raise Forbidden(
            "A change authenticated by the session cookie alone must come from a page of "
            "this server: send a signature or a bearer token from elsewhere"
        )


async def _authenticated(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Authenticate (an anonymous path goes on anonymously past a failure), then handle;
    pixel routes of images and slices with a turn of the pixel gate, other routes counted by it
    so that pixel requests yield to them (rest_compat/pixel_gate.py)."""
    traits = request.app[BRIDGE].router.traits(request.path)
    gate = request.app[PIXEL_GATE]
    if not traits.reuse:
        with gate.other():
            return await _handled(request, handler, traits)
    async with gate.turn() as turn:
        request[TURN] = turn
        return await _handled(request, handler, traits)


async def _handled(request: web.Request, handler: Handler, traits: Traits) -> web.StreamResponse:
    app = request.app
    try:
        request[AUTH] = await authenticate(request, request[LEASE], app[SETTINGS], traits,
                                           app[CREDENTIALS])  # fmt: skip
    except Exception as error:
        if domain_error(error) is None:
            raise
        request[AUTH] = Authentication(None)
        if request.path not in ANONYMOUS or request.path == GRAPHQL_PATH:
            raise
    if request[AUTH].viewer is None and request.path not in ANONYMOUS:
        raise Unauthenticated()
    _check_cookie_origin(request)
    if request.body_exists and not request.content.is_eof():
        # the body is still coming: a slow client must not hold a pooled connection while
        # it trickles in (authentication may have checked one out; the next statement
        # checks one out again)
        await request[LEASE].release()
    response = await handler(request)
    _apply_cookies(request, response)
    return response


def _caller_gone(request: web.Request, error: Exception) -> bool:
    """Whether `error` is the caller hanging up (mid-body, mid-answer): no bug of ours, and
    nobody left to answer; an upstream server's reset leaves the caller's connection open."""
    transport = request.transport
    return isinstance(error, ConnectionResetError) and (transport is None or transport.is_closing())


async def no_sniff(request: web.Request, response: web.StreamResponse) -> None:
    """`on_response_prepare`: every answer, streamed ones and files too, is of the type it
    declares: a browser never sniffs a CSV, a relayed file or an error into a page."""
    response.headers.setdefault("X-Content-Type-Options", "nosniff")


def _next_id() -> str:
    """The id of a request that brought none (X-Request-Id), 16 hexadecimal digits."""
    return f"{_ID_PREFIX}{next(_ID_COUNTER) & 0xFFFFFFFF:08x}"


@web.middleware
async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Lease, authenticate, turn every failure into a JSON error, log one line per request."""
    started = time.perf_counter()
    request_id = request.headers.get("X-Request-Id") or _next_id()
    request[LEASE] = lease = request.app[DATABASE].lease()
    try:
        if request.method == "OPTIONS":
            response: web.StreamResponse = web.Response(status=204)
        else:
            response = await _authenticated(request, handler)
    except web.HTTPException as error:
        if error.status < 400:
            raise
        response = error_response(request, error.reason, error.status)
    except Exception as error:
        domain = domain_error(error)
        if domain is not None:
            response = _domain_response(request, domain)
        elif isinstance(error, (HttpProcessingError, RequestPayloadError)):
            # the parser refused the body as it came (gateway/connection.py): nothing after
            # it on this connection can be read
            response = error_response(request, refusal_message(error), 400)
            response.force_close()
        elif _caller_gone(request, error):
            log.info("%s %s (request %s): the client closed the connection", request.method,
                     request.path, request_id)  # fmt: skip
            response = error_response(request, "The client closed the connection", 400)
        else:
            log.exception("unexpected error on %s %s (request %s)", request.method,
                          request.path, request_id)  # fmt: skip
            response = error_response(request, "Internal error", 500)
    finally:
        await lease.close()
        request.pop(CONTEXT, None)  # it refers to the request: no cycle left to collect
    took = (time.perf_counter() - started) * 1000
    if not response.prepared:
        response.headers["X-Request-Id"] = request_id
        response.headers["Server-Timing"] = f"app;dur={took:.2f}"
        if "Cache-Control" not in response.headers:  # pixels say how long they keep
            response.headers.update(NO_STORE)
    caller = caller_address(request, request.app[SETTINGS].trusted_proxies)
    access_log.info("%s %s %s %s %.1fms id=%s", caller, request.method, request.path,
                    response.status, took, request_id)  # fmt: skip
    return response
