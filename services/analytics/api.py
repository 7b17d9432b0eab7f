"""The worker's web views on Faust's web server: the city's counters, the units' traffic
lights, a worker's share of the figures (read by its peers), metrics, health, readiness
and the OpenAPI document.

Health, readiness, the problem+json error shape and the CORS policy are the ones every
service answers (`minsheng.web`, `minsheng.problems`, `minsheng.edge`); only the framework
differs (aiohttp, not FastAPI). The views read no request body (aiohttp's own limit,
1 MiB, stands).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from functools import partial
from typing import Any

import faust
import httpx
from aiohttp import web as aiohttp_web
from fastapi.openapi.docs import get_swagger_ui_html
from faust.web.drivers.aiohttp import Web as AiohttpWeb
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest

from analytics.aggregate import share
from analytics.app import PARTITIONS, AnalyticsSettings
from analytics.collector import LightsCollector
from analytics.consumers import SERVICE, Counting
from analytics.counting import Figures
from analytics.kpis import report
from analytics.lights import Thresholds, lights_report, unit_months
from analytics.openapi import DOCUMENT, LIGHTS_PATH
from analytics.peers import SHARE_PATH, Incomplete, encode, fetch_shares, merge
from analytics.windows import local_month
from minsheng.edge import Cors
from minsheng.inputs import parse_instant
from minsheng.problems import PROBLEM_JSON, http_title, problem_body, unexpected
from minsheng.web import health, kafka_answers, readiness

PROMETHEUS_TEXT = "text/plain; version=0.0.4"  # aiohttp adds the charset itself
MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
LIGHTS_PARTITION = 0  # the worker holding this appeals partition exports the lights
Clock = Callable[[], datetime]


def local_figures(countings: Mapping[str, Counting], at: datetime) -> Figures:
    """The figures of this worker's share of every table, at `at`."""
    return share((c.aggregate for c in countings.values()), at)


def problem(
    web: Any,
    request: Any,
    status: int,
    title: str,
    detail: str,
    headers: Mapping[str, str] | None = None,
) -> Any:
    """A problem+json answer, as the FastAPI services give (`minsheng.problems`)."""
    body = problem_body(status, title, detail, request.path)
    return web.json(body, status=status, headers=headers, content_type=PROBLEM_JSON)


def edge(cors: Cors) -> Any:
    """The aiohttp middleware of the public edge, as `minsheng.web` gives the other
    services: the CORS policy (preflights answered here), and every error as problem+json,
    the web server's own (no such route, wrong method) and unexpected ones (a 500 naming
    an error id, never a traceback)."""

    @aiohttp_web.middleware
    async def middleware(request: aiohttp_web.Request, handler: Any) -> aiohttp_web.StreamResponse:
        origin = request.headers.get("Origin")
        asked = request.headers.get("Access-Control-Request-Method")
        if request.method == "OPTIONS" and origin is not None and asked is not None:
            allowed = cors.preflight(
                origin, asked, request.headers.get("Access-Control-Request-Headers", "")
            )
            if allowed is None:
                detail = Cors.refusal(origin, asked)
                body = problem_body(403, "Forbidden", detail, request.path)
                return aiohttp_web.json_response(body, status=403, content_type=PROBLEM_JSON)
            return aiohttp_web.Response(status=204, headers=allowed)
        response = await answer(request, handler)
        response.headers.update(cors.response(origin))
        return response

    return middleware


async def answer(request: aiohttp_web.Request, handler: Any) -> aiohttp_web.StreamResponse:
    try:
        response: aiohttp_web.StreamResponse = await handler(request)
    except aiohttp_web.HTTPException as error:
        if error.status < 400:
            raise
        body = problem_body(error.status, http_title(error.status), error.reason, request.path)
        kept = {k: v for k, v in error.headers.items() if k.lower() == "allow"}
        return aiohttp_web.json_response(
            body, status=error.status, headers=kept, content_type=PROBLEM_JSON
        )
    except Exception as error:
        body = unexpected(request.method, request.path, error)
        return aiohttp_web.json_response(body, status=500, content_type=PROBLEM_JSON)
    return response


def rebalancing(web: Any, request: Any, error: Incomplete) -> Any:
    """503 while the shares do not cover every partition once: retry in a second."""
    title = "Counters are being rebalanced between workers"
    return problem(web, request, 503, title, str(error), {"Retry-After": "1"})


