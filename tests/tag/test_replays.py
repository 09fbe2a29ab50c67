"""Undo and redo of tags follow the direct rules (contract core.md §8, §9.14): only an
administrator renames a tag in use, a replay never drops associations unrecorded, and an
association never comes back on an object deleted meanwhile."""

from __future__ import annotations

from typing import Any

from tests.factories import abstract_image, created
from tests.harness import Api, assert_error
from tests.tag.conftest import CLASSES
from tests.tag.test_statements import run


def links_of(api: Api, class_name: str, ident: int) -> list[int]:
    """The tag ids on one object."""
    path = f"/api/domain/{CLASSES[class_name]}/{ident}/tag_domain_association.json"
    response = api.get(path)
    assert response.status_code == 200, response.text
    return [item["tag"] for item in response.json()["collection"]]


def test_a_non_admin_replays_no_rename_of_a_tag_in_use(api, make_user, make_tag, put_tag):
    author, tagger = make_user(), make_user()
    tag = make_tag(author["api"], "first")
    renamed = author["api"].put(f"/api/tag/{tag['id']}.json", json={"name": "second"})
    assert renamed.status_code == 200, renamed.text
    image = abstract_image(tagger["api"])["id"]
    put_tag(tagger["api"], "AbstractImage", image, tag["id"])

    assert_error(author["api"].get("/api/command/undo.json"), 403)
    assert api.get(f"/api/tag/{tag['id']}.json").json()["name"] == "second"
    assert links_of(api, "AbstractImage", image) == [tag["id"]]


def test_a_non_admin_redoes_no_rename_of_a_tag_in_use_but_redoes_its_delete(
    api, make_user, make_tag, put_tag
):
    author, tagger = make_user(), make_user()
    tag = make_tag(author["api"], "first")
    path = f"/api/tag/{tag['id']}.json"
    assert author["api"].put(path, json={"name": "second"}).status_code == 200
    assert author["api"].get("/api/command/undo.json").status_code == 200
    image = abstract_image(tagger["api"])["id"]
    put_tag(tagger["api"], "AbstractImage", image, tag["id"])
    assert_error(author["api"].get("/api/command/redo.json"), 403)
    assert api.get(path).json()["name"] == "first"

    assert author["api"].delete(path).status_code == 200  # its creator deletes it in use
    assert author["api"].get("/api/command/undo.json").status_code == 200
    assert links_of(api, "AbstractImage", image) == [tag["id"]]
    redone = author["api"].get("/api/command/redo.json")  # the same delete, recorded links
    assert redone.status_code == 200, redone.text
    assert links_of(api, "AbstractImage", image) == []
    assert_error(api.get(path), 404)


def test_undoing_the_creation_of_a_tag_in_use_is_refused(api, make_user, make_tag, put_tag):
    author, tagger = make_user(), make_user()
    image = abstract_image(tagger["api"])["id"]
    mine = make_tag(author["api"], "mine")
    put_tag(tagger["api"], "AbstractImage", image, mine["id"])
    assert_error(author["api"].get("/api/command/undo.json"), 400)

    admins = make_tag(api, "admins")  # the administrator's latest command
    put_tag(tagger["api"], "AbstractImage", image, admins["id"])
    refused = assert_error(api.get("/api/command/undo.json"), 400)
    assert "Tag" in refused["message"]
    for tag in (mine, admins):
        assert api.get(f"/api/tag/{tag['id']}.json").status_code == 200
    assert sorted(links_of(api, "AbstractImage", image)) == sorted([mine["id"], admins["id"]])


def test_an_admin_redoes_no_delete_of_a_tag_put_on_objects_since_the_undo(
    api, make_user, make_tag, put_tag
):
    tagger = make_user()
    image, other = abstract_image(tagger["api"])["id"], abstract_image(tagger["api"])["id"]
    tag = make_tag(api)
    put_tag(tagger["api"], "AbstractImage", image, tag["id"])
    assert api.delete(f"/api/tag/{tag['id']}.json").status_code == 200
    assert api.get("/api/command/undo.json").status_code == 200
    put_tag(tagger["api"], "AbstractImage", other, tag["id"])

    assert_error(api.get("/api/command/redo.json"), 400)
    assert links_of(api, "AbstractImage", other) == [tag["id"]]
    assert links_of(api, "AbstractImage", image) == [tag["id"]]


def test_undoing_a_tag_delete_restores_no_association_on_an_object_deleted_since(
    api, scene, make_user, make_tag, put_tag
):
    author = make_user()
    project = scene["project"]["id"]
    assert api.post(f"/api/project/{project}/user/{author['id']}.json").status_code == 200
    body = {"location": "POINT (10 10)", "slice": scene["slices"][0]}
    drawn = created(author["api"].post("/api/annotation.json", json=body), "annotation")
    kept = created(author["api"].post("/api/annotation.json", json=body), "annotation")
    tag = make_tag(author["api"], "doomed")
    put_tag(author["api"], "UserAnnotation", drawn["id"], tag["id"])
    put_tag(author["api"], "UserAnnotation", kept["id"], tag["id"])
    assert author["api"].delete(f"/api/tag/{tag['id']}.json").status_code == 200
    assert api.delete(f"/api/annotation/{drawn['id']}.json").status_code == 200

    refused = assert_error(author["api"].get("/api/command/undo.json"), 400)
    assert str(drawn["id"]) in refused["message"]
    assert_error(api.get(f"/api/tag/{tag['id']}.json"), 404)
    listed = api.get("/api/tag_domain_association.json").json()["collection"]
    assert [item for item in listed if item["tag"] == tag["id"]] == []

    assert api.get("/api/command/undo.json").status_code == 200  # the annotation comes back
    undone = author["api"].get("/api/command/undo.json")
    assert undone.status_code == 200, undone.text
    assert links_of(api, "UserAnnotation", drawn["id"]) == [tag["id"]]
    assert links_of(api, "UserAnnotation", kept["id"]) == [tag["id"]]


def test_the_listing_skips_associations_whose_object_is_gone_even_for_an_admin(
    api, scene, make_tag, put_tag, database_url
):
    tag = make_tag(api)
    put_tag(api, "Project", scene["project"]["id"], tag["id"])
    insert_orphan(database_url, tag["id"], CLASSES["UserAnnotation"], 999_999_999)
    listed = api.get("/api/tag_domain_association.json").json()
    assert [item["domainClassName"] for item in listed["collection"]] == [CLASSES["Project"]]
    assert listed["size"] == 1


def insert_orphan(database_url: str, tag_id: int, class_name: str, ident: int) -> None:
    """An association on an object that does not exist, straight into the database."""

    async def work(conn: Any) -> None:
        await conn.execute(
            "INSERT INTO tag_domain_association (tag_id, domain_class_name, domain_ident)"
            " VALUES ($1, $2, $3)", tag_id, class_name, ident,
        )  # fmt: skip

    run(database_url, work)
