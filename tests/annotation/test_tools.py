"""Geometry tools through REST and GraphQL: simplify (stored and stateless), fill, freehand
correction, repeat on other slices (contract images-annotations.md §3.4, §3.8); exact WKT and
areas, refusals that change nothing, permissions per project mode."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import abstract_image, add_image, created
from tests.harness import Api, assert_error

pytestmark = pytest.mark.usefixtures("no_server_error_nor_redirect")

SQUARE = "POLYGON ((0 0, 100 0, 100 100, 0 100, 0 0))"
HOLED = "POLYGON ((0 0, 10 0, 10 10, 0 10, 0 0), (2 2, 2 4, 4 4, 4 2, 2 2))"
BASE = "POLYGON ((0 0, 0 5000, 10000 5000, 10000 0, 0 0))"
ABOVE = "POLYGON ((0 5000, 10000 5000, 10000 10000, 0 10000, 0 5000))"
RIGHT_HALF = "POLYGON ((5000 0, 10000 0, 10000 5000, 5000 5000, 5000 0))"


def zigzag() -> str:
    """The 100-pixel square drawn with 121 vertices that wobble 0.1 px inwards: kept whole by
    a create (fewer than 200 points), reduced to the square by a 0.25 px tolerance."""
    step = 100 / 30
    points = []
    for i in range(30):
        wobble = 0.1 if i % 2 else 0
        points.append((i * step, wobble))
    for i in range(30):
        points.append((100 - (0.1 if i % 2 else 0), i * step))
    for i in range(30):
        points.append((100 - i * step, 100 - (0.1 if i % 2 else 0)))
    for i in range(30):
        points.append((0.1 if i % 2 else 0, 100 - i * step))
    points.append((0, 0))
    return "POLYGON ((" + ", ".join(f"{round(x, 4):g} {round(y, 4):g}" for x, y in points) + "))"


def annotate(api: Api, image: int, location: str, **fields: Any) -> dict[str, Any]:
    body = {"location": location, "image": image, **fields}
    return created(api.post("/api/annotation.json", json=body), "annotation")


def listed(api: Api, image: int) -> dict[int, str]:
    """The image's annotations: id → WKT."""
    found = api.get("/api/annotation.json", params={"image": image, "showWKT": "true"})
    assert found.status_code == 200, found.text
    return {item["id"]: item["location"] for item in found.json()["collection"]}


def me(api: Api) -> int:
    return int(api.get("/api/user/current.json").json()["id"])


# --- simplify --------------------------------------------------------------------------------


def test_stateless_simplify_answers_the_simplified_wkt(api):
    done = api.put("/api/simplify.json", params={"maxPoint": 50}, json={"wkt": zigzag()})
    assert done.status_code == 200, done.text
    assert done.json() == {"wkt": SQUARE}
    small = api.put("/api/simplify.json", json={"wkt": HOLED})
    assert small.json() == {"wkt": HOLED}  # under 100 points: untouched
    answer = api.gql("query($w: String!) { simplifiedGeometry(wkt: $w, maxPoint: 50) {"
                     " wkt geometryCompression } }", {"w": zigzag()})  # fmt: skip
    assert answer["data"]["simplifiedGeometry"] == {"wkt": SQUARE, "geometryCompression": 0.25}
    for body in ({"wkt": "POLYGON ((0 0, 1"}, {"wkt": "POLYGON ((0 0, 10 10, 10 0, 0 10, 0 0))"},
                 {}, {"wkt": ""}):  # fmt: skip
        assert_error(api.put("/api/simplify.json", json=body), 400)
    assert_error(api.put("/api/simplify.json", params={"maxPoint": -1}, json={"wkt": HOLED}), 400)


def test_simplify_stores_the_new_geometry_and_compression(api, scene):
    made = annotate(api, scene["image"]["id"], zigzag())
    assert made["geometryCompression"] == 0.0 and made["location"] != SQUARE
    done = api.put(f"/api/annotation/{made['id']}/simplify.json", params={"maxPoint": 50})
    assert done.status_code == 200, done.text
    plain = done.json()  # the annotation itself, no command envelope
    assert plain["class"] == "be.cytomine.domain.ontology.UserAnnotation"
    assert (plain["id"], plain["location"], plain["geometryCompression"]) == (
        made["id"], SQUARE, 0.25)  # fmt: skip
    assert plain["area"] == 2500.0  # 10 000 px² at 0.5 µm/px
    assert api.get(f"/api/annotation/{made['id']}.json").json()["location"] == SQUARE
    assert_error(api.put("/api/annotation/987654321/simplify.json"), 404)


# --- fill ------------------------------------------------------------------------------------


