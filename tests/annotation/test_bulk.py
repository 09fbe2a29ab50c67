"""Many annotations at once: a REST array and annotationCreateMany/Each are one operation that
keeps the answers of single creates element by element, undo reverses them as a whole, the
counters stay exact, and a delete by filter is one operation too."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

import orjson
import pytest

from resolvers.annotation.bulk import STEP
from resolvers.command import row_data
from settings import Settings
from tests.conftest import _answers_checked, base_settings
from tests.factories import created, make_project
from tests.harness import Api, Server, raw_connection

pytestmark = pytest.mark.usefixtures("no_server_error_nor_redirect")

SQUARE = "POLYGON ((10 10, 40 10, 40 40, 10 40, 10 10))"
#: Elements that single creates refuse, with the words of each refusal.
REFUSED = [
    ({"location": "POLYGON ((0 0, 1 1"}, "Invalid WKT"),
    ({"location": "POLYGON ((5000 5000, 5010 5000, 5010 5010, 5000 5000))"}, "outside the image"),
    ({"location": "POLYGON ((0 0, 10 0, 0 10, 10 10, 0 0))"}, "not valid"),
    ({"location": "POLYGON ((1 1, 1.5 1, 1.5 30, 1 30, 1 1))"}, "smaller than a pixel"),
    ({"location": "MULTILINESTRING ((0 0, 1 1), (2 2, 3 3))"}, "not accepted"),
    ({"location": ""}, "location must be set"),
]


def single_answer(api: Api, body: dict[str, Any]) -> tuple[int, str]:
    response = api.post("/api/annotation.json", json=body)
    return response.status_code, response.json().get("message", "")


def _point(i: int) -> str:
    """The i-th of distinct points inside the scene's image."""
    return f"POINT ({i % 900 + 1} {i // 900 + 2})"


def _triangle(i: int) -> str:
    """The i-th of distinct triangles inside the scene's image."""
    x, y = i % 900 + 1, i // 900 * 10 + 1
    return f"POLYGON (({x} {y}, {x + 3} {y}, {x + 3} {y + 4.5}, {x} {y}))"


def listed(api: Api, image: int) -> list[dict[str, Any]]:
    return api.get(f"/api/annotation.json?image={image}&max=0&showTerm=true").json()["collection"]


def test_an_array_answers_element_by_element_as_single_creates_do(api, scene):
    image = scene["image"]["id"]
    tumour = scene["terms"]["Tumour"]
    elements = [
        {"location": SQUARE, "term": [tumour]},
        *({**body} for body, _ in REFUSED),
        {"location": "POINT (5 5)"},
        {"location": "LINESTRING (0 0, 0 0.2)"},
        {"location": SQUARE, "term": [999_999_999]},
    ]
    for element in elements:
        element["image"] = image
    response = api.post("/api/annotation.json", json=elements)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == 206, body
    failed = body["data"]["errors"]
    expected_failures = [e for e in elements
                         if single_answer(api, e)[0] != 200]  # fmt: skip
    assert [f["data"] for f in failed] == expected_failures
    for failure in failed:
        status, message = single_answer(api, failure["data"])
        assert status == 400 and failure["message"] == message
    for (_, words), failure in zip(REFUSED, failed, strict=False):
        assert words in failure["message"]
    made = listed(api, image)
    # the valid ones twice: once by the array, once by single_answer's probes
    assert len(made) == 2 * (len(elements) - len(failed))


def test_the_array_is_undone_and_redone_as_a_whole(api, scene):
    image = scene["image"]["id"]
    tumour = scene["terms"]["Tumour"]
    body = [{"location": f"POINT ({i + 1} {i + 1})", "image": image, "term": [tumour]}
            for i in range(40)]  # fmt: skip
    assert api.post("/api/annotation.json", json=body).json()["status"] == 200
    assert len(listed(api, image)) == 40
    counters = api.get(f"/api/imageinstance/{image}.json").json()["numberOfAnnotations"]
    assert counters == 40
    undone = api.get("/command/undo.json")
    assert undone.status_code == 200, undone.text
    assert listed(api, image) == []
    assert api.get(f"/api/imageinstance/{image}.json").json()["numberOfAnnotations"] == 0
    redone = api.get("/command/redo.json")
    assert redone.status_code == 200, redone.text
    again = listed(api, image)
    assert len(again) == 40 and all(row["term"] == [tumour] for row in again)
    assert api.get(f"/api/imageinstance/{image}.json").json()["numberOfAnnotations"] == 40


