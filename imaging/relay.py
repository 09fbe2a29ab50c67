"""The relay to an external PIMS (`CYTOGATE_IMAGE_SERVER_URL`), as core proxies (contract
images-annotations.md §2.10): the same routes, mapped to PIMS's paths and parameters; status,
body and cache headers passed on; `If-None-Match` forwarded; 502 when PIMS is unreachable or
fails (a 5xx), its 4xx passed on. JSON answers are camel-cased and wrapped as core does.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import quote

import aiohttp
from aiohttp import web

from imaging.errors import RelayFailed

__all__ = ["relay_request"]

#: Headers of PIMS's answer passed on to the client.
PASSED: Final = ("Content-Type", "Cache-Control", "ETag", "Last-Modified", "Content-Disposition",
                 "X-Image-Size-Limit")  # fmt: skip
_ACCEPT: Final = {"png": "image/png", "webp": "image/webp", "jpg": "image/jpeg"}
_HISTOGRAM_PATHS: Final = {
    "HISTOGRAM": "histogram/per-image",
    "HISTOGRAM_BOUNDS": "histogram/per-image/bounds",
    "CHANNEL_HISTOGRAM": "histogram/per-channels",
    "CHANNEL_HISTOGRAM_BOUNDS": "histogram/per-channels/bounds",
}
_CAMEL: Final = re.compile(r"_([a-z])")


def _camel(value: Any) -> Any:
    if isinstance(value, dict):
        return {_CAMEL.sub(lambda m: m[1].upper(), k): _camel(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_camel(v) for v in value]
    return value


def _list(text: str | None) -> list[str] | None:
    return None if not text else [part for part in text.split(",") if part]


def _upstream(
    request: Mapping[str, Any], path: Mapping[str, str], query: Mapping[str, str]
) -> tuple[str, str, dict[str, Any], dict[str, Any] | None]:
    """PIMS's method, path (under the server URL), query and JSON body for a request."""
    kind = request["kind"]
    file_path = quote(request["filePath"], safe="/")
    image = f"image/{file_path}"
    plane = {"z_slices": request["zStack"], "timepoints": request["time"]}
    length = query.get("maxSize")
    if kind in ("THUMB", "PREVIEW"):
        default = "1024" if kind == "PREVIEW" else "512"
        params = {**plane, "length": length or default}
        if query.get("gamma"):
            params["gammas"] = query["gamma"]
        if query.get("bits"):
            params["bits"] = "AUTO" if query["bits"] == "max" else query["bits"]
        return "GET", f"{image}/{'resized' if query.get('bits') else 'thumb'}", params, None
    if kind == "ASSOCIATED_LABELS":
        return "GET", f"{image}/info/associated", {}, None
    if kind == "ASSOCIATED":
        size = query.get("maxSize") or query.get("maxWidth") or "256"
        return "GET", f"{image}/associated/{path.get('label', '').lower()}", {"length": size}, None
    if kind == "NORMALIZED_TILE":
        tile = f"zoom/{path['zoom']}/tx/{path['tx']}/ty/{path['ty']}"
        params = {**plane}
        for ours, theirs in (
            ("channels", "channels"),
            ("gammas", "gammas"),
            ("colormaps", "colormaps"),
            ("minIntensities", "min_intensities"),
            ("maxIntensities", "max_intensities"),
            ("filters", "filters"),
        ):
            if query.get(ours):
                params[theirs] = query[ours]
        return "GET", f"{image}/normalized-tile/{tile}", params, None
    if kind in ("WINDOW", "CAMERA"):
        region = {"left": int(path["x"]), "top": int(path["y"]), "width": int(path["width"]),
                  "height": int(path["height"])}  # fmt: skip
        body = {"region": region, "z_slices": request["zStack"],
                "timepoints": request["time"], "level": 0}  # fmt: skip
        return "POST", f"{image}/window", {}, body
    if kind in ("CROP", "MASK", "ALPHA_MASK"):
        geometry = query.get("geometry") or query.get("location") or request.get("geometry")
        annotation: dict[str, Any] = {"geometry": geometry}
        level = query.get("zoom") or (None if length else 0)
        body = {"annotations": [annotation], "z_slices": request["zStack"],
                "timepoints": request["time"], "context_factor": query.get("increaseArea"),
                "length": length, "level": level}  # fmt: skip
        operation = "crop"
        if query.get("draw") == "true":
            operation = "drawing"
            body["try_square"] = query.get("square") == "true"
            annotation["stroke_color"] = (query.get("color") or "#f00").replace("0x", "#")
            annotation["stroke_width"] = query.get("thickness")
        elif kind == "MASK":
            operation = "mask"
            annotation["fill_color"] = "#fff"
        elif kind == "ALPHA_MASK":
            body["background_transparency"] = query.get("alpha") or 100
        else:
            body["background_transparency"] = 0
        body = {k: v for k, v in body.items() if v not in (None, "")}
        return "POST", f"{image}/annotation/{operation}", {}, body
    if kind in _HISTOGRAM_PATHS:
        params = {"n_bins": query.get("nBins", "256")}
        return "GET", f"{image}/{_HISTOGRAM_PATHS[kind]}", params, None
    if kind == "METADATA":
        return "GET", f"{image}/metadata", {}, None
    if kind == "DOWNLOAD":
        where = "image" if request.get("width") is not None else "file"
        params = {"filename": request.get("filename") or ""}
        return "GET", f"{where}/{file_path}/export", params, None
    raise RelayFailed(f"No relay for {kind}")


