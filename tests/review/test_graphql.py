"""The review through GraphQL: the mutations and their payloads, the `AnnotationAny` union,
the reviewed listing's filters, an image's review state, statistics, and undo (contract
images-annotations.md §3.9, §3.10, §11)."""

from __future__ import annotations

from typing import Any

from tests.harness import Api

START = "mutation($id: Long!) { imageReviewStart(id: $id) { imageInstance { reviewState } } }"
STOP = """
mutation($id: Long!, $cancel: Boolean!) {
  imageReviewStop(id: $id, cancel: $cancel) { imageInstance { reviewState } command { action } }
}
"""
REVIEW = """
mutation($input: AnnotationReviewInput!) {
  annotationReview(input: $input) {
    command { action domain }
    reviewedAnnotation {
      id location termIds reviewed userId reviewUserId parentIdent status areaUnit centroid { x y }
      cropUrl parent { id reviewed } reviewUser { username } terms { name }
    }
  }
}
"""
ANY = """
query($id: Long!) {
  annotationAny(id: $id) {
    __typename
    ... on UserAnnotation { id reviewed countReviewedAnnotations }
    ... on ReviewedAnnotation { id reviewed parentIdent }
  }
}
"""
ROWS = """
query($filter: ReviewedAnnotationFilter) {
  reviewedAnnotationRows(filter: $filter) { totalCount nodes { id userByTerm creator } }
}
"""


def ok(api: Api, query: str, **variables: Any) -> Any:
    answer = api.gql(query, variables)
    assert "errors" not in answer, answer
    [value] = answer["data"].values()
    return value


def code(api: Api, query: str, **variables: Any) -> str:
    answer = api.gql(query, variables)
    return answer["errors"][0]["extensions"]["code"]  # type: ignore[no-any-return]


