"""The aiohttp application: middleware (request id, auth, errors, access log), the GraphQL view,
the health routes and the REST bridge."""

from __future__ import annotations

import gc
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final

import orjson
import strawberry
from aiohttp import web
from strawberry.aiohttp.views import GraphQLView

from db.engine import Database
from db.migrate import current_revision, head_revision
from gateway.auth import Authentication, authenticate
from gateway.settings import Settings
from resolvers.bootstrap import BootstrapAdmin, bootstrap
from resolvers.context import Context
from resolvers.errors import CytogateError, Unauthenticated
from rest_compat.bridge import Bridge
from rest_compat.envelopes import NO_STORE, error_body, json_response
from rest_compat.operations import Operation, load_operations
from rest_compat.table import ROUTES
from schema.root import build_schema

__all__ = ["DATABASE", "SCHEMA", "Interface", "create_app"]

log = logging.getLogger("cytogate")
access_log = logging.getLogger("cytogate.access")

SETTINGS: Final = web.AppKey("settings", Settings)
DATABASE: Final = web.AppKey("database", Database)
SCHEMA: Final = web.AppKey("schema", strawberry.Schema)
BOOTSTRAPPED: Final = web.AppKey("bootstrapped", list[BootstrapAdmin])
AUTH: Final = web.RequestKey("auth", Authentication)
CONTEXT: Final = web.RequestKey("context", Context)

#: Reachable without credentials (core.md §2); every other /api route answers 401 to anonymous.
ANONYMOUS: Final = frozenset(
    ("/server/ping", "/server/ping.json", "/status.json", "/api/authenticate", "/graphql")
)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def make_context(request: web.Request, *, trusted: bool) -> Context:
    """The request's Context; kept on the request so the middleware can apply its cookies."""
    auth: Authentication = request[AUTH]
    ctx = Context(
        request.app[DATABASE],
        request.app[SETTINGS],
        auth.viewer,
        request=request,
        trusted=trusted,
        token=auth.token,
        by_cookie=auth.by_cookie,
    )
    request[CONTEXT] = ctx
    return ctx


class CytogateGraphQLView(GraphQLView[Context, None]):
    """Strawberry's view with our context and orjson."""

    async def get_context(self, request: web.Request, response: Any) -> Context:
        return make_context(request, trusted=False)

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    def parse_json(self, data: str | bytes) -> Any:
        """The body, which must be an object (or a batch): strawberry reads keys from it."""
        body = super().parse_json(data)
        if not isinstance(body, dict | list):
            raise web.HTTPBadRequest(reason="The request body must be a JSON object")
        return body


def _apply_cookies(request: web.Request, response: web.StreamResponse) -> None:
    ctx: Context | None = request.get(CONTEXT)
    if ctx is None or response.prepared:
        return
    settings = request.app[SETTINGS]
    for name, value in ctx.cookies.items():
        if value is None:
            response.del_cookie(name, path="/")
        else:
            response.set_cookie(
                name, value, path="/", httponly=True, samesite="Lax",
                max_age=settings.token_hours * 3600,
            )  # fmt: skip


