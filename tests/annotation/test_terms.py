"""Terms on annotations (contract images-annotations.md §3.11, §5.2): every route of the
table through REST, the official client 4.3.0, GraphQL, permissions, and the refusal to delete
a term annotations carry."""

from __future__ import annotations

from typing import Any

import pytest
from cytomine.models import AnnotationTerm, TermCollection

from tests.harness import Api, assert_error

LINK = "be.cytomine.domain.ontology.AnnotationTerm"


def draw(api: Api, scene: dict[str, Any], *terms: str, location: str = "POINT (10 10)") -> Any:
    body = {
        "location": location,
        "image": scene["image"]["id"],
        "term": [scene["terms"][name] for name in terms],
    }
    response = api.post("/api/annotation.json", json=body)
    assert response.status_code == 200, response.text
    return response.json()["annotation"]


def member(api: Api, scene: dict[str, Any], make_user: Any, *, manager: bool = False) -> Any:
    user = make_user()
    suffix = "/admin" if manager else ""
    added = api.post(f"/api/project/{scene['project']['id']}/user/{user['id']}{suffix}.json")
    assert added.status_code == 200, added.text
    return user


def links(api: Api, annotation: int, **params: Any) -> list[dict[str, Any]]:
    response = api.get(f"/api/annotation/{annotation}/term.json", params=params)
    assert response.status_code == 200, response.text
    return response.json()["collection"]  # type: ignore[no-any-return]


