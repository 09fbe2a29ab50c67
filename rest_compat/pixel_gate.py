"""The pixel gate: at most `CYTOGATE_PIXEL_CONCURRENCY` pixel requests of images and slices
(the routes whose checks are reused, `Route.reuse`) are handled on the event loop at once (one
by default); the others wait, parked, in arrival order. A viewer asks tens of tiles at a time,
and each one's checks, cache lookup and answer run on the event loop: without a bound, a burst
of tiles queues ahead of every other request's next step, and an annotation listing waits
behind all of them. A render goes to the render pool without its turn (rest_compat/pixels.py),
which bounds renders by its own size (`CYTOGATE_RENDER_THREADS`): the next tile's checks and
cache lookup run meanwhile. Every turn held lengthens the event loop's round, and a new
request's first steps wait one round each: with one turn instead of two under a 32-client tile
load, a listing started in 1.3 ms instead of 2.2 ms, and warm tiles were served as fast.

Other requests also go first: a pixel request that gets its turn while another request (a
listing, a write) is being handled waits for it to end, within `CYTOGATE_PIXEL_YIELD_MS` of the
moment the server stopped being free of other requests. A bound alone still left a listing's
every step queued behind the tiles inside and the HTTP work of the next ones, 3× slower than
alone under a 32-client tile load; yielding stops the tiles for the few milliseconds a listing
takes, and a tile already inside when a listing arrives yields again before it renders
(`Turn.pause`). The bound counts from the start of the busy spell, not from each tile's
arrival: under load a tile has often queued longer than any bound before its turn, and would
never yield; and once other requests have overlapped for longer than the bound, tiles stop
yielding until the server is free of them again, so a steady stream of other requests shares
the event loop with the viewer instead of starving it.

The middleware (gateway/middleware.py) takes a turn before authenticating a pixel request, so a
parked request holds no database connection, and gives it back when the answer is built (its
body is sent after); it counts the other requests with `PixelGate.other`. A relayed request
gives its turn back as soon as its checks are done (`Turn.leave`, rest_compat/pixels.py): from
then on it only waits on the external image server, which must not keep the built-in renders of
other requests waiting, nor cap the relay.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from types import TracebackType
from typing import Final

from aiohttp import web

__all__ = ["TURN", "PixelGate", "Turn"]


class PixelGate:
    """At most `size` turns held at once, each started only when no other request is being
    handled, or once other requests have been handled for `yield_seconds` without a break.

    Attributes:
        inside: the turns held now.
        waiting: the requests waiting for one.
        others: the other requests being handled now.
    """

    def __init__(self, size: int, yield_seconds: float = 0.0) -> None:
        if size < 1:
            raise ValueError(f"a pixel gate lets at least one request in, not {size}")
        if yield_seconds < 0:
            raise ValueError(f"a pixel request cannot yield {yield_seconds} s")
        self.size = size
        self.yield_seconds = yield_seconds
        self.inside = 0
        self.waiting = 0
        self.others = 0
        self._turns = asyncio.Semaphore(size)
        self._quiet = asyncio.Event()
        self._quiet.set()
        self._busy_since = 0.0

    def turn(self) -> Turn:
        """A turn, taken by `async with` and given back at its end or by `Turn.leave`."""
        return Turn(self)

    @contextlib.contextmanager
    def other(self) -> Iterator[None]:
        """Count a request that is not a pixel request while it is handled: pixel requests
        yield to it."""
        if not self.others:
            self._busy_since = asyncio.get_running_loop().time()
            self._quiet.clear()
        self.others += 1
        try:
            yield
        finally:
            self.others -= 1
            if not self.others:
                self._quiet.set()

    async def _yielded(self) -> None:
        """Wait until no other request is being handled, or until they have been for
        `yield_seconds`."""
        if self._quiet.is_set():
            return
        left = self._busy_since + self.yield_seconds - asyncio.get_running_loop().time()
        if left > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._quiet.wait(), left)


class Turn:
    """One request's turn through a `PixelGate`."""

    def __init__(self, gate: PixelGate) -> None:
        self._gate = gate
        self._held = False

    async def __aenter__(self) -> Turn:
        gate = self._gate
        gate.waiting += 1
        try:
            await gate._turns.acquire()
        finally:
            gate.waiting -= 1
        gate.inside += 1
        self._held = True
        try:
            await gate._yielded()
        except BaseException:  # cancelled while yielding: the turn goes back
            self.leave()
            raise
        return self

    async def pause(self) -> None:
        """Before rendering: yield again, within the same bound, to other requests that
        arrived since this turn began (a turn already inside would otherwise render beside
        them)."""
        if self._held:
            await self._gate._yielded()

    def leave(self) -> None:
        """Give the turn back now (at most once; the end of the `async with` does nothing
        more)."""
        if self._held:
            self._held = False
            self._gate.inside -= 1
            self._gate._turns.release()

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.leave()


#: The turn a pixel request holds (set by the middleware; absent on other routes).
TURN: Final = web.RequestKey("pixel-turn", Turn)
