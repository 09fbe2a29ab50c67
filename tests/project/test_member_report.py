"""The report of a project's members (`GET /api/project/{id}/user/download`, contract core.md
§9.4): username, name and role as CSV, XLSX or PDF; READ on the project."""

from __future__ import annotations

import io
from typing import Any

import pytest
import requests
from openpyxl import load_workbook

from tests.factories import make_project
from tests.harness import Api, assert_error

pytestmark = pytest.mark.usefixtures("no_server_error_nor_redirect")


def download(api: Api, project: int, **params: Any) -> requests.Response:
    return api.get(f"/api/project/{project}/user/download", params=params)


@pytest.fixture
def crew(api: Api, make_user: Any) -> dict[str, Any]:
    """A project the admin manages, with `zoe` as contributor and `amy` as manager."""
    zoe, amy = make_user("zoe"), make_user("amy")
    project = make_project(api, users=(zoe["id"],), admins=(amy["id"],))
    return {"project": project["id"], "zoe": zoe, "amy": amy}


def test_csv_lists_members_by_username_with_name_and_role(api, crew):
    admin = api.get("/api/user/current.json").json()
    response = download(api, crew["project"], format="csv")
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/csv")
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment; filename=")
    assert disposition.endswith(f"_users_project{crew['project']}.csv")
    admin_name = f"{admin['firstname']} {admin['lastname']}".strip()
    assert response.content.decode().splitlines() == [
        "Username;Name;Role",
        f"admin;{admin_name};representative",
        "amy;Amy Test;manager",
        "zoe;Zoe Test;contributor",
    ]


def test_workbook_and_pdf(api, crew):
    for kind in ("xls", "XLSX"):
        response = download(api, crew["project"], format=kind)
        assert response.status_code == 200, response.text
        assert response.headers["Content-Disposition"].endswith(".xlsx")
        rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
        assert rows[0] == ("Username", "Name", "Role")
        assert [row[0] for row in rows[1:]] == ["admin", "amy", "zoe"]
    response = download(api, crew["project"], format="pdf")
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")


def test_graphql_report_carries_the_members(api, crew):
    query = """query($id: Long!) { projectMemberReport(projectId: $id, format: CSV) {
        filename columns members { totalCount nodes { role user { username } } } } }"""
    report = api.gql(query, {"id": crew["project"]})["data"]["projectMemberReport"]
    assert report["columns"] == ["Username", "Name", "Role"]
    assert report["members"]["totalCount"] == 3
    assert [n["user"]["username"] for n in report["members"]["nodes"]] == ["admin", "amy", "zoe"]


@pytest.mark.parametrize("params", [{}, {"format": "geojson"}, {"format": "doc"}])
def test_bad_formats_are_400(api, crew, params):
    assert_error(download(api, crew["project"], **params), 400)


def test_only_readers_download_it(api, crew, make_user):
    assert download(crew["zoe"]["api"], crew["project"], format="csv").status_code == 200
    assert_error(download(make_user()["api"], crew["project"], format="csv"), 403)
    assert_error(download(api, 999999999, format="csv"), 404)


def test_workbook_cells_stay_text(api, crew, make_user):
    sly = make_user("sly", firstname="=1+2", lastname="Te\x01st")
    assert api.post(f"/api/project/{crew['project']}/user/{sly['id']}.json").status_code == 200
    response = download(api, crew["project"], format="xlsx")
    assert response.status_code == 200, response.text
    sheet = load_workbook(io.BytesIO(response.content)).active
    [row] = [cells for cells in sheet.iter_rows() if cells[0].value == "sly"]
    assert (row[1].value, row[1].data_type) == ("=1+2 Test", "s")
