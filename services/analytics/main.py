"""Wiring of the analytics worker: tables, agents, web views, entry point."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import faust
from prometheus_client import REGISTRY, generate_latest

from analytics.agents import handle_event
from analytics.app import AnalyticsSettings, create_app, source_and_dlq
from analytics.appeal_counting import apply_appeal
from analytics.collector import TableCollector
from analytics.counting import State
from analytics.kpis import city_counters
from analytics.project_counting import apply_project
from minsheng.logs import logging_config
from minsheng.topics import APPEALS, PROJECTS
from minsheng.web import kafka_answers

PROMETHEUS_TEXT = "text/plain; version=0.0.4"  # aiohttp adds the charset itself


def build(settings: AnalyticsSettings) -> faust.App:
    app = create_app(settings)
    appeals = app.Table("appeal-state", default=None, partitions=6)
    projects = app.Table("project-state", default=None, partitions=6)
    appeal_source, appeal_dlq = source_and_dlq(app, APPEALS)
    project_source, project_dlq = source_and_dlq(app, PROJECTS)

    @app.agent(appeal_source, name="count-appeals")
    async def count_appeals(stream: Any) -> None:
        async for event in stream.events():
            await handle_event(event, appeals, appeal_dlq, apply_appeal)

    @app.agent(project_source, name="count-projects")
    async def count_projects(stream: Any) -> None:
        async for event in stream.events():
            await handle_event(event, projects, project_dlq, apply_project)

    def appeal_states() -> list[State]:
        return list(appeals.values())

    def project_states() -> list[State]:
        return list(projects.values())

    REGISTRY.register(TableCollector(appeal_states, project_states, clock=now))

    @app.page("/metrics")
    async def metrics_view(web: Any, request: Any) -> Any:
        return web.bytes(generate_latest(REGISTRY), content_type=PROMETHEUS_TEXT)

    @app.page("/v1/counters")
    async def counters_view(web: Any, request: Any) -> Any:
        return web.json(city_counters(appeal_states(), project_states(), now()))

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


def now() -> datetime:
    return datetime.now(UTC)


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
