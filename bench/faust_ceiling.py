"""The ceiling Faust itself sets: a worker with the analytics app's settings and agents
that take the same batches from the same topics and do nothing with them but count.

    MINSHENG_KAFKA_BOOTSTRAP=... MINSHENG_HTTP_PORT=... python bench/faust_ceiling.py

(and MINSHENG_KAFKA_USERNAME and MINSHENG_KAFKA_PASSWORD, as every Kafka client).

`GET /count` answers how many events its agents have taken. analytics_throughput.py runs
it beside the analytics worker, so the cost of our own work per event shows apart from
the cost of Faust's per-message path, which no analytics worker can go below.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import faust

from analytics.app import AnalyticsSettings, create_app, raw_topic
from analytics.consumers import BATCH, BATCH_WINDOW
from analytics.tables import TABLES


def build(settings: AnalyticsSettings) -> faust.App:
    app = create_app(settings)
    taken = {"events": 0}

    def counter(name: str) -> Any:
        async def count(stream: Any) -> None:
            async for events in stream.take_events(BATCH, within=BATCH_WINDOW):
                taken["events"] += len(events)

        count.__name__ = f"ceiling_{name}"
        return count

    for name, topic, _, _, _ in TABLES:
        app.agent(raw_topic(app, topic), name=f"ceiling-{name}")(counter(name))

    @app.page("/count")
    async def count_view(web: Any, request: Any) -> Any:
        return web.json(taken)

    @app.page("/readyz")
    async def readyz_view(web: Any, request: Any) -> Any:
        return web.json({"ready": True})

    return app


def main() -> None:
    worker = faust.Worker(build(AnalyticsSettings()), loglevel="warning", quiet=True)
    worker.execute_from_commandline()


if __name__ == "__main__":
    main()
