"""`make_*` factories: objects created through REST as a real client would, returning their JSON.

Each factory takes the `Api` to act as, so a test can create objects as any user.
"""

from __future__ import annotations

import itertools
from typing import Any

from tests.harness import Api

_numbers = itertools.count()


def unique(prefix: str) -> str:
    return f"{prefix}-{next(_numbers)}"


def created(response: Any, key: str) -> dict[str, Any]:
    """The object of a command envelope, after checking the call succeeded."""
    assert response.status_code == 200, response.text
    return response.json()[key]  # type: ignore[no-any-return]


def make_ontology(
    api: Api, name: str | None = None, *, terms: tuple[str, ...] = ()
) -> dict[str, Any]:
    """An ontology with `terms` (flat, coloured alike); its JSON gains `terms`: name → term."""
    ontology = created(api.post("/api/ontology.json", json={"name": name or unique("ontology")}),
                       "ontology")  # fmt: skip
    ontology["terms"] = {
        term: created(api.post("/api/term.json", json={"name": term, "color": "#AA0000",
                                                       "ontology": ontology["id"]}), "term")
        for term in terms
    }  # fmt: skip
    return ontology


def make_project(
    api: Api,
    name: str | None = None,
    *,
    ontology: int | None = None,
    users: tuple[int, ...] = (),
    admins: tuple[int, ...] = (),
    **flags: Any,
) -> dict[str, Any]:
    """A project created by the caller of `api`, with contributors `users` and managers
    `admins`; `flags` are project fields such as isReadOnly=True."""
    body = {"name": name or unique("project"), "ontology": ontology, "users": list(users),
            "admins": list(admins), **flags}  # fmt: skip
    return created(api.post("/api/project.json", json=body), "project")
