"""Publishes outbox rows to Kafka in commit order per aggregate, at least once.

One relay at a time is the leader (a PostgreSQL advisory lock); others wait as hot
standbys and take over within a poll interval if the leader dies. A single publisher
with an idempotent producer (`acks=all`) keeps each aggregate's events in sequence
order on its partition. A row is marked published only after Kafka acknowledged it, so
a relay killed between publishing and marking would publish the row again; so a relay
that becomes the leader first reads the tail of each partition its pending rows go to and
marks those already there (`reconcile`), and publishes only the rest. Consumers still drop
any duplicate by sequence number (a topic restored from a backup, a mirror).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import KW_ONLY, dataclass, field
from datetime import UTC, datetime

import asyncpg
from aiokafka import AIOKafkaProducer, TopicPartition

from minsheng import metrics
from minsheng.db import Conn
from minsheng.events import CONTENT_TYPE
from minsheng.kafka import KafkaAccess
from minsheng.outbox import CHANNEL
from minsheng.partition_batches import PARTITIONER, by_partition, send_records
from minsheng.resilience import run_forever, woken

log = logging.getLogger(__name__)

LEADER_LOCK = 0x72656C61  # "rela"
HEADERS = [("content-type", CONTENT_TYPE.encode())]
# One drain's events for a partition fit one batch (aiokafka's 16 kB would split them, and
# a partition's next batch waits until the one before it is sent); below the broker's
# 1 MB message.max.bytes, which a batch must not exceed.
BATCH_BYTES = 512 * 1024
# Records read beyond a partition's pending rows when a new leader looks for those the
# last one published unmarked: room for records others put on the partition since.
TAIL_SLACK = 64


class NotOnTopic(Exception):
    """A pending row not found on its partition: it is still to be published."""


@dataclass(eq=False, repr=False)
class OutboxRelay:
    dsn: str
    _: KW_ONLY
    service: str
    kafka: KafkaAccess
    poll_interval: float = 1.0
    batch_size: int = 500
    retention_hours: float = 168.0
    is_leader: bool = field(default=False, init=False)
    _wake: asyncio.Event = field(default_factory=asyncio.Event, init=False)
    _last_cleanup: float = field(default=0.0, init=False)
    _producer: AIOKafkaProducer | None = field(default=None, init=False)
    _last_report: float = field(default=float("-inf"), init=False)

    async def run(self) -> None:
        """Runs until cancelled; survives database and broker outages by retrying."""
        await run_forever(
            self._run_once,
            what=f"outbox relay of {self.service}",
            delay=self.poll_interval,
            cleanup=self._step_down,
        )

    async def _step_down(self) -> None:
        self.is_leader = False
        metrics.OUTBOX_LEADER.labels(self.service).set(0)
        await self._close_producer()

    async def _run_once(self) -> None:
        metrics.OUTBOX_LEADER.labels(self.service).set(0)
        conn: Conn = await asyncpg.connect(self.dsn)
        try:
            await conn.add_listener(CHANNEL, self._on_notify)
            while not await conn.fetchval("SELECT pg_try_advisory_lock($1)", LEADER_LOCK):
                await self._report_backlog(conn)
                await asyncio.sleep(self.poll_interval)
            self.is_leader = True
            metrics.OUTBOX_LEADER.labels(self.service).set(1)
            log.info("outbox relay of %s is the leader", self.service)
            await self._producer_started()  # now, not on the first event: it takes a second
            if found := await self.reconcile(conn):
                log.info("%d pending rows were already on their topics: marked", found)
            while True:
                self._wake.clear()
                while await self.drain(conn) == self.batch_size:
                    pass
                now = asyncio.get_running_loop().time()
                if now - self._last_report >= self.poll_interval:  # not on every commit
                    self._last_report = now
                    await self._report_backlog(conn)
                await woken(self._wake, self.poll_interval)
        finally:
            with contextlib.suppress(Exception):
                await asyncio.shield(conn.close())

    def _on_notify(self, *_: object) -> None:
        self._wake.set()

    async def _producer_started(self) -> AIOKafkaProducer:
        if self._producer is None:
            producer = self.kafka.producer(
                enable_idempotence=True,
                acks="all",
                linger_ms=2,
                partitioner=PARTITIONER,
                max_batch_size=BATCH_BYTES,
                request_timeout_ms=15000,
                client_id=f"{self.service}-outbox-relay",
            )
            try:
                await producer.start()
            except BaseException:  # cancelled while starting, too: never leave it open
                await asyncio.shield(producer.stop())
                raise
            self._producer = producer
        return self._producer

    async def _close_producer(self) -> None:
        if self._producer is not None:
            producer, self._producer = self._producer, None
            with contextlib.suppress(Exception):
                await asyncio.wait_for(producer.stop(), 10)

    async def drain(self, conn: Conn) -> int:
        """Publishes one batch of pending rows; returns how many rows it read."""
        rows = await self._pending(conn)
        if not rows:
            return 0
        producer = await self._producer_started()
        results = await _publish(producer, rows)
        published = _acknowledged_in_order(rows, results)
        await self.mark_published(conn, published)
        done = set(published)
        for topic, n in Counter(r["topic"] for r in rows if r["id"] in done).items():
            metrics.OUTBOX_PUBLISHED.labels(self.service, topic).inc(n)
        failures = [res for res in results if isinstance(res, BaseException)]
        if failures:
            await self._close_producer()  # a fresh producer epoch after a failed batch
            raise RuntimeError(
                f"{len(failures)} of {len(rows)} events not acknowledged: {failures[0]!r}"
            )
        return len(rows)

    async def _pending(self, conn: Conn) -> list[asyncpg.Record]:
        """The first `batch_size` unpublished rows, in commit order."""
        return list(
            await conn.fetch(
                """SELECT id, topic, aggregate_id, payload FROM outbox
                   WHERE published_at IS NULL ORDER BY id LIMIT $1""",
                self.batch_size,
            )
        )

    async def reconcile(self, conn: Conn) -> int:
        """Marks the pending rows a previous leader published but did not mark (it died
        between Kafka's acknowledgement and the mark); returns how many.

        Those rows come from its last drain, so they are among the first `batch_size`
        pending rows, and nothing of theirs was published after them: each is among the
        last records of its partition. A row is marked only if every earlier pending row
        of its aggregate is found too, so events never reach a partition out of order."""
        rows = await self._pending(conn)
        if not rows:
            return 0
        producer = await self._producer_started()
        where: dict[TopicPartition, list[int]] = {}  # partition -> row indexes
        for topic in {r["topic"] for r in rows}:
            members = [i for i, r in enumerate(rows) if r["topic"] == topic]
            keys = [rows[i]["aggregate_id"].encode() for i in members]
            for partition, indexes in (await by_partition(producer, topic, keys)).items():
                where[TopicPartition(topic, partition)] = [members[i] for i in indexes]
        on_topic = await self._tail_values(
            {tp: len(indexes) + TAIL_SLACK for tp, indexes in where.items()}
        )
        results: list[object] = [
            None if row["payload"].encode() in on_topic else NotOnTopic() for row in rows
        ]
        found = _acknowledged_in_order(rows, results)
        await self.mark_published(conn, found)
        return len(found)

    async def _tail_values(self, last: dict[TopicPartition, int]) -> set[bytes]:
        """The values of the last `last[tp]` records of each partition."""
        consumer = self.kafka.consumer(
            enable_auto_commit=False,
            client_id=f"{self.service}-outbox-relay-reconcile",
            request_timeout_ms=15000,
        )
        await consumer.start()
        try:
            consumer.assign(list(last))
            ends = await consumer.end_offsets(list(last))
            starts = await consumer.beginning_offsets(list(last))
            wanted = {}
            for tp, n in last.items():
                first = max(starts[tp], ends[tp] - n)
                if first < ends[tp]:
                    consumer.seek(tp, first)
                    wanted[tp] = ends[tp]
            values: set[bytes] = set()
            while wanted:
                batches = await consumer.getmany(*wanted, timeout_ms=1000)
                for records in batches.values():
                    values.update(r.value for r in records if r.value is not None)
                for tp in [tp for tp, end in wanted.items() if await consumer.position(tp) >= end]:
                    del wanted[tp]
            return values
        finally:
            with contextlib.suppress(Exception):
                await asyncio.shield(consumer.stop())

    async def mark_published(self, conn: Conn, ids: Sequence[int]) -> None:
        if ids:
            await conn.execute(
                "UPDATE outbox SET published_at = now() WHERE id = ANY($1::bigint[])", list(ids)
            )

    async def _report_backlog(self, conn: Conn) -> None:
        row = await conn.fetchrow(
            "SELECT count(*) AS n, min(created_at) AS oldest FROM outbox WHERE published_at IS NULL"
        )
        assert row is not None
        metrics.OUTBOX_PENDING.labels(self.service).set(row["n"])
        age = (datetime.now(UTC) - row["oldest"]).total_seconds() if row["oldest"] else 0.0
        metrics.OUTBOX_OLDEST_AGE.labels(self.service).set(max(age, 0.0))
        now = asyncio.get_running_loop().time()
        if self.is_leader and self.retention_hours > 0 and now - self._last_cleanup > 600:
            self._last_cleanup = now
            await conn.execute(
                """DELETE FROM outbox WHERE published_at < now() - make_interval(secs => $1)""",
                self.retention_hours * 3600,
            )


async def _publish(producer: AIOKafkaProducer, rows: Sequence[asyncpg.Record]) -> list[object]:
    """Sends the rows, batched per partition (`partition_batches`), and returns each row's
    outcome: its batch's metadata, or the exception that failed the batch. Rows keep their
    order within a partition, and so within an aggregate (the key)."""
    by_topic: dict[str, list[int]] = {}
    for i, row in enumerate(rows):
        by_topic.setdefault(row["topic"], []).append(i)
    groups: dict[tuple[str, int], list[int]] = {}  # (topic, partition) -> row indexes
    for topic, members in by_topic.items():
        keys = [rows[i]["aggregate_id"].encode() for i in members]
        for partition, indexes in (await by_partition(producer, topic, keys)).items():
            groups[(topic, partition)] = [members[i] for i in indexes]
    sent: list[tuple[list[int], asyncio.Future[object]]] = []
    for (topic, partition), indexes in groups.items():
        records = [(rows[i]["aggregate_id"].encode(), rows[i]["payload"].encode()) for i in indexes]
        start = 0
        for count, delivery in await send_records(producer, topic, partition, records, HEADERS):
            sent.append((indexes[start : start + count], delivery))
            start += count
    outcomes = await asyncio.gather(*(future for _, future in sent), return_exceptions=True)
    results: list[object] = [None] * len(rows)
    for (members, _), outcome in zip(sent, outcomes, strict=True):
        for i in members:
            results[i] = outcome
    return results


def _acknowledged_in_order(rows: Sequence[asyncpg.Record], results: Sequence[object]) -> list[int]:
    """Ids safe to mark: acknowledged, and no earlier row of the same aggregate failed.

    A later event of an aggregate whose earlier event failed is left pending too, so it
    is published again after the earlier one and consumers never see it first only.
    """
    blocked: set[tuple[str, str]] = set()
    ids = []
    for row, result in zip(rows, results, strict=True):
        agg = (row["topic"], row["aggregate_id"])
        if isinstance(result, BaseException) or agg in blocked:
            blocked.add(agg)
        else:
            ids.append(row["id"])
    return ids
