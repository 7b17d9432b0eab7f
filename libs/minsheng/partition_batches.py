"""Records for one partition sent as few Kafka batches as they fit in, in order.

`AIOKafkaProducer.send` per record costs a metadata wait, partitioning and a future each:
more than the rest of the work for the outbox relay and the analytics changelog writer,
which both hand Kafka many small records at once. A batch per partition keeps the
records' order within the partition (one producer, idempotent, so batches land in order).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner

# Kafka's default (murmur2 of the key, as the Java client): one aggregate, one partition
PARTITIONER = DefaultPartitioner()

Record = tuple[bytes, bytes | None]  # key, value (None: a tombstone)
Headers = list[tuple[str, bytes]]


async def send_records(
    producer: AIOKafkaProducer,
    topic: str,
    partition: int,
    records: Sequence[Record],
    headers: Headers | None = None,
) -> list[tuple[int, asyncio.Future[object]]]:
    """Sends `records` to `topic`[`partition`]; returns, per batch in order, how many of
    the records it holds and the future of its delivery."""
    sent: list[tuple[int, asyncio.Future[object]]] = []
    batch, count = producer.create_batch(), 0
    for key, value in records:
        if batch.append(key=key, value=value, timestamp=None, headers=headers) is None:
            sent.append((count, await producer.send_batch(batch, topic, partition=partition)))
            batch, count = producer.create_batch(), 0
            batch.append(key=key, value=value, timestamp=None, headers=headers)  # 1st fits
        count += 1
    if count:
        sent.append((count, await producer.send_batch(batch, topic, partition=partition)))
    return sent


async def by_partition(
    producer: AIOKafkaProducer, topic: str, keys: Sequence[bytes]
) -> dict[int, list[int]]:
    """The indexes of `keys`, in order, per partition of `topic` the partitioner gives."""
    every = sorted(await producer.partitions_for(topic))
    groups: dict[int, list[int]] = {}
    for i, key in enumerate(keys):
        groups.setdefault(PARTITIONER(key, every, every), []).append(i)
    return groups


async def send_keyed(producer: AIOKafkaProducer, topic: str, records: Sequence[Record]) -> None:
    """All of `records`, in key order per partition, batched; returns once all are
    acknowledged (a load generator's write, with none of `send`'s per-record cost)."""
    groups = await by_partition(producer, topic, [key for key, _ in records])
    sent = [
        future
        for partition, indexes in groups.items()
        for _, future in await send_records(
            producer, topic, partition, [records[i] for i in indexes]
        )
    ]
    await asyncio.gather(*sent)
