"""End to end, services as real processes: HTTP 201 -> outbox -> Kafka -> Faust -> counter."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from minsheng.platform.kafka import KafkaBroker
from minsheng.platform.postgres import PostgresServer
from minsheng.platform.services import ServiceProcess
from minsheng.reference import categories, places
from minsheng.testing.helpers import eventually, free_port
from minsheng.topics import ensure_topics

pytestmark = pytest.mark.e2e

KEY = "e2e-operator-key"


class Stack:
    def __init__(self, folder: Path, postgres: PostgresServer) -> None:
        self.folder = folder
        self.kafka = KafkaBroker(
            folder / "kafka",
            port=free_port(),
            controller_port=free_port(),
            log_file=folder / "kafka.log",
        )
        self.env = {
            "MINSHENG_KAFKA_BOOTSTRAP": self.kafka.bootstrap,
            "MINSHENG_DATABASE_URL": postgres.url,
            "MINSHENG_DATABASE_SUFFIX": f"_{uuid.uuid4().hex[:8]}",
            "MINSHENG_DEV_API_KEY": KEY,
            "MINSHENG_DATA_DIR": str(folder / "data"),
            "MINSHENG_OUTBOX_POLL_INTERVAL": "0.5",
        }
        self.appeals = self.service("appeals")
        self.analytics = self.service("analytics")

    def service(self, name: str) -> ServiceProcess:
        return ServiceProcess(name, free_port(), self.env, log_file=self.folder / f"{name}.log")

    async def counters(self) -> dict[str, Any]:
        async with httpx.AsyncClient(timeout=5) as client:
            return dict((await client.get(f"{self.analytics.url}/v1/counters")).json())

    async def received_metric(self) -> Counter[tuple[str, str, str]]:
        async with httpx.AsyncClient(timeout=5) as client:
            text = (await client.get(f"{self.analytics.url}/metrics")).text
        found: Counter[tuple[str, str, str]] = Counter()
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == "minsheng_appeals_received_total":
                    labels = sample.labels
                    found[(labels["district"], labels["category"], labels["channel"])] = int(
                        sample.value
                    )
        return found


@pytest.fixture(scope="module")
async def stack(
    tmp_path_factory: pytest.TempPathFactory, postgres: PostgresServer
) -> AsyncIterator[Stack]:
    s = Stack(tmp_path_factory.mktemp("e2e"), postgres)
    await s.kafka.start()
    await ensure_topics(s.kafka.bootstrap)
    try:
        await asyncio.gather(s.appeals.start(), s.analytics.start())
        yield s
    finally:
        await asyncio.gather(s.appeals.stop(), s.analytics.stop(), return_exceptions=True)
        await s.kafka.stop()


def random_appeals(n: int, seed: int) -> list[dict[str, str]]:
    rnd = random.Random(seed)
    districts, codes = list(places().districts), list(categories())
    channels = ["hotline", "app", "web", "window", "grid"]
    return [
        {
            "title": f"诉求 {i}",
            "category": rnd.choice(codes),
            "district": rnd.choice(districts),
            "channel": rnd.choice(channels),
        }
        for i in range(n)
    ]


async def post_all(stack: Stack, appeals: list[dict[str, str]]) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=20)
    headers = {"Authorization": f"Bearer {KEY}"}
    async with httpx.AsyncClient(base_url=stack.appeals.url, headers=headers, limits=limits) as c:
        return list(await asyncio.gather(*(c.post("/v1/appeals", json=a) for a in appeals)))


def expected(appeals: list[dict[str, str]]) -> Counter[tuple[str, str, str]]:
    return Counter((a["district"], a["category"], a["channel"]) for a in appeals)


async def test_200_appeals_are_counted_exactly_and_survive_a_kill_9(stack: Stack) -> None:
    appeals = random_appeals(200, seed=7)
    responses = await post_all(stack, appeals)
    assert [r.status_code for r in responses].count(201) == 200

    counters = await eventually(
        stack.counters,
        lambda c: c["city"]["received"] == 200,
        timeout=30,
        what="200 appeals counted",
    )
    per_district = Counter(a["district"] for a in appeals)
    assert {d: v["received"] for d, v in counters["districts"].items()} == per_district
    assert await stack.received_metric() == expected(appeals)

    stack.analytics.kill()  # SIGKILL: no clean shutdown, no final commit
    await stack.analytics.process.wait()
    stack.analytics = stack.service("analytics")
    await stack.analytics.start()
    await eventually(
        stack.received_metric,
        lambda m: m == expected(appeals),
        timeout=60,
        what="counters restored after kill -9",
    )

    more = random_appeals(50, seed=8)
    assert [r.status_code for r in await post_all(stack, more)].count(201) == 50
    await eventually(
        stack.received_metric,
        lambda m: m == expected(appeals + more),
        timeout=30,
        what="counting goes on after the restart",
    )


async def test_a_poison_event_on_the_appeals_topic_is_dead_lettered_and_counting_goes_on(
    stack: Stack,
) -> None:
    from aiokafka import AIOKafkaProducer

    from minsheng.testing.helpers import read_topic
    from minsheng.topics import APPEALS, dlq

    before = sum((await stack.received_metric()).values())
    producer = AIOKafkaProducer(bootstrap_servers=stack.kafka.bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(APPEALS, b"\x00not an event", key=b"X1")
    finally:
        await producer.stop()
    letters = await read_topic(stack.kafka.bootstrap, dlq(APPEALS), expect=1)
    headers = dict(letters[0].headers)
    assert headers["dlq.reason"] == b"bad_json"
    assert headers["dlq.service"] == b"analytics"
    assert letters[0].value == b"\x00not an event"

    assert [r.status_code for r in await post_all(stack, random_appeals(5, seed=9))] == [201] * 5
    await eventually(
        stack.received_metric,
        lambda m: sum(m.values()) == before + 5,
        what="counting goes on after the poison message",
    )
