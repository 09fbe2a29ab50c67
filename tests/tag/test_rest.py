"""Tags and tag associations through raw REST: exact JSON, envelopes, statuses, the rules of
contract core.md §9.14–§9.15, and the cascades of §6.4 with their undo."""

from __future__ import annotations

from typing import Any

from tests.factories import abstract_image, add_image, make_project
from tests.harness import assert_error
from tests.tag.conftest import CLASSES

TAG_CLASS = "be.cytomine.domain.meta.Tag"
LINK_CLASS = "be.cytomine.domain.meta.TagDomainAssociation"


def epoch_ms(value: Any) -> bool:
    return isinstance(value, str) and value.isdigit() and len(value) == 13


def links(api: Any, **params: Any) -> list[tuple[str, int, int]]:
    """The global association listing as (simple class, object, tag) triples, in its order."""
    response = api.get("/api/tag_domain_association.json", params=params)
    assert response.status_code == 200, response.text
    return [(item["domainClassName"].rsplit(".", 1)[1], item["domainIdent"], item["tag"])
            for item in response.json()["collection"]]  # fmt: skip


def test_tag_create_read_update_delete_exact_json(api):
    me = api.get("/api/user/current.json").json()
    response = api.post("/api/tag.json", json={"name": " to-review ", "user": 1, "class": "x"})
    assert response.status_code == 200, response.text
    answer = response.json()
    tag = answer["tag"]
    tid = tag["id"]
    assert answer == {
        "message": f"Tag {tid} (to-review) added", "printMessage": True,
        "callback": {"method": "be.cytomine.AddTagCommand", "tagID": str(tid)},
        "command": answer["command"], "tag": tag,
    }  # fmt: skip
    assert tag == {"class": TAG_CLASS, "id": tid, "created": tag["created"],
                   "updated": tag["updated"], "name": "to-review", "user": me["id"],
                   "creatorName": me["username"]}  # fmt: skip
    assert epoch_ms(tag["created"]) and tag["created"] == tag["updated"]
    assert api.get(f"/api/tag/{tid}.json").json() == tag

    edited = api.put(f"/api/tag/{tid}.json", json={**tag, "name": "reviewed"})
    assert edited.status_code == 200, edited.text
    assert edited.json()["message"] == f"Tag {tid} (reviewed) edited"
    assert edited.json()["callback"] == {"method": "be.cytomine.EditTagCommand", "tagID": str(tid)}
    assert edited.json()["tag"]["name"] == "reviewed"
    assert api.get(f"/api/tag/{tid}.json").json()["name"] == "reviewed"

    removed = api.delete(f"/api/tag/{tid}.json")
    assert removed.status_code == 200, removed.text
    assert removed.json()["message"] == f"Tag {tid} (reviewed) deleted"
    assert removed.json()["tag"]["name"] == "reviewed"
    gone = assert_error(api.get(f"/api/tag/{tid}.json"), 404)
    assert gone["errors"] == {"message": f"Tag not found with filters : {{id={tid}}}"}


def test_tag_name_is_unique_whatever_its_case(api, make_tag):
    first = make_tag(api, "Urgent")
    body = assert_error(api.post("/api/tag.json", json={"name": "uRGENT"}), 409)
    assert body["errors"] == "Tag uRGENT already exist!" and body["success"] is False
    other = make_tag(api, "later")
    assert_error(api.put(f"/api/tag/{other['id']}.json", json={"name": "URGENT"}), 409)
    own = api.put(f"/api/tag/{first['id']}.json", json={"name": "urgent"})
    assert own.status_code == 200 and own.json()["tag"]["name"] == "urgent"
    assert api.get("/api/tag.json").json()["size"] == 2


def test_tags_posted_as_an_array_are_made_one_by_one(api, make_tag):
    make_tag(api, "taken")
    response = api.post("/api/tag.json", json=[{"name": "new-1"}, {"name": "TAKEN"}, {}])
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == 206
    assert [error["message"] for error in body["data"]["errors"]] == [
        "Tag TAKEN already exist!", "Property name must be set: a tag needs a name"]  # fmt: skip
    names = [t["name"] for t in api.get("/api/tag.json").json()["collection"]]
    assert names == ["new-1", "taken"]


