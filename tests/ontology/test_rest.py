"""Ontologies, terms, relations and relation terms over raw HTTP: exact JSON, statuses and
rules (contract core.md §9.8–9.9, images-annotations.md §5, decision 5)."""

from __future__ import annotations

from typing import Any

from tests.factories import created, make_ontology, make_project
from tests.harness import Api

ONTOLOGY_CLASS = "be.cytomine.domain.ontology.Ontology"
TERM_CLASS = "be.cytomine.domain.ontology.Term"
ONTOLOGY_KEYS = {"class", "id", "created", "updated", "name", "user", "title", "data", "key",
                 "isFolder", "hideCheckbox", "state", "attr", "projects", "children"}  # fmt: skip
TERM_KEYS = {"class", "id", "created", "updated", "name", "comment", "ontology", "color", "parent"}
NODE_KEYS = {"id", "key", "name", "title", "data", "color", "class", "parent", "attr", "checked",
             "isFolder", "hideCheckbox", "children"}  # fmt: skip


def term(api: Api, ontology: int, name: str, **extra: Any) -> dict[str, Any]:
    body = {"name": name, "color": "#FF0000", "ontology": ontology, **extra}
    return created(api.post("/api/term.json", json=body), "term")


def link(api: Api, parent: int, child: int) -> Any:
    return api.post("/api/relation/parent/term.json", json={"term1": parent, "term2": child})


def test_ontology_create_answers_command_envelope_with_empty_tree(api):
    response = api.post("/api/ontology.json", json={"name": "Tissue", "user": 999})
    assert response.status_code == 200, response.text
    body = response.json()
    ontology = body["ontology"]
    me = api.get("/api/user/current.json").json()["id"]
    assert set(body) == {"message", "printMessage", "callback", "command", "ontology"}
    assert body["message"] == f"Ontology {ontology['id']} (Tissue) added"
    assert body["callback"] == {"method": "be.cytomine.AddOntologyCommand",
                                "ontologyID": str(ontology["id"])}  # fmt: skip
    assert set(ontology) == ONTOLOGY_KEYS
    assert ontology["class"] == ONTOLOGY_CLASS
    assert ontology["user"] == me
    assert (ontology["title"], ontology["data"]) == ("Tissue", "Tissue")
    assert ontology["key"] == ontology["id"]
    assert ontology["attr"] == {"id": ontology["id"], "type": ONTOLOGY_CLASS}
    flags = (ontology["isFolder"], ontology["hideCheckbox"], ontology["state"])
    assert flags == (True, True, "open")
    assert ontology["children"] == [] and ontology["projects"] == []
    assert ontology["created"].isdigit() and ontology["created"] == ontology["updated"]


def test_ontology_tree_nests_children_sorted_by_name(api):
    ontology = make_ontology(api)
    tumour = term(api, ontology["id"], "Tumour", color="#660000")
    stroma = term(api, ontology["id"], "Stroma")
    necrosis = term(api, ontology["id"], "Necrosis", parent=tumour["id"])
    apoptosis = term(api, ontology["id"], "Apoptosis", parent=tumour["id"])
    tree = api.get(f"/api/ontology/{ontology['id']}.json").json()["children"]
    assert [node["name"] for node in tree] == ["Stroma", "Tumour"]
    tumour_node = tree[1]
    assert set(tumour_node) == NODE_KEYS
    assert tumour_node == {
        "id": tumour["id"], "key": tumour["id"], "name": "Tumour", "title": "Tumour",
        "data": "Tumour", "color": "#660000", "class": TERM_CLASS, "parent": None,
        "attr": {"id": tumour["id"], "type": TERM_CLASS}, "checked": False, "isFolder": True,
        "hideCheckbox": True, "children": tumour_node["children"],
    }  # fmt: skip
    assert [(c["name"], c["parent"], c["isFolder"]) for c in tumour_node["children"]] == [
        ("Apoptosis", tumour["id"], False), ("Necrosis", tumour["id"], False)]  # fmt: skip
    assert tree[0]["id"] == stroma["id"] and tree[0]["children"] == []
    assert necrosis["parent"] == tumour["id"] and apoptosis["parent"] == tumour["id"]


def test_ontology_lists_full_and_light(api, make_user):
    first = make_ontology(api, "Alpha", terms=("A",))
    make_ontology(api, "Beta")
    body = api.get("/api/ontology.json").json()
    assert body["size"] == 2 and [o["name"] for o in body["collection"]] == ["Alpha", "Beta"]
    assert body["collection"][0]["children"][0]["name"] == "A"
    light = api.get("/api/ontology.json", params={"light": "true", "max": "1"}).json()
    assert light == {"collection": [{"id": first["id"], "name": "Alpha"}], "offset": 0,
                     "perPage": 1, "size": 2, "totalPages": 2}  # fmt: skip
    assert make_user()["api"].get("/api/ontology.json").json()["size"] == 0


