"""How a GraphQL result becomes Cytomine's answer: single object, list page, command envelope,
bulk result, bare value, and the error bodies and statuses (contract core.md §3–§5)."""

from __future__ import annotations

import math
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Mapping
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

import orjson
from aiohttp import web

from rest_compat.shapes import JSON, Shape
from schema.executor import CompletedRows

if TYPE_CHECKING:
    from resolvers.context import Context

__all__ = [
    "NO_STORE",
    "STATUS_BY_CODE",
    "AsyncEnvelope",
    "Call",
    "Envelope",
    "Streamed",
    "array",
    "bare",
    "command",
    "command_body",
    "error_body",
    "items",
    "json_response",
    "ok",
    "page",
    "single",
    "within",
]

#: Sent on every JSON answer: the python clients cache GET answers that allow it (§1.6).
NO_STORE: Final = {
    "Cache-Control": "no-cache, no-store, max-age=0, must-revalidate",
    "Pragma": "no-cache",
    "Expires": "0",
}

STATUS_BY_CODE: Final[Mapping[str, int]] = {
    "BAD_USER_INPUT": 400,
    "GRAPHQL_VALIDATION_FAILED": 400,
    "UNAUTHENTICATED": 401,
    "FORBIDDEN": 403,
    "NOT_FOUND": 404,
    "CONFLICT": 409,
    "PAYLOAD_TOO_LARGE": 413,
    "TOO_MANY_REQUESTS": 429,
    "NOT_SUPPORTED": 501,
    "BAD_GATEWAY": 502,
    "UNAVAILABLE": 503,
}


