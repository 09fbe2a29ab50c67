"""Benchmark: every list a client or the web UI asks for, at a million annotations
(`make bench-lists`).

The database of `make bench-scale` (one project, one image of 1 000 000 annotations by five
users, 1.5 million term links), with a lab's activity added for the run and removed after it
(bench/activity.py: 5 000 connections with their pings, 15 000 consultations, about 900 000
positions, 150 000 annotation actions, 400 000 annotation properties, 10 000 tag
associations). Each REST route and GraphQL field below is asked once to warm up, then three
times; the table gives the median at the client, the answer's status, rows and total, and
marks what takes more than 100 ms. Every answer must be a 200 without GraphQL errors: a
failing list fails the run.

    make bench-lists      (python -m bench.lists [label-substring ...])
"""

from __future__ import annotations

import asyncio
import gc
import os
import platform
import statistics
import sys
import time
from datetime import UTC, datetime
from typing import Final

import aiohttp
import orjson

from bench.activity import UA, Activity, seeded
from bench.common import HOME, PUBLIC_KEY, server_process, signed
from bench.generate import IMAGE_SIZE
from bench.run import WHOLE_LISTS, _database
from bench.scale import SIZE
from db.embedded import EmbeddedCluster
from gateway.app import GC_THRESHOLD

#: Timed runs per list, after one warm-up.
RUNS: Final = 3
#: What the table marks as slow.
SLOW_MS: Final = 100.0
DAY_MS: Final = 86_400_000

#: (label, path, query parameters or a GraphQL document)
Route = tuple[str, str, dict[str, str] | str]
#: (label, median ms, rows, total)
Timed = tuple[str, float, int, int | None]


