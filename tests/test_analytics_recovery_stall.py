"""A table recovery that cannot finish makes the analytics worker exit, to be restarted.

Provoked for real: a committed transaction on a changelog partition leaves a transaction
marker as its last offset. Faust's recovery waits for the offset before the highwater,
which is that marker, and a consumer is never handed a marker: without the watchdog the
worker would stay in recovery, not ready, for good."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from analytics.app import AnalyticsSettings, changelog_topic, prepare_topics
from analytics.tables import TABLES
from analytics.watchdog import EXIT_STALLED
from minsheng.platform.kafka import KafkaBroker
from minsheng.platform.services import ServiceProcess
from testkit.integration.helpers import free_port

pytestmark = pytest.mark.e2e


async def test_a_recovery_stuck_on_a_transaction_marker_ends_the_worker(
    private_kafka: KafkaBroker, tmp_path: Path
) -> None:
    settings = AnalyticsSettings(**private_kafka.access("analytics").settings())
    await prepare_topics(settings, [table for _, _, table, _, _ in TABLES])
    producer = private_kafka.access().producer(transactional_id="stall-probe")
    await producer.start()
    try:
        async with producer.transaction():
            # a tombstone of a state nobody holds: harmless, but followed by a marker
            topic = changelog_topic(settings, "appeal-state")
            await producer.send(topic, None, key=b'"probe"', partition=0)
    finally:
        await producer.stop()

    port = free_port()
    env = {
        **private_kafka.access("analytics").env(),
        "MINSHENG_DATA_DIR": str(tmp_path / "data"),
        "MINSHENG_ANALYTICS_ADVERTISED_URL": f"http://127.0.0.1:{port}",
        "MINSHENG_ANALYTICS_RECOVERY_STALL_SECONDS": "5",
    }
    log = tmp_path / "analytics.log"
    worker = ServiceProcess("analytics", port, env, log_file=log)
    await worker.process.start()
    try:
        code = await asyncio.wait_for(worker.process.wait(), timeout=120)
    finally:
        await worker.stop()
    text = log.read_text(errors="replace")
    assert code == EXIT_STALLED, text[-3000:]
    assert "table recovery made no progress" in text
    assert f"{topic}[0]" in text  # the partition it was stuck on, named