def test_fill_keeps_exterior_rings_through_every_route(api, scene):
    image = scene["image"]["id"]
    holed = annotate(api, image, HOLED, term=[scene["terms"]["Tumour"]])
    done = api.post(f"/api/annotation/{holed['id']}/fill.json")
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["callback"] == {"method": "be.cytomine.EditUserAnnotationCommand",
                                "userannotationID": str(holed["id"])}  # fmt: skip
    filled = body["annotation"]
    assert filled["location"] == "POLYGON ((0 0, 10 0, 10 10, 0 10, 0 0))"
    assert (filled["area"], filled["term"]) == (25.0, [scene["terms"]["Tumour"]])
    multi = annotate(api, image, "MULTIPOLYGON (((0 0, 10 0, 10 10, 0 10, 0 0), (2 2, 2 4, 4 4, "
                                 "4 2, 2 2)), ((20 20, 30 20, 30 30, 20 30, 20 20)))")  # fmt: skip
    put = api.put(f"/api/annotation/{multi['id']}.json", params={"fill": "true"}, json=multi)
    assert put.status_code == 200, put.text
    assert put.json()["annotation"]["location"] == (
        "MULTIPOLYGON (((0 0, 10 0, 10 10, 0 10, 0 0)), ((20 20, 30 20, 30 30, 20 30, 20 20)))"
    )
    again = api.gql("mutation($id: Long!) { annotationFill(id: $id) { annotation { location } "
                    "command { action } } }", {"id": holed["id"]})  # fmt: skip
    assert again["data"]["annotationFill"] == {
        "annotation": {"location": "POLYGON ((0 0, 10 0, 10 10, 0 10, 0 0))"},
        "command": {"action": "EDIT"}}  # fmt: skip
    point = annotate(api, image, "POINT (5 5)")
    assert_error(api.post(f"/api/annotation/{point['id']}/fill.json"), 400)
    assert_error(api.post("/api/annotation/987654321/fill.json"), 404)
    assert listed(api, image)[point["id"]] == "POINT (5 5)"


def test_fill_can_be_undone(api, scene):
    holed = annotate(api, scene["image"]["id"], HOLED)
    api.post(f"/api/annotation/{holed['id']}/fill.json")
    assert api.gql("mutation { undo { action } }")["data"]["undo"] == [{"action": "EDIT"}]
    assert api.get(f"/api/annotation/{holed['id']}.json").json()["location"] == HOLED


# --- correction ------------------------------------------------------------------------------


def correct(api: Api, **body: Any) -> Any:
    return api.post("/api/annotationcorrection.json", json=body)


def test_correction_adds_the_contract_example(api, big):
    image = big["id"]
    base = annotate(api, image, BASE)
    done = correct(api, location=ABOVE, image=image, layers=[me(api)], remove=False)
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["callback"]["userannotationID"] == str(base["id"])
    merged = body["annotation"]
    assert merged["location"] == (
        "POLYGON ((0 5000, 0 10000, 10000 10000, 10000 5000, 10000 0, 0 0, 0 5000))"
    )
    assert (merged["area"], merged["areaUnit"]) == (100_000_000.0, "pixels²")
    assert merged["perimeter"] == 40_000.0


def test_correction_add_merges_and_deletes_the_others(api, scene, big):
    image, tumour = big["id"], scene["terms"]["Tumour"]
    left = annotate(api, image, "POLYGON ((0 0, 100 0, 100 100, 0 100, 0 0))", term=[tumour])
    right = annotate(api, image, "POLYGON ((300 0, 400 0, 400 100, 300 100, 300 0))",
                     term=[tumour])  # fmt: skip
    bridge = "POLYGON ((50 25, 350 25, 350 75, 50 75, 50 25))"
    answer = api.gql(
        "mutation($input: AnnotationCorrectionInput!) { annotationCorrect(input: $input) {"
        " annotation { id location area termIds } deletedIds updated { id } } }",
        {"input": {"location": bridge, "image": image, "layers": [me(api)]}},
    )
    result = answer["data"]["annotationCorrect"]
    assert result["annotation"]["id"] == left["id"]  # the oldest target takes the others in
    assert result["deletedIds"] == [right["id"]] and result["updated"] == []
    assert result["annotation"]["area"] == 10000 + 10000 + 200 * 50
    assert result["annotation"]["termIds"] == [tumour]
    assert list(listed(api, image)) == [left["id"]]
    project = api.get(f"/api/imageinstance/{image}.json").json()
    assert project["numberOfAnnotations"] == 1
    undone = api.gql("mutation { undo { action } }")["data"]["undo"]  # one transaction
    assert sorted(r["action"] for r in undone) == ["ADD", "EDIT"]
    assert listed(api, image) == {left["id"]: left["location"], right["id"]: right["location"]}