def routes(a: Activity) -> list[Route]:
    """The lists timed, on the ids of the seeded database."""
    p, i, sl, u, admin, ann = a.project, a.image, a.slice, a.member, a.admin, a.annotation
    t, t2 = a.terms[0], a.terms[1]
    now = int(time.time() * 1000)
    page = {"max": "100"}
    show = {"showTerm": "true", "showWKT": "true", "showMeta": "true", **page}
    every = {f"show{group}": "true" for group in
             ("Term", "WKT", "Meta", "GIS", "User", "Image", "Slice", "Track")}  # fmt: skip
    side = 1_000
    view = f"{IMAGE_SIZE * 2 // 5},{IMAGE_SIZE * 2 // 5},{IMAGE_SIZE * 2 // 5 + 2 * side}," \
           f"{IMAGE_SIZE * 2 // 5 + side}"  # fmt: skip
    whole = f"0,0,{IMAGE_SIZE},{IMAGE_SIZE}"
    square = (f"POLYGON(({IMAGE_SIZE * 2 // 5} {IMAGE_SIZE * 2 // 5},"
              f"{IMAGE_SIZE * 2 // 5 + 2 * side} {IMAGE_SIZE * 2 // 5},"
              f"{IMAGE_SIZE * 2 // 5 + 2 * side} {IMAGE_SIZE * 2 // 5 + 2 * side},"
              f"{IMAGE_SIZE * 2 // 5} {IMAGE_SIZE * 2 // 5 + 2 * side},"
              f"{IMAGE_SIZE * 2 // 5} {IMAGE_SIZE * 2 // 5}))")  # fmt: skip
    listing = "/api/annotation.json"
    project_class = "be.cytomine.domain.project.Project"
    # fmt: off
    return [
        ("annotations of the project", listing, {"project": f"{p}", **page}),
        ("… with terms, WKT, meta", listing, {"project": f"{p}", **show}),
        ("… with every group", listing, {"project": f"{p}", **every, **page}),
        ("annotations of the image", listing, {"image": f"{i}", **show}),
        ("… of a user in the project", listing, {"project": f"{p}", "user": f"{u}", **show}),
        ("… of a user in the image", listing, {"image": f"{i}", "user": f"{u}", **show}),
        ("… of two users", listing, {"project": f"{p}", "users": f"{a.members[0]},{u}", **show}),
        ("… of a term", listing, {"project": f"{p}", "term": f"{t}", **show}),
        ("… of two terms", listing, {"project": f"{p}", "terms": f"{t},{t2}", **show}),
        ("… of a user and a term", listing, {"project": f"{p}", "user": f"{u}", "term": f"{t}",
                                             **show}),
        ("… of two users and two terms (image)", listing, {
            "image": f"{i}", "users": f"{a.members[0]},{u}", "terms": f"{t},{t2}", **show}),
        ("… noTerm", listing, {"project": f"{p}", "noTerm": "true", **show}),
        ("… multipleTerm", listing, {"project": f"{p}", "multipleTerm": "true", **show}),
        ("… the web UI's term list (users shown)", listing, {
            "project": f"{p}", "users": ",".join(map(str, [admin, *a.members])),
            "term": f"{t}", "showTerm": "true", "showWKT": "true", "max": "24"}),
        ("… a viewport", listing, {"image": f"{i}", "slice": f"{sl}", "bbox": view, **show}),
        ("… a viewport of a user, whole", listing, {
            "image": f"{i}", "slice": f"{sl}", "user": f"{u}", "bbox": view,
            "showTerm": "true", "showWKT": "true"}),
        ("… a bbox over the whole image", listing, {"image": f"{i}", "bbox": whole, **show}),
        ("… notReviewedOnly", listing, {"image": f"{i}", "notReviewedOnly": "true", **show}),
        ("… of a track", listing, {"image": f"{i}", "tracks": f"{a.track}", **show}),
        ("… noTrack", listing, {"image": f"{i}", "noTrack": "true", **show}),
        ("… of a tag", listing, {"project": f"{p}", "tags": f"{a.tag}", **show}),
        ("… afterThan", listing, {"project": f"{p}", "afterThan": f"{a.halfway}", **show}),
        ("… at offset 500 000", listing, {"project": f"{p}", **show, "offset": "500000"}),
        ("… search.json", "/api/annotation/search.json", {"project": f"{p}", "user": f"{u}",
                                                          **show}),
        ("… k-means of a user, zoomed out", listing, {
            "image": f"{i}", "slice": f"{sl}", "kmeans": "true", "bbox": whole, "user": f"{u}",
            "showWKT": "true", "showTerm": "true"}),
        ("reviewed annotations of the project", listing, {"project": f"{p}", "reviewed": "true",
                                                          **show}),
        ("reviewed annotations of the image", listing, {"image": f"{i}", "reviewed": "true",
                                                        **show}),
        ("reviewedannotation.json", "/api/reviewedannotation.json", page),
        ("annotations included in a geometry", f"/api/imageinstance/{i}/annotation/included.json",
         {"geometry": square, **page}),
        ("annotations included in an annotation",
         f"/api/imageinstance/{i}/annotation/included.json", {"annotation": f"{ann}", **page}),
        ("userannotation.json (light list)", "/api/userannotation.json", page),
        ("an annotation", f"/api/annotation/{ann}.json", {}),
        ("a user annotation", f"/api/userannotation/{ann}.json", {}),
        ("an annotation's terms", f"/api/annotation/{ann}/term.json", {}),
        ("an annotation's comments", f"/api/userannotation/{ann}/comment.json", page),
        ("an annotation's tracks", f"/api/annotation/{ann}/annotationtrack.json", {}),
        # counts
        ("annotation count of the project", f"/api/project/{p}/userannotation/count.json", {}),
        ("… between two dates", f"/api/project/{p}/userannotation/count.json", {
            "startDate": f"{a.halfway - 365 * DAY_MS}", "endDate": f"{now}"}),
        ("annotation count of a user", f"/api/user/{u}/userannotation/count.json", {}),
        ("… in the project", f"/api/user/{u}/userannotation/count.json", {"project": f"{p}"}),
        ("annotation index of the slice", f"/api/sliceinstance/{sl}/annotationindex.json", {}),
        ("reviewed count of the project", f"/api/project/{p}/reviewedannotation/count.json", {}),
        ("reviewed count of a user", f"/api/user/{u}/reviewedannotation/count.json", {}),
        ("reviewed stats of the image", f"/api/imageinstance/{i}/reviewedannotation/stats.json",
         {}),
        ("connection count", f"/api/project/{p}/userconnection/count.json", {}),
        ("consultation count", f"/api/project/{p}/imageconsultation/count.json", {}),
        ("annotation action count", f"/api/project/{p}/annotation_action/count.json", {}),
        # projects
        ("projects (the web UI's list)", "/api/project.json", {
            "withMembersCount": "true", "withLastActivity": "true",
            "withCurrentUserRoles": "true", "max": "10", "offset": "0", "sort": "created",
            "order": "desc"}),
        ("projects", "/api/project.json", page),
        ("the project", f"/api/project/{p}.json", {}),
        ("projects of a user", f"/api/user/{u}/project.json", page),
        ("… light", f"/api/user/{u}/project/light.json", page),
        ("projects of the ontology", f"/api/ontology/{a.ontology}/project.json", page),
        ("project bounds", "/api/bounds/project.json", {"withMembersCount": "true"}),
        ("projects last opened", "/api/project/method/lastopened.json", {"max": "5"}),
        ("members", f"/api/project/{p}/user.json", page),
        ("… the web UI's list (activity)", f"/api/project/{p}/user.json", {
            "withLastImage": "true", "withLastConsultation": "true",
            "withNumberConsultations": "true", "max": "10", "offset": "0"}),
        ("… online", f"/api/project/{p}/user.json", {"online": "true", **page}),
        ("managers", f"/api/project/{p}/admin.json", page),
        ("representatives", f"/api/project/{p}/users/representative.json", {}),
        ("user layers", f"/api/project/{p}/userlayer.json", {}),
        ("default layers", f"/api/project/{p}/defaultlayer.json", {}),
        ("terms of the project", f"/api/project/{p}/term.json", {}),
        ("the ontology", f"/api/ontology/{a.ontology}.json", {}),
        # images
        ("images of the project", f"/api/project/{p}/imageinstance.json", page),
        ("… the web UI's list (last activity)", f"/api/project/{p}/imageinstance.json", {
            "withLastActivity": "true", "max": "10", "offset": "0", "sort": "created",
            "order": "desc"}),
        ("… light", f"/api/project/{p}/imageinstance.json", {"light": "true", **page}),
        ("… tree", f"/api/project/{p}/imageinstance.json", {"tree": "true", **page}),
        ("… bounds", f"/api/project/{p}/bounds/imageinstance.json", {}),
        ("the image", f"/api/imageinstance/{i}.json", {}),
        ("the next image", f"/api/imageinstance/{i}/next.json", {}),
        ("slices of the image", f"/api/imageinstance/{i}/sliceinstance.json", {}),
        ("images last opened", "/api/imageinstance/method/lastopened.json", {"max": "5"}),
        ("images of a user (the caller)", f"/api/user/{admin}/imageinstance.json", page),
        ("… light", f"/api/user/{admin}/imageinstance/light.json", page),
        # users
        ("users", "/api/user.json", page),
        ("the current user", "/api/user/current.json", {}),
        ("a user", f"/api/user/{u}.json", {}),
        ("users of the ontology", f"/api/ontology/{a.ontology}/user.json", {}),
        ("a user's friends in the project", f"/api/user/{u}/friends.json", {"project": f"{p}"}),
        ("… offline", f"/api/user/{u}/friends.json", {"offline": "true"}),
        # activity
        ("connections of a user", f"/api/project/{p}/userconnection/{u}.json", page),
        ("connection history of a user", f"/api/project/{p}/connectionHistory/{u}.json", page),
        ("… at offset 100", f"/api/project/{p}/connectionHistory/{u}.json", {
            "max": "100", "offset": "100"}),
        ("last connections", f"/api/project/{p}/lastConnection.json", {}),
        ("… of a user", f"/api/project/{p}/lastConnection/{u}.json", {}),
        ("connection frequency", f"/api/project/{p}/connectionFrequency.json", {}),
        ("… of a user", f"/api/project/{p}/connectionFrequency/{u}.json", {}),
        ("… heatmap", f"/api/project/{p}/connectionFrequency.json", {"heatmap": "true"}),
        ("… by day", f"/api/project/{p}/connectionFrequency.json", {
            "period": "day", "afterThan": f"{now - 730 * DAY_MS}"}),
        ("… of every project by hour", "/api/connectionFrequency.json", {
            "period": "hour", "afterThan": f"{now - 30 * DAY_MS}"}),
        ("average connections", "/api/averageConnections.json", {"period": "hour",
                                                                  "project": f"{p}"}),
        ("a connection's consultations (newest)", f"/api/projectConnection/"
         f"{a.connections[0]}.json", page),
        ("… (second newest)", f"/api/projectConnection/{a.connections[1]}.json", page),
        ("consultations of a user", f"/api/project/{p}/user/{u}/imageconsultation.json", page),
        ("… distinct images", f"/api/project/{p}/user/{u}/imageconsultation.json", {
            "distinctImages": "true"}),
        ("last images", f"/api/project/{p}/lastImages.json", {}),
        ("consultation resume", "/api/imageconsultation/resume.json", {
            "project": f"{p}", "user": f"{u}"}),
        ("last position of a user", f"/api/imageinstance/{i}/position/{u}.json", {}),
        ("positions summary of a user", f"/api/imageinstance/{i}/positions.json", {
            "user": f"{u}"}),
        ("positions summary", f"/api/imageinstance/{i}/positions.json", {}),
        ("positions", f"/api/imageinstance/{i}/positions.json", {"showDetails": "true", **page}),
        ("… of a user", f"/api/imageinstance/{i}/positions.json", {
            "showDetails": "true", "user": f"{u}", **page}),
        ("positions of the slice", f"/api/sliceinstance/{sl}/positions.json", {
            "showDetails": "true", **page}),
        ("users online on the image", f"/api/imageinstance/{i}/online.json", {}),
        ("followers", f"/api/imageinstance/{i}/followers/{admin}.json", {}),
        ("users online in the project", f"/api/project/{p}/online/user.json", {}),
        ("annotation actions of the image", f"/api/imageinstance/{i}/annotation_action.json",
         page),
        ("… of a user", f"/api/imageinstance/{i}/annotation_action.json", {"user": f"{u}",
                                                                            **page}),
        ("annotation actions of the slice", f"/api/sliceinstance/{sl}/annotation_action.json",
         page),
        ("users' activity", f"/api/project/{p}/usersActivity.json", {}),
        ("activity resume of a user", f"/api/project/{p}/resumeActivity/{u}.json", {}),
        # properties, descriptions, tags, tracks, files
        ("annotation property keys of the project", "/api/annotation/property/key.json", {
            "idProject": f"{p}"}),
        ("… of the image", "/api/annotation/property/key.json", {"idImage": f"{i}"}),
        ("… with their authors", "/api/annotation/property/key.json", {
            "idProject": f"{p}", "user": "true"}),
        ("image property keys", "/api/imageinstance/property/key.json", {"idProject": f"{p}"}),
        ("annotation property positions", f"/api/user/{u}/imageinstance/{i}/"
         "annotationposition.json", {"key": "score"}),
        ("… in a viewport", f"/api/user/{u}/imageinstance/{i}/annotationposition.json", {
            "key": "score", "bbox": view}),
        ("properties of an annotation", f"/api/annotation/{ann}/property.json", {}),
        ("… by domain", f"/api/domain/{UA}/{ann}/property.json", {}),
        ("properties of the project", f"/api/project/{p}/property.json", {}),
        ("properties of the image", f"/api/imageinstance/{i}/property.json", {}),
        ("description of the project", f"/api/domain/{project_class}/{p}/description.json",
         {}),
        ("descriptions", "/api/description.json", page),
        ("attached files", "/api/attachedfile.json", page),
        ("… of the project", f"/api/domain/{project_class}/{p}/attachedfile.json", {}),
        ("tags", "/api/tag.json", page),
        ("tag associations", "/api/tag_domain_association.json", page),
        ("… of an annotation", f"/api/domain/{UA}/{ann}/tag_domain_association.json", {}),
        ("tracks of the project", f"/api/project/{p}/track.json", page),
        ("tracks of the image", f"/api/imageinstance/{i}/track.json", page),
        ("annotations of a track", f"/api/track/{a.track}/annotationtrack.json", {}),
        # commands
        ("command history", "/api/commandhistory.json", page),
        ("… of the project", f"/api/project/{p}/commandhistory.json", page),
        ("… of the project and a user", f"/api/project/{p}/commandhistory.json", {
            "user": f"{admin}", **page}),
        ("last commands of the project", f"/api/project/{p}/last/10.json", {}),
        ("deleted commands", "/api/deletecommand.json", page),
        # GraphQL
        ("GraphQL: a term's annotations", "/graphql",
         f"{{ term(id: {t}) {{ annotations(first: 100) {{ totalCount nodes {{ id }} }} }} }}"),
        ("GraphQL: a user's annotations", "/graphql",
         f"{{ user(id: {u}) {{ annotations(first: 100) {{ totalCount nodes {{ id }} }} }} }}"),
        ("GraphQL: the project's annotations of a user", "/graphql",
         f"{{ project(id: {p}) {{ annotations(first: 100, filter: {{users: [{u}]}}) "
         "{ totalCount nodes { id } } } }"),
        ("… without their total", "/graphql",
         f"{{ project(id: {p}) {{ annotations(first: 100, filter: {{users: [{u}]}}) "
         "{ nodes { id } } } }"),
        ("GraphQL: a user's connections and their metrics", "/graphql",
         f"{{ project(id: {p}) {{ connections(user: {u}, first: 100) {{ totalCount nodes {{ "
         "id time countViewedImages countCreatedAnnotations } } } }"),
        ("GraphQL: a user's consultations", "/graphql",
         f"{{ project(id: {p}) {{ consultations(user: {u}, first: 100) {{ totalCount nodes {{ "
         "id time countCreatedAnnotations } } } }"),
        ("GraphQL: the image's positions", "/graphql",
         f"{{ imageInstance(id: {i}) {{ positions(first: 100) "
         "{ totalCount nodes { id } } } }"),
        ("GraphQL: project counters and members", "/graphql",
         f"{{ project(id: {p}) {{ numberOfAnnotations numberOfImages membersCount "
         "members(first: 100) { totalCount nodes { role user { id } } } } }"),
    ]
    # fmt: on


