"""Track fixtures: the annotation tests' `scene` (a project and a two-slice image), and
helpers to draw annotations and make tracks on it through REST."""

from __future__ import annotations

from typing import Any

import pytest

from tests.annotation.conftest import scene  # noqa: F401  (the same scene, not a copy)
from tests.factories import created, unique
from tests.harness import Api


@pytest.fixture
def annotate(scene: dict[str, Any]) -> Any:  # noqa: F811
    """Draw an annotation through REST: `annotate(api, slice_index=0, location=...)` → JSON."""

    def draw(api: Api, slice_index: int = 0, location: str = "POINT (10 10)") -> dict[str, Any]:
        body = {"location": location, "slice": scene["slices"][slice_index]}
        return created(api.post("/api/annotation.json", json=body), "annotation")

    return draw


@pytest.fixture
def make_track(scene: dict[str, Any]) -> Any:  # noqa: F811
    """Create a track on the scene's image through REST: `make_track(api, name=None)`."""

    def make(api: Api, name: str | None = None, color: str = "#ff0000") -> dict[str, Any]:
        body = {"name": name or unique("track"), "color": color, "image": scene["image"]["id"]}
        return created(api.post("/api/track.json", json=body), "track")

    return make
