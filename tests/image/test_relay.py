"""With `CYTOGATE_IMAGE_SERVER_URL` set, pixel routes are relayed to that PIMS (contract
images-annotations.md §2.10): status, body and cache headers passed on, `If-None-Match`
forwarded, JSON camel-cased, 502 when it fails. Tested against a stand-in started here."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from aiohttp import web

from tests.factories import abstract_image, add_image, make_project
from tests.harness import ADMIN_PRIVATE_KEY, ADMIN_PUBLIC_KEY, Api, serve, stand_in_server

pytestmark = pytest.mark.usefixtures("no_unexpected_server_error")


@pytest.fixture
def stand_in() -> Iterator[dict[str, Any]]:
    """A tiny PIMS: thumbnails with an ETag, histogram bounds, a failing window."""
    seen: list[dict[str, Any]] = []

    async def thumb(request: web.Request) -> web.Response:
        seen.append({"path": request.path, "query": dict(request.query),
                     "headers": dict(request.headers)})  # fmt: skip
        if request.headers.get("If-None-Match") == 'W/"abc"':
            return web.Response(status=304, headers={"ETag": 'W/"abc"'})
        return web.Response(body=b"PNGBYTES", content_type="image/png",
                            headers={"ETag": 'W/"abc"', "Cache-Control": "max-age=60"})  # fmt: skip

    async def bounds(request: web.Request) -> web.Response:
        return web.json_response({"type": "FAST", "minimum": 3, "maximum": 250})

    async def window(request: web.Request) -> web.Response:
        seen.append({"path": request.path, "body": await request.json()})
        return web.Response(status=500, text="boom")

    app = web.Application()
    app.router.add_get("/image/{path:.*}/thumb", thumb)
    app.router.add_get("/image/{path:.*}/histogram/per-image/bounds", bounds)
    app.router.add_post("/image/{path:.*}/window", window)
    with stand_in_server(app) as url:
        yield {"url": url, "seen": seen}


def test_pixel_routes_are_relayed_to_the_configured_pims(settings, database_url, stand_in):
    configured = replace(settings, image_server_url=stand_in["url"])
    with serve(configured, database_url) as running:
        api = Api(running.url, ADMIN_PUBLIC_KEY, ADMIN_PRIVATE_KEY)
        image = add_image(api, make_project(api)["id"], abstract_image(api)["id"])
        thumb = api.get(f"/api/imageinstance/{image['id']}/thumb.png?maxSize=300")
        assert thumb.status_code == 200, thumb.text
        assert thumb.content == b"PNGBYTES" and thumb.headers["ETag"] == 'W/"abc"'
        assert thumb.headers["Cache-Control"] == "max-age=60"
        first = stand_in["seen"][0]
        assert first["path"] == f"/image/{image['path']}/thumb"
        assert first["query"]["length"] == "300" and first["headers"]["Accept"] == "image/png"
        again = api.get(f"/api/imageinstance/{image['id']}/thumb.png",
                        headers={"If-None-Match": 'W/"abc"'})  # fmt: skip
        assert again.status_code == 304
        bounds = api.get(f"/api/imageinstance/{image['id']}/histogram/bounds.json")
        assert bounds.json() == {"type": "FAST", "minimum": 3, "maximum": 250}
        failed = api.get(f"/api/imageinstance/{image['id']}/window-1-2-3-4.png")
        assert failed.status_code == 502 and failed.json()["message"]
        assert stand_in["seen"][-1]["body"]["region"] == {"left": 1, "top": 2, "width": 3,
                                                          "height": 4}  # fmt: skip
