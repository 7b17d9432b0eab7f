"""The outbox and its relay against the real broker and database."""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict

import asyncpg
import pytest

from minsheng import metrics, outbox
from minsheng.consumer import EventConsumer
from minsheng.db import Conn, open_database
from minsheng.events import CATALOGUE, ParsedEvent
from minsheng.platform.kafka import KafkaBroker
from minsheng.relay import OutboxRelay
from testkit.integration.helpers import Records, eventually, read_topic
from testkit.unit.events import sample_appeal_event

pytestmark = pytest.mark.integration


class RelayCrashed(Exception):
    pass


class CrashAfterPublish(OutboxRelay):
    """Dies after Kafka acknowledged the batch and before the rows are marked."""

    async def mark_published(self, conn: Conn, ids: object) -> None:
        raise RelayCrashed


async def append_events(pool: asyncpg.Pool, topic: str, subject: str, sequences: range) -> None:
    async with pool.acquire() as conn:
        for seq in sequences:
            async with conn.transaction():
                await outbox.append(conn, topic, sample_appeal_event(subject, seq))


async def pending(pool: asyncpg.Pool) -> int:
    return int(await pool.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL"))


def relay_for(
    database: str, kafka: KafkaBroker, cls: type[OutboxRelay] = OutboxRelay
) -> OutboxRelay:
    return cls(database, service="test", kafka=kafka.access(), poll_interval=0.2, batch_size=7)


async def test_append_refuses_to_run_outside_a_transaction(database: str) -> None:
    pool = await open_database(database, "test", None)
    async with pool.acquire() as conn:
        with pytest.raises(RuntimeError, match="inside the caller's transaction"):
            await outbox.append(conn, "t", sample_appeal_event("A1", 1))
    await pool.close()


async def test_rolled_back_state_change_publishes_nothing(database: str) -> None:
    pool = await open_database(database, "test", None)
    async with pool.acquire() as conn:
        with contextlib.suppress(ZeroDivisionError):
            async with conn.transaction():
                await outbox.append(conn, "t", sample_appeal_event("A1", 1))
                raise ZeroDivisionError
    assert await pending(pool) == 0
    await pool.close()


async def test_relay_publishes_in_order_and_reports_backlog(
    kafka: KafkaBroker, database: str, fresh_topic: str
) -> None:
    pool = await open_database(database, "test", None)
    await append_events(pool, fresh_topic, "A1", range(1, 21))
    relay = relay_for(database, kafka)
    task = asyncio.create_task(relay.run())
    try:
        records = await read_topic(kafka.access(), fresh_topic, expect=20)
        assert [sequence_of(r.value) for r in records] == list(range(1, 21))
        assert {r.key for r in records} == {b"A1"}
        assert dict(records[0].headers)["content-type"] == b"application/cloudevents+json"
        await eventually(lambda: pending(pool), lambda n: n == 0, what="outbox drained")
        await eventually(
            lambda: _gauge(metrics.OUTBOX_PENDING, "test"), lambda v: v == 0, what="gauge at 0"
        )
    finally:
        task.cancel()
        await pool.close()


async def _gauge(gauge: object, service: str) -> float:
    return float(gauge.labels(service)._value.get())  # type: ignore[attr-defined]


async def test_relay_killed_between_publish_and_mark_publishes_once_applies_once(
    kafka: KafkaBroker, database: str, fresh_topic: str
) -> None:
    pool = await open_database(database, "test", None)
    await pool.execute("CREATE TABLE applied (appeal_id text, sequence int)")
    await append_events(pool, fresh_topic, "A7", range(1, 6))
    crashing = relay_for(database, kafka, CrashAfterPublish)
    async with pool.acquire() as conn:
        with pytest.raises(RelayCrashed):
            await crashing.drain(conn)
    await crashing._close_producer()
    assert await pending(pool) == 5, "nothing may be marked when the relay died before marking"

    await append_events(pool, fresh_topic, "A7", range(6, 8))  # after the crash
    task = asyncio.create_task(relay_for(database, kafka).run())
    # the next leader finds the five on the topic, marks them and publishes only the two
    await eventually(lambda: pending(pool), lambda n: n == 0, what="outbox drained")
    records = await read_topic(kafka.access(), fresh_topic, expect=7)
    assert [sequence_of(r.value) for r in records] == list(range(1, 8)), "each once, in order"

    async def record(conn: Conn, event: ParsedEvent) -> None:
        await conn.execute(
            "INSERT INTO applied VALUES ($1, $2)", event.envelope.subject, event.envelope.sequence
        )

    consumer = EventConsumer(
        service="test",
        topics=[fresh_topic],
        group_id="applier",
        registry=CATALOGUE,
        handler=record,
        pool=pool,
        kafka=kafka.access(),
    )
    consumer_task = asyncio.create_task(consumer.run())
    try:
        await eventually(
            lambda: pool.fetchval("SELECT count(*) FROM applied"), lambda n: n == 7, what="applied"
        )
        await eventually(
            lambda: _committed(kafka, fresh_topic, "applier"), lambda n: n == 7, what="offsets"
        )
        rows = await pool.fetch("SELECT sequence FROM applied ORDER BY sequence")
        assert [r["sequence"] for r in rows] == list(range(1, 8)), "applied exactly once"
    finally:
        consumer_task.cancel()
        task.cancel()
        await asyncio.gather(consumer_task, task, return_exceptions=True)
        await pool.close()


async def _committed(kafka: KafkaBroker, topic: str, group: str) -> int:

    admin = kafka.access().admin()
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
        return sum(meta.offset for tp, meta in offsets.items() if tp.topic == topic)
    finally:
        await admin.close()


def sequence_of(value: bytes | None) -> int:
    """The sequence of one of our own events, which always has one."""
    sequence = CATALOGUE.parse(value).envelope.sequence
    assert sequence is not None
    return sequence


def distinct(records: Records) -> set[tuple[bytes | None, int]]:
    return {(r.key, sequence_of(r.value)) for r in records}


async def test_two_relays_at_once_keep_per_aggregate_order(
    kafka: KafkaBroker, database: str, fresh_topic: str
) -> None:
    pool = await open_database(database, "test", None, max_size=25)
    relays = [asyncio.create_task(relay_for(database, kafka).run()) for _ in range(2)]
    subjects = [f"A{i}" for i in range(20)]
    try:
        # writers interleave aggregates while both relays run; one relay dies half-way
        writers = [append_events(pool, fresh_topic, s, range(1, 11)) for s in subjects[:10]]
        await asyncio.gather(*writers)
        relays[0].cancel()
        await asyncio.gather(
            *(append_events(pool, fresh_topic, s, range(1, 11)) for s in subjects[10:])
        )
        # a relay cancelled mid-batch republishes: wait for every event, not for 200 records
        records = await read_topic(
            kafka.access(), fresh_topic, until=lambda rs: len(distinct(rs)) == 200, timeout=60
        )
    finally:
        for task in relays:
            task.cancel()
        await asyncio.gather(*relays, return_exceptions=True)
        await pool.close()
    seen: dict[str, list[int]] = defaultdict(list)
    for r in records:
        seen[r.key.decode()].append(sequence_of(r.value))
    assert set(seen) == set(subjects)
    for subject, sequences in seen.items():
        first_seen = list(dict.fromkeys(sequences))
        assert first_seen == list(range(1, 11)), f"{subject} out of order: {sequences}"
