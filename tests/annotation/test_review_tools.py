"""Review probes on the annotation tools (simplify, fill, correction, repeat), terms and
comments: geometries that would come out empty or invalid, permissions, bad ids, undo."""

from __future__ import annotations

import math
from typing import Any

import pytest

from tests.annotation.test_tools import annotate, listed
from tests.factories import created, make_project
from tests.harness import Api, assert_error

pytestmark = pytest.mark.usefixtures("no_server_error_nor_redirect")

SQUARE = "POLYGON ((0 0, 100 0, 100 100, 0 100, 0 0))"


def correct(api: Api, **body: Any) -> Any:
    return api.post("/api/annotationcorrection.json", json=body)


@pytest.mark.parametrize(
    ("target", "region", "remove"),
    [
        ("POINT (50 50)", "POLYGON ((40 40, 60 40, 60 60, 40 60, 40 40))", True),
        ("POINT (500 500)", "POLYGON ((40 40, 60 40, 60 60, 40 60, 40 40))", False),
        ("LINESTRING (0 50, 100 50)", "POLYGON ((40 0, 60 0, 60 100, 40 100, 40 0))", True),
        ("LINESTRING (0 50, 100 50)", "POLYGON ((40 0, 60 0, 60 100, 40 100, 40 0))", False),
        (SQUARE, "LINESTRING (50 50, 500 500)", False),
        (SQUARE, "POINT (500 500)", False),
        (SQUARE, "POLYGON ((0 0, 100 0, 100 100, 0 100, 0 0))", True),
        (SQUARE, "POLYGON ((10 10, 20 20, 20 10, 10 20, 10 10))", False),
        (SQUARE, "GEOMETRYCOLLECTION (POINT (1 1))", False),
    ],
)
def test_a_correction_that_cannot_be_stored_is_a_400_and_changes_nothing(
    api, big, target, region, remove
):
    made = annotate(api, big["id"], target)
    before = listed(api, big["id"])
    response = correct(api, location=region, image=big["id"], layers=[made["user"]],
                       remove=remove, annotation=made["id"])  # fmt: skip
    if response.status_code == 200:  # a geometry that can be stored: it must be one
        after = api.get(f"/api/userannotation/{made['id']}.json")
        assert after.status_code == 200, after.text
        assert after.json()["location"].split(" ")[0] in (
            "POINT", "MULTIPOINT", "LINESTRING", "POLYGON", "MULTIPOLYGON")  # fmt: skip
        return
    assert_error(response, 400)
    assert listed(api, big["id"]) == before


def test_simplify_fill_correct_repeat_with_bad_ids(api, scene, big):
    made = annotate(api, big["id"], SQUARE)
    huge = 10**30
    for method, path in (("PUT", f"/api/annotation/{huge}/simplify.json"),
                         ("PUT", "/api/annotation/999999999/simplify.json"),
                         ("POST", f"/api/annotation/{huge}/fill.json"),
                         ("POST", "/api/annotation/999999999/fill.json"),
                         ("POST", f"/api/userannotation/{huge}/repeat.json"),
                         ("POST", "/api/userannotation/999999999/repeat.json")):  # fmt: skip
        response = api.request(method, path, json={})
        assert response.status_code in (400, 404), (path, response.text)
    for body in ({"location": SQUARE, "image": huge, "layers": [made["user"]]},
                 {"location": SQUARE, "image": "x"},
                 {"location": SQUARE, "annotation": 999999999},
                 {"location": SQUARE, "annotation": made["id"], "review": True},
                 {"location": SQUARE, "image": big["id"], "layers": "abc"},
                 {"location": None, "image": big["id"]},
                 {"location": SQUARE, "image": big["id"], "layers": [huge]}):  # fmt: skip
        response = correct(api, **body)
        assert response.status_code in (400, 404), (body, response.text)
    for body in ({"slice": huge}, {"repeat": 0},
                 {"repeat": 10**12}, {"slice": scene["slices"][0]}):  # fmt: skip
        response = api.post(f"/api/userannotation/{made['id']}/repeat.json", json=body)
        assert response.status_code in (400, 404), (body, response.text)
    for params in ({"maxPoint": "x"}, {"minPoint": -3}, {"maxPoint": 10**30}):
        response = api.put(f"/api/annotation/{made['id']}/simplify.json", params=params)
        assert response.status_code == 400, (params, response.text)
    assert listed(api, big["id"]) == {made["id"]: SQUARE}


