"""The platform on loopback for end-to-end tests and benchmarks: a private Kafka broker,
the topics, and the services as real processes (what `make up` runs), given a PostgreSQL
server by URL (the tests share one server; a benchmark starts its own).

    async with Stack(folder, postgres.url) as stack:
        await stack.wait_ready()
        await stack.post_all(random_appeals(10, seed=1))
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections import Counter
from functools import partial
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol, Self

import httpx
from prometheus_client.parser import text_string_to_metric_families

from minsheng.kafka import KafkaAccess
from minsheng.platform.kafka import Kafka, KafkaBroker
from minsheng.platform.services import ServiceProcess
from minsheng.reference import categories, places
from minsheng.topics import ensure_topics
from testkit.integration.cluster import on_free_ports
from testkit.integration.helpers import eventually, free_port

DEFAULT_KEY = "e2e-operator-key"
CHANNELS = ("hotline", "app", "web", "window", "grid")


class Brokers(Protocol):
    """Where the platform's Kafka is (one broker or a cluster): each principal's access."""

    def access(self, user: str = ...) -> KafkaAccess: ...


class Stack:
    """Kafka in `folder/kafka`, logs in `folder/*.log`, the services on free ports."""

    def __init__(
        self,
        folder: Path,
        database_url: str,
        *,
        api_key: str = DEFAULT_KEY,
        outbox_poll_interval: float = 0.5,
        env: dict[str, str] | None = None,
        also: tuple[str, ...] = (),
        brokers: int = 1,
        kafka: Brokers | None = None,
    ) -> None:
        """`env` adds settings for every service; `also` names services beyond appeals and
        analytics to run (`stack.others[name]`); `brokers` > 1 runs a Kafka cluster;
        `kafka`, a running broker or cluster with its topics, instead of one the stack
        starts and stops."""
        self.folder = folder
        self.api_key = api_key
        self.own_broker: Kafka | None = (
            None
            if kafka is not None
            else KafkaBroker(
                folder / "kafka",
                port=free_port(),
                controller_port=free_port(),
                log_file=folder / "kafka.log",
            )
            if brokers == 1
            else on_free_ports(folder / "kafka", brokers)
        )
        self.brokers: Brokers = kafka or self.kafka
        self.env = {
            "MINSHENG_DATABASE_URL": database_url,
            "MINSHENG_DATABASE_SUFFIX": f"_{uuid.uuid4().hex[:8]}",
            "MINSHENG_DEV_API_KEY": api_key,
            "MINSHENG_DATA_DIR": str(folder / "data"),
            "MINSHENG_OUTBOX_POLL_INTERVAL": str(outbox_poll_interval),
            **(env or {}),
        }
        self.appeals = self.service("appeals")
        self.analytics = self.service("analytics")
        self.others = {name: self.service(name) for name in also}

    @property
    def kafka(self) -> Kafka:
        """The stack's own broker or cluster (none when it was given one)."""
        assert self.own_broker is not None, "this stack runs on a broker it was given"
        return self.own_broker

    def service(self, name: str) -> ServiceProcess:
        """A new, unstarted process of one service (also for restarts after a kill)."""
        return ServiceProcess(
            name, free_port(), self.env_for(name), log_file=self.folder / f"{name}.log"
        )

    def env_for(self, name: str) -> dict[str, str]:
        """The settings of a service's process: each connects as its own principal."""
        return {**self.env, **self.brokers.access(name).env()}

    @property
    def services(self) -> list[ServiceProcess]:
        return [self.appeals, self.analytics, *self.others.values()]

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}

    async def start(self) -> None:
        """Broker, topics, then the services; on failure stops what it started."""
        try:
            if self.own_broker is not None:
                await self.own_broker.start()
                await ensure_topics(self.own_broker.access())
            await asyncio.gather(*(s.start() for s in self.services))
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        await asyncio.gather(*(s.stop() for s in self.services), return_exceptions=True)
        if self.own_broker is not None:
            await self.own_broker.stop()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def wait_ready(self, timeout: float = 60.0) -> None:
        """Until every service's /readyz says so (analytics: partitions assigned)."""
        async with httpx.AsyncClient(timeout=5) as client:
            for service in self.services:
                await eventually(
                    partial(client.get, f"{service.url}/readyz"),
                    lambda r: r.status_code == 200,
                    timeout=timeout,
                    interval=0.2,
                    what=f"{service.name} ready",
                )

    async def post_all(self, appeals: list[dict[str, str]]) -> list[httpx.Response]:
        """POSTs every appeal at once (up to 20 connections)."""
        limits = httpx.Limits(max_connections=20)
        async with httpx.AsyncClient(
            base_url=self.appeals.url, headers=self.headers, limits=limits
        ) as client:
            return list(
                await asyncio.gather(*(client.post("/v1/appeals", json=a) for a in appeals))
            )

    async def produce_raw(self, topic: str, value: bytes, key: bytes) -> None:
        """One message as it is, acknowledged: poison for a consumer, say."""
        producer = self.brokers.access().producer(acks="all")
        await producer.start()
        try:
            await producer.send_and_wait(topic, value, key=key)
        finally:
            await producer.stop()

    async def counters(self) -> dict[str, Any]:
        async with httpx.AsyncClient(timeout=5) as client:
            return dict((await client.get(f"{self.analytics.url}/v1/counters")).json())

    async def received_metric(self) -> Counter[tuple[str, str, str]]:
        """minsheng_appeals_received_total by (district, category, channel)."""
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


def random_appeals(n: int, seed: int) -> list[dict[str, str]]:
    """Valid POST /v1/appeals bodies over the real districts and categories."""
    rnd = random.Random(seed)
    districts, codes = list(places().districts), list(categories())
    return [
        {
            "title": f"诉求 {i}",
            "category": rnd.choice(codes),
            "district": rnd.choice(districts),
            "channel": rnd.choice(CHANNELS),
        }
        for i in range(n)
    ]
