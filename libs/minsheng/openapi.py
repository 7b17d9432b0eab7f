"""What every FastAPI service's OpenAPI document says of its errors: each route's 4xx
answers as problem+json (RFC 9457), and which routes need an API key (Bearer).

A route is documented with what the shared wiring can answer for it: 401 and 403 when a
role guard stands before it, 404 when its path names a resource, 422 when it takes
parameters or a body, 413 when it takes a body (the body limit); a route adds what only
it answers (`problems(409)`, `problems(429)`). Routes that answer errors in another
format (Open311's) set `OWN_ERRORS` on their route class: only the edge's 413, answered
before any route, is a problem there.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import iter_route_contexts

from minsheng.problems import PROBLEM_JSON

GUARD = "minsheng_guard"  # the attribute `guarded` sets on a dependency or an endpoint
OWN_ERRORS = "minsheng_own_errors"  # a route class's attribute: its errors are not problems
SECURITY = "bearer"
VALIDATION_ERROR = "#/components/schemas/HTTPValidationError"

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details; some problems add members (`errors`, `valid`, "
    "`allowed_actions`, ...).",
    "type": "object",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
    },
    "additionalProperties": True,
}
MEANINGS = {
    400: "The request cannot be read",
    401: "No API key, or an unknown or revoked one",
    403: "The key's role (or unit) may not do this",
    404: "No such resource",
    409: "The resource's state refuses this",
    413: "The request body is larger than the service takes (`MINSHENG_MAX_BODY_BYTES`)",
    422: "Invalid request: which fields, and what is wrong (`errors`)",
    429: "Too many requests from this key; `Retry-After` says when to try again",
}

Guarded = TypeVar("Guarded", bound=Callable[..., Any])


def guarded(call: Guarded) -> Guarded:
    """Marks a dependency (or an endpoint checking its key itself) as a role guard."""
    setattr(call, GUARD, True)
    return call


def problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` of a route: these statuses as problem documents."""
    reference = {"$ref": "#/components/schemas/Problem"}
    return {
        code: {
            "description": MEANINGS.get(code, "A problem"),
            "content": {PROBLEM_JSON: {"schema": reference}},
        }
        for code in codes
    }


def _calls(dependant: Dependant) -> Iterator[Any]:
    for dependency in dependant.dependencies:
        yield dependency.call
        yield from _calls(dependency)


def is_guarded(route: Any) -> bool:
    calls = [route.endpoint, *_calls(route.dependant)]
    return any(getattr(call, GUARD, False) for call in calls)


def takes_body(route: Any) -> bool:
    return bool(route.dependant.body_params or "requestBody" in (route.openapi_extra or {}))


def expected(route: Any) -> list[int]:
    """The problem statuses the shared wiring may answer on this route (an `APIRoute`
    or FastAPI's context of one included from a router)."""
    d = route.dependant
    takes = d.path_params or d.query_params or d.header_params or d.body_params
    body = takes_body(route)
    if getattr(getattr(route, "original_route", route), OWN_ERRORS, False):
        return [413] if body else []  # the body limit answers before the route
    return [
        *([400, 413] if body else []),  # a body that is not JSON at all, or too large
        *([401, 403] if is_guarded(route) else []),
        *([404] if d.path_params else []),
        *([422] if takes or body else []),
    ]


def _operations(app: FastAPI, schema: dict[str, Any]) -> Iterator[tuple[Any, dict[str, Any]]]:
    """Each documented route of the app with its operation in `schema`."""
    paths = schema.get("paths", {})
    for route in iter_route_contexts(app.routes):
        if getattr(route, "include_in_schema", False) and hasattr(route, "dependant"):
            for method in route.methods or ():
                if operation := paths.get(route.path_format, {}).get(method.lower()):
                    yield route, operation


def _document(route: Any, operation: dict[str, Any]) -> None:
    responses = operation.setdefault("responses", {})
    generated = responses.get("422", {}).get("content", {}).get("application/json", {})
    if VALIDATION_ERROR in str(generated.get("schema")):  # FastAPI's, not what we answer
        del responses["422"]
    for code, doc in problems(*expected(route)).items():
        given = responses.setdefault(str(code), {})
        for part, value in doc.items():  # a route's own description stays
            given.setdefault(part, value)
    if is_guarded(route):
        operation["security"] = [{SECURITY: []}]


def document_problems(app: FastAPI) -> None:
    """Has the app's OpenAPI document name each route's problems and its need for a key
    (worked out on the first request for it, from the routes the app has by then)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        fresh = app.openapi_schema is None
        schema = build()
        if fresh:
            for route, operation in _operations(app, schema):
                _document(route, operation)
            components = schema.setdefault("components", {})
            schemas = components.setdefault("schemas", {})
            schemas["Problem"] = PROBLEM_SCHEMA
            if VALIDATION_ERROR not in json.dumps(schema["paths"]):
                schemas.pop("HTTPValidationError", None)
                schemas.pop("ValidationError", None)
            components["securitySchemes"] = {SECURITY: {"type": "http", "scheme": "bearer"}}
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
