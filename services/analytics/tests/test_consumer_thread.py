"""The worker's Kafka consumer, as Faust builds it: fetches the broker may hold only
briefly (Faust's own 1,500 ms kept a worker that had caught up a second and a half
behind a steady load)."""

from __future__ import annotations

from pathlib import Path

from analytics.app import FETCH_MAX_WAIT_MS, AnalyticsSettings, PromptConsumerThread, create_app


async def test_the_workers_fetches_are_held_briefly(tmp_path: Path) -> None:
    settings = AnalyticsSettings(data_dir=tmp_path, kafka_username="analytics", kafka_password="x")
    app = create_app(settings)
    thread = app.consumer._thread  # type: ignore[attr-defined]  # Faust's consumer thread
    assert isinstance(thread, PromptConsumerThread)
    consumer = thread._create_worker_consumer(app.transport)
    assert consumer._fetch_max_wait_ms == FETCH_MAX_WAIT_MS
    assert FETCH_MAX_WAIT_MS <= 100
