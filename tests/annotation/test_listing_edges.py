"""Edges of the rewritten listing paths: a project's count between two dates (bounds rounded
to the millisecond in Python), the gated page (total first, the page read only past the
offset), multipleTerm's grouped count, and the count and bulk delete of a listing ordered by
plane."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import abstract_image, add_image, created
from tests.harness import Api

pytestmark = pytest.mark.usefixtures("no_server_error_nor_redirect")

COUNT = """query($p: Long!, $from: DateTime, $to: DateTime) {
  projectAnnotationCount(projectId: $p, startDate: $from, endDate: $to) }"""
REVIEWED_COUNT = """query($p: Long!, $from: DateTime, $to: DateTime) {
  reviewedAnnotationCount(projectId: $p, after: $from, before: $to) }"""
ROWS = """query($filter: AnnotationFilter!, $first: Int, $offset: Int!) {
  annotations(filter: $filter, first: $first, offset: $offset) {
    totalCount nodes { id } pageInfo { hasNextPage hasPreviousPage } } }"""


def draw(
    api: Api, scene: dict[str, Any], location: str = "POINT (10 10)", terms: tuple[int, ...] = (),
    slice_index: int | None = None,
) -> dict[str, Any]:  # fmt: skip
    body: dict[str, Any] = {"location": location, "term": list(terms)}
    if slice_index is None:
        body["image"] = scene["image"]["id"]
    else:
        body["slice"] = scene["slices"][slice_index]
    return created(api.post("/api/annotation.json", json=body), "annotation")


@pytest.mark.parametrize("document", [COUNT, REVIEWED_COUNT])
def test_date_bounds_in_the_last_millisecond_python_holds(api, scene, document):
    """A bound within the last millisecond of year 9999 (as far as a client's date goes):
    rounding it to the millisecond must not step past what a datetime holds (500 before)."""
    project = scene["project"]["id"]
    draw(api, scene)
    if document is REVIEWED_COUNT:
        image = scene["image"]["id"]
        assert api.put(f"/api/imageinstance/{image}/review.json").ok
        me = api.get("/api/user/current.json").json()["id"]
        assert api.post(f"/api/imageinstance/{image}/annotation/review.json",
                        params={"users": me}).ok  # fmt: skip
    last = "9999-12-31T23:59:59.9995+00:00"
    for window, expected in (({"to": last}, 1), ({"from": last}, 0),
                             ({"from": "2000-01-01T00:00:00Z", "to": last}, 1),
                             ({"to": "9999-12-31T23:59:59.999999+00:00"}, 1)):  # fmt: skip
        answer = api.gql(document, {"p": project, **window})
        assert "errors" not in answer, (window, answer)
        assert list(answer["data"].values()) == [expected], (window, answer)
    path = f"/api/project/{project}/userannotation/count.json"
    through_rest = api.get(path, params={"endDate": "9999-12-31T23:59:59.9999Z"})
    assert through_rest.status_code == 200, through_rest.text
    assert through_rest.json() == {"total": 1}


def test_count_of_a_listing_ordered_by_plane_bounded_by_a_slice(api, scene):
    """`beforeSlice`/`afterSlice` bound a track's listing by plane rank: its size counts the
    rows the page keeps (the count once read the rank's tables as a cartesian product: a 500
    where SQLAlchemy's lint is an error, a size times every plane and image elsewhere)."""
    image = scene["image"]["id"]
    lower, upper = scene["slices"]
    track = created(api.post("/api/track.json", json={"name": "t", "color": "#ff0000",
                                                     "image": image}), "track")  # fmt: skip
    drawn = [draw(api, scene, slice_index=i) for i in (0, 1)]
    for annotation in drawn:
        link = {"annotationIdent": annotation["id"], "track": track["id"]}
        linked = api.post("/api/annotationtrack.json", json=link)
        assert linked.status_code == 200, linked.text
    for bound, expected in ((f"beforeSlice={upper}", [drawn[0]["id"]]),
                            (f"afterSlice={lower}", [drawn[1]["id"]]),
                            (f"afterSlice={upper}", [])):  # fmt: skip
        for paged in ("max=10", "max=1&offset=0", "max=1&offset=1"):
            response = api.get(f"/api/annotation.json?image={image}&track={track['id']}"
                               f"&{bound}&{paged}")  # fmt: skip
            assert response.status_code == 200, (bound, paged, response.text)
            body = response.json()
            assert body["size"] == len(expected), (bound, paged, body)
        whole = api.get(f"/api/annotation.json?image={image}&track={track['id']}&{bound}&max=10")
        assert [row["id"] for row in whole.json()["collection"]] == expected, bound
    answer = api.gql(ROWS, {"filter": {"image": image, "tracks": [track["id"]],
                                       "beforeSlice": upper}, "first": 5, "offset": 0})  # fmt: skip
    assert "errors" not in answer, answer
    assert answer["data"]["annotations"]["totalCount"] == 1


def test_delete_by_filter_bounded_by_a_slice_deletes_the_bound_rows_only(api, scene):
    """A bulk delete reads its rows through the listing's condition: a track's filter bounded
    by `afterSlice` deletes the annotations past that plane and nothing else (the rank's
    tables were read unjoined, so every row of the track passed)."""
    image = scene["image"]["id"]
    lower, _ = scene["slices"]
    track = created(api.post("/api/track.json", json={"name": "t", "color": "#ff0000",
                                                     "image": image}), "track")  # fmt: skip
    kept, doomed = [draw(api, scene, slice_index=i) for i in (0, 1)]
    for annotation in (kept, doomed):
        link = {"annotationIdent": annotation["id"], "track": track["id"]}
        assert api.post("/api/annotationtrack.json", json=link).status_code == 200
    answer = api.gql("mutation($f: AnnotationFilter!) { annotationDeleteMany(filter: $f) "
                     "{ ids } }", {"f": {"image": image, "tracks": [track["id"]],
                                         "afterSlice": lower}})  # fmt: skip
    assert answer["data"]["annotationDeleteMany"]["ids"] == [doomed["id"]], answer
    assert api.get(f"/api/annotation/{kept['id']}.json").status_code == 200
    assert api.get(f"/api/annotation/{doomed['id']}.json").status_code == 404


def test_gated_pages_at_and_past_the_end_rest_and_graphql(api, scene, make_user):
    """The gate reads a page only when the total reaches past its offset: offset 0 of an empty
    filter, an offset exactly at the total, one past it, `first: 0`; REST and GraphQL agree
    on sizes and rows, with every optional column asked for."""
    tumour, stroma = scene["terms"]["Tumour"], scene["terms"]["Stroma"]
    project = scene["project"]["id"]
    other = make_user()
    assert api.post(f"/api/project/{project}/user/{other['id']}.json").ok
    twice = draw(api, scene, "POINT (10 10)", (tumour,))
    assert other["api"].post(f"/api/annotation/{twice['id']}/term/{tumour}.json", json={}).ok
    both = draw(api, scene, "POINT (20 20)", (tumour,))
    assert other["api"].post(f"/api/annotation/{both['id']}/term/{stroma}.json", json={}).ok
    draw(other["api"], scene, "POINT (30 30)", (tumour, stroma))  # another author
    draw(api, scene, "POINT (500 500)")  # no term
    me = api.get("/api/user/current.json").json()["id"]
    shown = "&".join(f"show{name}=true" for name in
                     ("Term", "WKT", "User", "Image", "Slice", "Track", "GIS", "Meta"))  # fmt: skip
    cases = {  # REST filter, GraphQL filter, ids expected (newest first)
        "multipleTerm, users": (f"project={project}&multipleTerm=true&users={me}",
                                {"project": project, "multipleTerm": True, "users": [me]},
                                [both["id"]]),
        "multipleTerm, bbox, term": (
            f"project={project}&multipleTerm=true&bbox=0,0,25,25&term={stroma}",
            {"project": project, "multipleTerm": True, "bbox": "0,0,25,25", "terms": [stroma]},
            [both["id"]]),
        "multipleTerm, noTerm": (f"project={project}&multipleTerm=true&noTerm=true",
                                 {"project": project, "multipleTerm": True, "noTerm": True}, []),
        "noTerm": (f"project={project}&noTerm=true", {"project": project, "noTerm": True},
                   None),
        "users nothing drew": (f"project={project}&users={other['id']}&noTerm=true",
                               {"project": project, "users": [other["id"]], "noTerm": True},
                               []),
    }  # fmt: skip
    for name, (rest, graphql, expected) in cases.items():
        whole = api.get(f"/api/annotation.json?{rest}&max=0&{shown}").json()
        ids = [row["id"] for row in whole["collection"]]
        if expected is not None:
            assert ids == expected, name
        total = len(ids)
        assert whole["size"] == total, name
        for offset in sorted({0, total, total + 1, total + 10}):
            page = api.get(f"/api/annotation.json?{rest}&max=2&offset={offset}&{shown}").json()
            assert page["size"] == total, (name, offset, page)
            assert [row["id"] for row in page["collection"]] == ids[offset : offset + 2], name
            answer = api.gql(ROWS, {"filter": graphql, "first": 2, "offset": offset})
            assert "errors" not in answer, (name, answer)
            found = answer["data"]["annotations"]
            assert found["totalCount"] == total, (name, offset, found)
            assert [node["id"] for node in found["nodes"]] == ids[offset : offset + 2], name
            assert found["pageInfo"]["hasNextPage"] == (offset + 2 < total), (name, offset)
        nothing = api.gql(ROWS, {"filter": graphql, "first": 0, "offset": 0})
        assert nothing["data"]["annotations"]["totalCount"] == total, (name, nothing)


def test_a_box_around_the_whole_image_keeps_every_annotation_without_testing_each(
    api, scene, server
):
    """A bbox around the whole image (a viewer zoomed out) lists what no bbox lists, without
    a spatial test (writes clip annotations to their image, so none lies outside); a box
    that leaves any of the image out still tests each annotation."""
    image, (lower, upper) = scene["image"]["id"], scene["slices"]
    corner = draw(api, scene, "POINT (1000 800)", slice_index=0)
    origin = draw(api, scene, "POINT (0 0)", slice_index=0)
    clipped = draw(api, scene, "POLYGON ((900 700, 1200 700, 1200 900, 900 900, 900 700))",
                   slice_index=0)  # fmt: skip
    above = draw(api, scene, "POINT (10 10)", slice_index=1)
    ids = [above["id"], clipped["id"], origin["id"], corner["id"]]

    def listed(query: str) -> list[int]:
        response = api.get(f"/api/annotation.json?{query}&max=10")
        assert response.status_code == 200, (query, response.text)
        body = response.json()
        assert body["size"] == len(body["collection"]), (query, body)
        return [row["id"] for row in body["collection"]]

    for box in ("0,0,1000,800", "-50,-50,5000,5000", "1000,800,0,0"):
        with server.captured("ST_Intersects") as tested:
            assert listed(f"image={image}&bbox={box}") == ids
            assert listed(f"image={image}&slice={lower}&bbox={box}") == ids[1:]
            assert listed(f"slice={upper}&bbox={box}") == [above["id"]]
        assert tested == [], box
    with server.captured("ST_Intersects") as tested:
        assert listed(f"image={image}&bbox=0,0,999,800") == ids[:3]
        assert listed(f"image={image}&bbox=1,0,1000,800") == [above["id"], clipped["id"],
                                                              corner["id"]]  # fmt: skip
    assert tested


def test_a_box_around_the_whole_image_misses_what_clipping_left_beside_it(api, scene, server):
    """Cytomine's clipping (§3.3 step 3) keeps a point left of or below its image as it is: a
    box from the image's corner does not meet it, so the listing tests each annotation again
    (and counts it out) while such a one exists, and skips the test once it is gone."""
    image = scene["image"]["id"]
    inside = draw(api, scene, "POINT (10 10)", slice_index=0)
    for beside in ("POINT (-5 -5)", "POINT (-5 400)", "POINT (500 -5)"):
        stray = draw(api, scene, beside, slice_index=0)
        assert stray["location"] == beside, stray  # stored where it was drawn
        with server.captured("ST_Intersects") as tested:
            response = api.get(f"/api/annotation.json?image={image}&bbox=0,0,1000,800&max=10")
        assert response.status_code == 200, response.text
        body = response.json()
        assert [row["id"] for row in body["collection"]] == [inside["id"]], (beside, body)
        assert body["size"] == 1, beside
        assert tested, beside
        wider = api.get(f"/api/annotation.json?image={image}&bbox=-10,-10,1000,800&max=10")
        assert [row["id"] for row in wider.json()["collection"]] == [stray["id"], inside["id"]]
        assert api.delete(f"/api/annotation/{stray['id']}.json").status_code == 200
    with server.captured("ST_Intersects") as tested:
        response = api.get(f"/api/annotation.json?image={image}&bbox=0,0,1000,800&max=10")
    assert [row["id"] for row in response.json()["collection"]] == [inside["id"]]
    assert tested == []


def test_a_slice_listing_counts_from_the_annotation_index(api, scene, server, make_user):
    """A slice's whole layer takes its size from the annotation index (no count of its rows),
    and the size follows creates, deletes and other users; a slice named with an image it
    is not of lists nothing, and a narrowing filter counts the rows again."""
    image, (lower, upper) = scene["image"]["id"], scene["slices"]
    other = make_user()
    assert api.post(f"/api/project/{scene['project']['id']}/user/{other['id']}.json").ok
    mine = [draw(api, scene, f"POINT ({i} {i})", slice_index=0) for i in range(1, 4)]
    theirs = draw(other["api"], scene, "POINT (50 50)", slice_index=0)
    draw(api, scene, "POINT (60 60)", slice_index=1)
    assert api.delete(f"/api/annotation/{mine[0]['id']}.json").status_code == 200

    def size(query: str) -> int:
        response = api.get(f"/api/annotation.json?{query}&max=1")
        assert response.status_code == 200, (query, response.text)
        return int(response.json()["size"])

    with server.captured("count(") as counted:
        assert size(f"slice={lower}") == 3
        assert size(f"image={image}&slice={lower}") == 3
        assert size(f"slice={upper}") == 1
    assert counted == [], counted
    assert size(f"slice={lower}&user={other['id']}") == 1
    answer = api.gql(ROWS, {"filter": {"slice": lower}, "first": 1, "offset": 0})
    assert answer["data"]["annotations"]["totalCount"] == 3, answer
    elsewhere = add_image(api, scene["project"]["id"],
                          abstract_image(api, width=100, height=100)["id"])  # fmt: skip
    response = api.get(f"/api/annotation.json?image={elsewhere['id']}&slice={lower}&max=1")
    assert response.json()["size"] == 0 and response.json()["collection"] == []
    assert theirs["id"] in [r["id"] for r in api.get(
        f"/api/annotation.json?slice={lower}&max=10").json()["collection"]]  # fmt: skip
