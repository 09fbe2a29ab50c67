"""Comments on user annotations (Cytomine's SharedAnnotation): exact REST JSON, the comment
counter, who reads and who writes them, undo, and GraphQL (contract images-annotations.md
§3.4 "Comments", §9.9)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import created
from tests.harness import Api, assert_error

COMMENT_CLASS = "be.cytomine.domain.ontology.SharedAnnotation"
ANNOTATION_CLASS = "be.cytomine.domain.ontology.UserAnnotation"


def draw(api: Api, scene: dict[str, Any], location: str = "POINT (10 10)") -> dict[str, Any]:
    body = {"location": location, "image": scene["image"]["id"]}
    return created(api.post("/api/annotation.json", json=body), "annotation")


def comment(api: Api, annotation: int, text: str, receivers: list[int]) -> Any:
    body = {"comment": text, "receivers": receivers, "annotationIdent": annotation,
            "subject": "ignored", "annotationURL": "http://x"}  # fmt: skip
    return api.post(f"/api/userannotation/{annotation}/comment.json", json=body)


@pytest.fixture
def members(api: Api, scene: dict[str, Any], make_user: Any) -> dict[str, Any]:
    """Two contributors of the scene's project, Alice and Bob."""
    alice = make_user("alice", firstname="Alice", lastname="Liddell")
    bob = make_user("bob", firstname="Bob", lastname="Builder")
    for user in (alice, bob):
        added = api.post(f"/api/project/{scene['project']['id']}/user/{user['id']}.json")
        assert added.status_code == 200, added.text
    return {"alice": alice, "bob": bob}


def test_comment_create_exact_json_and_counter(api, scene, members):
    annotation = draw(api, scene)
    me = api.get("/api/user/current.json").json()
    alice = members["alice"]["id"]
    response = comment(api, annotation["id"], "Is this a tumour?", [alice, alice])
    assert response.status_code == 200, response.text
    answer = response.json()
    shared = answer["sharedannotation"]
    assert answer == {
        "message": f"SharedAnnotation {shared['id']} added", "printMessage": True,
        "callback": {"method": "be.cytomine.AddSharedAnnotationCommand",
                     "sharedannotationID": str(shared["id"])},
        "command": answer["command"], "sharedannotation": shared,
    }  # fmt: skip
    assert shared == {
        "class": COMMENT_CLASS, "id": shared["id"], "created": shared["created"],
        "updated": shared["updated"], "annotationIdent": annotation["id"],
        "annotationClassName": ANNOTATION_CLASS, "comment": "Is this a tumour?",
        "sender": me["id"], "senderName": "Super Admin", "receivers": [alice],
    }  # fmt: skip
    assert shared["created"].isdigit()
    assert api.get(f"/api/userannotation/{annotation['id']}.json").json()["nbComments"] == 1
    comment(api, annotation["id"], "Or stroma?", [])
    assert api.get(f"/api/annotation/{annotation['id']}.json").json()["nbComments"] == 2
    shown = api.get(f"/api/userannotation/{annotation['id']}/comment/{shared['id']}.json")
    assert shown.json() == shared


