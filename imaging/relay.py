"""The relay to an external PIMS (`CYTOGATE_IMAGE_SERVER_URL`), as core proxies (contract
images-annotations.md §2.10): the same routes, mapped to PIMS's paths and parameters; status,
body and cache headers passed on; `If-None-Match` forwarded; 502 when PIMS is unreachable or
fails (a 5xx), its 4xx passed on. JSON answers are camel-cased and wrapped as core does.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any, Final
from urllib.parse import quote

import aiohttp
import yarl
from aiohttp import web

from imaging.errors import BadPixelRequest, RelayFailed
from imaging.formats import ImageFormat
from imaging.operations import IMAGE_CROP_SIZE, float_param

__all__ = [
    "crop_geometry",
    "histogram_call",
    "image_path",
    "relay_request",
    "relay_upload",
    "relayed_formats",
    "relayed_histogram",
    "relayed_info",
    "relayed_json",
    "shaped",
]  # fmt: skip

#: Headers of PIMS's answer passed on to the client.
PASSED: Final = ("Content-Type", "Cache-Control", "ETag", "Last-Modified", "Content-Disposition",
                 "X-Image-Size-Limit")  # fmt: skip
_ACCEPT: Final = {"png": "image/png", "webp": "image/webp", "jpg": "image/jpeg"}
_HISTOGRAMS: Final = frozenset(
    ("HISTOGRAM", "HISTOGRAM_BOUNDS", "CHANNEL_HISTOGRAM", "CHANNEL_HISTOGRAM_BOUNDS")
)
_CAMEL: Final = re.compile(r"_([a-z])")
#: A crop's geometry is simplified below this many points, unless `complete=true` (§2.10).
_CROP_POINTS: Final = 150


def _camel(value: Any) -> Any:
    if isinstance(value, dict):
        return {_CAMEL.sub(lambda m: m[1].upper(), k): _camel(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_camel(v) for v in value]
    return value


def _renamed(item: Any) -> Any:
    """A channel histogram's item with core's names: PIMS's `concreteChannel` is the file's
    `channel`, and PIMS's `channel` the `apparentChannel` a viewer shows (§2.10)."""
    if not isinstance(item, dict) or "concreteChannel" not in item:
        return item
    renamed = {k: v for k, v in item.items() if k not in ("channel", "concreteChannel")}
    return {**renamed, "channel": item["concreteChannel"], "apparentChannel": item.get("channel")}


def shaped(kind: str, found: Any) -> Any:
    """PIMS's JSON answer as core gives it: keys camel-cased, a collection's `items` alone,
    channel histograms' keys renamed, associated images by their names."""
    found = _camel(found)
    if isinstance(found, dict) and "items" in found:
        found = found["items"]
    if isinstance(found, list) and kind in _HISTOGRAMS:
        found = [_renamed(item) for item in found]
    if isinstance(found, list) and kind == "ASSOCIATED_LABELS":
        found = [item.get("name") if isinstance(item, dict) else item for item in found]
    return found


def image_path(file_path: str, root: str = "image") -> str:
    """A file's path on PIMS, under `root` (`image`, or `file` for a file that is no image):
    its path URL-encoded except `/` (§2.10)."""
    return f"{root}/{quote(file_path, safe='/')}"


def histogram_call(
    kind: str, sliced: bool, plane: tuple[int, int, int], n_bins: str | None = None
) -> tuple[str, dict[str, Any]]:
    """PIMS's path (under the image's) and query for a histogram kind (§2.10): the whole
    image's, or a slice's plane, of the slice's own channel unless a channel histogram asks
    for every channel of the plane; bounds take no bins."""
    channel, z_stack, time = plane
    every_channel = kind.startswith("CHANNEL_")
    params: dict[str, Any] = {}
    if sliced:
        tail = f"histogram/per-plane/z/{z_stack}/t/{time}"
        if not every_channel:
            params["channels"] = channel
    else:
        tail = "histogram/per-channels" if every_channel else "histogram/per-image"
    if kind.endswith("_BOUNDS"):
        return f"{tail}/bounds", params
    return tail, {**params, "n_bins": n_bins or "256"}


def _number(query: Mapping[str, str], name: str) -> int | float | None:
    """A numeric parameter as JSON carries it (an integer when written as one); absent: None;
    not a number: 400, as the built-in server reads it."""
    value = float_param(query, name)
    if value is None:
        return None
    return int(value) if value.is_integer() and "." not in query[name] else value


