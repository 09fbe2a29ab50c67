"""Ontology and term listings cost a fixed number of SQL statements, whatever the number of
ontologies, terms, links and projects (DESIGN.md "GraphQL": every fan-out is a DataLoader)."""

from __future__ import annotations

import pytest

from tests.factories import make_ontology, make_project
from tests.harness import Api, Server

pytestmark = pytest.mark.identity_read_every_request

MAX_STATEMENTS = 10

NESTED = """{ ontologies(first: 100) { totalCount nodes { id name user { id username }
  terms { id parentId parent { id } children { id } ontology { id } }
  rootTerms { id children { id name } }
  projects { id name ontology { id } }
} } }"""
TERMS = """query($o: Long!) { terms(ontologyId: $o, first: 100) { nodes {
  id parent { id name } children { id } ontology { id name } } } }"""


def fill(api: Api, ontologies: int) -> list[int]:
    """`ontologies` ontologies of three terms (one linked under another), each used by a
    project."""
    made = []
    for _ in range(ontologies):
        ontology = make_ontology(api, terms=("A", "B", "C"))
        terms = ontology["terms"]
        linked = api.post("/api/relation/parent/term.json",
                          json={"term1": terms["A"]["id"], "term2": terms["B"]["id"]})  # fmt: skip
        assert linked.status_code == 200, linked.text
        make_project(api, ontology=ontology["id"])
        made.append(ontology["id"])
    return made


def count(server: Server, api: Api, first: int) -> list[int]:
    """The statements of: the nested graph, the REST listing, one ontology's terms over REST
    and over the graph, every term."""
    counts = []
    for call in (
        lambda: api.gql(NESTED),
        lambda: api.get("/api/ontology.json"),
        lambda: api.get(f"/api/ontology/{first}/term.json"),
        lambda: api.gql(TERMS, {"o": first}),
        lambda: api.get("/api/term.json"),
    ):
        with server.count_statements() as counter:
            answer = call()
        counts.append(counter.n)  # read now: the next block resets the one counter
        body = answer if isinstance(answer, dict) else answer.json()
        assert "errors" not in body, body
    return counts


def test_ontology_listing_statement_count_is_flat(server, api):
    made = fill(api, 2)
    small = count(server, api, made[0])
    fill(api, 8)
    large = count(server, api, made[0])
    print(f"statements (graph, REST list, REST terms, graph terms, all terms): {small} {large}")
    assert small == large
    assert all(0 < n <= MAX_STATEMENTS for n in small), small
