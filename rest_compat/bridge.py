"""The REST bridge: match a route, build variables, run its GraphQL operation, envelope it.

A REST call runs the same resolvers and permission checks as the equivalent GraphQL query; the
only privilege of the bridge's own documents is `trusted` paging (`max=0` means everything).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Hashable, Iterable
from dataclasses import replace
from typing import Any, Final
from urllib.parse import parse_qs

import orjson
import strawberry
from aiohttp import web
from graphql import GraphQLError

from db.memo import Memo
from resolvers.context import Context
from resolvers.errors import CytogateError, InvalidInput
from rest_compat.envelopes import STATUS_BY_CODE, Call, Streamed, error_body, json_response
from rest_compat.operations import Operation, load_operations
from rest_compat.routes import Match, Route, Router
from rest_compat.upload import FileStore, Staged, stage
from rest_compat.variables import from_text

__all__ = ["Bridge", "ContextFactory"]

FILTER_PARAM: Final = re.compile(r"^(\w+)\[(\w+)\]$")
PAGING: Final = frozenset(("max", "offset"))
#: The largest `max` or `offset`: GraphQL's Int, which the operations page with.
MAX_PAGING: Final = 2**31 - 1
#: `Route.body` value spreading the body's keys over same-named variables.
SPREAD: Final = "*"

ContextFactory = Callable[[web.Request], Context]
#: The checked answers of `Route.reuse` operations, by viewer, operation and variables.
CheckedAnswers = Memo[Hashable, Any]


def _form_fields(raw: bytes) -> dict[str, Any]:
    """A body of form fields (`Route.form`): a repeated field is a list, a single one a value."""
    try:
        fields = parse_qs(raw.decode(), keep_blank_values=True, strict_parsing=True)
    except (UnicodeDecodeError, ValueError):
        raise InvalidInput("Malformed body: neither JSON nor form fields") from None
    return {key: values[0] if len(values) == 1 else values for key, values in fields.items()}


def _as_parameter(value: str | int | float | bool) -> str:
    """A body's scalar as the query string would carry it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _check(route: Route, operations: dict[str, Operation]) -> None:
    operation = operations.get(route.operation)
    if operation is None:
        raise ValueError(f"{route.method} {route.path}: no operation named {route.operation}")
    for name, _ in route.params:
        if name not in operation.variables:
            raise ValueError(f"{route.method} {route.path}: {route.operation} lacks ${name}")
    if route.body not in (None, SPREAD) and route.body not in operation.variables:
        raise ValueError(f"{route.method} {route.path}: {route.operation} lacks ${route.body}")
    if route.upload is not None and route.upload.variable not in operation.variables:
        raise ValueError(
            f"{route.method} {route.path}: {route.operation} lacks ${route.upload.variable}"
        )
    if route.bulk_operation is not None:
        at_once = operations.get(route.bulk_operation)
        if at_once is None or "inputs" not in at_once.variables:
            raise ValueError(f"{route.method} {route.path}: {route.bulk_operation} must exist "
                             "and take $inputs")  # fmt: skip


