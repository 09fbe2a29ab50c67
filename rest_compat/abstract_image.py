"""REST routes of abstract images and abstract slices (contract images-annotations.md §2.3–§2.4,
§9.1–§9.2)."""

from __future__ import annotations

from typing import Final

from rest_compat.envelopes import command, single
from rest_compat.routes import Route
from rest_compat.shapes import domain

__all__ = ["ROUTES", "abstract_image_json", "abstract_slice_json"]

abstract_image_json = domain("image.AbstractImage")
abstract_slice_json = domain("image.AbstractSlice")

_image_command = command("abstractimage", "AbstractImage", abstract_image_json)
_slice_command = command("abstractslice", "AbstractSlice", abstract_slice_json)

ROUTES: Final = (
    Route("GET", "/api/abstractimage/{id:int}.json", "AbstractImageShow",
          single(abstract_image_json)),
    Route("POST", "/api/abstractimage.json", "AbstractImageCreate", _image_command, body="input",
          command=True),
    Route("GET", "/api/abstractslice/{id:int}.json", "AbstractSliceShow",
          single(abstract_slice_json)),
    Route("POST", "/api/abstractslice.json", "AbstractSliceCreate", _slice_command,
          body="input", bulk=True, command=True),
)  # fmt: skip
