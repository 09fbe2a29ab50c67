"""Report files (rest_compat/report_file.py, resolvers/annotation/report.py): what a report
names must be readable by who asks for it, and writing its file stays cheap whatever the
cells hold."""

from __future__ import annotations

import time
from typing import Any

import pytest
from fpdf import FPDF

from rest_compat import report_file
from tests.factories import created, make_ontology

pytestmark = pytest.mark.usefixtures("no_server_error_nor_redirect")

REPORT = """query($p: Long!, $i: [Long!]!, $t: [Long!]!) {
  annotationReport(project: $p, format: CSV, users: [], terms: $t, images: $i) {
    terms { id name ontology { name } } rows { totalCount } } }"""


def test_a_report_names_no_term_of_an_ontology_the_caller_cannot_read(api, scene, make_user):
    """A term id of another ontology selects no annotation of the project; its name (and its
    ontology, through GraphQL) is not the caller's to read, so the report does not name it."""
    project, image = scene["project"]["id"], scene["image"]["id"]
    member = make_user()
    assert api.post(f"/api/project/{project}/user/{member['id']}.json").status_code == 200
    created(member["api"].post("/api/annotation.json", json={
        "location": "POINT (5 5)", "image": image, "term": [scene["terms"]["Tumour"]]}),
        "annotation")  # fmt: skip
    secret = make_ontology(api, "Secret ontology", terms=("Hidden term",))
    hidden = secret["terms"]["Hidden term"]["id"]
    assert member["api"].get(f"/api/term/{hidden}.json").status_code == 403

    tumour = scene["terms"]["Tumour"]
    variables = {"p": project, "i": [image], "t": [hidden, tumour]}
    answer = member["api"].gql(REPORT, variables)
    assert "errors" not in answer, answer
    report = answer["data"]["annotationReport"]
    assert report["terms"] == [{"id": tumour, "name": "Tumour",
                                "ontology": {"name": scene["ontology"]["name"]}}]  # fmt: skip
    assert report["rows"]["totalCount"] == 1
    only_hidden = member["api"].gql(REPORT, {**variables, "t": [hidden]})
    assert only_hidden["data"]["annotationReport"] == {"terms": [], "rows": {"totalCount": 0}}


def test_a_pdf_cell_is_cut_in_few_measures(monkeypatch):
    """A cell's text is cut to its column by halving, not a character at a time: an
    annotation with many long term names made a PDF report take minutes of CPU."""
    pdf = FPDF(orientation="L", format="A4")
    pdf.add_page()
    pdf.set_font("Helvetica", "", report_file.PDF_FONT)
    measures = 0
    original = FPDF.get_string_width

    def counted(self: FPDF, text: str, *args: Any, **kw: Any) -> float:
        nonlocal measures
        measures += 1
        return original(self, text, *args, **kw)

    monkeypatch.setattr(FPDF, "get_string_width", counted)
    started = time.monotonic()
    cut = report_file._fitted(pdf, "Tumour- " * 25_000, 63)
    assert measures < 40 and time.monotonic() - started < 5
    assert cut.endswith("...") and "Tumour- ".startswith(cut[:8])
    assert original(pdf, cut) <= 62 < original(pdf, cut[:-3] + "T...")
    assert report_file._fitted(pdf, "short", 63) == "short"
    assert report_file._fitted(pdf, "W" * 10, 1) == "..."
