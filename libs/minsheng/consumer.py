"""Consumer helper: validate, apply idempotently in a transaction, then commit the offset.

For each message: parse the envelope and payload, in either CloudEvents content mode
(through `events.decoder`, which takes and rejects what the registry does, faster), and
on a domain topic check that its source is the topic's owner (invalid or foreign: dead
letter); open a transaction; skip the event if its sequence is not newer than the
one recorded for its aggregate (a redelivery or replay); else run the handler and record
the sequence; commit; and only then commit the Kafka offset. A crash anywhere before the
offset commit means redelivery, which the sequence check makes harmless. An intake event
without a sequence has no such check: its handler deduplicates on (source, id).

With a `batch_handler`, a whole fetch (up to 500 messages, from every partition it
reached) is applied the same way in one transaction (one look-up of the sequences, one
handler call, one write of them), and its offsets are committed after it: the cost of a
transaction is shared by up to a fetch's worth of events. Order within each partition,
the only order Kafka has, is kept. If the batch fails
for any reason but the database's absence, its events are applied again one by one, so
a poison event still goes alone to the dead-letter topic and the rest are applied.

After a fetch (at most once a second) it exports its lag per assigned partition,
`minsheng_consumer_lag`: the messages from the first one not yet processed to the
partition's highwater, which only the consumer itself knows without asking the broker.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.errors import IllegalStateError
from prometheus_client import Counter, Histogram

from minsheng import metrics
from minsheng.db import Conn
from minsheng.deadletter import count_dead_letter, dead_letter
from minsheng.events import InvalidEvent, ParsedEvent, Registry
from minsheng.events.decoder import Decoder
from minsheng.kafka import KafkaAccess
from minsheng.resilience import OUTAGES, run_forever
from minsheng.topics import dlq, owner_of

log = logging.getLogger(__name__)

Handler = Callable[[Conn, ParsedEvent], Awaitable[None]]
BatchHandler = Callable[[Conn, Sequence[ParsedEvent]], Awaitable[None]]
LAG_EVERY = 1.0  # seconds between two measures of the lag
Batches = dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]]


class Outcome(Enum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    DEAD_LETTER = "dead_letter"


@dataclass(eq=False, repr=False, kw_only=True)
class EventConsumer:
    service: str
    topics: Sequence[str]
    group_id: str
    registry: Registry
    handler: Handler | None = None
    batch_handler: BatchHandler | None = None  # applies a partition's fetch at once
    pool: asyncpg.Pool
    kafka: KafkaAccess
    max_attempts: int = 3
    retry_delay: float = 0.5
    # the names this deployment gives domain topics -> theirs in minsheng.topics (tests)
    aliases: Mapping[str, str] = field(default_factory=dict)
    assigned: asyncio.Event = field(default_factory=asyncio.Event, init=False)
    _consumer: AIOKafkaConsumer | None = field(default=None, init=False)
    _producer: AIOKafkaProducer | None = field(default=None, init=False)
    _lag: metrics.ConsumerLag = field(init=False)
    _lag_at: float = field(default=float("-inf"), init=False)  # loop time of the last measure
    _decoder: Decoder = field(init=False)  # the registry's parse, msgspec where it can
    _applied_series: dict[tuple[str, str], tuple[Counter, Histogram]] = field(
        default_factory=dict, init=False
    )

    def __post_init__(self) -> None:
        self.topics = list(self.topics)
        self._lag = metrics.ConsumerLag(self.service)
        self._decoder = Decoder(self.registry)
        if self.handler is None:
            if self.batch_handler is None:
                raise TypeError("EventConsumer needs a handler or a batch_handler")
            batch = self.batch_handler
            self.handler = lambda conn, event: batch(conn, [event])

    async def run(self) -> None:
        """Consumes until cancelled; restarts its clients after a broker outage."""
        await run_forever(
            self._run_clients, what=f"consumer {self.group_id}", delay=self.retry_delay
        )

    async def _run_clients(self) -> None:
        consumer = self.kafka.consumer(
            *self.topics,
            group_id=self.group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            client_id=f"{self.service}-{self.group_id}",
        )
        producer = self.kafka.producer(enable_idempotence=True, acks="all")
        self._consumer, self._producer = consumer, producer
        try:
            await producer.start()
            await consumer.start()
            while True:
                batches = await consumer.getmany(timeout_ms=500, max_records=500)
                if consumer.assignment():
                    self.assigned.set()
                await self._measure_lag(consumer, batches)
                if self.batch_handler is not None and batches:
                    await self.process_batch([m for ms in batches.values() for m in ms])
                    await consumer.commit({tp: ms[-1].offset + 1 for tp, ms in batches.items()})
                    continue
                for tp, messages in batches.items():
                    for message in messages:
                        await self.process(message)
                    await consumer.commit({tp: messages[-1].offset + 1})
        finally:
            self._consumer = self._producer = None
            self._lag.clear()
            # shielded: a second cancellation while stopping must not leave a client open
            await asyncio.shield(
                asyncio.gather(consumer.stop(), producer.stop(), return_exceptions=True)
            )

    async def _measure_lag(self, consumer: AIOKafkaConsumer, batches: Batches) -> None:
        """Per assigned partition: highwater minus the first offset not processed yet (this
        batch's first, else the consumer's position). Partitions without a fetch yet have
        no highwater and are left out."""
        now = asyncio.get_running_loop().time()
        if now - self._lag_at < LAG_EVERY:
            return
        self._lag_at = now
        lags: dict[tuple[str, int], int] = {}
        for tp in consumer.assignment():
            highwater = consumer.highwater(tp)
            if highwater is None:
                continue
            batch = batches.get(tp)
            try:
                position = batch[0].offset if batch else await consumer.position(tp)
            except IllegalStateError:  # revoked meanwhile
                continue
            lags[tp.topic, tp.partition] = highwater - position
        self._lag.update(lags)

    async def process(self, message: ConsumerRecord[bytes, bytes]) -> Outcome:
        """Applies one message; returns only once its effect is durable."""
        try:
            event = self.parse(message)
        except InvalidEvent as error:
            return await self._dead_letter(message, error)
        failures = 0
        while True:
            try:
                async with self.pool.acquire() as conn, conn.transaction():
                    outcome = await self._apply(conn, message.topic, event)
                break
            except InvalidEvent as error:
                return await self._dead_letter(message, error)
            except OUTAGES:
                log.warning("database unavailable while applying; retrying", exc_info=True)
                await asyncio.sleep(self.retry_delay)
            except Exception as exc:
                failures += 1
                log.exception("handler failed on %s (attempt %d)", event.envelope.id, failures)
                if failures >= self.max_attempts:
                    return await self._dead_letter(
                        message, InvalidEvent("handler_error", repr(exc))
                    )
                await asyncio.sleep(self.retry_delay)
        self._count(message.topic, event, outcome)
        return outcome

    def parse(self, message: ConsumerRecord[bytes, bytes]) -> ParsedEvent:
        """The record as an event, checked against the owner of the topic it came from."""
        owner = owner_of(message.topic, self.aliases)
        return self._decoder.parse(message.value, message.headers or (), owner=owner)

    async def process_batch(self, messages: Sequence[ConsumerRecord[bytes, bytes]]) -> None:
        """Applies a fetch's messages in one transaction; returns once durable."""
        parsed: list[tuple[ConsumerRecord[bytes, bytes], ParsedEvent]] = []
        for message in messages:
            try:
                parsed.append((message, self.parse(message)))
            except InvalidEvent as error:
                await self._dead_letter(message, error)
        if not parsed:
            return
        assert self.batch_handler is not None
        while True:
            try:
                async with self.pool.acquire() as conn, conn.transaction():
                    outcomes = await self._apply_all(conn, parsed)
                break
            except OUTAGES:
                log.warning("database unavailable while applying; retrying", exc_info=True)
                await asyncio.sleep(self.retry_delay)
            except Exception:
                log.warning("a batch of %d failed; applying one by one", len(parsed), exc_info=True)
                for message, _ in parsed:
                    await self.process(message)
                return
        now = datetime.now(UTC)  # one clock reading for the ages of the whole batch
        for (message, event), outcome in zip(parsed, outcomes, strict=True):
            self._count(message.topic, event, outcome, now)

    def _series(self, topic: str, event_type: str) -> tuple[Counter, Histogram]:
        """The labelled series of an event type, looked up once (`labels` locks and
        hashes on every call, and this is asked per event)."""
        key = (topic, event_type)
        if key not in self._applied_series:
            self._applied_series[key] = (
                metrics.EVENTS_PROCESSED.labels(self.service, topic, event_type),
                metrics.EVENT_AGE.labels(self.service, topic),
            )
        return self._applied_series[key]

    def _count(
        self, topic: str, event: ParsedEvent, outcome: Outcome, now: datetime | None = None
    ) -> None:
        if outcome is Outcome.APPLIED:
            processed, ages = self._series(topic, event.envelope.type)
            processed.inc()
            age = ((now or datetime.now(UTC)) - event.envelope.time).total_seconds()
            ages.observe(max(age, 0.0))
        elif outcome is Outcome.DUPLICATE:
            metrics.DUPLICATES.labels(self.service, topic).inc()

    async def _apply(self, conn: Conn, topic: str, event: ParsedEvent) -> Outcome:
        assert self.handler is not None
        held = await sequences_held(conn, self.group_id, [event])
        fresh = self._fresh(topic, [event], held)
        if fresh:
            await self.handler(conn, event)
            await save_sequences(conn, self.group_id, held)
        return Outcome.APPLIED if fresh else Outcome.DUPLICATE

    async def _apply_all(
        self, conn: Conn, parsed: Sequence[tuple[ConsumerRecord[bytes, bytes], ParsedEvent]]
    ) -> list[Outcome]:
        assert self.batch_handler is not None
        held = await sequences_held(conn, self.group_id, [event for _, event in parsed])
        outcomes = []
        fresh: list[ParsedEvent] = []
        for message, event in parsed:
            new = self._fresh(message.topic, [event], held)
            fresh += new
            outcomes.append(Outcome.APPLIED if new else Outcome.DUPLICATE)
        if fresh:
            await self.batch_handler(conn, fresh)
            await save_sequences(conn, self.group_id, held)
        return outcomes

    def _fresh(self, topic: str, events: Sequence[ParsedEvent], held: Held) -> list[ParsedEvent]:
        """The events newer than the sequence `held` for their aggregate, which moves on
        with each (so a batch's redelivered events are duplicates of its own)."""
        fresh = []
        for event in events:
            envelope = event.envelope
            if envelope.sequence is None:  # an intake event: (source, id) deduplicates it
                fresh.append(event)
                continue
            key = (envelope.source, envelope.subject)
            last = held.get(key)
            if last is not None and envelope.sequence <= last:
                continue
            if envelope.sequence > (last or 0) + 1:
                metrics.SEQUENCE_GAPS.labels(self.service, topic).inc()
                log.warning(
                    "sequence gap on %s from %s: held %s, got %s",
                    envelope.subject,
                    envelope.source,
                    last,
                    envelope.sequence,
                )
            held[key] = envelope.sequence
            fresh.append(event)
        return fresh

    async def _dead_letter(
        self, message: ConsumerRecord[bytes, bytes], error: InvalidEvent
    ) -> Outcome:
        assert self._producer is not None, "dead letters need the running consumer's producer"
        original = list(message.headers or ())
        letter = dead_letter(error, service=self.service, record=message, original=original)
        await self._producer.send_and_wait(
            dlq(message.topic), letter.value, key=letter.key, headers=letter.headers
        )
        count_dead_letter(self.service, message.topic, error.reason)
        log.warning(
            "dead-lettered %s[%d]@%d: %s", message.topic, message.partition, message.offset, error
        )
        return Outcome.DEAD_LETTER

    async def wait_assigned(self, timeout: float = 30.0) -> None:
        await asyncio.wait_for(self.assigned.wait(), timeout)


