"""Second review of annotation writes, bulk writes and their undo: track links follow an
undone move, and the probes of that review (contract images-annotations.md §3.2–§3.5, core.md
§8)."""

from __future__ import annotations

import math
from typing import Any

import pytest

from tests.factories import abstract_image, add_image, created, make_ontology, make_project
from tests.harness import Api, assert_error

pytestmark = pytest.mark.usefixtures("no_server_error_nor_redirect")

SQUARE = "POLYGON ((10 10, 40 10, 40 40, 10 40, 10 10))"


def _track(api: Api, scene: dict[str, Any], name: str) -> int:
    body = {"name": name, "color": "#000000", "image": scene["image"]["id"]}
    return created(api.post("/api/track.json", json=body), "track")["id"]  # type: ignore[no-any-return]


def _links(api: Api, track_id: int) -> dict[int, int]:
    """A track's links: annotation id → slice id."""
    links = api.get(f"/api/track/{track_id}/annotationtrack.json").json()["collection"]
    return {link["annotationIdent"]: link["slice"] for link in links}


def _draw(api: Api, slice_id: int, tracks: list[int]) -> dict[str, Any]:
    body = {"location": SQUARE, "slice": slice_id, "track": tracks}
    return created(api.post("/api/annotation.json", json=body), "annotation")


def _moved_in_a_track(api: Api, scene: dict[str, Any]) -> tuple[int, dict[str, Any], Any]:
    """A track and an annotation in it, drawn on the first slice and moved to the second; the
    move's answer."""
    first, second = scene["slices"]
    track = _track(api, scene, "t")
    made = _draw(api, first, [track])
    moved = api.put(f"/api/userannotation/{made['id']}.json",
                    json={"location": SQUARE, "slice": second})  # fmt: skip
    assert moved.status_code == 200, moved.text
    return track, made, moved


def test_undoing_a_move_takes_its_track_links_back_and_redo_moves_them_again(api, scene):
    first, second = scene["slices"]
    track, made, _ = _moved_in_a_track(api, scene)
    path = f"/api/userannotation/{made['id']}.json"
    assert _links(api, track) == {made["id"]: second}
    assert api.get("/command/undo.json").status_code == 200
    assert api.get(path).json()["slice"] == first
    assert _links(api, track) == {made["id"]: first}
    assert api.get("/command/redo.json").status_code == 200
    assert api.get(path).json()["slice"] == second
    assert _links(api, track) == {made["id"]: second}


def test_an_undone_move_whose_old_slice_holds_another_link_of_the_track_is_a_409(api, scene):
    """The track took another annotation on the old slice meanwhile: undoing the move would
    put two of its links on one slice."""
    first, second = scene["slices"]
    track, made, moved = _moved_in_a_track(api, scene)
    path = f"/api/userannotation/{made['id']}.json"
    other = _draw(api, first, [track])
    assert _links(api, track) == {made["id"]: second, other["id"]: first}
    # the latest transaction is the other's creation: undo the move by its command
    undone = api.get(f"/command/{moved.json()['command']}/undo.json")
    assert_error(undone, 409)
    assert api.get(path).json()["slice"] == second
    assert _links(api, track) == {made["id"]: second, other["id"]: first}


def _counts(api: Api, project: int, image: int) -> tuple[int, int]:
    """The annotation counters of a project and of an image."""
    counted = api.get(f"/api/project/{project}.json").json()["numberOfAnnotations"]
    return counted, api.get(f"/api/imageinstance/{image}.json").json()["numberOfAnnotations"]