def _bits(query: Mapping[str, str]) -> int | float | str | None:
    return "AUTO" if query.get("bits") == "max" else _number(query, "bits")


def _colormaps(query: Mapping[str, str]) -> list[str] | None:
    """`colormap` split on commas; `inverse=true` inverts each (`!` added or taken off), or
    the default colour map when none is given (§2.10)."""
    maps = [part for part in (query.get("colormap") or "").split(",") if part]
    if query.get("inverse") != "true":
        return maps or None
    return [m[1:] if m.startswith("!") else f"!{m}" for m in maps] or ["!DEFAULT"]


def crop_geometry(wkt: str, complete: bool) -> str:
    """The WKT sent for a crop (§2.10): unless `complete`, simplified below 150 points with a
    growing tolerance that keeps the topology (2, then (t + 5) × 1.1; rings are kept, so a
    geometry of many parts stops at its simplest, once the tolerance passes its size); always
    snapped to a 0.01 grid and normalised."""
    import shapely

    try:
        geometry = shapely.from_wkt(wkt)
    except shapely.errors.ShapelyError:
        raise BadPixelRequest("The crop's geometry is not WKT") from None
    if geometry is None or geometry.is_empty:
        raise BadPixelRequest("The crop's geometry is empty")
    if not complete:
        min_x, min_y, max_x, max_y = geometry.bounds
        extent, tolerance, simplified = max(max_x - min_x, max_y - min_y), 2.0, geometry
        while shapely.get_num_coordinates(simplified) >= _CROP_POINTS:
            simplified = geometry.simplify(tolerance, preserve_topology=True)
            if tolerance > extent:  # nothing simpler is left
                break
            tolerance = (tolerance + 5) * 1.1
        geometry = simplified
    return str(shapely.normalize(shapely.set_precision(geometry, 0.01)).wkt)


def _upstream(
    request: Mapping[str, Any], path: Mapping[str, str], query: Mapping[str, str], sliced: bool
) -> tuple[str, str, dict[str, Any], dict[str, Any] | None]:
    """PIMS's method, path (under the server URL), query and JSON body for a request: the
    slice's channel goes with it when the image has several (an RGB image has one)."""
    kind = request["kind"]
    image = image_path(request["filePath"])
    own_channel = request["channel"] if (request.get("channels") or 1) > 1 else None
    plane = {"channels": own_channel, "z_slices": request["zStack"],
             "timepoints": request["time"]}  # fmt: skip
    length = query.get("maxSize")
    if kind in ("THUMB", "PREVIEW"):
        default = "1024" if kind == "PREVIEW" else "512"
        params = {**plane, "length": length or default, "gammas": query.get("gamma"),
                  "colormaps": _colormaps(query), "bits": _bits(query)}  # fmt: skip
        return "GET", f"{image}/{'resized' if query.get('bits') else 'thumb'}", params, None
    if kind == "ASSOCIATED_LABELS":
        return "GET", f"{image}/info/associated", {}, None
    if kind == "ASSOCIATED":
        size = query.get("maxSize") or query.get("maxWidth") or "256"
        return "GET", f"{image}/associated/{path.get('label', '').lower()}", {"length": size}, None
    if kind == "NORMALIZED_TILE":
        tile = f"zoom/{path['zoom']}/tx/{path['tx']}/ty/{path['ty']}"
        params = {
            "channels": query.get("channels") or own_channel,
            "z_slices": query.get("zSlices") or request["zStack"],
            "timepoints": query.get("timepoints") or request["time"],
        }
        for ours, theirs in (
            ("gammas", "gammas"),
            ("colormaps", "colormaps"),
            ("minIntensities", "min_intensities"),
            ("maxIntensities", "max_intensities"),
            ("filters", "filters"),
        ):
            params[theirs] = query.get(ours) or None
        return "GET", f"{image}/normalized-tile/{tile}", params, None
    if kind in ("WINDOW", "CAMERA"):
        region = {"left": int(path["x"]), "top": int(path["y"]), "width": int(path["width"]),
                  "height": int(path["height"])}  # fmt: skip
        body = {"region": region, **plane, "level": 0}
        return "POST", f"{image}/window", {}, {k: v for k, v in body.items() if v is not None}
    if kind in ("CROP", "MASK", "ALPHA_MASK"):
        wkt = query.get("geometry") or query.get("location") or request.get("geometry")
        if not wkt:
            raise BadPixelRequest("The crop needs a geometry (geometry or location)")
        annotation: dict[str, Any] = {
            "geometry": crop_geometry(wkt, query.get("complete") == "true")
        }
        side = _number(query, "maxSize")
        if side is None and not request.get("geometry"):
            side = IMAGE_CROP_SIZE  # an image's or a slice's crop, not an annotation's
        zoom = _number(query, "zoom")
        body = {"annotations": [annotation], **plane, "length": side,
                "context_factor": _number(query, "increaseArea"),
                "level": None if side is not None else (zoom or 0),
                "gammas": _number(query, "gamma"), "colormaps": _colormaps(query),
                "bits": _bits(query)}  # fmt: skip
        operation = "crop"
        if query.get("draw") == "true":
            operation = "drawing"
            body["try_square"] = query.get("square") == "true"
            color = query.get("color")
            annotation["stroke_color"] = color.replace("0x", "#") if color else None
            annotation["stroke_width"] = _number(query, "thickness")
        elif kind == "MASK":
            operation = "mask"
            annotation["fill_color"] = "#fff"
        elif kind == "ALPHA_MASK":
            alpha = _number(query, "alpha")
            body["background_transparency"] = 100 if alpha is None else alpha
        else:
            body["background_transparency"] = 0
        body = {k: v for k, v in body.items() if v not in (None, "")}
        body["annotations"] = [{k: v for k, v in annotation.items() if v is not None}]
        return "POST", f"{image}/annotation/{operation}", {}, body
    if kind in _HISTOGRAMS:
        of = (request["channel"], request["zStack"], request["time"])
        tail, params = histogram_call(kind, sliced, of, query.get("nBins"))
        return "GET", f"{image}/{tail}", params, None
    if kind == "METADATA":
        return "GET", f"{image}/metadata", {}, None
    if kind == "DOWNLOAD":
        where = "image" if request.get("width") is not None else "file"
        params = {"filename": request.get("filename") or ""}
        return "GET", f"{image_path(request['filePath'], where)}/export", params, None
    raise RelayFailed(f"No relay for {kind}")