def test_comments_are_listed_newest_first_to_their_sender_and_receivers(api, scene, members):
    alice, bob = members["alice"], members["bob"]
    annotation = draw(alice["api"], scene)["id"]
    to_bob = comment(alice["api"], annotation, "for Bob", [bob["id"]]).json()["sharedannotation"]
    to_nobody = comment(alice["api"], annotation, "for me", []).json()["sharedannotation"]
    by_bob = comment(bob["api"], annotation, "for nobody", []).json()["sharedannotation"]
    path = f"/api/userannotation/{annotation}/comment.json"

    def listed(api: Api) -> list[str]:
        return [item["comment"] for item in api.get(path).json()["collection"]]

    assert listed(api) == ["for nobody", "for me", "for Bob"]  # administrators read all
    assert listed(alice["api"]) == ["for me", "for Bob"]  # the sender
    assert listed(bob["api"]) == ["for nobody", "for Bob"]  # a receiver, and his own
    paged = api.get(path, params={"max": 1, "offset": 1}).json()
    assert ([item["id"] for item in paged["collection"]], paged["size"]) == ([to_nobody["id"]], 3)
    one = f"/api/userannotation/{annotation}/comment/{to_nobody['id']}.json"
    assert_error(bob["api"].get(one), 403)
    assert alice["api"].get(one).status_code == 200
    received = f"/api/userannotation/{annotation}/comment/{to_bob['id']}.json"
    assert bob["api"].get(received).json()["receivers"] == [bob["id"]]
    assert_error(api.get(f"/api/userannotation/{draw(api, scene)['id']}/comment/"
                         f"{by_bob['id']}.json"), 404)  # fmt: skip


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ({}, {"owner": 200, "other": 200, "manager": 200, "guest": 403, "stranger": 403}),
        ({"isRestricted": True},
         {"owner": 200, "other": 403, "manager": 200, "guest": 403, "stranger": 403}),
        ({"isReadOnly": True},
         {"owner": 403, "other": 403, "manager": 200, "guest": 403, "stranger": 403}),
    ],
)  # fmt: skip
def test_who_may_comment_by_project_mode(api, scene, members, people, make_user, mode, expected):
    project = scene["project"]
    guest = people["guest"]
    api.post(f"/api/project/{project['id']}/user/{guest['id']}.json")
    annotation = draw(members["alice"]["api"], scene)["id"]
    if mode:
        assert api.put(f"/api/project/{project['id']}.json", json={**project, **mode}).ok
    actors = {"owner": members["alice"], "other": members["bob"], "manager": people["superadmin"],
              "guest": guest, "stranger": make_user()}  # fmt: skip
    for name, actor in actors.items():
        response = comment(actor["api"], annotation, f"from {name}", [])
        assert response.status_code == expected[name], (name, response.text)
    reading = {name: actor["api"].get(f"/api/userannotation/{annotation}/comment.json")
               for name, actor in actors.items()}  # fmt: skip
    assert {name: r.status_code for name, r in reading.items()} == {
        "owner": 200, "other": 200, "manager": 200, "guest": 200, "stranger": 403}  # fmt: skip
    count = api.get(f"/api/annotation/{annotation}.json").json()["nbComments"]
    assert count == sum(1 for status in expected.values() if status == 200)


def test_comment_to_an_unknown_user_changes_nothing_and_undo_removes_a_comment(api, scene):
    annotation = draw(api, scene)["id"]
    assert_error(comment(api, annotation, "hello", [999999999]), 400)
    assert api.get(f"/api/userannotation/{annotation}/comment.json").json()["size"] == 0
    assert comment(api, annotation, "hello", []).status_code == 200
    assert api.get(f"/api/annotation/{annotation}.json").json()["nbComments"] == 1
    assert api.get("/api/command/undo.json").status_code == 200
    assert api.get(f"/api/userannotation/{annotation}/comment.json").json()["size"] == 0
    assert api.get(f"/api/annotation/{annotation}.json").json()["nbComments"] == 0


def test_deleting_the_annotation_deletes_its_comments(api, scene):
    annotation = draw(api, scene)["id"]
    shared = comment(api, annotation, "bye", []).json()["sharedannotation"]
    assert api.delete(f"/api/annotation/{annotation}.json").status_code == 200
    assert_error(api.get(f"/api/userannotation/{annotation}/comment/{shared['id']}.json"), 404)
    assert api.get("/api/command/undo.json").status_code == 200  # the annotation comes back…
    back = api.get(f"/api/userannotation/{annotation}/comment.json").json()["collection"]
    assert [item["id"] for item in back] == [shared["id"]]  # …with its comment


def test_comments_through_graphql(api, scene, members):
    annotation = draw(api, scene)["id"]
    bob = members["bob"]["id"]
    made = api.gql(
        "mutation($i: AnnotationCommentInput!) { annotationCommentCreate(input: $i) {"
        " command { domain } sharedAnnotation { id comment senderName sender { username }"
        " receiverIds receivers { username } annotation { id countComments } } } }",
        {"i": {"annotation": annotation, "comment": "look", "receivers": [bob]}},
    )
    assert "errors" not in made, made
    shared = made["data"]["annotationCommentCreate"]["sharedAnnotation"]
    assert made["data"]["annotationCommentCreate"]["command"] == {"domain": "SharedAnnotation"}
    assert {k: v for k, v in shared.items() if k != "id"} == {
        "comment": "look", "senderName": "Super Admin", "sender": {"username": "admin"},
        "receiverIds": [bob], "receivers": [{"username": "bob"}],
        "annotation": {"id": annotation, "countComments": 1},
    }  # fmt: skip
    listed = api.gql(
        "query($a: Long!) { annotationComments(annotationId: $a) { totalCount nodes { id } } }",
        {"a": annotation},
    )
    expected = {"totalCount": 1, "nodes": [{"id": shared["id"]}]}
    assert listed["data"]["annotationComments"] == expected
    missing = api.gql(
        'mutation { annotationCommentCreate(input: {annotation: 999999999, comment: "x"})'
        " { sharedAnnotation { id } } }"
    )
    assert missing["errors"][0]["extensions"]["code"] == "NOT_FOUND"
