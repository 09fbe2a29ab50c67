"""The aiohttp application: the database's lifecycle, the schema, the GraphQL view, the health
routes, the REST bridge and the built-in image server, under the middleware of
gateway/middleware.py; and the upkeep task,
which writes activity records in batches, prunes old ones and sweeps the files of deleted
attached files."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Final

import strawberry
from aiohttp import web

from db.engine import Database, DatabaseUnavailable
from db.memo import Memo
from db.migrate import current_revision, head_revision
from gateway import graphiql
from gateway.auth import CREDENTIAL_TABLES
from gateway.cors import add_cors_headers
from gateway.graphql_view import CytogateGraphQLView
from gateway.health import ping, status
from gateway.middleware import GRAPHQL_PATH, middleware, no_sniff
from gateway.state import (
    ACCESS_MEMO,
    ACTIVITY,
    BOOTSTRAPPED,
    BRIDGE,
    CREDENTIALS,
    DATABASE,
    PIXEL_GATE,
    PIXELS,
    SCHEMA,
    SETTINGS,
    make_context,
)
from gateway.upload import upload_handler
from imaging.service import PixelService, ServiceLimits
from resolvers.activity.recorder import ActivityRecorder
from resolvers.auth import prune_tokens
from resolvers.bootstrap import BootstrapAdmin, bootstrap
from resolvers.image_import import fail_interrupted_imports
from resolvers.metadata import sweep_files
from resolvers.project_access import ACCESS_TABLES
from resolvers.sign_in_limit import prune_sign_in_failures
from rest_compat.bridge import Bridge
from rest_compat.operations import Operation, load_operations
from rest_compat.pixel_gate import PixelGate
from rest_compat.pixels import CHECKED_TABLES
from rest_compat.table import ROUTES
from rest_compat.upload import FileStore
from schema.root import build_schema
from settings import Settings

__all__ = ["ACTIVITY", "DATABASE", "SCHEMA", "Interface", "create_app", "open_database"]

log = logging.getLogger("cytogate")

#: Seconds between two prunes of old activity and sweeps of deleted files.
CHORES_SECONDS: Final = 60.0


def open_database(settings: Settings, url: str) -> Database:
    """The process's database, with the pool, waits and timeout `settings` give."""
    return Database(
        url,
        pool_size=settings.pool_size,
        pool_timeout=settings.pool_timeout,
        statement_timeout=settings.statement_timeout,
    )


def _database_context(
    settings: Settings, url: str
) -> Callable[[web.Application], AsyncIterator[None]]:
    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        db = open_database(settings, url)
        async with db.engine.connect() as conn:
            current = await current_revision(conn)
        if current != head_revision():
            await db.dispose()
            raise RuntimeError(
                f"the database is at migration {current or 'none'}, not {head_revision()}: "
                "run `cytogate migrate` first"
            )
        async with db.lease() as lease:
            admin: BootstrapAdmin | None = await bootstrap(lease, settings)
        if admin is not None:
            app[BOOTSTRAPPED].append(admin)
        if not settings.image_server_url:
            failed = await fail_interrupted_imports(db)
            if failed:
                log.warning("%d upload(s) interrupted by a restart set to their error status",
                            failed)  # fmt: skip
        checked = app[BRIDGE].checked
        if checked is not None:
            db.watch(checked.written)
        db.watch(app[CREDENTIALS].written)
        db.watch(app[ACCESS_MEMO].written)
        app[DATABASE] = db
        recorder = ActivityRecorder(
            Database(url, pool_size=1, pool_timeout=settings.pool_timeout,
                     statement_timeout=settings.statement_timeout)
        )  # fmt: skip
        app[ACTIVITY] = recorder
        upkeep = asyncio.create_task(_upkeep(settings, recorder))
        yield
        upkeep.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await upkeep
        await recorder.close()
        await db.dispose()

    return lifecycle


async def _upkeep(settings: Settings, recorder: ActivityRecorder) -> None:
    """Write queued activity records as they come due; every CHORES_SECONDS, prune activity
    older than `CYTOGATE_ACTIVITY_DAYS`, sweep the files of deleted attached files and forget
    expired tokens and sign-in failures. All on
    the recorder's own connection, never the requests' pool. A failure is logged and tried
    again at the next turn."""
    chores = time.monotonic()
    while True:
        await recorder.wait_due()
        try:
            await recorder.flush()
            if time.monotonic() - chores >= CHORES_SECONDS:
                chores = time.monotonic()
                await recorder.prune(settings.activity_days)
                await sweep_files(recorder.database, settings.data_root)
                await prune_tokens(recorder.database)
                await prune_sign_in_failures(recorder.database, settings.sign_in_window)
        except (DatabaseUnavailable, OSError) as error:
            log.warning("upkeep postponed: %s", error)
        except Exception:
            log.exception("upkeep failed")


async def _pixels(app: web.Application) -> AsyncIterator[None]:
    """The built-in image server's pools and caches, from start to stop; background imports
    still running at the stop are cancelled (the next start marks them failed)."""
    settings = app[SETTINGS]
    limits = ServiceLimits(settings.render_threads, settings.import_workers,
                           settings.pixel_cache_bytes)  # fmt: skip
    service = PixelService(settings.images_dir, limits)
    service.start()
    app[PIXELS] = service
    yield
    await service.aclose()


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
#: Entries kept at most by each memo of checked pixel requests, identities and access
#: decisions.
MEMO_SIZE: Final = 10_000


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
    app.cleanup_ctx.append(_pixels)
    app.on_startup.append(_tune_gc)
    app.on_response_prepare.append(no_sniff)
    if settings.cors_origins:
        app.on_response_prepare.append(add_cors_headers)
    files = FileStore(settings.data_root, settings.attached_max_bytes)
    seconds, size = settings.pixel_check_seconds, MEMO_SIZE
    bridge = Bridge(
        schema, ROUTES, lambda request: make_context(request, trusted=True), interface.operations,
        files=files, checked=Memo(CHECKED_TABLES, ttl=seconds, size=size),
    )  # fmt: skip
    app[BRIDGE] = bridge
    app[CREDENTIALS] = Memo(CREDENTIAL_TABLES, ttl=settings.auth_cache_seconds, size=size)
    app[ACCESS_MEMO] = Memo(ACCESS_TABLES, ttl=settings.auth_cache_seconds, size=size)
    largest = max(settings.attached_max_bytes, settings.upload_max_bytes)
    view = CytogateGraphQLView(schema=schema, files=FileStore(settings.data_root, largest))
    app[PIXEL_GATE] = PixelGate(settings.pixel_concurrency, settings.pixel_yield_ms / 1000)
    app.router.add_route("*", "/server/ping", ping)
    app.router.add_route("*", "/server/ping.json", ping)
    app.router.add_get("/status.json", status)
    app.router.add_route("*", GRAPHQL_PATH, view)
    app.router.add_get(graphiql.ASSET_ROUTE, graphiql.asset)
    app.router.add_post("/upload", upload_handler)
    app.router.add_route("*", "/api/{tail:.*}", bridge.handle)
    app.router.add_route("*", "/session/{tail:.*}", bridge.handle)
    app.router.add_route("*", "/user/{tail:.*}", bridge.handle)
    app.router.add_route("*", "/command/{tail:.*}", bridge.handle)
    return app
