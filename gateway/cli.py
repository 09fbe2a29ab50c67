"""The `cytogate` command: serve, migrate, create-user, export-schema."""

from __future__ import annotations

import argparse
import asyncio
import logging
import secrets
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Final

import uvloop
from aiohttp import web
from sqlalchemy import select

from db.embedded import EmbeddedCluster, EmbeddedError
from db.engine import Database, Lease
from db.migrate import upgrade
from db.models import SecRole, SecUser, SecUserSecRole
from gateway.app import create_app
from gateway.connection import run
from gateway.state import BOOTSTRAPPED
from resolvers.context import Context
from resolvers.errors import CytogateError
from resolvers.user import UserFields, add_user_role, create_user
from resolvers.viewer import ADMIN, SUPER_ADMIN, Viewer
from schema.root import build_schema
from settings import ConfigError, Settings

__all__ = ["main"]

#: Seconds a thread may hold the GIL while another waits for it (Python's default is 5 ms).
#: Pixels render in a pool of threads whose codecs release the GIL but whose Python around
#: them holds it: with the default, each step of a listing could wait 5 ms for the event loop
#: to get the GIL back; at 0.5 ms a listing during a 32-client tile load took 8.8 ms at the
#: median against 12.3 ms, and the tiles went faster too (bench/README.md, Pixels).
SWITCH_INTERVAL: Final = 0.0005

log = logging.getLogger("cytogate")


@contextmanager
def database_url(settings: Settings, *, attach: bool) -> Iterator[str]:
    """The URL of the configured database, or of the embedded cluster (started for the block)."""
    if settings.database_url is not None:
        url = settings.database_url
        if url.startswith("postgresql://"):
            url = "postgresql+asyncpg://" + url[len("postgresql://") :]
        yield url
        return
    cluster = EmbeddedCluster(settings.home)
    cluster.start(attach=attach)
    try:
        yield asyncio.run(cluster.ensure_database())
    finally:
        cluster.stop()


def _print_admin(app: web.Application) -> None:
    for admin in app[BOOTSTRAPPED]:
        print(f"Created the administrator {admin.username!r}.")
        if admin.generated:
            print(f"  public key:  {admin.public_key}")
            print(f"  private key: {admin.private_key}   (shown once: keep it)")


def serve(settings: Settings, host: str, port: int) -> None:
    sys.setswitchinterval(SWITCH_INTERVAL)
    with database_url(settings, attach=False) as url:
        if settings.database_url is None:
            upgrade(url)
        app = create_app(settings, url)

        async def announce(app: web.Application) -> None:
            _print_admin(app)

        app.on_startup.append(announce)
        # uvloop: the loop's own turns and socket calls in C (asyncpg is written for it); a
        # 100-annotation GraphQL query took about 5 % less server CPU (bench/README.md)
        run(app, host, port, uvloop.new_event_loop())


async def _create_user(settings: Settings, url: str, username: str, admin: bool,
                       password: str) -> None:  # fmt: skip
    db = Database(url, pool_size=1)
    try:
        async with db.lease() as lease:
            await _create_user_on(lease, settings, username, admin, password)
    finally:
        await db.dispose()


async def _create_user_on(lease: Lease, settings: Settings, username: str, admin: bool,
                          password: str) -> None:  # fmt: skip
    async with lease.read() as conn:
        acting = (
            await conn.execute(
                select(SecUser.id, SecUser.username)
                .join(SecUserSecRole, SecUserSecRole.sec_user_id == SecUser.id)
                .join(SecRole, SecRole.id == SecUserSecRole.sec_role_id)
                .where(SecRole.authority == SUPER_ADMIN)
                .order_by(SecUser.id)
                .limit(1)
            )
        ).first()
    if acting is None:
        raise CytogateError("no super-administrator exists yet: run `cytogate serve` once")
    viewer = Viewer(acting.id, acting.username, frozenset({SUPER_ADMIN, ADMIN}), True)
    ctx = Context(lease, settings, viewer)
    fields = UserFields(
        username=username,
        firstname=username,
        lastname=username,
        email=f"{username}@localhost.localdomain",
        password=password,
    )
    created = (await create_user(ctx, fields)).row
    if admin:
        async with lease.read() as conn:
            role_id = (
                await conn.execute(select(SecRole.id).where(SecRole.authority == ADMIN))
            ).scalar_one()
        await add_user_role(ctx, created.id, role_id)
    print(f"Created the user {username!r} (id {created.id}).")
    print(f"  public key:  {created.public_key}")
    print(f"  private key: {created.private_key}")


class _LineFormatter(logging.Formatter):
    """The standard line, with the text of the current second kept: formatting the time
    anew for each line (one per request) was about 1 % of a small request's CPU."""

    #: (second, its text), swapped whole so that threads logging at once never mix two
    _kept: tuple[int, str] = (-1, "")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        if datefmt is not None:
            return super().formatTime(record, datefmt)
        second = int(record.created)
        kept_second, text = self._kept
        if second != kept_second:
            text = time.strftime(self.default_time_format, self.converter(record.created))
            self._kept = (second, text)
        return f"{text},{int(record.msecs):03d}"  # the default msec format


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cytogate", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve_cmd = commands.add_parser("serve", help="serve the API (embedded database by default)")
    serve_cmd.add_argument("--host", default=None)
    serve_cmd.add_argument("--port", type=int, default=None)
    commands.add_parser("migrate", help="apply the database migrations")
    user_cmd = commands.add_parser("create-user", help="create a user and print its API keys")
    user_cmd.add_argument("username")
    user_cmd.add_argument("--admin", action="store_true", help="also grant ROLE_ADMIN")
    user_cmd.add_argument("--password", default=None, help="default: a random one, printed")
    schema_cmd = commands.add_parser("export-schema", help="write the GraphQL SDL")
    schema_cmd.add_argument("--output", type=Path, default=Path("schema.graphql"))
    args = parser.parse_args(argv)
    handler = logging.StreamHandler()
    handler.setFormatter(_LineFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    logging.basicConfig(level=logging.INFO, handlers=[handler])
    # The format shows no caller, thread or process: the logging documentation's optimisation
    # switches spare a stack walk and three lookups on every line (one line per request).
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    logging._srcfile = None
    try:
        settings = Settings.from_env()
        if args.command == "serve":
            serve(settings, args.host or settings.host, args.port if args.port is not None
                  else settings.port)  # fmt: skip
        elif args.command == "migrate":
            with database_url(settings, attach=True) as url:
                upgrade(url)
            print("The database is up to date.")
        elif args.command == "create-user":
            password = args.password or secrets.token_urlsafe(12)
            with database_url(settings, attach=True) as url:
                if settings.database_url is None:
                    upgrade(url)
                asyncio.run(_create_user(settings, url, args.username, args.admin, password))
            if args.password is None:
                print(f"  password:    {password}")
        else:
            args.output.write_text(build_schema(settings).as_str() + "\n")
            print(f"Wrote {args.output}.")
    except (ConfigError, EmbeddedError, CytogateError) as error:
        print(f"cytogate: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