class Bridge:
    """Serves the REST routes over a schema; validates every route against it when built.

    Args:
        checked: where the answers of `Route.reuse` operations are kept (a pixel route's
            checks and description, so that the next tiles of a slide skip GraphQL and the
            database); None runs every operation every time.
    """

    def __init__(
        self,
        schema: strawberry.Schema,
        routes: Iterable[Route],
        context: ContextFactory,
        operations: dict[str, Operation] | None = None,
        files: FileStore | None = None,
        checked: CheckedAnswers | None = None,
    ):
        self.schema = schema
        self.files = files
        self.router = Router(routes)
        self.operations = operations if operations is not None else load_operations(schema._schema)
        self.context = context
        self.checked = checked
        for route in self.router.routes:
            _check(route, self.operations)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        query: dict[str, str] = {}
        for key, value in request.query.items():
            if key in query:
                return json_response(error_body(f"Parameter {key} is repeated"), status=400)
            query[key] = value
        # HEAD is a GET without the body (aiohttp drops it): pixel routes answer headers only
        method = "GET" if request.method == "HEAD" else request.method
        found = self.router.match(method, request.path, query)
        if found is None:
            return json_response(error_body(f"No such endpoint: {request.path}"), status=404)
        if isinstance(found, set):
            return json_response(
                error_body(f"{request.method} is not allowed on {request.path}"),
                status=405,
                headers={"Allow": ", ".join(sorted(found))},
            )
        try:
            found = await self._rematch_on_body(request, found, query)
        except CytogateError as error:
            return json_response(
                error_body(error.message, command=found.route.command), error.status
            )
        route = found.route
        operation = self.operations[route.operation]
        if route.upload is not None:
            return await self._upload(request, route, operation, found.path_params, query)
        try:
            variables, call = self._variables(route, operation, found.path_params, query)
            call = replace(call, path=found.path_params, request=request)
            body = await self._body(request, route) if route.body is not None else None
            if route.bulk and isinstance(body, list):
                if route.bulk_operation is not None:
                    return await self._bulk_at_once(
                        request, route, operation, variables, body, found.path_params
                    )
                return await self._bulk(
                    request, route, operation, variables, body, call, found.path_params
                )
            if isinstance(body, dict):
                self._check_path_clash(body, found.path_params)
                variables.update(self._body_variables(route, operation, body, found.path_params))
            if route.derive is not None:
                variables.update(
                    route.derive({**query, **(body if isinstance(body, dict) else {})})
                )
        except CytogateError as error:
            return json_response(error_body(error.message, command=route.command), error.status)
        return await self._run(request, route, operation, variables, call)

    async def _upload(
        self,
        request: web.Request,
        route: Route,
        operation: Operation,
        path: dict[str, str],
        query: dict[str, str],
    ) -> web.StreamResponse:
        """A multipart route: stage the file, read the form's text fields as query parameters
        (the query's own win), run the operation with the file's handle, and remove the staged
        file unless the mutation kept it."""
        assert route.upload is not None
        staged = Staged()
        try:
            if self.files is None:
                raise InvalidInput("This server takes no uploads")
            # a slow upload must not hold a pooled connection (authentication took one)
            await self.context(request).db.close()
            staged = await stage(request, self.files, route.upload.directory)
            fields = {k: v for k, v in staged.fields.items() if k not in path}
            variables, call = self._variables(route, operation, path, {**fields, **query})
            variables[route.upload.variable] = staged.file
            return await self._run(request, route, operation, variables, call)
        except CytogateError as error:
            wait = error.retry_after
            return json_response(
                error_body(error.message, command=route.command),
                error.status,
                headers={"Retry-After": str(wait)} if wait else None,
            )
        finally:
            staged.discard()

    def _variables(
        self, route: Route, operation: Operation, path: dict[str, str], query: dict[str, str]
    ) -> tuple[dict[str, Any], Call]:
        declared = operation.variables
        variables: dict[str, Any] = {}
        filters: list[dict[str, str | None]] = []
        for key, text in query.items():
            matched = FILTER_PARAM.match(key)
            if matched and "filters" in declared:
                filters.append({"field": matched[1], "op": matched[2], "value": text})
                continue
            name = route.rename.get(key, key)
            if name in declared and name not in PAGING and name not in route.fixed:
                variables[name] = from_text(key, text, declared[name])
        for name, text in path.items():
            variables[name] = from_text(name, text, declared[name])
        variables = {k: v for k, v in variables.items() if v is not None}
        variables.update(route.fixed)
        if filters:
            variables["filters"] = filters
        limit = self._paging(query, "max")
        offset = self._paging(query, "offset") or 0
        if "max" in declared:
            variables["max"] = limit or None
        if "offset" in declared:
            variables["offset"] = offset
        return variables, Call(max=limit or None, offset=offset, query=query, path=path)

    @staticmethod
    def _paging(query: dict[str, str], name: str) -> int | None:
        text = query.get(name)
        if text is None or text == "":
            return None
        try:
            value = int(text)
        except ValueError:
            raise InvalidInput(f"Parameter {name} must be a whole number, not {text!r}") from None
        if value < 0:
            raise InvalidInput(f"Parameter {name} must not be negative")
        if value > MAX_PAGING:
            raise InvalidInput(f"Parameter {name} must be at most {MAX_PAGING}")
        return value

    @staticmethod
    async def _body(request: web.Request, route: Route) -> Any:
        raw = await request.read()
        if not raw.strip():
            if request.method in ("POST", "PUT") and not route.form:
                raise InvalidInput("The request body is empty: a JSON object was expected")
            return {}
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError as error:
            if not route.form:
                raise InvalidInput(f"Malformed JSON body: {error}") from None
            body = _form_fields(raw)
        if not isinstance(body, dict) and not (route.bulk and isinstance(body, list)):
            raise InvalidInput("The request body must be a JSON object")
        return body

    async def _rematch_on_body(
        self, request: web.Request, found: Match, query: dict[str, str]
    ) -> Match:
        """A body spread over the variables stands for query parameters (a POSTed search), so
        its scalar values also choose between a route and its predicated twins: `reviewed` or
        `kmeans` in a search body picks the same route as in the query string."""
        if found.route.body != SPREAD or request.method not in ("POST", "PUT"):
            return found
        body = await self._body(request, found.route)
        if not isinstance(body, dict):
            return found
        scalars = {key: _as_parameter(value) for key, value in body.items()
                   if isinstance(value, str | int | float | bool)}  # fmt: skip
        again = self.router.match(request.method, request.path, {**scalars, **query})
        return again if isinstance(again, Match) else found

    @staticmethod
    def _check_path_clash(body: dict[str, Any], path: dict[str, str]) -> None:
        """Cytomine reads ids from the body; we take the path's and refuse a body that differs
        (core.md §1.9)."""
        for name, text in path.items():
            value = body.get(name)
            if value not in (None, "null") and str(value) != text:
                raise InvalidInput(f"The body's {name} {value} is not the path's {name} {text}")

    @staticmethod
    def _body_variables(
        route: Route, operation: Operation, body: dict[str, Any], path: dict[str, str]
    ) -> dict[str, Any]:
        """The body as one input variable, or (`body="*"`) spread over same-named variables;
        path parameters and fixed values win over the body's keys (a body's `"project":
        null` does not erase the path's project)."""
        assert route.body is not None
        if route.body != SPREAD:
            return {route.body: operation.readers[route.body](body, "body")}
        return {
            key: operation.readers[key](value, key)
            for key, value in body.items()
            if key in operation.variables and key not in path and key not in route.fixed
        }

    async def _execute(
        self, request: web.Request, operation: Operation, variables: dict[str, Any]
    ) -> tuple[Any, GraphQLError | None]:
        data, error, _ = await self._execute_in(request, operation, variables)
        return data, error

    async def _execute_in(
        self,
        request: web.Request,
        operation: Operation,
        variables: dict[str, Any],
        context: Context | None = None,
    ) -> tuple[Any, GraphQLError | None, Context]:
        """Run the operation (in `context`, else a new one); its result, its first error and
        the context it ran in."""
        context = context or self.context(request)
        refused = _write_refused(request, operation, context)
        if refused is not None:
            return None, GraphQLError(refused, extensions={"code": "FORBIDDEN"}), context
        result = await self.schema.execute(
            operation.text,
            variable_values=variables,
            context_value=context,
            operation_name=operation.name,
        )
        if result.errors:
            return None, result.errors[0], context
        return result.data, None, context

    async def _run(
        self,
        request: web.Request,
        route: Route,
        operation: Operation,
        variables: dict[str, Any],
        call: Call,
    ) -> web.StreamResponse:
        if route.reuse is not None and self.checked is not None:
            data, error, context = await self._reused(request, route, operation, variables)
        else:
            data, error, context = await self._execute_in(request, operation, variables)
        if error is not None:
            return _error_answer(route, error)
        answer = route.envelope(data, replace(call, context=context))
        if inspect.isawaitable(answer):
            return await answer
        if isinstance(answer, Streamed):  # written now, while the lease reads its rows
            await answer.send(request)
        return answer

    async def _reused(
        self, request: web.Request, route: Route, operation: Operation, variables: dict[str, Any]
    ) -> tuple[Any, GraphQLError | None, Context]:
        """The operation's answer kept for this viewer and these variables (but
        `route.reuse`), else run now and kept when it succeeds; errors are never kept."""
        assert self.checked is not None and route.reuse is not None
        context = self.context(request)
        key = (context.viewer, route.operation, tuple(sorted(
            (name, value) for name, value in variables.items() if name not in route.reuse
        )))  # fmt: skip
        found = self.checked.get(key)
        if found is not None:
            return found, None, context
        generation = self.checked.generation
        data, error, context = await self._execute_in(request, operation, variables, context)
        if error is None:
            self.checked.put(key, data, generation)
        return data, error, context

    async def show(
        self, request: web.Request, operation: str, object_id: int, shape: Callable[[Any], Any]
    ) -> Any:
        """One object as its REST route shows it (`operation` takes `$id`), for answers the
        bridge does not route itself (the upload's); a domain error raises."""
        data, error, _ = await self._execute_in(
            request, self.operations[operation], {"id": object_id}
        )
        if error is not None:
            raise InvalidInput(error.message)
        return shape(next(iter(data.values())))

    async def _bulk(
        self,
        request: web.Request,
        route: Route,
        operation: Operation,
        variables: dict[str, Any],
        elements: list[Any],
        call: Call,
        path: dict[str, str],
    ) -> web.StreamResponse:
        """Each element is its own command; HTTP 200 whatever happens, status in the body."""
        assert route.body is not None
        created: list[str] = []
        failed: list[dict[str, Any]] = []
        for element in elements:
            try:
                element_vars = {**variables, **self._element(route, operation, element, path)}
            except CytogateError as invalid:
                failed.append({"data": element, "message": invalid.message})
                continue
            data, error = await self._execute(request, operation, element_vars)
            if error is not None:
                failed.append({"data": element, "message": error.message})
                continue
            payload = next(iter(data.values()))
            obj = next(value for key, value in payload.items() if key != "command")
            created.append(str(obj["id"]))
        return _bulk_answer(route, created, failed)

    async def _bulk_at_once(
        self,
        request: web.Request,
        route: Route,
        operation: Operation,
        variables: dict[str, Any],
        elements: list[Any],
        path: dict[str, str],
    ) -> web.StreamResponse:
        """The whole array as one operation (`Route.bulk_operation`): the elements that read
        as inputs go in `$inputs`, and each answers its id or its error, as `_bulk` would."""
        assert route.bulk_operation is not None
        at_once = self.operations[route.bulk_operation]
        inputs: list[Any] = []
        read: list[tuple[Any, str | None]] = []  # each element, and its error if unreadable
        for element in elements:
            try:
                inputs.append(self._element(route, operation, element, path)[route.body or ""])
                read.append((element, None))
            except CytogateError as invalid:
                read.append((element, invalid.message))
        outcomes: list[Any] = []
        if inputs:
            data, error = await self._execute(request, at_once, {**variables, "inputs": inputs})
            if error is not None:  # the whole operation refused (too many, no credentials…)
                return _error_answer(route, error)
            outcomes = next(iter(data.values()))
        answers = iter(outcomes)
        created: list[str] = []
        failed: list[dict[str, Any]] = []
        for element, unreadable in read:
            outcome = {"error": unreadable} if unreadable else next(answers)
            if outcome["error"]:
                failed.append({"data": element, "message": outcome["error"]})
            else:
                created.append(str(outcome["id"]))
        return _bulk_answer(route, created, failed)

    def _element(
        self, route: Route, operation: Operation, element: Any, path: dict[str, str]
    ) -> dict[str, Any]:
        """One array element as the route's body variables; 400 when it cannot be one."""
        if not isinstance(element, dict):
            raise InvalidInput("Each element of the array must be a JSON object")
        return self._body_variables(route, operation, element, path)


