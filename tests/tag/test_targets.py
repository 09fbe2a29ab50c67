"""The objects tags go on (contract core.md §9.10): class names written with `_` for `.`, slice
instances and tracks under their image's rules, and their associations following their deletes
and undos."""

from __future__ import annotations

from typing import Any

from tests.factories import abstract_image, add_image, created, make_project
from tests.harness import Api, assert_error
from tests.tag.test_statements import run

SLICE_CLASS = "be.cytomine.domain.image.SliceInstance"
TRACK_CLASS = "be.cytomine.domain.ontology.Track"


def of_object(class_name: str, ident: int) -> str:
    return f"/api/domain/{class_name}/{ident}/tag_domain_association.json"


def stored(database_url: str) -> set[tuple[str, int, int]]:
    """Every association in the database as (simple class, object, tag), readable or not."""

    async def work(conn: Any) -> set[tuple[str, int, int]]:
        rows = await conn.fetch(
            "SELECT domain_class_name, domain_ident, tag_id FROM tag_domain_association"
        )
        return {(row[0].rsplit(".", 1)[1], row[1], row[2]) for row in rows}

    return run(database_url, work)  # type: ignore[no-any-return]


def make_track(api: Api, image: int, name: str = "cell") -> dict[str, Any]:
    body = {"name": name, "image": image, "color": "#FF0000"}
    return created(api.post("/api/track.json", json=body), "track")


def test_class_names_may_use_underscores_for_dots(api, scene, make_tag):
    project = scene["project"]["id"]
    for name in ("be_cytomine_domain_project_Project", "be_cytomine_project_Project"):
        made = api.post(of_object(name, project), json={"tag": make_tag(api)["id"]})
        assert made.status_code == 200, made.text
        link = made.json()["tagdomainassociation"]
        assert link["domainClassName"] == "be.cytomine.domain.project.Project"
        listed = api.get(of_object(name, project))
        assert listed.status_code == 200 and link in listed.json()["collection"]
    assert_error(api.get(of_object("be_cytomine_domain_ontology_Term", project)), 400)


def test_slices_and_tracks_take_tags_under_their_image_rules(api, make_user, make_tag, people):
    owner, other = make_user(), make_user()
    project = make_project(api, users=(owner["id"], other["id"], people["guest"]["id"]))
    image = add_image(owner["api"], project["id"], abstract_image(owner["api"])["id"])
    slices = api.get(f"/api/imageinstance/{image['id']}/sliceinstance.json").json()
    targets = {SLICE_CLASS: slices["collection"][0]["id"],
               TRACK_CLASS: make_track(owner["api"], image["id"])["id"]}  # fmt: skip
    for class_name, ident in targets.items():
        path = of_object(class_name, ident)
        for actor in (owner, other, people["guest"]):  # classic mode: any member
            made = actor["api"].post(path, json={"tag": make_tag(api)["id"]})
            assert made.status_code == 200, (class_name, made.text)
        assert_error(people["user"]["api"].get(of_object(class_name, ident)), 403)
        refused = people["user"]["api"].post(of_object(class_name, ident),
                                             json={"tag": make_tag(api)["id"]})  # fmt: skip
        assert_error(refused, 403)
    restricted = api.put(f"/api/project/{project['id']}.json",
                         json={**project, "isRestricted": True})  # fmt: skip
    assert restricted.status_code == 200, restricted.text
    for class_name, ident in targets.items():
        made = owner["api"].post(of_object(class_name, ident), json={"tag": make_tag(api)["id"]})
        assert made.status_code == 200, (class_name, made.text)
        refused = other["api"].post(of_object(class_name, ident), json={"tag": make_tag(api)["id"]})
        assert_error(refused, 403)
        listed = other["api"].get(of_object(class_name, ident))
        assert listed.status_code == 200 and listed.json()["size"] == 4


def test_deleting_slices_and_tracks_deletes_their_associations_until_undone(
    api, scene, make_tag, put_tag, database_url
):
    tag = make_tag(api)
    image = scene["image"]["id"]
    first, second = scene["slices"]
    track = make_track(api, image)["id"]
    for class_name, ident in ((SLICE_CLASS, first), (SLICE_CLASS, second), (TRACK_CLASS, track)):
        put_tag(api, class_name, ident, tag["id"])
    every = {("SliceInstance", first, tag["id"]), ("SliceInstance", second, tag["id"]),
             ("Track", track, tag["id"])}  # fmt: skip
    assert stored(database_url) == every

    assert api.delete(f"/api/sliceinstance/{second}.json").status_code == 200
    assert stored(database_url) == every - {("SliceInstance", second, tag["id"])}
    assert api.get("/api/command/undo.json").status_code == 200
    assert stored(database_url) == every

    assert api.delete(f"/api/track/{track}.json").status_code == 200
    assert stored(database_url) == every - {("Track", track, tag["id"])}
    assert api.get("/api/command/undo.json").status_code == 200
    assert stored(database_url) == every

    assert api.delete(f"/api/imageinstance/{image}.json").status_code == 200
    assert stored(database_url) == set()
    undone = api.get("/api/command/undo.json")
    assert undone.status_code == 200, undone.text
    assert stored(database_url) == every
    assert api.get(of_object(TRACK_CLASS, track)).json()["size"] == 1

    assert api.delete(f"/api/project/{scene['project']['id']}.json").status_code == 200
    assert stored(database_url) == set()


def test_short_class_names_name_the_same_objects(api, scene, annotate, make_tag):
    """The simple names (any case) and the client's `annotation` name the classes they stand
    for, in paths and in GraphQL alike; the stored class is always the Java one."""
    project, drawn, image = scene["project"]["id"], annotate(api), scene["image"]["id"]
    tag = make_tag(api, "short")
    for short, ident, stored_class in (
        ("project", project, "be.cytomine.domain.project.Project"),
        ("annotation", drawn["id"], "be.cytomine.domain.ontology.UserAnnotation"),
        ("ImageInstance", image, "be.cytomine.domain.image.ImageInstance"),
    ):
        made = api.post(of_object(short, ident), json={"tag": tag["id"]})
        assert made.status_code == 200, made.text
        assert made.json()["tagdomainassociation"]["domainClassName"] == stored_class
        assert api.get(of_object(stored_class, ident)).json()["size"] == 1
    answer = api.gql(
        """mutation($t: Long!, $s: Long!) { tagAssociationCreate(input: {tag: $t,
        domainClassName: "sliceinstance", domainIdent: $s}) {
        tagAssociation { domainClassName } } }""",
        {"t": tag["id"], "s": scene["slices"][0]},
    )
    assert answer["data"]["tagAssociationCreate"]["tagAssociation"] == {
        "domainClassName": SLICE_CLASS
    }
    assert_error(api.post(of_object("Nonsense", project), json={"tag": tag["id"]}), 400)
