"""The rebuild's fold in several processes (`analytics.fold_processes`) against a real
broker: the same states, offsets and rejections as the fold in one process, the counts
of every process reach the caller, and a process that is killed or fails fails the
fold, naming its partitions."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import time
from datetime import UTC, datetime

import pytest
from aiokafka import TopicPartition

from analytics.fold_processes import FoldFailed, fold, split
from analytics.rebuild import figures_of
from analytics.replay import spans_of
from analytics.tables import TABLES
from minsheng.events import AppealReceived
from minsheng.kafka import KafkaAccess
from minsheng.platform.kafka import KafkaBroker
from minsheng.topics import APPEALS
from testkit.e2e.analytics import poison, publish
from testkit.unit.events import forged, sample
from testkit.unit.workload import workload

pytestmark = pytest.mark.e2e
TOPICS = [topic for _, topic, _, _, _ in TABLES]


async def loaded(kafka: KafkaAccess, seed: int) -> int:
    """A workload on every domain topic, one foreign-source event and one that is no
    JSON on the appeals topic (on the session's broker, after what others wrote); returns
    how many records the domain topics hold now."""
    w = workload(seed=seed, appeals=40, projects=12, now=datetime.now(UTC), notifications=10)
    await publish(kafka, [*w.events, forged(sample(AppealReceived))])
    await poison(kafka, APPEALS)
    return sum(end - start for start, end in (await spans_of(kafka, TOPICS)).values())


async def test_the_fold_in_processes_equals_the_fold_in_one(kafka: KafkaBroker) -> None:
    access = kafka.access()
    records = await loaded(access, seed=41)
    spans = await spans_of(access, TOPICS)
    assert {tp.partition for tp in spans} == set(range(6))
    counted: list[int] = []

    alone = await fold(access, spans, 1)
    apart = await fold(access, spans, 3, counted.append)

    assert alone.events == apart.events == sum(counted) == records
    assert alone.replay.rejected == apart.replay.rejected >= 2  # the forged one, the poison
    assert apart.replay.states == alone.replay.states
    assert apart.replay.last == alone.replay.last
    now = datetime.now(UTC)
    assert figures_of(apart.replay.states, TOPICS, now) == figures_of(
        alone.replay.states, TOPICS, now
    )
    assert len(apart.transfers) == 3
    assert sum(t.events for t in apart.transfers) == records
    assert all(t.bytes > 0 and t.seconds >= 0 for t in apart.transfers)
    assert all(t.start_seconds > 0 and t.fold_seconds > 0 for t in apart.transfers)


def test_partition_p_of_every_topic_goes_to_share_p_mod_n() -> None:
    spans = {TopicPartition(t, p): (0, 1) for t in TOPICS for p in range(6)}
    shares = split(spans, 4)
    assert [sorted({tp.partition for tp in s}) for s in shares] == [[0, 4], [1, 5], [2], [3]]
    assert all({tp.topic for tp in s} == set(TOPICS) for s in shares)


async def test_a_process_killed_mid_fold_fails_the_fold_naming_its_partitions(
    kafka: KafkaBroker,
) -> None:
    access = kafka.access()
    records = await loaded(access, seed=42)
    spans = await spans_of(access, TOPICS)
    # one record more than partition 1 of the appeals topic holds: the process folding
    # partitions 1, 3 and 5 reads all it can, then waits for it until it is killed
    stuck = TopicPartition(APPEALS, 1)
    spans[stuck] = (spans[stuck][0], spans[stuck][1] + 1)
    counted: list[int] = []
    folding = asyncio.ensure_future(fold(access, spans, 2, counted.append))
    deadline = time.monotonic() + 60
    while sum(counted) < records:  # every record read, by both processes
        assert not folding.done(), folding
        assert time.monotonic() < deadline, f"{sum(counted)} of {records} read"
        await asyncio.sleep(0.05)
    (second,) = [p for p in multiprocessing.active_children() if p.name == "rebuild-2"]
    assert second.pid is not None
    os.kill(second.pid, signal.SIGKILL)

    with pytest.raises(FoldFailed) as failed:
        await asyncio.wait_for(folding, 60)
    message = str(failed.value)
    assert "rebuild process 2 of 2" in message
    assert "was killed by SIGKILL" in message
    assert f"{APPEALS} [1, 3, 5]" in message
    assert "no result" in message
    assert not [p for p in multiprocessing.active_children() if p.name.startswith("rebuild-")]


async def test_a_process_that_fails_fails_the_fold_with_its_error() -> None:
    nowhere = KafkaAccess("127.0.0.1:9", "user", "password")  # the discard port: refused
    spans = {TopicPartition(APPEALS, p): (0, 5) for p in range(6)}
    with pytest.raises(FoldFailed, match=r"rebuild process [12] of 2 .*\) failed: Kafka"):
        await asyncio.wait_for(fold(nowhere, spans, 2), 120)
