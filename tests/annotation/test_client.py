"""Annotations through the official cytomine-python-client 4.3.0: save, fetch, update,
delete, bulk save, and the collection's filters, show flags and pages."""

from __future__ import annotations

from typing import Any

from cytomine.models import Annotation, AnnotationCollection, ImageInstance, Project

from tests.harness import Api

CLASS = "be.cytomine.domain.ontology.UserAnnotation"
SQUARE = "POLYGON ((100 100, 100 300, 400 300, 400 100, 100 100))"


def test_annotation_save_fetch_update_delete(client: Any, scene: dict[str, Any]) -> None:
    tumour = scene["terms"]["Tumour"]
    made = Annotation(SQUARE, scene["image"]["id"], [tumour]).save()
    assert made and isinstance(made.id, int)
    assert made.class_ == CLASS
    assert (made.image, made.project, made.user) == (
        scene["image"]["id"], scene["project"]["id"], client.current_user.id)  # fmt: skip
    assert (made.area, made.areaUnit, made.perimeter, made.perimeterUnit) == (
        15000.0, "micron²", 0.5, "mm")  # fmt: skip

    fetched = Annotation().fetch(made.id)
    assert (fetched.location, fetched.term, fetched.slice) == (SQUARE, [tumour], scene["slices"][1])
    assert fetched.cropURL.endswith(f"/api/userannotation/{made.id}/crop.png")
    fetched.location = "POINT (10 20)"
    updated = fetched.update()
    assert (updated.location, updated.area, updated.term) == ("POINT (10 20)", 0.0, [tumour])
    assert Annotation().fetch(made.id).location == "POINT (10 20)"
    assert ImageInstance().fetch(scene["image"]["id"]).numberOfAnnotations == 1

    assert Annotation().delete(made.id)
    assert not Annotation().fetch(made.id)
    assert Project().fetch(scene["project"]["id"]).numberOfAnnotations == 0


def test_bulk_save_and_collection_filters(client: Any, scene: dict[str, Any]) -> None:
    tumour, stroma = scene["terms"]["Tumour"], scene["terms"]["Stroma"]
    bulk = AnnotationCollection()
    for i in range(12):
        bulk.append(Annotation(f"POINT ({10 + i * 50} 50)", scene["image"]["id"],
                               [tumour if i % 3 else stroma]))  # fmt: skip
    assert bulk.save(chunk=5)
    project = scene["project"]["id"]

    everything = AnnotationCollection(project=project, showWKT=True, showTerm=True).fetch()
    assert len(everything) == 12
    assert all(a.location.startswith("POINT") and a.term for a in everything)

    stromal = AnnotationCollection(project=project, term=stroma, showWKT=True).fetch()
    assert sorted(a.location for a in stromal) == sorted(
        f"POINT ({10 + i * 50} 50)" for i in range(0, 12, 3))  # fmt: skip

    in_box = AnnotationCollection(project=project, image=scene["image"]["id"],
                                  bbox="0,0,120,100", showWKT=True).fetch()  # fmt: skip
    assert sorted(a.location for a in in_box) == ["POINT (10 50)", "POINT (110 50)",
                                                  "POINT (60 50)"]  # fmt: skip

    mine = AnnotationCollection(project=project, users=[client.current_user.id]).fetch()
    assert len(mine) == 12
    unknown = AnnotationCollection(project=project, users=[client.current_user.id + 999])
    assert unknown.fetch() is False  # 404: the user does not exist


def test_collection_pages_and_show_flags(client: Any, scene: dict[str, Any], api: Api) -> None:
    for i in range(6):
        Annotation(f"POINT ({i} {i})", scene["image"]["id"]).save()
    project = scene["project"]["id"]
    paged = AnnotationCollection(project=project, showWKT=True).fetch(max=3)  # two pages
    assert len({a.id for a in paged}) == 6

    page = AnnotationCollection(project=project, max=4, offset=4)
    page._fetch()
    assert len(page) == 2

    basic = AnnotationCollection(project=project, showMeta=False, showBasic=True).fetch()
    first = basic[0]
    assert getattr(first, "location", None) is None  # no WKT unless asked
    assert isinstance(first.id, int)
    raw = api.get(f"/api/annotation.json?project={project}&showGIS=true&showWKT=false").json()
    assert {"area", "perimeter", "centroid"} <= set(raw["collection"][0])
