"""Activity fixtures: the annotation tests' `scene` (a project and a two-slice 1000×800 image),
and helpers to record activity through REST."""

from __future__ import annotations

import asyncio
from typing import Any

from gateway.app import ACTIVITY
from tests.annotation.conftest import scene
from tests.harness import Api, Server

__all__ = ["VIEWPORT", "flush", "ok", "scene", "viewport"]

#: A viewport of 200×100 pixels around (150, 250).
VIEWPORT = {
    "topLeftX": 50, "topLeftY": 300, "topRightX": 250, "topRightY": 300,
    "bottomRightX": 250, "bottomRightY": 200, "bottomLeftX": 50, "bottomLeftY": 200,
}  # fmt: skip


def ok(response: Any) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


def viewport(**changes: Any) -> dict[str, Any]:
    return {**VIEWPORT, **changes}


def flush(server: Server) -> int:
    """Write the activity records the server has queued (its upkeep task does it every half
    second; reads of activity do it first)."""
    recorder = server.app[ACTIVITY]
    return asyncio.run_coroutine_threadsafe(recorder.flush(), server.loop).result(30)


def open_project(api: Api, project: int, **body: Any) -> dict[str, Any]:
    return ok(api.post(f"/api/project/{project}/userconnection.json", json=body))  # type: ignore[no-any-return]
