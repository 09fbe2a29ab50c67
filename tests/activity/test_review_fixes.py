"""Activity defects found in review: text PostgreSQL cannot store poisoning the recorder's
batches, image names kept from before a project turned blind, dates at the edge of the
calendar, a position naming an image and a slice of another image, and an unknown user's
consultations."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest

from gateway.app import ACTIVITY
from resolvers.activity.rows import CONNECTION_TABLE
from tests.activity.conftest import flush, ok, open_project, viewport
from tests.factories import abstract_image, add_image, make_project
from tests.harness import Server, assert_error

pytestmark = pytest.mark.usefixtures("no_server_error_nor_redirect")


def _count(api: Any, project: int) -> int:
    return ok(api.get(f"/api/project/{project}/userconnection/count.json"))["total"]  # type: ignore[no-any-return]


def test_nul_in_free_text_is_a_400_and_does_not_block_later_records(api, scene):
    """A NUL was queued, then failed every batch (and so every read of activity) for good."""
    project, image = scene["project"]["id"], scene["image"]["id"]
    refused = [
        api.post(f"/api/project/{project}/userconnection.json", json={"os": "a\x00b"}),
        api.post(f"/api/project/{project}/userconnection.json", json={"browserVersion": "\x00"}),
        api.post(f"/api/imageinstance/{image}/consultation.json", json={"mode": "v\x00"}),
    ]
    for response in refused:
        assert_error(response, 400)
    gql = api.post("/graphql", json={
        "query": "mutation($p: Long!) { projectConnectionCreate(input: {project: $p, "
                 'browser: "\\u0000"}) { projectConnection { id } } }',
        "variables": {"p": project},
    }).json()  # fmt: skip
    assert gql["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", gql
    open_project(api, project, os="Linux")
    assert _count(api, project) == 1


def test_a_row_the_database_refuses_is_dropped_alone(server: Server, api, scene):
    """Whatever slips past the checks: the batch is written row by row, the refused row
    dropped, the others kept, and reads of activity work again."""
    project = scene["project"]["id"]
    made = open_project(api, project, os="Linux")
    recorder = server.app[ACTIVITY]

    async def poison() -> None:
        row = {"id": await recorder.next_id(), "created": datetime.now(UTC),
               "user_id": made["user"], "project_id": project, "os": "bad\x00",
               "browser": None, "browser_version": None}  # fmt: skip
        recorder.add(CONNECTION_TABLE, row)

    asyncio.run_coroutine_threadsafe(poison(), server.loop).result(30)
    flush(server)
    assert _count(api, project) == 1
    open_project(api, project)
    assert _count(api, project) == 2


def _turn_blind(api: Any, project: dict[str, Any]) -> None:
    body = ok(api.get(f"/api/project/{project['id']}.json"))
    body["blindMode"] = True
    assert api.put(f"/api/project/{project['id']}.json", json=body).status_code == 200


def test_names_recorded_before_a_project_turned_blind_are_blinded(api, make_user):
    """A consultation or a position recorded while the project showed names kept the real
    name, and answered it once the project was blind."""
    member = make_user()
    project = make_project(api, users=(member["id"],))
    base = abstract_image(api, name="secret-name.svs")
    image = add_image(api, project["id"], base["id"])["id"]
    who = member["api"]
    made = ok(who.post(f"/api/imageinstance/{image}/consultation.json", json={"mode": "view"}))
    assert made["imageName"] == "secret-name.svs"
    ok(who.post(f"/api/imageinstance/{image}/position.json", json=viewport()))
    _turn_blind(api, project)
    blinded = str(base["id"])
    p = f"/api/project/{project['id']}"
    listed = ok(who.get(f"{p}/user/{member['id']}/imageconsultation.json"))["collection"]
    assert [c["imageName"] for c in listed] == [blinded]
    online = ok(who.get(f"{p}/online/user.json"))["collection"]
    names = [(s["filename"], s["originalFilename"]) for u in online for s in u["position"]]
    assert names == [(blinded, blinded)]
    tree = who.gql(
        "query($p: Long!, $u: Long!) { imageConsultations(project: $p, user: $u) "
        "{ nodes { imageName } } projectOnlineUsers(project: $p) { positions { imageName } } }",
        {"p": project["id"], "u": member["id"]},
    )
    assert "errors" not in tree, tree
    assert tree["data"]["imageConsultations"]["nodes"] == [{"imageName": blinded}]
    assert tree["data"]["projectOnlineUsers"] == [{"positions": [{"imageName": blinded}]}]
    again = ok(who.post(f"/api/imageinstance/{image}/consultation.json", json={}))
    assert again["imageName"] == blinded


def test_average_connections_before_the_first_year(api, scene):
    """A year before 0001-01-01 overflowed Python's dates: a 500."""
    params = {"period": "day", "beforeThan": -62135596800000}
    assert ok(api.get("/api/averageConnections.json", params=params))["collection"] == []
    tree = api.gql('{ averageConnections(period: "day", beforeThan: "0001-01-01T00:00:00Z") '
                   "{ time } }")  # fmt: skip
    assert tree.get("errors") is None and tree["data"]["averageConnections"] == [], tree


def test_position_naming_an_image_and_a_slice_of_another_is_a_404(api, scene, make_user):
    """GraphQL took the slice and ignored the image (the listings refuse the pair)."""
    other = add_image(api, scene["project"]["id"], abstract_image(api)["id"])["id"]
    tree = api.gql(
        "mutation($i: Long!, $s: Long!) { positionCreate(input: {image: $i, slice: $s}) "
        "{ position { id } } }",
        {"i": other, "s": scene["slices"][0]},
    )
    assert tree["errors"][0]["extensions"]["code"] == "NOT_FOUND", tree
    details = ok(api.get(f"/api/imageinstance/{scene['image']['id']}/positions.json",
                         params={"showDetails": "true"}))  # fmt: skip
    assert details["size"] == 0


def test_consultations_of_an_unknown_user_are_a_404(api, scene):
    """As the user's connections: not an empty list."""
    p = f"/api/project/{scene['project']['id']}"
    assert_error(api.get(f"{p}/user/999999999/imageconsultation.json"), 404)
    assert_error(api.get(f"{p}/user/999999999/imageconsultation.json",
                         params={"distinctImages": "true"}), 404)  # fmt: skip
