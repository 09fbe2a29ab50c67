"""REST routes of storages and their members (contract core.md §9.7)."""

from __future__ import annotations

from typing import Any, Final

from rest_compat.envelopes import bare, command, items, page, single
from rest_compat.routes import Route
from rest_compat.shapes import JSON, domain
from rest_compat.user import user_json

__all__ = ["ROUTES", "storage_json"]

storage_json = domain("image.server.Storage")


def _ok(_: Any) -> JSON:
    """Membership answers (core.md §3.4)."""
    return {"data": {"message": "OK"}}


_storage_command = command("storage", "Storage", storage_json)
_MEMBER: Final = "/api/storage/{storage:int}/user/{user:int}.json"

ROUTES: Final = (
    Route("GET", "/api/storage.json", "Storages", page(storage_json)),
    Route("POST", "/api/storage.json", "StorageCreate", _storage_command, body="input",
          bulk=True, command=True),
    Route("GET", "/api/storage/{id:int}.json", "StorageShow", single(storage_json)),
    Route("PUT", "/api/storage/{id:int}.json", "StorageUpdate", _storage_command, body="input",
          command=True),
    Route("DELETE", "/api/storage/{id:int}.json", "StorageDelete", _storage_command,
          command=True),
    Route("GET", "/api/storage/{id:int}/user.json", "StorageMembers", items(user_json)),
    Route("POST", _MEMBER, "StorageMemberAdd", bare(_ok)),
    Route("DELETE", _MEMBER, "StorageMemberRemove", bare(_ok)),
)  # fmt: skip
