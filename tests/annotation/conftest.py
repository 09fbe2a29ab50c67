"""Annotation fixtures: a project with an ontology and an image to draw on."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import abstract_image, add_image, make_ontology, make_project
from tests.harness import Api


@pytest.fixture
def scene(api: Api) -> dict[str, Any]:
    """A project (ontology with terms Tumour, Stroma) holding one 1000×800 image calibrated at
    0.5 µm/px with two slices; keys `project`, `ontology`, `terms` (name → id), `image`,
    `slices` (the instance's slice ids, by z)."""
    ontology = make_ontology(api, terms=("Tumour", "Stroma"))
    project = make_project(api, ontology=ontology["id"])
    base = abstract_image(api, slices=2, width=1000, height=800, physicalSizeX=0.5)
    image = add_image(api, project["id"], base["id"])
    slices = api.get(f"/api/imageinstance/{image['id']}/sliceinstance.json").json()["collection"]
    return {
        "project": project,
        "ontology": ontology,
        "terms": {name: term["id"] for name, term in ontology["terms"].items()},
        "image": image,
        "slices": [s["id"] for s in slices],
    }


@pytest.fixture
def big(api: Api, scene: dict[str, Any]) -> dict[str, Any]:
    """An uncalibrated 20 000 px square image in the scene's project (areas in px²)."""
    base = abstract_image(api, width=20000, height=20000, physicalSizeX=None)
    return add_image(api, scene["project"]["id"], base["id"])
