"""REST routes of the image server and of every pixel endpoint (decision 8, contract
images-annotations.md §2.9–§2.10, §9.6).

A pixel endpoint runs its area's `<Area>Pixels` operation: the object's checks (404, 403, bad
parameters) come first and its answer describes the request. Then `answer` serves it, outside
GraphQL because pixels are bytes:

- the request's database connection goes back to the pool (`Lease.release`): nothing below
  reads the database, and a render must not hold a connection;
- with an external image server configured, the request is relayed to it (`imaging.relay`),
  its turn of the pixel gate given back first (rest_compat/pixel_gate.py);
- otherwise the built-in server answers: the render job is planned from the query (a 400 at
  once for what no render can honour), its ETag decided before any pixel is read (304 without
  work), and the bytes come from the cache, an identical render in flight, or the render pool.

`pixel_routes` makes an object's rows from the kinds it serves; image instances and slice
instances use it too. Their operations' answers are reused (`Route.reuse`, kept in the
bridge's `checked` memo): a viewer's next tiles of a slice skip GraphQL and the database.
That memo forgets everything when this process commits a write to a table the checks read
(`CHECKED_TABLES`), and keeps nothing longer than `CYTOGATE_PIXEL_CHECK_SECONDS` (5 s by
default): a change made by another process (a member removed, an image deleted) reaches a
viewer's pixels within that bound. It is safe because pixels are read-only, and a browser keeps
the pixels it has already fetched for a day (`Cache-Control` below) whatever the server
decides later: the bound only extends that by a few seconds of new tiles of a slice the viewer
was just allowed to read. Annotation crops are not reused: their geometry changes with every
edit, and a crop costs a render anyway.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any, Final

from aiohttp import web

from imaging.errors import PixelError
from imaging.operations import PixelQuery, plan
from imaging.relay import relay_request
from imaging.render import MEDIA_TYPES
from imaging.service import etag_of
from resolvers.context import Context
from rest_compat.envelopes import Call, error_body, items, json_response, page, single
from rest_compat.pixel_gate import TURN
from rest_compat.routes import Route
from rest_compat.shapes import JSON, domain
from schema.pixels import PixelKind

__all__ = [
    "AUTH_PARAM",
    "CACHED",
    "CHECKED_TABLES",
    "PIXEL_PATHS",
    "ROUTES",
    "answer",
    "image_server_json",
    "pixel_routes",
]

#: Sent with every pixel answer (PIXELS.md §1): browsers and the viewer revalidate with the ETag.
CACHED: Final = {"Cache-Control": "private, must-revalidate, max-age=86400"}
#: Kinds answered with JSON (histograms by the name `imaging.histogram.shaped` knows them).
_HISTOGRAMS: Final = {
    "HISTOGRAM": ("image", "plane"),
    "HISTOGRAM_BOUNDS": ("image-bounds", "plane-bounds"),
    "CHANNEL_HISTOGRAM": ("channels", "channels"),
    "CHANNEL_HISTOGRAM_BOUNDS": ("channels-bounds", "channels-bounds"),
}
_INTS: Final = ("x", "y", "width", "height", "zoom", "tx", "ty")

image_server_json = domain("image.server.ImageServer")

#: The tables a pixel route's checks and description read (the viewer, their roles and
#: memberships, the project's modes, the object and its file): a write to one of them in this
#: process makes every reused answer stale at once.
CHECKED_TABLES: Final = frozenset((
    "sec_user", "sec_role", "sec_user_sec_role", "admin_session", "auth_token", "acl_entry",
    "project", "storage", "image_server", "uploaded_file", "companion_file", "abstract_image",
    "abstract_slice", "image_instance", "slice_instance",
))  # fmt: skip
#: The pixel routes that read a bearer token from the query parameter `auth` as well as from
#: `Authorization`, being `<img>` sources (images-annotations.md §2.10, §3.14).
AUTH_PARAM: Final[Mapping[str, frozenset[PixelKind]]] = {
    "abstractimage": frozenset((PixelKind.THUMB, PixelKind.DOWNLOAD)),
    "imageinstance": frozenset((PixelKind.THUMB, PixelKind.DOWNLOAD)),
    "userannotation": frozenset((PixelKind.CROP,)),
}

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


def _collection(values: list[Any]) -> JSON:
    return {"collection": values, "size": len(values), "offset": 0, "perPage": len(values),
            "totalPages": 1}  # fmt: skip


def _pixel_query(request: JSON, call: Call, http: web.Request) -> PixelQuery:
    path = call.path
    numbers = {name: int(path[name]) for name in _INTS if path.get(name) is not None}
    safe = http.headers.get("X-Image-Size-Safety", "").upper() == "SAFE_RESIZE" or (
        call.query.get("safe", "").lower() == "true"
    )
    return PixelQuery(request["kind"], request["format"], call.query, path.get("label"),
                      geometry=request.get("geometry"), safe=safe, **numbers)  # fmt: skip


def _not_modified(http: web.Request, etag: str) -> bool:
    sent = http.headers.get("If-None-Match", "")
    return etag in (tag.strip() for tag in sent.split(",")) or sent.strip() == "*"


def _sliced(http: web.Request) -> bool:
    """Asked of a slice (`/api/abstractslice/…`, `/api/sliceinstance/…`): its histograms are
    its plane's."""
    return "slice" in http.path.split("/")[2]


