"""The broker faults of a cluster (`make chaos-cluster`), each under the same load:

- `leader`: `kill -9` of the broker leading the most partitions of the appeals topic; its
  failover is the time until every one of them has a live leader again. The broker is
  started again afterwards and its catch-up (no partition under-replicated) noted.
- `node`: one broker stopped `outage` seconds and started again; its figure is the time
  from the restart until no partition of the cluster is under-replicated.
- `quorum`: all brokers but one stopped `outage` seconds. With them goes the controller
  quorum (every node is a voter), so nothing can shrink an in-sync set or elect a leader:
  a write is refused (`min.insync.replicas`, or no leader), never acknowledged by the one
  broker left. Probes with `acks=all` check that, and no outbox row may be marked
  published meanwhile; the APIs keep answering 201 into the outbox.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from minsheng.platform.kafka import KafkaBroker, KafkaCluster
from minsheng.topics import APPEALS, TopicSpec, ensure_topics
from testkit.chaos.platform import SOURCES, Platform
from testkit.chaos.report import Fault, Window
from testkit.integration.cluster import leader_of_most, led_by_others, under_replicated
from testkit.integration.helpers import eventually

PROBE = "chaos.probe"  # a topic of its own: a probe that got through pollutes no check
PROBE_PARTITIONS = 3
PROBE_EVERY = 5.0  # seconds between probes while the quorum is gone
SETTLE_TIMEOUT = 180.0
GRACE = timedelta(seconds=2)  # a mark committed just after the last ack before the stop


async def prepare(cluster: KafkaCluster) -> None:
    replicas = len(cluster.nodes)
    await ensure_topics(cluster.access(), [TopicSpec(PROBE, PROBE_PARTITIONS, replicas, {}, 2)])


async def inject(
    platform: Platform,
    cluster: KafkaCluster,
    fault: Fault,
    window: Window,
    now: Callable[[], float],
) -> None:
    """The fault; `window.ended` when the broker is dead or the brokers are back, and
    `window.failover` as the module says."""
    access = cluster.access()
    if fault.kind == "leader":
        victim = cluster.node(await leader_of_most(access, APPEALS))
        victim.kill()
        window.ended = now()
        await eventually(
            lambda: led_by_others(access, APPEALS, victim.node_id),
            bool,
            timeout=SETTLE_TIMEOUT,
            interval=0.2,
            what=f"the appeals topic's partitions led by others than broker {victim.node_id}",
        )
        window.failover = now() - window.ended
        window.note = f"broker {victim.node_id} killed (it led the most appeals partitions)"
    elif fault.kind == "node":
        node = cluster.nodes[-1]
        await node.stop()
        await asyncio.sleep(fault.outage)  # the outage's length, not a wait for some state
        await node.launch()
        window.ended = now()
        window.failover = await caught_up(cluster, now)
        window.note = f"broker {node.node_id} caught up in {window.failover:.1f} s"
    else:
        down = cluster.nodes[1:]
        await asyncio.gather(*(node.stop() for node in down))
        stopped = datetime.now(UTC)
        refused, acknowledged = await probe_while(cluster, fault.outage)
        restarting = datetime.now(UTC)
        await asyncio.gather(*(node.launch() for node in down))
        window.ended = now()
        published = await published_between(platform, stopped + GRACE, restarting)
        window.failover = await caught_up(cluster, now)
        window.note = (
            f"with broker {cluster.nodes[0].node_id} alone: {refused} of {refused + acknowledged}"
            f" acks=all probe writes refused, {published} outbox rows published"
        )
        window.unsafe = acknowledged + published


async def restore(
    cluster: KafkaCluster, fault: Fault, window: Window, now: Callable[[], float]
) -> None:
    """After a `leader` fault: the killed broker started again, until it caught up."""
    if fault.kind != "leader":
        return
    dead = [node for node in cluster.nodes if not _running(node)]
    await asyncio.gather(*(node.launch() for node in dead))
    took = await caught_up(cluster, now)
    window.note += f"; started again, caught up in {took:.1f} s"


def _running(node: KafkaBroker) -> bool:
    return node.process is not None and node.process.running


async def caught_up(cluster: KafkaCluster, now: Callable[[], float]) -> float:
    """Seconds until no partition of the cluster is under-replicated."""
    began = now()
    await eventually(
        lambda: under_replicated(cluster.access()),
        lambda n: n == 0,
        timeout=SETTLE_TIMEOUT,
        interval=0.5,
        what="no partition under-replicated",
    )
    return now() - began


async def probe_while(cluster: KafkaCluster, seconds: float) -> tuple[int, int]:
    """Tries an `acks=all` write to each probe partition every few seconds for `seconds`;
    returns how many were refused (an error or no acknowledgement in time) and how many
    were acknowledged."""
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    refused = acknowledged = 0
    while loop.time() < end:
        for partition in range(PROBE_PARTITIONS):
            if await _write(cluster, partition):
                acknowledged += 1
            else:
                refused += 1
        await asyncio.sleep(max(0.0, min(PROBE_EVERY, end - loop.time())))  # pacing
    return refused, acknowledged


async def _write(cluster: KafkaCluster, partition: int) -> bool:
    producer = cluster.access().producer(acks="all", request_timeout_ms=3000)
    try:
        async with asyncio.timeout(8):
            await producer.start()
            await producer.send_and_wait(PROBE, b"probe", partition=partition)
        return True
    except Exception:
        return False
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(producer.stop(), 5)


async def published_between(platform: Platform, after: datetime, before: datetime) -> int:
    query = "SELECT count(*) AS n FROM outbox WHERE published_at > $1 AND published_at < $2"
    counts = await asyncio.gather(*(platform.fetch(s, query, after, before) for s in SOURCES))
    return sum(int(rows[0]["n"]) for rows in counts)
