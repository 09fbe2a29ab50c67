"""REST routes of uploaded files (contract images-annotations.md §2.1, §9.7).

`GET /api/uploadedfile.json` has four modes, the first that applies wins: `root` (a subtree),
`onlyRootsWithDetails` (the storage page), then `all` or the caller's own uploads. The first two
are Cytomine's SQL-built rows: numeric `created`, no `class`.
"""

from __future__ import annotations

from typing import Final

from rest_compat.envelopes import command, page, single
from rest_compat.pixels import pixel_routes
from rest_compat.routes import Route, flag, given
from rest_compat.shapes import JSON, domain, epoch_ms_number
from schema.pixels import PixelKind

__all__ = ["ROUTES", "uploaded_file_json"]

uploaded_file_json = domain("image.UploadedFile")


def _first(nodes: list[JSON]) -> int | None:
    return nodes[0]["id"] if nodes else None


def tree_json(node: JSON) -> JSON:
    """A row of a subtree: the file's first image, slices and first companion file by id."""
    node["created"] = epoch_ms_number(node["created"])
    node["image"] = _first(node.pop("abstractImages"))
    node["slices"] = [piece["id"] for piece in node.pop("abstractSlices")]
    node["companionFile"] = _first(node.pop("companionFiles"))
    return node


def root_json(node: JSON) -> JSON:
    node["created"] = epoch_ms_number(node["created"])
    return node


_file_command = command("uploadedfile", "UploadedFile", uploaded_file_json)

ROUTES: Final = (
    Route("GET", "/api/uploadedfile.json", "UploadedFileTree", page(tree_json), when=given("root")),
    Route("GET", "/api/uploadedfile.json", "UploadedFileRoots", page(root_json),
          when=flag("onlyRootsWithDetails")),
    Route("GET", "/api/uploadedfile.json", "UploadedFiles", page(uploaded_file_json)),
    Route("POST", "/api/uploadedfile.json", "UploadedFileCreate", _file_command, body="input",
          bulk=True, command=True),
    Route("GET", "/api/uploadedfile/{id:int}.json", "UploadedFileShow", single(uploaded_file_json)),
    Route("PUT", "/api/uploadedfile/{id:int}.json", "UploadedFileUpdate", _file_command,
          body="input", command=True),
    Route("DELETE", "/api/uploadedfile/{id:int}.json", "UploadedFileDelete", _file_command,
          command=True),
    *pixel_routes("uploadedfile", "UploadedFilePixels", (PixelKind.DOWNLOAD,)),
)  # fmt: skip
