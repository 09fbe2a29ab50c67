"""Tags through GraphQL: mutations with input objects and payloads, the tag lists, the `tags`
of projects, images and annotations, and the same rules as REST (error codes)."""

from __future__ import annotations

from typing import Any

from tests.tag.conftest import CLASSES

TAG_FIELDS = "id name userId creatorName user { username }"
CREATE = f"""
mutation($input: TagInput!) {{
  tagCreate(input: $input) {{ command {{ action domain message }} tag {{ {TAG_FIELDS} }} }}
}}
"""
UPDATE = """
mutation($id: Long!, $input: TagInput!) { tagUpdate(id: $id, input: $input) { tag { name } } }
"""
DELETE = "mutation($id: Long!) { tagDelete(id: $id) { command { action } tag { id name } } }"
LINK = """
mutation($input: TagAssociationInput!) {
  tagAssociationCreate(input: $input) {
    command { action domain message }
    tagAssociation { id tagId tagName domainClassName domainIdent tag { name } }
  }
}
"""
UNLINK = """
mutation($id: Long!) { tagAssociationDelete(id: $id) { tagAssociation { id } command { action } } }
"""


def code(answer: dict[str, Any]) -> str:
    return answer["errors"][0]["extensions"]["code"]  # type: ignore[no-any-return]


def data(answer: dict[str, Any]) -> Any:
    assert "errors" not in answer, answer
    return answer["data"]


def test_tag_create_update_delete_through_the_graph(api):
    me = api.get("/api/user/current.json").json()
    made = data(api.gql(CREATE, {"input": {"name": "mitosis"}}))["tagCreate"]
    tag = made["tag"]
    assert made["command"] == {"action": "ADD", "domain": "Tag",
                               "message": f"Tag {tag['id']} (mitosis) added"}  # fmt: skip
    assert tag == {"id": tag["id"], "name": "mitosis", "userId": me["id"],
                   "creatorName": me["username"], "user": {"username": me["username"]}}  # fmt: skip
    renamed = data(api.gql(UPDATE, {"id": tag["id"], "input": {"name": "Mitosis"}}))
    assert renamed["tagUpdate"]["tag"]["name"] == "Mitosis"
    read = data(api.gql("query($id: Long!) { tag(id: $id) { name } }", {"id": tag["id"]}))
    assert read["tag"]["name"] == "Mitosis"
    listed = data(api.gql("{ tags(first: 10) { totalCount nodes { name } } }"))["tags"]
    assert listed == {"totalCount": 1, "nodes": [{"name": "Mitosis"}]}
    gone = data(api.gql(DELETE, {"id": tag["id"]}))["tagDelete"]
    assert gone == {"command": {"action": "DELETE"}, "tag": {"id": tag["id"], "name": "Mitosis"}}
    assert code(api.gql("query($id: Long!) { tag(id: $id) { id } }", {"id": tag["id"]})) == (
        "NOT_FOUND")  # fmt: skip


def test_tag_errors_carry_codes(api, make_tag, make_user):
    make_tag(api, "taken")
    assert code(api.gql(CREATE, {"input": {"name": "TAKEN"}})) == "CONFLICT"
    assert code(api.gql(CREATE, {"input": {}})) == "BAD_USER_INPUT"
    assert code(api.gql(UPDATE, {"id": 999999999, "input": {"name": "x"}})) == "NOT_FOUND"
    stranger = make_user()
    mine = make_tag(api, "admins")
    assert code(stranger["api"].gql(DELETE, {"id": mine["id"]})) == "FORBIDDEN"
    listed = data(api.gql('{ tags(filters: [{field: "name", op: "ilike", value: "TAK"}]) '
                          "{ nodes { name } } }"))  # fmt: skip
    assert listed["tags"]["nodes"] == [{"name": "taken"}]


def test_associations_through_the_graph_and_the_tags_of_objects(api, scene, make_tag, annotate):
    red, blue = make_tag(api, "red"), make_tag(api, "blue")
    project, image = scene["project"]["id"], scene["image"]["id"]
    annotation = annotate(api)
    made = {}
    for key, class_name, ident, tag in (
        ("project-red", "Project", project, red), ("project-blue", "Project", project, blue),
        ("image", "ImageInstance", image, blue), ("annotation", "UserAnnotation",
                                                  annotation["id"], red),
    ):  # fmt: skip
        input = {"tag": tag["id"], "domainClassName": CLASSES[class_name], "domainIdent": ident}
        made[key] = data(api.gql(LINK, {"input": input}))["tagAssociationCreate"]
    first = made["project-red"]
    assert first["command"] == {
        "action": "ADD", "domain": "TagDomainAssociation",
        "message": f"TagDomainAssociation between red and {project} {CLASSES['Project']} added",
    }  # fmt: skip
    assert first["tagAssociation"] == {
        "id": first["tagAssociation"]["id"], "tagId": red["id"], "tagName": "red",
        "domainClassName": CLASSES["Project"], "domainIdent": project, "tag": {"name": "red"},
    }  # fmt: skip

    tree = data(api.gql("""query($p: Long!, $a: Long!) {
      project(id: $p) { tags { name } images { nodes { tags { name } } } }
      annotation(id: $a) { tags { name } }
    }""", {"p": project, "a": annotation["id"]}))  # fmt: skip
    assert tree["project"]["tags"] == [{"name": "blue"}, {"name": "red"}]
    assert tree["project"]["images"]["nodes"] == [{"tags": [{"name": "blue"}]}]
    assert tree["annotation"]["tags"] == [{"name": "red"}]

    of_project = data(api.gql("""query($c: String!, $i: Long!) {
      tagAssociations(domainClassName: $c, domainIdent: $i) { totalCount nodes { tagName } }
    }""", {"c": CLASSES["Project"], "i": project}))["tagAssociations"]  # fmt: skip
    assert of_project == {"totalCount": 2, "nodes": [{"tagName": "red"}, {"tagName": "blue"}]}
    by_tag = [{"field": "tag", "op": "equals", "value": str(red["id"])}]
    everything = data(api.gql("query($f: [FilterInput!]) { tagAssociations(filters: $f) "
                              "{ nodes { domainClassName } } }", {"f": by_tag}))  # fmt: skip
    everything = everything["tagAssociations"]
    assert everything["nodes"] == [{"domainClassName": CLASSES["Project"]},
                                   {"domainClassName": CLASSES["UserAnnotation"]}]  # fmt: skip
    link_id = made["image"]["tagAssociation"]["id"]
    shown = data(api.gql("query($id: Long!) { tagAssociation(id: $id) { domainIdent } }",
                         {"id": link_id}))  # fmt: skip
    assert shown["tagAssociation"] == {"domainIdent": image}

    removed = data(api.gql(UNLINK, {"id": link_id}))["tagAssociationDelete"]
    assert removed == {"tagAssociation": {"id": link_id}, "command": {"action": "DELETE"}}
    again = data(api.gql("query($i: Long!) { imageInstance(id: $i) { tags { name } } }",
                         {"i": image}))  # fmt: skip
    assert again["imageInstance"]["tags"] == []


