"""Included annotations (contract images-annotations.md §3.7): both REST routes, the python
client's `AnnotationCollection(included=True)`, intersect versus contained, the default term
filter, users, groups, paging, and bad input."""

from __future__ import annotations

from typing import Any

import pytest
from cytomine.models import AnnotationCollection

from tests.factories import abstract_image, add_image, created, make_project
from tests.harness import Api, assert_error

pytestmark = pytest.mark.usefixtures("no_server_error_nor_redirect")

REGION = "POLYGON ((0 0, 500 0, 500 500, 0 500, 0 0))"


def square(x: int, y: int, side: int) -> str:
    return (f"POLYGON (({x} {y}, {x + side} {y}, {x + side} {y + side}, {x} {y + side}, "
            f"{x} {y}))")  # fmt: skip


def annotate(api: Api, image: int, location: str, terms: list[int] = ()) -> int:
    body = {"location": location, "image": image, "term": list(terms)}
    return int(created(api.post("/api/annotation.json", json=body), "annotation")["id"])


@pytest.fixture
def layout(api: Api, scene: dict[str, Any], make_user: Any) -> dict[str, Any]:
    """Around REGION (0..500 px): `inside` (Tumour), `across` its corner (Stroma), `bare`
    (inside, no term), `far` (Tumour, outside), `theirs` (Tumour, inside, by `other`), and
    `overlap` (Tumour) crossing `inside`."""
    tumour, stroma = scene["terms"]["Tumour"], scene["terms"]["Stroma"]
    other = make_user()
    api.post(f"/api/project/{scene['project']['id']}/user/{other['id']}.json")
    image = scene["image"]["id"]
    ids = {
        "inside": annotate(api, image, square(100, 100, 100), [tumour]),
        "across": annotate(api, image, square(400, 400, 200), [stroma]),
        "bare": annotate(api, image, square(10, 10, 40)),
        "far": annotate(api, image, square(700, 600, 100), [tumour]),
        "theirs": annotate(other["api"], image, square(300, 300, 50), [tumour]),
        "overlap": annotate(api, image, square(150, 150, 100), [tumour]),
    }
    return {**ids, "image": image, "other": other}


def included(api: Api, path: str | None = None, **params: Any) -> list[int]:
    url = path or "/api/annotation/included.json"
    response = api.get(url, params=params)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["collection"]]


def test_included_intersects_by_default_and_contained_on_request(api, layout):
    image = layout["image"]
    newest_first = [layout[k] for k in ("overlap", "theirs", "across", "inside")]
    assert included(api, image=image, geometry=REGION) == newest_first
    path = f"/api/imageinstance/{image}/annotation/included.json"
    assert included(api, path, geometry=REGION) == newest_first
    contained = [layout[k] for k in ("overlap", "theirs", "inside")]
    assert included(api, path, geometry=REGION, relation="contained") == contained
    assert included(api, image=image, geometry=REGION, relation="INTERSECTS") == newest_first
    answer = api.gql(
        "query($i: Long!, $g: String!) { includedAnnotations(image: $i, geometry: $g, "
        "relation: CONTAINED) { totalCount nodes { id location } } }",
        {"i": image, "g": REGION},
    )["data"]["includedAnnotations"]
    assert answer["totalCount"] == 3
    assert [node["id"] for node in answer["nodes"]] == contained
    assert answer["nodes"][-1]["location"] == square(100, 100, 100)


def test_included_terms_default_to_the_ontology_and_users_filter(api, scene, layout):
    image, stroma = layout["image"], scene["terms"]["Stroma"]
    assert included(api, image=image, geometry=REGION, terms=stroma) == [layout["across"]]
    everything = included(api, image=image, geometry=REGION, terms="")
    assert layout["bare"] in everything and layout["far"] not in everything
    with_bare = included(api, image=image, geometry=REGION, noTerm="true")
    assert layout["bare"] in with_bare and len(with_bare) == 5
    assert included(api, image=image, geometry=REGION, user=layout["other"]["id"]) == [
        layout["theirs"]]  # fmt: skip
    assert included(api, image=image, geometry=REGION, users=layout["other"]["id"]) == [
        layout["theirs"]]  # fmt: skip


def test_included_by_annotation_leaves_it_out(api, layout):
    image = layout["image"]
    assert included(api, image=image, annotation=layout["inside"]) == [layout["overlap"]]
    assert included(api, image=image, annotation=layout["inside"],
                    relation="contained") == []  # fmt: skip


