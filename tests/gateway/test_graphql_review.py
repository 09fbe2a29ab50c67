"""The GraphQL API as frontends and tools use it, where a review found it wanting: the row budget
counted before a document runs (schema/limits.py) holds for what a document can really return."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
import strawberry
from graphql import FragmentDefinitionNode, OperationDefinitionNode, parse

from schema.errors import INTERNAL, DomainErrors
from schema.limits import rows_of
from settings import Settings
from tests.factories import abstract_image, add_image, make_ontology, make_project
from tests.harness import ADMIN_PRIVATE_KEY, ADMIN_PUBLIC_KEY, Api, interface, serve

pytestmark = pytest.mark.usefixtures("no_server_error_nor_redirect")


def rows(
    settings: Settings, document: str, variables: dict[str, Any] | None = None, max_page: int = 0
) -> int:
    """What the row budget counts for `document`'s (only) operation, with the server's largest
    page or `max_page`."""
    parsed = parse(document)
    fragments = {d.name.value: d for d in parsed.definitions
                 if isinstance(d, FragmentDefinitionNode)}  # fmt: skip
    (operation,) = [d for d in parsed.definitions if isinstance(d, OperationDefinitionNode)]
    schema = interface(settings).schema._schema
    return rows_of(schema, operation, fragments, variables or {},
                   max_page or settings.graphql_max_page)  # fmt: skip


@pytest.fixture
def budget(settings: Settings, database_url: str) -> Iterator[Api]:
    """A server whose documents may ask for 20 rows at most."""
    with serve(replace(settings, graphql_max_rows=20), database_url) as running:
        yield Api(running.url, ADMIN_PUBLIC_KEY, ADMIN_PRIVATE_KEY)


def refused_for_rows(answer: dict[str, Any]) -> bool:
    errors = answer.get("errors") or []
    return answer.get("data") is None and [e["extensions"]["code"] for e in errors] == [
        "ROW_LIMIT_EXCEEDED"
    ]


# --- variables' defaults -----------------------------------------------------------------------


def test_a_left_out_variable_counts_with_its_declared_default(api, settings):
    """`first: $n` with `$n: Int = 1000` left out is a page of 1000 when it runs: counted as the
    default page of 100, a thousand users each with a thousand annotations passed as 10 100."""
    document = """query($n: Int = 1000) { users(first: $n) { nodes {
      annotations(first: $n) { nodes { id } } } } }"""
    answer = api.gql(document)
    assert refused_for_rows(answer), answer
    assert answer["errors"][0]["extensions"]["cost"]["rows"] == 1000 + 1000 * 1000
    # a value given still wins over the default, and null is the default page
    assert rows(settings, document, {"n": 3}) == 3 + 3 * 3
    assert rows(settings, document, {"n": None}) == 100 + 100 * 100


# --- unpaged lists holding pages -----------------------------------------------------------------


def test_pages_under_an_unpaged_list_count_as_if_it_held_a_page(api, budget):
    """An image's slices are not paged: with five slices of five annotations, a page of ten
    under each slice returns 25 rows; counted as one slice's page (11 rows), the document ran
    past a budget of 20."""
    ontology = make_ontology(api, terms=("a",))
    project = make_project(api, ontology=ontology["id"])
    base = abstract_image(api, slices=5)
    image = add_image(api, project["id"], base["id"])
    slices = api.get(f"/api/imageinstance/{image['id']}/sliceinstance.json").json()["collection"]
    body = [{"location": f"POINT ({i + 1} {i + 1})", "image": image["id"], "slice": one["id"]}
            for one in slices for i in range(5)]  # fmt: skip
    assert api.post("/api/annotation.json", json=body).status_code == 200
    document = """query($image: Long!) { imageInstance(id: $image) {
      slices { annotations(first: 10) { nodes { id } } } } }"""
    answer = budget.gql(document, {"image": image["id"]})
    assert refused_for_rows(answer), answer
    # counting only, or the page of one slice, still answers
    counted = """query($image: Long!) { imageInstance(id: $image) {
      slices { annotations(first: 0) { totalCount nodes { id } } } } }"""
    totals = budget.gql(counted, {"image": image["id"]})["data"]["imageInstance"]["slices"]
    assert [s["annotations"]["totalCount"] for s in totals] == [5] * 5
    one = """query($slice: Long!) { sliceInstance(id: $slice) {
      annotations(first: 10) { nodes { id } } } }"""
    page = budget.gql(one, {"slice": slices[0]["id"]})["data"]["sliceInstance"]["annotations"]
    assert len(page["nodes"]) == 5


def test_a_connections_nodes_and_their_small_lists_count_as_before(settings):
    """The nodes of a page are that page, and an unpaged list with no page below it counts one
    item per parent: a listing with its annotations' terms costs what it did."""
    listing = """{ annotations(filter: {project: 1}, first: 100) {
      nodes { id terms { term { name } } tracks { track { id } } } } }"""
    assert rows(settings, listing) == 100 + 100 + 100
    nested = """{ projects(first: 10) { nodes { images(first: 10) { nodes {
      slices { id } annotations(first: 5) { nodes { id } } } } } } }"""
    assert rows(settings, nested) == 10 + 100 + 100 + 500


