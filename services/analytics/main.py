"""Wiring of the analytics worker: tables, agents, web views, entry point."""

from __future__ import annotations

from typing import Any

import faust
from prometheus_client import REGISTRY, generate_latest

from analytics.agents import handle_appeal_event
from analytics.app import AnalyticsSettings, appeals_dlq, appeals_topic, create_app
from analytics.collector import TableCollector
from analytics.counting import city_counters
from minsheng.logs import logging_config
from minsheng.web import kafka_answers

PROMETHEUS_TEXT = "text/plain; version=0.0.4"  # aiohttp adds the charset itself


def build(settings: AnalyticsSettings) -> faust.App:
    app = create_app(settings)
    appeals = app.Table("appeal-state", default=None, partitions=6)
    source, dead_letters = appeals_topic(app), appeals_dlq(app)

    @app.agent(source, name="count-appeals")
    async def count_appeals(stream: Any) -> None:
        async for event in stream.events():
            await handle_appeal_event(event, appeals, dead_letters)

    collector = TableCollector(lambda: list(appeals.values()))
    REGISTRY.register(collector)

    @app.page("/metrics")
    async def metrics_view(web: Any, request: Any) -> Any:
        return web.bytes(generate_latest(REGISTRY), content_type=PROMETHEUS_TEXT)

    @app.page("/v1/counters")
    async def counters_view(web: Any, request: Any) -> Any:
        return web.json(city_counters(list(appeals.values())))

    @app.page("/readyz")
    async def readyz_view(web: Any, request: Any) -> Any:
        checks = {
            "kafka": await kafka_answers(settings.kafka_bootstrap),
            "partitions_assigned": bool(app.consumer.assignment()),
            "not_rebalancing": not app.rebalancing,
        }
        ready = all(checks.values())
        body = {"status": "ready" if ready else "not ready", "checks": checks}
        return web.json(body, status=200 if ready else 503)

    @app.page("/healthz")
    async def healthz_view(web: Any, request: Any) -> Any:
        return web.json({"status": "ok", "service": "analytics"})

    return app


def run() -> None:
    settings = AnalyticsSettings()
    app = build(settings)
    worker = faust.Worker(
        app,
        loglevel=settings.log_level.lower(),
        quiet=True,
        logging_config=logging_config("analytics", settings.log_level, settings.log_format),
    )
    worker.execute_from_commandline()