def test_ontology_readable_through_project_membership(api, make_user):
    member = make_user()
    ontology = make_ontology(api)
    assert member["api"].get(f"/api/ontology/{ontology['id']}.json").status_code == 403
    project = make_project(api, ontology=ontology["id"], users=(member["id"],))
    shown = member["api"].get(f"/api/ontology/{ontology['id']}.json")
    assert shown.status_code == 200
    assert [p["id"] for p in shown.json()["projects"]] == [project["id"]]
    assert [o["id"] for o in member["api"].get("/api/ontology.json").json()["collection"]] == [
        ontology["id"]
    ]
    # a contributor reads but may not write; a manager may
    rename = {"name": "Renamed"}
    assert member["api"].put(f"/api/ontology/{ontology['id']}.json", json=rename).status_code == 403
    api.post(f"/api/project/{project['id']}/user/{member['id']}/admin.json")
    assert member["api"].put(f"/api/ontology/{ontology['id']}.json", json=rename).status_code == 200
    # leaving the project takes the derived rights away
    api.delete(f"/api/project/{project['id']}/user/{member['id']}.json")
    assert member["api"].get(f"/api/ontology/{ontology['id']}.json").status_code == 403


def test_ontology_users_are_members_of_projects_using_it(api, make_user):
    alice, bob = make_user(), make_user()
    ontology = make_ontology(api)
    make_project(api, ontology=ontology["id"], users=(alice["id"],))
    make_project(api, ontology=ontology["id"], users=(alice["id"], bob["id"]))
    body = api.get(f"/api/ontology/{ontology['id']}/user.json").json()
    me = api.get("/api/user/current.json").json()["username"]
    assert sorted(u["username"] for u in body["collection"]) == sorted(
        [me, alice["username"], bob["username"]]
    )
    assert body["size"] == 3


def test_ontology_rename_conflict_and_delete_rules(api):
    one = make_ontology(api, "One", terms=("T",))
    make_ontology(api, "Two")
    clash = api.put(f"/api/ontology/{one['id']}.json", json={"name": "Two"})
    assert clash.status_code == 409
    assert clash.json()["errors"] == "Ontology Two already exist!"
    assert api.put(f"/api/ontology/{one['id']}.json", json={"name": "One"}).status_code == 200
    project = make_project(api, ontology=one["id"])
    used = api.delete(f"/api/ontology/{one['id']}.json")
    assert used.status_code == 400
    assert used.json()["errors"] == "Ontology is linked with project. Cannot delete ontology!"
    api.delete(f"/api/project/{project['id']}.json")
    gone = api.delete(f"/api/ontology/{one['id']}.json")
    assert gone.status_code == 200 and gone.json()["ontology"]["children"] == []
    assert api.get(f"/api/term/{one['terms']['T']['id']}.json").status_code == 404
    assert api.post("/api/ontology.json", json={"name": "One"}).status_code == 200


def test_ontology_bulk_create_reports_each_element(api):
    make_ontology(api, "Taken")
    response = api.post("/api/ontology.json", json=[{"name": "New"}, {"name": "Taken"}, {}])
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == 206
    assert [error["message"] for error in body["data"]["errors"]] == [
        "Ontology Taken already exist!", "Property name must be set"]  # fmt: skip
    assert [o["name"] for o in api.get("/api/ontology.json").json()["collection"]] == [
        "New", "Taken"]  # fmt: skip


def test_term_create_envelope_carries_ontology_callback(api):
    ontology = make_ontology(api)
    response = api.post("/api/term.json", json={"name": "Tumour", "color": "#FF0000",
                                                "ontology": str(ontology["id"]),
                                                "comment": "big"})  # fmt: skip
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["callback"] == {"method": "be.cytomine.AddTermCommand",
                                "termID": str(body["term"]["id"]),
                                "ontologyID": str(ontology["id"])}  # fmt: skip
    assert set(body["term"]) == TERM_KEYS
    assert body["term"]["comment"] == "big" and body["term"]["parent"] is None


def test_term_duplicate_name_in_ontology_is_409_but_other_ontology_fine(api):
    one, two = make_ontology(api, terms=("T",)), make_ontology(api)
    again = api.post("/api/term.json", json={"name": "T", "color": "#0", "ontology": one["id"]})
    assert again.status_code == 409
    message = "Term T already exist in this ontology!"
    assert again.json() == {"success": False, "errors": message, "errorValues": {},
                            "message": message}  # fmt: skip
    term(api, two["id"], "T")


def test_term_update_replaces_fields_keeps_parent_link(api):
    ontology = make_ontology(api)
    parent = term(api, ontology["id"], "P")
    child = term(api, ontology["id"], "C", parent=parent["id"], comment="c")
    body = {**child, "name": "C2", "color": "#123456", "parent": None}
    del body["comment"]
    updated = api.put(f"/api/term/{child['id']}.json", json=body).json()["term"]
    assert (updated["name"], updated["color"], updated["comment"]) == ("C2", "#123456", None)
    assert updated["parent"] == parent["id"]


