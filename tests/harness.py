"""Test machinery: a server in a background thread, signed HTTP, statement counting."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from time import gmtime, strftime
from typing import Any

import asyncpg
import pytest
import requests
from aiohttp import web
from sqlalchemy import event

from gateway.app import DATABASE, Interface, create_app
from gateway.connection import GatewayRunner
from gateway.state import PIXELS
from settings import Settings

ADMIN_PUBLIC_KEY = "a0a0a0a0-0000-4000-8000-000000000001"
ADMIN_PRIVATE_KEY = "3b1f3f0e-7c1a-4d7e-9a55-2f1c0d9a8e11"
ADMIN_PASSWORD = "admin-password-1"


async def raw_connection(url: str) -> asyncpg.Connection:
    """A connection of the test's own, straight on asyncpg, to the database of a SQLAlchemy
    URL (to read or hold rows behind the server's back)."""
    return await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))


def http_date() -> str:
    """The Date header as the python clients format it."""
    return strftime("%a, %d %b %Y %H:%M:%S +0000", gmtime())


def signature(private_key: str, canonical: str) -> str:
    digest = hmac.new(private_key.encode(), canonical.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


@dataclass
class Counter:
    n: int = 0
    active: bool = False


@dataclass
class Server:
    """A cytogate app served on 127.0.0.1 from a thread of its own."""

    url: str
    app: web.Application
    loop: asyncio.AbstractEventLoop
    counter: Counter = field(default_factory=Counter)

    def finish_imports(self) -> None:
        """Wait for the imports the server runs in the background (uploads with sync=false)."""
        asyncio.run_coroutine_threadsafe(self.app[PIXELS].drain(), self.loop).result(120)

    @contextmanager
    def count_statements(self) -> Iterator[Counter]:
        """Count the SQL statements run inside the block (all requests it makes)."""
        self.counter.n = 0
        self.counter.active = True
        try:
            yield self.counter
        finally:
            self.counter.active = False

    @contextmanager
    def captured(self, *words: str) -> Iterator[list[str]]:
        """The SQL statements run inside the block that contain every one of `words`."""
        statements: list[str] = []

        def capture(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
            if all(word in statement for word in words):
                statements.append(statement)

        engine = self.app[DATABASE].engine.sync_engine
        event.listen(engine, "before_cursor_execute", capture)
        try:
            yield statements
        finally:
            event.remove(engine, "before_cursor_execute", capture)


@cache
def interface(settings: Settings) -> Interface:
    """The schema and REST operations of `settings`, built once per test session."""
    return Interface.build(settings)


@contextmanager
def serve(settings: Settings, url: str) -> Iterator[Server]:
    loop = asyncio.new_event_loop()
    app = create_app(settings, url, interface(settings))
    runner = GatewayRunner(app, access_log=None, shutdown_timeout=0)
    loop.run_until_complete(runner.setup())
    site = web.TCPSite(runner, "127.0.0.1", 0)
    loop.run_until_complete(site.start())
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    server = Server(f"http://127.0.0.1:{port}", app, loop)

    @event.listens_for(app[DATABASE].engine.sync_engine, "before_cursor_execute")
    def _count(*_: Any) -> None:
        if server.counter.active:
            server.counter.n += 1

    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


@contextmanager
def stand_in_server(app: web.Application) -> Iterator[str]:
    """`app` (a stand-in for another server, such as an external PIMS) served on 127.0.0.1
    from a thread of its own, for the block; yields its base URL."""
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(app)
    loop.run_until_complete(runner.setup())
    site = web.TCPSite(runner, "127.0.0.1", 0)
    loop.run_until_complete(site.start())
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)


class Api:
    """Raw HTTP to the server, signed the way client 4.x signs (no resource)."""

    def __init__(self, base: str, public_key: str | None, private_key: str | None) -> None:
        self.base = base
        self.public_key = public_key
        self.private_key = private_key
        self.session = requests.Session()

    def as_keys(self, public_key: str | None, private_key: str | None) -> Api:
        return Api(self.base, public_key, private_key)

    def request(self, method: str, path: str, *, json: Any = None, data: Any = None,
                params: Any = None, headers: dict[str, str] | None = None,
                sign: bool = True) -> requests.Response:  # fmt: skip
        head = {"accept": "application/json, */*", "date": http_date()}
        if json is not None or data is not None or method in ("POST", "PUT", "DELETE"):
            head["content-type"] = "application/json"
        head.update(headers or {})
        if sign and self.public_key and self.private_key:
            canonical = f"{method}\n\n{head.get('content-type', '')}\n{head['date']}"
            head["authorization"] = (
                f"CYTOMINE {self.public_key}:{signature(self.private_key, canonical)}"
            )
        return self.session.request(
            method, self.base + path, json=json, data=data, params=params, headers=head,
            allow_redirects=False, timeout=60,
        )  # fmt: skip

    def get(self, path: str, **kw: Any) -> requests.Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> requests.Response:
        return self.request("POST", path, **kw)

    def put(self, path: str, **kw: Any) -> requests.Response:
        return self.request("PUT", path, **kw)

    def delete(self, path: str, **kw: Any) -> requests.Response:
        return self.request("DELETE", path, **kw)

    def gql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """POST a GraphQL document; returns the decoded answer (data and errors)."""
        response = self.post("/graphql", json={"query": query, "variables": variables or {}})
        return response.json()  # type: ignore[no-any-return]


def assert_error(response: requests.Response, status: int) -> dict[str, Any]:
    """`response` is the error `status` with a JSON body naming the error (core.md §5.1)."""
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert body.get("errors"), body
    assert isinstance(body["message"], str) and body["message"], body
    return body  # type: ignore[no-any-return]


def assert_partial(response: requests.Response, errors: int) -> dict[str, Any]:
    """`response` is a bulk create's answer where `errors` elements failed and the others were
    made (core.md §3.3: a 200 whose body says 206); its body."""
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == 206, body
    assert len(body["data"]["errors"]) == errors, body
    return body  # type: ignore[no-any-return]


def assert_graphql_error(response: requests.Response, status: int, code: str) -> dict[str, Any]:
    """`response` is `/graphql`'s refusal: `status`, GraphQL's error shape, `code`."""
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["data"] is None, body
    (error,) = body["errors"]
    assert isinstance(error["message"], str) and error["message"], body
    assert error["extensions"]["code"] == code, body
    return error  # type: ignore[no-any-return]


@dataclass
class Call:
    """One call seen by `spy`: its arguments after `self`, and what it returned."""

    args: tuple[Any, ...]
    result: Any = None


def spy(monkeypatch: pytest.MonkeyPatch, owner: type, name: str) -> list[Call]:
    """The calls of the method `owner.name` from now on, in the order they began; the method
    still runs as before (wrapped through `monkeypatch`, so the test's end unwraps it)."""
    calls: list[Call] = []
    original = getattr(owner, name)

    def recording(self: Any, *args: Any) -> Any:
        call = Call(args)
        calls.append(call)
        call.result = original(self, *args)
        return call.result

    monkeypatch.setattr(owner, name, recording)
    return calls
