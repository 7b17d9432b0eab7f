"""The wiring every FastAPI service shares: health, readiness, metrics, auth, errors,
and the public edge (a request body limit, the CORS policy); health, readiness and the
CORS policy also serve analytics' Faust web views."""

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

import asyncpg
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from prometheus_client import CONTENT_TYPE_LATEST, Histogram, generate_latest
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from minsheng import auth
from minsheng.edge import Cors
from minsheng.kafka import KafkaAccess
from minsheng.openapi import document_problems, guarded
from minsheng.problems import Problem, handler_for, install_problem_handlers, problem_response

HTTP_DURATION = Histogram(
    "minsheng_http_request_duration_seconds",
    "HTTP request latency by route template and status.",
    ["service", "method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)


async def kafka_answers(kafka: KafkaAccess, timeout_ms: int = 2000) -> bool:
    admin = kafka.admin(request_timeout_ms=timeout_ms)
    try:
        await asyncio.wait_for(admin.start(), timeout_ms / 1000)
        cluster = await admin.describe_cluster()
        return bool(cluster.get("brokers"))
    except Exception:
        return False
    finally:
        with contextlib.suppress(Exception):
            await admin.close()


def health(service: str) -> dict[str, str]:
    """/healthz's body: the process answers, whatever its dependencies do."""
    return {"status": "ok", "service": service}


async def readiness(
    checks: Mapping[str, Callable[[], Awaitable[bool]]],
) -> tuple[dict[str, Any], int]:
    """/readyz's body and status: each check in turn; ready (200) when all pass, else 503.
    Shared by the FastAPI services and analytics' Faust web views."""
    results = {name: await check() for name, check in checks.items()}
    ready = all(results.values())
    body = {"status": "ready" if ready else "not ready", "checks": results}
    return body, 200 if ready else 503


class RequestTiming:
    """ASGI middleware observing `HTTP_DURATION`. Plain ASGI rather than
    `@app.middleware("http")`, whose per-request task and streams cost more than the
    cheapest routes themselves."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = [500]  # what an exception escaping the app becomes

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            # the route's template, never the raw path: ids must not become label values
            route = str(getattr(scope.get("route"), "path", "unmatched"))
            HTTP_DURATION.labels(self.service, scope["method"], route, str(status[0])).observe(
                time.perf_counter() - started
            )


class BodyTooLarge(HTTPException):
    """A body past the limit, raised from `receive`: an HTTP exception, so FastAPI lets
    it through its body parsing and the problem handlers answer it (413)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {limit} bytes")


class BodyLimit:
    """ASGI middleware refusing a request body over `limit` bytes with a 413 problem: at
    once when `Content-Length` says so, else when the streamed body passes it (a
    chunked body has no length), so no route ever buffers more than `limit`."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.limit:
            await self._refuse(scope, receive, send)
            return
        seen = [0]
        started = [False]

        async def counted() -> Message:
            message = await receive()
            seen[0] += len(message.get("body", b""))
            if seen[0] > self.limit:
                raise BodyTooLarge(self.limit)
            return message

        async def sending(message: Message) -> None:
            started[0] = started[0] or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, sending)
        except BodyTooLarge:  # raised where no handler stood (a route that streams)
            if started[0]:
                raise
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        detail = str(BodyTooLarge(self.limit).detail)
        await problem_response(413, "Content Too Large", detail, scope["path"])(
            scope, receive, send
        )


SAME_ORIGIN = Cors(frozenset())  # no origin named: only same-origin pages may call


class CorsPolicy:
    """ASGI middleware applying a `minsheng.edge.Cors` policy: it answers preflights
    itself (204, or a 403 problem for an origin, method or header it does not allow) and
    adds the CORS headers to the answers to allowed origins."""

    def __init__(self, app: ASGIApp, cors: Cors) -> None:
        self.app = app
        self.cors = cors

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = Headers(scope=scope) if scope["type"] == "http" else None
        origin = headers.get("origin") if headers is not None else None
        if headers is None or origin is None:
            await self.app(scope, receive, send)
            return
        asked = headers.get("access-control-request-method")
        if scope["method"] == "OPTIONS" and asked is not None:
            allowed = self.cors.preflight(
                origin, asked, headers.get("access-control-request-headers", "")
            )
            answer: Response
            if allowed is None:
                detail = Cors.refusal(origin, asked)
                answer = problem_response(403, "Forbidden", detail, scope["path"])
            else:
                answer = Response(status_code=204, headers=allowed)
            await answer(scope, receive, send)
            return
        extra = self.cors.response(origin)
        if not extra:
            await self.app(scope, receive, send)
            return

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    *message.get("headers", []),
                    *((k.lower().encode(), v.encode()) for k, v in extra.items()),
                ]
            await send(message)

        await self.app(scope, receive, sending)


Endpoint = TypeVar("Endpoint", bound=Callable[[Request], Awaitable[Response]])
DIRECT = "minsheng_direct_route"  # the attribute `direct` sets on an endpoint


def direct(endpoint: Endpoint) -> Endpoint:
    """Marks a route's endpoint, `async (request) -> Response`, for `DirectRoutes`."""
    setattr(endpoint, DIRECT, True)
    return endpoint


class DirectRoutes:
    """ASGI middleware calling the endpoints marked `direct` straight with the request.

    On the busiest route (POST /v1/appeals) the layers between this middleware
    and the endpoint (exception middleware, exit stack, matching every route, FastAPI's
    request handler and dependency solving) cost about a tenth of the service's CPU.
    The route stays in the app, so OpenAPI documents it and it answers the same either
    way; its errors get the same problem+json handlers (`problems.handler_for`). For
    paths without parameters only (an exact method and path match)."""

    def __init__(self, app: ASGIApp, routes: dict[tuple[str, str], APIRoute]) -> None:
        self.app = app
        self.routes = routes  # (method, path) -> route; filled by `add_direct_routes`

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            route = self.routes.get((scope["method"], scope["path"]))
            if route is not None:
                scope["route"] = route  # the template for RequestTiming's label
                request = Request(scope, receive)
                try:
                    response = await route.endpoint(request)
                except Exception as exc:
                    handler = handler_for(exc)
                    if handler is None:
                        raise
                    response = await handler(request, exc)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def add_direct_routes(app: FastAPI, router: APIRouter) -> None:
    """Has the app's `DirectRoutes` serve the router's endpoints marked `direct` (the
    router is included in the app as it is, without a further prefix)."""
    routes: dict[tuple[str, str], APIRoute] = app.state.direct_routes
    for route in router.routes:
        if isinstance(route, APIRoute) and getattr(route.endpoint, DIRECT, False):
            routes.update({(method, route.path): route for method in route.methods or ()})


def install_platform_routes(
    app: FastAPI,
    *,
    service: str,
    pool: Callable[[], asyncpg.Pool | None],
    kafka: Callable[[], KafkaAccess],
    max_body_bytes: int = 1_048_576,
    cors: Cors = SAME_ORIGIN,
    extra_checks: dict[str, Callable[[], Awaitable[bool]]] | None = None,
) -> None:
    """Adds /healthz, /readyz, /metrics, problem+json errors (documented in the OpenAPI
    document too), the body limit, the CORS policy and the request histogram. `kafka` is
    asked for at each readiness check, so an app is built (for its OpenAPI document, say)
    without credentials."""
    install_problem_handlers(app)
    document_problems(app)

    app.state.direct_routes = {}
    # the last one added is outermost: timing, CORS, the body limit, the direct routes
    app.add_middleware(DirectRoutes, routes=app.state.direct_routes)
    app.add_middleware(BodyLimit, limit=max_body_bytes)
    app.add_middleware(CorsPolicy, cors=cors)
    app.add_middleware(RequestTiming, service=service)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return health(service)

    async def database() -> bool:
        current = pool()
        try:
            return current is not None and await current.fetchval("SELECT 1") == 1
        except Exception:
            return False

    checks: dict[str, Callable[[], Awaitable[bool]]] = {
        "database": database,
        "kafka": lambda: kafka_answers(kafka()),
    }
    checks.update(extra_checks or {})

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> JSONResponse:
        body, status = await readiness(checks)
        return JSONResponse(body, status_code=status)

    @app.get("/metrics", include_in_schema=False)
    async def prometheus_metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


def principal_dependency(identify: auth.Identify) -> Callable[[Request], Awaitable[auth.Principal]]:
    """A FastAPI dependency resolving `Authorization: Bearer <key>` to a principal."""

    async def principal(request: Request) -> auth.Principal:
        key = auth.bearer_key(request.headers.get("authorization"))
        if key is None:
            raise Problem(401, "Unauthorized", "send Authorization: Bearer <api key>")
        found = await identify(key)
        if found is None:
            raise Problem(401, "Unauthorized", "unknown or revoked API key")
        return found

    return guarded(principal)


def require_roles(
    principal: Callable[[Request], Awaitable[auth.Principal]], *roles: auth.Role
) -> Callable[[Request], Awaitable[auth.Principal]]:
    """A FastAPI dependency admitting only these roles; a plain coroutine function of the
    request too, so a route that reads its request itself can await it directly."""

    async def check(request: Request) -> auth.Principal:
        who = await principal(request)
        if who.role not in roles:
            raise Problem(
                403, "Forbidden", f"role {who.role!r} may not do this; needs {', '.join(roles)}"
            )
        return who

    return guarded(check)
