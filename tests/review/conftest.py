"""Review fixtures: the annotation scene (tests/annotation/conftest.py) with a reviewer, a
contributor's annotations, and the image in review."""

from __future__ import annotations

from typing import Any

import pytest

from tests.annotation.conftest import scene
from tests.harness import Api

__all__ = ["reviewing", "scene"]

SQUARES = (
    "POLYGON ((100 100, 100 300, 400 300, 400 100, 100 100))",
    "POLYGON ((500 500, 500 600, 600 600, 600 500, 500 500))",
    "POINT (50 50)",
)


def draw(api: Api, scene: dict[str, Any], location: str, *terms: str) -> dict[str, Any]:
    """A user annotation on the scene's image, drawn by `api`'s user, with these terms."""
    body = {
        "location": location,
        "image": scene["image"]["id"],
        "term": [scene["terms"][name] for name in terms],
    }
    response = api.post("/api/annotation.json", json=body)
    assert response.status_code == 200, response.text
    return response.json()["annotation"]  # type: ignore[no-any-return]


@pytest.fixture
def reviewing(api: Api, scene: dict[str, Any], make_user: Any) -> dict[str, Any]:
    """The scene's project with `contributor` and `reviewer` as members; the contributor drew
    `annotations` (Tumour; Tumour and Stroma; no term); the reviewer (a contributor too)
    started the review of the image. Keys: those of `scene`, plus `contributor`, `reviewer`,
    `annotations`."""
    contributor, reviewer = make_user(), make_user()
    project = scene["project"]["id"]
    for user in (contributor, reviewer):
        added = api.post(f"/api/project/{project}/user/{user['id']}.json")
        assert added.status_code == 200, added.text
    annotations = [
        draw(contributor["api"], scene, SQUARES[0], "Tumour"),
        draw(contributor["api"], scene, SQUARES[1], "Tumour", "Stroma"),
        draw(contributor["api"], scene, SQUARES[2]),
    ]
    started = reviewer["api"].put(f"/api/imageinstance/{scene['image']['id']}/review.json")
    assert started.status_code == 200, started.text
    return {**scene, "contributor": contributor, "reviewer": reviewer, "annotations": annotations}
