"""A committed transaction on a changelog partition leaves a transaction marker as its
last offset. Faust's own recovery waited for the offset before the highwater, which is
that marker, and a consumer is never handed a marker: the worker stayed in recovery for
good, until the watchdog ended it. The tables' store reads a partition in bulk up to its
end offset, whatever the last record is, and tells Faust it holds it up to there
(analytics/state_store.py): the worker is ready, and the watchdog does not fire."""

from __future__ import annotations

from pathlib import Path

import pytest

from analytics.app import AnalyticsSettings, changelog_topic, prepare_topics
from analytics.tables import TABLES
from minsheng.platform.kafka import KafkaBroker
from minsheng.platform.services import ServiceProcess
from testkit.integration.helpers import free_port

pytestmark = pytest.mark.e2e


async def test_a_transaction_marker_as_a_changelogs_last_offset_does_not_stop_recovery(
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
    try:
        await worker.start()  # waits for /readyz (or fails): the recovery finished
        assert worker.process.running
        assert "table recovery made no progress" not in log.read_text(errors="replace")
    finally:
        await worker.stop()
