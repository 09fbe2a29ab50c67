"""REST routes are data: method, path template, named GraphQL operation, envelope.

`{name:int}` matches digits, `{name}` one path segment. A more literal path wins over a more
general one (`/user/current.json` over `/user/{id:int}.json` over `/user/{username}.json`), a
route with a query predicate (`when`) wins over its plain twin, and a method mismatch answers
405 with `Allow`. Two routes with the same method, path and predicate are refused at start-up.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from rest_compat.envelopes import AsyncEnvelope, Envelope
from schema.common import parse_bool

__all__ = ["Match", "Predicate", "Route", "Router", "flag", "given"]

PARAM: Final = re.compile(r"\{(\w+)(?::(int))?\}")

#: A route's choice on the query parameters (`Route.when`).
Predicate = Callable[[Mapping[str, str]], bool]


def flag(name: str) -> Predicate:
    """The query parameter `name` is a true boolean, read as Spring does (core.md §1.7)."""
    return lambda query: parse_bool(query.get(name, ""))


def given(name: str) -> Predicate:
    """The query parameter `name` is present and not empty."""
    return lambda query: bool(query.get(name))


def upper(*names: str) -> Callable[[Mapping[str, Any]], dict[str, Any]]:
    """A `derive` reading enum parameters whatever their case (`format=csv`)."""

    def derive(params: Mapping[str, Any]) -> dict[str, Any]:
        return {name: str(params[name]).upper() for name in names if params.get(name)}

    return derive


@dataclass(frozen=True)
class Route:
    """One REST endpoint.

    Args:
        method: HTTP verb.
        path: template such as "/api/user/{id:int}.json".
        operation: the name of a GraphQL operation in `operations/*.graphql`.
        envelope: how the result is answered.
        body: the variable that receives the JSON body, if any.
        bulk: the body may be a JSON array; each element runs as its own operation (§3.3).
        when: a predicate on the query parameters choosing this route over its plain twin.
        rename: query parameter → variable name, for parameters named unlike the variable.
        fixed: variables with a fixed value for this route.
        command: errors take the command shape (`errors` as a string, §5.1).
        derive: more variables computed from the request's parameters (the query merged with
            a JSON object body), for parameters whose meaning spans several of them.
        form: the body is optional, and may be form fields (`a=1&b=2&b=3`) instead of JSON:
            what the python client's `post(uri, dict)` sends under a JSON content type.
    """

    method: str
    path: str
    operation: str
    envelope: Envelope | AsyncEnvelope
    body: str | None = None
    bulk: bool = False
    when: Predicate | None = None
    rename: Mapping[str, str] = field(default_factory=dict)
    fixed: Mapping[str, Any] = field(default_factory=dict)
    command: bool = False
    derive: Callable[[Mapping[str, Any]], Mapping[str, Any]] | None = None
    form: bool = False

    @property
    def params(self) -> list[tuple[str, bool]]:
        """The path parameters: (name, is_int)."""
        return [(m.group(1), m.group(2) == "int") for m in PARAM.finditer(self.path)]


@dataclass(frozen=True, slots=True)
class Match:
    route: Route
    path_params: dict[str, str]


def _compile(path: str) -> re.Pattern[str]:
    pattern, last = "", 0
    for m in PARAM.finditer(path):
        pattern += re.escape(path[last : m.start()])
        pattern += rf"(?P<{m.group(1)}>\d+)" if m.group(2) == "int" else rf"(?P<{m.group(1)}>[^/]+)"
        last = m.end()
    return re.compile(pattern + re.escape(path[last:]) + r"\Z")


def _specificity(route: Route) -> tuple[int, int, int]:
    params = route.params
    literal = len(PARAM.sub("", route.path))
    text_params = sum(1 for _, is_int in params if not is_int)
    return (len(params), text_params, -literal)


class Router:
    """Finds the route of a request."""

    def __init__(self, routes: Iterable[Route]) -> None:
        ordered = sorted(routes, key=lambda r: (_specificity(r), r.when is None))
        self._routes = [(route, _compile(route.path)) for route in ordered]
        seen: set[tuple[str, str, bool]] = set()
        for route in ordered:
            key = (route.method, route.path, route.when is None)
            if key in seen and route.when is None:
                raise ValueError(f"route {route.method} {route.path} is declared twice")
            seen.add(key)

    @property
    def routes(self) -> list[Route]:
        return [route for route, _ in self._routes]

    def match(self, method: str, path: str, query: Mapping[str, str]) -> Match | set[str] | None:
        """The matching route; else the allowed methods of the path (405); else None (404)."""
        allowed: set[str] = set()
        for route, pattern in self._routes:
            found = pattern.match(path)
            if found is None:
                continue
            if route.method != method and not (method == "HEAD" and route.method == "GET"):
                allowed.add(route.method)
                continue
            if route.when is not None and not route.when(query):
                continue
            return Match(route, found.groupdict())
        return allowed or None
