"""REST routes of properties, descriptions and attached files (contract core.md §9.10–§9.13).

Property routes exist under `/domain/{class}/{id}/` and, for reads, under `/project/{id}/`,
`/imageinstance/{id}/` and `/annotation/{id}/` (an annotation of either kind). An attached file
arrives as a multipart upload, streamed to disk by the bridge (rest_compat/upload.py), and
leaves as a streamed download with its name and type.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote

from aiohttp import web

from rest_compat.envelopes import (
    NO_STORE,
    Call,
    command,
    error_body,
    items,
    json_response,
    page,
    single,
    within,
)
from rest_compat.routes import Route, flag
from rest_compat.shapes import JSON, domain
from rest_compat.upload import Upload

__all__ = [
    "ROUTES",
    "attached_file_json",
    "content_disposition",
    "description_json",
    "property_json",
]

property_json = domain("meta.Property")
description_json = domain("meta.Description")
attached_file_json = domain("meta.AttachedFile")

_property_command = command("property", "Property", property_json)
_description_command = command("description", "Description", description_json)
_attached_file_command = command("attachedfile", "AttachedFile", attached_file_json)

PROJECT: Final = "be.cytomine.domain.project.Project"
IMAGE: Final = "be.cytomine.domain.image.ImageInstance"
ANY_ANNOTATION: Final = "be.cytomine.domain.ontology.AnnotationDomain"
_DOMAIN: Final = "/api/domain/{domainClassName}/{domainIdent:int}"
#: Shortcuts of the domain paths for reads: path prefix → the class it names.
_SHORTCUTS: Final = (
    ("/api/project/{domainIdent:int}", PROJECT),
    ("/api/imageinstance/{domainIdent:int}", IMAGE),
    ("/api/annotation/{domainIdent:int}", ANY_ANNOTATION),
)
#: Characters a quoted file name keeps in its ASCII fallback (RFC 6266).
_UNSAFE: Final = re.compile(r'[^\x20-\x7e]|["\\]')


def content_disposition(filename: str) -> str:
    """`attachment` with the name as RFC 6266 writes it: an ASCII fallback in quotes, and the
    UTF-8 name percent-encoded in `filename*`."""
    fallback = _UNSAFE.sub("_", filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _download(data: Any, call: Call) -> web.StreamResponse:
    """The attached file's bytes, streamed from disk (a file gone from disk is a 404), as an
    octet stream to save (core.md §9.12): an uploaded page is never shown as this server's."""
    found: JSON = next(iter(data.values()))
    path = Path(found["path"])
    if not path.is_file():
        return json_response(error_body(f"The file {found['filename']} is missing"), 404)
    headers = {
        **NO_STORE,
        "Content-Type": "application/octet-stream",
        "Content-Disposition": content_disposition(found["filename"]),
        "X-Content-Type-Options": "nosniff",
    }
    return web.FileResponse(path, headers=headers)


def _same(node: Any) -> Any:
    return node


def _shortcuts(suffix: str, operation: str, envelope: Any) -> list[Route]:
    return [Route("GET", prefix + suffix, operation, envelope, fixed={"domainClassName": name})
            for prefix, name in _SHORTCUTS]  # fmt: skip


_UPLOAD: Final = Upload("file", "attached")
#: An upload answers the bare file JSON (no command, core.md §9.12).
_uploaded: Final = within("attachedFile", single(attached_file_json))

ROUTES: Final = (
    # properties
    Route("GET", f"{_DOMAIN}/property.json", "PropertiesOfDomain", page(property_json)),
    *_shortcuts("/property.json", "PropertiesOfDomain", page(property_json)),
    Route("GET", f"{_DOMAIN}/property/{{id:int}}.json", "PropertyShow", single(property_json)),
    *_shortcuts("/property/{id:int}.json", "PropertyShow", single(property_json)),
    Route("GET", f"{_DOMAIN}/key/{{key}}/property.json", "PropertyByKey",
          single(property_json)),
    *_shortcuts("/key/{key}/property.json", "PropertyByKey", single(property_json)),
    Route("POST", f"{_DOMAIN}/property.json", "PropertyCreate", _property_command, body="*",
          bulk=True, command=True),
    Route("POST", "/api/property.json", "PropertyCreate", _property_command, body="*",
          command=True),
    Route("PUT", f"{_DOMAIN}/property/{{id:int}}.json", "PropertyUpdate", _property_command,
          body="input", command=True),
    Route("DELETE", f"{_DOMAIN}/property/{{id:int}}.json", "PropertyDelete", _property_command,
          command=True),
    Route("GET", "/api/annotation/property/key.json", "AnnotationPropertyKeys",
          items(lambda node: node["key"]), rename={"idProject": "project", "idImage": "image"}),
    Route("GET", "/api/annotation/property/key.json", "AnnotationPropertyKeysWithUser",
          items(_same), rename={"idProject": "project", "idImage": "image"},
          when=flag("user")),
    Route("GET", "/api/imageinstance/property/key.json", "ImagePropertyKeys", items(_same),
          rename={"idProject": "project"}),
    Route("GET", "/api/user/{user:int}/imageinstance/{image:int}/annotationposition.json",
          "AnnotationPropertyPositions", items(_same)),
    # descriptions
    Route("GET", f"{_DOMAIN}/description.json", "DescriptionShow", single(description_json)),
    Route("POST", f"{_DOMAIN}/description.json", "DescriptionCreate", _description_command,
          body="*", command=True),
    Route("POST", "/api/description.json", "DescriptionCreate", _description_command,
          body="*", command=True),
    Route("PUT", f"{_DOMAIN}/description.json", "DescriptionUpdate", _description_command,
          body="*", command=True),
    Route("DELETE", f"{_DOMAIN}/description.json", "DescriptionDelete", _description_command,
          command=True),
    Route("GET", "/api/description.json", "Descriptions", page(description_json)),
    # attached files
    Route("POST", "/api/attachedfile.json", "AttachedFileCreate", _uploaded, upload=_UPLOAD),
    Route("PUT", "/api/attachedfile.json", "AttachedFileCreate", _uploaded, upload=_UPLOAD),
    Route("GET", "/api/attachedfile.json", "AttachedFiles", page(attached_file_json)),
    Route("GET", "/api/attachedfile/{id:int}.json", "AttachedFileShow",
          single(attached_file_json)),
    Route("GET", "/api/attachedfile/{id:int}/download", "AttachedFileDownload", _download),
    Route("GET", "/api/attachedfile/{id:int}/download.json", "AttachedFileDownload", _download),
    Route("DELETE", "/api/attachedfile/{id:int}.json", "AttachedFileDelete",
          _attached_file_command, command=True),
    Route("GET", f"{_DOMAIN}/attachedfile.json", "AttachedFilesOfDomain",
          page(attached_file_json)),
)  # fmt: skip