def test_tag_list_by_name_whatever_the_case_paged_and_filtered(api, make_tag):
    for name in ("banana", "Apple", "cherry"):
        make_tag(api, name)
    listed = api.get("/api/tag.json").json()
    assert [t["name"] for t in listed["collection"]] == ["Apple", "banana", "cherry"]
    assert (listed["size"], listed["totalPages"]) == (3, 1)
    assert all(t["class"] == TAG_CLASS for t in listed["collection"])
    page = api.get("/api/tag.json", params={"max": 1, "offset": 1}).json()
    assert [t["name"] for t in page["collection"]] == ["banana"]
    assert (page["size"], page["perPage"], page["totalPages"]) == (3, 1, 3)
    found = api.get("/api/tag.json", params={"name[ilike]": "an"}).json()
    assert [t["name"] for t in found["collection"]] == ["banana"]


def test_association_on_each_class_exact_json_show_list_and_delete(api, scene, make_tag, annotate):
    tag = make_tag(api, "tumour-rich")
    image = scene["image"]
    annotation = annotate(api)
    assert api.put(f"/api/imageinstance/{image['id']}/review.json").status_code == 200
    accepted = api.post(f"/api/annotation/{annotate(api)['id']}/review.json")
    reviewed = accepted.json()["reviewedannotation"]
    objects = {"Project": scene["project"]["id"], "ImageInstance": image["id"],
               "AbstractImage": image["baseImage"], "UserAnnotation": annotation["id"],
               "ReviewedAnnotation": reviewed["id"]}  # fmt: skip
    for simple, ident in objects.items():
        path = f"/api/domain/{CLASSES[simple]}/{ident}/tag_domain_association.json"
        response = api.post(path, json={"tag": tag["id"], "domainClassName": CLASSES[simple],
                                        "domainIdent": ident, "class": LINK_CLASS})  # fmt: skip
        assert response.status_code == 200, response.text
        answer = response.json()
        link = answer["tagdomainassociation"]
        assert answer == {
            "message": f"TagDomainAssociation between tumour-rich and {ident} {CLASSES[simple]}"
                       " added",
            "printMessage": True,
            "callback": {"method": "be.cytomine.AddTagDomainAssociationCommand",
                         "tagdomainassociationID": str(link["id"])},
            "command": answer["command"], "tagdomainassociation": link,
        }  # fmt: skip
        assert link == {"class": LINK_CLASS, "id": link["id"], "created": link["created"],
                        "updated": link["updated"], "domainIdent": ident,
                        "domainClassName": CLASSES[simple], "tag": tag["id"],
                        "tagName": "tumour-rich"}  # fmt: skip
        assert epoch_ms(link["created"])
        assert api.get(f"/api/tag_domain_association/{link['id']}.json").json() == link
        of_object = api.get(path).json()
        assert of_object["collection"] == [link] and of_object["size"] == 1

    assert links(api) == sorted(
        [(simple, ident, tag["id"]) for simple, ident in objects.items()],
        key=lambda triple: CLASSES[triple[0]],
        reverse=True,
    )
    project_link = api.get(
        f"/api/domain/{CLASSES['Project']}/{objects['Project']}/tag_domain_association.json"
    ).json()["collection"][0]
    removed = api.delete(f"/api/tag_domain_association/{project_link['id']}.json")
    assert removed.status_code == 200, removed.text
    assert removed.json()["callback"] == {
        "method": "be.cytomine.DeleteTagDomainAssociationCommand",
        "tagdomainassociationID": str(project_link["id"])}  # fmt: skip
    assert removed.json()["tagdomainassociation"] == project_link
    assert_error(api.get(f"/api/tag_domain_association/{project_link['id']}.json"), 404)
    assert len(links(api)) == 4


