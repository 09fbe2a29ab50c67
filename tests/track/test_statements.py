"""Track listings cost a fixed number of SQL statements, whatever the number of tracks and the
annotations they hold (DESIGN.md "GraphQL": every fan-out is backed by a DataLoader)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.harness import Api, Server

pytestmark = pytest.mark.identity_read_every_request

MAX_STATEMENTS = 8

NESTED = """query($p: Long!) { tracks(projectId: $p, first: 100) { totalCount nodes {
  id name image { id width } project { id name } annotationTracks { id sliceId }
  annotations { id location termIds }
} } }"""


def fill(api: Api, annotate: Any, make_track: Any, tracks: int) -> None:
    """`tracks` tracks, each holding one annotation on each of the image's two slices."""
    for i in range(tracks):
        track = make_track(api)
        for plane in (0, 1):
            annotation = annotate(api, slice_index=plane, location=f"POINT ({i + 1} {plane + 1})")
            linked = api.post(f"/api/annotationtrack/{annotation['id']}/{track['id']}.json")
            assert linked.status_code == 200, linked.text


def count(server: Server, api: Api, project: int, tracks: int) -> tuple[int, int]:
    with server.count_statements() as counter:
        answer = api.gql(NESTED, {"p": project})
    graph = counter.n  # read now: the server has one counter, reset by the next block
    assert "errors" not in answer, answer
    nodes = answer["data"]["tracks"]["nodes"]
    assert len(nodes) == tracks
    assert all(len(node["annotations"]) == 2 and node["image"]["width"] for node in nodes)
    with server.count_statements() as counter:
        response = api.get(f"/api/project/{project}/track.json", params={"max": 0})
    assert response.status_code == 200 and response.json()["size"] == tracks
    return graph, counter.n


def test_track_listing_statement_count_is_flat(server, api, scene, annotate, make_track):
    project = scene["project"]["id"]
    fill(api, annotate, make_track, 2)
    small = count(server, api, project, 2)
    fill(api, annotate, make_track, 10)
    large = count(server, api, project, 12)
    print(f"statements (GraphQL nested, REST listing): 2 tracks {small}, 12 tracks {large}")
    assert small == large
    assert all(0 < n <= MAX_STATEMENTS for n in small), small
