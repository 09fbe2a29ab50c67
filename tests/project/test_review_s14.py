"""Review of the project area (s14): what the first pass let through.

Each test names the rule of the contract (core.md) it holds the server to.
"""

from __future__ import annotations

from tests.factories import make_project
from tests.harness import Api, assert_error
from tests.project.conftest import Team


def _representatives(api: Api, team: Team) -> list[int]:
    listed = api.get(f"{team.path}/representative.json").json()["collection"]
    return [row["user"] for row in listed]


def _roles(api: Api, team: Team) -> dict[str, str]:
    listed = api.get(f"{team.path}/user.json").json()["collection"]
    return {member["username"]: member["role"] for member in listed}


def test_the_only_representative_may_not_leave_without_a_successor(api: Api, team: Team):
    """A project always keeps a representative (§7.3, §9.6); when the last one leaves on their
    own there is nobody to hand the role to (§9.4), so leaving is refused as removing the last
    representative is, and nothing changes."""
    me = team.manager
    before = _roles(api, team)
    for path in (f"{team.path}/user/{me['id']}.json", f"{team.path}/user.json?users={me['id']}"):
        body = assert_error(me["api"].delete(path), 400)
        assert "last representative" in body["message"]
    gql = me["api"].gql(
        "mutation($p: Long!, $u: Long!) { projectMemberRemove(projectId: $p, userId: $u) "
        "{ manager } }",
        {"p": team.project["id"], "u": me["id"]},
    )
    assert gql["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", gql
    assert _representatives(api, team) == [me["id"]]
    assert _roles(api, team) == before


def test_a_representative_with_a_successor_may_leave(api: Api, team: Team):
    """With another representative in place, the former one leaves freely."""
    me, other = team.manager, team.contributor
    assert me["api"].post(f"{team.path}/representative.json",
                          json={"project": team.project["id"], "user": other["id"]}).ok  # fmt: skip
    assert me["api"].delete(f"{team.path}/user/{me['id']}.json").status_code == 200
    assert _representatives(api, team) == [other["id"]]
    assert "manny" not in _roles(api, team)


def test_removing_the_last_representative_hands_over_to_the_caller(api: Api, team: Team):
    """Removed by someone else, the last representative hands over to that caller (§9.4)."""
    me = team.manager
    assert api.delete(f"{team.path}/user/{me['id']}.json").status_code == 200
    admin = api.get("/api/user/current.json").json()
    assert _representatives(api, team) == [admin["id"]]


def test_project_list_pages_and_bounds_match_a_brute_force_over_what_the_caller_sees(
    api: Api, team: Team
):
    """`project.json` sorted and paged (§4.2–4.3) and `bounds/project.json` (§9.3) agree with
    the same computation done here over the caller's whole list, which holds exactly the
    projects they are a member of; GraphQL answers the same pages."""
    me = team.contributor
    made = [make_project(team.manager["api"], f"s14 {name}", users=users)
            for name, users in (("b", (me["id"],)), ("a", (me["id"], team.outsider["id"])),
                                ("c", ()))]  # fmt: skip
    make_project(team.outsider["api"], "s14 d", users=(me["id"],))
    ours = {"withMembersCount": "true", "name[like]": "s14"}
    everything = me["api"].get("/api/project.json", params=ours).json()["collection"]
    mine = {p["id"] for p in everything}
    assert made[2]["id"] not in mine and made[0]["id"] in mine and len(mine) == 3
    for key in ("name", "created", "membersCount"):
        for order in ("asc", "desc"):
            expected = sorted(everything, key=lambda p: p["id"])
            expected.sort(key=lambda p: (int(p[key]) if key == "created" else p[key]),
                          reverse=order == "desc")  # fmt: skip
            for max_, offset in ((0, 0), (2, 0), (2, 2), (3, 3), (0, 1), (2, 9)):
                params = {**ours, "sort": key, "order": order, "max": max_, "offset": offset}
                page = me["api"].get("/api/project.json", params=params).json()
                want = expected[offset : offset + max_] if max_ else expected[offset:]
                assert [p["id"] for p in page["collection"]] == [p["id"] for p in want], params
                assert page["size"] == 3
    everything = me["api"].get("/api/project.json", params={"withMembersCount": "true"}).json()
    everything = everything["collection"]
    assert len(everything) == 4  # with the team's project
    bounds = me["api"].get("/api/bounds/project.json", params={"withMembersCount": "true"})
    fields = {"created": "created", "updated": "updated", "name": "name",
              "numberOfImages": "numberOfImages", "members": "membersCount"}  # fmt: skip
    for bound, field in fields.items():
        values = [p[field] for p in everything]
        pick = (lambda v: int(v)) if bound in ("created", "updated") else (lambda v: v)
        assert bounds.json()[bound] == {"min": min(values, key=pick), "max": max(values, key=pick)}
    gql = me["api"].gql('{ projects(first: 2, offset: 1, sort: "created", order: "asc") '
                        "{ totalCount nodes { id } } }")  # fmt: skip
    by_age = sorted(everything, key=lambda p: (int(p["created"]), p["id"]))
    assert gql["data"]["projects"] == {"totalCount": 4,
                                       "nodes": [{"id": p["id"]} for p in by_age[1:3]]}  # fmt: skip


def test_undo_brings_back_no_representative_nor_default_layer_of_a_former_member(
    api: Api, team: Team
):
    """A representative and a default layer name a member of the project (§9.5, §9.6: else
    400): undoing their deletion after the user left is refused the same way, and changes
    nothing; once the user is back, the undo goes through."""
    me, other = team.manager, team.contributor
    body = {"project": team.project["id"], "user": other["id"]}
    made = {
        kind: me["api"].post(f"{team.path}/{kind}.json", json=body).json()[key]["id"]
        for kind, key in (("defaultlayer", "projectdefaultlayer"),
                          ("representative", "projectrepresentativeuser"))
    }  # fmt: skip
    for kind, row in made.items():
        assert me["api"].delete(f"{team.path}/{kind}/{row}.json").status_code == 200
    assert other["api"].delete(f"{team.path}/user/{other['id']}.json").status_code == 200
    body = assert_error(me["api"].get("/api/command/undo.json"), 400)
    assert f"the user {other['id']} is not into the project" in body["message"]
    assert _representatives(api, team) == [me["id"]]
    assert api.get(f"{team.path}/defaultlayer.json").json()["collection"] == []
    assert me["api"].post(f"{team.path}/user/{other['id']}.json").ok
    for _ in made:
        assert me["api"].get("/api/command/undo.json").status_code == 200
    assert _representatives(api, team) == [me["id"], other["id"]]
    layers = api.get(f"{team.path}/defaultlayer.json").json()["collection"]
    assert [layer["user"] for layer in layers] == [other["id"]]


def test_boolean_fields_take_order_filters_as_postgresql_orders_them(api: Api):
    """`blindMode[gte]=1` (false < true): the blind projects; `[lte]=0` the others (was a 500:
    SQLAlchemy refuses to order booleans)."""
    blind = make_project(api, "s15 blind", blindMode=True)["id"]
    plain = make_project(api, "s15 plain")["id"]

    def ids(query: str) -> set[int]:
        got = api.get(f"/api/project.json?{query}")
        assert got.status_code == 200, got.text
        return {p["id"] for p in got.json()["collection"]} & {blind, plain}

    assert ids("blindMode[gte]=1") == ids("blindMode[gte]=true") == {blind}
    assert ids("blindMode[lte]=0") == ids("blindMode[lte]=false") == {plain}
    assert ids("blindMode[lte]=true") == {blind, plain}