def test_the_array_commands_snapshot_each_row_as_the_database_holds_it(api, scene,
                                                                       database_url):  # fmt: skip
    image = scene["image"]["id"]
    tumour = scene["terms"]["Tumour"]
    # several steps of the batch (STEP elements each), refused elements among them
    body = [{"location": _triangle(i), "image": image, "term": [tumour]}
            for i in range(2 * STEP + 30)]  # fmt: skip
    for index in (0, STEP - 1, STEP, 2 * STEP + 5):
        body[index]["location"] = "POLYGON ((0 0, 1 1"
    answer = api.post("/api/annotation.json", json=body).json()
    assert answer["status"] == 206 and len(answer["data"]["errors"]) == 4

    async def read() -> tuple[dict[str, list[Any]], dict[str, dict[int, Any]]]:
        conn = await raw_connection(database_url)
        try:
            commands = await conn.fetch(
                "SELECT domain, data FROM command WHERE type = 'ADD' AND transaction_id = "
                "(SELECT max(transaction_id) FROM command)"
            )
            annotations = await conn.fetch(
                "SELECT * FROM user_annotation WHERE image_id = $1", image
            )
            links = await conn.fetch(
                "SELECT t.* FROM annotation_term t JOIN user_annotation a"
                " ON a.id = t.user_annotation_id WHERE a.image_id = $1",
                image,
            )
        finally:
            await conn.close()
        held = {
            "UserAnnotation": {row["id"]: row_data({k: v for k, v in row.items()
                                                    if k != "location"}) for row in annotations},
            "AnnotationTerm": {row["id"]: row_data(dict(row)) for row in links},
        }  # fmt: skip
        return {domain: orjson.loads(data)["rows"] for domain, data in commands}, held

    snapshots, held = asyncio.run(read())
    assert set(snapshots) == {"UserAnnotation", "AnnotationTerm"}
    for domain, rows in snapshots.items():
        assert len(rows) == len(body) - 4 == len(held[domain])
        for snapshot in rows:
            assert snapshot == held[domain][snapshot["id"]]
    named = answer["data"]["message"].split("(annotations ")[1].removesuffix(") were added")
    made = [int(i) for i in named.split(",")]  # in the elements' order
    assert made == sorted(made) and set(made) == set(held["UserAnnotation"])


