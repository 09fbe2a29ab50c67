"""REST routes of the image server and of every pixel endpoint (decision 8, contract
images-annotations.md §2.9–§2.10, §9.6).

A pixel endpoint runs its area's `<Area>Pixels` operation: the object's checks (404, 403, bad
parameters) come first, then the image server is needed (503 while none is configured). Past
that, the answer would be the image server's bytes relayed as they come; cytogate does not
relay yet, so `relay` says so with a 501, never a 500 nor a redirect. The relay belongs here:
bytes are an HTTP matter, and GraphQL only describes the request.

`pixel_routes` makes an object's rows from the kinds it serves; image instances and slice
instances use it too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

from aiohttp import web

from rest_compat.envelopes import Call, error_body, items, json_response, page, single
from rest_compat.routes import Route
from rest_compat.shapes import JSON, domain
from schema.pixels import PixelKind

__all__ = ["PIXEL_PATHS", "ROUTES", "image_server_json", "pixel_routes", "relay"]

image_server_json = domain("image.server.ImageServer")

#: Each kind's path under its object, and whether POST serves it as GET does (§2.10).
PIXEL_PATHS: Final[Mapping[PixelKind, tuple[str, bool]]] = {
    PixelKind.THUMB: ("thumb.{format}", True),
    PixelKind.PREVIEW: ("preview.{format}", True),
    PixelKind.ASSOCIATED_LABELS: ("associated.json", False),
    PixelKind.ASSOCIATED: ("associated/{label}.{format}", True),
    PixelKind.CROP: ("crop.{format}", True),
    PixelKind.MASK: ("mask.{format}", True),
    PixelKind.ALPHA_MASK: ("alphamask.{format}", True),
    PixelKind.WINDOW: ("window-{x:int}-{y:int}-{width:int}-{height:int}.{format}", True),
    PixelKind.CAMERA: ("camera-{x:int}-{y:int}-{width:int}-{height:int}.{format}", True),
    PixelKind.NORMALIZED_TILE: (
        "normalized-tile/zoom/{zoom:int}/tx/{tx:int}/ty/{ty:int}.{format}",
        False,
    ),
    PixelKind.METADATA: ("metadata.json", False),
    PixelKind.DOWNLOAD: ("download", False),
    PixelKind.HISTOGRAM: ("histogram.json", False),
    PixelKind.HISTOGRAM_BOUNDS: ("histogram/bounds.json", False),
    PixelKind.CHANNEL_HISTOGRAM: ("channelhistogram.json", False),
    PixelKind.CHANNEL_HISTOGRAM_BOUNDS: ("channelhistogram/bounds.json", False),
}


def relay(data: Any, call: Call) -> web.Response:
    """The answer once the image server is known: its bytes, relayed. Not done yet: 501."""
    request: JSON = next(iter(next(iter(data.values())).values()))
    url = request["server"]["url"]
    message = (
        f"cytogate does not relay {request['kind'].lower().replace('_', ' ')} requests to the "
        f"image server at {url} yet"
    )
    return json_response(error_body(message), status=501, headers=call.headers)


def pixel_routes(resource: str, operation: str, kinds: Iterable[PixelKind]) -> tuple[Route, ...]:
    """The pixel endpoints of `/api/<resource>/{id}/…` for `kinds`, each running `operation`
    with its kind fixed."""
    rows: list[Route] = []
    for kind in sorted(kinds, key=lambda kind: kind.name):
        tail, posted = PIXEL_PATHS[kind]
        path = f"/api/{resource}/{{id:int}}/{tail}"
        fixed = {"kind": kind.name}
        for method in ("GET", "POST") if posted else ("GET",):
            rows.append(Route(method, path, operation, relay, fixed=fixed))
    return tuple(rows)


ROUTES: Final = (
    Route("GET", "/api/imageserver.json", "ImageServers", page(image_server_json)),
    Route("GET", "/api/imageserver/{id:int}.json", "ImageServerShow", single(image_server_json)),
    Route("GET", "/api/imageserver/format.json", "ImageServerFormats",
          items(lambda node: node)),
)  # fmt: skip