def test_correction_remove_cuts_the_region_out(api, big):
    image = big["id"]
    base = annotate(api, image, BASE)
    other = annotate(api, image, "POLYGON ((6000 6000, 9000 6000, 9000 9000, 6000 9000, "
                                 "6000 6000))")  # fmt: skip
    eraser = "POLYGON ((5000 0, 10000 0, 10000 9000, 5000 9000, 5000 0))"
    done = correct(api, location=eraser, image=image, layers=[me(api)], remove=True)
    assert done.status_code == 200, done.text
    cut = done.json()["annotation"]
    assert cut["location"] == "POLYGON ((0 5000, 5000 5000, 5000 0, 0 0, 0 5000))"
    assert cut["area"] == 25_000_000.0
    assert listed(api, image) == {base["id"]: cut["location"]}  # `other` was wholly erased
    assert other["id"] not in listed(api, image)


def test_correction_keeps_the_term_of_smallest_area(api, scene, big):
    image = big["id"]
    tumour, stroma = scene["terms"]["Tumour"], scene["terms"]["Stroma"]
    small = annotate(api, image, "POLYGON ((0 0, 10 0, 10 10, 0 10, 0 0))", term=[tumour])
    large = annotate(api, image, "POLYGON ((5 0, 500 0, 500 500, 5 500, 5 0))", term=[stroma])
    region = "POLYGON ((8 2, 20 2, 20 8, 8 8, 8 2))"
    done = correct(api, location=region, image=image, layers=[me(api)])
    assert done.status_code == 200, done.text
    assert done.json()["annotation"]["id"] == small["id"]
    assert listed(api, image)[large["id"]] == "POLYGON ((5 0, 500 0, 500 500, 5 500, 5 0))"


def test_correction_refusals_change_nothing(api, scene, big, make_user):
    image, tumour, stroma = big["id"], scene["terms"]["Tumour"], scene["terms"]["Stroma"]
    other_user = make_user()
    api.post(f"/api/project/{scene['project']['id']}/user/{other_user['id']}.json")
    a = annotate(api, image, "POLYGON ((0 0, 100 0, 100 100, 0 100, 0 0))", term=[tumour])
    b = annotate(api, image, "POLYGON ((200 0, 300 0, 300 100, 200 100, 200 0))",
                 term=[tumour, stroma])  # fmt: skip
    c = annotate(other_user["api"], image, "POLYGON ((0 200, 100 200, 100 300, 0 300, 0 200))")
    # Stroma's targets add up to more area than Tumour's: a and b are kept, and differ in terms
    d = annotate(api, image, "POLYGON ((0 400, 1000 400, 1000 1000, 0 1000, 0 400))",
                 term=[stroma])  # fmt: skip
    before = listed(api, image)
    both = "POLYGON ((50 50, 250 50, 250 450, 50 450, 50 50))"
    users = "POLYGON ((50 50, 60 50, 60 250, 50 250, 50 50))"
    cases = [
        ({"location": both, "image": image, "layers": [me(api)]}, "other terms"),
        ({"location": users, "image": image, "layers": [me(api), other_user["id"]]}, "user"),
        ({"location": "POLYGON ((5000 5000, 5100 5000, 5100 5100, 5000 5000))", "image": image,
          "layers": [me(api)]}, "no annotation"),
        ({"location": "POLYGON ((0 0, 10 10, 10 0, 0 10, 0 0))", "image": image,
          "layers": [me(api)]}, "not valid"),
        ({"location": "POLYGON ((-1 -1, 101 -1, 101 101, -1 101, -1 -1))", "annotation": a["id"],
          "remove": True}, "less than two points"),
        ({"location": both, "image": image}, "layers"),
        ({"location": both}, "image"),
        ({"image": image, "layers": [me(api)]}, "location"),
    ]  # fmt: skip
    for body, words in cases:
        error = assert_error(correct(api, **body), 400)
        assert words in error["message"], (body, error)
    assert_error(correct(api, location=both, annotation=987654321), 404)
    # with review, `annotation` names a reviewed annotation: a user annotation's id is unknown
    assert_error(correct(api, location=both, annotation=a["id"], review=True), 404)
    assert_error(correct(api, location=both, image=987654321, layers=[me(api)]), 404)
    assert listed(api, image) == before
    assert {a["id"], b["id"], c["id"], d["id"]} == set(before)


