"""Who may record and read activity, by global and project role (contract core.md §7.5,
§9.16–§9.19): members record their own connections, consultations, positions and actions and
read the project's counts, presence and their own history; managers (and admins-by-now) read
everyone's connection histories, positions and annotation actions; outsiders get nothing."""

from __future__ import annotations

from tests.activity.conftest import viewport
from tests.factories import created, make_project
from tests.harness import Api

ROLES = ("superadmin", "admin_session", "admin", "manager", "contributor", "guest", "stranger")
MEMBERS = ("superadmin", "admin_session", "manager", "contributor", "guest")
MANAGERS = ("superadmin", "admin_session", "manager")


def expected(allowed: tuple[str, ...]) -> dict[str, int]:
    return {role: 200 if role in allowed else 403 for role in ROLES}


def test_activity_routes_by_role(api, people, make_user, scene):
    manager, contributor = make_user(), make_user()
    project, image = scene["project"]["id"], scene["image"]["id"]
    for user, admin in ((manager, True), (contributor, False), (people["guest"], False)):
        path = f"/api/project/{project}/user/{user['id']}" + ("/admin.json" if admin else ".json")
        assert api.post(path).status_code == 200
    drawn = created(
        api.post(
            "/api/annotation.json", json={"location": "POINT (10 10)", "slice": scene["slices"][0]}
        ),
        "annotation",
    )
    admin_id = api.get("/api/user/current.json").json()["id"]
    actors = {
        **{role: people[role] for role in ("superadmin", "admin_session", "admin", "guest")},
        "manager": manager,
        "contributor": contributor,
        "stranger": people["user"],
    }
    p = f"/api/project/{project}"
    i = f"/api/imageinstance/{image}"
    reads: list[tuple[str, dict[str, int]]] = [
        (f"{p}/userconnection/{admin_id}.json", expected(MANAGERS)),
        (f"{p}/connectionHistory/{admin_id}.json", expected(MANAGERS)),
        (f"{p}/lastConnection.json", expected(MANAGERS)),
        (f"{p}/connectionFrequency.json", expected(MANAGERS)),
        (f"{p}/user/{admin_id}/imageconsultation.json", expected(MANAGERS)),
        (f"{p}/resumeActivity/{admin_id}.json", expected(MANAGERS)),
        (f"{i}/positions.json?showDetails=true", expected(MANAGERS)),
        (f"{i}/annotation_action.json", expected(MANAGERS)),
        (f"{p}/userconnection/count.json", expected(MEMBERS)),
        (f"{p}/imageconsultation/count.json", expected(MEMBERS)),
        (f"{p}/annotation_action/count.json", expected(MEMBERS)),
        (f"{p}/lastImages.json", expected(MEMBERS)),
        (f"{p}/usersActivity.json", expected(MEMBERS)),
        (f"{p}/online/user.json", expected(MEMBERS)),
        (f"{i}/online.json", expected(MEMBERS)),
        (f"{i}/position/{admin_id}.json", expected(MEMBERS)),
        (
            f"/api/imageconsultation/resume.json?user={admin_id}&project={project}",
            expected(MEMBERS),
        ),
        (f"/api/user/{admin_id}/friends.json?project={project}", expected(MEMBERS)),
        (f"/api/averageConnections.json?period=hour&project={project}", expected(MEMBERS)),
        ("/api/connectionFrequency.json?period=day", expected(("superadmin", "admin_session"))),
        (f"{i}/followers/{admin_id}.json", expected(("superadmin", "admin_session"))),
    ]
    for role in ROLES:
        actor: Api = actors[role]["api"]
        mine = actors[role]["id"]
        for path, statuses in reads:
            assert actor.get(path).status_code == statuses[role], (role, path)
        own = expected(MEMBERS)[role]
        writes = [
            actor.post(f"{p}/userconnection.json", json={}),
            actor.post(f"{i}/consultation.json", json={"mode": "view"}),
            actor.post(f"{i}/position.json", json=viewport()),
            actor.post(
                "/api/annotation_action.json",
                json={"annotationIdent": drawn["id"], "action": "select"},
            ),
        ]
        assert [w.status_code for w in writes] == [own] * 4, (role, [w.text for w in writes])
        for path in (
            f"{p}/user/{mine}/imageconsultation.json",
            f"{p}/resumeActivity/{mine}.json",
            f"{i}/followers/{mine}.json",
        ):
            assert actor.get(path).status_code == own, (role, path)
    elsewhere = make_project(people["user"]["api"])
    assert (
        people["user"]["api"]
        .post(f"/api/project/{elsewhere['id']}/userconnection.json", json={})
        .status_code
        == 200
    )


def test_anonymous_is_401(anonymous, scene):
    project, image = scene["project"]["id"], scene["image"]["id"]
    assert anonymous.post(f"/api/project/{project}/userconnection.json", json={}).status_code == 401
    assert anonymous.post(f"/api/imageinstance/{image}/position.json", json={}).status_code == 401
    assert anonymous.get(f"/api/imageinstance/{image}/online.json").status_code == 401
    ping = anonymous.get("/server/ping.json", params={"project": project})
    assert ping.status_code == 200 and ping.json()["authenticated"] is False
