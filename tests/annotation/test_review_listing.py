"""Review of the annotation listings (images-annotations.md §3.6, §3.7, §3.15 and the GraphQL
`annotations` fields): filter combinations checked against a brute-force expectation, totals of
filtered lists, what the show* groups and nested fields let a caller see, bad parameter values."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from tests.annotation.test_listing_edges import draw
from tests.factories import created
from tests.harness import Api

pytestmark = pytest.mark.usefixtures("no_server_error_nor_redirect")


def track_of(api: Api, scene: dict[str, Any], name: str, *annotations: dict[str, Any]) -> int:
    """A track of the scene's image holding `annotations`; its id."""
    body = {"name": name, "color": "#ff0000", "image": scene["image"]["id"]}
    track = created(api.post("/api/track.json", json=body), "track")
    for annotation in annotations:
        link = {"annotationIdent": annotation["id"], "track": track["id"]}
        assert api.post("/api/annotationtrack.json", json=link).status_code == 200
    return int(track["id"])


NESTED_BY_TERM = """query($id: Long!, $f: AnnotationFilter) {
  term(id: $id) { annotations(filter: $f) { totalCount nodes { id } } } }"""
NESTED_BY_TRACK = """query($id: Long!, $f: AnnotationFilter) {
  track(id: $id) { annotationsPage(filter: $f) { totalCount nodes { id } } } }"""


def test_term_and_track_annotations_filtered_by_terms_or_tracks(api, scene):
    """`term { annotations(filter) }` and `track { annotationsPage(filter) }` with a filter on
    terms or tracks: the filter's test of the annotation's own links must not read the links
    the totals group by (an internal error before: the test's subquery was correlated to the
    grouped links and left with no table of its own)."""
    tumour, stroma = scene["terms"]["Tumour"], scene["terms"]["Stroma"]
    both = draw(api, scene, terms=(tumour, stroma), slice_index=0)
    tumour_only = draw(api, scene, terms=(tumour,), slice_index=1)  # a track: one per slice
    first = track_of(api, scene, "first", both, tumour_only)
    second = track_of(api, scene, "second", both)
    cases = (
        (NESTED_BY_TERM, tumour, {"terms": [stroma]}, [both]),
        (NESTED_BY_TERM, tumour, {"multipleTerm": True}, [both]),
        (NESTED_BY_TERM, tumour, {"noTerm": True, "terms": [stroma]}, [both]),
        (NESTED_BY_TERM, stroma, {"usersForTerm": [both["user"]]}, [both]),
        (NESTED_BY_TRACK, first, {"tracks": [second]}, [both]),
        (NESTED_BY_TRACK, first, {"multipleTrack": True}, [both]),
        (NESTED_BY_TRACK, first, {"noTrack": True}, []),
    )
    for document, parent, narrowed, expected in cases:
        answer = api.gql(document, {"id": parent, "f": narrowed})
        assert "errors" not in answer, (narrowed, answer)
        (field,) = answer["data"].values()
        (page,) = field.values()
        ids = [a["id"] for a in expected]
        assert [node["id"] for node in page["nodes"]] == ids, (narrowed, page)
        assert page["totalCount"] == len(ids), (narrowed, page)


@pytest.fixture
def world(api: Api, scene: dict[str, Any], make_user: Any) -> dict[str, Any]:
    """The scene with a contributor, annotations by both users on both slices with various
    terms, geometries and tracks, one of them reviewed; `rows` describes each annotation as a
    brute-force filter reads it."""
    from shapely import wkt

    project, image = scene["project"]["id"], scene["image"]["id"]
    tumour, stroma = scene["terms"]["Tumour"], scene["terms"]["Stroma"]
    other = make_user()
    assert api.post(f"/api/project/{project}/user/{other['id']}.json").status_code == 200
    me = api.get("/api/user/current.json").json()["id"]
    plan = (  # who, slice, location, terms
        (api, 0, "POINT (10 10)", (tumour,)),
        (api, 1, "POLYGON ((100 100, 200 100, 200 200, 100 200, 100 100))", (tumour, stroma)),
        (other["api"], 0, "POINT (500 500)", ()),
        (other["api"], 1, "POINT (900 700)", (stroma,)),
        (other["api"], 0, "LINESTRING (0 0, 50 50)", (tumour,)),
        (api, 1, "POINT (400 300)", ()),
    )
    rows = []
    for who, index, location, terms in plan:
        drawn = draw(who, scene, location, terms, slice_index=index)
        rows.append({"id": drawn["id"], "user": drawn["user"], "slice": scene["slices"][index],
                     "geometry": wkt.loads(location), "terms": set(terms), "tracks": set(),
                     "reviewed": False, "created": int(drawn["created"])})  # fmt: skip
    track = track_of(api, scene, "track", *(api.get(f"/api/annotation/{rows[i]['id']}.json").json()
                                             for i in (0, 1)))  # fmt: skip
    for i in (0, 1):
        rows[i]["tracks"].add(track)
    assert api.put(f"/api/imageinstance/{image}/review.json").status_code == 200
    accepted = api.post(f"/api/annotation/{rows[3]['id']}/review.json")
    assert accepted.status_code == 200, accepted.text
    rows[3]["reviewed"] = True
    return {**scene, "rows": rows, "other": other, "me": me, "track": track}


