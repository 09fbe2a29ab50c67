"""Fixtures of the gateway's sweeps (test_route_sweep.py, test_field_sweep.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tests.factories import abstract_image, add_image, created, make_ontology, make_project
from tests.harness import Api


@dataclass(frozen=True)
class Scene:
    """A project with a contributor, and what lies in it: the real ids a sweep tries first."""

    member: dict[str, Any]
    #: the project, its image, an annotation, its term, the ontology, the abstract image
    ids: tuple[int, ...]


@pytest.fixture
def scene(api: Api, make_user: Any) -> Scene:
    ontology = make_ontology(api, terms=("a",))
    term = ontology["terms"]["a"]
    member = make_user()
    project = make_project(api, ontology=ontology["id"], users=(member["id"],))
    image = abstract_image(api)
    instance = add_image(api, project["id"], image["id"])
    annotation = created(api.post("/api/annotation.json", json={
        "location": "POLYGON((0 0, 10 0, 10 10, 0 10, 0 0))", "image": instance["id"],
        "term": [term["id"]]}), "annotation")  # fmt: skip
    rows = (project, instance, annotation, term, ontology, image)
    return Scene(member, tuple(int(row["id"]) for row in rows))
