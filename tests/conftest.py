"""Fixtures: one embedded PostgreSQL per session, one database per test cloned from a migrated
and bootstrapped template, a server per test in a background thread, signed HTTP and the real
python client."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from db.embedded import EmbeddedCluster
from db.engine import Database
from db.migrate import upgrade
from resolvers.bootstrap import bootstrap
from settings import Settings
from tests.harness import (
    ADMIN_PASSWORD,
    ADMIN_PRIVATE_KEY,
    ADMIN_PUBLIC_KEY,
    Api,
    Server,
    serve,
)

TEMPLATE = "cytogate_template"
_numbers = itertools.count()
#: The session's data directory (attached files), made by the session's cluster and removed
#: with it (not at import: pytest-xdist's controller imports this module and runs no session).
DATA_DIR = Path(tempfile.gettempdir()) / f"cytogate-test-data-{os.getpid()}"
#: The test session's image store (uploads land there, never in the work tree), removed with
#: the session's cluster.
IMAGES = Path(tempfile.gettempdir()) / f"cytogate-test-images-{os.getpid()}"


def base_settings() -> Settings:
    """The server settings of the tests: known admin keys, and cheap password hashing (argon2
    at its lowest cost) so that creating users does not dominate the suite's time."""
    return Settings(
        admin_public_key=ADMIN_PUBLIC_KEY,
        admin_private_key=ADMIN_PRIVATE_KEY,
        admin_password=ADMIN_PASSWORD,
        argon2_time_cost=1,
        argon2_memory_kib=32,
        # one address and one database for a worker's tests: their failed sign-ins would add
        # up (tests/gateway/test_sign_in_limit.py sets its own limits)
        sign_in_failures=1_000_000,
        sign_in_failures_per_address=1_000_000,
        data_dir=DATA_DIR,
        images_dir=IMAGES,
        render_threads=2,
    )


async def _bootstrap(url: str) -> None:
    db = Database(url, pool_size=1)
    try:
        async with db.lease() as lease:
            await bootstrap(lease, base_settings())
    finally:
        await db.dispose()


@pytest.fixture(scope="session")
def cluster() -> Iterator[EmbeddedCluster]:
    """The session's cluster, with a migrated and bootstrapped template database."""
    home = Path(tempfile.mkdtemp(prefix="cytogate-test-"))
    DATA_DIR.mkdir(exist_ok=True)
    cluster = EmbeddedCluster(home, durable=False)
    cluster.start()
    try:
        url = asyncio.run(cluster.ensure_database(TEMPLATE))
        upgrade(url)
        asyncio.run(_bootstrap(url))
        yield cluster
    finally:
        cluster.stop()
        for made in (home, DATA_DIR, IMAGES):
            shutil.rmtree(made, ignore_errors=True)


@pytest.fixture
def database_url(cluster: EmbeddedCluster) -> Iterator[str]:
    """A fresh, migrated, empty database for this test, dropped after it: each is a copy of
    the template (about 8 MB with PostGIS), and a worker's session runs seven hundred tests,
    which left 8–10 GB per worker behind (dropping costs about 45 ms a test; dropping in the
    background while the next test ran measured slower still)."""
    name = f"test_{next(_numbers)}"
    yield asyncio.run(cluster.ensure_database(name, template=TEMPLATE))
    asyncio.run(cluster.drop_database(name))


@pytest.fixture
def settings(request: pytest.FixtureRequest) -> Settings:
    """The test's server settings; tests that count statements per request mark themselves
    `identity_read_every_request`, so that the first request pays what the others pay."""
    made = base_settings()
    if request.node.get_closest_marker("identity_read_every_request"):
        made = dataclasses.replace(made, auth_cache_seconds=0)
    return made


@pytest.fixture
def server(settings: Settings, database_url: str) -> Iterator[Server]:
    with serve(settings, database_url) as running:
        yield running


@pytest.fixture
def api(server: Server) -> Api:
    """Raw HTTP signed as the bootstrap super-administrator."""
    return Api(server.url, ADMIN_PUBLIC_KEY, ADMIN_PRIVATE_KEY)


@pytest.fixture
def anonymous(server: Server) -> Api:
    return Api(server.url, None, None)


