"""Reviewed annotations through REST (contract images-annotations.md §3.5, §3.6, §3.10): raw
creation, update, delete, the generic /api/annotation/{id}.json endpoints, the listing with
reviewed=true and the everywhere listing, statistics and counts."""

from __future__ import annotations

from typing import Any

from tests.factories import abstract_image, add_image, make_project
from tests.harness import Api, assert_error

REVIEWED = "be.cytomine.domain.ontology.ReviewedAnnotation"
BOWTIE = "POLYGON ((0 0, 10 10, 10 0, 0 10, 0 0))"


def accept(world: dict[str, Any], index: int, **body: Any) -> dict[str, Any]:
    original = world["annotations"][index]
    response = world["reviewer"]["api"].post(
        f"/api/annotation/{original['id']}/review.json", json=body or None
    )
    assert response.status_code == 200, response.text
    return response.json()["reviewedannotation"]  # type: ignore[no-any-return]


def raw(world: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {
        "image": world["image"]["id"],
        "slice": world["slices"][0],
        "user": world["contributor"]["id"],
        "reviewUser": world["reviewer"]["id"],
        "location": "POLYGON ((0 0, 0 5000, 5000 5000, 5000 0, 0 0))",
        "terms": [world["terms"]["Tumour"]],
        **fields,
    }


def test_raw_create_keeps_the_geometry_and_only_makes_it_valid(reviewing):
    reviewer = reviewing["reviewer"]["api"]
    response = reviewer.post("/api/reviewedannotation.json", json=raw(reviewing))
    assert response.status_code == 200, response.text
    made = response.json()["reviewedannotation"]
    # no clipping to the 1000×800 image, no simplification
    assert made["location"] == "POLYGON ((0 0, 0 5000, 5000 5000, 5000 0, 0 0))"
    assert (made["class"], made["slice"], made["terms"], made["parentIdent"]) == (
        REVIEWED,
        reviewing["slices"][0],
        [reviewing["terms"]["Tumour"]],
        None,
    )
    assert made["area"] == 25_000_000 * 0.25  # calibrated at 0.5 µm/px
    repaired = reviewer.post(
        "/api/reviewedannotation.json", json=raw(reviewing, location=BOWTIE)
    ).json()
    assert repaired["reviewedannotation"]["location"].startswith("MULTIPOLYGON")
    path = f"/api/user/{reviewing['contributor']['id']}/reviewedannotation.json"
    assert reviewer.post(path, json=raw(reviewing, user=None)).status_code == 200


def test_raw_create_refusals(reviewing, api):
    reviewer = reviewing["reviewer"]["api"]
    parent = reviewing["annotations"][0]["id"]
    assert (
        reviewer.post(
            "/api/reviewedannotation.json", json=raw(reviewing, parentIdent=parent)
        ).status_code
        == 200
    )
    assert_error(
        reviewer.post("/api/reviewedannotation.json", json=raw(reviewing, annotation=parent)), 409
    )
    body = assert_error(
        reviewer.post("/api/reviewedannotation.json", json=raw(reviewing, terms=None)), 400
    )
    assert "term list not found" in body["message"]
    cases = [
        (raw(reviewing, location=None), 400),
        (raw(reviewing, location="nonsense"), 400),
        (raw(reviewing, user=None), 400),
        (raw(reviewing, reviewUser=999999999), 400),
        (raw(reviewing, terms=[999999999]), 400),
        (raw(reviewing, slice=999999999), 404),
        (raw(reviewing, slice=None, image=None), 400),
        (raw(reviewing, parentIdent=999999999), 400),
    ]
    for body, status in cases:
        assert_error(reviewer.post("/api/reviewedannotation.json", json=body), status)
    read_only = make_project(
        api,
        ontology=reviewing["ontology"]["id"],
        isReadOnly=True,
        users=(reviewing["contributor"]["id"],),
    )
    image = add_image(api, read_only["id"], abstract_image(api)["id"])
    body = raw(reviewing, image=image["id"], slice=None)
    assert_error(
        reviewing["contributor"]["api"].post("/api/reviewedannotation.json", json=body), 403
    )
    assert_error(reviewing["reviewer"]["api"].post("/api/reviewedannotation.json", json=body), 403)
    count = f"/api/project/{reviewing['project']['id']}/reviewedannotation/count.json"
    assert reviewer.get(count).json() == {"total": 1}


def test_update_replaces_terms_and_geometry_for_the_reviewer_only(api, reviewing):
    reviewer, contributor = reviewing["reviewer"]["api"], reviewing["contributor"]["api"]
    copy = accept(reviewing, 1)
    body = {
        **copy,
        "location": "POLYGON ((0 0, 0 10, 10 10, 10 0, 0 0))",
        "terms": [reviewing["terms"]["Stroma"]],
    }
    assert_error(contributor.put(f"/api/reviewedannotation/{copy['id']}.json", json=body), 403)
    response = reviewer.put(f"/api/reviewedannotation/{copy['id']}.json", json=body)
    assert response.status_code == 200, response.text
    updated = response.json()["reviewedannotation"]
    assert (updated["location"], updated["term"], updated["area"]) == (
        "POLYGON ((0 0, 0 10, 10 10, 10 0, 0 0))",
        [reviewing["terms"]["Stroma"]],
        25.0,
    )
    assert response.json()["callback"]["method"] == "be.cytomine.EditReviewedAnnotationCommand"
    # an administrator may too
    assert api.put(f"/api/reviewedannotation/{copy['id']}.json", json=body).status_code == 200
    assert_error(
        reviewer.put(f"/api/reviewedannotation/{copy['id']}.json", json={**body, "location": None}),
        400,
    )
    assert_error(contributor.delete(f"/api/reviewedannotation/{copy['id']}.json"), 403)
    deleted = reviewer.delete(f"/api/reviewedannotation/{copy['id']}.json")
    assert deleted.status_code == 200 and deleted.json()["reviewedannotation"]["id"] == copy["id"]
    assert_error(reviewer.get(f"/api/reviewedannotation/{copy['id']}.json"), 404)


def test_generic_endpoints_serve_either_kind(reviewing):
    reviewer = reviewing["reviewer"]["api"]
    original = reviewing["annotations"][0]
    copy = accept(reviewing, 0)
    shown = reviewer.get(f"/api/annotation/{copy['id']}.json").json()
    assert shown == copy
    assert reviewer.get(f"/api/annotations/{copy['id']}").json() == copy  # App Engine's path
    user_one = reviewer.get(f"/api/annotation/{original['id']}.json").json()
    assert user_one["class"] == "be.cytomine.domain.ontology.UserAnnotation"
    assert user_one["reviewed"] is True
    assert_error(reviewer.get(f"/api/userannotation/{copy['id']}.json"), 404)
    body = {**copy, "location": "POINT (10 20)"}
    response = reviewer.put(f"/api/annotation/{copy['id']}.json", json=body)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["reviewedannotation"] == answer["annotation"]
    assert answer["annotation"]["location"] == "POINT (10 20)"
    assert answer["annotation"]["term"] == copy["term"]  # no terms given: the set stays
    assert answer["callback"]["reviewedannotationID"] == str(copy["id"])
    deleted = reviewer.delete(f"/api/annotation/{copy['id']}.json").json()
    assert deleted["reviewedannotation"] == deleted["annotation"]
    assert deleted["callback"]["method"] == "be.cytomine.DeleteReviewedAnnotationCommand"
    assert_error(reviewer.get(f"/api/annotation/{copy['id']}.json"), 404)
    assert_error(
        reviewer.put("/api/annotation/999999999.json", json={"location": "POINT (1 1)"}), 404
    )
    contributor = reviewing["contributor"]["api"]
    mine = contributor.put(
        f"/api/annotation/{original['id']}.json", json={**original, "location": "POINT (1 2)"}
    )
    assert mine.status_code == 200, mine.text
    assert "reviewedannotation" not in mine.json()
    assert mine.json()["annotation"]["location"] == "POINT (1 2)"
    assert mine.json()["callback"]["userannotationID"] == str(original["id"])
    assert contributor.get(f"/api/annotations/{original['id']}").json()["location"] == "POINT (1 2)"


def listing(api: Api, **params: Any) -> list[dict[str, Any]]:
    response = api.get("/api/annotation.json", params={"reviewed": "True", **params})
    assert response.status_code == 200, response.text
    return response.json()["collection"]  # type: ignore[no-any-return]


def test_listing_with_reviewed_reads_the_reviewed_layer(api, reviewing, make_user):
    reviewer = reviewing["reviewer"]["api"]
    first, second = accept(reviewing, 0), accept(reviewing, 1)
    mine = api.post(
        "/api/annotation.json", json={"location": "POINT (7 7)", "image": reviewing["image"]["id"]}
    ).json()
    assert api.put(f"/api/imageinstance/{reviewing['image']['id']}/review.json").status_code == 200
    third = api.post(f"/api/annotation/{mine['annotation']['id']}/review.json").json()
    third = third["reviewedannotation"]
    project = reviewing["project"]["id"]
    items = listing(reviewer, project=project)
    assert [i["id"] for i in items] == [third["id"], second["id"], first["id"]]
    item = items[-1]
    assert item == {
        "class": REVIEWED,
        "id": first["id"],
        "created": int(first["created"]),
        "updated": int(first["updated"]),
        "image": first["image"],
        "slice": first["slice"],
        "project": project,
        "user": reviewing["contributor"]["id"],
        "nbComments": 0,
        "cropURL": first["cropURL"],
        "smallCropURL": first["smallCropURL"],
        "url": first["cropURL"],
        "imageURL": first["imageURL"],
        "reviewUser": reviewing["reviewer"]["id"],
        "parentIdent": first["parentIdent"],
        "reviewed": True,
        "term": first["term"],
        "userByTerm": [
            {"id": 0, "term": first["term"][0], "user": [reviewing["contributor"]["id"]]}
        ],
    }
    contributor_id, reviewer_id = reviewing["contributor"]["id"], reviewing["reviewer"]["id"]
    assert {i["id"] for i in listing(reviewer, project=project, users=contributor_id)} == {
        first["id"],
        second["id"],
    }
    assert [i["id"] for i in listing(reviewer, project=project, reviewUsers=reviewer_id)] == [
        second["id"],
        first["id"],
    ]
    stroma = reviewing["terms"]["Stroma"]
    assert [i["id"] for i in listing(reviewer, project=project, terms=stroma)] == [second["id"]]
    assert [i["id"] for i in listing(reviewer, project=project, noTerm=True)] == [third["id"]]
    assert [i["id"] for i in listing(reviewer, project=project, multipleTerm=True)] == [
        second["id"]
    ]
    boxed = listing(reviewer, project=project, bbox="0,0,450,450", showWKT=True, hideMeta=True)
    assert [(i["id"], i["location"]) for i in boxed] == [
        (third["id"], "POINT (7 7)"),
        (first["id"], first["location"]),
    ]
    assert set(boxed[0]) == {"class", "id", "location", "geometryCompression"}
    shown = listing(
        reviewer,
        image=reviewing["image"]["id"],
        showUser=True,
        showGIS=True,
        showSlice=True,
        showImage=True,
        max=1,
    )
    assert len(shown) == 1 and shown[0]["creator"] == "admin" and shown[0]["areaUnit"] == "micron²"
    assert shown[0]["centroid"] == {"x": 7.0, "y": 7.0} and shown[0]["channel"] == 0
    assert_error(reviewer.get("/api/annotation.json", params={"reviewed": "true"}), 400)
    assert_error(
        make_user()["api"].get(
            "/api/annotation.json", params={"reviewed": "true", "project": project}
        ),
        403,
    )
    posted = reviewer.post(
        "/api/annotation/search.json?reviewed=true",
        json={"project": project, "reviewUsers": [reviewer_id]},
    )
    assert [i["id"] for i in posted.json()["collection"]] == [second["id"], first["id"]]
    # the user listing is unchanged by the reviewed layer
    users = api.get("/api/annotation.json", params={"project": project}).json()["collection"]
    assert {i["class"] for i in users} == {"be.cytomine.domain.ontology.UserAnnotation"}


def test_everywhere_listing_reads_every_readable_project(api, reviewing, make_user):
    first = accept(reviewing, 0)
    reviewer = reviewing["reviewer"]["api"]
    everywhere = reviewer.get("/api/reviewedannotation.json", params={"showWKT": "true"})
    assert everywhere.status_code == 200, everywhere.text
    [item] = everywhere.json()["collection"]
    assert (item["id"], item["location"], item["class"]) == (
        first["id"],
        first["location"],
        REVIEWED,
    )
    assert api.get("/api/reviewedannotation.json").json()["size"] == 1
    assert make_user()["api"].get("/api/reviewedannotation.json").json()["size"] == 0


def test_stats_and_counts(api, reviewing):
    reviewer = reviewing["reviewer"]["api"]
    contributor = reviewing["contributor"]
    api.post(
        "/api/annotation.json", json={"location": "POINT (8 8)", "image": reviewing["image"]["id"]}
    )
    accept(reviewing, 0)
    accept(reviewing, 2)
    stats = reviewer.get(
        f"/api/imageinstance/{reviewing['image']['id']}/reviewedannotation/stats.json"
    ).json()
    admin = api.get("/api/user/current.json").json()["id"]
    assert stats["collection"] == [
        {"user": contributor["id"], "all": 3, "reviewed": 2},
        {"user": admin, "all": 1, "reviewed": 0},
    ]
    project = reviewing["project"]["id"]
    path = f"/api/project/{project}/reviewedannotation/count.json"
    assert reviewer.get(path).json() == {"total": 2}
    assert reviewer.get(path, params={"startDate": 0, "endDate": 1}).json() == {"total": 0}
    mine = f"/api/user/{contributor['id']}/reviewedannotation/count.json"
    assert contributor["api"].get(mine).json() == {"total": 2}
    assert_error(reviewer.get(mine), 403)
    assert api.get(mine).json() == {"total": 2}


def test_a_raw_copy_lies_where_its_original_does(api, reviewing):
    """A reviewed annotation naming an original on another image would show that annotation
    to whoever reads the copy, and mark it reviewed in a project the reviewer is not in."""
    elsewhere = make_project(api, ontology=reviewing["ontology"]["id"])
    other_image = add_image(api, elsewhere["id"], abstract_image(api)["id"])
    foreign = api.post("/api/annotation.json",
                       json={"location": "POINT (5 5)", "image": other_image["id"]})  # fmt: skip
    assert foreign.status_code == 200, foreign.text
    body = raw(reviewing, parentIdent=foreign.json()["annotation"]["id"])
    assert_error(reviewing["reviewer"]["api"].post("/api/reviewedannotation.json", json=body), 400)


def test_a_read_only_project_refuses_the_reviewers_writes(api, reviewing):
    copy = accept(reviewing, 0)
    project = api.get(f"/api/project/{reviewing['project']['id']}.json").json()
    assert api.put(f"/api/project/{project['id']}.json",
                   json={**project, "isReadOnly": True}).status_code == 200  # fmt: skip
    reviewer = reviewing["reviewer"]["api"]
    assert_error(reviewer.delete(f"/api/reviewedannotation/{copy['id']}.json"), 403)
    assert_error(reviewer.post(
        f"/api/annotation/{reviewing['annotations'][1]['id']}/review.json"), 403)  # fmt: skip
    assert reviewer.get(f"/api/reviewedannotation/{copy['id']}.json").status_code == 200


def test_not_reviewed_only_lists_and_counts_the_originals_without_a_copy(api, reviewing):
    image, project = reviewing["image"]["id"], reviewing["project"]["id"]
    mine = api.post("/api/annotation.json", json={"location": "POINT (8 8)", "image": image})
    accept(reviewing, 0)
    accept(reviewing, 2)
    unreviewed = [mine.json()["annotation"]["id"], reviewing["annotations"][1]["id"]]
    contributor = reviewing["contributor"]["api"]
    for scope in ({"image": image}, {"project": project}, {"image": image, "project": project}):
        params = {**scope, "notReviewedOnly": "true"}
        whole = contributor.get("/api/annotation.json", params=params).json()
        assert [i["id"] for i in whole["collection"]] == unreviewed and whole["size"] == 2
        paged = contributor.get("/api/annotation.json", params={**params, "max": 1}).json()
        assert [i["id"] for i in paged["collection"]] == unreviewed[:1] and paged["size"] == 2
        assert api.get("/api/annotation.json", params=params).json()["size"] == 2
    # a reviewed copy removed makes its original unreviewed again
    reviewer = reviewing["reviewer"]["api"]
    original = reviewing["annotations"][0]["id"]
    assert reviewer.delete(f"/api/annotation/{original}/review.json").status_code == 200
    again = contributor.get(
        "/api/annotation.json", params={"image": image, "notReviewedOnly": "true", "max": 1}
    )
    assert again.json()["size"] == 3


def test_not_reviewed_only_counts_only_the_layers_a_non_manager_sees(api, reviewing):
    image, project = reviewing["image"]["id"], reviewing["project"]["id"]
    api.post("/api/annotation.json", json={"location": "POINT (8 8)", "image": image})
    accept(reviewing, 2)
    row = api.get(f"/api/project/{project}.json").json()
    hidden = api.put(f"/api/project/{project}.json", json={**row, "hideAdminsLayers": True})
    assert hidden.status_code == 200, hidden.text
    contributor = reviewing["contributor"]["api"]
    params = {"image": image, "notReviewedOnly": "true", "max": 1}
    # the administrator's annotation is hidden: the contributor's two unreviewed remain
    assert contributor.get("/api/annotation.json", params=params).json()["size"] == 2
    assert api.get("/api/annotation.json", params=params).json()["size"] == 3
