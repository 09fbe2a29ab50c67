"""Activity costs a fixed number of SQL statements whatever the number of projects, images and
records (DESIGN.md "GraphQL": every fan-out is backed by a DataLoader; the values computed on
read are computed in the page's statement)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.image.test_statements import insert_images
from tests.tag.test_statements import counted, run

pytestmark = pytest.mark.identity_read_every_request

MAX_STATEMENTS = 14
#: (new projects, images per new project, records per image or project) of the two rounds.
SIZES = ((2, 2, 1), (8, 10, 5))
NESTED = """query($me: Long!) { projects(first: 20) { nodes { id
  connections(user: $me, first: 5) { totalCount nodes { time countViewedImages online } }
  consultations(first: 5) { totalCount nodes { time mode } }
  onlineUsers { username }
  members { nodes { lastImage lastConnection numberConnections } }
  images(first: 20) { nodes { id onlineUsers { username }
    positions(first: 5) { totalCount nodes { zoom location } } } } } } }"""


def record(database_url: str, per_object: int) -> None:
    """For the admin, in every project: `per_object` connections and pings; on every image:
    `per_object` consultations and positions, recent (so everyone looks online)."""

    async def work(conn: Any) -> None:
        admin = await conn.fetchval("SELECT id FROM sec_user WHERE username = 'admin'")
        await conn.execute(
            "INSERT INTO project_connection (user_id, project_id, created) SELECT $1, p.id,"
            " now() - n * interval '1 minute' FROM project p, generate_series(1, $2) n",
            admin,
            per_object,
        )
        await conn.execute(
            "INSERT INTO persistent_connection (user_id, project_id, created) SELECT $1, p.id,"
            " now() - n * interval '10 second' FROM project p, generate_series(1, $2) n",
            admin,
            per_object,
        )
        await conn.execute(
            "INSERT INTO image_consultation (user_id, image_id, project_id, created, mode)"
            " SELECT $1, i.id, i.project_id, now() - n * interval '1 minute', 'view'"
            " FROM image_instance i, generate_series(1, $2) n",
            admin,
            per_object,
        )
        await conn.execute(
            "INSERT INTO user_position (user_id, image_id, slice_id, project_id, corners, x, y,"
            " zoom, rotation, broadcast, created) SELECT $1, s.image_id, s.id, s.project_id,"
            " '{0,0,10,0,10,10,0,10}', 5, 5, n, 0, false, now() - n * interval '1 second'"
            " FROM slice_instance s, generate_series(1, $2) n",
            admin,
            per_object,
        )

    run(database_url, work)


def test_activity_of_projects_and_images_costs_the_same_whatever_the_numbers(
    server, api, database_url
):
    me = api.get("/api/user/current.json").json()["id"]
    found = []
    projects: list[int] = []
    for new_projects, images, per_object in SIZES:
        projects += insert_images(database_url, new_projects, images, slices=1)
        record(database_url, per_object)
        graph, tree = counted(server, api.gql, NESTED, {"me": me})
        assert "errors" not in tree, tree["errors"]
        nodes = tree["data"]["projects"]["nodes"]
        assert len(nodes) == len(projects)
        assert all(node["connections"]["totalCount"] >= per_object for node in nodes)
        assert all(node["onlineUsers"] == [{"username": "admin"}] for node in nodes)
        assert all(
            image["positions"]["totalCount"] >= per_object
            for node in nodes
            for image in node["images"]["nodes"]
        )
        listing, listed = counted(
            server, api.get, f"/api/project/{projects[0]}/userconnection/{me}.json"
        )
        assert listed.json()["size"] >= per_object
        found.append((graph, listing))
    print(f"statements (projects/images with activity, REST connection listing): {found}")
    assert found[0] == found[1]
    assert all(0 < n <= MAX_STATEMENTS for n in found[0]), found
