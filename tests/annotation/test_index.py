"""The per-slice annotation index and the user-annotation counts, through REST and GraphQL
(contract images-annotations.md §3.4 "Counts", §3.12, §3.13)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.factories import created
from tests.harness import Api, assert_error


def draw(api: Api, slice_id: int, location: str = "POINT (10 10)") -> dict[str, Any]:
    body = {"location": location, "slice": slice_id}
    return created(api.post("/api/annotation.json", json=body), "annotation")


@pytest.fixture
def alice(api: Api, scene: dict[str, Any], make_user: Any) -> dict[str, Any]:
    """A contributor of the scene's project."""
    user = make_user("alice")
    assert api.post(f"/api/project/{scene['project']['id']}/user/{user['id']}.json").ok
    return user  # type: ignore[no-any-return]


def test_index_rows_per_user_on_a_slice_exact_json(api, scene, alice):
    me = api.get("/api/user/current.json").json()["id"]
    lower, upper = scene["slices"]
    draw(api, lower)
    moved = draw(api, lower, "POINT (20 20)")
    draw(alice["api"], lower)
    draw(alice["api"], upper)
    path = f"/api/sliceinstance/{lower}/annotationindex.json"
    assert api.get(path).json() == {
        "collection": [
            {"user": me, "slice": lower, "countAnnotation": 2, "countReviewedAnnotation": 0},
            {"user": alice["id"], "slice": lower, "countAnnotation": 1,
             "countReviewedAnnotation": 0},
        ],
        "offset": 0, "perPage": 2, "size": 2, "totalPages": 1,
    }  # fmt: skip
    edit = api.put(f"/api/annotation/{moved['id']}.json",
                   json={**moved, "slice": upper, "location": "POINT (20 20)"})  # fmt: skip
    assert edit.status_code == 200, edit.text
    counts = {row["user"]: row["countAnnotation"]
              for row in api.get(path).json()["collection"]}  # fmt: skip
    assert counts == {me: 1, alice["id"]: 1}
    upper_rows = api.get(f"/api/sliceinstance/{upper}/annotationindex.json").json()["collection"]
    assert {row["user"]: row["countAnnotation"] for row in upper_rows} == {me: 1, alice["id"]: 1}


def test_index_needs_read_on_the_project(api, scene, make_user):
    path = f"/api/sliceinstance/{scene['slices'][0]}/annotationindex.json"
    assert_error(make_user()["api"].get(path), 403)
    assert_error(api.get("/api/sliceinstance/999999999/annotationindex.json"), 404)
    assert api.get(path).json()["collection"] == []


def test_user_counts_are_for_yourself_or_a_manager_of_the_project(api, scene, alice, make_user):
    project = scene["project"]["id"]
    me = api.get("/api/user/current.json").json()["id"]
    for i in range(3):
        draw(alice["api"], scene["slices"][0], f"POINT ({i + 1} 1)")
    draw(api, scene["slices"][0])
    mine = f"/api/user/{alice['id']}/userannotation/count.json"
    assert alice["api"].get(mine).json() == {"total": 3}
    assert alice["api"].get(mine, params={"project": project}).json() == {"total": 3}
    assert api.get(mine, params={"project": project}).json() == {"total": 3}  # manager
    outsider = make_user()
    assert_error(outsider["api"].get(mine), 403)
    assert_error(outsider["api"].get(mine, params={"project": project}), 403)
    assert_error(alice["api"].get(f"/api/user/{me}/userannotation/count.json"), 403)
    assert_error(
        alice["api"].get(f"/api/user/{me}/userannotation/count.json", params={"project": project}),
        403,
    )  # a contributor only
    assert_error(alice["api"].get(mine, params={"project": 999999999}), 404)
    other = outsider["api"].get(f"/api/user/{outsider['id']}/userannotation/count.json")
    assert other.json() == {"total": 0}


def test_project_count_within_a_window(api, scene, make_user):
    project = scene["project"]["id"]
    made = [draw(api, scene["slices"][i % 2], f"POINT ({i + 1} 1)") for i in range(4)]
    dates = sorted(int(a["created"]) for a in made)
    path = f"/api/project/{project}/userannotation/count.json"

    def total(**window: int) -> int:
        response = api.get(path, params=window)
        assert response.status_code == 200, response.text
        return response.json()["total"]  # type: ignore[no-any-return]

    assert total() == 4
    assert total(startDate=dates[0], endDate=dates[-1]) == 4
    assert total(startDate=dates[-1] + 1) == 0
    assert total(endDate=dates[0] - 1) == 0
    assert total(startDate=dates[-1]) == sum(1 for d in dates if d >= dates[-1])
    assert total(endDate=dates[0]) == sum(1 for d in dates if d <= dates[0])
    assert_error(make_user()["api"].get(path), 403)
    # dates finer than the millisecond: the window still compares milliseconds
    last = datetime.fromtimestamp(dates[-1] / 1000, UTC)
    half = (last + timedelta(microseconds=500)).isoformat()
    counted = api.gql(
        "query($p: Long!, $at: DateTime!) { from: projectAnnotationCount(projectId: $p,"
        " startDate: $at) upTo: projectAnnotationCount(projectId: $p, endDate: $at) }",
        {"p": project, "at": half},
    )
    assert counted["data"] == {"from": 0, "upTo": 4}, counted


def test_index_and_counts_through_graphql(api, scene, alice):
    lower = scene["slices"][0]
    draw(alice["api"], lower)
    index = api.gql(
        "query($s: Long!) { annotationIndex(sliceId: $s) { user { username } slice { id }"
        " countAnnotation countReviewedAnnotation }"
        " sliceInstance(id: $s) { annotationIndex { userId countAnnotation } } }",
        {"s": lower},
    )
    assert "errors" not in index, index
    assert index["data"]["annotationIndex"] == [{"user": {"username": "alice"},
                                                 "slice": {"id": lower}, "countAnnotation": 1,
                                                 "countReviewedAnnotation": 0}]  # fmt: skip
    assert index["data"]["sliceInstance"]["annotationIndex"] == [
        {"userId": alice["id"], "countAnnotation": 1}]  # fmt: skip
    counts = api.gql(
        "query($u: Long!, $p: Long!) { userAnnotationCount(userId: $u, projectId: $p)"
        ' projectAnnotationCount(projectId: $p, startDate: "2000-01-01T00:00:00Z") }',
        {"u": alice["id"], "p": scene["project"]["id"]},
    )
    assert counts["data"] == {"userAnnotationCount": 1, "projectAnnotationCount": 1}