async def _built_in(ctx: Context, request: JSON, call: Call, http: web.Request
                    ) -> web.StreamResponse:  # fmt: skip
    service = ctx.pixels
    if service is None:
        return json_response(error_body("The built-in image server is not running"), 503)
    kind, relative = request["kind"], request["filePath"]
    if kind == "DOWNLOAD":
        path = service.original(relative)
        name = request.get("filename") or path.name
        response = web.FileResponse(
            path,
            headers={**CACHED, "Content-Disposition": f'attachment; filename="{_quoted(name)}"'},
        )
        response.content_type = "application/octet-stream"
        return response
    source = service.source(relative, request.get("width"), request.get("height"))
    if kind == "ASSOCIATED_LABELS":
        return json_response(_collection(await service.associated_names(source)))
    if kind == "METADATA":
        return json_response(_collection(await service.metadata(source)))
    if kind in _HISTOGRAMS:
        image_level, slice_level = _HISTOGRAMS[kind]
        plane = (request["channel"], request["zStack"], request["time"])
        found = await service.histogram(relative, source,
                                        slice_level if _sliced(http) else image_level,
                                        call.query.get("nBins"), plane)  # fmt: skip
        return json_response(_collection(found) if isinstance(found, list) else found)
    if not source.width or not source.height:
        return json_response(error_body("The image's size is unknown: it cannot be rendered"),
                             400)  # fmt: skip
    planned = plan(source, _pixel_query(request, call, http))
    etag = etag_of(planned.job)
    headers = {**CACHED, "ETag": etag, **planned.headers}
    if _not_modified(http, etag):
        return web.Response(status=304, headers=headers)
    data = service.cache.get(etag)
    if data is None:
        turn = http.get(TURN)
        if turn is not None:
            await turn.pause()  # a listing that arrived since this tile got its turn goes first
            turn.leave()  # the render runs in the pool: the event loop is free for the next
        data = await service.render(planned.job, etag)
    return web.Response(body=data, content_type=MEDIA_TYPES[planned.job.format],
                        headers=headers)  # fmt: skip


def _quoted(name: str) -> str:
    return name.replace("\\", "_").replace('"', "_").replace("\r", "").replace("\n", "")


async def answer(data: Any, call: Call) -> web.StreamResponse:
    """The pixel endpoint's answer once its operation has checked and described it."""
    request: JSON = next(iter(next(iter(data.values())).values()))
    ctx, http = call.context, call.request
    assert ctx is not None and http is not None
    await ctx.db.release()
    try:
        if request["relayed"]:
            turn = http.get(TURN)
            if turn is not None:  # from now on it only waits on the other server
                turn.leave()
            if ctx.pixels is None:
                return json_response(error_body("The image server relay is not running"), 503)
            return await relay_request(ctx.pixels, request["server"]["url"], request,
                                       call.path, call.query, http,
                                       sliced=_sliced(http))  # fmt: skip
        return await _built_in(ctx, request, call, http)
    except PixelError as error:
        return json_response(error_body(error.message), error.status)


def pixel_routes(
    resource: str, operation: str, kinds: Iterable[PixelKind], *, reuse: bool = True
) -> tuple[Route, ...]:
    """The pixel endpoints of `/api/<resource>/{id}/…` for `kinds`, each running `operation`
    with its kind fixed; `reuse`: its answer is reused whatever the numbers of the path (a
    tile's or a window's, which `plan` checks itself)."""
    rows: list[Route] = []
    for kind in sorted(kinds, key=lambda kind: kind.name):
        tail, posted = PIXEL_PATHS[kind]
        path = f"/api/{resource}/{{id:int}}/{tail}"
        fixed = {"kind": kind.name}
        token = kind in AUTH_PARAM.get(resource, ())
        for method in ("GET", "POST") if posted else ("GET",):
            row = Route(method, path, operation, answer, fixed=fixed, auth_param=token)
            if reuse:
                numbers = frozenset(name for name, is_int in row.params if is_int) - {"id"}
                row = replace(row, reuse=numbers)
            rows.append(row)
    return tuple(rows)


ROUTES: Final = (
    Route("GET", "/api/imageserver.json", "ImageServers", page(image_server_json)),
    Route("GET", "/api/imageserver/{id:int}.json", "ImageServerShow", single(image_server_json)),
    Route("GET", "/api/imageserver/format.json", "ImageServerFormats",
          items(lambda node: node)),
)  # fmt: skip
