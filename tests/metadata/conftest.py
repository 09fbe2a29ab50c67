"""Metadata fixtures: the annotation tests' `scene` (a project and a two-slice image), and
helpers to draw annotations and to upload files through REST."""

from __future__ import annotations

from typing import Any

import pytest

from tests.annotation.conftest import scene
from tests.factories import created
from tests.harness import Api, http_date, signature

__all__ = ["CLASSES", "annotate", "scene", "upload"]

#: Simple name → the Java class name metadata carries.
CLASSES = {
    name: f"be.cytomine.domain.{package}.{name}"
    for package, name in (
        ("project", "Project"),
        ("image", "ImageInstance"),
        ("image", "AbstractImage"),
        ("image", "SliceInstance"),
        ("ontology", "Track"),
        ("ontology", "UserAnnotation"),
        ("ontology", "ReviewedAnnotation"),
    )
}


@pytest.fixture
def annotate(scene: dict[str, Any]) -> Any:
    """Draw an annotation on the scene's image through REST: `annotate(api, location=...)`."""

    def draw(api: Api, location: str = "POINT (10 10)") -> dict[str, Any]:
        body = {"location": location, "slice": scene["slices"][0]}
        return created(api.post("/api/annotation.json", json=body), "annotation")

    return draw


def upload(
    api: Api,
    content: bytes,
    *,
    name: str = "notes.txt",
    params: dict[str, Any] | None = None,
    method: str = "POST",
    part_type: str | None = None,
) -> Any:
    """A multipart upload to `/api/attachedfile.json` signed as `api`'s user, the file in a
    part named `files[]` (as the python client sends it); the raw response."""
    import requests

    files = {"files[]": (name, content) if part_type is None else (name, content, part_type)}
    prepared = requests.Request(method, api.base + "/api/attachedfile.json", files=files,
                                params=params).prepare()  # fmt: skip
    date = http_date()
    content_type = prepared.headers["Content-Type"]
    prepared.headers["date"] = date
    if api.public_key and api.private_key:
        canonical = f"{method}\n\n{content_type}\n{date}"
        prepared.headers["authorization"] = (
            f"CYTOMINE {api.public_key}:{signature(api.private_key, canonical)}"
        )
    return api.session.send(prepared, allow_redirects=False, timeout=60)