def _expected(world: dict[str, Any], params: dict[str, Any]) -> list[int]:
    """The ids a listing with `params` keeps, by brute force (newest first)."""
    from shapely.geometry import box

    def by_links(row: dict[str, Any], kind: str, no: str, wanted: set[int], put: bool) -> bool:
        """The terms or tracks filter: one of `wanted` (put as asked), or none with `no`."""
        if params.get(kind) is None:
            return not (params.get(no) and row[kind])
        return (bool(row[kind] & wanted) and put) or bool(params.get(no) and not row[kind])

    def keep(row: dict[str, Any]) -> bool:
        # every term link here was put by the annotation's creator
        put = row["user"] in params.get("usersForTerm", (row["user"],))
        checks = (
            params.get("slice", row["slice"]) == row["slice"],
            row["slice"] in params.get("slices", (row["slice"],)),
            row["user"] in params.get("users", (row["user"],)),
            by_links(row, "terms", "noTerm", set(params.get("terms", ())), put),
            "usersForTerm" not in params or "terms" in params or bool(row["terms"] and put),
            not params.get("multipleTerm") or len(row["terms"]) >= 2,
            by_links(row, "tracks", "noTrack", set(params.get("tracks", ())), True),
            not (params.get("notReviewedOnly") and row["reviewed"]),
            "bbox" not in params or row["geometry"].intersects(box(*params.get("bbox", ()))),
            row["id"] != params.get("excludedAnnotation"),
        )
        return all(checks)

    return sorted((row["id"] for row in world["rows"] if keep(row)), reverse=True)


def _as_query(params: dict[str, Any]) -> dict[str, str]:
    return {key: ",".join(map(str, value)) if isinstance(value, (list, tuple)) else
            str(value).lower() if isinstance(value, bool) else str(value)
            for key, value in params.items()}  # fmt: skip


@pytest.mark.parametrize("scoped_by", ["image", "project"])
def test_filter_combinations_against_brute_force(api, world, scoped_by):
    """Every pair of filters (scoped by image or by project): the rows, their order and the
    total of every page agree with a brute-force reading of what was drawn."""
    rows = world["rows"]
    tumour, stroma = world["terms"]["Tumour"], world["terms"]["Stroma"]
    filters = [
        {"slice": world["slices"][0]},
        {"slices": world["slices"][1:]},
        {"users": [world["other"]["id"]]},
        {"users": [world["me"]]},
        {"terms": [tumour]},
        {"terms": [stroma]},
        {"noTerm": True},
        {"noTerm": True, "terms": [stroma]},
        {"multipleTerm": True},
        {"tracks": [world["track"]]},
        {"noTrack": True},
        {"usersForTerm": [world["other"]["id"]]},
        {"notReviewedOnly": True},
        {"bbox": (0, 0, 1000, 800)},
        {"bbox": (90, 90, 600, 600)},
        {"bbox": (-10, -10, 2000, 2000)},
        {"excludedAnnotation": rows[1]["id"]},
    ]
    scope = {scoped_by: world[scoped_by]["id"]}
    failures = []
    for one, two in itertools.combinations_with_replacement(filters, 2):
        if set(one) & set(two) and one != two:
            continue
        if {"usersForTerm", "noTerm"} <= {*one, *two} and "terms" not in {*one, *two}:
            continue  # noTerm alone reads the links of `users`, not of `usersForTerm`
        params = {**scope, **one, **two}
        expected = _expected(world, params)
        query = _as_query(params)
        whole = api.get("/api/annotation.json", params=query)
        assert whole.status_code == 200, (params, whole.text)
        got = [item["id"] for item in whole.json()["collection"]]
        ordered = got if "tracks" not in params else sorted(got, reverse=True)
        if ordered != expected or whole.json()["size"] != len(expected):
            failures.append((params, expected, got, whole.json()["size"]))
        for offset in sorted({0, 1, max(len(expected) - 1, 0), len(expected) + 1}):
            paged = api.get("/api/annotation.json", params={**query, "max": 2, "offset": offset})
            body = paged.json()
            if body["size"] != len(expected) or len(body["collection"]) != len(
                    expected[offset:offset + 2]):  # fmt: skip
                failures.append((params, offset, expected, body))
    assert not failures, failures