def test_tools_respect_membership_and_modes(api, scene, big, make_user, people):
    contributor = make_user()
    project = scene["project"]
    body = {**project, "users": [contributor["id"]]}
    assert api.put(f"/api/project/{project['id']}.json", json=body).status_code == 200
    api.post(f"/api/project/{project['id']}/user/{contributor['id']}.json")
    made = annotate(
        api, big["id"], "POLYGON ((0 0, 10 0, 10 10, 0 10, 0 0), (2 2, 2 4, 4 4, 4 2, 2 2))"
    )
    stranger: Api = people["user"]["api"]
    for actor in (stranger,):
        assert_error(actor.put(f"/api/annotation/{made['id']}/simplify.json"), 403)
        assert_error(actor.post(f"/api/annotation/{made['id']}/fill.json"), 403)
        assert_error(actor.post(f"/api/userannotation/{made['id']}/repeat.json",
                                json={"slice": None}), 403)  # fmt: skip
        assert_error(correct(actor, location=SQUARE, annotation=made["id"]), 403)
        assert_error(correct(actor, location=SQUARE, image=big["id"], layers=[made["user"]]),
                     403)  # fmt: skip
    flags = {**api.get(f"/api/project/{project['id']}.json").json(), "isRestricted": True}
    assert api.put(f"/api/project/{project['id']}.json", json=flags).status_code == 200
    worker: Api = contributor["api"]
    assert_error(worker.put(f"/api/annotation/{made['id']}/simplify.json"), 403)
    assert_error(worker.post(f"/api/annotation/{made['id']}/fill.json"), 403)
    assert_error(correct(worker, location=SQUARE, annotation=made["id"]), 403)
    assert listed(api, big["id"])[made["id"]].count("(") == 3  # the hole is still there


def test_simplify_can_be_undone(api, big):
    made = annotate(api, big["id"], circle_wkt(), maxPoint=1000, minPoint=1000)
    done = api.put(f"/api/annotation/{made['id']}/simplify.json", params={"maxPoint": 10})
    assert done.status_code == 200, done.text
    assert done.json()["location"] != made["location"]
    assert api.get("/api/command/undo.json").status_code == 200
    back = api.get(f"/api/userannotation/{made['id']}.json").json()
    assert back["location"] == made["location"]


def circle_wkt(points: int = 300) -> str:
    """A 500 px circle of `points` vertices: kept whole by a create with a big budget."""
    ring = [(1000 + 500 * math.cos(i * math.tau / points),
             1000 + 500 * math.sin(i * math.tau / points)) for i in range(points)]  # fmt: skip
    return "POLYGON ((" + ", ".join(f"{x:.3f} {y:.3f}" for x, y in [*ring, ring[0]]) + "))"


