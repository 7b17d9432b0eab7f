"""Analytics against the real broker: a random workload with duplicates, published
straight to the domain topics, is counted exactly on /metrics and /v1/counters, and what
does not belong on the projects topic is dead-lettered without being counted."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from prometheus_client.parser import text_string_to_metric_families

from analytics.tests.workload import (
    Samples,
    expected_counters,
    is_project,
    metric_samples,
    with_redeliveries,
    workload,
)
from minsheng.events import CONTENT_TYPE
from minsheng.platform.kafka import KafkaBroker
from minsheng.platform.services import ServiceProcess
from minsheng.testing.helpers import eventually, free_port, read_topic
from minsheng.topics import APPEALS, PROJECTS, dlq

pytestmark = pytest.mark.e2e


async def test_a_random_workload_with_duplicates_is_counted_exactly(
    private_kafka: KafkaBroker, tmp_path: Path
) -> None:
    env = {
        "MINSHENG_KAFKA_BOOTSTRAP": private_kafka.bootstrap,
        "MINSHENG_DATA_DIR": str(tmp_path / "data"),
    }
    analytics = ServiceProcess("analytics", free_port(), env, log_file=tmp_path / "analytics.log")
    await analytics.start()
    try:
        w = workload(seed=11, appeals=150, projects=60, now=datetime.now(UTC))
        deliveries = with_redeliveries(random.Random(5), w.events, p=0.2)
        assert len(deliveries) > len(w.events)
        misplaced = next(e for e in w.events if not is_project(e))  # an appeal event
        producer = AIOKafkaProducer(
            bootstrap_servers=private_kafka.bootstrap, acks="all", enable_idempotence=True
        )
        await producer.start()
        try:
            for event in deliveries:
                await producer.send(
                    PROJECTS if is_project(event) else APPEALS,
                    event.to_json(),
                    key=event.key,
                    headers=[("content-type", CONTENT_TYPE.encode())],
                )
            await producer.send(PROJECTS, b"\x00not an event", key=b"P-bad")
            await producer.send(PROJECTS, misplaced.to_json(), key=misplaced.key)
            await producer.flush()
        finally:
            await producer.stop()
        letters = await read_topic(private_kafka.bootstrap, dlq(PROJECTS), expect=2)
        assert sorted(dict(r.headers)["dlq.reason"] for r in letters) == [b"bad_json", b"rejected"]

        async with httpx.AsyncClient(base_url=analytics.url, timeout=5) as client:

            async def scrape() -> Samples:
                text = (await client.get("/metrics")).text
                return metric_samples(text_string_to_metric_families(text))

            async def counters() -> dict[str, Any]:
                body: dict[str, Any] = (await client.get("/v1/counters")).json()
                body.pop("as_of", None)
                return body

            await eventually(scrape, lambda m: m == w.metrics, timeout=60, what="exact metrics")
            assert await counters() == expected_counters(w)
    finally:
        await analytics.stop()
