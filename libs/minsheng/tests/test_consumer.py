"""The consumer helper against the real broker: poison messages, duplicates, order."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Sequence

import asyncpg
import pytest

from minsheng import metrics
from minsheng.consumer import EventConsumer, Handler
from minsheng.db import Conn, open_database
from minsheng.events import CATALOGUE, ParsedEvent
from minsheng.platform.kafka import KafkaBroker
from minsheng.topics import dlq
from testkit.integration.helpers import eventually, read_topic
from testkit.unit.events import sample_appeal_event

pytestmark = pytest.mark.integration


@pytest.fixture
async def pool(database: str) -> AsyncIterator[asyncpg.Pool]:
    p = await open_database(database, "test", None)
    await p.execute("CREATE TABLE applied (appeal_id text, sequence int)")
    yield p
    await p.close()


async def record(conn: Conn, event: ParsedEvent) -> None:
    await conn.execute(
        "INSERT INTO applied VALUES ($1, $2)", event.envelope.subject, event.envelope.sequence
    )


@pytest.fixture(params=["one by one", "in batches"])
def batched(request: pytest.FixtureRequest) -> bool:
    """Every behaviour holds for both ways of applying: one transaction per event, or
    one per fetched batch (`batch_handler`)."""
    return bool(request.param == "in batches")


def consumer_of(
    kafka: KafkaBroker,
    pool: asyncpg.Pool,
    topic: str,
    handler: Handler,
    *,
    batched: bool,
    group: str,
    service: str = "test",
    retry_delay: float = 0.5,
) -> EventConsumer:
    async def each(conn: Conn, events: Sequence[ParsedEvent]) -> None:
        for event in events:
            await handler(conn, event)

    return EventConsumer(
        service=service,
        topics=[topic],
        group_id=group,
        registry=CATALOGUE,
        handler=None if batched else handler,
        batch_handler=each if batched else None,
        pool=pool,
        kafka=kafka.access(),
        retry_delay=retry_delay,
    )


@pytest.fixture
async def running_consumer(
    kafka: KafkaBroker, pool: asyncpg.Pool, fresh_topic: str, batched: bool
) -> AsyncIterator[EventConsumer]:
    consumer = consumer_of(
        kafka, pool, fresh_topic, record, batched=batched, group=f"g-{fresh_topic}"
    )
    task = asyncio.create_task(consumer.run())
    yield consumer
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def produce(kafka: KafkaBroker, topic: str, messages: list[tuple[bytes, bytes]]) -> None:
    producer = kafka.access().producer(acks="all")
    await producer.start()
    try:
        for key, value in messages:
            # one key: one partition, so the poison messages stand before the good one
            await producer.send_and_wait(topic, value, key=key)
    finally:
        await producer.stop()


def _dead_letters(topic: str, reason: str) -> float:
    return float(metrics.DEAD_LETTERS.labels("test", topic, reason)._value.get())


async def test_poison_messages_go_to_the_dlq_with_reason_and_the_next_is_applied(
    kafka: KafkaBroker, pool: asyncpg.Pool, fresh_topic: str, running_consumer: EventConsumer
) -> None:
    good = sample_appeal_event("A1", 1)
    wrong_schema = json.loads(good.to_json())
    wrong_schema["data"]["channel"] = "carrier pigeon"
    unknown = json.loads(good.to_json())
    unknown["type"] = "minsheng.AppealTeleported.v1"
    no_subject = json.loads(good.to_json())
    del no_subject["subject"]
    poison = [
        b"{not json",
        json.dumps(unknown).encode(),
        json.dumps(wrong_schema).encode(),
        json.dumps(no_subject).encode(),
    ]
    await produce(kafka, fresh_topic, [(b"A1", p) for p in poison] + [(b"A1", good.to_json())])

    await eventually(
        lambda: pool.fetchval("SELECT count(*) FROM applied"), lambda n: n == 1, what="good applied"
    )
    letters = await read_topic(kafka.access(), dlq(fresh_topic), expect=4)
    reasons = [dict(r.headers)["dlq.reason"].decode() for r in letters]
    assert reasons == ["bad_json", "unknown_type", "schema_violation", "bad_envelope"]
    assert [r.value for r in letters] == poison, "the dead letter keeps the original bytes"
    first = dict(letters[0].headers)
    assert first["dlq.topic"].decode() == fresh_topic
    assert first["dlq.service"] == b"test"
    assert b"channel" in dict(letters[2].headers)["dlq.detail"]
    assert _dead_letters(fresh_topic, "bad_json") == 1


async def test_redelivered_and_replayed_events_are_applied_once(
    kafka: KafkaBroker, pool: asyncpg.Pool, fresh_topic: str, running_consumer: EventConsumer
) -> None:
    events = [sample_appeal_event("A9", seq) for seq in (1, 2, 2, 1, 3, 3)]
    await produce(kafka, fresh_topic, [(e.key, e.to_json()) for e in events])
    await eventually(
        lambda: pool.fetchval("SELECT max(sequence) FROM applied"), lambda n: n == 3, what="seq 3"
    )
    await produce(kafka, fresh_topic, [(b"A9", sample_appeal_event("A9", 4).to_json())])
    await eventually(
        lambda: pool.fetchval("SELECT max(sequence) FROM applied"), lambda n: n == 4, what="seq 4"
    )
    rows = await pool.fetch("SELECT sequence FROM applied ORDER BY sequence")
    assert [r["sequence"] for r in rows] == [1, 2, 3, 4]


async def test_the_same_subject_from_two_sources_is_two_aggregates(
    kafka: KafkaBroker, pool: asyncpg.Pool, fresh_topic: str, running_consumer: EventConsumer
) -> None:
    """Two bureaus both number their case "1001": neither's events hide the other's."""
    first = sample_appeal_event("1001", 1)
    second = sample_appeal_event("1001", 1).model_copy(update={"source": "gov/12345-hotline"})
    await produce(kafka, fresh_topic, [(b"1001", first.to_json()), (b"1001", second.to_json())])
    await eventually(
        lambda: pool.fetchval("SELECT count(*) FROM applied"), lambda n: n == 2, what="both"
    )
    rows = await pool.fetch("SELECT source FROM applied_sequences ORDER BY source")
    assert [r["source"] for r in rows] == ["gov/12345-hotline", "minsheng/appeals"]


async def test_a_handler_that_keeps_failing_dead_letters_the_message_and_moves_on(
    kafka: KafkaBroker, pool: asyncpg.Pool, fresh_topic: str, batched: bool
) -> None:
    async def fragile(conn: Conn, event: ParsedEvent) -> None:
        if event.envelope.subject == "BAD":
            raise ValueError("cannot handle this one")
        await record(conn, event)

    consumer = consumer_of(
        kafka, pool, fresh_topic, fragile, batched=batched, group="fragile", retry_delay=0.01
    )
    task = asyncio.create_task(consumer.run())
    try:
        bad, good = sample_appeal_event("BAD", 1), sample_appeal_event("OK", 1)
        await produce(kafka, fresh_topic, [(b"same", bad.to_json()), (b"same", good.to_json())])
        await eventually(
            lambda: pool.fetchval("SELECT count(*) FROM applied"), lambda n: n == 1, what="applied"
        )
        letters = await read_topic(kafka.access(), dlq(fresh_topic), expect=1)
        assert dict(letters[0].headers)["dlq.reason"] == b"handler_error"
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_a_database_restarting_is_waited_out_not_dead_lettered(
    kafka: KafkaBroker, pool: asyncpg.Pool, fresh_topic: str, batched: bool
) -> None:
    """A PostgreSQL restart ends connections (57P01) and refuses them while it starts
    (57P03), more often than a handler may fail: the event waits, it is no poison."""
    restarting = [
        asyncpg.exceptions.AdminShutdownError("terminating connection"),
        *[asyncpg.exceptions.CannotConnectNowError("starting up")] * 4,
    ]

    async def during_restart(conn: Conn, event: ParsedEvent) -> None:
        if restarting:
            raise restarting.pop(0)
        await record(conn, event)

    consumer = consumer_of(
        kafka, pool, fresh_topic, during_restart, batched=batched, group="restart",
        retry_delay=0.01,
    )  # fmt: skip
    task = asyncio.create_task(consumer.run())
    try:
        await produce(kafka, fresh_topic, [(b"R1", sample_appeal_event("R1", 1).to_json())])
        await eventually(
            lambda: pool.fetchval("SELECT count(*) FROM applied"), lambda n: n == 1, what="applied"
        )
        assert not restarting
        assert _dead_letters(fresh_topic, "handler_error") == 0
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def _lags(topic: str) -> dict[str, float]:
    """partition -> the lag the consumer exports for it."""
    return {
        s.labels["partition"]: s.value
        for family in metrics.CONSUMER_LAG.collect()
        for s in family.samples
        if s.labels["topic"] == topic and s.labels["service"] == "lagging"
    }


async def test_the_consumer_exports_its_lag_per_partition_and_drops_it_when_it_stops(
    kafka: KafkaBroker, pool: asyncpg.Pool, fresh_topic: str
) -> None:
    release = asyncio.Event()

    async def slow(conn: Conn, event: ParsedEvent) -> None:
        await release.wait()
        await record(conn, event)

    consumer = consumer_of(
        kafka, pool, fresh_topic, slow, batched=False, group="lagging", service="lagging"
    )
    events = [sample_appeal_event("L1", seq) for seq in range(1, 6)]
    await produce(kafka, fresh_topic, [(e.key, e.to_json()) for e in events])
    task = asyncio.create_task(consumer.run())
    try:
        # the handler holds the first event: all five are behind on their one partition
        lags = await eventually(
            lambda: asyncio.sleep(0, _lags(fresh_topic)), lambda lags: 5 in lags.values()
        )
        assert sum(lags.values()) == 5  # the other partitions are empty
        release.set()
        await eventually(
            lambda: asyncio.sleep(0, _lags(fresh_topic)),
            lambda lags: bool(lags) and set(lags.values()) == {0},
            what="no lag once applied",
        )
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert _lags(fresh_topic) == {}


async def test_a_batch_handler_gets_a_fetch_at_once_without_its_duplicates(
    kafka: KafkaBroker, pool: asyncpg.Pool, fresh_topic: str
) -> None:
    sizes: list[int] = []

    async def batch(conn: Conn, events: Sequence[ParsedEvent]) -> None:
        sizes.append(len(events))
        for event in events:
            await record(conn, event)

    events = [sample_appeal_event("B1", seq) for seq in (1, 2, 2, 3, 4, 1, 5)]
    await produce(kafka, fresh_topic, [(e.key, e.to_json()) for e in events])
    consumer = EventConsumer(
        service="test",
        topics=[fresh_topic],
        group_id="batched",
        registry=CATALOGUE,
        batch_handler=batch,
        pool=pool,
        kafka=kafka.access(),
    )
    task = asyncio.create_task(consumer.run())
    try:
        await eventually(
            lambda: pool.fetchval("SELECT count(*) FROM applied"), lambda n: n == 5, what="all"
        )
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    rows = await pool.fetch("SELECT sequence FROM applied ORDER BY sequence")
    assert [r["sequence"] for r in rows] == [1, 2, 3, 4, 5]
    assert sizes == [5], "one fetch, one call, duplicates left out"
    held = await pool.fetchval("SELECT sequence FROM applied_sequences WHERE consumer = 'batched'")
    assert held == 5
