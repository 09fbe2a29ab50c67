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
