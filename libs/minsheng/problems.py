"""RFC 9457 problem details for every error a service returns."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"


class Problem(Exception):
    """Raise from a route to answer with a problem document."""

    def __init__(self, status: int, title: str, detail: str = "", **extra: Any) -> None:
        super().__init__(detail or title)
        self.status = status
        self.title = title
        self.detail = detail
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
    status: int, title: str, detail: str = "", instance: str | None = None, **extra: Any
) -> JSONResponse:
    body = problem_body(status, title, detail, instance, **extra)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


async def on_problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Problem)
    return problem_response(exc.status, exc.title, exc.detail, request.url.path, **exc.extra)


def http_title(status: int) -> str:
    """The title of a problem the web framework itself raised (no route, wrong method)."""
    return {404: "Not Found", 405: "Method Not Allowed"}.get(status, "HTTP error")


async def on_http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    title = http_title(exc.status_code)
    return problem_response(exc.status_code, title, str(exc.detail), request.url.path)


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


HANDLERS: dict[type[Exception], Callable[[Request, Exception], Awaitable[JSONResponse]]] = {
    Problem: on_problem,
    StarletteHTTPException: on_http,
    RequestValidationError: on_validation,
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