def test_correction_follows_project_modes(api, scene, big, make_user):
    project = scene["project"]
    alice, bob = make_user(), make_user()
    for user in (alice, bob):
        api.post(f"/api/project/{project['id']}/user/{user['id']}.json")
    mine = annotate(alice["api"], big["id"], "POLYGON ((0 0, 100 0, 100 100, 0 100, 0 0))")
    region = "POLYGON ((50 50, 150 50, 150 150, 50 150, 50 50))"
    api.put(f"/api/project/{project['id']}.json", json={**project, "isRestricted": True})
    assert_error(correct(bob["api"], location=region, annotation=mine["id"]), 403)
    # a non-manager's layers are their own, whatever they ask for
    assert_error(correct(bob["api"], location=region, image=big["id"],
                         layers=[alice["id"]]), 400)  # fmt: skip
    done = correct(alice["api"], location=region, annotation=mine["id"])
    assert done.status_code == 200, done.text
    api.put(f"/api/project/{project['id']}.json", json={**project, "isReadOnly": True})
    assert_error(correct(alice["api"], location=region, annotation=mine["id"]), 403)
    assert_error(alice["api"].post(f"/api/annotation/{mine['id']}/fill.json"), 403)
    assert_error(alice["api"].put(f"/api/annotation/{mine['id']}/simplify.json"), 403)
    assert correct(api, location=region, annotation=mine["id"]).status_code == 200  # manager
    stranger = make_user()
    assert_error(stranger["api"].post(f"/api/annotation/{mine['id']}/fill.json"), 403)


# --- repeat ----------------------------------------------------------------------------------


def test_repeat_copies_onto_the_next_slices_in_time_z_channel_order(api, scene):
    planes = [(0, 0, 0), (0, 1, 0), (0, 2, 0), (0, 0, 1), (0, 1, 1), (1, 0, 0)]
    base = abstract_image(api, planes=planes, width=1000, height=800)
    image = add_image(api, scene["project"]["id"], base["id"])
    slices = {(s["channel"], s["zStack"], s["time"]): s["id"] for s in api.get(
        f"/api/imageinstance/{image['id']}/sliceinstance.json").json()["collection"]}  # fmt: skip
    track = created(api.post("/api/track.json", json={"name": "cell", "color": "#00FF00",
                                                      "image": image["id"]}), "track")  # fmt: skip
    tumour = scene["terms"]["Tumour"]
    original = annotate(api, image["id"], SQUARE, slice=slices[(0, 1, 0)], term=[tumour],
                        track=[track["id"]])  # fmt: skip
    done = api.post(f"/api/userannotation/{original['id']}/repeat.json",
                    json={"slice": slices[(0, 0, 0)], "repeat": 3})  # fmt: skip
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["size"] == 3
    copies = [item["annotation"] for item in body["collection"]]
    # t=0: z=0 (c 0 and 1), z=2; z=1 is the original's own slice; t=1 comes after
    assert [c["slice"] for c in copies] == [slices[(0, 0, 0)], slices[(1, 0, 0)],
                                             slices[(0, 2, 0)]]  # fmt: skip
    assert all(c["location"] == SQUARE and c["term"] == [tumour] for c in copies)
    assert all(c["track"] == [track["id"]] for c in copies)
    assert body["collection"][0]["callback"]["method"] == "be.cytomine.AddUserAnnotationCommand"
    repeat = "mutation($id: Long!) { annotationRepeat(id: $id, repeat: 10) {" \
             " annotation { sliceId } } }"  # fmt: skip
    # the track already holds an annotation on slice (0, 2, 0): all copies or none
    clash = api.gql(repeat, {"id": original["id"]})
    assert clash["errors"][0]["extensions"]["code"] == "CONFLICT", clash
    assert len(listed(api, image["id"])) == 4
    plain = annotate(api, image["id"], SQUARE, slice=slices[(0, 1, 0)])
    more = api.gql(repeat, {"id": plain["id"]})
    # from its own slice on: t ≥ 0, z ≥ 1, c ≥ 0, its own skipped
    assert [p["annotation"]["sliceId"] for p in more["data"]["annotationRepeat"]] == [
        slices[(0, 2, 0)], slices[(0, 1, 1)]]  # fmt: skip


def test_repeat_refusals(api, scene, make_user):
    made = annotate(api, scene["image"]["id"], SQUARE)
    url = f"/api/userannotation/{made['id']}/repeat.json"
    assert_error(api.post(url, json={"repeat": 0}), 400)
    assert_error(api.post(url, json={"slice": 987654321}), 404)
    other = add_image(api, scene["project"]["id"], abstract_image(api)["id"])
    foreign = api.get(f"/api/imageinstance/{other['id']}/sliceinstance.json").json()
    assert_error(api.post(url, json={"slice": foreign["collection"][0]["id"]}), 400)
    assert_error(api.post("/api/userannotation/987654321/repeat.json", json={}), 404)
    stranger = make_user()
    assert_error(stranger["api"].post(url, json={"repeat": 1}), 403)
    assert list(listed(api, scene["image"]["id"])) == [made["id"]]