def test_simplify_of_a_reviewed_annotation_through_the_generic_path(api, scene, big, make_user):
    """Cytomine simplifies an annotation of either kind at `/annotation/{id}/simplify.json`
    (the generic path, §3.5, §3.8); a reviewed one is its reviewer's to change."""
    reviewer, contributor = make_user(), make_user()
    for user in (reviewer, contributor):
        api.post(f"/api/project/{scene['project']['id']}/user/{user['id']}.json")
    body = {"image": big["id"], "user": contributor["id"], "reviewUser": reviewer["id"],
            "location": circle_wkt(), "terms": []}  # fmt: skip
    made = created(reviewer["api"].post("/api/reviewedannotation.json", json=body),
                   "reviewedannotation")  # fmt: skip
    path = f"/api/annotation/{made['id']}/simplify.json"
    assert_error(contributor["api"].put(path, params={"maxPoint": 10}), 403)
    done = reviewer["api"].put(path, params={"maxPoint": 10})
    assert done.status_code == 200, done.text
    answer = done.json()
    assert answer["class"] == "be.cytomine.domain.ontology.ReviewedAnnotation"
    assert answer["id"] == made["id"] and answer["geometryCompression"] > 0
    stored = api.get(f"/api/reviewedannotation/{made['id']}.json").json()
    assert stored["location"] == answer["location"] != made["location"]
    assert reviewer["api"].get("/api/command/undo.json").status_code == 200
    assert api.get(f"/api/reviewedannotation/{made['id']}.json").json()["location"] == (
        made["location"])  # fmt: skip

    mutation = ("mutation($id: Long!) { annotationSimplify(id: $id, maxPoint: 10) {"
                " annotation { id } reviewedAnnotation { id geometryCompression }"
                " command { action domain } } }")  # fmt: skip
    graph = reviewer["api"].gql(mutation, {"id": made["id"]})
    assert "errors" not in graph, graph
    payload = graph["data"]["annotationSimplify"]
    assert payload["annotation"] is None and payload["reviewedAnnotation"]["id"] == made["id"]
    assert payload["command"] == {"action": "EDIT", "domain": "ReviewedAnnotation"}


def test_repeat_into_a_track_that_holds_the_next_slice_changes_nothing(api, scene):
    image = scene["image"]["id"]
    track = created(api.post("/api/track.json", json={"name": "t", "image": image}), "track")
    first = created(api.post("/api/annotation.json", json={
        "location": "POINT (5 5)", "slice": scene["slices"][0], "track": [track["id"]]}),
        "annotation")  # fmt: skip
    created(api.post("/api/annotation.json", json={
        "location": "POINT (9 9)", "slice": scene["slices"][1], "track": [track["id"]]}),
        "annotation")  # fmt: skip
    before = listed(api, image)
    response = api.post(f"/api/userannotation/{first['id']}/repeat.json", json={"repeat": 1})
    assert_error(response, 409)
    assert listed(api, image) == before


def test_repeat_from_a_slice_of_another_image_is_a_400(api, scene, big):
    made = created(api.post("/api/annotation.json", json={
        "location": "POINT (5 5)", "slice": scene["slices"][0]}), "annotation")  # fmt: skip
    other = api.get(f"/api/imageinstance/{big['id']}/sliceinstance.json").json()["collection"]
    response = api.post(f"/api/userannotation/{made['id']}/repeat.json",
                        json={"slice": other[0]["id"]})  # fmt: skip
    assert_error(response, 400)


# --- terms -----------------------------------------------------------------------------------


def test_clear_before_with_a_foreign_term_clears_nothing(api, scene):
    tumour, stroma = scene["terms"]["Tumour"], scene["terms"]["Stroma"]
    made = created(api.post("/api/annotation.json", json={
        "location": "POINT (5 5)", "slice": scene["slices"][0], "term": [tumour]}),
        "annotation")  # fmt: skip
    other = make_project(api)
    foreign = created(api.post("/api/ontology.json", json={"name": "o2"}), "ontology")
    body = {"name": "x", "color": "#000000", "ontology": foreign["id"]}
    term = created(api.post("/api/term.json", json=body), "term")
    assert other
    assert_error(api.post(f"/api/annotation/{made['id']}/term/{term['id']}/clearBefore.json"), 400)
    assert_error(api.post(f"/api/annotation/{made['id']}/term/999999999/clearBefore.json"), 404)
    terms = api.get(f"/api/annotation/{made['id']}/term.json").json()["collection"]
    assert [item["term"] for item in terms] == [tumour]
    done = api.post(f"/api/annotation/{made['id']}/term/{stroma}/clearBefore.json")
    assert done.status_code == 200, done.text
    assert api.get("/api/command/undo.json").status_code == 200
    terms = api.get(f"/api/annotation/{made['id']}/term.json").json()["collection"]
    assert [item["term"] for item in terms] == [tumour]


