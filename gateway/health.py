"""`/server/ping` and `/status.json`: whether the server, and the database behind it, can
serve (core.md §2.6). The python client's connection loop waits until ping answers 200, so
while PostgreSQL is unreachable ping answers 503 with `Retry-After` and says so.

A signed-in caller's ping is their presence: it is recorded (with the project named by the
query or the body's `project`, when they may read it), and "online" means a ping in the last
300 s (core.md §9.16). It also brings them a fresh short-term token (`shortTermToken`, 300 s,
read-only), as core did."""

from __future__ import annotations

import contextlib
from typing import Any

import orjson
from aiohttp import web

from db.engine import RETRY_DOWN, DatabaseUnavailable
from gateway.state import AUTH, LEASE, SETTINGS, make_context
from resolvers.activity import record_ping
from resolvers.auth import short_term_token
from resolvers.forwarded import public_url
from rest_compat.envelopes import json_response

__all__ = ["ping", "status"]


async def ping(request: web.Request) -> web.Response:
    """Health and "who am I" for the clients' connection loop."""
    viewer = request[AUTH].viewer
    token: str | None = None
    project: int | None = None
    if viewer is not None and not viewer.read_only:  # a short-term token brings no other
        project = await _project_of(request)  # before any statement: a slow body holds none
        with contextlib.suppress(DatabaseUnavailable):
            token = await short_term_token(make_context(request, trusted=False))
        reachable = token is not None
    else:
        reachable = await request[LEASE].reachable()
    body: dict[str, Any] = {
        "alive": reachable,
        "authenticated": viewer is not None,
        "database": "up" if reachable else "unreachable",
        "version": request.app[SETTINGS].version,
        "serverURL": public_url(request, request.app[SETTINGS]),
        "serverID": "cytogate",
    }
    if viewer is not None:
        body["user"] = viewer.id
    if token is not None:
        body["shortTermToken"] = token
        await record_ping(make_context(request, trusted=False), project)
    if not reachable:
        return json_response(body, status=503, headers={"Retry-After": str(RETRY_DOWN)})
    return json_response(body)


async def _project_of(request: web.Request) -> int | None:
    """The project a ping names, in its query or its JSON body (anything else: none)."""
    value: Any = request.query.get("project")
    if value is None and request.can_read_body:
        try:
            found = orjson.loads(await request.read())
        except orjson.JSONDecodeError:
            found = None
        value = found.get("project") if isinstance(found, dict) else None
    try:
        number = int(value) if value not in (None, "", "null") else None
    except (TypeError, ValueError):
        return None
    return number if number is not None and 0 < number < 2**63 else None


async def status(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    return json_response(
        {"alive": True, "version": settings.version, "serverURL": public_url(request, settings)}
    )
