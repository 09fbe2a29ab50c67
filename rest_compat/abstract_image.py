"""REST routes of abstract images and abstract slices (contract images-annotations.md
§2.3–§2.4, §9.1–§9.2)."""

from __future__ import annotations

from typing import Any, Final

from rest_compat.envelopes import bare, command, page, single
from rest_compat.pixels import pixel_routes
from rest_compat.routes import Route
from rest_compat.shapes import JSON, domain
from rest_compat.user import user_json
from schema.pixels import KINDS

__all__ = ["ROUTES", "abstract_image_json", "abstract_slice_json"]

abstract_image_json = domain("image.AbstractImage")
abstract_slice_json = domain("image.AbstractSlice")


def _server_urls(image: JSON) -> JSON:
    """The legacy `imageservers.json` answer (§2.9)."""
    return {"imageServersURLs": image["imageServerUrls"]}


def _empty(_: Any) -> JSON:
    return {}


_image_command = command("abstractimage", "AbstractImage", abstract_image_json)
_slice_command = command("abstractslice", "AbstractSlice", abstract_slice_json)
_PLANE: Final = (
    "/api/abstractimage/{id:int}/{channel:int}/{zStack:int}/{time:int}/abstractslice.json"
)

ROUTES: Final = (
    Route("GET", "/api/abstractimage.json", "AbstractImages", page(abstract_image_json)),
    Route("GET", "/api/abstractimage/unused.json", "AbstractImages", page(abstract_image_json),
          fixed={"unused": True}),
    Route("POST", "/api/abstractimage.json", "AbstractImageCreate", _image_command, body="input",
          bulk=True, command=True),
    Route("GET", "/api/abstractimage/{id:int}.json", "AbstractImageShow",
          single(abstract_image_json)),
    Route("PUT", "/api/abstractimage/{id:int}.json", "AbstractImageUpdate", _image_command,
          body="input", command=True),
    Route("DELETE", "/api/abstractimage/{id:int}.json", "AbstractImageDelete", _image_command,
          command=True),
    Route("GET", "/api/uploadedfile/{id:int}/abstractimage.json", "AbstractImageOfFile",
          single(abstract_image_json)),
    Route("GET", "/api/abstractimage/{id:int}/user.json", "AbstractImageUploader",
          single(user_json)),
    Route("GET", "/api/abstractimage/{id:int}/imageservers.json", "AbstractImageServers",
          single(_server_urls)),
    Route("POST", "/api/abstractimage/{id:int}/properties/extract.json",
          "AbstractImagePropertiesExtract", bare(_empty), fixed={"deep": False}),
    Route("POST", "/api/abstractimage/{id:int}/properties/regenerate.json",
          "AbstractImagePropertiesExtract", bare(_empty)),
    *pixel_routes("abstractimage", "AbstractImagePixels", KINDS["AbstractImage"]),
    Route("POST", "/api/abstractslice.json", "AbstractSliceCreate", _slice_command,
          body="input", bulk=True, command=True),
    Route("GET", "/api/abstractslice/{id:int}.json", "AbstractSliceShow",
          single(abstract_slice_json)),
    Route("PUT", "/api/abstractslice/{id:int}.json", "AbstractSliceUpdate", _slice_command,
          body="input", command=True),
    Route("DELETE", "/api/abstractslice/{id:int}.json", "AbstractSliceDelete", _slice_command,
          command=True),
    Route("GET", "/api/abstractslice/{id:int}/user.json", "AbstractSliceUploader",
          single(user_json)),
    Route("GET", "/api/abstractimage/{id:int}/abstractslice.json", "AbstractSlicesOfImage",
          page(abstract_slice_json)),
    Route("GET", _PLANE, "AbstractSliceAt", single(abstract_slice_json)),
    Route("GET", "/api/uploadedfile/{id:int}/abstractslice.json", "AbstractSlicesOfFile",
          page(abstract_slice_json)),
    *pixel_routes("abstractslice", "AbstractSlicePixels", KINDS["AbstractSlice"]),
)  # fmt: skip
