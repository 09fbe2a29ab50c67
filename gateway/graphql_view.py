"""`/graphql`: strawberry's aiohttp view with our context, orjson, our GraphiQL page, JSON
errors for refused requests, and no WebSocket endpoint.

There are no subscriptions yet, so a WebSocket handshake is treated as the plain GET it is
(answered with GraphiQL or a 400), never upgraded. A multipart request (the GraphQL multipart
request spec: `operations`, `map`, then one file, for `imageUpload` or `attachedFileCreate`)
has its file streamed to disk as REST uploads are (rest_compat/upload.py), under the larger of
the two upload limits (an attached file is held to its own by its mutation), and its `Upload`
variable gets the staged file's handle. Only users stream files, and a browser's session
cookie alone needs a preflight header (`Apollo-Require-Preflight`, `GraphQL-Preflight` or
`X-Apollo-Operation-Name`): a multipart form is something any site can make a browser post.

A request the view refuses before executing (a body that is not JSON, a wrong method) answers
GraphQL's error shape with a code. When the database cannot serve at all (every error
UNAVAILABLE, no data), the answer is 503 with `Retry-After`, and an upload refused as too large
is a 413, as a REST call would get.
"""

from __future__ import annotations

from typing import Any, Final, TypeGuard

import orjson
from aiohttp import web
from aiohttp.hdrs import CONTENT_TYPE
from cross_web import AiohttpHTTPRequestAdapter, HTTPException
from strawberry.aiohttp.views import GraphQLView
from strawberry.file_uploads.utils import replace_placeholders_with_files

from gateway import graphiql
from gateway.middleware import error_response
from gateway.state import AUTH, LEASE, make_context
from resolvers.context import Context
from resolvers.errors import CytogateError, Forbidden, Unauthenticated, Unavailable
from rest_compat.upload import FileStore, Staged, stage

__all__ = ["CytogateGraphQLView"]

#: Where a multipart request's file is staged: an attached file is kept there by a rename, an
#: uploaded image is moved on to the image store.
UPLOAD_DIRECTORY: Final = "attached"
STAGED: Final = web.RequestKey("staged_upload", Staged)
#: Headers a cross-site form cannot send without a CORS preflight.
PREFLIGHT: Final = ("Apollo-Require-Preflight", "GraphQL-Preflight", "X-Apollo-Operation-Name")


#: The HTTP status of a result that failed as a whole for one of these reasons.
WHOLE_FAILURES: Final = {"UNAVAILABLE": 503, "PAYLOAD_TOO_LARGE": 413, "TOO_MANY_REQUESTS": 429}


def _whole_failure(response_data: Any) -> tuple[int, int | None] | None:
    """The status (and the seconds to wait, where the errors give them) of a result with no
    data whose errors all say the database cannot serve, all say the upload is too large, or
    all say a sign-in must wait: the status a REST call would get."""
    if not isinstance(response_data, dict) or response_data.get("data") is not None:
        return None
    errors = response_data.get("errors") or []
    codes = {(e.get("extensions") or {}).get("code") for e in errors}
    if len(codes) != 1 or (code := codes.pop()) not in WHOLE_FAILURES:
        return None
    waits = [(e.get("extensions") or {}).get("retryAfter") for e in errors]
    wait = max((w for w in waits if isinstance(w, int)), default=None)
    if wait is None and code == "UNAVAILABLE":
        wait = 1  # a 503 always says when to try again
    return WHOLE_FAILURES[code], wait


def _may_stream(request: web.Request) -> None:
    """Only users store files; a cookie alone needs a preflight header (module docstring)."""
    auth = request[AUTH]
    if auth.viewer is None:
        raise Unauthenticated()
    if not auth.viewer.is_user:
        raise Forbidden("A guest may not upload files")
    if auth.by_cookie and not any(name in request.headers for name in PREFLIGHT):
        raise Forbidden(
            "A multipart request authenticated by the session cookie alone needs one of the "
            f"headers {', '.join(PREFLIGHT)}"
        )


class CytogateGraphQLView(GraphQLView[Context, None]):
    """Strawberry's view, adapted as the module docstring says."""

    def __init__(self, *, files: FileStore | None = None, **kwargs: Any) -> None:
        super().__init__(
            subscription_protocols=(), multipart_uploads_enabled=files is not None, **kwargs
        )
        self.files = files

    async def __call__(self, request: web.Request) -> web.StreamResponse:
        try:
            return await self.run(request=request)
        except HTTPException as refused:
            return error_response(request, refused.reason, refused.status_code)
        except CytogateError as error:  # refused while staging an upload
            wait = error.retry_after if isinstance(error, Unavailable) else None
            return error_response(request, error.message, error.status, code=error.code,
                                  retry_after=wait)  # fmt: skip
        finally:
            staged = request.get(STAGED)
            if staged is not None:
                staged.discard()

    async def parse_multipart(self, request: Any) -> dict[str, Any]:
        """The operations of a multipart request with its file staged on disk (one file)."""
        assert isinstance(request, AiohttpHTTPRequestAdapter) and self.files is not None
        raw: web.Request = request.request
        _may_stream(raw)
        await raw[LEASE].close()  # a slow upload holds no pooled connection
        staged = raw[STAGED] = await stage(raw, self.files, UPLOAD_DIRECTORY)
        operations = self.parse_json(staged.fields.get("operations", "{}"))
        files_map = self.parse_json(staged.fields.get("map", "{}"))
        if not isinstance(files_map, dict):
            raise HTTPException(400, "The multipart map must be a JSON object")
        files: dict[str, Any] = {}
        if staged.file is not None:
            files = dict.fromkeys(files_map, staged.file)
        try:
            return replace_placeholders_with_files(operations, files_map, files)
        except (KeyError, IndexError, TypeError):
            raise HTTPException(400, "The multipart map names no file sent") from None

    def is_websocket_request(self, request: web.Request) -> TypeGuard[web.Request]:
        return False

    async def get_context(self, request: web.Request, response: Any) -> Context:
        return make_context(request, trusted=False)

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    def decode_json(self, data: str | bytes) -> object:
        """orjson, as REST bodies are read; its errors are `json.JSONDecodeError`s, which the
        view answers with a 400."""
        return orjson.loads(data)

    def parse_json(self, data: str | bytes) -> Any:
        """The body, which must be an object (or a batch): strawberry reads keys from it."""
        body = super().parse_json(data)
        if not isinstance(body, dict | list):
            raise HTTPException(400, "The request body must be a JSON object")
        return body

    def create_response(self, response_data: Any, sub_response: web.Response) -> web.Response:
        sub_response.body = orjson.dumps(response_data)
        sub_response.headers[CONTENT_TYPE] = "application/json"  # the setter parses it back
        failed = _whole_failure(response_data)
        if failed is not None:
            status, retry_after = failed
            sub_response.set_status(status)
            if retry_after is not None:
                sub_response.headers["Retry-After"] = str(retry_after)
        return sub_response

    async def render_graphql_ide(self, request: web.Request) -> web.Response:
        """Our GraphiQL page, whose files this server serves (gateway/graphiql.py)."""
        return graphiql.page()
