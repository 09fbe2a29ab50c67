"""The HTTP floor of `bench/anchor.py`: an aiohttp server that does nothing but answer each
anchor shape's GraphQL document with the JSON PostgreSQL builds for it (the shape's floor SQL).

No authentication, no parsing or validation of GraphQL, no resolver: the request body is
decoded, its document looked up, one statement run on a pooled asyncpg connection and its text
sent back, on the event loop cytogate runs on (uvloop). It is what any server built on aiohttp
and asyncpg pays at least on this machine for the same answer, so it says how far cytogate's
own work is from the ceiling of its stack.

    python -m bench.http_floor DSN PORT PROJECT BIG SMALL
"""

from __future__ import annotations

import asyncio
import gc
import sys

import asyncpg
import orjson
import uvloop
from aiohttp import web

from bench.anchor import _shapes

POOL = 10


async def serve(dsn: str, port: int, floors: dict[str, str]) -> None:
    pool = await asyncpg.create_pool(dsn, min_size=POOL, max_size=POOL)

    async def answer(request: web.Request) -> web.Response:
        document = orjson.loads(await request.read())["query"]
        async with pool.acquire() as conn:
            text = await conn.fetchval(floors[document])
        return web.Response(body=text.encode(), content_type="application/json")

    app = web.Application()
    app.router.add_post("/graphql", answer)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    await asyncio.Event().wait()


def main(argv: list[str]) -> None:
    dsn, port, project, big, small = argv
    floors = {shape.cytogate: shape.floor for shape in _shapes(int(project), int(big), int(small))}
    gc.freeze()  # as `cytogate serve` does (gateway/app.py)
    gc.set_threshold(100_000)
    uvloop.run(serve(dsn, int(port), floors))  # the event loop `cytogate serve` runs on


if __name__ == "__main__":
    main(sys.argv[1:])
