"""The wiring every FastAPI service shares: health, readiness, metrics, auth, errors."""

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from typing import Annotated

import asyncpg
from aiokafka.admin import AIOKafkaAdminClient
from fastapi import Depends, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, Histogram, generate_latest

from minsheng import auth
from minsheng.problems import Problem, install_problem_handlers

HTTP_DURATION = Histogram(
    "minsheng_http_request_duration_seconds",
    "HTTP request latency by route template and status.",
    ["service", "method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)


async def kafka_answers(bootstrap: str, timeout_ms: int = 2000) -> bool:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=timeout_ms)
    try:
        await asyncio.wait_for(admin.start(), timeout_ms / 1000)
        cluster = await admin.describe_cluster()
        return bool(cluster.get("brokers"))
    except Exception:
        return False
    finally:
        with contextlib.suppress(Exception):
            await admin.close()


def _route_template(request: Request) -> str:
    """The route's template, never the raw path: ids must not become label values."""
    return str(getattr(request.scope.get("route"), "path", "unmatched"))


def install_platform_routes(
    app: FastAPI,
    *,
    service: str,
    pool: Callable[[], asyncpg.Pool | None],
    bootstrap: str,
    extra_checks: dict[str, Callable[[], Awaitable[bool]]] | None = None,
) -> None:
    """Adds /healthz, /readyz, /metrics, problem+json errors and the request histogram."""
    install_problem_handlers(app)

    @app.middleware("http")
    async def measure(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        HTTP_DURATION.labels(
            service, request.method, _route_template(request), str(response.status_code)
        ).observe(time.perf_counter() - started)
        return response

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": service}

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> JSONResponse:
        checks: dict[str, bool] = {}
        current = pool()
        try:
            checks["database"] = current is not None and await current.fetchval("SELECT 1") == 1
        except Exception:
            checks["database"] = False
        checks["kafka"] = await kafka_answers(bootstrap)
        for name, check in (extra_checks or {}).items():
            checks[name] = await check()
        ready = all(checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "not ready", "checks": checks},
            status_code=200 if ready else 503,
        )

    @app.get("/metrics", include_in_schema=False)
    async def prometheus_metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


def principal_dependency(
    pool: Callable[[], asyncpg.Pool | None],
) -> Callable[..., Awaitable[auth.Principal]]:
    """A FastAPI dependency resolving `Authorization: Bearer <key>` to a principal."""

    async def principal(request: Request) -> auth.Principal:
        header = request.headers.get("authorization", "")
        scheme, _, key = header.partition(" ")
        if scheme.lower() != "bearer" or not key:
            raise Problem(401, "Unauthorized", "send Authorization: Bearer <api key>")
        current = pool()
        assert current is not None
        found = await auth.lookup(current, key.strip())
        if found is None:
            raise Problem(401, "Unauthorized", "unknown or revoked API key")
        return found

    return principal


def require_roles(
    principal: Callable[..., Awaitable[auth.Principal]], *roles: auth.Role
) -> Callable[..., Awaitable[auth.Principal]]:
    async def check(who: Annotated[auth.Principal, Depends(principal)]) -> auth.Principal:
        if who.role not in roles:
            raise Problem(
                403, "Forbidden", f"role {who.role!r} may not do this; needs {', '.join(roles)}"
            )
        return who

    return check
