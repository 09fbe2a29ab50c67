"""REST routes of storages and their members (contract core.md §9.7)."""

from __future__ import annotations

from typing import Final

from rest_compat.envelopes import command, items, ok, page, single
from rest_compat.routes import Route
from rest_compat.shapes import domain
from rest_compat.user import user_json

__all__ = ["ROUTES", "storage_json"]

storage_json = domain("image.server.Storage")


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
    Route("POST", _MEMBER, "StorageMemberAdd", ok()),
    Route("DELETE", _MEMBER, "StorageMemberRemove", ok()),
)  # fmt: skip
