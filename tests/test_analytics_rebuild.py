"""`minsheng-analytics rebuild` against the real broker: it folds the topics again from
their first offset, shows its progress, and says (exit status 0) that the counters equal
those the workers hold; when they do not, it shows the difference and exits 1."""

from __future__ import annotations

import asyncio
import json
import os
import random
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiokafka.partitioner import DefaultPartitioner

from analytics.app import PARTITIONS
from minsheng.events import AppealReceived
from minsheng.kafka import KafkaAccess
from minsheng.platform.kafka import KafkaBroker
from minsheng.platform.services import BIN
from minsheng.topics import APPEALS
from testkit.e2e.analytics import Workers, counted, exact, poison, publish
from testkit.unit.events import forged, sample
from testkit.unit.workload import topic_of, with_redeliveries, workload

pytestmark = pytest.mark.e2e


async def rebuild(kafka: KafkaAccess, *args: str) -> tuple[int, str, str]:
    """Runs the console script as an operator would; (exit status, stdout, stderr)."""
    process = await asyncio.create_subprocess_exec(
        str(BIN / "minsheng-analytics"),
        "rebuild",
        *args,
        env={**os.environ, **kafka.env()},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_the_rebuild_equals_the_workers_and_says_so_when_it_does_not(
    private_kafka: KafkaBroker, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    w = workload(seed=31, appeals=100, projects=30, now=now, notifications=20)
    deliveries = with_redeliveries(random.Random(6), w.events, p=0.2)
    # a new appeal on the appeals topic, but not from the appeals service: the workers
    # dead-letter it (their figures stay exact) and the rebuild does not count it either
    await publish(private_kafka.access(), [forged(sample(AppealReceived))])
    await poison(private_kafka.access(), APPEALS)  # dead-lettered too, and not counted
    await counted(Workers(private_kafka.access(), tmp_path), w, deliveries)

    status, out, err = await rebuild(private_kafka.access(), "--jobs", "2")
    assert status == 0, out + err
    read = len(deliveries) + 2
    assert f"rebuilt from {read:,} events in" in out
    assert "(2 rejected as the workers did)" in out
    assert "folded in 2 processes" in out
    assert "figures equal" in out
    assert f"{read:,}/{read:,} events" in err  # the progress bar: every process's events
    assert "events/s" in err
    assert "ETA" in err
    status, alone, _ = await rebuild(private_kafka.access(), "--jobs", "1", "--no-progress")
    assert status == 0, alone
    assert "folded in" not in alone  # in the command's own process
    assert comparison(alone) == comparison(out)  # every figure side by side, the same

    more = workload(seed=32, appeals=5, projects=0, now=now)  # the stopped worker missed it
    await publish(private_kafka.access(), more.events)
    status, out, _ = await rebuild(private_kafka.access())
    assert status == 1
    assert "DIFFERS" in out
    assert "figures differ" in out


async def test_rebuild_write_repairs_the_workers_state(
    private_kafka: KafkaBroker, tmp_path: Path
) -> None:
    """A state lost from the changelog (as a wrong counting rule would leave it) is found,
    written back by `--write` (refused while a worker runs), and a worker started
    afterwards counts exactly."""
    w = workload(seed=33, appeals=60, projects=20, now=datetime.now(UTC), notifications=10)
    workers = Workers(private_kafka.access(), tmp_path)
    await counted(workers, w, w.events)
    changelog = "minsheng-analytics-appeal-state-changelog"
    victim = next(e for e in w.events if topic_of(e) == APPEALS)
    await tombstone(private_kafka.access(), changelog, victim.key)

    status, out, _ = await rebuild(private_kafka.access(), "--no-progress")
    assert status == 1, out
    worker = await workers.start()
    try:
        status, out, _ = await rebuild(private_kafka.access(), "--write")
        assert status == 2, out
        assert "stop them first" in out
    finally:
        await worker.stop()
    status, out, _ = await rebuild(private_kafka.access(), "--write", "--no-progress")
    assert status == 0, out
    assert "offset markers" in out
    assert out.rstrip().endswith("(every metric sample and KPI input)")
    worker = await workers.start()
    try:
        await exact(w, [worker.url])
    finally:
        await worker.stop()


def comparison(out: str) -> list[str]:
    """The comparison a rebuild printed: every line after the two about its fold."""
    lines = out.splitlines()
    return lines[lines.index(next(line for line in lines if line.startswith("figure"))) :]


async def tombstone(kafka: KafkaAccess, topic: str, key: bytes) -> None:
    """Deletes an aggregate's state from a table's changelog: on the partition of its
    events, as the default partitioner put them."""
    partitions = list(range(PARTITIONS))
    partition = DefaultPartitioner()(key, partitions, partitions)
    producer = kafka.producer(acks="all")
    await producer.start()
    try:
        changelog_key = json.dumps(key.decode()).encode()
        await producer.send_and_wait(topic, None, key=changelog_key, partition=partition)
    finally:
        await producer.stop()
