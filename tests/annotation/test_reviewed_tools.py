"""Fill and freehand correction on reviewed annotations (contract images-annotations.md §3.5,
§3.8, §3.10): the reviewed update and delete paths, their permission (the reviewer or an
administrator), one undo per tool, user annotations left alone, refusals that change nothing."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import abstract_image, add_image, created
from tests.harness import Api, assert_error

pytestmark = pytest.mark.usefixtures("no_server_error_nor_redirect")

REVIEWED = "be.cytomine.domain.ontology.ReviewedAnnotation"
HOLED = "POLYGON ((0 0, 10 0, 10 10, 0 10, 0 0), (2 2, 2 4, 4 4, 4 2, 2 2))"
FILLED = "POLYGON ((0 0, 10 0, 10 10, 0 10, 0 0))"
MULTI = ("MULTIPOLYGON (((20 20, 40 20, 40 40, 20 40, 20 20), (25 25, 25 30, 30 30, 30 25, "
         "25 25)), ((50 50, 60 50, 60 60, 50 60, 50 50)))")  # fmt: skip
MULTI_FILLED = ("MULTIPOLYGON (((20 20, 40 20, 40 40, 20 40, 20 20)), "
                "((50 50, 60 50, 60 60, 50 60, 50 50)))")  # fmt: skip
BASE = "POLYGON ((0 0, 0 5000, 10000 5000, 10000 0, 0 0))"
ABOVE = "POLYGON ((0 5000, 10000 5000, 10000 10000, 0 10000, 0 5000))"
LEFT = "POLYGON ((0 0, 100 0, 100 100, 0 100, 0 0))"
RIGHT = "POLYGON ((300 0, 400 0, 400 100, 300 100, 300 0))"
BRIDGE = "POLYGON ((50 25, 350 25, 350 75, 50 75, 50 25))"

FILL = ("mutation($id: Long!) { annotationFill(id: $id) { annotation { id } "
        "reviewedAnnotation { id location reviewed termIds } "
        "annotationAny { __typename ... on ReviewedAnnotation { id } "
        "... on UserAnnotation { id } } command { action } } }")  # fmt: skip
CORRECT = ("mutation($input: AnnotationCorrectionInput!) { annotationCorrect(input: $input) {"
           " annotation { id } reviewedAnnotation { id location area termIds }"
           " annotationAny { __typename } updated { id } reviewedUpdated { id location }"
           " deletedIds command { action } } }")  # fmt: skip


@pytest.fixture
def crew(api: Api, scene: dict[str, Any], make_user: Any) -> dict[str, Any]:
    """The scene plus `big` (an uncalibrated 20 000 px square image, areas in px²) and three
    project members: `contributor`, `reviewer` and `second` (another reviewer)."""
    base = abstract_image(api, width=20000, height=20000, physicalSizeX=None)
    big = add_image(api, scene["project"]["id"], base["id"])
    people = {name: make_user() for name in ("contributor", "reviewer", "second")}
    for user in people.values():
        added = api.post(f"/api/project/{scene['project']['id']}/user/{user['id']}.json")
        assert added.status_code == 200, added.text
    return {**scene, "big": big, **people}


def reviewed(crew: dict[str, Any], location: str, *, image: str = "image",
             by: str = "reviewer", terms: tuple[str, ...] = ()) -> dict[str, Any]:  # fmt: skip
    """A reviewed annotation of the contributor's, reviewed by `by`, made by `by` directly."""
    body = {"image": crew[image]["id"], "user": crew["contributor"]["id"],
            "reviewUser": crew[by]["id"], "location": location,
            "terms": [crew["terms"][name] for name in terms]}  # fmt: skip
    return created(crew[by]["api"].post("/api/reviewedannotation.json", json=body),
                   "reviewedannotation")  # fmt: skip


def drawn(crew: dict[str, Any], location: str, image: str = "big") -> dict[str, Any]:
    """A user annotation of the contributor's."""
    body = {"location": location, "image": crew[image]["id"]}
    return created(crew["contributor"]["api"].post("/api/annotation.json", json=body),
                   "annotation")  # fmt: skip