HIDDEN_PATHS = """query($p: Long!, $i: Long!, $s: Long!, $t: Long!, $u: Long!) {
  rows: annotationRows(filter: {project: $p}) { totalCount nodes { id } }
  multiple: annotationRows(filter: {project: $p, multipleTerm: true}) { totalCount nodes { id } }
  unreviewed: annotationRows(filter: {image: $i, notReviewedOnly: true}) {
    totalCount nodes { id } }
  onSlice: annotationRows(filter: {slice: $s}) { totalCount nodes { id } }
  project(id: $p) { annotations { totalCount nodes { id } } }
  image: imageInstance(id: $i) { annotations { totalCount nodes { id } } }
  slice: sliceInstance(id: $s) { annotations { totalCount nodes { id } } }
  term(id: $t) { annotations { totalCount nodes { id } } }
  user(id: $u) { annotations { totalCount nodes { id } } }
}"""


def test_hidden_layers_stay_hidden_on_every_path(api, scene, make_user):
    """hideUsersLayers: a contributor sees their own annotations and the managers', whatever
    path lists them (REST listing with any filter, included, k-means, GraphQL rows and every
    parent's `annotations`), and every total counts those alone."""
    project, image = scene["project"]["id"], scene["image"]["id"]
    tumour, stroma = scene["terms"]["Tumour"], scene["terms"]["Stroma"]
    me, other = make_user(), make_user()
    for member in (me, other):
        assert api.post(f"/api/project/{project}/user/{member['id']}.json").status_code == 200
    body = api.get(f"/api/project/{project}.json").json()
    body["hideUsersLayers"] = True
    assert api.put(f"/api/project/{project}.json", json=body).status_code == 200
    square = "POLYGON ((0 0, 100 0, 100 100, 0 100, 0 0))"
    managers = draw(api, scene, square, (tumour, stroma), slice_index=0)
    mine = draw(me["api"], scene, square, (tumour, stroma), slice_index=0)
    hidden = draw(other["api"], scene, square, (tumour, stroma), slice_index=0)
    seen = [mine["id"], managers["id"]]
    region = "POLYGON ((0 0, 500 0, 500 500, 0 500, 0 0))"
    rest = [
        ("/api/annotation.json", {"project": project}),
        ("/api/annotation.json", {"image": image}),
        ("/api/annotation.json", {"slice": scene["slices"][0]}),
        ("/api/annotation.json", {"image": image, "notReviewedOnly": "true"}),
        ("/api/annotation.json", {"project": project, "multipleTerm": "true"}),
        ("/api/annotation.json", {"project": project, "bbox": "0,0,1000,800"}),
        ("/api/annotation.json", {"project": project, "terms": tumour}),
        ("/api/annotation.json", {"project": project, "users": f"{other['id']},{me['id']}"}),
        (f"/api/imageinstance/{image}/annotation/included.json", {"geometry": region}),
        ("/api/annotation.json", {"image": image, "kmeans": "true", "kmeansValue": 3}),
    ]
    for path, params in rest:
        for paging in ({}, {"max": 1}):
            got = me["api"].get(path, params={**params, **paging})
            assert got.status_code == 200, (params, got.text)
            ids = [item["id"] for item in got.json()["collection"]]
            size = 1 if "users" in params else 2  # the contributor's own, of those two users
            assert hidden["id"] not in ids and got.json()["size"] == size, (params, paging, ids)
    clusters = me["api"].get("/api/annotation.json", params={"image": image, "kmeans": "true",
                                                             "kmeansValue": 1})  # fmt: skip
    assert [c["count"] for c in clusters.json()["collection"]] == [2], clusters.json()
    answer = me["api"].gql(HIDDEN_PATHS, {"p": project, "i": image, "s": scene["slices"][0],
                                          "t": tumour, "u": other["id"]})  # fmt: skip
    assert "errors" not in answer, answer
    for name, field in answer["data"].items():
        page = field if "nodes" in field else field["annotations"]
        expected = [] if name == "user" else seen
        assert [node["id"] for node in page["nodes"]] == expected, (name, page)
        assert page["totalCount"] == len(expected), (name, page)
