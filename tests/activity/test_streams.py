"""Whole activity lists (REST's `max=0`) streamed from a cursor, when the database fails: a
statement that fails before the first row is the usual 503 JSON error, and one that fails once
rows are written cuts the answer short (its 200 is already out), with no other answer written
into its body; the server serves on."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from typing import Any

import pytest
import requests

from db.engine import DatabaseUnavailable, Lease
from settings import Settings
from tests.activity.conftest import ok
from tests.activity.test_rest import at, insert, me
from tests.conftest import base_settings
from tests.factories import make_project
from tests.harness import Api, assert_error, raw_connection


@pytest.fixture
def settings() -> Settings:
    return replace(base_settings(), statement_timeout=1)


def _connections(database_url: str, project: int, user: int, count: int) -> None:
    rows = [{"user_id": user, "project_id": project, "created": at(n)} for n in range(count)]
    insert(database_url, "project_connection", rows)


def _locked_get(database_url: str, api: Api, table: str, path: str, **params: Any) -> Any:
    """GET `path` while another connection holds `table` locked past the statement timeout."""

    async def locked() -> requests.Response:
        other = await raw_connection(database_url)
        try:
            async with other.transaction():
                await other.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
                return await asyncio.to_thread(api.get, path, params=params)
        finally:
            await other.close()

    return asyncio.run(locked())


def test_a_whole_list_past_the_timeout_before_its_first_row_answers_503(api, scene, database_url):
    """The cursor's first FETCH runs past the statement timeout: the answer is the JSON 503
    every statement past it gets, not a 200 whose body breaks off."""
    project, user = scene["project"]["id"], me(api)
    _connections(database_url, project, user, 3)
    history = f"/api/project/{project}/connectionHistory/{user}.json"
    for params in ({"max": 0}, {"export": "csv"}):
        answer = _locked_get(database_url, api, "project_connection", history, **params)
        body = assert_error(answer, 503)
        assert "statement timeout" in body["message"], params
        assert int(answer.headers["Retry-After"]) > 0
    commands = f"/api/project/{make_project(api)['id']}/commandhistory.json"
    answer = _locked_get(database_url, api, "command_history", commands, max=0)
    assert "statement timeout" in assert_error(answer, 503)["message"]
    assert len(ok(api.get(history, params={"max": 0}))["collection"]) == 3


def test_a_whole_list_failing_midway_is_cut_short_and_the_server_serves_on(
    api, scene, database_url, monkeypatch
):
    """Past its first partition the status is sent: the answer ends without its last chunk
    (the client knows it is incomplete) rather than carrying an error answer inside its
    body, and the lease's connection serves the next requests."""
    from resolvers import listing

    monkeypatch.setattr(listing, "WHOLE_LIST_PARTITION", 2)
    streamed = Lease.stream

    async def failing(self: Lease, statement: Any, size: int) -> AsyncIterator[Sequence[Any]]:
        async for partition in streamed(self, statement, size):
            yield partition
            raise DatabaseUnavailable("The request ran longer than the statement timeout")

    project, user = scene["project"]["id"], me(api)
    _connections(database_url, project, user, 5)
    path = f"/api/project/{project}/userconnection/{user}.json"
    monkeypatch.setattr(Lease, "stream", failing)
    with pytest.raises(requests.exceptions.ChunkedEncodingError) as broken:
        api.get(path, params={"max": 0})
    assert "HTTP/1.1" not in str(broken.value), "no other answer written into the body"
    assert "ended prematurely" in str(broken.value)
    monkeypatch.setattr(Lease, "stream", streamed)
    for _ in range(3):
        assert len(ok(api.get(path, params={"max": 0}))["collection"]) == 5
