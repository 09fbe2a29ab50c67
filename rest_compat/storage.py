"""REST routes of storages and uploaded files (contract core.md §9.7, images-annotations.md
§2.1, §9.7)."""

from __future__ import annotations

from typing import Final

from rest_compat.envelopes import command, page, single
from rest_compat.routes import Route
from rest_compat.shapes import domain

__all__ = ["ROUTES", "storage_json", "uploaded_file_json"]

storage_json = domain("image.server.Storage")
uploaded_file_json = domain("image.UploadedFile")

_file_command = command("uploadedfile", "UploadedFile", uploaded_file_json)

ROUTES: Final = (
    Route("GET", "/api/storage.json", "Storages", page(storage_json)),
    Route("GET", "/api/storage/{id:int}.json", "StorageShow", single(storage_json)),
    Route("GET", "/api/uploadedfile/{id:int}.json", "UploadedFileShow", single(uploaded_file_json)),
    Route("POST", "/api/uploadedfile.json", "UploadedFileCreate", _file_command, body="input",
          bulk=True, command=True),
)  # fmt: skip