_JSON_KINDS: Final = frozenset(("ASSOCIATED_LABELS", "METADATA", *_HISTOGRAMS))


@asynccontextmanager
async def _call(
    service: Any, url: str, method: str, tail: str, params: Mapping[str, Any],
    body: Any = None, headers: Mapping[str, str] | None = None, raw_query: str | None = None,
    **sent: Any,
) -> AsyncIterator[aiohttp.ClientResponse]:  # fmt: skip
    """PIMS's answer to one call (`raw_query`: a query string sent instead of `params`;
    `sent`: more of aiohttp's request arguments); unreachable, or failing with a 5xx:
    `RelayFailed` (502)."""
    client: aiohttp.ClientSession = await service.relay_client()
    target = yarl.URL(f"{url.rstrip('/')}/{tail}")
    clean = [(k, str(item)) for k, v in params.items() if v is not None
             for item in (v if isinstance(v, list) else [v])]  # fmt: skip
    if raw_query is not None:  # sent as it came, not decoded and encoded again
        target, clean = yarl.URL(f"{target}?{raw_query}", encoded=True), []
    try:
        async with client.request(method, target, params=clean, json=body, headers=headers,
                                  **sent) as upstream:  # fmt: skip
            if upstream.status >= 500:
                raise RelayFailed(f"The image server at {url} failed ({upstream.status})")
            yield upstream
    except (aiohttp.ClientError, TimeoutError) as error:
        raise RelayFailed(f"The image server at {url} cannot be reached: {error}") from None


async def _json(upstream: aiohttp.ClientResponse, url: str, tail: str) -> Any:
    try:
        return await upstream.json(content_type=None)
    except ValueError:
        raise RelayFailed(f"The image server at {url} answered {tail} without JSON") from None


async def relayed_json(
    service: Any, url: str, tail: str, params: Mapping[str, Any] | None = None
) -> Any:
    """PIMS's JSON answer to `GET <url>/<tail>`; any answer but a 200 with JSON is a
    `RelayFailed` naming its status."""
    async with _call(service, url, "GET", tail, params or {},
                     headers={"Accept": "application/json"}) as upstream:  # fmt: skip
        if upstream.status != 200:
            raise RelayFailed(f"The image server at {url} answered {upstream.status} to {tail}")
        return await _json(upstream, url, tail)


