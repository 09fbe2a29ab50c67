"""Calls from pages of other sites (CORS), for the origins `CYTOGATE_CORS_ORIGINS` lists.

Without the setting a browser may call the server only from its own origin: no answer says
otherwise. A listed origin gets its answers marked readable (with cookies: a page there may
use the browser's session) and its preflights (`OPTIONS`, answered without credentials,
contract core.md §1.12) allowed every method and the headers it asks for; `*` allows every
origin, without cookies. The headers go on when an answer is prepared, so streamed answers,
pixels and errors carry them too.
"""

from __future__ import annotations

from typing import Final

from aiohttp import web

from gateway.state import SETTINGS

__all__ = ["add_cors_headers", "cors_headers"]

METHODS: Final = "GET, HEAD, POST, PUT, DELETE, OPTIONS"
#: What a page may read of an answer beyond the basic headers: the login's token, a file's
#: name, how long to wait, the request's id and its timing.
EXPOSED: Final = "Authorization, Content-Disposition, Retry-After, X-Request-Id, Server-Timing"
#: How long a browser may reuse a preflight's answer (seconds).
MAX_AGE: Final = "600"


def cors_headers(request: web.Request, origins: tuple[str, ...]) -> dict[str, str]:
    """The CORS headers of the answer to `request`; none for an origin not allowed."""
    origin = request.headers.get("Origin")
    if origin is None or not origins:
        return {}
    if origins == ("*",):
        headers = {"Access-Control-Allow-Origin": "*"}
    elif origin.lower() in origins:
        headers = {"Access-Control-Allow-Origin": origin,
                   "Access-Control-Allow-Credentials": "true"}  # fmt: skip
    else:
        return {}
    if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
        headers["Access-Control-Allow-Methods"] = METHODS
        asked = request.headers.get("Access-Control-Request-Headers")
        if asked:
            headers["Access-Control-Allow-Headers"] = asked
        headers["Access-Control-Max-Age"] = MAX_AGE
    else:
        headers["Access-Control-Expose-Headers"] = EXPOSED
    return headers


async def add_cors_headers(request: web.Request, response: web.StreamResponse) -> None:
    """`on_response_prepare`: the CORS headers, and `Vary: Origin` where the answer depends on
    the origin (caches must not give one origin's answer to another)."""
    origins = request.app[SETTINGS].cors_origins
    response.headers.update(cors_headers(request, origins))
    if origins != ("*",):
        vary = response.headers.get("Vary", "")
        if "origin" not in vary.lower():
            response.headers["Vary"] = f"{vary}, Origin" if vary else "Origin"
