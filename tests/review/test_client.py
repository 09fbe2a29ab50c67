"""The review through the official cytomine-python-client 4.3.0: `Annotation.review()` (a
form-encoded body under a JSON content type), fetching reviewed annotations by id, updating
and deleting them through the generic endpoints, `AnnotationCollection(reviewed=True)`."""

from __future__ import annotations

from typing import Any

from cytomine.models import Annotation, AnnotationCollection, ImageInstance

REVIEWED = "be.cytomine.domain.ontology.ReviewedAnnotation"
SQUARE = "POLYGON ((100 100, 100 300, 400 300, 400 100, 100 100))"


def test_review_fetch_update_and_collect_reviewed_annotations(client: Any, scene: dict[str, Any]):
    tumour, stroma = scene["terms"]["Tumour"], scene["terms"]["Stroma"]
    image = scene["image"]["id"]
    first = Annotation(SQUARE, image, [tumour]).save()
    second = Annotation("POINT (20 20)", image, [tumour]).save()
    started = client.put(f"imageinstance/{image}/review.json")
    assert started and started["imageinstance"]["inReview"] is True

    answer = first.review()
    assert answer, "review() refused"
    copy = answer["reviewedannotation"]
    assert (copy["class"], copy["parentIdent"], copy["term"]) == (REVIEWED, first.id, [tumour])
    answer = second.review(id_terms=[stroma, tumour])
    assert sorted(answer["reviewedannotation"]["term"]) == sorted([stroma, tumour])
    assert not first.review()  # a second acceptance is a 409

    fetched = Annotation().fetch(copy["id"])
    assert (fetched.class_, fetched.location, fetched.reviewUser) == (
        REVIEWED,
        SQUARE,
        client.current_user.id,
    )
    fetched.location = "POLYGON ((0 0, 0 10, 10 10, 10 0, 0 0))"
    updated = fetched.update()
    assert updated and updated.location == "POLYGON ((0 0, 0 10, 10 10, 10 0, 0 0))"
    assert updated.area == 25.0 and updated.term == [tumour]
    assert Annotation().fetch(first.id).reviewed is True
    assert ImageInstance().fetch(image).numberOfReviewedAnnotations == 2

    reviewed = AnnotationCollection(
        project=scene["project"]["id"], reviewed=True, showWKT=True, showTerm=True
    ).fetch()
    assert sorted(a.id for a in reviewed) == sorted(
        [copy["id"], answer["reviewedannotation"]["id"]]
    )
    assert all(a.class_ == REVIEWED and a.reviewed is True for a in reviewed)
    by_id = {a.id: a for a in reviewed}
    assert by_id[copy["id"]].location == "POLYGON ((0 0, 0 10, 10 10, 10 0, 0 0))"
    users = AnnotationCollection(project=scene["project"]["id"]).fetch()
    assert sorted(a.id for a in users) == sorted([first.id, second.id])

    assert Annotation().delete(copy["id"])
    assert not Annotation().fetch(copy["id"])
    assert Annotation().fetch(first.id).reviewed is False
    assert ImageInstance().fetch(image).numberOfReviewedAnnotations == 1
