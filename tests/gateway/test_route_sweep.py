"""Every REST route, given bad input, never answers a 5xx nor a redirect, and each refusal is
a 4xx with a JSON error body (DESIGN.md "Security"): ids that overflow or name nothing, path
segments that are not what the route reads, query values of every kind for every variable of
the route's operation, bodies that are not JSON objects, and each field of a body's input type
given a value of the wrong type. Other modules test the answers route by route; this one only holds
the rule across the whole table, so a new route is covered the day it is added.

The deliberate 501 of what cytogate does not serve and 503 of what is not configured (mail)
pass. A key regeneration is left out: it would change the keys the sweep signs with. The
sweep runs as the superadmin, who passes every permission check and so reaches the deepest
code, and as a contributor of the project, whose refusals take other branches.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any, Final

import pytest
import requests
from graphql import GraphQLInputObjectType, GraphQLInputType, GraphQLList, GraphQLNonNull

from rest_compat.routes import PARAM, Route
from rest_compat.table import ROUTES
from tests.gateway.conftest import Scene
from tests.harness import Api, interface

#: Integer path ids: nothing, past PostgreSQL's bigint and integer, negative (not digits).
IDS: Final = ("0", "9223372036854775808", "2147483648", "-5")
#: Text path segments.
SEGMENTS: Final = ("x", "..", "a%00b", "ééé")
#: Query values, for every variable of the route's operation.
VALUES: Final = ("abc", "-1", "99999999999999999999999", "[1,", "1.5", "", "null",
                 "9223372036854775808", "1e400", "true", "POLYGON((0 0", "2147483648")  # fmt: skip
#: Bodies that are not what a route reads.
BODIES: Final = ("{", "[]", "[1]", '"s"', "null", "{}", "[{}]", '{"id": "x"}', "[null]")
#: A body field's wrong values.
WRONG: Final = ("abc", 2**70, -(2**70), 1.5, [1], {"a": 1}, True, "", "9" * 30, [[1]], -1, 2**31)
#: Server statuses that are deliberate: what cytogate does not serve (501), and what this
#: server is not configured for (503, mail), by the words of its answer.
DELIBERATE: Final = {501: "", 503: "is not configured"}
#: Path ids tried per route (the first of the product of each parameter's values).
PATHS_PER_ROUTE: Final = 12
#: Reads first, deletes last, so that a write's bad input meets the rows it could change.
ORDER: Final = {"GET": 0, "POST": 1, "PUT": 2, "DELETE": 3}


def _filled(route: Route, values: tuple[str, ...]) -> str:
    path = route.path
    for value in values:
        path = PARAM.sub(value, path, count=1)
    return path


def _paths(route: Route, real: tuple[str, ...]) -> Iterator[str]:
    """The route's path with bad (and some real) ids and segments."""
    choices = [(*IDS, *real[:2]) if is_int else SEGMENTS for _, is_int in route.params]
    for values in itertools.islice(itertools.product(*choices), PATHS_PER_ROUTE):
        yield _filled(route, values)


def _fields(kind: GraphQLInputType | None) -> list[str]:
    while isinstance(kind, GraphQLNonNull | GraphQLList):
        kind = kind.of_type
    return list(kind.fields) if isinstance(kind, GraphQLInputObjectType) else []


def refusals(api: Api, method: str, path: str, **kw: Any) -> list[str]:
    """What is wrong with the answer to one bad request (nothing: a 2xx, or a 4xx with a JSON
    body, or a deliberate refusal)."""
    response: requests.Response = api.request(method, path, **kw)
    status = response.status_code
    said = f"{method} {path} {kw} → {status} {response.text[:160]}"
    deliberate = status in DELIBERATE and DELIBERATE[status] in response.text
    if (status >= 500 and not deliberate) or 300 <= status < 400:
        return [said]
    if status >= 400:
        try:
            response.json()
        except ValueError:
            return [said + " (not JSON)"]
    return []


@pytest.mark.parametrize("part", ["reads", "writes"])  # each on a scene of its own, so that
@pytest.mark.parametrize("caller", ["superadmin", "contributor"])  # the workers share them
def test_no_route_answers_bad_input_with_a_server_error(api, settings, scene: Scene, caller, part):
    real = tuple(str(id_) for id_ in scene.ids)
    operations = interface(settings).operations
    if caller == "contributor":
        api = scene.member["api"]
    wrong: list[str] = []
    for route in sorted(ROUTES, key=lambda route: ORDER[route.method]):
        if route.upload is not None or (route.method == "POST" and "keys" in route.path):
            continue
        if (route.method == "GET") != (part == "reads"):
            continue
        for path in _paths(route, real):
            wrong += refusals(api, route.method, path)
        path = _filled(route, tuple(real[i % len(real)] if is_int else "x"
                                    for i, (_, is_int) in enumerate(route.params)))  # fmt: skip
        operation = operations[route.operation]
        for name in {*operation.variables, *route.rename}:
            for value in VALUES:
                wrong += refusals(api, route.method, path, params={name: value})
        if route.body is not None:
            for body in BODIES:
                wrong += refusals(api, route.method, path, data=body)
            for field in _fields(operation.variables.get(route.body)):
                for value in WRONG:
                    wrong += refusals(api, route.method, path, json={field: value})
    assert not wrong, "\n".join(wrong)
