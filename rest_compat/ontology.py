"""REST routes of ontologies, terms, relations and relation terms (contract core.md §9.8–9.9,
images-annotations.md §5, §9.13)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Final

from rest_compat.envelopes import command, items, page, single
from rest_compat.project import project_json
from rest_compat.routes import Route, flag
from rest_compat.shapes import CLASS_PREFIX, JSON, domain
from rest_compat.user import user_json

__all__ = ["ROUTES", "ontology_json", "term_json"]

ONTOLOGY_CLASS: Final = CLASS_PREFIX + "ontology.Ontology"
TERM_CLASS: Final = CLASS_PREFIX + "ontology.Term"

term_json = domain("ontology.Term")
relation_json = domain("ontology.Relation")
relation_term_json = domain("ontology.RelationTerm")
_ontology = domain("ontology.Ontology")


def _tree(terms: list[JSON]) -> list[JSON]:
    """The legacy tree-widget nodes of an ontology's terms: roots and children by name (§9.8)."""
    children: defaultdict[Any, list[JSON]] = defaultdict(list)
    for term in terms:
        children[term["parent"]].append(term)

    def node(term: JSON) -> JSON:
        below = [node(child) for child in children[term["id"]]]
        return {
            "id": term["id"], "key": term["id"], "name": term["name"], "title": term["name"],
            "data": term["name"], "color": term["color"], "class": TERM_CLASS,
            "parent": term["parent"], "attr": {"id": term["id"], "type": TERM_CLASS},
            "checked": False, "isFolder": bool(below), "hideCheckbox": bool(below),
            "children": below,
        }  # fmt: skip

    return [node(term) for term in children[None]]


def ontology_json(node: JSON) -> JSON:
    """An ontology with its term tree, the projects using it and the widget fields."""
    terms = node.pop("terms")
    projects = node.pop("projects")
    node = _ontology(node)
    node.update(
        title=node["name"], data=node["name"], key=node["id"], isFolder=True, hideCheckbox=True,
        state="open", attr={"id": node["id"], "type": ONTOLOGY_CLASS},
        projects=[project_json(project) for project in projects], children=_tree(terms),
    )  # fmt: skip
    return node


def _term_callback(term: JSON) -> dict[str, str]:
    return {"ontologyID": str(term["ontology"])}


_ontology_command = command("ontology", "Ontology", ontology_json)
_term_command = command("term", "Term", term_json, callback=_term_callback)
_link_command = command("relationterm", "RelationTerm", relation_term_json)
_PARENT_LINK: Final = "/api/relation/parent/term1/{term1:int}/term2/{term2:int}.json"
_LINK: Final = "/api/relation/{relation:int}/term1/{term1:int}/term2/{term2:int}.json"


ROUTES: Final = (
    Route("GET", "/api/ontology.json", "OntologiesLight", page(lambda node: node),
          when=flag("light")),
    Route("GET", "/api/ontology.json", "Ontologies", page(ontology_json)),
    Route("POST", "/api/ontology.json", "OntologyCreate", _ontology_command, body="input",
          bulk=True, command=True),
    Route("GET", "/api/ontology/{id:int}.json", "OntologyShow", single(ontology_json)),
    Route("PUT", "/api/ontology/{id:int}.json", "OntologyUpdate", _ontology_command,
          body="input", command=True),
    Route("DELETE", "/api/ontology/{id:int}.json", "OntologyDelete", _ontology_command,
          command=True),
    Route("GET", "/api/ontology/{id:int}/user.json", "OntologyUsers", items(user_json)),
    Route("GET", "/api/term.json", "Terms", page(term_json)),
    Route("POST", "/api/term.json", "TermCreate", _term_command, body="input", bulk=True,
          command=True),
    Route("GET", "/api/term/{id:int}.json", "TermShow", single(term_json)),
    Route("PUT", "/api/term/{id:int}.json", "TermUpdate", _term_command, body="input",
          command=True),
    Route("DELETE", "/api/term/{id:int}.json", "TermDelete", _term_command, command=True),
    Route("GET", "/api/ontology/{ontology:int}/term.json", "TermsOfOntology", page(term_json)),
    Route("GET", "/api/project/{project:int}/term.json", "TermsOfProject", page(term_json)),
    Route("GET", "/api/relation.json", "Relations", items(relation_json)),
    Route("GET", "/api/relation/{id:int}.json", "RelationShow", single(relation_json)),
    Route("POST", "/api/relation/parent/term.json", "RelationTermCreate", _link_command,
          body="*", command=True),
    Route("POST", "/api/relation/{relation:int}/term.json", "RelationTermCreate", _link_command,
          body="*", command=True),
    Route("GET", _PARENT_LINK, "RelationTermShow", single(relation_term_json)),
    Route("GET", _LINK, "RelationTermShow", single(relation_term_json)),
    Route("DELETE", _PARENT_LINK, "RelationTermDelete", _link_command, command=True),
    Route("DELETE", _LINK, "RelationTermDelete", _link_command, command=True),
    Route("GET", "/api/relation/term/{term:int}.json", "RelationTermsOfTerm",
          items(relation_term_json)),
    Route("GET", "/api/relation/term/{position:int}/{term:int}.json", "RelationTermsOfTerm",
          items(relation_term_json)),
)  # fmt: skip