@web.middleware
async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Authenticate, turn every failure into a JSON error, and log one line per request."""
    started = time.perf_counter()
    request_id = request.headers.get("X-Request-Id") or uuid.uuid4().hex[:16]
    try:
        if request.method == "OPTIONS":
            response: web.StreamResponse = web.Response(status=204)
        else:
            try:
                request[AUTH] = await authenticate(
                    request, request.app[DATABASE], request.app[SETTINGS]
                )
            except CytogateError:
                request[AUTH] = Authentication(None)
                if request.path not in ANONYMOUS or request.path == "/graphql":
                    raise
            if request[AUTH].viewer is None and request.path not in ANONYMOUS:
                raise Unauthenticated()
            response = await handler(request)
            _apply_cookies(request, response)
    except CytogateError as error:
        response = json_response(error_body(error.message, error.values), status=error.status)
    except web.HTTPException as error:
        if error.status >= 400:
            response = json_response(error_body(error.reason), status=error.status)
        else:
            raise
    except Exception:
        log.exception("unexpected error on %s %s (request %s)", request.method, request.path,
                      request_id)  # fmt: skip
        response = json_response(error_body("Internal error"), status=500)
    if not response.prepared:
        response.headers["X-Request-Id"] = request_id
        for key, value in NO_STORE.items():
            response.headers.setdefault(key, value)
    access_log.info(
        "%s %s %s %.1fms id=%s", request.method, request.path, response.status,
        (time.perf_counter() - started) * 1000, request_id,
    )  # fmt: skip
    return response


def _public_url(request: web.Request) -> str:
    configured = request.app[SETTINGS].public_url
    return configured or f"{request.scheme}://{request.host}"


async def ping(request: web.Request) -> web.Response:
    """Health and "who am I" for the clients' connection loop (core.md §2.6)."""
    viewer = request[AUTH].viewer
    body: dict[str, Any] = {
        "alive": True,
        "authenticated": viewer is not None,
        "version": request.app[SETTINGS].version,
        "serverURL": _public_url(request),
        "serverID": "cytogate",
    }
    if viewer is not None:
        body["user"] = viewer.id
    return json_response(body)


async def status(request: web.Request) -> web.Response:
    return json_response(
        {"alive": True, "version": request.app[SETTINGS].version, "serverURL": _public_url(request)}
    )


def _database_context(
    settings: Settings, url: str
) -> Callable[[web.Application], AsyncIterator[None]]:
    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        db = Database(url, pool_size=settings.pool_size)
        async with db.read() as conn:
            current = await current_revision(conn)
        if current != head_revision():
            await db.dispose()
            raise RuntimeError(
                f"the database is at migration {current or 'none'}, not {head_revision()}: "
                "run `cytogate migrate` first"
            )
        admin: BootstrapAdmin | None = await bootstrap(db, settings)
        if admin is not None:
            app[BOOTSTRAPPED].append(admin)
        app[DATABASE] = db
        yield
        await db.dispose()

    return lifecycle


@dataclass(frozen=True, slots=True)
class Interface:
    """The schema and the REST bridge's validated operations: what a server is built from.

    Building them costs a fraction of a second; a process that starts several servers with
    the same settings (the tests) builds them once.
    """

    schema: strawberry.Schema
    operations: dict[str, Operation]

    @classmethod
    def build(cls, settings: Settings) -> Interface:
        schema = build_schema(settings)
        return cls(schema, load_operations(schema._schema))


#: The collector's first-generation threshold while serving. A listing allocates hundreds of
#: thousands of short-lived objects; at Python's default (700) the collector runs thousands of
#: times per such request and costs as much as the rest of it (bench/README.md).
GC_THRESHOLD: Final = (100_000, 50, 100)


async def _tune_gc(app: web.Application) -> None:
    """Freeze what start-up built (never garbage, no longer scanned) and raise the threshold."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLD)


def create_app(settings: Settings, url: str, interface: Interface | None = None) -> web.Application:
    """The whole server over the database at `url` (which must be migrated)."""
    app = web.Application(middlewares=[middleware], client_max_size=settings.max_body_bytes)
    interface = interface or Interface.build(settings)
    schema = interface.schema
    app[SETTINGS] = settings
    app[SCHEMA] = schema
    app[BOOTSTRAPPED] = []
    app.cleanup_ctx.append(_database_context(settings, url))
    app.on_startup.append(_tune_gc)
    bridge = Bridge(
        schema, ROUTES, lambda request: make_context(request, trusted=True), interface.operations
    )
    view = CytogateGraphQLView(schema=schema)
    app.router.add_route("*", "/server/ping", ping)
    app.router.add_route("*", "/server/ping.json", ping)
    app.router.add_get("/status.json", status)
    app.router.add_route("*", "/graphql", view)
    app.router.add_route("*", "/api/{tail:.*}", bridge.handle)
    app.router.add_route("*", "/session/{tail:.*}", bridge.handle)
    app.router.add_route("*", "/user/{tail:.*}", bridge.handle)
    app.router.add_route("*", "/command/{tail:.*}", bridge.handle)
    return app