def test_add_list_show_and_delete_links(api, scene, make_user):
    tumour, stroma = scene["terms"]["Tumour"], scene["terms"]["Stroma"]
    other = member(api, scene, make_user)
    admin = api.get("/api/user/current.json").json()["id"]
    annotation = draw(api, scene, "Tumour")
    path = f"/api/annotation/{annotation['id']}/term/{stroma}.json"
    # the path wins over the body; `annotationIdent` is accepted; `user` names the author
    response = api.post(
        path, json={"userannotation": 1, "annotationIdent": 2, "term": 3, "user": other["id"]}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    link = body["annotationterm"]
    assert {k: link[k] for k in ("class", "userannotation", "term", "user")} == {
        "class": LINK,
        "userannotation": annotation["id"],
        "term": stroma,
        "user": other["id"],
    }
    assert link["created"].isdigit()
    assert body["callback"] == {
        "method": "be.cytomine.AddAnnotationTermCommand",
        "annotationtermID": str(link["id"]),
        "annotationID": str(annotation["id"]),
        "termID": str(stroma),
    }
    assert_error(api.post(path, json={"user": other["id"]}), 409)
    mine = api.post(path)  # no body: by the caller
    assert mine.status_code == 200 and mine.json()["annotationterm"]["user"] == admin
    assert api.post(path, json={"user": 999999999}).status_code == 409  # unknown user: the caller

    listed = links(api, annotation["id"])
    assert [(item["term"], item["user"]) for item in listed] == [
        (tumour, admin),
        (stroma, other["id"]),
        (stroma, admin),
    ]
    assert {item["class"] for item in listed} == {LINK}
    assert [i["term"] for i in links(api, annotation["id"], idUser=other["id"])] == [stroma]
    not_other = api.get(f"/api/annotation/{annotation['id']}/notuser/{other['id']}/term.json")
    assert [i["user"] for i in not_other.json()["collection"]] == [admin, admin]
    by_user = api.get(f"/api/userannotation/{annotation['id']}/user/{other['id']}/term.json")
    assert [i["id"] for i in by_user.json()["collection"]] == [link["id"]]
    assert api.get(path).json()["id"] == link["id"]  # the first link with that term
    shown = api.get(f"/api/annotation/{annotation['id']}/term/{stroma}/user/{admin}.json").json()
    assert shown["user"] == admin
    assert_error(api.get(f"/api/annotation/{annotation['id']}/term/999999999.json"), 404)
    fetched = api.get(f"/api/annotation/{annotation['id']}.json").json()
    assert sorted(fetched["term"]) == sorted([tumour, stroma])

    removed = api.delete(path)  # mine
    assert removed.status_code == 200 and removed.json()["annotationterm"]["user"] == admin
    assert_error(api.delete(path), 404)
    theirs = api.delete(f"/api/annotation/{annotation['id']}/term/{stroma}/user/{other['id']}.json")
    assert theirs.status_code == 200
    assert [i["term"] for i in links(api, annotation["id"])] == [tumour]


def test_add_refusals(api, scene):
    annotation = draw(api, scene)
    elsewhere = api.post("/api/ontology.json", json={"name": "elsewhere"}).json()["ontology"]
    alien = api.post(
        "/api/term.json", json={"name": "Y", "color": "#000", "ontology": elsewhere["id"]}
    ).json()["term"]
    assert_error(api.post(f"/api/annotation/{annotation['id']}/term/{alien['id']}.json"), 400)
    assert_error(api.post(f"/api/annotation/{annotation['id']}/term/999999999.json"), 404)
    tumour = scene["terms"]["Tumour"]
    assert_error(api.post(f"/api/annotation/999999999/term/{tumour}.json"), 404)
    assert_error(
        api.post(f"/api/annotation/{annotation['id']}/term/{tumour}.json", data="{not json"), 400
    )
    assert links(api, annotation["id"]) == []


def test_clear_before_on_a_user_annotation(api, scene, make_user):
    tumour, stroma = scene["terms"]["Tumour"], scene["terms"]["Stroma"]
    other = member(api, scene, make_user)
    annotation = draw(api, scene, "Tumour")
    base = f"/api/annotation/{annotation['id']}/term"
    assert other["api"].post(f"{base}/{tumour}.json").status_code == 200
    response = api.post(f"{base}/{stroma}/clearBefore.json")
    assert response.status_code == 200, response.text
    assert response.json()["annotationterm"]["term"] == stroma
    assert sorted((i["term"], i["user"]) for i in links(api, annotation["id"])) == sorted(
        [(tumour, other["id"]), (stroma, response.json()["annotationterm"]["user"])]
    )
    everyone = api.post(f"{base}/{tumour}/clearBefore.json", params={"clearForAll": "true"})
    assert everyone.status_code == 200
    assert [i["term"] for i in links(api, annotation["id"])] == [tumour]
    assert len(links(api, annotation["id"])) == 1
    assert api.get("/command/undo.json").status_code == 200  # both steps come back together
    assert sorted(i["term"] for i in links(api, annotation["id"])) == [tumour, stroma]


def test_terms_of_a_reviewed_annotation(api, scene, make_user):
    tumour, stroma = scene["terms"]["Tumour"], scene["terms"]["Stroma"]
    annotation = draw(api, scene, "Tumour", "Stroma")
    image = scene["image"]["id"]
    assert api.put(f"/api/imageinstance/{image}/review.json").status_code == 200
    copy = api.post(f"/api/annotation/{annotation['id']}/review.json").json()
    copy = copy["reviewedannotation"]
    admin = api.get("/api/user/current.json").json()["id"]
    assert sorted(map(tuple, (i.values() for i in links(api, copy["id"])))) == sorted(
        [(tumour, admin), (stroma, admin)]
    )
    assert set(links(api, copy["id"])[0]) == {"term", "user"}
    outsider = member(api, scene, make_user)
    assert_error(
        outsider["api"].post(f"/api/annotation/{copy['id']}/term/{tumour}/clearBefore.json"), 403
    )
    response = api.post(f"/api/annotation/{copy['id']}/term/{stroma}/clearBefore.json")
    assert response.status_code == 200, response.text
    answer = response.json()
    assert (answer["id"], answer["class"], answer["term"]) == (
        copy["id"],
        "be.cytomine.domain.ontology.ReviewedAnnotation",
        [stroma],
    )
    assert [i["term"] for i in links(api, copy["id"])] == [stroma]
    # terms of a reviewed annotation are a set: no links to add, show or remove one by one
    assert_error(api.post(f"/api/annotation/{copy['id']}/term/{tumour}.json"), 404)
    assert api.get("/command/undo.json").status_code == 200
    assert sorted(i["term"] for i in links(api, copy["id"])) == [tumour, stroma]
    # after the review the image's reviewer is gone: the listed user follows it
    assert (
        api.delete(f"/api/imageinstance/{image}/review.json", params={"cancel": "true"}).status_code
        == 200
    )
    assert {i["user"] for i in links(api, copy["id"])} == {None}


def test_deleting_a_term_carried_by_annotations_is_400(api, scene):
    tumour, stroma = scene["terms"]["Tumour"], scene["terms"]["Stroma"]
    annotation = draw(api, scene, "Tumour")
    assert_error(api.delete(f"/api/term/{tumour}.json"), 400)
    reviewed = draw(api, scene, "Stroma")
    assert api.put(f"/api/imageinstance/{scene['image']['id']}/review.json").status_code == 200
    assert api.post(f"/api/annotation/{reviewed['id']}/review.json").status_code == 200
    assert api.delete(f"/api/annotation/{reviewed['id']}.json").status_code == 200
    body = assert_error(api.delete(f"/api/term/{stroma}.json"), 400)  # on the reviewed copy
    assert "annotations" in body["message"]
    assert api.delete(f"/api/annotation/{annotation['id']}/term/{tumour}.json").status_code == 200
    assert api.delete(f"/api/term/{tumour}.json").status_code == 200


@pytest.mark.parametrize(
    ("role", "mode", "expected"),
    [
        ("creator", "CLASSIC", 200),
        ("creator", "RESTRICTED", 200),
        ("creator", "READ_ONLY", 403),
        ("contributor", "CLASSIC", 200),
        ("contributor", "RESTRICTED", 403),
        ("manager", "RESTRICTED", 200),
        ("manager", "READ_ONLY", 200),
        ("guest", "CLASSIC", 200),
        ("stranger", "CLASSIC", 403),
    ],
)
def test_who_may_change_the_terms_of_an_annotation(
    api, scene, make_user, people, role, mode, expected
):
    creator = member(api, scene, make_user)
    actors = {
        "creator": creator,
        "contributor": member(api, scene, make_user),
        "manager": member(api, scene, make_user, manager=True),
        "guest": people["guest"],
        "stranger": make_user(),
    }
    project = scene["project"]["id"]
    assert api.post(f"/api/project/{project}/user/{people['guest']['id']}.json").status_code == 200
    annotation = draw(creator["api"], scene, "Tumour")
    fields = api.get(f"/api/project/{project}.json").json()
    fields.update(isRestricted=mode == "RESTRICTED", isReadOnly=mode == "READ_ONLY")
    assert api.put(f"/api/project/{project}.json", json=fields).status_code == 200
    actor = actors[role]["api"]
    stroma = scene["terms"]["Stroma"]
    added = actor.post(f"/api/annotation/{annotation['id']}/term/{stroma}.json")
    assert added.status_code == expected, added.text
    cleared = actor.post(f"/api/annotation/{annotation['id']}/term/{stroma}/clearBefore.json")
    assert cleared.status_code == expected, cleared.text
    removed = actor.delete(f"/api/annotation/{annotation['id']}/term/{stroma}.json")
    assert removed.status_code == (200 if expected == 200 else 403), removed.text
    read = actor.get(f"/api/annotation/{annotation['id']}/term.json")
    assert read.status_code == (403 if role == "stranger" else 200)


def test_official_client_annotation_terms(client, api, scene):
    tumour, stroma = scene["terms"]["Tumour"], scene["terms"]["Stroma"]
    annotation = draw(api, scene, "Tumour")
    saved = AnnotationTerm(annotation["id"], stroma).save()
    assert saved and (saved.userannotation, saved.term, saved.user) == (
        annotation["id"],
        stroma,
        client.current_user.id,
    )
    assert saved.class_ == LINK and isinstance(saved.id, int)
    fetched = AnnotationTerm().fetch(annotation["id"], stroma)
    assert fetched and fetched.id == saved.id
    listed = TermCollection(filters={"annotation": annotation["id"]}).fetch()
    assert sorted(t.term for t in listed) == sorted([tumour, stroma])
    assert saved.delete()
    assert not AnnotationTerm().fetch(annotation["id"], stroma)
    assert [t.term for t in TermCollection(filters={"annotation": annotation["id"]}).fetch()] == [
        tumour
    ]


TERMS = """
query($id: Long!, $user: Long) {
  annotationTerms(annotationId: $id, userId: $user) {
    __typename
    ... on AnnotationTerm { termId userId term { name } }
    ... on ReviewedAnnotationTerm { termId reviewedAnnotationId reviewerId term { name } }
  }
}
"""


def test_graphql_term_mutations_and_union_listing(api, scene):
    tumour, stroma = scene["terms"]["Tumour"], scene["terms"]["Stroma"]
    annotation = draw(api, scene)
    added = api.gql(
        "mutation($i: AnnotationTermInput!) { annotationTermAdd(input: $i) {"
        " annotationTerm { termId userId annotation { id } } command { action } } }",
        {"i": {"annotation": annotation["id"], "term": tumour}},
    )
    assert "errors" not in added, added
    payload = added["data"]["annotationTermAdd"]
    assert payload["annotationTerm"]["termId"] == tumour and payload["command"]["action"] == "ADD"
    answer = api.gql(TERMS, {"id": annotation["id"]})
    assert "errors" not in answer, answer
    assert answer["data"]["annotationTerms"][0]["__typename"] == "AnnotationTerm"
    assert answer["data"]["annotationTerms"][0]["term"] == {"name": "Tumour"}
    assert api.put(f"/api/imageinstance/{scene['image']['id']}/review.json").status_code == 200
    reviewed = api.gql(
        "mutation($i: AnnotationReviewInput!) { annotationReview(input: $i) {"
        " reviewedAnnotation { id termIds reviewed parent { id } } } }",
        {"i": {"annotation": annotation["id"], "terms": [stroma]}},
    )
    assert "errors" not in reviewed, reviewed
    copy = reviewed["data"]["annotationReview"]["reviewedAnnotation"]
    assert (copy["termIds"], copy["reviewed"], copy["parent"]) == (
        [stroma],
        True,
        {"id": annotation["id"]},
    )
    listed = api.gql(TERMS, {"id": copy["id"]})["data"]["annotationTerms"]
    assert [(t["__typename"], t["termId"], t["reviewedAnnotationId"]) for t in listed] == [
        ("ReviewedAnnotationTerm", stroma, copy["id"])
    ]
    set_answer = api.gql(
        "mutation($i: AnnotationTermSetInput!) { annotationTermSet(input: $i) {"
        " annotationTerm { termId } reviewedAnnotation { termIds } command { action } } }",
        {"i": {"annotation": copy["id"], "term": tumour}},
    )["data"]["annotationTermSet"]
    assert set_answer == {
        "annotationTerm": None,
        "reviewedAnnotation": {"termIds": [tumour]},
        "command": {"action": "EDIT"},
    }
    removed = api.gql(
        "mutation($i: AnnotationTermInput!) { annotationTermRemove(input: $i) {"
        " annotationTerm { termId } } }",
        {"i": {"annotation": annotation["id"], "term": stroma}},
    )
    assert removed["errors"][0]["extensions"]["code"] == "NOT_FOUND"


def test_in_a_restricted_project_only_managers_put_terms_for_others(api, scene, make_user):
    contributor, other = member(api, scene, make_user), member(api, scene, make_user)
    mine = draw(contributor["api"], scene)
    project = api.get(f"/api/project/{scene['project']['id']}.json").json()
    assert api.put(f"/api/project/{project['id']}.json",
                   json={**project, "isRestricted": True}).status_code == 200  # fmt: skip
    path = f"/api/annotation/{mine['id']}/term/{scene['terms']['Stroma']}.json"
    assert_error(contributor["api"].post(path, json={"user": other["id"]}), 403)
    assert links(api, mine["id"]) == []
    assert contributor["api"].post(path).status_code == 200  # for themselves
    assert api.post(path, json={"user": other["id"]}).status_code == 200  # a manager may


def test_terms_of_a_new_annotation_as_a_comma_string_or_a_single_id(api, scene):
    """`term` may be a list, one id, or a comma string (contract §3.4)."""
    tumour, stroma = scene["terms"]["Tumour"], scene["terms"]["Stroma"]
    for given, expected in ((f"{tumour},{stroma}", {tumour, stroma}), (str(stroma), {stroma}),
                            (tumour, {tumour}), (f" {tumour} ,", {tumour})):  # fmt: skip
        body = {"location": "POINT (10 10)", "image": scene["image"]["id"], "term": given}
        made = api.post("/api/annotation.json", json=body)
        assert made.status_code == 200, made.text
        assert set(made.json()["annotation"]["term"]) == expected, given
    body = {"location": "POINT (10 10)", "image": scene["image"]["id"], "term": "1,x"}
    assert_error(api.post("/api/annotation.json", json=body), 400)