def layer(api: Api, image: int, *, reviewed: bool) -> dict[int, str]:
    """One layer of the image: id → WKT."""
    params = {"image": image, "showWKT": "true", "reviewed": str(reviewed).lower()}
    found = api.get("/api/annotation.json", params=params)
    assert found.status_code == 200, found.text
    return {item["id"]: item["location"] for item in found.json()["collection"]}


def location(api: Api, reviewed_id: int) -> str:
    found = api.get(f"/api/reviewedannotation/{reviewed_id}.json")
    assert found.status_code == 200, found.text
    return found.json()["location"]  # type: ignore[no-any-return]


def correct(api: Api, **body: Any) -> Any:
    return api.post("/api/annotationcorrection.json", json=body)


# --- fill ------------------------------------------------------------------------------------


def test_fill_of_a_reviewed_annotation_through_both_routes(api, crew):
    reviewer = crew["reviewer"]["api"]
    holed = reviewed(crew, HOLED, terms=("Tumour",))
    done = reviewer.post(f"/api/annotation/{holed['id']}/fill.json")
    assert done.status_code == 200, done.text
    body = done.json()
    filled = body["reviewedannotation"]
    assert body["annotation"] == filled  # the generic path's second key (§3.5)
    assert body["callback"]["method"] == "be.cytomine.EditReviewedAnnotationCommand"
    assert (filled["class"], filled["id"], filled["location"]) == (REVIEWED, holed["id"], FILLED)
    assert filled["area"] == 100 * 0.25  # 100 px² at 0.5 µm/px
    assert filled["terms"] == [crew["terms"]["Tumour"]]  # the term set is kept
    assert location(api, holed["id"]) == FILLED
    multi = reviewed(crew, MULTI)
    put = reviewer.put(f"/api/annotation/{multi['id']}.json", params={"fill": "true"}, json={})
    assert put.status_code == 200, put.text
    assert put.json()["reviewedannotation"]["location"] == MULTI_FILLED
    assert put.json()["annotation"]["location"] == MULTI_FILLED
    assert layer(api, crew["image"]["id"], reviewed=False) == {}  # no user annotation made


def test_fill_of_a_reviewed_annotation_through_graphql(api, crew):
    holed = reviewed(crew, HOLED, terms=("Stroma",))
    answer = crew["reviewer"]["api"].gql(FILL, {"id": holed["id"]})
    assert answer["data"]["annotationFill"] == {
        "annotation": None,
        "reviewedAnnotation": {"id": holed["id"], "location": FILLED, "reviewed": True,
                               "termIds": [crew["terms"]["Stroma"]]},
        "annotationAny": {"__typename": "ReviewedAnnotation", "id": holed["id"]},
        "command": {"action": "EDIT"},
    }, answer  # fmt: skip
    mine = drawn(crew, HOLED, image="image")
    user = crew["contributor"]["api"].gql(FILL, {"id": mine["id"]})["data"]["annotationFill"]
    assert (user["annotation"], user["reviewedAnnotation"]) == ({"id": mine["id"]}, None)
    assert user["annotationAny"] == {"__typename": "UserAnnotation", "id": mine["id"]}


def test_fill_of_a_reviewed_annotation_is_for_its_reviewer_and_can_be_undone(api, crew):
    holed = reviewed(crew, HOLED)
    for stranger in ("contributor", "second"):  # project members, not its reviewer
        who = crew[stranger]["api"]
        assert_error(who.post(f"/api/annotation/{holed['id']}/fill.json"), 403)
        assert_error(who.put(f"/api/annotation/{holed['id']}.json", params={"fill": "true"},
                             json={}), 403)  # fmt: skip
        assert who.gql(FILL, {"id": holed["id"]})["errors"][0]["extensions"]["code"] == (
            "FORBIDDEN")  # fmt: skip
    assert location(api, holed["id"]) == HOLED
    reviewer = crew["reviewer"]["api"]
    assert reviewer.post(f"/api/annotation/{holed['id']}/fill.json").status_code == 200
    undone = reviewer.gql("mutation { undo { action } }")["data"]["undo"]
    assert undone == [{"action": "EDIT"}]
    assert location(api, holed["id"]) == HOLED
    assert api.post(f"/api/annotation/{holed['id']}/fill.json").status_code == 200  # an admin
    assert location(api, holed["id"]) == FILLED
    point = reviewed(crew, "POINT (5 5)")
    assert_error(reviewer.post(f"/api/annotation/{point['id']}/fill.json"), 400)
    assert location(api, point["id"]) == "POINT (5 5)"


