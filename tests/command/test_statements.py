"""Command listings cost a fixed number of SQL statements, whatever the number of entries
(the commands of history rows come from one batch loader)."""

from __future__ import annotations

import pytest

from tests.factories import make_project
from tests.harness import Api, Server

pytestmark = pytest.mark.identity_read_every_request


def statements(server: Server, api: Api, path: str, params: dict[str, str]) -> tuple[int, int]:
    with server.count_statements() as counter:
        answer = api.get(path, params=params)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    return counter.n, len(body if isinstance(body, list) else body["collection"])


@pytest.mark.parametrize(
    ("route", "params"),
    [("commandhistory.json", {"fullData": "true"}), ("commandhistory.json", {}),
     ("last/0.json", {})],
)  # fmt: skip
def test_history_listings_do_not_grow_with_their_entries(server, api, route, params):
    project = make_project(api)
    path = f"/api/project/{project['id']}/{route}"
    few, listed = statements(server, api, path, params)
    for name in "abcdef":
        body = {**project, "name": f"{project['name']}{name}"}
        assert api.put(f"/api/project/{project['id']}.json", json=body).status_code == 200
    many, more = statements(server, api, path, params)
    assert (listed, more) == (1, 7)
    assert many == few, (few, many)


def test_deleted_commands_do_not_grow_with_their_entries(server, api):
    few_projects = [make_project(api) for _ in range(2)]
    for project in few_projects:
        assert api.delete(f"/api/project/{project['id']}.json").status_code == 200
    few, listed = statements(server, api, "/api/deletecommand.json", {})
    for project in [make_project(api) for _ in range(5)]:
        assert api.delete(f"/api/project/{project['id']}.json").status_code == 200
    many, more = statements(server, api, "/api/deletecommand.json", {})
    assert (listed, more) == (2, 7)
    assert many == few, (few, many)
