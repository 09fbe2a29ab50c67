"""Activity through raw REST: exact JSON of every record and listing, the values computed when
records close, counts, frequencies, resumes, presence and who is online (contract core.md
§9.1, §9.16–§9.19)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from db.engine import Database
from resolvers.activity import ActivityRecorder
from resolvers.activity.rows import CONNECTION_TABLE
from tests.activity.conftest import flush, ok, open_project, viewport
from tests.factories import abstract_image, add_image, make_project
from tests.harness import assert_error
from tests.tag.test_statements import run

T0 = datetime(2025, 1, 7, 10, 0, 0, tzinfo=UTC)
CONNECTION = "be.cytomine.domain.social.PersistentProjectConnection"
CONSULTATION = "be.cytomine.domain.social.PersistentImageConsultation"
POSITION = "be.cytomine.domain.social.PersistentUserPosition"


def ms(when: datetime) -> int:
    return int(when.timestamp() * 1000)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def insert(database_url: str, table: str, rows: list[dict[str, Any]]) -> list[int]:
    """Rows straight into an activity table (to choose their dates); their ids."""

    async def work(conn: Any) -> list[int]:
        ids = []
        for row in rows:
            names = ", ".join(row)
            marks = ", ".join(f"${n + 1}" for n in range(len(row)))
            ids.append(
                await conn.fetchval(
                    f"INSERT INTO {table} ({names}) VALUES ({marks}) RETURNING id", *row.values()
                )
            )
        return ids

    return run(database_url, work)  # type: ignore[no-any-return]


def me(api: Any) -> int:
    return api.get("/api/user/current.json").json()["id"]  # type: ignore[no-any-return]


def listed(api: Any, path: str, **params: Any) -> list[Any]:
    return ok(api.get(path, params={"max": 0, "offset": 0, **params}))["collection"]  # type: ignore[no-any-return]


# --- project connections ---------------------------------------------------------------------


def test_project_connection_exact_json_listing_and_online_flag(api, scene):
    project, user = scene["project"]["id"], me(api)
    made = open_project(api, project, os="Linux", browser="firefox", browserVersion="133.0")
    assert made == {"class": CONNECTION, "id": made["id"], "created": made["created"],
                    "updated": None, "user": user, "project": project, "time": None,
                    "os": "Linux", "browser": "firefox", "browserVersion": "133.0",
                    "countViewedImages": None, "countCreatedAnnotations": None}  # fmt: skip
    assert made["created"].isdigit()
    path = f"/api/project/{project}/userconnection/{user}.json"
    body = ok(api.get(path))
    (row,) = body["collection"]
    assert row == {**made, "time": 0, "countViewedImages": 0, "countCreatedAnnotations": 0}
    assert (body["size"], body["offset"], body["perPage"]) == (1, 0, 1)
    ok(api.post("/server/ping.json", json={"project": project}))
    (row,) = listed(api, path)
    assert row["online"] is True and row["time"] >= 0, "the open connection of an online user"
    again = open_project(api, project)
    rows = listed(api, f"/api/project/{project}/connectionHistory/{user}.json")
    assert [r["id"] for r in rows] == [again["id"], made["id"]]
    assert "online" not in rows[1], "a closed connection is never online"
    assert ok(api.get(f"/api/project/{project}/userconnection/count.json")) == {"total": 2}
    last = listed(api, f"/api/project/{project}/lastConnection.json")
    assert last == [{"user": user, "created": int(again["created"])}]
    assert listed(api, f"/api/project/{project}/lastConnection/{user}.json") == last


def test_connection_time_and_counts_come_from_pings_consultations_and_annotations(
    api, scene, database_url
):
    project, image, user = scene["project"]["id"], scene["image"]["id"], me(api)
    first, second = insert(database_url, "project_connection", [
        {"user_id": user, "project_id": project, "created": at(0), "os": "Linux"},
        {"user_id": user, "project_id": project, "created": at(200)}])  # fmt: skip
    insert(database_url, "persistent_connection", [
        {"user_id": user, "project_id": project, "created": at(s)}
        for s in (10, 20, 100, 110, 210)])  # fmt: skip
    insert(database_url, "image_consultation", [
        {"user_id": user, "image_id": image, "project_id": project, "created": at(s),
         "project_connection_id": first, "mode": "view", "image_name": "x"}
        for s in (30, 40)])  # fmt: skip
    rows = listed(api, f"/api/project/{project}/userconnection/{user}.json")
    assert [r["id"] for r in rows] == [second, first]
    closed = rows[1]
    # gaps from the start: 10 s, 10 s, 80 s (away: not counted), 10 s; viewed: one image
    assert (closed["time"], closed["countViewedImages"], closed["countCreatedAnnotations"]) == (
        30000, 1, 0)  # fmt: skip
    assert closed["created"] == str(ms(at(0)))
    within = ok(api.get(f"/api/projectConnection/{first}.json"))
    assert [c["created"] for c in within["collection"]] == [str(ms(at(40))), str(ms(at(30)))]
    assert within["collection"][0]["time"] is not None, "the connection's images, timed"
    one = ok(api.get(f"/api/projectConnection/{first}.json", params={"start": 1, "length": 1}))
    assert one["size"] == 2 and [c["created"] for c in one["collection"]] == [str(ms(at(30)))]
    count = api.get(f"/api/project/{project}/userconnection/count.json",
                    params={"startDate": ms(at(100)), "endDate": ms(at(300))})  # fmt: skip
    assert ok(count) == {"total": 1}


def test_connection_frequencies_heatmap_periods_and_averages(api, scene, database_url):
    project, user = scene["project"]["id"], me(api)
    other = make_project(api)["id"]
    insert(database_url, "project_connection", [
        {"user_id": user, "project_id": project, "created": T0 + delta}
        for delta in (timedelta(0), timedelta(minutes=30), timedelta(hours=2),
                      timedelta(days=1), timedelta(days=8))] + [
        {"user_id": user, "project_id": other, "created": T0}])  # fmt: skip
    base = f"/api/project/{project}/connectionFrequency.json"
    assert listed(api, base) == [{"user": user, "frequency": 5}]
    assert listed(api, f"/api/project/{project}/connectionFrequency/{user}.json") == [
        {"user": user, "frequency": 5}
    ]
    hours = listed(api, base, heatmap="true")
    assert hours == [{"time": ms(T0), "frequency": 2},
                     {"time": ms(T0 + timedelta(hours=2)), "frequency": 1},
                     {"time": ms(T0 + timedelta(days=1)), "frequency": 1},
                     {"time": ms(T0 + timedelta(days=8)), "frequency": 1}]  # fmt: skip
    days = listed(api, base, period="day", afterThan=ms(T0 + timedelta(hours=1)))
    day0 = datetime(2025, 1, 7, tzinfo=UTC)
    assert days == [{"time": ms(day0), "frequency": 1},
                    {"time": ms(day0 + timedelta(days=1)), "frequency": 1},
                    {"time": ms(day0 + timedelta(days=8)), "frequency": 1}]  # fmt: skip
    weeks = listed(api, base, period="week")
    sunday = datetime(2025, 1, 5, tzinfo=UTC)  # weeks start on Sunday, as in Cytomine
    assert weeks == [{"time": ms(sunday), "frequency": 4},
                     {"time": ms(sunday + timedelta(days=7)), "frequency": 1}]  # fmt: skip
    everywhere = listed(api, "/api/connectionFrequency.json", period="day",
                        afterThan=ms(T0 - timedelta(days=1)),
                        beforeThan=ms(T0 + timedelta(hours=12)))  # fmt: skip
    assert everywhere == [{"time": ms(day0), "frequency": 4}]
    averages = listed(api, "/api/averageConnections.json", period="hour", project=project,
                      afterThan=ms(T0 - timedelta(days=1)),
                      beforeThan=ms(T0 + timedelta(days=30)))  # fmt: skip
    assert averages == [{"time": ms(T0), "frequency": 0.8},
                        {"time": ms(T0 + timedelta(hours=2)), "frequency": 0.2}]  # fmt: skip
    assert_error(api.get("/api/connectionFrequency.json"), 400)
    assert_error(api.get(base, params={"period": "month"}), 400)


# --- image consultations ---------------------------------------------------------------------


def test_image_consultation_exact_json_listings_resume_and_last_opened(api, scene, database_url):
    project, image, user = scene["project"]["id"], scene["image"]["id"], me(api)
    connection = open_project(api, project)
    made = ok(api.post(f"/api/imageinstance/{image}/consultation.json", json={"mode": "view"}))
    name = scene["image"]["instanceFilename"]
    thumb = f"{api.base}/api/imageinstance/{image}/thumb.png?maxSize=512"
    assert made == {"class": CONSULTATION, "id": made["id"], "created": made["created"],
                    "user": user, "image": image, "imageName": name, "imageThumb": thumb,
                    "mode": "view", "project": project, "projectConnection": connection["id"],
                    "time": None, "countCreatedAnnotations": None}  # fmt: skip
    path = f"/api/project/{project}/user/{user}/imageconsultation.json"
    assert listed(api, path) == [made]
    again = ok(api.post(f"/api/imageinstance/{image}/consultation.json", json={}))
    rows = listed(api, path)
    assert [r["id"] for r in rows] == [again["id"], made["id"]]
    assert rows[1]["time"] == 0 and rows[1]["countCreatedAnnotations"] == 0, "closed: computed"
    assert rows[0]["time"] is None, "open: null"
    distinct = listed(api, path, distinctImages="true")
    assert distinct == [{"created": int(again["created"]), "image": image, "user": user,
                         "time": 0, "imageThumb": thumb.split("?")[0], "project": project,
                         "imageName": name, "countCreatedAnnotations": 0}]  # fmt: skip
    last = listed(api, f"/api/project/{project}/lastImages.json")
    assert last == [{"user": user, "created": int(again["created"]), "image": image,
                     "imageName": name}]  # fmt: skip
    assert ok(api.get(f"/api/project/{project}/imageconsultation/count.json")) == {"total": 2}
    resume = listed(api, "/api/imageconsultation/resume.json", user=user, project=project)
    assert resume == [{"project": project, "user": user, "image": image, "imageName": name,
                       "imageThumb": thumb.split("?")[0], "first": int(made["created"]),
                       "last": int(again["created"]), "frequency": 2, "time": 0,
                       "countCreatedAnnotations": 0}]  # fmt: skip
    csv = api.get("/api/imageconsultation/resume.json",
                  params={"user": user, "project": project, "export": "csv"})  # fmt: skip
    assert csv.status_code == 200 and csv.headers["Content-Type"].startswith("text/csv")
    header, line = csv.text.splitlines()[:2]
    assert header.startswith("Cumulated duration (ms);First consultation")
    assert line.split(";")[3:6] == ["2", str(image), name]
    history = api.get(f"/api/project/{project}/connectionHistory/{user}.json",
                      params={"export": "csv"})  # fmt: skip
    assert history.status_code == 200 and history.text.startswith("Date;Duration (ms);")
    assert f"user_{user}_connections_project_{project}_" in history.headers["Content-Disposition"]
    opened = listed(api, "/api/imageinstance/method/lastopened.json")
    assert [(o["id"], o["date"]) for o in opened] == [(image, int(again["created"]))]
    projects = listed(api, "/api/project/method/lastopened.json")
    assert projects[0] == {"id": project, "date": int(connection["created"]), "opened": True}


def test_blind_names_are_kept_at_recording_time(api, make_user):
    blind = make_project(api, blindMode=True)
    base = abstract_image(api, name="secret.svs")
    image = add_image(api, blind["id"], base["id"])
    made = ok(api.post(f"/api/imageinstance/{image['id']}/consultation.json", json={}))
    assert made["imageName"] == str(base["id"])


# --- positions -------------------------------------------------------------------------------


def test_position_exact_json_last_position_followers_and_online(api, scene, make_user):
    project, image, user = scene["project"]["id"], scene["image"]["id"], me(api)
    member = make_user()
    ok(api.post(f"/api/project/{project}/user/{member['id']}.json"))
    lonely = f"/api/imageinstance/{image}/position/{user}.json"
    assert ok(api.get(lonely)) == {}
    made = ok(api.post(f"/api/imageinstance/{image}/position.json",
                       json=viewport(zoom=3, rotation=0.5, broadcast=True)))  # fmt: skip
    assert made == {"class": POSITION, "id": made["id"], "created": made["created"],
                    "updated": made["created"], "user": user, "image": image,
                    "slice": scene["slices"][1], "project": project, "zoom": 3,
                    "rotation": 0.5, "broadcast": True,
                    "location": "POLYGON ((50 300, 250 300, 250 200, 50 200, 50 300))",
                    "x": 150.0, "y": 250.0}  # fmt: skip
    on_slice = ok(api.post(f"/api/sliceinstance/{scene['slices'][0]}/position.json",
                           json=viewport(topLeftX=50.5)))  # fmt: skip
    assert on_slice["slice"] == scene["slices"][0] and on_slice["broadcast"] is False
    assert on_slice["location"].startswith("POLYGON ((50.5 300, ")
    followed = ok(member["api"].get(lonely))
    assert followed["class"] == "be.cytomine.domain.social.LastUserPosition"
    assert followed["id"] == on_slice["id"]
    assert ok(member["api"].get(lonely, params={"broadcast": "true"}))["id"] == made["id"]
    followers = ok(api.get(f"/api/imageinstance/{image}/followers/{user}.json"))
    assert followers["collection"] == [str(member["id"])]
    assert_error(member["api"].get(f"/api/imageinstance/{image}/followers/{user}.json"), 403)
    online = ok(member["api"].get(f"/api/imageinstance/{image}/online.json"))
    assert online == {"users": [user]}
    assert ok(api.get(f"/api/imageinstance/{image}/online.json",
                      params={"slice": scene["slices"][1]})) == {"users": [user]}  # fmt: skip
    details = listed(api, f"/api/imageinstance/{image}/positions.json", showDetails="true")
    assert [p["id"] for p in details] == [on_slice["id"], made["id"]]
    assert details[1] == made
    assert listed(api, f"/api/sliceinstance/{scene['slices'][0]}/positions.json",
                  showDetails="true") == [on_slice]  # fmt: skip
    summary = listed(api, f"/api/imageinstance/{image}/position.json")
    assert {(s["frequency"], s["zoom"]) for s in summary} == {(1, 3), (1, 0)}
    assert summary[0]["image"] == image and len(summary[0]["location"]) == 4
    assert ok(api.get(f"/api/position/{made['id']}.json")) == made
    in_project = listed(member["api"], f"/api/project/{project}/online/user.json")
    assert [u["id"] for u in in_project] == [user]
    assert {p["slice"] for p in in_project[0]["position"]} == set(scene["slices"])
    assert in_project[0]["position"][0]["image"] == image


# --- annotation actions ----------------------------------------------------------------------


def test_annotation_action_exact_json_listings_and_count(api, scene):
    project, image, user = scene["project"]["id"], scene["image"]["id"], me(api)
    drawn = ok(api.post("/api/annotation.json", json={"location": "POINT (10 10)",
                                                       "slice": scene["slices"][0]}))  # fmt: skip
    annotation = drawn["annotation"]["id"]
    made = ok(api.post("/api/annotation_action.json",
                       json={"annotationIdent": annotation, "action": "select"}))  # fmt: skip
    assert made == {"class": "be.cytomine.domain.social.AnnotationAction", "id": made["id"],
                    "created": made["created"], "user": user, "image": image,
                    "slice": scene["slices"][0], "project": project, "action": "select",
                    "annotationIdent": annotation,
                    "annotationClassName": "be.cytomine.domain.ontology.UserAnnotation",
                    "annotationCreator": user}  # fmt: skip
    assert ok(api.get(f"/api/annotation_action/{made['id']}.json")) == made
    assert listed(api, f"/api/imageinstance/{image}/annotation_action.json") == [made]
    assert listed(api, f"/api/sliceinstance/{scene['slices'][0]}/annotation_action.json") == [made]
    assert listed(api, f"/api/sliceinstance/{scene['slices'][1]}/annotation_action.json") == []
    assert listed(api, f"/api/imageinstance/{image}/annotation_action.json",
                  user=user + 1000) == []  # fmt: skip
    assert ok(api.get(f"/api/project/{project}/annotation_action/count.json")) == {"total": 1}


def test_whole_lists_of_positions_and_actions_stream_in_parts(api, scene, database_url,
                                                               monkeypatch):  # fmt: skip
    """`max=0` of positions and actions is written as its rows are read from a cursor
    (chunked, no length ahead; positions complete their WKT the normal way, actions by the
    list plan) and says what the pages say."""
    from resolvers import listing

    monkeypatch.setattr(listing, "WHOLE_LIST_PARTITION", 7)
    project, image, user = scene["project"]["id"], scene["image"]["id"], me(api)
    slice_id = scene["slices"][0]
    insert(database_url, "user_position", [
        {"user_id": user, "image_id": image, "slice_id": slice_id, "project_id": project,
         "corners": [float(n)] * 8, "x": float(n), "y": 0.5, "zoom": n % 5, "rotation": 0.0,
         "broadcast": False, "created": at(n)} for n in range(25)])  # fmt: skip
    insert(database_url, "annotation_action", [
        {"user_id": user, "image_id": image, "slice_id": slice_id, "project_id": project,
         "action": "select", "annotation_ident": n, "annotation_class_name": "x",
         "annotation_creator_id": user, "created": at(n)} for n in range(10)])  # fmt: skip
    for path, params, size in (
        (f"/api/imageinstance/{image}/positions.json", {"showDetails": "true"}, 25),
        (f"/api/imageinstance/{image}/annotation_action.json", {}, 10),
    ):
        whole = api.get(path, params={**params, "max": 0})
        assert whole.status_code == 200, whole.text
        assert whole.headers.get("Transfer-Encoding") == "chunked", path
        assert "Content-Length" not in whole.headers
        body = whole.json()
        assert (body["size"], body["perPage"], body["offset"], body["totalPages"]) == (
            size, size, 0, 1)  # fmt: skip
        paged = ok(api.get(path, params={**params, "max": size}))
        assert body["collection"] == paged["collection"] and len(paged["collection"]) == size
        after = ok(api.get(path, params={**params, "max": 0, "offset": 4}))
        assert after["collection"] == paged["collection"][4:] and after["size"] == size
    positions = ok(api.get(f"/api/imageinstance/{image}/positions.json",
                           params={"showDetails": "true", "max": 0}))["collection"]  # fmt: skip
    assert [p["x"] for p in positions] == [float(n) for n in reversed(range(25))]
    assert positions[0]["location"] == "POLYGON ((24 24, 24 24, 24 24, 24 24, 24 24))"


def test_whole_lists_of_connections_and_consultations_stream_in_parts(api, scene, database_url,
                                                                      monkeypatch):  # fmt: skip
    """`max=0` of a project's connections, a user's consultations, a connection's
    consultations and the connection history's CSV are written as their rows are read (with
    the values computed per row), and hold what the pages hold."""
    from resolvers import listing

    monkeypatch.setattr(listing, "WHOLE_LIST_PARTITION", 7)
    project, image, user = scene["project"]["id"], scene["image"]["id"], me(api)
    connections = insert(database_url, "project_connection", [
        {"user_id": user, "project_id": project, "created": at(100 * n), "os": f"os{n}"}
        for n in range(20)])  # fmt: skip
    insert(database_url, "image_consultation", [
        {"user_id": user, "image_id": image, "project_id": project, "created": at(5 + 3 * n),
         "project_connection_id": connections[0], "mode": "view", "image_name": "x"}
        for n in range(15)])  # fmt: skip
    insert(
        database_url,
        "persistent_connection",
        [{"user_id": user, "project_id": project, "created": at(s)} for s in (1, 9, 250, 260)],
    )
    for path, size in (
        (f"/api/project/{project}/userconnection/{user}.json", 20),
        (f"/api/project/{project}/connectionHistory/{user}.json", 20),
        (f"/api/project/{project}/user/{user}/imageconsultation.json", 15),
        (f"/api/projectConnection/{connections[0]}.json", 15),
    ):
        whole = api.get(path, params={"max": 0})
        assert whole.status_code == 200, whole.text
        assert whole.headers.get("Transfer-Encoding") == "chunked", path
        body = whole.json()
        assert (body["size"], body["perPage"], body["totalPages"]) == (size, size, 1), path
        paged = ok(api.get(path, params={"max": size}))
        assert body["collection"] == paged["collection"] and len(paged["collection"]) == size
    times = [
        row["time"] for row in listed(api, f"/api/project/{project}/userconnection/{user}.json")
    ]
    assert times[-3:] == [10000, 0, 9000], "each connection's time from its own pings"
    history = f"/api/project/{project}/connectionHistory/{user}.json"
    whole = api.get(history, params={"export": "csv"})
    assert whole.status_code == 200 and whole.headers["Content-Type"].startswith("text/csv")
    assert whole.headers.get("Transfer-Encoding") == "chunked"
    assert "attachment; filename=user_" in whole.headers["Content-Disposition"]
    paged = api.get(history, params={"export": "csv", "max": 20})
    assert whole.text == paged.text and len(whole.text.splitlines()) == 21
    assert [line.split(";")[4] for line in whole.text.splitlines()[1:4]] == [
        "os19", "os18", "os17"]  # fmt: skip


# --- users' activity and presence ------------------------------------------------------------


def test_users_activity_resume_friends_and_member_flags(api, scene, make_user):
    project, image, user = scene["project"]["id"], scene["image"]["id"], me(api)
    member = make_user()
    ok(api.post(f"/api/project/{project}/user/{member['id']}.json"))
    connection = open_project(api, project)
    open_project(api, project)
    ok(api.post(f"/api/imageinstance/{image}/consultation.json", json={}))
    drawn = ok(api.post("/api/annotation.json", json={"location": "POINT (10 10)",
                                                       "slice": scene["slices"][0]}))  # fmt: skip
    selected = {"annotationIdent": drawn["annotation"]["id"], "action": "select"}
    ok(api.post("/api/annotation_action.json", json=selected))
    ok(api.post("/server/ping.json", json={"project": project}))
    activity = listed(api, f"/api/project/{project}/usersActivity.json")
    assert [row["id"] for row in activity] == sorted([user, member["id"]])
    mine = next(row for row in activity if row["id"] == user)
    assert (mine["lastImageId"], mine["frequency"], mine["lastImageName"]) == (
        image, 2, scene["image"]["instanceFilename"])  # fmt: skip
    assert isinstance(mine["lastConnection"], int)
    theirs = next(row for row in activity if row["id"] == member["id"])
    assert (theirs["lastImageId"], theirs["lastConnection"], theirs["frequency"]) == (None, None, 0)
    resume = ok(api.get(f"/api/project/{project}/resumeActivity/{user}.json"))
    assert resume == {"firstConnection": int(connection["created"]),
                      "lastConnection": resume["lastConnection"], "totalAnnotations": 1,
                      "totalConnections": 2, "totalConsultations": 1,
                      "totalAnnotationSelections": 1}  # fmt: skip
    assert_error(member["api"].get(f"/api/project/{project}/resumeActivity/{user}.json"), 403)
    assert (
        ok(member["api"].get(f"/api/project/{project}/resumeActivity/{member['id']}.json"))[
            "totalConnections"
        ]
        == 0
    )
    online = listed(member["api"], f"/api/user/{member['id']}/friends.json", project=project)
    assert [u["id"] for u in online] == [user]
    everyone = listed(member["api"], f"/api/user/{member['id']}/friends.json", project=project,
                      offline="true")  # fmt: skip
    assert {u["id"] for u in everyone} == {user, member["id"]}
    members = listed(api, f"/api/project/{project}/user.json",
                     **{"status[equals]": "online"})  # fmt: skip
    assert [m["id"] for m in members] == [user]
    assert [m["id"] for m in listed(api, f"/api/project/{project}/user.json", online="true")] == [
        user
    ]
    flagged = listed(api, f"/api/project/{project}/user.json", withLastImage="true",
                     withLastConsultation="true", withNumberConsultations="true")  # fmt: skip
    mine = next(m for m in flagged if m["id"] == user)
    assert (mine["lastImage"], mine["numberConnections"]) == (image, 2)
    assert isinstance(mine["lastConnection"], int)
    plain = listed(api, f"/api/project/{project}/user.json")
    assert "lastImage" not in plain[0] and "numberConnections" not in plain[0]


def test_members_sort_on_last_image_name_last_connection_and_frequency(
    api, scene, make_user, database_url
):
    """The `with…` flags' values are sort keys (core.md §9.4): a member who never came has no
    last image or connection (first ascending, last descending, as every listing sorts
    nulls) and counts 0 connections."""
    project, user = scene["project"]["id"], me(api)
    often, never = make_user(), make_user()
    for member in (often, never):
        ok(api.post(f"/api/project/{project}/user/{member['id']}.json"))
    zeta = scene["image"]["id"]
    alpha = add_image(api, project, abstract_image(api)["id"], instanceFilename="alpha.tif")["id"]
    ok(api.put(f"/api/imageinstance/{zeta}.json",
               json={**scene["image"], "instanceFilename": "zeta.tif"}))  # fmt: skip
    insert(database_url, "project_connection", [
        *({"user_id": user, "project_id": project, "created": at(s)} for s in (0, 50, 100)),
        {"user_id": often["id"], "project_id": project, "created": at(500)}])  # fmt: skip
    insert(database_url, "image_consultation", [
        {"user_id": user, "image_id": alpha, "project_id": project, "created": at(10)},
        {"user_id": user, "image_id": zeta, "project_id": project, "created": at(60)},
        {"user_id": often["id"], "image_id": alpha, "project_id": project, "created": at(510)},
    ])  # fmt: skip
    path = f"/api/project/{project}/user.json"

    def order(key: str, direction: str) -> list[int]:
        rows = listed(api, path, sortColumn=key, sortDirection=direction)
        return [row["id"] for row in rows]

    assert order("frequency", "asc") == [never["id"], often["id"], user]
    assert order("frequency", "desc") == [user, often["id"], never["id"]]
    assert order("lastConnection", "asc") == [never["id"], user, often["id"]]
    assert order("lastConnection", "desc") == [often["id"], user, never["id"]]
    assert order("lastImageName", "asc") == [never["id"], often["id"], user]
    assert order("lastImageName", "desc") == [user, often["id"], never["id"]]
    flagged = listed(api, path, sortColumn="frequency", sortDirection="desc",
                     withNumberConsultations="true", withLastImage="true")  # fmt: skip
    assert [(m["numberConnections"], m["lastImage"]) for m in flagged] == [
        (3, zeta), (1, alpha), (0, None)]  # fmt: skip
    page = ok(api.get(path, params={"sortColumn": "frequency", "sortDirection": "asc",
                                    "max": 1, "offset": 1}))  # fmt: skip
    assert (page["size"], [m["id"] for m in page["collection"]]) == (3, [often["id"]])
    gql = api.gql(
        'query($p: Long!) { project(id: $p) { members(sort: "lastImageName", order: '
        '"asc") { nodes { user { id } lastImageName } } } }',
        {"p": project},
    )
    nodes = gql["data"]["project"]["members"]["nodes"]
    assert [(n["user"]["id"], n["lastImageName"]) for n in nodes] == [
        (never["id"], None), (often["id"], "alpha.tif"), (user, "zeta.tif")]  # fmt: skip


# --- writing in batches, pruning -------------------------------------------------------------


def test_records_wait_in_the_queue_until_written_and_old_ones_are_pruned(
    server, api, scene, database_url
):
    image, user = scene["image"]["id"], me(api)
    made = ok(api.post(f"/api/imageinstance/{image}/position.json", json=viewport()))

    async def stored(conn: Any) -> int:
        return await conn.fetchval("SELECT count(*) FROM user_position WHERE id = $1", made["id"])  # type: ignore[no-any-return]

    flush(server)
    assert run(database_url, stored) == 1
    old = insert(database_url, "user_position", [{
        "user_id": user, "image_id": image, "slice_id": scene["slices"][0],
        "project_id": scene["project"]["id"], "corners": [0.0] * 8, "x": 0.0, "y": 0.0,
        "zoom": 0, "rotation": 0.0, "broadcast": False,
        "created": datetime.now(UTC) - timedelta(days=40)}])  # fmt: skip

    async def prune() -> int:
        recorder = ActivityRecorder(Database(database_url, pool_size=1))
        try:
            return await recorder.prune(30)
        finally:
            await recorder.close()

    assert asyncio.run(prune()) == 1
    ids = [p["id"] for p in listed(api, f"/api/imageinstance/{image}/positions.json",
                                   showDetails="true")]  # fmt: skip
    assert ids == [made["id"]] and old[0] not in ids


def test_a_closing_recorder_writes_what_is_queued_once(api, scene, database_url):
    project, user = scene["project"]["id"], me(api)

    async def record() -> int:
        recorder = ActivityRecorder(Database(database_url, pool_size=1))
        row = {
            "id": await recorder.next_id(),
            "created": datetime.now(UTC),
            "user_id": user,
            "project_id": project,
            "os": None,
            "browser": None,
            "browser_version": None,
        }
        recorder.add(CONNECTION_TABLE, row)
        recorder.add(
            CONNECTION_TABLE, {**row, "id": await recorder.next_id(), "project_id": 999999999}
        )  # a project gone meanwhile
        await recorder.flush()
        recorder.add(CONNECTION_TABLE, row)  # requeued after a cancelled caller's commit
        await recorder.close()
        return int(row["id"])

    made = asyncio.run(record())
    rows = listed(api, f"/api/project/{project}/userconnection/{user}.json")
    assert [r["id"] for r in rows] == [made]