def test_review_through_graphql(api, reviewing):
    reviewer = reviewing["reviewer"]["api"]
    first, second, third = reviewing["annotations"]
    stroma = reviewing["terms"]["Stroma"]
    image = reviewing["image"]["id"]
    state = "query($id: Long!) { imageInstance(id: $id) { reviewState } }"
    assert ok(reviewer, state, id=image) == {"reviewState": "IN_REVIEW"}
    accepted = ok(reviewer, REVIEW, input={"annotation": first["id"], "terms": [stroma]})
    copy = accepted["reviewedAnnotation"]
    assert accepted["command"] == {"action": "ADD", "domain": "ReviewedAnnotation"}
    assert {
        k: copy[k]
        for k in (
            "location",
            "termIds",
            "reviewed",
            "userId",
            "reviewUserId",
            "parentIdent",
            "status",
            "areaUnit",
            "parent",
            "terms",
        )
    } == {
        "location": first["location"],
        "termIds": [stroma],
        "reviewed": True,
        "userId": reviewing["contributor"]["id"],
        "reviewUserId": reviewing["reviewer"]["id"],
        "parentIdent": first["id"],
        "status": 1,
        "areaUnit": "MICRON2",
        "parent": {"id": first["id"], "reviewed": True},
        "terms": [{"name": "Stroma"}],
    }
    assert copy["cropUrl"].endswith(f"/api/reviewedannotation/{copy['id']}/crop.png")
    assert code(reviewer, REVIEW, input={"annotation": first["id"]}) == "CONFLICT"
    assert (
        code(reviewing["contributor"]["api"], REVIEW, input={"annotation": second["id"]})
        == "BAD_USER_INPUT"
    )

    assert ok(reviewer, ANY, id=copy["id"]) == {
        "__typename": "ReviewedAnnotation",
        "id": copy["id"],
        "reviewed": True,
        "parentIdent": first["id"],
    }
    assert ok(reviewer, ANY, id=first["id"]) == {
        "__typename": "UserAnnotation",
        "id": first["id"],
        "reviewed": True,
        "countReviewedAnnotations": 1,
    }
    assert code(reviewer, ANY, id=999999999) == "NOT_FOUND"
    copy_of = "query($id: Long!) { reviewedCopy(annotationId: $id) { id } }"
    assert ok(reviewer, copy_of, id=first["id"]) == {"id": copy["id"]}
    assert ok(reviewer, copy_of, id=second["id"]) is None

    layers = ok(
        reviewer,
        "mutation($i: ReviewLayersInput!) { imageReviewAcceptLayers(input: $i)"
        " { reviewedAnnotationIds command { action } } }",
        i={"image": image, "users": [reviewing["contributor"]["id"]]},
    )
    assert len(layers["reviewedAnnotationIds"]) == 2 and layers["command"] == {"action": "ADD"}
    project = reviewing["project"]["id"]
    second_copy = ok(reviewer, copy_of, id=second["id"])["id"]
    third_copy = ok(reviewer, copy_of, id=third["id"])["id"]
    assert sorted(layers["reviewedAnnotationIds"]) == sorted([second_copy, third_copy])
    rows = ok(reviewer, ROWS, filter={"project": project, "terms": [stroma]})
    assert [n["id"] for n in rows["nodes"]] == sorted([copy["id"], second_copy], reverse=True)
    assert rows["nodes"][-1]["userByTerm"] == [
        {"id": 0, "term": stroma, "user": [reviewing["contributor"]["id"]]}
    ]
    empty = ok(reviewer, ROWS, filter={"project": project, "noTerm": True})
    assert [n["id"] for n in empty["nodes"]] == [third_copy]
    admin = api.get("/api/user/current.json").json()["id"]
    assert (
        ok(reviewer, ROWS, filter={"project": project, "reviewUsers": [admin]})["totalCount"] == 0
    )
    assert ok(reviewer, ROWS)["totalCount"] == 3  # no filter: every readable project
    assert code(reviewer, ROWS, filter={}) == "BAD_USER_INPUT"  # a filter needs a scope
    stats = ok(
        reviewer,
        "query($id: Long!) { reviewedAnnotationStats(imageId: $id)"
        " { userId all reviewed user { username } } }",
        id=image,
    )
    assert stats == [
        {
            "userId": reviewing["contributor"]["id"],
            "all": 3,
            "reviewed": 3,
            "user": {"username": reviewing["contributor"]["username"]},
        }
    ]
    count = "query($p: Long!) { reviewedAnnotationCount(projectId: $p) }"
    assert ok(reviewer, count, p=project) == 3

    rejected = ok(
        reviewer,
        "mutation($id: Long!) { annotationUnreview(id: $id)"
        " { reviewedAnnotation { id } command { action } } }",
        id=first["id"],
    )
    assert rejected == {"reviewedAnnotation": {"id": copy["id"]}, "command": {"action": "DELETE"}}
    undone = ok(reviewer, "mutation { undo { domain action } }")
    assert [(u["domain"], u["action"]) for u in undone] == [("ReviewedAnnotation", "ADD")]
    assert ok(reviewer, ANY, id=copy["id"])["__typename"] == "ReviewedAnnotation"

    assert ok(reviewer, STOP, id=image, cancel=False)["imageInstance"] == {
        "reviewState": "VALIDATED"
    }
    assert ok(reviewer, STOP, id=image, cancel=True)["imageInstance"] == {
        "reviewState": "IN_REVIEW"
    }
    assert ok(reviewer, STOP, id=image, cancel=True)["imageInstance"] == {"reviewState": "NONE"}
    assert code(reviewer, STOP, id=image, cancel=False) == "BAD_USER_INPUT"
    assert ok(reviewer, START, id=image) == {"imageInstance": {"reviewState": "IN_REVIEW"}}


def test_generic_mutations_on_either_kind(reviewing):
    reviewer = reviewing["reviewer"]["api"]
    first = reviewing["annotations"][0]
    copy = ok(reviewer, REVIEW, input={"annotation": first["id"]})["reviewedAnnotation"]
    update = """
    mutation($id: Long!, $input: AnnotationInput!) {
      annotationAnyUpdate(id: $id, input: $input) {
        command { domain action }
        annotation { __typename ... on ReviewedAnnotation { location termIds } }
      }
    }
    """
    changed = ok(
        reviewer,
        update,
        id=copy["id"],
        input={"location": "POINT (3 4)", "terms": [reviewing["terms"]["Stroma"]]},
    )
    assert changed == {
        "command": {"domain": "ReviewedAnnotation", "action": "EDIT"},
        "annotation": {
            "__typename": "ReviewedAnnotation",
            "location": "POINT (3 4)",
            "termIds": [reviewing["terms"]["Stroma"]],
        },
    }
    delete = """
    mutation($id: Long!) {
      annotationAnyDelete(id: $id) { command { domain } annotation { __typename } }
    }
    """
    assert ok(reviewer, delete, id=copy["id"]) == {
        "command": {"domain": "ReviewedAnnotation"},
        "annotation": {"__typename": "ReviewedAnnotation"},
    }
    contributor = reviewing["contributor"]["api"]
    assert ok(contributor, delete, id=first["id"]) == {
        "command": {"domain": "UserAnnotation"},
        "annotation": {"__typename": "UserAnnotation"},
    }
    assert code(contributor, delete, id=first["id"]) == "NOT_FOUND"
