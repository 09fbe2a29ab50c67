"""What the application and each request keep (typed aiohttp keys), and the request's
`Context`, built on the request's lease the same way for GraphQL and REST."""

from __future__ import annotations

from typing import Any, Final

import strawberry
from aiohttp import web

from db.engine import Database, Lease
from db.memo import Memo
from gateway.auth import Authentication, Credentials
from imaging.service import PixelService
from resolvers.activity.recorder import ActivityRecorder
from resolvers.bootstrap import BootstrapAdmin
from resolvers.context import Context
from rest_compat.bridge import Bridge
from rest_compat.pixel_gate import PixelGate
from settings import Settings

__all__ = [
    "ACCESS_MEMO",
    "ACTIVITY",
    "AUTH",
    "BOOTSTRAPPED",
    "BRIDGE",
    "CONTEXT",
    "CREDENTIALS",
    "DATABASE",
    "LEASE",
    "PIXELS",
    "PIXEL_GATE",
    "SCHEMA",
    "SETTINGS",
    "make_context",
]

SETTINGS: Final = web.AppKey("settings", Settings)
DATABASE: Final = web.AppKey("database", Database)
#: The activity recorder, with a connection of its own (resolvers/activity/recorder.py).
ACTIVITY: Final = web.AppKey("activity", ActivityRecorder)
SCHEMA: Final = web.AppKey("schema", strawberry.Schema)
BOOTSTRAPPED: Final = web.AppKey("bootstrapped", list[BootstrapAdmin])
#: The built-in image server's pools, caches and image store (started with the app).
PIXELS: Final = web.AppKey("pixels", PixelService)
#: How many pixel requests of images and slices are handled at once (the rest wait, parked):
#: a burst of tiles then leaves the event loop to other requests (rest_compat/pixel_gate.py).
PIXEL_GATE: Final = web.AppKey("pixel-gate", PixelGate)
#: The REST bridge (its router also tells authentication what a path's routes allow).
BRIDGE: Final = web.AppKey("bridge", Bridge)
#: Identities by key or token, for the routes that reuse their checks (gateway/auth.py).
CREDENTIALS: Final = web.AppKey("credentials", Credentials)
#: Access decisions kept across requests (resolvers/project_access.kept_access).
ACCESS_MEMO: Final = web.AppKey("access-memo", Memo[tuple[Any, ...], Any])
AUTH: Final = web.RequestKey("auth", Authentication)
#: The request's one lease on the database (db/engine.py), opened and closed by the middleware.
LEASE: Final = web.RequestKey("lease", Lease)
CONTEXT: Final = web.RequestKey("context", Context)


def make_context(request: web.Request, *, trusted: bool) -> Context:
    """The request's Context; kept on the request so the middleware can apply its cookies."""
    auth: Authentication = request[AUTH]
    ctx = Context(
        request[LEASE],
        request.app[SETTINGS],
        auth.viewer,
        request=request,
        trusted=trusted,
        token=auth.token,
        by_cookie=auth.by_cookie,
        activity=request.app.get(ACTIVITY),
        pixels=request.app.get(PIXELS),
        access_memo=request.app.get(ACCESS_MEMO),
    )
    request[CONTEXT] = ctx
    return ctx