def test_association_posted_to_the_plain_route_and_by_alias_or_legacy_name(
    api, scene, make_tag, annotate
):
    tag, other, third = make_tag(api), make_tag(api), make_tag(api)
    annotation = annotate(api)
    plain = api.post("/api/tag_domain_association.json", json={
        "tag": tag["id"], "domainClassName": CLASSES["Project"],
        "domainIdent": scene["project"]["id"]})  # fmt: skip
    assert plain.status_code == 200, plain.text
    alias = "be.cytomine.domain.ontology.AnnotationDomain"
    by_alias = api.post(f"/api/domain/{alias}/{annotation['id']}/tag_domain_association.json",
                        json={"tag": other["id"]})  # fmt: skip
    assert by_alias.status_code == 200, by_alias.text
    assert by_alias.json()["tagdomainassociation"]["domainClassName"] == CLASSES["UserAnnotation"]
    legacy = "be.cytomine.ontology.UserAnnotation"
    by_legacy = api.post(f"/api/domain/{legacy}/{annotation['id']}/tag_domain_association.json",
                         json={"tag": third["id"]})  # fmt: skip
    assert by_legacy.status_code == 200, by_legacy.text
    assert by_legacy.json()["tagdomainassociation"]["domainClassName"] == CLASSES["UserAnnotation"]
    listed = api.get(f"/api/domain/{alias}/{annotation['id']}/tag_domain_association.json")
    assert [item["tag"] for item in listed.json()["collection"]] == [other["id"], third["id"]]


def test_association_rules(api, scene, make_tag, put_tag):
    tag = make_tag(api)
    project = scene["project"]["id"]
    path = f"/api/domain/{CLASSES['Project']}/{project}/tag_domain_association.json"
    put_tag(api, "Project", project, tag["id"])
    body = assert_error(api.post(path, json={"tag": tag["id"]}), 409)
    assert body["errors"] == f"Tag {tag['name']} is already on Project {project}"
    assert_error(api.post(path, json={"tag": 999999999}), 400)
    assert_error(api.post(path, json={}), 400)
    unknown = f"/api/domain/{CLASSES['Project']}/999999999/tag_domain_association.json"
    assert_error(api.post(unknown, json={"tag": tag["id"]}), 404)
    assert_error(api.get(unknown), 404)
    odd = f"/api/domain/be.cytomine.domain.ontology.Term/{project}/tag_domain_association.json"
    assert_error(api.post(odd, json={"tag": tag["id"]}), 400)
    assert_error(api.get(odd), 400)
    assert_error(api.post("/api/tag_domain_association.json", json={"tag": tag["id"]}), 400)
    assert links(api) == [("Project", project, tag["id"])]


def test_association_listing_shows_each_abstract_image_by_its_own_storage(
    api, make_tag, put_tag, make_user
):
    """An abstract image's associations are listed to who may read that image (its storage, a
    project using it), whatever other images they may read."""
    owner = make_user()
    mine = abstract_image(owner["api"])["id"]
    theirs = abstract_image(api)["id"]
    tag = make_tag(api)
    put_tag(api, "AbstractImage", mine, tag["id"])
    put_tag(api, "AbstractImage", theirs, tag["id"])
    assert links(owner["api"]) == [("AbstractImage", mine, tag["id"])]
    assert {ident for _, ident, _ in links(api)} >= {mine, theirs}


