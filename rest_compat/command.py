"""REST routes of the command history, deleted objects, undo and redo (contract core.md §8).

`commandhistory.json` is a bare array whose `created` is a number; `last/{max}.json` lists
CommandHistory objects; undo and redo answer a list envelope of command envelopes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import orjson
from aiohttp import web

from rest_compat.envelopes import Call, array, json_response, page
from rest_compat.routes import Route
from rest_compat.shapes import CLASS_PREFIX, JSON, epoch_ms, epoch_ms_number, snapshot_json

__all__ = ["ROUTES"]

VERBS: Final = {"ADD": "Add", "EDIT": "Edit", "DELETE": "Delete"}


def _history_row(node: JSON) -> JSON:
    """A `commandhistory.json` row; with fullData, the command's details too."""
    row: JSON = {"id": node["id"], "created": epoch_ms_number(node["created"]),
                 "message": node["message"], "prefix": "", "prefixAction": node["prefixAction"],
                 "user": node["user"], "project": node["project"]}  # fmt: skip
    command = node.get("command")
    if command is not None:
        row.update(
            data=orjson.dumps(command["data"]).decode(),
            serviceName=command["serviceName"],
            className=f"{CLASS_PREFIX}command.{VERBS[command['type']]}Command",
            action=command["action"],
        )
    return row


def command_json(node: JSON) -> JSON:
    """A command object (`AddCommand`, `EditCommand`, `DeleteCommand`)."""
    simple = f"{VERBS[node['type']]}Command"
    return {"class": f"{CLASS_PREFIX}command.{simple}", "id": node["id"],
            "created": epoch_ms(node["created"]), "updated": epoch_ms(node["updated"]),
            "CLASSNAME": simple, "serviceName": node["serviceName"], "action": node["action"],
            "data": orjson.dumps(node["data"]).decode(), "user": node["user"],
            "type": node["type"]}  # fmt: skip


def _history_object(node: JSON) -> JSON:
    created = epoch_ms(node["created"])
    return {"class": f"{CLASS_PREFIX}command.CommandHistory", "id": node["id"],
            "created": created, "updated": created, "prefixAction": node["prefixAction"],
            "user": node["user"], "command": command_json(node["command"])}  # fmt: skip


def _replayed(nothing: str) -> Callable[[Any, Call], web.Response]:
    """Undo/redo: one command envelope per replayed command, or the "nothing to do" item."""

    def envelope(data: Any, call: Call) -> web.Response:
        replayed: list[JSON] = next(iter(data.values()))
        collection: list[JSON] = []
        for node in replayed:
            domain = node["domain"]
            key = domain.lower()
            obj = snapshot_json(domain, dict(node["data"]))
            method = f"be.cytomine.{VERBS[node['action']]}{domain}Command"
            collection.append({"message": node["message"], "printMessage": True,
                               "callback": {"method": method, f"{key}ID": str(obj["id"])},
                               key: obj})  # fmt: skip
        if not collection:
            collection = [{"success": True, "message": nothing, "callback": None,
                           "printMessage": True}]  # fmt: skip
        size = len(collection)
        return json_response({"collection": collection, "offset": 0, "perPage": size,
                              "size": size, "totalPages": 1})  # fmt: skip

    return envelope


_undo = _replayed("Nothing to undo")
_redo = _replayed("Nothing to redo")

ROUTES: Final = (
    Route("GET", "/api/commandhistory.json", "CommandHistory", array(_history_row)),
    Route("GET", "/api/project/{project:int}/commandhistory.json", "CommandHistory",
          array(_history_row)),
    Route("GET", "/api/project/{project:int}/last/{count:int}.json", "LastCommands",
          page(_history_object)),
    Route("GET", "/api/deletecommand.json", "DeletedCommands", page(command_json)),
    *(
        Route("GET", f"{prefix}/command{one}/{verb}.json", operation, envelope)
        for prefix in ("/api", "")
        for one in ("", "/{id:int}")
        for verb, operation, envelope in (("undo", "Undo", _undo), ("redo", "Redo", _redo))
    ),
)  # fmt: skip
