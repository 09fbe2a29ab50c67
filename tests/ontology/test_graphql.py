"""Ontologies, terms and the hierarchy through GraphQL: the tree fields, and the same rules
and refusals as REST (error codes)."""

from __future__ import annotations

from typing import Any

from tests.factories import make_ontology

LINK = """mutation($p: Long, $c: Long) { relationTermCreate(term1: $p, term2: $c) {
  command { action domain } relationTerm { term1Id term2Id } } }"""
CREATE = """mutation($i: TermInput!) { termCreate(input: $i) {
  command { action } term { id name parentId parent { name } ontology { id } } } }"""
TREE = """query($o: Long!) { ontology(id: $o) {
  rootTerms { name children { name parentId children { name } } } terms { name } } }"""


def code(answer: dict[str, Any]) -> str:
    return answer["errors"][0]["extensions"]["code"]  # type: ignore[no-any-return]


def test_tree_through_the_graph(api):
    ontology = make_ontology(api, terms=("Tumour", "Stroma"))
    tumour = ontology["terms"]["Tumour"]["id"]
    made = api.gql(CREATE, {"i": {"name": "Necrosis", "color": "#0F0",
                                  "ontology": ontology["id"], "parent": tumour}})  # fmt: skip
    assert "errors" not in made, made
    assert made["data"]["termCreate"]["term"]["parentId"] == tumour
    assert made["data"]["termCreate"]["term"]["parent"] == {"name": "Tumour"}
    linked = api.gql(LINK, {"p": tumour, "c": ontology["terms"]["Stroma"]["id"]})
    command = linked["data"]["relationTermCreate"]["command"]
    assert command == {"action": "ADD", "domain": "RelationTerm"}
    tree = api.gql(TREE, {"o": ontology["id"]})["data"]["ontology"]
    assert tree["rootTerms"] == [{"name": "Tumour", "children": [
        {"name": "Necrosis", "parentId": tumour, "children": []},
        {"name": "Stroma", "parentId": tumour, "children": []}]}]  # fmt: skip
    assert [t["name"] for t in tree["terms"]] == ["Necrosis", "Stroma", "Tumour"]


def test_graph_keeps_the_rules(api, make_user):
    ontology = make_ontology(api, terms=("A", "B", "C"))
    other = make_ontology(api, terms=("X",))
    a, b, c = (ontology["terms"][n]["id"] for n in "ABC")
    assert "errors" not in api.gql(LINK, {"p": a, "c": b})
    assert code(api.gql(LINK, {"p": a, "c": b})) == "CONFLICT"
    assert code(api.gql(LINK, {"p": b, "c": a})) == "BAD_USER_INPUT"  # cycle
    assert code(api.gql(LINK, {"p": a, "c": a})) == "BAD_USER_INPUT"
    assert code(api.gql(LINK, {"p": c, "c": b})) == "BAD_USER_INPUT"  # second parent
    assert code(api.gql(LINK, {"p": a, "c": other["terms"]["X"]["id"]})) == "BAD_USER_INPUT"
    assert code(api.gql(LINK, {"p": a})) == "BAD_USER_INPUT"
    term = {"name": "A", "color": "#000", "ontology": ontology["id"]}
    assert code(api.gql(CREATE, {"i": term})) == "CONFLICT"
    assert code(api.gql(CREATE, {"i": {**term, "name": " "}})) == "BAD_USER_INPUT"
    assert code(api.gql(CREATE, {"i": {**term, "name": "D", "parent": 999999999}})) == (
        "BAD_USER_INPUT")  # fmt: skip
    assert code(api.gql("query($t: Long!) { relationTerms(termId: $t, position: 3) { id } }",
                        {"t": a})) == "NOT_FOUND"  # fmt: skip

    stranger = make_user()["api"]
    assert code(stranger.gql("{ terms { totalCount } }")) == "FORBIDDEN"
    for query, variables in (
        ("query($o: Long!) { ontology(id: $o) { id } }", {"o": ontology["id"]}),
        ("query($o: Long!) { terms(ontologyId: $o) { totalCount } }", {"o": ontology["id"]}),
        ("query($t: Long!) { relationTerms(termId: $t) { id } }", {"t": a}),
        (LINK, {"p": a, "c": c}),
        ("mutation($o: Long!) { ontologyDelete(id: $o) { ontology { id } } }",
         {"o": ontology["id"]}),
    ):  # fmt: skip
        assert code(stranger.gql(query, variables)) == "FORBIDDEN", query
    listed = api.gql(TREE, {"o": ontology["id"]})["data"]["ontology"]["terms"]
    assert [t["name"] for t in listed] == ["A", "B", "C"]