def test_association_listing_shows_readable_objects_filtered_and_ordered(
    api, scene, make_tag, put_tag, make_user, annotate
):
    member = make_user()
    shared = make_project(api, users=(member["id"],))
    hidden = scene["project"]["id"]
    first, second = make_tag(api), make_tag(api)
    annotation = annotate(api)
    put_tag(api, "Project", shared["id"], first["id"])
    put_tag(api, "Project", shared["id"], second["id"])
    put_tag(api, "Project", hidden, first["id"])
    put_tag(api, "UserAnnotation", annotation["id"], second["id"])
    put_tag(api, "AbstractImage", scene["image"]["baseImage"], first["id"])

    assert links(api) == [
        ("Project", shared["id"], first["id"]), ("Project", shared["id"], second["id"]),
        ("Project", hidden, first["id"]), ("UserAnnotation", annotation["id"], second["id"]),
        ("AbstractImage", scene["image"]["baseImage"], first["id"]),
    ]  # fmt: skip
    assert links(member["api"]) == [  # the image is in no storage nor project of theirs
        ("Project", shared["id"], first["id"]), ("Project", shared["id"], second["id"]),
    ]  # fmt: skip
    assert links(api, **{"tag[equals]": second["id"]}) == [
        ("Project", shared["id"], second["id"]), ("UserAnnotation", annotation["id"], second["id"])
    ]  # fmt: skip
    assert links(
        api, **{"tag[in]": f"{first['id']},{second['id']}", "domainIdent[equals]": hidden}
    ) == [("Project", hidden, first["id"])]
    assert links(api, **{"domainClassName[ilike]": "annotation"}) == [
        ("UserAnnotation", annotation["id"], second["id"])]  # fmt: skip
    assert links(api, **{"domainClassName[equals]": CLASSES["AbstractImage"]}) == [
        ("AbstractImage", scene["image"]["baseImage"], first["id"])]  # fmt: skip
    page = api.get("/api/tag_domain_association.json", params={"max": 2, "offset": 1}).json()
    assert (page["size"], page["perPage"], page["offset"]) == (5, 2, 1)
    assert [item["domainIdent"] for item in page["collection"]] == [shared["id"], hidden]


def test_tag_in_use_is_renamed_only_by_an_administrator(api, scene, make_tag, put_tag, make_user):
    author = make_user()
    tag = make_tag(author["api"], "mine")
    renamed = author["api"].put(f"/api/tag/{tag['id']}.json", json={"name": "still-mine"})
    assert renamed.status_code == 200, renamed.text
    put_tag(api, "Project", scene["project"]["id"], tag["id"])
    refused = assert_error(author["api"].put(f"/api/tag/{tag['id']}.json", json={"name": "x"}),
                           403)  # fmt: skip
    assert refused["success"] is False
    same = author["api"].put(f"/api/tag/{tag['id']}.json", json={"name": "still-mine"})
    assert same.status_code == 200, same.text
    by_admin = api.put(f"/api/tag/{tag['id']}.json", json={"name": "admins-choice"})
    assert by_admin.status_code == 200, by_admin.text
    assert api.get(f"/api/tag/{tag['id']}.json").json()["name"] == "admins-choice"


def test_tag_delete_takes_its_associations_and_undo_brings_them_back(
    api, scene, make_tag, put_tag, annotate
):
    tag, kept = make_tag(api, "doomed"), make_tag(api, "kept")
    annotation = annotate(api)
    put_tag(api, "Project", scene["project"]["id"], tag["id"])
    put_tag(api, "UserAnnotation", annotation["id"], tag["id"])
    put_tag(api, "UserAnnotation", annotation["id"], kept["id"])
    assert api.delete(f"/api/tag/{tag['id']}.json").status_code == 200
    assert links(api) == [("UserAnnotation", annotation["id"], kept["id"])]

    undone = api.get("/api/command/undo.json")
    assert undone.status_code == 200, undone.text
    assert [item["message"] for item in undone.json()["collection"]] == [
        f"Tag {tag['id']} (doomed) added"]  # fmt: skip
    assert api.get(f"/api/tag/{tag['id']}.json").json()["name"] == "doomed"
    assert sorted(links(api)) == sorted([
        ("Project", scene["project"]["id"], tag["id"]),
        ("UserAnnotation", annotation["id"], tag["id"]),
        ("UserAnnotation", annotation["id"], kept["id"]),
    ])  # fmt: skip
    assert api.get("/api/command/redo.json").status_code == 200
    assert links(api) == [("UserAnnotation", annotation["id"], kept["id"])]
    assert_error(api.get(f"/api/tag/{tag['id']}.json"), 404)