def test_pages_under_each_element_of_a_bulk_write_count_per_element(settings):
    """`annotationCreateEach` answers one element per input (up to 100 000): a page under each
    counts once per input when the inputs outnumber a page."""
    document = """mutation($inputs: [AnnotationInput!]!) { annotationCreateEach(inputs: $inputs) {
      annotation { image { annotations(first: 4) { nodes { id } } } } } }"""
    inputs = [{"location": "POINT (1 1)", "image": 1}] * 10
    assert rows(settings, document, {"inputs": inputs}, max_page=4) == 1 + 10 * 4
    assert rows(settings, document, {"inputs": inputs[:2]}, max_page=4) == 1 + 4 * 4


# --- error codes -------------------------------------------------------------------------------


def test_a_value_its_type_refuses_on_output_is_an_internal_error_at_its_field():
    """A value of the server's own that its GraphQL type cannot carry (an Int past 32 bits) is
    a bug, not the caller's document: it was answered GRAPHQL_VALIDATION_FAILED, without the
    field's path, and never logged."""

    @strawberry.type
    class Query:
        @strawberry.field
        def big(self) -> int:
            return 2**40

    schema = strawberry.Schema(query=Query, extensions=[DomainErrors])
    result = asyncio.run(schema.execute("{ big }"))
    assert result.errors is not None
    (error,) = result.errors
    assert error.extensions == {"code": INTERNAL}
    assert error.path == ["big"]
    assert error.message == "Internal error"


# --- introspection -------------------------------------------------------------------------------

#: A few hundred tokens: the types' fields' types' fields, with their arguments.
INTROSPECTION = """__schema { types { fields { args { name type { name } } type { fields {
  name description args { name description type { name kind ofType { name } } } } } } } }"""


def test_the_schemas_introspection_is_asked_for_once_per_document(anonymous):
    """Introspection escapes the depth limit and the row budget: thirty aliases of it, open to
    anyone, held the event loop for seconds and answered megabytes."""
    aliased = " ".join(f"a{i}: {INTROSPECTION}" for i in range(3))
    answer = anonymous.gql(f"{{ {aliased} }}")
    assert answer.get("data") is None, str(answer)[:300]
    assert {e["extensions"]["code"] for e in answer["errors"]} == {"GRAPHQL_VALIDATION_FAILED"}
    assert "once" in answer["errors"][0]["message"]
    inner = " ".join(f"f{i}: fields {{ name type {{ fields {{ name }} }} }}" for i in range(3))
    answer = anonymous.gql(f'{{ __type(name: "Query") {{ {inner} }} }}')
    assert answer.get("data") is None, str(answer)[:300]
    assert "may not be aliased" in answer["errors"][0]["message"]


def test_what_tools_ask_of_the_introspection_still_answers(anonymous):
    """GraphiQL's and codegen's introspection query, and a few types by name under aliases."""
    from graphql import get_introspection_query

    query = get_introspection_query(
        descriptions=True,
        specified_by_url=True,
        directive_is_repeatable=True,
        schema_description=True,
        input_value_deprecation=True,
    )
    answer = anonymous.gql(query)
    assert "errors" not in answer, str(answer)[:300]
    assert answer["data"]["__schema"]["queryType"]["name"] == "Query"
    one = anonymous.gql(f"{{ {INTROSPECTION} }}")
    assert "errors" not in one, str(one)[:300]
    named = anonymous.gql('{ a: __type(name: "Long") { name } b: __type(name: "Query") '
                          "{ fields { name type { name } } } }")  # fmt: skip
    assert "errors" not in named and named["data"]["a"] == {"name": "Long"}, named
