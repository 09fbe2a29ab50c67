"""Report downloads (contract images-annotations.md §3.15): the CSV's exact bytes, the XLSX,
PDF and GeoJSON files, required parameters, filters and permissions; and the administrators'
light list (§3.4)."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from openpyxl import load_workbook

from tests.factories import abstract_image, add_image, created, make_project
from tests.harness import Api, assert_error

pytestmark = pytest.mark.usefixtures("no_server_error_nor_redirect")

SQUARE = "POLYGON ((100 100, 100 300, 400 300, 400 100, 100 100))"
HEADER = ("Id;Area (microns²);Perimeter (mm);X;Y;Image Id;Image Filename;User;Term;"
          "View annotation picture;View annotation on image")  # fmt: skip


def annotate(api: Api, image: int, location: str, terms: list[int] = ()) -> int:
    body = {"location": location, "image": image, "term": list(terms)}
    return int(created(api.post("/api/annotation.json", json=body), "annotation")["id"])


@pytest.fixture
def drawn(api: Api, scene: dict[str, Any], make_user: Any) -> dict[str, Any]:
    """`square` (Tumour and Stroma) then `point` (Stroma) by the admin, `bare` (no term) by
    the admin, and `theirs` (Tumour) by a contributor."""
    tumour, stroma = scene["terms"]["Tumour"], scene["terms"]["Stroma"]
    image = scene["image"]["id"]
    other = make_user()
    api.post(f"/api/project/{scene['project']['id']}/user/{other['id']}.json")
    return {
        "square": annotate(api, image, SQUARE, [tumour, stroma]),
        "point": annotate(api, image, "POINT (10 20)", [stroma]),
        "bare": annotate(api, image, "POINT (30 30)"),
        "theirs": annotate(other["api"], image, "POINT (40 40)", [tumour]),
        "other": other,
        "admin": api.get("/api/user/current.json").json()["id"],
    }


def download(api: Api, project: int, kind: str = "userannotation", **params: Any) -> Any:
    return api.get(f"/api/project/{project}/{kind}/download", params=params)


def test_csv_report_bytes(api, server, scene, drawn):
    project, image = scene["project"]["id"], scene["image"]["id"]
    response = download(api, project, format="csv", users=drawn["admin"], terms="",
                        images=image)  # fmt: skip
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/csv")
    assert re.fullmatch(rf"attachment; filename=\d{{8}}_\d{{6}}_annotations_project{project}"
                        r"\.csv", response.headers["Content-Disposition"])  # fmt: skip
    assert response.headers.get("Transfer-Encoding") == "chunked"  # streamed
    name = scene["image"]["instanceFilename"]
    base = server.url

    def line(annotation: int, measures: str, terms: str) -> str:
        return (f"{annotation};{measures};{image};{name};admin;{terms};"
                f"{base}/api/userannotation/{annotation}/crop.png;"
                f"{base}/#/project/{project}/image/{image}/annotation/{annotation}")  # fmt: skip

    expected = "\r\n".join([
        HEADER,
        line(drawn["point"], "0.00;0.00;10.00;20.00", "Stroma"),
        line(drawn["square"], "15000.00;0.50;250.00;200.00", "Tumour- Stroma"),
    ]) + "\r\n"  # fmt: skip
    assert response.content == expected.encode()


def ids_of(response: Any) -> list[int]:
    assert response.status_code == 200, response.text
    return [int(row.split(";")[0]) for row in response.text.splitlines()[1:]]


def test_report_filters(api, scene, drawn):
    project, image = scene["project"]["id"], scene["image"]["id"]
    stroma = scene["terms"]["Stroma"]
    members = ids_of(download(api, project, format="csv", users="", terms="", images=image))
    assert members == [drawn["theirs"], drawn["point"], drawn["square"]]  # no termless one
    with_bare = download(api, project, format="csv", users="", terms="", images=image,
                         noTerm="true")  # fmt: skip
    assert drawn["bare"] in ids_of(with_bare)
    only = download(api, project, format="CSV", users=drawn["other"]["id"], terms="",
                    images=image)  # fmt: skip
    assert ids_of(only) == [drawn["theirs"]]
    stromal = download(api, project, "annotation", format="csv", users="", terms=stroma,
                       images=image, reviewed="false")  # fmt: skip
    assert ids_of(stromal) == [drawn["point"], drawn["square"]]
    later = download(api, project, format="csv", users="", terms="", images=image,
                     afterThan=4102444800000)  # 2100-01-01  # fmt: skip
    assert ids_of(later) == []


def test_the_method_route_names_the_project_in_its_query(api, scene, drawn):
    project, image = scene["project"]["id"], scene["image"]["id"]
    params = {"format": "csv", "users": "", "terms": "", "images": image}
    response = api.get("/api/annotation/method/download", params={"project": project, **params})
    assert response.status_code == 200, response.text
    assert ids_of(response) == ids_of(download(api, project, **params))
    assert_error(api.get("/api/annotation/method/download", params=params), 400)


def test_xlsx_and_xls_workbooks(api, scene, drawn):
    project, image = scene["project"]["id"], scene["image"]["id"]
    for kind in ("xlsx", "xls"):
        response = download(api, project, format=kind, users="", terms="", images=image)
        assert response.status_code == 200, response.text
        assert response.headers["Content-Type"].startswith(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        assert response.headers["Content-Disposition"].endswith(".xlsx")
        sheet = load_workbook(io.BytesIO(response.content)).active
        rows = list(sheet.iter_rows(values_only=True))
        assert rows[0] == tuple(HEADER.split(";"))
        assert rows[3][:6] == (drawn["square"], 15000.0, 0.5, 250.0, 200.0, image)
        assert rows[3][8] == "Tumour- Stroma"
        assert len(rows) == 4


def test_pdf_report(api, scene, drawn):
    project, image = scene["project"]["id"], scene["image"]["id"]
    response = download(api, project, format="pdf", users="", terms="", images=image)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"].endswith(".pdf")
    assert response.content.startswith(b"%PDF-") and response.content.rstrip().endswith(b"%%EOF")


def test_geojson_export(api, scene, drawn):
    project, image = scene["project"]["id"], scene["image"]["id"]
    response = download(api, project, format="geojson", users=drawn["admin"], terms="",
                        images=image)  # fmt: skip
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("application/geo+json")
    collection = response.json()
    assert collection["type"] == "FeatureCollection"
    point, square = collection["features"]
    assert point == {
        "type": "Feature", "id": drawn["point"],
        "geometry": {"type": "Point", "coordinates": [10.0, 20.0]},
        "properties": point["properties"],
    }  # fmt: skip
    assert square["geometry"] == {
        "type": "Polygon",
        "coordinates": [
            [[100.0, 100.0], [100.0, 300.0], [400.0, 300.0], [400.0, 100.0], [100.0, 100.0]]
        ],
    }
    props = square["properties"]
    assert "location" not in props
    assert props["class"] == "be.cytomine.domain.ontology.UserAnnotation"
    assert (props["id"], props["image"], props["area"], props["areaUnit"]) == (
        drawn["square"], image, 15000.0, "micron²")  # fmt: skip
    assert props["centroid"] == {"x": 250.0, "y": 200.0}
    assert props["term"] == [scene["terms"]["Tumour"], scene["terms"]["Stroma"]]
    assert props["creator"] == "admin" and isinstance(props["created"], int)


def test_report_bad_input_and_permissions(api, scene, drawn, make_user):
    project, image = scene["project"]["id"], scene["image"]["id"]
    full = {"format": "csv", "users": "", "terms": "", "images": image}
    for missing in ("format", "users", "terms", "images"):
        params = {k: v for k, v in full.items() if k != missing}
        assert_error(download(api, project, **params), 400)
    for params in ({**full, "format": "doc"}, {**full, "images": ""},
                   {**full, "users": "x"}, {**full, "afterThan": "yesterday"}):  # fmt: skip
        assert_error(download(api, project, **params), 400)
    elsewhere = make_project(api)
    foreign = add_image(api, elsewhere["id"], abstract_image(api)["id"])
    assert_error(download(api, project, **{**full, "images": foreign["id"]}), 400)
    assert_error(download(api, 987654321, **full), 404)
    assert_error(download(api, project, **{**full, "images": 987654321}), 404)
    assert_error(download(make_user()["api"], project, **full), 403)
    assert_error(download(drawn["other"]["api"], elsewhere["id"], **full), 403)


def test_graphql_report(api, scene, drawn):
    answer = api.gql(
        "query($p: Long!, $i: [Long!]!) { annotationReport(project: $p, format: XLS, users: [],"
        " terms: [], images: $i) { filename mediaType columns users { username }"
        " terms { name } rows(first: 1) { totalCount nodes { id creator } } } }",
        {"p": scene["project"]["id"], "i": [scene["image"]["id"]]},
    )["data"]["annotationReport"]
    assert answer["filename"].endswith(f"_annotations_project{scene['project']['id']}.xlsx")
    assert answer["columns"] == HEADER.split(";")
    assert sorted(user["username"] for user in answer["users"]) == sorted(
        ["admin", drawn["other"]["username"]])  # fmt: skip
    assert [term["name"] for term in answer["terms"]] == ["Tumour", "Stroma"]
    assert answer["rows"] == {"totalCount": 3,
                              "nodes": [{"id": drawn["theirs"], "creator": drawn["other"][
                                  "username"]}]}  # fmt: skip


def test_light_list_is_for_administrators(api, scene, drawn, people):
    big = annotate(api, scene["image"]["id"], "POLYGON ((0 0, 900 0, 900 700, 0 700, 0 0))")
    response = api.get("/api/userannotation.json")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["collection"] == [
        {"id": big, "container": scene["project"]["id"], "url": ""},
        {"id": drawn["square"], "container": scene["project"]["id"], "url": ""},
    ]  # points are left out, largest first
    assert_error(people["user"]["api"].get("/api/userannotation.json"), 403)
    assert_error(people["admin"]["api"].get("/api/userannotation.json"), 403)  # no session
    assert people["admin_session"]["api"].get("/api/userannotation.json").status_code == 200


def test_reviewed_report_reads_the_reviewed_layer_by_reviewer(api, scene, drawn):
    project, image = scene["project"]["id"], scene["image"]["id"]
    assert api.put(f"/api/imageinstance/{image}/review.json").status_code == 200
    copies = {}
    for name in ("square", "theirs"):
        accepted = api.post(f"/api/annotation/{drawn[name]}/review.json", json={})
        assert accepted.status_code == 200, accepted.text
        copies[name] = accepted.json()["reviewedannotation"]["id"]
    every = download(api, project, "reviewedannotation", format="csv", reviewUsers="",
                     terms="", images=image)  # fmt: skip
    assert ids_of(every) == [copies["theirs"], copies["square"]]
    row = every.text.splitlines()[2].split(";")
    assert row[1:5] == ["15000.00", "0.50", "250.00", "200.00"]
    assert row[8] == "Tumour- Stroma" and row[9].endswith(f"/{copies['square']}/crop.png")
    mine = download(api, project, "annotation", format="csv", reviewed="true",
                    users=drawn["admin"], terms="", images=image)  # fmt: skip
    assert ids_of(mine) == [copies["theirs"], copies["square"]]  # reviewed by the admin
    none = download(api, project, "annotation", format="csv", reviewed="true",
                    users=drawn["other"]["id"], terms="", images=image)  # fmt: skip
    assert ids_of(none) == []
    features = download(api, project, "reviewedannotation", format="geojson", reviewUsers="",
                        terms="", images=image).json()["features"]  # fmt: skip
    assert features[1]["properties"]["class"] == "be.cytomine.domain.ontology.ReviewedAnnotation"