def test_included_groups_and_paging(api, layout):
    image = layout["image"]
    response = api.get("/api/annotation/included.json",
                       params={"image": image, "geometry": REGION, "max": 2, "offset": 1,
                               "showWKT": "true", "showGIS": "true"})  # fmt: skip
    body = response.json()
    assert (body["size"], body["perPage"], body["offset"], body["totalPages"]) == (4, 2, 1, 2)
    first = body["collection"][0]
    assert first["id"] == layout["theirs"]
    assert first["location"] == square(300, 300, 50)
    assert first["centroid"] == {"x": 325.0, "y": 325.0} and first["areaUnit"] == "micron²"
    assert "term" not in first and "created" not in first
    plain = api.get("/api/annotation/included.json", params={"image": image, "geometry": REGION})
    overlap = api.get(f"/api/annotation/{layout['overlap']}.json").json()
    assert plain.json()["collection"][0]["term"] == overlap["term"]  # default groups: terms


def test_python_client_included_collection(client, layout):
    found = AnnotationCollection(included=True, image=layout["image"], geometry=REGION,
                                 showWKT=True, showTerm=True).fetch()  # fmt: skip
    assert [a.id for a in found] == [layout[k] for k in ("overlap", "theirs", "across", "inside")]
    assert found[0].location == square(150, 150, 100)
    near = AnnotationCollection(included=True, image=layout["image"],
                                annotation=layout["inside"]).fetch()  # fmt: skip
    assert [a.id for a in near] == [layout["overlap"]]


def test_included_without_ontology_filters_no_term(api):
    project = make_project(api)
    image = add_image(api, project["id"], abstract_image(api, width=1000, height=800)["id"])
    bare = annotate(api, image["id"], square(10, 10, 40))
    assert included(api, image=image["id"], geometry=REGION) == [bare]


def test_included_bad_input_and_permissions(api, layout, make_user):
    image = layout["image"]
    for params, status in [
        ({"image": image}, 400),
        ({"image": image, "geometry": "POLYGON ((0 0, 1"}, 400),
        ({"image": image, "geometry": "POLYGON ((0 0, 10 10, 10 0, 0 10, 0 0))"}, 400),
        ({"image": image, "geometry": REGION, "relation": "touches"}, 400),
        ({"image": image, "geometry": REGION, "max": -1}, 400),
        ({"image": image, "geometry": REGION, "terms": "x"}, 400),
        ({"geometry": REGION}, 400),
        ({"image": image, "annotation": 987654321}, 404),
        ({"image": 987654321, "geometry": REGION}, 404),
        ({"image": image, "geometry": REGION, "hideBasic": "true", "hideMeta": "true",
          "hideTerm": "true"}, 404),
    ]:  # fmt: skip
        assert_error(api.get("/api/annotation/included.json", params=params), status)
    query = "query($i: Long!, $g: String!) { includedAnnotations(image: $i, geometry: $g, " \
            "user: 0) { totalCount } }"  # fmt: skip
    refused = api.gql(query, {"i": image, "g": REGION})
    assert refused["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "reviewed layer" in refused["errors"][0]["message"]
    stranger = make_user()
    denied = stranger["api"].get("/api/annotation/included.json",
                                 params={"image": image, "geometry": REGION})  # fmt: skip
    assert_error(denied, 403)


def test_user_0_reads_the_reviewed_layer(api, layout):
    image = layout["image"]
    assert api.put(f"/api/imageinstance/{image}/review.json").status_code == 200
    copies = {}
    for name in ("inside", "across", "far"):
        accepted = api.post(f"/api/annotation/{layout[name]}/review.json", json={})
        assert accepted.status_code == 200, accepted.text
        copies[name] = accepted.json()["reviewedannotation"]["id"]
    response = api.get("/api/annotation/included.json",
                       params={"image": image, "geometry": REGION, "user": 0})  # fmt: skip
    assert response.status_code == 200, response.text
    items = response.json()["collection"]
    assert [item["id"] for item in items] == [copies["across"], copies["inside"]]
    assert items[0]["class"] == "be.cytomine.domain.ontology.ReviewedAnnotation"
    path = f"/api/imageinstance/{image}/annotation/included.json"
    assert included(api, path, geometry=REGION, user=0, relation="contained") == [
        copies["inside"]]  # fmt: skip
    # the region may be an annotation of either kind; the one named is left out
    assert included(api, path, annotation=copies["inside"], user=0) == []
    assert included(api, path, annotation=layout["overlap"], user=0) == [copies["inside"]]
