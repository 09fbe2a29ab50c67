"""REST routes of image instances and slice instances (contract images-annotations.md §2.6–§2.7,
§2.10, §9.4–§9.5): rows of routes and the shapers that give the GraphQL answers Cytomine's JSON.
Their pixel endpoints are the shared pixel rows (rest_compat/pixels.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from aiohttp import web

from rest_compat.envelopes import Call, bare, command, items, page, single, within
from rest_compat.pixels import pixel_routes
from rest_compat.routes import Route, flag
from rest_compat.shapes import JSON, domain, epoch_ms, epoch_ms_number
from schema.common import parse_bool
from schema.pixels import KINDS

__all__ = ["ROUTES", "image_json", "slice_json"]

_image = domain("image.ImageInstance")
slice_json = domain("image.SliceInstance")
REVIEW_DATES: Final = ("reviewStart", "reviewStop")


def image_json(node: JSON) -> JSON:
    """An image instance as Cytomine prints it: the effective calibration at the top level and
    the review state as `inReview`/`reviewed` (§2.6)."""
    node = _image(node)
    node.update(node.pop("calibration"))
    for key in REVIEW_DATES:
        node[key] = epoch_ms(node[key])
    state = node.pop("reviewState")
    node["inReview"], node["reviewed"] = state == "IN_REVIEW", state == "VALIDATED"
    return node


def _image_or_empty(node: JSON | None) -> JSON:
    """`next.json` and `previous.json` answer `{}` when there is none (§2.6)."""
    return {} if node is None else image_json(node)


def _listed(with_image_group: bool) -> Callable[[JSON], JSON]:
    """Rows of the project listing: the domain JSON with `projectBlind`/`projectName` (null
    there), `imageGroup` with `withImageGroup` (no image groups exist: null), and the caller's
    `lastActivity` as a number where they opened the image (the key is absent otherwise)."""

    def shape(node: JSON) -> JSON:
        opened = node.pop("lastActivity", None)
        node = image_json(node)
        node["projectBlind"] = node["projectName"] = None
        if with_image_group:
            node["imageGroup"] = None
        if opened is not None:
            node["lastActivity"] = epoch_ms_number(opened)
        return node

    return shape


def _project_listing(data: Any, call: Call) -> web.StreamResponse:
    return page(_listed(parse_bool(call.query.get("withImageGroup", ""))))(data, call)


def _tree(project: JSON) -> JSON:
    """`tree=true`: the project as a folder of its images (§2.6)."""
    images = project["images"]
    children = [
        {"id": node["id"], "key": node["id"], "title": node["instanceFilename"],
         "isFolder": False, "children": []}
        for node in images["nodes"]
    ]  # fmt: skip
    return {"id": project["id"], "key": project["id"], "title": project["name"],
            "name": project["name"], "isFolder": True, "hideCheckbox": True,
            "size": images["totalCount"], "children": children}  # fmt: skip


def _row(node: JSON) -> JSON:
    """`user/{id}/imageinstance.json`: raw rows, camelCase columns and numeric dates (§2.6)."""
    project = node.pop("project")
    node.update(node.pop("calibrationOverride"))
    for key in ("created", "updated", *REVIEW_DATES):
        node[key] = epoch_ms_number(node[key])
    node.update(
        projectName=project["name"], projectBlind=project["blindMode"],
        reviewUser=node["reviewUserId"], baseImage=node["baseImageId"],
        project=node["projectId"],
    )  # fmt: skip
    return node


def _light_row(node: JSON) -> JSON:
    """`user/{id}/imageinstance/light.json`: `blindedName` only for blind projects,
    `instanceFilename` only where the caller may see it (§2.6)."""
    node["projectName"] = node.pop("projectOf")["name"]
    for key in ("blindedName", "instanceFilename"):
        if node[key] is None:
            del node[key]
    return node


def _opened(node: JSON) -> JSON:
    """`imageinstance/method/lastopened.json` rows, `date` as a number (§2.6)."""
    return {**node["image"], "date": epoch_ms_number(node["date"])}


def _bounds(bounds: JSON) -> JSON:
    """Bounds with dates as epoch-ms numbers and `list` only where it is filled (§2.6)."""
    out: JSON = {}
    for key, found in bounds.items():
        if "list" in found:
            if found["list"] is None:
                del found["list"]
            out[key] = found
        else:
            out[key] = {"min": epoch_ms_number(found["min"]), "max": epoch_ms_number(found["max"])}
    return out


_image_command = command("imageinstance", "ImageInstance", image_json)
_slice_command = command("sliceinstance", "SliceInstance", slice_json)
_PROJECT_IMAGES: Final = "/api/project/{project:int}/imageinstance.json"
_IMAGE: Final = "/api/imageinstance/{id:int}.json"
_SLICE: Final = "/api/sliceinstance/{id:int}.json"

ROUTES: Final = (
    Route("GET", _IMAGE, "ImageInstanceShow", single(image_json)),
    Route("POST", "/api/imageinstance.json", "ImageInstanceCreate", _image_command,
          body="input", bulk=True, command=True),
    Route("PUT", _IMAGE, "ImageInstanceUpdate", _image_command, body="input", command=True),
    Route("DELETE", _IMAGE, "ImageInstanceDelete", _image_command, command=True),
    Route("GET", "/api/imageinstance/{id:int}/next.json", "ImageInstanceNext",
          within("next", single(_image_or_empty))),
    Route("GET", "/api/imageinstance/{id:int}/previous.json", "ImageInstancePrevious",
          within("previous", single(_image_or_empty))),
    Route("GET", "/api/imageinstance/{id:int}/sliceinstance/reference.json",
          "ImageInstanceReferenceSlice", within("referenceSlice", single(slice_json))),
    Route("GET", _PROJECT_IMAGES, "ImageInstancesOfProjectLight", page(lambda node: node),
          when=flag("light")),
    Route("GET", _PROJECT_IMAGES, "ImageInstanceTree", bare(_tree), when=flag("tree")),
    Route("GET", _PROJECT_IMAGES, "ImageInstancesOfProjectWithActivity", _project_listing,
          when=flag("withLastActivity")),
    Route("GET", _PROJECT_IMAGES, "ImageInstancesOfProject", _project_listing),
    Route("GET", "/api/abstractimage/{id:int}/imageinstance.json",
          "ImageInstancesOfAbstractImage", page(image_json)),
    Route("GET", "/api/project/{project:int}/bounds/imageinstance.json", "ImageInstanceBounds",
          bare(_bounds)),
    Route("GET", "/api/imageinstance/method/lastopened.json", "ImageInstancesLastOpened",
          items(_opened)),
    Route("GET", "/api/user/{user:int}/imageinstance.json", "ImageInstancesOfUser", page(_row)),
    Route("GET", "/api/user/{user:int}/imageinstance/light.json", "ImageInstancesOfUserLight",
          page(_light_row)),
    Route("GET", _SLICE, "SliceInstanceShow", single(slice_json)),
    Route("POST", "/api/sliceinstance.json", "SliceInstanceCreate", _slice_command,
          body="input", bulk=True, command=True),
    Route("PUT", _SLICE, "SliceInstanceUpdate", _slice_command, body="input", command=True),
    Route("DELETE", _SLICE, "SliceInstanceDelete", _slice_command, command=True),
    Route("GET", "/api/imageinstance/{id:int}/sliceinstance.json", "SliceInstancesOfImage",
          within("slices", items(slice_json))),
    Route("GET", "/api/imageinstance/{id:int}/{channel:int}/{zStack:int}/{time:int}"
          "/sliceinstance.json", "SliceInstanceAt", single(slice_json)),
    *pixel_routes("imageinstance", "ImageInstancePixels", KINDS["ImageInstance"]),
    *pixel_routes("sliceinstance", "SliceInstancePixels", KINDS["SliceInstance"]),
)  # fmt: skip
