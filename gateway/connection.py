"""The HTTP connection under the app: aiohttp's protocol, with the project's error shape and a
deadline on request heads.

What aiohttp's parser refuses (a bad request line, a header without a colon or over the size
limit, bad chunked framing, conflicting lengths, a non-ASCII target…) never reaches the app's
middleware: the protocol answers it itself (`RequestHandler.handle_error`), in text. And the
protocol waits for a request's head as long as the client trickles it (slowloris).

`GatewayRunner` is the `web.AppRunner` every cytogate server runs on (`cytogate serve` through
`run`, the tests' harness); its connections are `GatewayHandler`s, which

- answer a refused request in the error shape of gateway/middleware.py (Cytomine's, core.md
  §5.1) with the status aiohttp chose, and close the connection as aiohttp does;
- tell a handler reading a body that the parser refused the rest of it (aiohttp 3.14 queues
  the refusal behind the request and leaves the handler waiting for the body forever);
- close a connection whose request head has not all arrived `CYTOGATE_HEADER_TIMEOUT_SECONDS`
  after its first byte (after the connection opened, for the first request): 408 if part of a
  request came, silently if nothing did. Bodies are not under this deadline (an upload streams
  for minutes), nor idle keep-alive connections (aiohttp's `keepalive_timeout`).

Written against aiohttp 3.14's `RequestHandler`, whose internals it reads: the queue of parsed
messages (`_messages`, `_request_count`), the `_ErrInfo` it queues for a refusal, the waiter of
its loop, `_request_in_progress`. tests/gateway/test_http_hardening.py fails if they move.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from http import HTTPStatus
from typing import Any, Final

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.streams import EMPTY_PAYLOAD, StreamReader
from aiohttp.web_protocol import RequestHandler, _ErrInfo
from aiohttp.web_request import BaseRequest

from gateway.middleware import error_response, refusal_message
from gateway.state import SETTINGS

__all__ = ["GatewayHandler", "GatewayRunner", "GatewayServer", "run"]

access_log = logging.getLogger("cytogate.access")

#: aiohttp's own default for `web.run_app` (the harness keeps AppRunner's).
KEEPALIVE_SECONDS: Final = 75.0


class HeadTimeout(HttpProcessingError):
    """A request's head did not all arrive in time."""

    code = HTTPStatus.REQUEST_TIMEOUT.value


