"""Load and fault benchmark: many clients at once against one `cytogate serve` process.

N clients (asyncio tasks on one aiohttp session, loopback only) run for a fixed time, each as
one of five project members, mixing REST and GraphQL reads (listings, single annotations, a
nested project → images → annotations query) with writes (annotation create, update, delete,
term add; REST and GraphQL; REST arrays of 50 annotations). Every run is bounded in time and
in requests. Afterwards every counter the server keeps (annotations per image, per project,
per user and slice) is compared with a recount in SQL, and each term's count through the
listing with a recount.

Then the same load with PostgreSQL stopped for a few seconds in the middle of the run: the table
splits the errors into those of requests started while it was down (503 with Retry-After is the
expected answer) and those started after it came back (there must be none).

    make bench-load                 (python -m bench.load [SECONDS] [CLIENTS ...])
"""

from __future__ import annotations

import asyncio
import os
import platform
import random
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

import aiohttp
import asyncpg
import orjson

from bench.common import HOME, server, signed
from db.embedded import EmbeddedCluster
from db.migrate import upgrade

DATABASE: Final = "bench_load"
SECONDS: Final = 60
CLIENTS: Final = (50, 200)
MAX_REQUESTS: Final = 1_000_000
MEMBERS: Final = 5
TERMS: Final = ("Tumour", "Stroma", "Necrosis", "Immune", "Other")
IMAGES: Final = 4
SEEDED: Final = 2_000
#: When PostgreSQL stops in the restart run (share of the run) and for how long (seconds).
RESTART_AT: Final = 0.3
DOWN_FOR: Final = 5.0

#: Annotations per REST array in the mix.
ARRAY: Final = 50
#: Relative weights of the actions in the mix.
MIX: Final = {
    "GET annotation.json (listing)": 22,
    "GET userannotation/{id}.json": 13,
    "POST graphql annotations": 14,
    "POST graphql nested project": 8,
    "POST annotation.json (create)": 12,
    "PUT userannotation/{id}.json": 9,
    "POST annotation/{id}/term/{t}.json": 8,
    "DELETE userannotation/{id}.json": 6,
    "POST graphql annotationCreate": 8,
    f"POST annotation.json (array of {ARRAY})": 3,
}

LISTING: Final = """
query($image: Long!) {
  annotations(filter: {image: $image}, first: 100) {
    totalCount nodes { id area perimeter location termIds user { username } }
  }
}"""
NESTED: Final = """
query($project: Long!) {
  project(id: $project) {
    name ontology { name terms { id name } }
    images(first: 10) { totalCount nodes { id instanceFilename numberOfAnnotations } }
  }
  annotations(filter: {project: $project}, first: 50) {
    nodes { id location image { id } terms { term { name } user { username } } }
  }
}"""
CREATE: Final = """
mutation($input: AnnotationInput!) { annotationCreate(input: $input) { annotation { id } } }"""


@dataclass
class Member:
    """A project member the clients act as: REST signs with their keys, GraphQL sends their
    bearer token."""

    id: int
    public_key: str
    private_key: str
    token: str


@dataclass
class World:
    base: str
    project: int
    images: list[int]
    terms: list[int]
    members: list[Member]
    seeded: list[int]


