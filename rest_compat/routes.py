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
from rest_compat.upload import Upload
from schema.common import parse_bool

__all__ = ["Match", "Predicate", "Route", "Router", "Traits", "flag", "given"]

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
        bulk_operation: with `bulk`, the operation an array runs as one instead: it takes the
            elements in `$inputs` and answers, per element in order, `id` or `error`.
        when: a predicate on the query parameters choosing this route over its plain twin.
        rename: query parameter → variable name, for parameters named unlike the variable.
        fixed: variables with a fixed value for this route.
        command: errors take the command shape (`errors` as a string, §5.1).
        derive: more variables computed from the request's parameters (the query merged with
            a JSON object body), for parameters whose meaning spans several of them.
        form: the body is optional, and may be form fields (`a=1&b=2&b=3`) instead of JSON:
            what the python client's `post(uri, dict)` sends under a JSON content type.
        upload: the body is a multipart upload (rest_compat/upload.py): its file, streamed to
            disk, goes to a variable; its text fields are read as query parameters.
        reuse: the operation only reads, and its answer may be reused a few seconds for the
            same viewer and the same variables but these (which the envelope checks itself,
            as a tile's coordinates): see `Bridge.checked`. None: run it every time.
        auth_param: a bearer token may come as the query parameter `auth` (the newer
            Cytomine's name), for URLs browsers embed in `<img>` tags (images-annotations.md
            §2.10); `Authorization=Bearer …` in the query is read on every route (core.md §2).
    """

    method: str
    path: str
    operation: str
    envelope: Envelope | AsyncEnvelope
    body: str | None = None
    bulk: bool = False
    bulk_operation: str | None = None
    when: Predicate | None = None
    rename: Mapping[str, str] = field(default_factory=dict)
    fixed: Mapping[str, Any] = field(default_factory=dict)
    command: bool = False
    derive: Callable[[Mapping[str, Any]], Mapping[str, Any]] | None = None
    form: bool = False
    upload: Upload | None = None
    reuse: frozenset[str] | None = None
    auth_param: bool = False

    @property
    def params(self) -> list[tuple[str, bool]]:
        """The path parameters: (name, is_int)."""
        return [(m.group(1), m.group(2) == "int") for m in PARAM.finditer(self.path)]


@dataclass(frozen=True, slots=True)
class Match:
    route: Route
    path_params: dict[str, str]


@dataclass(frozen=True, slots=True)
class Traits:
    """What the routes of a path allow before one is chosen: authentication reads them
    (`Route.reuse`, `Route.auth_param`)."""

    reuse: bool = False
    auth_param: bool = False


NO_TRAITS: Final = Traits()


def _head(path: str) -> str:
    """The first two segments of a path (`/api/sliceinstance`)."""
    return "/".join(path.split("/", 3)[:3])


def _compile(path: str) -> re.Pattern[str]:
    pattern, last = "", 0
    for m in PARAM.finditer(path):
        pattern += re.escape(path[last : m.start()])
        pattern += rf"(?P<{m.group(1)}>\d+)" if m.group(2) == "int" else rf"(?P<{m.group(1)}>[^/]+)"
        last = m.end()
    # ASCII: `\d` would match every script's digits, making `/user/１.json` an alias of user 1
    return re.compile(pattern + re.escape(path[last:]) + r"\Z", re.ASCII)


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
        # Routes by their first two path segments, each list keeping the global order with
        # the routes whose first segments are parameters merged in: a request tries only the
        # routes that can match it (a tile's path is one of the most specific, tried last).
        general = [pair for pair in self._routes if "{" in _head(pair[0].path)]
        self._buckets: dict[str, list[tuple[Route, re.Pattern[str]]]] = {}
        for route, _ in self._routes:
            head = _head(route.path)
            if "{" not in head and head not in self._buckets:
                self._buckets[head] = [
                    pair for pair in self._routes if _head(pair[0].path) == head or pair in general
                ]
        self._general = general

    @property
    def routes(self) -> list[Route]:
        return [route for route, _ in self._routes]

    def _candidates(self, path: str) -> list[tuple[Route, re.Pattern[str]]]:
        return self._buckets.get(_head(path), self._general)

    def traits(self, path: str) -> Traits:
        """The traits of the first route of any method whose path matches `path`."""
        for route, pattern in self._candidates(path):
            if (route.reuse is not None or route.auth_param) and pattern.match(path):
                return Traits(route.reuse is not None, route.auth_param)
        return NO_TRAITS

    def match(self, method: str, path: str, query: Mapping[str, str]) -> Match | set[str] | None:
        """The matching route; else the allowed methods of the path (405); else None (404)."""
        allowed: set[str] = set()
        for route, pattern in self._candidates(path):
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