def test_association_delete_is_undone(api, scene, make_tag, put_tag):
    tag = make_tag(api)
    link = put_tag(api, "Project", scene["project"]["id"], tag["id"])
    assert api.delete(f"/api/tag_domain_association/{link['id']}.json").status_code == 200
    assert links(api) == []
    undone = api.get("/api/command/undo.json").json()["collection"]
    assert undone[0]["message"] == (
        f"TagDomainAssociation between {tag['name']} and "
        f"{scene['project']['id']} {CLASSES['Project']} added"
    )
    assert api.get(f"/api/tag_domain_association/{link['id']}.json").json() == link


def test_deleting_an_annotation_deletes_its_associations_and_undo_restores_them(
    api, scene, make_tag, put_tag, annotate
):
    tag = make_tag(api)
    annotation, other = annotate(api), annotate(api, location="POINT (30 30)")
    put_tag(api, "UserAnnotation", annotation["id"], tag["id"])
    put_tag(api, "UserAnnotation", other["id"], tag["id"])
    assert api.delete(f"/api/annotation/{annotation['id']}.json").status_code == 200
    assert links(api) == [("UserAnnotation", other["id"], tag["id"])]
    assert api.get("/api/command/undo.json").status_code == 200
    assert sorted(links(api)) == sorted(
        [
            ("UserAnnotation", annotation["id"], tag["id"]),
            ("UserAnnotation", other["id"], tag["id"]),
        ]
    )


def test_deleting_an_image_deletes_its_and_its_annotations_associations_until_undone(
    api, scene, make_tag, put_tag, annotate
):
    tag = make_tag(api)
    image = scene["image"]["id"]
    annotation = annotate(api)
    put_tag(api, "ImageInstance", image, tag["id"])
    put_tag(api, "UserAnnotation", annotation["id"], tag["id"])
    put_tag(api, "Project", scene["project"]["id"], tag["id"])
    assert api.delete(f"/api/imageinstance/{image}.json").status_code == 200
    assert links(api) == [("Project", scene["project"]["id"], tag["id"])]
    assert api.get("/api/command/undo.json").status_code == 200
    assert sorted(links(api)) == sorted(
        [
            ("ImageInstance", image, tag["id"]),
            ("UserAnnotation", annotation["id"], tag["id"]),
            ("Project", scene["project"]["id"], tag["id"]),
        ]
    )


def test_deleting_reviewed_and_abstract_images_deletes_their_associations_until_undone(
    api, scene, make_tag, put_tag, annotate
):
    tag = make_tag(api)
    annotation = annotate(api)
    assert api.put(f"/api/imageinstance/{scene['image']['id']}/review.json").status_code == 200
    reviewed = api.post(f"/api/annotation/{annotation['id']}/review.json").json()
    put_tag(api, "ReviewedAnnotation", reviewed["reviewedannotation"]["id"], tag["id"])
    assert api.delete(f"/api/annotation/{annotation['id']}/review.json").status_code == 200
    assert links(api) == []
    assert api.get("/api/command/undo.json").status_code == 200
    assert links(api) == [("ReviewedAnnotation", reviewed["reviewedannotation"]["id"], tag["id"])]

    unused = abstract_image(api)
    put_tag(api, "AbstractImage", unused["id"], tag["id"])
    assert api.delete(f"/api/abstractimage/{unused['id']}.json").status_code == 200
    assert ("AbstractImage", unused["id"], tag["id"]) not in links(api)
    assert api.get("/api/command/undo.json").status_code == 200
    assert ("AbstractImage", unused["id"], tag["id"]) in links(api)


def test_deleting_a_project_deletes_every_association_inside_it(
    api, scene, make_tag, put_tag, annotate
):
    tag = make_tag(api)
    elsewhere = make_project(api)
    other_image = add_image(api, elsewhere["id"], abstract_image(api)["id"])
    put_tag(api, "Project", scene["project"]["id"], tag["id"])
    put_tag(api, "ImageInstance", scene["image"]["id"], tag["id"])
    put_tag(api, "UserAnnotation", annotate(api)["id"], tag["id"])
    put_tag(api, "ImageInstance", other_image["id"], tag["id"])
    assert api.delete(f"/api/project/{scene['project']['id']}.json").status_code == 200
    assert links(api) == [("ImageInstance", other_image["id"], tag["id"])]
