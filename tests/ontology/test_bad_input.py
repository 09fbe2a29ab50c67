"""Bad input to the ontology, term and relation-term routes: a clear 4xx JSON error, nothing
changed, never a 5xx (DESIGN.md "Security")."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import make_ontology
from tests.harness import assert_error, assert_partial

pytestmark = pytest.mark.usefixtures("no_server_error_nor_redirect")

HUGE = 99999999999999999999999


def cases(ontology: int, a: int, b: int) -> list[Any]:
    """(method, path, request keywords, status) for each bad request."""
    term = {"name": "x", "color": "#000", "ontology": ontology}
    return [
        ("POST", "/api/ontology.json", {"json": {"name": ""}}, 400),
        ("POST", "/api/ontology.json", {"json": {"name": "   "}}, 400),
        ("POST", "/api/ontology.json", {"json": {"name": "n" * 300}}, 400),
        ("POST", "/api/ontology.json", {"json": {"name": {"x": 1}}}, 400),
        ("POST", "/api/ontology.json", {"json": {"name": ["x"]}}, 400),
        ("POST", "/api/ontology.json", {"json": {"name": "x\u0000y"}}, 400),
        ("POST", "/api/ontology.json", {"data": "{not json"}, 400),
        ("POST", "/api/ontology.json", {"data": ""}, 400),
        ("POST", "/api/ontology.json", {"json": "a string"}, 400),
        ("PUT", f"/api/ontology/{ontology}.json", {"json": {"name": ""}}, 400),
        ("PUT", f"/api/ontology/{ontology}.json", {"json": {"id": ontology + 1, "name": "y"}}, 400),
        ("PUT", f"/api/ontology/{ontology}.json", {"data": "[1, 2]"}, 400),
        ("PUT", f"/api/ontology/{HUGE}.json", {"json": {"name": "y"}}, 400),
        ("GET", f"/api/ontology/{HUGE}.json", {}, 400),
        ("DELETE", f"/api/ontology/{HUGE}.json", {}, 400),
        ("DELETE", "/api/ontology/999999999.json", {}, 404),
        ("GET", f"/api/ontology/{HUGE}/user.json", {}, 400),
        ("GET", f"/api/ontology/{HUGE}/term.json", {}, 400),
        ("GET", f"/api/ontology/{ontology}/term.json", {"params": {"max": -1}}, 400),
        ("GET", "/api/ontology.json", {"params": {"offset": "abc"}}, 400),
        ("POST", "/api/term.json", {"json": {**term, "ontology": None}}, 400),
        ("POST", "/api/term.json", {"json": {**term, "ontology": "abc"}}, 400),
        ("POST", "/api/term.json", {"json": {**term, "ontology": HUGE}}, 400),
        ("POST", "/api/term.json", {"json": {**term, "ontology": -1}}, 404),
        ("POST", "/api/term.json", {"json": {**term, "ontology": {"id": ontology}}}, 400),
        ("POST", "/api/term.json", {"json": {**term, "name": ""}}, 400),
        ("POST", "/api/term.json", {"json": {**term, "name": "n" * 300}}, 400),
        ("POST", "/api/term.json", {"json": {**term, "color": ""}}, 400),
        ("POST", "/api/term.json", {"json": {**term, "color": "c" * 100}}, 400),
        ("POST", "/api/term.json", {"json": {**term, "color": ["#000"]}}, 400),
        ("POST", "/api/term.json", {"json": {**term, "comment": "c" * 10_001}}, 400),
        ("POST", "/api/term.json", {"json": {**term, "comment": "x\u0000"}}, 400),
        ("POST", "/api/term.json", {"json": {**term, "parent": HUGE}}, 400),
        ("POST", "/api/term.json", {"json": {**term, "parent": 999999999}}, 400),
        ("POST", "/api/term.json", {"json": {**term, "name": " A "}}, 409),
        ("PUT", f"/api/term/{a}.json", {"json": {**term, "name": "B"}}, 409),
        ("PUT", f"/api/term/{a}.json", {"json": {**term, "ontology": 999999999}}, 404),
        ("PUT", f"/api/term/{a}.json", {"json": {**term, "id": b}}, 400),
        ("PUT", f"/api/term/{HUGE}.json", {"json": term}, 400),
        ("GET", f"/api/term/{HUGE}.json", {}, 400),
        ("DELETE", "/api/term/999999999.json", {}, 404),
        ("POST", "/api/relation/parent/term.json", {"json": {"term1": a, "term2": HUGE}}, 400),
        ("POST", "/api/relation/parent/term.json", {"json": {"term1": "abc", "term2": b}}, 400),
        ("POST", "/api/relation/parent/term.json", {"json": {"term1": [a], "term2": b}}, 400),
        ("POST", "/api/relation/parent/term.json", {"json": [a, b]}, 400),
        ("POST", "/api/relation/999999/term.json", {"json": {"term1": a, "term2": b}}, 404),
        ("POST", f"/api/relation/{HUGE}/term.json", {"json": {"term1": a, "term2": b}}, 400),
        ("GET", f"/api/relation/parent/term1/{a}/term2/{HUGE}.json", {}, 400),
        ("DELETE", f"/api/relation/parent/term1/{a}/term2/{b}.json", {}, 404),
        ("GET", f"/api/relation/term/{HUGE}.json", {}, 400),
        ("GET", f"/api/relation/term/3000000000/{a}.json", {}, 400),
        ("GET", f"/api/relation/{HUGE}.json", {}, 400),
    ]  # fmt: skip


def test_bad_input_is_a_4xx_and_changes_nothing(api):
    ontology = make_ontology(api, "kept", terms=("A", "B"))
    a, b = ontology["terms"]["A"]["id"], ontology["terms"]["B"]["id"]
    for method, path, keywords, status in cases(ontology["id"], a, b):
        assert_error(api.request(method, path, **keywords), status)
    assert [o["name"] for o in api.get("/api/ontology.json").json()["collection"]] == ["kept"]
    terms = api.get(f"/api/ontology/{ontology['id']}/term.json").json()["collection"]
    assert [(t["name"], t["color"], t["parent"]) for t in terms] == [
        ("A", "#AA0000", None), ("B", "#AA0000", None)]  # fmt: skip
    assert api.get(f"/api/relation/term/{a}.json").json()["collection"] == []


def test_bulk_term_create_reports_each_element(api):
    ontology = make_ontology(api, terms=("A",))
    body = [{"name": "ok", "color": "#000", "ontology": ontology["id"]},
            {"name": "A", "color": "#000", "ontology": ontology["id"]}, "nonsense",
            {"name": "no colour", "ontology": ontology["id"]}]  # fmt: skip
    assert_partial(api.post("/api/term.json", json=body), errors=3)
    listed = api.get(f"/api/ontology/{ontology['id']}/term.json").json()["collection"]
    assert [t["name"] for t in listed] == ["A", "ok"]
