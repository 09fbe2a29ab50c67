"""Access decisions kept across requests (resolvers/project_access.kept_access): a viewer's
next listings of an image skip the statement that finds the image's project and the viewer's
access to it; a change made through this server counts at the next request, one made behind
its back within `CYTOGATE_AUTH_CACHE_SECONDS`."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from typing import Any

import pytest

from settings import Settings
from tests.factories import abstract_image, add_image
from tests.harness import Api, Server, assert_error, raw_connection
from tests.project.conftest import Team

#: The bound of the test of a change made behind the server's back.
BOUND = 1
SQUARE = "POLYGON ((10 10, 20 10, 20 20, 10 20, 10 10))"


@pytest.fixture
def image(api: Api, team: Team) -> dict[str, Any]:
    return add_image(api, team.project["id"], abstract_image(api)["id"])


def _listing(client: Api, image: dict[str, Any]) -> Any:
    return client.get("/api/annotation.json", params={"image": image["id"]})


def _graphql_listing(client: Api, image: dict[str, Any]) -> Any:
    query = """query($image: Long!) {
      annotations(filter: {image: $image}, first: 5) { totalCount } }"""
    return client.post("/graphql", json={"query": query, "variables": {"image": image["id"]}})


def test_a_viewers_next_listings_skip_the_access_statement(api, server: Server, team: Team,
                                                           image):  # fmt: skip
    """(The first listing, of another image, leaves the caller's identity kept.)"""
    member = team.contributor["api"]
    other = add_image(api, team.project["id"], abstract_image(api)["id"])
    assert _listing(member, other).status_code == 200
    counts, answers = [], []
    for _ in range(3):
        with server.count_statements() as counted:
            response = _listing(member, image)
        assert response.status_code == 200
        counts.append(counted.n)
        answers.append(response.json())
    assert counts[1] == counts[2] == counts[0] - 1
    assert answers[0] == answers[1] == answers[2]


def test_the_project_row_a_decision_kept_is_not_answered(server: Server, team: Team, image):
    """The kept row decides access only: the project's counters, which an annotation's trigger
    changes without a write to the project, are read fresh."""
    member = team.contributor["api"]
    assert _listing(member, image).status_code == 200
    made = member.post("/api/annotation.json", json={"image": image["id"], "location": SQUARE})
    assert made.status_code == 200
    assert len(_listing(member, image).json()["collection"]) == 1
    query = """query($image: Long!) { annotations(filter: {image: $image}, first: 5) {
      nodes { image { project { numberOfAnnotations } } } } }"""
    body = member.post("/graphql", json={"query": query, "variables": {"image": image["id"]}})
    assert "errors" not in body.json(), body.json()
    (node,) = body.json()["data"]["annotations"]["nodes"]
    assert node["image"]["project"]["numberOfAnnotations"] == 1


@pytest.mark.parametrize("listing", [_listing, _graphql_listing])
def test_a_member_removed_through_this_server_is_refused_at_once(api, team: Team, image,
                                                                 listing):  # fmt: skip
    member = team.contributor["api"]
    assert listing(member, image).status_code == 200
    removed = api.delete(f"{team.path}/user/{team.contributor['id']}.json")
    assert removed.status_code == 200
    if listing is _listing:
        assert_error(listing(member, image), 403)
    else:
        body = listing(member, image).json()
        assert body["data"] is None and body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def test_a_project_made_to_hide_layers_hides_them_at_once(api, team: Team, image):
    """The project's row is part of the decision: its modes changed through this server are
    read again at the next listing."""
    member = team.contributor["api"]
    made = team.manager["api"].post("/api/annotation.json",
                                    json={"image": image["id"], "location": SQUARE})  # fmt: skip
    assert made.status_code == 200
    assert len(_listing(member, image).json()["collection"]) == 1
    project = api.get(team.path + ".json").json()
    changed = api.put(team.path + ".json", json={**project, "hideAdminsLayers": True})
    assert changed.status_code == 200
    assert _listing(member, image).json()["collection"] == []


def test_an_images_size_changed_through_this_server_counts_at_once(api, team: Team):
    """The image's extent is kept with the decision (a box around the whole image drops the
    listing's spatial test): an abstract image made larger here is read again at the next
    listing, which keeps only what lies in its box."""
    made = abstract_image(api, width=100, height=100)
    image = add_image(api, team.project["id"], made["id"])
    member = team.contributor["api"]
    box = {"image": image["id"], "bbox": "0,0,100,100"}
    assert member.get("/api/annotation.json", params=box).json()["collection"] == []
    shown = api.get(f"/api/abstractimage/{made['id']}.json").json()
    grown = api.put(f"/api/abstractimage/{made['id']}.json",
                    json={**shown, "width": 1000, "height": 1000})  # fmt: skip
    assert grown.status_code == 200, grown.text
    far = "POLYGON ((500 500, 520 500, 520 520, 500 520, 500 500))"
    drawn = member.post("/api/annotation.json", json={"image": image["id"], "location": far})
    assert drawn.status_code == 200, drawn.text
    assert member.get("/api/annotation.json", params=box).json()["collection"] == []
    wider = {"image": image["id"], "bbox": "0,0,1000,1000"}
    assert len(member.get("/api/annotation.json", params=wider).json()["collection"]) == 1


def _reads(client: Api, image: dict[str, Any]) -> tuple[int, int, int]:
    """The statuses of the member's reads of the image: its annotations, itself, its slice."""
    path = f"/api/imageinstance/{image['id']}"
    return (_listing(client, image).status_code, client.get(path + ".json").status_code,
            client.get(path + "/sliceinstance/reference.json").status_code)  # fmt: skip


def _roles(api: Api) -> dict[str, int]:
    listed = api.get("/api/role.json").json()["collection"]
    return {role["authority"]: role["id"] for role in listed}


@pytest.mark.parametrize(("change", "statuses"), [
    (lambda api, team, image: api.delete(f"/api/imageinstance/{image['id']}.json"), (404, 404)),
    (lambda api, team, image: api.delete(team.path + ".json"), (404, 404)),
    (lambda api, team, image: api.post(f"/api/user/{team.contributor['id']}/lock.json"),
     (401, 401, 401)),
    (lambda api, team, image: api.delete(f"/api/user/{team.contributor['id']}.json"),
     (401, 401, 401)),
    (lambda api, team, image: team.contributor["api"].post("/api/user/current/keys"),
     (401, 401, 401)),
], ids=["image-deleted", "project-deleted", "user-locked", "user-deleted",
        "keys-regenerated"])  # fmt: skip
def test_a_change_through_this_server_counts_at_the_next_read(api, team: Team, image, change,
                                                              statuses):  # fmt: skip
    """The member's reads leave their identity and access kept; each change refuses the next."""
    member = team.contributor["api"]
    assert _reads(member, image) == (200, 200, 200)
    assert change(api, team, image).status_code == 200
    assert _reads(member, image)[: len(statuses)] == statuses


@pytest.mark.parametrize("how", ["role-removed", "admin-session-closed"])
def test_an_admin_no_more_is_refused_at_once(api, team: Team, image, make_user, how):
    """An admin's kept decision (no ACL bits) is not the one the same user gets as a
    non-admin: a role removed or an admin session closed here refuses the next read."""
    role = "ROLE_SUPER_ADMIN" if how == "role-removed" else "ROLE_ADMIN"
    admin = make_user(roles=(role,))
    if how == "admin-session-closed":
        assert admin["api"].get("/session/admin/open.json").status_code == 200
    assert _reads(admin["api"], image) == (200, 200, 200)
    if how == "role-removed":
        removed = api.delete(f"/api/user/{admin['id']}/role/{_roles(api)[role]}.json")
    else:
        removed = admin["api"].get("/session/admin/close.json")
    assert removed.status_code == 200, removed.text
    assert _reads(admin["api"], image) == (403, 403, 403)


@pytest.mark.parametrize("first", ["member", "admin"])
def test_a_decision_kept_for_one_caller_is_not_anothers(api, team: Team, image, first):
    """Right after a member's or an admin's reads of an image, an outsider's are refused."""
    assert _reads(team.contributor["api"] if first == "member" else api, image) == (200,) * 3
    assert _reads(team.outsider["api"], image) == (403, 403, 403)


async def _drop_membership(url: str, project: int, user: int) -> None:
    conn = await raw_connection(url)
    try:
        await conn.execute(
            "DELETE FROM acl_entry WHERE object_id = $1 AND user_id = $2", project, user
        )
    finally:
        await conn.close()


class TestBehindTheServersBack:
    """A membership removed straight in the database, as another process would."""

    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return dataclasses.replace(settings, auth_cache_seconds=BOUND)

    def test_counts_once_the_bound_has_passed(self, database_url, team: Team, image):
        member = team.contributor["api"]
        assert _listing(member, image).status_code == 200
        asyncio.run(_drop_membership(database_url, team.project["id"], team.contributor["id"]))
        assert _listing(member, image).status_code == 200  # kept, within the bound
        time.sleep(BOUND + 0.2)
        assert_error(_listing(member, image), 403)


@pytest.mark.identity_read_every_request
def test_without_a_bound_every_listing_decides_again(database_url, team: Team, image):
    member = team.contributor["api"]
    assert _listing(member, image).status_code == 200
    asyncio.run(_drop_membership(database_url, team.project["id"], team.contributor["id"]))
    assert_error(_listing(member, image), 403)