def test_term_lists_by_ontology_project_and_all_for_admins(api, make_user):
    ontology = make_ontology(api, terms=("B", "A"))
    project = make_project(api, ontology=ontology["id"])
    bare = make_project(api)
    by_ontology = api.get(f"/api/ontology/{ontology['id']}/term.json").json()
    assert [t["name"] for t in by_ontology["collection"]] == ["A", "B"]
    by_project = api.get(f"/api/project/{project['id']}/term.json").json()
    assert by_project["collection"] == by_ontology["collection"]
    assert api.get(f"/api/project/{bare['id']}/term.json").json()["size"] == 0
    assert api.get("/api/project/999999999/term.json").status_code == 404
    assert api.get("/api/ontology/999999999/term.json").status_code == 404
    assert api.get("/api/term.json").json()["size"] == 2
    assert make_user()["api"].get("/api/term.json").status_code == 403


def test_term_delete_removes_its_links(api):
    ontology = make_ontology(api)
    parent = term(api, ontology["id"], "P")
    child = term(api, ontology["id"], "C", parent=parent["id"])
    response = api.delete(f"/api/term/{parent['id']}.json")
    assert response.status_code == 200
    assert response.json()["message"] == f"Term {parent['id']} (P) deleted"
    assert api.get(f"/api/term/{child['id']}.json").json()["parent"] is None


def test_relations_lists_the_parent_relation(api):
    body = api.get("/api/relation.json").json()
    assert [r["name"] for r in body["collection"]] == ["parent"]
    relation = body["collection"][0]
    assert relation["class"] == "be.cytomine.domain.ontology.Relation"
    assert api.get(f"/api/relation/{relation['id']}.json").json()["name"] == "parent"
    assert api.get("/api/relation/999999999.json").status_code == 404


def test_relation_term_create_show_list_delete(api):
    ontology = make_ontology(api, terms=("P", "C"))
    p, c = ontology["terms"]["P"]["id"], ontology["terms"]["C"]["id"]
    response = link(api, p, c)
    assert response.status_code == 200, response.text
    body = response.json()
    relation = api.get("/api/relation.json").json()["collection"][0]["id"]
    rt = body["relationterm"]
    assert body["callback"] == {"method": "be.cytomine.AddRelationTermCommand",
                                "relationtermID": str(rt["id"])}  # fmt: skip
    assert body["message"] == f"Relation parent between Term {p} and Term {c} is added"
    assert {k: rt[k] for k in ("class", "relation", "term1", "term2")} == {
        "class": "be.cytomine.domain.ontology.RelationTerm", "relation": relation,
        "term1": p, "term2": c}  # fmt: skip
    path = f"/api/relation/parent/term1/{p}/term2/{c}.json"
    assert api.get(path).json() == rt
    assert api.get(f"/api/relation/{relation}/term1/{p}/term2/{c}.json").json() == rt
    assert [x["id"] for x in api.get(f"/api/relation/term/{c}.json").json()["collection"]] == [
        rt["id"]]  # fmt: skip
    assert api.get(f"/api/relation/term/1/{c}.json").json()["collection"] == []
    assert api.get(f"/api/relation/term/2/{c}.json").json()["size"] == 1
    assert api.get(f"/api/relation/term/3/{c}.json").status_code == 404
    put = api.put(path, json=rt)
    assert put.status_code == 405 and set(put.headers["Allow"].split(", ")) == {"GET", "DELETE"}
    deleted = api.delete(path)
    assert deleted.status_code == 200 and deleted.json()["relationterm"]["id"] == rt["id"]
    assert api.get(path).status_code == 404


def test_relation_term_rules_of_decision_5(api):
    ontology = make_ontology(api, terms=("A", "B", "C"))
    other = make_ontology(api, terms=("X",))
    a, b, c = (ontology["terms"][n]["id"] for n in "ABC")
    x = other["terms"]["X"]["id"]
    assert link(api, a, b).status_code == 200
    assert link(api, b, c).status_code == 200
    cases = {
        "duplicate": (link(api, a, b), 409),
        "second parent": (link(api, c, b), 400),
        "cycle": (link(api, c, a), 400),
        "self": (link(api, a, a), 400),
        "other ontology": (link(api, a, x), 400),
        "unknown term": (link(api, a, 999999999), 400),
        "missing term": (api.post("/api/relation/parent/term.json", json={"term1": a}), 400),
    }
    for case, (response, status) in cases.items():
        assert response.status_code == status, (case, response.text)
        assert response.json()["success"] is False, case
    assert len(api.get(f"/api/relation/term/{b}.json").json()["collection"]) == 2