class GatewayHandler(RequestHandler):
    """One connection: aiohttp's protocol, refusals in JSON, a deadline on request heads."""

    __slots__ = ("_body", "_head_begun", "_head_timeout", "_head_timer")

    def __init__(self, manager: web.Server, *, head_timeout: float, **kwargs: Any) -> None:
        super().__init__(manager, **kwargs)
        self._head_timeout = head_timeout
        self._head_timer: asyncio.TimerHandle | None = None
        #: whether a byte of the awaited head has arrived (408 then, else a silent close)
        self._head_begun = False
        #: the body of the last request whose head arrived, while it is still coming
        self._body: StreamReader | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._await_head(begun=False)

    def connection_lost(self, exc: BaseException | None) -> None:
        self._stop_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        body = self._body
        in_body = body is not None and not body.is_eof()
        count = self._request_count
        super().data_received(data)
        if self._request_count != count:
            self._heads_parsed(body if in_body else None)
        elif data and not in_body and not (self._close or self._force_close):
            self._await_head(begun=True)

    def _heads_parsed(self, body: StreamReader | None) -> None:
        """Heads (or a refusal) came in: the deadline is met. A refusal while `body` was still
        coming is about that body: its handler, if still to read it, is told; the connection
        closes after the answer (rather than the handler waiting forever, then a second
        answer)."""
        self._stop_head_timer()
        self._head_begun = False
        if not self._messages:  # taken already (never, in aiohttp 3.14)
            return
        message, payload = self._messages[-1]
        if isinstance(message, _ErrInfo) and body is not None and not body.is_eof():
            self._messages.pop()
            queued = any(body is waiting for _, waiting in self._messages)
            if self._request_in_progress or queued:
                body.set_exception(message.exc)
            # else answered already, the protocol lingers over the rest: it will not come
            body.feed_eof()
            self.close()
            return
        self._body = None if payload.is_eof() else payload

    def _await_head(self, *, begun: bool) -> None:
        """A head is awaited (`begun`: part of it came): start its deadline unless running."""
        self._head_begun = self._head_begun or begun
        if self._head_timer is None and self._head_timeout > 0:
            self._head_timer = self._loop.call_later(self._head_timeout, self._head_overdue)

    def _stop_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_overdue(self) -> None:
        self._head_timer = None
        if self._force_close or self._close or self.transport is None:
            return
        if self._request_in_progress or self._messages:
            # a pipelined head waits behind an answer still going: its time starts again
            self._await_head(begun=False)
            return
        waiter = self._waiter
        if not self._head_begun or waiter is None or waiter.done():
            self.force_close()
            return
        # answered by the protocol's loop as aiohttp answers a refusal (handle_error below)
        error = HeadTimeout(message="The request's head did not arrive in time")
        self._messages.append((_ErrInfo(error.code, error, error.message), EMPTY_PAYLOAD))
        waiter.set_result(None)
        self.close()  # read nothing more

    def handle_error(
        self,
        request: BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        """The answer to a request the parser refused (or, past the middleware, a failure):
        JSON in the request's surface's error shape, on a connection then closed."""
        if request.writer.output_size > 0:
            raise ConnectionError("an answer is being sent already: no room for an error")
        if isinstance(exc, HttpProcessingError) and 400 <= exc.code < 500:
            status = exc.code
        if status >= 500:
            self.log_exception("Error handling request from %s", request.remote, exc_info=exc)
            text = "Internal error" if status == 500 else HTTPStatus(status).phrase
        elif isinstance(exc, HeadTimeout):
            text = exc.message
        else:
            text = refusal_message(message or exc or HTTPStatus(status).phrase)
            access_log.info("%s refused %s: %s", request.remote, status, text)
        response = error_response(request, text, status)
        response.headers["Connection"] = "close"  # aiohttp names it for HTTP/1.1 only
        response.headers["X-Content-Type-Options"] = "nosniff"  # no app signal for these
        response.force_close()
        return response


class GatewayServer(web.Server):
    """aiohttp's low-level server, making `GatewayHandler`s."""

    def __init__(self, handler: Any, *, head_timeout: float, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self.head_timeout = head_timeout

    def __call__(self) -> RequestHandler:
        return GatewayHandler(self, loop=self._loop, head_timeout=self.head_timeout,
                              **self._kwargs)  # fmt: skip


class GatewayRunner(web.AppRunner):
    """`web.AppRunner` whose server is a `GatewayServer`, timed by the app's settings."""

    async def _make_server(self) -> web.Server:
        made = await super()._make_server()
        return GatewayServer(
            made.request_handler,
            request_factory=made.request_factory,
            handler_cancellation=made.handler_cancellation,
            loop=made._loop,
            head_timeout=self.app[SETTINGS].header_timeout,
            **made._kwargs,
        )


def run(app: web.Application, host: str, port: int, loop: asyncio.AbstractEventLoop) -> None:
    """Serve `app` on `host`:`port` until SIGINT or SIGTERM: `web.run_app`'s work (which
    cannot be given a runner), on a `GatewayRunner`."""
    runner = GatewayRunner(app, access_log=None, handle_signals=True,
                           keepalive_timeout=KEEPALIVE_SECONDS)  # fmt: skip

    async def serve() -> None:
        await runner.setup()
        try:
            site = web.TCPSite(runner, host, port)
            await site.start()
            print(f"======== Running on {site.name} ========\n(Press CTRL+C to quit)", flush=True)
            await asyncio.Event().wait()
        finally:
            await runner.cleanup()

    asyncio.set_event_loop(loop)
    main = loop.create_task(serve())
    try:
        loop.run_until_complete(main)
    except (web.GracefulExit, KeyboardInterrupt):
        pass
    finally:
        if not main.done():
            main.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                loop.run_until_complete(main)
        left = asyncio.all_tasks(loop)
        for task in left:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*left, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
