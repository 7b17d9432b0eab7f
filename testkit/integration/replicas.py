"""What a cluster says of its partitions: leaders, replicas, in-sync replicas. For the
cluster's tests and the fault suite's broker faults; read through the admin client, as
an operator's `kafka-topics --describe` would."""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from minsheng.kafka import KafkaAccess


@dataclass(frozen=True)
class PartitionState:
    topic: str
    partition: int
    leader: int  # -1: none (no live replica, or no controller to elect one)
    replicas: tuple[int, ...]
    isr: tuple[int, ...]

    @property
    def under_replicated(self) -> bool:
        return len(self.isr) < len(self.replicas)


async def partitions(
    kafka: KafkaAccess, topics: Iterable[str] | None = None
) -> list[PartitionState]:
    """Every partition of `topics` (by default every topic, the internal ones too)."""
    admin = kafka.admin(request_timeout_ms=5000)
    await admin.start()
    try:
        names = list(topics) if topics is not None else await admin.list_topics()
        described = await admin.describe_topics(names)
    finally:
        with contextlib.suppress(Exception):
            await admin.close()
    found = [
        PartitionState(
            t["topic"], p["partition"], p["leader"], tuple(p["replicas"]), tuple(p["isr"])
        )
        for t in described
        for p in t["partitions"]
    ]
    return sorted(found, key=lambda s: (s.topic, s.partition))


async def under_replicated(kafka: KafkaAccess) -> int:
    """How many partitions of the cluster have fewer replicas in sync than assigned."""
    return sum(p.under_replicated for p in await partitions(kafka))


async def leader_of_most(kafka: KafkaAccess, topic: str) -> int:
    """The node leading the most partitions of `topic`."""
    leaders = Counter(p.leader for p in await partitions(kafka, [topic]))
    return leaders.most_common(1)[0][0]


async def led_by_others(kafka: KafkaAccess, topic: str, node_id: int) -> bool:
    """Every partition of `topic` has a leader, and none is `node_id`."""
    states = await partitions(kafka, [topic])
    return all(p.leader not in (-1, node_id) for p in states)