def json_response(
    body: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    """A JSON answer with the no-store headers."""
    return web.Response(
        body=orjson.dumps(body),
        status=status,
        content_type="application/json",
        headers={**NO_STORE, **(headers or {})},
    )


def error_body(
    message: str, values: Mapping[str, Any] | None = None, *, command: bool = False
) -> JSON:
    """Java's two error shapes plus a top-level `message` (§5.1): a string under `errors`
    for command routes, an object elsewhere."""
    errors: Any = message if command else {"message": message}
    body: JSON = {"errors": errors, "errorValues": dict(values or {}), "message": message}
    if command:
        body["success"] = False
    return body


@dataclass(frozen=True, slots=True)
class Call:
    """What an envelope knows of the request: paging asked for, the query and the path's
    parameters, the route's context, and for envelopes that answer with more than the
    operation's result (pixels) the HTTP request and the request's resolver context."""

    max: int | None
    offset: int
    query: Mapping[str, str]
    headers: dict[str, str] = field(default_factory=dict)
    path: Mapping[str, str] = field(default_factory=dict)
    request: web.Request | None = None
    context: Context | None = None


Envelope = Callable[[Any, Call], web.StreamResponse]
#: An envelope that awaits work of its own before answering (pixels).
AsyncEnvelope = Callable[[Any, Call], Awaitable[web.StreamResponse]]


def _root(data: Mapping[str, Any]) -> Any:
    return next(iter(data.values()))


def single(shape: Shape) -> Envelope:
    """The bare object (§3.1)."""

    def envelope(data: Any, call: Call) -> web.Response:
        return json_response(shape(_root(data)), headers=call.headers)

    return envelope


def bare(
    convert: Callable[[Any], Any] | None = None, *, status: Callable[[Any], int] | None = None
) -> Envelope:
    """The root field's value as is, or converted (ad-hoc answers such as `{"total": n}`).

    Args:
        status: the HTTP status from the root value, for the successes Cytomine answers with
            another status than 200 (a partly done membership batch is a 206).
    """

    def envelope(data: Any, call: Call) -> web.Response:
        value = _root(data)
        body = convert(value) if convert else value
        code = status(value) if status else 200
        return json_response(body, status=code, headers=call.headers)

    return envelope


def _ok(_: Any) -> JSON:
    return {"data": {"message": "OK"}}


def ok() -> Envelope:
    """`{"data": {"message": "OK"}}`, whatever the result: membership answers (§3.4)."""
    return bare(_ok)


def within(field: str, envelope: Envelope) -> Envelope:
    """An envelope applied to a field of the root object (`project(id) { members {…} }`), so a
    route can read a list through its parent and the parent's permission check."""

    def nested(data: Any, call: Call) -> web.StreamResponse:
        return envelope({field: _root(data)[field]}, call)

    return nested


def _list_envelope(collection: list[JSON], size: int, call: Call) -> JSON:
    per_page = call.max or 0
    total_pages = (1 if size else 0) if not per_page else math.ceil(size / per_page)
    return {
        "collection": collection,
        "offset": call.offset,
        "perPage": len(collection),
        "size": size,
        "totalPages": total_pages,
    }


class Streamed(web.StreamResponse):
    """An answer (JSON unless told) written part by part as its parts come (the bridge calls
    `send` while the request still holds its database lease, which reads the parts).

    The status goes out with the first part, which the parts give only once the database has
    answered (the first partition), so a statement that fails at once (past the timeout, a lost
    connection) is the request's own error answer. Once under way, a failure can no longer
    change the status: the connection is cut, so the client sees an incomplete answer rather
    than a whole one or another answer written into the body."""

    def __init__(
        self,
        parts: AsyncIterator[bytes],
        headers: Mapping[str, str],
        content_type: str = "application/json",
    ) -> None:
        super().__init__(status=200, headers={**NO_STORE, **headers})
        self.content_type = content_type
        self.parts = parts

    async def send(self, request: web.Request) -> None:
        parts = self.parts
        try:
            first = await anext(parts, b"")  # raises before anything is sent
            await self.prepare(request)
            try:
                if first:
                    await self.write(first)
                async for part in parts:
                    await self.write(part)
            except BaseException:
                if request.transport is not None:  # no final chunk: the answer is cut short
                    request.transport.close()
                raise
            await self.write_eof()
        finally:
            close = getattr(parts, "aclose", None)
            if close is not None:  # the cursor is closed now, not when collected
                await close()


async def _joined(
    nodes: CompletedRows, shape: Shape, seen: list[int]
) -> AsyncGenerator[bytes, None]:
    """The shaped items of a stream, a partition at a time, comma-joined as in a JSON array;
    `seen` gets how many once they are all read."""
    count = 0
    async for partition in nodes:
        if partition:
            items = orjson.dumps([shape(node) for node in partition])[1:-1]
            yield items if count == 0 else b"," + items
            count += len(partition)
    seen.append(count)


async def _streamed_page(nodes: CompletedRows, shape: Shape) -> AsyncIterator[bytes]:
    """The list envelope of a whole list (from offset 0), a partition of items at a time; its
    counts, known once every row is read, close it (a JSON object's keys have no order).
    Nothing is given before the first partition is read (`Streamed`)."""
    opening = b'{"collection":['
    seen: list[int] = []
    async with aclosing(_joined(nodes, shape, seen)) as joined:
        async for items in joined:
            yield opening + items
            opening = b""
    count = seen[0]
    tail = {"offset": 0, "perPage": count, "size": count, "totalPages": 1 if count else 0}
    yield opening + b"]," + orjson.dumps(tail)[1:]


async def _streamed_array(nodes: CompletedRows, shape: Shape) -> AsyncIterator[bytes]:
    """A bare JSON array of a whole list; nothing before the first partition is read."""
    opening = b"["
    async with aclosing(_joined(nodes, shape, [])) as joined:
        async for items in joined:
            yield opening + items
            opening = b""
    yield opening + b"]"


def page(shape: Shape) -> Envelope:
    """A list page from a connection `{totalCount nodes}` paged in SQL (§4.1); a whole list
    (`max=0`) streamed as its rows are read."""

    def envelope(data: Any, call: Call) -> web.StreamResponse:
        connection = _root(data)
        if isinstance(connection["nodes"], CompletedRows):
            return Streamed(_streamed_page(connection["nodes"], shape), call.headers)
        nodes = [shape(node) for node in connection["nodes"]]
        total = connection["totalCount"]  # -1: a stream read whole, every row from the first
        return json_response(
            _list_envelope(nodes, len(nodes) if total < 0 else total, call), headers=call.headers
        )

    return envelope


def array(shape: Shape) -> Envelope:
    """A bare JSON array of a connection's nodes (`commandhistory.json`); a whole list
    streamed as its rows are read."""

    def envelope(data: Any, call: Call) -> web.StreamResponse:
        nodes = _root(data)["nodes"]
        if isinstance(nodes, CompletedRows):
            return Streamed(_streamed_array(nodes, shape), call.headers)
        return json_response([shape(node) for node in nodes], headers=call.headers)

    return envelope


def items(shape: Shape) -> Envelope:
    """A list envelope around a short, unpaged GraphQL list (roles, role links)."""

    def envelope(data: Any, call: Call) -> web.Response:
        nodes = [shape(node) for node in _root(data) or []]
        size = len(nodes)
        if call.offset or call.max:
            end = call.offset + call.max if call.max else None
            nodes = nodes[call.offset : end]
        return json_response(_list_envelope(nodes, size, call), headers=call.headers)

    return envelope


def command_body(
    key: str,
    class_name: str,
    shape: Shape,
    object_field: str | None = None,
    callback: Callable[[JSON], Mapping[str, str]] | None = None,
    *,
    id_key: str | None = None,
    enrich: Callable[[JSON, JSON], None] | None = None,
) -> Callable[[JSON], JSON]:
    """The body of a command envelope (§3.2) made from a mutation's payload, for answers that
    carry several of them (a collection of created copies); `command` answers one.

    Args:
        key: the envelope key, Cytomine's lower-cased simple class name ("user").
        class_name: the simple class name for the callback method ("User").
        object_field: the payload field holding the object (default: the first non-command one).
        callback: more callback keys from the shaped object (a term adds "ontologyID").
        id_key: the callback's id key when it is not `<key>ID` (an annotation's envelope key is
            "annotation", its callback key "userannotationID").
        enrich: adds to the shaped object what the payload carries beside it (payload, object).
    """

    def body(payload: JSON) -> JSON:
        info = payload["command"]
        field_name = object_field or next(k for k in payload if k != "command")
        obj = shape(payload[field_name])
        if enrich is not None:
            enrich(payload, obj)
        verb = {"ADD": "Add", "EDIT": "Edit", "DELETE": "Delete"}[info["action"]]
        return {
            "message": info["message"],
            "printMessage": info["printMessage"],
            "callback": {
                "method": f"be.cytomine.{verb}{class_name}Command",
                id_key or f"{key}ID": str(obj["id"]),
                **(callback(obj) if callback else {}),
            },
            "command": info["id"],
            key: obj,
        }

    return body


def command(
    key: str,
    class_name: str,
    shape: Shape,
    object_field: str | None = None,
    callback: Callable[[JSON], Mapping[str, str]] | None = None,
    *,
    id_key: str | None = None,
    enrich: Callable[[JSON, JSON], None] | None = None,
) -> Envelope:
    """The command envelope of a create, edit or delete (§3.2); the arguments are
    `command_body`'s."""
    body = command_body(key, class_name, shape, object_field, callback, id_key=id_key,
                        enrich=enrich)  # fmt: skip

    def envelope(data: Any, call: Call) -> web.Response:
        return json_response(body(_root(data)), headers=call.headers)

    return envelope