_JSON_KINDS: Final = frozenset(("ASSOCIATED_LABELS", "METADATA", *_HISTOGRAM_PATHS))


async def relay_request(
    service: Any, url: str, request: Mapping[str, Any], path: Mapping[str, str],
    query: Mapping[str, str], http: web.Request,
) -> web.StreamResponse:  # fmt: skip
    """The external server's answer to the pixel request, relayed."""
    method, tail, params, body = _upstream(request, path, query)
    headers = {"Accept": _ACCEPT.get(request.get("format") or "", "image/jpeg")}
    if "If-None-Match" in http.headers:
        headers["If-None-Match"] = http.headers["If-None-Match"]
    if method == "POST":
        headers["X-Annotation-Origin"] = "LEFT_BOTTOM"
    if http.headers.get("X-Image-Size-Safety"):
        headers["X-Image-Size-Safety"] = http.headers["X-Image-Size-Safety"]
    elif query.get("safe") == "true":
        headers["X-Image-Size-Safety"] = "SAFE_RESIZE"
    client: aiohttp.ClientSession = await service.relay_client()
    target = f"{url.rstrip('/')}/{tail}"
    clean = {k: str(v) for k, v in params.items() if v is not None}
    try:
        async with client.request(method, target, params=clean, json=body,
                                  headers=headers) as upstream:  # fmt: skip
            if upstream.status >= 500:
                raise RelayFailed(f"The image server at {url} failed ({upstream.status})")
            kept = {k: upstream.headers[k] for k in PASSED if k in upstream.headers}
            if upstream.status == 304:
                return web.Response(status=304, headers=kept)
            if request["kind"] in _JSON_KINDS and upstream.status == 200:
                found = _camel(await upstream.json(content_type=None))
                if isinstance(found, dict) and "items" in found:
                    found = found["items"]
                if isinstance(found, list):
                    found = {"collection": found, "size": len(found)}
                return web.json_response(found)
            response = web.StreamResponse(status=upstream.status, headers=kept)
            await response.prepare(http)
            async for chunk in upstream.content.iter_chunked(64 * 1024):
                await response.write(chunk)
            await response.write_eof()
            return response
    except (aiohttp.ClientError, TimeoutError) as error:
        raise RelayFailed(f"The image server at {url} cannot be reached: {error}") from None