def _size(body: object) -> tuple[int, int | None]:
    """Rows in an answer, and the total it announces (a page's `size`, a count's `total`)."""
    if isinstance(body, list):
        return len(body), None
    if not isinstance(body, dict):
        return 1, None
    if isinstance(body.get("collection"), list):
        return len(body["collection"]), body.get("size")
    if isinstance(body.get("data"), dict):
        text = orjson.dumps(body["data"]).decode()
        total = text.partition('"totalCount":')[2].split(",", 1)[0].split("}", 1)[0]
        return text.count('"id":'), int(total) if total.isdigit() else None
    return 1, body.get("total")


async def _ask(session: aiohttp.ClientSession, base: str, route: Route) -> tuple[float, object]:
    """Milliseconds until the whole answer is read, and the answer (a failure raises)."""
    label, path, query = route
    started = time.perf_counter()
    if isinstance(query, str):
        request = session.post(base + path, data=orjson.dumps({"query": query}),
                               headers=signed("POST", "application/json"))  # fmt: skip
    else:
        request = session.get(base + path, params=query, headers=signed("GET"))
    async with request as response:
        raw = await response.read()
    took = (time.perf_counter() - started) * 1000
    body = orjson.loads(raw) if raw else None
    if response.status != 200 or (isinstance(body, dict) and body.get("errors")):
        raise RuntimeError(f"{label}: {path} {query} answered {response.status} {raw[:300]!r}")
    return took, body


