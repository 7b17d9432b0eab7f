"""Wiring of the analytics worker: tables, agents, web views, entry point."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import faust
import httpx
from faust.types import TP
from prometheus_client import REGISTRY, generate_latest

from analytics.agents import Apply, Counting, handle_batch
from analytics.aggregate import Aggregate, FiguresOf, no_deadline, share
from analytics.app import (
    PARTITIONS,
    AnalyticsSettings,
    create_app,
    prepare_topics,
    source_and_dlq,
)
from analytics.appeal_counting import appeal_figures, apply_appeal, deadline_of
from analytics.changelog import ChangelogWriter
from analytics.collector import FiguresCollector
from analytics.counting import Figures
from analytics.kpis import report
from analytics.notification_counting import apply_notification, notification_figures
from analytics.peers import SHARE_PATH, Incomplete, encode, fetch_shares, merge
from analytics.project_counting import apply_project, project_figures
from analytics.windows import expired_window
from minsheng.clock import clock_for
from minsheng.logs import logging_config
from minsheng.topics import APPEALS, NOTIFICATIONS, PROJECTS
from minsheng.web import kafka_answers

PROMETHEUS_TEXT = "text/plain; version=0.0.4"  # aiohttp adds the charset itself
Clock = Callable[[], datetime]
BATCH, BATCH_WINDOW = 1000, 0.01  # events per batch at most; seconds a batch waits at most
TABLES: tuple[tuple[str, str, str, Apply, FiguresOf], ...] = (
    # name, topic, table, fold, figures
    ("appeals", APPEALS, "appeal-state", apply_appeal, appeal_figures),
    ("projects", PROJECTS, "project-state", apply_project, project_figures),
    (
        "notifications",
        NOTIFICATIONS,
        "notification-state",
        apply_notification,
        notification_figures,
    ),
)


def now() -> datetime:
    return datetime.now(UTC)


def build(settings: AnalyticsSettings, clock: Clock = now) -> faust.App:
    """The worker's app; `clock` decides what is overdue and which day is "today"."""
    app = create_app(settings)
    changelog = ChangelogWriter(settings.kafka_bootstrap)

    @app.on_partitions_revoked.connect
    async def settle(sender: Any, /, *args: Any, **kwargs: Any) -> None:
        """Before the partitions move, the batch under way is written (or not begun), so
        no changelog write of this worker lands after the next owner has recovered."""
        for counting in countings.values():
            async with counting.applying:
                counting.gate.close()

    countings: dict[str, Counting] = {}
    for name, topic, table_name, apply, figures_of in TABLES:
        source, dead_letters = source_and_dlq(app, topic)
        table = app.Table(table_name, default=None, partitions=PARTITIONS)
        aggregate = Aggregate(figures_of, deadline_of if name == "appeals" else no_deadline)
        countings[name] = counting = Counting(
            table, aggregate, apply, dead_letters, changelog, _rewinder(app, topic)
        )
        _count(app, f"count-{name}", source, counting)
        table.on_recover(_rebuilder(app, topic, counting))

    def local(at: datetime) -> Figures:
        return share((c.aggregate for c in countings.values()), at)

    REGISTRY.register(FiguresCollector(lambda: local(clock())))

    async def expire_windows() -> None:
        """Tumbling windows expire: drop those older than windows.EXPIRES."""
        countings["appeals"].aggregate.drop(expired_window(clock()))

    app.timer(interval=600.0)(expire_windows)

    @app.page("/metrics")
    async def metrics_view(web: Any, request: Any) -> Any:
        return web.bytes(generate_latest(REGISTRY), content_type=PROMETHEUS_TEXT)

    def own_share(at: datetime) -> dict[str, Any]:
        partitions = {name: c.aggregate.partitions for name, c in countings.items()}
        return encode(settings.advertised_url, local(at), partitions, not app.rebalancing)

    @app.page(SHARE_PATH)
    async def share_view(web: Any, request: Any) -> Any:
        at = request.query.get("at")
        return web.json(own_share(datetime.fromisoformat(at) if at else clock()))

    peers_client = httpx.AsyncClient(timeout=3.0)

    async def close(sender: Any, /, *args: Any, signal: Any, **kwargs: Any) -> None:
        """Faust is stopping: every batch's changelog write was awaited, so just close."""
        await changelog.stop()
        await peers_client.aclose()

    app.on_before_shutdown.connect(close)

    @app.page("/v1/counters")
    async def counters_view(web: Any, request: Any) -> Any:
        at = clock()
        mine = settings.advertised_url.rstrip("/")
        peers = {str(url).rstrip("/") for url in app.assignor.tables_metadata()} - {mine}
        try:
            shares = [own_share(at), *await fetch_shares(peers_client, sorted(peers), at)]
            figures = merge(shares, PARTITIONS)
        except Incomplete as error:
            problem = {
                "type": "about:blank",
                "title": "Counters are being rebalanced between workers",
                "status": 503,
                "detail": str(error),
            }
            return web.json(
                problem,
                status=503,
                headers={"Retry-After": "1"},
                content_type="application/problem+json",
            )
        return web.json(report(figures, at))

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


def _count(app: faust.App, name: str, source: Any, counting: Counting) -> None:
    async def count(stream: Any) -> None:
        async for events in stream.take_events(BATCH, within=BATCH_WINDOW):
            async with counting.applying:
                await handle_batch(events, counting)

    count.__name__ = name.replace("-", "_")
    app.agent(source, name=name)(count)


def _rewinder(app: faust.App, topic: str) -> Callable[[int, int], Awaitable[None]]:
    async def rewind(partition: int, offset: int) -> None:
        await app.consumer.seek(TP(topic, partition), offset)

    return rewind


def _rebuilder(app: faust.App, topic: str, counting: Counting) -> Callable[[], Any]:
    async def rebuilt() -> None:
        """Faust finished recovering this worker's partitions: re-sum them, and make the
        group's offsets the table's markers, which Faust seeks to right after this."""
        resume = counting.rebuild(
            tp.partition for tp in app.consumer.assignment() if tp.topic == topic
        )
        if resume:  # Faust's own commit() would commit what it acknowledged instead
            consumer: Any = app.consumer
            await consumer._commit({TP(topic, p): offset for p, offset in resume.items()})

    return rebuilt


def run() -> None:
    """`minsheng-analytics` runs a worker; `minsheng-analytics rebuild ...` a rebuild."""
    if sys.argv[1:2] == ["rebuild"]:
        from analytics.rebuild import main

        sys.exit(main(sys.argv[2:]))
    settings = AnalyticsSettings()
    asyncio.run(prepare_topics(settings, [table for _, _, table, _, _ in TABLES]))
    app = build(settings, clock_for(settings.demo_clock_file))
    worker = faust.Worker(
        app,
        loglevel=settings.log_level.lower(),
        quiet=True,
        logging_config=logging_config("analytics", settings.log_level, settings.log_format),
    )
    worker.execute_from_commandline()
