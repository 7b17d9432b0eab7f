"""Wiring of the analytics worker: tables, agents, timers, web views, entry point."""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime
from typing import Any

import faust
import httpx
from prometheus_client import REGISTRY

from analytics.aggregate import Aggregate, no_deadline
from analytics.api import Clock, install_views, local_figures
from analytics.app import (
    PARTITIONS,
    AnalyticsSettings,
    create_app,
    prepare_topics,
    source_and_dlq,
)
from analytics.appeal_counting import deadline_of, figures_key
from analytics.changelog import ChangelogWriter
from analytics.collector import FiguresCollector, StatesCollector
from analytics.consumers import (
    Counting,
    count_agent,
    rebuilder,
    rewinder,
    settle,
    stop_writing,
)
from analytics.lag import exporter as lag_exporter
from analytics.lights import ThresholdsError, load_thresholds
from analytics.projects_topic import topic_deadlines
from analytics.tables import TABLES
from analytics.watchdog import install as install_watchdog
from analytics.windows import expired_window
from minsheng.clock import clock_for
from minsheng.logs import logging_config

DEADLINES = {"appeals": deadline_of, "projects": topic_deadlines}  # gauges moved by the clock
FIGURES_KEYS = {"appeals": figures_key}  # figures re-summed once per shape (aggregate.Resum)


def now() -> datetime:
    return datetime.now(UTC)


def build(settings: AnalyticsSettings, clock: Clock = now) -> faust.App:
    """The worker's app; `clock` decides what is overdue and which day is "today".
    Raises ThresholdsError for a bad traffic-lights file, before anything starts."""
    thresholds = load_thresholds(settings.analytics_lights_file)
    app = create_app(settings)
    changelog = ChangelogWriter(settings.kafka)

    @app.on_partitions_revoked.connect
    async def revoked(sender: Any, /, *args: Any, **kwargs: Any) -> None:
        await settle(countings.values())

    countings: dict[str, Counting] = {}
    for name, topic, table_name, apply, figures_of in TABLES:
        source, dead_letters = source_and_dlq(app, topic)
        table = app.Table(
            table_name,
            default=None,
            partitions=PARTITIONS,
            options={"kafka": settings.kafka},
            value_type=bytes,  # raw: compact states (state_codec.py), the store decodes
        )
        aggregate = Aggregate(figures_of, DEADLINES.get(name, no_deadline), FIGURES_KEYS.get(name))
        countings[name] = counting = Counting(
            table, aggregate, apply, dead_letters, changelog, rewinder(app, topic)
        )
        count_agent(app, f"count-{name}", source, counting)
        table.on_recover(rebuilder(app, topic, counting))

    REGISTRY.register(FiguresCollector(lambda: local_figures(countings, clock())))
    REGISTRY.register(
        StatesCollector(lambda: {c.table.name: c.states_held() for c in countings.values()})
    )

    async def expire_windows() -> None:
        """Tumbling windows expire: drop those older than windows.EXPIRES."""
        countings["appeals"].aggregate.drop(expired_window(clock()))

    app.timer(interval=600.0)(expire_windows)

    def recovered() -> tuple[tuple[int, int], ...]:
        """Records the stores read in bulk, states re-summed: a recovery's progress too."""
        return tuple((getattr(c.table.data, "read", 0), c.resummed) for c in countings.values())

    install_watchdog(app, settings.analytics_recovery_stall_seconds, more=recovered)
    lag_exporter(app, {topic: countings[name].gate for name, topic, *_ in TABLES}, "analytics")

    peers = httpx.AsyncClient(timeout=3.0)
    install_views(app, settings, clock, countings, peers, thresholds)

    async def close(sender: Any, /, *args: Any, signal: Any, **kwargs: Any) -> None:
        """Faust is stopping; its agents stop only after this signal."""
        await stop_writing(countings.values(), changelog)
        await peers.aclose()

    app.on_before_shutdown.connect(close)
    return app


def run() -> None:
    """`minsheng-analytics`: a worker (the console script is `analytics.command`)."""
    settings = AnalyticsSettings()
    try:
        load_thresholds(settings.analytics_lights_file)
    except ThresholdsError as error:
        sys.exit(f"minsheng-analytics: {error}")
    asyncio.run(prepare_topics(settings, [table for _, _, table, _, _ in TABLES]))
    app = build(settings, clock_for(settings.demo_clock_file))
    worker = faust.Worker(
        app,
        loglevel=settings.log_level.lower(),
        quiet=True,
        logging_config=logging_config("analytics", settings.log_level, settings.log_format),
    )
    worker.execute_from_commandline()
