"""REST routes of companion files (contract images-annotations.md §2.5, §9.3)."""

from __future__ import annotations

from typing import Final

from rest_compat.envelopes import command, page, single
from rest_compat.pixels import pixel_routes
from rest_compat.routes import Route
from rest_compat.shapes import domain
from rest_compat.user import user_json
from schema.pixels import PixelKind

__all__ = ["ROUTES", "companion_file_json"]

companion_file_json = domain("image.CompanionFile")

_command = command("companionfile", "CompanionFile", companion_file_json)

ROUTES: Final = (
    Route("POST", "/api/companionfile.json", "CompanionFileCreate", _command, body="input",
          bulk=True, command=True),
    Route("GET", "/api/companionfile/{id:int}.json", "CompanionFileShow",
          single(companion_file_json)),
    Route("PUT", "/api/companionfile/{id:int}.json", "CompanionFileUpdate", _command,
          body="input", command=True),
    Route("DELETE", "/api/companionfile/{id:int}.json", "CompanionFileDelete", _command,
          command=True),
    Route("GET", "/api/companionfile/{id:int}/user.json", "CompanionFileUploader",
          single(user_json)),
    Route("GET", "/api/abstractimage/{id:int}/companionfile.json", "CompanionFilesOfImage",
          page(companion_file_json)),
    Route("GET", "/api/uploadedfile/{id:int}/companionfile.json", "CompanionFilesOfFile",
          page(companion_file_json)),
    *pixel_routes("companionfile", "CompanionFilePixels", (PixelKind.DOWNLOAD,)),
)  # fmt: skip
