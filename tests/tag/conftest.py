"""Tag fixtures: the annotation tests' `scene` (a project and a two-slice image), and helpers
to make tags, draw annotations and tag objects through REST."""

from __future__ import annotations

from typing import Any

import pytest

from tests.annotation.conftest import scene
from tests.factories import created, unique
from tests.harness import Api

__all__ = ["CLASSES", "annotate", "make_tag", "put_tag", "scene"]

#: Simple name → the Java class name associations carry.
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
def make_tag() -> Any:
    """Create a tag through REST as `api`'s user: `make_tag(api, name=None)` → its JSON."""

    def make(api: Api, name: str | None = None) -> dict[str, Any]:
        return created(api.post("/api/tag.json", json={"name": name or unique("tag")}), "tag")

    return make


@pytest.fixture
def put_tag() -> Any:
    """Tag an object through REST: `put_tag(api, class_name, ident, tag_id)` → the
    association's JSON (`class_name` simple or qualified)."""

    def put(api: Api, class_name: str, ident: int, tag_id: int) -> dict[str, Any]:
        qualified = CLASSES.get(class_name, class_name)
        path = f"/api/domain/{qualified}/{ident}/tag_domain_association.json"
        return created(api.post(path, json={"tag": tag_id}), "tagdomainassociation")

    return put


@pytest.fixture
def annotate(scene: dict[str, Any]) -> Any:
    """Draw an annotation on the scene's image through REST: `annotate(api, location=...)`."""

    def draw(api: Api, location: str = "POINT (10 10)") -> dict[str, Any]:
        body = {"location": location, "slice": scene["slices"][0]}
        return created(api.post("/api/annotation.json", json=body), "annotation")

    return draw
