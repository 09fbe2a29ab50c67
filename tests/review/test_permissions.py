"""Who may review (contract images-annotations.md §3.9, §3.10, §6): starting a review is the
owner-or-mode check with the image's adder as owner; accepting, rejecting and stopping are the
image's reviewer's; changing a reviewed annotation is its reviewer's or an administrator's;
reading needs READ on the project."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import abstract_image, add_image

ROLES = ("owner", "contributor", "manager", "guest", "stranger", "superadmin")
START = {
    "CLASSIC": {
        "owner": 200,
        "contributor": 200,
        "manager": 200,
        "guest": 200,
        "stranger": 403,
        "superadmin": 200,
    },
    "RESTRICTED": {
        "owner": 200,
        "contributor": 403,
        "manager": 200,
        "guest": 403,
        "stranger": 403,
        "superadmin": 200,
    },
    "READ_ONLY": {
        "owner": 403,
        "contributor": 403,
        "manager": 200,
        "guest": 403,
        "stranger": 403,
        "superadmin": 200,
    },
}


@pytest.fixture
def team(api: Any, scene: dict[str, Any], make_user: Any, people: dict[str, Any]) -> dict[str, Any]:
    """The scene's project with an `owner` (who adds an image of their own), a contributor, a
    manager and the guest as members."""
    project = scene["project"]["id"]
    owner, contributor, manager = make_user(), make_user(), make_user()
    for user, suffix in (
        (owner, ""),
        (contributor, ""),
        (manager, "/admin"),
        (people["guest"], ""),
    ):
        added = api.post(f"/api/project/{project}/user/{user['id']}{suffix}.json")
        assert added.status_code == 200, added.text
    image = add_image(owner["api"], project, abstract_image(owner["api"])["id"])
    actors = {
        "owner": owner,
        "contributor": contributor,
        "manager": manager,
        "guest": people["guest"],
        "stranger": people["user"],
        "superadmin": people["superadmin"],
    }
    return {"project": project, "image": image, "actors": actors}


def set_mode(api: Any, project: int, mode: str) -> None:
    fields = api.get(f"/api/project/{project}.json").json()
    fields.update(isRestricted=mode == "RESTRICTED", isReadOnly=mode == "READ_ONLY")
    assert api.put(f"/api/project/{project}.json", json=fields).status_code == 200


@pytest.mark.parametrize("mode", ["CLASSIC", "RESTRICTED", "READ_ONLY"])
@pytest.mark.parametrize("role", ROLES)
def test_who_may_start_a_review(api, team, role, mode):
    set_mode(api, team["project"], mode)
    actor = team["actors"][role]["api"]
    response = actor.put(f"/api/imageinstance/{team['image']['id']}/review.json")
    assert response.status_code == START[mode][role], response.text
    image = api.get(f"/api/imageinstance/{team['image']['id']}.json").json()
    expected = team["actors"][role]["id"] if START[mode][role] == 200 else None
    assert image["reviewUser"] == expected


@pytest.mark.parametrize("role", ROLES)
def test_who_may_read_and_change_a_reviewed_annotation(api, team, role):
    manager = team["actors"]["manager"]["api"]
    image = team["image"]["id"]
    made = team["actors"]["contributor"]["api"].post(
        "/api/annotation.json", json={"location": "POINT (5 5)", "image": image}
    )
    assert made.status_code == 200, made.text
    assert manager.put(f"/api/imageinstance/{image}/review.json").status_code == 200
    annotation = made.json()["annotation"]["id"]
    copy = manager.post(f"/api/annotation/{annotation}/review.json").json()["reviewedannotation"]
    actor = team["actors"][role]["api"]
    read = actor.get(f"/api/reviewedannotation/{copy['id']}.json")
    assert read.status_code == (403 if role == "stranger" else 200)
    # only its reviewer (the manager here) and administrators change it
    allowed = role in ("manager", "superadmin")
    body = {"location": "POINT (6 6)"}
    changed = actor.put(f"/api/reviewedannotation/{copy['id']}.json", json=body)
    assert changed.status_code == (200 if allowed else 403), changed.text
    removed = actor.delete(f"/api/reviewedannotation/{copy['id']}.json")
    assert removed.status_code == (200 if allowed else 403), removed.text
    # accepting is the image reviewer's alone: a 400, as in Cytomine (403 for non-members)
    other = (
        team["actors"]["owner"]["api"]
        .post("/api/annotation.json", json={"location": "POINT (9 9)", "image": image})
        .json()
    )
    accepted = actor.post(f"/api/annotation/{other['annotation']['id']}/review.json")
    expected = {"manager": 200, "stranger": 403}.get(role, 400)
    assert accepted.status_code == expected, accepted.text


def test_anonymous_is_401(anonymous, api, scene):
    image = scene["image"]["id"]
    for response in (
        anonymous.put(f"/api/imageinstance/{image}/review.json"),
        anonymous.get("/api/reviewedannotation.json"),
        anonymous.get(f"/api/imageinstance/{image}/reviewedannotation/stats.json"),
    ):
        assert response.status_code == 401