async def relayed_histogram(
    service: Any, url: str, file_path: str, kind: str, sliced: bool,
    plane: tuple[int, int, int],
) -> Any:  # fmt: skip
    """A histogram kind of an image or, `sliced`, of a slice's plane, as core gives it."""
    tail, params = histogram_call(kind, sliced, plane)
    return shaped(kind, await relayed_json(service, url, f"{image_path(file_path)}/{tail}",
                                           params))  # fmt: skip


async def relayed_formats(service: Any, url: str) -> list[ImageFormat]:
    """The formats PIMS reads (`GET /formats`, §2.9), as the built-in server lists its own."""
    found = shaped("FORMATS", await relayed_json(service, url, "formats"))
    if not isinstance(found, list):
        raise RelayFailed(f"The image server at {url} listed its formats in an unknown shape")
    return [
        ImageFormat(
            str(item["id"]), str(item.get("name") or item["id"]), str(item.get("remarks") or ""),
            convertible=bool(item.get("convertible")), readable=bool(item.get("readable", True)),
            writable=bool(item.get("writable")), importable=bool(item.get("importable")),
        )
        for item in found
        if isinstance(item, dict) and item.get("id")
    ]  # fmt: skip


async def relayed_info(service: Any, url: str, file_path: str) -> dict[str, Any]:
    """PIMS's description of an image file (`GET image/<path>/info`), as PIMS names it."""
    found = await relayed_json(service, url, f"{image_path(file_path)}/info")
    if not isinstance(found, dict):
        raise RelayFailed(f"The image server at {url} described {file_path} in an unknown shape")
    return found


async def relay_request(
    service: Any, url: str, request: Mapping[str, Any], path: Mapping[str, str],
    query: Mapping[str, str], http: web.Request, *, sliced: bool,
) -> web.StreamResponse:  # fmt: skip
    """The external server's answer to the pixel request, relayed; `sliced`: asked of a
    slice, whose histograms are its plane's."""
    method, tail, params, body = _upstream(request, path, query, sliced)
    headers = {"Accept": _ACCEPT.get(request.get("format") or "", "image/jpeg")}
    if "If-None-Match" in http.headers:
        headers["If-None-Match"] = http.headers["If-None-Match"]
    if method == "POST":
        headers["X-Annotation-Origin"] = "LEFT_BOTTOM"
    if http.headers.get("X-Image-Size-Safety"):
        headers["X-Image-Size-Safety"] = http.headers["X-Image-Size-Safety"]
    elif query.get("safe") == "true":
        headers["X-Image-Size-Safety"] = "SAFE_RESIZE"
    async with _call(service, url, method, tail, params, body, headers) as upstream:
        kept = {k: upstream.headers[k] for k in PASSED if k in upstream.headers}
        if upstream.status == 304:
            return web.Response(status=304, headers=kept)
        if request["kind"] in _JSON_KINDS and upstream.status == 200:
            found = shaped(request["kind"], await _json(upstream, url, tail))
            if isinstance(found, list):
                found = {"collection": found, "size": len(found)}
            return web.json_response(found)
        response = web.StreamResponse(status=upstream.status, headers=kept)
        await response.prepare(http)
        async for chunk in upstream.content.iter_chunked(64 * 1024):
            await response.write(chunk)
        await response.write_eof()
        return response


#: The headers of `POST /upload` PIMS is given: what the caller's signature covers, and what
#: the body is.
_UPLOAD_HEADERS: Final = ("Authorization", "Date", "dateFull", "Content-Type", "Content-MD5",
                          "Content-Length")  # fmt: skip
#: An upload may take long: only a silent PIMS (or client) ends it.
_UPLOAD_TIMEOUT: Final = aiohttp.ClientTimeout(total=None, connect=10, sock_read=600)


async def relay_upload(service: Any, url: str, http: web.Request) -> web.Response:
    """`POST /upload` relayed to PIMS as it came, its body streamed through: the same path and
    query string, so the caller's signature holds there too (PIMS checks it with this
    server's keys, as it does core's). PIMS's answer is passed back."""
    headers = {k: http.headers[k] for k in _UPLOAD_HEADERS if k in http.headers}
    raw_query = http.rel_url.raw_query_string
    async with _call(service, url, "POST", "upload", {}, headers=headers, raw_query=raw_query,
                     data=http.content, timeout=_UPLOAD_TIMEOUT) as upstream:  # fmt: skip
        body = await upstream.read()
        return web.Response(body=body, status=upstream.status,
                            content_type=upstream.content_type)  # fmt: skip
