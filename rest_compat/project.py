"""REST routes of projects, their members, representatives and default layers (contract
core.md §9.3–9.6)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from aiohttp import web

from rest_compat.envelopes import (
    Call,
    Envelope,
    bare,
    command,
    error_body,
    items,
    json_response,
    ok,
    page,
    single,
    within,
)
from rest_compat.report_file import Table, attachment, table_file
from rest_compat.routes import Predicate, Route, flag, upper
from rest_compat.shapes import JSON, domain, epoch_ms, epoch_ms_number
from rest_compat.user import user_json

__all__ = ["ROUTES", "project_json"]

project_json = domain("project.Project")
default_layer_json = domain("project.ProjectDefaultLayer")
representative_json = domain("project.ProjectRepresentativeUser")


def _project_list_json(node: JSON) -> JSON:
    """A project of `project.json`, whose `lastActivity` is a number of epoch ms (§6.1) and
    whose `description` (with `withDescription`) is its text, or "" (core.md §9.3)."""
    node = project_json(node)
    if node.get("lastActivity") is not None:
        node["lastActivity"] = epoch_ms_number(node["lastActivity"])
    if "description" in node:
        node["description"] = (node["description"] or {}).get("data") or ""
    return node


def _member_json(node: JSON) -> JSON:
    """A member: the user JSON with its project role, lower-cased as Cytomine writes it, and
    what the `with…` flags asked for (its last image, last connection as a number of epoch
    ms, how many connections; core.md §9.4)."""
    user = user_json(node["user"])
    user["role"] = node["role"].lower()
    if "lastImage" in node:
        user["lastImage"] = node["lastImage"]
    if "lastConnection" in node:
        user["lastConnection"] = epoch_ms_number(node["lastConnection"])
    if "numberConnections" in node:
        user["numberConnections"] = node["numberConnections"]
    return user


def _representative_user_json(node: JSON) -> JSON:
    return user_json(node["user"])


def _opened_json(node: JSON) -> JSON:
    """A last-opened row: `date` is a number of epoch ms (§6.1)."""
    node["date"] = epoch_ms_number(node["date"])
    return node


def _bounds_json(bounds: JSON) -> JSON:
    """Bare min/max pairs; dates as epoch-ms strings, like the project JSON they bound."""
    for key in ("created", "updated"):
        bounds[key] = {end: epoch_ms(value) for end, value in bounds[key].items()}
    return bounds


def _creator(data: Any, call: Call) -> web.StreamResponse:
    """A list holding the creator; 404 when the project records none (§9.4)."""
    found = data["project"]
    if found["creator"] is None:
        message = f"Project creator not found with filters : {{project={found['id']}}}"
        return json_response(error_body(message), status=404)
    return items(user_json)({"creator": [found["creator"]]}, call)


def _partly_done(change: JSON) -> bool:
    return bool(change["failed"] or change["malformed"])


def _membership_batch(verb: str, preposition: str) -> Envelope:
    """200 when every id was handled; else HTTP 206 with a message naming the ids (§9.4)."""

    def body(change: JSON) -> JSON:
        if not _partly_done(change):
            return {"data": {"message": "OK"}, "status": 200}
        failed = [str(i) for i in change["failed"]]
        malformed = change["malformed"]
        message = (f"Cannot {verb} theses users {preposition} the project "
                   f"{change['projectId']} : {','.join(failed)}.")  # fmt: skip
        if malformed:
            message += f" {','.join(malformed)} are not well formatted ids"
        return {"data": {"message": message}, "status": 200}

    return bare(body, status=lambda change: 206 if _partly_done(change) else 200)


def _light(relation: str, when: Predicate | None = None) -> Route:
    return Route("GET", "/api/user/{user:int}/project/light.json", "ProjectsOfUserLight",
                 page(lambda node: node), when=when,
                 fixed={"relation": relation})  # fmt: skip


#: PDF table of a members report: column widths (mm).
_MEMBER_WIDTHS: Final = (80, 120, 80)


def _member_download(data: Any, call: Call) -> web.Response:
    """The report of a project's members as a file (core.md §9.4)."""
    report = data["projectMemberReport"]
    rows = (
        [m["user"]["username"], f"{m['user']['firstname']} {m['user']['lastname']}".strip(),
         m["role"].lower()]
        for m in report["members"]["nodes"]
    )  # fmt: skip
    table = Table(f"Members of project {report['projectName']}", "Members", report["columns"],
                  rows, _MEMBER_WIDTHS)  # fmt: skip
    return attachment(table_file(report["format"], table), report["filename"], report["mediaType"])