def test_terms_of_someone_elses_annotation_by_mode(api, scene, make_user):
    contributor = make_user()
    project = scene["project"]
    api.post(f"/api/project/{project['id']}/user/{contributor['id']}.json")
    tumour, stroma = scene["terms"]["Tumour"], scene["terms"]["Stroma"]
    made = created(api.post("/api/annotation.json", json={
        "location": "POINT (5 5)", "slice": scene["slices"][0], "term": [tumour]}),
        "annotation")  # fmt: skip
    worker: Api = contributor["api"]
    added = worker.post(f"/api/annotation/{made['id']}/term/{stroma}.json")
    assert added.status_code == 200, added.text
    flags = {**api.get(f"/api/project/{project['id']}.json").json(), "isRestricted": True}
    assert api.put(f"/api/project/{project['id']}.json", json=flags).status_code == 200
    assert_error(worker.post(f"/api/annotation/{made['id']}/term/{tumour}/clearBefore.json"), 403)
    assert_error(worker.delete(f"/api/annotation/{made['id']}/term/{stroma}.json"), 403)
    assert_error(worker.post(f"/api/annotation/{made['id']}/term/{tumour}.json"), 403)
    # the annotation's creator may not take another user's link off in restricted mode...
    (link,) = [t for t in api.get(f"/api/annotation/{made['id']}/term.json").json()["collection"]
               if t["user"] == contributor["id"]]  # fmt: skip
    assert link["term"] == stroma
    flags = {**flags, "isRestricted": False, "isReadOnly": True}
    assert api.put(f"/api/project/{project['id']}.json", json=flags).status_code == 200
    assert_error(worker.post(f"/api/annotation/{made['id']}/term/{tumour}/clearBefore.json"), 403)
    assert_error(worker.delete(f"/api/annotation/{made['id']}/term/{stroma}.json"), 403)
    terms = api.get(f"/api/annotation/{made['id']}/term.json").json()["collection"]
    assert sorted(item["term"] for item in terms) == sorted((tumour, stroma))


def test_term_routes_with_bad_ids(api, scene):
    made = created(api.post("/api/annotation.json", json={
        "location": "POINT (5 5)", "slice": scene["slices"][0]}), "annotation")  # fmt: skip
    huge = 10**30
    tumour = scene["terms"]["Tumour"]
    for method, path in (("GET", f"/api/annotation/{huge}/term.json"),
                         ("GET", f"/api/annotation/{made['id']}/term/{huge}.json"),
                         ("POST", f"/api/annotation/{made['id']}/term/{huge}.json"),
                         ("POST", f"/api/annotation/{huge}/term/{tumour}.json"),
                         ("DELETE", f"/api/annotation/{made['id']}/term/{tumour}/user/{huge}.json"),
                         ("POST", f"/api/annotation/{made['id']}/term/{huge}/clearBefore.json"),
                         ("GET", f"/api/annotation/{made['id']}/notuser/{huge}/term.json"),
                         ):  # fmt: skip
        response = api.request(method, path)
        assert response.status_code in (400, 404), (method, path, response.text)
    for body in ({"user": "x"}, {"user": huge}, {"user": [1, 2]}):
        response = api.post(f"/api/annotation/{made['id']}/term/{tumour}.json", json=body)
        assert response.status_code in (200, 400, 404, 409), (body, response.text)


# --- comments --------------------------------------------------------------------------------


def test_comments_with_bad_input_and_ids(api, scene, people):
    made = created(api.post("/api/annotation.json", json={
        "location": "POINT (5 5)", "slice": scene["slices"][0]}), "annotation")  # fmt: skip
    path = f"/api/userannotation/{made['id']}/comment.json"
    huge = 10**30
    for body in ({"comment": "hi", "receivers": "x"}, {"comment": "hi", "receivers": [huge]},
                 {"comment": "hi", "receivers": 5}, {"comment": ["hi"]}, {"comment": ""},
                 {"comment": "hi", "receivers": [None]}):  # fmt: skip
        response = api.post(path, json=body)
        assert response.status_code in (200, 400), (body, response.text)
    for url in (f"/api/userannotation/{huge}/comment.json",
                f"/api/userannotation/{made['id']}/comment/{huge}.json",
                f"/api/userannotation/{made['id']}/comment/999999999.json"):  # fmt: skip
        response = api.get(url)
        assert response.status_code in (400, 404), (url, response.text)
    stranger: Api = people["user"]["api"]
    assert_error(stranger.get(path), 403)
    assert_error(stranger.post(path, json={"comment": "hi", "receivers": []}), 403)