def test_association_errors_carry_codes(api, scene, make_tag, make_user):
    tag = make_tag(api)
    project = scene["project"]["id"]
    input = {"tag": tag["id"], "domainClassName": CLASSES["Project"], "domainIdent": project}
    data(api.gql(LINK, {"input": input}))
    assert code(api.gql(LINK, {"input": input})) == "CONFLICT"
    assert code(api.gql(LINK, {"input": {**input, "domainIdent": 999999999}})) == "NOT_FOUND"
    # a short name names the same class: the association exists already
    assert code(api.gql(LINK, {"input": {**input, "domainClassName": "Project"}})) == (
        "CONFLICT")  # fmt: skip
    assert code(api.gql(LINK, {"input": {**input, "domainClassName": "Nonsense"}})) == (
        "BAD_USER_INPUT")  # fmt: skip
    assert code(api.gql(LINK, {"input": {**input, "tag": 999999999}})) == "BAD_USER_INPUT"
    stranger = make_user()
    assert code(stranger["api"].gql(LINK, {"input": {**input, "tag": make_tag(api)["id"]}})) == (
        "FORBIDDEN")  # fmt: skip
    of_project = """query($c: String!, $i: Long!) {
      tagAssociations(domainClassName: $c, domainIdent: $i) { totalCount } }"""
    variables = {"c": CLASSES["Project"], "i": project}
    assert code(stranger["api"].gql(of_project, variables)) == "FORBIDDEN"
    assert code(api.gql("{ tagAssociations(domainIdent: 1) { totalCount } }")) == (
        "BAD_USER_INPUT")  # fmt: skip
    assert code(api.gql(UNLINK, {"id": 999999999})) == "NOT_FOUND"


def test_reviewed_annotations_and_abstract_images_have_their_tags(api, scene, make_tag, put_tag,
                                                                   annotate):  # fmt: skip
    tag = make_tag(api, "checked")
    image = scene["image"]
    assert api.put(f"/api/imageinstance/{image['id']}/review.json").status_code == 200
    reviewed = api.post(f"/api/annotation/{annotate(api)['id']}/review.json").json()
    reviewed_id = reviewed["reviewedannotation"]["id"]
    put_tag(api, "ReviewedAnnotation", reviewed_id, tag["id"])
    put_tag(api, "AbstractImage", image["baseImage"], tag["id"])
    put_tag(api, "SliceInstance", scene["slices"][0], tag["id"])
    tree = data(api.gql("""query($r: Long!, $a: Long!, $s: Long!) {
      reviewedAnnotation(id: $r) { tags { name } }
      abstractImage(id: $a) { tags { name } }
      sliceInstance(id: $s) { tags { name } }
    }""", {"r": reviewed_id, "a": image["baseImage"], "s": scene["slices"][0]}))  # fmt: skip
    checked = {"tags": [{"name": "checked"}]}
    assert tree == {"reviewedAnnotation": checked, "abstractImage": checked,
                    "sliceInstance": checked}  # fmt: skip


def test_the_associations_of_one_object_are_filtered(api, scene, make_tag, put_tag):
    project = scene["project"]["id"]
    red, blue = make_tag(api, "red"), make_tag(api, "blue")
    put_tag(api, "Project", project, red["id"])
    put_tag(api, "Project", project, blue["id"])
    by_tag = [{"field": "tag", "op": "equals", "value": str(blue["id"])}]
    found = data(api.gql("""query($c: String!, $i: Long!, $f: [FilterInput!]) {
      tagAssociations(domainClassName: $c, domainIdent: $i, filters: $f) {
        totalCount nodes { tagName } } }""",
                         {"c": CLASSES["Project"], "i": project, "f": by_tag}))  # fmt: skip
    assert found["tagAssociations"] == {"totalCount": 1, "nodes": [{"tagName": "blue"}]}