@dataclass
class Stats:
    """Latencies and errors, per route; errors split at `resumed` (restart run)."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    examples: dict[str, str] = field(default_factory=dict)
    during: int = 0
    after: int = 0
    statuses_during: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    requests: int = 0


@dataclass
class Window:
    """When PostgreSQL was down in the restart run (monotonic seconds; None: never)."""

    paused: float | None = None
    resumed: float | None = None


class Client:
    """One simulated user: a loop of actions drawn from `MIX` until the deadline."""

    def __init__(self, session: aiohttp.ClientSession, world: World, member: Member,
                 stats: Stats, window: Window, rng: random.Random) -> None:  # fmt: skip
        self.session, self.world, self.member = session, world, member
        self.stats, self.window, self.rng = stats, window, rng
        #: The annotations this client made, with the terms each carries.
        self.mine: dict[int, set[int]] = {}
        self.actions: dict[str, Callable[[], Awaitable[tuple[int, bytes]]]] = {
            "GET annotation.json (listing)": self.rest_listing,
            "GET userannotation/{id}.json": self.rest_single,
            "POST graphql annotations": self.graphql_listing,
            "POST graphql nested project": self.graphql_nested,
            "POST annotation.json (create)": self.rest_create,
            "PUT userannotation/{id}.json": self.rest_update,
            "POST annotation/{id}/term/{t}.json": self.rest_term,
            "DELETE userannotation/{id}.json": self.rest_delete,
            "POST graphql annotationCreate": self.graphql_create,
            f"POST annotation.json (array of {ARRAY})": self.rest_array,
        }
        self.names = list(MIX)
        self.weights = [MIX[name] for name in self.names]

    async def run(self, deadline: float) -> None:
        while time.monotonic() < deadline and self.stats.requests < MAX_REQUESTS:
            name = self.rng.choices(self.names, self.weights)[0]
            if name in ("PUT userannotation/{id}.json", "DELETE userannotation/{id}.json",
                        "POST annotation/{id}/term/{t}.json") and not self.mine:  # fmt: skip
                name = "POST annotation.json (create)"
            started = time.monotonic()
            self.stats.requests += 1
            try:
                status, body = await self.actions[name]()
            except (aiohttp.ClientError, TimeoutError) as error:
                status, body = 599, repr(error).encode()
            self._record(name, started, status, body)

    def _record(self, name: str, started: float, status: int, body: bytes) -> None:
        elapsed = (time.monotonic() - started) * 1000
        failed = status >= 400 or b'"errors"' in body[:300]
        if not failed:
            self.stats.latencies[name].append(elapsed)
            return
        window = self.window
        if (
            window.paused is not None
            and started < (window.resumed or float("inf"))
            and (started + elapsed / 1000 >= window.paused)
        ):
            self.stats.during += 1
            self.stats.statuses_during[status] += 1
            return
        if window.resumed is not None and started >= window.resumed:
            self.stats.after += 1
        self.stats.errors[name] += 1
        self.stats.examples.setdefault(name, f"{status} {body[:300]!r}")

    # --- requests ----------------------------------------------------------------------------

    async def _rest(self, method: str, path: str, body: Any = None) -> tuple[int, bytes]:
        data = None if body is None else orjson.dumps(body)
        content_type = "application/json" if method in ("POST", "PUT", "DELETE") else ""
        headers = signed(method, content_type, self.member.public_key, self.member.private_key)
        async with self.session.request(method, self.world.base + path, data=data,
                                        headers=headers) as response:  # fmt: skip
            return response.status, await response.read()

    async def _graphql(self, query: str, variables: dict[str, Any]) -> tuple[int, bytes]:
        headers = {"authorization": f"Bearer {self.member.token}",
                   "content-type": "application/json"}  # fmt: skip
        payload = orjson.dumps({"query": query, "variables": variables})
        async with self.session.post(self.world.base + "/graphql", data=payload,
                                     headers=headers) as response:  # fmt: skip
            return response.status, await response.read()

    def _image(self) -> int:
        return self.rng.choice(self.world.images)

    def _polygon(self) -> str:
        x, y = self.rng.randrange(0, 9_000), self.rng.randrange(0, 9_000)
        return f"POLYGON (({x} {y}, {x + 40} {y}, {x + 40} {y + 30}, {x} {y}))"

    async def rest_listing(self) -> tuple[int, bytes]:
        return await self._rest(
            "GET", f"/api/annotation.json?image={self._image()}&max=100&showTerm=true&showWKT=true"
        )

    async def rest_single(self) -> tuple[int, bytes]:
        annotation = self.rng.choice(self.world.seeded)
        return await self._rest("GET", f"/api/userannotation/{annotation}.json")

    async def graphql_listing(self) -> tuple[int, bytes]:
        return await self._graphql(LISTING, {"image": self._image()})

    async def graphql_nested(self) -> tuple[int, bytes]:
        return await self._graphql(NESTED, {"project": self.world.project})

    async def rest_create(self) -> tuple[int, bytes]:
        term = self.rng.choice(self.world.terms)
        status, body = await self._rest("POST", "/api/annotation.json", {
            "location": self._polygon(), "image": self._image(), "term": [term]})  # fmt: skip
        if status == 200:
            self.mine[orjson.loads(body)["annotation"]["id"]] = {term}
        return status, body

    async def graphql_create(self) -> tuple[int, bytes]:
        term = self.rng.choice(self.world.terms)
        status, body = await self._graphql(CREATE, {"input": {
            "location": self._polygon(), "image": self._image(), "terms": [term]}})  # fmt: skip
        data = orjson.loads(body) if status == 200 else {}
        if (data.get("data") or {}).get("annotationCreate"):
            self.mine[int(data["data"]["annotationCreate"]["annotation"]["id"])] = {term}
        return status, body

    async def rest_array(self) -> tuple[int, bytes]:
        """A batch on one image, as an algorithm writes its results (counted by the batch's
        last statement, beside the single writers' triggers)."""
        term, image = self.rng.choice(self.world.terms), self._image()
        status, body = await self._rest("POST", "/api/annotation.json", [
            {"location": self._polygon(), "image": image, "term": [term]}
            for _ in range(ARRAY)])  # fmt: skip
        # the answer is HTTP 200 whatever became of the elements (core.md §3.3): the run
        # counts the array failed unless its body says every element was created
        if status == 200 and orjson.loads(body).get("status") != 200:
            status = 400
        return status, body

    async def rest_update(self) -> tuple[int, bytes]:
        annotation = self.rng.choice(list(self.mine))
        return await self._rest("PUT", f"/api/userannotation/{annotation}.json",
                                {"id": annotation, "location": self._polygon()})  # fmt: skip

    async def rest_term(self) -> tuple[int, bytes]:
        """Put on one of its annotations a term it does not carry yet."""
        annotation = self.rng.choice(list(self.mine))
        missing = [t for t in self.world.terms if t not in self.mine[annotation]]
        if not missing:
            return await self.rest_update()
        term = self.rng.choice(missing)
        self.mine[annotation].add(term)
        return await self._rest("POST", f"/api/annotation/{annotation}/term/{term}.json", {})

    async def rest_delete(self) -> tuple[int, bytes]:
        annotation = self.rng.choice(list(self.mine))
        del self.mine[annotation]
        return await self._rest("DELETE", f"/api/userannotation/{annotation}.json")


# --- set-up ----------------------------------------------------------------------------------


async def _admin(session: aiohttp.ClientSession, base: str, method: str, path: str,
                 body: Any = None) -> Any:  # fmt: skip
    data = None if body is None else orjson.dumps(body)
    content_type = "application/json" if body is not None else ""
    async with session.request(method, base + path, data=data,
                               headers=signed(method, content_type)) as response:  # fmt: skip
        text = await response.read()
        if response.status != 200:
            raise RuntimeError(f"{method} {path}: {response.status} {text[:300]!r}")
        return orjson.loads(text)


async def seed(base: str) -> World:
    """Members, an ontology, a project with `IMAGES` images and `SEEDED` annotations."""
    async with aiohttp.ClientSession() as session:
        members: list[Member] = []
        for i in range(MEMBERS):
            name = f"member{i}-{os.getpid()}"
            user = (await _admin(session, base, "POST", "/api/user.json", {
                "username": name, "firstname": name, "lastname": "Bench",
                "email": f"{name}@example.org", "password": "bench-password"}))["user"]  # fmt: skip
            keys = await _admin(session, base, "GET", f"/api/user/{user['id']}/keys.json")
            async with session.post(base + "/api/authenticate", json={
                    "username": name, "password": "bench-password"}) as login:  # fmt: skip
                token = (await login.json())["token"]
            members.append(Member(user["id"], keys["publicKey"], keys["privateKey"], token))
        ontology = (await _admin(session, base, "POST", "/api/ontology.json",
                                 {"name": f"load-{os.getpid()}"}))["ontology"]  # fmt: skip
        terms = [(await _admin(session, base, "POST", "/api/term.json", {
            "name": name, "ontology": ontology["id"], "color": "#AA0000"}))["term"]["id"]
            for name in TERMS]  # fmt: skip
        project = (await _admin(session, base, "POST", "/api/project.json", {
            "name": f"load-{os.getpid()}", "ontology": ontology["id"],
            "users": [m.id for m in members]}))["project"]  # fmt: skip
        storage = (await _admin(session, base, "GET", "/api/storage.json"))["collection"][0]
        admin = await _admin(session, base, "GET", "/api/user/current.json")
        images = []
        for i in range(IMAGES):
            upload = (await _admin(session, base, "POST", "/api/uploadedfile.json", {
                "originalFilename": f"slide-{i}.svs", "filename": f"load/slide-{i}.svs",
                "ext": "svs", "contentType": "openslide/svs", "storage": storage["id"],
                "size": 1, "status": 100, "user": admin["id"]}))["uploadedfile"]  # fmt: skip
            abstract = (await _admin(session, base, "POST", "/api/abstractimage.json", {
                "uploadedFile": upload["id"], "originalFilename": f"slide-{i}.svs",
                "width": 10_000, "height": 10_000}))["abstractimage"]  # fmt: skip
            await _admin(session, base, "POST", "/api/abstractslice.json", {
                "image": abstract["id"], "uploadedFile": upload["id"], "mime": "openslide/svs",
                "channel": 0, "zStack": 0, "time": 0})  # fmt: skip
            image = (
                await _admin(
                    session,
                    base,
                    "POST",
                    "/api/imageinstance.json",
                    {"baseImage": abstract["id"], "project": project["id"]},
                )
            )["imageinstance"]
            images.append(image["id"])
        rng = random.Random(1)
        for start in range(0, SEEDED, 500):
            body = []
            for i in range(start, min(start + 500, SEEDED)):
                x, y = rng.randrange(0, 9_000), rng.randrange(0, 9_000)
                body.append({"location": f"POLYGON (({x} {y}, {x + 50} {y}, {x + 25} {y + 40}, "
                                         f"{x} {y}))", "image": images[0] if i < SEEDED // 2
                             else rng.choice(images), "term": [rng.choice(terms)]})  # fmt: skip
            await _admin(session, base, "POST", "/api/annotation.json", body)
        listed = await _admin(session, base, "GET",
                              f"/api/annotation.json?project={project['id']}&max=0")  # fmt: skip
        seeded = [a["id"] for a in listed["collection"]]
    return World(base, project["id"], images, terms, members, seeded)


# --- checks ----------------------------------------------------------------------------------

RECOUNTS: Final = {
    "annotations per image": """
        SELECT count(*) FROM image_instance i WHERE i.count_image_annotations <>
          (SELECT count(*) FROM user_annotation a WHERE a.image_id = i.id)""",
    "annotations per project": """
        SELECT count(*) FROM project p WHERE p.count_annotations <>
          (SELECT count(*) FROM user_annotation a WHERE a.project_id = p.id)""",
    "annotations per user and slice": """
        SELECT count(*) FROM (
          SELECT coalesce(x.user_id, c.user_id), coalesce(x.count_annotation, 0) AS kept,
                 coalesce(c.n, 0) AS counted
          FROM annotation_index x FULL JOIN (
            SELECT user_id, slice_id, count(*) AS n FROM user_annotation GROUP BY 1, 2
          ) c ON c.user_id = x.user_id AND c.slice_id = x.slice_id) d
        WHERE kept <> counted""",
}


async def check_counters(dsn: str, world: World) -> dict[str, str]:
    """Each kept counter against a recount (the number of rows that disagree), and each term's
    count through the listing against a recount."""
    results: dict[str, str] = {}
    conn = await asyncpg.connect(dsn)
    try:
        for name, sql in RECOUNTS.items():
            wrong = await conn.fetchval(sql)
            results[name] = "exact" if wrong == 0 else f"{wrong} wrong"
        async with aiohttp.ClientSession() as session:
            wrong_terms = 0
            for term in world.terms:
                counted = await conn.fetchval(
                    "SELECT count(DISTINCT t.user_annotation_id) FROM annotation_term t "
                    "JOIN user_annotation a ON a.id = t.user_annotation_id "
                    "WHERE t.term_id = $1 AND a.project_id = $2",
                    term,
                    world.project,
                )
                listed = await _admin(session, world.base, "GET", "/api/annotation.json?project="
                                      f"{world.project}&term={term}&max=1")  # fmt: skip
                wrong_terms += listed["size"] != counted
            results["annotations per term"] = "exact" if not wrong_terms else f"{wrong_terms} wrong"
    finally:
        await conn.close()
    return results


# --- runs ------------------------------------------------------------------------------------


async def load(world: World, clients: int, seconds: float,
               restart: EmbeddedCluster | None = None) -> tuple[Stats, Window, float]:  # fmt: skip
    """`clients` clients for `seconds`; with `restart`, PostgreSQL stops for `DOWN_FOR` s."""
    stats, window = Stats(), Window()
    connector = aiohttp.TCPConnector(limit=clients, force_close=False)
    timeout = aiohttp.ClientTimeout(total=60)
    started = time.monotonic()
    deadline = started + seconds
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        tasks = [asyncio.create_task(Client(session, world, world.members[i % MEMBERS], stats,
                                            window, random.Random(i)).run(deadline))
                 for i in range(clients)]  # fmt: skip
        if restart is not None:
            await asyncio.sleep(seconds * RESTART_AT)
            window.paused = time.monotonic()
            await asyncio.to_thread(restart.pause)
            await asyncio.sleep(DOWN_FOR)
            await asyncio.to_thread(restart.resume)
            window.resumed = time.monotonic()
        await asyncio.gather(*tasks)
    return stats, window, time.monotonic() - started


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _row(name: str, times: list[float], elapsed: float, errors: int) -> str:
    p50, p95, p99 = (statistics.median(times), _percentile(times, 0.95),
                     _percentile(times, 0.99))  # fmt: skip
    return (f"| {name} | {len(times):,} | {len(times) / elapsed:,.1f} | {p50:,.1f} | "
            f"{p95:,.1f} | {p99:,.1f} | {errors} |")  # fmt: skip


def report(title: str, stats: Stats, elapsed: float, counters: dict[str, str],
           window: Window) -> str:  # fmt: skip
    lines = [f"#### {title}", "",
             "| route | ok | req/s | p50 ms | p95 ms | p99 ms | errors |",
             "|---|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
    for name in MIX:
        times = stats.latencies.get(name, [])
        if times:
            lines.append(_row(name, times, elapsed, stats.errors.get(name, 0)))
        else:
            lines.append(f"| {name} | 0 | 0 | – | – | – | {stats.errors.get(name, 0)} |")
    everything = [t for times in stats.latencies.values() for t in times]
    lines.append(_row("**all**", everything, elapsed, sum(stats.errors.values())))
    lines.append("")
    if window.paused is not None:
        statuses = ", ".join(f"{n} × {s}" for s, n in sorted(stats.statuses_during.items()))
        lines.append(f"PostgreSQL down {DOWN_FOR:g} s: {stats.during} requests failed while it "
                     f"was down ({statuses or 'none'}); {stats.after} failed after it came "
                     "back.")  # fmt: skip
    lines.append("Counters after the run: " + "; ".join(f"{k}: {v}" for k, v in counters.items()))
    for name, example in stats.examples.items():
        lines.append(f"- first error of {name}: `{example}`")
    return "\n".join(lines)


async def _fresh_database(cluster: EmbeddedCluster) -> str:
    admin = await asyncpg.connect(host=str(cluster._socket_dir), user="cytogate",
                                  database="postgres")  # fmt: skip
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{DATABASE}"')
    finally:
        await admin.close()
    url = await cluster.ensure_database(DATABASE)
    await asyncio.to_thread(upgrade, url)
    return url


def main(argv: list[str]) -> None:
    seconds = float(argv[0]) if argv else SECONDS
    sizes = [int(arg) for arg in argv[1:]] or list(CLIENTS)
    cluster = EmbeddedCluster(HOME, durable=False)
    cluster.start()
    sections = []
    try:
        url = asyncio.run(_fresh_database(cluster))
        dsn = url.replace("postgresql+asyncpg://", "postgresql://")
        with server(url) as base:
            world = asyncio.run(seed(base))
            for clients in sizes:
                stats, window, elapsed = asyncio.run(load(world, clients, seconds))
                counters = asyncio.run(check_counters(dsn, world))
                sections.append(report(f"{clients} clients, {seconds:g} s", stats, elapsed,
                                       counters, window))  # fmt: skip
            clients = max(sizes)
            stats, window, elapsed = asyncio.run(load(world, clients, seconds, cluster))
            counters = asyncio.run(check_counters(dsn, world))
            sections.append(report(f"{clients} clients, {seconds:g} s, PostgreSQL restarted",
                                   stats, elapsed, counters, window))  # fmt: skip
    finally:
        cluster.stop()
    print(f"{datetime.now(UTC):%Y-%m-%d}, {platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}; one `cytogate serve` process, pool "
          f"{os.environ.get('CYTOGATE_DB_POOL_SIZE', '10')}; the load generator on the same "
          "machine\n")  # fmt: skip
    print("\n\n".join(sections))


if __name__ == "__main__":
    main(sys.argv[1:])
