"""REST routes of projects and their members (contract core.md §9.3–9.6)."""

from __future__ import annotations

from typing import Any, Final

from rest_compat.envelopes import bare, command, page, single
from rest_compat.routes import Route
from rest_compat.shapes import JSON, domain

__all__ = ["ROUTES", "project_json"]

project_json = domain("project.Project")


def _ok(_: Any) -> JSON:
    """Membership answers (§3.4)."""
    return {"data": {"message": "OK"}}


_project_command = command("project", "Project", project_json)
_MEMBER: Final = "/api/project/{project:int}/user/{user:int}.json"
_MANAGER: Final = "/api/project/{project:int}/user/{user:int}/admin.json"

ROUTES: Final = (
    Route("GET", "/api/project.json", "Projects", page(project_json)),
    Route("POST", "/api/project.json", "ProjectCreate", _project_command, body="input",
          command=True),
    Route("GET", "/api/project/{id:int}.json", "ProjectShow", single(project_json)),
    Route("PUT", "/api/project/{id:int}.json", "ProjectUpdate", _project_command, body="input",
          command=True),
    Route("DELETE", "/api/project/{id:int}.json", "ProjectDelete", _project_command,
          command=True),
    Route("GET", "/api/user/{user:int}/project.json", "ProjectsOfUser", page(project_json)),
    Route("GET", "/api/ontology/{ontology:int}/project.json", "ProjectsOfOntology",
          page(project_json)),
    Route("POST", _MEMBER, "ProjectMemberAdd", bare(_ok)),
    Route("DELETE", _MEMBER, "ProjectMemberRemove", bare(_ok)),
    Route("POST", _MANAGER, "ProjectMemberAdd", bare(_ok), fixed={"manager": True}),
    Route("DELETE", _MANAGER, "ProjectMemberRemove", bare(_ok), fixed={"manager": True}),
)  # fmt: skip