def _write_refused(request: web.Request, operation: Operation, context: Context) -> str | None:
    """Why a write reached over GET (or HEAD, a GET without the body) is refused, if it is.

    A browser sends its session cookie with any link or `<img>` another site embeds, and a
    short-term token is the one pages put in image URLs (the likeliest to leak) and may only
    read (core.md §2.3): neither may run a mutation (undo, accept an annotation) that way."""
    if not operation.writes or request.method not in ("GET", "HEAD"):
        return None
    if context.by_cookie:
        return ("A write over GET needs a signed request or a bearer token: a browser's "
                "session cookie alone could come from a link on another site")  # fmt: skip
    if context.viewer is not None and context.viewer.read_only:
        return "A short-term token may only be used to read"
    return None


def _error_answer(route: Route, error: GraphQLError) -> web.Response:
    """A GraphQL error as Cytomine's error answer: the status of its code, `Retry-After` when
    the database asked for a wait."""
    extensions = error.extensions or {}
    retry_after = extensions.get("retryAfter")
    return json_response(
        error_body(error.message, extensions.get("errorValues"), command=route.command),
        status=STATUS_BY_CODE.get(extensions.get("code", ""), 500),
        headers={"Retry-After": str(retry_after)} if retry_after else None,
    )


def _bulk_answer(route: Route, created: list[str], failed: list[dict[str, Any]]) -> web.Response:
    """Cytomine's answer to an array (core.md §3.3): HTTP 200, the status in the body."""
    word = route.operation.removesuffix("Create").lower() + "s"
    if not failed:
        body = {"data": {"message": f"{word} {','.join(created)} added"}, "status": 200}
    elif created:
        message = f"Only part of the entries ({word} {','.join(created)}) were added"
        body = {"data": {"success": False, "message": message, "errors": failed}, "status": 206}
    else:
        body = {"data": {"success": False, "message": "No entry saved", "errors": failed},
                "status": 400}  # fmt: skip
    return json_response(body)