Held = dict[tuple[str, str], int]  # (source, aggregate id) -> last sequence applied


async def sequences_held(conn: Conn, consumer: str, events: Sequence[ParsedEvent]) -> Held:
    """The last sequences applied for the events' aggregates, locked for the transaction."""
    sources = [e.envelope.source for e in events]
    subjects = [e.envelope.subject for e in events]
    rows = await conn.fetch(
        """SELECT source, aggregate_id, sequence FROM applied_sequences
           WHERE consumer = $1 AND (source, aggregate_id) IN
               (SELECT * FROM unnest($2::text[], $3::text[]))
           ORDER BY source, aggregate_id FOR UPDATE""",
        consumer,
        sources,
        subjects,
    )
    return {(r["source"], r["aggregate_id"]): r["sequence"] for r in rows}


async def save_sequences(conn: Conn, consumer: str, held: Held) -> None:
    """Writes `held` back (those not moved on are rewritten unchanged: harmless)."""
    await conn.execute(
        """INSERT INTO applied_sequences (consumer, source, aggregate_id, sequence)
           SELECT $1, * FROM unnest($2::text[], $3::text[], $4::int[])
           ON CONFLICT (consumer, source, aggregate_id)
           DO UPDATE SET sequence = EXCLUDED.sequence, applied_at = now()""",
        consumer,
        [source for source, _ in held],
        [subject for _, subject in held],
        list(held.values()),
    )


__all__ = ["BatchHandler", "EventConsumer", "Handler", "Outcome"]
