"""`/graphql`: strawberry's aiohttp view with our context, orjson, our GraphiQL page, JSON
errors for refused requests, and no WebSocket endpoint.

There are no subscriptions yet, so a WebSocket handshake is treated as the plain GET it is
(answered with GraphiQL or a 400), never upgraded. A request the view refuses before executing
(a body that is not JSON, a wrong method) answers GraphQL's error shape with a code. When the
database cannot serve at all (every error UNAVAILABLE, no data), the answer is 503 with
`Retry-After`, as a REST call would get.

File uploads follow the GraphQL multipart request spec (`imageUpload`): each file part is
streamed to the image store's incoming folder (`StreamedForm`, never whole in memory) under the
upload size limit and the free-space check of `POST /upload`, and the `Upload` variable holds
the `Received` file; whatever the operation did not take is deleted when the request ends.
Only users stream files, and a browser's session cookie alone needs a preflight header
(`Apollo-Require-Preflight`, `GraphQL-Preflight` or `X-Apollo-Operation-Name`): a
multipart form is something any site can make a browser post.
"""

from __future__ import annotations

from typing import Any, Final, TypeGuard

import orjson
from aiohttp import BodyPartReader, web
from cross_web import AiohttpHTTPRequestAdapter, FormData, HTTPException
from strawberry.aiohttp.views import GraphQLView

from gateway import graphiql
from gateway.middleware import error_response
from gateway.state import AUTH, LEASE, PIXELS, SETTINGS, make_context
from gateway.upload import CHUNK, TooLarge, check_room, receive_file
from resolvers.context import Context
from resolvers.errors import Forbidden, InvalidInput, Unauthenticated
from resolvers.image_import import Received

__all__ = ["CytogateGraphQLView", "StreamedForm"]

#: The files a multipart request streamed to disk (deleted when the request ends).
RECEIVED: Final = web.RequestKey("received", list[Received])
#: Headers a cross-site form cannot send without a CORS preflight.
PREFLIGHT: Final = ("Apollo-Require-Preflight", "GraphQL-Preflight", "X-Apollo-Operation-Name")


def _unavailable(response_data: Any) -> int | None:
    """The seconds to wait when the whole result failed for want of the database."""
    if not isinstance(response_data, dict) or response_data.get("data") is not None:
        return None
    errors = response_data.get("errors") or []
    waits = [(e.get("extensions") or {}).get("retryAfter") for e in errors]
    codes = {(e.get("extensions") or {}).get("code") for e in errors}
    if codes != {"UNAVAILABLE"}:
        return None
    return max((w for w in waits if isinstance(w, int)), default=1)


class StreamedForm(AiohttpHTTPRequestAdapter):
    """Strawberry's request adapter, whose multipart form streams file parts to disk."""

    async def get_form_data(self) -> FormData:
        request = self.request
        settings, pixels = request.app[SETTINGS], request.app[PIXELS]
        limit = settings.upload_max_bytes
        free = pixels.store.free_bytes()
        check_room(request, limit, free)
        form: dict[str, str] = {}
        files: dict[str, Received] = {}
        received = request[RECEIVED] = []
        await request[LEASE].release()  # receiving may take minutes: hold no connection
        try:
            reader = await request.multipart()
            async for part in reader:
                if not isinstance(part, BodyPartReader) or not part.name:
                    raise InvalidInput("Every part of a multipart request needs a name")
                if part.filename:
                    _may_stream(request)
                    got = await receive_file(part, pixels.store.incoming, limit, free)
                    received.append(got)
                    files[part.name] = got
                    free -= got.size
                else:
                    form[part.name] = await _text(part, settings.max_body_bytes)
        except (ValueError, AssertionError) as malformed:  # aiohttp's multipart reader
            raise InvalidInput(f"Malformed multipart body: {malformed}") from None
        return FormData(files=files, form=form)


def _may_stream(request: web.Request) -> None:
    """Only users store files; a cookie alone needs a preflight header (module docstring)."""
    auth = request[AUTH]
    if auth.viewer is None:
        raise Unauthenticated()
    if not auth.viewer.is_user:
        raise Forbidden("A guest may not upload images")
    if auth.by_cookie and not any(name in request.headers for name in PREFLIGHT):
        raise Forbidden(
            "A multipart request authenticated by the session cookie alone needs one of the "
            f"headers {', '.join(PREFLIGHT)}"
        )


async def _text(part: BodyPartReader, limit: int) -> str:
    """A form field's text, at most `limit` bytes."""
    data = bytearray()
    while chunk := await part.read_chunk(CHUNK):
        data += chunk
        if len(data) > limit:
            raise TooLarge(f"A form field is larger than {limit} bytes")
    try:
        return data.decode()
    except UnicodeDecodeError:
        raise InvalidInput(f"The form field {part.name} is not UTF-8 text") from None


class CytogateGraphQLView(GraphQLView[Context, None]):
    """Strawberry's view, adapted as the module docstring says."""

    request_adapter_class = StreamedForm

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(subscription_protocols=(), multipart_uploads_enabled=True, **kwargs)

    async def __call__(self, request: web.Request) -> web.StreamResponse:
        try:
            return await self.run(request=request)
        except HTTPException as refused:
            return error_response(request, refused.reason, refused.status_code)
        finally:
            for left in request.get(RECEIVED, ()):
                left.path.unlink(missing_ok=True)

    def is_websocket_request(self, request: web.Request) -> TypeGuard[web.Request]:
        return False

    async def get_context(self, request: web.Request, response: Any) -> Context:
        return make_context(request, trusted=False)

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    def parse_json(self, data: str | bytes) -> Any:
        """The body, which must be an object (or a batch): strawberry reads keys from it."""
        body = super().parse_json(data)
        if not isinstance(body, dict | list):
            raise HTTPException(400, "The request body must be a JSON object")
        return body

    def create_response(self, response_data: Any, sub_response: web.Response) -> web.Response:
        sub_response.body = orjson.dumps(response_data)
        sub_response.content_type = "application/json"
        retry_after = _unavailable(response_data)
        if retry_after is not None:
            sub_response.set_status(503)
            sub_response.headers["Retry-After"] = str(retry_after)
        return sub_response

    async def render_graphql_ide(self, request: web.Request) -> web.Response:
        """Our GraphiQL page, whose files this server serves (gateway/graphiql.py)."""
        return graphiql.page()
