"""Bad ids and parameters on the command routes answer a clear 4xx JSON error, never a 500
(contract core.md §5.2)."""

from __future__ import annotations

import pytest

from tests.factories import make_project
from tests.harness import assert_error

pytestmark = pytest.mark.usefixtures("no_server_error_nor_redirect")

HUGE = "99999999999999999999"
LONG_MAX_PLUS_ONE = "9223372036854775808"


def test_undo_and_redo_of_bad_command_ids(api):
    cases = [(HUGE, 400), (LONG_MAX_PLUS_ONE, 400), ("9223372036854775807", 404), ("0", 404),
             ("-1", 404), ("abc", 404), ("1.5", 404)]  # fmt: skip
    for command, status in cases:
        for prefix in ("/api", ""):
            for verb in ("undo", "redo"):
                assert_error(api.get(f"{prefix}/command/{command}/{verb}.json"), status)


def test_history_parameters(api):
    project = make_project(api)
    for params in ({"user": "abc"}, {"user": HUGE}, {"startDate": "abc"}, {"startDate": HUGE},
                   {"endDate": "-99999999999999"}, {"max": "-1"}, {"max": "abc"},
                   {"max": HUGE}, {"offset": "-5"}, {"offset": HUGE}):  # fmt: skip
        assert_error(api.get("/api/commandhistory.json", params=params), 400)
        path = f"/api/project/{project['id']}/commandhistory.json"
        assert_error(api.get(path, params=params), 400)


def test_project_ids_and_counts_out_of_range(api):
    project = make_project(api)
    for path in (f"/api/project/{HUGE}/commandhistory.json", f"/api/project/{HUGE}/last/1.json",
                 f"/api/project/{project['id']}/last/99999999999.json"):  # fmt: skip
        assert_error(api.get(path), 400)
    assert_error(api.get(f"/api/project/{project['id']}/last/-1.json"), 404)
    assert_error(api.get("/api/project/9223372036854775807/commandhistory.json"), 404)


def test_deleted_commands_parameters(api):
    for params in ({"after": "abc"}, {"after": HUGE}, {"max": "-1"}, {"offset": "-1"}):
        assert_error(api.get("/api/deletecommand.json", params=params), 400)


def test_graphql_undo_of_bad_ids(api):
    for literal in ('"abc"', f'"{HUGE}"', HUGE, "1.5"):
        answer = api.gql(f"mutation {{ undo(commandId: {literal}) {{ action }} }}")
        assert answer["data"] is None and answer["errors"], answer