@pytest.fixture
def make_user(api: Api) -> Any:
    """Create a user through REST as the admin; returns its JSON plus `api` signed as them."""

    def make(username: str | None = None, *, roles: tuple[str, ...] = (), **fields: Any) -> Any:
        name = username or f"user{next(_numbers)}"
        body = {"username": name, "firstname": name.title(), "lastname": "Test",
                "email": f"{name}@example.org", "password": "password-123", **fields}  # fmt: skip
        response = api.post("/api/user.json", json=body)
        assert response.status_code == 200, response.text
        user = response.json()["user"]
        keys = api.get(f"/api/user/{user['id']}/keys.json").json()
        if roles:
            listed = api.get("/api/role.json").json()["collection"]
            all_roles = {r["authority"]: r["id"] for r in listed}
            for role in roles:
                granted = api.post(f"/api/user/{user['id']}/role.json",
                                   json={"user": user["id"], "role": all_roles[role]})  # fmt: skip
                assert granted.status_code == 200, granted.text
        user["api"] = api.as_keys(keys["publicKey"], keys["privateKey"])
        user["keys"] = keys
        return user

    return make


@pytest.fixture
def people(api: Api, make_user: Any) -> dict[str, Any]:
    """One user per global role, each with `api` signed as them (core.md §7.1):
    `user`, `guest` (ROLE_GUEST only), `admin` (ROLE_ADMIN, no admin session),
    `admin_session` (ROLE_ADMIN with an open admin session) and `superadmin` (the bootstrap one).
    """
    roles = {r["authority"]: r["id"] for r in api.get("/api/role.json").json()["collection"]}
    user = make_user()
    guest = make_user()
    response = api.put(f"/api/user/{guest['id']}/role/{roles['ROLE_GUEST']}/define.json")
    assert response.status_code == 200, response.text
    admin = make_user(roles=("ROLE_ADMIN",))
    in_session = make_user(roles=("ROLE_ADMIN",))
    opened = in_session["api"].get("/session/admin/open.json")
    assert opened.status_code == 200, opened.text
    superadmin = api.get("/api/user/current.json").json()
    superadmin["api"] = api
    return {"user": user, "guest": guest, "admin": admin, "admin_session": in_session,
            "superadmin": superadmin}  # fmt: skip


@pytest.fixture
def client(server: Server) -> Iterator[Any]:
    """The official cytomine-python-client 4.3.0 connected as the super-administrator."""
    from cytomine import Cytomine

    connection = Cytomine(server.url, ADMIN_PUBLIC_KEY, ADMIN_PRIVATE_KEY,
                          verbose=logging.WARNING, configure_logging=False)  # fmt: skip
    yield connection
    connection._session.close()


def _answers_checked(
    monkeypatch: pytest.MonkeyPatch, allowed: frozenset[int]
) -> Iterator[list[tuple[str, str, int]]]:
    """Record every answer `Api` gets during the test; afterwards, fail on any 5xx or 3xx
    outside `allowed`."""
    seen: list[tuple[str, str, int]] = []
    original = Api.request

    def recording(self: Api, method: str, path: str, **kw: Any) -> requests.Response:
        response = original(self, method, path, **kw)
        seen.append((method, path[:80], response.status_code))
        return response

    monkeypatch.setattr(Api, "request", recording)
    yield seen
    bad = [(method, path, status) for method, path, status in seen
           if (status >= 500 or (300 <= status < 400 and status != 304))
           and status not in allowed]  # fmt: skip
    assert not bad, f"server errors or redirects: {bad}"


@pytest.fixture
def no_server_error_nor_redirect(
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[list[tuple[str, str, int]]]:
    """Every answer of the test: never 5xx, never 3xx. Bad-input modules opt in with
    `pytestmark = pytest.mark.usefixtures("no_server_error_nor_redirect")`."""
    yield from _answers_checked(monkeypatch, frozenset())


@pytest.fixture
def no_unexpected_server_error(
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[list[tuple[str, str, int]]]:
    """As `no_server_error_nor_redirect`, but the deliberate 501 of routes cytogate does not
    serve (an unknown listing sort, an external image server asked for formats) and the 502 of
    an unreachable external image server pass."""
    yield from _answers_checked(monkeypatch, frozenset((501, 502)))
