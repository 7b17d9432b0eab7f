"""Analytics against the real broker: a random workload with duplicates, published
straight to the domain topics, is counted exactly on /metrics and /v1/counters, what
does not belong on the projects or notifications topic is dead-lettered without being
counted, and the overdue gauge moves when a deadline passes with no event at all; bad
requests are answered with problem documents."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from analytics.app import PARTITIONS
from minsheng.events import CONTENT_TYPE, AppealReceived, CloudEvent
from minsheng.platform.kafka import KafkaBroker
from minsheng.platform.services import ServiceProcess
from minsheng.topics import APPEALS, NOTIFICATIONS, OWNERS, PROJECTS, dlq
from testkit.e2e.analytics import publish
from testkit.integration.helpers import eventually, free_port, read_topic
from testkit.unit.counters import Samples, expected_counters, metric_samples
from testkit.unit.events import domain_event, forged, sample
from testkit.unit.workload import topic_of, with_redeliveries, workload

pytestmark = pytest.mark.e2e
DUE_IN = timedelta(seconds=4)


def due_soon(deadline: datetime) -> CloudEvent:
    data = AppealReceived(
        appeal_id="A-due-soon",
        title="井盖缺失",
        category="complaint",
        district="洮北区",
        channel="app",
        received_at=datetime.now(UTC),
        deadline=deadline,
    )
    return domain_event(data)


async def test_a_random_workload_with_duplicates_is_counted_exactly(
    private_kafka: KafkaBroker, tmp_path: Path
) -> None:
    env = {
        **private_kafka.access("analytics").env(),
        "MINSHENG_DATA_DIR": str(tmp_path / "data"),
    }
    analytics = ServiceProcess("analytics", free_port(), env, log_file=tmp_path / "analytics.log")
    await analytics.start()
    try:
        w = workload(seed=11, appeals=150, projects=60, now=datetime.now(UTC), notifications=40)
        deliveries = with_redeliveries(random.Random(5), w.events, p=0.2)
        assert len(deliveries) > len(w.events)
        appeal = next(e for e in w.events if topic_of(e) == APPEALS)
        # an appeal event under the right owner's source, on a topic it does not belong on
        misplaced = {
            t: appeal.model_copy(update={"source": OWNERS[t]}) for t in (PROJECTS, NOTIFICATIONS)
        }
        forged_appeal = forged(sample(AppealReceived).model_copy(update={"appeal_id": "A-x"}))
        producer = private_kafka.access().producer(acks="all", enable_idempotence=True)
        await producer.start()
        try:
            for event in deliveries:
                await producer.send(
                    topic_of(event),
                    event.to_json(),
                    key=event.key,
                    headers=[("content-type", CONTENT_TYPE.encode())],
                )
            await producer.send(PROJECTS, b"\x00not an event", key=b"P-bad")
            for topic in (PROJECTS, NOTIFICATIONS):
                await producer.send(topic, misplaced[topic].to_json(), key=appeal.key)
            await producer.send(APPEALS, forged_appeal.to_json(), key=forged_appeal.key)
            await producer.flush()
        finally:
            await producer.stop()
        letters = await read_topic(private_kafka.access(), dlq(PROJECTS), expect=2)
        assert sorted(dict(r.headers)["dlq.reason"] for r in letters) == [b"bad_json", b"rejected"]
        letters = await read_topic(private_kafka.access(), dlq(NOTIFICATIONS), expect=1)
        assert dict(letters[0].headers)["dlq.reason"] == b"rejected"
        # a new appeal, but not from the appeals service: no counter may move (exact below)
        letters = await read_topic(private_kafka.access(), dlq(APPEALS), expect=1)
        assert dict(letters[0].headers)["dlq.reason"] == b"foreign_source"
        assert dict(letters[0].headers)["dlq.service"] == b"analytics"

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
            for path, status in (("/v1/counters/share?at=yesterday", 400), ("/v1/none", 404)):
                response = await client.get(path)
                assert response.status_code == status, path
                assert response.headers["content-type"].startswith("application/problem+json")
                assert response.json()["status"] == status
                assert response.json()["instance"] == path.partition("?")[0]

            async def lags() -> dict[tuple[str, str], float]:
                text = (await client.get("/metrics")).text
                return {
                    (s.labels["topic"], s.labels["partition"]): s.value
                    for family in text_string_to_metric_families(text)
                    for s in family.samples
                    if s.name == "minsheng_consumer_lag"
                }

            await eventually(  # every partition of the three topics, nothing left to fold
                lags,
                lambda found: len(found) == 3 * PARTITIONS and not any(found.values()),
                what="no lag on any partition",
            )

            # one more appeal, due in a few seconds: overdue later, with no further event
            due = datetime.now(UTC) + DUE_IN
            await publish(private_kafka.access(), [due_soon(due)])
            counted = await eventually(
                counters,
                lambda c: c["city"]["received"] == len(w.appeals) + 1,
                what="the appeal due soon counted",
            )
            if datetime.now(UTC) < due:  # else this run was too slow to see it before
                assert counted["city"]["overdue"] == expected_counters(w)["city"]["overdue"]
            overdue = await eventually(
                counters,
                lambda c: c["city"]["overdue"] == expected_counters(w)["city"]["overdue"] + 1,
                timeout=DUE_IN.total_seconds() + 30,
                what="overdue once its deadline passed",
            )
            assert datetime.now(UTC) >= due
            assert overdue["city"]["received"] == len(w.appeals) + 1  # no event in between
    finally:
        await analytics.stop()