def test_create_many_refuses_a_late_element_and_leaves_nothing_written(api, scene):
    image = scene["image"]["id"]
    many = [{"location": _point(i), "image": image} for i in range(2 * STEP + 10)]
    many[2 * STEP + 3]["location"] = "POINT (1 2"  # in the third step: two are written by then
    refused = api.gql("mutation($i: [AnnotationInput!]!) { annotationCreateMany(inputs: $i) "
                      "{ annotation { id } } }", {"i": many})  # fmt: skip
    assert refused["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert refused["errors"][0]["message"].startswith("Invalid WKT")
    assert listed(api, image) == []
    assert api.get(f"/api/imageinstance/{image}.json").json()["numberOfAnnotations"] == 0
    # the first failing element wins, even when a later one fails before any geometry is read
    many[2 * STEP + 3]["location"] = "POINT (1 2)"
    many[STEP + 1]["location"] = "POINT (1 2"
    many[STEP + 9]["user"] = 999_999_999
    refused = api.gql("mutation($i: [AnnotationInput!]!) { annotationCreateMany(inputs: $i) "
                      "{ annotation { id } } }", {"i": many})  # fmt: skip
    assert refused["errors"][0]["message"].startswith("Invalid WKT")
    assert listed(api, image) == []


def test_create_many_is_all_or_none_and_create_each_reports_each(api, scene):
    image = scene["image"]["id"]
    bad = {"location": "POINT (1 2", "image": image}
    good = {"location": "POINT (3 4)", "image": image}
    refused = api.gql("mutation($i: [AnnotationInput!]!) { annotationCreateMany(inputs: $i) "
                      "{ annotation { id } } }", {"i": [good, bad]})  # fmt: skip
    assert refused["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert listed(api, image) == []
    each = api.gql("""mutation($i: [AnnotationInput!]!) { annotationCreateEach(inputs: $i) {
        annotationId annotation { location } command { action } error code } }""",
                   {"i": [good, bad, good]})["data"]["annotationCreateEach"]  # fmt: skip
    assert [e["code"] for e in each] == [None, "BAD_USER_INPUT", None]
    assert each[0]["annotation"] == {"location": "POINT (3 4)"} and each[1]["annotation"] is None
    assert each[0]["command"] == each[2]["command"] == {"action": "ADD"}
    assert sorted(row["id"] for row in listed(api, image)) == sorted(
        [each[0]["annotationId"], each[2]["annotationId"]])  # fmt: skip


def test_concurrent_arrays_in_one_project_keep_every_counter_exact(api, scene, database_url):
    image = scene["image"]["id"]
    clients = [api.as_keys(api.public_key, api.private_key) for _ in range(6)]

    def post(k: int) -> Any:
        body = [{"location": f"POINT ({k * 100 + i + 1} {i + 1})", "image": image}
                for i in range(50)]  # fmt: skip
        return clients[k].post("/api/annotation.json", json=body).json()["status"]

    with ThreadPoolExecutor(6) as pool:
        assert list(pool.map(post, range(6))) == [200] * 6
    project = scene["project"]["id"]
    assert api.get(f"/api/imageinstance/{image}.json").json()["numberOfAnnotations"] == 300
    assert api.get(f"/api/project/{project}/userannotation/count.json").json()["total"] == 300
    me = api.get("/api/user/current.json").json()["id"]
    mine = api.get(f"/api/user/{me}/userannotation/count.json?project={project}").json()
    assert mine["total"] == 300


@pytest.mark.identity_read_every_request
def test_statements_of_an_array_grow_by_step_not_by_element(server: Server, api, scene):
    image = scene["image"]["id"]
    tumour = scene["terms"]["Tumour"]

    def count(n: int, offset: int) -> int:
        body = [{"location": _point(offset + i), "image": image,
                 "term": [tumour]} for i in range(n)]  # fmt: skip
        with server.count_statements() as counter:
            assert api.post("/api/annotation.json", json=body).json()["status"] == 200
        return counter.n

    small, large = count(3, 0), count(3 * STEP, 100)
    assert large - small == 2, (small, large)  # a statement per step of STEP elements
    assert small <= 20, small


def test_delete_by_filter_is_one_operation_that_undo_reverses(api, scene, make_user):
    image = scene["image"]["id"]
    tumour, stroma = scene["terms"]["Tumour"], scene["terms"]["Stroma"]
    body = [{"location": f"POINT ({i + 1} {i + 1})", "image": image,
             "term": [tumour if i % 2 else stroma]} for i in range(20)]  # fmt: skip
    assert api.post("/api/annotation.json", json=body).json()["status"] == 200
    deleted = api.delete(f"/api/annotation.json?image={image}&term={stroma}")
    assert deleted.status_code == 200, deleted.text
    answer = deleted.json()
    assert len(answer["deleted"]) == 10 and answer["command"]
    remaining = listed(api, image)
    assert len(remaining) == 10 and all(row["term"] == [tumour] for row in remaining)
    assert api.get(f"/api/imageinstance/{image}.json").json()["numberOfAnnotations"] == 10
    assert api.get("/command/undo.json").status_code == 200
    assert len(listed(api, image)) == 20
    assert api.get("/command/redo.json").status_code == 200
    assert len(listed(api, image)) == 10
    some = [row["id"] for row in listed(api, image)][:3]
    picked = api.gql("mutation($image: Long!, $ids: [Long!]) { annotationDeleteMany(filter: "
                     "{image: $image}, ids: $ids) { ids command { action } } }",
                     {"image": image, "ids": some})["data"]["annotationDeleteMany"]  # fmt: skip
    assert sorted(picked["ids"]) == sorted(some) and picked["command"] == {"action": "DELETE"}
    assert len(listed(api, image)) == 7


def test_delete_by_filter_needs_a_scope_and_the_right_to_delete_each(api, scene, make_user):
    image = scene["image"]["id"]
    assert api.delete("/api/annotation.json").status_code == 400
    contributor = make_user()
    project = scene["project"]["id"]
    api.post(f"/api/project/{project}/user/{contributor['id']}.json")
    assert api.post("/api/annotation.json", json={"location": "POINT (1 1)",
                                                   "image": image}).status_code == 200  # fmt: skip
    project_json = api.get(f"/api/project/{project}.json").json()
    restricted = api.put(f"/api/project/{project}.json",
                         json={**project_json, "mode": "RESTRICTED"})  # fmt: skip
    assert restricted.status_code == 200, restricted.text
    refused = contributor["api"].delete(f"/api/annotation.json?image={image}")
    assert refused.status_code == 403
    assert len(listed(api, image)) == 1
    outsider = make_user()
    assert outsider["api"].delete(f"/api/annotation.json?image={image}").status_code == 403


def test_a_delete_by_filter_past_a_statements_parameter_limit(api, scene):
    """More annotations than a statement may have parameters (32 767 on PostgreSQL's wire):
    every read and write of the batch, its undo and its redo pass their ids as one array."""
    image = scene["image"]["id"]
    count = 33_000
    body = [{"location": f"POINT ({1 + i % 90} {1 + i // 90 % 90})", "image": image}
            for i in range(count)]  # fmt: skip
    made = api.post("/api/annotation.json", json=body)
    assert made.status_code == 200 and made.json()["status"] == 200, made.text[:300]
    deleted = api.delete(f"/api/annotation.json?image={image}")
    assert deleted.status_code == 200, deleted.text[:300]
    assert len(deleted.json()["deleted"]) == count
    numbered = f"/api/imageinstance/{image}.json"
    assert api.get(numbered).json()["numberOfAnnotations"] == 0
    assert api.get("/command/undo.json").status_code == 200
    assert api.get(numbered).json()["numberOfAnnotations"] == count
    assert api.get("/command/redo.json").status_code == 200
    assert api.get(numbered).json()["numberOfAnnotations"] == 0


def test_an_annotation_whose_image_moved_since_its_undo_is_not_redone(api, scene):
    """Undone annotations leave their image free to change project; redoing them then would
    put them on a slice of another project: refused with a 400, and nothing comes back."""
    image = scene["image"]
    body = [{"location": _point(i), "image": image["id"]} for i in range(3)]
    assert api.post("/api/annotation.json", json=body).json()["status"] == 200
    assert api.get("/command/undo.json").status_code == 200
    elsewhere = make_project(api, ontology=scene["ontology"]["id"])
    moved = api.put(f"/api/imageinstance/{image['id']}.json",
                    json={**image, "project": elsewhere["id"]})  # fmt: skip
    assert moved.status_code == 200, moved.text
    redone = api.get("/command/redo.json")
    assert redone.status_code == 400, redone.text
    assert redone.json()["errors"]["message"] == (
        "Cannot restore UserAnnotation: an object it refers to no longer exists or has changed"
    )
    assert listed(api, image["id"]) == []
    assert api.get(f"/api/imageinstance/{image['id']}.json").json()["numberOfAnnotations"] == 0


def test_counters_of_a_batch_count_what_it_writes_after_it_too(api, scene, database_url):
    """A batch counts its annotations once, after its steps (db/migrations 0009, 0011); an
    element naming a track is created after them in the same operation and is counted as a
    single create is, and so are undo and redo."""
    image, first, second = scene["image"]["id"], *scene["slices"]
    cells, nuclei = (created(api.post("/api/track.json", json={
        "name": name, "color": "#00FF00", "image": image}), "track")["id"]
        for name in ("cells", "nuclei"))  # fmt: skip
    many = [{"location": _point(i), "slice": first if i % 2 else second} for i in range(7)]
    many[3]["track"] = [cells]
    assert api.post("/api/annotation.json", json=many).json()["status"] == 200
    many[3]["track"], many[4]["track"] = [nuclei], [cells]  # a track takes one per slice
    made = api.gql("mutation($i: [AnnotationInput!]!) { annotationCreateMany(inputs: $i) "
                   "{ annotation { id } } }", {"i": many})  # fmt: skip
    assert "errors" not in made, made
    assert api.get("/command/undo.json").status_code == 200
    assert api.get("/command/redo.json").status_code == 200
    kept, recounted = asyncio.run(_counters(database_url, image))
    assert kept == recounted and kept[0] == [(14,)]


#: An image's, its project's and its slices' (per user) annotation counters, as kept...
_KEPT = (
    "SELECT count_image_annotations FROM image_instance WHERE id = $1",
    "SELECT p.count_annotations FROM project p JOIN image_instance i ON i.project_id = p.id "
    "WHERE i.id = $1",
    "SELECT x.user_id, x.slice_id, x.count_annotation FROM annotation_index x JOIN "
    "slice_instance s ON s.id = x.slice_id WHERE s.image_id = $1 AND x.count_annotation <> 0 "
    "ORDER BY 1, 2",
)
#: ... and as counted from the rows.
_RECOUNTED = (
    "SELECT count(*) FROM user_annotation WHERE image_id = $1",
    "SELECT count(*) FROM user_annotation a JOIN image_instance i "
    "ON i.project_id = a.project_id WHERE i.id = $1",
    "SELECT user_id, slice_id, count(*) FROM user_annotation WHERE image_id = $1 "
    "GROUP BY user_id, slice_id ORDER BY 1, 2",
)


async def _counters(database_url: str, image: int) -> tuple[list[Any], list[Any]]:
    conn = await raw_connection(database_url)
    try:
        kept = [[tuple(row) for row in await conn.fetch(query, image)] for query in _KEPT]
        counted = [[tuple(row) for row in await conn.fetch(query, image)] for query in _RECOUNTED]
        return kept, counted
    finally:
        await conn.close()


class TestRefusedMidway:
    """A batch sends its statements ahead of PostgreSQL's answers; when PostgreSQL refuses one
    (here, the statement timeout while another transaction holds a row it needs), the request
    answers 503 and nothing of the batch stays (annotations, links, commands, counters), and
    the same batch goes through once the row is free."""

    @pytest.fixture
    def settings(self) -> Settings:
        return replace(base_settings(), statement_timeout=1)

    @pytest.fixture
    def no_server_error_nor_redirect(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> Iterator[list[tuple[str, str, int]]]:
        """The 503 is this test's point; any other 5xx or 3xx still fails it."""
        yield from _answers_checked(monkeypatch, frozenset((503,)))

    @pytest.mark.parametrize(
        "held",
        [
            pytest.param(
                "SELECT 1 FROM term WHERE id = $1 AND $2::bigint > 0 FOR UPDATE", id="first step"
            ),
            pytest.param(
                "SELECT 1 FROM image_instance WHERE id = $2 AND $1::bigint > 0 FOR UPDATE",
                id="count",
            ),
        ],
    )
    def test_a_refused_statement_leaves_nothing_of_the_batch(self, api, scene, database_url,
                                                             held):  # fmt: skip
        image, project = scene["image"]["id"], scene["project"]["id"]
        tumour = scene["terms"]["Tumour"]
        body = [{"location": _point(i), "image": image, "term": [tumour]}
                for i in range(2 * STEP + 50)]  # fmt: skip
        history = f"/api/project/{project}/commandhistory.json"
        before = len(api.get(history).json())

        async def blocked() -> Any:
            other = await raw_connection(database_url)
            try:
                async with other.transaction():
                    await other.execute(held, tumour, image)
                    return await asyncio.to_thread(api.post, "/api/annotation.json", json=body)
            finally:
                await other.close()

        refused = asyncio.run(blocked())
        assert refused.status_code == 503, refused.text
        assert "statement timeout" in refused.json()["message"]
        assert listed(api, image) == []
        assert api.get(f"/api/imageinstance/{image}.json").json()["numberOfAnnotations"] == 0
        assert len(api.get(history).json()) == before
        kept, recounted = asyncio.run(_counters(database_url, image))
        assert kept == recounted
        assert api.post("/api/annotation.json", json=body).json()["status"] == 200
        assert len(listed(api, image)) == len(body)
        assert api.get(f"/api/imageinstance/{image}.json").json()["numberOfAnnotations"] == len(
            body
        )