def test_a_comment_is_read_only_by_its_sender_receivers_and_admins(api, scene, make_user):
    project = scene["project"]
    sender, receiver, other = make_user(), make_user(), make_user()
    for user in (sender, receiver, other):
        api.post(f"/api/project/{project['id']}/user/{user['id']}.json")
    made = created(sender["api"].post("/api/annotation.json", json={
        "location": "POINT (5 5)", "slice": scene["slices"][0]}), "annotation")  # fmt: skip
    path = f"/api/userannotation/{made['id']}/comment.json"
    sent = sender["api"].post(path, json={"comment": "look", "receivers": [receiver["id"]]})
    assert sent.status_code == 200, sent.text
    comment = sent.json()["sharedannotation"]
    one = f"/api/userannotation/{made['id']}/comment/{comment['id']}.json"
    assert receiver["api"].get(one).status_code == 200
    assert_error(other["api"].get(one), 403)
    assert other["api"].get(path).json()["collection"] == []
    query = """query($id: Long!) { annotation(id: $id) { id } }"""
    assert "errors" not in other["api"].gql(query, {"id": made["id"]})


def test_clear_for_all_in_a_restricted_project_keeps_the_rule_on_others_links(
    api, scene, make_user
):
    """In restricted mode only a manager takes another user's term link off (a DELETE of it,
    or of the annotation, is a 403): clear-before for all users is no way around that."""
    project = scene["project"]
    owner, manager = make_user(), make_user()
    api.post(f"/api/project/{project['id']}/user/{owner['id']}.json")
    api.post(f"/api/project/{project['id']}/user/{manager['id']}.json")
    api.post(f"/api/project/{project['id']}/user/{manager['id']}/admin.json")
    tumour, stroma = scene["terms"]["Tumour"], scene["terms"]["Stroma"]
    made = created(owner["api"].post("/api/annotation.json", json={
        "location": "POINT (5 5)", "slice": scene["slices"][0], "term": [tumour]}),
        "annotation")  # fmt: skip
    put = manager["api"].post(f"/api/annotation/{made['id']}/term/{stroma}.json")
    assert put.status_code == 200, put.text
    flags = {**api.get(f"/api/project/{project['id']}.json").json(), "isRestricted": True}
    assert api.put(f"/api/project/{project['id']}.json", json=flags).status_code == 200
    links = f"/api/annotation/{made['id']}/term.json"
    before = sorted((t["term"], t["user"]) for t in api.get(links).json()["collection"])

    theirs = f"/api/annotation/{made['id']}/term/{stroma}/user/{manager['id']}.json"
    assert_error(owner["api"].delete(theirs), 403)
    clear = f"/api/annotation/{made['id']}/term/{tumour}/clearBefore.json"
    assert_error(owner["api"].post(clear, params={"clearForAll": "true"}), 403)
    assert sorted((t["term"], t["user"]) for t in api.get(links).json()["collection"]) == before
    mine = owner["api"].post(f"/api/annotation/{made['id']}/term/{stroma}/clearBefore.json")
    assert mine.status_code == 200, mine.text  # only the owner's own links go
    assert sorted((t["term"], t["user"]) for t in api.get(links).json()["collection"]) == sorted(
        [(stroma, owner["id"]), (stroma, manager["id"])])  # fmt: skip
    done = manager["api"].post(clear, params={"clearForAll": "true"})
    assert done.status_code == 200, done.text
    assert [(t["term"], t["user"]) for t in api.get(links).json()["collection"]] == [
        (tumour, manager["id"])]  # fmt: skip
