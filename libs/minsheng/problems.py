"""RFC 9457 problem details for every error a service returns.

An error nobody foresaw is a 500 problem with an error id and nothing else: no
traceback, no exception text (asyncpg's carry SQL and values), which go to the log under
that id instead.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger(__name__)


class Problem(Exception):
    """Raise from a route to answer with a problem document."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str = "",
        headers: Mapping[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail or title)
        self.status = status
        self.title = title
        self.detail = detail
        self.headers = dict(headers or {})
        self.extra = extra


def problem_body(
    status: int, title: str, detail: str = "", instance: str | None = None, **extra: Any
) -> dict[str, Any]:
    """The problem document itself, apart from any web framework (analytics answers it
    through Faust's aiohttp server, the others through FastAPI)."""
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if instance:
        body["instance"] = instance
    body.update(extra)
    return body


def problem_response(
    status: int,
    title: str,
    detail: str = "",
    instance: str | None = None,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body = problem_body(status, title, detail, instance, **extra)
    sent = {**({"WWW-Authenticate": "Bearer"} if status == 401 else {}), **(headers or {})}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=sent)


async def on_problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Problem)
    path = request.url.path
    return problem_response(exc.status, exc.title, exc.detail, path, exc.headers, **exc.extra)


def http_title(status: int) -> str:
    """The title of a problem the web framework itself raised (no route, wrong method)."""
    titles = {404: "Not Found", 405: "Method Not Allowed", 413: "Content Too Large"}
    return titles.get(status, "HTTP error")


def allowed_methods(request: Request) -> str:
    """The `Allow` of a 405: the methods of every route of the app on this path (the
    framework names only the first route's, though GET and POST may be two routes)."""
    methods: set[str] = set()
    for route in iter_route_contexts(request.app.router.routes):
        if route.matches(request.scope)[0] is not Match.NONE:
            methods |= route.methods or set()
    return ", ".join(sorted(methods))


async def on_http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    title = http_title(exc.status_code)
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = allowed_methods(request)
    return problem_response(exc.status_code, title, str(exc.detail), request.url.path, headers)


async def on_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()
    ]
    return problem_response(
        422,
        "Invalid request",
        "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5]),
        request.url.path,
        errors=errors,
    )


def unexpected(method: str, path: str, exc: BaseException) -> dict[str, Any]:
    """The problem of an error nobody foresaw, logged in full under an error id that the
    answer names (analytics' aiohttp views answer it too)."""
    error_id = uuid.uuid4().hex
    log.error("unexpected error %s on %s %s", error_id, method, path, exc_info=exc)
    detail = f"an unexpected error; it is logged as {error_id}"
    return problem_body(500, "Internal Server Error", detail, path, error_id=error_id)


async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    body = unexpected(request.method, request.url.path, exc)
    return JSONResponse(body, status_code=500, media_type=PROBLEM_JSON)


HANDLERS: dict[type[Exception], Callable[[Request, Exception], Awaitable[JSONResponse]]] = {
    Problem: on_problem,
    StarletteHTTPException: on_http,
    RequestValidationError: on_validation,
    Exception: on_unexpected,  # last: `handler_for` takes the most specific class
}


def handler_for(exc: Exception) -> Callable[[Request, Exception], Awaitable[JSONResponse]] | None:
    """The problem+json handler of this exception's class (or a base class), if any."""
    for cls in type(exc).__mro__:
        if cls in HANDLERS:
            return HANDLERS[cls]
    return None


def install_problem_handlers(app: FastAPI) -> None:
    for exc_type, handler in HANDLERS.items():
        app.add_exception_handler(exc_type, handler)
