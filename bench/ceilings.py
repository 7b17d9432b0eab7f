"""The raw ceilings the benchmarks are a ratio to, measured on the same machine in the
same run: plain Kafka produce -> consume, and plain single-row PostgreSQL INSERTs."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from aiokafka import TopicPartition

from bench.figures import ms, open_loop, per_second, progress, summarize, ticking
from minsheng.kafka import KafkaAccess
from minsheng.topics import APPEALS, TopicSpec, ensure_topics, load_specs
from testkit.e2e.stack import random_appeals
from testkit.integration.helpers import eventually

SEED = 2025  # the appeals the INSERTs store, as the intake benchmark's
RAW_DATABASE = "bench_raw"
RAW_TABLE = """
CREATE TABLE appeals_raw (
    id          text PRIMARY KEY,
    status      text        NOT NULL,
    title       text        NOT NULL,
    category    text        NOT NULL,
    district    text        NOT NULL,
    channel     text        NOT NULL,
    contact_ref text        NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX appeals_raw_received_at ON appeals_raw (received_at, id);
"""
RAW_INSERT = (
    "INSERT INTO appeals_raw (id, status, title, category, district, channel, contact_ref)"
    " VALUES ($1, 'received', $2, $3, $4, $5, $6)"
)


async def kafka_ceiling(
    kafka: KafkaAccess, *, messages: int, rate: float, warmup: int, drain_timeout: float
) -> dict[str, Any]:
    """aiokafka produce (acks=all) -> consume on a scratch topic: `messages` small messages
    on the open-loop schedule at `rate`, after `warmup` left out."""
    partitions = next(s.partitions for s in load_specs() if s.name == APPEALS)
    topic = f"bench.raw.{uuid.uuid4().hex[:8]}"
    await ensure_topics(kafka, [TopicSpec(topic, partitions, 1, {})])
    producer = kafka.producer(acks="all", enable_idempotence=True, linger_ms=0)
    consumer = kafka.consumer(enable_auto_commit=False, auto_offset_reset="earliest")
    sent: dict[str, float] = {}
    received: dict[str, float] = {}

    async def consume() -> None:
        async for message in consumer:
            received[message.value.decode()] = time.perf_counter()

    async def send(name: str) -> None:
        sent[name] = time.perf_counter()
        await (await producer.send(topic, name.encode(), key=name.encode()))

    async def arrived(names: Sequence[str]) -> None:
        async def count() -> int:
            if reader.done():
                reader.result()  # re-raises what stopped the consumer
            return sum(1 for name in names if name in received)

        await eventually(
            count,
            lambda c: c == len(names),
            timeout=drain_timeout,
            interval=0.01,
            what=f"{len(names)} raw messages consumed",
        )

    await producer.start()
    await consumer.start()
    consumer.assign([TopicPartition(topic, p) for p in range(partitions)])
    reader = asyncio.create_task(consume())
    try:
        warm = [f"w{i}" for i in range(warmup)]
        for name in warm:
            await send(name)
        await arrived(warm)

        names = [str(i) for i in range(messages)]

        def status() -> tuple[int, str]:
            return len(sent) - len(warm), f"{len(received) - len(warm)} consumed"

        async with progress("raw", messages, status):
            pacing = await open_loop(messages, rate, lambda i: send(names[i]))
            await arrived(names)
    finally:
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader
        await consumer.stop()
        await producer.stop()
    latencies = ms([received[n] - sent[n] for n in names])
    return {
        "topic_partitions": partitions,
        "sent": len(names),
        "received": len(names),
        "pacing": asdict(pacing),
        "latency_ms": summarize(latencies),
        "samples_ms": latencies,
    }


async def insert_ceiling(
    server_url: str, *, concurrency: int, warmup: int, duration: float
) -> dict[str, Any]:
    """Single-row INSERTs, autocommit, by `concurrency` connections in a closed loop for
    `duration` seconds into an `appeals`-like table of a scratch database."""
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {RAW_DATABASE}")
        await admin.execute(f"CREATE DATABASE {RAW_DATABASE}")
    finally:
        await admin.close()
    url = urlunsplit(urlsplit(server_url)._replace(path=f"/{RAW_DATABASE}"))
    setup = await asyncpg.connect(url)
    try:
        await setup.execute(RAW_TABLE)
    finally:
        await setup.close()

    bodies = random_appeals(1000, seed=SEED)
    latencies: list[float] = []
    connections = [await asyncpg.connect(url) for _ in range(concurrency)]

    async def insert(conn: asyncpg.Connection[Any], i: int) -> None:
        body = bodies[i % len(bodies)]
        await conn.execute(
            RAW_INSERT,
            uuid.uuid4().hex,
            body["title"],
            body["category"],
            body["district"],
            body["channel"],
            f"c-{uuid.uuid4().hex[:12]}",
        )

    async def worker(w: int, conn: asyncpg.Connection[Any], deadline: float) -> None:
        i = w
        while time.perf_counter() < deadline:
            sent = time.perf_counter()
            await insert(conn, i)
            latencies.append(time.perf_counter() - sent)
            i += concurrency

    try:
        for w, conn in enumerate(connections):  # warm-up, left out
            for i in range(max(warmup // concurrency, 1)):
                await insert(conn, w + i)
        start = time.perf_counter()
        deadline = start + duration
        async with ticking("raw", duration, lambda: f"{len(latencies)} rows"):
            await asyncio.gather(*(worker(w, c, deadline) for w, c in enumerate(connections)))
        elapsed = time.perf_counter() - start
    finally:
        await asyncio.gather(*(c.close() for c in connections), return_exceptions=True)
    return {
        "rows": len(latencies),
        "seconds": round(elapsed, 3),
        "rows_per_s": per_second(len(latencies), elapsed),
        "insert_ms": summarize(ms(latencies)),
    }