def test_an_unknown_term_in_an_array_for_a_project_without_ontology_is_that_elements_400(api):
    """A project without an ontology takes no term: the array's element answers the single
    create's 400 (it was a 500, the link's foreign key refusing the whole batch)."""
    project = make_project(api)
    image = add_image(api, project["id"], abstract_image(api, width=1000, height=800)["id"])
    refused = {"location": SQUARE, "image": image["id"], "term": [999_999_999]}
    answer = api.post(
        "/api/annotation.json", json=[refused, {"location": SQUARE, "image": image["id"]}]
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["status"] == 206, body
    (failed,) = body["data"]["errors"]
    single = assert_error(api.post("/api/annotation.json", json=refused), 400)
    assert (
        failed["message"]
        == single["message"]
        == ("Term 999999999 is not in the ontology of the project")
    )
    assert _counts(api, project["id"], image["id"]) == (1, 1)


def test_an_annotation_does_not_take_its_terms_to_a_project_of_another_ontology(api, scene):
    """Its terms would be outside its new project's ontology, which no create or term link
    allows (§3.4); without terms it moves, counters following, and undo moves it back."""
    tumour = scene["terms"]["Tumour"]
    other = make_project(api, ontology=make_ontology(api, terms=("Y",))["id"])
    there = add_image(api, other["id"], abstract_image(api, width=1000, height=800)["id"])
    here = scene["project"]["id"], scene["image"]["id"]
    body = {"location": SQUARE, "image": here[1], "term": [tumour]}
    made = created(api.post("/api/annotation.json", json=body), "annotation")
    path = f"/api/userannotation/{made['id']}.json"
    moved = api.put(path, json={"location": SQUARE, "image": there["id"]})
    assert assert_error(moved, 400)["message"].startswith(f"Term {tumour} is not in the ontology")
    assert api.get(path).json()["project"] == here[0]
    assert (_counts(api, *here), _counts(api, other["id"], there["id"])) == ((1, 1), (0, 0))
    assert api.delete(f"/api/annotation/{made['id']}/term/{tumour}.json").status_code == 200
    moved = api.put(path, json={"location": SQUARE, "image": there["id"]})
    assert moved.status_code == 200, moved.text
    assert (_counts(api, *here), _counts(api, other["id"], there["id"])) == ((0, 0), (1, 1))
    assert api.get(f"/command/{moved.json()['command']}/undo.json").status_code == 200
    assert api.get(path).json()["project"] == here[0]
    assert (_counts(api, *here), _counts(api, other["id"], there["id"])) == ((1, 1), (0, 0))


def test_an_undone_move_does_not_take_back_terms_put_on_since(api, scene):
    """Moved to a project of another ontology, the annotation took a term of it: undoing the
    move would leave that term outside the old project's ontology (400, nothing changes)."""
    other_ontology = make_ontology(api, terms=("Y",))
    other = make_project(api, ontology=other_ontology["id"])
    there = add_image(api, other["id"], abstract_image(api, width=1000, height=800)["id"])
    made = _draw(api, scene["slices"][0], [])
    path = f"/api/userannotation/{made['id']}.json"
    moved = api.put(path, json={"location": SQUARE, "image": there["id"]})
    assert moved.status_code == 200, moved.text
    term = other_ontology["terms"]["Y"]["id"]
    link = api.post(f"/api/annotation/{made['id']}/term/{term}.json")
    assert link.status_code == 200, link.text
    undone = api.get(f"/command/{moved.json()['command']}/undo.json")
    assert assert_error(undone, 400)["message"].startswith(f"Term {term} is not in the ontology")
    assert api.get(path).json()["project"] == other["id"]
    assert api.get(path).json()["term"] == [term]


def test_an_undone_move_to_another_image_does_not_leave_a_track_of_that_image_holding_it(
    api, scene
):
    """Moved to another image and put in a track there, the annotation cannot go back to its
    old image by undo: the track would hold an annotation of another image (400, as the move
    of an annotation in a track is)."""
    other = add_image(api, scene["project"]["id"],
                      abstract_image(api, width=1000, height=800)["id"])  # fmt: skip
    made = _draw(api, scene["slices"][0], [])
    path = f"/api/userannotation/{made['id']}.json"
    moved = api.put(path, json={"location": SQUARE, "image": other["id"]})
    assert moved.status_code == 200, moved.text
    there = created(
        api.post("/api/track.json", json={"name": "t", "color": "#000000", "image": other["id"]}),
        "track",
    )["id"]
    link = api.post(
        "/api/annotationtrack.json", json={"annotationIdent": made["id"], "track": there}
    )
    assert link.status_code == 200, link.text
    undone = api.get(f"/command/{moved.json()['command']}/undo.json")
    assert_error(undone, 400)
    assert api.get(path).json()["image"] == other["id"]
    assert _links(api, there) == {made["id"]: moved.json()["annotation"]["slice"]}


def _circle(points: int) -> str:
    """A polygon of `points` vertices, big enough to be simplified."""
    ring = [(round(400 + 300 * math.cos(2 * math.pi * i / points), 3),
             round(400 + 300 * math.sin(2 * math.pi * i / points), 3))
            for i in range(points)]  # fmt: skip
    return "POLYGON ((" + ", ".join(f"{x} {y}" for x, y in [*ring, ring[0]]) + "))"


def test_an_elements_own_simplification_bounds_hold_beside_elements_without(api, scene):
    """Elements of one image with different bounds were all simplified with automatic ones:
    each keeps its own, as the create of one does (§3.4)."""
    image = scene["image"]["id"]
    element = {"location": _circle(500), "image": image, "maxPoint": 50}
    single = created(api.post("/api/annotation.json", json=element), "annotation")
    answer = api.post("/api/annotation.json", json=[element, {"location": SQUARE, "image": image}])
    assert answer.status_code == 200 and answer.json()["status"] == 200, answer.text
    made = answer.json()["data"]["message"].split()[1].split(",")[0]
    shaped = api.get(f"/api/userannotation/{made}.json").json()
    assert shaped["geometryCompression"] == single["geometryCompression"] > 0
    assert shaped["location"] == single["location"]


def test_undoing_a_move_out_of_a_project_one_was_removed_from_is_a_403(api, scene, make_user):
    """A move needs the owner-or-mode check in both projects; so does its undo, which takes
    the annotation out of the project it went to: a user removed from it since cannot."""
    alice = make_user()
    api.post(f"/api/project/{scene['project']['id']}/user/{alice['id']}.json")
    other = make_project(api, ontology=scene["ontology"]["id"], users=(alice["id"],))
    there = add_image(api, other["id"], abstract_image(api, width=1000, height=800)["id"])
    made = _draw(alice["api"], scene["slices"][0], [])
    path = f"/api/userannotation/{made['id']}.json"
    moved = alice["api"].put(path, json={"location": SQUARE, "image": there["id"]})
    assert moved.status_code == 200, moved.text
    assert api.delete(f"/api/project/{other['id']}/user/{alice['id']}.json").status_code == 200
    assert_error(alice["api"].get("/command/undo.json"), 403)
    assert api.get(path).json()["project"] == other["id"]
    assert _counts(api, other["id"], there["id"]) == (1, 1)