def install_views(
    app: faust.App,
    settings: AnalyticsSettings,
    clock: Clock,
    countings: Mapping[str, Counting],
    peers: httpx.AsyncClient,
    thresholds: Thresholds,
) -> None:
    """Adds the views to the app's web server; `peers` fetches the other workers' shares."""
    server = app.web
    assert isinstance(server, AiohttpWeb), "Faust serves its views with aiohttp"
    server.web_app.middlewares.append(edge(Cors.of(settings.cors_origins)))

    def own_share(at: datetime) -> dict[str, Any]:
        partitions = {name: c.aggregate.partitions for name, c in countings.items()}
        figures = local_figures(countings, at)
        return encode(settings.advertised_url, figures, partitions, not app.rebalancing)

    async def city_figures(at: datetime) -> Figures:
        """Every worker's share at `at`, added up; raises Incomplete while rebalancing."""
        mine = settings.advertised_url.rstrip("/")
        others = {str(url).rstrip("/") for url in app.assignor.tables_metadata()} - {mine}
        shares = [own_share(at), *await fetch_shares(peers, sorted(others), at)]
        return merge(shares, PARTITIONS)

    async def lights_text(at: datetime) -> bytes:
        """`minsheng_unit_light` of this month, from the city's figures, exported by one
        worker only (the holder of appeals partition 0) so that `sum by (light)` counts
        every unit once; nothing while the workers rebalance."""
        if LIGHTS_PARTITION not in countings["appeals"].aggregate.partitions:
            return b""
        try:
            figures = await city_figures(at)
        except Incomplete:
            return b""
        registry = CollectorRegistry(auto_describe=False)
        registry.register(LightsCollector(unit_months(figures, local_month(at)), thresholds))
        return generate_latest(registry)

    @app.page("/metrics")
    async def metrics_view(web: Any, request: Any) -> Any:
        lights = await lights_text(clock())
        return web.bytes(generate_latest(REGISTRY) + lights, content_type=PROMETHEUS_TEXT)

    @app.page(SHARE_PATH)
    async def share_view(web: Any, request: Any) -> Any:
        at = request.query.get("at")
        try:
            moment = clock() if at is None else parse_instant(at, name="at")
        except ValueError as error:
            return problem(web, request, 400, "Invalid request", str(error))
        return web.json(own_share(moment))

    @app.page("/openapi.json")
    async def openapi_view(web: Any, request: Any) -> Any:
        return web.json(DOCUMENT)

    @app.page("/docs")
    async def docs_view(web: Any, request: Any) -> Any:
        page = get_swagger_ui_html(openapi_url="/openapi.json", title="Minsheng analytics")
        return web.html(bytes(page.body).decode())

    @app.page("/v1/counters")
    async def counters_view(web: Any, request: Any) -> Any:
        at = clock()
        try:
            figures = await city_figures(at)
        except Incomplete as error:
            return rebalancing(web, request, error)
        return web.json(report(figures, at))

    @app.page(LIGHTS_PATH)
    async def lights_view(web: Any, request: Any) -> Any:
        at = clock()
        month = request.query.get("month", local_month(at))
        if not MONTH.match(month):
            detail = f"month: {month!r} is not a month as YYYY-MM"
            return problem(web, request, 400, "Invalid request", detail)
        try:
            figures = await city_figures(at)
        except Incomplete as error:
            return rebalancing(web, request, error)
        return web.json(lights_report(figures, month, thresholds, at.isoformat()))

    async def partitions_assigned() -> bool:
        return bool(app.consumer.assignment())

    async def not_rebalancing() -> bool:
        return not app.rebalancing

    checks: dict[str, Callable[[], Awaitable[bool]]] = {
        "kafka": partial(kafka_answers, settings.kafka),
        "partitions_assigned": partitions_assigned,
        "not_rebalancing": not_rebalancing,
    }

    @app.page("/readyz")
    async def readyz_view(web: Any, request: Any) -> Any:
        body, status = await readiness(checks)
        return web.json(body, status=status)

    @app.page("/healthz")
    async def healthz_view(web: Any, request: Any) -> Any:
        return web.json(health(SERVICE))
