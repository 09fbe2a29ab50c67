"""Ontologies, terms and relation terms through the official cytomine-python-client 4.3.0."""

from __future__ import annotations

from typing import Any

from cytomine.models import (
    Ontology,
    OntologyCollection,
    Project,
    RelationTerm,
    Term,
    TermCollection,
)


def test_ontology_save_fetch_update_delete(client: Any) -> None:
    ontology = Ontology("Tissue types").save()
    assert ontology and isinstance(ontology.id, int)
    assert ontology.class_ == "be.cytomine.domain.ontology.Ontology"
    assert ontology.name == "Tissue types"
    assert ontology.user == client.current_user.id
    assert ontology.children == []

    fetched = Ontology().fetch(ontology.id)
    assert fetched.name == "Tissue types" and fetched.key == ontology.id
    fetched.name = "Tissues"
    assert fetched.update().name == "Tissues"
    assert Ontology().fetch(ontology.id).name == "Tissues"

    assert Ontology().delete(ontology.id)
    assert not Ontology().fetch(ontology.id)


def test_ontology_collection_save_and_fetch(client: Any) -> None:
    collection = OntologyCollection()
    collection.extend([Ontology(f"bulk-{i}") for i in range(20)])
    assert collection.save() is True
    fetched = OntologyCollection().fetch()
    assert sorted(o.name for o in fetched) == sorted(f"bulk-{i}" for i in range(20))
    paged = OntologyCollection().fetch(max=10)  # the client pages size // max times (core.md §4.2)
    assert len(paged) == 20


def test_term_save_fetch_update_delete_with_parent(client: Any) -> None:
    ontology = Ontology("Onto").save()
    parent = Term("Tumour", ontology.id, "#FF0000").save()
    assert parent and parent.ontology == ontology.id and parent.color == "#FF0000"
    child = Term("Necrosis", ontology.id, "#00FF00", parent.id).save()
    assert child.parent == parent.id

    fetched = Term().fetch(child.id)
    assert (fetched.name, fetched.parent, fetched.ontology) == ("Necrosis", parent.id, ontology.id)
    fetched.color = "#0000FF"
    updated = fetched.update()
    assert updated.color == "#0000FF" and updated.parent == parent.id

    tree = Ontology().fetch(ontology.id).children
    assert [node["name"] for node in tree] == ["Tumour"]
    assert [node["name"] for node in tree[0]["children"]] == ["Necrosis"]

    assert Term().delete(child.id)
    assert not Term().fetch(child.id)


def test_term_collections_by_ontology_project_and_all(client: Any) -> None:
    ontology = Ontology("Listed").save()
    for name in ("B", "A", "C"):
        Term(name, ontology.id, "#111111").save()
    project = Project("With terms", ontology.id).save()
    by_ontology = TermCollection(filters={"ontology": ontology.id}).fetch()
    assert [t.name for t in by_ontology] == ["A", "B", "C"]
    by_project = TermCollection(filters={"project": project.id}).fetch()
    assert [t.id for t in by_project] == [t.id for t in by_ontology]
    assert len(TermCollection().fetch()) == 3


def test_relation_term_save_fetch_delete(client: Any) -> None:
    ontology = Ontology("Related").save()
    parent = Term("P", ontology.id, "#000000").save()
    child = Term("C", ontology.id, "#000000").save()
    relation = RelationTerm(parent.id, child.id).save()
    assert relation and (relation.term1, relation.term2) == (parent.id, child.id)
    fetched = RelationTerm().fetch(parent.id, child.id)
    assert fetched.id == relation.id
    assert Term().fetch(child.id).parent == parent.id
    assert relation.delete()
    assert not RelationTerm().fetch(parent.id, child.id)
    assert Term().fetch(child.id).parent is None
