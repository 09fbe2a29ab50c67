"""The pixel gate: at most `CYTOGATE_PIXEL_CONCURRENCY` pixel requests of images and slices
(the routes whose checks are reused, `Route.reuse`) are handled at once; the others wait,
parked, in arrival order. A viewer asks tens of tiles at a time, and each one's checks, cache
lookup and answer run on the event loop: without a bound, a burst of tiles queues ahead of every
other request's next step, and an annotation listing waits behind all of them.

The middleware (gateway/middleware.py) takes a turn before authenticating a pixel request, so a
parked request holds no database connection, and gives it back when the answer is built (its
body is sent after). A relayed request gives its turn back as soon as its checks are done
(`Turn.leave`, rest_compat/pixels.py): from then on it only waits on the external image server,
which must not keep the built-in renders of other requests waiting, nor cap the relay.
"""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Final

from aiohttp import web

__all__ = ["TURN", "PixelGate", "Turn"]


class PixelGate:
    """At most `size` turns held at once.

    Attributes:
        inside: the turns held now.
        waiting: the requests waiting for one.
    """

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError(f"a pixel gate lets at least one request in, not {size}")
        self.size = size
        self.inside = 0
        self.waiting = 0
        self._turns = asyncio.Semaphore(size)

    def turn(self) -> Turn:
        """A turn, taken by `async with` and given back at its end or by `Turn.leave`."""
        return Turn(self)


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
        return self

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