_project_command = command("project", "Project", project_json)
_layer_command = command("projectdefaultlayer", "ProjectDefaultLayer", default_layer_json)
_representative_command = command(
    "projectrepresentativeuser", "ProjectRepresentativeUser", representative_json
)
_PROJECT: Final = "/api/project/{project:int}"
_MEMBER: Final = _PROJECT + "/user/{user:int}.json"
_MANAGER: Final = _PROJECT + "/user/{user:int}/admin.json"
_LAYER: Final = _PROJECT + "/defaultlayer/{id:int}.json"
_REPRESENTATIVE: Final = _PROJECT + "/representative/{id:int}.json"
_SORT_NAMES: Final[Mapping[str, str]] = {"sortColumn": "sort", "sortDirection": "order"}
_FLAG_NAMES: Final[Mapping[str, str]] = {
    "withMemberCount": "withMembersCount",
    "withCurrentuserRoles": "withCurrentUserRoles",
}

ROUTES: Final = (
    Route("GET", "/api/project.json", "Projects", page(_project_list_json),
          rename=_FLAG_NAMES),
    Route("POST", "/api/project.json", "ProjectCreate", _project_command, body="input",
          command=True),
    Route("GET", "/api/project/{id:int}.json", "ProjectShow", single(project_json)),
    Route("PUT", "/api/project/{id:int}.json", "ProjectUpdate", _project_command, body="input",
          command=True),
    Route("DELETE", "/api/project/{id:int}.json", "ProjectDelete", _project_command,
          command=True),
    Route("GET", "/api/user/{user:int}/project.json", "ProjectsOfUser",
          page(project_json)),
    _light("CREATOR", flag("creator")),
    _light("MANAGER", flag("admin")),
    _light("MEMBER"),
    Route("GET", "/api/ontology/{ontology:int}/project.json", "ProjectsOfOntology",
          page(project_json)),
    Route("GET", "/api/bounds/project.json", "ProjectBounds", bare(_bounds_json)),
    Route("GET", "/api/project/method/lastopened.json", "ProjectsLastOpened", items(_opened_json)),
    # members
    Route("GET", _PROJECT + "/user.json", "ProjectMembers",
          within("members", page(_member_json)), rename=_SORT_NAMES),
    Route("POST", _PROJECT + "/user.json", "ProjectMembersAdd", _membership_batch("add", "to")),
    Route("DELETE", _PROJECT + "/user.json", "ProjectMembersRemove",
          _membership_batch("remove", "from")),
    Route("GET", _PROJECT + "/user/download", "ProjectMemberReport", _member_download,
          derive=upper("format")),
    Route("GET", _PROJECT + "/admin.json", "ProjectManagers",
          within("managers", page(user_json))),
    Route("GET", _PROJECT + "/users/representative.json", "ProjectRepresentativeUsers",
          within("representatives", items(_representative_user_json))),
    Route("GET", _PROJECT + "/creator.json", "ProjectCreator", _creator),
    Route("GET", _PROJECT + "/userlayer.json", "ProjectUserLayers",
          within("userLayers", items(user_json))),
    Route("POST", _MEMBER, "ProjectMemberAdd", ok()),
    Route("DELETE", _MEMBER, "ProjectMemberRemove", ok()),
    Route("POST", _MANAGER, "ProjectMemberAdd", ok(), fixed={"manager": True}),
    Route("DELETE", _MANAGER, "ProjectMemberRemove", ok(), fixed={"manager": True}),
    Route("POST", _PROJECT + "/invitation.json", "ProjectInvite",
          within("user", single(user_json)), body="input"),
    # default layers
    Route("GET", _PROJECT + "/defaultlayer.json", "ProjectDefaultLayers",
          within("defaultLayers", items(default_layer_json))),
    Route("POST", _PROJECT + "/defaultlayer.json", "ProjectDefaultLayerCreate", _layer_command,
          body="*", command=True),
    Route("GET", _LAYER, "ProjectDefaultLayerShow", single(default_layer_json)),
    Route("PUT", _LAYER, "ProjectDefaultLayerUpdate", _layer_command, body="*", command=True),
    Route("DELETE", _LAYER, "ProjectDefaultLayerDelete", _layer_command, command=True),
    # representatives
    Route("GET", _PROJECT + "/representative.json", "ProjectRepresentatives",
          within("representatives", items(representative_json))),
    Route("POST", _PROJECT + "/representative.json", "ProjectRepresentativeCreate",
          _representative_command, body="*", command=True),
    Route("DELETE", _PROJECT + "/representative.json", "ProjectRepresentativeDelete",
          _representative_command, command=True),
    Route("GET", _REPRESENTATIVE, "ProjectRepresentativeShow", single(representative_json)),
    Route("DELETE", _REPRESENTATIVE, "ProjectRepresentativeDelete", _representative_command,
          command=True),
)  # fmt: skip