# --- correction ------------------------------------------------------------------------------


def test_correction_adds_to_the_reviewed_layer_first_then_to_user_annotations(api, crew):
    big = crew["big"]["id"]
    target = reviewed(crew, BASE, image="big")
    user = drawn(crew, BASE)  # touched too, but the reviewed layer comes first
    done = correct(crew["reviewer"]["api"], location=ABOVE, image=big, review=True)
    assert done.status_code == 200, done.text
    body = done.json()
    merged = body["reviewedannotation"]
    assert body["annotation"] == merged
    assert body["callback"]["method"] == "be.cytomine.EditReviewedAnnotationCommand"
    assert merged["id"] == target["id"]
    assert merged["location"] == (
        "POLYGON ((0 5000, 0 10000, 10000 10000, 10000 5000, 10000 0, 0 0, 0 5000))"
    )
    assert (merged["area"], merged["areaUnit"]) == (100_000_000.0, "pixels²")
    assert layer(api, big, reviewed=False) == {user["id"]: user["location"]}
    assert layer(api, big, reviewed=True) == {target["id"]: merged["location"]}
    # where the region touches no reviewed annotation, the layers' user annotations
    far = drawn(crew, "POLYGON ((15000 15000, 16000 15000, 16000 16000, 15000 16000, 15000 15000))")
    beside = "POLYGON ((16000 15000, 17000 15000, 17000 16000, 16000 16000, 16000 15000))"
    done = correct(crew["contributor"]["api"], location=beside, image=big, review=True)
    assert done.status_code == 200, done.text
    assert "reviewedannotation" not in done.json()
    assert (done.json()["annotation"]["id"], done.json()["annotation"]["area"]) == (
        far["id"], 2_000_000.0)  # fmt: skip
    assert layer(api, big, reviewed=True) == {target["id"]: merged["location"]}


def test_correction_add_merges_reviewed_annotations_in_one_undo(api, crew):
    big, tumour = crew["big"]["id"], crew["terms"]["Tumour"]
    left = reviewed(crew, LEFT, image="big", terms=("Tumour",))
    right = reviewed(crew, RIGHT, image="big", terms=("Tumour",))
    reviewer = crew["reviewer"]["api"]
    answer = reviewer.gql(CORRECT, {"input": {"location": BRIDGE, "image": big, "review": True}})
    result = answer["data"]["annotationCorrect"]
    assert (result["annotation"], result["annotationAny"]) == (
        None, {"__typename": "ReviewedAnnotation"})  # fmt: skip
    first = result["reviewedAnnotation"]
    assert (first["id"], first["termIds"]) == (left["id"], [tumour])  # the oldest takes them in
    assert first["area"] == 10000 + 10000 + 200 * 50
    assert result["deletedIds"] == [right["id"]]
    assert (result["updated"], result["reviewedUpdated"]) == ([], [])
    assert list(layer(api, big, reviewed=True)) == [left["id"]]
    counted = api.get(f"/api/imageinstance/{big}.json").json()
    assert counted["numberOfReviewedAnnotations"] == 1
    undone = reviewer.gql("mutation { undo { action } }")["data"]["undo"]
    assert sorted(r["action"] for r in undone) == ["ADD", "EDIT"]
    assert layer(api, big, reviewed=True) == {left["id"]: LEFT, right["id"]: RIGHT}
    assert location(api, right["id"]) == RIGHT


