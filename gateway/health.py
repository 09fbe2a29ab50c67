"""`/server/ping` and `/status.json`: whether the server, and the database behind it, can
serve (core.md §2.6). The python client's connection loop waits until ping answers 200, so
while PostgreSQL is unreachable ping answers 503 with `Retry-After` and says so."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from db.engine import RETRY_DOWN
from gateway.state import AUTH, LEASE, SETTINGS
from rest_compat.envelopes import json_response

__all__ = ["ping", "status"]


def _public_url(request: web.Request) -> str:
    configured = request.app[SETTINGS].public_url
    return configured or f"{request.scheme}://{request.host}"


async def ping(request: web.Request) -> web.Response:
    """Health and "who am I" for the clients' connection loop."""
    viewer = request[AUTH].viewer
    reachable = viewer is not None or await request[LEASE].reachable()
    body: dict[str, Any] = {
        "alive": reachable,
        "authenticated": viewer is not None,
        "database": "up" if reachable else "unreachable",
        "version": request.app[SETTINGS].version,
        "serverURL": _public_url(request),
        "serverID": "cytogate",
    }
    if viewer is not None:
        body["user"] = viewer.id
    if not reachable:
        return json_response(body, status=503, headers={"Retry-After": str(RETRY_DOWN)})
    return json_response(body)


async def status(request: web.Request) -> web.Response:
    return json_response(
        {"alive": True, "version": request.app[SETTINGS].version, "serverURL": _public_url(request)}
    )