async def _time(base: str, chosen: list[Route]) -> list[Timed]:
    """(label, median ms, rows, total) of each route."""
    results = []
    timeout = aiohttp.ClientTimeout(total=600)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        for route in chosen:
            await _ask(session, base, route)
            times, body = [], None
            for _ in range(RUNS):
                took, body = await _ask(session, base, route)
                times.append(took)
            rows, total = _size(body)
            results.append((route[0], statistics.median(times), rows, total))
            print(f"{results[-1][1]:10.1f} ms  {route[0]}", file=sys.stderr, flush=True)
    return results


def measure(cluster: EmbeddedCluster, filters: list[str]) -> tuple[Activity, list[Timed]]:
    """The seeded scene and the chosen routes' times (every route without filters)."""
    url, _ = asyncio.run(_database(cluster, SIZE))
    dsn = url.replace("postgresql+asyncpg://", "postgresql://")

    async def seed_and_time() -> tuple[Activity, list[Timed]]:
        async with seeded(dsn, PUBLIC_KEY) as activity:
            chosen = [r for r in routes(activity) if not filters
                      or any(f in r[0] for f in filters)]  # fmt: skip
            with server_process(url, WHOLE_LISTS) as (base, _):
                return activity, await _time(base, chosen)

    return asyncio.run(seed_and_time())


def main(argv: list[str]) -> None:
    gc.set_threshold(*GC_THRESHOLD)
    cluster = EmbeddedCluster(HOME, durable=False)
    cluster.start()
    try:
        activity, results = measure(cluster, argv)
    finally:
        cluster.stop()
    slow = [r for r in results if r[1] > SLOW_MS]
    print(f"{datetime.now(UTC):%Y-%m-%d}, {platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}; {SIZE:,} annotations on one image; seeded: "
          + ", ".join(f"{n:,} {table}" for table, n in activity.counts.items()) + "\n")  # fmt: skip
    print(f"{len(results) - len(slow)} of {len(results)} lists within {SLOW_MS:.0f} ms "
          f"(median of {RUNS} at the client, after a warm-up)\n")  # fmt: skip
    print("| list | ms | rows | total |\n|---|---:|---:|---:|")
    for label, ms, rows, total in results:
        mark = f"**{ms:,.1f}**" if ms > SLOW_MS else f"{ms:,.1f}"
        print(f"| {label} | {mark} | {rows:,} | {'' if total is None else f'{total:,}'} |")


if __name__ == "__main__":
    main(sys.argv[1:])
