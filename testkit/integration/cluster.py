"""A Kafka cluster on free ports, and what it says of its partitions: leaders, replicas,
in-sync replicas. For the cluster's tests, the end-to-end stack and the fault suite's
broker faults; read through the admin client, as `kafka-topics --describe` would."""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from aiokafka.errors import KafkaError

from minsheng.kafka import KafkaAccess
from minsheng.platform.kafka import KafkaCluster
from testkit.integration.helpers import free_port


def on_free_ports(folder: Path, brokers: int = 3) -> KafkaCluster:
    """An unstarted cluster of `brokers` nodes on free ports, logs beside `folder`."""
    return KafkaCluster(
        folder,
        [free_port() for _ in range(brokers)],
        [free_port() for _ in range(brokers)],
        heap="384m",
        log_file=folder.parent / "kafka.log",
    )


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
    """How many partitions of the cluster have fewer replicas in sync than assigned; -1
    while the node asked does not answer (a client may still pick a dead one)."""
    try:
        return sum(p.under_replicated for p in await partitions(kafka))
    except KafkaError:
        return -1


async def leader_of_most(kafka: KafkaAccess, topic: str) -> int:
    """The node leading the most partitions of `topic`."""
    leaders = Counter(p.leader for p in await partitions(kafka, [topic]))
    return leaders.most_common(1)[0][0]


async def led_by_others(kafka: KafkaAccess, topic: str, node_id: int) -> bool:
    """Every partition of `topic` has a leader, and none is `node_id` (False while the
    node asked does not answer)."""
    try:
        states = await partitions(kafka, [topic])
    except KafkaError:
        return False
    return bool(states) and all(p.leader not in (-1, node_id) for p in states)