def test_correction_removes_from_the_reviewed_layer(api, crew):
    big = crew["big"]["id"]
    target = reviewed(crew, BASE, image="big")
    erased = reviewed(crew, "POLYGON ((6000 6000, 9000 6000, 9000 9000, 6000 9000, 6000 6000))",
                      image="big")  # fmt: skip
    cut = reviewed(crew, "POLYGON ((4000 8000, 6000 8000, 6000 9500, 4000 9500, 4000 8000))",
                   image="big")  # fmt: skip
    user = drawn(crew, BASE)
    eraser = "POLYGON ((5000 0, 10000 0, 10000 9000, 5000 9000, 5000 0))"
    answer = crew["reviewer"]["api"].gql(
        CORRECT, {"input": {"location": eraser, "image": big, "review": True, "remove": True}}
    )
    result = answer["data"]["annotationCorrect"]
    first = result["reviewedAnnotation"]
    assert (first["id"], first["location"]) == (
        target["id"], "POLYGON ((0 5000, 5000 5000, 5000 0, 0 0, 0 5000))")  # fmt: skip
    assert first["area"] == 25_000_000.0
    rest = "POLYGON ((4000 8000, 4000 9500, 6000 9500, 6000 9000, 5000 9000, 5000 8000, 4000 8000))"
    assert result["reviewedUpdated"] == [{"id": cut["id"], "location": rest}]
    assert result["deletedIds"] == [erased["id"]]
    assert layer(api, big, reviewed=True) == {target["id"]: first["location"], cut["id"]: rest}
    assert layer(api, big, reviewed=False) == {user["id"]: user["location"]}


def test_correction_of_one_named_reviewed_annotation(api, crew):
    big = crew["big"]["id"]
    target = reviewed(crew, BASE, image="big")
    beside = reviewed(crew, ABOVE, image="big")  # touched by the region, but not named
    done = correct(crew["reviewer"]["api"], location=ABOVE, annotation=target["id"], review=True)
    assert done.status_code == 200, done.text
    assert done.json()["reviewedannotation"]["area"] == 100_000_000.0
    assert layer(api, big, reviewed=True)[beside["id"]] == ABOVE


def test_reviewed_correction_refusals_change_nothing(api, crew):
    big = crew["big"]["id"]
    mine = reviewed(crew, LEFT, image="big", terms=("Tumour",))
    theirs = reviewed(crew, RIGHT, image="big", terms=("Tumour",), by="second")
    other_terms = reviewed(crew, "POLYGON ((0 300, 100 300, 100 400, 0 400, 0 300))",
                           image="big", terms=("Tumour", "Stroma"))  # fmt: skip
    # Stroma's targets add up to more area than Tumour's: mine and other_terms are kept
    large = reviewed(crew, "POLYGON ((0 200, 1000 200, 1000 250, 0 250, 0 200))", image="big",
                     terms=("Stroma",))  # fmt: skip
    user = drawn(crew, LEFT)
    before = layer(api, big, reviewed=True)
    reviewer = crew["reviewer"]["api"]
    two_reviewers = correct(reviewer, location=BRIDGE, image=big, review=True)
    assert "more than one reviewer" in assert_error(two_reviewers, 400)["message"]
    column = "POLYGON ((50 50, 60 50, 60 350, 50 350, 50 50))"
    assert "other terms" in assert_error(correct(reviewer, location=column, image=big,
                                                 review=True), 400)["message"]  # fmt: skip
    everything = "POLYGON ((-1 -1, 101 -1, 101 101, -1 101, -1 -1))"
    assert "two points" in assert_error(correct(reviewer, location=everything,
                                                annotation=mine["id"], review=True,
                                                remove=True), 400)["message"]  # fmt: skip
    bowtie = "POLYGON ((0 0, 10 10, 10 0, 0 10, 0 0))"
    assert_error(correct(reviewer, location=bowtie, image=big, review=True), 400)
    # not its reviewer: the other reviewer, the contributor; a user annotation's id is unknown
    region = "POLYGON ((50 50, 150 50, 150 150, 50 150, 50 50))"
    assert_error(correct(crew["second"]["api"], location=region, annotation=mine["id"],
                         review=True), 403)  # fmt: skip
    assert_error(correct(crew["contributor"]["api"], location=region, image=big, review=True),
                 403)  # fmt: skip
    assert_error(correct(reviewer, location=region, annotation=user["id"], review=True), 404)
    assert layer(api, big, reviewed=True) == before
    assert {mine["id"], theirs["id"], other_terms["id"], large["id"]} == set(before)
    assert layer(api, big, reviewed=False) == {user["id"]: user["location"]}
    done = correct(api, location=region, annotation=mine["id"], review=True)  # an admin may
    assert done.status_code == 200, done.text
